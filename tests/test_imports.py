"""Importing normalizer needs its declared dependencies only: never requests nor aiohttp.

normalizer is httpx middleware; an application on httpx must not have to install (or pay the
import of) another HTTP stack. The check runs in a fresh interpreter in which importing
``requests`` or ``aiohttp`` fails, whether or not they are installed here.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import CACHE

BLOCKED = ("requests", "aiohttp")

BLOCKER = """
import importlib.abc
import sys

BLOCKED = {blocked!r}


class Blocker(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in BLOCKED:
            raise ImportError(f"{{name}} is blocked: normalizer must not need it")
        return None


for name in list(sys.modules):  # nothing imported before this line may stand in
    if name.partition(".")[0] in BLOCKED:
        del sys.modules[name]
sys.meta_path.insert(0, Blocker())
"""


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", BLOCKER.format(blocked=BLOCKED) + code],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONUTF8": "1", "PATH": "", CACHE: os.environ[CACHE]},
    )


def test_the_blocker_blocks() -> None:
    """Without this, a broken blocker would let the test below pass whatever normalizer does."""
    proc = _run("import requests\n")
    assert proc.returncode != 0
    assert "requests is blocked" in proc.stderr


@pytest.mark.parametrize(
    "module", ["normalizer", "normalizer.testing", "normalizer.store", "normalizer._cli"]
)
def test_importing_normalizer_needs_neither_requests_nor_aiohttp(module: str) -> None:
    code = f"""
import {module}
import normalizer

# a call too: classifying and a client's first request load what they load lazily
import httpx

vendor = httpx.MockTransport(lambda request: httpx.Response(200, json={{"result": 1000}}))
with normalizer.Client("mango", transport=vendor) as client:
    response = client.post("https://app.mango-office.ru/vpbx/commands/callback")
assert normalizer.outcome_of(response).ok
assert normalizer.lookup("ucpaas", "107225").category == "busy"
loaded = sorted(name for name in sys.modules if name.partition(".")[0] in BLOCKED)
assert not loaded, loaded
print("ok")
"""
    proc = _run(code)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"
