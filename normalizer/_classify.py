"""Turning a vendor code or response body into an :class:`Outcome`.

Pure functions over a :class:`VendorMapping`: no I/O, no global state beyond the registry
lookup of the vendor id. Whatever the body holds, classification returns an outcome; it never
raises because of what a vendor sent.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from ._category import Category
from ._items import with_items
from ._mapping import (
    MAX_CODE_LENGTH,
    CodeTable,
    Entry,
    Envelope,
    HttpRule,
    JsonPath,
    Product,
    Target,
    VendorMapping,
    code_text,
    first_value,
)
from ._outcome import Match, Outcome, make_outcome
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


class _Reading(NamedTuple):
    """How a code was read, before the response's own fields are added."""

    entry: Entry
    matched: Match
    product: str | None
    candidates: tuple[Outcome, ...] = ()


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
    chosen = _product(mapping, product)
    found = resolve(mapping, text, chosen) if readable else None
    return _outcome(mapping.id, text, found or _unmapped(chosen, readable))


def classify(
    vendor: str,
    body: Body,
    *,
    status_code: int = 200,
    url: str | None = None,
    product: str | None = None,
    registry: Registry | None = None,
    headers: Mapping[str, str] | None = None,
    max_body_size: int = DEFAULT_MAX_BODY_SIZE,
) -> Outcome:
    """Classify a vendor response or webhook payload.

    ``body`` may be bytes, str, or already-parsed JSON. When ``product`` is None and ``url`` is
    given, the product comes from the mapping's selectors, which may also read the request's
    ``headers`` (Tencent's ``X-TC-Action``).

    A body longer than ``max_body_size`` (bytes; characters for a str), the cap the clients
    read responses up to, is never parsed: as for a client, the HTTP status decides, and a
    2xx reads ``unknown`` (``matched="missing"``, the message saying why).
    """
    if max_body_size < 0:
        raise ValueError("max_body_size must be >= 0")
    mapping = (registry or default_registry()).get(vendor)
    target = None
    if url is not None:
        target = Target.of_url(url, {k.lower(): v for k, v in (headers or {}).items()})
    chosen = _product(mapping, product)
    if chosen is None and target is not None:
        chosen = mapping.product_for(target)
    path = target.path if target is not None else None
    if _oversized(body, max_body_size):
        return classify_unread(mapping, status_code, path, chosen, max_body_size)
    envelope = mapping.envelope_for(chosen)
    doc = parse_json(body)
    if doc is None and envelope.xml and isinstance(body, bytes | bytearray | memoryview | str):
        doc = parse_xml(body)
    return classify_parsed(mapping, doc, status_code, path, chosen)


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
    reading = None if status_code is None else _by_status(mapping, product, status_code, path)
    if reading is None:
        entry = dataclasses.replace(
            _UNKNOWN, description=f"body over max_body_size ({limit} bytes): not read"
        )
        reading = _Reading(entry, Match.MISSING, None if product is None else product.id)
    return _outcome(mapping.id, None, reading, None, status_code)


def classify_parsed(
    mapping: VendorMapping,
    doc: object,
    status_code: int | None,
    path: str | None,
    product: Product | None,
) -> Outcome:
    """Classify already-parsed JSON (None when the body was not JSON) for a known vendor."""
    envelope = mapping.envelope_for(product)
    raw = first_value(envelope.code, doc)
    code, readable = (None, False) if raw is None else code_text(raw)
    reading = _by_field(mapping, product, doc, code, path) if doc is not None else None
    if reading is None and readable:
        assert code is not None
        reading = resolve(mapping, code, product, routed=path is not None)
    if (
        reading is None
        and code is None
        and (status_code is None or 200 <= status_code < 300)
        and _is_document(doc, envelope, path)
        and envelope.no_code_ok(path)
    ):
        reading = _Reading(_NO_CODE, Match.NO_CODE, None if product is None else product.id)
    if reading is None and status_code is not None:
        reading = _by_status(mapping, product, status_code, path)
    if reading is None:
        reading = _unmapped(product, readable) if code is not None else _missing(product)
    request_id = first_value(envelope.request_id, doc)
    outcome = _outcome(
        mapping.id,
        code,
        reading,
        _first_text(envelope.message, doc),
        status_code,
        None if request_id is None else str(request_id),
    )
    if envelope.items and doc is not None:  # with_items decides which outcomes list items

        def read_item(key: str) -> tuple[Entry, Match] | None:
            found = resolve(mapping, key, product, routed=path is not None)
            return None if found is None else (found.entry, found.matched)

        return with_items(outcome, envelope, doc, path, read_item)
    return outcome


def _is_document(doc: object, envelope: Envelope, path: str | None) -> bool:
    """An object, or a list where an items spec reads the whole document (a webhook's list):
    a scalar, or any other list, is no success document, whatever ``no_code`` says."""
    if isinstance(doc, dict):
        return True
    return isinstance(doc, list) and any(
        spec.applies(path) and not jp.segments for spec in envelope.items for jp in spec.container
    )


def _by_field(
    mapping: VendorMapping,
    product: Product | None,
    doc: object,
    code: str | None,
    path: str | None,
) -> _Reading | None:
    """A ``[[when]]`` rule whose field matches: product rules, then the vendor's."""
    for table in _tables(mapping, product):
        for rule in table.when_for(path):
            if rule.applies(doc, code, path):
                return _Reading(rule.entry, Match.FIELD, None if product is None else product.id)
    return None


def _tables(mapping: VendorMapping, product: Product | None) -> tuple[CodeTable, ...]:
    """The tables a product's codes are read through, most specific first."""
    if product is None:
        return (mapping.table,)
    if not product.inherit:
        return (product.table,)
    return (product.table, mapping.table)


def classify_uninspected(
    mapping: VendorMapping, status_code: int, path: str | None, product: Product | None
) -> Outcome:
    """A response whose body is not JSON by design (a file, HEAD, 204): the status decides.

    Vendor HTTP rules come first (MANGO's 204 on stats/result means "not ready"); otherwise
    a 2xx is ok and anything else falls back as usual.
    """
    reading = _by_status(mapping, product, status_code, path)
    if reading is None:
        if 200 <= status_code < 300:
            reading = _Reading(
                _DELIVERED, Match.HTTP_STATUS, None if product is None else product.id
            )
        else:
            reading = _missing(product)
    return _outcome(mapping.id, None, reading, None, status_code)


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
        agreed = dataclasses.replace(
            first,
            rejected=all(e.rejected for _, e in listed),
            scope=narrow[0] if narrow else first.scope,
        )
        return _Reading(agreed, Match.EXACT, None)
    message = "; ".join(f"{pid or mapping.id}: {e.description}" for pid, e in listed)
    candidates = tuple(
        _outcome(mapping.id, code, _Reading(e, Match.EXACT, pid)) for pid, e in listed
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


def _missing(product: Product | None) -> _Reading:
    return _Reading(_UNKNOWN, Match.MISSING, None if product is None else product.id)


def _unmapped(product: Product | None, readable: bool) -> _Reading:
    """A code no table knows, or one too long to be in any (saying so)."""
    entry = _UNKNOWN if readable else _LONG_CODE
    return _Reading(entry, Match.UNMAPPED, None if product is None else product.id)


_UNKNOWN = Entry(Category.UNKNOWN, "", "", False, False)


def _outcome(
    vendor: str,
    code: str | None,
    reading: _Reading,
    vendor_message: str | None = None,
    http_status: int | None = None,
    request_id: str | None = None,
) -> Outcome:
    entry = reading.entry
    return make_outcome(
        entry.category,
        entry.retryable,
        vendor,
        code,
        entry.description,
        entry.gloss,
        reading.product,
        vendor_message,
        http_status,
        reading.matched,
        entry.rejected,
        entry.call_outcome,
        request_id,
        reading.candidates,
        entry.cooldown,
        entry.delivery_outcome,
        scope=entry.scope,
    )


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


def _first_text(paths: tuple[JsonPath, ...], doc: object) -> str | None:
    if doc is None:
        return None
    for path in paths:
        value = path.find(doc)
        if isinstance(value, str):
            return value
    return None


_LONG_DIGITS = re.compile(rb"\d{19}")
"""A run of digits that may be an integer past 64 bits, which only the standard json keeps."""

fast_loads: Callable[[bytes], Any] | None
try:  # an optional accelerator, used when the application has it installed
    from orjson import loads as fast_loads
except ImportError:  # pragma: no cover - depends on the environment
    fast_loads = None


def parse_json(body: Body, *, lossy: bool = True) -> object:
    """Parsed JSON, or None for anything that is not a JSON document (never raises).

    With orjson installed, bytes are parsed by it (about 8x faster here); whatever it
    refuses (UTF-16, huge integers, invalid UTF-8) falls back to the standard library.
    Bytes that are not UTF-8/16/32 are read with a lossy decode, unless ``lossy`` is False.
    """
    if body is None or isinstance(body, Mapping | list):
        return body
    if not isinstance(body, bytes | bytearray | memoryview | str):
        return None  # an already-parsed scalar (or anything else) holds no code
    if fast_loads is not None and isinstance(body, bytes) and _LONG_DIGITS.search(body) is None:
        try:  # (orjson reads integers past 64 bits as floats: those bodies go to json below)
            return fast_loads(body)
        except ValueError:
            pass
    try:
        if isinstance(body, memoryview | bytearray):
            body = bytes(body)
        return json.loads(body)
    except UnicodeDecodeError:
        # not UTF-8/16/32: the code fields are ASCII, so a lossy decode still finds them
        assert isinstance(body, bytes)
        return parse_json(body.decode("utf-8", errors="replace")) if lossy else None
    except (ValueError, RecursionError):
        return None
