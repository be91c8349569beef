"""Fixtures shared by the core tests: a synthetic vendor that exercises every mapping feature."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from normalizer import Outcome, Registry, outcome_of
from normalizer.testing import set_testing

ACME = """
format = 1

[vendor]
id = "acme"
name = "ACME Telecom"

[detect]
hosts = ["api.acme.test", "*.acme-cc.test"]
paths = ["/v1/*"]

[envelope]
code = ["resp.code", "code", "data.0.status"]
message = ["resp.desc", "msg"]
request_id = ["resp.callId"]
success = ["000000", "0"]

[codes]
"107225" = { category = "busy", description = "外呼繁忙", gloss = "outbound busy" }
"0200001" = { category = "validation", description = "参数异常", gloss = "bad parameter" }
"5000" = { category = "server", description = "Ошибка сервера", gloss = "server error" }
"5001" = { category = "server", description = "Перегрузка", gloss = "overload", rejected = true }
"2200" = { category = "billing", description = "Доступ к счету ограничен", gloss = "restricted" }
"2210" = { category = "billing", description = "Доступ ограничен периодом", gloss = "period" }
"2000" = { category = "billing", description = "Ограничение биллинга", gloss = "billing" }
"1000" = { category = "ok", description = "Действие успешно выполнено", gloss = "success" }
"00605" = { category = "busy", description = "The switch is busy.", call_outcome = true }

[classes]
"221x" = "2210"
"22xx" = "2200"
"2xxx" = "2000"
"1xxx" = "1000"

[[http]]
status = "503"
category = "busy"
description = "request limit exceeded, retry later"
rejected = true

[[http]]
status = 204
paths = ["*/stats/result"]
category = "busy"
description = "data not ready yet"

[products.sms]
name = "SMS"
paths = ["/v1/sms/*"]
[products.sms.codes]
"-3" = { category = "validation", description = "sensitive characters", gloss = "content" }
"-1" = { category = "auth", description = "Authentication error", gloss = "auth" }
"-7" = { category = "billing", description = "over the limit", gloss = "limit" }

[products.voice]
paths = ["/v1/voice/*"]
envelope = { code = ["status"], message = ["reason"] }
[products.voice.codes]
"-3" = { category = "billing", description = "balance insufficient", gloss = "balance" }
"-1" = { category = "auth", description = "Authentication failure", gloss = "auth" }
"-9" = { category = "busy", description = "too frequent", gloss = "rate" }
"""


@pytest.fixture(autouse=True)
def _instant_retries() -> Iterator[None]:
    """No test sleeps for real: retries keep their attempts but do not wait."""
    set_testing(True)
    yield
    set_testing(False)


class FakeClock:
    """A monotonic clock that only moves when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    async def async_sleep(self, seconds: float) -> None:
        self.sleep(seconds)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def write_mapping(tmp_path: Path) -> Callable[[str, str], Path]:
    """Write a mapping file into a fresh directory and return its path."""

    def write(text: str, name: str = "acme.toml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture
def registry(tmp_path: Path) -> Registry:
    """A registry holding only the synthetic ``acme`` vendor as a built-in."""
    builtin = tmp_path / "builtin"
    builtin.mkdir()
    (builtin / "acme.toml").write_text(ACME, encoding="utf-8")
    return Registry(builtin=builtin, environ=False)


def outcome(response: httpx.Response) -> Outcome:
    """The outcome a normalizing transport attached (failing the test when there is none)."""
    found = outcome_of(response)
    assert found is not None, "no outcome attached"
    return found
