"""The adaptive rate limiter: its curve and turns, its rules on every store, and in transports."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from pathlib import Path

import anyio
import httpx
import pytest

import normalizer
from normalizer import LocalState, RateLimitedError, RateLimiter, Registry
from normalizer._limiter import BETA, RELEASE, TOLERANCE, curve, lowered, released, turn
from normalizer._mapping import MAX_COOLDOWN
from normalizer._store import Admit, Keys, Limits, Pace, Record, Retry, Signal, Store
from tests.conftest import FakeClock, RedisServer, outcome
from tests.test_retry import MANGO, Script, _real_waits, js, policy  # noqa: F401

KEYS = Keys("v", "v")
MANGO_KEYS = Keys("mango", "mango")
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
        turns.append(state.ask(Admit(KEYS, ADAPTIVE)).turn)
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
    at = store.ask(Admit(KEYS, ADAPTIVE)).at
    store.ask(Record(KEYS, ADAPTIVE, Signal(slow=True, at=at)))
    # a burst now: turns come 1/140 s apart (0.7 x 200/s), after a small burst allowance
    turns = [store.ask(Admit(KEYS, ADAPTIVE)).turn for _ in range(50)]
    assert turns[0] == 0.0
    gaps = [b - a for a, b in itertools.pairwise(turns[10:])]
    assert max(gaps) - min(gaps) < 1e-6  # evenly
    # the sending rate is read a little high rather than low (see _limiter.sending)
    assert AFTER_FIRST / 240 < gaps[0] <= AFTER_FIRST / 200


def test_refusals_in_flight_lower_the_rate_once(clock: FakeClock, store: Store) -> None:
    _send(store, clock, 400, 0.005)
    ats = [store.ask(Admit(KEYS, ADAPTIVE)).at for _ in range(16)]  # sixteen calls in flight
    clock.now += 0.01
    for at in ats:  # all refused: one round, one lowering
        store.ask(Record(KEYS, ADAPTIVE, Signal(slow=True, at=at)))
    burst = [store.ask(Admit(KEYS, ADAPTIVE)).turn for _ in range(40)]
    assert AFTER_FIRST / 240 < burst[-1] - burst[-2] <= AFTER_FIRST / 200
    # a call admitted after the lowering (and its settling time) and refused lowers it again
    clock.now += 0.2
    at = store.ask(Admit(KEYS, ADAPTIVE)).at
    store.ask(Record(KEYS, ADAPTIVE, Signal(slow=True, at=at)))
    again = [store.ask(Admit(KEYS, ADAPTIVE)).turn for _ in range(40)]
    assert again[-1] - again[-2] > 1.2 * (burst[-1] - burst[-2])


def test_a_turn_too_far_ahead_is_refused_without_being_taken(
    clock: FakeClock, store: Store
) -> None:
    limits = Limits(100, None, RateLimiter(), ceiling=1.0)  # a published 1 call/s
    assert store.ask(Admit(KEYS, limits, 0.5)).verdict == "go"
    refused = store.ask(Admit(KEYS, limits, 0.5))
    assert refused.verdict == "rate"
    assert refused.turn == pytest.approx(1.0 - TOLERANCE)
    # the refused call took no turn: the next one waiting longer gets the same
    assert store.ask(Admit(KEYS, limits, 5.0)).turn == pytest.approx(1.0 - TOLERANCE)


def test_a_ceiling_paces_without_any_signal(clock: FakeClock, store: Store) -> None:
    limits = Limits(100, None, RateLimiter(rate=10.0, adaptive=False), ceiling=10.0)
    turns = [store.ask(Admit(KEYS, limits)).turn for _ in range(5)]
    assert turns == pytest.approx([0.0, 0.05, 0.15, 0.25, 0.35])


def test_a_retry_looks_at_the_queue_and_takes_its_turn_when_due(
    clock: FakeClock, store: Store
) -> None:
    limits = Limits(100, None, RateLimiter(), ceiling=10.0)
    store.ask(Admit(KEYS, limits))
    # a retry due in 2 s takes no turn now: calls arriving meanwhile are not held back by it
    assert store.ask(Retry(KEYS, limits, 5, 2.0)).turn == pytest.approx(2.0)
    assert store.ask(Admit(KEYS, limits)).turn == pytest.approx(0.1 - TOLERANCE)
    # ...but a queue longer than it may wait stops it at once
    for _ in range(20):
        store.ask(Admit(KEYS, limits))
    assert store.ask(Retry(KEYS, limits, 5, 0.0, 1.0)).verdict == "rate"
    clock.now += 2.0
    paced = store.ask(Pace(KEYS, limits))  # when due, it joins the queue
    assert paced.verdict == "go"
    assert paced.turn == pytest.approx(0.1 * 22 - TOLERANCE - 2.0)


def test_the_limiter_lets_go_after_long_without_a_signal(clock: FakeClock, store: Store) -> None:
    _send(store, clock, 400, 0.005)
    store.ask(Record(KEYS, ADAPTIVE, Signal(slow=True, at=store.ask(Admit(KEYS, ADAPTIVE)).at)))
    clock.now += 60.0
    assert _send(store, clock, 300, 0.0) == [0.0] * 300


def test_a_store_without_a_limiter_ignores_slow_signals(clock: FakeClock, store: Store) -> None:
    plain = Limits(100, None)
    store.ask(Record(KEYS, plain, Signal(slow=True)))
    assert [store.ask(Admit(KEYS, plain)).turn for _ in range(100)] == [0.0] * 100


def test_clear_forgets_a_learned_rate(clock: FakeClock) -> None:
    state = LocalState(clock)
    _send(state, clock, 400, 0.005)
    state.ask(Record(KEYS, ADAPTIVE, Signal(slow=True, at=state.ask(Admit(KEYS, ADAPTIVE)).at)))
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


@pytest.mark.parametrize(
    ("headers", "options", "waited"),
    [
        ({"Retry-After": "1"}, {}, 0.1),  # the header's rounding: paced, not waited
        ({"Retry-After": "0.5"}, {}, 0.1),
        ({"Retry-After": "2"}, {}, 2.0),  # longer: meant, waited
        ({"Retry-After": "45"}, {"limiter": RateLimiter(max_wait=60)}, 45.0),  # a quota window
        ({"Retry-After": "1"}, {"limiter": None}, 1.0),  # no limiter to pace it: waited
        ({"Retry-After": "1"}, {"limiter": RateLimiter(rate=1000, adaptive=False)}, 1.0),
    ],
)
def test_a_short_retry_after_on_the_accounts_rate_limit_is_paced_not_waited(
    clock: FakeClock, headers: dict[str, str], options: dict[str, object], waited: float
) -> None:
    busy = js({"result": 2220}, headers)  # MANGO: the account's simultaneous calls limited
    script = Script([busy, OK])
    c = client(script, clock, retry=policy(clock, max_attempts=2), **options)
    assert outcome(c.post(MANGO)).ok
    assert clock.sleeps[0] == pytest.approx(waited)


def test_a_retry_the_limiter_paces_spends_less_retry_budget(clock: FakeClock) -> None:
    # a budget too small for one retry (cost 5): a paced one (cost 1) still goes
    retry = policy(clock, budget_capacity=4)
    paced = Script([BUSY, OK])
    assert outcome(client(paced, clock, retry=retry).post(MANGO)).ok
    assert len(paced.requests) == 2
    unpaced = Script([BUSY, OK])
    response = client(unpaced, clock, retry=retry, limiter=None).post(MANGO)
    assert outcome(response).category is normalizer.Category.BUSY
    assert len(unpaced.requests) == 1  # the budget stopped it


def test_a_call_refused_again_waits_its_retry_after(clock: FakeClock) -> None:
    # the account really is closed for the second it says: one paced attempt, then waited
    busy = js({"result": 2220}, {"Retry-After": "1"})
    script = Script([busy, busy, OK])
    assert outcome(client(script, clock, retry=policy(clock)).post(MANGO)).ok
    assert clock.sleeps == [0.1, 1.0]


def test_a_vendors_reset_header_beside_retry_after_is_not_paced(clock: FakeClock) -> None:
    limited = httpx.Response(
        429,
        json={"errors": [{"code": "10011"}]},
        headers={"Retry-After": "1", "x-ratelimit-reset": "30"},
    )
    script = Script([limited, js({"data": {"id": "m"}})])
    c = normalizer.Client(transport=httpx.MockTransport(script), retry=policy(clock))
    assert outcome(c.post("https://api.telnyx.com/v2/messages")).ok
    assert clock.sleeps == [1.0]  # Retry-After first, as always; waited, not paced


def test_a_vendor_answering_busy_forever_still_empties_the_budget(clock: FakeClock) -> None:
    script = Script([BUSY])
    c = client(script, clock, retry=policy(clock, budget_capacity=2))
    c.post(MANGO)  # three attempts: two paced retries at paced_cost 1 each
    assert len(script.requests) == 3
    c.post(MANGO)  # the budget is empty: not retried
    assert len(script.requests) == 4


def test_set_testing_decides_busy_retries_as_in_production(clock: FakeClock) -> None:
    from structlog.testing import capture_logs

    from normalizer.testing import set_testing

    retry = policy(clock, budget_capacity=4)  # enough for a paced retry only
    with set_testing(True), capture_logs() as logs:
        response = client(Script([BUSY, OK]), clock, retry=retry).post(MANGO)
    assert outcome(response).ok
    [retrying] = [e for e in logs if e["event"] == "vendor_call_retrying"]
    assert retrying["delay_from"] == "rate_limit"


def test_a_vendors_reset_header_is_waited_even_with_the_limiter(clock: FakeClock) -> None:
    # Telnyx's x-ratelimit-reset says when its window opens again: a retry before is refused
    limited = httpx.Response(
        429, json={"errors": [{"code": "10011"}]}, headers={"x-ratelimit-reset": "3"}
    )
    script = Script([limited, js({"data": {"id": "m"}})])
    c = normalizer.Client(transport=httpx.MockTransport(script), retry=policy(clock))
    assert outcome(c.post("https://api.telnyx.com/v2/messages")).ok
    assert clock.sleeps == [3.0]


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
    assert state.ask(Admit(keys, limits)).verdict == "go"  # and no circuit opened


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
        one.ask(Record(KEYS, ADAPTIVE, Signal(slow=True, at=one.ask(Admit(KEYS, ADAPTIVE)).at)))
        turns = [(one if i % 2 else two).ask(Admit(KEYS, ADAPTIVE)).turn for i in range(40)]
    gaps = [b - a for a, b in itertools.pairwise(turns[-10:])]
    assert all(AFTER_FIRST / 240 < g <= AFTER_FIRST / 200 for g in gaps)  # both workers paced


# --- edge cases (from an adversarial review) ----------------------------------------------------


def _engage(store: Store, clock: FakeClock) -> None:
    """200 calls/s for two seconds, then one overload answer: peak 200, rate 140/s."""
    for _ in range(400):
        store.ask(Admit(KEYS, ADAPTIVE))
        clock.now += 0.005
    store.ask(Record(KEYS, ADAPTIVE, Signal(slow=True, at=store.ask(Admit(KEYS, ADAPTIVE)).at)))


# --- a retry's turn (pace) is never checked against max_wait / the deadline ----------------------


def test_a_retry_whose_turn_is_past_the_deadline_is_not_sent_out_of_turn(
    clock: FakeClock,
) -> None:
    limiter = RateLimiter(rate=1, adaptive=False, max_wait=10)
    limits = Limits(100, None, limiter, ceiling=1.0)
    state = LocalState(clock)
    sent: list[tuple[float, object]] = []
    others = {"done": False}

    def script(request: httpx.Request) -> httpx.Response:
        sent.append((clock.now, request.extensions.get("timeout")))
        return httpx.Response(200, json={"result": 2220})

    def sleep(seconds: float) -> None:
        clock.sleep(seconds)
        if not others["done"]:  # five other callers arrive during the backoff
            others["done"] = True
            for _ in range(5):
                assert state.ask(Admit(MANGO_KEYS, limits, 10)).verdict == "go"

    retry = policy(clock, max_attempts=2, deadline=3.0, pace={"busy": 0.5}, sleep=sleep)
    c = normalizer.Client(
        "mango", transport=httpx.MockTransport(script), retry=retry, limiter=limiter, state=state
    )
    response = c.post(MANGO)
    # the retry is not sent (its turn is past the deadline): one request, and the caller gets
    # the busy answer, still readable
    assert len(sent) == 1, f"retry sent at t={sent[-1][0] - 1000:.3f}s with timeout {sent[-1][1]}"
    assert outcome(response).category is normalizer.Category.BUSY
    assert response.json() == {"result": 2220}


@pytest.mark.anyio
async def test_an_async_retry_given_up_for_its_turn_returns_a_readable_answer(
    clock: FakeClock,
) -> None:
    limiter = RateLimiter(rate=1, max_wait=3)
    state = LocalState(clock)
    limits = Limits(100, None, limiter, ceiling=1.0)
    sent: list[float] = []

    def script(request: httpx.Request) -> httpx.Response:
        sent.append(clock.now)  # streamed, as from the network: read by the client, not before
        body = httpx.ByteStream(b'{"result": 2220}')
        return httpx.Response(200, headers={"content-type": "application/json"}, stream=body)

    async def sleep(seconds: float) -> None:
        clock.sleep(seconds)
        for _ in range(2):  # during the retry's settling wait, others take the next turns
            assert state.ask(Admit(MANGO_KEYS, limits, 3)).verdict == "go"

    async with normalizer.AsyncClient(
        "mango",
        transport=httpx.MockTransport(script),
        retry=policy(clock, max_attempts=2, async_sleep=sleep),
        limiter=limiter,
        state=state,
    ) as c:
        response = await c.post(MANGO)
    assert len(sent) == 1  # its turn (after theirs) is further than it may wait: not sent
    assert response.json() == {"result": 2220}  # the answer it had stands, readable
    assert state.tokens("mango", 500) == 500  # and the retry's tokens came back


# --- a call cancelled while it waits for its turn keeps the turn ---------------------------------


@pytest.mark.anyio
async def test_a_call_cancelled_while_waiting_gives_its_turn_back(clock: FakeClock) -> None:
    """Each call cancelled in the wait (a caller's own timeout, a client disconnect) leaves its
    turn taken: the queue fills with turns nobody uses. Callers whose own timeout is shorter
    than ``max_wait`` then reserve turns ~max_wait ahead and are all cancelled before them:
    goodput falls to zero for as long as the overload lasts."""
    block = {"on": False}

    async def async_sleep(seconds: float) -> None:
        if block["on"]:
            await anyio.sleep_forever()
        clock.sleep(seconds)

    async with normalizer.AsyncClient(
        "mango",
        transport=httpx.MockTransport(Script([OK])),
        retry=policy(clock, max_attempts=1, async_sleep=async_sleep),
        limiter=RateLimiter(rate=1, adaptive=False, max_wait=10),
        state=LocalState(clock),
    ) as c:
        await c.post(MANGO)  # takes the turn at 0
        block["on"] = True
        for _ in range(3):  # three callers give up while waiting for their turns
            with anyio.move_on_after(0.01):
                await c.post(MANGO)
        block["on"] = False
        await c.post(MANGO)
    # right: the next call's turn is the first free one, 1 s after the first call's
    assert clock.sleeps == [pytest.approx(1.0 - TOLERANCE)]


# --- the Redis script stores times with tostring: 14 significant digits --------------------------


@pytest.mark.parametrize("rate", [3000.0, 30000.0])
def test_turns_keep_their_spacing_at_server_clock_magnitudes(
    clock: FakeClock, store: Store, rate: float
) -> None:
    clock.now = 1_764_000_000.0  # what redis.call('TIME') gives
    limits = Limits(100, None, RateLimiter(rate=rate, adaptive=False), ceiling=rate)
    turns = [store.ask(Admit(KEYS, limits)).turn for _ in range(int(rate))]  # one second's worth
    assert turns[-1] == pytest.approx((rate - 1) / rate - TOLERANCE, abs=0.005)


# --- a negative patience refuses, on every store (the script read it as 0 once, then as none) ----


def test_a_negative_patience_refuses_on_every_store(clock: FakeClock, store: Store) -> None:
    limits = Limits(100, None, RateLimiter(rate=1, adaptive=False), ceiling=1.0)
    assert store.ask(Admit(KEYS, limits, -0.5)).verdict == "rate"  # even a turn due now
    assert store.ask(Admit(KEYS, limits)).verdict == "go"
    assert store.ask(Admit(KEYS, limits, -0.5)).verdict == "rate"
    assert store.ask(Retry(KEYS, limits, 1, 0.0, -0.5)).verdict == "rate"


# --- infinite numbers: no bound is not "no limiter", an endless pause is the longest -----------


def test_an_endless_max_wait_still_paces_on_every_store(clock: FakeClock, store: Store) -> None:
    """The Redis store leaves infinite numbers out of what it sends: a limiter whose calls may
    wait forever is still a limiter."""
    limits = Limits(100, None, RateLimiter(rate=2, adaptive=False, max_wait=math.inf), ceiling=2)
    turns = [store.ask(Admit(KEYS, limits)).turn for _ in range(3)]
    assert turns == pytest.approx([0.0, 0.5 - TOLERANCE, 1.0 - TOLERANCE])


def test_an_endless_cooldown_is_the_longest_on_every_store(clock: FakeClock, store: Store) -> None:
    store.ask(Record(KEYS, Limits(100, None), Signal(cooldown=math.inf)))
    assert store.ask(Admit(KEYS, Limits(100, None))).wait == pytest.approx(MAX_COOLDOWN)


# --- LocalState lowers a static limiter's rate; the script does not ------------------------------


def test_a_static_limiter_is_never_lowered_on_any_store(clock: FakeClock, store: Store) -> None:
    limits = Limits(100, None, RateLimiter(rate=10.0, adaptive=False), ceiling=10.0)
    store.ask(Record(KEYS, limits, Signal(slow=True, at=clock.now)))
    turns = [store.ask(Admit(KEYS, limits)).turn for _ in range(5)]
    assert turns == pytest.approx([0.0, 0.05, 0.15, 0.25, 0.35])


# --- the server clock stepping back locks the vendor out -----------------------------------------


def test_a_clock_step_back_does_not_lock_the_vendor_out(clock: FakeClock, store: Store) -> None:
    """After a lowering, the Redis server's clock steps back 30 s (NTP, a failover to a
    replica with another clock). ``tat`` is now 30 s ahead: every call is refused
    (``RateLimitedError``) for 30 s; and ``curve`` at a negative elapsed time is far below
    BETA x peak (min_rate), so ``since`` in the future also pins the rate at the floor.
    docs/limitations.md mentions clock steps only for pauses."""
    if isinstance(store, LocalState):
        pytest.skip("in process the clock is monotonic; Redis uses the server's TIME")
    _engage(store, clock)
    for _ in range(10):  # calls keep going out at the lowered rate (the tat moves)
        store.ask(Admit(KEYS, ADAPTIVE))
    clock.now -= 30.0
    admission = store.ask(Admit(KEYS, ADAPTIVE, 5.0))
    assert admission.verdict == "go", f"refused: next turn in {admission.turn:.1f}s"
    assert admission.turn < 1.0


def test_a_clock_step_back_of_days_releases_the_limiter(clock: FakeClock, store: Store) -> None:
    """A lowering's time 3 days ahead held the rate at beta x peak (the curve took the step as
    no time passed) until the clock caught up; a time that far ahead is forgotten instead."""
    clock.now = 1.7e9
    _engage(store, clock)
    clock.now -= 3 * 86400
    # at 140/s, the burst TOLERANCE lets 7 calls go at once; 20 are not paced at all
    assert [store.ask(Admit(KEYS, ADAPTIVE)).turn for _ in range(20)] == [0.0] * 20


# --- RateLimiter(adaptive=False) drops a vendor's published rate ---------------------------------


def test_a_static_limiter_keeps_the_published_rate(clock: FakeClock) -> None:
    script = Script([js({"messages": [{"status": "0"}]})])
    c = normalizer.Client(
        "vonage",
        transport=httpx.MockTransport(script),
        retry=policy(clock, max_attempts=1),
        limiter=RateLimiter(adaptive=False),
        state=LocalState(clock),
    )
    for _ in range(6):
        c.post("https://rest.nexmo.com/sms/json")
    assert clock.now - 1000.0 == pytest.approx(5 / 30 - TOLERANCE)  # as with the default


# --- the rate gauge reports the curve after the limiter let go -----------------------------------


def test_the_rate_gauge_shows_no_rate_once_released(clock: FakeClock) -> None:
    """``LocalState.rate`` (the ``normalizer.rate_limit`` gauge, documented as "while it holds
    calls back") never applies ``released``: with no call since, the curve keeps growing
    cubically (about 2e10 calls/s after an hour) instead of reporting no limit."""
    state = LocalState(clock)
    _engage(state, clock)
    assert state.rate("v", ADAPTIVE) == pytest.approx(BETA * 200, rel=0.25)
    clock.now += 3600
    assert state.rate("v", ADAPTIVE) == math.inf


# --- a concurrency limit of one product throttles the whole vendor toward min_rate ---------------


def test_a_task_concurrency_limit_does_not_throttle_another_products_sends(
    clock: FakeClock,
) -> None:
    state = LocalState(clock)
    sms = Script([js({"status": "0"})])
    voice = Script([js({"status": "-37"})])

    def route(request: httpx.Request) -> httpx.Response:
        return (voice if "/voice/" in request.url.path else sms)(request)

    c = normalizer.Client(
        "onbuka",
        transport=httpx.MockTransport(route),
        retry=policy(clock, max_attempts=1),
        state=state,
    )
    for _ in range(100):  # SMS at 20/s, all accepted
        assert outcome(c.post("https://api.onbuka.com/v3/sendSms", json={})).ok
        clock.now += 0.05
    for i in range(40):  # SMS goes on at 15/s; a task submission every 0.2 s is refused
        if i % 4 == 0:
            c.post("https://api.onbuka.com/v3/voice/groupCall", json={})
        else:
            assert outcome(c.post("https://api.onbuka.com/v3/sendSms", json={})).ok
        clock.now += 0.05
    rate = state.rate("onbuka", Limits(0, None, RateLimiter()))
    assert rate >= 20, f"Onbuka (SMS included) now limited to {rate:.2f} calls/s"


# --- Redis failing mid-call: the fallback lowers from an empty meter, on the server's clock ------


def test_an_overload_answer_recorded_in_the_fallback_does_not_floor_the_rate(
    redis_server: RedisServer,
) -> None:
    import time
    import uuid

    import redis

    from normalizer.redis import RedisState

    client = redis.Redis.from_url(redis_server.url)
    with RedisState(client, account=uuid.uuid4().hex) as state:
        ats = []
        for _ in range(200):
            ats.append(state.ask(Admit(KEYS, ADAPTIVE)).at)
            time.sleep(0.001)

        def down(*args: object, **kwargs: object) -> object:
            raise redis.ConnectionError("gone")

        state._script = down  # Redis goes away before the answers are recorded
        for at in ats[-16:]:
            state.ask(Record(KEYS, ADAPTIVE, Signal(slow=True, at=at)))
        rate = state.fallback.rate("v", ADAPTIVE)
    assert rate > 10, f"fallback rate {rate:.2f}/s after calls went out at hundreds per second"


# --- a mapping's cooldown on an entry of non-shared scope is silently dropped --------------------


def test_a_mapping_cooldown_is_not_silently_ignored(
    clock: FakeClock,
    registry: normalizer.Registry,
    write_mapping: Callable[[str, str], Path],
) -> None:
    try:
        registry.register(
            write_mapping(
                'format = 1\n[vendor]\nextends = "acme"\n[codes]\n'
                '"-9" = { category = "validation", description = "frequency control: wait 5 s",'
                " cooldown = 5 }\n",
                "acme-cooldown.toml",
            )
        )
    except normalizer.MappingError:
        return  # refused at load: fine
    c = normalizer.Client(
        "acme",
        registry=registry,
        transport=httpx.MockTransport(lambda request: js({"code": "-9"})),
        retry=policy(clock, max_attempts=1),
        state=LocalState(clock),
    )
    c.post("https://api.acme.test/v1/call")
    c.post("https://api.acme.test/v1/call")
    assert clock.sleeps == [pytest.approx(5.0)]  # the second call waited the pause out
