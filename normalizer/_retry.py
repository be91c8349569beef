"""Retries: what is retried, after how long, and when to give up; one decision per attempt.

In the manner of botocore's ``retries/standard.py``, every attempt becomes a read-only
:class:`Attempt` (request, response, outcome or exception, time elapsed) and one pure function,
:func:`decide`, answers "send again?" with a :class:`Decision` that says why and how long to
wait. Paying for the retry is a separate, explicit step: the vendor's store (retry budget, a
token bucket after botocore's ``quota.py``; circuit; cooldown, see :mod:`normalizer._store`)
is asked, and :func:`paid` turns its answer into the final decision. The transports run the
attempts on tenacity with that decision as retry and wait; :class:`retry_if_retryable` and
:class:`wait_vendor` give user code the same rules. Clock, sleep and randomness are injectable.
"""

from __future__ import annotations

import contextlib
import dataclasses
import email.utils
import math
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from types import MappingProxyType
from typing import NamedTuple

import httpx
import tenacity
from tenacity.wait import wait_base

from ._category import Category
from ._exceptions import UnregisteredVendorError, VendorError
from ._limiter import ROUNDING, SETTLE
from ._mapping import Resend
from ._outcome import RESEND_KEY, Outcome, extensions_of, outcome_of
from ._registry import default_registry
from ._router import REQUEST_KEY, target_of
from ._sdk import answer as sdk_answer
from ._sdk import transport_failure, vendor_error_in
from ._store import Admission

SAFE_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE"})
"""Methods whose repetition has no further effect (RFC 9110 idempotent methods), unless the
vendor acts through the method (its mapping's ``[resend] acts_through``)."""

NO_RESEND = Resend()

NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
"""Transport errors raised before the request reached the vendor: a certain non-send."""
_MAYBE_SENT = (
    httpx.ReadTimeout,
    httpx.WriteTimeout,
    httpx.ReadError,
    httpx.WriteError,
    httpx.RemoteProtocolError,
)
_TIMEOUTS = (httpx.TimeoutException,)
TRANSIENT = NEVER_SENT + _MAYBE_SENT
"""Transport errors that say nothing against the request: the vendor may answer next time."""


async def _async_sleep(seconds: float) -> None:
    """Sleep on whatever event loop runs the call: asyncio or trio, through anyio (as httpx)."""
    import anyio  # an httpx dependency; imported when first needed: sync users never load it

    await anyio.sleep(seconds)


@dataclasses.dataclass(frozen=True, eq=False)
class RetryPolicy:
    """How the transports retry; immutable, shareable, and every default is a safe one.

    Retried: outcomes whose ``retryable`` is true, and transport errors where the request
    never left (connect errors, pool timeouts), or may be repeated safely. After an ambiguous
    failure (a timeout after writing, a lost connection, a 5xx that does not say the vendor
    refused the request before acting) a request is resent only when it cannot act twice:
    its operation only reads (the vendor's mapping, ``[resend]``, or its method where the
    vendor never acts through GET), it carries the header the vendor de-duplicates on, or
    the caller said so (``idempotent`` here, or per request).
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
    idempotent: bool | None = None
    """The caller's word on every request of the client: True, each may be resent after an
    ambiguous failure (they read, or the vendor de-duplicates them: yours to know); False,
    none is, not even a read; None, the vendor's mapping and the method decide. A request's
    own ``extensions={"normalizer": {"idempotent": ...}}`` overrides it."""
    budget_capacity: int = 500
    retry_cost: int = 5
    timeout_cost: int = 10
    paced_cost: int = 1
    """A retry the rate limiter paces adds no load above the limited rate, so it costs less
    than ``retry_cost``; not nothing, so a vendor answering busy forever still empties the
    budget and its calls fail at once."""
    clock: Callable[[], float] = dataclasses.field(default=time.monotonic, repr=False)
    sleep: Callable[[float], None] = dataclasses.field(default=time.sleep, repr=False)
    async_sleep: Callable[[float], Awaitable[None]] = dataclasses.field(
        default=_async_sleep, repr=False
    )
    random: Callable[[], float] = dataclasses.field(default=random.random, repr=False)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.base < 0 or self.cap < 0 or self.max_retry_after < 0:
            raise ValueError("base, cap and max_retry_after must not be negative")
        if self.deadline is not None and self.deadline <= 0:
            raise ValueError("deadline must be positive (or None)")
        if min(self.budget_capacity, self.retry_cost, self.timeout_cost, self.paced_cost) < 0:
            raise ValueError("the budget's capacity and costs must not be negative")
        object.__setattr__(
            self, "pace", MappingProxyType({str(Category(k)): v for k, v in self.pace.items()})
        )

    def backoff(self, category: str | None, number: int, jitter: float | None = None) -> float:
        """Full-jitter exponential backoff before attempt ``number + 1`` (``jitter``: the
        attempt's random draw, when it was drawn already)."""
        base = self.pace.get(category, self.base) if category else self.base
        jitter = self.random() if jitter is None else jitter
        return float(jitter * min(self.cap, base * 2 ** (number - 1)))


@dataclasses.dataclass(frozen=True, slots=True)
class Attempt:
    """What one attempt produced: the read-only context a retry decision looks at."""

    request: httpx.Request | None
    number: int
    response: httpx.Response | None = None
    outcome: Outcome | None = None
    exception: BaseException | None = None
    elapsed: float | None = None
    """Seconds since the call began, for the deadline (None: no deadline applies)."""
    wait_headers: tuple[str, ...] = ("retry-after",)
    """Response headers that say how long to wait, first found wins (a mapping may add
    its vendor's, e.g. ``x-ratelimit-reset``)."""
    resend: Resend = NO_RESEND
    """The vendor's ``[resend]`` rules: which operations only read, which header
    de-duplicates (none known: the method decides)."""
    jitter: float | None = None
    """The attempt's random draw for its backoff, so that every strategy asked about it sees
    the same delay (None: each draws its own)."""


class Rules(NamedTuple):
    """What a call's strategies know besides its attempts (read-only; user code has none of
    it: the defaults)."""

    max_attempts: int | None = None
    """Attempts in all (None: the policy's, for :class:`stop_vendor`; no limit for
    :func:`decide`)."""
    replayable: bool = True
    """The body can be sent again exactly."""
    signed_once: bool = False
    """The request carries a one-time signature (its mapping's ``nonce``): only a request that
    never left is sent again, the caller (who signs anew) decides the rest."""
    paces: bool = False
    """The adaptive rate limiter paces busy retries of shared scope."""
    own_headers: tuple[str, ...] = ()
    """The vendor's own wait headers (``x-ratelimit-reset``): always waited."""


NO_RULES = Rules()


class Decision(NamedTuple):
    """Whether to send a request again, why, and after how long.

    ``why`` names the rule: for a retry, what makes resending safe (``rejected``,
    ``never_sent``, ``read_operation``, ``safe_method``, ``idempotency_key``, ``idempotent``);
    otherwise ``ok``,
    ``not_retryable``, or one of :data:`GIVE_UP` (a failure that might have passed later).
    ``delay_from`` says where the delay came from: ``backoff``, ``retry_after``, ``cooldown``, or
    ``rate_limit`` (a busy answer for the vendor or account: the rate limiter paces the retry,
    after a short settling wait instead of the category's backoff).
    """

    retry: bool
    why: str
    delay: float = 0.0
    delay_from: str | None = None


GIVE_UP = frozenset(
    {
        "not_safe_to_resend",
        "body_not_replayable",
        "signed_once",
        "max_attempts",
        "deadline",
        "retry_after_too_long",
        "budget",
        "circuit_open",
        "rate_limited",
    }
)
"""Reasons a failure that might pass later is not retried (logged as ``vendor_call_gave_up``)."""


def resendable(attempt: Attempt, policy: RetryPolicy, rules: Rules = NO_RULES) -> Decision:
    """Whether the failure of ``attempt`` may be sent again, and why (the *retry* strategy).

    Yes for a retryable outcome the vendor refused before acting, or whose request cannot act
    twice (:func:`resend_safety`); a transport error where the request never left, or one that
    cannot act twice. Never for a body that cannot be replayed, nor for a request signed once
    that may have arrived. The answer has no delay: that is :func:`wait_for`'s.
    """
    outcome, error = attempt.outcome, attempt.exception
    if error is not None:
        if not isinstance(error, TRANSIENT):
            return _NOT_RETRYABLE
        why = "never_sent" if isinstance(error, NEVER_SENT) else resend_safety(attempt, policy)
    elif outcome is None or not outcome.retryable:
        return _OK if outcome is not None and outcome.ok else _NOT_RETRYABLE
    elif outcome.rejected:
        why = "rejected"
    else:
        why = resend_safety(attempt, policy)
    if not rules.replayable:
        return Decision(False, "body_not_replayable")
    if why is None:
        return Decision(False, "not_safe_to_resend")
    if rules.signed_once and why != "never_sent":
        return Decision(False, "signed_once")
    return Decision(True, why)


def wait_for(attempt: Attempt, policy: RetryPolicy, rules: Rules = NO_RULES) -> tuple[float, str]:
    """How long to wait before sending again, and where that came from (the *wait* strategy):
    the vendor's Retry-After (or its own wait header), else the window the mapping entry says
    the vendor's text names (``Outcome.retry_after``), else the category's backoff; for a busy
    answer of the whole account while the adaptive limiter paces (``rules.paces``), a short
    settling wait instead (``rate_limit``: the limiter's turn follows).

    The settling wait also replaces a call's first ``Retry-After`` of at most ``ROUNDING``
    (1 s): on a rate limit the smallest whole second is the header's rounding more often than a
    pause, and waited by every refused call it idles callers the vendor could serve (sixteen
    threads refused at once lost their first second). A call refused again waits it; a longer
    one (a quota window), or a vendor's own reset header, is always waited.
    """
    outcome, number = attempt.outcome, attempt.number
    after = retry_after(attempt.response, attempt.wait_headers)
    if after is None and outcome is not None and outcome.retry_after:
        after = outcome.retry_after  # the window the vendor's text names (its mapping entry)
    if (
        rules.paces
        and outcome is not None
        and outcome.category is Category.BUSY
        and outcome.scope.shared
        and (
            after is None
            or (
                number == 1
                and after <= ROUNDING
                and within_deadline(policy, attempt.elapsed, after)  # else it stops: the
                # vendor's pause does not fit, and a settling wait would not make it fit
                and attempt.response is not None
                and not any(h in attempt.response.headers for h in rules.own_headers)
            )
        )
    ):
        jitter = policy.random() if attempt.jitter is None else attempt.jitter
        return jitter * min(policy.cap, SETTLE * 2 ** (number - 1)), "rate_limit"
    if after is not None:
        return after, "retry_after"
    category = None if outcome is None else outcome.category.value
    return policy.backoff(category, number, attempt.jitter), "backoff"


def stops(
    attempt: Attempt, delay: float, policy: RetryPolicy, rules: Rules = NO_RULES
) -> str | None:
    """Why the call stops rather than wait ``delay`` and send again, or None (the *stop*
    strategy): its attempts are used up, the vendor asks for a longer pause than
    ``max_retry_after``, or the wait would pass the deadline."""
    if rules.max_attempts is not None and attempt.number >= rules.max_attempts:
        return "max_attempts"
    if delay > policy.max_retry_after:
        return "retry_after_too_long"
    if not within_deadline(policy, attempt.elapsed, delay):
        return "deadline"
    return None


def decide(
    attempt: Attempt,
    policy: RetryPolicy,
    rules: Rules = NO_RULES,
    *,
    max_attempts: int | None = None,
    replayable: bool = True,
    signed_once: bool = False,
) -> Decision:
    """Whether (and when) to send again after ``attempt``, and why: the three strategies
    (:func:`resendable`, :func:`wait_for`, :func:`stops`) in one answer, without side effects.
    The keywords are shorthands for the :class:`Rules` fields of the same names. The vendor's
    shared state (budget, circuit, cooldown) is asked afterwards: :func:`paid`.
    """
    if max_attempts is not None or not replayable or signed_once:
        rules = rules._replace(
            max_attempts=max_attempts if max_attempts is not None else rules.max_attempts,
            replayable=rules.replayable and replayable,
            signed_once=rules.signed_once or signed_once,
        )
    decision = resendable(attempt, policy, rules)
    if not decision.retry:
        return decision
    delay, source = wait_for(attempt, policy, rules)
    stop = stops(attempt, delay, policy, rules)
    if stop is not None:
        return Decision(False, stop)
    return Decision(True, decision.why, delay, source)


_OK = Decision(False, "ok")
_NOT_RETRYABLE = Decision(False, "not_retryable")


def paid(
    decision: Decision, admission: Admission, policy: RetryPolicy, elapsed: float | None
) -> Decision:
    """The decision once the vendor's store answered the retry (and took its tokens): an open
    circuit, an empty budget or a rate-limiter queue longer than the call may wait stops it; a
    cooldown longer than the delay stretches it. (The rate limiter's turn is taken when the
    delay is over: the transports wait for it then.)"""
    if admission.verdict == "open":
        return Decision(False, "circuit_open")
    if admission.verdict == "budget":
        return Decision(False, "budget")
    if admission.verdict == "rate":
        return Decision(False, "rate_limited")
    if admission.wait > decision.delay:
        stretched = decision._replace(delay=admission.wait, delay_from="cooldown")
        return bounded(stretched, policy, elapsed)
    return decision


def retry_cost(error: BaseException | None, policy: RetryPolicy) -> int:
    """Tokens a retry costs: after a timeout more (it held a connection that long)."""
    return policy.timeout_cost if isinstance(error, _TIMEOUTS) else policy.retry_cost


def bounded(decision: Decision, policy: RetryPolicy, elapsed: float | None) -> Decision:
    if decision.delay > policy.max_retry_after:
        return Decision(False, "retry_after_too_long")
    if not within_deadline(policy, elapsed, decision.delay):
        return Decision(False, "deadline")
    return decision


def within_deadline(policy: RetryPolicy, elapsed: float | None, delay: float) -> bool:
    """Whether waiting ``delay`` more seconds stays within the policy's deadline."""
    deadline = policy.deadline
    return deadline is None or elapsed is None or elapsed + delay <= deadline


def resend_safety(attempt: Attempt, policy: RetryPolicy) -> str | None:
    """Why sending ``attempt``'s request again cannot act twice, or None when it might.

    In order: the caller's word (the request's ``idempotent`` extension, then the policy's);
    the header the vendor de-duplicates on (``idempotency_key``); an operation the vendor's
    mapping declares a read (``read_operation``); a method RFC 9110 calls idempotent
    (``safe_method``), except a GET to a vendor that acts through GET. Nothing else: a
    header the vendor does not honour, or a reference it only echoes back, proves nothing.
    """
    request = attempt.request
    if request is None:  # a bare Outcome, an SDK's answer: only the caller's word is known
        return "idempotent" if policy.idempotent else None
    said = _said(request)
    if said is None:
        said = policy.idempotent
    if said is not None:
        return "idempotent" if said else None
    rules, method = attempt.resend, request.method
    if rules.idempotency and rules.deduplicated(request.headers, target_of(request)):
        return "idempotency_key"
    if rules.reads and rules.reads_only(method, target_of(request)):
        return "read_operation"
    if method in SAFE_METHODS and method not in rules.acts_through:
        return "safe_method"
    return None


def _said(request: httpx.Request) -> bool | None:
    """The request's own ``extensions={"normalizer": {"idempotent": ...}}``, if a bool."""
    options = request.extensions.get(REQUEST_KEY)
    said = options.get("idempotent") if isinstance(options, dict) else None
    return said if isinstance(said, bool) else None


def replayable(request: httpx.Request) -> bool:
    """A body that can be sent again exactly (bytes, not a one-shot generator)."""
    return isinstance(request.stream, httpx.ByteStream)


def retry_after(
    response: httpx.Response | None,
    headers: tuple[str, ...] = ("retry-after",),
    now: Callable[[], float] = time.time,
) -> float | None:
    """The response's Retry-After (or the first of ``headers`` readable) in seconds, as a
    delta or an HTTP date; None when absent or unreadable; never negative."""
    if response is None:
        return None
    for name in headers:
        seconds = _seconds(response, response.headers.get(name, "").strip(), now)
        if seconds is not None:
            return seconds
    return None


def _seconds(response: httpx.Response, value: str, now: Callable[[], float]) -> float | None:
    """One wait header's value in seconds (a delta or an HTTP date); None when unreadable."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if math.isfinite(seconds) else None  # inf, NaN: no answer
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


# --- testing switch, in the manner of stamina.set_testing ---------------------------------------

_testing: tuple[int | None] | None = None


class set_testing:
    """Make normalizer's retries instant for a test suite: no waiting, optionally fewer attempts.

    ``set_testing(True)`` keeps the number of attempts but never sleeps;
    ``set_testing(True, attempts=1)`` also turns retrying off; ``set_testing(False)`` restores.
    As a context manager (``with set_testing(True): ...``) it restores what was before on exit.
    """

    def __init__(self, testing: bool, *, attempts: int | None = None) -> None:
        global _testing
        self._before = _testing
        _testing = (attempts,) if testing else None

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        global _testing
        _testing = self._before


def is_testing() -> bool:
    """Whether :func:`set_testing` is on."""
    return _testing is not None


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


# --- the strategies, as tenacity's: the transports' retries and users' own decorators ---------


def _attempt_in(state: tenacity.RetryCallState, hint: _Hint = None) -> Attempt | None:
    """The tenacity attempt as normalizer sees it: the transports' own :class:`Attempt`, or
    what user code returned or raised (a Response, an Outcome, a VendorError, a vendor SDK's
    exception: ``hint`` is the vendor and product it was asked to read those as)."""
    assert state.outcome is not None
    if state.outcome.failed:
        exc = state.outcome.exception()
        if not isinstance(exc, VendorError):
            inner = vendor_error_in(exc) if exc is not None else None
            if inner is None:
                return None if exc is None else _sdk_attempt(exc, state, hint)
            exc = inner  # an SDK wrapped a normalizer transport's error: judged as it
        rules = _rules_for(exc.outcome, exc.response)
        request = exc.request if isinstance(exc.request, httpx.Request) else None
        response = exc.response
        if response is not None and not isinstance(response, httpx.Response):
            # requests' (normalizer.requests): judged as an SDK's answer is, by the outcome
            # and the answer's headers (its Retry-After), without the request
            response = httpx.Response(response.status_code, headers=list(response.headers.items()))
        return Attempt(
            request,
            state.attempt_number,
            response,
            exc.outcome,
            elapsed=state.seconds_since_start,
            resend=rules,
        )
    result = state.outcome.result()
    if isinstance(result, Attempt):
        return result
    if isinstance(result, httpx.Response):
        outcome = outcome_of(result)
        number, rules = state.attempt_number, _rules_for(outcome, result)
        return Attempt(
            _request_of(result),
            number,
            result,
            outcome,
            elapsed=state.seconds_since_start,
            resend=rules,
        )
    if isinstance(result, Outcome):
        number = state.attempt_number
        return Attempt(None, number, outcome=result, elapsed=state.seconds_since_start)
    return None


_Hint = tuple[str | None, str | None] | None
"""The vendor and product a user's strategy reads SDK exceptions as (None: any vendor's)."""


def _sdk_attempt(exc: BaseException, state: tenacity.RetryCallState, hint: _Hint) -> Attempt | None:
    """A vendor SDK's exception as an attempt: the answer it carries (there is no request:
    only an answer the vendor refused before acting is resent, unless the policy's
    ``idempotent`` says every call may be; the answer's headers, where the SDK keeps them,
    give its Retry-After), else the transport failure it wraps, judged as the transports
    judge httpx's (never sent, or may have acted); None for anything else."""
    vendor, product = hint or (None, None)
    found = sdk_answer(exc, vendor=vendor, product=product)
    number, elapsed = state.attempt_number, state.seconds_since_start
    if found is not None:
        outcome, headers, mapping = found
        response = None
        if headers:  # only for its wait headers: Retry-After, then the vendor's own
            response = httpx.Response(outcome.http_status or 200, headers=dict(headers))
        return Attempt(
            None,
            number,
            response,
            outcome,
            elapsed=elapsed,
            resend=_rules_for(outcome),
            wait_headers=("retry-after", *(mapping.envelope.retry_after if mapping else ())),
        )
    failure = transport_failure(exc, vendor=vendor)
    if failure is not None:
        return Attempt(None, number, exception=failure, elapsed=elapsed)
    return None


def _rules_for(outcome: Outcome | None, response: object = None) -> Resend:
    """The ``[resend]`` rules of the outcome's vendor (a user's retry resends the same
    operation, so whether it may act twice is the same question; a one-time signature is not,
    since user code signs anew): those of the mapping the call was read with, kept on its
    response (a private :class:`Registry`'s included), else the default registry's."""
    if response is not None:
        kept = extensions_of(response).get(RESEND_KEY)  # an httpx or a requests response
        if isinstance(kept, Resend):
            return kept
    if outcome is None:
        return NO_RESEND
    try:
        return default_registry().get(outcome.vendor).resend
    except UnregisteredVendorError:
        return NO_RESEND


def _request_of(response: httpx.Response) -> httpx.Request | None:
    try:
        return response.request
    except RuntimeError:
        return None


class _Strategy:
    """What the three tenacity strategies below are built from: the policy and rules they
    judge by, and the vendor/product hint for an SDK's exception."""

    def __init__(
        self,
        policy: RetryPolicy | None = None,
        rules: Rules = NO_RULES,
        *,
        vendor: str | None = None,
        product: str | None = None,
    ) -> None:
        self.policy = policy or _DEFAULT_POLICY
        self.rules = rules
        self.hint: _Hint = (vendor, product)


class retry_if_retryable(_Strategy, tenacity.retry_base):
    """Retry as the transports do: while the call raised a :class:`VendorError`, or returned a
    response (or :class:`Outcome`), whose failure may be sent again (:func:`resendable`).

    A vendor SDK's exception is read with :func:`normalizer.classify_exception` (``vendor``
    and ``product`` narrow it, as there); a transport failure it wraps is judged as the
    transports judge httpx's: resent when it never left, not when it may have acted.

    The request comes from the error or the response; without one (a bare Outcome, an SDK's
    exception) only an outcome the vendor refused before acting is retried, unless the
    policy says every call may be resent (``RetryPolicy(idempotent=True)``). How long to wait is
    :class:`wait_vendor`'s, when to stop :class:`stop_vendor`'s (or your own ``stop``).
    Compose with ``|`` and ``&``.
    """

    def __call__(self, retry_state: tenacity.RetryCallState) -> bool:
        attempt = _attempt_in(retry_state, self.hint)
        return attempt is not None and resendable(attempt, self.policy, self.rules).retry


class wait_vendor(_Strategy, wait_base):
    """Wait as the transports do (:func:`wait_for`): the vendor's Retry-After or the
    category's pace (full jitter). Compose with tenacity's own waits using ``+``."""

    def __call__(self, retry_state: tenacity.RetryCallState) -> float:
        attempt = _attempt_in(retry_state, self.hint)
        if attempt is None:
            return self.policy.backoff(None, retry_state.attempt_number)
        # a longer pause is :class:`stop_vendor`'s to refuse; a decorator without it still
        # never sleeps a vendor's day-long Retry-After (or an HTTP date in 2099)
        return min(wait_for(attempt, self.policy, self.rules)[0], self.policy.max_retry_after)


class stop_vendor(_Strategy, tenacity.stop.stop_base):
    """Stop as the transports do (:func:`stops`): after the policy's ``max_attempts``, before
    a wait longer than ``max_retry_after`` (the vendor asked for a pause this call will not
    take), or one that would pass the ``deadline`` (counted from the first attempt). Compose
    with tenacity's own stops using ``|``."""

    def __init__(
        self,
        policy: RetryPolicy | None = None,
        rules: Rules = NO_RULES,
        *,
        vendor: str | None = None,
        product: str | None = None,
    ) -> None:
        super().__init__(policy, rules, vendor=vendor, product=product)
        if self.rules.max_attempts is None:
            self.rules = self.rules._replace(max_attempts=self.policy.max_attempts)

    def __call__(self, retry_state: tenacity.RetryCallState) -> bool:
        attempt = _attempt_in(retry_state, self.hint)
        if attempt is None:
            return retry_state.attempt_number >= (self.rules.max_attempts or 1)
        delay = wait_for(attempt, self.policy, self.rules)[0]  # the vendor's own ask, uncut
        return stops(attempt, delay, self.policy, self.rules) is not None


class Retrying:
    """The retries of one call on tenacity, with the strategies users have too: the transports
    build one on a call's first failure (a healthy call never touches tenacity) and ask it
    after each attempt; tenacity answers, its ``sleep`` never runs (the transports' drivers
    sleep), and nothing changes inside its callbacks (the budget is paid afterwards,
    :func:`paid`)."""

    __slots__ = ("_retrying", "policy", "rules")

    def __init__(self, policy: RetryPolicy, rules: Rules) -> None:
        self.policy, self.rules = policy, rules
        self._retrying = tenacity.Retrying(
            retry=retry_if_retryable(policy, rules),
            wait=wait_vendor(policy, rules),
            stop=stop_vendor(policy, rules),
            sleep=_no_sleep,
            retry_error_callback=_stopped,
        )
        self._retrying.begin()

    def decision(self, attempt: Attempt) -> Decision:
        """Send again after ``attempt``? tenacity's answer, with why and after how long."""
        state = tenacity.RetryCallState(self._retrying, None, (), {})
        state.attempt_number = attempt.number
        state.set_result(attempt)
        step = self._retrying.iter(state)
        if isinstance(step, tenacity.DoSleep):
            delay, source = wait_for(attempt, self.policy, self.rules)
            return Decision(True, resendable(attempt, self.policy, self.rules).why, delay, source)
        return decide(attempt, self.policy, self.rules)  # why it stops, for the log


def _stopped(state: tenacity.RetryCallState) -> None:
    """tenacity's answer when ``stop`` says so: no retry (the call keeps its last result)."""
    return None


_DEFAULT_POLICY = RetryPolicy()
