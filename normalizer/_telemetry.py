"""OpenTelemetry: a span for every vendor call, an event per attempt, and metrics.

Optional and detected at run time, like structlog's integration elsewhere: with
``opentelemetry-api`` installed (``pip install 'telco-normalizer[otel]'``) every transport
reports through it unless told not to (``Options(telemetry=False)``); without it nothing is
imported. With the API but no SDK configured, nothing is built: the transport asks a cached
"is a provider set up?" once per call and goes on.

Traces: one span per logical vendor call, ``normalizer <vendor>``, from routing to the final
outcome, waits and retries included (:meth:`Telemetry.span`). Its kind is ``INTERNAL``: the HTTP
semantic conventions give the ``CLIENT`` kind to a span per request sent over the wire (what
``opentelemetry-instrumentation-httpx`` makes for each attempt) and say an instrumentation that
does so should not also make an encompassing HTTP client span; the call is an operation of this
library around those requests. The span is current (OpenTelemetry's context, a context
variable, so across awaits on asyncio and trio alike) while the attempts run, so the HTTP spans
nest under it. Attributes: ``normalizer.vendor``, ``.product``, ``.category``, ``.code``,
``.matched``, ``.attempts``, ``.retry.reason``, ``.partial``; for a failure ``error.type`` (the
category, or the exception's class) and status ERROR with a short description. One
``normalizer.attempt`` event per attempt (its number, category or ``error.type``, code, HTTP
status, the decision taken on it and the retry's delay) shows the attempts when no HTTP
instrumentation is installed. No vendor text, URL or number is ever an attribute; the vendor's
code is, cut to 64 characters, masked by the call's redactor and kept on one line (it is the
vendor's to choose: a code may be half a megabyte with a line break and a phone number). No
exception event either: its message and stack would carry what the redactor has not seen.

Metrics (low cardinality: vendor, product, category, retry reason; the vendor's code only
with ``Telemetry(code_attributes=True)``):

=================================  ===========  =============================================
``normalizer.calls``               ``{call}``   calls by final category
``normalizer.attempts``            ``{attempt}``  attempts, each by its own category
``normalizer.retries``             ``{retry}``  retries by ``normalizer.retry.reason``
``normalizer.call.duration``       ``s``        first attempt to final outcome, waits included
``normalizer.circuits.open``       ``{circuit}``  circuits this process saw open (up/down)
``normalizer.retry_budget.tokens`` ``{token}``  tokens left, per vendor, for in-process stores
``normalizer.rate_limit``          ``{call}/s``  the rate limiter's rate per vendor, while it
                                                 holds calls back (in-process stores)
=================================  ===========  =============================================
"""

from __future__ import annotations

import contextlib
import contextvars
import importlib.util
import threading
import time
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ._outcome import Outcome, outcome_of
from ._redact import DEFAULT as DEFAULT_REDACTOR
from ._redact import Redactor, clean_text

if TYPE_CHECKING:
    import httpx

    from ._retry import Decision
    from ._store import Keys, Limits, LocalState

SCOPE = "normalizer"
CODE_LIMIT = 64
"""Characters of a vendor's code kept in an attribute (as in log lines)."""


def available() -> bool:
    """Whether ``opentelemetry-api`` is installed (checked without importing it)."""
    return importlib.util.find_spec("opentelemetry") is not None


class Telemetry:
    """Reports vendor calls to OpenTelemetry; one per process is plenty (it is shareable).

    ``code_attributes`` adds the vendor's code to metric attributes (more series: opt in only
    when the vendor's codes are few). ``tracer_provider`` / ``meter_provider`` default to the
    global ones.
    """

    def __init__(
        self,
        *,
        code_attributes: bool = False,
        tracer_provider: Any = None,
        meter_provider: Any = None,
    ) -> None:
        from opentelemetry import context, metrics, trace

        from . import __version__

        self.code_attributes = code_attributes
        self._trace = trace
        self._context = context
        # the global provider's tracer is a proxy: it follows a provider set up later
        self._tracer = trace.get_tracer(SCOPE, __version__, tracer_provider=tracer_provider)
        self._counting = _SetUp(metrics.get_meter_provider, meter_provider, "_ProxyMeterProvider")
        self._tracing = _SetUp(trace.get_tracer_provider, tracer_provider, "ProxyTracerProvider")
        self._idle_until = 0.0
        meter = (meter_provider or metrics.get_meter_provider()).get_meter(SCOPE, __version__)
        self._calls = meter.create_counter(
            "normalizer.calls", unit="{call}", description="Vendor calls, by final outcome"
        )
        self._attempts = meter.create_counter(
            "normalizer.attempts", unit="{attempt}", description="Attempts, by their outcome"
        )
        self._retries = meter.create_counter(
            "normalizer.retries", unit="{retry}", description="Retries, by reason"
        )
        self._duration = meter.create_histogram(
            "normalizer.call.duration",
            unit="s",
            description="From the first attempt to the final outcome, waits included",
        )
        self._open = meter.create_up_down_counter(
            "normalizer.circuits.open", unit="{circuit}", description="Open circuits seen here"
        )
        self._watched: weakref.WeakKeyDictionary[LocalState, dict[Keys, Limits]] = (
            weakref.WeakKeyDictionary()
        )
        self._lock = threading.Lock()
        meter.create_observable_gauge(
            "normalizer.retry_budget.tokens",
            callbacks=[self._observe_budgets],
            unit="{token}",
            description="Retry tokens left per vendor (in-process stores)",
        )
        meter.create_observable_gauge(
            "normalizer.rate_limit",
            callbacks=[self._observe_rates],
            unit="{call}/s",
            description="The rate limiter's rate per vendor while it holds calls back",
        )

    # --- what the transports report ------------------------------------------------------

    def idle(self) -> bool:
        """Whether no provider is set up, for metrics or traces: a call starting now reports
        nowhere. The first question of every call, and the only one while nothing is set up:
        its answer is kept for a second (as :class:`_SetUp`'s are), one clock read a call."""
        if time.monotonic() < self._idle_until:
            return True
        if self._counting() or self._tracing():
            return False
        self._idle_until = time.monotonic() + 1.0
        return True

    def wanted(self) -> bool:
        """Whether a call starting now has anywhere to report: metrics set up, or a recording
        span current (the call's own, :meth:`span`). Asked once per call: without an SDK a
        call pays cached checks only."""
        if self._counting():
            return True
        return self._tracing() and self._trace.get_current_span().is_recording()

    def attempt(
        self,
        vendor: str,
        product: str | None,
        number: int,
        outcome: Outcome | None,
        error: BaseException | None = None,
    ) -> None:
        """Count an attempt. Its span event waits for the decision taken on it (:func:`decided`)."""
        if self._counting():
            self._attempts.add(1, self._attributes(vendor, product, outcome, error))

    def retrying(self, vendor: str, product: str | None, reason: str) -> None:
        if not self._counting():
            return
        attributes = {"normalizer.vendor": vendor, "normalizer.retry.reason": reason}
        if product is not None:
            attributes["normalizer.product"] = product
        self._retries.add(1, attributes)

    def finished(
        self,
        vendor: str,
        product: str | None,
        outcome: Outcome | None,
        error: BaseException | None,
        attempts: int,
        seconds: float,
        reason: str | None,
    ) -> None:
        if self._counting():
            attributes = self._attributes(vendor, product, outcome, error)
            self._calls.add(1, attributes)
            self._duration.record(seconds, attributes)
        call = _CALL.get()
        if call is not None:
            call.finished(outcome, error, attempts, reason)

    def circuit(self, vendor: str, transition: str) -> None:
        if not self._counting():
            return
        self._open.add(1 if transition == "opened" else -1, {"normalizer.vendor": vendor})

    def watch(self, store: LocalState, keys: Keys, limits: Limits) -> None:
        """Watch a vendor's retry tokens, and its (or its product's) rate, in ``store``."""
        with self._lock:
            self._watched.setdefault(store, {})[keys] = limits

    def span(self, vendor: str, product: str | None, redactor: Redactor) -> CallSpan | None:
        """The span of one vendor call, to enter around it; None without a tracer provider set
        up (the transport then calls straight on: with only the API installed a call pays one
        cached check, not even an empty ``with``)."""
        if not self._tracing():
            return None
        try:
            return self._call_span(vendor, product, redactor)
        except Exception:  # a broken SDK: the call goes on untraced
            return None

    def _call_span(self, vendor: str, product: str | None, redactor: Redactor) -> CallSpan:
        """A started span for one call to ``vendor`` (the current span, if any, its parent)."""
        attributes = {"normalizer.vendor": vendor}
        if product is not None:
            attributes["normalizer.product"] = product
        span = self._tracer.start_span(
            f"normalizer {vendor}", kind=self._trace.SpanKind.INTERNAL, attributes=attributes
        )
        return CallSpan(self, span, redactor)

    # --- helpers -----------------------------------------------------------------------------

    def _attributes(
        self,
        vendor: str,
        product: str | None,
        outcome: Outcome | None,
        error: BaseException | None,
    ) -> dict[str, Any]:
        attributes: dict[str, Any] = {"normalizer.vendor": vendor}
        if product is not None:
            attributes["normalizer.product"] = product
        if outcome is not None:
            attributes["normalizer.category"] = outcome.category.value
            if not outcome.ok:
                attributes["error.type"] = outcome.category.value
            if self.code_attributes and outcome.code is not None:
                attributes["normalizer.code"] = bounded(outcome.code, DEFAULT_REDACTOR)
        elif error is not None:
            attributes["error.type"] = type(error).__name__
        return attributes

    def _each(self) -> list[tuple[LocalState, Keys, Limits]]:
        with self._lock:
            watched = [(s, dict(v)) for s, v in self._watched.items()]
        return [(store, keys, limits) for store, each in watched for keys, limits in each.items()]

    def _observe_budgets(self, options: Any) -> list[Any]:
        from opentelemetry.metrics import Observation

        seen = {
            (store, keys.vendor): limits.capacity
            for store, keys, limits in self._each()
            if limits.capacity
        }
        return [
            Observation(store.tokens(vendor, capacity), {"normalizer.vendor": vendor})
            for (store, vendor), capacity in seen.items()
        ]

    def _observe_rates(self, options: Any) -> list[Any]:
        from opentelemetry.metrics import Observation

        seen = {(store, keys.pace): (keys, limits) for store, keys, limits in self._each()}
        found = []
        for (store, pace), (keys, limits) in seen.items():
            rate = store.rate(pace, limits)
            if rate != float("inf"):
                attributes = {"normalizer.vendor": keys.vendor}
                if pace != keys.vendor:
                    attributes["normalizer.product"] = pace.split("/", 1)[1]
                found.append(Observation(rate, attributes))
        return found


class CallSpan:
    """One vendor call's span, current from ``with`` to its end (see the module docstring).

    Entered and left in the same task, as a ``with`` around one ``handle_request`` is: the
    OpenTelemetry context and :data:`_CALL` are context variables, restored on the way out
    however the call ends (an answer, an exception, a cancellation). Like logging, it never
    changes what the call returns: an SDK that raises is ignored.
    """

    __slots__ = ("_failed", "_mine", "_redactor", "_span", "_telemetry", "_token")

    def __init__(self, telemetry: Telemetry, span: Any, redactor: Redactor) -> None:
        self._telemetry = telemetry
        self._span = span
        self._redactor = redactor
        self._failed = False

    def __enter__(self) -> CallSpan:
        telemetry = self._telemetry
        self._token = telemetry._context.attach(telemetry._trace.set_span_in_context(self._span))
        self._mine = _CALL.set(self)
        return self

    def __exit__(self, kind: object, error: BaseException | None, traceback: object) -> None:
        try:
            if error is not None and not self._failed and self._span.is_recording():
                # refused before sending (circuit, rate), cancelled, or a bug: its class says
                name = type(error).__name__
                self._span.set_attribute("error.type", name)
                self._fail(name)
        except Exception:  # a broken SDK must not replace the call's own exception
            pass
        finally:
            _CALL.reset(self._mine)
            self._telemetry._context.detach(self._token)
            with contextlib.suppress(Exception):
                self._span.end()

    def attempted(
        self, number: int, result: httpx.Response | BaseException, decision: Decision
    ) -> None:
        """An event for an attempt, with the decision taken on it."""
        span = self._span
        if not span.is_recording():
            return
        event: dict[str, Any] = {"normalizer.attempt": number, "normalizer.decision": decision.why}
        if isinstance(result, BaseException):
            event["error.type"] = type(result).__name__
        else:
            outcome = outcome_of(result)
            if outcome is not None:
                event.update(self._outcome(outcome))
        if decision.retry:
            event["normalizer.retry.delay"] = decision.delay
            if decision.delay_from is not None:
                event["normalizer.retry.delay_from"] = decision.delay_from
        span.add_event("normalizer.attempt", event)

    def finished(
        self,
        outcome: Outcome | None,
        error: BaseException | None,
        attempts: int,
        reason: str | None,
    ) -> None:
        """The call's final outcome (or transport error), attempts and retry reason."""
        span = self._span
        if not span.is_recording():
            return
        values: dict[str, Any] = {"normalizer.attempts": attempts}
        if reason is not None:
            values["normalizer.retry.reason"] = reason
        failure = None
        if outcome is not None:
            values.update(self._outcome(outcome))
            values["normalizer.matched"] = outcome.matched.value
            if outcome.partial:
                values["normalizer.partial"] = True
            if not outcome.ok:
                code = values.get("normalizer.code")
                failure = outcome.category.value + ("" if code is None else f": code {code}")
        elif error is not None:
            failure = values["error.type"] = type(error).__name__
        span.set_attributes(values)
        if failure is not None:
            self._fail(failure)

    def _outcome(self, outcome: Outcome) -> dict[str, Any]:
        values: dict[str, Any] = {"normalizer.category": outcome.category.value}
        if not outcome.ok:
            values["error.type"] = outcome.category.value
        if outcome.code is not None:
            values["normalizer.code"] = bounded(outcome.code, self._redactor)
        if outcome.http_status is not None:
            values["http.response.status_code"] = outcome.http_status
        return values

    def _fail(self, description: str) -> None:
        self._failed = True
        trace = self._telemetry._trace
        self._span.set_status(trace.Status(trace.StatusCode.ERROR, description))


_CALL: contextvars.ContextVar[CallSpan | None] = contextvars.ContextVar(
    "normalizer_call_span", default=None
)
"""The span of the vendor call running in this context, for the reports that reach
:class:`Telemetry` from the call (they do not carry it)."""


def decided(number: int, result: httpx.Response | BaseException, decision: Decision) -> None:
    """The decision taken on attempt ``number``, which gave ``result`` (a response or an
    exception): an event on the call's span, when it has one."""
    call = _CALL.get()
    if call is not None:
        with contextlib.suppress(Exception):  # like logging, never fails the call
            call.attempted(number, result, decision)


def bounded(code: str, redactor: Redactor) -> str:
    """A vendor's code fit for an attribute: masked (numbers, secrets, the user's patterns),
    cut to :data:`CODE_LIMIT` characters, on one line. Masked before it is cut, so a number is
    never cut into pieces the redactor no longer sees; on a bounded slice, so a code of half a
    megabyte costs what a short one does."""
    return clean_text(redactor.text(code[: CODE_LIMIT * 8]), CODE_LIMIT)


class _SetUp:
    """Whether the application set up an SDK provider (or one was given): OpenTelemetry's global
    stays its proxy until then, and reporting to it is skipped. The global is looked up at most
    once a second (OpenTelemetry's lookup reads the environment); a call pays one comparison."""

    def __init__(self, current: Callable[[], object], given: object, proxy: str) -> None:
        self._current = current
        unset = current()
        self._unset = unset if given is None and type(unset).__name__ == proxy else None
        self._answer = self._unset is None
        self._recheck = 0.0

    def __call__(self) -> bool:
        if self._unset is None:
            return True
        now = time.monotonic()
        if now >= self._recheck:
            self._answer = self._current() is not self._unset
            self._recheck = now + 1.0
        return self._answer


_default: list[Telemetry | None] = []
_default_lock = threading.Lock()


def default() -> Telemetry | None:
    """The process's Telemetry when opentelemetry-api is installed, else None (checked once)."""
    if not _default:
        with _default_lock:
            if not _default:
                _default.append(Telemetry() if available() else None)
    return _default[0]


def resolve(setting: Telemetry | bool | None) -> Telemetry | None:
    """An ``Options.telemetry`` setting as the Telemetry to report to (None: none)."""
    if isinstance(setting, Telemetry):
        return setting
    if setting is False:
        return None
    return default()
