"""Structured events about vendor calls, on structlog, redacted, plus a hook for metrics.

normalizer never configures logging. When the application configured structlog, events go to
``structlog.get_logger("normalizer")``, so its processors (or its routing into stdlib
``logging``) apply. When it did not, structlog's default would print to stdout and corrupt a
CLI's output, so events go to the stdlib logger ``normalizer`` instead, rendered as
``event key=value ...``: shown by the application's handlers once it configures ``logging``;
until then Python's last-resort handler prints warnings and errors to stderr (never stdout).
A stdlib ``logging.Logger`` passed as ``logger=`` is rendered the same way. Ok outcomes log
nothing.

Logging never changes what a call returns: an event that cannot be written (a closed stdout,
a raising processor, a broken handler) is dropped silently, since the vendor may already have
acted and the caller's response matters more than a log line. Vendor text in events is cut
short and its line breaks and control characters escaped, so a vendor message cannot forge
log lines whatever the renderer.

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
import functools
import logging
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, Protocol

import httpx

from ._outcome import Outcome
from ._redact import Redactor, clean_text, head
from ._store import Keys, Limits

if TYPE_CHECKING:
    from ._pipeline import Pipeline
    from ._router import Route

LOGGER_NAME = "normalizer"
_READ = 2000
"""How much of a vendor's text is redacted for a field: enough for its 500 (or 300) shown
characters, and a bound on the work a 1 MB message costs. :func:`head` cuts it without leaving
the first digits of a number the cut split."""
_NUMBERS_LOGGED = 20
_STREAMED = "<streamed body, not logged>"
"""What ``request_body`` says for a request whose body was a stream: it cannot be read again."""


def _code(code: str, redactor: Redactor) -> str:
    """The vendor's code for a log field: a real code is itself (short, printable, no digits
    to mask); a vendor-controlled field is cut, masked and put on one line."""
    if len(code) <= 16 and code.isprintable() and not code.isdigit():
        return code
    return clean_text(redactor.text(head(code, 640)), 64)


_RESERVED = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}
_PLAIN = re.compile(r"[^\s'\"\\]+")


class StdlibLogger:
    """A stdlib :class:`logging.Logger` behind structlog's ``logger.warning(event, **fields)``.

    The message is ``event key=value ...`` (values with spaces or quotes repr'd); the fields
    are also on the record as attributes (those not clashing with LogRecord's own), for
    structured handlers.
    """

    __slots__ = ("logger",)

    def __init__(self, logger: logging.Logger | logging.LoggerAdapter[Any]) -> None:
        self.logger = logger

    def is_enabled_for(self, level: int) -> bool:
        return self.logger.isEnabledFor(level)

    def _emit(self, level: int, event: str, fields: dict[str, Any]) -> None:
        if not self.logger.isEnabledFor(level):
            return
        rendered = " ".join([event, *(f"{k}={_value(v)}" for k, v in fields.items())])
        extra = {k: v for k, v in fields.items() if k not in _RESERVED}
        self.logger.log(level, "%s", rendered, extra=extra)

    def debug(self, event: str, **fields: Any) -> None:
        self._emit(logging.DEBUG, event, fields)

    def info(self, event: str, **fields: Any) -> None:
        self._emit(logging.INFO, event, fields)

    def warning(self, event: str, **fields: Any) -> None:
        self._emit(logging.WARNING, event, fields)

    def error(self, event: str, **fields: Any) -> None:
        self._emit(logging.ERROR, event, fields)


def _value(value: object) -> str:
    if isinstance(value, str) and _PLAIN.fullmatch(value) and value.isprintable():
        return value
    return repr(value)


def default_logger() -> Any:
    """structlog's ``normalizer`` logger when the application configured structlog; else the
    stdlib ``normalizer`` logger (structlog's unconfigured default prints to stdout)."""
    import structlog  # on first use: a process that never fails never pays for it

    if structlog.is_configured():
        return structlog.get_logger(LOGGER_NAME)
    return StdlibLogger(logging.getLogger(LOGGER_NAME))


def adapt(logger: Any) -> Any:
    """The ``logger=`` option as a logger with structlog's API (a stdlib one is wrapped)."""
    if logger is None:
        return default_logger()
    if isinstance(logger, logging.Logger | logging.LoggerAdapter):
        return StdlibLogger(logger)
    return logger


def _bound(logger: Any) -> Any:
    """A structlog lazy proxy (``structlog.get_logger()``, ``wrap_logger()``) bound once for
    the call that logs through it: each attribute asked of the proxy binds a new logger
    (about 2 us), and a failed call asks several (a level check, then the event, per line).
    Bound per call, never kept: a ``structlog.configure()`` between calls takes effect, as
    it does for the proxy (its ``cache_logger_on_first_use`` included)."""
    if type(logger).__name__ == "BoundLoggerLazyProxy":
        return logger.bind()
    return logger


_P = ParamSpec("_P")


def _never_raises(
    method: Callable[Concatenate[CallLog, _P], None],
) -> Callable[Concatenate[CallLog, _P], None]:
    """Drop an event that cannot be built or written: logging never breaks the call."""

    def guarded(log: CallLog, /, *args: _P.args, **kwargs: _P.kwargs) -> None:
        # a try, not contextlib.suppress: a try costs nothing, a context manager three calls
        try:  # noqa: SIM105
            method(log, *args, **kwargs)
        except Exception:  # the caller's response matters more than a line
            pass

    functools.update_wrapper(guarded, method)
    return guarded


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


class _Clock(Protocol):
    @property
    def clock(self) -> Callable[[], float]: ...
    @property
    def started(self) -> float: ...
    def elapsed(self) -> float: ...


class Call(Protocol):
    """What a call's log and observers read of it (:class:`normalizer._call.Call`)."""

    @property
    def pipeline(self) -> Pipeline: ...
    @property
    def request(self) -> httpx.Request: ...
    @property
    def route(self) -> Route: ...
    @property
    def keys(self) -> Keys: ...
    @property
    def limits(self) -> Limits: ...
    @property
    def deadline(self) -> _Clock: ...
    @property
    def max_attempts(self) -> int: ...
    @property
    def redactor(self) -> Redactor: ...


class CallLog:
    """The events of one vendor call: one per failed attempt, retry decision and final outcome.

    Built on the call's first event worth logging (most calls have none), reading what it
    needs of the call when a line needs it."""

    __slots__ = ("_adapted", "_call", "_url")

    def __init__(self, call: Call) -> None:
        self._call = call
        self._adapted: Any = None
        self._url: str | None = None

    @property
    def _request(self) -> httpx.Request:
        return self._call.request

    @property
    def _redactor(self) -> Redactor:
        return self._call.redactor

    def _elapsed(self) -> float:
        return self._call.deadline.elapsed()

    def _log(self) -> Any:
        if self._adapted is None:
            self._adapted = _bound(adapt(self._call.pipeline.options.logger))
        return self._adapted

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
            "vendor": self._call.route.mapping.id,
            "method": self._request.method,
            "url": self.url,
            "attempt": attempt,
            "max_attempts": self._call.max_attempts,
            "elapsed_ms": round(self._elapsed() * 1000, 1),
        }
        if outcome is not None:
            fields.update(
                product=outcome.product,
                http_status=outcome.http_status,
                code=None if outcome.code is None else _code(outcome.code, redactor),
                category=outcome.category.value,
                retryable=outcome.retryable,
                matched=outcome.matched.value,
                vendor_message=None
                if outcome.vendor_message is None
                else clean_text(redactor.text(head(outcome.vendor_message, _READ)), 500),
                request_id=None
                if outcome.request_id is None
                else clean_text(outcome.request_id, 128),
            )
        return {k: v for k, v in fields.items() if v is not None}

    @_never_raises
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
            fields["error_message"] = clean_text(self._redactor.text(head(str(error), _READ)), 300)
        if self._call.pipeline.options.log_bodies:
            fields["request_body"] = self._request_body()
            if response is not None and isinstance(response.stream, httpx.ByteStream):
                body = self._redactor.body(b"".join(response.stream))
                fields["response_body"] = clean_text(body, len(body))
        self._log().warning("vendor_call_failed", **fields)

    def _request_body(self) -> str:
        """The request body for a log line; a streamed one was sent as it was read, so it is
        not there to log: a placeholder instead."""
        try:
            content = self._request.content
        except httpx.RequestNotRead:
            return _STREAMED
        body = self._redactor.body(content)
        return clean_text(body, len(body))

    @_never_raises
    def partial(self, attempt: int, outcome: Outcome) -> None:
        """A batch went out in part: which items failed, by category, numbers redacted."""
        if not self._enabled(logging.WARNING):
            return
        failed = outcome.failed_items
        fields = self._fields(attempt, outcome)
        fields.update(
            items=len(outcome.items),
            failed=len(failed),
            failed_by_category=outcome.failed_by_category(),
            failed_numbers=[
                self._redactor.number(item.recipient)
                for item in failed[:_NUMBERS_LOGGED]
                if item.recipient is not None
            ],
        )
        self._log().warning("vendor_call_partial", **fields)

    @_never_raises
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

    @_never_raises
    def gave_up(self, attempt: int, outcome: Outcome | None, reason: str) -> None:
        if not self._enabled(logging.ERROR):
            return
        fields = self._fields(attempt, outcome)
        self._log().error("vendor_call_gave_up", reason=reason, **fields)

    @_never_raises
    def circuit(self, transition: str, circuit: str, limits: Limits) -> None:
        if transition == "opened":
            recovery = None if limits.breaker is None else limits.breaker.recovery
            self._log().error("vendor_circuit_opened", circuit=circuit, recovery=recovery)
        else:
            self._log().info("vendor_circuit_closed", circuit=circuit)

    @_never_raises
    def finished(self, outcome: Outcome, attempts: int) -> None:
        """Report the final outcome to the metrics hook; a broken hook never breaks the call."""
        hook = self._call.pipeline.options.on_outcome
        if hook is None:
            return
        call = VendorCall(
            outcome,
            self._request.method,
            self.url,
            attempts,
            self._elapsed(),
        )
        try:
            hook(call)
        except Exception as exc:  # the caller's response matters more than their metrics
            self._log().error(
                "on_outcome_failed",
                error=type(exc).__name__,
                error_message=clean_text(self._redactor.text(head(str(exc), _READ)), 300),
            )
