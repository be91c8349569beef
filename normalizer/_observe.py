"""What a vendor call tells the world, from one place.

:func:`normalizer._call.vendor_call` reports each event once, here; :class:`Observers` hands
it to whoever listens: the log lines and the ``on_outcome`` hook (:class:`CallLog`),
OpenTelemetry's metrics and the call's span (:class:`~normalizer._telemetry.Telemetry`, whose
span wraps the whole call in the transport). Like stamina's instrumentation hooks, an
observer never changes what the call returns: logging guards itself, and a broken exporter
is ignored. The log is built on first need: most calls succeed at once and log nothing.
"""

from __future__ import annotations

import contextlib
import math
from contextvars import ContextVar

import httpx

from ._logging import Call, CallLog
from ._outcome import Outcome
from ._retry import GIVE_UP, Decision
from ._store import Transition
from ._telemetry import Telemetry, decided

Heard = tuple[httpx.Request, Outcome | None, BaseException | None]
"""One attempt of a vendor call: its request, and the outcome (or the error) it had; both None
while the request is on its way (or when it never came back: cancelled)."""


class Ear:
    """What a failover hears of the vendor calls its leg's ``send`` makes, while it listens
    (:data:`HEARD`): every attempt from the moment its request is sent, and every refusal
    before sending. Closed once the leg is over: a task the ``send`` started, still calling,
    is heard no more. ``patience``: the failover's (inf: none), how far ahead a rate-limiter
    turn may be for the calls it hears before they are refused and their recipients move on;
    ``sent``: a request of the leg has gone (its later calls are no longer refused for it)."""

    __slots__ = ("heard", "open", "patience", "sent")

    def __init__(self, patience: float = math.inf) -> None:
        self.heard: list[Heard] = []
        self.open = True
        self.patience = patience
        self.sent = False


HEARD: ContextVar[Ear | None] = ContextVar("normalizer_heard", default=None)
"""The :class:`Ear` of the failover whose leg's ``send`` runs in this context, if any
(:mod:`normalizer._failover`): whether any request may have reached the vendor decides what an
exception from ``send``, or a refusal after a lost answer, means."""


class Observers:
    """The listeners of one call; each method is one event of :func:`vendor_call`."""

    __slots__ = ("_at", "_call", "_log", "_telemetry", "ear")

    def __init__(self, call: Call, telemetry: Telemetry | None) -> None:
        """The call's listeners; ``telemetry``: what the transport found listening."""
        self._call = call
        self._telemetry = telemetry if telemetry is not None and telemetry.wanted() else None
        self._log: CallLog | None = None
        self.ear = HEARD.get()
        """A failover's, when one listens (:class:`Ear`); the call then says :meth:`sending`."""
        self._at = -1

    def sending(self) -> None:
        """An attempt's request is on its way (asked only when a failover listens): heard as
        maybe sent until the attempt ends (:meth:`attempt`), and so if it never does."""
        ear = self.ear
        if ear is not None and ear.open:
            self._at = len(ear.heard)
            ear.heard.append((self._call.request, None, None))
            ear.sent = True

    def refused(self, error: BaseException) -> None:
        """The call was refused before sending (circuit open, cooldown, rate limit)."""
        ear = self.ear
        if ear is not None and ear.open:
            ear.heard.append((self._call.request, None, error))

    @property
    def _product(self) -> str | None:
        """The call's product, for the telemetry's attributes."""
        product = self._call.route.product
        return None if product is None else product.id

    @property
    def log(self) -> CallLog:
        if self._log is None:
            self._log = CallLog(self._call)
        return self._log

    def attempt(
        self,
        number: int,
        response: httpx.Response | None,
        outcome: Outcome | None,
        error: BaseException | None = None,
        *,
        hop: bool = False,
    ) -> None:
        """An attempt's outcome (or transport error); ``hop``: an auth flow's challenge, not
        logged as a failure."""
        ear = self.ear
        if ear is not None and ear.open and self._at >= 0:  # a failover listens
            ear.heard[self._at] = (self._call.request, outcome, error)
            self._at = -1
        if outcome is None or not outcome.ok:
            if not hop:
                self.log.attempt_failed(number, response, outcome, error)
        elif outcome.partial:
            self.log.partial(number, outcome)
        if self._telemetry is not None:
            with _unless_broken():
                self._telemetry.attempt(
                    self._call.route.mapping.id, self._product, number, outcome, error
                )

    def decided(
        self, number: int, result: httpx.Response | BaseException, decision: Decision
    ) -> None:
        """The decision taken on attempt ``number``: an event on the call's span."""
        if self._telemetry is not None:
            decided(number, result, decision)

    def retrying(self, number: int, outcome: Outcome | None, decision: Decision) -> None:
        self.log.retrying(number, outcome, decision.delay, decision.why, decision.delay_from)
        if self._telemetry is not None:
            with _unless_broken():
                self._telemetry.retrying(self._call.route.mapping.id, self._product, decision.why)

    def circuit(self, transition: Transition) -> None:
        assert transition is not None
        call = self._call
        self.log.circuit(transition, call.keys.circuit, call.limits)
        if self._telemetry is not None:
            with _unless_broken():
                self._telemetry.circuit(call.route.mapping.id, transition)

    def finished(
        self,
        outcome: Outcome | None,
        error: BaseException | None,
        attempts: int,
        decision: Decision | None,
        retried_for: str | None,
    ) -> None:
        """The call's end: its outcome (or transport error), after ``attempts``; a give-up is
        logged once, with why."""
        why = None if decision is None else decision.why
        gave_up = why is not None and why in GIVE_UP
        if gave_up and (outcome is None or not outcome.ok):
            assert why is not None
            self.log.gave_up(attempts, outcome, why)
        if self._telemetry is not None:
            call = self._call
            reason = why if gave_up else retried_for
            with _unless_broken():
                self._telemetry.finished(
                    call.route.mapping.id,
                    self._product,
                    outcome,
                    error,
                    attempts,
                    call.deadline.elapsed(),
                    reason,
                )
        if outcome is not None and self._call.pipeline.options.on_outcome is not None:
            self.log.finished(outcome, attempts)


def _unless_broken() -> contextlib.suppress:
    """A broken exporter or SDK must not change what the call returns."""
    return contextlib.suppress(Exception)
