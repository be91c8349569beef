"""Vendor response bodies: what to read, how to read it, and the document it holds.

The caller gets the response the vendor sent, byte for byte. A body that may hold the vendor's
code (declared JSON, or XML for a vendor whose envelope reads XML; an undeclared or text body
whose first bytes open one) is buffered up to ``max_body_size`` and handed on as a fresh stream;
anything else (files, HEAD, 204, a body over the cap) streams through unread, or with only the
bytes already looked at replayed in front of the rest.
"""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, NamedTuple

import httpx

from ._classify import DEFAULT_MAX_BODY_SIZE as DEFAULT_MAX_BODY_SIZE
from ._classify import Page, parse_json
from ._inflate import inflate
from ._router import Route
from ._xml import parse_xml, text_codec

STREAMED_KEY = "normalizer.streamed"
"""Marks a request the caller sent with ``stream=True`` (``client.stream()``)."""
CHALLENGE_KEY = "normalizer.auth_flow"
"""Marks a request whose auth flow answers challenges (Digest, a token refresh on 401)."""

Expired = Callable[[], bool] | None
"""Whether the call's deadline has passed (None: no deadline)."""

_FILE_TYPES = (
    # streams by design: their first bytes must reach the caller at once, never buffered
    "text/event-stream",
    "application/x-ndjson",
    "application/stream+json",
    "application/jsonl",
    "audio/",
    "video/",
    "image/",
    "application/pdf",
    "application/zip",
    "application/gzip",
    "application/x-gzip",
    "text/csv",
)
_SNIFF_SKIP = b" \t\r\n\x00\xef\xbb\xbf\xfe\xff"


class Plan(enum.Enum):
    """What to do with a vendor response's body."""

    READ = "read"
    """Declared JSON (or XML the vendor speaks): buffer it (up to the cap) and classify."""
    SNIFF = "sniff"
    """Undeclared or text: look at the first bytes; read on only if they open a document."""
    FILE = "file"
    """No body, or a file by design (HEAD, 204, audio, CSV): never read; 2xx is ok."""
    TOO_LARGE = "too_large"
    """Declared longer than the cap: never read; the status decides, 2xx is unknown."""


_UNICODE = frozenset({"utf_8", "utf_16", "utf_32", "ascii"})


def _charset(content_type: str) -> str | None:
    """The charset parameter of a lower-cased content type (httpx's parser is email-based)."""
    at = content_type.find("charset=")
    if at < 0:
        return None
    return content_type[at + 8 :].split(";", 1)[0].strip().strip("\"'") or None


class Media(NamedTuple):
    """What a content type says about reading a body: worked out once per distinct header
    value (a vendor sends the same one on every answer), kept in a small memo."""

    file: bool
    """A stream or a file by design (audio, CSV, server-sent events): never buffered."""
    json: bool
    xml: bool
    codec: str | None
    """The Python codec of its charset, when that is not a Unicode one JSON detects itself."""

    @classmethod
    def of(cls, content_type: str) -> Media:
        """The media of a lower-cased content type."""
        kind = content_type.split(";", 1)[0].strip()
        charset = _charset(content_type)
        codec = None if charset is None else text_codec(charset)
        return cls(
            kind.startswith(_FILE_TYPES),
            "json" in kind,
            "xml" in kind,
            None if codec in _UNICODE else codec,
        )


def _content_type(value: bytes) -> tuple[str, Media]:
    """A Content-Type header's value, lower-cased, and its :class:`Media` (memoised)."""
    known = _MEDIA.get(value)
    if known is None:
        if len(_MEDIA) >= 256:
            _MEDIA.clear()  # many distinct values (a boundary in each): start over
        content_type = value.decode("latin-1").lower()
        known = _MEDIA[value] = (content_type, Media.of(content_type))
    return known


_MEDIA: dict[bytes, tuple[str, Media]] = {}
_NO_MEDIA = ("", Media.of(""))


class Framing(NamedTuple):
    """The three headers that say how to read a body, found in one pass over them."""

    content_type: str
    content_length: int | None
    """Declared length, when the header is a plain number (ASCII digits: what int() reads)."""
    content_encoding: str | None
    media: Media

    @classmethod
    def of(cls, response: httpx.Response) -> Framing:
        content_type, encoding = None, None
        length: int | None = None
        for _, name, value in _triples(response.headers):
            if name == b"content-type":
                content_type = value
            elif name == b"content-length":
                value = value.strip()
                length = int(value) if value.isdigit() else None
            elif name == b"content-encoding":
                encoding = value.decode("latin-1").strip().lower()
        media = _NO_MEDIA if content_type is None else _content_type(content_type)
        return tuple.__new__(cls, (media[0], length, encoding, media[1]))  # no Python __new__


def _triples(headers: httpx.Headers) -> list[tuple[bytes, bytes, bytes]]:
    """The headers as (name, lower-cased name, value) bytes: httpx's own store, ``_list``,
    read as it is (half the cost of its public ``raw``, which copies, and lower-casing each
    name again; ``.get()`` decodes and scans every header per call); built from ``raw`` if
    httpx keeps them otherwise (:data:`_OWN_STORE`, checked once)."""
    if _OWN_STORE and type(headers) is httpx.Headers:
        return headers._list
    return [(name, name.lower(), value) for name, value in headers.raw]


def _keeps_triples(kind: Callable[[dict[str, str]], object] = httpx.Headers) -> bool:
    """Whether this httpx keeps a Headers' items as (name, lower-cased name, value) bytes."""
    sample = kind({"Content-Type": "x"})
    return getattr(sample, "_list", None) == [(b"Content-Type", b"content-type", b"x")]


_OWN_STORE = _keeps_triples()


class BodyReader:
    """One transport's body policy: the cap, and what each response's body is worth reading."""

    def __init__(self, max_body_size: int) -> None:
        if max_body_size < 0:
            raise ValueError("max_body_size must be >= 0")
        self.max_body_size = max_body_size

    def plan(
        self, request: httpx.Request, response: httpx.Response, framing: Framing, route: Route
    ) -> Plan:
        status = response.status_code
        if request.method == "HEAD" or status in (204, 205, 304) or status < 200:
            return Plan.FILE
        media = framing.media
        if media.file:
            return Plan.FILE
        length = framing.content_length
        if length is not None and length > self.max_body_size:
            return Plan.TOO_LARGE
        document = media.json or (media.xml and route.envelope.xml)
        if STREAMED_KEY in request.extensions:
            # the caller opened it with stream(): only a small, declared document is read
            # first; anything else reaches the caller at once, its status alone deciding
            if not document:
                return Plan.FILE
            return Plan.READ if length is not None else Plan.TOO_LARGE
        if document:
            return Plan.READ
        if framing.content_encoding not in (None, "", "identity"):
            return Plan.READ  # compressed bytes cannot be sniffed: read (capped), decode, see
        return Plan.SNIFF

    def loaded(self, response: httpx.Response, framing: Framing) -> bytes | None:
        """The body, when httpx already holds it whole and as sent: a response built with
        ``content=`` (a MockTransport's, respx's, a cache's) is read as it was made, and is
        not read again, as httpx's own client does not read it again. None for a stream to
        read (:meth:`read`), an encoded body (its stream has the raw bytes) and one over the
        cap."""
        if type(response.stream) is not httpx.ByteStream or framing.content_encoding is not None:
            return None
        try:
            content = response.content
        except httpx.ResponseNotRead:
            return None
        return content if len(content) <= self.max_body_size else None

    def read(
        self,
        response: httpx.Response,
        plan: Plan,
        xml: bool,
        expired: Expired = None,
        declared: int | None = None,
    ) -> bytes | None:
        """Buffer a body worth classifying; else leave the stream replaying what was read.

        Reading stops (and the rest streams on to the caller unread) at the cap, when the
        first bytes open no document, or when ``expired()`` says the call's deadline passed:
        a trickling body holds the caller no longer than the deadline. ``declared`` is the
        body's Content-Length: once that much has come, nothing is left to wait for.
        """
        stream = response.stream
        assert isinstance(stream, httpx.SyncByteStream)
        chunks: list[bytes] = []
        size = 0
        undecided = plan is Plan.SNIFF
        iterator = iter(stream)
        try:
            for chunk in iterator:
                chunks.append(chunk)
                size += len(chunk)
                if undecided:  # only the new chunk: blanks before it decide nothing
                    verdict = opens_document(chunk, xml)
                    undecided = verdict is None
                    # a small declared page is read to its end (no half-read stream is
                    # left for the caller, trio warns of those): its words may count
                    if verdict is False and (declared is None or declared > self.max_body_size):
                        response.stream = _Replay(chunks, iterator, stream)
                        return None
                if size > self.max_body_size or (
                    expired is not None and size != declared and expired()
                ):  # a body read whole has nothing left to wait for
                    response.stream = _Replay(chunks, iterator, stream)
                    return None
        except BaseException:
            stream.close()
            raise
        stream.close()
        body = b"".join(chunks)
        response.stream = httpx.ByteStream(body)
        return body  # a small page too: its words may say what it is ([[page]])

    async def aread(
        self,
        response: httpx.Response,
        plan: Plan,
        xml: bool,
        expired: Expired = None,
        declared: int | None = None,
    ) -> bytes | None:
        """The async twin of :meth:`read`."""
        stream = response.stream
        assert isinstance(stream, httpx.AsyncByteStream)
        chunks: list[bytes] = []
        size = 0
        undecided = plan is Plan.SNIFF
        iterator = stream.__aiter__()
        try:
            async for chunk in iterator:
                chunks.append(chunk)
                size += len(chunk)
                if undecided:
                    verdict = opens_document(chunk, xml)
                    undecided = verdict is None
                    # a small declared page is read to its end (no half-read stream is
                    # left for the caller, trio warns of those): its words may count
                    if verdict is False and (declared is None or declared > self.max_body_size):
                        response.stream = _AsyncReplay(chunks, iterator, stream)
                        return None
                if size > self.max_body_size or (
                    expired is not None and size != declared and expired()
                ):  # a body read whole has nothing left to wait for
                    response.stream = _AsyncReplay(chunks, iterator, stream)
                    return None
        except BaseException:
            await stream.aclose()
            raise
        await stream.aclose()
        body = b"".join(chunks)
        response.stream = httpx.ByteStream(body)
        return body  # a small page too: its words may say what it is ([[page]])

    def document(
        self, response: httpx.Response, framing: Framing, body: bytes, xml: bool
    ) -> object:
        """The parsed JSON (or XML) a buffered body holds; a :class:`Page` for a body that
        holds none (an HTML or text page, read by the mapping's ``[[page]]`` rules); None for
        an empty one.

        When the document is exactly what ``response.json()`` would return, the response keeps
        it for the caller's first ``.json()``: a large body is parsed once.
        """
        if framing.content_encoding is None and framing.media.codec is None:
            text: bytes | str = body  # the usual body: nothing to undo, no charset to apply
        else:
            text = _decoded(framing, body, self.max_body_size)
        doc = parse_json(text, lossy=False) if isinstance(text, bytes) else None
        if doc is not None:  # as httpx would parse it: bytes, no charset applied, nothing lossy
            keep_parsed(response, doc)
            return doc
        doc = parse_json(text)
        if doc is None and xml:
            doc = parse_xml(text)
        if doc is None and text:
            return Page(text)  # a gateway's HTML or text page: its words, for [[page]] rules
        return doc


def opens_document(head: bytes, xml: bool = False) -> bool | None:
    """True/False once the first meaningful byte is seen; None while only blanks came.

    With ``xml`` (the vendor's envelope reads XML) an opening ``<`` counts too.
    """
    stripped = head.lstrip(_SNIFF_SKIP)
    if not stripped:
        return None
    return stripped[:1] in (b"{", b"[") or (xml and stripped[:1] == b"<")


def _decoded(framing: Framing, raw: bytes, limit: int) -> bytes | str:
    """The body as the vendor meant it: content-encoding undone (at most ``limit`` decoded
    bytes: a compressed bomb stops there), charset applied."""
    body: bytes | None = raw
    encoding = framing.content_encoding
    if encoding and encoding != "identity":
        body = inflate(raw, encoding, limit)
        if body is None:
            return b""  # unknown coding, broken, or larger than the cap: nothing to classify
    assert body is not None
    codec = framing.media.codec
    if codec is None:
        return body  # json detects UTF-8/16/32 itself; an unknown or odd charset is not used
    try:
        return body.decode(codec, errors="replace")
    except (LookupError, UnicodeError):  # a codec module this Python was built without
        return body


class ParsedResponse(httpx.Response):
    """A response whose JSON body normalizer parsed: the first ``.json()`` (without arguments)
    returns that document instead of parsing again; later calls parse as usual."""

    def json(self, **kwargs: Any) -> Any:
        doc = self.__dict__.pop(_PARSED, _NOTHING)
        if doc is _NOTHING or kwargs:
            return super().json(**kwargs)
        return doc


_PARSED = "_normalizer_parsed"
_NOTHING = object()


def keep_parsed(response: httpx.Response, doc: object) -> None:
    if type(response) is httpx.Response:  # a subclass of the caller's own is left alone
        response.__class__ = ParsedResponse
    elif not isinstance(response, ParsedResponse):
        return
    response.__dict__[_PARSED] = doc


class _Replay(httpx.SyncByteStream):
    """The chunks already read, then the rest of the original stream."""

    def __init__(self, head: list[bytes], rest: Iterator[bytes], inner: httpx.SyncByteStream):
        self._head = head
        self._rest = rest
        self._inner = inner

    def __iter__(self) -> Iterator[bytes]:
        head, self._head = self._head, []
        yield from head
        yield from self._rest

    def close(self) -> None:
        close = getattr(self._rest, "close", None)
        if close is not None:  # a generator half read: finish it now, not at garbage collection
            close()
        self._inner.close()


class _AsyncReplay(httpx.AsyncByteStream):
    def __init__(self, head: list[bytes], rest: AsyncIterator[bytes], inner: httpx.AsyncByteStream):
        self._head = head
        self._rest = rest
        self._inner = inner

    async def __aiter__(self) -> AsyncIterator[bytes]:
        head, self._head = self._head, []
        for chunk in head:
            yield chunk
        async for chunk in self._rest:
            yield chunk

    async def aclose(self) -> None:
        # The sniff left the vendor's stream half read, the caller never started it: finish a
        # short rest (a chunked error page's last chunk) so httpcore's generators end cleanly
        # instead of being collected half read (trio warns of those); a long one is abandoned.
        drained = 0
        try:
            async for chunk in self._rest:
                drained += len(chunk)
                if drained > _DRAIN_LIMIT:
                    break
        except Exception:
            pass
        aclose = getattr(self._rest, "aclose", None)
        if aclose is not None:  # an async generator half read: close it in this task
            await aclose()
        await self._inner.aclose()


_DRAIN_LIMIT = 64 * 1024


def settle(response: httpx.Response) -> None:
    """Before raising: keep a buffered body readable, release an unread stream."""
    if isinstance(response.stream, httpx.ByteStream):
        response.read()
    response.close()


async def asettle(response: httpx.Response) -> None:
    if isinstance(response.stream, httpx.ByteStream):
        await response.aread()
    await response.aclose()
