"""respx, the usual way to mock httpx in a test suite, works with normalizer's clients: both its
default mocker (the transport's connection pool) and ``using="httpx"`` (the client's transport
lookup), each call classified, retried and logged once."""

from __future__ import annotations

import httpx
import pytest
import respx

import normalizer
from normalizer import Category, outcome_of

UCPAAS = "https://api.ucpaas.com/2014-06-30/Accounts/a/Calls/callBack"
BUSY = {"resp": {"respCode": "107225"}}
OK = {"resp": {"respCode": "000000"}}


@pytest.mark.parametrize("using", ["httpcore", "httpx"])
def test_sync_client_under_respx(using: str) -> None:
    with respx.mock(using=using) as mock:
        route = mock.post(UCPAAS).mock(
            side_effect=[httpx.Response(200, json=BUSY), httpx.Response(200, json=OK)]
        )
        with normalizer.Client() as client:
            response = client.post(UCPAAS, json={"to": "1"})
    out = outcome_of(response)
    assert out is not None
    assert out.ok
    assert response.extensions["normalizer.attempts"] == 2  # retried, by one transport
    assert route.call_count == 2


@pytest.mark.anyio
@pytest.mark.parametrize("using", ["httpcore", "httpx"])
async def test_async_client_under_respx(using: str) -> None:
    with respx.mock(using=using) as mock:
        mock.post(UCPAAS).mock(
            return_value=httpx.Response(200, json={"resp": {"respCode": "107110"}})
        )
        async with normalizer.AsyncClient() as client:
            response = await client.post(UCPAAS)
    out = outcome_of(response)
    assert out is not None
    assert out.category is Category.VALIDATION
    assert response.extensions["normalizer.attempts"] == 1


def test_respx_pass_through_is_classified_once() -> None:
    # a route respx passes through reaches the client's own (normalizing) transport: the call
    # must still be classified and counted once, not by both wrappers
    calls: list[normalizer.VendorCall] = []
    inner = httpx.MockTransport(lambda request: httpx.Response(200, json=OK))
    with respx.mock(using="httpx", assert_all_called=False) as mock:
        mock.route(host="api.ucpaas.com").pass_through()
        with normalizer.Client(transport=inner, on_outcome=calls.append) as client:
            response = client.post(UCPAAS)
    assert outcome_of(response) is not None
    assert len(calls) == 1
