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
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator

from ._category import Category, Scope
from ._mapping import Entry, Envelope, ItemsSpec, JsonPath, code_text, first_value
from ._outcome import Item, Match, Outcome
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

_LISTED = Entry(Category.OK, "listed as accepted", "", False, False)
_UNKNOWN = Entry(Category.UNKNOWN, "", "", False, False)


def with_items(
    outcome: Outcome, envelope: Envelope, doc: object, path: str | None, resolve: Resolve
) -> Outcome:
    """``outcome`` with the response's items read: an ok one summed up, a delivery or call
    outcome's listed with its reason; any other failure is left as it is (its code wins)."""
    report = outcome.delivery_outcome or outcome.call_outcome
    if not (outcome.ok or report):
        return outcome
    for spec in envelope.items:
        if not spec.applies(path):
            continue
        container = _container(spec, doc)
        failed = _count(spec.failed, doc)
        succeeded = _count(spec.succeeded, doc)
        if container is None and failed is None and succeeded is None:
            continue
        items = tuple(_read(spec, container, resolve)) if container is not None else ()
        if not outcome.ok:  # the response's code already says what became of the message
            return dataclasses.replace(outcome, items=_explained(items, outcome))
        if spec.report:
            return dataclasses.replace(outcome, items=items)
        cut = container is not None and len(container) > MAX_ITEMS
        return _summed(outcome, items, failed or 0, succeeded or 0, cut)
    return outcome


def _summed(
    outcome: Outcome, items: tuple[Item, ...], failed: int, succeeded: int, cut: bool
) -> Outcome:
    # an ok item went out; so did one that reports what became of it, delivered or not
    failures = [item for item in items if not (item.ok or item.delivery_outcome)]
    n_failed = max(len(failures), failed)
    n_ok = max(len(items) - len(failures), succeeded)
    if n_failed == 0:
        return dataclasses.replace(outcome, items=items)
    if n_ok:  # some went out: never resent whole
        return dataclasses.replace(
            outcome, items=items, partial=True, retryable=False, rejected=False
        )
    if not failures:  # a counter says every one failed, and nothing says why
        return dataclasses.replace(
            outcome,
            category=Category.UNKNOWN,
            retryable=False,
            rejected=False,
            items=items,
            message="every item failed (the response gives no reason)",
            gloss="",
        )
    worst = min(failures, key=lambda item: SEVERITY.index(item.category))
    return dataclasses.replace(
        outcome,
        category=worst.category,
        # the items past MAX_ITEMS were not read: any of them may have gone out
        retryable=not cut and all(item.retryable for item in failures),
        rejected=not cut and all(item.rejected for item in failures),
        code=worst.code,
        message=worst.message,
        gloss=worst.gloss,
        vendor_message=worst.vendor_message,
        matched=worst.matched,
        items=items,
        scope=worst.scope,
    )


def _explained(items: tuple[Item, ...], outcome: Outcome) -> tuple[Item, ...]:
    """The items, each failed one with the reason the response gives for the whole message.

    Telnyx keeps a message's ``errors[]`` beside its recipients' statuses ("these errors may
    point at addressees when referring to unsuccessful/unconfirmed delivery statuses"): a
    recipient's ``delivery_failed`` says only that it failed, the error says why.
    """
    return tuple(
        item
        if item.ok
        else dataclasses.replace(
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
        for item in items
    )


def _container(spec: ItemsSpec, doc: object) -> list[object] | dict[str, object] | None:
    for jp in spec.container:
        value = jp.find(doc)
        if spec.keyed is not None:
            if isinstance(value, dict):
                return value
        elif isinstance(value, list):
            return value
        elif isinstance(value, dict) and jp.segments:
            return [value]  # one element where a list may stand (XML repeats, or not)
    return None


def _count(paths: tuple[JsonPath, ...], doc: object) -> int | None:
    """A counter's value: a non-negative integer, or a string of up to 18 ASCII digits."""
    for jp in paths:
        value = jp.find(doc)
        if isinstance(value, bool):
            continue
        if isinstance(value, int):
            return max(value, 0)
        if isinstance(value, str):
            text = value.strip()
            if text.isascii() and text.isdigit() and len(text) <= 18:
                return int(text)
    return None


def _read(
    spec: ItemsSpec, container: list[object] | dict[str, object], resolve: Resolve
) -> Iterator[Item]:
    if isinstance(container, dict):
        pairs: Iterator[tuple[int | None, str | None, object]] = (
            (None, str(key), value) for key, value in container.items()
        )
    else:
        pairs = ((i, None, value) for i, value in enumerate(container))
    for n, (index, key, value) in enumerate(pairs):
        if n >= MAX_ITEMS:
            return
        yield _item(spec, index, key, value, resolve)


def _item(
    spec: ItemsSpec, index: int | None, key: str | None, value: object, resolve: Resolve
) -> Item:
    if not isinstance(value, dict):
        return _make(_UNKNOWN, Match.MISSING, None, None, key, None, index, spec.report)
    by_id = spec.keyed == "message_id"
    recipient = _text(spec.number, value) or (None if by_id else key)
    message_id = _text(spec.message_id, value) or (key if by_id else None)
    text = _text(spec.message, value)
    if not spec.code:  # listed at all means accepted
        return _make(_LISTED, Match.NO_CODE, None, text, recipient, message_id, index, spec.report)
    code = _text(spec.code, value)
    if code is None:
        return _make(_UNKNOWN, Match.MISSING, None, text, recipient, message_id, index, spec.report)
    found = _resolve(spec, code, resolve)
    entry, matched = found if found is not None else (_UNKNOWN, Match.UNMAPPED)
    return _make(entry, matched, code, text, recipient, message_id, index, spec.report)


_OK = Entry(Category.OK, "", "", False, False)


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


def _make(
    entry: Entry,
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
        category=entry.category,
        retryable=entry.retryable,
        code=code,
        # no table knows the code: the vendor's own text is all that says what happened
        message=entry.description if known or text is None else text,
        gloss=entry.gloss,
        vendor_message=text,
        number=None if recipient is None else _REDACTOR.number(recipient),
        message_id=message_id,
        index=index,
        matched=matched,
        rejected=entry.rejected,
        delivery_outcome=entry.report or report,
        recipient=recipient,
        scope=Scope.RECIPIENT if report else entry.scope,
    )


def _text(paths: tuple[JsonPath, ...], doc: object) -> str | None:
    """An item field as text, cut as an outcome's code is (a vendor's 500 KB field, or an int
    whose decimal text alone costs quadratic time, never reaches an Item whole)."""
    value = first_value(paths, doc)
    return None if value is None else code_text(value)[0]


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
