"""a retry that was given the half-open circuit's probe and then does not happen keeps
the probe slot: every call fails fast until ``recovery`` passes again."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

import normalizer
from normalizer import CircuitBreaker, LocalState, Options, RateLimiter, RetryPolicy
from normalizer._store import Pace, Record, Signal
from normalizer.testing import set_testing
from tests.conftest import FakeClock, outcome

URL = "https://api.ucpaas.com/2014-06-30/Accounts/a/Calls/callBack"


def test_a_probe_given_to_a_retry_that_its_turn_rules_out_is_released() -> None:
    set_testing(False)
    try:
        clock = FakeClock()
        state = LocalState(clock)
        holder: dict[str, Any] = {}

        def handler(request: httpx.Request) -> httpx.Response:
            if "first" not in holder:
                holder["first"] = True
                # meanwhile other calls open the circuit, and its recovery passes
                prepared = holder["t"]._pipeline.prepare(
                    holder["t"]._pipeline.router.route(request)
                )
                keys, limits = prepared.keys, prepared.limits
                holder["kl"] = keys, limits
                state.ask(Record(keys, limits, Signal(True, 0.0, 0, False, False, 0.0)))
                clock.now += 6
                return httpx.Response(
                    200, json={"resp": {"respCode": "107225"}}
                )  # busy: not a breaker failure
            return httpx.Response(200, json={"resp": {"respCode": "000000"}})

        def sleep(seconds: float) -> None:
            keys, limits = holder["kl"]
            clock.sleep(seconds)
            for _ in range(6):  # other calls took the limiter's next turns meanwhile
                state.ask(Pace(keys, limits, float("inf")))

        policy = RetryPolicy(clock=clock, sleep=sleep, random=lambda: 0.5)
        options = Options(
            state=state,
            retry=policy,
            circuit=CircuitBreaker(failures=1, recovery=5),
            limiter=RateLimiter(rate=10, adaptive=False, max_wait=0.5),
        )
        t = normalizer.NormalizingTransport(
            "ucpaas", transport=httpx.MockTransport(handler), options=options
        )
        holder["t"] = t
        with httpx.Client(transport=t) as client:
            first = client.get(URL)  # GET: safe to resend; the retry got the probe, then no turn
            assert outcome(first).category == "busy"
            clock.now += 3  # the limiter's queue has drained; recovery (5 s) from the probe has not
            try:
                client.get(URL)
            except normalizer.CircuitOpenError as exc:
                pytest.fail(f"the probe slot is still held by a retry that never went: {exc}")
    finally:
        set_testing(True)
