"""Vendor mapping files: reading, validating, merging and the immutable result.

The format is documented in ``mappings/README.md``. Validation is strict and happens once, at
load: every error names the file, the dotted key and the reason, so a typo in a user's file is
found when it is loaded, not when the code it affects first arrives in production.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import re
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ._category import Category
from ._exceptions import MappingError

FORMAT_VERSION = 1
MAX_COOLDOWN = 86400
"""The longest pause (seconds) a mapping entry may ask for."""

_ID = re.compile(r"[a-z][a-z0-9_]*\Z")
_CODE = re.compile(r"\S{1,64}\Z")
_CLASS = re.compile(r"-?[0-9x]*x[0-9x]*\Z")
_STATUS = re.compile(r"(?:[1-5][0-9][0-9]|[1-5]xx)\Z")
_HOST = re.compile(r"(?:\*\.)?[a-z0-9]([a-z0-9.-]*[a-z0-9])?(?::[0-9]+)?\Z")
_CATEGORIES = {c.value: c for c in Category}


@dataclasses.dataclass(frozen=True, slots=True)
class Entry:
    """What one vendor code (or HTTP status rule) means."""

    category: Category
    description: str
    gloss: str
    retryable: bool
    rejected: bool
    call_outcome: bool = False
    cooldown: float = 0.0


@dataclasses.dataclass(frozen=True, slots=True)
class JsonPath:
    """A dotted path into parsed JSON: ``resp.respCode``; an integer segment indexes a list."""

    text: str
    segments: tuple[str, ...]

    def find(self, doc: object) -> object:
        """The value at this path, or None when any step is missing."""
        segments = self.segments
        if len(segments) == 1 and type(doc) is dict:  # the usual top-level field, at once
            return doc.get(segments[0])
        node = doc
        for seg in segments:
            if isinstance(node, dict):
                node = node.get(seg)
            elif isinstance(node, list) and seg.isdigit() and int(seg) < len(node):
                node = node[int(seg)]
            else:
                return None
        return node


@dataclasses.dataclass(frozen=True, slots=True)
class Envelope:
    """Where a vendor's JSON puts its status code, text and request id; which codes mean ok."""

    code: tuple[JsonPath, ...]
    message: tuple[JsonPath, ...] = ()
    request_id: tuple[JsonPath, ...] = ()
    success: frozenset[str] = frozenset()


@dataclasses.dataclass(frozen=True, slots=True)
class HttpRule:
    """HTTP status fallback: ``status`` is "503" or a class like "5xx"; ``paths`` limit it."""

    status: str
    entry: Entry
    paths: re.Pattern[str] | None = None

    def applies(self, status: int, path: str | None) -> bool:
        text = str(status)
        if self.status[1:] == "xx":
            if text[0] != self.status[0]:
                return False
        elif text != self.status:
            return False
        return self.paths is None or (path is not None and self.paths.match(path) is not None)


@dataclasses.dataclass(frozen=True, slots=True)
class CodeTable:
    """Codes, nearest-class rules and HTTP rules: the part a vendor and a product share."""

    codes: Mapping[str, Entry]
    classes: Mapping[str, str]
    """Class pattern ("221x") -> the code it is read as ("2210")."""
    http: tuple[HttpRule, ...] = ()
    _masks: tuple[tuple[int, tuple[int, ...]], ...] = dataclasses.field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        # the distinct (length, "x" positions) of the patterns, fewest x first: a class lookup
        # is then a few dict probes, however many classes the vendor has
        masks = {(len(p), tuple(i for i, ch in enumerate(p) if ch == "x")) for p in self.classes}
        object.__setattr__(self, "_masks", tuple(sorted(masks, key=lambda m: len(m[1]))))

    def nearest_class(self, code: str) -> str | None:
        """The class pattern an unlisted ``code`` falls into: the most specific one that matches."""
        for length, positions in self._masks:
            if len(code) != length:
                continue
            chars = list(code)
            for i in positions:
                if not chars[i].isdigit():
                    break
                chars[i] = "x"
            else:
                pattern = "".join(chars)
                if pattern in self.classes:
                    return pattern
        return None


@dataclasses.dataclass(frozen=True, slots=True)
class Product:
    """One product of a vendor with a code table of its own (Onbuka's sms, voice, ...)."""

    id: str
    name: str
    paths: re.Pattern[str] | None
    envelope: Envelope
    table: CodeTable


@dataclasses.dataclass(frozen=True, slots=True)
class VendorMapping:
    """Everything normalizer knows about one vendor, validated and immutable."""

    id: str
    name: str
    source: str
    hosts: tuple[str, ...]
    paths: re.Pattern[str] | None
    envelope: Envelope
    table: CodeTable
    products: Mapping[str, Product]
    files: tuple[str, ...]
    """The files this mapping was built from, base first."""

    @property
    def code_count(self) -> int:
        """How many codes the vendor's and its products' tables hold."""
        return len(self.table.codes) + sum(len(p.table.codes) for p in self.products.values())

    def may_serve(self, host: str) -> bool:
        """Whether requests to ``host`` can be this vendor's (its paths decide the rest)."""
        if not self.hosts:
            return self.paths is not None
        return any(_host_matches(h, host) for h in self.hosts)

    def matches_url(self, host: str, path: str) -> bool:
        """Whether a request to ``host``/``path`` goes to this vendor (per its ``[detect]``)."""
        if not self.may_serve(host):
            return False
        return self.paths is None or self.paths.match(path) is not None

    def product_for_path(self, path: str) -> str | None:
        """The product whose URL patterns match ``path``, if any."""
        for product in self.products.values():
            if product.paths is not None and product.paths.match(path):
                return product.id
        return None


def _host_matches(pattern: str, host: str) -> bool:
    host = host.lower()
    if pattern.startswith("*."):
        return host == pattern[2:] or host.endswith(pattern[1:])
    return host == pattern


# --- reading and validation ------------------------------------------------------------------


def read_file(path: str | Path) -> dict[str, Any]:
    """Parse and validate one mapping file; returns its checked document (not yet built)."""
    try:
        with open(path, "rb") as fh:
            doc = tomllib.load(fh)
    except OSError as exc:
        raise MappingError(path, "", f"cannot read: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise MappingError(path, "", f"not valid TOML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise MappingError(path, "", f"not UTF-8 text: {exc.reason}") from None
    _check_document(doc, path)
    return doc


class _Checker:
    """Type and shape checks for one file, each failure naming the file and the key."""

    def __init__(self, path: str | Path | None) -> None:
        self.path = path

    def fail(self, key: str, reason: str) -> MappingError:
        return MappingError(self.path, key, reason)

    def table(self, value: object, key: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(key, f"must be a table, not {_kind(value)}")
        return value

    def keys(self, value: dict[str, Any], key: str, allowed: Sequence[str]) -> None:
        for name in value:
            if name not in allowed:
                hint = ", ".join(allowed)
                raise self.fail(_join(key, name), f"unknown key (expected one of: {hint})")

    def string(self, value: object, key: str, *, empty: bool = False) -> str:
        if not isinstance(value, str):
            raise self.fail(key, f"must be a string, not {_kind(value)}")
        if not empty and not value.strip():
            raise self.fail(key, "must not be empty")
        return value

    def boolean(self, value: object, key: str) -> bool:
        if not isinstance(value, bool):
            raise self.fail(key, f"must be true or false, not {_kind(value)}")
        return value

    def strings(self, value: object, key: str) -> list[str]:
        if not isinstance(value, list):
            raise self.fail(key, f"must be a list of strings, not {_kind(value)}")
        return [self.string(item, f"{key}[{i}]") for i, item in enumerate(value)]


def _check_document(doc: dict[str, Any], path: str | Path | None) -> None:
    ck = _Checker(path)
    ck.keys(
        doc, "", ("format", "vendor", "detect", "envelope", "codes", "classes", "http", "products")
    )
    fmt = doc.get("format")
    if fmt != FORMAT_VERSION:
        raise ck.fail("format", f"must be {FORMAT_VERSION} (got {fmt!r})")
    if "vendor" not in doc:
        raise ck.fail("vendor", "missing")
    vendor = ck.table(doc["vendor"], "vendor")
    ck.keys(vendor, "vendor", ("id", "extends", "name", "source"))
    overlay = "extends" in vendor
    if overlay == ("id" in vendor):
        raise ck.fail("vendor", "needs exactly one of 'id' (a vendor) or 'extends' (an overlay)")
    id_key = "vendor.extends" if overlay else "vendor.id"
    vid = ck.string(vendor["extends" if overlay else "id"], id_key)
    if not _ID.match(vid):
        raise ck.fail(id_key, f"{vid!r} is not an id ([a-z][a-z0-9_]*)")
    if "name" in vendor:
        ck.string(vendor["name"], "vendor.name")
    elif not overlay:
        raise ck.fail("vendor.name", "missing")
    if "source" in vendor:
        ck.string(vendor["source"], "vendor.source", empty=True)
    if "detect" in doc:
        _check_detect(ck, doc["detect"], "detect", hosts=True)
    if "envelope" in doc:
        _check_envelope(ck, doc["envelope"], "envelope", partial=overlay)
    elif not overlay:
        raise ck.fail("envelope", "missing (at least envelope.code)")
    _check_table(ck, doc, "")
    products = ck.table(doc.get("products", {}), "products")
    for name, product in products.items():
        key = f"products.{name}"
        if not _ID.match(name):
            raise ck.fail(key, f"{name!r} is not a product id ([a-z][a-z0-9_]*)")
        product = ck.table(product, key)
        ck.keys(product, key, ("name", "paths", "envelope", "codes", "classes", "http"))
        if "name" in product:
            ck.string(product["name"], f"{key}.name")
        if "paths" in product:
            _check_globs(ck, product["paths"], f"{key}.paths")
        if "envelope" in product:
            _check_envelope(ck, product["envelope"], f"{key}.envelope", partial=True)
        _check_table(ck, product, key)


def _check_detect(ck: _Checker, value: object, key: str, *, hosts: bool) -> None:
    detect = ck.table(value, key)
    ck.keys(detect, key, ("hosts", "paths"))
    for i, host in enumerate(ck.strings(detect.get("hosts", []), f"{key}.hosts")):
        if not _HOST.match(host):
            raise ck.fail(
                f"{key}.hosts[{i}]",
                f"{host!r} is not a lower-case host name "
                "(no scheme or path; '*.' prefix for subdomains)",
            )
    if "paths" in detect:
        _check_globs(ck, detect["paths"], f"{key}.paths")


def _check_globs(ck: _Checker, value: object, key: str) -> None:
    for i, glob in enumerate(ck.strings(value, key)):
        if not glob.startswith(("/", "*")):
            raise ck.fail(f"{key}[{i}]", f"{glob!r} must start with '/' or '*'")


def _check_envelope(ck: _Checker, value: object, key: str, *, partial: bool) -> None:
    env = ck.table(value, key)
    ck.keys(env, key, ("code", "message", "request_id", "success"))
    if "code" not in env and not partial:
        raise ck.fail(f"{key}.code", "missing")
    for field in ("code", "message", "request_id"):
        if field in env:
            paths = ck.strings(env[field], f"{key}.{field}")
            if field == "code" and not paths:
                raise ck.fail(f"{key}.code", "must name at least one path")
            for i, text in enumerate(paths):
                if any(not seg.strip() or seg != seg.strip() for seg in text.split(".")):
                    raise ck.fail(
                        f"{key}.{field}[{i}]",
                        f"{text!r} is not a dotted path (empty or padded segment)",
                    )
    for i, code in enumerate(ck.strings(env.get("success", []), f"{key}.success")):
        if not _CODE.match(code):
            raise ck.fail(f"{key}.success[{i}]", f"{code!r} is not a code")


def _check_table(ck: _Checker, doc: dict[str, Any], prefix: str) -> None:
    codes = ck.table(doc.get("codes", {}), _join(prefix, "codes"))
    for code, entry in codes.items():
        key = _join(prefix, f"codes.{_quote(code)}")
        if not _CODE.match(code):
            raise ck.fail(key, "a code must be 1-64 characters without spaces")
        _check_entry(
            ck,
            entry,
            key,
            (
                "category",
                "description",
                "gloss",
                "retryable",
                "rejected",
                "call_outcome",
                "cooldown",
            ),
        )
    classes = ck.table(doc.get("classes", {}), _join(prefix, "classes"))
    for pattern, target in classes.items():
        key = _join(prefix, f"classes.{_quote(pattern)}")
        if not _CLASS.match(pattern):
            raise ck.fail(key, "a class pattern is digits with at least one 'x' (e.g. '221x')")
        ck.string(target, key)
        if len(target) != len(pattern):
            raise ck.fail(key, f"target {target!r} is not as long as the pattern")
    http = doc.get("http", [])
    if not isinstance(http, list):
        raise ck.fail(_join(prefix, "http"), "must be an array of tables ([[http]])")
    for i, rule in enumerate(http):
        key = _join(prefix, f"http[{i}]")
        rule = ck.table(rule, key)
        _check_entry(
            ck,
            rule,
            key,
            (
                "status",
                "category",
                "description",
                "gloss",
                "retryable",
                "rejected",
                "cooldown",
                "paths",
            ),
        )
        status = rule.get("status")
        if isinstance(status, int) and not isinstance(status, bool):
            status = str(status)
        if not isinstance(status, str) or not _STATUS.match(status):
            raise ck.fail(
                f"{key}.status",
                f"{rule.get('status')!r} is not an HTTP status ('503') or class ('5xx')",
            )
        if "paths" in rule:
            _check_globs(ck, rule["paths"], f"{key}.paths")


def _check_entry(ck: _Checker, value: object, key: str, allowed: Sequence[str]) -> None:
    entry = ck.table(value, key)
    ck.keys(entry, key, allowed)
    if "category" not in entry:
        raise ck.fail(f"{key}.category", "missing")
    category = ck.string(entry["category"], f"{key}.category")
    if category not in _CATEGORIES:
        raise ck.fail(f"{key}.category", f"{category!r} is not one of: {', '.join(_CATEGORIES)}")
    if "description" not in entry:
        raise ck.fail(f"{key}.description", "missing")
    ck.string(entry["description"], f"{key}.description")
    if "gloss" in entry:
        ck.string(entry["gloss"], f"{key}.gloss", empty=True)
    for flag in ("retryable", "rejected", "call_outcome"):
        if flag in entry:
            ck.boolean(entry[flag], f"{key}.{flag}")
    if "cooldown" in entry:
        seconds = entry["cooldown"]
        if isinstance(seconds, bool) or not isinstance(seconds, int | float):
            raise ck.fail(f"{key}.cooldown", f"must be a number of seconds, not {_kind(seconds)}")
        if not 0 < seconds <= MAX_COOLDOWN:
            raise ck.fail(f"{key}.cooldown", f"must be more than 0 and at most {MAX_COOLDOWN}")


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def _quote(code: str) -> str:
    return f'"{code}"'


def _kind(value: object) -> str:
    return {
        dict: "a table",
        list: "an array",
        str: "a string",
        bool: "a boolean",
        int: "an integer",
        float: "a float",
    }.get(type(value), type(value).__name__)


# --- merging and building --------------------------------------------------------------------


def merge(base: dict[str, Any], overlay: dict[str, Any]) -> dict[str, Any]:
    """Apply an ``extends`` overlay document onto a vendor document (neither is modified)."""
    out = dict(base)
    out["vendor"] = {
        **base["vendor"],
        **{k: v for k, v in overlay["vendor"].items() if k != "extends"},
    }
    for section in ("detect", "envelope"):
        if section in overlay:
            out[section] = {**base.get(section, {}), **overlay[section]}
    _merge_table(out, base, overlay)
    products = dict(base.get("products", {}))
    for name, product in overlay.get("products", {}).items():
        old = products.get(name, {})
        new = {**old, **{k: v for k, v in product.items() if k not in ("codes", "classes", "http")}}
        if "envelope" in product:
            new["envelope"] = {**old.get("envelope", {}), **product["envelope"]}
        _merge_table(new, old, product)
        products[name] = new
    out["products"] = products
    return out


def _merge_table(out: dict[str, Any], base: dict[str, Any], overlay: dict[str, Any]) -> None:
    out["codes"] = {**base.get("codes", {}), **overlay.get("codes", {})}
    out["classes"] = {**base.get("classes", {}), **overlay.get("classes", {})}
    out["http"] = [*overlay.get("http", []), *base.get("http", [])]


def build(doc: dict[str, Any], files: Sequence[str]) -> VendorMapping:
    """Turn a checked (and possibly merged) document into a :class:`VendorMapping`."""
    ck = _Checker(files[-1] if files else None)
    vendor = doc["vendor"]
    detect = doc.get("detect", {})
    envelope = _envelope(doc["envelope"], None)
    table = _table(ck, doc, "", None)
    products = {}
    for name, spec in doc.get("products", {}).items():
        key = f"products.{name}"
        products[name] = Product(
            id=name,
            name=spec.get("name", name),
            paths=_globs(spec.get("paths", [])),
            envelope=_envelope(spec.get("envelope", {}), envelope),
            table=_table(ck, spec, key, table),
        )
    mapping = VendorMapping(
        id=vendor["id"],
        name=vendor["name"],
        source=vendor.get("source", ""),
        hosts=tuple(detect.get("hosts", ())),
        paths=_globs(detect.get("paths", [])),
        envelope=envelope,
        table=table,
        products=products,
        files=tuple(files),
    )
    _check_success(ck, mapping)
    return mapping


def _envelope(spec: dict[str, Any], base: Envelope | None) -> Envelope:
    def paths(field: str) -> tuple[JsonPath, ...]:
        if field in spec:
            return tuple(JsonPath(p, tuple(p.split("."))) for p in spec[field])
        return getattr(base, field) if base is not None else ()

    success = (
        frozenset(spec["success"])
        if "success" in spec
        else (base.success if base is not None else frozenset())
    )
    return Envelope(paths("code"), paths("message"), paths("request_id"), success)


def _table(ck: _Checker, spec: dict[str, Any], prefix: str, parent: CodeTable | None) -> CodeTable:
    codes = {code: _entry(raw) for code, raw in spec.get("codes", {}).items()}
    classes = dict(spec.get("classes", {}))
    for pattern, target in classes.items():
        if target not in codes and (parent is None or target not in parent.codes):
            raise ck.fail(
                _join(prefix, f"classes.{_quote(pattern)}"),
                f"target {target!r} is not a code in the table",
            )
        if not all(p == "x" or p == t for p, t in zip(pattern, target, strict=True)):
            raise ck.fail(
                _join(prefix, f"classes.{_quote(pattern)}"),
                f"target {target!r} does not fall in the class",
            )
    rules = tuple(
        HttpRule(str(raw["status"]), _entry(raw), _globs(raw["paths"]) if "paths" in raw else None)
        for raw in spec.get("http", [])
    )
    return CodeTable(codes, classes, rules)


def _check_success(ck: _Checker, mapping: VendorMapping) -> None:
    """Success codes must not contradict a table entry of the same code."""
    scopes = [("", mapping.envelope, mapping.table)] + [
        (f"products.{p.id}", p.envelope, p.table) for p in mapping.products.values()
    ]
    for prefix, env, table in scopes:
        for code in sorted(env.success):
            entry = table.codes.get(code) or mapping.table.codes.get(code)
            if entry is not None and entry.category is not Category.OK:
                raise ck.fail(
                    _join(prefix, f"codes.{_quote(code)}"),
                    f"listed in envelope.success but mapped to {entry.category}",
                )


def _entry(raw: Mapping[str, Any]) -> Entry:
    category = _CATEGORIES[raw["category"]]
    call_outcome = raw.get("call_outcome", False)
    return Entry(
        category=category,
        description=raw["description"].strip(),
        gloss=raw.get("gloss", "").strip(),
        retryable=raw.get("retryable", category.retryable_by_default and not call_outcome),
        # a call happened, so a call outcome is never a request the vendor refused
        rejected=raw.get("rejected", category is Category.BUSY and not call_outcome),
        call_outcome=call_outcome,
        cooldown=float(raw.get("cooldown", 0.0)),
    )


def _globs(globs: Sequence[str]) -> re.Pattern[str] | None:
    if not globs:
        return None
    return re.compile("|".join(f"(?:{fnmatch.translate(g)})" for g in globs))


def load_file(path: str | Path) -> VendorMapping:
    """Read, validate and build one standalone vendor file (not an overlay)."""
    doc = read_file(path)
    if "extends" in doc["vendor"]:
        raise MappingError(
            path,
            "vendor.extends",
            "an overlay needs the vendor it extends: register it instead of loading it alone",
        )
    return build(doc, (str(path),))
