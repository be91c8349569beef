"""What ``normalizer.requests.NormalizingAdapter`` costs a ``requests.Session``.

Against a real keep-alive server on 127.0.0.1 (``_server.py``, as ``run.py``'s section 3), the
same small form POST and the caller's ``.json()``, three ways, taking turns round after round:

- a bare ``requests.Session``;
- the hand-written equivalent a user would write instead: tenacity around the session, and a
  JSON check of the vendor's code (resending the retryable ones);
- a session with ``NormalizingAdapter("mango")`` mounted (classification, retry policy,
  budget, adaptive limiter, logs), with a quiet logger and with the default one.

Each figure is the median time per call, and the median of the rounds' ratios with their
spread (lowest to highest). The issue's floor: the adapter costs no more than the
hand-written equivalent.

Two tables: every call with ``timeout=10`` (what requests' documentation asks of production
code), and every call without a timeout. Without one, the adapter still bounds each attempt by
the retry policy's deadline (60 s by default), which puts urllib3's socket in timeout mode (a
``poll`` before each read) where the bare session's blocks: that row pays for a bound the
others do not have.

Run: ``.venv/bin/python benchmarks/requests_adapter.py`` (``--quick`` for a smoke run;
``--profile`` prints where the adapter's time goes, cProfile's top functions).
"""

from __future__ import annotations

import contextlib
import cProfile
import pstats
import sys
from collections.abc import Callable
from pathlib import Path
from typing import cast

import httpx
import requests

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import run  # noqa: E402
from run import compared, quiet_logger, rounds_of, server  # noqa: E402

from normalizer.requests import NormalizingAdapter  # noqa: E402

HAND = "hand-written: requests + tenacity + JSON check"
BODY = b"json=%7B%7D"  # run.py's form body


def posting(
    session: requests.Session, url: str, n: int, timeout: float | None
) -> Callable[[], None]:
    def run() -> None:
        for _ in range(n):
            session.post(url, data=BODY, timeout=timeout).json()

    return run


class _AsClient:
    """A session as ``run.hand_written`` calls an httpx client (``post(url, content=...)``), so
    that the hand-written code is the very one the httpx benchmarks time."""

    def __init__(self, session: requests.Session, timeout: float | None) -> None:
        self.session = session
        self.timeout = timeout

    def post(self, url: str, content: bytes) -> requests.Response:
        return self.session.post(url, data=content, timeout=self.timeout)


def hand_written(
    session: requests.Session, url: str, n: int, timeout: float | None
) -> Callable[[], None]:
    """What the adapter replaces: tenacity around requests, and a JSON check of the code."""
    return run.hand_written(cast(httpx.Client, _AsClient(session, timeout)), url, n)


def normalized(logger: object = None) -> requests.Session:
    session = requests.Session()
    if logger is None:
        adapter = NormalizingAdapter("mango")
    else:
        adapter = NormalizingAdapter("mango", logger=logger)
    session.mount("http://", adapter)
    return session


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    n = 100 if quick else 2_000
    rounds = 2 if quick else 9
    with server() as base:
        url = f"{base}/json"
        bare = requests.Session()
        quiet = normalized(quiet_logger())
        default = normalized()
        for timeout, label in ((10.0, "timeout=10"), (None, "no timeout")):
            variants = {
                "bare requests.Session": posting(bare, url, n, timeout),
                HAND: hand_written(bare, url, n, timeout),
                "Session + NormalizingAdapter, quiet logger": posting(quiet, url, n, timeout),
                "Session + NormalizingAdapter, default logger": posting(default, url, n, timeout),
            }
            for warm in variants.values():  # warm the pools
                warm()
            times = rounds_of(variants, rounds)
            title = f"requests.Session against a real server on 127.0.0.1, {label}"
            compared(title, times, n)
        if "--profile" in argv:
            profiler = cProfile.Profile()
            calls = posting(normalized(quiet_logger()), url, n, 10.0)
            with contextlib.redirect_stderr(sys.stdout):
                profiler.runcall(calls)
            print("\n## where the adapter's time goes (cProfile, cumulative)")
            pstats.Stats(profiler, stream=sys.stdout).sort_stats("cumulative").print_stats(25)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
