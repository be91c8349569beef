"""normalizer.aiohttp: the session with NormalizingMiddleware gets what the httpx AsyncClient
gets, for the same answers, from a real aiohttp.web server on 127.0.0.1 (no network, no real
sleeping: the suite's set_testing makes retries instant)."""

from __future__ import annotations

import asyncio
import gzip
import json
import uuid
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import httpx
import pytest
from aiohttp import web
from structlog.testing import capture_logs

import normalizer
from normalizer import Category, RetryPolicy, VendorCall, outcome_of
from normalizer._outcome import extensions_of
from normalizer.aiohttp import NormalizingMiddleware
from tests.sdk.conftest import transport_attempts
from tests.sdk.local_aiohttp import DROP, LocalVendor, Reply, closed_port, json_reply

T = TypeVar("T")
ROOT = Path(__file__).resolve().parents[1]
TWILIO = "http://api.twilio.com/2010-04-01/Accounts/AC123/Messages.json"
QUEUED = {"sid": "SM1", "status": "queued", "error_code": None, "error_message": None}
BUSY = (429, {"code": 20429, "message": "Too Many Requests", "more_info": "", "status": 429})
AUTH = (401, {"code": 20003, "message": "Authenticate", "more_info": "", "status": 401})
INVALID = (400, {"code": 21211, "message": "The 'To' number is not valid", "status": 400})
UNAVAILABLE = (500, {"code": 20500, "message": "Internal Server Error", "status": 500})
FORM = {"To": "+15005550006", "From": "+15005550001", "Body": "hi"}


def run(main: Callable[[], Coroutine[Any, Any, T]]) -> T:
    return asyncio.run(main())


async def post(
    vendor: LocalVendor, middleware: NormalizingMiddleware, url: str = TWILIO, **kwargs: Any
) -> tuple[aiohttp.ClientResponse, bytes]:
    """One POST through a session with ``middleware``: the response and its body."""
    async with vendor.session(middleware) as session, session.post(url, **kwargs) as response:
        return response, await response.read()


def httpx_attempts(answers: list[tuple[int, Any]], method: str = "POST") -> int:
    return transport_attempts("twilio", method, TWILIO.replace("http:", "https:"), answers)


# --- the same outcomes as the httpx AsyncClient, on the corpus of real answers -----------------


def _records() -> list[dict[str, Any]]:
    records = []
    for path in sorted((ROOT / "tests" / "corpus" / "real").glob("*.jsonl")):
        for line in path.read_text("utf-8").splitlines():
            record = json.loads(line)
            if line and record.get("direction") != "webhook" and record.get("url"):
                records.append(record)
    return records


RECORDS = _records()


def test_the_corpus_reads_alike_through_aiohttp_and_httpx() -> None:
    """Every real answer of tests/corpus/real: the outcome on the aiohttp response equals the
    httpx AsyncClient's for the same bytes and headers, after as many requests, and the body
    reaches the caller as the vendor sent it."""

    async def main() -> list[str]:
        differences: list[str] = []
        for record in RECORDS:
            body = record["body"].encode()
            headers = {"Content-Type": record["content_type"]} if record["content_type"] else {}
            url = record["url"].replace("https://", "http://")
            sent = record.get("request_headers") or {}
            async with LocalVendor(Reply(record["status"], body, headers)) as vendor:
                got, raw = await _through_aiohttp(vendor, record["method"], url, sent)
            want, count = await _through_httpx(record["method"], url, sent, raw, got)
            if (got.outcome, len(vendor.requests)) != (want, count):
                differences.append(f"{record['id']}: {got.outcome} != {want}")
            if record["status"] != 204 and got.body != body:
                differences.append(f"{record['id']}: body changed")
        return differences

    assert run(main) == []
    assert len(RECORDS) > 200


class Got:
    def __init__(self, outcome: normalizer.Outcome | None, body: bytes) -> None:
        self.outcome = outcome
        self.body = body


async def _through_aiohttp(
    vendor: LocalVendor, method: str, url: str, headers: dict[str, str]
) -> tuple[Got, Reply]:
    async with (
        vendor.session(NormalizingMiddleware()) as session,
        session.request(method, url, headers=headers) as response,
    ):
        body = await response.read()
        raw = Reply(response.status, body, dict(response.headers))
        return Got(outcome_of(response), body), raw


async def _through_httpx(
    method: str, url: str, headers: dict[str, str], raw: Reply, got: Got
) -> tuple[normalizer.Outcome | None, int]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(raw.status, content=raw.body, headers=raw.headers)

    async with normalizer.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        response = await client.request(method, url, headers=headers)
    return outcome_of(response), len(seen)


# --- auth, validation, limit and busy answers ---------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "category", "code"),
    [
        (AUTH, Category.AUTH, "20003"),
        (INVALID, Category.VALIDATION, "21211"),
        (BUSY, Category.BUSY, "20429"),
        (UNAVAILABLE, Category.SERVER, "20500"),
    ],
    ids=["auth", "validation", "limit", "server"],
)
def test_an_answer_reads_and_is_retried_as_the_transport_would(
    answer: tuple[int, Any], category: Category, code: str
) -> None:
    async def main() -> tuple[normalizer.Outcome | None, int, Any]:
        async with LocalVendor(answer) as vendor:
            response, body = await post(vendor, NormalizingMiddleware("twilio"), data=FORM)
        return outcome_of(response), len(vendor.requests), json.loads(body)

    outcome, requests, body = run(main)
    assert outcome is not None
    assert (outcome.vendor, outcome.product, outcome.category, outcome.code) == (
        "twilio",
        "messaging",
        category,
        code,
    )
    assert body == answer[1]  # the caller reads the vendor's answer
    assert requests == httpx_attempts([answer])  # busy: 3 attempts, the others 1


def test_a_busy_answer_then_success_is_sent_twice_as_the_transport_sends_it() -> None:
    answers = [BUSY, (201, QUEUED)]

    async def main() -> tuple[normalizer.Outcome | None, int, Any]:
        async with LocalVendor(*answers) as vendor:
            response, body = await post(vendor, NormalizingMiddleware("twilio"), data=FORM)
        return outcome_of(response), len(vendor.requests), json.loads(body)

    outcome, requests, body = run(main)
    assert outcome is not None
    assert outcome.ok
    assert body == QUEUED
    assert requests == 2 == httpx_attempts(answers)


def test_a_session_that_raises_for_status_raises_after_the_retries() -> None:
    """``ClientSession(raise_for_status=True)``: aiohttp checks the status once the middleware
    chain is done, so the busy answers are retried first, a success after them raises nothing,
    and only the last answer of a call that gave up raises aiohttp's error (its status the
    vendor's last); an answer that is an error only in its body is no HTTP error to aiohttp."""

    async def main(*answers: Any) -> tuple[BaseException | None, int, Any]:
        async with (
            LocalVendor(*answers) as vendor,
            vendor.session(NormalizingMiddleware("twilio"), raise_for_status=True) as session,
        ):
            try:
                async with session.post(TWILIO, data=FORM) as response:
                    return None, len(vendor.requests), outcome_of(response)
            except aiohttp.ClientResponseError as error:
                return error, len(vendor.requests), None

    error, requests, outcome = run(lambda: main(BUSY, (201, QUEUED)))
    assert (error, requests) == (None, 2)
    assert outcome is not None
    assert outcome.ok
    error, requests, _ = run(lambda: main(BUSY, BUSY, BUSY))
    assert isinstance(error, aiohttp.ClientResponseError)
    assert error.status == 429
    assert requests == 3 == httpx_attempts([BUSY, BUSY, BUSY])
    error, requests, outcome = run(lambda: main((200, {"code": 21211, "message": "invalid"})))
    assert (error, requests) == (None, 1)
    assert outcome is not None
    assert outcome.category is Category.VALIDATION


def test_every_attempt_sends_the_same_request() -> None:
    async def main() -> LocalVendor:
        async with LocalVendor(BUSY, BUSY, (201, QUEUED)) as vendor:
            await post(vendor, NormalizingMiddleware("twilio"), data=FORM)
        return vendor

    vendor = run(main)
    assert len(vendor.requests) == 3
    assert len({(r.method, r.path_qs, r.body) for r in vendor.requests}) == 1
    assert vendor.requests[0].body == b"To=%2B15005550006&From=%2B15005550001&Body=hi"


# --- resend safety: what aiohttp's exceptions mean ---------------------------------------------


def test_a_post_whose_answer_was_lost_is_never_resent() -> None:
    async def main() -> tuple[BaseException, int]:
        async with LocalVendor(DROP, (201, QUEUED)) as vendor:
            with pytest.raises(aiohttp.ClientError) as raised:
                await post(vendor, NormalizingMiddleware("twilio"), data=FORM)
        return raised.value, len(vendor.requests)

    error, requests = run(main)
    assert isinstance(error, aiohttp.ServerDisconnectedError)  # aiohttp's own, not httpx's
    assert requests == 1


ATTEMPTS = 0


def test_a_get_whose_answer_was_lost_is_resent() -> None:
    async def main() -> tuple[normalizer.Outcome | None, int]:
        async with (
            LocalVendor(DROP, (200, QUEUED)) as vendor,
            vendor.session(NormalizingMiddleware("twilio")) as session,
            session.get(TWILIO.replace(".json", "/SM1.json")) as response,
        ):
            await response.read()
        global ATTEMPTS
        ATTEMPTS = extensions_of(response)["normalizer.attempts"]
        return outcome_of(response), len(vendor.requests)

    outcome, requests = run(main)
    assert outcome is not None
    assert outcome.ok
    assert requests == 2
    assert ATTEMPTS == 2  # resent by the middleware ("safe_method"), not by aiohttp itself


def test_a_post_whose_connection_was_refused_is_resent() -> None:
    async def main() -> tuple[normalizer.Outcome | None, int, int]:
        async with (
            LocalVendor((201, QUEUED)) as vendor,
            vendor.session(NormalizingMiddleware("twilio"), refuse=1) as session,
            session.post(TWILIO, data=FORM) as response,
        ):
            await response.read()
        return outcome_of(response), len(vendor.requests), vendor.connections

    outcome, requests, connections = run(main)
    assert outcome is not None
    assert outcome.ok
    assert (requests, connections) == (1, 2)  # refused once, then sent once


def test_a_connection_always_refused_raises_aiohttp_s_error_after_every_attempt() -> None:
    async def main() -> int:
        async with (
            LocalVendor((201, QUEUED)) as vendor,
            vendor.session(NormalizingMiddleware("twilio"), refuse=10) as session,
        ):
            with pytest.raises(aiohttp.ClientConnectorError):
                await session.post(TWILIO, data=FORM)
        return vendor.connections

    assert run(main) == 3


def test_a_read_timeout_on_a_post_is_not_resent_and_stays_aiohttp_s() -> None:
    async def slow(request: web.Request) -> web.StreamResponse:
        await asyncio.sleep(1)
        return web.json_response(QUEUED)

    async def main() -> int:
        async with LocalVendor(slow) as vendor:
            timeout = aiohttp.ClientTimeout(sock_read=0.05)
            async with vendor.session(NormalizingMiddleware("twilio"), timeout=timeout) as s:
                with pytest.raises(aiohttp.SocketTimeoutError):
                    await s.post(TWILIO, data=FORM)
        return len(vendor.requests)

    assert run(main) == 1


def test_the_retry_deadline_bounds_an_attempt_as_httpx_s_timeouts_would() -> None:
    async def slow(request: web.Request) -> web.StreamResponse:
        await asyncio.sleep(2)
        return web.json_response(QUEUED)

    async def main() -> float:
        loop = asyncio.get_running_loop()
        async with LocalVendor(slow) as vendor:
            middleware = NormalizingMiddleware("twilio", retry=RetryPolicy(deadline=0.1))
            async with vendor.session(middleware) as session:
                started = loop.time()
                with pytest.raises(TimeoutError):
                    await session.post(TWILIO, data=FORM)
                return loop.time() - started

    assert run(main) < 1.5


def test_a_later_attempt_is_bounded_by_what_is_left_of_the_deadline() -> None:
    async def slow(request: web.Request) -> web.StreamResponse:
        await asyncio.sleep(2)
        return web.json_response(QUEUED)

    async def main() -> tuple[float, int]:
        loop = asyncio.get_running_loop()
        async with LocalVendor(BUSY, slow) as vendor:
            middleware = NormalizingMiddleware("twilio", retry=RetryPolicy(deadline=0.3))
            async with vendor.session(middleware) as session:
                started = loop.time()
                with pytest.raises(TimeoutError):
                    await session.post(TWILIO, data=FORM)
                return loop.time() - started, len(vendor.requests)

    took, requests = run(main)
    assert requests == 2
    assert took < 1.5


def test_a_host_no_mapping_claims_keeps_aiohttp_s_timeouts_alone() -> None:
    async def slow(request: web.Request) -> web.StreamResponse:
        await asyncio.sleep(0.3)
        return web.json_response(QUEUED)

    async def main() -> int:
        async with LocalVendor(slow) as vendor:
            middleware = NormalizingMiddleware(retry=RetryPolicy(deadline=0.05))
            response, _ = await post(vendor, middleware, "http://example.test/slow")
            return response.status

    assert run(main) == 200  # not a vendor call: no retry deadline applies


def test_the_caller_s_own_cancellation_stays_a_cancellation() -> None:
    arrived = asyncio.Event()

    async def slow(request: web.Request) -> web.StreamResponse:
        arrived.set()
        await asyncio.sleep(2)
        return web.json_response(QUEUED)

    async def main() -> None:
        async with LocalVendor(slow) as vendor:
            middleware = NormalizingMiddleware("twilio", retry=RetryPolicy(deadline=30))
            async with vendor.session(middleware) as session:
                call = asyncio.create_task(session.post(TWILIO, data=FORM))
                await arrived.wait()
                call.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await call

    run(main)


def test_a_body_aiohttp_streams_is_never_resent() -> None:
    async def chunks() -> Any:
        yield b"To=%2B15005550006"

    async def main() -> int:
        async with LocalVendor(BUSY, (201, QUEUED)) as vendor:
            await post(vendor, NormalizingMiddleware("twilio"), data=chunks())
        return len(vendor.requests)

    assert run(main) == 1  # a one-shot body: "body_not_replayable", as in httpx


# --- the body the caller reads is the vendor's, byte for byte ---------------------------------


PAGE = b"<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>"
GARBLED = b'{"code": 20003, "message": "Authen\xff\xfe' + bytes(range(256))


@pytest.mark.parametrize(
    "reply",
    [
        Reply(503, PAGE, {"Content-Type": "text/html"}),
        Reply(200, b"", {"Content-Type": "application/json"}),
        Reply(200, b""),
        Reply(401, GARBLED, {"Content-Type": "application/json"}),
        Reply(200, b"OK", {"Content-Type": "text/plain; charset=utf-8"}),
        Reply(200, b"  \r\n" + json.dumps(QUEUED).encode(), {"Content-Type": "text/plain"}),
    ],
    ids=["html", "empty-json", "empty", "garbled", "text", "text-json"],
)
@pytest.mark.parametrize("chunked", [False, True], ids=["declared", "chunked"])
def test_the_body_reaches_the_caller_unchanged(reply: Reply, chunked: bool) -> None:
    async def answer(request: web.Request) -> web.StreamResponse:
        if not chunked:
            return web.Response(status=reply.status, body=reply.body, headers=reply.headers)
        response = web.StreamResponse(status=reply.status, headers=reply.headers)
        response.enable_chunked_encoding()
        await response.prepare(request)
        for at in range(0, len(reply.body), 7):
            await response.write(reply.body[at : at + 7])
        await response.write_eof()
        return response

    async def main() -> tuple[bytes, bytes, str, normalizer.Outcome | None, int]:
        async with (
            LocalVendor(answer) as vendor,
            vendor.session(NormalizingMiddleware("twilio")) as session,
            session.post(TWILIO, data=FORM) as response,
        ):
            read = await response.read()
            again = await response.read()
            text = await response.text(errors="replace")
            return read, again, text, outcome_of(response), len(vendor.requests)

    read, again, text, outcome, requests = run(main)
    assert read == again == reply.body
    assert text == reply.body.decode("utf-8", errors="replace")
    assert outcome is not None
    assert requests >= 1


@pytest.mark.parametrize(
    "reply",
    [
        Reply(400, json.dumps({"code": 21211, "message": "Invalid"}).encode()),
        Reply(201, json.dumps(QUEUED).encode(), {"Content-Type": "application/json"}),
        Reply(502, PAGE, {"Content-Type": "text/html"}),
    ],
    ids=["json-error", "json-ok", "html"],
)
def test_a_small_declared_body_the_call_read_whole_streams_again_for_the_caller(
    reply: Reply,
) -> None:
    # read whole with aiohttp's read() to classify it: the caller's content.read() and
    # iter_chunked() still give every byte, as without the middleware
    async def answer(request: web.Request) -> web.StreamResponse:
        return web.Response(status=reply.status, body=reply.body, headers=reply.headers)

    async def main() -> tuple[bytes, bytes]:
        async with (
            LocalVendor(answer) as vendor,
            vendor.session(NormalizingMiddleware("twilio", retry=None)) as session,
        ):
            async with session.post(TWILIO, data=FORM) as response:
                streamed = await response.content.read()
            async with session.post(TWILIO, data=FORM) as response:
                chunks = b"".join([c async for c in response.content.iter_chunked(5)])
            return streamed, chunks

    streamed, chunks = run(main)
    assert streamed == chunks == reply.body


def test_the_stream_a_half_read_body_left_is_whole_for_the_caller() -> None:
    """A chunked page the call sniffed (its first bytes open no document): the caller reads
    all of it from ``response.content``, the sniffed bytes first."""
    parts = [b"<html>", *[b"<p>%d</p>" % n for n in range(2000)], b"</html>"]

    async def answer(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/html"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        for part in parts:
            await response.write(part)
        await response.write_eof()
        return response

    async def main() -> tuple[bytes, normalizer.Outcome | None]:
        async with (
            LocalVendor(answer) as vendor,
            vendor.session(NormalizingMiddleware("twilio")) as session,
            session.get(TWILIO) as response,
        ):
            chunks = [chunk async for chunk in response.content.iter_any()]
            return b"".join(chunks), outcome_of(response)

    body, outcome = run(main)
    assert body == b"".join(parts)
    assert outcome is not None


def test_a_gzip_answer_reads_as_in_httpx_and_decoded_for_the_caller() -> None:
    data = json.dumps(AUTH[1]).encode()
    reply = Reply(
        401, gzip.compress(data), {"Content-Type": "application/json", "Content-Encoding": "gzip"}
    )

    async def main() -> tuple[Any, normalizer.Outcome | None]:
        async with (
            LocalVendor(reply) as vendor,
            vendor.session(NormalizingMiddleware("twilio")) as session,
            session.post(TWILIO, data=FORM) as response,
        ):
            return await response.json(), outcome_of(response)

    body, outcome = run(main)
    assert body == AUTH[1]
    assert outcome is not None
    assert (outcome.category, outcome.code) == (Category.AUTH, "20003")


def test_a_large_download_streams_to_the_caller_before_it_ends() -> None:
    """Not a document (a CSV export): handed over at once, the rest still on its way."""
    release = asyncio.Event()
    chunk = b"id,status\n" + b"1,delivered\n" * 10_000

    async def answer(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/plain"})
        await response.prepare(request)
        await response.write(chunk)
        await release.wait()  # the rest only once the caller holds the response
        for _ in range(40):
            await response.write(chunk)
        await response.write_eof()
        return response

    async def main() -> tuple[int, normalizer.Outcome | None]:
        async with LocalVendor(answer) as vendor:
            async with vendor.session(NormalizingMiddleware("twilio")) as session:
                response = await asyncio.wait_for(session.get(TWILIO), 5)
                release.set()
                size = 0
                async for part in response.content.iter_chunked(65536):
                    size += len(part)
                response.release()
            return size, outcome_of(response)

    size, outcome = run(main)
    assert size == 41 * len(chunk)  # about 5 MB, never held whole by the middleware
    assert outcome is not None
    assert outcome.http_status == 200


def test_a_declared_json_over_the_cap_is_not_read() -> None:
    big = json.dumps({"items": ["x" * 100] * 20_000}).encode()

    async def main() -> tuple[bytes, normalizer.Outcome | None]:
        async with LocalVendor(Reply(200, big, {"Content-Type": "application/json"})) as vendor:
            middleware = NormalizingMiddleware("twilio", max_body_size=1000)
            response, body = await post(vendor, middleware, data=FORM)
        return body, outcome_of(response)

    body, outcome = run(main)
    assert body == big
    assert outcome is not None
    assert outcome.category is Category.UNKNOWN  # 2xx, too large to read: as in httpx


def test_a_replaced_answer_is_released_before_the_next_attempt() -> None:
    """One connection in the pool: an unread busy page not released would hold it forever."""
    page = b"<html>" + b"<p>Too Many Requests</p>" * 5000 + b"</html>"

    async def busy(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(status=429, headers={"Content-Type": "text/html"})
        await response.prepare(request)
        await response.write(page)
        await response.write_eof()
        return response

    async def main() -> tuple[int, normalizer.Outcome | None]:
        async with (
            LocalVendor(busy, (201, QUEUED)) as vendor,
            vendor.session(NormalizingMiddleware("twilio"), limit=1) as session,
            session.get(TWILIO) as response,
        ):
            await asyncio.wait_for(response.read(), 5)
            return len(vendor.requests), outcome_of(response)

    requests, outcome = run(main)
    assert requests == 2
    assert outcome is not None
    assert outcome.ok


def test_an_answer_is_not_kept_alive_once_its_caller_drops_it() -> None:
    """outcome_of's entry beside the aiohttp response (weakly keyed) must not hold it."""
    import gc
    import weakref

    async def main() -> tuple[weakref.ref[aiohttp.ClientResponse], bool]:
        async with LocalVendor(BUSY, (201, QUEUED)) as vendor:
            response, _ = await post(vendor, NormalizingMiddleware("twilio"), data=FORM)
        ok = outcome_of(response) is not None
        return weakref.ref(response), ok

    gone, ok = run(main)
    gc.collect()
    assert ok
    assert gone() is None


def test_a_host_no_mapping_claims_passes_through_untouched() -> None:
    async def main() -> tuple[bytes, normalizer.Outcome | None, int]:
        async with LocalVendor(BUSY) as vendor:
            response, body = await post(vendor, NormalizingMiddleware(), "http://example.test/x")
        return body, outcome_of(response), len(vendor.requests)

    body, outcome, requests = run(main)
    assert json.loads(body) == BUSY[1]
    assert outcome is None
    assert requests == 1


# --- raise_on_error, logs, hooks, state -------------------------------------------------------


def test_raise_on_error_raises_the_typed_error_with_the_aiohttp_response() -> None:
    async def main() -> tuple[normalizer.VendorError, Any, int]:
        async with LocalVendor(INVALID) as vendor:
            middleware = NormalizingMiddleware("twilio", raise_on_error=True)
            async with vendor.session(middleware) as session:
                with pytest.raises(normalizer.ValidationError) as raised:
                    await session.post(TWILIO, data=FORM)
                error = raised.value
                assert isinstance(error.response, aiohttp.ClientResponse)
                body = await error.response.json()
        return error, body, len(vendor.requests)

    error, body, requests = run(main)
    assert (error.vendor, error.code, error.status_code) == ("twilio", "21211", 400)
    assert body == INVALID[1]
    assert error.request is not None
    assert error.request.method == "POST"
    assert requests == 1
    assert "AC123" not in str(error)  # the account id in the path is masked, as in httpx


def test_raise_on_error_after_retries_counts_them() -> None:
    async def main() -> normalizer.VendorError:
        async with LocalVendor(BUSY) as vendor:
            middleware = NormalizingMiddleware("twilio", raise_on_error=True)
            with pytest.raises(normalizer.BusyError) as raised:
                await post(vendor, middleware, data=FORM)
        return raised.value

    error = run(main)
    assert error.attempts == 3


def test_logs_redact_secrets_and_numbers() -> None:
    phone = "+15005550006"
    secret = "TOKEN-SECRET"

    async def main() -> None:
        async with LocalVendor(BUSY, (201, QUEUED)) as vendor:
            middleware = NormalizingMiddleware("twilio", log_bodies=True)
            await post(
                vendor,
                middleware,
                f"{TWILIO}?api_key={secret}",
                data={"To": phone, "Body": "hi"},
                headers={"Authorization": f"Bearer {secret}"},
            )

    with capture_logs() as logs:
        run(main)
    assert [e["event"] for e in logs] == ["vendor_call_failed", "vendor_call_retrying"]
    assert logs[0]["code"] == "20429"
    text = repr(logs)
    assert secret not in text
    assert phone not in text
    assert "5550006" not in text
    assert "AC123" not in text


def test_on_outcome_hears_every_call_once() -> None:
    calls: list[VendorCall] = []

    async def main() -> None:
        async with LocalVendor(BUSY, (201, QUEUED)) as vendor:
            await post(vendor, NormalizingMiddleware("twilio", on_outcome=calls.append), data=FORM)

    run(main)
    assert len(calls) == 1
    assert calls[0].attempts == 2
    assert calls[0].outcome is not None
    assert calls[0].outcome.ok


def test_the_circuit_opens_across_calls_and_the_budget_is_the_middleware_s() -> None:
    breaker = normalizer.CircuitBreaker(failures=2, recovery=600)

    async def main() -> int:
        async with LocalVendor(UNAVAILABLE) as vendor:
            middleware = NormalizingMiddleware("twilio", circuit=breaker)
            async with vendor.session(middleware) as session:
                for _ in range(2):
                    async with session.post(TWILIO, data=FORM) as response:
                        await response.read()
                with pytest.raises(normalizer.CircuitOpenError):
                    await session.post(TWILIO, data=FORM)
        return len(vendor.requests)

    assert run(main) == 2  # the third call never left


def test_an_async_redis_state_is_shared_by_two_middlewares(redis_server: Any) -> None:
    from normalizer.redis import AsyncRedisState

    breaker = normalizer.CircuitBreaker(failures=2, recovery=600)
    account = uuid.uuid4().hex

    async def main() -> int:
        async with (
            AsyncRedisState.from_url(redis_server.url, account=account) as one,
            AsyncRedisState.from_url(redis_server.url, account=account) as two,
            LocalVendor(UNAVAILABLE) as vendor,
        ):
            first = NormalizingMiddleware("twilio", circuit=breaker, state=one)
            second = NormalizingMiddleware("twilio", circuit=breaker, state=two)
            for _ in range(2):
                await post(vendor, first, data=FORM)
            with pytest.raises(normalizer.CircuitOpenError):
                await post(vendor, second, data=FORM)  # the fleet's circuit: open
        return len(vendor.requests)

    assert run(main) == 2


# --- construction, imports, and the one aiohttp internal relied on ------------------------------


def test_options_or_their_keywords_not_both() -> None:
    options = normalizer.Options(raise_on_error=True)
    assert NormalizingMiddleware("twilio", options=options).options is options
    assert NormalizingMiddleware(retry=None).options.retry is None
    with pytest.raises(TypeError, match="not both"):
        NormalizingMiddleware("twilio", options=options, retry=None)
    with pytest.raises(normalizer.UnregisteredVendorError):
        NormalizingMiddleware("no-such-vendor")


def test_normalizer_never_imports_aiohttp_and_the_middleware_does() -> None:
    import subprocess
    import sys

    code = (
        "import sys, normalizer\n"
        "normalizer.AsyncClient, normalizer.outcome_of\n"
        "assert 'aiohttp' not in sys.modules\n"
        "from normalizer.aiohttp import NormalizingMiddleware\n"
        "assert 'aiohttp' in sys.modules\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_aiohttp_still_lets_read_bytes_be_put_back() -> None:
    """normalizer.aiohttp._unread relies on StreamReader.unread_data (deprecated in aiohttp,
    still there): this fails the day aiohttp removes or changes it."""
    from normalizer.aiohttp import _unread

    async def main() -> tuple[bytes, bytes]:
        protocol = aiohttp.client_proto.ResponseHandler(asyncio.get_running_loop())
        content = aiohttp.StreamReader(protocol, 2**16)
        content.feed_data(b"head-")
        content.feed_data(b"rest")
        content.feed_eof()
        first = await content.readany()
        _unread(content, first)
        return first, await content.read()

    first, whole = run(main)
    assert first == b"head-rest"
    assert whole == b"head-rest"


def test_the_closed_port_helper_refuses() -> None:
    async def main() -> None:
        with pytest.raises(ConnectionRefusedError):
            await asyncio.open_connection("127.0.0.1", closed_port())

    run(main)


def test_json_reply_helper() -> None:
    assert json_reply(200, {"a": 1}).body == b'{"a": 1}'
