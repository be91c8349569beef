"""The transports: every vendor's envelope, routing, and the body handed back byte for byte."""

from __future__ import annotations

import gzip
import json
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import httpx
import pytest

import normalizer
from normalizer import (
    AsyncNormalizingTransport,
    BusyError,
    Category,
    Match,
    NormalizingTransport,
    Outcome,
    Registry,
    ServerError,
    UnknownVendorError,
    outcome_of,
)
from tests.conftest import outcome

Handler = Callable[[httpx.Request], httpx.Response]

# (vendor, URL, body, expected category, expected product)
ENVELOPES = [
    (
        "ucpaas",
        "https://api.ucpaas.com/2014-06-30/Accounts/a1/Calls/callBack",
        {"resp": {"respCode": "107225"}},
        Category.BUSY,
        None,
    ),
    (
        "ucpaas",
        "https://api.ucpaas.com/2014-06-30/Accounts/a1/Calls/callBack",
        {"resp": {"respCode": "000000"}},
        Category.OK,
        None,
    ),
    (
        "huawei_isales",
        "https://10.1.2.3:28443/rest/isales/v1/openapi/campaigns/1/queryOBSResultCode",
        {"resultCode": "0200001", "resultDesc": "bad pageSize"},
        Category.VALIDATION,
        None,
    ),
    (
        "huawei_isales",
        "https://cc.example.internal/rest/isales/v1/openapi/campaigns/1/x",
        {
            "resultCode": "0200000",
            "returnCode": "0200000",
            "obsCodes": [{"obsCode": "00605", "obsCodeDesc": "The switch is busy."}],
        },
        Category.OK,
        None,
    ),
    (
        "mango",
        "https://app.mango-office.ru/vpbx/commands/callback",
        {"result": 5001},
        Category.SERVER,
        None,
    ),
    (
        "mango",
        "https://app.mango-office.ru/vpbx/commands/callback",
        {"result": "1000"},
        Category.OK,
        None,
    ),
    (
        "airudder",
        "https://api.airudder.com/service/cloud/task/create",
        {"status": "Error", "code": 10403, "message": "Task name already exists."},
        Category.VALIDATION,
        None,
    ),
    (
        "airudder",
        "https://api.airudder.com/service/cloud/task/list",
        {"status": "OK", "code": 200, "data": []},
        Category.OK,
        None,
    ),
    (
        "onbuka",
        "https://api.onbuka.com/v3/sendSms",
        {"status": "-15", "reason": "Query too frequently"},
        Category.BUSY,
        "sms",
    ),
    (
        "onbuka",
        "https://api.onbuka.com/v3/sendSms",
        {"status": "-3", "reason": "sensitive"},
        Category.VALIDATION,
        "sms",
    ),
    (
        "onbuka",
        "https://api.onbuka.com/aivoice/task/create",
        {"status": -3, "reason": "balance"},
        Category.BILLING,
        "ai_voice",
    ),
]
ENVELOPE_IDS = [f"{v}-{json.dumps(b)[:30]}" for v, _, b, _, _ in ENVELOPES]


def json_handler(body: object, status: int = 200, **headers: str) -> Handler:
    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json=body, headers=headers)

    return handle


@pytest.mark.parametrize(
    ("vendor", "url", "body", "category", "product"), ENVELOPES, ids=ENVELOPE_IDS
)
def test_each_vendor_envelope_sync(
    vendor: str, url: str, body: object, category: Category, product: str | None
) -> None:
    for explicit in (vendor, None):  # named, and found from the URL
        transport = NormalizingTransport(
            explicit, transport=httpx.MockTransport(json_handler(body))
        )
        with httpx.Client(transport=transport) as client:
            response = client.post(url, json={"x": 1})
        outcome = outcome_of(response)
        assert outcome is not None
        assert (outcome.vendor, outcome.category, outcome.product) == (vendor, category, product)
        assert response.json() == body


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("vendor", "url", "body", "category", "product"), ENVELOPES, ids=ENVELOPE_IDS
)
async def test_each_vendor_envelope_async(
    vendor: str, url: str, body: object, category: Category, product: str | None
) -> None:
    transport = AsyncNormalizingTransport(transport=httpx.MockTransport(json_handler(body)))
    async with httpx.AsyncClient(transport=transport) as client:
        response = await client.post(url, json={"x": 1})
    outcome = outcome_of(response)
    assert outcome is not None
    assert (outcome.vendor, outcome.category, outcome.product) == (vendor, category, product)
    assert response.json() == body


def test_one_transport_many_vendors_and_unknown_hosts() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        bodies = {
            "api.ucpaas.com": {"resp": {"respCode": "107225"}},
            "app.mango-office.ru": {"result": 5001},
        }
        return httpx.Response(200, json=bodies.get(request.url.host, {"code": 1}))

    client = httpx.Client(transport=NormalizingTransport(transport=httpx.MockTransport(handle)))
    ucpaas = client.get("https://api.ucpaas.com/2014-06-30/Accounts/a/x")
    mango = client.post("https://app.mango-office.ru/vpbx/commands/callback")
    other = client.get("https://example.org/api")
    mango_elsewhere = client.get("https://app.mango-office.ru/not-the-api")
    assert outcome(ucpaas).vendor == "ucpaas"
    assert outcome(mango).category is Category.SERVER
    assert outcome_of(other) is None
    assert outcome_of(mango_elsewhere) is None
    assert other.json() == {"code": 1}


def test_vendor_and_product_from_request_extensions() -> None:
    body = {"status": "-3", "reason": "r"}
    client = httpx.Client(
        transport=NormalizingTransport(transport=httpx.MockTransport(json_handler(body)))
    )
    url = "https://gateway.example.com/anything"
    ai = client.post(url, extensions={"normalizer": {"vendor": "onbuka", "product": "ai_voice"}})
    sms = client.post(url, extensions={"normalizer": {"vendor": "onbuka", "product": "sms"}})
    neither = client.post(url, extensions={"normalizer": {"vendor": "onbuka"}})
    assert outcome(ai).category is Category.BILLING
    assert outcome(sms).category is Category.VALIDATION
    assert outcome(neither).matched is Match.AMBIGUOUS
    # an extension product beats the URL's
    onbuka = httpx.Client(
        transport=NormalizingTransport("onbuka", transport=httpx.MockTransport(json_handler(body)))
    )
    r = onbuka.post(
        "https://api.onbuka.com/v3/sendSms", extensions={"normalizer": {"product": "ai_voice"}}
    )
    assert outcome(r).product == "ai_voice"
    with pytest.raises(ValueError, match="no product 'fax'"):
        onbuka.post(
            "https://api.onbuka.com/v3/sendSms", extensions={"normalizer": {"product": "fax"}}
        )


def test_unknown_vendor_is_rejected_at_construction() -> None:
    with pytest.raises(normalizer.UnregisteredVendorError):
        NormalizingTransport("nope")


def drain(response: httpx.Response) -> bytes:
    """Everything left in a transport-level response stream, then close it."""
    stream = response.stream
    assert isinstance(stream, httpx.SyncByteStream)
    body = b"".join(stream)
    stream.close()
    return body


class CountingStream(httpx.SyncByteStream):
    """A response stream that records how much of it was consumed, and when it was closed."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks
        self.consumed = 0
        self.closed = False

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.chunks:
            self.consumed += 1
            yield chunk

    def close(self) -> None:
        self.closed = True


class AsyncCountingStream(httpx.AsyncByteStream):
    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks
        self.consumed = 0
        self.closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            self.consumed += 1
            yield chunk

    async def aclose(self) -> None:
        self.closed = True


MB = 1 << 20
AUDIO = [bytes([i % 250 + 1]) * 65_536 for i in range(64)]  # 4 MiB of "audio"


class RecordingTransport(httpx.BaseTransport):
    """Hands out one prepared streaming response and remembers it."""

    def __init__(self, stream: httpx.SyncByteStream, headers: dict[str, str] | None = None) -> None:
        self.stream = stream
        self.headers = headers or {}
        self.response: httpx.Response | None = None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.response = httpx.Response(200, headers=self.headers, stream=self.stream)
        return self.response


def _consumed_by_transport(content_type: str | None) -> tuple[int, bytes, Outcome | None]:
    stream = CountingStream(AUDIO)
    headers = {"content-type": content_type} if content_type else {}
    inner = RecordingTransport(stream, headers)
    transport = NormalizingTransport("mango", transport=inner)
    request = httpx.Request("POST", "https://app.mango-office.ru/vpbx/queries/recording/post")
    response = transport.handle_request(request)
    seen_by_transport = stream.consumed
    body = drain(response)
    assert stream.closed
    return seen_by_transport, body, outcome_of(response)


def test_declared_file_streams_through_unread() -> None:
    seen, body, outcome = _consumed_by_transport("audio/mpeg")
    assert seen == 0
    assert body == b"".join(AUDIO)
    assert outcome is not None
    assert (outcome.category, outcome.matched) == (Category.OK, Match.HTTP_STATUS)


@pytest.mark.parametrize("content_type", [None, "application/octet-stream", "text/plain"])
def test_undeclared_binary_is_sniffed_then_streamed(content_type: str | None) -> None:
    seen, body, outcome = _consumed_by_transport(content_type)
    assert seen == 1  # one chunk looked at, the rest never read by the transport
    assert body == b"".join(AUDIO)
    assert outcome is not None
    assert outcome.category is Category.UNKNOWN


def test_large_body_through_a_client_streams() -> None:
    stream = CountingStream(AUDIO)
    client = normalizer.Client(
        "mango", transport=RecordingTransport(stream, {"content-type": "audio/wav"})
    )
    with client.stream("POST", "https://app.mango-office.ru/vpbx/queries/recording/post") as r:
        raw = r.iter_raw()
        first = next(raw)
        assert stream.consumed == 1
        rest = b"".join(raw)
    assert first + rest == b"".join(AUDIO)
    assert outcome(r).ok


def test_json_over_cap_by_content_length_is_not_read() -> None:
    big = json.dumps({"result": 5001, "pad": "x" * 2000}).encode()
    stream = CountingStream([big])
    inner = RecordingTransport(
        stream, {"content-type": "application/json", "content-length": str(len(big))}
    )
    transport = NormalizingTransport("mango", transport=inner, max_body_size=1000)
    response = transport.handle_request(httpx.Request("POST", "https://app.mango-office.ru/vpbx/x"))
    assert stream.consumed == 0
    assert outcome(response).matched is Match.MISSING
    assert drain(response) == big


def test_chunked_json_over_cap_is_replayed_intact() -> None:
    chunks = [b'{"result": 5001, "pad": "', b"x" * 600, b"x" * 600, b'"}']
    stream = CountingStream(chunks)
    inner = RecordingTransport(stream, {"content-type": "application/json"})
    transport = NormalizingTransport("mango", transport=inner, max_body_size=1000)
    response = transport.handle_request(httpx.Request("POST", "https://app.mango-office.ru/vpbx/x"))
    assert stream.consumed == 3  # stopped as soon as the cap was passed
    assert outcome(response).category is Category.UNKNOWN
    assert drain(response) == b"".join(chunks)


@pytest.mark.anyio
async def test_async_streams_and_replays() -> None:
    stream = AsyncCountingStream(AUDIO)

    class Inner(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            return httpx.Response(200, stream=stream)

    transport = AsyncNormalizingTransport("mango", transport=Inner())
    response = await transport.handle_async_request(
        httpx.Request("POST", "https://app.mango-office.ru/vpbx/queries/recording/post")
    )
    assert stream.consumed == 1
    replay = response.stream
    assert isinstance(replay, httpx.AsyncByteStream)
    body = b"".join([c async for c in replay])
    assert body == b"".join(AUDIO)
    await replay.aclose()
    assert stream.closed


# bodies that are not what they claim; each must come back to the caller unchanged
BAD_BODIES: list[tuple[bytes, str]] = [
    (b"", "application/json"),
    (b"<html><body>502 Bad Gateway</body></html>", "text/html"),
    (b'{"result": 5001', "application/json"),
    (b"[" * 10_000 + b"]" * 10_000, "application/json"),
    (b'["5001"]', "application/json"),
    (b'{"result": 1000.0}', "application/json"),
    (b'{"result": null}', "application/json"),
    (b'{"result": true}', "application/json"),
    (
        '{"result": 5001, "message": "Перегрузка"}'.encode("cp1251"),
        "application/json; charset=windows-1251",
    ),
    (b"\xff\xfe\x00\x00garbage", "application/json"),
    (b"   \n\t  ", "text/plain"),
    (b"\x00" * 100, ""),
]


@pytest.mark.parametrize("status", [200, 502])
@pytest.mark.parametrize(("raw", "content_type"), BAD_BODIES, ids=range(len(BAD_BODIES)))
def test_bad_bodies_come_back_intact(raw: bytes, content_type: str, status: int) -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=raw, headers={"content-type": content_type})

    client = normalizer.Client("mango", transport=httpx.MockTransport(handle))
    response = client.post("https://app.mango-office.ru/vpbx/commands/callback")
    assert response.status_code == status
    assert response.content == raw
    outcome = outcome_of(response)
    assert outcome is not None
    assert outcome.category in set(Category)
    if status == 502:
        assert outcome.category is Category.SERVER
    if b"5001" in raw and b"{" in raw[:1] and raw.endswith(b"}"):
        assert outcome.category is Category.SERVER


def test_other_charset_keeps_vendor_text() -> None:
    raw = '{"result": 5001, "message": "Перегрузка"}'.encode("cp1251")
    client = normalizer.Client(
        "mango",
        transport=httpx.MockTransport(
            lambda r: httpx.Response(
                200, content=raw, headers={"content-type": "application/json; charset=cp1251"}
            )
        ),
    )
    response = client.post("https://app.mango-office.ru/vpbx/x")
    outcome = outcome_of(response)
    assert outcome is not None
    assert (outcome.category, outcome.vendor_message) == (Category.SERVER, "Перегрузка")
    assert response.text == '{"result": 5001, "message": "Перегрузка"}'


def test_gzip_body_is_classified_and_still_decoded_for_the_caller() -> None:
    raw = gzip.compress(b'{"resp": {"respCode": "107225"}}')
    client = normalizer.Client(
        "ucpaas",
        transport=httpx.MockTransport(
            lambda r: httpx.Response(
                200,
                content=raw,
                headers={"content-type": "application/json", "content-encoding": "gzip"},
            )
        ),
    )
    response = client.get("https://api.ucpaas.com/x")
    assert outcome(response).category is Category.BUSY
    assert response.json() == {"resp": {"respCode": "107225"}}


def test_head_and_204_are_ok_without_a_body() -> None:
    client = normalizer.Client(
        "airudder",
        transport=httpx.MockTransport(
            lambda r: httpx.Response(204 if r.method == "DELETE" else 200)
        ),
    )
    assert outcome(client.head("https://api.airudder.com/x")).ok
    assert outcome(client.delete("https://api.airudder.com/x")).ok


def test_mango_204_on_stats_result_is_busy() -> None:
    client = normalizer.Client(
        "mango", transport=httpx.MockTransport(lambda r: httpx.Response(204))
    )
    not_ready = client.post("https://app.mango-office.ru/vpbx/stats/result")
    assert outcome(not_ready).category is Category.BUSY
    done = client.post("https://app.mango-office.ru/vpbx/commands/callback")
    assert outcome(done).ok


def test_transport_errors_propagate_unchanged() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    client = normalizer.Client("mango", transport=httpx.MockTransport(handle))
    with pytest.raises(httpx.ConnectError, match="refused"):
        client.post("https://app.mango-office.ru/vpbx/x")


def test_read_errors_mid_body_propagate_and_close() -> None:
    class Broken(httpx.SyncByteStream):
        closed = False

        def __iter__(self) -> Iterator[bytes]:
            yield b'{"result": '
            raise httpx.RemoteProtocolError("peer closed connection")

        def close(self) -> None:
            Broken.closed = True

    transport = NormalizingTransport(
        "mango", transport=RecordingTransport(Broken(), {"content-type": "application/json"})
    )
    with pytest.raises(httpx.RemoteProtocolError):
        transport.handle_request(httpx.Request("POST", "https://app.mango-office.ru/vpbx/x"))
    assert Broken.closed


def test_raise_on_error_raises_typed_error_with_readable_response() -> None:
    body = {"result": 5001, "message": "overloaded, call +79161234567 later"}
    client = normalizer.Client(
        "mango", raise_on_error=True, transport=httpx.MockTransport(json_handler(body))
    )
    with pytest.raises(ServerError) as info:
        client.post("https://app.mango-office.ru/vpbx/commands/callback?sign=SECRET&x=1")
    err = info.value
    assert err.outcome.code == "5001"
    assert err.response is not None
    assert err.response.json() == body
    text = str(err)
    assert "mango code 5001: server - Перегрузка" in text
    assert "POST https://app.mango-office.ru/vpbx/commands/callback?sign=***&x=1" in text
    assert "SECRET" not in text
    assert "79161234567" not in text
    assert "4567" in text


def test_raise_on_error_leaves_ok_alone_and_maps_unknown() -> None:
    ok = normalizer.Client(
        "mango", raise_on_error=True, transport=httpx.MockTransport(json_handler({"result": 1000}))
    )
    assert ok.post("https://app.mango-office.ru/vpbx/x").json() == {"result": 1000}
    odd = normalizer.Client(
        "mango", raise_on_error=True, transport=httpx.MockTransport(json_handler({"result": 77}))
    )
    with pytest.raises(UnknownVendorError):
        odd.post("https://app.mango-office.ru/vpbx/x")


@pytest.mark.anyio
async def test_async_raise_on_error() -> None:
    async with normalizer.AsyncClient(
        "ucpaas",
        raise_on_error=True,
        transport=httpx.MockTransport(json_handler({"resp": {"respCode": 107225}})),
    ) as client:
        with pytest.raises(BusyError) as info:
            await client.get("https://api.ucpaas.com/x")
    assert info.value.response is not None
    assert info.value.response.json() == {"resp": {"respCode": 107225}}


@pytest.mark.parametrize("vendor", ["acme", None])
def test_mappings_registered_later_apply_to_existing_clients(
    registry: Registry, write_mapping: Callable[[str, str], Path], vendor: str | None
) -> None:
    mock = httpx.MockTransport(lambda request: httpx.Response(200, json={"code": "77"}))
    client = normalizer.Client(vendor, registry=registry, transport=mock)
    url = "https://api.acme.test/v1/call"
    assert outcome(client.get(url)).category is Category.UNKNOWN  # routes are cached now
    registry.register(
        write_mapping(
            'format = 1\n[vendor]\nextends = "acme"\n[codes]\n'
            '"77" = { category = "auth", description = "bad key" }\n',
            "later.toml",
        )
    )
    assert outcome(client.get(url)).category is Category.AUTH


def _counting_parses(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    from normalizer import _classify

    count = [0]

    def counted(original: Callable[..., object]) -> Callable[..., object]:
        def wrapper(*args: object, **kwargs: object) -> object:
            count[0] += 1
            return original(*args, **kwargs)

        return wrapper

    if _classify.fast_loads is not None:
        monkeypatch.setattr(_classify, "fast_loads", counted(_classify.fast_loads))
    monkeypatch.setattr(json, "loads", counted(json.loads))
    return count


def test_a_json_body_is_parsed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    body = {"result": 3103, "rows": [{"n": i} for i in range(1000)], "big": 2**70, "x": 1.5}
    mock = httpx.MockTransport(lambda request: httpx.Response(200, json=body))
    client = normalizer.Client("mango", transport=mock)
    count = _counting_parses(monkeypatch)
    response = client.post("https://app.mango-office.ru/vpbx/commands/callback")
    first = response.json()
    assert count[0] in (1, 2)  # orjson refuses 2**70 and hands it to json: still one document
    parses = count[0]
    assert first == body
    assert isinstance(response, httpx.Response)
    again = response.json()  # later calls parse as httpx does, a fresh document each time
    assert again == body
    assert again is not first
    assert count[0] > parses
    from decimal import Decimal

    assert response.json(parse_float=Decimal)["x"] == Decimal("1.5")


def test_a_body_httpx_would_not_parse_is_not_offered(monkeypatch: pytest.MonkeyPatch) -> None:
    # cp1251 bytes: normalizer reads the code anyway; .json() behaves exactly as httpx's
    raw = '{"result": 3103, "message": "Ошибка"}'.encode("cp1251")
    headers = {"content-type": "application/json"}
    mock = httpx.MockTransport(lambda request: httpx.Response(200, content=raw, headers=headers))
    response = normalizer.Client("mango", transport=mock).get("https://app.mango-office.ru/vpbx/x")
    assert outcome(response).code == "3103"
    with pytest.raises(UnicodeDecodeError):
        httpx.Response(200, content=raw, headers=headers).json()
    with pytest.raises(UnicodeDecodeError):
        response.json()


def test_a_transport_wrapped_twice_classifies_and_retries_once() -> None:
    sent: list[str] = []

    def vendor(request: httpx.Request) -> httpx.Response:
        sent.append(str(request.url))
        return httpx.Response(200, json={"result": 5001})  # MANGO overload: retryable

    seen: list[object] = []
    inner = NormalizingTransport("mango", transport=httpx.MockTransport(vendor), retry=None)
    outer = NormalizingTransport("mango", transport=inner, on_outcome=seen.append)
    with normalizer.testing.set_testing(True, attempts=2):
        response = httpx.Client(transport=outer).post(
            "https://app.mango-office.ru/vpbx/commands/callback"
        )
    assert len(sent) == 2  # the outer's two attempts; the inner passed each on as it came
    assert len(seen) == 1  # one call heard of, by the outermost
    assert response.extensions["normalizer.attempts"] == 2


@pytest.mark.anyio
async def test_an_async_transport_wrapped_twice_classifies_once() -> None:
    sent: list[str] = []

    def vendor(request: httpx.Request) -> httpx.Response:
        sent.append(str(request.url))
        return httpx.Response(200, json={"result": 5001})

    seen: list[object] = []
    inner = AsyncNormalizingTransport("mango", transport=httpx.MockTransport(vendor), retry=None)
    outer = AsyncNormalizingTransport("mango", transport=inner, on_outcome=seen.append)
    with normalizer.testing.set_testing(True, attempts=3):
        async with httpx.AsyncClient(transport=outer) as client:
            await client.post("https://app.mango-office.ru/vpbx/commands/callback")
    assert len(sent) == 3
    assert len(seen) == 1


def test_a_redirect_is_a_new_call_even_while_its_first_request_is_sent() -> None:
    # the redirect's request is a new request: the inner transport classifies it on its own
    seen: list[object] = []

    def vendor(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/old":
            return httpx.Response(302, headers={"location": "https://app.mango-office.ru/new"})
        return httpx.Response(200, json={"result": 1000})

    transport = NormalizingTransport(
        "mango", transport=httpx.MockTransport(vendor), on_outcome=seen.append
    )
    client = httpx.Client(transport=transport, follow_redirects=True)
    response = client.get("https://app.mango-office.ru/old")
    assert response.status_code == 200
    assert len(seen) == 2  # the 302 and the answer it led to: two calls, each heard once
    assert not normalizer._transports._SENDING  # nothing left marked once the calls are over


@pytest.mark.parametrize("asynchronous", [False, True])
def test_a_transport_error_is_retried_after_its_pause(asynchronous: bool) -> None:
    # the error of the first attempt is thrown into the call once: after the pause the call
    # sends again and the second answer stands
    answers: list[httpx.Response | Exception] = [
        httpx.ConnectError("refused"),
        httpx.Response(200, json={"result": 1000}),
    ]
    slept: list[float] = []

    def vendor(request: httpx.Request) -> httpx.Response:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    async def async_sleep(seconds: float) -> None:
        slept.append(seconds)

    policy = normalizer.RetryPolicy(sleep=slept.append, async_sleep=async_sleep)
    url = "https://app.mango-office.ru/vpbx/commands/callback"
    with normalizer.testing.set_testing(False):
        if asynchronous:

            async def call() -> httpx.Response:
                transport = AsyncNormalizingTransport(
                    "mango", transport=httpx.MockTransport(vendor), retry=policy
                )
                async with httpx.AsyncClient(transport=transport) as client:
                    return await client.get(url)

            import asyncio

            response = asyncio.run(call())
        else:
            transport = NormalizingTransport(
                "mango", transport=httpx.MockTransport(vendor), retry=policy
            )
            response = httpx.Client(transport=transport).get(url)
    assert len(slept) == 1
    assert response.status_code == 200
    assert response.extensions["normalizer.attempts"] == 2
