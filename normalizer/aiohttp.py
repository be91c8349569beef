"""normalizer for aiohttp: :class:`NormalizingMiddleware`, one of aiohttp's client middlewares.

::

    import aiohttp
    from normalizer.aiohttp import NormalizingMiddleware

    async with aiohttp.ClientSession(middlewares=[NormalizingMiddleware("twilio")]) as session:
        async with session.post(url, data=form) as response:
            outcome = normalizer.outcome_of(response)

The session gets what ``normalizer.AsyncClient`` gives an httpx user: every vendor answer
classified (:func:`normalizer.outcome_of` works on the returned ``aiohttp.ClientResponse``),
retried with the same decisions, within the same budget, rate limiter, circuit and store
(``normalizer.redis.AsyncRedisState`` included), logged and reported alike, and raised as a
typed :class:`~normalizer.VendorError` with ``raise_on_error=True``.

There is no second vendor call here. The middleware converts at the seam: the aiohttp request
becomes an ``httpx.Request`` handed to an :class:`~normalizer.AsyncNormalizingTransport`,
whose one vendor call (:func:`normalizer._call.vendor_call`) sends each attempt through a
small private transport that awaits aiohttp's own ``handler`` (the real I/O: the session's
connector, proxies and the middlewares after this one still apply), and sees each
``ClientResponse`` as an ``httpx.Response`` whose body is read lazily from the aiohttp one
(only what the body plan reads, up to ``max_body_size``: a large download still streams to
the caller). aiohttp's exceptions are seen as the httpx errors that mean the same thing for
resending (a connection never made is resent, a lost answer to a POST never is), and the
caller gets the original aiohttp exception back.
"""

from __future__ import annotations

import asyncio
import dataclasses
import warnings
from collections.abc import AsyncIterator, Mapping
from typing import Any, Unpack, cast

import aiohttp
import httpx
import yarl
from aiohttp import ClientHandlerType, ClientRequest, ClientResponse

from ._exceptions import VendorError
from ._options import Options, OptionsKwargs
from ._outcome import ATTEMPTS_KEY, OUTCOME_KEY, REDACTOR_KEY, carry
from ._redact import Redactor
from ._transports import _SENDING, AsyncNormalizingTransport

__all__ = ["NormalizingMiddleware"]

_EXCHANGE = "normalizer.aiohttp"
"""Where the httpx request the middleware built keeps its :class:`_Exchange`."""


class NormalizingMiddleware:
    """An aiohttp client middleware that classifies, retries and logs vendor calls.

    ``vendor`` fixes the vendor; without it each request's vendor is found from the mappings'
    selectors (hosts, paths, headers), and answers from hosts no mapping claims pass through
    untouched. ``options`` (an :class:`~normalizer.Options`) or its keyword arguments
    (``retry=``, ``raise_on_error=``, ``circuit=``, ``state=``, ``logger=``, ...) are the
    httpx transport's, with the same meaning; ``state`` is a ``LocalState`` (one of the
    middleware's own by default) or an async store (``normalizer.redis.AsyncRedisState``).

    Put it first in ``middlewares=[...]``: the middlewares after it (an auth middleware's
    challenge and answer) then run inside each of its attempts. One instance may serve many
    sessions; its budget, limiter and circuit are shared by all of them.

    With ``raise_on_error=True`` a non-ok final outcome raises its
    :class:`~normalizer.VendorError` subclass; its ``response`` is the ``aiohttp.ClientResponse``
    (the body read, ``await error.response.json()`` works), its ``request`` the httpx view of
    the request that the message names (method, URL, headers).
    """

    def __init__(
        self,
        vendor: str | None = None,
        *,
        options: Options | None = None,
        **kwargs: Unpack[OptionsKwargs],
    ) -> None:
        self._options = Options.of(options, kwargs)
        inner = dataclasses.replace(self._options, raise_on_error=False)  # raised here, below
        self._max_body_size = inner.max_body_size
        self._log_bodies = inner.log_bodies
        self._transport = AsyncNormalizingTransport(vendor, transport=_Handler(), options=inner)
        self._parsed = _Parsed()
        self._deadline = None if inner.retry is None else inner.retry.deadline
        self._timeouts = _Timeouts(None, self._deadline)

    @property
    def options(self) -> Options:
        """The options this middleware was built with."""
        return self._options

    async def __call__(self, request: ClientRequest, handler: ClientHandlerType) -> ClientResponse:
        """One request through aiohttp: a vendor's is classified (and retried, logged) as the
        httpx transport does it; anything else passes through."""
        timeouts = self._timeouts
        if timeouts.aiohttp is not request.session.timeout:  # a session of another setting
            timeouts = self._timeouts = _Timeouts(request.session.timeout, self._deadline)
        exchange = _Exchange(request, handler, self._max_body_size, timeouts, self._parsed)
        payload = request.body
        if not payload:  # no body
            stream: httpx.AsyncByteStream | httpx.ByteStream = _EMPTY
        elif _in_memory(payload.__class__):
            stream = httpx.ByteStream(bytes(await payload.as_bytes()))
        else:
            stream = _NotReplayable()
        outgoing = self._outgoing(request, exchange, stream)
        try:
            response = await self._transport.handle_async_request(outgoing)
        except httpx.TransportError as error:
            exchange.release()
            original = error.__cause__
            if isinstance(original, aiohttp.ClientError | TimeoutError):
                raise original from None  # an aiohttp user catches aiohttp's exceptions
            raise
        except BaseException:
            exchange.release()
            raise
        # what outcome_of reads on the answer (carry) must not hold the answer itself: the
        # entry is kept beside it, weakly keyed, and a value holding its key never goes
        body: _Body = response.extensions.pop(_EXCHANGE)
        answer = body.answer
        if len(exchange.answers) > 1:
            exchange.release(keep=answer)
        body.give_back()
        outcome = response.extensions.get(OUTCOME_KEY)
        if outcome is None:  # no vendor's: passed through
            return answer
        carry(answer, response)
        if self._options.raise_on_error and not outcome.ok:
            await body.settle()
            redactor = response.extensions.get(REDACTOR_KEY)
            raise VendorError.for_outcome(outcome)(
                outcome,
                request=outgoing,
                response=cast(Any, answer),  # the aiohttp response: where its user looks
                attempts=response.extensions.get(ATTEMPTS_KEY, 1),
                redactor=redactor if isinstance(redactor, Redactor) else None,
            )
        return answer

    def _outgoing(
        self,
        request: ClientRequest,
        exchange: _Exchange,
        stream: httpx.AsyncByteStream | httpx.ByteStream,
    ) -> httpx.Request:
        """The httpx view of ``request``: method, URL, headers, its body (``stream``: its
        bytes when aiohttp holds them in memory; else one that cannot be sent again, as in
        httpx), the session's timeouts as httpx's (:class:`_Timeouts`).

        Built as httpx builds a request it copies (``stream=``: nothing added, the headers
        aiohttp sends are all there), from a URL and headers parsed once per distinct value
        (a session sends the same few again and again)."""
        extensions = {_EXCHANGE: exchange, "timeout": exchange.timeouts.reported}
        outgoing = httpx.Request(
            request.method,
            self._parsed.url(request.url),
            headers=self._parsed.headers(request.headers),
            stream=stream,
            extensions=extensions,
        )
        if self._log_bodies and stream.__class__ is httpx.ByteStream:
            outgoing.read()  # its content, as for a request built with content=, to log
        return outgoing


class _Parsed:
    """httpx's URL and Headers of the aiohttp values a session sends, parsed once each (httpx
    copies both into each request it builds, so one parsed value serves every request)."""

    __slots__ = ("_answers", "_headers", "_urls")

    def __init__(self) -> None:
        self._urls: dict[yarl.URL, httpx.URL] = {}
        self._headers: dict[tuple[tuple[str, str], ...], httpx.Headers] = {}
        self._answers: dict[tuple[tuple[bytes, bytes], ...], httpx.Headers] = {}

    def url(self, url: yarl.URL) -> httpx.URL:
        parsed = self._urls.get(url)
        if parsed is None:
            if len(self._urls) >= _KEPT:
                self._urls.clear()  # many distinct URLs (ids in them): start over, stay small
            parsed = self._urls[url] = httpx.URL(str(url))
        return parsed

    def headers(self, headers: Mapping[str, str]) -> httpx.Headers:
        key = tuple(headers.items())
        parsed = self._headers.get(key)
        if parsed is None:
            if len(self._headers) >= _KEPT:
                self._headers.clear()
            parsed = self._headers[key] = httpx.Headers(key)
        return parsed

    def answer_headers(
        self, headers: tuple[tuple[bytes, bytes], ...], decoded: bool
    ) -> httpx.Headers:
        """An answer's headers; without those that describe the bytes on the wire when aiohttp
        decodes the body as it reads it (the bytes read are not as they say)."""
        if decoded:
            return httpx.Headers([(k, v) for k, v in headers if k.lower() not in _ENCODED])
        parsed = self._answers.get(headers)
        if parsed is None:
            if len(self._answers) >= _KEPT:
                self._answers.clear()  # a Date a second: start over now and then
            parsed = self._answers[headers] = httpx.Headers(headers)
        return parsed


_KEPT = 256


def _in_memory(kind: type[aiohttp.Payload]) -> bool:
    """Bytes in memory (bytes, str, JSON, a urlencoded form): sent again exactly. Asked once
    per payload class (``Payload`` is an ABC: ``isinstance`` costs a lookup each time)."""
    known = _IN_MEMORY.get(kind)
    if known is None:
        known = _IN_MEMORY[kind] = issubclass(kind, aiohttp.BytesPayload)
    return known


_IN_MEMORY: dict[type[aiohttp.Payload], bool] = {}
_EMPTY = httpx.ByteStream(b"")


class _Timeouts:
    """A session's timeouts (``aiohttp.ClientTimeout``) as the vendor call's deadline reads
    them: httpx's ``timeout`` extension, per operation (``sock_connect``, ``sock_read``; their
    ``total`` in their place where unset), each within the retry policy's deadline.

    The deadline bounds every attempt. The vendor call bounds each attempt after the first,
    and a first one that waited (it puts what is left of the deadline in the extension); a
    first attempt sent at once is bounded here by the deadline itself when aiohttp's own
    timeouts outlast it (``first``): reported within it, the call has no arithmetic to do for
    the usual call (aiohttp's default ``total`` is 300 s, the policy's deadline 60 s). A
    request is a vendor call's while the transports hold it in ``_SENDING``; one no mapping
    claims passes through with aiohttp's timeouts alone, as through the httpx transport.
    """

    __slots__ = ("aiohttp", "first", "reported")

    def __init__(self, timeout: aiohttp.ClientTimeout | None, deadline: float | None) -> None:
        self.aiohttp = timeout
        if timeout is None:
            values: dict[str, float | None] = dict.fromkeys(("connect", "read", "write", "pool"))
        else:
            total = timeout.total
            values = {
                "connect": _first(timeout.sock_connect, timeout.connect, total),
                "read": _first(timeout.sock_read, total),
                "write": total,
                "pool": _first(timeout.connect, total),
            }
        outlast = deadline is not None and any(v is None or v > deadline for v in values.values())
        self.first = deadline if outlast else None
        """The bound of a first attempt sent at once (None: aiohttp's own timeouts do)."""
        self.reported: dict[str, float | None] = (
            values
            if deadline is None
            else {k: deadline if v is None or v > deadline else v for k, v in values.items()}
        )


def _first(*values: float | None) -> float | None:
    for value in values:
        if value is not None:
            return value
    return None


class _Exchange:
    """One aiohttp request's trip through the vendor call: the aiohttp request and handler,
    and every answer its attempts got (each released unless it is the one returned)."""

    __slots__ = ("answers", "handler", "max_body_size", "parsed", "request", "timeouts")

    def __init__(
        self,
        request: ClientRequest,
        handler: ClientHandlerType,
        cap: int,
        timeouts: _Timeouts,
        parsed: _Parsed,
    ) -> None:
        self.request = request
        self.parsed = parsed
        self.handler = handler
        self.max_body_size = cap
        self.timeouts = timeouts
        self.answers: list[_Body] = []

    def release(self, keep: ClientResponse | None = None) -> None:
        """Release every answer but ``keep``: an attempt the next one replaced, or all of
        them when the call raised."""
        for body in self.answers:
            if body.answer is not keep:
                body.answer.release()


class _Handler(httpx.AsyncBaseTransport):
    """The transport the vendor call sends through: aiohttp's own handler, awaited."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        exchange = request.extensions[_EXCHANGE]
        assert isinstance(exchange, _Exchange)
        try:
            timeout = request.extensions.get("timeout")
            timeouts = exchange.timeouts
            if timeout is timeouts.reported:  # a first attempt sent at once, or not a vendor's
                limit = timeouts.first if request in _SENDING else None
            else:  # the vendor call bounded it by what is left of its deadline
                limit = max(timeout.values()) if isinstance(timeout, dict) else None
            if limit is None:
                answer = await exchange.handler(exchange.request)
            else:
                answer = await _within(limit, exchange.handler, exchange.request)
        except (aiohttp.ClientError, TimeoutError) as error:
            raise _transport_error(error, request) from error
        body = _Body(answer, exchange.max_body_size)
        exchange.answers.append(body)
        return httpx.Response(
            answer.status,
            headers=exchange.parsed.answer_headers(answer.raw_headers, body.decoded),
            stream=body,
            request=request,
            extensions={_EXCHANGE: body},
        )


async def _within(
    seconds: float, handler: ClientHandlerType, request: ClientRequest
) -> ClientResponse:
    """``await handler(request)``, cancelled after ``seconds`` with a ``TimeoutError``:
    ``asyncio.timeout`` in its essentials (its state machine is half the cost of a healthy
    call here, and it runs on every first attempt of a default session)."""
    task = asyncio.current_task()
    assert task is not None
    cancelling = task.cancelling()
    expired = False

    def expire() -> None:
        nonlocal expired
        expired = True
        task.cancel()

    loop = asyncio.get_running_loop()
    timer = loop.call_at(loop.time() + seconds, expire)
    try:
        return await handler(request)
    except asyncio.CancelledError:
        if expired and task.uncancel() <= cancelling:
            raise TimeoutError from None  # ours: the deadline; anyone else's stands
        raise
    finally:
        timer.cancel()


def _decoded(answer: ClientResponse) -> bool:
    """aiohttp decompresses the body as it reads it (its ``auto_decompress``, on by default):
    its stream counts the compressed bytes apart only then (none for a body-less answer)."""
    return getattr(answer.content, "total_compressed_bytes", None) is not None


_ENCODED = frozenset({b"content-encoding", b"content-length"})


class _Body(httpx.AsyncByteStream):
    """An aiohttp response's body as an httpx stream, read only as far as the vendor call
    reads it; what it took is given back to the aiohttp response afterwards
    (:meth:`give_back`), so its caller reads the body whole, as the vendor sent it."""

    __slots__ = ("answer", "decoded", "ended", "taken", "whole")

    def __init__(self, answer: ClientResponse, cap: int) -> None:
        self.answer = answer
        self.decoded = _decoded(answer)
        length = answer.content_length
        # declared, small and not decoded on the way: read as aiohttp reads it, the body kept
        # on the response (its ``read()``, ``json()`` and ``text()`` return it at once)
        self.whole = length is not None and length <= cap and not self.decoded
        self.ended = False
        """The call read the body to its end."""
        self.taken: list[bytes] = []
        """What the call read from the response's stream (not through ``read()``)."""

    def __aiter__(self) -> AsyncIterator[bytes]:
        # its own iterator, not an async generator: one the vendor call leaves half read must
        # not read on when the garbage collector finalizes it
        return self

    async def __anext__(self) -> bytes:
        """The body's next bytes, aiohttp's errors seen as httpx's."""
        answer = self.answer
        try:
            if self.whole:
                self.whole = False  # ``read()`` keeps the body on the response for the caller
                self.ended = True
                chunk = await answer.read()
                if chunk:  # and its stream gives it again (``content.read()``, iter_chunked)
                    self.taken.append(chunk)
            elif self.ended:
                raise StopAsyncIteration
            else:
                chunk = await answer.content.readany()
                if chunk:
                    self.taken.append(chunk)
                else:
                    self.ended = True
        except (aiohttp.ClientError, TimeoutError) as error:
            raise _transport_error(error) from error
        if not chunk:
            raise StopAsyncIteration
        return chunk

    async def aclose(self) -> None:
        """Release the aiohttp response when it is given up half read (one the next attempt
        replaces); one read to its end has released its connection already, and its body
        must stay readable (aiohttp's ``read()`` refuses once ``release()`` was called)."""
        if not self.ended:
            self.answer.release()

    def give_back(self) -> None:
        """Put back what the vendor call read from the response's stream."""
        if self.taken:
            _unread(self.answer.content, b"".join(self.taken))
            self.taken = []

    async def settle(self) -> None:
        """Before raising: keep a body the call read whole readable, release a stream."""
        if self.ended:
            await self.answer.read()
        else:
            self.answer.release()


class _NotReplayable(httpx.AsyncByteStream):
    """Stands for a body aiohttp streams (a file, an async iterator, multipart): httpx never
    sends it (aiohttp does), and the vendor call sees a body it cannot send again."""

    async def __aiter__(self) -> AsyncIterator[bytes]:
        return
        yield b""  # pragma: no cover - an async generator that yields nothing


def _unread(content: aiohttp.StreamReader, data: bytes) -> None:
    """Put ``data`` back at the head of ``content``, as if it had not been read.

    aiohttp has one way: ``StreamReader.unread_data``, documented and deprecated (aiohttp
    #3260) but still there in 3.14; its warning is for code that parses protocols with it.
    tests/test_aiohttp_middleware.py checks it still does this, and fails the day it goes.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        content.unread_data(data)


_NEVER_CONNECTED = (
    aiohttp.ClientConnectorError,  # refused, DNS, TLS and certificate failures
    aiohttp.ClientHttpProxyError,  # the proxy refused to connect
    aiohttp.ServerFingerprintMismatch,
)
_TIMED_OUT = (aiohttp.ServerTimeoutError, TimeoutError)
_CUT_OFF = (aiohttp.ServerDisconnectedError, aiohttp.ClientResponseError)


def _transport_error(error: BaseException, request: httpx.Request | None = None) -> Exception:
    """The httpx error that means for resending what aiohttp's ``error`` means: a connection
    never made (never sent: resent even for a POST), or a failure after the request may have
    left (resent only when it cannot act twice). Raised from ``error``, which the caller gets
    back in the end."""
    kind: type[httpx.TransportError]
    if isinstance(error, aiohttp.ConnectionTimeoutError):
        kind = httpx.ConnectTimeout
    elif isinstance(error, _NEVER_CONNECTED):
        kind = httpx.ConnectError
    elif isinstance(error, _TIMED_OUT):  # a read timeout, or the retry deadline's
        kind = httpx.ReadTimeout
    elif isinstance(error, _CUT_OFF):  # no answer, or one aiohttp could not parse
        kind = httpx.RemoteProtocolError
    else:  # a reset connection, a broken body, a connection closed under the answer
        kind = httpx.ReadError
    return kind(str(error) or type(error).__name__, request=request)
