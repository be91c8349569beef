"""Review of Failover(patience=...): where the patience reaches calls it should not."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

import normalizer
from normalizer import AsyncFailover, Failover
from tests.test_failover import MANGO, Vendor, _patient_mango, _policy


@pytest.fixture
def real_clock() -> Iterator[Any]:
    """As tests/test_failover.py's: a fake clock, the suite's instant mode off."""
    from normalizer.testing import set_testing
    from tests.conftest import FakeClock

    set_testing(False)
    yield FakeClock()
    set_testing(True)


def test_a_call_made_after_the_leg_closed_is_not_held_to_the_failovers_patience(
    real_clock: Any,
) -> None:
    """A thread or task the leg's send started (its context copied) and still calling once the
    leg is over is heard no more (Ear.open is False); nothing moves its recipients on, so the
    failover's patience must not refuse its turn either: it waits as its client does."""
    mango = Vendor(lambda to: None)
    kept: list[contextvars.Context] = []
    with _patient_mango(real_clock, mango) as client:

        def send(callees: list[str]) -> list[httpx.Response]:
            kept.append(contextvars.copy_context())  # e.g. asyncio.to_thread, create_task
            return [client.post(MANGO, data={"to": c}) for c in callees]

        result = Failover([("mango", send)], patience=0.2)(["+79161234567"])
        assert result.outcomes["+79161234567"].ok
        # later, in the context the leg's send handed on: the next turn is a second away
        late = kept[0].run(client.post, MANGO, data={"to": "+79160000001"})
    assert late.status_code == 200
    assert len(mango.requests) == 2
    assert sum(real_clock.sleeps) > 0.2  # it waited for its turn, as outside any failover


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_a_task_outliving_the_leg_is_not_held_to_the_failovers_patience(
    real_clock: Any,
) -> None:
    mango = Vendor(lambda to: None)
    fine = mango.handler(lambda r: httpx.Response(200, json={"result": 1000}))
    later = asyncio.Event()
    tasks: list[asyncio.Task[Any]] = []
    async with normalizer.AsyncClient(
        "mango",
        transport=httpx.MockTransport(fine),
        retry=_policy(real_clock),
        state=normalizer.LocalState(real_clock),
        limiter=normalizer.RateLimiter(rate="1/s", max_wait=5.0),
    ) as client:

        async def follow_up() -> httpx.Response:
            await later.wait()  # the leg is over by now
            return await client.post(MANGO, data={"to": "+79160000001"})

        async def send(callees: list[str]) -> list[httpx.Response]:
            tasks.append(asyncio.create_task(follow_up()))
            return [await client.post(MANGO, data={"to": c}) for c in callees]

        result = await AsyncFailover([("mango", send)], patience=0.2)(["+79161234567"])
        assert result.outcomes["+79161234567"].ok
        later.set()
        response = await tasks[0]  # RateLimitedError here: the closed Ear's patience held
    assert response.status_code == 200
    assert len(mango.requests) == 2


def test_the_last_leg_is_not_skipped_for_the_failovers_patience(real_clock: Any) -> None:
    """patience says when to move recipients on rather than wait; the last leg has nowhere
    to move them, so refusing its turn only turns a send that would have gone (a second
    later) into a failure."""
    mango = Vendor(lambda to: None)
    with _patient_mango(real_clock, mango) as client:
        client.post(MANGO, data={"to": "+79160000000"})  # the next turn is a second away
        send = lambda callees: [client.post(MANGO, data={"to": c}) for c in callees]  # noqa: E731
        result = Failover([("mango", send)], patience=0.2)(["+79161234567"])
    assert result.failed == ()
    assert len(mango.requests) == 2


def test_a_failover_started_after_the_outer_leg_closed_keeps_its_own_patience(
    real_clock: Any,
) -> None:
    """An inner failover run in a context the outer leg handed on, once that leg is over: the
    outer's patience (its Ear closed) no longer holds, as the outer hears nothing of it."""
    mango = Vendor(lambda to: None)
    kept: list[contextvars.Context] = []
    with _patient_mango(real_clock, mango) as client:
        client.post(MANGO, data={"to": "+79160000000"})  # the next turn is a second away
        send = lambda callees: [client.post(MANGO, data={"to": c}) for c in callees]  # noqa: E731
        inner = Failover([("mango", send)])  # patient: as its client

        def later(recipients: list[str]) -> list[Any]:
            kept.append(contextvars.copy_context())
            return []

        outer = Failover([("later", later)], patience=0.2)
        outer(["+79161234567"])
        result = kept[0].run(inner, ["+79161234567"])
    assert result.failed == ()
    assert len(mango.requests) == 2


def test_a_patience_set_after_construction_holds_as_move_maybe_sent_does(
    real_clock: Any,
) -> None:
    """``patience`` is a public, documented attribute, like ``move_maybe_sent`` (read at each
    run); setting it must not be silently ignored (_ear_patience was worked out once, in
    __init__)."""
    mango = Vendor(lambda to: None)
    with _patient_mango(real_clock, mango) as client:
        client.post(MANGO, data={"to": "+79160000000"})  # the next turn is a second away
        send = lambda callees: [client.post(MANGO, data={"to": c}) for c in callees]  # noqa: E731
        failover = Failover([("mango", send), ("vonage", lambda rs: [])])
        failover.patience = 0.2
        result = failover(["+79161234567"])
    assert len(mango.requests) == 1  # skipped at once, as Failover(..., patience=0.2) does
    assert result.skipped == ("mango",)
    assert real_clock.sleeps == []


def _three_recipients(
    real_clock: Any, send_style: str, move_maybe_sent: bool, busy_before: bool = False
) -> tuple[Any, ...]:
    from tests.test_failover import UCPAAS_CALL, ucpaas_calls

    mango = Vendor(lambda to: None)
    ucpaas_vendor, ucpaas_handler = ucpaas_calls()
    with (
        _patient_mango(real_clock, mango) as client,
        normalizer.Client("ucpaas", transport=httpx.MockTransport(ucpaas_handler)) as uc,
    ):
        if busy_before:
            client.post(MANGO, data={"to": "+79160000000"})  # the next turn is a second away

        def caught(callees: list[str]) -> list[Any]:
            answers: list[Any] = []
            for c in callees:
                try:
                    answers.append(client.post(MANGO, data={"to": c}))
                except normalizer.RateLimitedError as refused:
                    answers.append(refused)
            return answers

        def looped(callees: list[str]) -> list[Any]:  # the quickstart's leg (docs/failover.md)
            return [client.post(MANGO, data={"to": c}) for c in callees]

        failover = Failover(
            [
                ("mango", caught if send_style == "caught" else looped),
                ("ucpaas", lambda cs: [uc.post(UCPAAS_CALL, data={"to": c}) for c in cs]),
            ],
            patience=0.2,
            move_maybe_sent=move_maybe_sent,
        )
        result = failover(["+79161234567", "+79161234568", "+79161234569"])
    return result, mango.recipients()[1 if busy_before else 0 :], ucpaas_vendor.recipients()


@pytest.mark.parametrize("move_maybe_sent", [False, True])
@pytest.mark.parametrize("send_style", ["caught", "looped"])
def test_a_leg_that_has_sent_waits_for_its_turns_as_its_client_does(
    real_clock: Any, send_style: str, move_maybe_sent: bool
) -> None:
    """MANGO takes one call a second; a failover with patience=0.2 over a leg calling it once
    per recipient. The first recipient goes at once; the turns of the next two are 1 s and 2 s
    away, and refusing them would raise out of the quickstart's leg (a list comprehension)
    after a request went: all three "maybe sent", failed (two never sent, one delivered), or
    with move_maybe_sent=True the first sent twice. Once a request of the leg has gone, its
    calls wait for their turns as their client does: all three delivered, nothing twice."""
    result, to_mango, to_ucpaas = _three_recipients(real_clock, send_style, move_maybe_sent)
    assert to_mango == ["+79161234567", "+79161234568", "+79161234569"]
    assert to_ucpaas == []
    assert result.failed == ()
    assert sum(real_clock.sleeps) == pytest.approx(2.0, abs=0.1)


@pytest.mark.parametrize("send_style", ["caught", "looped"])
def test_a_leg_whose_first_turn_is_beyond_the_patience_moves_everyone_unsent(
    real_clock: Any, send_style: str
) -> None:
    """The same leg when MANGO's next turn is a second away before it starts: its first call
    is refused before anything went, and every recipient moves on, none sent twice."""
    result, to_mango, to_ucpaas = _three_recipients(
        real_clock, send_style, move_maybe_sent=False, busy_before=True
    )
    assert to_mango == []
    assert to_ucpaas == ["+79161234567", "+79161234568", "+79161234569"]
    assert result.failed == ()
    assert real_clock.sleeps == []
