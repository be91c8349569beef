"""Retries on tenacity: what is retried, how long to wait, when to stop.

In the manner of botocore's ``retries/standard.py``: every attempt becomes a read-only
:class:`Attempt` (request, response, outcome or exception); small checks answer one question
each about it and are composed; the wait and stop strategies are tenacity's protocol, so the
transports hand them to ``tenacity.Retrying`` and write no retry loop of their own. A token
bucket (the retry budget, after botocore's ``quota.py``) keeps an outage from turning into
a retry storm; it lives in the vendor's shared state (:mod:`normalizer._state`) with the
circuit breaker and cooldown. Clock, sleep and randomness are injectable for tests.
"""

from __future__ import annotations

import contextlib
import dataclasses
import email.utils
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from types import MappingProxyType
from typing import Any

import httpx
import tenacity
from tenacity.wait import wait_base

from ._category import Category
from ._exceptions import VendorError
from ._inspect import outcome_of
from ._outcome import Outcome
from ._state import Admission, AsyncState, Keys, Limits, State

SAFE_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE"})
"""Methods whose repetition has no further effect (RFC 9110 idempotent methods)."""

_NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_MAYBE_SENT = (
    httpx.ReadTimeout,
    httpx.WriteTimeout,
    httpx.ReadError,
    httpx.WriteError,
    httpx.RemoteProtocolError,
)
_TIMEOUTS = (httpx.TimeoutException,)
TRANSIENT = _NEVER_SENT + _MAYBE_SENT
"""Transport errors that say nothing against the request: the vendor may answer next time."""


async def _asyncio_sleep(seconds: float) -> None:
    import asyncio  # imported when first needed: sync users never load asyncio

    await asyncio.sleep(seconds)


@dataclasses.dataclass(frozen=True, eq=False)
class RetryPolicy:
    """How the transports retry; immutable, shareable, and every default is a safe one.

    Retried: outcomes whose ``retryable`` is true, and transport errors where the request
    never left (connect errors, pool timeouts), or may be repeated safely. A request that is
    not safe to repeat (a POST without an idempotency key) is resent only when the outcome
    says the vendor refused it before acting (``Outcome.rejected``), unless
    ``retry_ambiguous`` is set.
    """

    max_attempts: int = 3
    """Attempts in all, the first included."""
    base: float = 0.2
    """Backoff base in seconds: attempt n waits up to ``base * 2**(n-1)`` (full jitter)."""
    cap: float = 20.0
    """No computed backoff exceeds this."""
    pace: Mapping[str, float] = dataclasses.field(
        default_factory=lambda: MappingProxyType({Category.BUSY.value: 1.0})
    )
    """Per-category backoff base overriding ``base``: rate limits deserve a slower pace."""
    deadline: float | None = 60.0
    """Seconds for all attempts and waits together; a wait that would pass it stops instead."""
    max_retry_after: float = 60.0
    """A vendor's Retry-After is honoured up to this many seconds."""
    idempotency_headers: tuple[str, ...] = ("Idempotency-Key", "X-Idempotency-Key")
    """A request carrying one of these headers is safe to resend whatever its method."""
    retry_ambiguous: bool = False
    """Resend non-idempotent requests after an ambiguous server error (may act twice)."""
    budget_capacity: int = 500
    retry_cost: int = 5
    timeout_cost: int = 10
    clock: Callable[[], float] = dataclasses.field(default=time.monotonic, repr=False)
    sleep: Callable[[float], None] = dataclasses.field(default=time.sleep, repr=False)
    async_sleep: Callable[[float], Awaitable[None]] = dataclasses.field(
        default=_asyncio_sleep, repr=False
    )
    random: Callable[[], float] = dataclasses.field(default=random.random, repr=False)
    should_retry: Check = dataclasses.field(init=False, repr=False)
    """Whether an attempt is worth another (built from the options above)."""

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.base < 0 or self.cap < 0 or self.max_retry_after < 0:
            raise ValueError("base, cap and max_retry_after must not be negative")
        if self.deadline is not None and self.deadline <= 0:
            raise ValueError("deadline must be positive (or None)")
        object.__setattr__(
            self, "pace", MappingProxyType({str(Category(k)): v for k, v in self.pace.items()})
        )
        # the checks are built once per policy, not once per request
        object.__setattr__(
            self, "should_retry", any_of(retryable_outcome(self), retryable_transport_error(self))
        )

    def backoff(self, category: str | None, number: int) -> float:
        """Full-jitter exponential backoff before attempt ``number + 1``."""
        base = self.pace.get(category, self.base) if category else self.base
        return float(self.random() * min(self.cap, base * 2 ** (number - 1)))


@dataclasses.dataclass(frozen=True, slots=True)
class Attempt:
    """What one attempt produced: the read-only context every check looks at."""

    request: httpx.Request
    number: int
    response: httpx.Response | None = None
    outcome: Outcome | None = None
    exception: BaseException | None = None

    @classmethod
    def from_state(cls, request: httpx.Request, state: tenacity.RetryCallState) -> Attempt:
        assert state.outcome is not None
        if state.outcome.failed:
            return cls(request, state.attempt_number, exception=state.outcome.exception())
        response = state.outcome.result()
        return cls(request, state.attempt_number, response, outcome_of(response))


def resend_safe(request: httpx.Request, policy: RetryPolicy) -> bool:
    """Whether repeating ``request`` cannot act twice: its method, or an idempotency key."""
    if request.method in SAFE_METHODS:
        return True
    return any(h in request.headers for h in policy.idempotency_headers)


def replayable(request: httpx.Request) -> bool:
    """A body that can be sent again exactly (bytes, not a one-shot generator)."""
    return isinstance(request.stream, httpx.ByteStream)


Check = Callable[[Attempt], bool]


def retryable_outcome(policy: RetryPolicy) -> Check:
    """The outcome may succeed later, and resending cannot make the vendor act twice."""

    def check(attempt: Attempt) -> bool:
        outcome = attempt.outcome
        if outcome is None or not outcome.retryable:
            return False
        return outcome.rejected or policy.retry_ambiguous or resend_safe(attempt.request, policy)

    return check


def retryable_transport_error(policy: RetryPolicy) -> Check:
    """Connect errors always (nothing was sent); read errors only for safe requests."""

    def check(attempt: Attempt) -> bool:
        if isinstance(attempt.exception, _NEVER_SENT):
            return True
        if isinstance(attempt.exception, _MAYBE_SENT):
            return resend_safe(attempt.request, policy)
        return False

    return check


def any_of(*checks: Check) -> Check:
    """Retry when any check says so."""
    return lambda attempt: any(check(attempt) for check in checks)


def retry_after(
    response: httpx.Response | None, now: Callable[[], float] = time.time
) -> float | None:
    """The response's Retry-After in seconds (delta or HTTP date), or None; never negative."""
    if response is None:
        return None
    value = response.headers.get("retry-after", "").strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if seconds == seconds else None  # NaN is no answer
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        return None
    date = response.headers.get("date")
    reference = now()
    if date:  # the vendor's own clock, so skew between hosts does not matter
        with contextlib.suppress(TypeError, ValueError, IndexError, OverflowError):
            reference = email.utils.parsedate_to_datetime(date).timestamp()
    return max(0.0, when.timestamp() - reference)


class Strategy:
    """The tenacity ``retry``/``wait``/``stop`` trio for one request under one policy.

    ``stop`` (``astop`` for the async transports) also asks the vendor's shared state whether
    a retry may go out: the retry budget must pay for it, the circuit must not be open, and the
    wait grows to cover the vendor's cooldown.
    """

    def __init__(
        self,
        policy: RetryPolicy,
        request: httpx.Request,
        max_attempts: int,
        store: State | AsyncState,
        keys: Keys,
        limits: Limits,
        *,
        started: float,
        replayable: bool,
    ) -> None:
        self.policy = policy
        self.request = request
        self.max_attempts = max_attempts
        self.store = store
        self.keys = keys
        self.limits = limits
        self.started = started
        self.spent = 0
        self.stop_reason: str | None = None
        self._replayable = replayable  # judged before the first attempt was sent
        self._should_retry = policy.should_retry

    def retry(self, state: tenacity.RetryCallState) -> bool:
        return self.decide(Attempt.from_state(self.request, state))

    def decide(self, attempt: Attempt) -> bool:
        """Whether this attempt's result is worth another attempt (noting why not, if not)."""
        if self._replayable and self._should_retry(attempt):
            return True
        transient = isinstance(attempt.exception, TRANSIENT) or (
            attempt.outcome is not None and attempt.outcome.retryable
        )
        if transient:
            self.stop_reason = "not_safe_to_resend" if self._replayable else "body_not_replayable"
        return False

    def wait(self, state: tenacity.RetryCallState) -> float:
        attempt = Attempt.from_state(self.request, state)
        after = retry_after(attempt.response)
        if after is not None:
            return after  # past max_retry_after or the deadline, stop() gives up instead
        category = None if attempt.outcome is None else attempt.outcome.category.value
        return self.policy.backoff(category, attempt.number)

    def stop(self, state: tenacity.RetryCallState) -> bool:
        if self._limited(state):
            return True
        assert isinstance(self.store, State)
        return self._refused(state, self.store.retry(self.keys, self.limits, self._cost(state)))

    async def astop(self, state: tenacity.RetryCallState) -> bool:
        if self._limited(state):
            return True
        assert isinstance(self.store, AsyncState)
        cost = self._cost(state)
        return self._refused(state, await self.store.retry(self.keys, self.limits, cost))

    def _limited(self, state: tenacity.RetryCallState) -> bool:
        """The limits this call sets itself: attempts, the vendor's Retry-After, the deadline."""
        if state.attempt_number >= self.max_attempts:
            self.stop_reason = "max_attempts"
            return True
        return self._too_long(state.upcoming_sleep)

    def _too_long(self, delay: float) -> bool:
        if delay > self.policy.max_retry_after:
            self.stop_reason = "retry_after_too_long"
            return True
        if not self.within_deadline(delay):
            self.stop_reason = "deadline"
            return True
        return False

    def within_deadline(self, delay: float) -> bool:
        deadline = self.policy.deadline
        return deadline is None or self.policy.clock() - self.started + delay <= deadline

    def _cost(self, state: tenacity.RetryCallState) -> int:
        assert state.outcome is not None
        timeout = state.outcome.failed and isinstance(state.outcome.exception(), _TIMEOUTS)
        return self.policy.timeout_cost if timeout else self.policy.retry_cost

    def _refused(self, state: tenacity.RetryCallState, admission: Admission) -> bool:
        """The limits the vendor's shared state sets: circuit, budget, cooldown."""
        if admission.verdict == "open":
            self.stop_reason = "circuit_open"
            return True
        if admission.verdict == "budget":
            self.stop_reason = "budget"
            return True
        self.spent += self._cost(state)
        if admission.wait > state.upcoming_sleep:
            # tenacity reads upcoming_sleep after stop(): the cooldown lengthens this wait
            state.upcoming_sleep = admission.wait
            return self._too_long(admission.wait)
        return False

    def tenacity_kwargs(self, asynchronous: bool = False) -> dict[str, Any]:
        return {
            "retry": self.retry,
            "wait": self.wait,
            "stop": self.astop if asynchronous else self.stop,
            "retry_error_callback": _last_result,
            "reraise": True,
        }


def _last_result(state: tenacity.RetryCallState) -> Any:
    assert state.outcome is not None
    return state.outcome.result()  # the last response, or the last exception re-raised


# --- testing switch, in the manner of stamina.set_testing ---------------------------------------

_testing: tuple[int | None] | None = None


def set_testing(testing: bool, *, attempts: int | None = None) -> None:
    """Make normalizer's retries instant for a test suite: no waiting, optionally fewer attempts.

    ``set_testing(True)`` keeps the number of attempts but never sleeps;
    ``set_testing(True, attempts=1)`` also turns retrying off. ``set_testing(False)`` restores.
    """
    global _testing
    _testing = (attempts,) if testing else None


def effective_attempts(policy: RetryPolicy) -> int:
    if _testing is not None and _testing[0] is not None:
        return max(1, min(policy.max_attempts, _testing[0]))
    return policy.max_attempts


def sleeper(policy: RetryPolicy) -> Callable[[float], None]:
    return _no_sleep if _testing is not None else policy.sleep


def async_sleeper(policy: RetryPolicy) -> Callable[[float], Awaitable[None]]:
    return _no_async_sleep if _testing is not None else policy.async_sleep


def _no_sleep(seconds: float) -> None:
    return None


async def _no_async_sleep(seconds: float) -> None:
    return None


# --- building blocks for users' own tenacity decorators ----------------------------------------


def _outcome_in(state: tenacity.RetryCallState) -> tuple[Outcome | None, httpx.Response | None]:
    assert state.outcome is not None
    if state.outcome.failed:
        exc = state.outcome.exception()
        if isinstance(exc, VendorError):
            return exc.outcome, exc.response
        return None, None
    result = state.outcome.result()
    if isinstance(result, httpx.Response):
        return outcome_of(result), result
    if isinstance(result, Outcome):
        return result, None
    return None, None


class retry_if_retryable(tenacity.retry_base):
    """Retry while the call raised a retryable :class:`VendorError`, or returned a response
    (or :class:`Outcome`) whose outcome is retryable. Compose with ``|`` and ``&``."""

    def __call__(self, retry_state: tenacity.RetryCallState) -> bool:
        outcome, _ = _outcome_in(retry_state)
        return outcome is not None and outcome.retryable


class wait_vendor(wait_base):
    """Wait as the vendor asks (Retry-After, capped) or at the category's pace (full jitter).

    Compose with tenacity's own waits using ``+``.
    """

    def __init__(self, policy: RetryPolicy | None = None) -> None:
        self.policy = policy or RetryPolicy()

    def __call__(self, retry_state: tenacity.RetryCallState) -> float:
        outcome, response = _outcome_in(retry_state)
        after = retry_after(response)
        if after is not None:
            return min(after, self.policy.max_retry_after)
        category = None if outcome is None else outcome.category.value
        return self.policy.backoff(category, retry_state.attempt_number)
