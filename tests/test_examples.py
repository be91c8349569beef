"""Every script in examples/ runs to completion, so the examples never rot."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").glob("*.py"))

# what the SDK recipes (docs/sdks/) print: each outcome read from the real SDK, mocked HTTP
PRINTS = {
    "sdk_twilio": [
        "sync: sent after 2 requests -> ok",
        "sync: raised 21211 -> validation messaging",
        "requests adapter: sent after 2 requests -> queued",
        "requests adapter: raised ValidationError 21211 -> validation",
        "async: sent after 2 requests -> ok",
    ],
    "sdk_tencentcloud": [
        "sync: sent after 2 requests -> partial, failed: LimitExceeded.PhoneNumberDailyLimit",
        "requests adapter: sent after 2 requests -> partial",
        "requests adapter: raised AuthFailure.SecretIdNotFound -> auth",
        "async: sent after 2 requests -> partial",
        "async: raised AuthFailure.SecretIdNotFound -> auth",
    ],
    "sdk_aliyun": [
        "throttled, then sent after 2 requests -> ok",
        "the adapter read: busy (1 attempt) ok (1 attempt)",
        "day limit after 1 request -> billing recipient",
        "raised InvalidAccessKeyId.NotFound -> auth",
    ],
    "sdk_vonage": [
        "sms: throttled, then sent after 2 requests -> ok",
        "messages: raised AuthenticationError -> auth messages",
    ],
    "failover": [  # Twilio then Vonage: who moved, who stayed, and why
        "twilio: 0001 busy, 0002 recipient, 0003 maybe_sent, 0004 accepted",
        "vonage: 0001 accepted",
        "0001 -> vonage ok",
        "0002 -> twilio validation",
        "0003 -> twilio unknown",
        "0004 -> twilio ok",
        "opted in: 0003 -> vonage ok",
    ],
    "sdk_infobip": [
        "limited, then sent after 2 requests -> partial, failed: REJECTED_PREFIX_MISSING",
        "raised E401 -> auth",
    ],
}


@pytest.mark.parametrize("script", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_runs(script: Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip()
    assert proc.stdout.splitlines() == PRINTS.get(script.stem, proc.stdout.splitlines())


def test_every_sdk_recipe_is_checked() -> None:
    recipes = sorted(p.stem for p in EXAMPLES if p.stem.startswith("sdk_"))
    assert recipes == sorted(name for name in PRINTS if name.startswith("sdk_"))
