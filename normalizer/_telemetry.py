"""OpenTelemetry: the outcome of every vendor call on the current span, and metrics.

Optional and detected at run time, like structlog's integration elsewhere: with
``opentelemetry-api`` installed (``pip install 'telco-normalizer[otel]'``) every transport
reports through it unless told not to (``Options(telemetry=False)``); without it nothing is
imported. With the API but no SDK configured, every call goes to OpenTelemetry's no-op
implementations.

Traces: the span current when the call is made (the application's, or one that
``opentelemetry-instrumentation-httpx`` opened around it) gets the outcome as attributes
(``normalizer.vendor``, ``.product``, ``.code``, ``.category``, ``.matched``, ``.attempts``,
``.retry.reason``; ``error.type`` set to the category for a failure, as the semantic conventions
say a failed call's reason is given), and one ``normalizer.attempt`` event per attempt. Events
rather than child spans: an attempt is a moment in the call, and the HTTP instrumentation
already makes a span per request when it is installed. No vendor text, URL or number is ever
an attribute: nothing a redactor would have to mask.

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

import importlib.util
import threading
import time
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ._outcome import Outcome

if TYPE_CHECKING:
    from ._store import Keys, Limits, LocalState

SCOPE = "normalizer"


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
        from opentelemetry import metrics, trace

        from . import __version__

        self.code_attributes = code_attributes
        self._trace = trace
        self._counting = _SetUp(metrics.get_meter_provider, meter_provider, "_ProxyMeterProvider")
        self._tracing = _SetUp(trace.get_tracer_provider, tracer_provider, "ProxyTracerProvider")
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

    def wanted(self) -> bool:
        """Whether a call starting now has anywhere to report: metrics set up, or a recording
        span current. Asked once per call: without an SDK a call pays two cached checks."""
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
        counting = self._counting()
        span = self._trace.get_current_span()
        recording = span.is_recording()
        if not (counting or recording):
            return
        attributes = self._attributes(vendor, product, outcome, error)
        if counting:
            self._attempts.add(1, attributes)
        if recording:
            event = {**attributes, "normalizer.attempt": number}
            if outcome is not None:
                if outcome.code is not None:
                    event["normalizer.code"] = outcome.code
                if outcome.http_status is not None:
                    event["http.response.status_code"] = outcome.http_status
            span.add_event("normalizer.attempt", event)

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
        counting = self._counting()
        span = self._trace.get_current_span()
        if not (counting or span.is_recording()):
            return
        attributes = self._attributes(vendor, product, outcome, error)
        if counting:
            self._calls.add(1, attributes)
            self._duration.record(seconds, attributes)
        if not span.is_recording():
            return
        values: dict[str, Any] = {**attributes, "normalizer.attempts": attempts}
        if outcome is not None:
            values["normalizer.matched"] = outcome.matched.value
            if outcome.code is not None:
                values["normalizer.code"] = outcome.code
            if outcome.partial:
                values["normalizer.partial"] = True
        if reason is not None:
            values["normalizer.retry.reason"] = reason
        span.set_attributes(values)

    def circuit(self, vendor: str, transition: str) -> None:
        if not self._counting():
            return
        self._open.add(1 if transition == "opened" else -1, {"normalizer.vendor": vendor})

    def watch(self, store: LocalState, keys: Keys, limits: Limits) -> None:
        """Watch a vendor's retry tokens, and its (or its product's) rate, in ``store``."""
        with self._lock:
            self._watched.setdefault(store, {})[keys] = limits

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
                attributes["normalizer.code"] = outcome.code
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
