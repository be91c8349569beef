"""The vendor call as a generator of effects: what it asks its driver for, in order, with no
I/O of its own (the drivers in _transports.py perform them)."""

from __future__ import annotations

import gzip
from typing import Any

import httpx
import pytest

from normalizer import CircuitBreaker, LocalState, Options, RetryPolicy
from normalizer._call import Close, Read, Send, Sleep, Steps, vendor_call
from normalizer._pipeline import Pipeline
from normalizer._store import Admit, Pace, Query, Record, Retry
from normalizer.testing import set_testing
from tests.conftest import FakeClock

UCPAAS = "https://api.ucpaas.com/2014-06-30/Accounts/a/Calls/callBack"


def body(code: str) -> httpx.Response:
    return httpx.Response(
        200, json={"resp": {"respCode": code}}, headers={"content-type": "application/json"}
    )


def drive(steps: Steps, replies: list[httpx.Response], state: LocalState) -> list[Any]:
    """A driver that records each effect and performs it in memory (no network, no sleep)."""
    seen: list[Any] = []
    pipeline_body = Pipeline(None, Options(), asynchronous=False).body
    reply: Any = None
    while True:
        try:
            effect = steps.send(reply)
        except StopIteration as done:
            seen.append(done.value)
            return seen
        seen.append(effect)
        if isinstance(effect, Query):
            reply = state.ask(effect)
        elif isinstance(effect, Send):
            reply = replies.pop(0)
        elif isinstance(effect, Read):
            response, plan, xml, deadline, declared = effect
            reply = pipeline_body.read(response, plan, xml, deadline.expired, declared)
        else:
            assert isinstance(effect, Sleep | Close)
            reply = None


@pytest.fixture(autouse=True)
def _real_decisions() -> Any:
    set_testing(False)
    yield
    set_testing(True)


def test_a_healthy_call_asks_once_sends_once_and_reads_once(clock: FakeClock) -> None:
    state = LocalState(clock)
    pipeline = Pipeline(
        None, Options(state=state, retry=RetryPolicy(clock=clock)), asynchronous=False
    )
    request = httpx.Request("POST", UCPAAS, json={"to": "1"})
    route = pipeline.router.route(request)
    assert route is not None
    streamed = httpx.Response(
        200,
        stream=httpx.ByteStream(b'{"resp": {"respCode": "000000"}}'),
        headers={"content-type": "application/json"},
    )
    seen = drive(vendor_call(pipeline, request, route, None), [streamed], state)
    assert [type(e) for e in seen[:3]] == [Admit, Send, Read]
    assert isinstance(seen[3], httpx.Response)  # returned: no store write, no sleep, no retry
    assert len(seen) == 4
    assert seen[1].request is request


def test_a_body_httpx_already_holds_is_not_read_again(clock: FakeClock) -> None:
    # a response built with content= (MockTransport's, respx's) has its body loaded: as
    # httpx's client, the call reads nothing more; an encoded one is read from its stream
    state = LocalState(clock)
    pipeline = Pipeline(
        None, Options(state=state, retry=RetryPolicy(clock=clock)), asynchronous=False
    )
    request = httpx.Request("POST", UCPAAS, json={"to": "1"})
    route = pipeline.router.route(request)
    assert route is not None
    seen = drive(vendor_call(pipeline, request, route, None), [body("000000")], state)
    assert [type(e) for e in seen[:2]] == [Admit, Send]
    assert len(seen) == 3  # then the response: nothing read
    final = seen[-1]
    assert isinstance(final, httpx.Response)
    assert final.extensions["normalizer.outcome"].ok
    assert final.json() == {"resp": {"respCode": "000000"}}
    gzipped = httpx.Response(
        200,
        content=gzip.compress(b'{"resp": {"respCode": "000000"}}'),
        headers={"content-type": "application/json", "content-encoding": "gzip"},
    )
    seen = drive(vendor_call(pipeline, request, route, None), [gzipped], state)
    assert [type(e) for e in seen[:3]] == [Admit, Send, Read]
    assert seen[-1].extensions["normalizer.outcome"].ok


@pytest.mark.parametrize(("deadline", "patience"), [(60.0, 5.0), (None, 5.0), (3.0, 3.0)])
def test_a_call_waits_for_its_first_turn_at_most_max_wait_within_its_deadline(
    clock: FakeClock, deadline: float | None, patience: float
) -> None:
    # the usual question is built once per route (Pipeline.prepare); a deadline nearer than
    # the limiter's max_wait (5 s) makes each call work its own patience out
    state = LocalState(clock)
    policy = RetryPolicy(clock=clock, deadline=deadline)
    pipeline = Pipeline(None, Options(state=state, retry=policy), asynchronous=False)
    request = httpx.Request("POST", UCPAAS, json={"to": "1"})
    route = pipeline.router.route(request)
    assert route is not None
    for _ in range(2):
        seen = drive(vendor_call(pipeline, request, route, None), [body("000000")], state)
        assert isinstance(seen[0], Admit)
        assert seen[0].patience == patience


def test_a_busy_answer_is_recorded_paid_waited_paced_and_sent_again(clock: FakeClock) -> None:
    state = LocalState(clock)
    policy = RetryPolicy(clock=clock, random=lambda: 1.0)
    pipeline = Pipeline(None, Options(state=state, retry=policy), asynchronous=False)
    request = httpx.Request("POST", UCPAAS, json={"to": "1"})
    route = pipeline.router.route(request)
    assert route is not None
    seen = drive(
        vendor_call(pipeline, request, route, None), [body("107225"), body("000000")], state
    )
    questions = [type(e).__name__ for e in seen if isinstance(e, Query)]
    assert questions[:4] == ["Admit", "Record", "Retry", "Pace"]
    assert [type(e) for e in seen if isinstance(e, Send | Sleep)][:3] == [Send, Sleep, Send]
    recorded = [e for e in seen if isinstance(e, Query)][1]
    assert isinstance(recorded, Record)
    assert recorded.signal.slow  # a busy answer of the account slows the vendor down
    assert any(isinstance(e, Retry) for e in seen)
    assert any(isinstance(e, Pace) for e in seen)
    final = seen[-1]
    assert isinstance(final, httpx.Response)
    assert final.extensions["normalizer.attempts"] == 2


def test_an_overload_answer_slows_the_vendor_down_and_counts_as_a_failure(
    clock: FakeClock,
) -> None:
    # MANGO 5001 Перегрузка (seed table, mappings/mango.toml overload = true): a server answer
    # that, like an account's rate limit, feeds the adaptive limiter (issue 31)
    state = LocalState(clock)
    policy = RetryPolicy(clock=clock, random=lambda: 1.0)
    options = Options(state=state, retry=policy, circuit=CircuitBreaker())
    pipeline = Pipeline(None, options, asynchronous=False)
    request = httpx.Request("POST", "https://app.mango-office.ru/vpbx/commands/callback")
    route = pipeline.router.route(request)
    assert route is not None
    overloaded = httpx.Response(
        200, json={"result": 5001}, headers={"content-type": "application/json"}
    )
    done = httpx.Response(200, json={"result": 1000}, headers={"content-type": "application/json"})
    seen = drive(vendor_call(pipeline, request, route, None), [overloaded, done], state)
    recorded = [e for e in seen if isinstance(e, Query)][1]
    assert isinstance(recorded, Record)
    assert recorded.signal.slow  # the adaptive limiter slows every call to MANGO
    assert recorded.signal.failed  # and the circuit breaker counts it, as before
    # an internal error that is no overload does not slow anyone down
    plain = drive(
        vendor_call(pipeline, request, route, None),
        [
            httpx.Response(
                200, json={"result": 5000}, headers={"content-type": "application/json"}
            ),
            done,
        ],
        state,
    )
    records = [e for e in plain if isinstance(e, Record)]
    assert records
    assert records[0].signal.failed
    assert not records[0].signal.slow


def test_the_values_built_without_their_python_new_have_every_field(clock: FakeClock) -> None:
    # Call and Deadline are built with tuple.__new__ (no Python frame): a field added to the
    # class and not to the builder would shift every field after it
    from normalizer._call import Call, Deadline, _start

    pipeline = Pipeline(
        None, Options(retry=RetryPolicy(clock=clock, deadline=30.0)), asynchronous=False
    )
    request = httpx.Request("POST", UCPAAS, json={"to": "1"}, extensions={"timeout": {"read": 5}})
    route = pipeline.router.route(request)
    assert route is not None
    call = _start(pipeline, request, route)
    assert len(call) == len(Call._fields)
    assert call.request is request
    assert call.reader is pipeline.prepare(route).reader
    assert len(call.deadline) == len(Deadline._fields)
    assert call.deadline.ends == clock() + 30.0
    assert call.deadline.tight is False
    assert call.timeout == {"read": 5}
