"""Failover across vendors: one send, several vendors, recipient by recipient.

:class:`Failover` and :class:`AsyncFailover` take legs, each a vendor (and product) with the
caller's ``send(recipients)``, and move each recipient to the next leg only when its failure
is the vendor's and the vendor certainly did not send it (:mod:`normalizer._failover_rule`).
Both are thin drivers around one state machine, :class:`_Run`, which names the leg to call
and the recipients to send, and is given what ``send`` gave (or raised): the sync driver
calls, the async one awaits; nothing else differs (in the manner of the sans-I/O call in
:mod:`normalizer._call`, without a generator: a failover is a few steps, and its cost is
measured against a call it must not slow down). What happens is logged, counted and traced
by :class:`_Observer`.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from contextvars import Token
from time import monotonic as _monotonic
from types import MappingProxyType
from typing import Any, Generic, NamedTuple, TypeVar

from ._failover_rule import ACCEPTED, SKIPS, Judgement, Same, cautious, judged
from ._items import _masked
from ._logging import adapt
from ._observe import HEARD, Ear
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
        patience: float | None = None,
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
        self.patience = patience
        self.name = name
        self._observer = _Observer(name, logger, telemetry, meter_provider, tracer_provider)

    @property
    def patience(self) -> float | None:
        """How far ahead (seconds) a leg's first rate-limiter turn may be before its call is
        refused and the recipients move on at once, and a retry's turn before the vendor's
        answer stands; None: as long as the leg's client would wait (its
        ``RateLimiter(max_wait=...)``), and only ever shorter than that. Never on the last
        leg (there is nowhere to move to), nor once a request of the leg has gone."""
        return self._patience

    @patience.setter
    def patience(self, seconds: float | None) -> None:
        if seconds is not None and not seconds >= 0:  # NaN too
            raise ValueError(f"patience must be None or >= 0 seconds (got {seconds!r})")
        self._patience = seconds

    def _ear(self, number: int) -> Ear:
        """What hears leg ``number``: with the failover's patience, unless it is the last."""
        patience = self._patience
        if patience is None or number == len(self.legs) - 1:
            return Ear()
        return Ear(float(patience))

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
    ambiguous failure too (a duplicate rather than a loss). ``patience`` (seconds): a leg whose
    first rate-limiter turn is further ahead is skipped at once, though its client alone would
    wait for it (see :attr:`patience`). Calling it with the recipients returns a
    :class:`FailoverResult`.
    """

    def __call__(self, recipients: Sequence[str]) -> FailoverResult:
        run = _Run(self, recipients)
        while (leg := run.leg) is not None:
            with run:  # hearing the vendor calls send makes; what it raises is its answer
                run.answer = leg.send(run.batch)
            run.answered()
        return run.result


class AsyncFailover(_Failover[AsyncSend]):
    """:class:`Failover` whose legs' ``send`` are coroutine functions (normalizer's
    :class:`~normalizer.AsyncClient`, aiohttp): the same rule, awaited."""

    async def __call__(self, recipients: Sequence[str]) -> FailoverResult:
        run = _Run(self, recipients)
        while (leg := run.leg) is not None:
            with run:  # hearing the vendor calls send makes; what it raises is its answer
                run.answer = await leg.send(run.batch)
            run.answered()
        return run.result


class _Run:
    """One failover under way, written once for both drivers: the leg to call now (None once
    done) and its recipients (:meth:`batch`); :meth:`answered` takes what the leg's ``send``
    gave (or raised), judges each recipient, records the attempt and picks the next leg; once
    no leg is left, or no recipient, ``result`` holds the :class:`FailoverResult`."""

    __slots__ = (
        "_attempts",
        "_failover",
        "_final",
        "_keys",
        "_listening",
        "_number",
        "_pending",
        "_shown",
        "_watch",
        "answer",
        "batch",
        "ear",
        "leg",
        "result",
    )

    _attempts: list[FailoverAttempt]
    _final: Mapping[str, Outcome]
    _shown: Mapping[str, Outcome] | None
    _listening: Token[Ear | None]
    answer: object
    """What the current leg's ``send`` returned, or the ``Exception`` it raised."""

    def __init__(self, failover: _Failover[Any], recipients: Sequence[str]) -> None:
        if isinstance(recipients, str):  # one number, not its characters
            raise TypeError("recipients must be a list of numbers, not one string")
        self._failover = failover
        self._keys = dict.fromkeys(recipients)  # each recipient once, in order
        self._pending = tuple(self._keys)
        self._number = 0
        otel = failover._observer._otel  # one clock read while no SDK is set up
        self._watch = (
            None
            if otel is None or _monotonic() < otel._idle_until or not otel.wanted()
            else failover._observer.start()
        )
        self.leg: FailoverLeg[Any] | None = failover.legs[0]
        self.batch = list(self._pending)
        """The recipients for the current leg's ``send`` (a list of its own)."""
        self.ear = failover._ear(0)
        """What the vendor calls of the current leg's ``send`` were heard doing."""
        self.result: FailoverResult
        # _attempts, _final and _shown are set by the first answer that is not the usual one
        # (the first vendor taking everyone needs none of them: see answered)
        if not self._pending:
            self._attempts, self._final, self._shown = [], {}, None
            self._finish(taken=True)

    def __enter__(self) -> None:
        """Around the current leg's ``send`` (both drivers): hear its vendor calls
        (:data:`HEARD`). Inside another failover's ``send``, the shorter patience holds."""
        outer = HEARD.get()
        if outer is not None and outer.open and outer.patience < self.ear.patience:
            self.ear.patience = outer.patience
        self._listening = HEARD.set(self.ear)

    def __exit__(self, kind: object, error: BaseException | None, tb: object) -> bool:
        """After it, whatever it did: stop hearing, and tell an outer failover what was heard
        (a failover inside another's ``send``: its attempts are the outer's too). An
        ``Exception`` it raised is its answer, for the rule to judge (never sent, or maybe);
        anything else (a cancellation, ``KeyboardInterrupt``) goes on."""
        HEARD.reset(self._listening)
        ear = self.ear
        ear.open = False
        outer = HEARD.get()
        if outer is not None and outer.open:
            outer.heard += ear.heard
            outer.sent = outer.sent or ear.sent
        if isinstance(error, Exception):
            self.answer = error
            return True
        return False

    def answered(self) -> None:
        """What the current leg's ``send`` gave (or raised), :attr:`answer`: judged,
        recorded, and the next leg chosen for the recipients that move."""
        answer = self.answer
        leg = self.leg
        assert leg is not None, "the failover is over"
        failover, number, pending = self._failover, self._number, self._pending
        legs = failover.legs
        found = judged(
            leg.vendor, leg.product, pending, answer, failover.move_maybe_sent, self._keys
        )
        if found.uniform is ACCEPTED and number == 0 and self._watch is None:
            # the usual failover: the first vendor took everyone; nothing to log or count
            self.leg = None
            self.result = _taken(leg, pending, found)
            return
        found = cautious(found, pending, answer, self.ear.heard, failover.move_maybe_sent)
        last = number == len(legs) - 1
        attempt = _attempt(leg, pending, found, answer, last)
        # the first attempt sets the order (the recipients'); a later one makes a new mapping,
        # so that each attempt's own stays as it was
        if number == 0:
            self._attempts = [attempt]
            self._final = found.outcomes
            self._shown = attempt.outcomes  # the result shows the same, while no leg follows
        else:
            self._attempts.append(attempt)
            self._final = {**self._final, **found.outcomes}
            self._shown = None
        taken = number == 0 and found.uniform is ACCEPTED  # the usual: the first took them all
        if self._watch is not None or not taken:
            following = None if last else legs[number + 1].vendor
            failover._observer.attempt(self._watch, attempt, following, found)
        self._pending = attempt.moved
        self._number = number + 1
        if self._pending:
            self.leg = legs[number + 1]
            self.batch = list(self._pending)
            self.ear = failover._ear(number + 1)
            self._keys = dict.fromkeys(self._pending)
        else:
            self._finish(taken)

    def _finish(self, taken: bool) -> None:
        final = self._final
        failed = () if taken else tuple(r for r, outcome in final.items() if not outcome.ok)
        self.leg = None
        self.result = result = _new(FailoverResult)
        _set(
            result,
            "__dict__",
            {
                "outcomes": self._shown or MappingProxyType(final),
                "attempts": tuple(self._attempts),
                "failed": failed,
            },
        )
        if self._watch is not None or not taken:
            self._failover._observer.finished(self._watch, result)


def _taken(leg: FailoverLeg[Any], pending: tuple[str, ...], found: Judgement) -> FailoverResult:
    """The result of a failover whose first leg took every recipient: one attempt, nothing
    failed (made in one step: the path every healthy send takes, measured against calling the
    client directly)."""
    attempt = _attempt(leg, pending, found, None, last=True)
    result = _new(FailoverResult)
    _set(
        result,
        "__dict__",
        {"outcomes": attempt.outcomes, "attempts": (attempt,), "failed": ()},
    )
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
        reasons = (
            MappingProxyType({pending[0]: verdict.reason})
            if len(pending) == 1
            else Same(found.outcomes, verdict.reason)
        )
        moved = pending if verdict.move and not last else ()
        skipped = verdict.reason in SKIPS and bool(pending)
    else:
        verdicts = found.verdicts
        reasons = {r: v.reason for r, v in verdicts.items()}
        moved = () if last else tuple(r for r, v in verdicts.items() if v.move)
        skipped = bool(verdicts) and all(v.skipped for v in verdicts.values())
    if isinstance(reasons, dict):
        reasons = MappingProxyType(reasons)
    outcomes = found.outcomes
    attempt = _new(FailoverAttempt)
    _set(
        attempt,
        "__dict__",
        {
            "vendor": leg.vendor,
            "product": leg.product,
            "recipients": pending,
            "outcomes": outcomes if outcomes.__class__ is Same else MappingProxyType(outcomes),
            "reasons": reasons,
            "moved": moved,
            "error": error,
            "skipped": skipped,
        },
    )
    return attempt


_new = object.__new__
_set = object.__setattr__
"""Results are made without the frozen dataclasses' ``object.__setattr__`` per field: an
instance with exactly its fields' dict (as :func:`normalizer._outcome.built`)."""


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

    def start(self) -> _Watch:
        """The span and counters of a failover (asked once something is set up for them)."""
        assert self._otel is not None
        return _Watch(self._otel, self._otel.span(self.name))

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

    def span(self, name: str) -> Any:
        if not self.tracing():
            return None
        return self.tracer.start_span(
            f"normalizer failover {name}", attributes={"normalizer.failover.name": name}
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
            self.span.set_attribute("normalizer.recipients", len(result.outcomes))
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
