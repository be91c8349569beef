"""Exceptions raised by normalizer.

The whole tree::

    NormalizerError
    ├── MappingError             a mapping file is invalid (carries path, key, reason)
    ├── UnregisteredVendorError  a vendor id no loaded mapping defines (also a LookupError)
    ├── CircuitOpenError         the vendor is not being called now: its circuit is open or it
    │                            asked for a pause (carries vendor, retry_after, reason)
    ├── RateLimitedError         the rate limiter's next turn for the call is later than it can
    │                            wait (carries vendor, retry_after)
    ├── SignatureError           a callback's signature was asked for and does not verify
    │                            (carries vendor, reason); raised by ``classify_callback``
    └── VendorError              a vendor answered with a non-ok outcome (carries outcome,
        │                        vendor, code, status_code, vendor_message, request,
        │                        response, attempts); raised only when asked for
        ├── AuthError
        ├── ValidationError
        ├── BillingError
        ├── BusyError
        ├── NotFoundError
        ├── ServerError
        ├── UnknownOutcomeError  the outcome is ``unknown``: unmapped, ambiguous or no code
        └── PartialFailure       some items of a batch went out, some failed (carries
                                 ``failed``); raised only by ``raise_for_outcome(r, partial=True)``

    kept alias: UnknownVendorError is UnknownOutcomeError (the same class)

The names say what is unknown. A :class:`VendorError` subclass is named for what the vendor's
answer meant, so the one for an ``unknown`` outcome is :class:`UnknownOutcomeError`: the vendor
is known and answered, its answer is not. Its first name, ``UnknownVendorError``, read as "no
such vendor", which is :class:`UnregisteredVendorError` (no loaded mapping, built-in or
registered, defines the id); a caller catching one for the other caught nothing. The old name
stays, the same class, so ``except UnknownVendorError`` catches what it always caught.
``VendorNotFoundError`` was not taken for the unregistered id: beside :class:`NotFoundError`
(the vendor answered ``not_found``) it reads as a vendor's answer too.

Every :class:`VendorError` carries, beside its ``outcome``, the attributes a user of vendor SDKs
reaches for first (twilio's ``TwilioRestException`` has ``code``, ``status`` and ``msg``):

- ``vendor``: the vendor id (``"twilio"``);
- ``code``: the vendor's code as a string, or None when the answer had none; cut to 64
  characters, masked and put on one line as in the message (a real code is itself);
- ``status_code``: the HTTP status of the response (``outcome.http_status``), or None for an
  outcome not read from a response;
- ``vendor_message``: the vendor's own text, or None; masked with the call's redactor, at most
  500 characters and on one line, as the call's log line carries it. ``outcome.vendor_message``
  is the text as the vendor sent it, for code that needs it whole: never log that one.

Classifying never raises because of what a vendor sent: outcomes are values. A
:class:`VendorError` is raised by :func:`normalizer.raise_for_outcome`, or by a client or
transport created with ``raise_on_error=True`` once retries are exhausted. Transport failures
(connect errors, timeouts) stay the ``httpx`` exceptions they are (``requests``' own through
:mod:`normalizer.requests`). :class:`CircuitOpenError`
and :class:`RateLimitedError` are raised before a request is sent, so there is no response to
return instead.

Messages are one bounded line: the vendor's code (at most 64 characters) and text (200) are
masked with the call's redactor (phone numbers, ``sign=...``) and their line breaks and other
control characters escaped, so a vendor sending a 500 KB code with a newline cannot forge a log
line, fill a log, or put a customer's number in a traceback.

Every exception here crosses a process boundary (a ``ProcessPoolExecutor`` or multiprocessing
worker, a Celery result): it pickles, and ``type(exc)(*exc.args)`` rebuilds it, which is how
Celery rebuilds an exception from JSON. ``args`` are therefore what ``__init__`` takes, as JSON
values: ``(path, key, reason)``, ``(vendor, known)``, ``(vendor, circuit, retry_after,
reason)``, ``(vendor, retry_after)``, and for a :class:`VendorError` ``(message, vendor, code,
category, product, retryable, attempts, status_code, vendor_message)`` (the first seven
alone rebuild too: a result an earlier version stored). What crosses for a :class:`VendorError`:

- pickled: the message, ``attempts`` and the ``outcome``, with every ``vendor_message`` (its
  own, its items' and its candidates') masked by the call's redactor, every item's
  ``recipient`` dropped (``number`` is already masked) and a code longer than 64 characters cut
  as in the message; ``request`` and ``response`` are dropped and read ``None`` (they hold
  connections, streams and the request's credentials);
- pickled and rebuilt alike: ``vendor``, ``code``, ``status_code`` and ``vendor_message`` as
  they were (already masked and bounded);
- rebuilt from ``args`` (Celery's JSON): the message, and an ``outcome`` with vendor, code,
  category, product, retryable, http_status and vendor_message (as the attribute) only.

No phone number crosses in clear, and nothing else that is not in the message or the outcome.
An :class:`~normalizer.Outcome` pickled on its own is whole (recipients included): it is a
value the caller sends on purpose, while exceptions travel unasked into result backends and
error trackers.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, overload

from ._category import Category
from ._outcome import Item, Outcome
from ._redact import DEFAULT, Redactor, clean_text

if TYPE_CHECKING:
    import httpx
    import requests

CODE_SHOWN = 64
"""The most characters of a vendor's code a message shows (the longest mapped code has 45)."""
TEXT_SHOWN = 200
"""The most characters of the mapping's or the vendor's text, or of the URL, a message shows."""
TEXT_KEPT = 500
"""The most characters of the vendor's text :attr:`VendorError.vendor_message` keeps (as many
as the call's log line carries)."""


class NormalizerError(Exception):
    """Base class of every exception normalizer raises."""


class MappingError(NormalizerError, ValueError):
    """A mapping file is invalid: ``path`` (the file), ``key`` (dotted, inside it), ``reason``."""

    def __init__(self, path: str | Path | None, key: str, reason: str) -> None:
        self.path = None if path is None else str(path)
        self.key = key
        self.reason = reason
        super().__init__(self.path, key, reason)  # what __init__ takes: rebuilt across processes

    def __str__(self) -> str:
        where = self.path or "<mapping>"
        return f"{where}: {self.key}: {self.reason}" if self.key else f"{where}: {self.reason}"


class UnregisteredVendorError(NormalizerError, LookupError):
    """No loaded mapping defines ``vendor``; ``known`` lists the ids that are defined.

    A mistake in the caller's vendor id (or a mapping file not registered), never a vendor's
    answer: an answer nobody can read is :class:`UnknownOutcomeError`.
    """

    def __init__(self, vendor: str, known: Iterable[str]) -> None:
        self.vendor = vendor
        self.known = tuple(sorted(known))
        super().__init__(vendor, self.known)  # what __init__ takes: rebuilt across processes

    def __str__(self) -> str:  # LookupError would show args like a KeyError
        known = ", ".join(self.known) or "(none)"
        return f"no mapping defines vendor {self.vendor!r}; known vendors: {known}"


class CircuitOpenError(NormalizerError):
    """The request was not sent: the vendor's circuit is open, or it asked for a pause longer
    than the retry policy waits.

    ``reason`` is ``"open"`` (the circuit breaker) or ``"cooldown"`` (the vendor's own pause);
    ``retry_after`` is how many seconds until calls go out again; ``circuit`` names the vendor,
    or ``vendor/product`` for a per-product circuit.
    """

    def __init__(self, vendor: str, circuit: str, retry_after: float, reason: str) -> None:
        self.vendor = vendor
        self.circuit = circuit
        self.retry_after = retry_after
        self.reason = reason
        super().__init__(vendor, circuit, retry_after, reason)  # rebuilt across processes

    def __str__(self) -> str:
        what = "circuit is open" if self.reason == "open" else "vendor asked for a pause"
        return f"{self.circuit}: not sent, {what}; retry in {self.retry_after:.1f}s"


class RateLimitedError(NormalizerError):
    """The request was not sent: the vendor is being called as fast as it serves, and this
    call's turn would come ``retry_after`` seconds from now, later than it may wait (the
    :class:`~normalizer.RateLimiter`'s ``max_wait``, or the retry policy's deadline).

    Raised at once, so a caller offering more than the vendor serves learns it in microseconds
    instead of after a second of refused attempts.
    """

    def __init__(self, vendor: str, retry_after: float) -> None:
        self.vendor = vendor
        self.retry_after = retry_after
        super().__init__(vendor, retry_after)  # what __init__ takes: rebuilt across processes

    def __str__(self) -> str:
        return (
            f"{self.vendor}: not sent, rate limited; the next turn is in {self.retry_after:.2f}s, "
            "later than the call may wait"
        )


class VendorError(NormalizerError):
    """A vendor call ended with a non-ok outcome.

    ``outcome`` says what it means, ``request`` and ``response`` are the last attempt's (httpx's,
    or requests' ``PreparedRequest`` and ``Response`` through :mod:`normalizer.requests`), and
    ``attempts`` counts the attempts made. The message names vendor, code, category, the
    vendor's text, method and URL, on one bounded line, with secrets and phone numbers masked.

    The flat attributes are the outcome's as they may be logged and sent to an error tracker:
    ``vendor`` (the vendor id), ``code`` (the vendor's code, at most 64 characters, masked;
    None when there was none), ``status_code`` (the HTTP status, None without a response) and
    ``vendor_message`` (the vendor's own text, masked, at most 500 characters, one line).

    ``VendorError(message, vendor, code, category, product, retryable, attempts, status_code,
    vendor_message)``, the exception's ``args``, rebuilds it on the other side of a process
    boundary (Celery): the message and the flat attributes as they were, an outcome of those
    fields alone, no request or response.
    """

    outcome: Outcome
    request: httpx.Request | requests.PreparedRequest | None
    response: httpx.Response | requests.Response | None
    attempts: int
    vendor: str
    """The vendor id, as ``outcome.vendor``."""
    code: str | None
    """The vendor's code (at most 64 characters, masked, one line); None when it sent none."""
    status_code: int | None
    """The HTTP status of the vendor's response; None for an outcome not read from one."""
    vendor_message: str | None
    """The vendor's own text, masked with the call's redactor, at most 500 characters, one
    line; None when it sent none. ``outcome.vendor_message`` is the text unmasked."""

    @overload
    def __init__(
        self,
        outcome: Outcome,
        *,
        request: httpx.Request | requests.PreparedRequest | None = None,
        response: httpx.Response | requests.Response | None = None,
        attempts: int = 1,
        redactor: Redactor | None = None,
    ) -> None: ...

    @overload
    def __init__(
        self,
        message: str,
        vendor: str,
        code: str | None,
        category: str,
        product: str | None = None,
        retryable: bool = False,
        attempts: int = 1,
        status_code: int | None = None,
        vendor_message: str | None = None,
        /,
    ) -> None: ...

    def __init__(
        self,
        outcome: Outcome | str,
        vendor: str | None = None,
        code: str | None = None,
        category: str | None = None,
        product: str | None = None,
        retryable: bool = False,
        attempts: int = 1,
        status_code: int | None = None,
        vendor_message: str | None = None,
        *,
        request: httpx.Request | requests.PreparedRequest | None = None,
        response: httpx.Response | requests.Response | None = None,
        redactor: Redactor | None = None,
    ) -> None:
        self._redactor = redactor or DEFAULT
        if isinstance(outcome, str):  # rebuilt from args, across a process boundary
            if vendor is None or category is None:
                raise TypeError("VendorError(message, vendor, code, category, ...) needs all four")
            message = outcome
            outcome = Outcome(
                Category(category),
                retryable,
                vendor,
                code,
                product=product,
                vendor_message=vendor_message,
                http_status=status_code,
            )
            code_shown, text_kept = code, vendor_message
        else:
            code_shown = _code(outcome.code, self._redactor)
            text_kept = _text(outcome.vendor_message, self._redactor)
            message = _describe(outcome, code_shown, request, attempts, self._redactor)
        self.outcome = outcome
        self.request = request
        self.response = response
        self.attempts = attempts
        self.vendor = outcome.vendor
        self.code = code_shown
        self.status_code = outcome.http_status
        self.vendor_message = text_kept
        super().__init__(
            message,
            outcome.vendor,
            code_shown,
            outcome.category.value,
            outcome.product,
            outcome.retryable,
            attempts,
            outcome.http_status,
            text_kept,
        )

    def __str__(self) -> str:
        return str(self.args[0])

    def __reduce__(self) -> tuple[type[VendorError], tuple[object, ...], dict[str, object]]:
        """Pickled (a worker process raising it): the outcome with numbers masked, no request
        or response (connections, streams, credentials); see the module's docstring."""
        state = {k: v for k, v in self.__dict__.items() if k != "_redactor"}
        state.update(outcome=_crossing(self.outcome, self._redactor), request=None, response=None)
        return type(self), self.args, state

    @staticmethod
    def for_outcome(outcome: Outcome) -> type[VendorError]:
        """The exception class for an outcome's category."""
        return _BY_CATEGORY.get(outcome.category, UnknownOutcomeError)


class AuthError(VendorError):
    """Credentials, signature, token, timestamp, IP whitelist or permission."""


class ValidationError(VendorError):
    """The request is wrong and will fail the same way again."""


class BillingError(VendorError):
    """Balance, fees, or a usage cap."""


class BusyError(VendorError):
    """The vendor is busy or rate-limited; retries were exhausted."""


class NotFoundError(VendorError):
    """A referenced object does not exist."""


class ServerError(VendorError):
    """A vendor-side failure; retries were exhausted or not safe."""


class UnknownOutcomeError(VendorError):
    """The outcome is unknown: an unmapped or ambiguous code, or no code at all.

    The vendor is known and answered; what it answered is not. (A vendor id no mapping defines
    is :class:`UnregisteredVendorError`.) Also reachable as ``UnknownVendorError``, its first
    name, kept as an alias of this same class.
    """


UnknownVendorError = UnknownOutcomeError
"""Kept alias of :class:`UnknownOutcomeError` (the same class): its first name, which read as
"no such vendor". New code should use ``UnknownOutcomeError``."""


class PartialFailure(VendorError):
    """Some items of a batch went out and some failed; ``failed`` lists the failed items.

    The outcome is ``ok`` at the top (the request worked and must not be resent whole), so
    this is raised only when asked for: ``raise_for_outcome(response, partial=True)``. Resend
    the failed recipients alone: :func:`normalizer.retry_recipients`.
    """

    @property
    def failed(self) -> tuple[Item, ...]:
        return self.outcome.failed_items


_BY_CATEGORY: dict[Category, type[VendorError]] = {
    Category.AUTH: AuthError,
    Category.VALIDATION: ValidationError,
    Category.BILLING: BillingError,
    Category.BUSY: BusyError,
    Category.NOT_FOUND: NotFoundError,
    Category.SERVER: ServerError,
}


def _describe(
    outcome: Outcome,
    code: str | None,
    request: httpx.Request | requests.PreparedRequest | None,
    attempts: int,
    redactor: Redactor,
) -> str:
    where = outcome.vendor if outcome.product is None else f"{outcome.vendor}/{outcome.product}"
    parts = [f"{where} {'no code' if code is None else f'code {code}'}: {outcome.category.value}"]
    if outcome.partial:
        failed = outcome.failed_items
        counts = ", ".join(f"{n} {c}" for c, n in outcome.failed_by_category().items())
        parts[0] += f", partial: {len(failed)} of {len(outcome.items)} items failed ({counts})"
    if outcome.message:
        parts.append(_line(_shown(outcome.message, TEXT_SHOWN)))
    if outcome.vendor_message and outcome.vendor_message != outcome.message:
        parts.append(f"vendor said: {_shown(outcome.vendor_message, TEXT_SHOWN, redactor)!r}")
    text = " - ".join(parts)
    if outcome.http_status is not None:
        text += f" (HTTP {outcome.http_status})"
    if request is not None:
        url = _line(_shown(redactor.url(str(request.url)), TEXT_SHOWN))
        text += f" [{request.method} {url}]"
    if attempts > 1:
        text += f" after {attempts} attempts"
    return text


def _code(code: str | None, redactor: Redactor) -> str | None:
    """The code as a message shows it and as it crosses a process boundary: a real code is
    itself; a vendor-controlled 500 KB field is cut, masked and put on one line."""
    return None if code is None else _line(_shown(code, CODE_SHOWN, redactor))


def _text(text: str | None, redactor: Redactor) -> str | None:
    """The vendor's text as :attr:`VendorError.vendor_message` keeps it: masked, cut and on one
    line, as the call's log line carries it."""
    return None if text is None else _line(_shown(text, TEXT_KEPT, redactor))


def _shown(text: str, limit: int, redactor: Redactor | None = None) -> str:
    """At most ``limit`` characters of ``text`` ("..." when cut), masked by ``redactor``.

    Only the head is read: a phone number across the cut is masked before the cut, and a
    500 KB text costs what ten ``limit`` do.
    """
    head = text[: limit * 10]
    if redactor is not None:
        head = redactor.text(head)
    return head if len(head) <= limit else head[:limit] + "..."


def _line(text: str) -> str:
    """``text`` with line breaks and other control characters escaped, as log fields are."""
    if text.isprintable():
        return text
    return clean_text(text, len(text))


def _crossing(outcome: Outcome, redactor: Redactor) -> Outcome:
    """The outcome a pickled exception carries: vendor texts masked, recipients dropped."""
    return dataclasses.replace(
        outcome,
        code=_code(outcome.code, redactor),
        vendor_message=_mask(outcome.vendor_message, redactor),
        items=tuple(_crossing_item(item, redactor) for item in outcome.items),
        candidates=tuple(_crossing(c, redactor) for c in outcome.candidates),
    )


def _crossing_item(item: Item, redactor: Redactor) -> Item:
    return dataclasses.replace(
        item,
        code=_code(item.code, redactor),
        vendor_message=_mask(item.vendor_message, redactor),
        recipient=None,
    )


def _mask(text: str | None, redactor: Redactor) -> str | None:
    return None if text is None else redactor.text(text)


class SignatureError(NormalizerError):
    """A callback's signature was asked for (a ``secret`` was given) and does not verify: it is
    absent, wrong, or the body cannot be attributed to one callback whose signature is known.

    Raised rather than returned so that no forged report is ever handled as data: answer the
    request with 401/403 and do nothing else. The message names the vendor and what is wrong,
    never the signature, the secret or any field's value. ``args`` are ``(vendor, reason)``.
    """

    def __init__(self, vendor: str, reason: str) -> None:
        super().__init__(vendor, reason)
        self.vendor = vendor
        self.reason = reason

    def __str__(self) -> str:
        return f"{self.vendor or 'callback'}: signature not verified: {self.reason}"
