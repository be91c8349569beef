"""One vendor call across its attempts: admission, retry strategy, events and final verdict.

Shared by the sync and async transports, which only do the I/O (including the state store's);
everything they decide about a call is decided here once.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import httpx
import tenacity

from ._exceptions import CircuitOpenError, VendorError
from ._inspect import Inspector, Route, attach, outcome_of
from ._logging import CallLog, OnOutcome
from ._mapping import MAX_COOLDOWN
from ._outcome import Outcome
from ._redact import Redactor
from ._retry import (
    TRANSIENT,
    Attempt,
    RetryPolicy,
    Strategy,
    effective_attempts,
    replayable,
    retry_after,
)
from ._state import Admission, AsyncState, Keys, Limits, State, Transition


@dataclasses.dataclass(slots=True)
class Settings:
    """A transport's options, shared by every call it makes."""

    inspector: Inspector
    retry: RetryPolicy | None
    state: State | AsyncState
    limits: Limits
    raise_on_error: bool
    logger: Any
    on_outcome: OnOutcome | None
    redactor: Redactor
    log_bodies: bool

    state_keys: dict[tuple[str, str | None], Keys] = dataclasses.field(default_factory=dict)

    def call(self, request: httpx.Request, route: Route) -> Call:
        return Call(self, request, route)

    def keys(self, route: Route) -> Keys:
        """Where a route's state lives (one small dict entry per vendor and product)."""
        name = (route.mapping.id, None if route.product is None else route.product.id)
        keys = self.state_keys.get(name)
        if keys is None:
            keys = self.state_keys[name] = Keys.of(*name, self.limits.breaker)
        return keys


Record = tuple[bool, float, int]
"""What an attempt tells the vendor's state: (failed, cooldown seconds, tokens to refund)."""


class Call:
    """The state of one request to a vendor while it is being attempted.

    Its retry strategy and event log are built on first need: most calls succeed at once and
    need neither.
    """

    __slots__ = (
        "_log",
        "_strategy",
        "attempts",
        "clean",
        "clock",
        "keys",
        "max_attempts",
        "policy",
        "replayable",
        "request",
        "route",
        "settings",
        "started",
    )

    def __init__(self, settings: Settings, request: httpx.Request, route: Route) -> None:
        self.settings = settings
        self.request = request
        self.route = route
        self.keys = settings.keys(route)
        policy = self.policy = settings.retry
        self.max_attempts = 1 if policy is None else effective_attempts(policy)
        self.clock = time.monotonic if policy is None else policy.clock
        self.started = self.clock()
        # judged before the first attempt: sending may turn a one-shot stream into bytes
        self.replayable = replayable(request)
        self.attempts = 0
        self.clean = False
        self._strategy: Strategy | None = None
        self._log: CallLog | None = None

    @property
    def strategy(self) -> Strategy:
        """The retry strategy (only for a call under a retry policy)."""
        if self._strategy is None:
            assert self.policy is not None
            settings = self.settings
            self._strategy = Strategy(
                self.policy,
                self.request,
                self.max_attempts,
                settings.state,
                self.keys,
                settings.limits,
                started=self.started,
                replayable=self.replayable,
            )
        return self._strategy

    @property
    def log(self) -> CallLog:
        if self._log is None:
            settings = self.settings
            self._log = CallLog(
                self.request,
                self.route.mapping.id,
                self.max_attempts,
                logger=settings.logger,
                on_outcome=settings.on_outcome,
                redactor=settings.redactor,
                log_bodies=settings.log_bodies,
                clock=self.clock,
                started=self.started,
            )
        return self._log

    def tenacity_kwargs(self, asynchronous: bool = False) -> dict[str, Any]:
        return self.strategy.tenacity_kwargs(asynchronous)

    def admitted(self, admission: Admission) -> float:
        """Seconds to wait before the first attempt; raises when it must not be sent."""
        self.clean = admission.clean
        if admission.verdict == "open":
            raise self._refusal(admission.wait, "open")
        wait = admission.wait
        if not wait or self.policy is None:  # without a retry policy nothing waits
            return 0.0
        if wait > self.policy.max_retry_after or not self.strategy.within_deadline(wait):
            raise self._refusal(wait, "cooldown")
        return wait

    def _refusal(self, wait: float, reason: str) -> CircuitOpenError:
        return CircuitOpenError(self.keys.vendor, self.keys.circuit, wait, reason)

    def worth_retrying(self, first: httpx.Response | httpx.TransportError) -> bool:
        """Whether the first attempt's result calls for the retry machinery at all."""
        if self.policy is None:
            return False
        if isinstance(first, httpx.TransportError):
            return self.strategy.decide(Attempt(self.request, 1, exception=first))
        outcome = outcome_of(first)
        if outcome is not None and not outcome.retryable:
            return False  # ok, or a failure that will not change: the usual first answer
        return self.strategy.decide(Attempt(self.request, 1, first, outcome))

    def begin(self) -> None:
        self.attempts += 1

    def inspected(self, response: httpx.Response, outcome: Outcome) -> Record | None:
        """Attach and log an attempt's outcome; returns what to record in the vendor's state."""
        attach(response, outcome, self.attempts)
        if outcome.partial:
            self.log.partial(self.attempts, outcome)
        if outcome.ok:
            spent = 0 if self._strategy is None else self._strategy.spent
            return self._record(False, 0.0, 0 if self.policy is None else spent or 1)
        self.log.attempt_failed(self.attempts, response, outcome)
        breaker = self.settings.limits.breaker
        failed = (
            breaker is not None
            and outcome.category in breaker.categories
            and not outcome.call_outcome
        )
        return self._record(failed, self._cooldown(response, outcome), 0)

    def _cooldown(self, response: httpx.Response, outcome: Outcome) -> float:
        if self.policy is None:
            return 0.0
        after = retry_after(response) if outcome.retryable else None
        return min(MAX_COOLDOWN, max(outcome.cooldown, after or 0.0))

    def errored(self, error: BaseException) -> Record | None:
        self.log.attempt_failed(self.attempts, None, None, error)
        breaker = self.settings.limits.breaker
        return self._record(breaker is not None and isinstance(error, TRANSIENT), 0.0, 0)

    def _record(self, failed: bool, cooldown: float, refund: int) -> Record | None:
        """None when recording would change nothing: the usual success skips the store."""
        if failed or cooldown or refund > 1:
            self.clean = False
            return failed, cooldown, refund
        if self.clean or not (refund or self.settings.limits.breaker is not None):
            return None
        return failed, cooldown, refund

    def recorded(self, transition: Transition) -> None:
        if transition is not None:
            self.log.circuit(transition, self.keys.circuit, self.settings.limits)

    def retrying(self, state: tenacity.RetryCallState) -> None:
        outcome = None
        if state.outcome is not None and not state.outcome.failed:
            outcome = outcome_of(state.outcome.result())
        self.log.retrying(self.attempts, outcome, state.upcoming_sleep)

    def failed(self, error: BaseException) -> None:
        """The call ends in a transport error (after any retries)."""
        reason = None if self._strategy is None else self._strategy.stop_reason
        if reason is not None:
            self.log.gave_up(self.attempts, None, reason)

    def finish(self, response: httpx.Response) -> VendorError | None:
        """Settle the call; returns the exception to raise, if the transport raises."""
        outcome = outcome_of(response)  # attached with its attempt count when inspected
        assert outcome is not None
        if self._strategy is not None:
            reason = self._strategy.stop_reason
            if not outcome.ok and outcome.retryable and reason is not None:
                self.log.gave_up(self.attempts, outcome, reason)
        if self.settings.on_outcome is not None:
            self.log.finished(outcome, self.attempts)
        if self.settings.raise_on_error and not outcome.ok:
            return VendorError.for_outcome(outcome)(
                outcome,
                request=self.request,
                response=response,
                attempts=self.attempts,
                redactor=self.settings.redactor,
            )
        return None
