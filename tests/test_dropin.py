"""httpx conventions a drop-in must keep: trio, stream closing, transport lifetimes, big ints."""

from __future__ import annotations

import json
import warnings
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

import normalizer
from normalizer import RetryPolicy, outcome_of
from normalizer.testing import set_testing

MANGO = "https://app.mango-office.ru/vpbx/commands/callback"


def test_async_retries_wait_on_trio() -> None:
    trio = pytest.importorskip("trio")
    answers = [{"result": 5001}, {"result": 1000}]

    def vendor(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=answers.pop(0))

    async def main() -> str:
        policy = RetryPolicy(base=0.001, pace={"busy": 0.001})
        with set_testing(False):
            async with normalizer.AsyncClient(
                "mango", transport=httpx.MockTransport(vendor), retry=policy
            ) as client:
                response = await client.post(MANGO)
        out = outcome_of(response)
        assert out is not None
        return out.category.value

    assert trio.run(main) == "ok"


class Chunks(httpx.AsyncByteStream):
    def __init__(self) -> None:
        self.closed_generator = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            yield b"<html>"
            for _ in range(1000):
                yield b"<p>text</p>"
        finally:
            self.closed_generator = True


@pytest.mark.anyio
async def test_a_sniffed_async_body_given_up_for_a_retry_closes_its_generator() -> None:
    streams: list[Chunks] = []

    def vendor(request: httpx.Request) -> httpx.Response:
        streams.append(Chunks())  # 503 "request limit exceeded": busy, retried
        return httpx.Response(503, stream=streams[-1], headers={"content-type": "text/html"})

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        async with normalizer.AsyncClient(
            "mango", transport=httpx.MockTransport(vendor), retry=RetryPolicy(max_attempts=2)
        ) as client:
            response = await client.post(MANGO)
    assert response.status_code == 503
    assert len(streams) == 2
    assert streams[0].closed_generator  # closed in the task, not left to the garbage collector


@pytest.mark.anyio
async def test_stream_hands_a_non_document_over_at_once() -> None:
    stream = Chunks()

    def vendor(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=stream, headers={"content-type": "text/plain"})

    async with (
        normalizer.AsyncClient("mango", transport=httpx.MockTransport(vendor)) as client,
        client.stream("GET", MANGO) as response,
    ):
        assert not stream.closed_generator  # nothing was read before the caller got it
        chunks = [chunk async for chunk in response.aiter_raw()]
    assert chunks[0] == b"<html>"
    assert len(chunks) == 1001  # handed over as the vendor sent them, not re-buffered


class Lifetime(httpx.BaseTransport):
    def __init__(self) -> None:
        self.events: list[str] = []

    def __enter__(self) -> Lifetime:
        self.events.append("enter")
        return self

    def __exit__(self, *exc: Any) -> None:
        self.events.append("exit")

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"result": 1000})


def test_the_wrapped_transport_is_entered_and_exited_as_httpx_does() -> None:
    inner = Lifetime()
    with normalizer.Client("mango", transport=inner) as client:
        client.post(MANGO)
    assert inner.events == ["enter", "exit"]


def test_the_first_json_keeps_big_integers() -> None:
    body = b'{"result": 1000, "call_id": 123456789012345678901234567890}'

    def vendor(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body, headers={"content-type": "application/json"})

    with normalizer.Client("mango", transport=httpx.MockTransport(vendor)) as client:
        response = client.post(MANGO)
    assert response.json() == json.loads(body)
    assert response.json()["call_id"] == 123456789012345678901234567890


class Events(httpx.SyncByteStream):
    def __init__(self) -> None:
        self.pulled = 0

    def __iter__(self) -> Iterator[bytes]:
        for i in range(100):
            self.pulled += 1
            yield f"data: {i}\n\n".encode()


@pytest.mark.parametrize("media", ["text/event-stream", "application/x-ndjson"])
def test_a_stream_by_design_reaches_the_caller_unread(media: str) -> None:
    events = Events()

    def vendor(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=events, headers={"content-type": media})

    with (
        normalizer.Client("mango", transport=httpx.MockTransport(vendor)) as client,
        client.stream("GET", MANGO) as response,
    ):
        assert events.pulled == 0  # headers at once, nothing buffered
        first = next(response.iter_raw())
    assert first == b"data: 0\n\n"


def test_a_small_declared_non_document_is_read_to_its_end() -> None:
    class Once(httpx.SyncByteStream):
        closed = False

        def __iter__(self) -> Iterator[bytes]:
            yield b"Hello, "
            yield b"world!"

        def close(self) -> None:
            Once.closed = True

    def vendor(request: httpx.Request) -> httpx.Response:
        headers = {"content-type": "text/plain", "content-length": "13"}
        return httpx.Response(200, stream=Once(), headers=headers)

    with normalizer.Client("mango", transport=httpx.MockTransport(vendor)) as client:
        response = client.get(MANGO)
    assert response.text == "Hello, world!"
    assert Once.closed  # the vendor's stream was finished and closed, not left half read


def test_raise_on_error_waits_for_httpx_to_follow_redirects() -> None:
    calls: list[normalizer.VendorCall] = []

    def vendor(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/old"):
            return httpx.Response(302, headers={"location": MANGO})
        return httpx.Response(200, json={"result": 1000})

    with normalizer.Client(
        "mango",
        transport=httpx.MockTransport(vendor),
        raise_on_error=True,
        follow_redirects=True,
        on_outcome=calls.append,
    ) as client:
        response = client.get("https://app.mango-office.ru/vpbx/old")
    assert response.json() == {"result": 1000}
    assert [c.outcome.category.value for c in calls] == ["ok", "ok"]  # the hop is no failure


def test_raise_on_error_still_raises_the_final_failure_with_a_readable_body() -> None:
    def vendor(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/old"):
            return httpx.Response(307, headers={"location": MANGO})
        return httpx.Response(200, json={"result": 3103})

    with (
        normalizer.Client(
            "mango",
            transport=httpx.MockTransport(vendor),
            raise_on_error=True,
            follow_redirects=True,
        ) as client,
        pytest.raises(normalizer.ValidationError) as info,
    ):
        client.get("https://app.mango-office.ru/vpbx/old")
    assert info.value.response is not None
    assert info.value.response.json() == {"result": 3103}


def test_not_modified_is_no_failure() -> None:
    def vendor(request: httpx.Request) -> httpx.Response:
        return httpx.Response(304)

    with normalizer.Client(
        "mango", transport=httpx.MockTransport(vendor), raise_on_error=True
    ) as client:
        response = client.get(MANGO)
    assert response.status_code == 304
    out = outcome_of(response)
    assert out is not None
    assert out.ok


def test_a_digest_challenge_is_a_hop_not_a_failure() -> None:
    from structlog.testing import capture_logs

    def vendor(request: httpx.Request) -> httpx.Response:
        if "authorization" not in request.headers:
            challenge = 'Digest realm="vpbx", nonce="abc", qop="auth", algorithm=MD5'
            return httpx.Response(401, headers={"www-authenticate": challenge})
        return httpx.Response(200, json={"result": 1000})

    with (
        capture_logs() as logs,
        normalizer.Client(
            "mango",
            transport=httpx.MockTransport(vendor),
            auth=httpx.DigestAuth("user", "secret"),
            raise_on_error=True,
        ) as client,
    ):
        response = client.post(MANGO)
    assert response.json() == {"result": 1000}
    assert [e["event"] for e in logs] == []  # the challenge's 401 is not logged as a failure


def test_a_plain_401_is_still_a_logged_failure() -> None:
    from structlog.testing import capture_logs

    def vendor(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"result": 2100})

    with (
        capture_logs() as logs,
        normalizer.Client(
            "mango", transport=httpx.MockTransport(vendor), auth=("user", "secret")
        ) as client,
    ):
        client.post(MANGO)
    assert [e["event"] for e in logs] == ["vendor_call_failed"]
