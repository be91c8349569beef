"""Turning a vendor code or response body into an :class:`Outcome`.

Pure functions over a :class:`VendorMapping`: no I/O, no global state beyond the registry
lookup of the vendor id. Whatever the body holds, classification returns an outcome; it never
raises because of what a vendor sent.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from . import _registry
from ._category import Category, Fault
from ._items import ItemsReader
from ._mapping import (
    _LONGEST_INT,
    _SHORTEST_INT,
    MAX_CODE_LENGTH,
    CodeTable,
    Entry,
    Envelope,
    Find,
    HttpRule,
    JsonPath,
    Lazy,
    PageRule,
    Product,
    Target,
    VendorMapping,
    WhenRule,
    code_text,
    finder,
    step,
    text_finder,
    usable,
    value_finder,
)
from ._outcome import Match, Outcome, derive
from ._registry import Registry, default_registry
from ._xml import parse_xml

# the built-in HTTP fallback, after a vendor's own [[http]] rules
_DEFAULT_RULES = tuple(
    HttpRule(
        status,
        Entry(category, description, "", category.retryable_by_default, category is Category.BUSY),
    )
    for status, category, description in (
        ("401", Category.AUTH, "HTTP 401 Unauthorized"),
        ("403", Category.AUTH, "HTTP 403 Forbidden"),
        ("402", Category.BILLING, "HTTP 402 Payment Required"),
        ("404", Category.NOT_FOUND, "HTTP 404 Not Found"),
        ("410", Category.NOT_FOUND, "HTTP 410 Gone"),
        ("429", Category.BUSY, "HTTP 429 Too Many Requests"),
        ("4xx", Category.VALIDATION, "HTTP client error"),
        ("5xx", Category.SERVER, "HTTP server error"),
    )
)

Body = bytes | bytearray | memoryview | str | Mapping[str, Any] | list[Any] | None

DEFAULT_MAX_BODY_SIZE = 1 << 20
"""The largest body read to classify it (bytes; a str counts its characters): the transports'
``max_body_size`` and :func:`classify`'s."""


_OK = Entry(Category.OK, "", "", False, False)
_LONG_CODE = Entry(
    Category.UNKNOWN, f"code over {MAX_CODE_LENGTH} characters: not looked up", "", False, False
)
_REDIRECT = Entry(Category.OK, "HTTP redirect or not modified (3xx)", "", False, False)
_NO_CODE = Entry(Category.OK, "success: a 2xx body without a code", "", False, False)
_DELIVERED = Entry(
    Category.OK, "HTTP success, body not inspected (file or no content)", "", False, False
)
_UNKNOWN = Entry(Category.UNKNOWN, "", "", False, False)

PAGE_TEXT = 16384
"""How much of a page (characters, or bytes before decoding) its ``[[page]]`` rules read: a
gateway's error page says what it is near its top."""


class Page:
    """A body that is no document (an HTML or plain-text page a vendor's gateway wrote), as
    text for the mapping's ``[[page]]`` rules: its first :data:`PAGE_TEXT` characters, blanks
    collapsed and case folded, so that a phrase broken over lines still matches."""

    __slots__ = ("_folded", "text")

    def __init__(self, body: bytes | bytearray | memoryview | str) -> None:
        if isinstance(body, str):
            self.text = body[:PAGE_TEXT]
        else:
            self.text = bytes(body[:PAGE_TEXT]).decode("utf-8", errors="replace")
        self._folded: str | None = None

    def folded(self) -> str:
        if self._folded is None:
            self._folded = " ".join(self.text.split()).casefold()
        return self._folded

    def first_line(self) -> str | None:
        """The page's first line as a code (``code = "first_line"`` rules): the whole line,
        blanks around it dropped; None when it is no code (empty, too long, or words)."""
        line = self.text.lstrip().split("\n", 1)[0].strip()
        if not line or len(line) > MAX_CODE_LENGTH or len(line.split()) != 1:
            return None
        return line


class _Reading:
    """How a code was read, before the response's own fields are added."""

    __slots__ = ("candidates", "entry", "matched", "product")

    def __init__(
        self,
        entry: Entry,
        matched: Match,
        product: str | None,
        candidates: tuple[Outcome, ...] = (),
    ) -> None:
        self.entry = entry
        self.matched = matched
        self.product = product
        self.candidates = candidates


def lookup(
    vendor: str,
    code: str | int,
    *,
    product: str | None = None,
    registry: Registry | None = None,
) -> Outcome:
    """Classify a bare vendor code (a string exactly as the vendor writes it, or an int)."""
    mapping = (registry or default_registry()).get(vendor)
    if isinstance(code, bool) or not isinstance(code, str | int):
        raise TypeError(f"a vendor code is a str or an int, not {type(code).__name__}")
    text, readable = code_text(code)
    scope = compiled(mapping).scope(_product(mapping, product), False)
    found = scope.code(text) if readable else None
    if found is not None:
        return found  # the prebuilt outcome itself: nothing else in it depends on the call
    return derive(scope.unmapped if readable else scope.long_code, code=text)


def classify(
    vendor: str,
    body: Body | Any,
    *,
    status_code: int = 200,
    url: str | None = None,
    product: str | None = None,
    registry: Registry | None = None,
    headers: Mapping[str, str] | None = None,
    max_body_size: int = DEFAULT_MAX_BODY_SIZE,
) -> Outcome:
    """Classify a vendor response or webhook payload.

    ``body`` may be bytes, str, already-parsed JSON, or what a vendor's SDK returned (a Tea,
    Tencent Cloud, pydantic or Twilio model, converted as its ``[sdk]`` table says). When
    ``product`` is None and ``url`` is given, the product comes from the mapping's selectors,
    which may also read the request's ``headers`` (Tencent's ``X-TC-Action``).

    A body longer than ``max_body_size`` (bytes; characters for a str), the cap the clients
    read responses up to, is never parsed: as for a client, the HTTP status decides, and a
    2xx reads ``unknown`` (``matched="missing"``, the message saying why).
    """
    routes = (registry or _registry._default)._routes  # default_registry(), without a call
    known = routes.get((vendor, product, url)) if headers is None else None
    if known is not None and body.__class__ is bytes and len(body) <= max_body_size:
        parse: Callable[[bytes, int, str | None], Outcome] = known[0]
        return parse(body, status_code, known[1])  # the usual body: bytes, a URL seen before
    if max_body_size < 0:
        raise ValueError("max_body_size must be >= 0")
    mapping = (registry or default_registry()).get(vendor)
    reader = mapping.compiled or compiled(mapping)
    chosen = None if product is None else _product(mapping, product)
    path = None
    if url is not None:
        chosen, path = reader.route(chosen, url, headers)
    if body.__class__ is bytes:
        if len(body) > max_body_size:
            return classify_unread(mapping, status_code, path, chosen, max_body_size)
    else:
        if body.__class__ not in _READ_AS_IS:  # maybe an SDK's response model
            from ._sdk import sdk_document  # imports this module: here, not at its top

            body, status_code = sdk_document(mapping, body, status_code)
        if _oversized(body, max_body_size):
            return classify_unread(mapping, status_code, path, chosen, max_body_size)
    scope = reader.scope(chosen, path is not None)
    outcome = scope.parse(body, status_code, path)  # its parser compiled by its first body
    if headers is None and len(routes) < _KEPT and (url is None or reader.by_url is not None):
        routes[vendor, product, url] = (scope.parse, path)  # as route() remembers the URL
    return outcome


_READ_AS_IS = frozenset({str, dict, list, bytearray, memoryview, type(None)})
"""Body types read as they are; anything else may be an SDK's model, converted first."""


def classify_many(
    vendor: str,
    bodies: Iterable[Body],
    *,
    status_code: int = 200,
    url: str | None = None,
    product: str | None = None,
    registry: Registry | None = None,
    headers: Mapping[str, str] | None = None,
    max_body_size: int = DEFAULT_MAX_BODY_SIZE,
) -> Iterator[Outcome]:
    """:func:`classify` over many bodies of one vendor, answered by the same URL (delivery
    reports from a queue, a log replayed): the vendor, product and URL are read once, then
    each body in turn, lazily, its outcome exactly what :func:`classify` gives it.

    The arguments are checked at once (an unknown vendor or product raises here, not at the
    first body). Bodies from different URLs or statuses: call :func:`classify` per body, it
    reuses the same compiled mapping.
    """
    if max_body_size < 0:
        raise ValueError("max_body_size must be >= 0")
    mapping = (registry or default_registry()).get(vendor)
    chosen, path = compiled(mapping).route(_product(mapping, product), url, headers)
    scope = compiled(mapping).scope(chosen, path is not None)
    return _many(mapping, scope, bodies, status_code, path, chosen, max_body_size)


def _many(
    mapping: VendorMapping,
    scope: _Scope,
    bodies: Iterable[Body],
    status_code: int,
    path: str | None,
    product: Product | None,
    limit: int,
) -> Iterator[Outcome]:
    for body in bodies:
        if _oversized(body, limit):
            yield classify_unread(mapping, status_code, path, product, limit)
        else:  # scope.parse each time: the first call replaces it with the generated reader
            yield scope.parse(body, status_code, path)


def _oversized(body: Body, limit: int) -> bool:
    if isinstance(body, memoryview):
        return body.nbytes > limit
    return isinstance(body, bytes | bytearray | str) and len(body) > limit


def classify_unread(
    mapping: VendorMapping,
    status_code: int | None,
    path: str | None,
    product: Product | None,
    limit: int,
) -> Outcome:
    """A body over the ``limit`` it may be read up to: never parsed, the status decides (the
    vendor's HTTP rules, the defaults for a non-2xx); else ``unknown``, saying why."""
    scope = compiled(mapping).scope(product, path is not None)
    found = None if status_code is None else scope.status(status_code, path)
    if found is None:
        entry = dataclasses.replace(
            _UNKNOWN, description=f"body over max_body_size ({limit} bytes): not read"
        )
        found = _template(mapping.id, None, _Reading(entry, Match.MISSING, scope.pid))
    return derive(found, http_status=status_code)


def classify_parsed(
    mapping: VendorMapping,
    doc: object,
    status_code: int | None,
    path: str | None,
    product: Product | None,
) -> Outcome:
    """Classify already-parsed JSON (None when the body was not JSON, a :class:`Page` when
    it was text) for a known vendor."""
    scope = compiled(mapping).scope(product, path is not None)
    if doc.__class__ is Page:
        return scope.read_page(doc, status_code, path)
    return scope.read(doc, status_code, path)


def routed_scope(mapping: VendorMapping, product: Product | None) -> Reader:
    """How the responses of requests routed to ``product`` (or, for None, to the vendor-level
    API) are read: what a transport keeps per route, so that each call reads its document
    with one call (:meth:`Reader.read`, or :meth:`Reader.read_page` for a :class:`Page`)."""
    return compiled(mapping).scope(product, True)


def classify_uninspected(
    mapping: VendorMapping, status_code: int, path: str | None, product: Product | None
) -> Outcome:
    """A response whose body is not JSON by design (a file, HEAD, 204): the status decides.

    Vendor HTTP rules come first (MANGO's 204 on stats/result means "not ready"); otherwise
    a 2xx is ok and anything else falls back as usual.
    """
    scope = compiled(mapping).scope(product, path is not None)
    found = scope.status(status_code, path)
    if found is None:
        found = scope.delivered if 200 <= status_code < 300 else scope.missing
    return derive(found, http_status=status_code)


def compiled(mapping: VendorMapping) -> Compiled:
    """``mapping`` compiled for classification: built on first use, kept on the mapping."""
    found = mapping.compiled
    if found is None:
        found = Compiled(mapping)
        object.__setattr__(mapping, "compiled", found)  # derived: set once on the frozen value
    return found  # type: ignore[no-any-return]


_KEPT = 4096
"""Codes (and routes) remembered per scope; past it they are read each time, never forgotten
at random: a hostile stream of fresh codes costs time, not memory."""


class Compiled:
    """What classifying a vendor's responses needs, derived from its mapping once.

    One :class:`_Scope` per way responses are read (the vendor-level API, routed or not, and
    each product), each built on first use; the product and path each URL selects, remembered
    when the vendor's selectors read no header or query.
    """

    __slots__ = ("_products", "_routed", "_unrouted", "by_url", "mapping")

    def __init__(self, mapping: VendorMapping) -> None:
        self.mapping = mapping
        self._routed: _Scope | None = None
        self._unrouted: _Scope | None = None
        self._products: dict[str, _Scope] = {}
        headers, query = mapping.selector_names()
        self.by_url: dict[str, tuple[Product | None, str]] | None = None if headers or query else {}

    def scope(self, product: Product | None, routed: bool) -> _Scope:
        """How responses of ``product`` are read; for the vendor-level API, ``routed`` says
        whether a request's URL chose it (no product matched), so that a code a family reads
        differently still has one meaning."""
        if product is not None:
            found = self._products.get(product.id)
            if found is None:
                found = self._products[product.id] = _Scope(self.mapping, product, False)
            return found
        if routed:
            if self._routed is None:
                self._routed = _Scope(self.mapping, None, True)
            return self._routed
        if self._unrouted is None:
            self._unrouted = _Scope(self.mapping, None, False)
        return self._unrouted

    def route(
        self, product: Product | None, url: str | None, headers: Mapping[str, str] | None
    ) -> tuple[Product | None, str | None]:
        """The product (``product`` if named, else the one the URL selects) and URL path."""
        if url is None:
            return product, None
        memo = self.by_url
        found = None if memo is None else memo.get(url)
        if found is None:
            lowered = None if headers is None else {k.lower(): v for k, v in headers.items()}
            target = Target.of_url(url, lowered)
            found = (self.mapping.product_for(target), target.path)
            if memo is not None and len(memo) < _KEPT:
                memo[url] = found
        chosen, path = found
        return (chosen if product is None else product), path


_ABSENT: Any = object()


class _Scope:
    """One way a vendor's responses are read, compiled: the envelope's paths as functions, a
    prebuilt outcome per code (from the tables, read once per code and kept), the rules
    that do not depend on the code, the item specs."""

    __slots__ = (
        "_codes",
        "_list_specs",
        "_message",
        "_no_code",
        "_pages",
        "_readings",
        "_request_id",
        "_when",
        "_when_index",
        "_without_code_kept",
        "code_of",
        "delivered",
        "items",
        "long_code",
        "mapping",
        "missing",
        "no_code",
        "parse",
        "pid",
        "product",
        "read",
        "routed",
        "unmapped",
        "xml",
    )

    def __init__(self, mapping: VendorMapping, product: Product | None, routed: bool) -> None:
        self.mapping = mapping
        self.product = product
        self.routed = routed
        self.pid = pid = None if product is None else product.id
        envelope = mapping.envelope_for(product)
        self.xml = envelope.xml
        self.code_of = value_finder(envelope.code)
        self._message = text_finder(envelope.message) if envelope.message else None
        self._request_id = value_finder(envelope.request_id) if envelope.request_id else None
        self._codes: dict[str, Outcome | None] = {}
        self._readings: dict[tuple[int, Match], tuple[Entry, Outcome]] = {}
        self._without_code_kept: dict[tuple[int | None, str | None], Outcome] = {}
        self._when = tuple(
            (rule.paths, rule)
            for table in _tables(mapping, product)
            for rule in table.when
            # the vendor-level API read without a URL never has a path to match
            if product is not None or routed or rule.paths is None
        )
        self._pages: tuple[PageRule, ...] = tuple(
            rule
            for table in _tables(mapping, product)
            for rule in table.pages
            if product is not None or routed or rule.paths is None
        )
        self._no_code = envelope.no_code
        self._list_specs = tuple(
            spec.paths for spec in envelope.items if any(not jp.segments for jp in spec.container)
        )
        self.items = ItemsReader(envelope.items, self._item_code) if envelope.items else None
        self._when_index = _when_tables(self)
        self.no_code = self.template(_Reading(_NO_CODE, Match.NO_CODE, pid))
        self.missing = self.template(_Reading(_UNKNOWN, Match.MISSING, pid))
        self.unmapped = self.template(_Reading(_UNKNOWN, Match.UNMAPPED, pid))
        self.long_code = self.template(_Reading(_LONG_CODE, Match.UNMAPPED, pid))
        self.delivered = self.template(_Reading(_DELIVERED, Match.HTTP_STATUS, pid))
        self.read: Callable[[object, int | None, str | None], Outcome] = self._first_read
        """What a document (None: no document) says, with the HTTP status and URL path:
        generated on first use (a lookup never needs it)."""
        self.parse: Callable[[Body, int | None, str | None], Outcome] = self._first_parse
        """A body not parsed yet (bytes, text, or parsed JSON) read as :attr:`read` does:
        generated with it, bytes parsed by orjson in the same function."""

    def _parse(self, body: Body, status: int | None, path: str | None) -> Outcome:
        """A body not parsed yet (bytes, text, or parsed JSON) read as :meth:`read` does: the
        :attr:`parse` of a body that is no bytes, or of any without orjson."""
        doc = parse_json(body)
        if doc is None and isinstance(body, bytes | bytearray | memoryview | str):
            return self.unparsed(body, status, path)
        return self.read(doc, status, path)

    def unparsed(
        self, body: bytes | bytearray | memoryview | str, status: int | None, path: str | None
    ) -> Outcome:
        """A body that is no JSON: read as XML where the envelope says the vendor writes it,
        else as a page for the ``[[page]]`` rules, else as no document (the status decides)."""
        doc = parse_xml(body) if self.xml else None
        if doc is None and self._pages:
            return self.read_page(Page(body), status, path)
        return self.read(doc, status, path)

    def read_page(self, page: Page, status: int | None, path: str | None) -> Outcome:
        """A body that is no document: the first ``[[page]]`` rule (product, then vendor)
        whose words it holds (a code rule: whose first line is a code the tables know, read
        as that code), else what an unreadable body gives (the HTTP status)."""
        if self._pages:
            text = page.folded()
            for rule in self._pages:
                if rule.applies(text, status, path):
                    if rule.entry is not None:
                        found = self.template(_Reading(rule.entry, Match.PAGE, self.pid))
                        return derive(found, http_status=status)
                    line = page.first_line()  # a code rule: the first line's table entry
                    coded = None if line is None else self.code(line)
                    if coded is not None:
                        if coded.category is Category.OK and status and not 200 <= status < 300:
                            coded = self._ok_on_error(coded, line, status, path)
                        return derive(coded, code=line, http_status=status)
        return self.read(None, status, path)

    def _ok_on_error(
        self, found: Outcome, code: str | None, status: int, path: str | None
    ) -> Outcome:
        """A success read on a 4xx/5xx answer stands only where the entry says the vendor
        documents it (``ok_on_http_error``); otherwise the status decides, the code kept: a
        code that once meant "done, with a warning" (Twilio 20001) must never turn an error
        answer into a success."""
        if found.matched is Match.FIELD:
            documented = any(
                rule.entry.ok_on_http_error
                and self.template(_Reading(rule.entry, Match.FIELD, self.pid)) is found
                for _, rule in self._when
            )
        else:
            reading = (
                None
                if code is None
                else resolve(self.mapping, code, self.product, routed=self.routed)
            )
            documented = reading is not None and reading.entry.ok_on_http_error
        if documented:
            return found
        return self.status(status, path) or found

    def _fallback(
        self, doc: object, code: str | None, readable: bool, status: int | None, path: str | None
    ) -> Outcome:
        """No rule and no table read the code: a success without one, the HTTP status, or
        unknown."""
        if (
            code is None
            and (status is None or 200 <= status < 300)
            and self._is_success_document(doc, path)
        ):
            return self.no_code
        found = None if status is None else self.status(status, path)
        if found is not None:
            return found
        if code is None:
            return self.missing
        return self.unmapped if readable else self.long_code

    def _without_code(self, doc: object, status: int | None, path: str | None) -> Outcome:
        """What an object without a code reads as (:meth:`_fallback`): for any object the
        same for a status and path (the ``no_code`` rule reads the path, the HTTP rules the
        status and path), so kept per (status, path) for the next one."""
        found = self._fallback(doc, None, False, status, path)
        if len(self._without_code_kept) < _KEPT:
            self._without_code_kept[status, path] = found
        return found

    def _first_read(self, doc: object, status: int | None, path: str | None) -> Outcome:
        self.read, self.parse = _generated_readers(self, self.mapping.envelope_for(self.product))
        return self.read(doc, status, path)

    def _first_parse(self, body: Body, status: int | None, path: str | None) -> Outcome:
        self.read, self.parse = _generated_readers(self, self.mapping.envelope_for(self.product))
        return self.parse(body, status, path)

    def code(self, code: str) -> Outcome | None:
        """The prebuilt outcome of ``code`` (its ``code`` set, nothing from a response), None
        when no table, success list or class knows it."""
        found = self._codes.get(code, _ABSENT)
        if found is _ABSENT:
            reading = resolve(self.mapping, code, self.product, routed=self.routed)
            found = None if reading is None else _template(self.mapping.id, code, reading)
            if len(self._codes) < _KEPT:
                self._codes[code] = found
        return found  # type: ignore[no-any-return]

    def status(self, status: int, path: str | None) -> Outcome | None:
        """The vendor's HTTP rules, then the defaults for a non-2xx."""
        reading = _by_status(self.mapping, self.product, status, path)
        return None if reading is None else self.template(reading)

    def template(self, reading: _Reading) -> Outcome:
        """The prebuilt outcome of a reading that is no code's (a rule, a fallback), kept per
        entry: rules and fallbacks live as long as the mapping, so their identity is a key."""
        key = (id(reading.entry), reading.matched)
        kept = self._readings.get(key)
        if kept is not None and kept[0] is reading.entry:
            return kept[1]
        template = _template(self.mapping.id, None, reading)
        self._readings[key] = (reading.entry, template)
        return template

    def _by_field(self, doc: object, code: str | None, path: str | None) -> Outcome | None:
        """A ``[[when]]`` rule whose field matches: product rules, then the vendor's."""
        if self._when_index is not None:  # no rule limited to paths or codes: by value
            best: tuple[int, Outcome] | None = None
            for read, by_value in self._when_index:
                value = read(doc)
                hit = None if value is None else by_value.get(value)
                if hit is not None and (best is None or hit[0] < best[0]):
                    best = hit
            return None if best is None else best[1]
        for paths, rule in self._when:
            if paths is not None and (path is None or paths.match(path) is None):
                continue
            if rule.applies(doc, code, path):
                return self.template(_Reading(rule.entry, Match.FIELD, self.pid))
        return None

    def _is_success_document(self, doc: object, path: str | None) -> bool:
        """A body without a code that the envelope's ``no_code`` says is a success: an object,
        or a list where an items spec reads the whole document (a webhook's list); a scalar,
        or any other list, is no success document."""
        rule = self._no_code
        if rule is False or (rule is not True and (path is None or rule.match(path) is None)):
            return False
        if isinstance(doc, dict):
            return True
        return isinstance(doc, list) and any(
            paths is None or (path is not None and paths.match(path) is not None)
            for paths in self._list_specs
        )

    def _item_code(self, key: str) -> tuple[Entry, Match] | None:
        found = resolve(self.mapping, key, self.product, routed=self.routed)
        return None if found is None else (found.entry, found.matched)


Reader = _Scope
"""How one route's responses are read (the transports keep one per route)."""


def _generated_readers(
    scope: _Scope, envelope: Envelope
) -> tuple[
    Callable[[object, int | None, str | None], Outcome],
    Callable[[Body, int | None, str | None], Outcome],
]:
    """The scope's :attr:`read` and :attr:`parse`, generated: the envelope's paths written
    out for an object (``doc.get("result")``), every table, rule and fallback bound in.
    ``parse`` is ``read`` with orjson's parsing of bytes before it, in one function.

    A code read through the tables before (a str or an int as the document holds it) is
    answered by one ``dict.get`` of its prebuilt outcome, when no ``[[when]]`` rule may
    read the document first."""
    remember = not scope._when
    lines = [
        "    if doc.__class__ is dict:",
        *_first("raw", envelope.code, "usable", "        "),
        "    else:",
        "        raw = code_of(doc)",
    ]
    slow = [*_READ_CODE]
    if scope._when:
        slow += _when_lines(scope._when, scope._when_index)
    slow += _READ_TABLES
    if remember:
        lines += [
            "    found = by_raw(raw) if raw.__class__ is str or raw.__class__ is int else None",
            "    if found is not None and (",
            "        status is None or status < 400 or found.category is not OK",
            "    ):",
            "        fields = found.__dict__.copy()",
            "    elif raw is None and doc.__class__ is dict:  # no code: status, path decide",
            "        found = without_code_kept((status, path))",
            "        if found is None:",
            "            found = without_code(doc, status, path)",
            "        fields = found.__dict__.copy()",
            "    else:",
            *("    " + line for line in slow),
        ]
    else:
        lines += slow
    lines += ['    fields["http_status"] = status']
    if envelope.message:
        lines += [
            "    if doc.__class__ is dict:",
            *_first("text", envelope.message, "text", "        "),
            "        if text is not None:  # a template holds no response's text",
            '            fields["vendor_message"] = text',
            "    elif doc is not None:",
            '        fields["vendor_message"] = message_of(doc)',
        ]
    if envelope.request_id:
        lines += [
            "    if doc.__class__ is dict:",
            *_first("request_id", envelope.request_id, "usable", "        "),
            "    else:",
            "        request_id = request_id_of(doc)",
            "    if request_id is not None:",
            '        fields["request_id"] = (',
            "            request_id if request_id.__class__ is str else written(request_id)",
            "        )",
        ]
    if scope.items is not None:
        lines += ["    if doc is not None:", "        read_items(fields, doc, path)"]
    lines += [
        "    outcome = new(Outcome)",
        '    set_fields(outcome, "__dict__", fields)',
        "    return outcome",
    ]
    source = ["def read(doc, status, path):", *lines]
    if fast_loads is not None:
        source += ["", "def parse(body, status, path):", *_PARSE, *lines]
    by_raw: dict[object, Outcome] = {}
    namespace: dict[str, Any] = {
        "ABSENT": _ABSENT,
        "DIGITS": _DIGITS,
        "KEPT": _KEPT if remember else 0,
        "LONGEST": MAX_CODE_LENGTH,
        "LONGEST_INT": _LONGEST_INT,
        "NEGATIVE_RUN": _NEGATIVE_RUN,
        "SHORT_RUN": _SHORT_RUN,
        "OK": Category.OK,
        "Outcome": Outcome,
        "QUOTED_RUN": _QUOTED_RUN,
        "RUN": _RUN,
        "SHORTEST_INT": _SHORTEST_INT,
        "WHEN": None if scope._when_index is None else [t for _, t in scope._when_index],
        "WHEN_KEYS": _first_keys(rule for _, rule in scope._when),
        "by_field": scope._by_field,
        "by_raw": by_raw.get,
        "code_of": scope.code_of,
        "code_text": code_text,
        "codes_get": scope._codes.get,
        "fallback": scope._fallback,
        "loads": fast_loads,
        "message_of": scope._message,
        "new": object.__new__,
        "not_bytes": scope._parse,
        "ok_on_error": scope._ok_on_error,
        "raw_kept": by_raw,
        "read_items": None if scope.items is None else scope.items.read,
        "request_id_of": scope._request_id,
        "resolve_code": scope.code,
        "set_fields": object.__setattr__,
        "standard": _standard,
        "step": step,
        "unparsed": scope.unparsed,
        "usable": usable,
        "when_text": _when_text,
        "without_code": scope._without_code,
        "without_code_kept": scope._without_code_kept.get,
        "written": _written,
    }
    # the source is this module's text with the envelope's path segments as repr()
    # literals: nothing of a mapping file is ever code
    exec(compile("\n".join(source), "<normalizer reader>", "exec"), namespace)
    return namespace["read"], namespace.get("parse", scope._parse)


def _when_tables(
    scope: _Scope,
) -> tuple[tuple[Find, dict[str | int, tuple[int, Outcome]]], ...] | None:
    """The ``[[when]]`` rules as one table per field read: value -> (the first rule's
    place, its outcome), when no rule is limited to paths or codes (None otherwise)."""
    if not scope._when or any(
        paths is not None or rule.codes is not None for paths, rule in scope._when
    ):
        return None
    tables: dict[tuple[JsonPath, ...], dict[str | int, tuple[int, Outcome]]] = {}
    for place, (_, rule) in enumerate(scope._when):
        table = tables.setdefault(rule.field, {})
        template = scope.template(_Reading(rule.entry, Match.FIELD, scope.pid))
        for value in rule.equals:
            table.setdefault(value, (place, template))
            number = _decimal(value)
            if number is not None:  # the int a document may hold instead: its text is value
                table.setdefault(number, (place, template))
    return tuple((_when_value(field), table) for field, table in tables.items())


_READ_CODE = """\
    if raw.__class__ is str and len(raw) <= LONGEST:
        code = raw
        readable = True
    elif raw.__class__ is int and SHORTEST_INT < raw < LONGEST_INT:
        code = str(raw)
        readable = True
    elif raw is None:
        code = None
        readable = False
    else:
        code, readable = code_text(raw)
    found = None""".splitlines()
_READ_TABLES = """\
    if found is None and readable:
        found = codes_get(code, ABSENT)
        if found is ABSENT:
            found = resolve_code(code)
        if found is not None and len(raw_kept) < KEPT and (
            raw.__class__ is str or raw.__class__ is int
        ):
            raw_kept[raw] = found  # the same code, as the document writes it: one get next time
    if found is None:
        found = fallback(doc, code, readable, status, path)
    elif status is not None and status >= 400 and found.category is OK:
        found = ok_on_error(found, code, status, path)
    fields = found.__dict__.copy()
    fields["code"] = code""".splitlines()
_PARSE = """\
    if body.__class__ is not bytes:
        return not_bytes(body, status, path)
    flat = body.translate(DIGITS)  # long_number(), inline: a number orjson would round
    if flat.find(SHORT_RUN) >= 0 and (
        flat.find(NEGATIVE_RUN) >= 0
        or (flat.find(RUN) >= 0 and flat.count(RUN) != flat.count(QUOTED_RUN))
    ):
        doc = standard(body, True)
    else:
        try:
            doc = loads(body)
        except ValueError:
            doc = standard(body, True)
    if doc is None:
        return unparsed(body, status, path)""".splitlines()


def _when_value(paths: tuple[JsonPath, ...]) -> Find:
    """What a ``[[when]]`` field holds as a rule compares it: the first path holding
    anything decides, a string or an int as text (cut as codes are), anything else None."""
    finds = tuple(finder(p) for p in paths)

    def value(doc: object) -> str | None:
        for find in finds:
            found = find(doc)
            if found is None:
                continue
            if isinstance(found, bool) or not isinstance(found, str | int):
                return None
            return code_text(found)[0]
        return None

    return value


def _when_lines(
    rules: tuple[tuple[Lazy | None, WhenRule], ...],
    index: tuple[tuple[Find, dict[str | int, tuple[int, Outcome]]], ...] | None,
) -> list[str]:
    """Lines trying the ``[[when]]`` rules: by value, written out, when each reads one
    top-level field and none is limited to paths or codes; else through ``by_field``, which an
    object without any of their fields (the usual response) skips at once."""
    fields = [rule.field for _, rule in rules]
    simple = all(len(f) == 1 and len(f[0].segments) == 1 for f in fields)
    if index is None or not simple:
        if _first_keys(rule for _, rule in rules) is None:  # a rule reads the whole document
            return ["    if doc is not None:", "        found = by_field(doc, code, path)"]
        return [
            "    if doc is not None and (",
            "        doc.__class__ is not dict or not WHEN_KEYS.isdisjoint(doc)",
            "    ):",
            "        found = by_field(doc, code, path)",
        ]
    lines = ["    if doc.__class__ is dict:", "        best = None"]
    for n, key in enumerate(dict.fromkeys(f[0].segments[0] for f in fields)):
        lines += [
            f"        w = doc.get({key!r})",
            "        if w is not None:",
            f"            hit = WHEN[{n}].get(",
            "                w",
            "                if (w.__class__ is str and len(w) <= LONGEST) or w.__class__ is int",
            "                else when_text(w)",
            "            )",
            "            if hit is not None and (best is None or hit[0] < best[0]):",
            "                best = hit",
        ]
    return [
        *lines,
        "        if best is not None:",
        "            found = best[1]",
        "    elif doc is not None:",
        "        found = by_field(doc, code, path)",
    ]


def _decimal(text: str) -> int | None:
    """The int whose text (as a code is written) is ``text`` exactly, if any: "400" -> 400;
    "0400", " 4", "+4" and "٤" are no int's text."""
    try:
        number = int(text)
    except ValueError:
        return None
    return number if code_text(number) == (text, True) else None


def _when_text(value: object) -> str | None:
    """A ``[[when]]`` field's value as a rule compares it: a string or an int as text (cut as
    codes are), anything else None."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    return code_text(value)[0]


def _first_keys(rules: Iterable[WhenRule]) -> frozenset[str] | None:
    """The top-level fields the rules read (None when one reads the whole document)."""
    keys = set()
    for rule in rules:
        for path in rule.field:
            if not path.segments:
                return None
            keys.add(path.segments[0])
    return frozenset(keys)


def _first(name: str, paths: tuple[JsonPath, ...], kind: str, indent: str) -> list[str]:
    """Lines setting ``name`` to the value at the first of ``paths`` in ``doc`` (an object)
    that holds one: for ``kind`` "usable" a non-blank string or an int that is no bool (what
    :func:`first_value` finds), for "text" any string; else None."""
    lines: list[str] = []
    for n, path in enumerate(paths):
        pad = indent + "    " * n
        if n:
            lines.append(f"{pad[:-4]}if {name} is None:")
        lines += [pad + line for line in _walk(name, path)]
        if kind == "text":
            lines += [f"{pad}if {name} is not None and not isinstance({name}, str):"]
        else:
            lines += [
                f"{pad}if {name} is not None and {name}.__class__ is not int and not (",
                f"{pad}    {name}.__class__ is str and {name} and not {name}.isspace()",
                f"{pad}):",
            ]
        lines += [
            f"{pad}    {name} = None" if kind == "text" else f"{pad}    {name} = usable({name})"
        ]
    return lines


def _walk(name: str, path: JsonPath) -> list[str]:
    """Lines setting ``name`` to what ``path`` holds in ``doc`` (an object), or None."""
    if not path.segments:
        return [f"{name} = doc"]
    first, *rest = path.segments
    lines = [f"{name} = doc.get({first!r})"]
    for segment in rest:
        index = int(segment) if segment.isdecimal() else None
        lines.append(  # a field a body lacks (Tencent's Response.Error) stops at None
            f"{name} = {name}.get({segment!r}) if {name}.__class__ is dict "
            f"else None if {name} is None else step({name}, {segment!r}, {index!r})"
        )
    return lines


def _written(value: str | int) -> str:
    """A request id as kept: a string as it is, an int written out as a code is."""
    return value if value.__class__ is str or isinstance(value, str) else code_text(value)[0]


def _template(vendor: str, code: str | None, reading: _Reading) -> Outcome:
    """The outcome a reading makes before the response's own fields are added."""
    entry = reading.entry
    return Outcome(
        category=entry.category,
        retryable=entry.retryable,
        vendor=vendor,
        code=code,
        message=entry.description,
        gloss=entry.gloss,
        product=reading.product,
        matched=reading.matched,
        rejected=entry.rejected,
        call_outcome=entry.call_outcome,
        candidates=reading.candidates,
        cooldown=entry.cooldown,
        delivery_outcome=entry.delivery_outcome,
        scope=entry.scope,
        retry_after=entry.retry_after,
        overload=entry.overload,
        fault=entry.fault,
    )


def _tables(mapping: VendorMapping, product: Product | None) -> tuple[CodeTable, ...]:
    """The tables a product's codes are read through, most specific first."""
    if product is None:
        return (mapping.table,)
    if not product.inherit:
        return (product.table,)
    return (product.table, mapping.table)


def resolve(
    mapping: VendorMapping, code: str, product: Product | None, *, routed: bool = False
) -> _Reading | None:
    """Read ``code`` through the tables: exact, success, then nearest class; None if unknown.

    ``routed``: the request's URL chose the vendor-level API (no family matched it), so a
    code a family reads differently still has one meaning.
    """
    key = code.strip()
    pid = None if product is None else product.id
    if product is None and not routed and key in mapping.contested:
        return _across_products(mapping, code, key, _vendor_reading(mapping, key), families=True)
    if product is not None:
        entry = product.table.codes.get(key)
        if entry is not None:
            return _Reading(entry, Match.EXACT, pid)
    if product is None or product.inherit:
        entry = mapping.table.codes.get(key)
        if entry is not None:
            return _Reading(entry, Match.EXACT, pid)
    envelope = mapping.envelope_for(product)
    if key in envelope.success:
        return _Reading(_OK, Match.EXACT, pid)
    if product is None and mapping.products:
        # a URL that chose the vendor-level API is never read with a family's table
        found = _across_products(mapping, code, key, families=not routed)
        if found is not None:
            return found
    for table in _tables(mapping, product):
        pattern = table.nearest_class(key)
        if pattern is not None:
            target = table.classes[pattern]
            entry = table.codes.get(target) or mapping.table.codes[target]
            return _Reading(entry, Match.CLASS, pid)
    return None


def _vendor_reading(mapping: VendorMapping, key: str) -> Entry | None:
    """The vendor-level table's entry for ``key``: exact, or its nearest class's."""
    table = mapping.table
    entry = table.codes.get(key)
    if entry is None:
        pattern = table.nearest_class(key)
        entry = None if pattern is None else table.codes[table.classes[pattern]]
    return entry


def _across_products(
    mapping: VendorMapping,
    code: str,
    key: str,
    vendor_entry: Entry | None = None,
    *,
    families: bool,
) -> _Reading | None:
    """A code no product was named for: resolved only where every product listing it agrees.

    ``vendor_entry`` is the vendor-level reading of a code that a family reads differently;
    ``families``: whether families (``inherit = false``) are asked at all.
    """
    listed: list[tuple[str | None, Entry]] = [] if vendor_entry is None else [(None, vendor_entry)]
    listed += [
        (p.id, p.table.codes[key])
        for p in mapping.products.values()
        if key in p.table.codes and (families or p.inherit)
    ]
    if not listed:
        return None
    first_product, first = listed[0]
    if len(listed) == 1:
        return _Reading(first, Match.EXACT, first_product)
    if all((e.category, e.retryable) == (first.category, first.retryable) for _, e in listed):
        # where the products differ, the reading that assumes less: not safe to resend, and
        # about this call only (a scope that slows every call needs every product to say so)
        narrow = [e.scope for _, e in listed if not e.scope.shared]
        # ... and another vendor is worth trying only if every product says it is the vendor's
        others = [e.fault for _, e in listed if e.fault is not Fault.VENDOR]
        agreed = dataclasses.replace(
            first,
            rejected=all(e.rejected for _, e in listed),
            scope=narrow[0] if narrow else first.scope,
            fault=others[0] if others else first.fault,
        )
        return _Reading(agreed, Match.EXACT, None)
    message = "; ".join(f"{pid or mapping.id}: {e.description}" for pid, e in listed)
    candidates = tuple(
        _template(mapping.id, code, _Reading(e, Match.EXACT, pid)) for pid, e in listed
    )
    return _Reading(
        Entry(Category.UNKNOWN, message, "", False, False), Match.AMBIGUOUS, None, candidates
    )


def _by_status(
    mapping: VendorMapping,
    product: Product | None,
    status: int,
    path: str | None,
) -> _Reading | None:
    """HTTP fallback: vendor rules for any status, built-in defaults only for non-2xx."""
    pid = None if product is None else product.id
    tables = (product.table, mapping.table) if product is not None else (mapping.table,)
    for table in tables:
        for rule in table.http:
            if rule.applies(status, path):
                return _Reading(rule.entry, Match.HTTP_STATUS, pid)
    if 200 <= status < 300:
        return None
    if 300 <= status < 400:  # a redirect or "not modified": a hop of httpx's, not a failure
        return _Reading(_REDIRECT, Match.HTTP_STATUS, pid)
    for rule in _DEFAULT_RULES:
        if rule.applies(status, path):
            return _Reading(rule.entry, Match.HTTP_STATUS, pid)
    return None


def _product(mapping: VendorMapping, product: str | None) -> Product | None:
    if product is None:
        return None
    try:
        return mapping.products[product]
    except KeyError:
        known = ", ".join(mapping.products) or "(none)"
        raise ValueError(
            f"vendor {mapping.id!r} has no product {product!r}; its products: {known}"
        ) from None


fast_loads: Callable[[bytes], Any] | None
try:  # an optional accelerator, used when the application has it installed
    from orjson import loads as fast_loads
except ImportError:  # pragma: no cover - depends on the environment
    fast_loads = None


def parse_json(body: Body, *, lossy: bool = True) -> object:
    """Parsed JSON, or None for anything that is not a JSON document (never raises).

    With orjson installed, bytes are parsed by it (about 8x faster here) unless they may hold
    an integer past 64 bits, which orjson reads as a float (:func:`long_number`): those, and
    whatever orjson refuses (UTF-16, invalid UTF-8), go to the standard library. Bytes that
    are not UTF-8/16/32 are read with a lossy decode, unless ``lossy`` is False.
    """
    if isinstance(body, bytes):
        if fast_loads is not None and not long_number(body):
            try:
                return fast_loads(body)
            except ValueError:
                pass
        return _standard(body, lossy)
    if body is None or isinstance(body, dict | list | Mapping):
        return body
    if isinstance(body, str):
        return _standard(body, lossy)
    if isinstance(body, bytearray | memoryview):
        return parse_json(bytes(body), lossy=lossy)
    return None  # an already-parsed scalar (or anything else) holds no code


def _standard(body: bytes | str, lossy: bool) -> object:
    """The standard library's reading of a body (exact numbers, UTF-16 and -32 detected)."""
    try:
        return json.loads(body)
    except UnicodeDecodeError:
        # not UTF-8/16/32: the code fields are ASCII, so a lossy decode still finds them
        assert isinstance(body, bytes)
        return _standard(body.decode("utf-8", errors="replace"), lossy) if lossy else None
    except (ValueError, RecursionError):
        return None


_DIGITS = bytes.maketrans(b"123456789", b"000000000")
_RUN = b"0" * 20
"""The shortest positive integer orjson reads as a float has 20 digits (2**64); every
19-digit one fits its unsigned 64 bits."""
_QUOTED_RUN = b'"' + _RUN
_NEGATIVE_RUN = b"-" + b"0" * 19
"""The shortest negative one has 19 digits (-2**63 - 1): orjson's signed 64 bits."""
_SHORT_RUN = b"0" * 19
"""In both of the above: a body without it holds neither."""


def long_number(body: bytes) -> bool:
    """Whether ``body`` may hold a JSON integer past 64 bits: 20 digits or more, or a negative
    one of 19 (orjson reads those as floats; the standard library keeps them exact).

    A run of digits that opens a string (a 20-digit id) is no number: when every run of 20
    digits in the body comes right after a quote (and none is 40 digits long), none is.
    Anything else answers yes, text that only looks like a number included
    (``"id -1234567890123456789"``): the careful parser reads it the same, only slower. A
    19-digit id (Onbuka's ``msgId``), string or number, is read by orjson, exactly.
    """
    flat = body.translate(_DIGITS)
    # find() and count(), never ``in``: bytes' ``in`` first tries its operand as an integer
    # (a TypeError raised and cleared: twice the cost of find() on a small body); the usual
    # body has no run of 19 digits at all, and one find() says so
    return flat.find(_SHORT_RUN) >= 0 and (
        flat.find(_NEGATIVE_RUN) >= 0
        or (flat.find(_RUN) >= 0 and flat.count(_RUN) != flat.count(_QUOTED_RUN))
    )
