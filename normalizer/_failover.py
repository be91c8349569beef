"""Failover across vendors: one send, several vendors, recipient by recipient.

:class:`Failover` and :class:`AsyncFailover` take legs, each a vendor (and product) with the
caller's ``send(recipients)``, and move each recipient to the next leg only when its failure
is the vendor's and the vendor certainly did not send it (:mod:`normalizer._failover_rule`).
Both are thin drivers around one generator, :func:`_failover`, which yields the leg to call
and the recipients to send, and is sent back what ``send`` gave (or raised): the sync driver
calls, the async one awaits; nothing else differs. What happens is logged, counted and traced
by :class:`_Observer`.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Awaitable, Callable, Generator, Iterable, Iterator, Mapping, Sequence
from types import MappingProxyType
from typing import Any, Generic, NamedTuple, TypeVar

from ._failover_rule import ACCEPTED, Judgement, judged
from ._items import _masked
from ._logging import adapt
from ._outcome import Outcome

_Send = TypeVar("_Send")

Send = Callable[[list[str]], object]
"""A leg's ``send``: the recipients in, what the vendor answered out (or it raises)."""
AsyncSend = Callable[[list[str]], Awaitable[object]]


class FailoverLeg(NamedTuple, Generic[_Send]):
    """One vendor of a failover: its id (as normalizer's mappings name it), the caller's
    ``send`` for it and, where it matters, the product."""

    vendor: str
    send: _Send
    product: str | None = None


@dataclasses.dataclass(frozen=True, repr=False)
class FailoverAttempt:
    """One leg's turn: which recipients it was given and what became of each there."""

    vendor: str
    product: str | None
    recipients: tuple[str, ...]
    """The recipients sent to this vendor, in clear (never log them)."""
    outcomes: Mapping[str, Outcome]
    """Each recipient's outcome at this vendor."""
    reasons: Mapping[str, str]
    """Each recipient's verdict (see :class:`normalizer._failover_rule.Verdict`): ``accepted``,
    or why it moved on (``busy``, ``billing``, ``circuit_open``, ...) or stopped here
    (``recipient``, ``content``, ``maybe_sent``, ...)."""
    moved: tuple[str, ...]
    """The recipients sent on to the next vendor."""
    error: BaseException | None = None
    """What ``send`` raised, if it did."""
    skipped: bool = False
    """The leg's client refused before sending (circuit open, cooldown, rate): no request."""

    def __repr__(self) -> str:
        shown = ", ".join(f"{_masked(r)}: {self.reasons[r]}" for r in self.recipients)
        where = self.vendor if self.product is None else f"{self.vendor}/{self.product}"
        flag = ", skipped" if self.skipped else ""
        return f"FailoverAttempt({where}{flag}: {shown})"


@dataclasses.dataclass(frozen=True, repr=False)
class FailoverResult:
    """What a failover did: each recipient's final outcome, and every attempt in order."""

    outcomes: Mapping[str, Outcome]
    """Each recipient's final :class:`Outcome`; its ``vendor`` says who took it (or who
    answered last)."""
    attempts: tuple[FailoverAttempt, ...]
    failed: tuple[str, ...] = ()
    """The recipients no vendor accepted, in the order given."""

    @property
    def ok(self) -> bool:
        """Every recipient was accepted by some vendor."""
        return not self.failed

    @property
    def taken_by(self) -> Mapping[str, str]:
        """The vendor that accepted each recipient (the accepted ones only)."""
        return {r: outcome.vendor for r, outcome in self.outcomes.items() if outcome.ok}

    @property
    def skipped(self) -> tuple[str, ...]:
        """The vendors whose client refused before sending, in order."""
        return tuple(attempt.vendor for attempt in self.attempts if attempt.skipped)

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{_masked(r)}: {o.vendor} {o.category.value}" for r, o in self.outcomes.items()
        )
        return f"FailoverResult({shown}; {len(self.attempts)} attempts)"


LegLike = FailoverLeg[Any] | tuple[str, Any] | tuple[str, Any, str | None]


class _Failover(Generic[_Send]):
    """What both failovers are: legs, the caller's choice on duplicates, an observer."""

    def __init__(
        self,
        legs: Iterable[LegLike],
        *,
        move_maybe_sent: bool = False,
        name: str = "failover",
        logger: Any = None,
        telemetry: bool | None = None,
        meter_provider: Any = None,
        tracer_provider: Any = None,
    ) -> None:
        self.legs: tuple[FailoverLeg[_Send], ...] = tuple(FailoverLeg(*leg) for leg in legs)
        if not self.legs:
            raise ValueError("a failover needs at least one leg")
        for leg in self.legs:
            if not callable(leg.send):
                raise TypeError(f"the send of leg {leg.vendor!r} is not callable")
        self.move_maybe_sent = move_maybe_sent
        """Whether an ambiguous failure (maybe sent) moves on too: a duplicate is preferred to
        a loss (one-time passwords). Off by default; every such move is logged as a warning."""
        self.name = name
        self._observer = _Observer(name, logger, telemetry, meter_provider, tracer_provider)

    def __repr__(self) -> str:
        legs = " -> ".join(leg.vendor for leg in self.legs)
        return f"{type(self).__name__}({legs})"


class Failover(_Failover[Send]):
    """Send to the first vendor; move each recipient on only when the vendor failed it and
    certainly did not send it (the guide: Failover across vendors).

    ``legs``: ``(vendor, send)`` or ``(vendor, send, product)`` (or :class:`FailoverLeg`), in
    order of preference; ``send(recipients)`` returns what the vendor answered (a response of
    normalizer's clients, an :class:`Outcome`, or a list of these, one per recipient, for a
    vendor that takes one recipient per request) or raises. ``move_maybe_sent=True`` moves an
    ambiguous failure too (a duplicate rather than a loss). Calling it with the recipients
    returns a :class:`FailoverResult`.
    """

    def __call__(self, recipients: Sequence[str]) -> FailoverResult:
        run = _Run(self, recipients)
        while (leg := run.leg) is not None:
            try:
                answer: object = leg.send(run.batch())
            except Exception as exc:  # what the rule judges: never sent, or maybe
                answer = exc
            run.answered(answer)
        return run.result


class AsyncFailover(_Failover[AsyncSend]):
    """:class:`Failover` whose legs' ``send`` are coroutine functions (normalizer's
    :class:`~normalizer.AsyncClient`, aiohttp): the same rule, awaited."""

    async def __call__(self, recipients: Sequence[str]) -> FailoverResult:
        run = _Run(self, recipients)
        while (leg := run.leg) is not None:
            try:
                answer: object = await leg.send(run.batch())
            except Exception as exc:  # what the rule judges: never sent, or maybe
                answer = exc
            run.answered(answer)
        return run.result


class _Run:
    """One failover under way, for a driver: the leg to call now (None once done) and its
    recipients; :meth:`answered` gives it what the leg's ``send`` gave; then ``result``."""

    __slots__ = ("_batch", "_steps", "leg", "result")

    def __init__(self, failover: _Failover[Any], recipients: Sequence[str]) -> None:
        self._steps = _failover(failover, recipients)
        self.leg: FailoverLeg[Any] | None = None
        self._batch: tuple[str, ...] = ()
        self.result: FailoverResult
        self._next(None)

    def batch(self) -> list[str]:
        """The recipients for the leg's ``send`` (a list of its own)."""
        return list(self._batch)

    def answered(self, answer: object) -> None:
        self._next(answer)

    def _next(self, answer: object) -> None:
        try:
            self.leg, self._batch = self._steps.send(answer)
        except StopIteration as done:
            self.leg, self.result = None, done.value


def _failover(
    failover: _Failover[Any], recipients: Sequence[str]
) -> Generator[tuple[FailoverLeg[Any], tuple[str, ...]], object, FailoverResult]:
    """The failover, written once: yields each leg with its recipients, is sent what the
    leg's ``send`` gave, and returns the result."""
    if isinstance(recipients, str):  # one number, not its characters
        raise TypeError("recipients must be a list of numbers, not one string")
    pending = tuple(dict.fromkeys(recipients))  # each recipient once, in order
    final: dict[str, Outcome] = {}  # each attempt's own mapping stays as it was
    attempts: list[FailoverAttempt] = []
    legs = failover.legs
    observer = failover._observer
    watch = observer.start(len(pending))
    taken = not pending  # the usual failover: the first vendor accepted everyone
    for number, leg in enumerate(legs):
        if not pending:
            break
        answer = yield leg, pending
        found = judged(leg.vendor, leg.product, pending, answer, failover.move_maybe_sent)
        last = number == len(legs) - 1
        attempt = _attempt(leg, pending, found, answer, last)
        attempts.append(attempt)
        # the first attempt sets the order (the recipients'); a later one makes a new mapping
        final = found.outcomes if number == 0 else {**final, **found.outcomes}
        taken = number == 0 and found.uniform is ACCEPTED
        if watch is not None or not taken:
            observer.attempt(watch, attempt, None if last else legs[number + 1].vendor, found)
        pending = attempt.moved
    failed = () if taken else tuple(r for r, outcome in final.items() if not outcome.ok)
    result = _made(
        FailoverResult,
        {"outcomes": MappingProxyType(final), "attempts": tuple(attempts), "failed": failed},
    )
    if watch is not None or not taken:
        observer.finished(watch, result)
    return result


def _attempt(
    leg: FailoverLeg[Any],
    pending: tuple[str, ...],
    found: Judgement,
    answer: object,
    last: bool,
) -> FailoverAttempt:
    error = answer if isinstance(answer, BaseException) else None
    verdict = found.uniform
    reasons: Mapping[str, str]
    if verdict is not None:  # one answer for all: no per-recipient work
        reasons = _Same(found.outcomes, verdict.reason)
        moved = pending if verdict.move and not last else ()
        skipped = verdict.skipped and bool(pending)
    else:
        verdicts = found.verdicts
        reasons = {r: v.reason for r, v in verdicts.items()}
        moved = () if last else tuple(r for r, v in verdicts.items() if v.move)
        skipped = bool(verdicts) and all(v.skipped for v in verdicts.values())
    if isinstance(reasons, dict):
        reasons = MappingProxyType(reasons)
    return _made(
        FailoverAttempt,
        {
            "vendor": leg.vendor,
            "product": leg.product,
            "recipients": pending,
            "outcomes": MappingProxyType(found.outcomes),
            "reasons": reasons,
            "moved": moved,
            "error": error,
            "skipped": skipped,
        },
    )


_Made = TypeVar("_Made", FailoverAttempt, FailoverResult)


def _made(cls: type[_Made], fields: dict[str, Any]) -> _Made:
    """An instance of a frozen result with exactly ``fields`` (every one of them), without the
    constructor's ``object.__setattr__`` per field (as :func:`normalizer._outcome.built`)."""
    value = object.__new__(cls)
    object.__setattr__(value, "__dict__", fields)
    return value


class _Same(Mapping[str, str]):
    """The same reason for every recipient of an attempt: a read-only mapping over the
    attempt's recipients, built in constant time."""

    __slots__ = ("_keys", "_value")

    def __init__(self, keys: Mapping[str, object], value: str) -> None:
        self._keys = keys
        self._value = value

    def __getitem__(self, key: str) -> str:
        if key in self._keys:
            return self._value
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    def __repr__(self) -> str:
        return f"{{{len(self)} recipients: {self._value!r}}}"


# --- what a failover tells the world -------------------------------------------------------------


class _Observer:
    """Logs (structlog's API, numbers masked), OpenTelemetry metrics and a span per failover.

    A failover whose first vendor takes everyone logs nothing and, without an OpenTelemetry
    SDK set up, pays one cached check.

    Metrics: ``normalizer.failover.recipients`` (``{recipient}``: by the vendor that took each
    recipient, or answered last, and its final category), ``normalizer.failover.moves``
    (``{recipient}``: by ``normalizer.failover.from``, ``.to`` and ``.reason``) and
    ``normalizer.failover.skips`` (``{leg}``: by vendor and reason), each with
    ``normalizer.failover.name``.
    """

    def __init__(
        self,
        name: str,
        logger: Any,
        telemetry: bool | None,
        meter_provider: Any,
        tracer_provider: Any,
    ) -> None:
        self.name = name
        self._given_logger = logger
        self._logger: Any = None
        self._otel: _Otel | None = None
        if telemetry is not False:
            from ._telemetry import available

            if available() or meter_provider is not None or tracer_provider is not None:
                self._otel = _Otel(meter_provider, tracer_provider)

    @property
    def logger(self) -> Any:
        if self._logger is None:
            self._logger = adapt(self._given_logger)
        return self._logger

    def start(self, recipients: int) -> _Watch | None:
        """The span of a failover, when anything is set up to receive it (else None)."""
        otel = self._otel
        if otel is None or not otel.wanted():
            return None
        return _Watch(otel, otel.span(self.name, recipients))

    def attempt(
        self,
        watch: _Watch | None,
        attempt: FailoverAttempt,
        following: str | None,
        found: Judgement,
    ) -> None:
        moves: dict[str, int] = {}
        for recipient in attempt.moved:
            reason = found.verdict(recipient).reason
            moves[reason] = moves.get(reason, 0) + 1
            if reason == "maybe_sent":  # the caller's choice: a duplicate is possible
                self.logger.warning(
                    "failover_moved_maybe_sent",
                    failover=self.name,
                    vendor=attempt.vendor,
                    to=following,
                    number=_masked(recipient),
                )
        if attempt.skipped:
            reason = attempt.reasons[attempt.recipients[0]]
            self.logger.info(
                "failover_skipped",
                failover=self.name,
                vendor=attempt.vendor,
                reason=reason,
                to=following,
                recipients=len(attempt.recipients),
            )
        elif moves:
            self.logger.info(
                "failover_moved",
                failover=self.name,
                vendor=attempt.vendor,
                to=following,
                moved=len(attempt.moved),
                reasons=moves,
            )
        if watch is not None:
            watch.attempt(self.name, attempt, following, moves)

    def finished(self, watch: _Watch | None, result: FailoverResult) -> None:
        taken: dict[str, int] = {}
        for outcome in result.outcomes.values():
            if outcome.ok:
                taken[outcome.vendor] = taken.get(outcome.vendor, 0) + 1
        failed: dict[str, int] = {}
        for outcome in result.outcomes.values():
            if not outcome.ok:
                key = f"{outcome.vendor}:{outcome.category.value}"
                failed[key] = failed.get(key, 0) + 1
        self.logger.info(
            "failover_finished",
            failover=self.name,
            taken=taken,
            failed=failed,
            attempts=[a.vendor for a in result.attempts],
            skipped=list(result.skipped),
        )
        if watch is not None:
            watch.finished(self.name, result)


class _Otel:
    """The failover's instruments (built once per failover)."""

    def __init__(self, meter_provider: Any, tracer_provider: Any) -> None:
        from opentelemetry import metrics, trace

        from . import __version__
        from ._telemetry import SCOPE, _SetUp

        self.trace = trace
        self.tracer = trace.get_tracer(SCOPE, __version__, tracer_provider=tracer_provider)
        meter = (meter_provider or metrics.get_meter_provider()).get_meter(SCOPE, __version__)
        self.counting = _SetUp(metrics.get_meter_provider, meter_provider, "_ProxyMeterProvider")
        self.tracing = _SetUp(trace.get_tracer_provider, tracer_provider, "ProxyTracerProvider")
        self._idle_until = 0.0
        self.recipients = meter.create_counter(
            "normalizer.failover.recipients",
            unit="{recipient}",
            description="Recipients of failovers, by the vendor that took them and category",
        )
        self.moves = meter.create_counter(
            "normalizer.failover.moves",
            unit="{recipient}",
            description="Recipients moved to the next vendor, by reason",
        )
        self.skips = meter.create_counter(
            "normalizer.failover.skips",
            unit="{leg}",
            description="Legs skipped: the vendor's client refused before sending",
        )

    def wanted(self) -> bool:
        """Whether metrics or traces are set up; while neither is, one clock read a
        failover (the answer kept for a second, as the transports' ``Telemetry.idle``)."""
        if time.monotonic() < self._idle_until:
            return False
        if self.counting() or self.tracing():
            return True
        self._idle_until = time.monotonic() + 1.0
        return False

    def span(self, name: str, recipients: int) -> Any:
        if not self.tracing():
            return None
        return self.tracer.start_span(
            f"normalizer failover {name}",
            attributes={"normalizer.failover.name": name, "normalizer.recipients": recipients},
        )


class _Watch:
    """One failover's span and counters."""

    def __init__(self, otel: _Otel, span: Any) -> None:
        self.otel = otel
        self.span = span
        self.started = time.monotonic()

    def attempt(
        self, name: str, attempt: FailoverAttempt, following: str | None, moves: dict[str, int]
    ) -> None:
        base = {"normalizer.failover.name": name}
        if attempt.skipped:
            reason = attempt.reasons[attempt.recipients[0]]
            self.otel.skips.add(
                1, {**base, "normalizer.vendor": attempt.vendor, "normalizer.reason": reason}
            )
        for reason, count in moves.items():
            self.otel.moves.add(
                count,
                {
                    **base,
                    "normalizer.failover.from": attempt.vendor,
                    "normalizer.failover.to": following or "",
                    "normalizer.failover.reason": reason,
                },
            )
        if self.span is not None:
            self.span.add_event(
                "normalizer.failover.attempt",
                {
                    "normalizer.vendor": attempt.vendor,
                    "normalizer.recipients": len(attempt.recipients),
                    "normalizer.failover.moved": len(attempt.moved),
                    "normalizer.failover.skipped": attempt.skipped,
                    **{f"normalizer.failover.reason.{r}": n for r, n in moves.items()},
                },
            )

    def finished(self, name: str, result: FailoverResult) -> None:
        counts: dict[tuple[str, str], int] = {}
        for outcome in result.outcomes.values():
            key = (outcome.vendor, outcome.category.value)
            counts[key] = counts.get(key, 0) + 1
        for (vendor, category), count in counts.items():
            self.otel.recipients.add(
                count,
                {
                    "normalizer.failover.name": name,
                    "normalizer.vendor": vendor,
                    "normalizer.category": category,
                },
            )
        if self.span is not None:
            self.span.set_attribute("normalizer.failover.attempts", len(result.attempts))
            self.span.set_attribute("normalizer.failover.failed", len(result.failed))
            if not result.ok:
                self.span.set_status(self.otel.trace.StatusCode.ERROR, "some recipients failed")
            self.span.end()


__all__ = [
    "AsyncFailover",
    "Failover",
    "FailoverAttempt",
    "FailoverLeg",
    "FailoverResult",
]
