"""What a state store answers, for writing another backend (see docs/redis.md, "Another store").

The transports keep per-vendor state (retry budget, rate limiter, circuit, cooldown) in a store
that answers a few named questions, each in one atomic step. :class:`~normalizer.LocalState`
(in-process) and ``normalizer.redis.RedisState`` (shared by a fleet) are the two built in; a
third is one class implementing ``ask``::

    class MyStore(Store):
        def ask(self, question: Query[A]) -> A: ...

The answers: :class:`Admit`, :class:`Retry`, :class:`Pace` -> :class:`Admission`;
:class:`Record` -> :data:`Transition`; :class:`GiveBack`, :class:`Refund`,
:class:`Release` -> None.
"""

from ._store import (
    Admission,
    Admit,
    AsyncStore,
    GiveBack,
    Keys,
    Limits,
    Pace,
    Query,
    Record,
    Refund,
    Release,
    Retry,
    Signal,
    Store,
    Transition,
)

__all__ = [
    "Admission",
    "Admit",
    "AsyncStore",
    "GiveBack",
    "Keys",
    "Limits",
    "Pace",
    "Query",
    "Record",
    "Refund",
    "Release",
    "Retry",
    "Signal",
    "Store",
    "Transition",
]
