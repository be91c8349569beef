"""The adaptive rate limiter: its curve and turns, its rules on every store, and in transports."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

import normalizer
from normalizer import LocalState, RateLimitedError, RateLimiter, Registry
from normalizer._limiter import BETA, RELEASE, TOLERANCE, curve, lowered, released, turn
from normalizer._store import Keys, Limits, Signal, Store
from tests.conftest import FakeClock, outcome
from tests.test_retry import MANGO, Script, _real_waits, js, policy  # noqa: F401

KEYS = Keys("v", "v")
AFTER_FIRST = 1 / BETA  # turn gap x sending rate after a first lowering
ADAPTIVE = Limits(100, None, RateLimiter())
BUSY = js({"result": 2220})  # simultaneous calls limited: the account's, so every call slows
OK = js({"result": 1000})


# --- the curve and the turns --------------------------------------------------------------------


def test_the_curve_drops_to_beta_then_climbs_back_to_the_refused_rate() -> None:
    assert curve(200.0, 10.0, 10.0) == pytest.approx(BETA * 200)
    k = (200 * (1 - BETA) / 0.4) ** (1 / 3)
    assert curve(200.0, 10.0, 10.0 + k) == pytest.approx(200.0)  # flat at the refused rate
    assert curve(200.0, 10.0, 10.0 + k + 2) > 200.0  # then probes above it
    assert not released(200.0, 10.0, 10.0 + k)
    assert released(200.0, 10.0, 10.0 + k + 10)  # long without a signal: let go
    assert curve(200.0, 10.0, 10.0 + k + 10) >= RELEASE * 200


def test_turns_are_spaced_by_the_rate_with_a_small_burst() -> None:
    tat, starts = 0.0, []
    for _ in range(4):
        start, tat = turn(tat, 100.0, 100.0, 10.0)
        starts.append(start)
    assert starts == pytest.approx([100.0, 100.1 - TOLERANCE, 100.2 - TOLERANCE, 100.3 - TOLERANCE])
    assert turn(5.0, 100.0, 100.0, math.inf) == (100.0, 5.0)  # no limit: at once


def test_a_lowering_never_goes_under_the_floor_or_over_the_ceiling() -> None:
    assert lowered(0.0, 0.0, 1.0, 0.0, math.inf, 0.5) == 0.5
    assert lowered(0.0, 0.0, 1.0, 900.0, 100.0, 0.5) == 100.0
    # engaged: no more than the limiter allowed, whatever the meter says
    assert lowered(200.0, 1.0, 1.0, 900.0, math.inf, 0.5) == pytest.approx(BETA * 200)


def test_limiter_options_are_checked_and_rates_read() -> None:
    assert RateLimiter(rate="600/min").rate == 10.0
    assert RateLimiter(rate=5).ceiling(2.0) == 2.0
    assert RateLimiter().ceiling(None) == math.inf
    assert RateLimiter(adaptive=False).idle
    for bad in ("fast", "10/week", 0, -1, True):
        with pytest.raises(ValueError, match=r"calls|unit|number"):
            RateLimiter(rate=bad)
    with pytest.raises(ValueError, match="max_wait"):
        RateLimiter(max_wait=-1)


# --- the rules, on every store ------------------------------------------------------------------


def _send(state: Store, clock: FakeClock, calls: int, spacing: float) -> list[float]:
    """Admit ``calls`` calls ``spacing`` seconds apart; returns each call's turn."""
    turns = []
    for _ in range(calls):
        turns.append(state.admit(KEYS, ADAPTIVE).turn)
        clock.now += spacing
    return turns


def test_nothing_waits_until_the_vendor_says_it_is_overloaded(
    clock: FakeClock, store: Store
) -> None:
    assert _send(store, clock, 300, 0.001) == [0.0] * 300


def test_an_overload_signal_paces_calls_below_the_sending_rate(
    clock: FakeClock, store: Store
) -> None:
    _send(store, clock, 400, 0.005)  # 200 calls/s for two seconds
    at = store.admit(KEYS, ADAPTIVE).at
    store.record(KEYS, ADAPTIVE, Signal(slow=True, at=at))
    # a burst now: turns come 1/140 s apart (0.7 x 200/s), after a small burst allowance
    turns = [store.admit(KEYS, ADAPTIVE).turn for _ in range(50)]
    assert turns[0] == 0.0
    gaps = [b - a for a, b in itertools.pairwise(turns[10:])]
    assert max(gaps) - min(gaps) < 1e-6  # evenly
    # the sending rate is read a little high rather than low (see _limiter.sending)
    assert AFTER_FIRST / 240 < gaps[0] <= AFTER_FIRST / 200


def test_refusals_in_flight_lower_the_rate_once(clock: FakeClock, store: Store) -> None:
    _send(store, clock, 400, 0.005)
    ats = [store.admit(KEYS, ADAPTIVE).at for _ in range(16)]  # sixteen calls in flight
    clock.now += 0.01
    for at in ats:  # all refused: one round, one lowering
        store.record(KEYS, ADAPTIVE, Signal(slow=True, at=at))
    burst = [store.admit(KEYS, ADAPTIVE).turn for _ in range(40)]
    assert AFTER_FIRST / 240 < burst[-1] - burst[-2] <= AFTER_FIRST / 200
    # a call admitted after the lowering and refused again lowers it again
    clock.now += 1.0
    at = store.admit(KEYS, ADAPTIVE).at
    store.record(KEYS, ADAPTIVE, Signal(slow=True, at=at))
    again = [store.admit(KEYS, ADAPTIVE).turn for _ in range(40)]
    assert again[-1] - again[-2] > 1.2 * (burst[-1] - burst[-2])


def test_a_turn_too_far_ahead_is_refused_without_being_taken(
    clock: FakeClock, store: Store
) -> None:
    limits = Limits(100, None, RateLimiter(), ceiling=1.0)  # a published 1 call/s
    assert store.admit(KEYS, limits, 0.5).verdict == "go"
    refused = store.admit(KEYS, limits, 0.5)
    assert refused.verdict == "rate"
    assert refused.turn == pytest.approx(1.0 - TOLERANCE)
    # the refused call took no turn: the next one waiting longer gets the same
    assert store.admit(KEYS, limits, 5.0).turn == pytest.approx(1.0 - TOLERANCE)


def test_a_ceiling_paces_without_any_signal(clock: FakeClock, store: Store) -> None:
    limits = Limits(100, None, RateLimiter(rate=10.0, adaptive=False), ceiling=10.0)
    turns = [store.admit(KEYS, limits).turn for _ in range(5)]
    assert turns == pytest.approx([0.0, 0.05, 0.15, 0.25, 0.35])


def test_a_retry_looks_at_the_queue_and_takes_its_turn_when_due(
    clock: FakeClock, store: Store
) -> None:
    limits = Limits(100, None, RateLimiter(), ceiling=10.0)
    store.admit(KEYS, limits)
    # a retry due in 2 s takes no turn now: calls arriving meanwhile are not held back by it
    assert store.retry(KEYS, limits, 5, 2.0).turn == pytest.approx(2.0)
    assert store.admit(KEYS, limits).turn == pytest.approx(0.1 - TOLERANCE)
    # ...but a queue longer than it may wait stops it at once
    for _ in range(20):
        store.admit(KEYS, limits)
    assert store.retry(KEYS, limits, 5, 0.0, 1.0).verdict == "rate"
    clock.now += 2.0
    paced = store.pace(KEYS, limits)  # when due, it joins the queue
    assert paced.verdict == "go"
    assert paced.turn == pytest.approx(0.1 * 22 - TOLERANCE - 2.0)


def test_the_limiter_lets_go_after_long_without_a_signal(clock: FakeClock, store: Store) -> None:
    _send(store, clock, 400, 0.005)
    store.record(KEYS, ADAPTIVE, Signal(slow=True, at=store.admit(KEYS, ADAPTIVE).at))
    clock.now += 60.0
    assert _send(store, clock, 300, 0.0) == [0.0] * 300


def test_a_store_without_a_limiter_ignores_slow_signals(clock: FakeClock, store: Store) -> None:
    plain = Limits(100, None)
    store.record(KEYS, plain, Signal(slow=True))
    assert [store.admit(KEYS, plain).turn for _ in range(100)] == [0.0] * 100


def test_clear_forgets_a_learned_rate(clock: FakeClock) -> None:
    state = LocalState(clock)
    _send(state, clock, 400, 0.005)
    state.record(KEYS, ADAPTIVE, Signal(slow=True, at=state.admit(KEYS, ADAPTIVE).at))
    assert state.rate("v", ADAPTIVE) < 200
    state.clear("v")
    assert state.rate("v", ADAPTIVE) == math.inf


# --- in a transport -----------------------------------------------------------------------------


def client(script: Callable[[httpx.Request], httpx.Response], clock: FakeClock, **kw: object):  # type: ignore[no-untyped-def]
    kw.setdefault("retry", policy(clock, max_attempts=1))
    kw.setdefault("state", LocalState(clock))
    return normalizer.Client("mango", transport=httpx.MockTransport(script), **kw)  # type: ignore[arg-type]


def test_a_retry_after_on_a_rate_limit_slows_the_others_but_stops_none(clock: FakeClock) -> None:
    limited = httpx.Response(503, headers={"Retry-After": "1"})  # MANGO: the account's rate
    script = Script([OK] * 200 + [limited] + [OK] * 100)
    c = client(script, clock)
    for _ in range(200):  # 200 calls/s
        c.post(MANGO)
        clock.now += 0.005
    assert outcome(c.post(MANGO)).category is normalizer.Category.BUSY
    for _ in range(100):
        assert outcome(c.post(MANGO)).ok
    assert clock.sleeps  # paced...
    assert max(clock.sleeps) < 0.05  # ...never a one-second stop
    assert len(script.requests) == 301


def test_a_call_whose_turn_is_too_far_fails_at_once(clock: FakeClock) -> None:
    script = Script([OK])
    c = client(script, clock, limiter=RateLimiter(rate="1/s", max_wait=0.5))
    c.post(MANGO)
    with pytest.raises(RateLimitedError) as info:
        c.post(MANGO)
    assert info.value.vendor == "mango"
    assert 0.5 < info.value.retry_after <= 1.0
    assert len(script.requests) == 1  # not sent
    assert clock.sleeps == []  # and not after waiting


def test_the_deadline_bounds_the_wait_for_a_turn(clock: FakeClock) -> None:
    script = Script([OK])
    retry = policy(clock, max_attempts=1, deadline=0.2)
    c = client(script, clock, retry=retry, limiter=RateLimiter(rate="1/s", max_wait=10))
    c.post(MANGO)
    with pytest.raises(RateLimitedError):
        c.post(MANGO)


def test_a_busy_callee_or_agent_never_slows_the_vendor(
    clock: FakeClock, registry: Registry, write_mapping: Callable[[str, str], Path]
) -> None:
    registry.register(
        write_mapping(
            'format = 1\n[vendor]\nextends = "acme"\n[codes]\n'
            '"-7" = { category = "busy", description = "agent in a call", scope = "resource" }\n',
            "acme-agent.toml",
        )
    )
    state = LocalState(clock)
    c = normalizer.Client(
        "acme",
        registry=registry,
        transport=httpx.MockTransport(lambda request: js({"code": "-7"})),
        retry=policy(clock, max_attempts=1),
        circuit=normalizer.CircuitBreaker(
            failures=2, categories=frozenset({normalizer.Category.BUSY})
        ),
        state=state,
    )
    for _ in range(20):
        assert outcome(c.post("https://api.acme.test/v1/call")).scope == "resource"
    keys, limits = Keys("acme", "acme"), Limits(500, None, RateLimiter())
    assert state.rate("acme", limits) == math.inf  # no lowering
    assert state.admit(keys, limits).verdict == "go"  # and no circuit opened


def test_the_default_breaker_never_opens_on_a_vendor_at_capacity(clock: FakeClock) -> None:
    c = client(Script([BUSY]), clock, circuit=normalizer.CircuitBreaker(failures=3))
    for _ in range(20):
        assert outcome(c.post(MANGO)).category is normalizer.Category.BUSY


def test_a_published_rate_in_a_mapping_is_a_ceiling(clock: FakeClock) -> None:
    script = Script([js({"messages": [{"status": "0"}]})])
    c = normalizer.Client(
        "vonage",
        transport=httpx.MockTransport(script),
        retry=policy(clock, max_attempts=1),
        state=LocalState(clock),
    )
    for _ in range(6):
        c.post("https://rest.nexmo.com/sms/json")
    # 30/s: the first few go within the burst allowance, the rest 1/30 s apart
    assert clock.now - 1000.0 == pytest.approx(5 / 30 - TOLERANCE)


def test_limiter_none_and_set_testing_turn_it_off(clock: FakeClock) -> None:
    for kw in ({"limiter": None}, {"retry": None}):
        c = client(Script([OK]), clock, **{"limiter": RateLimiter(rate=1), **kw})
        for _ in range(5):
            c.post(MANGO)
        assert clock.sleeps == []
    with normalizer.testing.set_testing(True):
        c = client(Script([OK]), clock, limiter=RateLimiter(rate=1))
        for _ in range(5):
            c.post(MANGO)
    assert clock.sleeps == []


@pytest.mark.anyio
async def test_async_calls_wait_for_their_turn(clock: FakeClock) -> None:
    async with normalizer.AsyncClient(
        "mango",
        transport=httpx.MockTransport(Script([OK])),
        retry=policy(clock, max_attempts=1),
        limiter=RateLimiter(rate=10),
        state=LocalState(clock),
    ) as c:
        for _ in range(3):
            await c.post(MANGO)
    assert clock.sleeps == pytest.approx([0.05, 0.1])


def test_a_fleet_on_redis_shares_the_learned_rate(redis_server, clock: FakeClock) -> None:  # type: ignore[no-untyped-def]
    import uuid

    import redis

    from normalizer.redis import RedisState

    name = uuid.uuid4().hex
    one, two = (
        RedisState(redis.Redis.from_url(redis_server.url), account=name, clock=clock)
        for _ in range(2)
    )
    with one, two:
        _send(one, clock, 400, 0.005)
        one.record(KEYS, ADAPTIVE, Signal(slow=True, at=one.admit(KEYS, ADAPTIVE).at))
        turns = [(one if i % 2 else two).admit(KEYS, ADAPTIVE).turn for i in range(40)]
    gaps = [b - a for a, b in itertools.pairwise(turns[-10:])]
    assert all(AFTER_FIRST / 240 < g <= AFTER_FIRST / 200 for g in gaps)  # both workers paced
