"""Exceptions raised by normalizer.

The whole tree::

    NormalizerError
    ├── MappingError             a mapping file is invalid (carries path, key, reason)
    ├── UnregisteredVendorError  a vendor id no loaded mapping defines (also a LookupError)
    ├── CircuitOpenError         the vendor is not being called now: its circuit is open or it
    │                            asked for a pause (carries vendor, retry_after, reason)
    ├── RateLimitedError         the rate limiter's next turn for the call is later than it can
    │                            wait (carries vendor, retry_after)
    └── VendorError              a vendor answered with a non-ok outcome (carries outcome,
        │                        request, response); raised only when asked for
        ├── AuthError
        ├── ValidationError
        ├── BillingError
        ├── BusyError
        ├── NotFoundError
        ├── ServerError
        ├── UnknownVendorError   the outcome is ``unknown``: unmapped, ambiguous or no code
        └── PartialFailure       some items of a batch went out, some failed (carries
                                 ``failed``); raised only by ``raise_for_outcome(r, partial=True)``

Classifying never raises because of what a vendor sent: outcomes are values. A
:class:`VendorError` is raised by :func:`normalizer.raise_for_outcome`, or by a client or
transport created with ``raise_on_error=True`` once retries are exhausted. Transport failures
(connect errors, timeouts) stay the ``httpx`` exceptions they are. :class:`CircuitOpenError`
and :class:`RateLimitedError` are raised before a request is sent, so there is no response to
return instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from ._category import Category
from ._redact import DEFAULT, Redactor

if TYPE_CHECKING:
    import httpx

    from ._outcome import Item, Outcome


class NormalizerError(Exception):
    """Base class of every exception normalizer raises."""


class MappingError(NormalizerError, ValueError):
    """A mapping file is invalid: ``path`` (the file), ``key`` (dotted, inside it), ``reason``."""

    def __init__(self, path: str | Path | None, key: str, reason: str) -> None:
        self.path = None if path is None else str(path)
        self.key = key
        self.reason = reason
        where = self.path or "<mapping>"
        super().__init__(f"{where}: {key}: {reason}" if key else f"{where}: {reason}")


class UnregisteredVendorError(NormalizerError, LookupError):
    """No loaded mapping defines ``vendor``; ``known`` lists the ids that are defined."""

    def __init__(self, vendor: str, known: Iterable[str]) -> None:
        self.vendor = vendor
        self.known = tuple(sorted(known))
        super().__init__(
            f"unknown vendor {vendor!r}; known vendors: {', '.join(self.known) or '(none)'}"
        )

    def __str__(self) -> str:  # LookupError would quote the message like a KeyError
        return str(self.args[0])


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
        what = "circuit is open" if reason == "open" else "vendor asked for a pause"
        super().__init__(f"{circuit}: not sent, {what}; retry in {retry_after:.1f}s")

    def __reduce__(self) -> tuple[type, tuple[str, str, float, str]]:
        # picklable (a worker process raising it), though __init__ takes more than the message
        return type(self), (self.vendor, self.circuit, self.retry_after, self.reason)


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
        super().__init__(
            f"{vendor}: not sent, rate limited; the next turn is in {retry_after:.2f}s, "
            "later than the call may wait"
        )

    def __reduce__(self) -> tuple[type, tuple[str, float]]:
        return type(self), (self.vendor, self.retry_after)


class VendorError(NormalizerError):
    """A vendor call ended with a non-ok outcome.

    ``outcome`` says what it means, ``request`` and ``response`` are the last attempt's, and
    ``attempts`` counts the attempts made. The message names vendor, code, category, the
    vendor's text, method and URL, with secrets and phone numbers removed from the URL.
    """

    def __init__(
        self,
        outcome: Outcome,
        *,
        request: httpx.Request | None = None,
        response: httpx.Response | None = None,
        attempts: int = 1,
        redactor: Redactor | None = None,
    ) -> None:
        self.outcome = outcome
        self.request = request
        self.response = response
        self.attempts = attempts
        super().__init__(_describe(outcome, request, attempts, redactor or DEFAULT))

    @staticmethod
    def for_outcome(outcome: Outcome) -> type[VendorError]:
        """The exception class for an outcome's category."""
        return _BY_CATEGORY.get(outcome.category, UnknownVendorError)


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


class UnknownVendorError(VendorError):
    """The outcome is unknown: an unmapped or ambiguous code, or no code at all."""


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
    outcome: Outcome, request: httpx.Request | None, attempts: int, redactor: Redactor
) -> str:
    where = outcome.vendor if outcome.product is None else f"{outcome.vendor}/{outcome.product}"
    code = "no code" if outcome.code is None else f"code {outcome.code}"
    parts = [f"{where} {code}: {outcome.category.value}"]
    if outcome.partial:
        failed = outcome.failed_items
        counts = ", ".join(f"{n} {c}" for c, n in outcome.failed_by_category().items())
        parts[0] += f", partial: {len(failed)} of {len(outcome.items)} items failed ({counts})"
    if outcome.message:
        parts.append(outcome.message)
    if outcome.vendor_message and outcome.vendor_message != outcome.message:
        parts.append(f"vendor said: {redactor.text(outcome.vendor_message[:2000])[:200]!r}")
    text = " - ".join(parts)
    if outcome.http_status is not None:
        text += f" (HTTP {outcome.http_status})"
    if request is not None:
        text += f" [{request.method} {redactor.url(str(request.url))}]"
    if attempts > 1:
        text += f" after {attempts} attempts"
    return text
