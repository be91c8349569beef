"""What normalizer.aiohttp's middleware costs an aiohttp session, against a real server.

Run: ``.venv/bin/python benchmarks/aiohttp_middleware.py`` (about a minute; ``--quick`` for a
smoke run; ``--profile`` prints where the middleware's time goes). The server is
``_server.py`` on 127.0.0.1 (its own process, keep-alive, MANGO's small JSON success body), as
in ``run.py`` section 3. Three variants take turns in every round on one event loop:

- a bare ``aiohttp.ClientSession``: POST, ``await response.json()``;
- the hand-written equivalent, as a user would write it: tenacity around the same call and a
  check of the vendor's code in the JSON body (3 attempts, ``wait_random_exponential``);
- the session with ``NormalizingMiddleware("mango")`` (a quiet logger, as in ``run.py``).

Each figure is the median time per call, and each ratio the median of the rounds' ratios
with their spread (``run.compared``), in wall time and in the CPU time of the calling process
(the server runs apart); the issue's floor is the middleware at most the hand-written code's
cost.
"""

from __future__ import annotations

import asyncio
import cProfile
import pstats
import sys
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import aiohttp

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import HAND_RETRY, Retryable, compared, quiet_logger, server  # noqa: E402

from normalizer.aiohttp import NormalizingMiddleware  # noqa: E402

BARE = "bare aiohttp.ClientSession"
HAND = "hand-written aiohttp + tenacity + JSON check"
MIDDLEWARE = "aiohttp + NormalizingMiddleware"
FORM = b"json=%7B%7D"


def variants(
    loop: asyncio.AbstractEventLoop, url: str, n: int, in_flight: int
) -> tuple[dict[str, Callable[[], None]], Callable[[], None]]:
    """The three variants, ``n`` calls each (``in_flight`` at a time), and a closer."""
    bare = loop.run_until_complete(_session())
    normalizing = loop.run_until_complete(
        _session(NormalizingMiddleware("mango", logger=quiet_logger()))
    )

    async def plain(session: aiohttp.ClientSession) -> object:
        async with session.post(url, data=FORM) as response:
            return await response.json()

    @HAND_RETRY
    async def hand() -> object:
        async with bare.post(url, data=FORM) as response:
            body = await response.json()
        if body.get("result") in (5000, 5001):  # MANGO's busy and overload codes
            raise Retryable
        return body

    def timed(call: Callable[[], Coroutine[Any, Any, object]]) -> Callable[[], None]:
        async def calls() -> None:
            if in_flight == 1:
                for _ in range(n):
                    await call()
                return
            limit = asyncio.Semaphore(in_flight)

            async def one() -> None:
                async with limit:
                    await call()

            await asyncio.gather(*(one() for _ in range(n)))

        return lambda: loop.run_until_complete(calls())

    def close() -> None:
        loop.run_until_complete(bare.close())
        loop.run_until_complete(normalizing.close())

    return {
        BARE: timed(lambda: plain(bare)),
        HAND: timed(hand),
        MIDDLEWARE: timed(lambda: plain(normalizing)),
    }, close


async def _session(*middlewares: Any) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(middlewares=middlewares)


def bench(url: str, quick: bool) -> None:
    for in_flight, n, title in (
        (1, 100 if quick else 2_000, "one call after another"),
        (32, 128 if quick else 2_048, "32 calls in flight"),
    ):
        loop = asyncio.new_event_loop()
        try:
            runs, close = variants(loop, url + "/json", n, in_flight)
            for run in runs.values():  # connections opened, mappings compiled: warm
                run()
            wall, cpu = rounds(runs, 2 if quick else 11)
            close()
        finally:
            loop.close()
        compared(f"aiohttp against a real server on 127.0.0.1, {title}: wall time", wall, n)
        compared(f"the same, {title}: CPU time of the calling process", cpu, n)
        best(f"the same, {title}: best round of each", {"wall": wall, "CPU": cpu}, n)


def best(title: str, clocks: dict[str, dict[str, list[float]]], per: int) -> None:
    """Each variant's best round, and its ratio to the bare session's and the hand-written
    code's best: on a machine busy with other work, what is left once the noise is out."""
    print(f"\n## {title}")
    for clock, times in clocks.items():
        least = {name: min(each) for name, each in times.items()}
        for name, seconds in least.items():
            print(
                f"{clock:<5} {name:<52} {seconds / per * 1e6:>9.2f} us"
                f" {seconds / least[BARE]:>7.3f}x vs first {seconds / least[HAND]:>7.3f}x"
                " vs hand-written"
            )


def rounds(
    variants: dict[str, Callable[[], None]], count: int
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Each variant's wall and CPU time in every round, the variants taking turns. CPU time
    is the client's alone (the server is another process): what a variant costs the caller,
    less sensitive than wall time to a machine shared with other work."""
    wall: dict[str, list[float]] = {name: [] for name in variants}
    cpu: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(count):
        for name, run in variants.items():
            started, used = time.perf_counter(), time.process_time()
            run()
            wall[name].append(time.perf_counter() - started)
            cpu[name].append(time.process_time() - used)
    return wall, cpu


def opcodes(url: str, quick: bool) -> None:
    """Python opcodes per call of each variant (``sys.settrace``, steady state): the same on
    a quiet machine and a busy one, where times are not."""
    n = 20 if quick else 200
    loop = asyncio.new_event_loop()
    try:
        runs, close = variants(loop, url + "/json", n, 1)
        counts = {}
        for name, run in runs.items():
            run()  # warm
            counts[name] = _traced(run) / n
        close()
    finally:
        loop.close()
    print("\n## Python opcodes per call, one call after another (deterministic)")
    base, hand = counts[BARE], counts[HAND]
    for name, count in counts.items():
        print(
            f"{name:<52} {count:>9,.0f} {count / base:>8.3f}x vs first {count / hand:>8.3f}x"
            " vs hand-written"
        )


def _traced(run: Callable[[], None]) -> int:
    count = 0

    def tracer(frame: Any, event: str, arg: Any) -> Any:
        nonlocal count
        frame.f_trace_opcodes = True
        if event == "opcode":
            count += 1
        return tracer

    sys.settrace(tracer)
    try:
        run()
    finally:
        sys.settrace(None)
    return count


def profile(url: str) -> None:
    loop = asyncio.new_event_loop()
    try:
        runs, close = variants(loop, url + "/json", 2_000, 1)
        runs[MIDDLEWARE]()
        profiler = cProfile.Profile()
        profiler.enable()
        runs[MIDDLEWARE]()
        profiler.disable()
        close()
    finally:
        loop.close()
    pstats.Stats(profiler).sort_stats("tottime").print_stats(25)


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    with server() as url:
        if "--profile" in argv:
            profile(url)
            return 0
        print(f"# normalizer.aiohttp benchmark ({'quick' if quick else 'full'})")
        bench(url, quick)
        opcodes(url, quick)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
