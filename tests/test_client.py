"""The drop-in clients: real httpx clients whose every route is normalized."""

from __future__ import annotations

import httpx
import pytest

import normalizer
from normalizer import AsyncNormalizingTransport, Category, NormalizingTransport, outcome_of
from tests.conftest import outcome

BUSY = {"resp": {"respCode": "107225"}}


def handler(request: httpx.Request) -> httpx.Response:
    return httpx.Response(
        200, json=BUSY, headers={"x-seen-auth": request.headers.get("authorization", "")}
    )


def test_client_is_an_httpx_client_with_base_url_auth_and_hooks() -> None:
    seen: list[str] = []
    client = normalizer.Client(
        "ucpaas",
        base_url="https://api.ucpaas.com/2014-06-30",
        auth=("sid", "token"),
        timeout=3.0,
        event_hooks={"response": [lambda r: seen.append(str(r.url))]},
        transport=httpx.MockTransport(handler),
    )
    assert isinstance(client, httpx.Client)
    response = client.get("/Accounts/a/Calls")
    assert response.headers["x-seen-auth"].startswith("Basic ")
    assert seen == ["https://api.ucpaas.com/2014-06-30/Accounts/a/Calls"]
    assert client.timeout.read == 3.0
    assert outcome(response).category is Category.BUSY


def test_given_transport_is_wrapped_not_replaced() -> None:
    mock = httpx.MockTransport(handler)
    client = normalizer.Client("ucpaas", transport=mock)
    wrapper = client._transport
    assert isinstance(wrapper, NormalizingTransport)
    assert wrapper._transport is mock


def test_default_transport_is_a_wrapped_connection_pool() -> None:
    client = normalizer.Client("mango", verify=False)
    assert isinstance(client._transport, NormalizingTransport)
    assert isinstance(client._transport._transport, httpx.HTTPTransport)


def test_mounts_and_env_proxies_are_wrapped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:3128")
    other = httpx.MockTransport(handler)
    client = normalizer.Client("ucpaas", mounts={"https://other.test": other, "http://x": None})
    transports = list(client._mounts.values())
    wrapped = [t for t in transports if t is not None]
    assert wrapped
    assert all(isinstance(t, NormalizingTransport) for t in wrapped)
    # one state (budgets, circuits, cooldowns) for the whole client, whatever route it takes
    states = {id(t.options.state) for t in [*wrapped, client._transport]}  # type: ignore[attr-defined]
    assert len(states) == 1
    assert None in transports
    response = client.get("https://other.test/q")
    assert outcome(response).category is Category.BUSY


def test_client_without_vendor_detects_per_request() -> None:
    client = normalizer.Client(transport=httpx.MockTransport(handler))
    assert outcome(client.get("https://api.ucpaas.com/x")).vendor == "ucpaas"
    assert outcome_of(client.get("https://example.org/x")) is None


@pytest.mark.anyio
async def test_async_client_is_an_httpx_async_client() -> None:
    async with normalizer.AsyncClient(
        "ucpaas",
        base_url="https://api.ucpaas.com",
        transport=httpx.MockTransport(handler),
        mounts={"https://other.test": httpx.MockTransport(handler)},
    ) as client:
        assert isinstance(client, httpx.AsyncClient)
        assert isinstance(client._transport, AsyncNormalizingTransport)
        response = await client.get("/x")
        mounted = await client.get("https://other.test/x")
    assert outcome(response).category is Category.BUSY
    assert outcome(mounted).category is Category.BUSY


def test_raise_for_outcome() -> None:
    client = normalizer.Client(transport=httpx.MockTransport(handler))
    busy = client.get("https://api.ucpaas.com/x")
    with pytest.raises(normalizer.BusyError) as info:
        normalizer.raise_for_outcome(busy)
    assert info.value.response is busy
    assert info.value.request is busy.request
    assert info.value.attempts == 3  # busy is retried before the final outcome
    plain = client.get("https://example.org/x")
    assert normalizer.raise_for_outcome(plain) is plain
    ok = httpx.Response(200)
    assert normalizer.raise_for_outcome(ok) is ok
