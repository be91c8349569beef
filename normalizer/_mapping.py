"""Vendor mapping files: reading, validating, merging and the immutable result.

The format is documented in ``mappings/README.md``. Validation is strict and happens once, at
load: every error names the file, the dotted key and the reason, so a typo in a user's file is
found when it is loaded, not when the code it affects first arrives in production.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar, dataclass_transform, overload
from urllib.parse import parse_qsl, urlsplit

from . import _callback_spec
from ._category import Category, Fault, Scope
from ._exceptions import MappingError

MAX_CODE_LENGTH = 64
"""The longest vendor code looked up. A mapping file cannot hold a longer one (its codes are
validated as at most 64 non-blank characters; the longest built-in, a Tencent error name, has
63), so a longer "code" can match nothing: it reads ``unknown`` without a lookup, and the
outcome keeps its first characters only (a vendor's 500 KB ``code`` field, newlines and phone
numbers included, never reaches logs, exceptions or traces whole)."""


Value = TypeVar("Value", bound=type)
_T = TypeVar("_T")


@dataclass_transform(frozen_default=True, field_specifiers=(dataclasses.field,))
def frozen_value(cls: Value) -> Value:
    """A frozen dataclass made at a fraction of the cost: importing normalizer builds a dozen
    of these, and ``dataclass(frozen=True)`` writes six functions per class through ``exec``.
    Here only ``__init__`` is written; comparison, hash, repr and immutability (a field is
    set once, by ``__init__``, never again) are shared. The class is a dataclass like any
    other (``fields``, ``replace``, ``==``, ``repr``, pickling)."""
    made: Any = dataclasses.dataclass(repr=False, eq=False)(cls)
    fields = dataclasses.fields(made)
    made.__compared__ = tuple(f.name for f in fields if f.compare)
    made.__shown__ = tuple(f.name for f in fields if f.repr)
    for name, shared in _SHARED.items():
        if name not in cls.__dict__:
            setattr(made, name, shared)
    return made  # type: ignore[no-any-return]


def _set_once(self: Any, name: str, value: object) -> None:
    if name in self.__dict__ or name not in self.__dataclass_fields__:
        raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")
    object.__setattr__(self, name, value)


def _no_delete(self: Any, name: str) -> None:
    raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")


def _compared(self: Any) -> tuple[object, ...]:
    return tuple(getattr(self, name) for name in self.__compared__)


def _equal(self: Any, other: object) -> Any:
    if other.__class__ is not self.__class__:
        return NotImplemented
    return _compared(self) == _compared(other)


def _hash(self: Any) -> int:
    return hash(_compared(self))


def _shown(self: Any) -> str:
    shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__shown__)
    return f"{type(self).__qualname__}({shown})"


_SHARED = {
    "__setattr__": _set_once,
    "__delattr__": _no_delete,
    "__eq__": _equal,
    "__hash__": _hash,
    "__repr__": _shown,
}


def code_text(code: str | int) -> tuple[str, bool]:
    """A vendor code as kept on the outcome, and whether it may be looked up at all.

    At most :data:`MAX_CODE_LENGTH` characters are kept: a longer code is cut (its last kept
    character an ellipsis) and not looked up. An int is written out only when short: the
    decimal text of a huge int costs quadratic time (and Python refuses it past 4300 digits).
    """
    if isinstance(code, int):
        if not _SHORTEST_INT < code < _LONGEST_INT:
            return _CUT, False
        code = str(code)
    if len(code) > MAX_CODE_LENGTH:
        return code[: MAX_CODE_LENGTH - 1] + _CUT, False
    return code, True


_CUT = "\u2026"
_LONGEST_INT = 10**MAX_CODE_LENGTH  # the ints written in at most MAX_CODE_LENGTH characters
_SHORTEST_INT = -(10 ** (MAX_CODE_LENGTH - 1))


FORMAT_VERSION = 1
MAX_COOLDOWN = 86400
"""The longest pause (seconds) a mapping entry may ask for."""


class Lazy:
    """A pattern compiled when first used: files are validated when read, never at import;
    and a mapping read from the compiled cache compiles only the patterns a call needs (a
    bare ``lookup`` none of its URL globs: compiling Twilio's took 5 ms of its first lookup).
    Pickled as its text; equal when the text is."""

    __slots__ = ("_compiled", "_text")

    def __init__(self, text: str) -> None:
        self._text = text
        self._compiled: re.Pattern[str] | None = None

    @property
    def pattern(self) -> str:
        return self._text

    def match(self, value: str) -> re.Match[str] | None:
        compiled = self._compiled
        if compiled is None:
            compiled = self._compiled = re.compile(self._text)
        return compiled.match(value)

    def __reduce__(self) -> tuple[type[Lazy], tuple[str]]:
        return (Lazy, (self._text,))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Lazy) and other._text == self._text

    def __hash__(self) -> int:
        return hash(self._text)

    def __repr__(self) -> str:
        return f"Lazy({self._text!r})"


_ID = Lazy(r"[a-z][a-z0-9_]*\Z")
_CODE = Lazy(rf"\S{{1,{MAX_CODE_LENGTH}}}\Z")
_CLASS = Lazy(r"-?[0-9x]*x[0-9x]*\Z")
_STATUS = Lazy(r"(?:[1-5][0-9][0-9]|[1-5]xx)\Z")
_HOST = Lazy(r"(?:\*\.)?[a-z0-9]([a-z0-9.-]*[a-z0-9])?(?::[0-9]+)?\Z")
_CATEGORIES = {c.value: c for c in Category}
_SCOPES = {s.value: s for s in Scope}
_FAULTS = {f.value: f for f in Fault}


@frozen_value
class Origin:
    """Where an entry was set: the file and dotted key, the document it cites, what was written."""

    file: str
    key: str
    source: str
    """The doc URL, SDK file or seed document the entry's table (or the entry) cites."""
    written: frozenset[str]
    """Which of ``retryable`` / ``rejected`` the file wrote; the others are defaults."""


_DERIVED: Any = "derived"
"""An :class:`Entry`'s ``fault`` when none is given: derived from its category and scope."""


@frozen_value
class Entry:
    """What one vendor code (or HTTP status rule) means."""

    category: Category
    description: str
    gloss: str
    retryable: bool
    rejected: bool
    call_outcome: bool = False
    cooldown: float = 0.0
    delivery_outcome: bool = False
    origin: Origin | None = dataclasses.field(default=None, compare=False, repr=False)
    scope: Scope = None  # type: ignore[assignment]  # None: the category's default
    """Whom the answer is about (see :class:`Scope`); defaulted from the category."""
    retry_after: float = 0.0
    """Seconds the vendor's text says the same request must wait (a per-number window)."""
    overload: bool = False
    """The vendor says it is overloaded: every call slows down, as after a rate limit."""
    ok_on_http_error: bool = False
    """A success code the vendor documents on a 4xx/5xx answer (else that status decides)."""
    fault: Fault | None = _DERIVED  # the default: derived from the category and scope
    """Whose failure it is (see :class:`Fault`): written in the mapping, or derived from the
    category and scope; None for a success."""

    def __post_init__(self) -> None:
        if self.scope is None:
            object.__setattr__(self, "scope", Scope.default(self.category, self.report))
        if self.fault is _DERIVED:
            object.__setattr__(self, "fault", Fault.default(self.category, self.scope))

    @property
    def report(self) -> bool:
        """A call or delivery outcome: what became of a call or message, not of the request."""
        return self.call_outcome or self.delivery_outcome


@frozen_value
class JsonPath:
    """A dotted path into parsed JSON: ``resp.respCode``; an integer segment indexes a list."""

    text: str
    segments: tuple[str, ...]

    def find(self, doc: object) -> object:
        """The value at this path, or None when any step is missing (``$``: the document)."""
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


class Target:
    """What a selector looks at in a request: host, path, and (read only when asked) a header
    or query parameter."""

    __slots__ = ("_headers", "_query", "_raw_query", "host", "path")

    def __init__(
        self,
        host: str,
        path: str,
        query: str | bytes = "",
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.host = host.lower()
        self.path = path
        self._raw_query = query
        self._query: dict[str, str | None] | None = None
        self._headers = headers

    @classmethod
    def of_url(cls, url: str, headers: Mapping[str, str] | None = None) -> Target:
        """A URL's target; ``headers`` with lower-case names, when a selector may read them."""
        try:
            parts = urlsplit(url)
        except ValueError:
            return cls("", "/", "", headers)
        return cls(parts.hostname or "", parts.path or "/", parts.query, headers)

    def header(self, name: str) -> str | None:
        """A request header (``name`` in lower case), None when absent or unknown."""
        if self._headers is None:
            return None
        return self._headers.get(name)

    def query(self, name: str) -> str | None:
        """A query parameter's value; None when absent, or given more than once (servers
        differ on which one counts: ``?Action=SendSms&Action=QuerySendDetails`` is no read)."""
        if self._query is None:
            raw = self._raw_query
            text = raw.decode("latin-1") if isinstance(raw, bytes) else raw
            pairs = parse_qsl(text, keep_blank_values=True) if text else []
            query: dict[str, str | None] = {}
            for key, value in pairs:
                query[key] = None if key in query else value
            self._query = query
        return self._query.get(name)


@frozen_value
class Selector:
    """Which requests something applies to: hosts, path globs, header and query value globs.

    Every given part must match; an empty selector matches every request.
    """

    hosts: tuple[str, ...] = ()
    paths: Lazy | None = None
    headers: tuple[tuple[str, Lazy], ...] = ()
    query: tuple[tuple[str, Lazy], ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.hosts or self.paths or self.headers or self.query)

    def host_matches(self, host: str) -> bool:
        return not self.hosts or any(_host_matches(h, host) for h in self.hosts)

    def matches(self, target: Target) -> bool:
        if self.hosts and not any(_host_matches(h, target.host) for h in self.hosts):
            return False
        if self.paths is not None and self.paths.match(target.path) is None:
            return False
        for name, pattern in self.headers:
            value = target.header(name)
            if value is None or pattern.match(value) is None:
                return False
        for name, pattern in self.query:
            value = target.query(name)
            if value is None or pattern.match(value) is None:
                return False
        return True


@frozen_value
class ItemsSpec:
    """Where a batch response keeps its per-recipient (or per-part, per-task) results."""

    container: tuple[JsonPath, ...]
    keyed: str | None
    """None: a list; "number" or "message_id": an object keyed by that."""
    code: tuple[JsonPath, ...]
    message: tuple[JsonPath, ...]
    number: tuple[JsonPath, ...]
    message_id: tuple[JsonPath, ...]
    success: frozenset[str]
    failed: tuple[JsonPath, ...]
    succeeded: tuple[JsonPath, ...]
    paths: Lazy | None
    table: CodeTable | None
    """The items' own code table; None: item codes read like top-level codes."""
    source: str = ""
    report: bool = False
    """The items report what became of calls or messages: data, never summed up."""

    def applies(self, path: str | None) -> bool:
        return self.paths is None or (path is not None and self.paths.match(path) is not None)


@frozen_value
class Envelope:
    """Where a vendor's body puts its status code, text, request id and items; what is ok."""

    code: tuple[JsonPath, ...]
    message: tuple[JsonPath, ...] = ()
    request_id: tuple[JsonPath, ...] = ()
    success: frozenset[str] = frozenset()
    no_code: bool | Lazy = False
    """A 2xx body without a code is ok: everywhere (True) or on these URL paths."""
    xml: bool = False
    """Bodies may be XML, read into the same dotted paths."""
    items: tuple[ItemsSpec, ...] = ()
    retry_after: tuple[str, ...] = ()
    """Response headers (lower case) besides Retry-After that give seconds to wait."""
    remaining: tuple[str, ...] = ()
    """Response headers (lower case) giving the calls left in the vendor's rate-limit window."""

    def no_code_ok(self, path: str | None) -> bool:
        rule = self.no_code
        if isinstance(rule, bool):
            return rule
        return path is not None and rule.match(path) is not None


@frozen_value
class HttpRule:
    """HTTP status fallback: ``status`` is "503" or a class like "5xx"; ``paths`` limit it."""

    status: str
    entry: Entry
    paths: Lazy | None = None

    def applies(self, status: int, path: str | None) -> bool:
        text = str(status)
        if self.status[1:] == "xx":
            if text[0] != self.status[0]:
                return False
        elif text != self.status:
            return False
        return self.paths is None or (path is not None and self.paths.match(path) is not None)


@frozen_value
class PageRule:
    """Words of a page the vendor's gateway writes (HTML or plain text, no document) deciding
    the outcome: any of ``contains`` (compared without case), on ``status`` and ``paths``.

    A rule without an entry (``code = "first_line"``) reads the page's first line as the
    vendor's code through the code tables instead: some plain-text APIs (SMS.RU without
    ``json=1``: ``"100\n<id>\nbalance=..."``) write their status code there, and one rule
    then serves every code the table knows rather than one rule per code."""

    contains: tuple[str, ...]
    """Casefolded phrases; the page matches when it holds any of them (a code rule without
    phrases matches any page)."""
    status: str | None
    paths: Lazy | None
    entry: Entry | None
    """What the page means; None for a code rule (the code's own entry decides)."""

    def applies(self, text: str, status: int | None, path: str | None) -> bool:
        if self.status is not None:
            if status is None:
                return False
            written = str(status)
            if self.status[1:] == "xx" and written[0] != self.status[0]:
                return False
            if self.status[1:] != "xx" and written != self.status:
                return False
        if self.paths is not None and (path is None or self.paths.match(path) is None):
            return False
        if not self.contains:
            return self.entry is None
        return any(phrase in text for phrase in self.contains)


@frozen_value
class WhenRule:
    """A body field other than the code deciding the outcome (MANGO's "report not ready")."""

    field: tuple[JsonPath, ...]
    equals: frozenset[str]
    codes: frozenset[str] | None
    paths: Lazy | None
    entry: Entry

    def applies(self, doc: object, code: str | None, path: str | None) -> bool:
        if self.codes is not None:
            if not self.codes:  # codes = []: only a body without a code
                if code is not None:
                    return False
            elif code is None or code.strip() not in self.codes:
                return False
        if self.paths is not None and (path is None or self.paths.match(path) is None):
            return False
        for jp in self.field:
            value = jp.find(doc)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, str | int):
                return False
            return code_text(value)[0] in self.equals
        return False


class LazyCodes(Mapping[str, Entry]):
    """A code table as the compiled cache keeps it: each entry a row of plain values
    (:mod:`marshal`), made an :class:`Entry` the first time it is read. Unpickling Twilio's 763
    entries with their origins took most of a fresh process's first lookup (1.5-3 ms); a lookup
    reads one of them. The same mapping as a dict of the entries: equal to it, iterated in the
    file's order. The rows come from the cache entry the registry checked before reading it
    (see ``MappingCache``)."""

    __slots__ = ("_read", "_rows")

    def __init__(self, rows: dict[str, bytes]) -> None:
        self._rows = rows
        self._read: dict[str, Entry] = {}

    @classmethod
    def of(cls, codes: Mapping[str, Entry]) -> LazyCodes:
        """``codes`` with each entry written as its row (read alone later)."""
        if isinstance(codes, LazyCodes):
            return codes
        return cls({code: _row(entry) for code, entry in codes.items()})

    def __getitem__(self, code: str) -> Entry:
        found = self._read.get(code)
        if found is None:
            found = self._read[code] = _from_row(self._rows[code])
        return found

    @overload
    def get(self, code: str, /) -> Entry | None: ...
    @overload
    def get(self, code: str, default: Entry | _T, /) -> Entry | _T: ...
    def get(self, code: str, default: object = None, /) -> object:
        found = self._read.get(code)
        if found is not None:
            return found
        return self[code] if code in self._rows else default

    def __contains__(self, code: object) -> bool:
        return code in self._rows

    def __iter__(self) -> Iterator[str]:
        return iter(self._rows)

    def __len__(self) -> int:
        return len(self._rows)

    def __reduce__(self) -> tuple[type[LazyCodes], tuple[dict[str, bytes]]]:
        return LazyCodes, (self._rows,)

    def __repr__(self) -> str:
        return repr(dict(self))


def _row(entry: Entry) -> bytes:
    """An entry's fields in their order as plain values (an enum as its value, the origin as a
    tuple): ``marshal`` writes them in a third of a pickle's bytes and reads them at once."""
    import marshal

    values: list[Any] = []
    for name in _ENTRY_FIELDS:
        value = entry.__dict__[name]
        if isinstance(value, Origin):
            value = (value.file, value.key, value.source, value.written)
        elif isinstance(value, Category | Scope | Fault):
            value = value.value
        values.append(value)
    return marshal.dumps(tuple(values))


def _from_row(row: bytes) -> Entry:
    from marshal import loads

    fields = dict(zip(_ENTRY_FIELDS, loads(row), strict=True))
    fields["category"] = Category(fields["category"])
    fields["scope"] = Scope(fields["scope"])
    if fields["fault"] is not None:
        fields["fault"] = Fault(fields["fault"])
    origin = fields["origin"]
    if origin is not None:
        fields["origin"] = _made(Origin, dict(zip(_ORIGIN_FIELDS, origin, strict=True)))
    return _made(Entry, fields)


def _made(cls: type[_T], fields: dict[str, Any]) -> _T:
    """An instance of a frozen value with exactly ``fields``, as unpickling makes one."""
    value = object.__new__(cls)
    object.__setattr__(value, "__dict__", fields)
    return value


_ENTRY_FIELDS = tuple(f.name for f in dataclasses.fields(Entry))
_ORIGIN_FIELDS = tuple(f.name for f in dataclasses.fields(Origin))


@frozen_value
class CodeTable:
    """Codes, nearest-class rules, field and HTTP rules: the part a vendor and a product share."""

    codes: Mapping[str, Entry]
    classes: Mapping[str, str]
    """Class pattern ("221x") -> the code it is read as ("2210")."""
    http: tuple[HttpRule, ...] = ()
    when: tuple[WhenRule, ...] = ()
    pages: tuple[PageRule, ...] = ()
    """``[[page]]`` rules: the words of a gateway's error page (a body that is no document)."""
    _trie: dict[int, dict[str, Any]] = dataclasses.field(init=False, repr=False, compare=False)
    _when_by_path: dict[str | None, tuple[WhenRule, ...]] = dataclasses.field(
        init=False, repr=False, compare=False, default_factory=dict
    )

    def __getstate__(self) -> dict[str, Any]:
        """Pickled (the compiled cache) without the per-path cache of ``when_for``, and each
        code's entry pickled on its own (:class:`LazyCodes`): read back when first used."""
        return {**self.__dict__, "codes": LazyCodes.of(self.codes), "_when_by_path": {}}

    def when_for(self, path: str | None) -> tuple[WhenRule, ...]:
        """The ``[[when]]`` rules that can apply on ``path`` (cached: most apply on few paths)."""
        if not self.when:
            return ()
        rules = self._when_by_path.get(path)
        if rules is None:
            rules = tuple(
                r
                for r in self.when
                if r.paths is None or (path is not None and r.paths.match(path) is not None)
            )
            if len(self._when_by_path) >= 1024:
                self._when_by_path.clear()  # ids in paths: stay small
            self._when_by_path[path] = rules
        return rules

    def __post_init__(self) -> None:
        # the patterns as one character trie per length: a lookup walks the code's characters
        # (and "x" for a digit), never every pattern, so a file of thousands of classes stays
        # linear to load and to look up in
        tries: dict[int, dict[str, Any]] = {}
        for pattern in self.classes:
            node = tries.setdefault(len(pattern), {})
            for ch in pattern:
                node = node.setdefault(ch, {})
            node[_END] = pattern
        object.__setattr__(self, "_trie", tries)

    def nearest_class(self, code: str) -> str | None:
        """The class pattern an unlisted ``code`` falls into: the most specific (fewest "x")
        one that matches; between equally specific ones, the one whose digits come first."""
        root = self._trie.get(len(code))
        if root is None:
            return None
        best: str | None = None
        fewest = len(code) + 1
        stack: list[tuple[dict[str, Any], int, int]] = [(root, 0, 0)]
        while stack:  # depth first, the code's own character before "x"; pruned by fewest
            node, i, xs = stack.pop()
            if xs >= fewest:
                continue
            if i == len(code):
                best, fewest = node[_END], xs
                continue
            ch = code[i]
            if ch.isdigit() and "x" in node:
                stack.append((node["x"], i + 1, xs + 1))
            if ch != "x" and ch in node:
                stack.append((node[ch], i + 1, xs))
        return best


@frozen_value
class Product:
    """One product or API family of a vendor, with a code table of its own.

    ``inherit=False`` makes it a family whose numbers mean other things than the vendor's own
    table: its codes never fall back to the vendor-level codes and classes.
    """

    id: str
    name: str
    selector: Selector
    envelope: Envelope
    table: CodeTable
    inherit: bool = True
    source: str = ""


@frozen_value
class Alias:
    """Another host or white-label brand of the same platform (same envelope, codes)."""

    id: str
    name: str
    source: str
    selector: Selector
    products: tuple[tuple[str, Lazy], ...] = ()
    """Which of the alias's paths select which product."""


@frozen_value
class Redaction:
    """A vendor's own secrets (``[redact]``): data, so that a new vendor needs no code."""

    keys: tuple[str, ...] = ()
    """Secret names besides the default ones: headers, query and form fields, JSON keys."""
    after_segments: tuple[str, ...] = ()
    """URL path segments whose next segment is a secret (``Accounts`` -> the account id)."""


@frozen_value
class Resend:
    """What a vendor's requests do, as far as sending one again is concerned (``[resend]``).

    Whether a request may be resent after an ambiguous failure (a timeout after writing, a
    lost connection, a 5xx that does not say nothing was done) depends on its operation, not
    on its HTTP method: Aliyun's ``GET ...?Action=SendSms`` sends a message. The rules read
    this data (:func:`normalizer._retry.resend_safety`); a vendor without the table has none
    of it and the method decides, as RFC 9110 says.
    """

    acts_through: frozenset[str] = frozenset()
    """Idempotent methods (RFC 9110) some operation of the vendor's acts through (sends, calls,
    plays into a call): a request with one of them is resent only when ``reads`` declares its
    operation. GET brings HEAD with it (a server acting on GET acts on HEAD)."""
    reads: tuple[tuple[frozenset[str], Selector], ...] = ()
    """Operations that only read, with the methods they are reads for (GET and HEAD unless
    the file says more: the same path may list with GET and send with POST)."""
    idempotency: tuple[tuple[str, Selector], ...] = ()
    """(header, selector): the requests the vendor documents de-duplicating on a header."""
    nonce: tuple[Selector, ...] = ()
    """Requests signed with a one-time nonce the vendor refuses to see twice: the same bytes
    are never sent again (the caller signs anew)."""
    source: str = ""

    def reads_only(self, method: str, target: Target) -> bool:
        return any(method in methods and s.matches(target) for methods, s in self.reads)

    def deduplicated(self, headers: Mapping[str, str], target: Target) -> bool:
        """The request carries a header the vendor de-duplicates on, where it does."""
        return any(h in headers and s.matches(target) for h, s in self.idempotency)

    def signed_once(self, target: Target) -> bool:
        return any(s.matches(target) for s in self.nonce)


@dataclasses.dataclass(frozen=True)
class VendorMapping:
    """Everything normalizer knows about one vendor, validated and immutable."""

    id: str
    name: str
    source: str
    detect: Selector
    envelope: Envelope
    table: CodeTable
    products: Mapping[str, Product]
    files: tuple[str, ...]
    """The files this mapping was built from, base first."""
    aliases: tuple[Alias, ...] = ()
    contested: frozenset[str] = frozenset()
    """Vendor-level codes a family (``inherit = false``) reads differently: ambiguous alone."""
    redact: Redaction = Redaction()  # noqa: RUF009 (a frozen value, shared safely)
    """Secret names and path segments the vendor's requests carry, masked in logs and errors."""
    rate: float | None = None
    """The calls per second the vendor publishes as an account's limit (None: not published);
    the rate limiter never sends faster."""
    resend: Resend = Resend()  # noqa: RUF009 (a frozen value, shared safely)
    """Which requests may be sent again after an ambiguous failure, and which never."""
    callbacks: tuple[_callback_spec.Callback, ...] = ()
    """The callbacks the vendor posts (``[[callbacks]]``): their shapes and signatures,
    read by :func:`normalizer.classify_callback`."""
    sdk: Sdk = dataclasses.field(default_factory=lambda: Sdk())
    """How the vendor's own SDKs carry its answers: their exceptions and response models."""
    compiled: Any = dataclasses.field(default=None, init=False, repr=False, compare=False)
    """What classification needs, derived from the fields above when the vendor is first
    classified (``normalizer._classify.compiled``); never pickled."""

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("compiled", None)
        return state

    @property
    def hosts(self) -> tuple[str, ...]:
        """Every host pattern that detects this vendor, its aliases' included."""
        return self.detect.hosts + tuple(h for a in self.aliases for h in a.selector.hosts)

    @property
    def code_count(self) -> int:
        """How many codes the vendor's, its products' and item tables hold."""
        tables = [self.table, *(p.table for p in self.products.values())]
        envelopes = [self.envelope, *(p.envelope for p in self.products.values())]
        tables += [s.table for e in envelopes for s in e.items if s.table is not None]
        unique = {id(t): t for t in tables}
        return sum(len(t.codes) for t in unique.values())

    def may_serve(self, host: str) -> bool:
        """Whether requests to ``host`` can be this vendor's (its selectors decide the rest)."""
        if any(s.hosts and s.host_matches(host) for s in self._hosted()):
            return True
        if self.detect.empty:
            return False
        return self.detect.host_matches(host)

    def _hosted(self) -> Iterator[Selector]:
        """The alias and product selectors that name hosts: they detect the vendor too."""
        for alias in self.aliases:
            yield alias.selector
        for product in self.products.values():
            if product.selector.hosts:
                yield product.selector

    def alias_for(self, target: Target) -> Alias | None:
        for alias in self.aliases:
            if alias.selector.matches(target):
                return alias
        return None

    def matches(self, target: Target) -> bool:
        """Whether a request goes to this vendor: ``[detect]``, an alias, or a product's hosts.

        A product's hosts are the vendor's whatever the rest of its selector says: a request
        to them that no product claims is still read with the vendor-level table.
        """
        if not self.detect.empty and self.detect.matches(target):
            return True
        if any(a.selector.matches(target) for a in self.aliases):
            return True
        return any(
            p.selector.hosts and p.selector.host_matches(target.host)
            for p in self.products.values()
        )

    def envelope_for(self, product: Product | None) -> Envelope:
        """Where responses of ``product`` (None: the vendor-level API) keep their fields."""
        return self.envelope if product is None else product.envelope

    def product_for(self, target: Target) -> Product | None:
        """The product (API family) a request selects, if any."""
        alias = self.alias_for(target) if self.aliases else None
        if alias is not None:
            for pid, paths in alias.products:
                if paths.match(target.path):
                    return self.products[pid]
        for product in self.products.values():
            if not product.selector.empty and product.selector.matches(target):
                return product
        return None

    def selector_names(self) -> tuple[frozenset[str], frozenset[str]]:
        """The header and query names any selector of this vendor reads (for route caches)."""
        selectors = [self.detect, *(a.selector for a in self.aliases)]
        selectors += [p.selector for p in self.products.values()]
        headers = frozenset(n for s in selectors for n, _ in s.headers)
        query = frozenset(n for s in selectors for n, _ in s.query)
        return headers, query


_END = ""
"""The key of a trie node that ends a class pattern (no pattern character is empty)."""


def first_value(paths: tuple[JsonPath, ...], doc: object) -> str | int | None:
    """The first path holding a usable value: a non-empty string or an int (never a bool)."""
    if doc is None:
        return None
    for path in paths:
        value = path.find(doc)
        if isinstance(value, str):
            if value.strip():
                return value
        elif isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


Find = Callable[[object], Any]
"""A compiled :class:`JsonPath` (or list of them): the document in, the value (or None) out."""


def finder(path: JsonPath) -> Find:
    """``path.find`` as a function built once, its steps decided when the mapping is compiled:
    a segment that is a number is also a list index (``data.0.status``)."""
    steps = tuple((seg, int(seg) if seg.isdecimal() else None) for seg in path.segments)
    if not steps:
        return _whole
    if len(steps) == 1:
        ((key, index),) = steps

        def find_one(doc: object) -> object:
            if doc.__class__ is dict:
                return doc.get(key)
            return step(doc, key, index)

        return find_one

    def find(doc: object) -> object:
        node = doc
        for key, index in steps:
            node = node.get(key) if node.__class__ is dict else step(node, key, index)
            if node is None:
                return None
        return node

    return find


def _whole(doc: object) -> object:
    return doc


def step(node: object, key: str, index: int | None) -> object:
    """One step of a path from ``node``: an object's field, or a list's element at ``index``
    (the segment, when it is a number); None anywhere else."""
    if isinstance(node, dict):
        return node.get(key)
    if index is not None and isinstance(node, list) and index < len(node):
        return node[index]
    return None


def top_level(paths: tuple[JsonPath, ...]) -> tuple[tuple[str, int | None], ...] | None:
    """The paths' keys when each is one segment (the usual ``code``, ``status``), else None:
    readers of top-level fields skip the general walk."""
    if not all(len(p.segments) == 1 for p in paths):
        return None
    return tuple(
        (p.segments[0], int(p.segments[0]) if p.segments[0].isdecimal() else None) for p in paths
    )


def value_finder(paths: tuple[JsonPath, ...]) -> Find:
    """:func:`first_value` over ``paths``, compiled: the first non-blank string or int."""
    keys = top_level(paths)
    if keys is not None and len(keys) == 1:
        ((key, index),) = keys

        def first_key(doc: object) -> str | int | None:
            value = doc.get(key) if doc.__class__ is dict else step(doc, key, index)
            if value.__class__ is str:
                return value if value.strip() else None
            return usable(value)

        return first_key
    finds = tuple(finder(p) for p in paths)
    if keys is not None:
        names = tuple(key for key, _ in keys)

        def first_of_keys(doc: object) -> str | int | None:
            if doc.__class__ is not dict:
                return first(doc)
            for key in names:
                value = doc.get(key)
                if value is not None:
                    value = usable(value)
                    if value is not None:
                        return value
            return None

    def first(doc: object) -> str | int | None:
        for find in finds:
            value = usable(find(doc))
            if value is not None:
                return value
        return None

    return first if keys is None else first_of_keys


def usable(value: object) -> str | int | None:
    """``value`` if it may be a code (a non-blank string, an int that is no bool), else None."""
    if isinstance(value, str):
        return value if value.strip() else None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return None


def text_finder(paths: tuple[JsonPath, ...]) -> Find:
    """The first of ``paths`` holding a string (an empty one too), compiled."""
    keys = top_level(paths)
    if keys is not None and len(keys) == 1:
        ((key, index),) = keys

        def text_key(doc: object) -> str | None:
            value = doc.get(key) if doc.__class__ is dict else step(doc, key, index)
            return value if isinstance(value, str) else None

        return text_key
    finds = tuple(finder(p) for p in paths)

    def text(doc: object) -> str | None:
        for find in finds:
            value = find(doc)
            if isinstance(value, str):
                return value
        return None

    return text


def _host_matches(pattern: str, host: str) -> bool:
    host = host.lower()
    if pattern.startswith("*."):
        return host == pattern[2:] or host.endswith(pattern[1:])
    return host == pattern


# --- reading and validation ------------------------------------------------------------------

FILE_KEY = "@file"
"""Stamped on every entry table when its file is read: the file that set it, kept by merges."""
AT_KEY = "@at"
"""Stamped beside it: the entry's dotted key in that file."""

_ENTRY_KEYS = (
    "category",
    "description",
    "gloss",
    "retryable",
    "rejected",
    "call_outcome",
    "delivery_outcome",
    "cooldown",
    "scope",
    "source",
    "retry_after",
    "overload",
    "ok_on_http_error",
    "fault",
)
_SELECTOR_KEYS = ("hosts", "paths", "headers", "query")
_TABLE_KEYS = ("codes", "classes", "http", "when", "page", "items")


def read_bytes(path: str | Path) -> bytes:
    """A mapping file's content, or the MappingError saying why it cannot be read."""
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except OSError as exc:
        raise MappingError(path, "", f"cannot read: {exc.strerror or exc}") from None


def read_file(path: str | Path, content: bytes | None = None) -> dict[str, Any]:
    """Parse and validate one mapping file (``content``: its bytes, already read); returns
    its checked document (not yet built)."""
    import tomllib  # here: a process whose mappings come from the compiled cache never needs it

    if content is None:
        content = read_bytes(path)
    try:
        doc = tomllib.loads(content.decode("utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise MappingError(path, "", f"not valid TOML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise MappingError(path, "", f"not UTF-8 text: {exc.reason}") from None
    except RecursionError:  # tomllib parses nested arrays and inline tables recursively
        raise MappingError(path, "", "not valid TOML: arrays or tables nested too deeply") from None
    _check_document(doc, path)
    vendor = doc["vendor"]
    # an overlay's entries cite the overlay's source, not the table they land in
    cited = vendor.get("source", "") if "extends" in vendor else None
    _stamp(doc, str(path), "", cited)
    return doc


def _stamp(scope: dict[str, Any], file: str, prefix: str, cited: str | None) -> None:
    """Mark every entry of a scope (and its products and item specs) with its file, its key
    in that file (a merge may move a rule's index) and, for an overlay, the source it cites."""

    def mark(entry: dict[str, Any], key: str) -> None:
        entry[FILE_KEY] = file
        entry[AT_KEY] = key
        if cited is not None:
            entry.setdefault("source", cited)

    for code, entry in scope.get("codes", {}).items():
        mark(entry, _join(prefix, f"codes.{_quote(code)}"))
    for kind in ("http", "when", "page"):
        for i, rule in enumerate(scope.get(kind, [])):
            mark(rule, _join(prefix, f"{kind}[{i}]"))
    for i, spec in enumerate(scope.get("items", [])):
        spec[AT_KEY] = _join(prefix, f"items[{i}]")
        _stamp(spec, file, spec[AT_KEY], cited)
    for name, product in scope.get("products", {}).items():
        _stamp(product, file, f"products.{name}", cited)


class _Checker:
    """Type and shape checks for one file, each failure naming the file and the key.

    Loading stops at the first failure (it raises). ``collect=True`` is lint's mode: a failure
    inside a ``part()`` (one entry, rule, product, section) is kept in ``errors`` and the check
    goes on with the next part, so one run lists every mistake of a file.
    """

    def __init__(self, path: str | Path | None, *, collect: bool = False) -> None:
        self.path = path
        self.errors: list[MappingError] | None = [] if collect else None

    def fail(self, key: str, reason: str) -> MappingError:
        return MappingError(self.path, key, reason)

    def part(self) -> _Checker:
        """``with ck.part():`` one independent part of the file (see the class)."""
        return self

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: object, exc: BaseException | None, tb: object) -> bool:
        if self.errors is None or not isinstance(exc, MappingError):
            return False
        self.errors.append(exc)
        return True

    def table(self, value: object, key: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(key, f"must be a table, not {_kind(value)}")
        return value

    def array(self, value: object, key: str) -> list[Any]:
        if not isinstance(value, list):
            raise self.fail(key, f"must be an array of tables ([[{key.rsplit('.', 1)[-1]}]])")
        return value

    def keys(self, value: dict[str, Any], key: str, allowed: Sequence[str]) -> None:
        for name in value:
            if name not in allowed:
                hint = ", ".join(allowed)
                with self.part():
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

    def json_paths(self, value: object, key: str, *, required: bool = False) -> None:
        paths = self.strings(value, key)
        if required and not paths:
            raise self.fail(key, "must name at least one path")
        for i, text in enumerate(paths):
            if text == ROOT:
                continue
            if any(not seg.strip() or seg != seg.strip() for seg in text.split(".")):
                raise self.fail(
                    f"{key}[{i}]", f"{text!r} is not a dotted path (empty or padded segment)"
                )

    def codes(self, value: object, key: str) -> None:
        for i, code in enumerate(self.strings(value, key)):
            if not _CODE.match(code):
                raise self.fail(f"{key}[{i}]", f"{code!r} is not a code")


def _check_document(
    doc: dict[str, Any], path: str | Path | None, *, collect: bool = False
) -> list[MappingError]:
    """Check a parsed file: raises at the first mistake, or (``collect``) returns them all."""
    ck = _Checker(path, collect=collect)
    with ck.part():
        if "draft" in doc:  # `normalizer draft` wrote it: its categories are guesses
            raise ck.fail(
                "draft",
                "a draft is never loaded: review every entry (those marked REVIEW first), "
                "then delete the [draft] table",
            )
    ck.keys(
        doc,
        "",
        (
            "draft",
            "format",
            "vendor",
            "detect",
            "envelope",
            *_TABLE_KEYS,
            "products",
            "aliases",
            "redact",
            "resend",
            "callbacks",
            "sdk",
        ),
    )
    with ck.part():
        fmt = doc.get("format")
        if fmt != FORMAT_VERSION:
            raise ck.fail("format", f"must be {FORMAT_VERSION} (got {fmt!r})")
    vendor = None
    with ck.part():
        if "vendor" not in doc:
            raise ck.fail("vendor", "missing")
        vendor = ck.table(doc["vendor"], "vendor")
    if vendor is None:  # lint: nothing further can be read without it
        return ck.errors or []
    overlay = "extends" in vendor
    with ck.part():
        _check_vendor(ck, vendor, overlay)
    with ck.part():
        if "detect" in doc:
            detect = ck.table(doc["detect"], "detect")
            ck.keys(detect, "detect", _SELECTOR_KEYS)
            _check_selector(ck, detect, "detect")
    with ck.part():
        if "envelope" in doc:
            _check_envelope(ck, doc["envelope"], "envelope", partial=overlay)
        elif not overlay:
            raise ck.fail("envelope", "missing (at least envelope.code)")
    with ck.part():
        _check_table(ck, doc, "")
    with ck.part():
        if "redact" in doc:
            _check_redact(ck, doc["redact"])
    with ck.part():
        if "resend" in doc:
            _check_resend(ck, doc["resend"], overlay=overlay)
    with ck.part():
        if "sdk" in doc:
            check_sdk(ck, doc["sdk"])
    with ck.part():  # [products] or [aliases] may be no table at all
        for key, value in _sections(ck, doc, "products"):
            with ck.part():
                product = _section(ck, key, value, "product", ("inherit", "envelope", *_TABLE_KEYS))
                if "inherit" in product:
                    ck.boolean(product["inherit"], f"{key}.inherit")
                if "envelope" in product:
                    _check_envelope(ck, product["envelope"], f"{key}.envelope", partial=True)
                _check_table(ck, product, key)
    with ck.part():  # [products] or [aliases] may be no table at all
        for key, value in _sections(ck, doc, "aliases"):
            with ck.part():
                alias = _section(ck, key, value, "alias", ("products",))
                if not alias.get("hosts"):
                    raise ck.fail(f"{key}.hosts", "missing (an alias is other hosts of the vendor)")
                for pid, globs in ck.table(alias.get("products", {}), f"{key}.products").items():
                    _check_globs(ck, globs, f"{key}.products.{pid}")
                    if not globs:
                        raise ck.fail(f"{key}.products.{pid}", "must list at least one path glob")
    with ck.part():
        if "callbacks" in doc:  # the callbacks a vendor posts (normalizer._callback_spec)
            products = None if overlay else list(doc.get("products", {}))
            _callback_spec.check(ck, doc["callbacks"], products)
    return ck.errors or []


def check_all(path: str | Path, content: bytes | None = None) -> list[MappingError]:
    """Every mistake of one mapping file (lint's reading; loading stops at the first). A file
    that is no TOML at all has one mistake, that one."""
    import tomllib

    if content is None:
        content = read_bytes(path)
    try:
        doc = tomllib.loads(content.decode("utf-8"))
    except tomllib.TOMLDecodeError as exc:
        return [MappingError(path, "", f"not valid TOML: {exc}")]
    except UnicodeDecodeError as exc:
        return [MappingError(path, "", f"not UTF-8 text: {exc.reason}")]
    except RecursionError:
        return [MappingError(path, "", "not valid TOML: arrays or tables nested too deeply")]
    return _check_document(doc, path, collect=True)


def _check_vendor(ck: _Checker, vendor: dict[str, Any], overlay: bool) -> None:
    ck.keys(vendor, "vendor", ("id", "extends", "name", "source", "rate", "rate_source"))
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
    if "rate" in vendor:
        try:
            parse_rate(vendor["rate"])
        except ValueError as exc:
            raise ck.fail("vendor.rate", str(exc)) from None
        if "rate_source" not in vendor:
            raise ck.fail("vendor.rate_source", "missing: say where the published limit is")
    if "rate_source" in vendor:
        ck.string(vendor["rate_source"], "vendor.rate_source")


def _sections(ck: _Checker, doc: dict[str, Any], section: str) -> Iterator[tuple[str, object]]:
    """The named tables of ``[products.*]`` or ``[aliases.*]``, with their keys."""
    for name, value in ck.table(doc.get(section, {}), section).items():
        yield f"{section}.{name}", value


def _section(
    ck: _Checker, key: str, value: object, kind: str, extra: Sequence[str]
) -> dict[str, Any]:
    """One ``[products.*]`` or ``[aliases.*]`` table, its common keys checked."""
    name = key.split(".", 1)[1]
    if not _ID.match(name):
        raise ck.fail(key, f"{name!r} is not a {kind} id ([a-z][a-z0-9_]*)")
    spec = ck.table(value, key)
    ck.keys(spec, key, ("name", "source", *_SELECTOR_KEYS, *extra))
    for field in ("name", "source"):
        if field in spec:
            ck.string(spec[field], f"{key}.{field}", empty=field == "source")
    _check_selector(ck, spec, key)
    return spec


def _check_selector(ck: _Checker, spec: dict[str, Any], key: str) -> None:
    for i, host in enumerate(ck.strings(spec.get("hosts", []), _join(key, "hosts"))):
        if not _HOST.match(host):
            raise ck.fail(
                _join(key, f"hosts[{i}]"),
                f"{host!r} is not a lower-case host name "
                "(no scheme or path; '*.' prefix for subdomains)",
            )
    if "paths" in spec:
        _check_globs(ck, spec["paths"], _join(key, "paths"))
    for part in ("headers", "query"):
        if part in spec:
            where = _join(key, part)
            for name, globs in ck.table(spec[part], where).items():
                if not name.strip():
                    raise ck.fail(where, "a name must not be empty")
                if not ck.strings(globs, f"{where}.{name}"):
                    raise ck.fail(f"{where}.{name}", "must list at least one value glob")


_REDACT_NAME = Lazy(r"[^\s=&:;,/]+\Z")
_SEGMENT = Lazy(r"[^\s/?#]+\Z")


def _check_redact(ck: _Checker, value: object) -> None:
    """``[redact]``: ``keys`` (secret names) and ``after_segments`` (path segment names)."""
    redact = ck.table(value, "redact")
    ck.keys(redact, "redact", ("keys", "after_segments"))
    for i, name in enumerate(ck.strings(redact.get("keys", []), "redact.keys")):
        if not _REDACT_NAME.match(name):
            raise ck.fail(f"redact.keys[{i}]", f"{name!r} is not a header, query or field name")
    for i, name in enumerate(ck.strings(redact.get("after_segments", []), "redact.after_segments")):
        if not _SEGMENT.match(name):
            raise ck.fail(
                f"redact.after_segments[{i}]",
                f"{name!r} is not a URL path segment (no '/' or spaces)",
            )


_HEADER_NAME = Lazy(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+\Z")  # an RFC 9110 token
_METHOD = Lazy(r"[A-Z]+\Z")
READ_METHODS = ("GET", "HEAD")
"""The methods a ``reads`` selector covers unless it lists its own."""


def _check_resend(ck: _Checker, value: object, *, overlay: bool) -> None:
    """``[resend]``: which operations only read, which requests a header de-duplicates, which
    are signed once. Every rule decides whether a message may go out twice: its source is
    required, and no selector may be empty (it would match every request)."""
    resend = ck.table(value, "resend")
    ck.keys(resend, "resend", ("source", "acts_through", "reads", "idempotency", "nonce"))
    if "source" in resend:
        ck.string(resend["source"], "resend.source")
    elif not overlay:
        raise ck.fail("resend.source", "missing: say where these rules come from")
    for i, method in enumerate(ck.strings(resend.get("acts_through", []), "resend.acts_through")):
        if method not in _IDEMPOTENT:
            raise ck.fail(
                f"resend.acts_through[{i}]",
                f"{method!r} is not an idempotent method ({', '.join(sorted(_IDEMPOTENT))}): "
                "other methods are never resent after an ambiguous failure anyway",
            )
    extra = {"reads": ("methods",), "idempotency": ("header",), "nonce": ()}
    for field, more in extra.items():
        for i, spec in enumerate(ck.array(resend.get(field, []), f"resend.{field}")):
            key = f"resend.{field}[{i}]"
            selector = ck.table(spec, key)
            ck.keys(selector, key, (*_SELECTOR_KEYS, *more))
            if not any(k in selector for k in _SELECTOR_KEYS):
                raise ck.fail(key, "an empty selector would match every request")
            _check_selector(ck, selector, key)
            for j, method in enumerate(ck.strings(selector.get("methods", []), f"{key}.methods")):
                if not _METHOD.match(method):
                    raise ck.fail(f"{key}.methods[{j}]", f"{method!r} is not an HTTP method")
            if field == "idempotency":
                if "header" not in selector:
                    raise ck.fail(
                        f"{key}.header", "missing: the header the vendor de-duplicates on"
                    )
                name = ck.string(selector["header"], f"{key}.header")
                if not _HEADER_NAME.match(name):
                    raise ck.fail(f"{key}.header", f"{name!r} is not a header name")


def _check_status(ck: _Checker, value: object, key: str) -> None:
    """One HTTP status ("503", or 503) or a class ("5xx"): what ``[[http]]`` and ``[[page]]``
    rules are limited to."""
    status = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    if not isinstance(status, str) or not _STATUS.match(status):
        raise ck.fail(key, f"{value!r} is not an HTTP status ('503') or class ('5xx')")


def _check_page_code(ck: _Checker, rule: dict[str, Any], key: str) -> None:
    """A ``[[page]]`` rule with ``code`` reads the page's first line as the vendor's code: its
    reading is that code's table entry, so it takes no entry fields of its own (a category
    here would contradict the table's)."""
    for name in _ENTRY_KEYS:
        if name in rule and name != "source":
            raise ck.fail(
                f"{key}.{name}",
                'a rule with code = "first_line" is read as that code\'s own table entry: '
                "it takes no entry fields",
            )
    ck.keys(rule, key, ("code", "contains", "status", "paths", "source"))
    if rule["code"] != "first_line":
        raise ck.fail(
            f"{key}.code",
            f'{rule["code"]!r}: only "first_line" is read (the page\'s first line as the '
            "vendor's code, read through the code tables)",
        )
    if "source" in rule:
        ck.string(rule["source"], f"{key}.source", empty=True)


def _check_globs(ck: _Checker, value: object, key: str) -> None:
    for i, glob in enumerate(ck.strings(value, key)):
        if not glob.startswith(("/", "*")):
            raise ck.fail(f"{key}[{i}]", f"{glob!r} must start with '/' or '*'")


def _check_envelope(ck: _Checker, value: object, key: str, *, partial: bool) -> None:
    env = ck.table(value, key)
    ck.keys(
        env,
        key,
        ("code", "message", "request_id", "success", "no_code", "xml", "retry_after", "remaining"),
    )
    if "code" not in env and not partial:
        raise ck.fail(f"{key}.code", "missing")
    for field in ("code", "message", "request_id"):
        if field in env:
            ck.json_paths(env[field], f"{key}.{field}", required=field == "code")
    ck.codes(env.get("success", []), f"{key}.success")
    if "no_code" in env and not isinstance(env["no_code"], bool):
        if not isinstance(env["no_code"], list):
            raise ck.fail(f"{key}.no_code", "must be true, false or a list of path globs")
        _check_globs(ck, env["no_code"], f"{key}.no_code")
    if "xml" in env:
        ck.boolean(env["xml"], f"{key}.xml")
    for field in ("retry_after", "remaining"):
        for i, name in enumerate(ck.strings(env.get(field, []), f"{key}.{field}")):
            if not re.fullmatch(r"[A-Za-z0-9-]+", name):
                raise ck.fail(f"{key}.{field}[{i}]", f"{name!r} is not a header name")


def _check_table(ck: _Checker, doc: dict[str, Any], prefix: str) -> None:
    codes = ck.table(doc.get("codes", {}), _join(prefix, "codes"))
    for code, entry in codes.items():
        key = _join(prefix, f"codes.{_quote(code)}")
        with ck.part():
            if not _CODE.match(code):
                raise ck.fail(key, "a code must be 1-64 characters without spaces")
            _check_entry(ck, entry, key, _ENTRY_KEYS)
    classes = ck.table(doc.get("classes", {}), _join(prefix, "classes"))
    for pattern, target in classes.items():
        key = _join(prefix, f"classes.{_quote(pattern)}")
        with ck.part():
            if not _CLASS.match(pattern):
                raise ck.fail(key, "a class pattern is digits with at least one 'x' (e.g. '221x')")
            ck.string(target, key)
            if len(target) != len(pattern):
                raise ck.fail(key, f"target {target!r} is not as long as the pattern")
    for i, rule in enumerate(ck.array(doc.get("http", []), _join(prefix, "http"))):
        key = _join(prefix, f"http[{i}]")
        with ck.part():
            rule = ck.table(rule, key)
            _check_entry(ck, rule, key, ("status", *_ENTRY_KEYS, "paths"))
            _check_status(ck, rule.get("status"), f"{key}.status")
            if "paths" in rule:
                _check_globs(ck, rule["paths"], f"{key}.paths")
    for i, rule in enumerate(ck.array(doc.get("when", []), _join(prefix, "when"))):
        key = _join(prefix, f"when[{i}]")
        with ck.part():
            rule = ck.table(rule, key)
            _check_entry(ck, rule, key, ("field", "equals", "codes", "paths", *_ENTRY_KEYS))
            if "field" not in rule:
                raise ck.fail(f"{key}.field", "missing (the body paths to compare)")
            ck.json_paths(rule["field"], f"{key}.field", required=True)
            equals = rule.get("equals")
            if not isinstance(equals, list) or not equals:
                raise ck.fail(f"{key}.equals", "must list at least one value")
            for j, value in enumerate(equals):
                if isinstance(value, bool) or not isinstance(value, str | int):
                    raise ck.fail(
                        f"{key}.equals[{j}]", f"must be a string or integer, not {_kind(value)}"
                    )
            if "codes" in rule:
                ck.codes(rule["codes"], f"{key}.codes")
            if "paths" in rule:
                _check_globs(ck, rule["paths"], f"{key}.paths")
    for i, rule in enumerate(ck.array(doc.get("page", []), _join(prefix, "page"))):
        key = _join(prefix, f"page[{i}]")
        with ck.part():
            rule = ck.table(rule, key)
            if "code" in rule:
                _check_page_code(ck, rule, key)
            else:
                _check_entry(ck, rule, key, ("contains", "status", "paths", *_ENTRY_KEYS))
            contains = rule.get("contains", None if "code" in rule else [])
            if contains is not None and (not isinstance(contains, list) or not contains):
                raise ck.fail(f"{key}.contains", "must list at least one phrase of the page")
            for j, phrase in enumerate(contains or ()):
                if not isinstance(phrase, str) or len(phrase.strip()) < 3:
                    raise ck.fail(
                        f"{key}.contains[{j}]", "must be a phrase of at least 3 characters"
                    )
            if "status" in rule:
                _check_status(ck, rule["status"], f"{key}.status")
            if "paths" in rule:
                _check_globs(ck, rule["paths"], f"{key}.paths")
    for i, spec in enumerate(ck.array(doc.get("items", []), _join(prefix, "items"))):
        key = _join(prefix, f"items[{i}]")
        with ck.part():
            spec = ck.table(spec, key)
            ck.keys(
                spec,
                key,
                (
                    "path",
                    "keyed",
                    "code",
                    "message",
                    "number",
                    "message_id",
                    "success",
                    "failed",
                    "succeeded",
                    "paths",
                    "source",
                    "report",
                    "codes",
                    "classes",
                ),
            )
            if "path" not in spec and not ("failed" in spec or "succeeded" in spec):
                raise ck.fail(f"{key}.path", "missing (where the items are, or counters)")
            for field in ("path", "code", "message", "number", "message_id", "failed", "succeeded"):
                if field in spec:
                    ck.json_paths(spec[field], f"{key}.{field}", required=field == "path")
            if "report" in spec:
                ck.boolean(spec["report"], f"{key}.report")
            keyed = spec.get("keyed", False)
            if not (isinstance(keyed, bool) or keyed in ("number", "message_id")):
                raise ck.fail(f"{key}.keyed", 'must be true, false, "number" or "message_id"')
            ck.codes(spec.get("success", []), f"{key}.success")
            if "paths" in spec:
                _check_globs(ck, spec["paths"], f"{key}.paths")
            if "source" in spec:
                ck.string(spec["source"], f"{key}.source", empty=True)
            _check_table(ck, {k: v for k, v in spec.items() if k in ("codes", "classes")}, key)


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
    for text in ("gloss", "source"):
        if text in entry:
            ck.string(entry[text], f"{key}.{text}", empty=True)
    for flag in ("retryable", "rejected", "call_outcome", "delivery_outcome"):
        if flag in entry:
            ck.boolean(entry[flag], f"{key}.{flag}")
    if entry.get("call_outcome") and entry.get("delivery_outcome"):
        raise ck.fail(key, "an entry is a call outcome or a delivery outcome, not both")
    if "scope" in entry:
        scope = ck.string(entry["scope"], f"{key}.scope")
        if scope not in _SCOPES:
            raise ck.fail(f"{key}.scope", f"{scope!r} is not one of: {', '.join(_SCOPES)}")
    if "cooldown" in entry:
        report = bool(entry.get("call_outcome") or entry.get("delivery_outcome"))
        scope = entry.get("scope") or Scope.default(_CATEGORIES[category], report).value
        if not _SCOPES[scope].shared:
            raise ck.fail(
                f"{key}.cooldown",
                f"a cooldown holds back every call to the vendor: it needs scope vendor or "
                f"account, and this entry's is {scope}",
            )
        seconds = entry["cooldown"]
        if isinstance(seconds, bool) or not isinstance(seconds, int | float):
            raise ck.fail(f"{key}.cooldown", f"must be a number of seconds, not {_kind(seconds)}")
        if not 0 < seconds <= MAX_COOLDOWN:
            raise ck.fail(f"{key}.cooldown", f"must be more than 0 and at most {MAX_COOLDOWN}")
    for flag in ("overload", "ok_on_http_error"):
        if flag in entry:
            ck.boolean(entry[flag], f"{key}.{flag}")
    if "retry_after" in entry:
        seconds = entry["retry_after"]
        if isinstance(seconds, bool) or not isinstance(seconds, int | float):
            raise ck.fail(
                f"{key}.retry_after", f"must be a number of seconds, not {_kind(seconds)}"
            )
        if not 0 < seconds <= MAX_COOLDOWN:
            raise ck.fail(f"{key}.retry_after", f"must be more than 0 and at most {MAX_COOLDOWN}")
        report = bool(entry.get("call_outcome") or entry.get("delivery_outcome"))
        default = _CATEGORIES[category].retryable_by_default and not report
        retryable = entry.get("retryable", default)
        if not retryable:
            raise ck.fail(
                f"{key}.retry_after",
                "a wait before the same request passes needs a retryable entry (busy, or "
                "retryable = true)",
            )
    if entry.get("overload"):
        report = bool(entry.get("call_outcome") or entry.get("delivery_outcome"))
        scope = entry.get("scope") or Scope.default(_CATEGORIES[category], report).value
        if category not in ("server", "busy") or not _SCOPES[scope].shared:
            raise ck.fail(
                f"{key}.overload",
                f"an overload slows every call to the vendor: it needs category server or busy "
                f"and scope vendor or account (this entry: {category}, {scope})",
            )
    if "fault" in entry:
        fault = ck.string(entry["fault"], f"{key}.fault")
        if fault not in _FAULTS:
            raise ck.fail(f"{key}.fault", f"{fault!r} is not one of: {', '.join(_FAULTS)}")
        if category == "ok":
            raise ck.fail(f"{key}.fault", "a success is nobody's fault: only a failure says one")
    if entry.get("ok_on_http_error") and category != "ok":
        raise ck.fail(
            f"{key}.ok_on_http_error", f"only a success (category ok) may say it, not {category}"
        )


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
        new = {**old, **{k: v for k, v in product.items() if k not in _TABLE_KEYS}}
        if "envelope" in product:
            new["envelope"] = {**old.get("envelope", {}), **product["envelope"]}
        _merge_table(new, old, product)
        products[name] = new
    out["products"] = products
    out["aliases"] = {**base.get("aliases", {}), **overlay.get("aliases", {})}
    if "resend" in overlay:  # an overlay's rules add to the vendor's
        old, new = base.get("resend", {}), overlay["resend"]
        out["resend"] = {
            **old,
            **new,
            **{
                field: [*new.get(field, []), *old.get(field, [])]
                for field in ("reads", "idempotency", "nonce")
            },
        }
    if "callbacks" in overlay:  # an overlay's come first and replace the vendor's of their id
        out["callbacks"] = [*overlay["callbacks"], *base.get("callbacks", [])]
    if "sdk" in overlay:
        out["sdk"] = merge_sdk(base.get("sdk", {}), overlay["sdk"])
    if "redact" in overlay:  # an overlay adds secrets; it never unmasks the vendor's
        old = base.get("redact", {})
        out["redact"] = {
            field: [*old.get(field, []), *overlay["redact"].get(field, [])]
            for field in ("keys", "after_segments")
        }
    return out


def _merge_table(out: dict[str, Any], base: dict[str, Any], overlay: dict[str, Any]) -> None:
    out["codes"] = {**base.get("codes", {}), **overlay.get("codes", {})}
    out["classes"] = {**base.get("classes", {}), **overlay.get("classes", {})}
    for rules in ("http", "when", "page", "items"):  # an overlay's rules are tried first
        out[rules] = [*overlay.get(rules, []), *base.get(rules, [])]


class _Builder:
    """Builds one vendor's immutable mapping, recording where every entry came from."""

    def __init__(self, files: Sequence[str]) -> None:
        self.ck = _Checker(files[-1] if files else None)
        self.default_file = files[0] if files else ""

    def entry(self, raw: Mapping[str, Any], key: str, source: str) -> Entry:
        category = _CATEGORIES[raw["category"]]
        report = raw.get("call_outcome", False) or raw.get("delivery_outcome", False)
        return Entry(
            category=category,
            description=raw["description"].strip(),
            gloss=raw.get("gloss", "").strip(),
            retryable=raw.get("retryable", category.retryable_by_default and not report),
            # a call or message happened, so its outcome is never a request the vendor refused
            rejected=raw.get("rejected", category is Category.BUSY and not report),
            call_outcome=raw.get("call_outcome", False),
            cooldown=float(raw.get("cooldown", 0.0)),
            delivery_outcome=raw.get("delivery_outcome", False),
            scope=_SCOPES[raw["scope"]] if "scope" in raw else Scope.default(category, report),
            retry_after=float(raw.get("retry_after", 0.0)),
            overload=raw.get("overload", False),
            ok_on_http_error=raw.get("ok_on_http_error", False),
            fault=_FAULTS[raw["fault"]] if "fault" in raw else _DERIVED,
            origin=Origin(
                file=raw.get(FILE_KEY, self.default_file),
                key=raw.get(AT_KEY, key),
                source=raw.get("source", source),
                written=frozenset(k for k in ("retryable", "rejected") if k in raw),
            ),
        )

    def table(
        self, spec: Mapping[str, Any], prefix: str, parent: CodeTable | None, source: str
    ) -> CodeTable:
        codes = {
            code: self.entry(raw, _join(prefix, f"codes.{_quote(code)}"), source)
            for code, raw in spec.get("codes", {}).items()
        }
        classes = dict(spec.get("classes", {}))
        for pattern, target in classes.items():
            key = _join(prefix, f"classes.{_quote(pattern)}")
            if target not in codes and (parent is None or target not in parent.codes):
                raise self.ck.fail(key, f"target {target!r} is not a code in the table")
            if not all(p == "x" or p == t for p, t in zip(pattern, target, strict=True)):
                raise self.ck.fail(key, f"target {target!r} does not fall in the class")
        http = tuple(
            HttpRule(
                str(raw["status"]),
                self.entry(raw, _join(prefix, f"http[{i}]"), source),
                _globs(raw.get("paths", [])),
            )
            for i, raw in enumerate(spec.get("http", []))
        )
        when = tuple(
            WhenRule(
                _paths(raw["field"]),
                frozenset(str(v) for v in raw["equals"]),
                frozenset(raw["codes"]) if "codes" in raw else None,
                _globs(raw.get("paths", [])),
                self.entry(raw, _join(prefix, f"when[{i}]"), source),
            )
            for i, raw in enumerate(spec.get("when", []))
        )
        pages = tuple(
            PageRule(
                tuple(phrase.strip().casefold() for phrase in raw.get("contains", [])),
                str(raw["status"]) if "status" in raw else None,
                _globs(raw.get("paths", [])),
                None if "code" in raw else self.entry(raw, _join(prefix, f"page[{i}]"), source),
            )
            for i, raw in enumerate(spec.get("page", []))
        )
        return CodeTable(codes, classes, http, when, pages)

    def envelope(
        self,
        spec: Mapping[str, Any],
        base: Envelope | None,
        owner: Mapping[str, Any],
        prefix: str,
        table: CodeTable,
        source: str,
    ) -> Envelope:
        def paths(field: str) -> tuple[JsonPath, ...]:
            if field in spec:
                return _paths(spec[field])
            return getattr(base, field) if base is not None else ()

        def inherited(field: str, default: Any) -> Any:
            return getattr(base, field) if base is not None else default

        no_code = spec.get("no_code", inherited("no_code", False))
        if isinstance(no_code, list):
            no_code = _globs(no_code) or False
        items = (
            tuple(
                self.items(raw, _join(prefix, f"items[{i}]"), table, source)
                for i, raw in enumerate(owner["items"])
            )
            if owner.get("items")
            else inherited("items", ())
        )
        return Envelope(
            code=paths("code"),
            message=paths("message"),
            request_id=paths("request_id"),
            success=frozenset(spec["success"])
            if "success" in spec
            else inherited("success", frozenset()),
            no_code=no_code,
            xml=spec.get("xml", inherited("xml", False)),
            items=items,
            retry_after=tuple(h.lower() for h in spec["retry_after"])
            if "retry_after" in spec
            else inherited("retry_after", ()),
            remaining=tuple(h.lower() for h in spec["remaining"])
            if "remaining" in spec
            else inherited("remaining", ()),
        )

    def items(self, raw: Mapping[str, Any], key: str, owner: CodeTable, source: str) -> ItemsSpec:
        source = raw.get("source", source)
        table = None
        if raw.get("codes") or raw.get("classes"):
            table = self.table(raw, key, owner, source)
        return ItemsSpec(
            container=_paths(raw.get("path", [])),
            keyed={True: "number", False: None}.get(raw.get("keyed", False), raw.get("keyed")),
            code=_paths(raw.get("code", [])),
            message=_paths(raw.get("message", [])),
            number=_paths(raw.get("number", [])),
            message_id=_paths(raw.get("message_id", [])),
            success=frozenset(raw.get("success", ())),
            failed=_paths(raw.get("failed", [])),
            succeeded=_paths(raw.get("succeeded", [])),
            paths=_globs(raw.get("paths", [])),
            table=table,
            source=source,
            report=raw.get("report", False),
        )


def build(doc: dict[str, Any], files: Sequence[str]) -> VendorMapping:
    """Turn a checked (and possibly merged) document into a :class:`VendorMapping`."""
    b = _Builder(files)
    vendor = doc["vendor"]
    source = vendor.get("source", "")
    table = b.table(doc, "", None, source)
    envelope = b.envelope(doc["envelope"], None, doc, "", table, source)
    products = {}
    for name, spec in doc.get("products", {}).items():
        key = f"products.{name}"
        psource = spec.get("source", source)
        inherit = spec.get("inherit", True)
        ptable = b.table(spec, key, table if inherit else None, psource)
        products[name] = Product(
            id=name,
            name=spec.get("name", name),
            selector=_selector(spec),
            envelope=b.envelope(spec.get("envelope", {}), envelope, spec, key, ptable, psource),
            table=ptable,
            inherit=inherit,
            source=psource,
        )
    aliases = []
    for name, spec in doc.get("aliases", {}).items():
        for pid in spec.get("products", {}):
            if pid not in products:
                raise b.ck.fail(
                    f"aliases.{name}.products.{pid}",
                    f"no product {pid!r} (products: {', '.join(products) or '(none)'})",
                )
        aliases.append(
            Alias(
                id=name,
                name=spec.get("name", name),
                source=spec.get("source", ""),
                selector=_selector(spec),
                products=tuple(
                    (pid, pattern)
                    for pid, globs in spec.get("products", {}).items()
                    if (pattern := _globs(globs)) is not None
                ),
            )
        )
    mapping = VendorMapping(
        id=vendor["id"],
        name=vendor["name"],
        source=source,
        detect=_selector(doc.get("detect", {})),
        envelope=envelope,
        table=table,
        products=products,
        files=tuple(files),
        aliases=tuple(aliases),
        contested=_contested(table, products.values()),
        redact=_redaction(doc.get("redact", {})),
        rate=parse_rate(vendor["rate"]) if "rate" in vendor else None,
        resend=_resend(doc.get("resend", {})),
        callbacks=_callback_spec.build(b.ck, doc.get("callbacks", ()), products),
        sdk=build_sdk(b.ck, doc.get("sdk", {}), products),
    )
    _check_success(b.ck, mapping)
    return mapping


_PER = {"s": 1.0, "min": 60.0, "h": 3600.0}


def parse_rate(value: object) -> float:
    """Calls per second from a number (per second) or text such as ``"100/s"``, ``"600/min"``."""
    if isinstance(value, bool):
        raise ValueError("must be a number of calls per second or text such as '100/s'")
    if isinstance(value, int | float):
        number, per = float(value), 1.0
    elif isinstance(value, str) and value.count("/") == 1:
        count, unit = (part.strip() for part in value.split("/"))
        if unit not in _PER:
            raise ValueError(f"{value!r}: the unit after '/' must be one of: {', '.join(_PER)}")
        try:
            number, per = float(count), _PER[unit]
        except ValueError:
            raise ValueError(f"{value!r}: {count!r} is not a number") from None
    else:
        raise ValueError("must be a number of calls per second or text such as '100/s'")
    if not (math.isfinite(number) and number > 0):
        raise ValueError(f"{value!r}: must be more than 0 calls")
    return number / per


def _redaction(spec: Mapping[str, Any]) -> Redaction:
    return Redaction(
        keys=tuple(dict.fromkeys(spec.get("keys", ()))),
        after_segments=tuple(dict.fromkeys(spec.get("after_segments", ()))),
    )


_IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE"})


def _acting(methods: Sequence[str]) -> frozenset[str]:
    acting = frozenset(methods)
    return acting | {"HEAD"} if "GET" in acting else acting


def _resend(spec: Mapping[str, Any]) -> Resend:
    return Resend(
        acts_through=_acting(spec.get("acts_through", ())),
        reads=tuple(
            (frozenset(s.get("methods") or READ_METHODS), _selector(s))
            for s in spec.get("reads", ())
        ),
        idempotency=tuple((s["header"].lower(), _selector(s)) for s in spec.get("idempotency", ())),
        nonce=tuple(_selector(s) for s in spec.get("nonce", ())),
        source=spec.get("source", ""),
    )


def _contested(table: CodeTable, products: Iterable[Product]) -> frozenset[str]:
    """Vendor-level codes that a family reads differently: never guessed without a product."""
    out = set()
    for product in products:
        if product.inherit:
            continue
        for code, entry in product.table.codes.items():
            mine = table.codes.get(code)
            if mine is None and (pattern := table.nearest_class(code)) is not None:
                mine = table.codes.get(table.classes[pattern])
            if mine is not None and (mine.category, mine.retryable) != (
                entry.category,
                entry.retryable,
            ):
                out.add(code)
    return frozenset(out)


def _selector(spec: Mapping[str, Any]) -> Selector:
    return Selector(
        hosts=tuple(spec.get("hosts", ())),
        paths=_globs(spec.get("paths", [])),
        headers=tuple((n.lower(), _values(g)) for n, g in spec.get("headers", {}).items()),
        query=tuple((n, _values(g)) for n, g in spec.get("query", {}).items()),
    )


def _values(globs: Sequence[str]) -> Lazy:
    """Shell-style globs as one pattern, compiled on first use."""
    return Lazy("|".join(f"(?:{fnmatch.translate(g)})" for g in globs))


def _paths(texts: Sequence[str]) -> tuple[JsonPath, ...]:
    return tuple(JsonPath(p, () if p == ROOT else tuple(p.split("."))) for p in texts)


ROOT = "$"
"""The path of the whole document (a webhook that posts a bare list of reports)."""


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


def _globs(globs: Sequence[str]) -> Lazy | None:
    return _values(globs) if globs else None


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


# --- vendor SDKs: [sdk] ----------------------------------------------------------------------
#
# Which exception classes of a vendor's own SDK carry its answers, and in which attributes;
# which response models its SDK returns, and where their content sits in the vendor's JSON.
# Data, so that a new SDK (or a new major version) is a file change: normalizer._sdk reads it.

_ATTR = Lazy(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*\Z")
_DOTTED_CLASS = Lazy(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+\Z")
_SDK_ATTRS = ("code", "message", "status", "request_id", "body", "url", "headers", "wraps")
_SDK_ERROR_KEYS = ("classes", *_SDK_ATTRS, "text", "product", "transport", "source")
_SDK_MODEL_KEYS = ("classes", "body", "status", "at", "product", "source")


@frozen_value
class SdkError:
    """One family of an SDK's exceptions (``[[sdk.errors]]``): the attributes (dotted paths,
    the first holding a value wins) that carry the vendor's answer."""

    classes: tuple[str, ...]
    """Module-qualified class names, matched along the exception's MRO (never imported)."""
    code: tuple[str, ...] = ()
    message: tuple[str, ...] = ()
    status: tuple[str, ...] = ()
    """The HTTP status of the answer."""
    request_id: tuple[str, ...] = ()
    body: tuple[str, ...] = ()
    """The vendor's whole response body (parsed, text or bytes): read as a response is."""
    url: tuple[str, ...] = ()
    """The request's URL: selects the product as for a response."""
    headers: tuple[str, ...] = ()
    """The answer's HTTP headers (a mapping): a Retry-After in them is waited as the
    transports wait it."""
    wraps: tuple[str, ...] = ()
    """Attributes holding another exception the SDK wrapped (besides ``__cause__``)."""
    text: re.Pattern[str] | None = None
    """A pattern over ``str(exc)`` with groups ``code`` (and ``message``), for an SDK that
    puts the vendor's code only in its exception's text."""
    product: str | None = None
    """The product every exception of these classes belongs to."""
    transport: frozenset[str] = frozenset()
    """Codes the SDK raises for a transport failure (no answer): its cause decides."""
    source: str = ""


@frozen_value
class SdkModel:
    """One family of an SDK's response models (``[[sdk.models]]``)."""

    classes: tuple[str, ...]
    body: tuple[str, ...] = ()
    """Attributes holding the response body's model, when the model wraps a whole response."""
    status: tuple[str, ...] = ()
    """Attributes holding the HTTP status, when the model carries one."""
    at: str = ""
    """The dotted JSON path where the model's content sits in the vendor's JSON (Tencent's
    ``Response``); empty: the model is the whole document."""
    product: str | None = None
    source: str = ""


@frozen_value
class Sdk:
    """A vendor's ``[sdk]`` table: empty for a vendor without one."""

    errors: tuple[SdkError, ...] = ()
    models: tuple[SdkModel, ...] = ()
    source: str = ""


def check_sdk(ck: _Checker, value: object) -> None:
    """``[sdk]``: ``[[sdk.errors]]`` and ``[[sdk.models]]``, each naming its classes (dotted,
    module-qualified) and its source; attribute names are dotted Python identifiers."""
    sdk = ck.table(value, "sdk")
    ck.keys(sdk, "sdk", ("source", "errors", "models"))
    if "source" in sdk:
        ck.string(sdk["source"], "sdk.source")
    for field, allowed in (("errors", _SDK_ERROR_KEYS), ("models", _SDK_MODEL_KEYS)):
        for i, raw in enumerate(ck.array(sdk.get(field, []), f"sdk.{field}")):
            key = f"sdk.{field}[{i}]"
            spec = ck.table(raw, key)
            ck.keys(spec, key, allowed)
            if "source" in spec:
                ck.string(spec["source"], f"{key}.source")
            elif "source" not in sdk:
                raise ck.fail(f"{key}.source", "missing: say which SDK file these come from")
            classes = ck.strings(spec.get("classes", []), f"{key}.classes")
            if not classes:
                raise ck.fail(f"{key}.classes", "must list at least one class")
            for j, name in enumerate(classes):
                if not _DOTTED_CLASS.match(name):
                    raise ck.fail(
                        f"{key}.classes[{j}]",
                        f"{name!r} is not a module-qualified class name (package.module.Class)",
                    )
            for attr in _SDK_ATTRS:
                if attr not in spec or attr not in allowed:
                    continue
                for j, name in enumerate(ck.strings(spec[attr], f"{key}.{attr}")):
                    if not _ATTR.match(name):
                        raise ck.fail(f"{key}.{attr}[{j}]", f"{name!r} is not a dotted attribute")
            if "at" in spec:
                at = ck.string(spec["at"], f"{key}.at")
                if any(not seg.strip() or seg != seg.strip() for seg in at.split(".")):
                    raise ck.fail(f"{key}.at", f"{at!r} is not a dotted path")
            if "product" in spec:
                ck.string(spec["product"], f"{key}.product")
            if "transport" in spec:
                ck.codes(spec["transport"], f"{key}.transport")
            if "text" in spec:
                text = ck.string(spec["text"], f"{key}.text")
                try:
                    pattern = re.compile(text)
                except re.error as exc:
                    raise ck.fail(f"{key}.text", f"not a regular expression: {exc}") from None
                if "code" not in pattern.groupindex:
                    raise ck.fail(f"{key}.text", "needs a group named 'code': (?P<code>...)")
            if field == "errors" and not any(
                k in spec for k in ("code", "status", "body", "text", "wraps", "transport")
            ):
                raise ck.fail(key, "reads nothing: give code, status, body, text or wraps")


def merge_sdk(base: Mapping[str, Any], overlay: Mapping[str, Any]) -> dict[str, Any]:
    """An overlay's ``[sdk]`` entries are tried before the vendor's (a newer SDK first)."""
    out = {**base, **{k: v for k, v in overlay.items() if k not in ("errors", "models")}}
    for field in ("errors", "models"):
        out[field] = [*overlay.get(field, []), *base.get(field, [])]
    return out


def build_sdk(ck: _Checker, spec: Mapping[str, Any], products: Mapping[str, Any]) -> Sdk:
    """The checked ``[sdk]`` table as values; a ``product`` must be one of the vendor's."""
    default = spec.get("source", "")

    def product(raw: Mapping[str, Any], key: str) -> str | None:
        pid = raw.get("product")
        if pid is not None and pid not in products:
            known = ", ".join(products) or "(none)"
            raise ck.fail(f"{key}.product", f"no product {pid!r} (products: {known})")
        return pid

    errors = tuple(
        SdkError(
            classes=tuple(raw["classes"]),
            **{attr: tuple(raw.get(attr, ())) for attr in _SDK_ATTRS},
            text=re.compile(raw["text"]) if "text" in raw else None,
            product=product(raw, f"sdk.errors[{i}]"),
            transport=frozenset(raw.get("transport", ())),
            source=raw.get("source", default),
        )
        for i, raw in enumerate(spec.get("errors", ()))
    )
    models = tuple(
        SdkModel(
            classes=tuple(raw["classes"]),
            body=tuple(raw.get("body", ())),
            status=tuple(raw.get("status", ())),
            at=raw.get("at", ""),
            product=product(raw, f"sdk.models[{i}]"),
            source=raw.get("source", default),
        )
        for i, raw in enumerate(spec.get("models", ()))
    )
    return Sdk(errors, models, default)
