"""The vendor call, written once: route to report, every stage in order, no I/O.

:func:`vendor_call` is a generator in the manner of h11 and httpcore's state machines: it
holds one call's state in its locals and *yields* each piece of I/O it needs as an effect
(:class:`Send` the request, a question for the store, :class:`Read` the body, :class:`Sleep`,
:class:`Close` a response being replaced), receiving the result (or the exception) back. The
sync and async transports are two small drivers that perform those effects; nothing else
differs between them. Read from top to bottom, one call meets each stage once::

    admit ──> send ──> read ──> classify ──> record ──> decide ─┬─> report
                ^                                              │
                └──── pace <── sleep <── pay (budget, circuit) ┘

What it decides comes from rules kept apart: tenacity's strategies on a call's first failure
(:class:`~normalizer._retry.Retrying`: send again? after how long? stop?) and
:func:`~normalizer._retry.paid` once the store has answered; the :class:`Deadline`
arithmetic; the store's questions (:mod:`normalizer._store`). What it tells the world goes to
one :class:`~normalizer._observe.Observers` (logs, the metrics hook, OpenTelemetry).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Generator
from dataclasses import replace
from typing import Any, NamedTuple

import httpx

from ._body import CHALLENGE_KEY, Framing, Plan
from ._category import Category
from ._classify import Page, Reader, classify_uninspected
from ._exceptions import CircuitOpenError, RateLimitedError, VendorError
from ._mapping import MAX_COOLDOWN, Envelope
from ._observe import Observers
from ._outcome import Outcome, attach
from ._pipeline import Pipeline
from ._redact import Redactor
from ._retry import (
    TRANSIENT,
    Attempt,
    Decision,
    Retrying,
    RetryPolicy,
    Rules,
    effective_attempts,
    is_testing,
    paid,
    replayable,
    retry_after,
    retry_cost,
)
from ._router import Route, target_of
from ._store import (
    Admission,
    Admit,
    GiveBack,
    Keys,
    Limits,
    Pace,
    Question,
    Record,
    Refund,
    Release,
    Retry,
    Signal,
    Transition,
)
from ._telemetry import Telemetry

# --- the effects: what the call asks its driver to do ------------------------------------------


class Send(NamedTuple):
    """Send the request through the wrapped transport: a response, or a transport error."""

    request: httpx.Request


class Read(NamedTuple):
    """Read the body worth reading (``BodyReader.read`` / ``aread``): its bytes, or None."""

    response: httpx.Response
    plan: Plan
    xml: bool
    deadline: Deadline
    declared: int | None


class Sleep(NamedTuple):
    seconds: float


class Close(NamedTuple):
    """Release a response the next attempt replaces."""

    response: httpx.Response


class Stopped(Exception):
    """A ``StopIteration`` an effect raised (a user's mock transport out of replies), carried
    through the call: thrown into a generator as it is, Python would turn it into a
    ``RuntimeError``. The driver raises the original again."""

    def __init__(self, error: StopIteration) -> None:
        super().__init__(error)
        self.error = error


Effect = Question | Send | Read | Sleep | Close
"""What the call yields: a store :data:`~normalizer._store.Question` to ask, as it is (its
answer comes back), or one of the effects above."""

_new = tuple.__new__
"""A NamedTuple built in C: its generated ``__new__`` is a Python function, a frame a value,
and the values built on every call (:class:`Call`, :class:`Deadline`) skip it."""
Result = httpx.Response | httpx.TransportError
"""What one attempt ends with: a response, or the transport error it raised."""

Steps = Generator[Effect, Any, httpx.Response]


class Deadline(NamedTuple):
    """One call's deadline (:attr:`RetryPolicy.deadline`), its arithmetic in one place: how
    long the call has run, how much is left, how long an attempt may take (its httpx
    timeouts), whether a body still trickling in should be handed on unread."""

    clock: Callable[[], float]
    started: float
    ends: float | None
    """The clock's time the call must be over by (None: no deadline)."""
    tight: bool
    """The caller's timeouts may outlast the deadline even for an attempt sent at once: only
    then does a first attempt sent without waiting need :meth:`bound` (the usual call does
    not: httpx's timeouts are seconds, a deadline a minute)."""

    @classmethod
    def start(cls, policy: RetryPolicy | None, timeout: object) -> Deadline:
        """The deadline of a call starting now, whose request has httpx's ``timeout``."""
        clock = time.monotonic if policy is None else policy.clock
        started = clock()
        seconds = None if policy is None else policy.deadline
        if seconds is None:
            return _new(cls, (clock, started, None, False))
        values = timeout.values() if type(timeout) is dict else (None,)
        tight = None in values or max(values) > seconds
        return _new(cls, (clock, started, started + seconds, tight))

    def elapsed(self) -> float:
        return self.clock() - self.started

    def cap(self, seconds: float) -> float:
        """``seconds``, or what is left of the deadline if that is less."""
        ends = self.ends
        return seconds if ends is None else max(0.0, min(seconds, ends - self.clock()))

    def leaves(self, wait: float) -> bool:
        """Whether the call has time left once it has waited ``wait`` seconds."""
        ends = self.ends
        return ends is None or self.clock() + wait < ends

    def expired(self) -> bool:
        """The deadline passed: stop reading a trickling body, hand the rest on unread."""
        ends = self.ends
        return ends is not None and self.clock() >= ends - 0.001

    def bound(self, request: httpx.Request, timeout: object) -> None:
        """Bound the next attempt's httpx timeouts by what is left (``timeout``: the caller's
        own, as the call began: each attempt bounds it anew)."""
        ends = self.ends
        if ends is None:
            return
        left = max(0.001, ends - self.clock())
        if type(timeout) is dict:
            values = timeout.values()
            if None not in values and max(values) <= left:
                if request.extensions.get("timeout") is not timeout:
                    self.restore(request, timeout)
                return  # the usual case: httpx's timeouts are shorter than the deadline
        current = timeout if isinstance(timeout, dict) else {}
        request.extensions = {
            **request.extensions,
            "timeout": {
                kind: left if current.get(kind) is None else min(float(current[kind]), left)
                for kind in ("connect", "read", "write", "pool")
            },
        }

    @staticmethod
    def restore(request: httpx.Request, timeout: object) -> None:
        """Give the caller's request its own timeouts back (a redirect or a resend of the same
        request starts from them, not from what was left of this call's deadline)."""
        extensions = request.extensions
        if extensions.get("timeout") is not timeout:
            extensions = dict(extensions)
            if timeout is None:
                extensions.pop("timeout", None)
            else:
                extensions["timeout"] = timeout
            request.extensions = extensions


class Call(NamedTuple):
    """One call's read-only context: what is fixed before its first attempt (a tuple: it is
    built on every call, and a frozen dataclass costs several times more to build)."""

    pipeline: Pipeline
    request: httpx.Request
    route: Route
    keys: Keys
    limits: Limits
    policy: RetryPolicy | None
    deadline: Deadline
    replayable: bool
    paces: bool
    """The adaptive limiter paces busy retries (decided alike under ``set_testing``)."""
    timeout: object
    """The caller's own timeouts, given back when the call ends."""
    envelope: Envelope
    """Where the vendor's (or product's) responses keep their fields."""
    redactor: Redactor
    """The transport's redactor with the vendor's ``[redact]``."""
    admit: Admit | None
    """The question before the first attempt, when it is the route's usual one."""
    reader: Reader
    """How the route's responses are read."""
    patience: float
    """A failover's patience, when one listens and it is shorter than the rate limiter's
    ``max_wait`` (inf otherwise): a retry's turn further ahead is refused (the answer stands),
    and so is the first turn while none of the leg's requests has gone, and the failover
    moves the recipients on rather than wait (:class:`~normalizer._observe.Ear`)."""

    @property
    def max_attempts(self) -> int:
        """How many attempts the call may make (asked once it has failed: a healthy call
        never needs to know)."""
        return 1 if self.policy is None else effective_attempts(self.policy)


def _start(pipeline: Pipeline, request: httpx.Request, route: Route) -> Call:
    """The read-only context of one call of ``request`` on ``route``."""
    prepared = pipeline.prepare(route)
    limits = prepared.limits
    paces = limits.adaptive
    if limits.limiter is not None and is_testing():  # nothing waits for a turn
        limits = replace(limits, limiter=None)
    policy = pipeline.policy
    call_timeout = request.extensions.get("timeout")
    return _new(  # Call(...) without the Python-level __new__ a NamedTuple has: once a call
        Call,
        (
            pipeline,
            request,
            route,
            prepared.keys,
            limits,
            policy,
            Deadline.start(policy, call_timeout),
            replayable(request),  # judged before sending: that may turn a stream into bytes
            paces,
            call_timeout,
            prepared.envelope,
            prepared.redactor,
            prepared.admit if limits is prepared.limits else None,
            prepared.reader,
            math.inf,
        ),
    )


def vendor_call(
    pipeline: Pipeline, request: httpx.Request, route: Route, telemetry: Telemetry | None
) -> Steps:
    """One vendor call, from its admission to its report (see the module's drawing);
    ``telemetry``: where it reports, if anywhere (:meth:`Pipeline.listening`)."""
    call = _start(pipeline, request, route)
    keys, limits, policy = call.keys, call.limits, call.policy
    observe = Observers(call, telemetry)
    ear = observe.ear
    question = call.admit
    if (
        ear is not None
        and ear.open  # a leg over: its failover moves nobody on any more (a task outliving it)
        and limits.limiter is not None
        and ear.patience < limits.limiter.max_wait
    ):
        # a failover listens that would rather move on than wait so long for a turn: its
        # retries' turns (a refused one leaves the vendor's answer standing), and its first
        # turn while nothing of the leg has gone (a refusal raises: raised after a request
        # went, it would leave the leg's recipients neither sent nor safe to move). What the
        # observers hold of the call is the same: only the patience and its questions differ.
        call = call._replace(patience=ear.patience, admit=None)
        question = Admit(keys, limits, _patience(call, ceiling=math.inf if ear.sent else None))
    # admit: may the call go out now, and when?
    admission: Admission = yield question or Admit(keys, limits, _patience(call))
    probing = admission.verdict == "probe"
    clean, at = admission.clean, admission.at
    waiting = False  # holding a rate-limiter turn not yet used
    bounded = False  # an attempt's timeouts were bounded by the deadline: give them back
    attempts = spent = 0
    decision = reason = None
    retrying: Retrying | None = None
    try:
        # may refuse: a probe refused frees its slot; "go" at once (the usual answer) is final
        go = admission.verdict == "go" and not admission.wait and not admission.turn
        try:
            first = 0.0 if go else _admitted(call, admission)
        except (CircuitOpenError, RateLimitedError) as refusal:
            observe.refused(refusal)  # certainly not sent: what a failover hears
            raise
        if first:
            waiting = limits.limiter is not None
            yield Sleep(first)
            waiting = False
        while True:
            # send, read, classify
            attempts += 1
            if attempts > 1 or first or call.deadline.tight:
                bounded = True
                call.deadline.bound(request, call.timeout)
            result: Result
            if observe.ear is not None:  # a failover listens: the request may now go
                observe.sending()
            try:
                response: httpx.Response = yield _new(Send, (request,))
                framing = Framing.of(response)
                plan = pipeline.body.plan(request, response, framing, route)
                raw = pipeline.body.loaded(response, framing) if plan is Plan.READ else None
                if raw is None and plan in (Plan.READ, Plan.SNIFF):
                    xml = call.envelope.xml
                    declared = framing.content_length
                    raw = yield _new(Read, (response, plan, xml, call.deadline, declared))
            except httpx.TransportError as exc:
                result, outcome = exc, None
                observe.attempt(attempts, None, None, exc)
                signal = _signal(call, clean, probing, at, failed=_breaks(limits, exc))
            else:
                result = response
                outcome = _classify(call, response, framing, raw, plan)
                attach(response, outcome, attempts, call.redactor, call.route.mapping.resend)
                hop = response.status_code in (401, 407) and _challenge(request, response)
                observe.attempt(attempts, response, outcome, hop=hop)
                # an auth flow's challenge is a hop, not the vendor's answer: nothing to record
                # (MANGO's 401 carries a cooldown that must not hold back the answered request)
                signal = (
                    None if hop else _inspected(call, response, outcome, clean, probing, at, spent)
                )
            # record what it showed
            if signal is not None:
                clean = False
                transition: Transition = yield Record(keys, limits, signal)
                probing = False  # the store has the probe's answer
                if transition is not None:
                    observe.circuit(transition)
            # decide (tenacity, on the first failure), pay
            if policy is None or (outcome is not None and not outcome.retryable):
                decision = _OK if outcome is not None and outcome.ok else _FINAL  # the usual
            else:
                retrying = retrying or _retrying(call)
                decision = retrying.decision(_attempt(call, result, outcome, attempts))
            if decision.retry:
                assert policy is not None
                cost = _cost(policy, result, decision)
                patience = _patience(call, decision.delay)
                answer: Admission = yield Retry(keys, limits, cost, decision.delay, patience)
                decision = paid(decision, answer, policy, call.deadline.elapsed())
                if answer.verdict in ("go", "probe"):
                    if decision.retry:
                        spent += cost
                        clean = clean and not cost  # the budget is short: give them back
                        probing = answer.verdict == "probe"
                    else:  # taken, then the cooldown ruled the retry out
                        yield Refund(keys, limits, cost)
                        if answer.verdict == "probe":  # a probe that will not go: the next may
                            yield Release(keys)
            observe.decided(attempts, result, decision)
            if not decision.retry:
                break
            # wait, take a turn, send again
            reason = decision.why
            observe.retrying(attempts, outcome, decision)
            if isinstance(result, httpx.Response) and not _kept(result):
                yield Close(result)  # released: the next attempt replaces it
            yield Sleep(decision.delay)
            if limits.limiter is not None:
                patience = _patience(call) if _kept(result) else math.inf
                turn: Admission = yield Pace(keys, limits, patience)
                if turn.verdict == "rate":  # its turn came too late: the last answer stands
                    decision = Decision(False, "rate_limited")
                    spent -= cost
                    yield Refund(keys, limits, cost)
                    if probing:  # the probe it was given will not go: the next call may
                        probing = False
                        yield Release(keys)
                    break
                at = turn.at
                if turn.turn:
                    waiting = True
                    yield Sleep(turn.turn)
                    waiting = False
    except GeneratorExit:  # closed unfinished by a driver that stopped: nothing can be asked
        raise
    except BaseException:
        if probing:  # cancelled (or broken) before its answer: free the probe's slot
            yield Release(keys)
        if waiting:  # ... or while waiting for its turn: the next call may have it
            yield GiveBack(keys, limits)
        raise
    finally:
        if bounded:
            call.deadline.restore(request, call.timeout)
    # report
    if isinstance(result, httpx.TransportError):
        observe.finished(None, result, attempts, decision, reason)
        raise result
    final = outcome  # the last attempt's, attached to ``result``
    assert final is not None
    observe.finished(final, None, attempts, decision, reason)
    if pipeline.options.raise_on_error and not final.ok:
        yield Close(result)  # its body stays readable on the error; an unread stream is freed
        raise VendorError.for_outcome(final)(
            final,
            request=request,
            response=result,
            attempts=attempts,
            redactor=call.redactor,
        )
    return result


# --- the rules the call applies, each a pure function of what it was given ---------------------


def _patience(call: Call, delay: float = 0.0, ceiling: float | None = None) -> float:
    """How far ahead a rate-limiter turn may be: ``max_wait`` (or a listening failover's
    shorter patience; ``ceiling`` instead, when given) past ``delay``, within the deadline."""
    limiter = call.limits.limiter
    if limiter is None:
        return math.inf
    wait = min(limiter.max_wait, call.patience if ceiling is None else ceiling)
    return call.deadline.cap(delay + wait)


def _admitted(call: Call, admission: Admission) -> float:
    """Seconds to wait before the first attempt; raises when it must not be sent."""
    if admission.verdict == "open":
        raise CircuitOpenError(call.keys.vendor, call.keys.circuit, admission.wait, "open")
    if admission.verdict == "rate":
        raise RateLimitedError(call.keys.vendor, admission.turn)
    policy = call.policy
    if policy is None:  # without a retry policy nothing waits
        return 0.0
    wait = admission.wait
    if wait and (wait > policy.max_retry_after or not call.deadline.leaves(wait)):
        # a pause past what the call may wait, or leaving it no time once over
        raise CircuitOpenError(call.keys.vendor, call.keys.circuit, wait, "cooldown")
    return max(wait, admission.turn)


def _classify(
    call: Call, response: httpx.Response, framing: Framing, raw: bytes | None, plan: Plan
) -> Outcome:
    route = call.route
    if plan is Plan.FILE:
        return classify_uninspected(route.mapping, response.status_code, route.path, route.product)
    document = None
    if raw is not None:
        document = call.pipeline.body.document(response, framing, raw, call.envelope.xml)
    if document.__class__ is Page:  # a gateway's page: its words
        return call.reader.read_page(document, response.status_code, route.path)
    return call.reader.read(document, response.status_code, route.path)


def _challenge(request: httpx.Request, response: httpx.Response) -> bool:
    """A 401/407 challenge that the request's auth flow answers with another request: a hop,
    not a failure to log (asked of 401 and 407 answers)."""
    if CHALLENGE_KEY not in request.extensions:
        return False
    headers = response.headers
    return "www-authenticate" in headers or "proxy-authenticate" in headers


def _inspected(
    call: Call,
    response: httpx.Response,
    outcome: Outcome,
    clean: bool,
    probing: bool,
    at: float,
    spent: int,
) -> Signal | None:
    """What an answer tells the vendor's store (None: nothing worth a write)."""
    limits = call.limits
    exhausted = _exhausted(call, response) if call.envelope.remaining else 0.0
    if outcome.ok:
        if clean and not spent and not exhausted:
            return None  # the usual success: nothing to refund, nothing to learn
        refund = 0 if call.policy is None else spent or 1
        return _signal(call, clean, probing, at, cooldown=exhausted, refund=refund)
    if not outcome.scope.shared:  # one callee, agent or line: this call's business only
        return _signal(call, clean, probing, at, cooldown=exhausted)
    breaker = limits.breaker
    busy = outcome.category is Category.BUSY
    return _signal(
        call,
        clean,
        probing,
        at,
        failed=breaker is not None and outcome.category in breaker.categories,
        cooldown=max(exhausted, _cooldown(call, response, outcome, busy)),
        slow=busy or outcome.overload,  # an overloaded vendor slows every caller down too
    )


def _signal(
    call: Call,
    clean: bool,
    probing: bool,
    at: float,
    *,
    failed: bool = False,
    cooldown: float = 0.0,
    refund: int = 0,
    slow: bool = False,
) -> Signal | None:
    """None when recording would change nothing: the usual success skips the store."""
    slow = slow and call.limits.adaptive
    if failed or cooldown or refund > 1 or slow:
        return Signal(failed, cooldown, refund, probing, slow, at)
    if clean or not (refund or call.limits.breaker is not None):
        return None
    return Signal(failed, cooldown, refund, probing, slow, at)


def _breaks(limits: Limits, error: BaseException) -> bool:
    return limits.breaker is not None and isinstance(error, TRANSIENT)


def _wait_headers(call: Call) -> tuple[str, ...]:
    """Retry-After, then the rate-limit headers the vendor's mapping names."""
    return ("retry-after", *call.envelope.retry_after)


def _exhausted(call: Call, response: httpx.Response) -> float:
    """The pause until the vendor's rate-limit window reopens, when an answer (any answer)
    says no call is left in it: the mapping's ``remaining`` header at 0, and the seconds its
    wait headers give. Every call sent before then would be refused: a "stop for N seconds"
    from the vendor, so a cooldown, learned like any pause read from a response
    (:func:`_learned`)."""
    policy = call.policy
    if policy is None:
        return 0.0
    headers = response.headers
    for name in call.envelope.remaining:
        try:
            left = float(headers.get(name, ""))
        except ValueError:  # absent or unreadable: the next header
            continue
        if left != 0:  # calls left (or -1, "unlimited" to some APIs)
            return 0.0
        return _learned(retry_after(response, _wait_headers(call)), policy)
    return 0.0


def _cooldown(call: Call, response: httpx.Response, outcome: Outcome, busy: bool) -> float:
    """The pause every caller of the vendor should take after this answer (of shared scope).

    A Retry-After on a busy answer is a rate limit's: the others slow down (the rate limiter)
    but do not stop, and the call that got it waits it or its turn
    (:func:`~normalizer._retry.wait_for`).
    On a server failure (maintenance, restart) it is a pause for everyone, learned from the
    response (:func:`_learned`). The mapping's own ``cooldown`` is data the user controls and
    stands as written.
    """
    policy = call.policy
    if policy is None:
        return 0.0
    learn = outcome.retryable and not busy
    learned = _learned(retry_after(response, _wait_headers(call)), policy) if learn else 0.0
    return min(MAX_COOLDOWN, max(outcome.cooldown, learned))


def _learned(after: float | None, policy: RetryPolicy) -> float:
    """A pause for every caller learned from a response: none when longer than the policy's
    ``max_retry_after``. One answer saying 999999 s, a date in 2099, 30000 meant as
    milliseconds or an hourly quota's reset must not stop the vendor (and, on Redis, the
    fleet) for long, nor hold every call for a minute to send it with no time left: each
    call finds out for itself and gives up at once (``retry_after_too_long``)."""
    return 0.0 if after is None or after > policy.max_retry_after else after


_OK = Decision(False, "ok")
_FINAL = Decision(False, "not_retryable")


def _attempt(call: Call, result: Result, outcome: Outcome | None, number: int) -> Attempt:
    """What the retry strategies look at after attempt ``number`` (a retryable answer, or a
    transport error, under a retry policy)."""
    policy = call.policy
    assert policy is not None
    resend = call.route.mapping.resend
    elapsed = call.deadline.elapsed()
    jitter = policy.random()  # drawn once: every strategy asked sees the same delay
    if isinstance(result, BaseException):
        return Attempt(
            call.request, number, exception=result, elapsed=elapsed, resend=resend, jitter=jitter
        )
    return Attempt(
        call.request,
        number,
        result,
        outcome,
        elapsed=elapsed,
        wait_headers=_wait_headers(call),  # Retry-After, then the vendor's own header
        resend=resend,
        jitter=jitter,
    )


def _retrying(call: Call) -> Retrying:
    """The call's retries on tenacity, built on its first failure."""
    assert call.policy is not None
    resend = call.route.mapping.resend
    rules = Rules(
        max_attempts=call.max_attempts,
        replayable=call.replayable,
        signed_once=bool(resend.nonce) and resend.signed_once(target_of(call.request)),
        paces=call.paces,
        own_headers=call.envelope.retry_after,
    )
    return Retrying(call.policy, rules)


def _cost(policy: RetryPolicy, result: Result, decision: Decision) -> int:
    """Retry tokens the retry costs: ``paced_cost`` for one the rate limiter paces (it goes
    out in a turn of the limited rate; at the full cost, 200 callers refused at once emptied
    the budget in the first second and 11% of their calls failed)."""
    if decision.delay_from == "rate_limit":
        return policy.paced_cost
    return retry_cost(result if isinstance(result, BaseException) else None, policy)


def _kept(result: Result) -> bool:
    """The result can stand as the call's answer later: an error, or a response whose body
    normalizer read whole (nothing to release, still readable once the call gives up)."""
    return not isinstance(result, httpx.Response) or isinstance(result.stream, httpx.ByteStream)
