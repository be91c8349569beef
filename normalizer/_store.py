"""What the calls to one vendor share: retry budget, rate limiter, circuit breaker, cooldown.

A vendor's limits are per account, not per request, so the transports keep four things per
vendor that every call reads and updates:

- the **retry budget**, a token bucket (after botocore's ``quota.py``): retries spend, successes
  refill, an empty bucket means failures return at once instead of being retried;
- the **rate limiter** (:class:`~normalizer.RateLimiter`, on by default, see ``_limiter.py``),
  one per product: once the vendor says it is overloaded, calls go out no faster than it
  serves, each at its turn;
- the **circuit breaker** (optional, :class:`CircuitBreaker`): after a run of server failures
  the vendor is not called at all for a while; then one probe decides;
- the **cooldown**: when the vendor asks every caller to stop (a mapping entry's ``cooldown``,
  a Retry-After on a server failure such as a maintenance window), every call waits it out
  instead of each discovering it by failing. A Retry-After on a rate-limit answer is not a
  cooldown: the others slow down (the limiter), none stop; a rate-limit window the vendor
  says is used up (its mapping's ``remaining`` header at 0) is.

Only answers of vendor or account scope (:class:`~normalizer.Scope`) feed the limiter, the
breaker and the cooldown: a busy callee, agent or line concerns one call.

The state lives in a store. :class:`LocalState` is in-process and the default;
``normalizer.redis`` shares the same state between processes. A store has one method,
:meth:`Store.ask`, and answers a few named questions, frozen values with named fields, by the
same rules everywhere, each answer one atomic step: :class:`Admit` (may a call go out now, and
when is its turn?), :class:`Retry` (may it go out again, and pay for that?), :class:`Pace` (a
retry's turn, once its backoff is over), :class:`Record` (what did an attempt show?), and the
three that undo what a call will not use: :class:`GiveBack` (a turn), :class:`Refund` (retry
tokens), :class:`Release` (a probe's slot). Another backend is one class answering them.

What a store reads back is checked before it is obeyed (:data:`STEP`; the Redis store's script
does the same to every field of its hashes): a pause is never longer than the one recorded, nor
than the 24 h cap on pauses; an open circuit never stays open longer than the breaker's
``recovery``; and a time that lies further ahead than it could have been put is forgotten.
"""

from __future__ import annotations

import dataclasses
import math
import threading
import time
from collections.abc import Callable
from typing import Any, Generic, Literal, NamedTuple, TypeVar, cast

from . import _limiter
from ._category import Category
from ._limiter import RateLimiter
from ._mapping import MAX_COOLDOWN

Verdict = Literal["go", "probe", "open", "budget", "rate"]

STEP = 1.0
"""Seconds a store's clock may step back and keep what it holds. An end time further ahead than
its length (a pause's, an open circuit's), or a start time (a learned rate's, a run of failures')
further ahead than now, by more than this, was not put there by a client, or the clock stepped
back (NTP, a Redis failover to a replica with another clock): it is forgotten, and the vendor's
next answers teach it again, instead of a vendor being locked out for the length of the step."""


@dataclasses.dataclass(frozen=True)
class CircuitBreaker:
    """When to stop calling a vendor that keeps failing, and for how long.

    The circuit opens after ``failures`` failed attempts in a row, the run starting no more than
    ``window`` seconds before the last of them. While open, calls fail at once with
    :class:`~normalizer.CircuitOpenError`. After ``recovery`` seconds one call goes through as a
    probe (the others still fail fast): its success closes the circuit, its failure opens it
    again. A failure is a transport error or an outcome in ``categories`` of vendor or account
    scope (a callee who was busy is not a vendor failing).

    ``categories`` is ``server`` alone by default: a vendor answering "busy" at its capacity is
    working, and is slowed down by the rate limiter, not cut off (add ``busy`` to stop calling a
    vendor that keeps saying it is overloaded). ``per_product`` keeps one circuit per product
    (Onbuka's SMS and voice) instead of one per vendor.
    """

    failures: int = 5
    window: float = 30.0
    recovery: float = 30.0
    categories: frozenset[Category] = frozenset({Category.SERVER})
    per_product: bool = False

    def __post_init__(self) -> None:
        if self.failures < 1:
            raise ValueError("failures must be at least 1")
        if self.window <= 0 or self.recovery <= 0:
            raise ValueError("window and recovery must be positive")
        object.__setattr__(self, "categories", frozenset(Category(c) for c in self.categories))


@dataclasses.dataclass(frozen=True, slots=True)
class Keys:
    """Where one call's state lives: budget and cooldown per vendor, the circuit per vendor (or
    product, with ``per_product``), the rate limiter per product: a vendor's APIs (Onbuka's SMS
    and voice) have limits of their own, and one overloaded must not slow the others."""

    vendor: str
    circuit: str
    pace: str = ""

    def __post_init__(self) -> None:
        if not self.pace:
            object.__setattr__(self, "pace", self.vendor)

    @classmethod
    def of(cls, vendor: str, product: str | None, breaker: CircuitBreaker | None) -> Keys:
        pace = vendor if product is None else f"{vendor}/{product}"
        if breaker is not None and breaker.per_product and product is not None:
            return cls(vendor, pace, pace)
        return cls(vendor, vendor, pace)


@dataclasses.dataclass(frozen=True, slots=True)
class Limits:
    """The numbers a store needs to apply the rules: the budget's size, the breaker, and the
    rate limiter with its ceiling (inf: none) for the vendor the call goes to."""

    capacity: int
    breaker: CircuitBreaker | None
    limiter: RateLimiter | None = None
    ceiling: float = math.inf
    adaptive: bool = dataclasses.field(init=False)
    """The limiter learns the rate from overload answers."""
    free: bool = dataclasses.field(init=False)
    """No ceiling: a call goes at once unless the vendor said it is overloaded."""

    def __post_init__(self) -> None:  # read on every call: plain fields, not properties
        object.__setattr__(self, "adaptive", self.limiter is not None and self.limiter.adaptive)
        object.__setattr__(self, "free", self.ceiling == math.inf)


@dataclasses.dataclass(frozen=True, slots=True)
class Admission:
    """A store's answer to "may this call go out?".

    ``verdict`` is ``go``; ``probe`` (go, as the one call that tests a half-open circuit);
    ``open`` (do not: ``wait`` is how long the circuit stays open); ``rate`` (do not: the rate
    limiter's next turn, ``turn`` seconds away, is later than the call can wait); or, for a retry
    only, ``budget`` (do not: the retry budget cannot pay). For ``go`` and ``probe``, ``wait``
    is what is left of the vendor's cooldown and ``turn`` the seconds until the rate limiter's
    turn (at least the delay asked for). ``clean`` says recording a success would change nothing
    (no failures counted, budget full), so a store may skip that write. ``at`` is the store's
    clock at the answer: a refusal of a call admitted before the rate was last lowered does not
    lower it again.
    """

    verdict: Verdict
    wait: float = 0.0
    clean: bool = False
    turn: float = 0.0
    at: float = 0.0


class Signal(NamedTuple):
    """What one attempt tells the vendor's store."""

    failed: bool = False
    """A failure the circuit breaker counts."""
    cooldown: float = 0.0
    """Seconds every caller should pause (the mapping's cooldown, a maintenance window)."""
    refund: int = 0
    """Retry tokens a success gives back."""
    probe: bool = False
    """The attempt was the half-open circuit's probe: only its success closes the circuit."""
    slow: bool = False
    """The vendor or account is overloaded (a busy answer of shared scope): lower the rate."""
    at: float = 0.0
    """The store's clock when the attempt was admitted (:attr:`Admission.at`)."""


Transition = Literal["opened", "closed"] | None

A = TypeVar("A")


@dataclasses.dataclass(frozen=True, slots=True)
class Query(Generic[A]):
    """Something a store is asked about the vendor state at ``keys``; ``A`` is the type of its
    answer.

    Each question is one atomic step of the rules, a frozen value with named fields: a backend
    answers it whole (:meth:`Store.ask`), so two callers never both take the last token or both
    probe a half-open circuit.
    """

    keys: Keys


@dataclasses.dataclass(frozen=True, slots=True)
class Admit(Query[Admission]):
    """Before a call's first attempt: may it go out now, and when is its turn? Takes a
    rate-limiter turn at most ``patience`` seconds away."""

    limits: Limits
    patience: float = math.inf


@dataclasses.dataclass(frozen=True, slots=True)
class Retry(Query[Admission]):
    """Before a retry due ``delay`` seconds from now: as :class:`Admit`, and spend ``cost``
    tokens when the answer is go; the rate limiter's turn is only looked at (``rate`` when it is
    more than ``patience`` away), and taken by :class:`Pace` once the backoff is over, so that a
    retry due in a second does not hold back the calls arriving meanwhile."""

    limits: Limits
    cost: int
    delay: float = 0.0
    patience: float = math.inf


@dataclasses.dataclass(frozen=True, slots=True)
class Pace(Query[Admission]):
    """Before a retry, once its backoff is over: take its rate-limiter turn (``turn``), or
    ``rate`` when it is more than ``patience`` away."""

    limits: Limits
    patience: float = math.inf


@dataclasses.dataclass(frozen=True, slots=True)
class GiveBack(Query[None]):
    """A call that took a turn will not use it (cancelled while waiting): the next may."""

    limits: Limits


@dataclasses.dataclass(frozen=True, slots=True)
class Record(Query[Transition]):
    """After an attempt: count a failure or a success, start a cooldown, refund tokens, lower
    the rate. Only the half-open circuit's probe (``signal.probe``) closes an open circuit with
    its success (a call let through before it opened proves nothing about now). The answer is
    the circuit's transition, if this attempt made one."""

    limits: Limits
    signal: Signal


@dataclasses.dataclass(frozen=True, slots=True)
class Refund(Query[None]):
    """Give back ``tokens`` a :class:`Retry` took for a retry that will not happen."""

    limits: Limits
    tokens: int


@dataclasses.dataclass(frozen=True, slots=True)
class Release(Query[None]):
    """A probe that will never report (its call was cancelled): free the slot at once, so the
    next call probes instead of every call failing fast until ``recovery``."""


Question = Query[Any]
"""Any of the questions above, its answer's type left open (a call path that holds one to ask
later); ``store.ask(Admit(...))`` is typed :class:`Admission`."""


class Store:
    """Where per-vendor state lives, for the sync transports: a backend answers each
    :class:`Question` in one atomic step, in the calling thread.

    A backend is a subclass implementing :meth:`ask` (see ``docs/redis.md``, "Another store").
    """

    def ask(self, question: Query[A]) -> A:
        """The answer to ``question`` (:class:`Admit`, :class:`Retry`, :class:`Pace`:
        an :class:`Admission`; :class:`Record`: a :data:`Transition`; the others: None)."""
        raise NotImplementedError


class AsyncStore:
    """The async twin of :class:`Store`, for the async transports."""

    async def ask(self, question: Query[A]) -> A:
        """The answer to ``question``, as :meth:`Store.ask` gives it."""
        raise NotImplementedError


_UNTOUCHED = Admission("go", 0.0, True)


@dataclasses.dataclass(slots=True)
class _Slot:
    """One key's fields, as the Redis store keeps them in one hash."""

    tokens: int | None = None
    cooldown_until: float = 0.0
    cooldown_for: float = 0.0
    """The pause's length when it was recorded: what is left of it is never longer."""
    failures: int = 0
    first_failure: float = 0.0
    opened_until: float = 0.0
    probe_until: float = 0.0
    peak: float = 0.0
    """The rate last refused (0: the limiter is not engaged)."""
    since: float = 0.0
    """When the rate was last lowered."""
    tat: float = 0.0
    """The rate limiter's next theoretical arrival time (GCRA)."""


class LocalState(Store):
    """In-process state: shared by every transport and client it is given to; thread-safe.

    The default (each transport, or each client, makes its own). Pass one instance to several
    clients to make them share a budget, circuits, cooldowns and rate limits. ``clock`` is
    injectable for tests.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._slots: dict[str, _Slot] = {}
        self._meters: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def ask(self, question: Query[A]) -> A:
        answer = _ANSWERS.get(type(question))
        if answer is None:
            raise TypeError(f"LocalState cannot answer {question!r}")
        return cast(A, answer(self, question))

    def clear(self, vendor: str) -> None:
        """Forget ``vendor``'s retry budget, circuits, cooldown and learned rate: a fresh start
        (after an outage that is over, or a pause the vendor asked for by mistake)."""
        with self._lock:
            for key in [k for k in self._slots if k == vendor or k.startswith(f"{vendor}/")]:
                del self._slots[key]
            for key in [k for k in self._meters if k == vendor or k.startswith(f"{vendor}/")]:
                del self._meters[key]

    def tokens(self, vendor: str, capacity: int) -> int:
        """The retry tokens ``vendor`` has left (``capacity`` if it never spent any)."""
        tokens = self._slot(vendor).tokens
        return capacity if tokens is None else tokens

    def rate(self, key: str, limits: Limits) -> float:
        """The calls per second the rate limiter lets through to ``key`` (a vendor, or
        ``vendor/product``) now; inf when nothing holds them back."""
        with self._lock:
            slot = self._slots.get(key) or _Slot()
            now = self._clock()
            if _limiter.released(slot.peak, slot.since, now):
                return limits.ceiling
            return _rate(slot, limits, now)

    def _slot(self, key: str) -> _Slot:
        slot = self._slots.get(key)
        if slot is None:
            slot = self._slots.setdefault(key, _Slot())
        return slot

    def _tick(self, key: str, now: float) -> None:
        # lock-free on the fast path: a lost count under a race only blurs an estimate
        meter = self._meters.get(key)
        if meter is None:
            self._meters[key] = [now, 1.0, 0.0]
        else:
            _limiter.tick(meter, now)


# LocalState's answers: one function a question, each holding the state's lock for its step.


def _admit(state: LocalState, question: Admit) -> Admission:
    keys, limits, slots = question.keys, question.limits, state._slots
    if (
        keys.vendor not in slots
        and keys.circuit not in slots
        and keys.pace not in slots
        and limits.free
    ):  # nothing recorded, nothing to pace: the usual healthy case, lock-free
        if limits.adaptive:  # count the call: a refusal lowers the rate from this one
            state._tick(keys.pace, state._clock())
        return _UNTOUCHED  # admitted "at 0": before any lowering, which is what it is
    with state._lock:
        return _gate(state, keys, limits, 0, 0.0, question.patience, True)


def _retry(state: LocalState, question: Retry) -> Admission:
    keys, limits = question.keys, question.limits
    with state._lock:
        return _gate(state, keys, limits, question.cost, question.delay, question.patience, False)


def _pace(state: LocalState, question: Pace) -> Admission:
    keys, limits = question.keys, question.limits
    with state._lock:
        now = state._clock()
        start, granted = _turn(state, keys.pace, limits, now, now, question.patience)
        return Admission("go" if granted else "rate", 0.0, False, start - now, now)


def _give_back(state: LocalState, question: GiveBack) -> None:
    with state._lock:
        slot = state._slots.get(question.keys.pace)
        limits = question.limits
        if slot is None or limits.limiter is None:
            return
        now = state._clock()
        _settle(slot, None, now)
        slot.tat = _limiter.given_back(slot.tat, now, _rate(slot, limits, now))


def _record(state: LocalState, question: Record) -> Transition:
    keys, limits, signal = question.keys, question.limits, question.signal
    with state._lock:
        now = state._clock()
        breaker = limits.breaker
        circuit = _settle(state._slot(keys.circuit), breaker, now)
        transition = _count(circuit, breaker, signal.failed, now, signal.probe)
        vendor = _settle(state._slot(keys.vendor), breaker, now)
        cooldown = min(signal.cooldown, MAX_COOLDOWN)
        if cooldown > 0 and _left(vendor.cooldown_until, now, vendor.cooldown_for) < cooldown:
            vendor.cooldown_until, vendor.cooldown_for = now + cooldown, cooldown
        if signal.refund > 0 and vendor.tokens is not None:
            vendor.tokens = min(limits.capacity, vendor.tokens + signal.refund)
        limiter = limits.limiter
        if signal.slow and limiter is not None and limits.adaptive:
            pacer = _settle(state._slot(keys.pace), None, now)
            meter = _limiter.sending(state._meters.get(keys.pace), now)
            if pacer.peak > 0 and pacer.tat > now:  # calls are queued: the limit is the rate
                meter = _rate(pacer, limits, now)
            # once per round (a call admitted after the last lowering), and from a rate
            # actually measured (none: this store did not admit the call)
            if meter > 0 and _limiter.news(signal.at, pacer.since):
                pacer.peak = _limiter.lowered(
                    pacer.peak, pacer.since, now, meter, limits.ceiling, limiter.min_rate
                )
                pacer.since = now
        return transition


def _refund(state: LocalState, question: Refund) -> None:
    with state._lock:
        vendor = state._slot(question.keys.vendor)
        if vendor.tokens is not None:
            vendor.tokens = min(question.limits.capacity, vendor.tokens + question.tokens)


def _release(state: LocalState, question: Release) -> None:
    with state._lock:
        slot = state._slots.get(question.keys.circuit)
        if slot is not None:
            slot.probe_until = 0.0


_ANSWERS: dict[type[Query[Any]], Callable[[LocalState, Any], Any]] = {
    Admit: _admit,
    Retry: _retry,
    Pace: _pace,
    GiveBack: _give_back,
    Record: _record,
    Refund: _refund,
    Release: _release,
}


def _gate(
    state: LocalState,
    keys: Keys,
    limits: Limits,
    cost: int,
    delay: float,
    patience: float,
    reserve: bool,
) -> Admission:
    """The circuit, the budget (``cost`` tokens), then the rate limiter's turn for a call
    arriving ``delay`` from now: taken for a first attempt (``reserve``); only looked at
    for a retry, which takes its turn when its backoff is over (:class:`Pace`)."""
    now = state._clock()
    breaker = limits.breaker
    vendor = _settle(state._slot(keys.vendor), breaker, now)
    circuit = _settle(state._slot(keys.circuit), breaker, now)
    verdict: Verdict = "go"
    if breaker is not None and circuit.opened_until:
        if now < circuit.opened_until:
            return Admission("open", _left(circuit.opened_until, now, breaker.recovery))
        if now < circuit.probe_until:
            return Admission("open", _left(circuit.probe_until, now, breaker.recovery))
        verdict = "probe"
    tokens = limits.capacity if vendor.tokens is None else vendor.tokens
    if cost > tokens:
        return Admission("budget")
    start, granted = _turn(state, keys.pace, limits, now, now + delay, patience, reserve)
    if not granted:  # the turn is further ahead than the call may wait
        return Admission("rate", 0.0, False, start - now, now)
    if cost:
        vendor.tokens = tokens - cost
    if verdict == "probe":
        assert breaker is not None
        circuit.probe_until = now + breaker.recovery
    clean = circuit.failures == 0 and not circuit.opened_until and tokens >= limits.capacity
    wait = _left(vendor.cooldown_until, now, vendor.cooldown_for)
    return Admission(verdict, wait, clean, start - now, now)


def _turn(
    state: LocalState,
    key: str,
    limits: Limits,
    now: float,
    arrival: float,
    patience: float,
    reserve: bool = True,
) -> tuple[float, bool]:
    """When a call arriving at ``arrival`` may go, and whether that is within ``patience``
    from now; the turn is taken when it is and ``reserve`` says so."""
    limiter = limits.limiter
    if limiter is None:
        return arrival, True
    slot = _settle(state._slot(key), None, now)
    if _limiter.released(slot.peak, slot.since, now):
        slot.peak = 0.0
    rate = _rate(slot, limits, now)
    horizon = limiter.max_wait + 1 / rate + _limiter.TOLERANCE
    start, tat = _limiter.turn(slot.tat, now, arrival, rate, horizon)
    if start - now > patience:
        return start, False
    if reserve:
        slot.tat = tat
        if limiter.adaptive:
            state._tick(key, now)
    return start, True


def _rate(slot: _Slot, limits: Limits, now: float) -> float:
    """The rate limiter's rate for the key whose fields ``slot`` holds (inf: no limit)."""
    minimum = limits.limiter.min_rate if limits.limiter is not None else 0.0
    return _limiter.rate_at(slot.peak, slot.since, now, limits.ceiling, minimum)


def _left(until: float, now: float, longest: float) -> float:
    """Seconds left until ``until``, the end of a pause (or an open circuit) that lasted
    ``longest`` when it was recorded: never more, whatever the clock did since."""
    return min(max(0.0, until - now), longest)


def _settle(slot: _Slot, breaker: CircuitBreaker | None, now: float) -> _Slot:
    """``slot``, once what lies further ahead than it could have been put is forgotten
    (:data:`STEP`). The Redis store's script reads every field of its hashes by these rules."""
    ahead = now + STEP
    if slot.cooldown_until > ahead + slot.cooldown_for:
        slot.cooldown_until = 0.0
    if breaker is not None:
        if slot.opened_until > ahead + breaker.recovery:
            slot.opened_until = 0.0
        if slot.probe_until > ahead + breaker.recovery:
            slot.probe_until = 0.0
    if slot.first_failure > ahead:
        slot.first_failure = 0.0
    if slot.since > ahead:
        slot.since = 0.0
    return slot


def _count(
    slot: _Slot, breaker: CircuitBreaker | None, failed: bool, now: float, probe: bool
) -> Transition:
    """The circuit's rules (mirrored, line for line, by the Redis store's script)."""
    if breaker is None:
        return None
    if not failed:
        if slot.opened_until and not probe:
            return None  # a call let through before it opened: only the probe decides
        was_open = bool(slot.opened_until)
        slot.failures = 0
        slot.first_failure = slot.opened_until = slot.probe_until = 0.0
        return "closed" if was_open else None
    if slot.opened_until:  # the probe (or a call let through before opening) failed
        reopened = now >= slot.opened_until
        slot.opened_until = now + breaker.recovery
        slot.probe_until = 0.0
        return "opened" if reopened else None
    if slot.failures == 0 or now - slot.first_failure > breaker.window:
        slot.failures = 1
        slot.first_failure = now
    else:
        slot.failures += 1
    if slot.failures >= breaker.failures:
        slot.failures = 0
        slot.opened_until = now + breaker.recovery
        return "opened"
    return None


class AsyncLocal(AsyncStore):
    """A :class:`LocalState` seen through the async interface (no I/O, so no awaiting)."""

    def __init__(self, state: LocalState) -> None:
        self.state = state

    async def ask(self, question: Query[A]) -> A:
        return self.state.ask(question)
