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
from ._mapping import Product, VendorMapping
from ._outcome import Outcome
from ._registry import Registry, default_registry

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


_ROUTES_KEPT = 1024


class Inspector:
    """Routing and classification rules for one transport."""

    def __init__(self, vendor: str | None, registry: Registry | None, max_body_size: int) -> None:
        if max_body_size < 0:
            raise ValueError("max_body_size must be >= 0")
        self.registry = registry or default_registry()
        self.vendor = None if vendor is None else self.registry.get(vendor)
        self.max_body_size = max_body_size
        self._routes: dict[tuple[str, str], Route | None] = {}
        self._generation = self.registry.generation

    def route(self, request: httpx.Request) -> Route | None:
        """Which vendor and product ``request`` goes to (None: not a vendor's)."""
        if self._generation != self.registry.generation:  # mappings were registered since
            self._generation = self.registry.generation
            self._routes = {}
            if self.vendor is not None:
                self.vendor = self.registry.get(self.vendor.id)
        if REQUEST_KEY in request.extensions:
            return self._route(request)
        url = request.url
        key = (url.host, url.path)
        try:
            return self._routes[key]
        except KeyError:
            pass
        route = self._route(request)
        if len(self._routes) >= _ROUTES_KEPT:
            self._routes.clear()  # many distinct paths (ids in them): start over, stay small
        self._routes[key] = route
        return route

    def _route(self, request: httpx.Request) -> Route | None:
        options: Any = request.extensions.get(REQUEST_KEY) or {}
        url = request.url
        path = url.path
        mapping = self.vendor
        if isinstance(options, dict) and options.get("vendor"):
            mapping = self.registry.get(options["vendor"])
        elif mapping is None:
            mapping = self.registry.detect(url.host, path)
            if mapping is None:
                return None
        product_id = options.get("product") if isinstance(options, dict) else None
        if product_id is None:
            product_id = mapping.product_for_path(path)
        if product_id is None:
            return Route(mapping, None, path)
        product = mapping.products.get(product_id)
        if product is None:
            raise ValueError(
                f"vendor {mapping.id!r} has no product {product_id!r}; "
                f"its products: {', '.join(mapping.products) or '(none)'}"
            )
        return Route(mapping, product, path)

    def plan(self, request: httpx.Request, response: httpx.Response, framing: Framing) -> Plan:
        status = response.status_code
        if request.method == "HEAD" or status in (204, 205, 304) or status < 200:
            return Plan.FILE
        media = framing.content_type.split(";", 1)[0].strip()
        if media.startswith(_FILE_TYPES):
            return Plan.FILE
        length = framing.content_length
        if length is not None and length.isdigit() and int(length) > self.max_body_size:
            return Plan.TOO_LARGE
        return Plan.READ if "json" in media else Plan.SNIFF

    @staticmethod
    def looks_like_json(head: bytes) -> bool | None:
        """True/False once the first meaningful byte is seen; None while only blanks came."""
        stripped = head.lstrip(_SNIFF_SKIP)
        if not stripped:
            return None
        return stripped[:1] in (b"{", b"[")

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
            else:  # as httpx would parse it: bytes, no charset applied, nothing lossy
                keep_parsed(response, doc)
        return classify_parsed(route.mapping, doc, status, route.path, route.product)


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
