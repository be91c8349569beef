"""Retries: what is retried, how long it waits, when it stops, and what it never repeats."""

from __future__ import annotations

import email.utils
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest
import tenacity

import normalizer
from normalizer import Category, RetryPolicy, outcome_of
from normalizer._retry import Attempt, Decision, decide, paid, retry_after
from normalizer._store import Admission, Keys, Limits, LocalState, Record, Retry, Signal
from normalizer.testing import set_testing
from tests.conftest import FakeClock, outcome

Reply = httpx.Response | Exception


@pytest.fixture(autouse=True)
def _real_waits() -> Iterator[None]:
    """These tests inject their own clock and sleep, so the suite-wide instant mode is off."""
    set_testing(False)
    yield
    set_testing(True)


def policy(clock: FakeClock, **overrides: object) -> RetryPolicy:
    options: dict[str, object] = {
        "clock": clock,
        "sleep": clock.sleep,
        "async_sleep": clock.async_sleep,
        "random": lambda: 1.0,
    }
    options.update(overrides)
    return RetryPolicy(**options)  # type: ignore[arg-type]


class Script:
    """A MockTransport handler that plays replies in order and counts requests."""

    def __init__(self, replies: Sequence[Reply]) -> None:
        self.replies = list(replies)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        reply = self.replies[min(len(self.requests), len(self.replies)) - 1]
        if isinstance(reply, Exception):
            raise reply
        if not isinstance(reply.stream, httpx.ByteStream):
            return reply  # a one-off streaming response
        # a fresh response each time: a client may not share one between requests
        return httpx.Response(reply.status_code, headers=reply.headers, content=reply.content)


def js(body: object, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(200, json=body, headers=headers)


UCPAAS_BUSY = js({"resp": {"respCode": "107225"}})
UCPAAS_OK = js({"resp": {"respCode": "000000"}})
MANGO = "https://app.mango-office.ru/vpbx/commands/callback"
UCPAAS = "https://api.ucpaas.com/2014-06-30/Accounts/a/Calls/callBack"


def client(
    vendor: str, script: Script, retry: RetryPolicy | None, **kw: object
) -> normalizer.Client:
    return normalizer.Client(vendor, transport=httpx.MockTransport(script), retry=retry, **kw)  # type: ignore[arg-type]


def test_outbound_busy_then_success(clock: FakeClock) -> None:
    script = Script([UCPAAS_BUSY, UCPAAS_OK])
    response = client("ucpaas", script, policy(clock)).post(UCPAAS, json={"to": "1"})
    assert outcome(response).ok
    assert response.extensions["normalizer.attempts"] == 2
    assert len(script.requests) == 2
    # the account is at capacity: the rate limiter paces the retry after a short settling wait
    # (0.1 s, random() pinned to 1.0), not the busy backoff on top of it
    assert clock.sleeps == [0.1]
    assert script.requests[1].content == script.requests[0].content  # body resent exactly


def test_without_the_limiter_busy_backs_off_at_its_pace(clock: FakeClock) -> None:
    script = Script([UCPAAS_BUSY, UCPAAS_OK])
    c = client("ucpaas", script, policy(clock), limiter=None)
    assert outcome(c.post(UCPAAS, json={"to": "1"})).ok
    assert clock.sleeps == [1.0]  # busy paces at 1 s (random() pinned to 1.0)


def test_overload_gives_up_after_three_attempts(clock: FakeClock) -> None:
    script = Script([js({"result": 5001})])
    response = client("mango", script, policy(clock)).post(MANGO, data={"json": "{}"})
    assert outcome(response).code == "5001"
    assert outcome(response).category is Category.SERVER
    assert response.extensions["normalizer.attempts"] == 3
    assert clock.sleeps == [0.2, 0.4]  # server pace, exponential
    with pytest.raises(normalizer.ServerError) as info:
        client("mango", Script([js({"result": 5001})]), policy(clock), raise_on_error=True).post(
            MANGO
        )
    assert info.value.attempts == 3
    assert "after 3 attempts" in str(info.value)


@pytest.mark.parametrize(
    ("code", "category"),
    [(3102, Category.AUTH), (3103, Category.VALIDATION), (2240, Category.BILLING)],
)
def test_validation_auth_billing_never_retried(
    clock: FakeClock, code: int, category: Category
) -> None:
    script = Script([js({"result": code})])
    response = client("mango", script, policy(clock)).get(MANGO)
    assert outcome(response).category is category
    assert len(script.requests) == 1
    assert clock.sleeps == []


def test_ambiguous_server_error_on_post_not_repeated(clock: FakeClock) -> None:
    script = Script([js({"result": 5000}), js({"result": 1000})])
    response = client("mango", script, policy(clock)).post(MANGO)
    assert outcome(response).code == "5000"
    assert len(script.requests) == 1
    # the same error on a GET is safe to repeat
    script = Script([js({"result": 5000}), js({"result": 1000})])
    assert outcome(client("mango", script, policy(clock)).get(MANGO)).ok


def test_a_header_no_vendor_honours_proves_nothing(clock: FakeClock) -> None:
    # no mapped vendor documents de-duplicating on Idempotency-Key: the POST may act twice
    for header in ("Idempotency-Key", "X-Idempotency-Key"):
        script = Script([js({"result": 5000}), js({"result": 1000})])
        keyed = client("mango", script, policy(clock)).post(MANGO, headers={header: "k1"})
        assert outcome(keyed).code == "5000"
        assert len(script.requests) == 1


def test_the_callers_word_per_client_and_per_request(clock: FakeClock) -> None:
    script = Script([js({"result": 5000}), js({"result": 1000})])
    opted = client("mango", script, policy(clock, idempotent=True)).post(MANGO)
    assert outcome(opted).ok
    assert len(script.requests) == 2
    # the request's own word wins over the client's, either way
    script = Script([js({"result": 5000}), js({"result": 1000})])
    said = {"normalizer": {"idempotent": False}}
    refused = client("mango", script, policy(clock, idempotent=True)).post(MANGO, extensions=said)
    assert outcome(refused).code == "5000"
    assert len(script.requests) == 1
    script = Script([js({"result": 5000}), js({"result": 1000})])
    said = {"normalizer": {"idempotent": True}}
    assert outcome(client("mango", script, policy(clock)).post(MANGO, extensions=said)).ok
    # False forbids even a GET after an ambiguous failure; a refusal is still retried
    script = Script([js({"result": 5000}), js({"result": 1000})])
    never = client("mango", script, policy(clock, idempotent=False)).get(MANGO)
    assert outcome(never).code == "5000"
    assert len(script.requests) == 1
    script = Script([js({"result": 5001}), js({"result": 1000})])
    assert outcome(client("mango", script, policy(clock, idempotent=False)).post(MANGO)).ok


def test_post_with_busy_or_rejected_server_error_is_repeated(clock: FakeClock) -> None:
    # MANGO is POST-only: 5001 Перегрузка is a refusal before any work, so it is retried
    script = Script([js({"result": 5001}), js({"result": 1000})])
    assert outcome(client("mango", script, policy(clock)).post(MANGO)).ok
    script = Script([js({"status": "-15"}), js({"status": "0"})])
    sms = client("onbuka", script, policy(clock)).post("https://api.onbuka.com/v3/sendSms")
    assert outcome(sms).ok
    assert len(script.requests) == 2


def test_retry_after_seconds_and_http_date(clock: FakeClock) -> None:
    script = Script([js({"result": 5001}, {"Retry-After": "7"}), js({"result": 1000})])
    client("mango", script, policy(clock)).post(MANGO)
    assert clock.sleeps == [7.0]
    now = 1_700_000_000
    headers = {
        "Retry-After": email.utils.formatdate(now + 30, usegmt=True),
        "Date": email.utils.formatdate(now, usegmt=True),
    }
    script = Script([httpx.Response(503, headers=headers), js({"result": 1000})])
    clock.sleeps.clear()
    assert outcome(client("mango", script, policy(clock)).post(MANGO)).ok
    assert clock.sleeps == [30.0]


def test_retry_after_beyond_deadline_or_cap_stops_now(clock: FakeClock) -> None:
    for retry in (policy(clock, deadline=10.0), policy(clock, max_retry_after=5.0)):
        script = Script([httpx.Response(503, headers={"Retry-After": "60"}), js({"result": 1000})])
        response = client("mango", script, retry).post(MANGO)
        assert outcome(response).category is Category.BUSY
        assert response.status_code == 503
        assert len(script.requests) == 1
        assert clock.sleeps == []


def test_deadline_bounds_backoff(clock: FakeClock) -> None:
    script = Script([js({"result": 5001})])
    retry = policy(clock, max_attempts=10, base=1.0, deadline=5.0)
    response = client("mango", script, retry).post(MANGO)
    assert clock.sleeps == [1.0, 2.0]  # the next wait (4 s) would end past 5 s
    assert response.extensions["normalizer.attempts"] == 3


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("3", 3.0),
        ("1.5", 1.5),
        ("-4", 0.0),
        ("soon", None),
        ("", None),
        ("nan", None),
        ("99999999999999999999", 1e20),
        ("Wed, 21 Oct 2015 07:28:00", None),
    ],
)
def test_retry_after_parsing(value: str, seconds: float | None) -> None:
    assert retry_after(httpx.Response(503, headers={"Retry-After": value})) == seconds


def test_budget_exhausted_under_a_burst(clock: FakeClock) -> None:
    script = Script([js({"result": 5001})])
    retry = policy(clock, budget_capacity=10, retry_cost=5)
    c = client("mango", script, retry)
    attempts = [c.post(MANGO).extensions["normalizer.attempts"] for _ in range(5)]
    assert attempts == [3, 1, 1, 1, 1]  # two retries spent the budget; then failures return at once
    assert c.normalizer_options.state.tokens("mango", 10) == 0  # type: ignore[union-attr]


def test_budget_refills_on_success() -> None:
    state, keys, limits = LocalState(), Keys("v", "v"), Limits(10, None)
    assert state.ask(Retry(keys, limits, 5)).verdict == "go"
    assert state.ask(Retry(keys, limits, 5)).verdict == "go"
    assert state.ask(Retry(keys, limits, 5)).verdict == "budget"
    state.ask(Record(keys, limits, Signal(refund=3)))
    assert state.tokens("v", 10) == 3
    state.ask(Record(keys, limits, Signal(refund=100)))
    assert state.tokens("v", 10) == 10


def test_retried_success_refunds_what_it_spent(clock: FakeClock) -> None:
    retry = policy(clock, budget_capacity=20, retry_cost=5)
    c = client("ucpaas", Script([UCPAAS_BUSY, UCPAAS_OK]), retry)
    c.get(UCPAAS)
    assert c.normalizer_options.state.tokens("ucpaas", 20) == 20  # type: ignore[union-attr]


def test_connect_error_retried_even_for_post(clock: FakeClock) -> None:
    request_error = httpx.ConnectError("refused")
    script = Script([request_error, js({"result": 1000})])
    assert outcome(client("mango", script, policy(clock)).post(MANGO)).ok
    assert len(script.requests) == 2


def test_read_timeout_on_post_not_retried_but_on_get_it_is(clock: FakeClock) -> None:
    script = Script([httpx.ReadTimeout("slow"), js({"result": 1000})])
    with pytest.raises(httpx.ReadTimeout):
        client("mango", script, policy(clock)).post(MANGO)
    assert len(script.requests) == 1
    script = Script([httpx.ReadTimeout("slow"), js({"result": 1000})])
    assert outcome(client("mango", script, policy(clock)).get(MANGO)).ok


def test_transport_errors_exhausted_reraise_the_last(clock: FakeClock) -> None:
    script = Script([httpx.ConnectError("refused")])
    with pytest.raises(httpx.ConnectError):
        client("mango", script, policy(clock)).post(MANGO)
    assert len(script.requests) == 3


def test_error_while_reading_body_is_retried_like_a_transport_error(clock: FakeClock) -> None:
    class Broken(httpx.SyncByteStream):
        def __iter__(self) -> Iterator[bytes]:
            yield b'{"result": '
            raise httpx.RemoteProtocolError("peer closed")

    script = Script(
        [
            httpx.Response(200, headers={"content-type": "application/json"}, stream=Broken()),
            js({"result": 1000}),
        ]
    )
    assert outcome(client("mango", script, policy(clock)).get(MANGO)).ok
    assert len(script.requests) == 2


def test_one_shot_body_is_not_retried(clock: FakeClock) -> None:
    def chunks() -> Iterator[bytes]:
        yield b"payload"

    script = Script([UCPAAS_BUSY, UCPAAS_OK])
    response = client("ucpaas", script, policy(clock)).post(UCPAAS, content=chunks())
    assert outcome(response).category is Category.BUSY
    assert len(script.requests) == 1


def test_retry_none_disables(clock: FakeClock) -> None:
    script = Script([UCPAAS_BUSY, UCPAAS_OK])
    response = client("ucpaas", script, None).get(UCPAAS)
    assert outcome(response).category is Category.BUSY
    assert response.extensions["normalizer.attempts"] == 1


def test_set_testing_removes_waits_and_can_remove_retries(clock: FakeClock) -> None:
    set_testing(True)
    script = Script([UCPAAS_BUSY, UCPAAS_OK])
    assert outcome(client("ucpaas", script, policy(clock)).get(UCPAAS)).ok
    assert clock.sleeps == []
    set_testing(True, attempts=1)
    script = Script([UCPAAS_BUSY, UCPAAS_OK])
    assert outcome(client("ucpaas", script, policy(clock)).get(UCPAAS)).category is Category.BUSY
    assert len(script.requests) == 1


def test_policy_validation() -> None:
    with pytest.raises(ValueError, match="max_attempts"):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ValueError, match="deadline"):
        RetryPolicy(deadline=0)
    with pytest.raises(ValueError, match="'turbo' is not a valid Category"):
        RetryPolicy(pace={"turbo": 1.0})
    for cost in ("budget_capacity", "retry_cost", "timeout_cost", "paced_cost"):
        with pytest.raises(ValueError, match="must not be negative"):
            RetryPolicy(**{cost: -1})  # type: ignore[arg-type]


# --- async ------------------------------------------------------------------------------------


def aclient(vendor: str, script: Script, retry: RetryPolicy | None) -> normalizer.AsyncClient:
    return normalizer.AsyncClient(vendor, transport=httpx.MockTransport(script), retry=retry)


@pytest.mark.anyio
async def test_async_busy_then_success(clock: FakeClock) -> None:
    script = Script([UCPAAS_BUSY, UCPAAS_OK])
    async with aclient("ucpaas", script, policy(clock)) as c:
        response = await c.post(UCPAAS, json={})
    assert outcome(response).ok
    assert response.extensions["normalizer.attempts"] == 2
    assert clock.sleeps == [0.1]  # paced by the limiter after a settling wait, as in sync


@pytest.mark.anyio
async def test_async_gives_up_and_never_repeats_ambiguous_post(clock: FakeClock) -> None:
    script = Script([js({"result": 5001})])
    async with aclient("mango", script, policy(clock)) as c:
        assert (await c.post(MANGO)).extensions["normalizer.attempts"] == 3
    script = Script([js({"result": 5000}), js({"result": 1000})])
    async with aclient("mango", script, policy(clock)) as c:
        assert outcome(await c.post(MANGO)).code == "5000"
    assert len(script.requests) == 1


@pytest.mark.anyio
async def test_async_connect_error_retried_and_read_timeout_on_post_not(clock: FakeClock) -> None:
    script = Script([httpx.ConnectError("refused"), js({"result": 1000})])
    async with aclient("mango", script, policy(clock)) as c:
        assert outcome(await c.post(MANGO)).ok
    script = Script([httpx.ReadTimeout("slow"), js({"result": 1000})])
    async with aclient("mango", script, policy(clock)) as c:
        with pytest.raises(httpx.ReadTimeout):
            await c.post(MANGO)


# --- building blocks for user code ------------------------------------------------------------


def test_user_tenacity_decorator_with_normalizer_blocks(clock: FakeClock) -> None:
    calls: list[int] = []

    @tenacity.retry(
        retry=normalizer.retry_if_retryable(),
        wait=normalizer.wait_vendor(policy(clock)) + tenacity.wait_fixed(0.5),
        stop=tenacity.stop_after_attempt(4),
        sleep=clock.sleep,
        reraise=True,
    )
    def place_call() -> str:
        calls.append(1)
        if len(calls) < 3:
            outcome = normalizer.lookup("ucpaas", "107225")
            raise normalizer.BusyError(outcome)
        return "placed"

    assert place_call() == "placed"
    assert clock.sleeps == [1.5, 2.5]  # busy pace 1 s, 2 s, plus the fixed half second


def test_user_retry_on_returned_responses_and_validation_stops(clock: FakeClock) -> None:
    c = client("mango", Script([js({"result": 5001}), js({"result": 3103})]), None)
    attempt: Callable[[], httpx.Response] = lambda: c.post(MANGO)  # noqa: E731
    retrying = tenacity.Retrying(
        retry=normalizer.retry_if_retryable() | tenacity.retry_if_exception_type(OSError),
        wait=normalizer.wait_vendor(policy(clock)),
        stop=tenacity.stop_after_attempt(5),
        sleep=clock.sleep,
    )
    response = retrying(attempt)
    assert outcome_of(response) is not None
    assert outcome(response).category is Category.VALIDATION  # not retryable: returned
    assert clock.sleeps == [0.2]


# --- one decision, the same for the transport and for user code --------------------------------

POST = httpx.Request("POST", UCPAAS, json={"to": "1"})


def attempt_of(code: str, request: httpx.Request = POST, number: int = 1) -> Attempt:
    response = httpx.Response(200, json={"resp": {"respCode": code}}, request=request)
    return Attempt(request, number, response, normalizer.lookup("ucpaas", code), elapsed=0.0)


@pytest.mark.parametrize(
    ("attempt", "why", "retry"),
    [
        (attempt_of("107225"), "rejected", True),  # busy: refused before acting
        (attempt_of("107102"), "not_safe_to_resend", False),  # server error on a POST
        (attempt_of("107102", httpx.Request("GET", UCPAAS)), "safe_method", True),
        (
            attempt_of("107102", httpx.Request("POST", UCPAAS, headers={"Idempotency-Key": "k"})),
            "not_safe_to_resend",
            False,
        ),
        (attempt_of("107110"), "not_retryable", False),
        (attempt_of("000000"), "ok", False),
        (Attempt(POST, 1, exception=httpx.ConnectError("refused")), "never_sent", True),
        (Attempt(POST, 1, exception=httpx.ReadTimeout("slow")), "not_safe_to_resend", False),
        (attempt_of("107225", number=3), "max_attempts", False),
    ],
)
def test_decide_says_why(attempt: Attempt, why: str, retry: bool) -> None:
    decision = decide(attempt, RetryPolicy(random=lambda: 1.0), max_attempts=3)
    assert (decision.retry, decision.why) == (retry, why)
    if retry:
        assert decision.delay_from == "backoff"


def test_decide_delay_from_retry_after_and_the_limits() -> None:
    policy_ = RetryPolicy(max_retry_after=10, deadline=30)
    response = httpx.Response(429, headers={"Retry-After": "4"}, request=POST)
    busy = normalizer.classify("ucpaas", b"", status_code=429)
    attempt = Attempt(POST, 1, response, busy, elapsed=0.0)
    assert decide(attempt, policy_) == Decision(True, "rejected", 4.0, "retry_after")
    late = Attempt(POST, 1, response, busy, elapsed=28.0)
    assert decide(late, policy_).why == "deadline"
    long = httpx.Response(429, headers={"Retry-After": "11"}, request=POST)
    assert decide(Attempt(POST, 1, long, busy), policy_).why == "retry_after_too_long"
    unreplayable = decide(attempt, policy_, replayable=False)
    assert unreplayable == Decision(False, "body_not_replayable")


def test_paying_is_a_step_after_the_decision() -> None:
    policy_ = RetryPolicy(max_retry_after=10)
    yes = Decision(True, "rejected", 1.0, "backoff")
    assert paid(yes, Admission("go"), policy_, 0.0) == yes
    assert paid(yes, Admission("budget"), policy_, 0.0).why == "budget"
    assert paid(yes, Admission("open", 5.0), policy_, 0.0).why == "circuit_open"
    assert paid(yes, Admission("go", 3.0), policy_, 0.0) == Decision(
        True, "rejected", 3.0, "cooldown"
    )
    assert paid(yes, Admission("go", 30.0), policy_, 0.0).why == "retry_after_too_long"


def test_user_decorator_follows_the_transport_rules(clock: FakeClock) -> None:
    # UCPaaS 107102 (a failed create) on a POST: the transport sends it once, and so does a
    # decorator built from retry_if_retryable (it used to send it twice)
    script = Script([js({"resp": {"respCode": "107102"}}), UCPAAS_OK])
    c = client("ucpaas", script, policy(clock))
    c.post(UCPAAS, json={"to": "1"})
    assert len(script.requests) == 1
    user = Script([js({"resp": {"respCode": "107102"}}), UCPAAS_OK])
    plain = client("ucpaas", user, None, raise_on_error=True)

    @tenacity.retry(
        retry=normalizer.retry_if_retryable(),
        wait=normalizer.wait_vendor(policy(clock)),
        stop=tenacity.stop_after_attempt(3),
        sleep=clock.sleep,
        reraise=True,
    )
    def place_call() -> httpx.Response:
        return plain.post(UCPAAS, json={"to": "1"})

    with pytest.raises(normalizer.ServerError):
        place_call()
    assert len(user.requests) == 1
    # the same code on a GET is safe to repeat, for both
    get = Script([js({"resp": {"respCode": "107102"}}), UCPAAS_OK])
    assert outcome(client("ucpaas", get, policy(clock)).get(UCPAAS)).ok
    assert len(get.requests) == 2


def test_retrying_event_says_why_and_where_the_delay_came_from(clock: FakeClock) -> None:
    from structlog.testing import capture_logs

    busy = js({"resp": {"respCode": "107225"}}, headers={"Retry-After": "2"})
    rounded = js({"resp": {"respCode": "107225"}}, headers={"Retry-After": "1"})
    with capture_logs() as logs:
        client("ucpaas", Script([busy, UCPAAS_OK]), policy(clock)).post(UCPAAS)
        client("ucpaas", Script([rounded, UCPAAS_OK]), policy(clock)).post(UCPAAS)
    waited, paced = [e for e in logs if e["event"] == "vendor_call_retrying"]
    assert (waited["why"], waited["delay_from"], waited["delay"]) == (
        "rejected",
        "retry_after",
        2.0,
    )
    # with the adaptive limiter, a 1 s Retry-After on the account's busy answer is paced
    assert (paced["why"], paced["delay_from"], paced["delay"]) == ("rejected", "rate_limit", 0.1)


def test_a_vendors_rate_limit_header_is_read_like_retry_after(clock: FakeClock) -> None:
    # Telnyx: 429, code 10011, and "x-ratelimit-reset: seconds until the limit resets"
    limited = httpx.Response(
        429,
        json={"errors": [{"code": "10011", "title": "Too many requests"}]},
        headers={"x-ratelimit-reset": "3"},
    )
    sent = js({"data": {"id": "m-1", "to": [{"phone_number": "+13125550001", "status": "queued"}]}})
    script = Script([limited, sent])
    c = normalizer.Client(transport=httpx.MockTransport(script), retry=policy(clock))
    assert outcome(c.post("https://api.telnyx.com/v2/messages", json={"to": "x"})).ok
    assert clock.sleeps == [3.0]


TELNYX_SENT = {"data": {"id": "m-1", "to": [{"phone_number": "+13125550001", "status": "queued"}]}}


@pytest.mark.parametrize(
    ("headers", "paused"),
    [
        ({"x-ratelimit-remaining": "0", "x-ratelimit-reset": "3"}, 3.0),  # window used up
        ({"x-ratelimit-remaining": "5", "x-ratelimit-reset": "3"}, None),  # calls left
        ({"x-ratelimit-remaining": "0"}, None),  # no reset: nothing to wait for
        ({"x-ratelimit-remaining": "none", "x-ratelimit-reset": "3"}, None),  # unreadable
        ({"x-ratelimit-remaining": "0.0", "x-ratelimit-reset": "2"}, 2.0),
        ({"x-ratelimit-remaining": "-1", "x-ratelimit-reset": "3"}, None),  # "unlimited" to some
        # longer than max_retry_after (an hourly quota, a timestamp): each call finds out
        ({"x-ratelimit-remaining": "0", "x-ratelimit-reset": "99999"}, None),
    ],
)
def test_a_used_up_rate_limit_window_pauses_calls_until_it_reopens(
    clock: FakeClock, headers: dict[str, str], paused: float | None
) -> None:
    # Telnyx: "x-ratelimit-remaining: how many requests a user can still make within the
    # current time window"; at 0 every call before the reset would get 429
    script = Script([js(TELNYX_SENT, headers), js(TELNYX_SENT)])
    state = normalizer.LocalState(clock)
    retry = policy(clock, deadline=None)  # pauses are learned up to max_retry_after (60 s)
    c = normalizer.Client(transport=httpx.MockTransport(script), retry=retry, state=state)
    assert outcome(c.post("https://api.telnyx.com/v2/messages")).ok  # the answer itself is ok
    assert clock.sleeps == []
    assert outcome(c.post("https://api.telnyx.com/v2/messages")).ok
    assert clock.sleeps == ([] if paused is None else [paused])  # waited, then sent


def test_an_unreadable_retry_after_does_not_hide_the_vendors_header() -> None:
    headers = {"Retry-After": "soon", "x-ratelimit-reset": "30"}
    response = httpx.Response(429, headers=headers)
    assert retry_after(response, ("retry-after", "x-ratelimit-reset")) == 30.0


def test_the_vendors_rate_limit_header_sets_the_retry_delay_too(clock: FakeClock) -> None:
    limited = httpx.Response(
        429, json={"errors": [{"code": "10011"}]}, headers={"x-ratelimit-reset": "7"}
    )
    script = Script([limited, js({"data": {"id": "m"}})])
    retry = policy(clock, deadline=None)
    c = normalizer.Client(transport=httpx.MockTransport(script), retry=retry)
    c.post("https://api.telnyx.com/v2/messages")
    assert clock.sleeps == [7.0]  # the vendor's 7 s, read as Retry-After would be


def test_the_callers_timeouts_come_back_after_the_call(clock: FakeClock) -> None:
    seen: list[float | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.extensions["timeout"]["read"])
        return httpx.Response(200, json={"result": 5001})

    c = normalizer.Client(
        "mango", transport=httpx.MockTransport(handler), retry=policy(clock, deadline=40)
    )
    request = c.build_request("POST", MANGO, timeout=30.0)
    c.send(request)
    assert request.extensions["timeout"]["read"] == 30.0  # given back as it was
    assert seen[0] == 30.0


def test_each_attempt_waits_no_longer_than_the_deadline_leaves(clock: FakeClock) -> None:
    # a first attempt sent at once keeps the caller's timeouts when they fit the deadline
    # (Deadline.tight), else gets what the deadline leaves; a later one what is left then
    seen: list[float | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.extensions["timeout"]["read"])
        clock.now += 4.0  # each answer takes 4 s
        return httpx.Response(200, json={"result": 5001})

    transport = httpx.MockTransport(handler)
    fits = normalizer.Client("mango", transport=transport, retry=policy(clock, deadline=20))
    fits.send(fits.build_request("POST", MANGO, timeout=10.0))
    assert seen[0] == 10.0  # sent as the caller asked
    assert all(read is not None and read <= 20.0 - 4.0 for read in seen[1:])
    seen.clear()
    tight = normalizer.Client("mango", transport=transport, retry=policy(clock, deadline=5))
    tight.send(tight.build_request("POST", MANGO, timeout=10.0))
    assert seen[0] == pytest.approx(5.0)  # the deadline's 5 s, not the caller's 10
    seen.clear()
    unbounded = normalizer.Client("mango", transport=transport, retry=policy(clock, deadline=5))
    unbounded.send(unbounded.build_request("POST", MANGO, timeout=None))
    assert seen[0] == pytest.approx(5.0)  # no timeout of the caller's: the deadline bounds it


def test_a_retry_costing_one_token_gets_it_back_on_success(clock: FakeClock) -> None:
    state = normalizer.LocalState(clock)
    retry = policy(clock, retry_cost=1)
    script = Script([js({"result": 5001}), js({"result": 1000})])
    c = client("mango", script, retry, state=state, limiter=None)
    assert outcome(c.get(MANGO)).ok
    assert len(script.requests) == 2
    assert state.tokens("mango", retry.budget_capacity) == retry.budget_capacity


def test_a_pause_that_would_use_up_the_deadline_is_refused_at_once(clock: FakeClock) -> None:
    used_up = js(TELNYX_SENT, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "30"})
    script = Script([used_up, js(TELNYX_SENT)])
    state = normalizer.LocalState(clock)
    c = normalizer.Client(
        transport=httpx.MockTransport(script), retry=policy(clock, deadline=30.0), state=state
    )
    c.post("https://api.telnyx.com/v2/messages")
    with pytest.raises(normalizer.CircuitOpenError) as info:  # not held 30 s to go with none left
        c.post("https://api.telnyx.com/v2/messages")
    assert info.value.reason == "cooldown"
    assert clock.sleeps == []
    assert len(script.requests) == 1


# --- send safety: what an operation does, from the vendor's [resend] rules ----------------------

GETTER = """
format = 1
[vendor]
id = "getter"
name = "A vendor that sends through GET"
[detect]
hosts = ["api.getter.test"]
[envelope]
code = ["code"]
[codes]
"OK" = { category = "ok", description = "done" }
"E" = { category = "server", description = "internal error: may have acted" }
"BUSY" = { category = "busy", description = "throttled, nothing done" }
[resend]
source = "tests"
acts_through = ["GET"]
reads = [
  { query = { Action = ["Query*"] }, methods = ["GET", "POST"] },
  { paths = ["/balance"] },
]
idempotency = [{ header = "X-Dedup", paths = ["/"] }]
nonce = [{ query = { SignatureNonce = ["*"] } }, { headers = { x-acs-signature-nonce = ["*"] } }]
"""
GET_SEND = "https://api.getter.test/?Action=SendSms&PhoneNumbers=13800138000"
GET_QUERY = "https://api.getter.test/?Action=QuerySendDetails"


@pytest.fixture
def getter(tmp_path: Path) -> normalizer.Registry:
    builtin = tmp_path / "getter"
    builtin.mkdir()
    (builtin / "getter.toml").write_text(GETTER, encoding="utf-8")
    return normalizer.Registry(builtin=builtin, environ=False)


def sends(
    registry: normalizer.Registry, clock: FakeClock, replies: Sequence[Reply], url: str, **kw: Any
) -> tuple[int, httpx.Response | None]:
    script = Script(replies)
    method = kw.pop("method", "GET")
    with normalizer.Client(
        transport=httpx.MockTransport(script), registry=registry, retry=policy(clock)
    ) as c:
        try:
            response: httpx.Response | None = c.request(method, url, **kw)
        except httpx.TransportError:
            response = None
    return len(script.requests), response


ERR, BUSY, OK = js({"code": "E"}), js({"code": "BUSY"}), js({"code": "OK"})


def test_a_get_that_sends_is_never_resent_after_an_ambiguous_failure(
    getter: normalizer.Registry, clock: FakeClock
) -> None:
    assert sends(getter, clock, [ERR, OK], GET_SEND)[0] == 1  # a 5xx-like error: may have sent
    assert sends(getter, clock, [httpx.Response(503), OK], GET_SEND)[0] == 1
    assert sends(getter, clock, [httpx.ReadTimeout("lost"), OK], GET_SEND)[0] == 1
    # what the vendor says it refused before acting, or what never left, is sent again
    assert sends(getter, clock, [BUSY, OK], GET_SEND)[0] == 2
    assert sends(getter, clock, [httpx.ConnectError("refused"), OK], GET_SEND)[0] == 2


def test_declared_reads_and_the_vendors_dedup_header_are_resent(
    getter: normalizer.Registry, clock: FakeClock
) -> None:
    assert sends(getter, clock, [ERR, OK], GET_QUERY)[0] == 2
    assert sends(getter, clock, [httpx.ReadTimeout("lost"), OK], GET_QUERY)[0] == 2
    assert sends(getter, clock, [ERR, OK], "https://api.getter.test/balance")[0] == 2
    # a read for GET only: the same path may act on POST
    balance = {"method": "POST"}
    assert sends(getter, clock, [ERR, OK], "https://api.getter.test/balance", **balance)[0] == 1
    assert sends(getter, clock, [ERR, OK], GET_QUERY, method="POST")[0] == 2  # POST listed
    keyed = {"method": "POST", "headers": {"X-Dedup": "order-42"}}
    assert sends(getter, clock, [ERR, OK], GET_SEND, **keyed)[0] == 2
    # only where the vendor documents it: elsewhere the header proves nothing
    other = "https://api.getter.test/send"
    assert sends(getter, clock, [ERR, OK], other, **keyed)[0] == 1
    # the caller's word still wins, per request
    said = {"extensions": {"normalizer": {"idempotent": True}}}
    assert sends(getter, clock, [ERR, OK], GET_SEND, **said)[0] == 2


def test_a_request_signed_once_is_left_to_the_caller(
    getter: normalizer.Registry, clock: FakeClock
) -> None:
    url = GET_QUERY + "&SignatureNonce=3f1e"
    count, response = sends(getter, clock, [BUSY, OK], url)
    assert count == 1  # the same nonce would come back "SignatureNonceUsed"
    assert response is not None
    out = outcome(response)
    assert out.retryable
    assert out.category is Category.BUSY
    headers = {"x-acs-signature-nonce": "3f1e"}
    assert sends(getter, clock, [BUSY, OK], GET_QUERY, headers=headers)[0] == 1
    # a request that never left used no nonce
    assert sends(getter, clock, [httpx.ConnectError("refused"), OK], url)[0] == 2


def test_decide_names_the_rule(getter: normalizer.Registry) -> None:
    rules = getter.get("getter").resend
    send, query = httpx.Request("GET", GET_SEND), httpx.Request("GET", GET_QUERY)
    error = normalizer.classify("getter", {"code": "E"}, registry=getter)

    def why(request: httpx.Request, signed_once: bool = False) -> str:
        attempt = Attempt(request, 1, outcome=error, resend=rules, elapsed=0.0)
        return decide(attempt, RetryPolicy(), signed_once=signed_once).why

    assert why(send) == "not_safe_to_resend"
    assert why(query) == "read_operation"
    assert why(httpx.Request("POST", GET_SEND, headers={"x-dedup": "1"})) == "idempotency_key"
    assert why(httpx.Request("PUT", GET_SEND)) == "safe_method"  # only GET acts here
    assert why(query, signed_once=True) == "signed_once"
    assert "signed_once" in normalizer._retry.GIVE_UP


def test_user_retries_read_the_vendors_rules_too() -> None:
    # Aliyun acts through GET: a user's own tenacity retry must not resend GET SendSms
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"Code": "isp.SYSTEM_ERROR", "Message": "x"})

    with normalizer.Client(transport=httpx.MockTransport(handler), retry=None) as c:
        sent = c.get("https://dysmsapi.aliyuncs.com/?Action=SendSms")
        read = c.get("https://dysmsapi.aliyuncs.com/?Action=QuerySendDetails")
    retry = normalizer.retry_if_retryable()
    for response, expected in ((sent, False), (read, True)):
        assert outcome(response).retryable
        state = tenacity.RetryCallState(tenacity.Retrying(), None, (), {})
        state.set_result(response)
        assert retry(state) is expected


@pytest.mark.parametrize(
    ("vendor", "url", "safe"),
    [
        # vendors whose API acts through GET: a send is never resent after an ambiguous failure
        ("aliyun_sms", "https://dysmsapi.aliyuncs.com/?Action=SendSms", False),
        ("aliyun_sms", "https://dyvmsapi.aliyuncs.com/?Action=SingleCallByTts", False),
        ("aliyun_sms", "https://dysmsapi.aliyuncs.com/?Action=QuerySendDetails", True),
        ("sms_ru", "https://sms.ru/sms/send?api_id=x&to=79255070602&msg=hi&json=1", False),
        ("sms_ru", "https://sms.ru/code/call?phone=79255070602&api_id=x", False),
        ("sms_ru", "https://sms.ru/sms/status?sms_id=1&json=1", True),
        ("infobip", "https://x.api.infobip.com/sms/1/text/query?to=41793026727&text=hi", False),
        ("infobip", "https://x.api.infobip.com/sms/1/reports", False),  # each report once
        ("infobip", "https://x.api.infobip.com/sms/1/logs", True),
        ("vonage", "https://rest.nexmo.com/sms/json?to=447700900000&text=hi", False),
        ("vonage", "https://rest.nexmo.com/account/get-balance", True),
        ("aliyun_sms", "https://dysmsapi.aliyuncs.com/?Action=SendSms&m=HEAD", False),
        ("onbuka", "https://api.onbuka.com/v3/sendSms?numbers=91856321412", False),
        ("onbuka", "https://api.onbuka.com/v3/getReport?msgIds=1", True),
        ("tencent_sms", "https://sms.tencentcloudapi.com/?Action=SendSms", False),
        ("tencent_sms", "https://sms.tencentcloudapi.com/?Action=PullSmsSendStatus", False),
        ("tencent_sms", "https://sms.tencentcloudapi.com/?Action=DescribeSmsSignList", True),
        # vendors that never act through GET: the method decides
        ("twilio", "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json", True),
        ("telnyx", "https://api.telnyx.com/v2/messages/abc", True),
    ],
)
def test_every_vendors_sends_through_get(vendor: str, url: str, safe: bool) -> None:
    rules = normalizer.Registry().get(vendor).resend
    method = "HEAD" if url.endswith("m=HEAD") else "GET"  # a server acting on GET acts on HEAD
    attempt = Attempt(httpx.Request(method, url), 1, exception=httpx.ReadTimeout("x"), resend=rules)
    assert decide(attempt, RetryPolicy()).retry is safe


def test_a_put_that_plays_into_a_call_is_not_resent() -> None:
    rules = normalizer.Registry().get("vonage").resend
    talk = httpx.Request("PUT", "https://api.nexmo.com/v1/calls/63f61863/talk", json={"text": "x"})
    attempt = Attempt(talk, 1, exception=httpx.ReadTimeout("x"), resend=rules)
    assert decide(attempt, RetryPolicy()).why == "not_safe_to_resend"
    twilio = normalizer.Registry().get("twilio").resend  # acts through no idempotent method
    put = httpx.Request("PUT", "https://api.twilio.com/x")
    assert decide(
        Attempt(put, 1, exception=httpx.ReadTimeout("x"), resend=twilio), RetryPolicy()
    ).retry


def test_a_tencent_read_is_known_by_its_action_header() -> None:
    rules = normalizer.Registry().get("tencent_sms").resend
    url = "https://sms.tencentcloudapi.com/"

    def retried(action: str) -> bool:
        request = httpx.Request("POST", url, headers={"X-TC-Action": action})
        attempt = Attempt(request, 1, exception=httpx.ReadTimeout("x"), resend=rules)
        return decide(attempt, RetryPolicy()).retry

    assert retried("DescribeSmsTemplateList")
    assert not retried("SendSms")


def test_telnyx_honours_its_idempotency_key_only_where_it_says() -> None:
    rules = normalizer.Registry().get("telnyx").resend

    def retried(path: str) -> bool:
        request = httpx.Request(
            "POST", "https://api.telnyx.com" + path, headers={"Idempotency-Key": "k"}
        )
        attempt = Attempt(request, 1, exception=httpx.ReadTimeout("x"), resend=rules)
        return decide(attempt, RetryPolicy()).retry

    assert retried("/v2/email_messages")
    assert not retried("/v2/messages")  # messaging does not declare it


def test_an_aliyun_request_signed_once_is_not_resent_by_the_transport(clock: FakeClock) -> None:
    busy = httpx.Response(200, json={"Code": "Throttling.User", "Message": "x"})
    script = Script([busy, js({"Code": "OK"})])
    url = "https://dysmsapi.aliyuncs.com/?Action=QuerySendDetails&SignatureNonce=45e25e9b"
    response = client("aliyun_sms", script, policy(clock)).get(url)
    assert len(script.requests) == 1
    assert outcome(response).retryable  # yours to retry, signing anew


def test_a_healthy_call_never_touches_tenacity_and_a_retry_runs_on_it(
    clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[tenacity.Retrying] = []
    real = tenacity.Retrying

    class Counted(real):  # type: ignore[misc, valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            built.append(self)

    monkeypatch.setattr(tenacity, "Retrying", Counted)
    c = client("mango", Script([js({"result": 1000})]), policy(clock))
    assert outcome(c.post(MANGO)).ok
    assert built == []
    c = client("mango", Script([js({"result": 5001}), js({"result": 1000})]), policy(clock))
    assert outcome(c.post(MANGO)).ok
    assert len(built) == 1
    strategies = (built[0].retry, built[0].wait, built[0].stop)
    kinds = (normalizer.retry_if_retryable, normalizer.wait_vendor, normalizer.stop_vendor)
    assert all(isinstance(s, k) for s, k in zip(strategies, kinds, strict=True))


def test_stop_vendor_stops_on_attempts_long_pauses_and_the_deadline() -> None:
    stop = normalizer.stop_vendor(RetryPolicy(max_attempts=3, max_retry_after=10, deadline=5))

    def state(number: int, after: str | None, sleep: float, since: float) -> Any:
        headers = {} if after is None else {"retry-after": after}
        response = httpx.Response(200, json={"result": 5001}, headers=headers)
        out = normalizer.classify("mango", {"result": 5001})
        response.extensions = {**response.extensions, "normalizer.outcome": out}
        s = tenacity.RetryCallState(tenacity.Retrying(), None, (), {})
        s.attempt_number, s.upcoming_sleep = number, sleep
        s.start_time -= since
        s.set_result(response)
        return s

    assert not stop(state(1, None, 0.4, 0.0))
    assert stop(state(3, None, 0.4, 0.0))  # attempts used up
    assert stop(state(1, "60", 60.0, 0.0))  # a pause the policy will not take
    assert stop(state(2, "1", 1.0, 4.5))  # the wait would pass the 5 s deadline
    assert not stop(state(2, "1", 1.0, 3.5))


def test_a_query_parameter_given_twice_is_no_read() -> None:
    rules = normalizer.Registry().get("aliyun_sms").resend
    from normalizer._mapping import Target

    twice = Target("dysmsapi.aliyuncs.com", "/", "Action=SendSms&Action=QuerySendDetails")
    once = Target("dysmsapi.aliyuncs.com", "/", "Action=QuerySendDetails")
    assert not rules.reads_only("GET", twice)  # the server may take the first: a send
    assert rules.reads_only("GET", once)
