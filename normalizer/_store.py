"""What the calls to one vendor share: retry budget, circuit breaker and cooldown.

A vendor's limits are per account, not per request, so the transports keep three things per
vendor that every call reads and updates:

- the **retry budget**, a token bucket (after botocore's ``quota.py``): retries spend, successes
  refill, an empty bucket means failures return at once instead of being retried;
- the **circuit breaker** (optional, :class:`CircuitBreaker`): after a run of server/busy
  failures the vendor is not called at all for a while; then one probe decides;
- the **cooldown**: when the vendor asks for a pause (Retry-After, or a mapping entry's
  ``cooldown``), every call waits it out instead of each discovering it by failing.

The state lives in a store. :class:`LocalState` is in-process and the default;
``normalizer.redis`` shares the same state between processes. Every store answers the same three
questions with the same rules, and each answer is one atomic step: :meth:`Store.admit` (may a
call go out now?), :meth:`Store.retry` (may it go out again, and pay for that?), and
:meth:`Store.record` (what did an attempt show?).
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable
from typing import Literal

from ._category import Category

Verdict = Literal["go", "probe", "open", "budget"]


@dataclasses.dataclass(frozen=True)
class CircuitBreaker:
    """When to stop calling a vendor that keeps failing, and for how long.

    The circuit opens after ``failures`` failed attempts in a row, the run starting no more than
    ``window`` seconds before the last of them. While open, calls fail at once with
    :class:`~normalizer.CircuitOpenError`. After ``recovery`` seconds one call goes through as a
    probe (the others still fail fast): its success closes the circuit, its failure opens it
    again. A failure is a transport error or an outcome in ``categories`` that is not a call
    outcome (a callee who was busy is not a vendor failing). ``per_product`` keeps one circuit
    per product (Onbuka's SMS and voice) instead of one per vendor.
    """

    failures: int = 5
    window: float = 30.0
    recovery: float = 30.0
    categories: frozenset[Category] = frozenset({Category.SERVER, Category.BUSY})
    per_product: bool = False

    def __post_init__(self) -> None:
        if self.failures < 1:
            raise ValueError("failures must be at least 1")
        if self.window <= 0 or self.recovery <= 0:
            raise ValueError("window and recovery must be positive")
        object.__setattr__(self, "categories", frozenset(Category(c) for c in self.categories))


@dataclasses.dataclass(frozen=True, slots=True)
class Keys:
    """Where one call's state lives: budget and cooldown per vendor, circuit per scope."""

    vendor: str
    circuit: str

    @classmethod
    def of(cls, vendor: str, product: str | None, breaker: CircuitBreaker | None) -> Keys:
        if breaker is not None and breaker.per_product and product is not None:
            return cls(vendor, f"{vendor}/{product}")
        return cls(vendor, vendor)


@dataclasses.dataclass(frozen=True, slots=True)
class Limits:
    """The numbers a store needs to apply the rules: the budget's size and the breaker."""

    capacity: int
    breaker: CircuitBreaker | None


@dataclasses.dataclass(frozen=True, slots=True)
class Admission:
    """A store's answer to "may this call go out?".

    ``verdict`` is ``go``; ``probe`` (go, as the one call that tests a half-open circuit);
    ``open`` (do not: ``wait`` is how long the circuit stays open); or, for a retry only,
    ``budget`` (do not: the retry budget cannot pay). For ``go`` and ``probe``, ``wait`` is what
    is left of the vendor's cooldown. ``clean`` says recording a success would change nothing
    (no failures counted, budget full), so a store may skip that write.
    """

    verdict: Verdict
    wait: float = 0.0
    clean: bool = False


Transition = Literal["opened", "closed"] | None

_UNTOUCHED = Admission("go", 0.0, True)


class Store:
    """A store of per-vendor state, answering in the calling thread (sync transports)."""

    def admit(self, keys: Keys, limits: Limits) -> Admission:
        """Before a call's first attempt."""
        raise NotImplementedError

    def retry(self, keys: Keys, limits: Limits, cost: int) -> Admission:
        """Before a retry: as :meth:`admit`, and spend ``cost`` tokens when the answer is go."""
        raise NotImplementedError

    def record(
        self,
        keys: Keys,
        limits: Limits,
        failed: bool,
        cooldown: float,
        refund: int,
        probe: bool = False,
    ) -> Transition:
        """After an attempt: count a failure or a success, start a cooldown, refund tokens.

        ``probe``: the attempt was the half-open circuit's probe; only its success closes an
        open circuit (a call let through before it opened proves nothing about now).
        Returns the circuit's transition, if this attempt made one.
        """
        raise NotImplementedError

    def refund(self, keys: Keys, limits: Limits, tokens: int) -> None:
        """Give back tokens :meth:`retry` took for a retry that will not happen."""
        raise NotImplementedError

    def release(self, keys: Keys) -> None:
        """A probe that will never report (its call was cancelled): free the slot at once, so
        the next call probes instead of every call failing fast until ``recovery``."""
        raise NotImplementedError


class AsyncStore:
    """The async twin of :class:`Store`, for the async transports."""

    async def admit(self, keys: Keys, limits: Limits) -> Admission:
        raise NotImplementedError

    async def retry(self, keys: Keys, limits: Limits, cost: int) -> Admission:
        raise NotImplementedError

    async def record(
        self,
        keys: Keys,
        limits: Limits,
        failed: bool,
        cooldown: float,
        refund: int,
        probe: bool = False,
    ) -> Transition:
        raise NotImplementedError

    async def refund(self, keys: Keys, limits: Limits, tokens: int) -> None:
        raise NotImplementedError

    async def release(self, keys: Keys) -> None:
        raise NotImplementedError


@dataclasses.dataclass(slots=True)
class _Slot:
    """One key's fields, as the Redis store keeps them in one hash."""

    tokens: int | None = None
    cooldown_until: float = 0.0
    failures: int = 0
    first_failure: float = 0.0
    opened_until: float = 0.0
    probe_until: float = 0.0


class LocalState(Store):
    """In-process state: shared by every transport and client it is given to; thread-safe.

    The default (each transport, or each client, makes its own). Pass one instance to several
    clients to make them share a budget, circuits and cooldowns. ``clock`` is injectable for tests.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._slots: dict[str, _Slot] = {}
        self._lock = threading.Lock()

    def _slot(self, key: str) -> _Slot:
        slot = self._slots.get(key)
        if slot is None:
            slot = self._slots.setdefault(key, _Slot())
        return slot

    def refund(self, keys: Keys, limits: Limits, tokens: int) -> None:
        with self._lock:
            vendor = self._slot(keys.vendor)
            if vendor.tokens is not None:
                vendor.tokens = min(limits.capacity, vendor.tokens + tokens)

    def release(self, keys: Keys) -> None:
        with self._lock:
            slot = self._slots.get(keys.circuit)
            if slot is not None:
                slot.probe_until = 0.0

    def clear(self, vendor: str) -> None:
        """Forget ``vendor``'s retry budget, circuits and cooldown: a fresh start (after an
        outage that is over, or a pause the vendor asked for by mistake)."""
        with self._lock:
            for key in [k for k in self._slots if k == vendor or k.startswith(f"{vendor}/")]:
                del self._slots[key]

    def tokens(self, vendor: str, capacity: int) -> int:
        """The retry tokens ``vendor`` has left (``capacity`` if it never spent any)."""
        tokens = self._slot(vendor).tokens
        return capacity if tokens is None else tokens

    def admit(self, keys: Keys, limits: Limits) -> Admission:
        slots = self._slots
        if keys.vendor not in slots and keys.circuit not in slots:
            return _UNTOUCHED  # nothing recorded for this vendor yet: the usual healthy case
        with self._lock:
            return self._admit(keys, limits, self._clock(), 0)

    def retry(self, keys: Keys, limits: Limits, cost: int) -> Admission:
        with self._lock:
            return self._admit(keys, limits, self._clock(), cost)

    def _admit(self, keys: Keys, limits: Limits, now: float, cost: int) -> Admission:
        vendor = self._slot(keys.vendor)
        circuit = self._slot(keys.circuit)
        verdict: Verdict = "go"
        if limits.breaker is not None and circuit.opened_until:
            if now < circuit.opened_until:
                return Admission("open", circuit.opened_until - now)
            if now < circuit.probe_until:
                return Admission("open", circuit.probe_until - now)
            verdict = "probe"
        tokens = limits.capacity if vendor.tokens is None else vendor.tokens
        if cost:
            if cost > tokens:
                return Admission("budget")
            vendor.tokens = tokens - cost
        if verdict == "probe":
            assert limits.breaker is not None
            circuit.probe_until = now + limits.breaker.recovery
        clean = circuit.failures == 0 and not circuit.opened_until and tokens >= limits.capacity
        return Admission(verdict, max(0.0, vendor.cooldown_until - now), clean)

    def record(
        self,
        keys: Keys,
        limits: Limits,
        failed: bool,
        cooldown: float,
        refund: int,
        probe: bool = False,
    ) -> Transition:
        with self._lock:
            now = self._clock()
            transition = _count(self._slot(keys.circuit), limits.breaker, failed, now, probe)
            vendor = self._slot(keys.vendor)
            if cooldown > 0:
                vendor.cooldown_until = max(vendor.cooldown_until, now + cooldown)
            if refund > 0 and vendor.tokens is not None:
                vendor.tokens = min(limits.capacity, vendor.tokens + refund)
            return transition


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

    async def admit(self, keys: Keys, limits: Limits) -> Admission:
        return self.state.admit(keys, limits)

    async def retry(self, keys: Keys, limits: Limits, cost: int) -> Admission:
        return self.state.retry(keys, limits, cost)

    async def record(
        self,
        keys: Keys,
        limits: Limits,
        failed: bool,
        cooldown: float,
        refund: int,
        probe: bool = False,
    ) -> Transition:
        return self.state.record(keys, limits, failed, cooldown, refund, probe)

    async def refund(self, keys: Keys, limits: Limits, tokens: int) -> None:
        self.state.refund(keys, limits, tokens)

    async def release(self, keys: Keys) -> None:
        self.state.release(keys)
