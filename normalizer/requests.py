"""normalizer for ``requests``: :class:`NormalizingAdapter`, mounted on any ``requests.Session``.

::

    import requests
    from normalizer.requests import NormalizingAdapter

    session = requests.Session()
    session.mount("https://", NormalizingAdapter("twilio", raise_on_error=True))

The session then gets what an httpx client on :class:`normalizer.NormalizingTransport` gets:
every vendor answer classified (``normalizer.outcome_of(response)`` on the returned
``requests.Response``), retried with the same decisions, budget, rate limiter, circuit and
state (``normalizer.redis.RedisState`` included), logged and reported alike.

The call itself is not written twice. The adapter converts at the seam: it builds an
``httpx.Request`` of the ``PreparedRequest`` (the requests timeout becoming httpx's, so the
retry policy's deadline bounds every attempt) and hands it to a
:class:`~normalizer.NormalizingTransport` whose inner transport sends the *original*
``PreparedRequest`` through ``HTTPAdapter.send`` (requests' and urllib3's own I/O: proxies,
certificates, pools and ``responses`` mocking behave as without normalizer), and lends the
vendor's body to the call lazily: only what the call reads to classify is read (capped at
``max_body_size``); a file or a body over the cap streams on, untouched. The caller gets the
``requests.Response`` urllib3 made, its body the exact bytes the vendor sent.
"""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Iterator
from typing import Any, NamedTuple, Unpack, cast

import httpx
import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.exceptions import HTTPError as _Urllib3Error
from urllib3.exceptions import ProtocolError, ReadTimeoutError

from ._body import CHALLENGE_KEY
from ._exceptions import VendorError
from ._options import Options, OptionsKwargs
from ._outcome import carry
from ._sdk import transport_failure
from ._transports import NormalizingTransport, raise_for_outcome

__all__ = ["NormalizingAdapter"]

_EXCHANGE = "normalizer.requests"
"""Where the httpx request carries its :class:`_Exchange` (one ``send``'s own state)."""
_CHUNK = 64 * 1024


class NormalizingAdapter(HTTPAdapter):
    """A ``requests`` transport adapter that classifies, retries and logs vendor calls.

    ``vendor`` fixes the vendor; without it each request's vendor is found from the mappings'
    selectors, and requests to hosts no mapping claims pass through untouched. ``options`` (an
    :class:`~normalizer.Options`) or its keyword arguments (``retry=``, ``raise_on_error=``,
    ``circuit=``, ``state=``, ``logger=``, ``on_outcome=``, ...) are those of
    :class:`~normalizer.NormalizingTransport`; ``state`` must be a sync store (a
    :class:`~normalizer.LocalState`, the default, or ``normalizer.redis.RedisState``).

    ``adapter`` is the adapter that does the I/O (default: this one's own connection pools,
    sized by ``pool_connections``, ``pool_maxsize`` and ``pool_block`` as in
    ``HTTPAdapter``): an SDK's own adapter (a TLS setting, a pre-connected pool) keeps working
    under normalizer. Its ``max_retries`` must be 0 (a ``ValueError`` otherwise), as this
    adapter's always is: one policy, normalizer's, decides whether a request goes again.

    With ``raise_on_error=True`` a non-ok final answer raises its
    :class:`~normalizer.VendorError`, whose ``response`` is the ``requests.Response`` and
    ``request`` the ``PreparedRequest`` (the body loaded, unless sent with ``stream=True``). A
    transport failure raises requests' own exception (``ConnectionError``, ``ReadTimeout``,
    ...) of the last attempt, as without normalizer.
    """

    def __init__(
        self,
        vendor: str | None = None,
        *,
        adapter: HTTPAdapter | None = None,
        options: Options | None = None,
        pool_connections: int = requests.adapters.DEFAULT_POOLSIZE,
        pool_maxsize: int = requests.adapters.DEFAULT_POOLSIZE,
        pool_block: bool = requests.adapters.DEFAULT_POOLBLOCK,
        **kwargs: Unpack[OptionsKwargs],
    ) -> None:
        super().__init__(
            pool_connections=pool_connections,
            pool_maxsize=pool_maxsize,
            max_retries=0,  # normalizer's retry policy alone decides
            pool_block=pool_block,
        )
        retries = getattr(adapter, "max_retries", None)
        if retries is not None and retries.total not in (0, False):
            raise ValueError(
                f"the adapter given as adapter= retries on its own ({retries!r}): give it "
                "max_retries=0, normalizer's retry policy decides whether a request goes again"
            )
        self._vendor = vendor
        self._options = Options.of(options, kwargs)
        self._inner = adapter
        self._normalizing = self._transport()

    __attrs__ = [*HTTPAdapter.__attrs__, "_vendor", "_options", "_inner"]  # noqa: RUF012 - as requests
    """What a pickled session keeps of the adapter (requests pickles its adapters so): its
    settings; the state of an in-process store starts anew."""

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        self._normalizing = self._transport()

    def _transport(self) -> NormalizingTransport:
        """The transport that drives the call; it never raises a VendorError (the adapter
        does, on the requests response)."""
        inner = self._inner
        return NormalizingTransport(
            self._vendor,
            transport=_Sender(self if inner is None else inner, inner is None),
            options=dataclasses.replace(self._options, raise_on_error=False),
        )

    @property
    def options(self) -> Options:
        """normalizer's options (``raise_on_error`` as given: the adapter raises, not its
        transport)."""
        return self._options

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: Any = True,
        cert: Any = None,
        proxies: Any = None,
    ) -> requests.Response:
        """Send ``request`` as one vendor call: attempts, waits and classification included."""
        exchange = _Exchange(request, stream, timeout, verify, cert, proxies)
        try:
            answer = self._normalizing.handle_request(exchange.outbound())
        except httpx.TransportError as exc:
            exchange.release()
            failure = _original(exc, request)
        except BaseException:
            exchange.release()
            raise
        else:
            response = exchange.finish(answer)
            carry(response, answer)
            if self._options.raise_on_error:
                _raise_on_error(response, exchange)
            return response
        raise failure  # requests' own exception, outside the handler: its context unchanged

    def close(self) -> None:
        """Close the pools (and those of the adapter given as ``adapter=``)."""
        super().close()
        if self._inner is not None:
            self._inner.close()

    def _send_plain(
        self, request: requests.PreparedRequest, **kwargs: Any
    ) -> requests.Response:  # HTTPAdapter's own send, this adapter's pools
        return super().send(request, **kwargs)


def _raise_on_error(response: requests.Response, exchange: _Exchange) -> None:
    """The final answer's VendorError, unless it is a hop the session goes on from (a redirect
    it follows, an auth challenge its auth answers)."""
    if response.is_redirect:
        return
    if response.status_code in (401, 407) and exchange.challenged:
        headers = response.headers
        if "www-authenticate" in headers or "proxy-authenticate" in headers:
            return
    try:
        raise_for_outcome(response)
    except VendorError:
        if not exchange.stream:
            _ = response.content  # as requests gives it: loaded
        elif not response._content_consumed:
            response.close()  # an unread stream is freed, as httpx's client frees it
        raise


class _Reply(NamedTuple):
    """One attempt: the requests response, and the body lent to the call."""

    response: requests.Response
    body: _Body | None
    """None: the response was not urllib3's, and its content was read whole."""
    answer: httpx.Response


class _Exchange:
    """One ``send``: the original request and its arguments, and each attempt's response."""

    __slots__ = (
        "cert",
        "challenged",
        "proxies",
        "replies",
        "request",
        "stream",
        "timeout",
        "timeouts",
        "verify",
    )

    def __init__(
        self,
        request: requests.PreparedRequest,
        stream: bool,
        timeout: Any,
        verify: Any,
        cert: Any,
        proxies: Any,
    ) -> None:
        self.request = request
        self.stream = stream
        self.timeout = timeout
        self.verify = verify
        self.cert = cert
        self.proxies = proxies
        self.timeouts = _httpx_timeouts(timeout)
        self.replies: list[_Reply] = []
        hooks = (request.hooks or {}).get("response") or ()
        self.challenged = any(
            isinstance(getattr(hook, "__self__", None), requests.auth.AuthBase) for hook in hooks
        )

    def outbound(self) -> httpx.Request:
        """The httpx request the call reads: method, URL, headers and body of the original
        (given as a stream: the headers are requests' as they go out, Content-Length included,
        not httpx's of a body it would encode)."""
        prepared = self.request
        body = prepared.body
        stream: httpx.SyncByteStream
        if isinstance(body, bytes):
            stream = httpx.ByteStream(body)
        elif isinstance(body, str):
            stream = httpx.ByteStream(body.encode("utf-8"))
        elif body is None:
            stream = _EMPTY
        else:  # a file or a generator: sent once, never replayed
            stream = _Unreplayable()
        extensions: dict[str, Any] = {"timeout": self.timeouts, _EXCHANGE: self}
        if self.challenged:
            extensions[CHALLENGE_KEY] = True
        request = httpx.Request(
            prepared.method or "GET",
            _url(prepared.url or ""),
            headers=cast(Any, list(prepared.headers.items())),  # str or bytes: httpx takes both
            stream=stream,
            extensions=extensions,
        )
        if type(stream) is httpx.ByteStream:
            request.read()  # its content, for a log line's request_body
        return request

    def attempt(self, request: httpx.Request) -> dict[str, Any]:
        """The keyword arguments of ``HTTPAdapter.send`` for the next attempt; the previous
        attempt's response, replaced, is released."""
        for reply in self.replies:
            reply.response.close()
        self.replies.clear()
        bounded = request.extensions.get("timeout")
        timeout = self.timeout
        if bounded is not self.timeouts and isinstance(bounded, dict):  # the deadline's
            timeout = (bounded.get("connect"), bounded.get("read"))
        return {
            "stream": True,
            "timeout": timeout,
            "verify": self.verify,
            "cert": self.cert,
            "proxies": self.proxies,
        }

    def release(self) -> None:
        """The call failed: no response goes to the caller."""
        for reply in self.replies:
            reply.response.close()
        self.replies.clear()

    def finish(self, answer: httpx.Response) -> requests.Response:
        """The caller's response: the one urllib3 made for the final attempt, its body whole
        (what the call read, then the rest unread)."""
        reply = self.replies[-1]
        assert reply.answer is answer  # the final answer is the last attempt's
        response, body = reply.response, reply.body
        if body is None or (not body.taken and not body.done):
            return response  # never read (a file, a body over the cap): as urllib3 gave it
        raw = response.raw
        if body.done and not self.stream and "content-encoding" not in response.headers:
            response._content = b"".join(body.taken)  # what .content reads; the rest is gone
            response._content_consumed = True
            return response
        response.raw = _replay(raw, body.taken, None if body.done else raw)
        return response


def _url(text: str) -> httpx.URL:
    """httpx's URL of ``text``, parsed once: a vendor's endpoints are few, and parsing one costs
    more than the rest of the request's conversion (a small memo, emptied when full)."""
    url = _URLS.get(text)
    if url is None:
        if len(_URLS) >= 512:
            _URLS.clear()
        url = _URLS[text] = httpx.URL(text)
    return url


_URLS: dict[str, httpx.URL] = {}
_EMPTY = httpx.ByteStream(b"")


def _httpx_timeouts(timeout: Any) -> dict[str, float | None]:
    """requests' timeout (seconds, ``(connect, read)`` or urllib3's ``Timeout``) as httpx's."""
    connect: Any
    read: Any
    if isinstance(timeout, tuple):
        connect, read = timeout
    elif isinstance(timeout, urllib3.Timeout):
        connect, read = timeout.connect_timeout, timeout.read_timeout
        connect = connect if isinstance(connect, int | float) else None
        read = read if isinstance(read, int | float) else None
    else:
        connect = read = timeout
    return {"connect": connect, "read": read, "write": connect, "pool": connect}


class _Sender(httpx.BaseTransport):
    """The innermost transport: sends the original ``PreparedRequest`` through requests."""

    def __init__(self, adapter: HTTPAdapter, own: bool) -> None:
        self._adapter = adapter
        self._own = own

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        exchange: _Exchange = request.extensions[_EXCHANGE]
        kwargs = exchange.attempt(request)
        adapter = self._adapter
        try:
            if self._own:
                assert isinstance(adapter, NormalizingAdapter)
                response = adapter._send_plain(exchange.request, **kwargs)
            else:
                response = adapter.send(exchange.request, **kwargs)
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise _transport_error(exc, request) from exc
        raw = response.raw
        if not isinstance(raw, urllib3.HTTPResponse):  # an adapter of another kind: read it
            answer = httpx.Response(response.status_code, content=response.content)
            answer.headers = httpx.Headers(list(response.headers.items()))
            answer.request = request
            exchange.replies.append(_Reply(response, None, answer))
            return answer
        body = _Body(raw)
        answer = httpx.Response(
            response.status_code,
            headers=list(response.headers.items()),
            stream=body,
            request=request,
        )
        exchange.replies.append(_Reply(response, body, answer))
        return answer


def _transport_error(exc: requests.RequestException, request: httpx.Request) -> Exception:
    """The httpx error that means the same for resending ``exc``'s request: never sent (a
    connection not made), or it may have reached the vendor (anything after)."""
    message = str(exc)
    if isinstance(exc, requests.ConnectTimeout):
        return httpx.ConnectTimeout(message, request=request)
    if isinstance(exc, requests.Timeout):
        return httpx.ReadTimeout(message, request=request)
    if isinstance(exc, requests.exceptions.ProxyError):
        return httpx.ProxyError(message, request=request)
    judged = transport_failure(exc)  # urllib3's NewConnectionError inside: never sent
    kind = httpx.ConnectError if isinstance(judged, httpx.ConnectError) else httpx.ReadError
    return kind(message, request=request)


def _original(exc: httpx.TransportError, request: requests.PreparedRequest) -> Exception:
    """The requests exception the last attempt raised (its httpx twin's cause)."""
    cause = exc.__cause__
    if isinstance(cause, requests.RequestException):
        return cause
    error = requests.ConnectionError(str(exc), request=request)
    error.__cause__ = exc
    return error


class _Body(httpx.SyncByteStream):
    """The vendor's body lent to the call: read from urllib3 as the call asks, undecoded (the
    call undoes a content-encoding itself), every chunk kept for the caller's response."""

    __slots__ = ("done", "raw", "taken")

    def __init__(self, raw: urllib3.HTTPResponse) -> None:
        self.raw = raw
        self.taken: list[bytes] = []
        self.done = False

    def __iter__(self) -> Iterator[bytes]:
        read = _reader(self.raw)
        while True:
            try:
                chunk = read(_CHUNK, decode_content=False)
            except ReadTimeoutError as exc:  # as requests' iter_content raises them
                raise httpx.ReadTimeout(str(exc)) from requests.ConnectionError(exc)
            except ProtocolError as exc:
                raise httpx.RemoteProtocolError(str(exc)) from (
                    requests.exceptions.ChunkedEncodingError(exc)
                )
            except (_Urllib3Error, OSError) as exc:
                raise httpx.ReadError(str(exc)) from requests.ConnectionError(exc)
            if not chunk:
                self.done = True
                return
            self.taken.append(chunk)
            yield chunk

    def close(self) -> None:
        """Nothing here: the caller's response is released by the exchange (a replaced
        attempt's at the next attempt, a failed call's at once), never by the call."""


def _reader(raw: urllib3.HTTPResponse) -> Any:
    """``raw.read1``: what has come, up to the size asked (urllib3 2); ``raw.read`` before it,
    which waits for the whole size asked."""
    return getattr(raw, "read1", None) or raw.read


class _Unreplayable(httpx.SyncByteStream):
    """A streamed body (a file, a generator) the call must not expect to send twice; never
    iterated (the original request carries the real one)."""

    def __iter__(self) -> Iterator[bytes]:
        return iter(())


class _Chain(io.RawIOBase):
    """The bytes the call read, then the rest of the original response, undecoded."""

    def __init__(self, head: list[bytes], rest: urllib3.HTTPResponse | None) -> None:
        self._head = b"".join(head)
        self._at = 0
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        if self._at < len(self._head):
            piece = self._head[self._at : self._at + len(view)]
            self._at += len(piece)
        elif self._rest is not None:
            piece = _reader(self._rest)(len(view), decode_content=False)
        else:
            piece = b""
        view[: len(piece)] = piece
        return len(piece)

    def close(self) -> None:
        if self._rest is not None:
            self._rest.close()
        super().close()


def _replay(raw: Any, head: list[bytes], rest: urllib3.HTTPResponse | None) -> urllib3.HTTPResponse:
    """A urllib3 response reading ``head`` then ``rest``, decoded as the original would be."""
    return urllib3.HTTPResponse(
        body=_Chain(head, rest),
        headers=raw.headers,
        status=raw.status,
        version=raw.version,
        reason=raw.reason,
        preload_content=False,
        decode_content=raw.decode_content,
        original_response=getattr(raw, "_original_response", None),  # the session's cookies
        enforce_content_length=False,
        request_url=getattr(raw, "_request_url", None),
    )
