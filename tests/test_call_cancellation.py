"""cancellation (trio, asyncio) while waiting for a turn gives it back; a probe's slot."""

from __future__ import annotations

import asyncio

import httpx
import pytest

import normalizer
from normalizer import LocalState, Options, RateLimiter, RetryPolicy
from normalizer._store import AsyncStore
from normalizer.testing import set_testing

URL = "https://api.ucpaas.com/2014-06-30/Accounts/a/Calls/callBack"


class Spy(AsyncStore):
    def __init__(self) -> None:
        self.state = LocalState()
        self.asked: list[str] = []

    async def ask(self, question):  # type: ignore[no-untyped-def]
        self.asked.append(type(question).__name__)
        return self.state.ask(question)


def ok(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"resp": {"respCode": "000000"}})


def make(spy: Spy) -> httpx.AsyncClient:
    t = normalizer.AsyncNormalizingTransport(
        "ucpaas",
        transport=httpx.MockTransport(ok),
        options=Options(
            state=spy, retry=RetryPolicy(), limiter=RateLimiter(rate=1, adaptive=False)
        ),
    )
    return httpx.AsyncClient(transport=t)


def test_trio_cancel_while_waiting_for_a_turn_gives_it_back() -> None:
    trio = pytest.importorskip("trio")
    set_testing(False)
    spy = Spy()

    async def main() -> None:
        async with make(spy) as client:
            await client.get(URL)  # takes the first turn
            with trio.move_on_after(0.2):
                await client.get(URL)  # waits ~1 s for its turn: cancelled

    try:
        trio.run(main)
    finally:
        set_testing(True)
    assert spy.asked[-1] == "GiveBack", spy.asked


def test_asyncio_cancel_while_waiting_for_a_turn_gives_it_back() -> None:
    set_testing(False)
    spy = Spy()

    async def main() -> None:
        async with make(spy) as client:
            await client.get(URL)
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(0.2):
                    await client.get(URL)

    try:
        asyncio.run(main())
    finally:
        set_testing(True)
    assert spy.asked[-1] == "GiveBack", spy.asked
