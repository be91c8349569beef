"""Per-item results of batch responses and reports, and how they sum up into one outcome.

SMS and call APIs take many numbers in one request and answer with a status per number, per
message part or per task, while the top-level code only says the request was accepted. The
mapping's ``[[items]]`` says where those results are; here they are read (at most
:data:`MAX_ITEMS`), each through the vendor's tables, and summed up:

- every item ok (and no failure counter): the response's outcome stays ``ok``;
- none ok: the outcome reads as its failed items (the first category of :data:`SEVERITY`
  present among them), retryable or safe to resend only if every one of them is (and every
  item was read: past :data:`MAX_ITEMS`, never);
- some ok: ``ok`` with ``partial=True``, never retryable: what went out must not go out twice.

For each side the larger of the list and the vendor's counter counts, so a failure the counter
reports but the list does not show still makes the result partial. An item that reports what
became of a call or message (a ``delivery_outcome``/``call_outcome`` entry) went out, whatever
became of it. A spec marked ``report = true`` lists its items as data, never summed up, since
a query of results is not a failed request.

A response whose own code reports what became of the message (Telnyx's ``message.finalized``
with ``errors[]``) keeps its outcome; its items are listed so that "which recipients failed" has
an answer, and a failed item takes the response's reason, since that is where the vendor put it.
An item whose code no table knows reads the vendor's own text as its ``message``.

Each spec is compiled once per way a vendor's codes are read (:class:`ItemsReader`): its item
loop is generated as Python source with every field path written out (``value.get("number")``,
not a walk over path segments), and each item is a copy of its code's prebuilt fields, so a
delivery report of a thousand items costs little more than parsing it.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import islice
from typing import Any

from ._category import Category, Scope
from ._mapping import (
    MAX_CODE_LENGTH,
    Entry,
    Envelope,
    Find,
    ItemsSpec,
    JsonPath,
    code_text,
    finder,
    step,
    top_level,
    usable,
)
from ._outcome import Item, Match, Outcome, built, derive
from ._redact import DEFAULT as _REDACTOR

MAX_ITEMS = 10_000
"""Items read from one response; a longer list is summed up over its first MAX_ITEMS."""

SEVERITY = (
    Category.AUTH,
    Category.BILLING,
    Category.VALIDATION,
    Category.NOT_FOUND,
    Category.UNKNOWN,
    Category.SERVER,
    Category.BUSY,
)
"""Which category a batch that failed whole reads as: the first present among its items.

The least recoverable comes first, so a batch is never retried for its busy items while
others failed for good.
"""

Resolve = Callable[[str], "tuple[Entry, Match] | None"]
"""Reads a top-level code through the vendor's tables (exact, success, classes)."""

Container = list[object] | dict[str, object]
Locate = Callable[[object], "tuple[Container | None, int | None, int | None]"]
"""Where a spec's items are in a document, and its two counters: failed, succeeded."""

Fields = dict[str, Any]
"""An Outcome's (or Item's) fields, a template's copy being filled in."""

_OK_CATEGORY = Category.OK
_LISTED = Entry(Category.OK, "listed as accepted", "", False, False)
_UNKNOWN = Entry(Category.UNKNOWN, "", "", False, False)
_OK = Entry(Category.OK, "", "", False, False)
_KEPT = 4096
"""Item codes remembered per spec (each with its prebuilt item); past it, read each time."""


class ItemsReader:
    """A scope's ``[[items]]`` specs, compiled: which one applies, where its items are, what
    each item code means (a prebuilt item per code, filled per item with its own fields)."""

    __slots__ = ("_by_path", "_specs")

    def __init__(self, specs: tuple[ItemsSpec, ...], resolve: Resolve) -> None:
        self._specs = tuple(_SpecReader(spec, resolve) for spec in specs)
        self._by_path: dict[str | None, tuple[_SpecReader, ...]] = {}
        """The specs each URL path may read (their globs matched once per path)."""

    def read(self, fields: Fields, doc: object, path: str | None) -> None:
        """Add the response's items to an outcome's ``fields``: an ok outcome's summed up, a
        delivery or call outcome's listed with its reason; any other failure is left as it is
        (its code wins)."""
        ok = fields["category"] is _OK_CATEGORY
        if not (ok or fields["delivery_outcome"] or fields["call_outcome"]):
            return
        specs = self._by_path.get(path)
        if specs is None:
            specs = self._for_path(path)
        for spec in specs:
            container, failed, succeeded = spec.locate(doc)
            if container is None and failed is None and succeeded is None:
                continue
            read = _NONE if container is None else spec.read(container)
            if not ok:  # the response's code already says what became of the message
                fields["items"] = _explained(read[0], fields)
            elif spec.report or (read[1] == 0 and not failed):  # listed; or every item went out
                fields["items"] = read[0]
            else:
                cut = container is not None and len(container) > MAX_ITEMS
                _summed(fields, read, failed or 0, succeeded or 0, cut)
            return

    def _for_path(self, path: str | None) -> tuple[_SpecReader, ...]:
        specs = tuple(
            spec
            for spec in self._specs
            if spec.paths is None or (path is not None and spec.paths.match(path) is not None)
        )
        if len(self._by_path) < _KEPT:
            self._by_path[path] = specs
        return specs


def with_items(
    outcome: Outcome, envelope: Envelope, doc: object, path: str | None, resolve: Resolve
) -> Outcome:
    """``outcome`` with ``doc``'s items read through ``envelope``'s specs, item codes through
    ``resolve`` (compiled for this call: the classifier keeps an :class:`ItemsReader` per
    product instead)."""
    fields = outcome.__dict__.copy()
    ItemsReader(envelope.items, resolve).read(fields, doc, path)
    return built(Outcome, fields)


_Read = tuple[tuple[Item, ...], int, "Item | None", bool, bool]
"""A container's items, then what they sum up to: how many did not go out (not ok, and no
report of what became of them), the first failed one of the first category of
:data:`SEVERITY` among them, whether every failed one is retryable, and rejected."""
_NONE: _Read = ((), 0, None, True, True)


def _summed(fields: Fields, read: _Read, failed: int, succeeded: int, cut: bool) -> None:
    items, failures, worst, retryable, rejected = read
    fields["items"] = items
    n_failed = max(failures, failed)
    n_ok = max(len(items) - failures, succeeded)
    if n_failed == 0:
        return
    if n_ok:  # some went out: never resent whole
        fields.update(partial=True, retryable=False, rejected=False)
    elif worst is None:  # a counter says every one failed, and nothing says why
        fields.update(
            category=Category.UNKNOWN,
            retryable=False,
            rejected=False,
            message="every item failed (the response gives no reason)",
            gloss="",
        )
    else:
        fields.update(
            category=worst.category,
            # the items past MAX_ITEMS were not read: any of them may have gone out
            retryable=not cut and retryable,
            rejected=not cut and rejected,
            code=worst.code,
            message=worst.message,
            gloss=worst.gloss,
            vendor_message=worst.vendor_message,
            matched=worst.matched,
            scope=worst.scope,
            fault=worst.fault,
        )


def summed(fields: Fields, items: tuple[Item, ...]) -> None:
    """Sum ``items`` (all read) into an outcome's ``fields`` as :meth:`ItemsReader.read` sums
    a response's: one recipient's share of a batch (:mod:`normalizer._failover_rule`)."""
    failed = [item for item in items if not (item.ok or item.delivery_outcome)]
    worst = min(failed, key=lambda item: _RANK[item.category]) if failed else None
    retryable = all(item.retryable for item in failed)
    rejected = all(item.rejected for item in failed)
    _summed(fields, (items, len(failed), worst, retryable, rejected), 0, 0, False)


_RANK = {category: rank for rank, category in enumerate(SEVERITY)}


def _explained(items: tuple[Item, ...], fields: Fields) -> tuple[Item, ...]:
    """The items, each failed one with the reason the response gives for the whole message.

    Telnyx keeps a message's ``errors[]`` beside its recipients' statuses ("these errors may
    point at addressees when referring to unsuccessful/unconfirmed delivery statuses"): a
    recipient's ``delivery_failed`` says only that it failed, the error says why.
    """
    return tuple(
        item
        if item.ok
        else derive(
            item,
            category=fields["category"],
            retryable=fields["retryable"],
            code=fields["code"],
            message=fields["message"] or (fields["vendor_message"] or ""),
            gloss=fields["gloss"],
            vendor_message=fields["vendor_message"],
            matched=fields["matched"],
            rejected=fields["rejected"],
        )
        for item in items
    )


class _SpecReader:
    """One ``[[items]]`` spec, compiled: where its items are, its counters, its item loop."""

    __slots__ = (
        "_resolve",
        "_templates",
        "container",
        "failed",
        "locate",
        "paths",
        "read",
        "report",
        "spec",
        "succeeded",
    )

    def __init__(self, spec: ItemsSpec, resolve: Resolve) -> None:
        self.spec = spec
        self.paths = spec.paths
        self.report = spec.report
        self.container = _container_finder(spec)
        self.failed = _counter(spec.failed)
        self.succeeded = _counter(spec.succeeded)
        self.locate: Locate = self._first_locate
        """Where the items and counters are: generated on first use (a lookup never needs
        it)."""
        self._resolve = resolve
        self._templates: dict[str, _Template] = {}
        self.read: Callable[[list[object] | dict[str, object]], _Read] = self._first_read
        """The container's items (at most :data:`MAX_ITEMS`) and their sum, in one pass:
        generated on first use (a lookup never needs it)."""

    def _first_locate(self, doc: object) -> tuple[Container | None, int | None, int | None]:
        self.locate = _locator(self.spec, self.container, self.failed, self.succeeded)
        return self.locate(doc)

    def _first_read(self, container: list[object] | dict[str, object]) -> _Read:
        spec = self.spec
        self.read = _item_loop(
            spec,
            self._templates.get,
            self.template,
            _template(_LISTED, Match.NO_CODE, None, spec.report),
            _template(_UNKNOWN, Match.MISSING, None, spec.report),
        )
        return self.read(container)

    def template(self, code: str) -> _Template:
        """The prebuilt item fields of ``code`` (its code set), and whether it is known."""
        found = self._templates.get(code)
        if found is None:
            read = _resolve(self.spec, code, self._resolve)
            entry, matched = read if read is not None else (_UNKNOWN, Match.UNMAPPED)
            found = _template(entry, matched, code, self.report)
            if len(self._templates) < _KEPT:
                self._templates[code] = found
        return found


_Template = tuple[Fields, bool, bool]
"""An item's fields before the item's own are read; whether its code is known (an unknown
code's item takes the vendor's text as its message); whether it failed (not ok, and no
report of what became of the message: an ok item went out, so did a delivered or not one)."""


def _template(entry: Entry, matched: Match, code: str | None, report: bool) -> _Template:
    item = Item(
        category=entry.category,
        retryable=entry.retryable,
        code=code,
        message=entry.description,
        gloss=entry.gloss,
        matched=matched,
        rejected=entry.rejected,
        delivery_outcome=entry.report or report,
        scope=Scope.RECIPIENT if report else entry.scope,
        fault=entry.fault,
    )
    known = matched not in (Match.UNMAPPED, Match.MISSING)
    return item.__dict__, known, not (item.ok or item.delivery_outcome)


# --- the generated item loop ------------------------------------------------------------------

_LOOP = """
def read(container):
    items = []
    append = items.append
    failures = 0
    worst = None
    worst_rank = 99
    retryable = rejected = True
    if isinstance(container, dict):
        for key, value in islice(container.items(), MAX_ITEMS):
            key = str(key)
            index = None
{item}
    else:
        key = None
        if len(container) > MAX_ITEMS:
            container = container[:MAX_ITEMS]
        for index, value in enumerate(container):
{item}
    return tuple(items), failures, worst, retryable, rejected
"""

_ITEM = """
if value.__class__ is not dict and not isinstance(value, dict):
    fields, known, failed = missing
    fields = fields.copy()
    if key is not None:
        fields["recipient"] = key
        fields["number"] = masked(key)
else:
{fields}
    fields = fields.copy()
    if text is not None:
        fields["vendor_message"] = text
        if not known:  # no table knows the code: the vendor's text says what happened
            fields["message"] = text
    if recipient is not None:
        fields["recipient"] = recipient
        digits = recipient[1:] if recipient[:1] == "+" else recipient
        n = len(digits)
        if KEEP <= n <= LONGEST and digits.isdecimal():  # the usual number, at once
            fields["number"] = STARS[n] + digits[n - KEEP :]
        else:
            fields["number"] = masked(recipient)
    if message_id is not None:
        fields["message_id"] = message_id
fields["index"] = index
item = new(Item)
set_fields(item, "__dict__", fields)
append(item)
if failed:  # not ok, and no report of what became of it
    failures += 1
    rank = RANK[fields["category"]]
    if rank < worst_rank:
        worst = item
        worst_rank = rank
    if not fields["retryable"]:
        retryable = False
    if not fields["rejected"]:
        rejected = False
"""


def _item_loop(
    spec: ItemsSpec,
    known: Callable[[str], _Template | None],
    template: Callable[[str], _Template],
    listed: _Template,
    missing: _Template,
) -> Callable[[list[object] | dict[str, object]], _Read]:
    """The spec's item loop, generated: every field path written out for the item at hand."""
    body = [
        *_field("recipient", spec.number),
        *_field("message_id", spec.message_id),
        *(["message_id = message_id or key"] if spec.keyed == "message_id" else []),
        *(["if recipient is None:", "    recipient = key"] if spec.keyed != "message_id" else []),
        *_field("text", spec.message),
    ]
    if spec.code:
        body += _field("code", spec.code)
        body += [
            "if code is None:",
            "    fields, known, failed = missing",
            "    known = False",
            "else:",
            "    fields, known, failed = known_code(code) or template(code)",
        ]
    else:  # listed at all means accepted
        body += ["fields, known, failed = listed"]
    item = _ITEM.replace("{fields}", "\n".join(" " * 4 + line for line in body))
    source = _LOOP.replace("{item}", "\n".join(" " * 12 + line for line in item.splitlines()))
    namespace: dict[str, Any] = {
        "MAX_ITEMS": MAX_ITEMS,
        "LONGEST": MAX_CODE_LENGTH,
        "KEEP": _KEEP,
        "STARS": _STARS,
        "RANK": {category: rank for rank, category in enumerate(SEVERITY)},
        "Item": Item,
        "cut": _cut,
        "islice": islice,
        "known_code": known,
        "listed": listed,
        "masked": _masked,
        "missing": missing,
        "new": object.__new__,
        "set_fields": object.__setattr__,
        "step": step,
        "template": template,
    }
    # the source is this module's text and the paths' segments as repr() literals: nothing
    # of a mapping file is ever code
    exec(compile(source, "<normalizer item loop>", "exec"), namespace)
    read: Callable[[list[object] | dict[str, object]], _Read] = namespace["read"]
    return read


def _field(name: str, paths: tuple[JsonPath, ...]) -> list[str]:
    """Lines setting ``name`` to the item field at the first of ``paths`` holding a usable
    value (a non-blank string or an int), as text cut as an outcome's code is."""
    lines = [f"{name} = None"]
    indent = ""
    longest = MAX_CODE_LENGTH
    for n, path in enumerate(paths):
        if n:
            lines.append(f"{indent}if {name} is None:")
            indent += "    "
        lines += [indent + line for line in _walk(path)]
        lines += [
            f"{indent}if v.__class__ is str and 0 < len(v) <= {longest} and not v.isspace():",
            f"{indent}    {name} = v",
            f"{indent}elif v is not None:",
            f"{indent}    {name} = cut(v)",
        ]
    return lines


def _walk(path: JsonPath, name: str = "value") -> list[str]:
    """Lines setting ``v`` to what ``path`` holds in the item ``value`` (a dict), or None."""
    if not path.segments:
        return [f"v = {name}"]
    first, *rest = path.segments
    lines = [f"v = {name}.get({first!r})"]
    for segment in rest:
        index = int(segment) if segment.isdecimal() else None
        lines.append(
            f"v = v.get({segment!r}) if v.__class__ is dict "
            f"else None if v is None else step(v, {segment!r}, {index!r})"
        )
    return lines


def _cut(value: object) -> str | None:
    """An item field that is no short string: usable (else None), and cut as codes are."""
    found = usable(value)
    return None if found is None else code_text(found)[0]


_KEEP: int = _REDACTOR._keep
"""The digits a masked number keeps (the default redactor's, as logs show them)."""
_STARS = tuple("*" * max(0, n - _KEEP) for n in range(MAX_CODE_LENGTH + 1))
"""The mask of an all-digit number of each length, as ``Redactor.number`` writes it."""


def _masked(number: str) -> str:
    """``number`` redacted as in logs; the usual all-digit number (a leading + allowed)
    without a regular expression's substitution."""
    if number.isdecimal():
        return _REDACTOR._mask_digits(number)
    if number[:1] == "+" and number[1:].isdecimal():
        return _REDACTOR._mask_digits(number[1:])
    return _REDACTOR.number(number)


def _resolve(spec: ItemsSpec, code: str, resolve: Resolve) -> tuple[Entry, Match] | None:
    key = code.strip()
    table = spec.table
    if table is not None:
        entry = table.codes.get(key)
        if entry is not None:
            return entry, Match.EXACT
    if table is None:
        found = resolve(key)
        if found is not None:
            return found
    if key in spec.success:
        return _OK, Match.EXACT
    if table is None:
        return None
    pattern = table.nearest_class(key)
    if pattern is not None:
        target = table.classes[pattern]
        entry = table.codes.get(target)
        if entry is None:  # a class may point at a code of the vendor's own table
            found = resolve(target)
            return None if found is None else (found[0], Match.CLASS)
        return entry, Match.CLASS
    return None


def _container_finder(spec: ItemsSpec) -> Find:
    """Where the items are: a list (an object alone where a list may stand, as XML repeats
    or not), or an object keyed by number or message id."""
    finds = tuple((finder(jp), bool(jp.segments)) for jp in spec.container)
    keyed = spec.keyed is not None

    def container(doc: object) -> list[object] | dict[str, object] | None:
        for find, nested in finds:
            value = find(doc)
            if keyed:
                if isinstance(value, dict):
                    return value
            elif isinstance(value, list):
                return value
            elif isinstance(value, dict) and nested:
                return [value]
        return None

    return container


def _locator(spec: ItemsSpec, container: Find, failed: Find, succeeded: Find) -> Locate:
    """What :func:`_container_finder` and the two :func:`_counter` functions find, in one
    generated function: an object's paths written out (``doc.get("array")``), the usual
    one-key counter read at once; anything else through those functions."""
    lines = [
        "def locate(doc):",
        "    if doc.__class__ is not dict:",
        "        return container_of(doc), failed_of(doc), succeeded_of(doc)",
    ]
    if all(jp.segments for jp in spec.container):  # never the whole document: an object here
        lines.append("    container = None")
        wanted = "dict" if spec.keyed is not None else "list"
        for n, jp in enumerate(spec.container):
            pad = "    " + "    " * n
            if n:
                lines.append(f"{pad[:-4]}if container is None:")
            lines += [pad + line for line in _walk(jp, "doc")]
            lines += [f"{pad}if isinstance(v, {wanted}):", f"{pad}    container = v"]
            if spec.keyed is None:
                lines += [f"{pad}elif isinstance(v, dict):", f"{pad}    container = [v]"]
    else:
        lines.append("    container = container_of(doc)")
    for name, paths in (("failed", spec.failed), ("succeeded", spec.succeeded)):
        keys = top_level(paths)
        if not paths:
            lines.append(f"    {name} = None")
        elif keys is not None and len(keys) == 1:
            lines += [
                f"    v = doc.get({keys[0][0]!r})",
                "    if v.__class__ is str and v.isdigit() and v.isascii() and len(v) <= 18:",
                f"        {name} = int(v)",
                "    elif v is None:",
                f"        {name} = None",
                "    else:",
                f"        {name} = count(v)",
            ]
        else:
            lines.append(f"    {name} = {name}_of(doc)")
    lines.append("    return container, failed, succeeded")
    namespace: dict[str, Any] = {
        "container_of": container,
        "count": _count,
        "failed_of": failed,
        "step": step,
        "succeeded_of": succeeded,
    }
    # the source is this module's text and the paths' segments as repr() literals
    exec(compile("\n".join(lines), "<normalizer items locator>", "exec"), namespace)
    locate: Locate = namespace["locate"]
    return locate


def _counter(paths: tuple[JsonPath, ...]) -> Find:
    """A counter's value: a non-negative integer, or a string of up to 18 ASCII digits."""
    keys = top_level(paths)
    if keys is not None and len(keys) == 1:
        ((key, index),) = keys

        def counted_key(doc: object) -> int | None:
            value = doc.get(key) if doc.__class__ is dict else step(doc, key, index)
            if value.__class__ is str and value.isdigit() and value.isascii() and len(value) <= 18:
                return int(value)  # the usual "2": what _count reads it as, at once
            return None if value is None else _count(value)

        return counted_key
    finds = tuple(finder(jp) for jp in paths)

    def counted(doc: object) -> int | None:
        for find in finds:
            value = find(doc)
            found = None if value is None else _count(value)
            if found is not None:
                return found
        return None

    return counted


def _count(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return max(value, 0)
    if isinstance(value, str):
        text = value.strip()
        if text.isascii() and text.isdigit() and len(text) <= 18:
            return int(text)
    return None


def number_key(number: str) -> str:
    """``number`` as the digits that identify it, whatever way a vendor echoes it: every
    non-digit dropped (``+``, spaces, dashes), then leading zeros (an ``00`` international
    prefix, a national trunk ``0``). ``+44 7700 900001``, ``00447700900001`` and
    ``447700900001`` are ``447700900001``; the national ``07700900001`` is ``7700900001``,
    which :func:`same_number` matches to it (a vendor may drop the country code)."""
    digits = number if number.isdecimal() else "".join(c for c in number if c.isdecimal())
    return digits.lstrip("0")


SHORTEST_MATCH = 7
"""Digits a number without its country code keeps at least for :func:`same_number` to match it
to the full number (a subscriber number is 7 digits or more nearly everywhere)."""


def same_number(a: str, b: str) -> bool:
    """Whether two :func:`number_key` keys name the same recipient: equal, or one the other
    without its country code (the longer ends with the shorter, which has at least
    :data:`SHORTEST_MATCH` digits)."""
    if a == b:
        return bool(a)
    short, long = (a, b) if len(a) < len(b) else (b, a)
    return len(short) >= SHORTEST_MATCH and long.endswith(short)


def retry_recipients(outcome: Outcome) -> list[str]:
    """The recipients to resend to: those whose every item failed and may succeed again.

    A recipient with any item that went out (one part of a long SMS) is left out, so nothing
    is sent twice; the order is the vendor's. Items without a number cannot be resent.
    """
    by_number: dict[str, list[Item]] = {}
    for item in outcome.items:
        if item.recipient is not None and not item.delivery_outcome:
            by_number.setdefault(item.recipient, []).append(item)
    return [
        number
        for number, items in by_number.items()
        if all(not item.ok and item.retryable for item in items)
    ]
