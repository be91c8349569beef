"""the user-facing tenacity strategies."""

from __future__ import annotations

import httpx
import pytest
import tenacity

import normalizer
from tests.conftest import outcome


def test_wait_vendor_caps_a_retry_after_without_stop_vendor() -> None:
    # The docstring before today: "Attempts and deadlines are your stop's"; wait_vendor capped a
    # Retry-After at max_retry_after (60 s) and retry_if_retryable refused a longer one.
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(429, headers={"Retry-After": "86400"}, json={})

    slept: list[float] = []
    with normalizer.Client("ucpaas", transport=httpx.MockTransport(handler), retry=None) as client:
        retrying = tenacity.Retrying(
            retry=normalizer.retry_if_retryable(),
            wait=normalizer.wait_vendor(),
            stop=tenacity.stop_after_attempt(2),
            sleep=slept.append,
            retry_error_callback=lambda state: state.outcome.result() if state.outcome else None,
        )
        r = retrying(client.post, "https://api.ucpaas.com/2014-06-30/Accounts/a/Calls/callBack")
    assert outcome(r).category == "busy"
    assert slept == [] or max(slept) <= 60, f"slept {slept} s on one Retry-After"


def test_a_stopiteration_from_the_wrapped_transport_reaches_the_caller_as_itself() -> None:

    answers = iter([httpx.Response(200, json={"resp": {"respCode": "000000"}})])
    mock = httpx.MockTransport(lambda request: next(answers))  # a test's exhausted script
    with normalizer.Client("ucpaas", transport=mock) as client:
        client.get("https://api.ucpaas.com/x")
        with pytest.raises(StopIteration):  # as before the rewrite; now RuntimeError (PEP 479)
            client.get("https://api.ucpaas.com/x")
