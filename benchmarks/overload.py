"""Overload without collapse: callers offering more than a vendor serves (issue 20).

Run: ``.venv/bin/python benchmarks/overload.py`` (about fifteen minutes on 2 cores; ``--quick``
for a smoke run of a few scenarios; words as arguments run only the scenarios whose names hold
them, ``redis`` the fleet). Needs ``redis-server`` on the PATH for the fleet section.

A capacity-limited vendor on 127.0.0.1 (``_vendor.py``: a token bucket of C = 200 calls/s, 10
deep, answering the rest with HTTP 200 and Onbuka's ``-15`` "Query too frequently", with or
without ``Retry-After: 1``) is called by each strategy in each scenario, for ``DURATION``
seconds. Per strategy and scenario it prints: the share of calls that succeeded, the vendor's
requests per success, goodput (successes the vendor served per second in the window) over C,
the same for the window's second half (once every strategy has had time to settle), the 99th
percentile of time to success, and the median time to failure of the calls that failed.
Every figure comes from the same run; nothing here is asserted by the test suite.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import structlog
import tenacity

import normalizer

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _server import redis_server  # noqa: E402

C = 200.0
BURST = 10
PATH = "/v3/sendSms"
BODY = {"numbers": "79161234567", "content": "hi", "senderId": "x"}

LARGE_POOL = httpx.Limits(max_connections=256, max_keepalive_connections=256)
DEFAULT_POOL = httpx.Limits(max_connections=100, max_keepalive_connections=20)  # httpx's own

Call = Callable[[], bool]
ACall = Callable[[], Awaitable[bool]]


def quiet() -> Any:
    logger = logging.getLogger("normalizer.bench.overload")
    logger.addHandler(logging.NullHandler())
    logger.propagate = False
    return logger


# --- strategies -----------------------------------------------------------------------------------


class Busy(Exception):
    pass


HAND_RETRY = tenacity.retry(
    stop=tenacity.stop_after_attempt(3),
    wait=tenacity.wait_random_exponential(multiplier=0.5, max=5),
    retry=tenacity.retry_if_exception_type(Busy),
    reraise=True,
)
"""The hand-written clients' retries, sync and async alike (tenacity wraps either)."""


class AIMD:
    """A hand-written client-side limiter, bolted on from outside: a token bucket whose rate
    grows by one call/s per success (slow start) until the first refusal, then by 10 calls/s
    per second (additive increase), and drops to 0.8 of itself on a refusal (at most once per
    100 ms). Callers poll for a token."""

    def __init__(self, rate: float = 10.0) -> None:
        self.rate, self.tokens, self.stamp = rate, 1.0, time.monotonic()
        self.cut, self.starting = 0.0, True
        self.lock = threading.Lock()

    def take(self) -> float:
        """0 when a token was taken, else how long to wait before asking again."""
        with self.lock:
            now = time.monotonic()
            self.tokens = min(1.0, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now
            if self.tokens >= 1:
                self.tokens -= 1
                return 0.0
            return (1 - self.tokens) / self.rate

    def answered(self, busy: bool) -> None:
        with self.lock:
            now = time.monotonic()
            if not busy:
                self.rate += 1.0 if self.starting else 10 / self.rate
            elif now - self.cut > 0.1:
                self.rate, self.cut, self.starting = max(1.0, self.rate * 0.8), now, False


@dataclass
class Strategy:
    name: str
    kind: str  # "normalizer" or "hand"
    options: dict[str, Any] = field(default_factory=dict)
    aimd: bool = False

    def sync(self, url: str, state: Any = None) -> tuple[Call, Callable[[], None]]:
        if self.kind == "normalizer":
            options = dict(self.options)
            if state is not None:
                options["state"] = state
            client = normalizer.Client(
                "onbuka", base_url=url, logger=quiet(), timeout=30, **options
            )

            def call() -> bool:
                try:
                    outcome = normalizer.outcome_of(client.post(PATH, json=BODY))
                except normalizer.NormalizerError:
                    return False  # not sent: rate limited, circuit open
                return outcome is not None and outcome.ok

            return call, client.close
        plain = httpx.Client(base_url=url, timeout=30)
        limiter = AIMD() if self.aimd else None

        @HAND_RETRY
        def attempt() -> None:
            while limiter is not None and (wait := limiter.take()):
                time.sleep(wait)
            busy = plain.post(PATH, json=BODY).json().get("status") == "-15"
            if limiter is not None:
                limiter.answered(busy)
            if busy:
                raise Busy

        def hand() -> bool:
            try:
                attempt()
            except Busy:
                return False
            return True

        return hand, plain.close

    def asynchronous(
        self, url: str, limits: httpx.Limits
    ) -> tuple[ACall, Callable[[], Awaitable[None]]]:
        if self.kind == "normalizer":
            client = normalizer.AsyncClient(
                "onbuka", base_url=url, logger=quiet(), timeout=30, limits=limits, **self.options
            )

            async def call() -> bool:
                try:
                    outcome = normalizer.outcome_of(await client.post(PATH, json=BODY))
                except normalizer.NormalizerError:
                    return False
                return outcome is not None and outcome.ok

            return call, client.aclose
        plain = httpx.AsyncClient(base_url=url, timeout=30, limits=limits)
        limiter = AIMD() if self.aimd else None

        @HAND_RETRY
        async def attempt() -> None:
            while limiter is not None and (wait := limiter.take()):
                await asyncio.sleep(wait)
            busy = (await plain.post(PATH, json=BODY)).json().get("status") == "-15"
            if limiter is not None:
                limiter.answered(busy)
            if busy:
                raise Busy

        async def hand() -> bool:
            try:
                await attempt()
            except Busy:
                return False
            return True

        return hand, plain.aclose


STRATEGIES = [
    Strategy("normalizer default (adaptive limiter)", "normalizer"),
    Strategy("normalizer, limiter off", "normalizer", {"limiter": None}),
    Strategy(
        "normalizer + CircuitBreaker()", "normalizer", {"circuit": normalizer.CircuitBreaker()}
    ),
    Strategy("hand-written httpx + tenacity (jitter)", "hand"),
    Strategy("hand-written + AIMD limiter", "hand", aimd=True),
    Strategy(
        "static limiter at 0.95 C (oracle)",
        "normalizer",
        {"limiter": normalizer.RateLimiter(rate=0.95 * C, adaptive=False)},
    ),
]


# --- the vendor -----------------------------------------------------------------------------------


@contextlib.contextmanager
def vendor() -> Iterator[str]:
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "_vendor.py"), str(C), str(BURST)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        yield f"http://127.0.0.1:{proc.stdout.readline().strip()}"
    finally:
        proc.kill()
        proc.wait()


def reset(url: str, retry_after: bool) -> None:
    httpx.post(f"{url}/reset?retry_after={int(retry_after)}")


def stats(url: str) -> dict[str, int]:
    result: dict[str, int] = httpx.get(f"{url}/stats").json()
    return result


# --- scenarios ------------------------------------------------------------------------------------

Result = list[tuple[bool, float]]
Served = tuple[int, int]
"""What the vendor had served half-way through the window, and at its end."""


def closed_threads(call: Call, threads: int, seconds: float, url: str) -> tuple[Result, Served]:
    results: Result = []
    stop = time.monotonic() + seconds

    def loop() -> None:
        while time.monotonic() < stop:
            start = time.monotonic()
            ok = call()
            results.append((ok, time.monotonic() - start))

    workers = [threading.Thread(target=loop) for _ in range(threads)]
    for w in workers:
        w.start()
    time.sleep(seconds / 2)
    mid = stats(url)["served"]
    time.sleep(seconds / 2)
    served = (mid, stats(url)["served"])
    for w in workers:
        w.join()
    return results, served


async def closed_tasks(call: ACall, tasks: int, seconds: float, url: str) -> tuple[Result, Served]:
    results: Result = []
    stop = time.monotonic() + seconds

    async def loop() -> None:
        while time.monotonic() < stop:
            start = time.monotonic()
            ok = await call()
            results.append((ok, time.monotonic() - start))

    running = [asyncio.ensure_future(loop()) for _ in range(tasks)]
    await asyncio.sleep(seconds / 2)
    mid = await asyncio.to_thread(lambda: stats(url)["served"])
    await asyncio.sleep(seconds / 2)
    served = (mid, await asyncio.to_thread(lambda: stats(url)["served"]))
    await asyncio.gather(*running)
    return results, served


async def open_loop(
    call: ACall, arrivals: list[float], seconds: float, url: str
) -> tuple[Result, Served]:
    """A call at each of ``arrivals`` (seconds from the start) whatever happens to earlier
    ones: no backpressure."""
    results: Result = []

    async def one() -> None:
        start = time.monotonic()
        ok = await call()
        results.append((ok, time.monotonic() - start))

    begin = time.monotonic()
    running: list[asyncio.Future[None]] = []
    mid = None
    pending = iter(arrivals)
    due = next(pending, None)
    while (now := time.monotonic()) < begin + seconds:
        while due is not None and begin + due <= now:
            running.append(asyncio.ensure_future(one()))
            due = next(pending, None)
        if mid is None and now >= begin + seconds / 2:
            mid = await asyncio.to_thread(lambda: stats(url)["served"])
        wait = 0.002 if due is None else begin + due - now
        await asyncio.sleep(min(0.002, max(0.0, wait)))
    served = (mid or 0, await asyncio.to_thread(lambda: stats(url)["served"]))
    await asyncio.gather(*running)
    return results, served


def steady(rate: float, seconds: float) -> list[float]:
    return [i / rate for i in range(int(rate * seconds))]


def bursts(seconds: float) -> list[float]:
    """0.5 s at 3 C, then 1.5 s with nothing: 0.75 C on average, in bursts."""
    return [
        period + offset
        for period in range(0, int(seconds), 2)
        for offset in steady(3 * C, 0.5)
        if period + offset < seconds
    ]


SCENARIOS: dict[str, Callable[[Strategy, str, float], tuple[Result, Served]]] = {}


def scenario(name: str) -> Callable[[Any], Any]:
    def register(fn: Any) -> Any:
        SCENARIOS[name] = fn
        return fn

    return register


@scenario("16 threads, back to back")
def _threads(strategy: Strategy, url: str, seconds: float) -> tuple[Result, Served]:
    call, close = strategy.sync(url)
    try:
        return closed_threads(call, 16, seconds, url)
    finally:
        close()


def _async(
    strategy: Strategy,
    url: str,
    run: Callable[[ACall], Awaitable[tuple[Result, Served]]],
    limits: httpx.Limits = LARGE_POOL,
) -> tuple[Result, Served]:
    """Run an async scenario; by default on a pool as large as the open-loop backlogs."""

    async def main() -> tuple[Result, Served]:
        call, close = strategy.asynchronous(url, limits)
        try:
            return await run(call)
        finally:
            await close()

    return asyncio.run(main())


@scenario("200 async tasks, back to back")
def _tasks(strategy: Strategy, url: str, seconds: float) -> tuple[Result, Served]:
    """On httpx's default pool (100 connections, 20 kept alive): what a user gets."""
    run = lambda call: closed_tasks(call, 200, seconds, url)  # noqa: E731
    return _async(strategy, url, run, DEFAULT_POOL)


@scenario("200 async tasks, back to back, 256 connections kept alive")
def _tasks_pooled(strategy: Strategy, url: str, seconds: float) -> tuple[Result, Served]:
    """A pool as large as the tasks: httpcore 1.0's pool costs O(connections²) per request
    (encode/httpcore#1035), so 200 connections opened by the first wave slow every later call
    until they expire (``keepalive_expiry``, 5 s)."""
    return _async(strategy, url, lambda call: closed_tasks(call, 200, seconds, url))


@scenario("open loop, paced at 0.9 C")
def _paced(strategy: Strategy, url: str, seconds: float) -> tuple[Result, Served]:
    return _async(
        strategy, url, lambda call: open_loop(call, steady(0.9 * C, seconds), seconds, url)
    )


@scenario("open loop at 2 C")
def _double(strategy: Strategy, url: str, seconds: float) -> tuple[Result, Served]:
    return _async(strategy, url, lambda call: open_loop(call, steady(2 * C, seconds), seconds, url))


@scenario("bursts: 0.5 s at 3 C every 2 s")
def _bursts(strategy: Strategy, url: str, seconds: float) -> tuple[Result, Served]:
    return _async(strategy, url, lambda call: open_loop(call, bursts(seconds), seconds, url))


# --- a fleet on Redis -----------------------------------------------------------------------------


def _worker(strategy: Strategy, url: str, redis_url: str, account: str, seconds: float) -> Result:
    from normalizer.redis import RedisState

    structlog.configure(logger_factory=structlog.ReturnLoggerFactory())
    with RedisState.from_url(redis_url, account=account, timeout=0.5) as state:
        call, close = strategy.sync(url, state)
        try:
            return closed_threads(call, 4, seconds, url)[0]
        finally:
            close()


def _warm(delay: float) -> None:
    """Start a worker: import everything and read the mapping before the clock starts."""
    import normalizer.redis

    normalizer.lookup("onbuka", "0", product="sms")
    time.sleep(delay)


def fleet(strategy: Strategy, url: str, redis_url: str, seconds: float) -> tuple[Result, Served]:
    account = f"bench{time.monotonic_ns()}"
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(4, mp_context=context) as pool:
        for warming in [pool.submit(_warm, 0.5) for _ in range(4)]:  # all four up and ready
            warming.result()
        futures = [
            pool.submit(_worker, strategy, url, redis_url, account, seconds) for _ in range(4)
        ]
        time.sleep(seconds / 2)
        mid = stats(url)["served"]
        time.sleep(seconds / 2)
        served = (mid, stats(url)["served"])
        results = [r for f in futures for r in f.result()]
    return results, served


# --- reporting ------------------------------------------------------------------------------------


def row(name: str, results: Result, served: Served, seconds: float, url: str) -> str:
    totals = stats(url)
    ok = [t for good, t in results if good]
    failed = [t for good, t in results if not good]
    share = len(ok) / len(results) if results else 0.0
    per = totals["requests"] / max(totals["served"], 1)
    p99 = statistics.quantiles(ok, n=100)[98] * 1e3 if len(ok) >= 100 else float("nan")
    fail = statistics.median(failed) * 1e3 if failed else float("nan")
    mid, end = served
    whole, second = end / seconds / C, (end - mid) / (seconds / 2) / C
    return (
        f"{name:<42} {share:>8.1%} {per:>9.2f} {whole:>8.2f} {second:>8.2f} "
        f"{p99:>9.0f} ms {fail:>9.0f} ms {len(results):>7}"
    )


HEADER = (
    f"{'strategy':<42} {'success':>8} {'req/succ':>9} {'goodput':>8} {'2nd half':>8} "
    f"{'p99 ok':>12} {'p50 fail':>12} {'calls':>7}"
)


def main() -> None:
    quick = "--quick" in sys.argv
    only = [a for a in sys.argv[1:] if not a.startswith("--")]  # scenario names containing these
    seconds = 1.5 if quick else 8.0
    structlog.configure(logger_factory=structlog.ReturnLoggerFactory())
    names = [n for n in SCENARIOS if not only or any(o in n for o in only)]
    strategies = STRATEGIES
    if quick:
        names = ["16 threads, back to back", "open loop at 2 C"]
        strategies = [STRATEGIES[0], STRATEGIES[3], STRATEGIES[5]]
    print(f"# Overload: C = {C:.0f} calls/s, bucket {BURST} deep, {seconds:.1f} s per cell")
    with vendor() as url:
        for name in names:
            for retry_after in (False, True):
                print(f"\n## {name}{', Retry-After: 1 on busy' if retry_after else ''}")
                print(HEADER)
                for strategy in strategies:
                    reset(url, retry_after)
                    results, served = SCENARIOS[name](strategy, url, seconds)
                    print(row(strategy.name, results, served, seconds, url), flush=True)
        with redis_server() as redis_url:
            if only and not any(o in "redis fleet" for o in only):
                return
            if redis_url is None:
                print("\n## 4 processes on Redis: skipped (no redis-server)")
                return
            print("\n## 4 processes x 4 threads, back to back, state on Redis")
            print(HEADER)
            for strategy in (STRATEGIES[0], STRATEGIES[1], STRATEGIES[5]):
                reset(url, False)
                results, served = fleet(strategy, url, redis_url, seconds)
                print(row(strategy.name, results, served, seconds, url), flush=True)


if __name__ == "__main__":
    main()
