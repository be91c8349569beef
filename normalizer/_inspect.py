"""What the sync and async transports share: routing, body policy, and classification.

No I/O happens here: the transports read the stream (each in its own way) and hand the
bytes over, so both stay parallel types with one set of rules.
"""

from __future__ import annotations

import dataclasses
import enum
from typing import Any, NamedTuple

import httpx

from ._classify import classify_parsed, classify_uninspected, parse_json
from ._mapping import Envelope, Product, Target, VendorMapping
from ._outcome import Outcome
from ._registry import Registry, default_registry
from ._xml import parse_xml

OUTCOME_KEY = "normalizer.outcome"
"""Where a response's :class:`Outcome` is kept in ``response.extensions``."""
ATTEMPTS_KEY = "normalizer.attempts"
"""How many attempts the response took, in ``response.extensions``."""
REQUEST_KEY = "normalizer"
"""Per-request options in ``request.extensions``: ``{"vendor": ..., "product": ...}``."""

DEFAULT_MAX_BODY_SIZE = 1 << 20

_FILE_TYPES = (
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
    """Declared JSON: buffer it (up to the cap) and classify."""
    SNIFF = "sniff"
    """Undeclared or text: look at the first bytes; read on only if they open JSON."""
    FILE = "file"
    """No body, or a file by design (HEAD, 204, audio, CSV): never read; 2xx is ok."""
    TOO_LARGE = "too_large"
    """Declared longer than the cap: never read; the status decides, 2xx is unknown."""


@dataclasses.dataclass(frozen=True, slots=True)
class Route:
    """Which vendor (and product) a request goes to."""

    mapping: VendorMapping
    product: Product | None
    path: str

    @property
    def envelope(self) -> Envelope:
        return self.mapping.envelope if self.product is None else self.product.envelope


_ROUTES_KEPT = 1024


class Inspector:
    """Routing and classification rules for one transport."""

    def __init__(self, vendor: str | None, registry: Registry | None, max_body_size: int) -> None:
        if max_body_size < 0:
            raise ValueError("max_body_size must be >= 0")
        self.registry = registry or default_registry()
        self.vendor = None if vendor is None else self.registry.get(vendor)
        self.max_body_size = max_body_size
        self._routes: dict[tuple[object, ...], Route | None] = {}
        self._names: dict[str, tuple[tuple[str, ...], tuple[str, ...]] | None] = {}
        self._generation = self.registry.generation

    def route(self, request: httpx.Request) -> Route | None:
        """Which vendor and product ``request`` goes to (None: not a vendor's)."""
        if self._generation != self.registry.generation:  # mappings were registered since
            self._generation = self.registry.generation
            self._routes = {}
            self._names = {}
            if self.vendor is not None:
                self.vendor = self.registry.get(self.vendor.id)
        if REQUEST_KEY in request.extensions:
            return self._route(request)
        url = request.url
        key: tuple[object, ...] = (url.host, url.path)
        names = self._selector_names(url.host)
        if names is not None:  # a selector reads headers or the query: they are part of the key
            headers, query = names
            target = _target(request)
            key += tuple(target.header(n) for n in headers) + tuple(target.query(n) for n in query)
        try:
            return self._routes[key]
        except KeyError:
            pass
        route = self._route(request)
        if len(self._routes) >= _ROUTES_KEPT:
            self._routes.clear()  # many distinct paths (ids in them): start over, stay small
        self._routes[key] = route
        return route

    def _selector_names(self, host: str) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
        """The header and query names the selectors for ``host`` read; None for none."""
        try:
            return self._names[host]
        except KeyError:
            pass
        candidates = (self.vendor,) if self.vendor is not None else self.registry.candidates(host)
        headers: set[str] = set()
        query: set[str] = set()
        for mapping in candidates:
            h, q = mapping.selector_names()
            headers |= h
            query |= q
        names = (tuple(sorted(headers)), tuple(sorted(query))) if headers or query else None
        if len(self._names) >= _ROUTES_KEPT:
            self._names.clear()
        self._names[host] = names
        return names

    def _route(self, request: httpx.Request) -> Route | None:
        options: Any = request.extensions.get(REQUEST_KEY) or {}
        target = _target(request)
        mapping = self.vendor
        if isinstance(options, dict) and options.get("vendor"):
            mapping = self.registry.get(options["vendor"])
        elif mapping is None:
            mapping = self.registry.detect(target)
            if mapping is None:
                return None
        product_id = options.get("product") if isinstance(options, dict) else None
        if product_id is None:
            return Route(mapping, mapping.product_for(target), target.path)
        product = mapping.products.get(product_id)
        if product is None:
            raise ValueError(
                f"vendor {mapping.id!r} has no product {product_id!r}; "
                f"its products: {', '.join(mapping.products) or '(none)'}"
            )
        return Route(mapping, product, target.path)

    def plan(
        self, request: httpx.Request, response: httpx.Response, framing: Framing, route: Route
    ) -> Plan:
        status = response.status_code
        if request.method == "HEAD" or status in (204, 205, 304) or status < 200:
            return Plan.FILE
        media = framing.content_type.split(";", 1)[0].strip()
        if media.startswith(_FILE_TYPES):
            return Plan.FILE
        length = framing.content_length
        if length is not None and length.isdigit() and int(length) > self.max_body_size:
            return Plan.TOO_LARGE
        if "json" in media or ("xml" in media and route.envelope.xml):
            return Plan.READ
        return Plan.SNIFF

    @staticmethod
    def looks_like_json(head: bytes, xml: bool = False) -> bool | None:
        """True/False once the first meaningful byte is seen; None while only blanks came.

        With ``xml`` (the vendor's envelope reads XML) an opening ``<`` counts too.
        """
        stripped = head.lstrip(_SNIFF_SKIP)
        if not stripped:
            return None
        return stripped[:1] in (b"{", b"[") or (xml and stripped[:1] == b"<")

    def outcome(
        self,
        route: Route,
        response: httpx.Response,
        framing: Framing,
        plan: Plan,
        body: bytes | None,
    ) -> Outcome:
        """Classify a response; ``body`` is None when it was not (fully) read.

        When the parsed document is exactly what ``response.json()`` would return, the
        response keeps it for the caller's first ``.json()``: a large body is parsed once.
        """
        status = response.status_code
        if plan is Plan.FILE:
            return classify_uninspected(route.mapping, status, route.path, route.product)
        doc = None
        if body is not None:
            text = _decoded(framing, body, self.max_body_size)
            doc = parse_json(text, lossy=False) if isinstance(text, bytes) else None
            if doc is None:
                doc = parse_json(text)
                if doc is None and route.envelope.xml:
                    doc = parse_xml(text)
            else:  # as httpx would parse it: bytes, no charset applied, nothing lossy
                keep_parsed(response, doc)
        return classify_parsed(route.mapping, doc, status, route.path, route.product)


def _target(request: httpx.Request) -> Target:
    url = request.url
    return Target(url.host, url.path, url.query, request.headers)  # headers: any case


class Framing(NamedTuple):
    """The three headers that say how to read a body, found in one pass over them."""

    content_type: str
    content_length: str | None
    content_encoding: str | None

    @classmethod
    def of(cls, response: httpx.Response) -> Framing:
        content_type, length, encoding = "", None, None
        for key, value in response.headers.raw:  # httpx's .get() decodes and scans per call
            name = key.lower()
            if name == b"content-type":
                content_type = value.decode("latin-1").lower()
            elif name == b"content-length":
                length = value.decode("latin-1").strip()
            elif name == b"content-encoding":
                encoding = value.decode("latin-1").strip().lower()
        return cls(content_type, length, encoding)


def _decoded(framing: Framing, raw: bytes, limit: int) -> bytes | str:
    """The body as the vendor meant it: content-encoding undone (capped), charset applied."""
    body = raw
    encoding = framing.content_encoding
    if encoding and encoding != "identity":
        copy = httpx.Response(200, headers={"content-encoding": encoding}, content=raw)
        out = bytearray()
        try:
            for chunk in copy.iter_bytes():
                out += chunk
                if len(out) > limit * 8:  # a compressed body may not expand without bound
                    return b""
        except httpx.DecodingError:
            return b""
        body = bytes(out)
    charset = _charset(framing.content_type)
    if charset is None or charset.replace("-", "").replace("_", "") in _UNICODE:
        return body  # json detects UTF-8/16/32 itself
    try:
        return body.decode(charset, errors="replace")
    except LookupError:
        return body


_UNICODE = frozenset({"utf8", "utf16", "utf32", "ascii", "usascii"})


def _charset(content_type: str) -> str | None:
    """The charset parameter of a lower-cased content type (httpx's parser is email-based)."""
    lowered = content_type
    at = lowered.find("charset=")
    if at < 0:
        return None
    return lowered[at + 8 :].split(";", 1)[0].strip().strip("\"'") or None


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
    if isinstance(response, ParsedResponse):
        response.__dict__[_PARSED] = doc


def outcome_of(response: httpx.Response) -> Outcome | None:
    """The :class:`Outcome` a normalizing transport attached to ``response``, if any."""
    outcome = response.extensions.get(OUTCOME_KEY)
    return outcome if isinstance(outcome, Outcome) else None


def attach(response: httpx.Response, outcome: Outcome, attempts: int) -> None:
    response.extensions = {**response.extensions, OUTCOME_KEY: outcome, ATTEMPTS_KEY: attempts}
