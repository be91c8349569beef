"""One vendor call across its attempts: what the transports know and decide about it.

An :class:`Exchange` is private and lives for one ``handle_request``; the public record of a
finished call is :class:`~normalizer.VendorCall`, which the metrics hook receives. The
transports do the I/O (the vendor, the store, sleeping); every rule they apply is here once.
"""

from __future__ import annotations

import math
import time
from dataclasses import replace
from typing import TYPE_CHECKING

import httpx

from ._body import CHALLENGE_KEY
from ._category import Category
from ._classify import classify_parsed, classify_uninspected
from ._exceptions import CircuitOpenError, RateLimitedError, VendorError
from ._limiter import ROUNDING, SETTLE
from ._logging import CallLog
from ._mapping import MAX_COOLDOWN
from ._outcome import Outcome, attach, outcome_of
from ._redact import DEFAULT as DEFAULT_REDACTOR
from ._retry import (
    GIVE_UP,
    TRANSIENT,
    Attempt,
    Decision,
    RetryPolicy,
    bounded,
    decide,
    effective_attempts,
    is_testing,
    paid,
    replayable,
    retry_after,
    retry_cost,
)
from ._router import Route, target_of
from ._store import Admission, Signal, Transition

if TYPE_CHECKING:
    from ._pipeline import Pipeline


_OK = Decision(False, "ok")
_FINAL = Decision(False, "not_retryable")


class Exchange:
    """The state of one request to a vendor while it is being attempted.

    Its event log is built on first need: most calls succeed at once and log nothing.
    """

    __slots__ = (
        "_log",
        "at",
        "attempts",
        "clean",
        "clock",
        "decision",
        "ends",
        "keys",
        "last_cost",
        "limits",
        "max_attempts",
        "paces",
        "pipeline",
        "probing",
        "replayable",
        "request",
        "retried_for",
        "route",
        "spent",
        "started",
        "telemetry",
        "timeout",
        "unpaid",
        "waiting",
    )

    def __init__(self, pipeline: Pipeline, request: httpx.Request, route: Route) -> None:
        self.pipeline = pipeline
        self.request = request
        self.route = route
        self.keys, self.limits = pipeline.keys(route)
        # the adaptive limiter paces busy retries; decided alike under set_testing, where
        # nothing waits for a turn
        self.paces = self.limits.adaptive
        if self.limits.limiter is not None and is_testing():
            self.limits = replace(self.limits, limiter=None)
        policy = pipeline.policy
        self.max_attempts = 1 if policy is None else effective_attempts(policy)
        self.clock = time.monotonic if policy is None else policy.clock
        self.started = self.clock()
        deadline = None if policy is None else policy.deadline
        self.ends = None if deadline is None else self.started + deadline
        self.timeout = request.extensions.get("timeout")
        # judged before the first attempt: sending may turn a one-shot stream into bytes
        self.replayable = replayable(request)
        self.attempts = 0
        self.clean = False
        self.probing = False
        self.at = 0.0
        self.retried_for: str | None = None
        telemetry = pipeline.telemetry
        self.telemetry = telemetry if telemetry is not None and telemetry.wanted() else None
        self.spent = 0
        self.last_cost = 0
        self.unpaid = 0
        self.waiting = False
        self.decision: Decision | None = None
        self._log: CallLog | None = None

    @property
    def log(self) -> CallLog:
        if self._log is None:
            options = self.pipeline.options
            self._log = CallLog(
                self.request,
                self.route.mapping.id,
                self.max_attempts,
                logger=options.logger,
                on_outcome=options.on_outcome,
                redactor=self.pipeline.redactor_for(self.route.mapping),
                log_bodies=options.log_bodies,
                clock=self.clock,
                started=self.started,
            )
        return self._log

    # --- admit ---------------------------------------------------------------------------

    def patience(self, delay: float = 0.0) -> float:
        """How far ahead a rate-limiter turn may be: ``max_wait`` past ``delay``, within the
        deadline."""
        limiter = self.limits.limiter
        if limiter is None:
            return math.inf
        bound = delay + limiter.max_wait
        return bound if self.ends is None else max(0.0, min(bound, self.ends - self.clock()))

    def admitted(self, admission: Admission) -> float:
        """Seconds to wait before the first attempt; raises when it must not be sent."""
        self.clean = admission.clean
        self.probing = admission.verdict == "probe"
        self.at = admission.at
        if admission.verdict == "open":
            raise self._refusal(admission.wait, "open")
        if admission.verdict == "rate":
            raise RateLimitedError(self.keys.vendor, admission.turn)
        wait = admission.wait
        policy = self.pipeline.policy
        if policy is None:  # without a retry policy nothing waits
            return 0.0
        deadline = policy.deadline
        if wait and (
            wait > policy.max_retry_after
            or (deadline is not None and self.elapsed() + wait >= deadline)
        ):  # a pause past what the call may wait, or leaving it no time once over
            raise self._refusal(wait, "cooldown")
        return max(wait, admission.turn)

    def _refusal(self, wait: float, reason: str) -> CircuitOpenError:
        return CircuitOpenError(self.keys.vendor, self.keys.circuit, wait, reason)

    def elapsed(self) -> float:
        return self.clock() - self.started

    @property
    def wait_headers(self) -> tuple[str, ...]:
        """Retry-After, then the rate-limit headers the vendor's mapping names."""
        return ("retry-after", *self.route.envelope.retry_after)

    # --- send, read, classify -------------------------------------------------------------

    def begin(self) -> None:
        """Count the attempt, and bound its httpx timeouts by what is left of the deadline."""
        self.attempts += 1
        ends = self.ends
        if ends is None:
            return
        left = max(0.001, ends - self.clock())
        timeout = self.timeout  # the caller's, as the call began: later attempts bound it anew
        if type(timeout) is dict:
            values = timeout.values()
            if None not in values and max(values) <= left:
                if self.request.extensions.get("timeout") is not timeout:
                    self.restore()
                return  # the usual case: httpx's timeouts are shorter than the deadline
        self.request.extensions = {
            **self.request.extensions,
            "timeout": _bounded_timeouts(timeout, left),
        }

    def restore(self) -> None:
        """Give the caller's request its own timeouts back (a redirect or a resend of the same
        request starts from them, not from what was left of this call's deadline)."""
        extensions = self.request.extensions
        if extensions.get("timeout") is not self.timeout:
            extensions = dict(extensions)
            if self.timeout is None:
                extensions.pop("timeout", None)
            else:
                extensions["timeout"] = self.timeout
            self.request.extensions = extensions

    def expired(self) -> bool:
        """The deadline passed: stop reading a trickling body, hand the rest on unread."""
        ends = self.ends
        return ends is not None and self.clock() >= ends - 0.001

    def classify(self, response: httpx.Response, document: object, inspected: bool) -> Outcome:
        """The outcome of a response whose body was read into ``document`` (or not at all)."""
        route = self.route
        if not inspected:
            return classify_uninspected(
                route.mapping, response.status_code, route.path, route.product
            )
        return classify_parsed(
            route.mapping, document, response.status_code, route.path, route.product
        )

    def inspected(self, response: httpx.Response, outcome: Outcome) -> Signal | None:
        """Attach and log an attempt's outcome; returns what to record in the vendor's store."""
        redactor = self.pipeline.redactor_for(self.route.mapping)
        attach(response, outcome, self.attempts, None if redactor is DEFAULT_REDACTOR else redactor)
        self._report("attempt", self.attempts, outcome)
        if outcome.partial:
            self.log.partial(self.attempts, outcome)
        exhausted = self._exhausted(response) if self.route.envelope.remaining else 0.0
        if outcome.ok:
            refund = 0 if self.pipeline.policy is None else self.spent or 1
            return self._record(False, exhausted, refund)
        if not self._challenge(response):  # an auth flow's challenge is a hop: not logged
            self.log.attempt_failed(self.attempts, response, outcome)
        if not outcome.scope.shared:  # one callee, agent or line: this call's business only
            return self._record(False, exhausted, 0)
        breaker = self.limits.breaker
        failed = breaker is not None and outcome.category in breaker.categories
        busy = outcome.category is Category.BUSY
        cooldown = max(exhausted, self._cooldown(response, outcome, busy))
        return self._record(failed, cooldown, 0, busy)

    def _exhausted(self, response: httpx.Response) -> float:
        """The pause until the vendor's rate-limit window reopens, when an answer (any answer)
        says no call is left in it: the mapping's ``remaining`` header at 0, and the seconds
        its wait headers give. Every call sent before then would be refused; this is a "stop
        for N seconds" from the vendor, so a cooldown, learned like any pause read from a
        response (:func:`_learned`)."""
        policy = self.pipeline.policy
        if policy is None:
            return 0.0
        headers = response.headers
        for name in self.route.envelope.remaining:
            try:
                left = float(headers.get(name, ""))
            except ValueError:  # absent or unreadable: the next header
                continue
            if left != 0:  # calls left (or -1, "unlimited" to some APIs)
                return 0.0
            return _learned(retry_after(response, self.wait_headers), policy)
        return 0.0

    def _challenge(self, response: httpx.Response) -> bool:
        """A 401/407 challenge that the request's auth flow will answer with another request."""
        if response.status_code not in (401, 407) or CHALLENGE_KEY not in self.request.extensions:
            return False
        headers = response.headers
        return "www-authenticate" in headers or "proxy-authenticate" in headers

    def _cooldown(self, response: httpx.Response, outcome: Outcome, busy: bool) -> float:
        """The pause every caller of the vendor should take after this answer (of shared scope).

        A Retry-After on a busy answer is a rate limit's: the others slow down (the rate
        limiter) but do not stop, and the call that got it waits it or its turn
        (:meth:`_paced_instead`). On a server failure (maintenance, restart) it is a pause for
        everyone, learned from the response (:func:`_learned`). The mapping's own
        ``cooldown`` is data the user controls and stands as written.
        """
        policy = self.pipeline.policy
        if policy is None:
            return 0.0
        learn = outcome.retryable and not busy
        learned = _learned(retry_after(response, self.wait_headers), policy) if learn else 0.0
        return min(MAX_COOLDOWN, max(outcome.cooldown, learned))

    def errored(self, error: BaseException) -> Signal | None:
        self.log.attempt_failed(self.attempts, None, None, error)
        self._report("attempt", self.attempts, None, error)
        breaker = self.limits.breaker
        return self._record(breaker is not None and isinstance(error, TRANSIENT), 0.0, 0)

    def _record(
        self, failed: bool, cooldown: float, refund: int, slow: bool = False
    ) -> Signal | None:
        """None when recording would change nothing: the usual success skips the store."""
        slow = slow and self.limits.adaptive
        if failed or cooldown or refund > 1 or slow:
            self.clean = False
            return Signal(failed, cooldown, refund, self.probing, slow, self.at)
        if self.clean or not (refund or self.limits.breaker is not None):
            return None
        return Signal(failed, cooldown, refund, self.probing, slow, self.at)

    def recorded(self, transition: Transition) -> None:
        self.probing = False  # the store has the probe's answer
        if transition is not None:
            self.log.circuit(transition, self.keys.circuit, self.limits)
            self._report("circuit", transition)

    # --- decide, pay ------------------------------------------------------------------------

    def decide(self, result: httpx.Response | BaseException) -> Decision:
        """Send again? The pure decision; :meth:`paid` completes one that says yes."""
        policy = self.pipeline.policy
        if policy is None:
            return _FINAL
        resend = self.route.mapping.resend
        if isinstance(result, BaseException):
            attempt = Attempt(
                self.request, self.attempts, exception=result, elapsed=self.elapsed(), resend=resend
            )
        else:
            outcome = outcome_of(result)
            if outcome is None or not outcome.retryable:  # the usual answer, decided at once
                return _OK if outcome is not None and outcome.ok else _FINAL
            attempt = Attempt(
                self.request,
                self.attempts,
                result,
                outcome,
                elapsed=self.elapsed(),
                wait_headers=self.wait_headers,  # Retry-After, then the vendor's own header
                resend=resend,
            )
        decision = decide(
            attempt,
            policy,
            max_attempts=self.max_attempts,
            replayable=self.replayable,
            signed_once=bool(resend.nonce) and resend.signed_once(target_of(self.request)),
        )
        if self._paced_instead(decision, attempt):  # a short settling wait, then a turn
            delay = policy.random() * min(policy.cap, SETTLE * 2 ** (attempt.number - 1))
            return bounded(
                decision._replace(delay=delay, delay_from="rate_limit"), policy, attempt.elapsed
            )
        return decision

    def _paced_instead(self, decision: Decision, attempt: Attempt) -> bool:
        """The account is at capacity: the adaptive limiter, now slower, paces the retry.

        That replaces the busy backoff; and, for a call's first retry, a ``Retry-After`` of at
        most ``ROUNDING`` (1 s): on a rate limit the smallest whole second is the header's
        rounding more often than a pause, and waited by every refused call it idles callers
        the vendor could serve (sixteen threads refused at once lost their first second). A
        call refused again waits it: an accurate one costs one attempt. A longer one (a quota
        window) is always waited, and so is a vendor's own reset header (``x-ratelimit-reset``:
        when its window opens again).
        """
        outcome = attempt.outcome
        if not (
            self.paces
            and outcome is not None
            and outcome.category is Category.BUSY
            and outcome.scope.shared
        ):
            return False
        if decision.delay_from == "backoff":
            return True
        response = attempt.response
        return (
            decision.delay_from == "retry_after"
            and attempt.number == 1
            and decision.delay <= ROUNDING
            and response is not None
            and not any(h in response.headers for h in self.route.envelope.retry_after)
        )

    def cost(self, result: httpx.Response | BaseException, decision: Decision) -> int:
        """Retry tokens the retry costs: ``paced_cost`` for one the rate limiter paces (it goes
        out in a turn of the limited rate; at the full cost, 200 callers refused at once
        emptied the budget in the first second and 11% of their calls failed)."""
        policy = self.pipeline.policy
        assert policy is not None
        if decision.delay_from == "rate_limit":
            return policy.paced_cost
        error = result if isinstance(result, BaseException) else None
        return retry_cost(error, policy)

    def paid(self, decision: Decision, admission: Admission, cost: int) -> Decision:
        """The decision once the store answered (and, on go, took ``cost`` tokens)."""
        assert self.pipeline.policy is not None
        final = paid(decision, admission, self.pipeline.policy, self.elapsed())
        self.unpaid = 0
        if admission.verdict in ("go", "probe"):
            if final.retry:
                self.spent += cost
                self.last_cost = cost
                self.clean = self.clean and not cost  # the budget is short: give them back
                self.probing = admission.verdict == "probe"
            else:
                self.unpaid = cost  # the store took them, the cooldown ruled the retry out
        return final

    def paced(self, admission: Admission) -> float | None:
        """Seconds to wait for a retry's rate-limiter turn; None when it is further away than
        the call may wait: the retry is given up (``rate_limited``) and its tokens refunded."""
        if admission.verdict == "rate":
            self.decision = Decision(False, "rate_limited")
            self.unpaid, self.spent = self.last_cost, self.spent - self.last_cost
            return None
        self.at = admission.at
        return admission.turn

    @property
    def stopped(self) -> bool:
        """A retry was given up after its decision (its turn came too late)."""
        decision = self.decision
        return decision is not None and decision.why == "rate_limited"

    def refund(self) -> int:
        """The tokens of a retry that was paid for but will not happen, to give back."""
        tokens, self.unpaid = self.unpaid, 0
        return tokens

    def decided(self, decision: Decision) -> Decision:
        self.decision = decision
        return decision

    def retrying(self, outcome: Outcome | None) -> None:
        decision = self.decision
        assert decision is not None
        self.log.retrying(self.attempts, outcome, decision.delay, decision.why, decision.delay_from)
        self.retried_for = decision.why
        self._report("retrying", decision.why)

    def _reason(self) -> str | None:
        """Why the call ended where it did: a give-up reason, or the last retry's."""
        decision = self.decision
        if decision is not None and decision.why in GIVE_UP:
            return decision.why
        return self.retried_for

    def _report(self, event: str, *args: object) -> None:
        """Tell OpenTelemetry (when there is one); like logging, it never fails the call."""
        telemetry = self.telemetry
        if telemetry is None:
            return
        route = self.route
        product = None if route.product is None else route.product.id
        try:
            if event == "circuit":
                telemetry.circuit(route.mapping.id, str(args[0]))
            else:
                getattr(telemetry, event)(route.mapping.id, product, *args)
        except Exception:  # a broken exporter or SDK must not change what the call returns
            pass

    # --- settle, log ------------------------------------------------------------------------

    def failed(self, error: BaseException) -> None:
        """The call ends in a transport error (after any retries)."""
        decision = self.decision
        if decision is not None and decision.why in GIVE_UP:
            self.log.gave_up(self.attempts, None, decision.why)
        if self.telemetry is not None:
            self._report("finished", None, error, self.attempts, self.elapsed(), self._reason())

    def finish(self, response: httpx.Response) -> VendorError | None:
        """Settle the call; returns the exception to raise, if the transport raises."""
        outcome = outcome_of(response)  # attached with its attempt count when inspected
        assert outcome is not None
        decision = self.decision
        if decision is not None and decision.why in GIVE_UP and not outcome.ok:
            self.log.gave_up(self.attempts, outcome, decision.why)
        if self.telemetry is not None:
            self._report("finished", outcome, None, self.attempts, self.elapsed(), self._reason())
        options = self.pipeline.options
        if options.on_outcome is not None:
            self.log.finished(outcome, self.attempts)
        if options.raise_on_error and not outcome.ok:
            return VendorError.for_outcome(outcome)(
                outcome,
                request=self.request,
                response=response,
                attempts=self.attempts,
                redactor=self.pipeline.redactor_for(self.route.mapping),
            )
        return None


def _learned(after: float | None, policy: RetryPolicy) -> float:
    """A pause for every caller learned from a response: none when longer than the policy's
    ``max_retry_after``. One answer saying 999999 s, a date in 2099, 30000 meant as
    milliseconds or an hourly quota's reset must not stop the vendor (and, on Redis, the
    fleet) for long, nor hold every call for a minute to send it with no time left: each
    call finds out for itself and gives up at once (``retry_after_too_long``)."""
    return 0.0 if after is None or after > policy.max_retry_after else after


def _bounded_timeouts(timeout: object, left: float) -> dict[str, float]:
    """httpx's per-request timeouts, none longer than ``left`` (a None timeout becomes it)."""
    current = timeout if isinstance(timeout, dict) else {}
    return {
        kind: left if current.get(kind) is None else min(float(current[kind]), left)
        for kind in ("connect", "read", "write", "pool")
    }
