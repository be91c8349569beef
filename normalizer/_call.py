"""One vendor call across its attempts: retry strategy, events, budget and final verdict.

Shared by the sync and async transports, which only do the I/O; everything they decide about
a call is decided here once.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import httpx
import tenacity

from ._exceptions import VendorError
from ._inspect import Inspector, Route, attach, outcome_of
from ._logging import CallLog, OnOutcome
from ._outcome import Outcome
from ._redact import Redactor
from ._retry import Attempt, Budgets, RetryPolicy, Strategy, effective_attempts


@dataclasses.dataclass(slots=True)
class Settings:
    """A transport's options, shared by every call it makes."""

    inspector: Inspector
    retry: RetryPolicy | None
    budgets: Budgets
    raise_on_error: bool
    logger: Any
    on_outcome: OnOutcome | None
    redactor: Redactor
    log_bodies: bool

    def call(self, request: httpx.Request, route: Route) -> Call:
        return Call(self, request, route)


class Call:
    """The state of one request to a vendor while it is being attempted."""

    def __init__(self, settings: Settings, request: httpx.Request, route: Route) -> None:
        self.settings = settings
        self.request = request
        self.route = route
        policy = settings.retry
        max_attempts = 1 if policy is None else effective_attempts(policy)
        self.strategy = (
            None
            if policy is None
            else Strategy(
                policy, settings.budgets.for_vendor(route.mapping.id), request, max_attempts
            )
        )
        self.log = CallLog(
            request,
            route.mapping.id,
            max_attempts,
            logger=settings.logger,
            on_outcome=settings.on_outcome,
            redactor=settings.redactor,
            log_bodies=settings.log_bodies,
            clock=time.monotonic if policy is None else policy.clock,
        )
        self.attempts = 0

    def tenacity_kwargs(self) -> dict[str, Any]:
        assert self.strategy is not None
        return self.strategy.tenacity_kwargs()

    def worth_retrying(self, first: httpx.Response | httpx.TransportError) -> bool:
        """Whether the first attempt's result calls for the retry machinery at all."""
        if self.strategy is None:
            return False
        if isinstance(first, httpx.TransportError):
            return self.strategy.decide(Attempt(self.request, 1, exception=first))
        return self.strategy.decide(Attempt(self.request, 1, first, outcome_of(first)))

    def begin(self) -> None:
        self.attempts += 1

    def inspected(self, response: httpx.Response, outcome: Outcome) -> None:
        attach(response, outcome, self.attempts)
        if not outcome.ok:
            self.log.attempt_failed(self.attempts, response, outcome)

    def errored(self, error: BaseException) -> None:
        self.log.attempt_failed(self.attempts, None, None, error)

    def retrying(self, state: tenacity.RetryCallState) -> None:
        outcome = None
        if state.outcome is not None and not state.outcome.failed:
            outcome = outcome_of(state.outcome.result())
        self.log.retrying(self.attempts, outcome, state.upcoming_sleep)

    def failed(self, error: BaseException) -> None:
        """The call ends in a transport error (after any retries)."""
        reason = self.strategy.stop_reason if self.strategy is not None else None
        if reason is not None:
            self.log.gave_up(self.attempts, None, reason)

    def finish(self, response: httpx.Response) -> VendorError | None:
        """Settle the call; returns the exception to raise, if the transport raises."""
        outcome = outcome_of(response)  # attached with its attempt count when inspected
        assert outcome is not None
        if self.strategy is not None:
            self.strategy.settle(outcome.ok)
            reason = self.strategy.stop_reason
            if not outcome.ok and outcome.retryable and reason is not None:
                self.log.gave_up(self.attempts, outcome, reason)
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
