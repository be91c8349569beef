"""Shared per-vendor state: circuit breaker, cooldown and retry budget, alone and in transports."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
from structlog.testing import capture_logs

import normalizer
from normalizer import CircuitBreaker, CircuitOpenError, LocalState, Registry
from normalizer._store import (
    A,
    Admission,
    Admit,
    AsyncStore,
    Keys,
    Limits,
    Pace,
    Query,
    Record,
    Retry,
    Signal,
    Store,
)
from tests.conftest import FakeClock, outcome
from tests.test_retry import MANGO, Script, _real_waits, js, policy  # noqa: F401

SERVER = js({"result": 5001})
OK = js({"result": 1000})
BREAKER = CircuitBreaker(failures=3, window=10.0, recovery=30.0)
KEYS = Keys("v", "v")
LIMITS = Limits(100, BREAKER)


# --- the rules, on every store ----------------------------------------------------------------


def test_opens_after_a_run_of_failures(clock: FakeClock, store: Store) -> None:
    state = store
    assert [state.ask(Record(KEYS, LIMITS, Signal(failed=True))) for _ in range(3)] == [
        None,
        None,
        "opened",
    ]
    admission = state.ask(Admit(KEYS, LIMITS))
    assert admission.verdict == "open"
    assert admission.wait == 30.0
    clock.now += 10
    assert state.ask(Admit(KEYS, LIMITS)).wait == 20.0


def test_a_success_or_an_old_failure_restarts_the_run(clock: FakeClock, store: Store) -> None:
    state = store
    state.ask(Record(KEYS, LIMITS, Signal(failed=True)))
    state.ask(Record(KEYS, LIMITS, Signal(failed=True)))
    state.ask(Record(KEYS, LIMITS, Signal()))
    state.ask(Record(KEYS, LIMITS, Signal(failed=True)))
    state.ask(Record(KEYS, LIMITS, Signal(failed=True)))
    assert state.ask(Admit(KEYS, LIMITS)).verdict == "go"
    clock.now += 10.5  # the run began more than `window` ago: this failure starts a new one
    assert state.ask(Record(KEYS, LIMITS, Signal(failed=True))) is None
    assert state.ask(Admit(KEYS, LIMITS)).verdict == "go"


def open_then_wait_for_recovery(state: Store, clock: FakeClock) -> None:
    for _ in range(BREAKER.failures):
        state.ask(Record(KEYS, LIMITS, Signal(failed=True)))
    clock.now += BREAKER.recovery


def test_half_open_lets_one_probe_through(clock: FakeClock, store: Store) -> None:
    state = store
    open_then_wait_for_recovery(state, clock)
    assert state.ask(Admit(KEYS, LIMITS)).verdict == "probe"
    assert state.ask(Admit(KEYS, LIMITS)).verdict == "open"  # the probe is out
    assert state.ask(Record(KEYS, LIMITS, Signal(failed=True))) == "opened"  # the probe failed
    assert state.ask(Admit(KEYS, LIMITS)).wait == 30.0
    clock.now += 30
    assert state.ask(Admit(KEYS, LIMITS)).verdict == "probe"
    assert state.ask(Record(KEYS, LIMITS, Signal(probe=True))) == "closed"
    assert state.ask(Admit(KEYS, LIMITS)).verdict == "go"


def test_only_the_probe_closes_an_open_circuit(clock: FakeClock, store: Store) -> None:
    state = store
    for _ in range(BREAKER.failures):
        state.ask(Record(KEYS, LIMITS, Signal(failed=True)))
    # a call let through before the circuit opened comes back ok: that proves nothing now
    assert state.ask(Record(KEYS, LIMITS, Signal())) is None
    assert state.ask(Admit(KEYS, LIMITS)).verdict == "open"
    clock.now += BREAKER.recovery
    assert state.ask(Admit(KEYS, LIMITS)).verdict == "probe"
    assert state.ask(Record(KEYS, LIMITS, Signal(probe=True))) == "closed"


def test_a_lost_probe_is_replaced_after_recovery(clock: FakeClock, store: Store) -> None:
    state = store
    open_then_wait_for_recovery(state, clock)
    assert state.ask(Admit(KEYS, LIMITS)).verdict == "probe"  # and never reports back
    clock.now += 30
    assert state.ask(Admit(KEYS, LIMITS)).verdict == "probe"


def test_without_a_breaker_failures_only_spend_and_cool(store: Store) -> None:
    state, limits = store, Limits(100, None)
    for _ in range(10):
        assert state.ask(Record(KEYS, limits, Signal(failed=True))) is None
    assert state.ask(Admit(KEYS, limits)).verdict == "go"


def test_cooldown_is_the_longest_asked_for(clock: FakeClock, store: Store) -> None:
    state = store
    state.ask(Record(KEYS, LIMITS, Signal(cooldown=5.0)))
    state.ask(Record(KEYS, LIMITS, Signal(cooldown=2.0)))
    assert state.ask(Admit(KEYS, LIMITS)).wait == 5.0
    clock.now += 4
    assert state.ask(Retry(KEYS, LIMITS, 5)).wait == 1.0
    clock.now += 2
    assert state.ask(Admit(KEYS, LIMITS)).wait == 0.0


def test_clean_means_a_success_would_change_nothing(clock: FakeClock, store: Store) -> None:
    state = store
    assert state.ask(Admit(KEYS, LIMITS)).clean
    state.ask(Record(KEYS, LIMITS, Signal(failed=True)))
    assert not state.ask(Admit(KEYS, LIMITS)).clean  # a failure is counted
    state.ask(Record(KEYS, LIMITS, Signal()))
    assert state.ask(Admit(KEYS, LIMITS)).clean
    state.ask(Retry(KEYS, LIMITS, 5))
    assert not state.ask(Admit(KEYS, LIMITS)).clean  # the budget is not full


def test_budget_never_overspent_from_many_threads(store: Store) -> None:
    state, limits = store, Limits(1000, None)
    granted: list[int] = []

    def spend() -> None:
        mine = sum(state.ask(Retry(KEYS, limits, 7)).verdict == "go" for _ in range(200))
        granted.append(mine)

    threads = [threading.Thread(target=spend) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(granted) == 1000 // 7
    assert state.ask(Retry(KEYS, limits, 1000 % 7 + 1)).verdict == "budget"
    assert state.ask(Retry(KEYS, limits, 1000 % 7)).verdict == "go"


# --- the store's clock stepping back ----------------------------------------------------------

UNIX_NOW = 1.7e9
"""A Redis server's TIME: a clock three days back must stay positive."""


def _pause_and_open(state: Store, clock: FakeClock) -> None:
    """An hour's pause (a mapping's cooldown) and an open circuit (30 s recovery)."""
    clock.now = UNIX_NOW
    state.ask(Record(KEYS, Limits(100, None), Signal(cooldown=3600.0)))
    for _ in range(BREAKER.failures):
        state.ask(Record(KEYS, LIMITS, Signal(failed=True)))


def test_a_clock_stepping_back_days_forgets_pauses_and_circuits(
    clock: FakeClock, store: Store
) -> None:
    """A Redis server whose clock stepped back 3 days (a failover to a replica with a wrong
    clock) refused calls for 73 h, where docs/limitations.md promised 24 h at most: the pause
    read 3 days + 1 h long, cut to 24 h at each read, and the circuit stayed open for 3 days."""
    _pause_and_open(store, clock)
    clock.now -= 3 * 86400
    admission = store.ask(Admit(KEYS, LIMITS))
    assert (admission.verdict, admission.wait) == ("go", 0.0)


def test_a_clock_stepping_back_a_moment_keeps_them_no_longer(
    clock: FakeClock, store: Store
) -> None:
    _pause_and_open(store, clock)
    clock.now -= 0.5  # NTP
    admission = store.ask(Admit(KEYS, LIMITS))
    assert (admission.verdict, admission.wait) == ("open", 30.0)  # not 30.5: its recovery
    assert store.ask(Admit(KEYS, Limits(100, None))).wait == 3600.0  # the pause as recorded


def test_per_product_circuits_and_rate_limits_per_product() -> None:
    breaker = CircuitBreaker(per_product=True)
    assert Keys.of("onbuka", "sms", breaker) == Keys("onbuka", "onbuka/sms", "onbuka/sms")
    assert Keys.of("onbuka", None, breaker) == Keys("onbuka", "onbuka", "onbuka")
    # the rate limiter is per product whatever the breaker does: one API's limit is its own
    assert Keys.of("onbuka", "sms", CircuitBreaker()) == Keys("onbuka", "onbuka", "onbuka/sms")


@pytest.mark.parametrize(
    "options", [{"failures": 0}, {"window": 0}, {"recovery": -1}, {"categories": {"nope"}}]
)
def test_breaker_options_are_checked(options: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=r"must|is not a valid"):
        CircuitBreaker(**options)  # type: ignore[arg-type]


# --- in the transports ------------------------------------------------------------------------


def client(
    script: Callable[[httpx.Request], httpx.Response],
    clock: FakeClock,
    **kw: object,
) -> normalizer.Client:
    kw.setdefault("retry", policy(clock))
    kw.setdefault("circuit", BREAKER)
    kw.setdefault("state", LocalState(clock))
    return normalizer.Client("mango", transport=httpx.MockTransport(script), **kw)  # type: ignore[arg-type]


def test_open_circuit_fails_fast_without_sending(clock: FakeClock) -> None:
    script = Script([SERVER])
    c = client(script, clock, retry=None)
    with capture_logs() as logs:
        for _ in range(3):
            assert outcome(c.post(MANGO)).code == "5001"
        with pytest.raises(CircuitOpenError) as info:
            c.post(MANGO)
    assert len(script.requests) == 3
    assert info.value.vendor == "mango"
    assert info.value.reason == "open"
    assert info.value.retry_after == 30.0
    assert "retry in 30.0s" in str(info.value)
    assert [e["event"] for e in logs].count("vendor_circuit_opened") == 1


def test_probe_success_closes_the_circuit(clock: FakeClock) -> None:
    script = Script([SERVER, SERVER, SERVER, OK])
    c = client(script, clock, retry=None)
    for _ in range(3):
        c.post(MANGO)
    clock.now += 30
    with capture_logs() as logs:
        assert outcome(c.post(MANGO)).ok
    assert outcome(c.post(MANGO)).ok
    assert [e["event"] for e in logs] == ["vendor_circuit_closed"]


def test_retries_stop_when_the_circuit_opens(clock: FakeClock) -> None:
    script = Script([SERVER])
    c = client(script, clock, circuit=CircuitBreaker(failures=2))
    with capture_logs() as logs:
        response = c.post(MANGO)
    assert response.extensions["normalizer.attempts"] == 2
    assert outcome(response).code == "5001"  # the last response is returned, not lost
    assert response.read()
    gave_up = [e for e in logs if e["event"] == "vendor_call_gave_up"]
    assert gave_up[0]["reason"] == "circuit_open"


def test_what_counts_as_a_failure(clock: FakeClock) -> None:
    # validation, auth and billing answers mean the vendor is up; so does a callee who is busy
    script = Script([SERVER, SERVER, js({"result": 3103}), SERVER, SERVER])
    c = client(script, clock, retry=None)
    for _ in range(5):
        c.post(MANGO)
    assert outcome(c.post(MANGO)).code == "5001"  # still closed: the run was broken
    errors = Script([httpx.ConnectError("refused")])
    c = client(errors, clock, retry=None)
    for _ in range(3):
        with pytest.raises(httpx.ConnectError):
            c.post(MANGO)
    with pytest.raises(CircuitOpenError):
        c.post(MANGO)


def test_clients_share_a_state_when_given_one(clock: FakeClock) -> None:
    shared = LocalState(clock)
    first = client(Script([SERVER]), clock, retry=None, state=shared)
    second = client(Script([OK]), clock, retry=None, state=shared)
    for _ in range(3):
        first.post(MANGO)
    with pytest.raises(CircuitOpenError):
        second.post(MANGO)


def test_cooldown_from_retry_after_holds_every_call(clock: FakeClock) -> None:
    busy = httpx.Response(500, headers={"Retry-After": "5"})  # a server's pause (maintenance)
    script = Script([busy, OK, OK])
    c = client(script, clock, retry=policy(clock, max_attempts=1), circuit=None)
    assert outcome(c.post(MANGO)).category is normalizer.Category.SERVER
    assert clock.sleeps == []
    assert outcome(c.post(MANGO)).ok  # waited out the vendor's pause before sending
    assert clock.sleeps == [5.0]
    assert outcome(c.post(MANGO)).ok
    assert clock.sleeps == [5.0]


def test_a_pause_longer_than_the_policy_waits_fails_fast(clock: FakeClock) -> None:
    busy = httpx.Response(500, headers={"Retry-After": "50"})
    script = Script([busy, OK])
    c = client(script, clock, retry=policy(clock, max_attempts=1, deadline=30), circuit=None)
    c.post(MANGO)
    with pytest.raises(CircuitOpenError) as info:
        c.post(MANGO)  # a 50 s pause does not fit in a 30 s deadline: not sent, at once
    assert info.value.reason == "cooldown"
    assert info.value.retry_after == 50.0
    assert len(script.requests) == 1


@pytest.mark.parametrize(
    "value", ["999999", "Thu, 01 Jan 2099 00:00:00 GMT", "inf", "30000", "nan", "-5"]
)
def test_one_answer_never_locks_a_vendor_out(clock: FakeClock, value: str) -> None:
    # a pause longer than max_retry_after (60 s) is not learned: the next call goes at once
    busy = httpx.Response(500, headers={"Retry-After": value})
    script = Script([busy, OK])
    retry = policy(clock, max_attempts=1, deadline=None)
    c = client(script, clock, retry=retry, circuit=None)
    c.post(MANGO)
    assert outcome(c.post(MANGO)).ok
    assert all(0 <= s <= 60.0 for s in clock.sleeps)
    assert len(script.requests) == 2


def test_clear_forgets_a_vendors_cooldown_and_circuit(clock: FakeClock) -> None:
    state = LocalState(clock)
    keys, limits = Keys("mango", "mango/sms"), Limits(10, CircuitBreaker(failures=1))
    state.ask(Record(keys, limits, Signal(failed=True, cooldown=30.0)))
    state.ask(Retry(Keys("mango", "mango"), limits, 5))
    assert state.ask(Admit(keys, limits)).verdict == "open"
    state.ask(Record(Keys("onbuka", "onbuka"), limits, Signal(cooldown=9.0)))
    state.clear("mango")
    assert state.ask(Admit(keys, limits)) == Admission("go", 0.0, True)
    assert state.tokens("mango", 10) == 10
    assert state.ask(Admit(Keys("onbuka", "onbuka"), limits)).wait == 9.0  # others untouched


def test_a_retry_waits_for_a_cooldown_another_call_started(clock: FakeClock) -> None:
    shared = LocalState(clock)
    script = Script([SERVER, OK])

    def handler(request: httpx.Request) -> httpx.Response:
        if not script.requests:  # meanwhile another worker is told to pause for 7 s
            shared.ask(Record(Keys("mango", "mango"), Limits(500, None), Signal(cooldown=7.0)))
        return script(request)

    c = client(handler, clock, circuit=None, state=shared)
    assert outcome(c.post(MANGO)).ok
    assert clock.sleeps == [7.0]  # not the 0.2 s backoff: the vendor's pause, started elsewhere


def test_mapping_declares_a_cooldown(
    clock: FakeClock, registry: Registry, write_mapping: Callable[[str, str], Path]
) -> None:
    registry.register(
        write_mapping(
            'format = 1\n[vendor]\nextends = "acme"\n[codes]\n'
            '"-9" = { category = "busy", description = "too frequent", cooldown = 2.5 }\n',
            "acme-cooldown.toml",
        )
    )
    script = Script([js({"code": "-9"}), OK])
    c = normalizer.Client(
        "acme",
        registry=registry,
        transport=httpx.MockTransport(script),
        retry=policy(clock, max_attempts=1),
    )
    first = outcome(c.post("https://api.acme.test/v1/call"))
    assert first.cooldown == 2.5
    c.post("https://api.acme.test/v1/call")
    assert clock.sleeps == [2.5]


def test_without_retry_policy_nothing_waits(clock: FakeClock) -> None:
    shared = LocalState(clock)
    shared.ask(Record(Keys("mango", "mango"), Limits(0, None), Signal(cooldown=7.0)))
    c = client(Script([OK]), clock, retry=None, circuit=None, state=shared)
    assert outcome(c.post(MANGO)).ok
    assert clock.sleeps == []


def test_async_transport_needs_an_async_store_and_sync_a_sync_one() -> None:
    from normalizer._store import AsyncLocal

    with pytest.raises(TypeError):
        normalizer.NormalizingTransport("mango", state=AsyncLocal(LocalState()))


@pytest.mark.anyio
async def test_async_circuit_and_cooldown(clock: FakeClock) -> None:
    script = Script([SERVER, SERVER, SERVER, httpx.Response(500, headers={"Retry-After": "3"}), OK])
    async with normalizer.AsyncClient(
        "mango",
        transport=httpx.MockTransport(script),
        retry=policy(clock, max_attempts=1),
        circuit=BREAKER,
    ) as c:
        for _ in range(3):
            await c.post(MANGO)
        with pytest.raises(CircuitOpenError):
            await c.post(MANGO)
        clock.now += 30
        probe = await c.post(MANGO)  # the probe fails, and the vendor asks for a pause
        assert outcome(probe).http_status == 500
        with pytest.raises(CircuitOpenError) as info:
            await c.post(MANGO)
        assert info.value.reason == "open"
    assert len(script.requests) == 4


@pytest.mark.anyio
async def test_async_cooldown_waits_with_the_async_sleep(clock: FakeClock) -> None:
    script = Script([httpx.Response(500, headers={"Retry-After": "3"}), OK])
    async with normalizer.AsyncClient(
        "mango", transport=httpx.MockTransport(script), retry=policy(clock, max_attempts=1)
    ) as c:
        await c.post(MANGO)
        assert outcome(await c.post(MANGO)).ok
    assert clock.sleeps == [3.0]


def test_per_product_circuits_in_a_transport(clock: FakeClock, registry: Registry) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if "/sms/" in request.url.path:
            return httpx.Response(500)  # SMS is failing
        return js({"status": "0"})

    c = normalizer.Client(
        "acme",
        registry=registry,
        transport=httpx.MockTransport(handler),
        retry=None,
        circuit=CircuitBreaker(failures=2, per_product=True),
        state=LocalState(clock),
    )
    for _ in range(2):
        c.post("https://api.acme.test/v1/sms/send")
    with pytest.raises(CircuitOpenError) as info:
        c.post("https://api.acme.test/v1/sms/send")
    assert info.value.circuit == "acme/sms"
    assert outcome(c.post("https://api.acme.test/v1/voice/call")).ok  # voice is not held back


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])  # asyncio tasks and cancel
async def test_a_cancelled_probe_frees_its_slot(clock: FakeClock) -> None:
    import asyncio

    state = LocalState(clock)
    breaker = CircuitBreaker(failures=1, recovery=30.0)
    keys, limits = Keys("mango", "mango"), Limits(500, breaker)
    state.ask(Record(keys, limits, Signal(failed=True)))  # open
    clock.now += 31  # recovery over: the next call is the probe
    started = asyncio.Event()

    async def slow(request: httpx.Request) -> httpx.Response:
        started.set()
        await asyncio.sleep(3600)
        raise AssertionError("not reached")

    client = normalizer.AsyncClient(
        "mango",
        transport=httpx.MockTransport(slow),
        retry=policy(clock),
        circuit=breaker,
        state=state,
    )
    task = asyncio.ensure_future(client.post(MANGO))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # the probe will never report: the next call probes at once instead of failing fast
    assert state.ask(Admit(keys, limits)).verdict == "probe"


def test_a_probe_refused_for_a_cooldown_frees_its_slot(clock: FakeClock) -> None:
    breaker = CircuitBreaker(failures=1, recovery=10.0)
    state = LocalState(clock)
    keys, limits = Keys("mango", "mango"), Limits(500, breaker)
    opening = Signal(failed=True, cooldown=30.0)  # opened, with a 30 s pause asked for
    state.ask(Record(keys, limits, opening))
    clock.now += 24  # recovery over, pause not: the next call is the probe, and is refused
    c = client(Script([OK]), clock, retry=policy(clock, deadline=5), circuit=breaker, state=state)
    with pytest.raises(CircuitOpenError) as info:
        c.post(MANGO)
    assert info.value.reason == "cooldown"
    clock.now += 7  # the pause is over: a call must go (as the probe), not fail "open"
    assert outcome(c.post(MANGO)).ok


def test_tokens_taken_for_a_retry_the_cooldown_rules_out_come_back(clock: FakeClock) -> None:
    state = LocalState(clock)
    script = Script([SERVER])

    def handler(request: httpx.Request) -> httpx.Response:
        # meanwhile another worker is told to pause for 30 s: longer than this call may wait
        state.ask(Record(Keys("mango", "mango"), Limits(500, None), Signal(cooldown=30.0)))
        return script(request)

    c = client(handler, clock, retry=policy(clock, deadline=10), circuit=None, state=state)
    with capture_logs() as logs:
        c.post(MANGO)
    assert [e["reason"] for e in logs if e["event"] == "vendor_call_gave_up"] == ["deadline"]
    assert state.tokens("mango", 500) == 500  # paid for the retry, then given back


# --- another backend: one class answering ask ---------------------------------------------------


class Journal(Store):
    """A third backend, whole: it answers every question from a LocalState and keeps each
    question with its answer (what a backend writing to another database looks like)."""

    def __init__(self, state: LocalState) -> None:
        self.state = state
        self.asked: list[tuple[Query[Any], object]] = []

    def ask(self, question: Query[A]) -> A:
        answer = self.state.ask(question)
        self.asked.append((question, answer))
        return answer


class AsyncJournal(AsyncStore):
    """The same backend for the async transports."""

    def __init__(self, state: LocalState) -> None:
        self.journal = Journal(state)

    async def ask(self, question: Query[A]) -> A:
        return self.journal.ask(question)


def test_a_backend_that_answers_ask_runs_a_client(clock: FakeClock) -> None:
    journal = Journal(LocalState(clock))
    script = Script([SERVER])
    breaker = CircuitBreaker(failures=1, recovery=30.0)
    c = client(script, clock, retry=policy(clock, max_attempts=1), circuit=breaker, state=journal)
    assert outcome(c.post(MANGO)).code == "5001"
    with pytest.raises(CircuitOpenError):  # the backend's answer: the circuit is open
        c.post(MANGO)
    assert len(script.requests) == 1
    asked = [type(question) for question, _ in journal.asked]
    assert asked == [Admit, Record, Admit]
    assert journal.asked[1][1] == "opened"
    assert journal.asked[2][1] == Admission("open", 30.0)


@pytest.mark.anyio
async def test_an_async_backend_that_answers_ask_runs_an_async_client(clock: FakeClock) -> None:
    store = AsyncJournal(LocalState(clock))
    script = Script([SERVER])
    async with normalizer.AsyncClient(
        "mango",
        transport=httpx.MockTransport(script),
        retry=policy(clock, max_attempts=1),
        circuit=CircuitBreaker(failures=1, recovery=30.0),
        state=store,
    ) as c:
        await c.post(MANGO)
        with pytest.raises(CircuitOpenError):
            await c.post(MANGO)
    assert [type(q) for q, _ in store.journal.asked] == [Admit, Record, Admit]
    assert len(script.requests) == 1


class Shut(Store):
    """A backend of a few lines that knows one rule: the vendor is shut for a minute."""

    def ask(self, question: Query[A]) -> A:
        if isinstance(question, Admit | Retry | Pace):
            return cast(A, Admission("open", 60.0))
        return cast(A, None)


def test_the_transports_obey_a_backends_answers(clock: FakeClock) -> None:
    script = Script([OK])
    with pytest.raises(CircuitOpenError) as info:
        client(script, clock, state=Shut()).post(MANGO)
    assert info.value.retry_after == 60.0
    assert script.requests == []


def test_a_store_has_one_method_and_answers_only_its_questions() -> None:
    public = {name for name in vars(Store) if not name.startswith("_")}
    assert public == {"ask"} == {n for n in vars(AsyncStore) if not n.startswith("_")}
    with pytest.raises(TypeError, match="cannot answer"):
        LocalState().ask(Query(KEYS))
