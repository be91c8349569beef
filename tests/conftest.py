"""Fixtures shared by the core tests: a synthetic vendor that exercises every mapping feature."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

# the compiled-mapping cache of this test run, not the user's (~/.cache/normalizer); passed on
# to the fresh interpreters the tests start
CACHE = "NORMALIZER_CACHE_DIR"
os.environ.setdefault(CACHE, tempfile.mkdtemp(prefix="normalizer-cache-"))

from normalizer import LocalState, Outcome, Registry, outcome_of  # noqa: E402 - cache set first
from normalizer import _xml as xml_module  # noqa: E402
from normalizer._store import Store  # noqa: E402
from normalizer.testing import set_testing  # noqa: E402

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
def _structlog_left_as_found() -> Iterator[None]:
    """structlog.testing.capture_logs leaves structlog marked configured, which turns
    normalizer's default logger from the stdlib one (what caplog sees) into structlog's for
    every later test: reset it when a test configured it."""
    import structlog

    before = structlog.is_configured()
    yield
    if not before and structlog.is_configured():
        structlog.reset_defaults()


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


class RedisServer:
    """A real redis-server on 127.0.0.1 for the tests: no persistence, killed at the end."""

    def __init__(self, port: int | None = None) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.skip("redis-server is not installed (.ci/run installs it with apt-get)")
        self.binary = binary
        self.port = port or _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> RedisServer:
        args = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1"]
        args += ["--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return self
            except OSError:
                time.sleep(0.02)
        self.stop()
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """One redis-server for the session; tests keep apart by using their own account."""
    server = RedisServer().start()
    yield server
    server.stop()


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    """Every async test runs on asyncio and on trio, as httpx's AsyncClient does; a test that
    needs asyncio itself says so with ``@pytest.mark.parametrize("anyio_backend", ["asyncio"])``."""
    backend: str = request.param
    return backend


def run_example(code: str) -> None:
    """Run a documentation example as a user pastes it: a fresh interpreter, retries instant."""
    prelude = "from normalizer.testing import set_testing\nset_testing(True)\n"
    proc = subprocess.run(
        [sys.executable, "-c", prelude + code],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PYTHONUTF8": "1", "PATH": "", CACHE: os.environ[CACHE]},
    )
    assert proc.returncode == 0, proc.stderr


@pytest.fixture(params=["local", "redis"])
def store(request: pytest.FixtureRequest, clock: FakeClock) -> Iterator[Store]:
    """Each rule holds alike in process and on Redis (the script mirrors LocalState)."""
    if request.param == "local":
        yield LocalState(clock)
        return
    import redis

    from normalizer.redis import RedisState

    server = request.getfixturevalue("redis_server")
    client = redis.Redis.from_url(server.url)
    with RedisState(client, account=uuid.uuid4().hex, clock=clock) as state:
        yield state


@pytest.fixture
def declaration_windows(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How much text each search for an XML declaration's encoding saw."""
    windows: list[int] = []
    pattern = xml_module._ENCODING

    class Recorder:
        def search(self, data: bytes, pos: int, endpos: int) -> object:
            windows.append(endpos - pos)
            return pattern.search(data, pos, endpos)

    monkeypatch.setattr(xml_module, "_ENCODING", Recorder())
    return windows
