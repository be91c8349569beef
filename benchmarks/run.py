"""What normalisation costs: every figure against a baseline measured in the same run.

Run: ``.venv/bin/python benchmarks/run.py`` (about a minute on 2 cores; ``--quick`` for a smoke
run). Needs the ``bench`` extra for the httpx-retries comparison (``pip install -e '.[dev]'``
has it). Prints one table per section; the figures are ratios plus absolute times per call.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import structlog
import tenacity

import normalizer

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_classify  # noqa: E402
from _server import redis_server  # noqa: E402

SMALL = json.dumps({"result": 1000, "message": "ok"}).encode()
MANGO = "https://app.mango-office.ru/vpbx/commands/callback"
MAPPING_FILES = sorted((Path(__file__).resolve().parents[1] / "mappings").glob("*.toml"))


def table(title: str, rows: list[tuple[str, float, float]], unit: str = "us") -> None:
    print(f"\n## {title}")
    width = max(52, *(len(name) for name, _, _ in rows))
    print(f"{'variant':<{width}} {'per call':>12} {'ratio':>8}")
    scale = {"us": 1e6, "ms": 1e3}[unit]
    for name, seconds, ratio in rows:
        print(f"{name:<{width}} {seconds * scale:>9.2f} {unit} {ratio:>7.3f}x")


def interleaved(variants: dict[str, Callable[[], None]], rounds: int) -> dict[str, float]:
    """Best time of each variant over ``rounds``, the variants taking turns (drift cancels)."""
    best = dict.fromkeys(variants, float("inf"))
    for _ in range(rounds):
        for name, run in variants.items():
            start = time.perf_counter()
            run()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def rounds_of(
    variants: dict[str, Callable[[], None]],
    rounds: int,
    clock: Callable[[], float] = time.perf_counter,
) -> dict[str, list[float]]:
    """Each variant's time in every round, the variants taking turns (drift cancels);
    ``clock=time.thread_time`` counts what the variant itself costs, whatever else the machine
    runs meanwhile (wall time swings by 2x on a shared 2-core machine)."""
    times: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(rounds):
        for name, run in variants.items():
            start = clock()
            run()
            times[name].append(clock() - start)
    return times


HAND = "hand-written httpx + tenacity + JSON check"


def compared(title: str, times: dict[str, list[float]], per: int) -> None:
    """Median time per call of each variant, and its ratio to the first variant and to the
    hand-written code, each the median of the rounds' ratios with their spread (lowest to
    highest): a round's ratio compares variants that ran moments apart."""
    print(f"\n## {title}")
    base = next(iter(times.values()))
    hand = next((t for name, t in times.items() if name.startswith(("hand-written", HAND))), None)
    width = max(52, *(len(name) for name in times))
    header = f"{'variant':<{width}} {'per call':>12} {'vs first (spread)':>24}"
    print(header + (f" {'vs hand-written (spread)':>26}" if hand else ""))
    for name, each in times.items():
        line = f"{name:<{width}} {statistics.median(each) / per * 1e6:>9.2f} us"
        line += _ratio(each, base, 24)
        if hand is not None:
            line += _ratio(each, hand, 26)
        print(line)


def _ratio(each: list[float], against: list[float], width: int) -> str:
    ratios = [a / b for a, b in zip(each, against, strict=True)]
    text = f"{statistics.median(ratios):.3f}x ({min(ratios):.3f}-{max(ratios):.3f})"
    return f" {text:>{width}}"


def posting(client: httpx.Client, url: str, n: int) -> Callable[[], None]:
    """``n`` small form POSTs and the caller's ``.json()``: the call every section times."""

    def run() -> None:
        for _ in range(n):
            client.post(url, content=b"json=%7B%7D").json()

    return run


def ratios(best: dict[str, float], per: int) -> list[tuple[str, float, float]]:
    base = next(iter(best.values()))
    return [(name, t / per, t / base) for name, t in best.items()]


# --- 2. a client over MockTransport -------------------------------------------------------------


ERROR = json.dumps({"result": 3103, "message": "bad parameter"}).encode()


class Retryable(Exception):
    """The hand-written code's signal: the vendor's code says busy or overloaded (MANGO's 5000
    and 5001), try again."""


HAND_RETRY = tenacity.retry(
    stop=tenacity.stop_after_attempt(3),
    wait=tenacity.wait_random_exponential(multiplier=0.2, max=20),
    retry=tenacity.retry_if_exception_type(Retryable),
    reraise=True,
)
"""The retries of the code normalizer replaces, wherever it is written by hand (sync, async,
requests, aiohttp): the decorator wraps each function in a ``Retrying`` of its own."""


def hand_written(client: httpx.Client, url: str, n: int) -> Callable[[], None]:
    """What normalizer replaces: tenacity around httpx, and a JSON status check."""

    @HAND_RETRY
    def call() -> object:
        body = client.post(url, content=b"json=%7B%7D").json()
        if body.get("result") in (5000, 5001):
            raise Retryable
        return body

    def run() -> None:
        for _ in range(n):
            call()

    return run


def mock_clients(body: bytes) -> dict[str, httpx.Client]:
    from httpx_retries import Retry, RetryTransport

    def vendor(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body, headers={"content-type": "application/json"})

    mock = httpx.MockTransport(vendor)
    return {
        "bare httpx.Client + MockTransport": httpx.Client(transport=mock),
        "httpx-retries RetryTransport (total=3)": httpx.Client(
            transport=RetryTransport(transport=mock, retry=Retry(total=3))
        ),
        "normalizer.Client, quiet logger": normalizer.Client(
            "mango", transport=mock, logger=quiet_logger()
        ),
        # opentelemetry-api is installed here with no SDK set up: the row above pays its check
        "normalizer, quiet logger, telemetry=False": normalizer.Client(
            "mango", transport=mock, logger=quiet_logger(), telemetry=False
        ),
        "normalizer, vendor found from the URL": normalizer.Client(
            transport=mock, logger=quiet_logger()
        ),
        # structlog unconfigured: events go to the stdlib logger, here Python's lastResort
        "normalizer, default logger (stdlib, unconfigured)": normalizer.Client(
            "mango", transport=mock
        ),
    }


def bench_mock(quick: bool) -> None:
    n = 200 if quick else 2_000
    rounds = 2 if quick else 15
    for label, body in (("success", SMALL), ("error, not retried (3103)", ERROR)):
        clients = mock_clients(body)
        variants = {k: posting(c, MANGO, n) for k, c in clients.items()}
        bare = clients["bare httpx.Client + MockTransport"]
        variants = {
            "bare httpx.Client + MockTransport": variants.pop("bare httpx.Client + MockTransport"),
            HAND: hand_written(bare, MANGO, n),
            **variants,
        }
        with (
            open("/dev/null", "w") as devnull,
            contextlib.redirect_stdout(devnull),
            contextlib.redirect_stderr(devnull),
        ):
            times = rounds_of(variants, rounds)  # the default logger writes: not to the table
        title = f"2. sync client over httpx.MockTransport, {label} body (POST + .json())"
        compared(title, times, n)


def bench_mock_async(quick: bool) -> None:
    """Section 2 for the async clients: one event loop, calls one after another."""
    n = 200 if quick else 2_000
    rounds = 2 if quick else 15
    for label, body in (("success", SMALL), ("error, not retried (3103)", ERROR)):
        loop = asyncio.new_event_loop()
        try:
            times = rounds_of(async_variants(loop, body, n), rounds)
        finally:
            loop.close()
        title = f"2b. async client over httpx.MockTransport, {label} body (POST + .json())"
        compared(title, times, n)


def async_variants(
    loop: asyncio.AbstractEventLoop, body: bytes, n: int
) -> dict[str, Callable[[], None]]:
    """Bare, hand-written and normalizer's async clients, each ``n`` calls on ``loop``."""

    def vendor(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body, headers={"content-type": "application/json"})

    mock = httpx.MockTransport(vendor)
    bare = httpx.AsyncClient(transport=mock)
    quiet = normalizer.AsyncClient("mango", transport=mock, logger=quiet_logger())

    @HAND_RETRY
    async def hand() -> object:
        checked = (await bare.post(MANGO, content=b"json=%7B%7D")).json()
        if checked.get("result") in (5000, 5001):
            raise Retryable
        return checked

    async def plain(client: httpx.AsyncClient) -> None:
        for _ in range(n):
            (await client.post(MANGO, content=b"json=%7B%7D")).json()

    async def handed() -> None:
        for _ in range(n):
            await hand()

    return {
        "bare httpx.AsyncClient + MockTransport": lambda: loop.run_until_complete(plain(bare)),
        HAND + " (async)": lambda: loop.run_until_complete(handed()),
        "normalizer.AsyncClient, quiet logger": lambda: loop.run_until_complete(plain(quiet)),
    }


# --- 3. a real server on 127.0.0.1 --------------------------------------------------------------


@contextlib.contextmanager
def server() -> Iterator[str]:
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "_server.py")], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline())
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def bench_real(url: str, quick: bool) -> None:
    n = 100 if quick else 2_000
    bare = httpx.Client(base_url=url)
    variants = {
        "bare httpx.Client": posting(bare, "/json", n),
        HAND: hand_written(bare, "/json", n),
        "normalizer.Client": posting(normalizer.Client("mango", base_url=url), "/json", n),
        "normalizer.Client, quiet logger": posting(
            normalizer.Client("mango", base_url=url, logger=quiet_logger()), "/json", n
        ),
    }
    times = rounds_of(variants, 2 if quick else 9)
    compared("3a. sync client against a real server on 127.0.0.1", times, n)

    total = 128 if quick else 384  # httpx async pools are slow at 64 in flight: ~13 ms a request

    async def fan_out(make: Callable[[], httpx.AsyncClient], checked: bool = False) -> float:
        async with make() as client:
            limit = asyncio.Semaphore(64)

            @HAND_RETRY
            async def hand_checked() -> object:  # what normalizer replaces, as in section 2
                body = (await client.post("/json", content=b"json=%7B%7D")).json()
                if body.get("result") in (5000, 5001):
                    raise Retryable
                return body

            async def one() -> None:
                async with limit:
                    if checked:
                        await hand_checked()
                    else:
                        (await client.post("/json", content=b"json=%7B%7D")).json()

            await asyncio.gather(*(one() for _ in range(64)))  # warm the pool
            start = time.perf_counter()
            await asyncio.gather(*(one() for _ in range(total)))
            return time.perf_counter() - start

    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)

    def bare_async() -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=url, limits=limits)

    makers: dict[str, tuple[Callable[[], httpx.AsyncClient], bool]] = {
        "bare httpx.AsyncClient, 64 in flight": (bare_async, False),
        "hand-written: tenacity + JSON check, 64 in flight": (bare_async, True),
        "normalizer.AsyncClient, 64 in flight": (
            lambda: normalizer.AsyncClient("mango", base_url=url, limits=limits),
            False,
        ),
    }
    async_times: dict[str, list[float]] = {name: [] for name in makers}
    for _ in range(2 if quick else 7):
        for name, (make, checked) in makers.items():
            async_times[name].append(asyncio.run(fan_out(make, checked)))
    compared("3b. async client against a real server on 127.0.0.1", async_times, total)


# --- 4. memory ----------------------------------------------------------------------------------

_STREAM = """
import resource, sys, httpx, normalizer
url, mib, wrap = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"
client = normalizer.Client("mango", base_url=url) if wrap else httpx.Client(base_url=url)
client.post("/json")  # warm up imports and the pool
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
total = 0
with client.stream("POST", f"/stream/{mib}") as response:
    for chunk in response.iter_raw():
        total += len(chunk)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
assert total == mib << 20, total
print((after - before) / 1024)
"""


def bench_memory(url: str, quick: bool) -> None:
    mib = 20 if quick else 200
    print(f"\n## 4. memory: streaming {mib} MB of audio through the client (peak RSS growth)")
    for name, wrap in (("bare httpx.Client", "0"), ("normalizer.Client", "1")):
        out = subprocess.run(
            [sys.executable, "-c", _STREAM, url, str(mib), wrap],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        print(f"{name:<52} {float(out):>9.1f} MB")
    client = normalizer.Client("mango", base_url=url, logger=quiet_logger())
    parses = count_parses(lambda: client.post("/big-json").json())
    print(
        f"{'1 MiB JSON error body: JSON parses per call':<52} {parses:>9d}"
        "   (normalizer's, reused by the caller's first .json())"
    )


def quiet_logger() -> object:
    """Failures log a line each; a benchmark of failures should not print them."""
    level = structlog.make_filtering_bound_logger(logging.CRITICAL)
    return structlog.wrap_logger(structlog.PrintLogger(), wrapper_class=level)


def count_parses(call: Callable[[], object]) -> int:
    from normalizer import _classify

    count = 0
    real_fast, real_json = _classify.fast_loads, json.loads

    def counting(original: Callable[..., object]) -> Callable[..., object]:
        def wrapper(*args: object, **kwargs: object) -> object:
            nonlocal count
            count += 1
            return original(*args, **kwargs)

        return wrapper

    _classify.fast_loads = counting(real_fast) if real_fast else None
    json.loads = counting(real_json)
    try:
        call()
    finally:
        _classify.fast_loads, json.loads = real_fast, real_json
    return count


# --- 6. shared state: in process vs Redis -------------------------------------------------------


def bench_state(quick: bool) -> None:
    title = "6. where the budget, circuit and cooldown live (MockTransport client, POST + .json())"
    try:
        from normalizer.redis import RedisState
    except ImportError:
        print(f"\n## {title}\nskipped: redis-py is not installed (the redis extra)")
        return
    with redis_server() as url:
        if url is None:
            print(f"\n## {title}\nskipped: no redis-server on this machine")
            return
        n = 200 if quick else 3_000
        breaker = normalizer.CircuitBreaker(failures=10**9)  # counts failures, never opens
        results: list[tuple[str, float, float]] = []
        stores = []

        for answer, label in ((1000, "ok"), (5001, "5001 overload, not retried")):
            body = json.dumps({"result": answer}).encode()
            mock = httpx.MockTransport(
                lambda request, body=body: httpx.Response(
                    200, content=body, headers={"content-type": "application/json"}
                )
            )
            redis_state = RedisState.from_url(url, account=f"bench-{answer}", timeout=1.0)
            stores.append(redis_state)
            clients = {
                f"{label}: in process, no breaker (default)": normalizer.Client(
                    "mango", transport=mock, retry=None, logger=quiet_logger()
                ),
                f"{label}: in process, CircuitBreaker": normalizer.Client(
                    "mango", transport=mock, retry=None, circuit=breaker, logger=quiet_logger()
                ),
                f"{label}: RedisState, CircuitBreaker": normalizer.Client(
                    "mango",
                    transport=mock,
                    retry=None,
                    circuit=breaker,
                    state=redis_state,
                    logger=quiet_logger(),
                ),
            }

            loops = {k: posting(c, MANGO, n) for k, c in clients.items()}
            best = interleaved(loops, 2 if quick else 5)
            results += ratios(best, n)
        ping = stores[0].client.ping

        def pings() -> None:
            for _ in range(n):
                ping()

        best_ping = interleaved({"ping": pings}, 2 if quick else 5)
        for store in stores:
            store.close()
    table(title, results)
    print(f"{'reference: one redis-py PING round trip':<60} {best_ping['ping'] / n * 1e6:>9.2f} us")


# --- 5. import time -----------------------------------------------------------------------------


def bench_import(quick: bool) -> None:
    runs = 3 if quick else 10
    snippets = {
        "python -c 'import httpx'": "import httpx",
        "python -c 'import normalizer'": "import normalizer",
        "import normalizer + load one mapping (mango)": (
            "import normalizer; normalizer.lookup('mango', 1000)"
        ),
        f"import normalizer + load all {len(MAPPING_FILES)} built-in mappings": (
            "import normalizer; from normalizer._registry import default_registry; "
            "default_registry().all()"
        ),
    }
    best = {}
    for name, code in snippets.items():
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], check=True)
            times.append(time.perf_counter() - start)
        best[name] = min(times)
    base = best["python -c 'import httpx'"]
    print("\n## 5. import time (a fresh interpreter each, best of runs)")
    for name, t in best.items():
        print(f"{name:<52} {t * 1e3:>9.1f} ms   +{(t - base) * 1e3:.1f} ms over httpx")


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    print(
        f"# normalizer benchmarks ({'quick' if quick else 'full'}): {platform.python_version()}"
        f" on {platform.machine()}, {len(__import__('os').sched_getaffinity(0))} cores,"
        f" httpx {httpx.__version__}"
    )
    normalizer.testing.set_testing(False)
    bench_classify.main(["--quick"] if quick else [])
    bench_mock(quick)
    bench_mock_async(quick)
    with server() as url:
        bench_real(url, quick)
        bench_memory(url, quick)
    bench_import(quick)
    bench_state(quick)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(f"\npeak RSS of this process: {peak} MB")
    return 0


if __name__ == "__main__":
    import normalizer.testing

    sys.exit(main(sys.argv[1:]))
