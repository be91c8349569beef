"""The value a classified vendor response becomes, and the one way one is built.

Every :class:`Outcome` (and :class:`Item`) the classifier returns is *derived*: a template
built once per mapping entry (the dataclass's own constructor, with every field the entry
decides) copied with the few fields the response itself carries set, by :func:`derive`.
"""

from __future__ import annotations

import dataclasses
import enum
import weakref
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from ._category import Category, Fault, Scope
from ._redact import DEFAULT as _REDACTOR

if TYPE_CHECKING:
    import httpx

    from ._redact import Redactor

OUTCOME_KEY = "normalizer.outcome"
"""Where a response's :class:`Outcome` is kept in ``response.extensions``."""
ATTEMPTS_KEY = "normalizer.attempts"
"""How many attempts the response took, in ``response.extensions``."""
REDACTOR_KEY = "normalizer.redactor"
"""The redactor of the call (the transport's, extended with the vendor's ``[redact]``), in
``response.extensions``: :func:`normalizer.raise_for_outcome` masks its message with it."""
RESEND_KEY = "normalizer.resend"
"""The ``[resend]`` rules of the mapping the response was read with (for user retries)."""


class Match(enum.StrEnum):
    """How an outcome's category was found."""

    EXACT = "exact"
    """The code is in the vendor's (or product's) table, or is a declared success code."""
    CLASS = "class"
    """The code is unlisted and was read as its nearest known class (MANGO's 2219 -> 2210)."""
    HTTP_STATUS = "http_status"
    """No usable code: the HTTP status decided."""
    AMBIGUOUS = "ambiguous"
    """The code means different things in different products and none was given."""
    UNMAPPED = "unmapped"
    """A code was found that no table, class or HTTP rule knows."""
    MISSING = "missing"
    """No code was found in the body and no HTTP rule applied."""
    NO_CODE = "no_code"
    """No code was found in a 2xx body, and the mapping says such a body is a success."""
    FIELD = "field"
    """A ``[[when]]`` rule on another field of the body decided (MANGO's "report not ready")."""
    PAGE = "page"
    """A ``[[page]]`` rule read the words of a page the vendor's gateway wrote (an HTML or
    text body, no document)."""


@dataclasses.dataclass(frozen=True)
class Item:
    """One recipient's (message part's, task's) result inside a batch response or report.

    ``number`` is redacted as in logs (only the last digits kept), so items can be logged and
    printed; ``recipient`` is the number exactly as the vendor wrote it, for resending (see
    :func:`normalizer.retry_recipients`): never log it.
    """

    category: Category
    retryable: bool
    code: str | None = None
    message: str = ""
    """The mapping's description of the item's code."""
    gloss: str = ""
    vendor_message: str | None = None
    """The text the item itself carried."""
    number: str | None = None
    message_id: str | None = None
    index: int | None = None
    """Position in the vendor's list (None for an object keyed by number)."""
    matched: Match = Match.EXACT
    rejected: bool = False
    delivery_outcome: bool = False
    recipient: str | None = dataclasses.field(default=None, repr=False, compare=False)
    scope: Scope = Scope.REQUEST
    fault: Fault | None = None
    """Whose failure it is (the mapping's entry decides: see :class:`Fault`); None when ok."""

    @property
    def ok(self) -> bool:
        return self.category is Category.OK

    def __repr__(self) -> str:
        return _repr(self)


@dataclasses.dataclass(frozen=True)
class Outcome:
    """One vendor response (or bare code) read through the unified taxonomy.

    Immutable and hashable; ``code`` is the vendor's code as a string exactly as the vendor
    wrote it ("0200001" and "200001" differ; the int 1000 becomes "1000").
    """

    category: Category
    retryable: bool
    vendor: str
    code: str | None = None
    message: str = ""
    """The vendor's own description of the code, from the mapping, in its original language."""
    gloss: str = ""
    """A short English gloss of ``message``."""
    product: str | None = None
    vendor_message: str | None = None
    """The text the response itself carried, if any."""
    http_status: int | None = None
    matched: Match = Match.EXACT
    rejected: bool = False
    """The vendor refused before doing any work: resending is safe even for a POST."""
    call_outcome: bool = False
    """The code reports how a phone call ended, not whether the API request worked."""
    request_id: str | None = None
    """The vendor's request or call id, when the body carries one."""
    candidates: tuple[Outcome, ...] = ()
    """Each product's reading of an ambiguous code."""
    cooldown: float = 0.0
    """Seconds the mapping says every caller should pause after this code (0: none)."""
    delivery_outcome: bool = False
    """The code reports what became of a message (a delivery-report status)."""
    items: tuple[Item, ...] = ()
    """Per-recipient results of a batch response or report; empty for single responses."""
    partial: bool = False
    """Some items went out and some failed: ``ok`` at the top, never resent whole."""
    scope: Scope = Scope.REQUEST
    """Whom the answer is about: only ``vendor`` and ``account`` answers slow or stop other
    calls (the limiter, cooldown and circuit breaker); see :class:`Scope`."""
    retry_after: float = 0.0
    """Seconds the vendor's text says the same request must wait before it can pass (a
    per-number frequency window: Tencent's 30 seconds); 0 when it names none. A response's
    ``Retry-After`` header, when present, comes first; whether a call waits that long is the
    retry policy's ``max_retry_after``."""
    overload: bool = False
    """The vendor says it is overloaded: besides counting for the circuit breaker, the answer
    slows every call to the vendor (the adaptive rate limiter), as a rate limit does."""
    fault: Fault | None = None
    """Whose failure it is: the vendor's (or the account's with it), the recipient's, the
    content's or the request's (see :class:`Fault`); None for a success. Only a vendor's fault
    is a reason to try another vendor (:class:`normalizer.Failover`)."""

    @property
    def ok(self) -> bool:
        """True for a successful outcome (a partial one included: see ``partial``)."""
        return self.category is Category.OK

    @property
    def failed_items(self) -> tuple[Item, ...]:
        """The items that did not go out (or were not delivered)."""
        return tuple(item for item in self.items if not item.ok)

    def failed_by_category(self) -> dict[str, int]:
        """How many items failed, per category (for logs and messages)."""
        counts: dict[str, int] = {}
        for item in self.failed_items:
            counts[item.category.value] = counts.get(item.category.value, 0) + 1
        return counts

    def __repr__(self) -> str:
        return _repr(self)

    def __str__(self) -> str:
        code = "no code" if self.code is None else f"code {self.code}"
        text = self.message or _REDACTOR.text(self.vendor_message or "")
        where = self.vendor if self.product is None else f"{self.vendor}/{self.product}"
        status = "" if self.http_status is None else f", HTTP {self.http_status}"
        tail = f": {text}" if text else ""
        if self.partial:
            tail += f" [partial: {len(self.failed_items)} of {len(self.items)} items failed]"
        return f"{where} {code} -> {self.category.value} ({self.matched.value}{status}){tail}"


def _repr(value: Item | Outcome) -> str:
    """The dataclass repr, with ``vendor_message`` redacted: vendors echo phone numbers and
    signatures there, and reprs end up in tracebacks, test output and log lines. The field
    itself keeps the vendor's text."""
    shown = []
    for field in dataclasses.fields(value):
        if not field.repr:
            continue
        item = getattr(value, field.name)
        if field.name == "vendor_message" and item is not None:
            item = _REDACTOR.text(item)
        shown.append(f"{field.name}={item!r}")
    return f"{type(value).__qualname__}({', '.join(shown)})"


_new = object.__new__
_set = object.__setattr__
Built = TypeVar("Built", Outcome, Item)


def derive(template: Built, /, **changes: Any) -> Built:
    """``template`` with ``changes``: how every Outcome and Item past its template is built.

    A frozen dataclass's ``__init__`` (and so ``dataclasses.replace``) pays a Python-level
    ``object.__setattr__`` per field, more than classifying a small body costs: here the
    template's fields are copied as one dict, the changed ones set, and the instance is the
    same as the constructor's. ``changes`` must name fields of the class.
    """
    fields = template.__dict__.copy()
    fields.update(changes)
    return built(type(template), fields)


def built(cls: type[Built], fields: dict[str, Any]) -> Built:
    """An instance of ``cls`` with exactly ``fields`` (all of them, a template's copy): the one
    place an Outcome or Item is made without its constructor. :func:`derive` is the usual way
    in; the item reader copies a template's fields itself, a thousand items a report."""
    value = _new(cls)
    _set(value, "__dict__", fields)
    return value


def outcome_of(response: object) -> Outcome | None:
    """The :class:`Outcome` normalizer attached to ``response``, if any: an httpx response
    from its transports, or a response another HTTP library's adapter made (:func:`carry`)."""
    outcome = extensions_of(response).get(OUTCOME_KEY)
    return outcome if isinstance(outcome, Outcome) else None


def extensions_of(response: object) -> Mapping[str, Any]:
    """What normalizer keeps on ``response``: an httpx response's ``extensions``, or what
    :func:`carry` gave a response of another library (empty for anything else)."""
    try:
        extensions: Mapping[str, Any] = response.extensions  # type: ignore[attr-defined]
    except AttributeError:
        try:
            return _CARRIED.get(response, _NOTHING)
        except TypeError:  # not a response: nothing to find
            return _NOTHING
    return extensions


def carry(foreign: object, response: httpx.Response) -> None:
    """Let ``foreign`` (a ``requests`` or ``aiohttp`` response its adapter made of the httpx
    ``response`` the call classified) answer :func:`outcome_of` as ``response`` does. Kept
    beside the object, not on it: those classes have no place of their own for it, and the
    entry goes with the object (so nothing kept may refer to it: the httpx request the call
    sent is kept as its ``id``, :data:`SENT_AS_KEY`, its extensions hold the adapter's state)."""
    extensions = response.extensions
    try:  # noqa: SIM105 - a try costs nothing, contextlib.suppress three calls
        extensions = {**extensions, SENT_AS_KEY: id(response.request)}
    except RuntimeError:  # a response made without its request
        pass
    _CARRIED[foreign] = extensions


SENT_AS_KEY = "normalizer.sent_as"
"""The ``id`` of the httpx request a requests or aiohttp response's call sent, beside the
response (:func:`carry`): a failover matches it to what it heard of that request."""


_CARRIED: weakref.WeakKeyDictionary[Any, Mapping[str, Any]] = weakref.WeakKeyDictionary()
_NOTHING: Mapping[str, Any] = {}


def attach(
    response: httpx.Response,
    outcome: Outcome,
    attempts: int,
    redactor: Redactor | None = None,
    resend: object = None,
) -> None:
    """Keep ``outcome`` (and the attempt count) on the response for the caller, and the
    call's ``redactor``, so that ``raise_for_outcome`` masks what the call's logs mask, and the
    vendor's ``[resend]`` rules, so that a user's own retry judges the request as the call did."""
    extensions = {
        **response.extensions,
        OUTCOME_KEY: outcome,
        ATTEMPTS_KEY: attempts,
        RESEND_KEY: resend,
    }
    if redactor is not None:
        extensions[REDACTOR_KEY] = redactor
    response.extensions = extensions
