"""Structured events about vendor calls, on structlog, redacted, plus a hook for metrics.

normalizer never configures structlog: it asks ``structlog.get_logger("normalizer")`` for a
logger when it first needs one, so whatever the application configured (structlog's own
processors, or routing into stdlib ``logging``) applies. Ok outcomes log nothing.

Events (see README, "Logging"):

- ``vendor_call_failed`` (warning): an attempt ended with a non-ok outcome or transport error.
- ``vendor_call_retrying`` (info): the failure will be retried after ``delay`` seconds.
- ``vendor_call_gave_up`` (error): a retryable failure that will not be retried, and why.
- ``vendor_call_partial`` (warning): a batch in which some items went out and some failed,
  with the failed items counted per category and their numbers redacted.
- ``vendor_circuit_opened`` (error) and ``vendor_circuit_closed`` (info): a circuit breaker's
  transitions, logged by the call that caused them.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from typing import Any

import httpx

from ._outcome import Outcome
from ._redact import Redactor
from ._store import Limits

LOGGER_NAME = "normalizer"
_NUMBERS_LOGGED = 20


@dataclasses.dataclass(frozen=True, slots=True)
class VendorCall:
    """What ``on_outcome`` receives once per vendor call, after its last attempt."""

    outcome: Outcome
    method: str
    url: str
    """The request URL with secrets and phone numbers masked."""
    attempts: int
    elapsed: float
    """Seconds from the first attempt to the final outcome, waits included."""


OnOutcome = Callable[[VendorCall], object]


class CallLog:
    """The events of one vendor call: one per failed attempt, retry decision and final outcome."""

    __slots__ = (
        "_body",
        "_clock",
        "_hook",
        "_logger",
        "_redactor",
        "_request",
        "_started",
        "_url",
        "max_attempts",
        "vendor",
    )

    def __init__(
        self,
        request: httpx.Request,
        vendor: str,
        max_attempts: int,
        *,
        logger: Any,
        on_outcome: OnOutcome | None,
        redactor: Redactor,
        log_bodies: bool,
        clock: Callable[[], float],
        started: float,
    ) -> None:
        self._request = request
        self.vendor = vendor
        self.max_attempts = max_attempts
        self._logger = logger
        self._hook = on_outcome
        self._redactor = redactor
        self._body = log_bodies
        self._clock = clock
        self._started = started
        self._url: str | None = None

    def _log(self) -> Any:
        if self._logger is None:
            import structlog  # on first use: a process that never fails never pays for it

            self._logger = structlog.get_logger(LOGGER_NAME)
        return self._logger

    def _enabled(self, level: int) -> bool:
        """Whether the logger would emit ``level``: a discarded event's fields are not built."""
        check = getattr(self._log(), "is_enabled_for", None)
        return True if check is None else bool(check(level))

    @property
    def url(self) -> str:
        """The request URL, redacted once per call."""
        if self._url is None:
            self._url = self._redactor.url(str(self._request.url))
        return self._url

    def _fields(self, attempt: int, outcome: Outcome | None) -> dict[str, Any]:
        redactor = self._redactor
        fields: dict[str, Any] = {
            "vendor": self.vendor,
            "method": self._request.method,
            "url": self.url,
            "attempt": attempt,
            "max_attempts": self.max_attempts,
            "elapsed_ms": round((self._clock() - self._started) * 1000, 1),
        }
        if outcome is not None:
            fields.update(
                product=outcome.product,
                http_status=outcome.http_status,
                code=outcome.code,
                category=outcome.category.value,
                retryable=outcome.retryable,
                matched=outcome.matched.value,
                vendor_message=None
                if outcome.vendor_message is None
                else redactor.text(outcome.vendor_message[:500]),
                request_id=outcome.request_id,
            )
        return {k: v for k, v in fields.items() if v is not None}

    def attempt_failed(
        self,
        attempt: int,
        response: httpx.Response | None,
        outcome: Outcome | None,
        error: BaseException | None = None,
    ) -> None:
        """An attempt ended badly: a non-ok outcome, or a transport error."""
        if not self._enabled(logging.WARNING):
            return
        fields = self._fields(attempt, outcome)
        if error is not None:
            fields["error"] = type(error).__name__
            fields["error_message"] = self._redactor.text(str(error)[:300])
        if self._body:
            fields["request_body"] = self._redactor.body(self._request.content)
            if response is not None and isinstance(response.stream, httpx.ByteStream):
                fields["response_body"] = self._redactor.body(b"".join(response.stream))
        self._log().warning("vendor_call_failed", **fields)

    def partial(self, attempt: int, outcome: Outcome) -> None:
        """A batch went out in part: which items failed, by category, numbers redacted."""
        if not self._enabled(logging.WARNING):
            return
        failed = outcome.failed_items
        counts: dict[str, int] = {}
        for item in failed:
            counts[item.category.value] = counts.get(item.category.value, 0) + 1
        fields = self._fields(attempt, outcome)
        fields.update(
            items=len(outcome.items),
            failed=len(failed),
            failed_by_category=counts,
            failed_numbers=[
                self._redactor.number(item.recipient)
                for item in failed[:_NUMBERS_LOGGED]
                if item.recipient is not None
            ],
        )
        self._log().warning("vendor_call_partial", **fields)

    def retrying(
        self, attempt: int, outcome: Outcome | None, delay: float, why: str, delay_from: str | None
    ) -> None:
        """The one line that answers "why was this retried": ``why`` and ``delay_from``."""
        if not self._enabled(logging.INFO):
            return
        fields = self._fields(attempt, outcome)
        self._log().info(
            "vendor_call_retrying",
            delay=round(delay, 3),
            why=why,
            delay_from=delay_from,
            **fields,
        )

    def gave_up(self, attempt: int, outcome: Outcome | None, reason: str) -> None:
        if not self._enabled(logging.ERROR):
            return
        fields = self._fields(attempt, outcome)
        self._log().error("vendor_call_gave_up", reason=reason, **fields)

    def circuit(self, transition: str, circuit: str, limits: Limits) -> None:
        if transition == "opened":
            recovery = None if limits.breaker is None else limits.breaker.recovery
            self._log().error("vendor_circuit_opened", circuit=circuit, recovery=recovery)
        else:
            self._log().info("vendor_circuit_closed", circuit=circuit)

    def finished(self, outcome: Outcome, attempts: int) -> None:
        """Report the final outcome to the metrics hook; a broken hook never breaks the call."""
        if self._hook is None:
            return
        call = VendorCall(
            outcome,
            self._request.method,
            self.url,
            attempts,
            self._clock() - self._started,
        )
        try:
            self._hook(call)
        except Exception as exc:  # the caller's response matters more than their metrics
            self._log().error(
                "on_outcome_failed",
                error=type(exc).__name__,
                error_message=self._redactor.text(str(exc)[:300]),
            )
