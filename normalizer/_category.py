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
    """The request is wrong (parameters, duplicates, state, rejected content): fix the request.

    A sending limit is never validation (fixing the request does not help, waiting does),
    except a limit on the request's own shape: too many numbers in one request, a body too
    large. Each code is read by its text, not by its name's prefix."""
    BILLING = "billing"
    """Balance, fees, account frozen by billing, usage caps: pay or talk to the vendor.

    A quota (a daily or monthly cap, of the account or of one number) is billing: it passes
    when the period turns or the cap is raised, never on a prompt retry, and it is not a rate,
    so it never slows the other calls (the rate limiter)."""
    BUSY = "busy"
    """Transient capacity: busy, rate and concurrency limits, no free resource. Retryable.

    A frequency limit on one number or template is busy with that narrow scope
    (:attr:`Scope.RECIPIENT` or :attr:`Scope.RESOURCE`): it never slows the whole vendor and
    is no reason to try the same number elsewhere; the window the vendor's text names is the
    outcome's ``retry_after``. A rate limit of the whole account is busy of account scope."""
    NOT_FOUND = "not_found"
    """A referenced object (task, call, file, app, number) does not exist."""
    SERVER = "server"
    """Vendor-side failure: internal error, overload, restart, database. Retryable by default.

    An overload (the mapping's ``overload = true``) also slows every call to the vendor, as
    an account's rate limit does, besides counting for the circuit breaker."""
    UNKNOWN = "unknown"
    """A code nobody mapped, an ambiguous one, or no code at all. Never guessed."""

    @property
    def retryable_by_default(self) -> bool:
        """Busy and server outcomes may succeed later; nothing else does by default."""
        return self in _RETRYABLE


_RETRYABLE = frozenset({Category.BUSY, Category.SERVER})


class Scope(enum.StrEnum):
    """Whom an answer is about, which decides who else should act on it.

    An overloaded vendor or account concerns every call to it: only those answers feed the
    circuit breaker, the cooldown and the rate limiter. A busy agent, line or callee, one
    recipient's frequency limit or daily cap, concerns one call: it is answered (retried or
    not) by that call, and never slows the vendor down.
    """

    VENDOR = "vendor"
    """The vendor's platform (an internal error, an overload)."""
    ACCOUNT = "account"
    """The caller's account with the vendor (a rate or concurrency limit, credentials, balance)."""
    RESOURCE = "resource"
    """One resource behind the request: an agent in a call, a line, a task, a sender number."""
    RECIPIENT = "recipient"
    """One recipient or callee: a busy callee, a per-number cap, an undeliverable number."""
    REQUEST = "request"
    """The request itself: its parameters, or an object it names."""

    @property
    def shared(self) -> bool:
        """Every call to the vendor (on this account) is concerned, not only this one."""
        return self in _SHARED

    @classmethod
    def default(cls, category: Category, report: bool = False) -> Scope:
        """The scope of an entry that does not say: a call's or message's fate concerns its
        recipient; a server failure the vendor; busy, auth and billing answers the account."""
        if report:
            return cls.RECIPIENT
        return _DEFAULT_SCOPE.get(category, cls.REQUEST)


_SHARED = frozenset({Scope.VENDOR, Scope.ACCOUNT})
_DEFAULT_SCOPE = {
    Category.SERVER: Scope.VENDOR,
    Category.BUSY: Scope.ACCOUNT,
    Category.AUTH: Scope.ACCOUNT,
    Category.BILLING: Scope.ACCOUNT,
}
