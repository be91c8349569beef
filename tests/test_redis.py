"""normalizer.redis: one budget, circuit and cooldown for many workers, and life without Redis."""

from __future__ import annotations

import multiprocessing
import uuid
import warnings
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor

import httpx
import pytest
import redis
import redis.asyncio.retry
import redis.retry
from structlog.testing import capture_logs

import normalizer
from normalizer import CircuitBreaker, CircuitOpenError, RateLimiter, RetryPolicy
from normalizer._store import Admit, Keys, Limits, Record, Refund, Release, Retry, Signal
from normalizer.redis import AsyncRedisState, RedisState
from normalizer.testing import SimulatedVendor, vendor_response
from tests.conftest import FakeClock, RedisServer, outcome

PATH = "/2014-06-30/Accounts/a/Calls/callBack"
BUSY_TOO = frozenset({normalizer.Category.SERVER, normalizer.Category.BUSY})
"""The busy vendor here says 外呼繁忙 to every call: a breaker counting busy answers opens."""


@pytest.fixture
def busy_vendor() -> Iterator[SimulatedVendor]:
    with SimulatedVendor() as sim:
        sim.script(PATH, vendor_response("ucpaas", "107225"))  # 外呼繁忙, outbound busy
        yield sim


def account() -> str:
    return uuid.uuid4().hex


@pytest.fixture
def closing() -> Iterator[list[RedisState]]:
    """Stores a test makes; their clients are closed after it."""
    stores: list[RedisState] = []
    yield stores
    for store in stores:
        store.close()


# --- many workers ------------------------------------------------------------------------------


def _hammer(
    redis_url: str, vendor_url: str, account: str, calls: int, breaker: bool
) -> dict[str, int]:
    """One worker process: ``calls`` POSTs to an always-busy vendor, sharing state on Redis."""
    normalizer.testing.set_testing(True)  # retries keep their count but never sleep
    circuit = CircuitBreaker(failures=20, recovery=600, categories=BUSY_TOO) if breaker else None
    # 107225 is the account's: its retries are paced; priced like any retry to count them
    retry = RetryPolicy(budget_capacity=50, retry_cost=5, paced_cost=5)
    tally = {"calls": 0, "attempts": 0, "circuit_open": 0}
    with (
        RedisState.from_url(redis_url, account=account, timeout=2.0) as state,
        normalizer.Client(
            "ucpaas", base_url=vendor_url, retry=retry, circuit=circuit, state=state, timeout=10
        ) as client,
    ):
        for _ in range(calls):
            tally["calls"] += 1
            try:
                response = client.post(PATH, json={"to": "+79161234567"})
            except CircuitOpenError:
                tally["circuit_open"] += 1
            else:
                assert outcome(response).category is normalizer.Category.BUSY
                tally["attempts"] += response.extensions["normalizer.attempts"]
    return tally


def _fleet(redis_url: str, vendor_url: str, calls: int, breaker: bool) -> list[dict[str, int]]:
    shared = account()
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(4, mp_context=context) as pool:
        futures = [
            pool.submit(_hammer, redis_url, vendor_url, shared, calls, breaker) for _ in range(4)
        ]
        return [f.result(timeout=120) for f in futures]


def test_four_workers_spend_one_budget(
    redis_server: RedisServer, busy_vendor: SimulatedVendor
) -> None:
    tallies = _fleet(redis_server.url, busy_vendor.url, 10, breaker=False)
    assert sum(t["calls"] for t in tallies) == 40  # every call ended
    sent = sum(t["calls"] - t["circuit_open"] for t in tallies)
    retries = sum(t["attempts"] for t in tallies) - sent
    # 50 tokens at 5 a retry: 10 retries for the whole fleet, not 10 per process (40)
    assert retries == 10
    assert len(busy_vendor.requests) == 50


def test_the_circuit_opens_for_every_worker(
    redis_server: RedisServer, busy_vendor: SimulatedVendor
) -> None:
    tallies = _fleet(redis_server.url, busy_vendor.url, 30, breaker=True)
    assert sum(t["calls"] for t in tallies) == 120
    assert all(t["circuit_open"] > 0 for t in tallies)  # each worker saw the shared circuit
    sent = sum(t["calls"] - t["circuit_open"] for t in tallies)
    attempts = sum(t["attempts"] for t in tallies)
    assert attempts - sent <= 10  # within the shared budget
    # 20 failed attempts open it; only requests already in flight get past (one per worker)
    assert attempts == len(busy_vendor.requests) <= 20 + 4


# --- in one process ---------------------------------------------------------------------------


def test_two_stores_on_one_account_share_the_circuit(
    redis_server: RedisServer, busy_vendor: SimulatedVendor, closing: list[RedisState]
) -> None:
    shared = account()
    first, second = (RedisState.from_url(redis_server.url, account=shared) for _ in range(2))
    breaker = CircuitBreaker(failures=2, recovery=600, categories=BUSY_TOO)
    other = RedisState.from_url(redis_server.url, account=account())
    closing += [first, second, other]
    clients = [
        normalizer.Client("ucpaas", base_url=busy_vendor.url, retry=None, circuit=breaker, state=s)
        for s in (first, second, other)
    ]
    clients[0].post(PATH)
    with capture_logs() as logs:
        clients[0].post(PATH)
    assert [e["event"] for e in logs].count("vendor_circuit_opened") == 1
    with pytest.raises(CircuitOpenError) as info:
        clients[1].post(PATH)
    assert 590 < info.value.retry_after <= 600
    assert outcome(clients[2].post(PATH)).code == "107225"  # another account is not affected
    for client in clients:
        client.close()


def test_cooldown_is_shared(
    redis_server: RedisServer, clock: FakeClock, closing: list[RedisState]
) -> None:
    shared = account()
    replies = iter([httpx.Response(500, headers={"Retry-After": "4"}), httpx.Response(200)])

    def handler(request: httpx.Request) -> httpx.Response:
        return next(replies)

    retry = RetryPolicy(max_attempts=1, clock=clock, sleep=clock.sleep)
    closing += [
        RedisState(redis.Redis.from_url(redis_server.url), account=shared, clock=clock)
        for _ in range(2)
    ]
    clients = [
        normalizer.Client("mango", transport=httpx.MockTransport(handler), retry=retry, state=state)
        for state in closing
    ]
    normalizer.testing.set_testing(False)  # the fake clock's sleep is what is being checked
    try:
        clients[0].post("https://app.mango-office.ru/vpbx/commands/callback")
        clients[1].post("https://app.mango-office.ru/vpbx/commands/callback")
    finally:
        normalizer.testing.set_testing(True)
    assert clock.sleeps == [4.0]  # the second worker waited out the pause the first was told of


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])  # redis.asyncio: asyncio only
async def test_async_store(redis_server: RedisServer, busy_vendor: SimulatedVendor) -> None:
    shared = account()
    breaker = CircuitBreaker(failures=3, recovery=600, categories=BUSY_TOO)
    retry = RetryPolicy(budget_capacity=10, retry_cost=5)
    async with (
        AsyncRedisState.from_url(redis_server.url, account=shared) as one,
        AsyncRedisState.from_url(redis_server.url, account=shared) as two,
        normalizer.AsyncClient(
            "ucpaas", base_url=busy_vendor.url, retry=retry, circuit=breaker, state=one
        ) as first,
        normalizer.AsyncClient(
            "ucpaas", base_url=busy_vendor.url, circuit=breaker, state=two
        ) as second,
    ):
        response = await first.post(PATH)
        assert response.extensions["normalizer.attempts"] == 3  # two retries: the whole budget
        with pytest.raises(CircuitOpenError):
            await second.post(PATH)
    with (
        RedisState.from_url(redis_server.url) as sync_store,
        pytest.raises(TypeError, match="NormalizingTransport"),
    ):
        normalizer.AsyncClient("ucpaas", state=sync_store)


def test_from_url_gives_each_client_its_own_kind_of_retry_without_a_warning() -> None:
    """redis-py 8 warns when an asyncio client is given the sync ``Retry`` (under
    filterwarnings=error every AsyncRedisState.from_url failed); none retries: Redis answers
    within the timeout, or the fallback does."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sync = RedisState.from_url("redis://127.0.0.1:1/0")
        asynchronous = AsyncRedisState.from_url("redis://127.0.0.1:1/0")
    sync.close()
    for client, kind in (
        (sync.client, redis.retry.Retry),
        (asynchronous.client, redis.asyncio.retry.Retry),
    ):
        retry = client.get_retry()
        assert type(retry) is kind
        assert retry._retries == 0


# --- without Redis ----------------------------------------------------------------------------


def test_unreachable_redis_falls_back_with_one_warning(
    busy_vendor: SimulatedVendor, closing: list[RedisState]
) -> None:
    state = RedisState.from_url("redis://127.0.0.1:1/0", account=account())
    closing.append(state)
    breaker = CircuitBreaker(failures=3, recovery=600, categories=BUSY_TOO)
    with (
        capture_logs() as logs,
        normalizer.Client(
            "ucpaas", base_url=busy_vendor.url, retry=None, circuit=breaker, state=state
        ) as client,
    ):
        for _ in range(3):
            client.post(PATH)
        with pytest.raises(CircuitOpenError):  # the in-process circuit took over
            client.post(PATH)
    warnings = [e for e in logs if e["event"] == "shared_state_unavailable"]
    assert len(warnings) == 1
    assert warnings[0]["log_level"] == "warning"
    assert warnings[0]["error"] == "ConnectionError"


def test_redis_killed_mid_run_then_back() -> None:
    server = RedisServer().start()
    clock = FakeClock()
    state = RedisState(
        redis.Redis.from_url(server.url, socket_timeout=0.5, socket_connect_timeout=0.5),
        account=account(),
        clock=clock,
    )
    limits_breaker = CircuitBreaker(failures=1000)
    with SimulatedVendor() as sim:
        sim.script(PATH, vendor_response("ucpaas", "000000"))
        client = normalizer.Client(
            "ucpaas", base_url=sim.url, circuit=limits_breaker, state=state, timeout=5
        )
        results: list[bool] = []
        try:
            with capture_logs() as logs:
                for i in range(30):
                    if i == 10:
                        server.stop()
                    if i == 20:
                        server = RedisServer(server.port).start()
                        clock.now += 5.0  # the store tries Redis again after retry_interval
                    results.append(outcome(client.post(PATH)).ok)
        finally:
            server.stop()
            state.close()
            client.close()
    assert results == [True] * 30  # every call completed, Redis or not
    events = [e["event"] for e in logs]
    assert events.count("shared_state_unavailable") == 1
    assert events.count("shared_state_restored") == 1
    assert events.index("shared_state_unavailable") < events.index("shared_state_restored")


def test_a_silent_redis_is_asked_once_per_retry_interval(
    busy_vendor: SimulatedVendor, closing: list[RedisState]
) -> None:
    import socket

    # a listener that never answers: the store gives up after its timeout, then stops asking
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        port = silent.getsockname()[1]
        state = RedisState.from_url(f"redis://127.0.0.1:{port}/0", timeout=0.2)
        closing.append(state)
        with (
            capture_logs() as logs,
            normalizer.Client(
                "ucpaas", base_url=busy_vendor.url, retry=None, state=state
            ) as client,
        ):
            for _ in range(5):
                assert outcome(client.post(PATH)).code == "107225"
        silent.setblocking(False)
        asked = 0
        while True:
            try:
                conn, _ = silent.accept()
            except BlockingIOError:
                break
            conn.close()
            asked += 1
    assert asked == 1  # five calls, one connection: the fallback answered the other four
    assert [e["event"] for e in logs].count("shared_state_unavailable") == 1


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])  # redis.asyncio: asyncio only
async def test_async_store_falls_back_too(busy_vendor: SimulatedVendor) -> None:
    breaker = CircuitBreaker(failures=2, recovery=600, categories=BUSY_TOO)
    async with (
        AsyncRedisState.from_url("redis://127.0.0.1:1/0", account=account()) as state,
        normalizer.AsyncClient(
            "ucpaas", base_url=busy_vendor.url, retry=None, circuit=breaker, state=state
        ) as client,
    ):
        with capture_logs() as logs:
            for _ in range(2):
                assert outcome(await client.post(PATH)).code == "107225"
            with pytest.raises(CircuitOpenError):
                await client.post(PATH)
    assert [e["event"] for e in logs].count("shared_state_unavailable") == 1


# --- clearing a vendor, and replies that make no sense -------------------------------------------


def test_clear_unlocks_the_fleet_and_the_cli_does_it_too(
    redis_server: RedisServer, closing: list[RedisState], capsys: pytest.CaptureFixture[str]
) -> None:
    from normalizer._cli import main

    name = account()
    one = RedisState.from_url(redis_server.url, account=name, timeout=2.0)
    two = RedisState.from_url(redis_server.url, account=name, timeout=2.0)
    closing += [one, two]
    limits = Limits(10, CircuitBreaker(failures=1, recovery=600, categories=BUSY_TOO))
    sms = Keys("onbuka", "onbuka/sms")
    one.ask(Record(sms, limits, Signal(failed=True, cooldown=50.0)))
    assert two.ask(Admit(sms, limits)).verdict == "open"
    assert one.clear("onbuka") == 2  # the vendor's hash and its product circuit
    assert two.ask(Admit(sms, limits)).verdict == "go"
    two.ask(Record(Keys("mango", "mango"), limits, Signal(cooldown=40.0)))
    code = main(["reset", "mango", "--redis", redis_server.url, "--account", name])
    assert code == 0
    assert "mango: cleared (1 keys)" in capsys.readouterr().out
    assert one.ask(Admit(Keys("mango", "mango"), limits)).wait == 0.0


# --- values read back are checked: a bad one is absent, a pause never outlives its length ---------


@pytest.fixture
def hashes(redis_server: RedisServer) -> Iterator[tuple[RedisState, str]]:
    """A store on the server's clock, and the name of its vendor hash for ``mango``."""
    name = account()
    with RedisState.from_url(redis_server.url, account=name, timeout=2.0) as store:
        yield store, f"{{normalizer:{name}:mango}}"


MANGO_KEYS = Keys("mango", "mango")
LIMITED = Limits(10, None, RateLimiter())
BREAKER = CircuitBreaker(failures=1, recovery=30)


@pytest.mark.parametrize(
    "value",
    [
        "253402300799",  # 9999-12-31 23:59:59
        "1e308",
        "0x7fffffffffffffff",  # Lua's tonumber reads hex
        "inf",
        "nan",
        "1e999",
        "-5",
        "soon",
    ],
)
def test_a_cooldown_no_client_wrote_is_absent(hashes: tuple[RedisState, str], value: str) -> None:
    """A pause that reaches past the 24 h cap (or is no number at all) would refuse every call
    of the fleet (the client refuses a pause longer than its max_retry_after) until the key
    expired, and every refusal took a rate-limiter turn that extended the expiry."""
    store, vendor = hashes
    store.client.hset(vendor, "cooldown_until", value)
    admission = store.ask(Admit(MANGO_KEYS, LIMITED))
    assert (admission.verdict, admission.wait) == ("go", 0.0)


def test_a_cooldown_is_never_longer_than_the_one_recorded(hashes: tuple[RedisState, str]) -> None:
    store, vendor = hashes
    store.ask(Record(MANGO_KEYS, LIMITED, Signal(cooldown=30.0)))
    assert 29 < store.ask(Admit(MANGO_KEYS, LIMITED)).wait <= 30
    # moved ahead by another program, a bug or a clock that stepped back: forgotten
    until = float(store.client.hget(vendor, "cooldown_until") or 0)
    store.client.hset(vendor, "cooldown_until", repr(until + 3600))
    assert store.ask(Admit(MANGO_KEYS, LIMITED)).wait == 0.0


def test_refusals_do_not_extend_a_keys_expiry(hashes: tuple[RedisState, str]) -> None:
    """A pause longer than the client's max_retry_after (60 s) refuses every call; a refused
    call took a rate-limiter turn whose EXPIRE gave the key another hour, so a fleet that kept
    calling kept the pause's key alive forever. The key now lives an idle hour past its pause."""
    store, vendor = hashes
    store.ask(Record(MANGO_KEYS, LIMITED, Signal(cooldown=300.0)))
    assert 3600 + 290 < store.client.ttl(vendor) <= 3600 + 300  # the pause, then an idle hour
    store.client.expire(vendor, 100)
    for _ in range(3):
        assert store.ask(Admit(MANGO_KEYS, LIMITED)).wait > 60  # a call the client refuses
    assert 0 < store.client.ttl(vendor) <= 100


def test_an_open_circuit_no_client_wrote_is_closed_and_given_an_expiry(
    hashes: tuple[RedisState, str],
) -> None:
    """``opened_until`` far past the breaker's recovery on a key without expiry held the circuit
    open for ever (an open circuit's refusals write nothing, so nothing gave it an expiry)."""
    store, vendor = hashes
    limits = Limits(10, BREAKER)
    store.client.hset(vendor, mapping={"opened_until": "1e18", "failures": 0})
    assert store.client.ttl(vendor) == -1
    assert store.ask(Admit(MANGO_KEYS, limits)).verdict == "go"
    assert 0 < store.client.ttl(vendor) <= 3600


@pytest.mark.parametrize("value", ["inf", "nan", "0x7fffffff", "-1"])
def test_an_open_circuit_that_is_no_time_is_closed(
    hashes: tuple[RedisState, str], value: str
) -> None:
    """``opened_until=inf`` was open with ``retry_after`` 0: callers told to come back at once."""
    store, vendor = hashes
    store.client.hset(vendor, "opened_until", value)
    assert store.ask(Admit(MANGO_KEYS, Limits(10, BREAKER))).verdict == "go"


def test_an_open_circuit_is_never_open_longer_than_the_breakers_recovery(
    hashes: tuple[RedisState, str],
) -> None:
    store = hashes[0]
    limits = Limits(10, BREAKER)
    assert store.ask(Record(MANGO_KEYS, limits, Signal(failed=True))) == "opened"
    admission = store.ask(Admit(MANGO_KEYS, limits))
    assert admission.verdict == "open"
    assert 29 < admission.wait <= 30


@pytest.mark.parametrize("peak", ["inf", "nan", "-3", "0x10"])
def test_a_learned_rate_that_is_no_rate_does_not_pin_the_limiter(
    hashes: tuple[RedisState, str], peak: str
) -> None:
    """``peak=inf`` made the curve NaN: the limiter sat at its minimum rate (a turn every 2 s)
    and was never released."""
    store, vendor = hashes
    store.client.hset(vendor, mapping={"peak": peak, "since": "1"})
    turns = [store.ask(Admit(MANGO_KEYS, LIMITED)).turn for _ in range(3)]
    assert turns == [0.0, 0.0, 0.0]


@pytest.mark.parametrize("tokens", ["nan", "many", "-4", "1e999"])
def test_a_budget_that_is_no_number_is_full(hashes: tuple[RedisState, str], tokens: str) -> None:
    """Not a number of tokens: the budget is full (a refund failed in the script, making every
    write fall back to in-process state with a warning; 'nan' paid for any retry)."""
    store, vendor = hashes
    store.client.hset(vendor, "tokens", tokens)
    with capture_logs() as logs:
        store.ask(Refund(MANGO_KEYS, LIMITED, 1))
        assert store.ask(Retry(MANGO_KEYS, LIMITED, 4)).verdict == "go"
    assert logs == []
    assert store.client.hget(vendor, "tokens") == b"6"


def test_releasing_a_probe_writes_no_key_without_an_expiry(
    hashes: tuple[RedisState, str],
) -> None:
    store, vendor = hashes
    store.ask(Release(Keys("mango", "mango/sms")))
    assert store.client.exists(f"{vendor}:mango/sms") == 0


@pytest.mark.parametrize(
    ("prefix", "account_"), [("a:b", "c"), ("a", "b:c"), ("a", ""), ("{x}", "y")]
)
def test_prefix_and_account_cannot_collide(prefix: str, account_: str) -> None:
    with pytest.raises(ValueError, match="must be non-empty"):
        RedisState(redis.Redis(), prefix=prefix, account=account_)


def test_the_async_store_says_it_needs_asyncio_under_trio() -> None:
    trio = pytest.importorskip("trio")

    store = AsyncRedisState(redis.asyncio.Redis())

    async def main() -> None:
        with pytest.raises(RuntimeError, match="needs asyncio"):
            await store.ask(Admit(Keys("mango", "mango"), Limits(10, None)))

    trio.run(main)


@pytest.mark.parametrize("vendor", ["*", "mango*", "[a-z]*", ""])
def test_clear_takes_a_vendor_id_not_a_pattern(vendor: str) -> None:
    with pytest.raises(ValueError, match="not a vendor id"):
        RedisState(redis.Redis()).clear(vendor)


# --- the script reads a question by its fields' names ---------------------------------------------


def test_the_script_is_sent_each_question_by_name(hashes: tuple[RedisState, str]) -> None:
    store = hashes[0]
    sent: list[dict[str, object]] = []
    script = store._script

    def spy(*, keys: list[str], args: list[object]) -> object:
        sent.append(dict(zip(map(str, args[::2]), args[1::2], strict=True)))
        return script(keys=keys, args=args)

    store._script = spy
    limits = Limits(10, BREAKER, RateLimiter(max_wait=2.0))
    assert store.ask(Retry(MANGO_KEYS, limits, cost=3, delay=0.5)).verdict == "go"
    assert store.ask(Record(MANGO_KEYS, limits, Signal(failed=True, slow=True, at=1.5))) == "opened"
    retry, record = sent
    assert retry["op"] == "Retry"
    assert (retry["cost"], retry["delay"], retry["capacity"]) == (3, 0.5, 10)
    assert (retry["failures"], retry["recovery"], retry["max_wait"]) == (1, 30, 2.0)
    assert not {"patience", "ceiling"} & retry.keys()  # infinite: no bound, left out
    assert (record["op"], record["failed"], record["slow"], record["probe"]) == ("Record", 1, 1, 0)
    assert record["at"] == 1.5
    assert store.client.hget(hashes[1], "tokens") == b"7"  # the script read ``cost`` by name
