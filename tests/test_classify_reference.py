"""The fast classifier against a plain reader of the mapping tables, over every body the suite has.

``reference_classify`` below reads a :class:`VendorMapping`'s tables the simple, slow way: no
compiled paths, no dispatch tables, no templates, nothing remembered between calls. It is kept
deliberately apart from the package's code (it imports nothing of ``_classify`` or ``_items``),
so that the compiled form can never drift from what the TOML says without a test failing here.

The bodies are every literal body of the test suite (dicts, lists and JSON or XML text found in
``tests/**/*.py``, the per-vendor traffic corpora included), each vendor's documented answer for
every code of its tables (``normalizer.testing.vendor_response``), and bodies made from the
tables themselves: every code, success code and class at every code path, every item spec with
known, unknown, missing and malformed items, every ``[[when]]`` rule's values, each under the
vendor's paths, products and HTTP statuses.
"""

from __future__ import annotations

import ast
import dataclasses
import json
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest

import normalizer
from normalizer import Category, Item, Match, Outcome, Scope
from normalizer._category import Fault
from normalizer._classify import classify_parsed, parse_json
from normalizer._mapping import (
    CodeTable,
    Entry,
    Envelope,
    ItemsSpec,
    JsonPath,
    Lazy,
    Product,
    Target,
    VendorMapping,
)
from normalizer._redact import DEFAULT as REDACTOR
from normalizer._xml import parse_xml
from normalizer.testing import vendor_response

TESTS = Path(__file__).resolve().parent
VENDORS = normalizer.Registry().ids()

# --- the reference reader -------------------------------------------------------------------

LONGEST = 64
MAX_ITEMS = 10_000
SEVERITY = ["auth", "billing", "validation", "not_found", "unknown", "server", "busy"]
DEFAULT_HTTP = [
    ("401", "auth", "HTTP 401 Unauthorized"),
    ("403", "auth", "HTTP 403 Forbidden"),
    ("402", "billing", "HTTP 402 Payment Required"),
    ("404", "not_found", "HTTP 404 Not Found"),
    ("410", "not_found", "HTTP 410 Gone"),
    ("429", "busy", "HTTP 429 Too Many Requests"),
    ("4xx", "validation", "HTTP client error"),
    ("5xx", "server", "HTTP server error"),
]


@dataclasses.dataclass
class Reading:
    """What a code means: the entry's fields, how it was found, for which product."""

    category: Category
    description: str = ""
    gloss: str = ""
    retryable: bool = False
    rejected: bool = False
    call_outcome: bool = False
    delivery_outcome: bool = False
    cooldown: float = 0.0
    scope: Scope | None = None
    matched: Match = Match.EXACT
    product: str | None = None
    candidates: tuple[Outcome, ...] = ()
    retry_after: float = 0.0
    overload: bool = False
    ok_on_http_error: bool = False
    fault: Fault | str | None = "derived"

    def __post_init__(self) -> None:
        if self.scope is None:
            report = self.call_outcome or self.delivery_outcome
            self.scope = Scope.default(self.category, report)
        if self.fault == "derived":  # the rule as the docs write it, not the package's table
            if self.category is Category.OK:
                self.fault = None
            elif self.scope in (Scope.VENDOR, Scope.ACCOUNT):
                self.fault = Fault.VENDOR
            elif self.scope is Scope.RECIPIENT:
                self.fault = Fault.RECIPIENT
            else:
                self.fault = Fault.REQUEST


def of(entry: Entry, matched: Match, product: str | None) -> Reading:
    return Reading(
        entry.category,
        entry.description,
        entry.gloss,
        entry.retryable,
        entry.rejected,
        entry.call_outcome,
        entry.delivery_outcome,
        entry.cooldown,
        entry.scope,
        matched,
        product,
        retry_after=entry.retry_after,
        overload=entry.overload,
        ok_on_http_error=entry.ok_on_http_error,
        fault=entry.fault,
    )


def plain(category: str, description: str, matched: Match, product: str | None) -> Reading:
    cat = Category(category)
    busy = cat is Category.BUSY
    return Reading(
        cat, description, "", cat.retryable_by_default, busy, matched=matched, product=product
    )


def find(path: JsonPath, doc: object) -> object:
    node = doc
    for seg in path.segments:
        if isinstance(node, dict):
            node = node.get(seg)
        elif isinstance(node, list) and seg.isdigit() and int(seg) < len(node):
            node = node[int(seg)]
        else:
            return None
    return node


def first_value(paths: tuple[JsonPath, ...], doc: object) -> str | int | None:
    if doc is None:
        return None
    for path in paths:
        value = find(path, doc)
        if isinstance(value, str) and value.strip():
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


def text_of(value: str | int) -> tuple[str, bool]:
    """A code as kept (at most 64 characters, the last an ellipsis when cut) and whether it may
    be looked up."""
    if isinstance(value, int):
        if not -(10 ** (LONGEST - 1)) < value < 10**LONGEST:
            return "\u2026", False
        value = str(value)
    if len(value) > LONGEST:
        return value[: LONGEST - 1] + "\u2026", False
    return value, True


def glob_matches(pattern: Lazy | None, path: str | None) -> bool:
    return pattern is None or (path is not None and pattern.match(path) is not None)


def nearest_class(table: CodeTable, code: str) -> str | None:
    """Every pattern of the code's length that fits it; the fewest "x", then the one whose
    literal digits come first."""
    fits = []
    for pattern in table.classes:
        if len(pattern) != len(code):
            continue
        if all(
            (p == "x" and c.isdigit()) or (p != "x" and p == c and c != "x")
            for p, c in zip(pattern, code, strict=True)
        ):
            fits.append(pattern)
    if not fits:
        return None
    return min(fits, key=lambda p: (p.count("x"), [ch == "x" for ch in p]))


def tables(mapping: VendorMapping, product: Product | None) -> list[CodeTable]:
    if product is None:
        return [mapping.table]
    return [product.table, mapping.table] if product.inherit else [product.table]


def resolve(
    mapping: VendorMapping, code: str, product: Product | None, routed: bool
) -> Reading | None:
    key = code.strip()
    pid = None if product is None else product.id
    if product is None and not routed and key in contested(mapping):
        table = mapping.table
        entry = table.codes.get(key)
        if entry is None:
            pattern = nearest_class(table, key)
            entry = None if pattern is None else table.codes[table.classes[pattern]]
        return across(mapping, code, key, entry, families=True)
    if product is not None and key in product.table.codes:
        return of(product.table.codes[key], Match.EXACT, pid)
    if (product is None or product.inherit) and key in mapping.table.codes:
        return of(mapping.table.codes[key], Match.EXACT, pid)
    envelope = mapping.envelope if product is None else product.envelope
    if key in envelope.success:
        return Reading(Category.OK, matched=Match.EXACT, product=pid)
    if product is None and mapping.products:
        found = across(mapping, code, key, None, families=not routed)
        if found is not None:
            return found
    for table in tables(mapping, product):
        pattern = nearest_class(table, key)
        if pattern is not None:
            target = table.classes[pattern]
            entry = table.codes.get(target) or mapping.table.codes[target]
            return of(entry, Match.CLASS, pid)
    return None


def contested(mapping: VendorMapping) -> set[str]:
    """Vendor-level codes a family reads as something else (found again, the slow way)."""
    known = _CONTESTED.get(id(mapping))
    if known is not None and known[0] is mapping:
        return known[1]
    out: set[str] = set()
    for product in mapping.products.values():
        if product.inherit:
            continue
        for code, entry in product.table.codes.items():
            mine = mapping.table.codes.get(code)
            if mine is None:
                pattern = nearest_class(mapping.table, code)
                mine = (
                    None
                    if pattern is None
                    else mapping.table.codes.get(mapping.table.classes[pattern])
                )
            if mine is not None and (mine.category, mine.retryable) != (
                entry.category,
                entry.retryable,
            ):
                out.add(code)
    _CONTESTED[id(mapping)] = (mapping, out)
    return out


_CONTESTED: dict[int, tuple[VendorMapping, set[str]]] = {}


def across(
    mapping: VendorMapping, code: str, key: str, vendor: Entry | None, *, families: bool
) -> Reading | None:
    listed: list[tuple[str | None, Entry]] = [] if vendor is None else [(None, vendor)]
    for p in mapping.products.values():
        if key in p.table.codes and (families or p.inherit):
            listed.append((p.id, p.table.codes[key]))
    if not listed:
        return None
    pid, first = listed[0]
    if len(listed) == 1:
        return of(first, Match.EXACT, pid)
    if all((e.category, e.retryable) == (first.category, first.retryable) for _, e in listed):
        reading = of(first, Match.EXACT, None)
        reading.rejected = all(e.rejected for _, e in listed)
        narrow = [e.scope for _, e in listed if not e.scope.shared]
        reading.scope = narrow[0] if narrow else first.scope
        others = [e.fault for _, e in listed if e.fault is not Fault.VENDOR]
        reading.fault = others[0] if others else first.fault
        return reading
    message = "; ".join(f"{p or mapping.id}: {e.description}" for p, e in listed)
    candidates = tuple(build(mapping.id, code, of(e, Match.EXACT, p)) for p, e in listed)
    return Reading(Category.UNKNOWN, message, matched=Match.AMBIGUOUS, candidates=candidates)


def by_status(
    mapping: VendorMapping, product: Product | None, status: int, path: str | None
) -> Reading | None:
    pid = None if product is None else product.id
    for table in [product.table, mapping.table] if product is not None else [mapping.table]:
        for rule in table.http:
            if status_matches(rule.status, status) and glob_matches(rule.paths, path):
                return of(rule.entry, Match.HTTP_STATUS, pid)
    if 200 <= status < 300:
        return None
    if 300 <= status < 400:
        return Reading(
            Category.OK,
            "HTTP redirect or not modified (3xx)",
            matched=Match.HTTP_STATUS,
            product=pid,
        )
    for rule_status, category, description in DEFAULT_HTTP:
        if status_matches(rule_status, status):
            return plain(category, description, Match.HTTP_STATUS, pid)
    return None


def status_matches(rule: str, status: int) -> bool:
    if rule.endswith("xx"):
        return str(status)[0] == rule[0]
    return str(status) == rule


def by_field(
    mapping: VendorMapping, product: Product | None, doc: object, code: str | None, path: str | None
) -> Reading | None:
    for table in tables(mapping, product):
        for rule in table.when:
            if not glob_matches(rule.paths, path):
                continue
            if rule.codes is not None:
                if not rule.codes and code is not None:
                    continue
                if rule.codes and (code is None or code.strip() not in rule.codes):
                    continue
            for jp in rule.field:
                value = find(jp, doc)
                if value is None:
                    continue
                readable = isinstance(value, str | int) and not isinstance(value, bool)
                if readable and text_of(value)[0] in rule.equals:  # type: ignore[arg-type]
                    return of(rule.entry, Match.FIELD, None if product is None else product.id)
                break
    return None


def build(
    vendor: str,
    code: str | None,
    r: Reading,
    vendor_message: str | None = None,
    http_status: int | None = None,
    request_id: str | None = None,
) -> Outcome:
    return Outcome(
        category=r.category,
        retryable=r.retryable,
        vendor=vendor,
        code=code,
        message=r.description,
        gloss=r.gloss,
        product=r.product,
        vendor_message=vendor_message,
        http_status=http_status,
        matched=r.matched,
        rejected=r.rejected,
        call_outcome=r.call_outcome,
        request_id=request_id,
        candidates=r.candidates,
        cooldown=r.cooldown,
        delivery_outcome=r.delivery_outcome,
        scope=r.scope or Scope.REQUEST,
        retry_after=r.retry_after,
        overload=r.overload,
        fault=r.fault,  # type: ignore[arg-type]
    )


def reference_classify(
    mapping: VendorMapping,
    doc: object,
    status: int | None,
    path: str | None,
    product: Product | None,
) -> Outcome:
    """What the mapping says of ``doc``, read the slow way."""
    envelope = mapping.envelope if product is None else product.envelope
    pid = None if product is None else product.id
    raw = first_value(envelope.code, doc)
    code, readable = (None, False) if raw is None else text_of(raw)
    reading = by_field(mapping, product, doc, code, path) if doc is not None else None
    if reading is None and readable:
        assert code is not None
        reading = resolve(mapping, code, product, routed=path is not None)
    if (
        reading is not None
        and reading.category is Category.OK
        and status is not None
        and status >= 400
        and not reading.ok_on_http_error
    ):
        # a success code never turns an error status into success (issue 31)
        reading = by_status(mapping, product, status, path) or reading
    if (
        reading is None
        and code is None
        and (status is None or 200 <= status < 300)
        and is_document(doc, envelope, path)
        and no_code(envelope, path)
    ):
        reading = Reading(
            Category.OK, "success: a 2xx body without a code", matched=Match.NO_CODE, product=pid
        )
    if reading is None and status is not None:
        reading = by_status(mapping, product, status, path)
    if reading is None:
        if code is None:
            reading = Reading(Category.UNKNOWN, matched=Match.MISSING, product=pid)
        elif readable:
            reading = Reading(Category.UNKNOWN, matched=Match.UNMAPPED, product=pid)
        else:
            reading = Reading(
                Category.UNKNOWN,
                f"code over {LONGEST} characters: not looked up",
                matched=Match.UNMAPPED,
                product=pid,
            )
    message = None
    if doc is not None:
        for jp in envelope.message:
            value = find(jp, doc)
            if isinstance(value, str):
                message = value
                break
    request_id = first_value(envelope.request_id, doc)
    if request_id is not None:  # a string as it is, an int written out as a code is
        request_id = request_id if isinstance(request_id, str) else text_of(request_id)[0]
    outcome = build(mapping.id, code, reading, message, status, request_id)
    if envelope.items and doc is not None:
        return with_items(mapping, product, outcome, envelope, doc, path)
    return outcome


def is_document(doc: object, envelope: Envelope, path: str | None) -> bool:
    if isinstance(doc, dict):
        return True
    if not isinstance(doc, list):
        return False
    return any(
        glob_matches(spec.paths, path) and any(not jp.segments for jp in spec.container)
        for spec in envelope.items
    )


def no_code(envelope: Envelope, path: str | None) -> bool:
    if isinstance(envelope.no_code, bool):
        return envelope.no_code
    return path is not None and envelope.no_code.match(path) is not None


def with_items(
    mapping: VendorMapping,
    product: Product | None,
    outcome: Outcome,
    envelope: Envelope,
    doc: object,
    path: str | None,
) -> Outcome:
    if not (outcome.ok or outcome.delivery_outcome or outcome.call_outcome):
        return outcome
    for spec in envelope.items:
        if not glob_matches(spec.paths, path):
            continue
        container = container_of(spec, doc)
        failed, succeeded = count(spec.failed, doc), count(spec.succeeded, doc)
        if container is None and failed is None and succeeded is None:
            continue
        items = read_items(mapping, product, path, spec, container) if container is not None else []
        if not outcome.ok:
            explained = [item if item.ok else explain(item, outcome) for item in items]
            return dataclasses.replace(outcome, items=tuple(explained))
        if spec.report:
            return dataclasses.replace(outcome, items=tuple(items))
        cut = container is not None and len(container) > MAX_ITEMS
        return summed(outcome, items, failed or 0, succeeded or 0, cut)
    return outcome


def explain(item: Item, outcome: Outcome) -> Item:
    return dataclasses.replace(
        item,
        category=outcome.category,
        retryable=outcome.retryable,
        code=outcome.code,
        message=outcome.message or (outcome.vendor_message or ""),
        gloss=outcome.gloss,
        vendor_message=outcome.vendor_message,
        matched=outcome.matched,
        rejected=outcome.rejected,
    )


def summed(outcome: Outcome, items: list[Item], failed: int, succeeded: int, cut: bool) -> Outcome:
    failures = [item for item in items if not item.ok and not item.delivery_outcome]
    n_failed = max(len(failures), failed)
    n_ok = max(len(items) - len(failures), succeeded)
    if n_failed == 0:
        return dataclasses.replace(outcome, items=tuple(items))
    if n_ok > 0:
        return dataclasses.replace(
            outcome, items=tuple(items), partial=True, retryable=False, rejected=False
        )
    if not failures:
        return dataclasses.replace(
            outcome,
            category=Category.UNKNOWN,
            retryable=False,
            rejected=False,
            items=tuple(items),
            message="every item failed (the response gives no reason)",
            gloss="",
        )
    worst = sorted(failures, key=lambda item: SEVERITY.index(item.category.value))[0]
    return dataclasses.replace(
        outcome,
        category=worst.category,
        retryable=not cut and all(item.retryable for item in failures),
        rejected=not cut and all(item.rejected for item in failures),
        code=worst.code,
        message=worst.message,
        gloss=worst.gloss,
        vendor_message=worst.vendor_message,
        matched=worst.matched,
        items=tuple(items),
        scope=worst.scope,
        fault=worst.fault,
    )


def container_of(spec: ItemsSpec, doc: object) -> list[Any] | dict[str, Any] | None:
    for jp in spec.container:
        value = find(jp, doc)
        if spec.keyed is not None:
            if isinstance(value, dict):
                return value
        elif isinstance(value, list):
            return value
        elif isinstance(value, dict) and jp.segments:
            return [value]
    return None


def count(paths: tuple[JsonPath, ...], doc: object) -> int | None:
    for jp in paths:
        value = find(jp, doc)
        if isinstance(value, bool):
            continue
        if isinstance(value, int):
            return max(value, 0)
        if isinstance(value, str):
            text = value.strip()
            if text.isascii() and text.isdigit() and len(text) <= 18:
                return int(text)
    return None


def read_items(
    mapping: VendorMapping,
    product: Product | None,
    path: str | None,
    spec: ItemsSpec,
    container: list[Any] | dict[str, Any],
) -> list[Item]:
    pairs: list[tuple[int | None, str | None, object]]
    if isinstance(container, dict):
        pairs = [(None, str(key), value) for key, value in container.items()]
    else:
        pairs = [(i, None, value) for i, value in enumerate(container)]
    return [read_item(mapping, product, path, spec, *pair) for pair in pairs[:MAX_ITEMS]]


def field_text(paths: tuple[JsonPath, ...], doc: object) -> str | None:
    value = first_value(paths, doc)
    return None if value is None else text_of(value)[0]


def read_item(
    mapping: VendorMapping,
    product: Product | None,
    path: str | None,
    spec: ItemsSpec,
    index: int | None,
    key: str | None,
    value: object,
) -> Item:
    unknown = Reading(Category.UNKNOWN)
    if not isinstance(value, dict):
        return make_item(unknown, Match.MISSING, None, None, key, None, index, spec.report)
    by_id = spec.keyed == "message_id"
    recipient = field_text(spec.number, value) or (None if by_id else key)
    message_id = field_text(spec.message_id, value) or (key if by_id else None)
    text = field_text(spec.message, value)
    if not spec.code:
        listed = Reading(Category.OK, "listed as accepted")
        return make_item(
            listed, Match.NO_CODE, None, text, recipient, message_id, index, spec.report
        )
    code = field_text(spec.code, value)
    if code is None:
        return make_item(
            unknown, Match.MISSING, None, text, recipient, message_id, index, spec.report
        )
    found = item_code(mapping, product, path, spec, code)
    reading, matched = found if found is not None else (unknown, Match.UNMAPPED)
    return make_item(reading, matched, code, text, recipient, message_id, index, spec.report)


def item_code(
    mapping: VendorMapping, product: Product | None, path: str | None, spec: ItemsSpec, code: str
) -> tuple[Reading, Match] | None:
    key = code.strip()
    table = spec.table
    if table is None:
        top = resolve(mapping, key, product, routed=path is not None)
        if top is not None:
            return top, top.matched
    elif key in table.codes:
        return of(table.codes[key], Match.EXACT, None), Match.EXACT
    if key in spec.success:
        return Reading(Category.OK), Match.EXACT
    if table is None:
        return None
    pattern = nearest_class(table, key)
    if pattern is None:
        return None
    target = table.classes[pattern]
    if target in table.codes:
        return of(table.codes[target], Match.CLASS, None), Match.CLASS
    top = resolve(mapping, target, product, routed=path is not None)
    return None if top is None else (top, Match.CLASS)


def make_item(
    r: Reading,
    matched: Match,
    code: str | None,
    text: str | None,
    recipient: str | None,
    message_id: str | None,
    index: int | None,
    report: bool,
) -> Item:
    known = matched not in (Match.UNMAPPED, Match.MISSING)
    return Item(
        category=r.category,
        retryable=r.retryable,
        code=code,
        message=r.description if known or text is None else text,
        gloss=r.gloss,
        vendor_message=text,
        number=None if recipient is None else REDACTOR.number(recipient),
        message_id=message_id,
        index=index,
        matched=matched,
        rejected=r.rejected,
        delivery_outcome=r.call_outcome or r.delivery_outcome or report,
        recipient=recipient,
        scope=Scope.RECIPIENT if report else (r.scope or Scope.REQUEST),
        fault=r.fault,  # type: ignore[arg-type]
    )


def reference_parse(body: bytes | str, xml: bool) -> object:
    """A body as the standard library reads it (never orjson), XML where the vendor speaks it."""
    try:
        doc = json.loads(body)
    except UnicodeDecodeError:
        assert isinstance(body, bytes)
        return reference_parse(body.decode("utf-8", errors="replace"), xml)
    except (ValueError, RecursionError):
        doc = None
    if doc is None and xml:
        doc = parse_xml(body)
    return doc


# --- the corpus -------------------------------------------------------------------------------


def literals(tree: ast.AST) -> Iterator[object]:
    """Every dict, list, bytes or str literal of a test module (nested ones included)."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.Dict | ast.List | ast.Constant):
            continue
        try:
            value = ast.literal_eval(node)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            continue
        yield value


@cache
def suite_corpus() -> tuple[tuple[list[object], list[bytes | str], list[str]], ...]:
    """(parsed bodies, raw bodies, URLs) per test module: every literal that may be a body."""
    out = []
    for file in sorted(TESTS.rglob("test_*.py")):
        if file.name == Path(__file__).name:
            continue
        docs: list[object] = []
        raws: list[bytes | str] = []
        urls: list[str] = []
        for value in literals(ast.parse(file.read_text(encoding="utf-8"))):
            if isinstance(value, dict | list):
                docs.append(value)
            elif isinstance(value, str) and value.startswith(("http://", "https://")):
                urls.append(value)
            elif isinstance(value, bytes | str) and 0 < len(value) < 200_000:
                stripped = value.strip()
                if stripped[:1] in ("{", "[", "<", b"{", b"[", b"<") or stripped.isdigit():
                    raws.append(value)
        out.append((docs, raws, urls))
    return tuple(out)


def put(doc: dict[str, Any], segments: tuple[str, ...], value: object) -> None:
    """Set ``value`` at a dotted path, making objects (and a list for an integer segment)."""
    node: Any = doc
    for i, seg in enumerate(segments):
        last = i == len(segments) - 1
        nxt = segments[i + 1] if not last else None
        if isinstance(node, list):
            while len(node) <= int(seg):
                node.append({})
            if last:
                node[int(seg)] = value
            else:
                node = node[int(seg)]
            continue
        if last:
            node[seg] = value
        else:
            fresh: Any = [] if nxt is not None and nxt.isdigit() else {}
            node = node.setdefault(seg, fresh)


def concrete(pattern: Lazy | None) -> list[str]:
    """Paths that a selector's globs match (each glob's ``*`` written as one segment)."""
    if pattern is None:
        return []
    out = []
    for part in pattern.pattern.split("|"):
        # fnmatch.translate: (?s:/v3/sendSms)\Z inside (?:...)
        inner = re.sub(r"^\(\?:\(\?s:|\)\\Z\)$", "", part)
        text = inner.replace(".*", "x").replace("\\", "")
        if text.startswith("x"):
            text = "/api" + text[1:]
        out.append(text)
    return out


def vendor_paths(mapping: VendorMapping) -> list[str | None]:
    """No path, plus paths from every selector, rule and spec of the vendor that names paths."""
    found: list[str | None] = [None, "/"]
    envelopes = [mapping.envelope, *(p.envelope for p in mapping.products.values())]
    scopes = [mapping.table, *(p.table for p in mapping.products.values())]
    found += concrete(mapping.detect.paths)
    for product in mapping.products.values():
        found += concrete(product.selector.paths)
    for alias in mapping.aliases:
        found += concrete(alias.selector.paths)
        for _, pattern in alias.products:
            found += concrete(pattern)
    for env in envelopes:
        if not isinstance(env.no_code, bool):
            found += concrete(env.no_code)
        for spec in env.items:
            found += concrete(spec.paths)
    for table in scopes:
        for rule in table.http:
            found += concrete(rule.paths)
        for when in table.when:
            found += concrete(when.paths)
    return list(dict.fromkeys(found))


def code_values(code: str) -> list[object]:
    values: list[object] = [code]
    if re.fullmatch(r"-?[1-9][0-9]{0,17}|0", code):
        values.append(int(code))
    return values


def class_codes(table: CodeTable) -> list[str]:
    """For each class pattern, codes inside it (x as 0, 5 and 9), plus one a character off."""
    out = []
    for pattern in table.classes:
        for digit in "059":
            out.append(pattern.replace("x", digit))
        out.append(pattern.replace("x", "7", 1).replace("x", "a"))
    return out


def table_codes(mapping: VendorMapping) -> list[str]:
    codes: list[str] = []
    tables_ = [mapping.table, *(p.table for p in mapping.products.values())]
    envelopes = [mapping.envelope, *(p.envelope for p in mapping.products.values())]
    for table in tables_:
        codes += table.codes
        codes += class_codes(table)
    for env in envelopes:
        codes += env.success
        for spec in env.items:
            codes += spec.success
            if spec.table is not None:
                codes += spec.table.codes
                codes += class_codes(spec.table)
    codes += ["no-such-code", "99999999", " 0 ", "x" * 70]
    return list(dict.fromkeys(codes))


def code_bodies(mapping: VendorMapping) -> Iterator[object]:
    """Each code at each of the vendor's code paths, with a message and a request id."""
    envelopes = [mapping.envelope, *(p.envelope for p in mapping.products.values())]
    code_paths = list(dict.fromkeys(jp for env in envelopes for jp in env.code))
    messages = list(dict.fromkeys(jp for env in envelopes for jp in env.message))
    ids = list(dict.fromkeys(jp for env in envelopes for jp in env.request_id))
    for code in table_codes(mapping):
        for n, jp in enumerate(code_paths):
            for value in code_values(code):
                doc: dict[str, Any] = {}
                if not jp.segments:
                    continue
                put(doc, jp.segments, value)
                if messages:
                    put(doc, messages[n % len(messages)].segments, f"text of {code}")
                if ids:
                    put(doc, ids[n % len(ids)].segments, 1234567 + n)
                yield doc


def item_bodies(mapping: VendorMapping) -> Iterator[object]:
    """Each item spec's container holding known, unknown, missing and malformed items."""
    envelopes = [mapping.envelope, *(p.envelope for p in mapping.products.values())]
    codes = table_codes(mapping)
    for env in envelopes:
        for spec in env.items:
            items: list[object] = []
            for i, code in enumerate(codes[:400]):
                item: dict[str, Any] = {}
                for paths, text in (
                    (spec.code, code),
                    (spec.number, f"+86138001380{i:02d}"),
                    (spec.message_id, f"id-{i}"),
                    (spec.message, f"reason {i}" if i % 3 else ""),
                ):
                    if paths and paths[0].segments:
                        put(item, paths[0].segments, text)
                items.append(item)
            items += [{}, "not an item", 7, {"unrelated": 1}]
            ok_only = [x for x in items[:400] if isinstance(x, dict)][:3]
            failed_one = items[-8:-4]
            for container in spec.container:
                for chosen in (items, ok_only, failed_one, items[:1], []):
                    if spec.keyed is not None:
                        value: object = {f"k{i}": x for i, x in enumerate(chosen)}
                    else:
                        value = chosen
                    for counters in (
                        {},
                        {"failed": "2"},
                        {"succeeded": 3},
                        {"failed": 0, "succeeded": "0"},
                    ):
                        if not container.segments:
                            yield value
                            continue
                        doc: dict[str, Any] = {}
                        put(doc, container.segments, value)
                        for name, n in counters.items():
                            for jp in getattr(spec, name)[:1]:
                                put(doc, jp.segments, n)
                        for jp in env.code[:1]:
                            for top in env.success or frozenset({"0"}):
                                with_code = json.loads(json.dumps(doc))
                                if jp.segments:
                                    put(with_code, jp.segments, top)
                                yield with_code
                        yield doc
                # a single object where a list may stand
                if container.segments and chosen:
                    doc = {}
                    put(doc, container.segments, chosen[0])
                    yield doc


def when_bodies(mapping: VendorMapping) -> Iterator[object]:
    scopes = [mapping.table, *(p.table for p in mapping.products.values())]
    for table in scopes:
        for rule in table.when:
            for jp in rule.field:
                for value in [*sorted(rule.equals), "other", 5, True, None, ["x"]]:
                    codes = sorted(rule.codes) if rule.codes else []
                    for code in [None, *codes, "nope"]:
                        doc: dict[str, Any] = {}
                        put(doc, jp.segments, value)
                        for cp in mapping.envelope.code[:1]:
                            if code is not None and cp.segments:
                                put(doc, cp.segments, code)
                        yield doc


def relevant(mapping: VendorMapping, doc: object) -> bool:
    """Whether any field the vendor reads is in ``doc`` (a list may be a webhook's reports)."""
    if isinstance(doc, list):
        return True
    if not isinstance(doc, dict):
        return False
    return not first_segments(mapping).isdisjoint(doc.keys())


def first_segments(mapping: VendorMapping) -> frozenset[str]:
    """The top-level keys of every path the vendor reads."""
    envelopes = [mapping.envelope, *(p.envelope for p in mapping.products.values())]
    paths: list[JsonPath] = []
    for env in envelopes:
        paths += [*env.code, *env.message, *env.request_id]
        for spec in env.items:
            paths += [*spec.container, *spec.failed, *spec.succeeded]
    for table in [mapping.table, *(p.table for p in mapping.products.values())]:
        for rule in table.when:
            paths += rule.field
    return frozenset(jp.segments[0] for jp in paths if jp.segments)


def scopes(
    mapping: VendorMapping, paths: list[str | None]
) -> list[tuple[Product | None, str | None]]:
    """(product, path) pairs as a client meets them: the product a URL selects on each host of
    the vendor, and every product named on no path."""
    hosts = [h.replace("*.", "api.") for h in mapping.hosts] or ["vendor.test"]
    for product in mapping.products.values():
        hosts += [h.replace("*.", "api.") for h in product.selector.hosts]
    out: list[tuple[Product | None, str | None]] = [(None, None)]
    out += [(p, None) for p in mapping.products.values()]
    for host in dict.fromkeys(hosts):
        for path in paths:
            if path is None:
                continue
            target = Target.of_url(f"https://{host}{path}")
            out.append((mapping.product_for(target), path))
    unique: dict[tuple[str | None, str | None], tuple[Product | None, str | None]] = {}
    for chosen, path in out:
        unique.setdefault((None if chosen is None else chosen.id, path), (chosen, path))
    return list(unique.values())


STATUSES = (200, None, 204, 302, 400, 401, 403, 404, 420, 422, 429, 500, 502, 503)


def dump(value: object) -> object:
    """Every field, recipients included (an Item's ``recipient`` is left out of ``==``)."""
    if isinstance(value, Outcome | Item):
        return {f.name: dump(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple):
        return [dump(v) for v in value]
    return value


def check(
    mapping: VendorMapping,
    doc: object,
    status: int | None,
    path: str | None,
    product: Product | None,
) -> None:
    fast = classify_parsed(mapping, doc, status, path, product)
    slow = reference_classify(mapping, doc, status, path, product)
    if fast != slow or dump(fast) != dump(slow):
        where = (
            f"{mapping.id}/{None if product is None else product.id} path={path} status={status}"
        )
        assert dump(fast) == dump(slow), f"{where}: {str(doc)[:300]}"


# --- the tests ----------------------------------------------------------------------------------


@pytest.mark.parametrize("vendor", VENDORS)
def test_every_code_of_every_table_reads_as_the_reference_says(vendor: str) -> None:
    mapping = normalizer.Registry().get(vendor)
    pairs = scopes(mapping, vendor_paths(mapping))
    checked = 0
    for doc in code_bodies(mapping):
        for product, path in pairs:
            check(mapping, doc, 200, path, product)
            checked += 1
    assert checked >= len(mapping.table.codes)


@pytest.mark.parametrize("vendor", VENDORS)
def test_every_item_spec_and_when_rule_reads_as_the_reference_says(vendor: str) -> None:
    mapping = normalizer.Registry().get(vendor)
    pairs = scopes(mapping, vendor_paths(mapping))
    for doc in [*item_bodies(mapping), *when_bodies(mapping)]:
        for product, path in pairs:
            for status in (200, None, 420, 503):
                check(mapping, doc, status, path, product)


@pytest.mark.parametrize("vendor", VENDORS)
def test_every_body_of_the_suite_reads_as_the_reference_says(vendor: str) -> None:
    mapping = normalizer.Registry().get(vendor)
    paths = vendor_paths(mapping)
    for docs, raws, urls in suite_corpus():
        for url in urls:
            target = Target.of_url(url)
            if mapping.may_serve(target.host):
                paths.append(target.path)
        pairs = scopes(mapping, list(dict.fromkeys(paths)))
        bodies = [d for d in docs if relevant(mapping, d)]
        bodies += [{}, [], None, "text", 5]
        for doc in bodies:
            for product, path in pairs:
                for status in (200, None):
                    check(mapping, doc, status, path, product)
        for product, path in pairs[:6]:
            for status in STATUSES:
                for doc in ({}, None, []):
                    check(mapping, doc, status, path, product)
        for raw in raws:  # text through the parsers: orjson and the careful one agree
            envelope = mapping.envelope
            fast_doc = parse_json(raw)
            if fast_doc is None and envelope.xml:
                fast_doc = parse_xml(raw)
            assert fast_doc == reference_parse(raw, envelope.xml)
            if relevant(mapping, fast_doc):
                for product, path in pairs:
                    check(mapping, fast_doc, 200, path, product)


@pytest.mark.parametrize("vendor", VENDORS)
def test_every_documented_answer_reads_as_the_reference_says(vendor: str) -> None:
    mapping = normalizer.Registry().get(vendor)
    products: list[str | None] = [None, *mapping.products]
    for pid in products:
        product = None if pid is None else mapping.products[pid]
        table = mapping.table if product is None else product.table
        for code in list(table.codes)[:300]:
            response = vendor_response(vendor, code, product=pid)
            doc = parse_json(response.content)
            check(mapping, doc, response.status_code, None, product)
            check(mapping, doc, response.status_code, "/", product)


def test_the_reference_reader_sees_what_the_tables_say() -> None:
    """The reference itself, on answers whose reading is written down elsewhere in the suite."""
    mango = normalizer.Registry().get("mango")
    out = reference_classify(mango, {"result": 2219}, 200, None, None)
    assert (out.category, out.matched, out.message) == (
        Category.BILLING,
        Match.CLASS,
        normalizer.lookup("mango", "2210").message,
    )
    onbuka = normalizer.Registry().get("onbuka")
    ambiguous = reference_classify(onbuka, {"status": "-3"}, 200, None, None)
    assert ambiguous.matched is Match.AMBIGUOUS
    assert len(ambiguous.candidates) == 2
    vonage = normalizer.Registry().get("vonage")
    sms = Target.of_url("https://rest.nexmo.com/sms/json")
    body = {
        "messages": [{"to": "447700900000", "status": "0"}, {"to": "447700900001", "status": "1"}]
    }
    partial = reference_classify(vonage, body, 200, sms.path, vonage.product_for(sms))
    assert partial.ok
    assert partial.partial
    assert [item.category for item in partial.items] == [Category.OK, Category.BUSY]
