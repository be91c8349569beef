"""The unified taxonomy every vendor code is mapped onto."""

from __future__ import annotations

import enum


class Category(enum.StrEnum):
    """What a result means for the caller deciding what to do next.

    A ``StrEnum``, so ``Category.BUSY == "busy"`` and it serialises as its value.
    """

    OK = "ok"
    """Success."""
    AUTH = "auth"
    """Credentials, signature, token, expired timestamp, IP whitelist, permission."""
    VALIDATION = "validation"
    """The request is wrong (parameters, duplicates, state, rejected content): fix the request."""
    BILLING = "billing"
    """Balance, fees, account frozen by billing, usage caps: pay or talk to the vendor."""
    BUSY = "busy"
    """Transient capacity: busy, rate and concurrency limits, no free resource. Retryable."""
    NOT_FOUND = "not_found"
    """A referenced object (task, call, file, app, number) does not exist."""
    SERVER = "server"
    """Vendor-side failure: internal error, overload, restart, database. Retryable by default."""
    UNKNOWN = "unknown"
    """A code nobody mapped, an ambiguous one, or no code at all. Never guessed."""

    @property
    def retryable_by_default(self) -> bool:
        """Busy and server outcomes may succeed later; nothing else does by default."""
        return self in _RETRYABLE


_RETRYABLE = frozenset({Category.BUSY, Category.SERVER})
