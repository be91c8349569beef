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


class Fault(enum.StrEnum):
    """Whose failure an answer is: what decides whether another vendor could do better.

    :class:`Scope` says who *else* is affected (whether other calls slow down); ``fault`` says
    what would have to change for the message to go out. Only a ``vendor`` fault is a reason to
    try another vendor (:class:`normalizer.Failover`); the others would fail there too, or must
    not be tried there (a per-recipient cap exists to protect the recipient).

    An entry's fault is derived from its category and scope (:meth:`default`) unless its mapping
    writes one: ``fault = "vendor"`` on a validation code that means the vendor's own
    registration of a template or sender is missing, ``"recipient"`` on an invalid or blocked
    number, ``"content"`` on content the operator refused.
    """

    VENDOR = "vendor"
    """The vendor or the caller's account with it: busy, overloaded, out of money, credentials
    refused, its own registration of a template or sender missing. Another vendor may serve."""
    RECIPIENT = "recipient"
    """The recipient: an invalid, blocked or unsubscribed number, a cap on that number."""
    CONTENT = "content"
    """The message: content the vendor or the operator refused."""
    REQUEST = "request"
    """The request as written (parameters, formats, an object it names): fix the request."""

    @classmethod
    def default(cls, category: Category, scope: Scope) -> Fault | None:
        """The fault of an entry that does not say: none for a success; the vendor's for an
        answer about the vendor or the account (a server error, a rate limit, credentials,
        balance); the recipient's for one about the recipient; the request's otherwise (a
        resource behind the request, the request itself)."""
        if category is Category.OK:
            return None
        return _DEFAULT_FAULT.get(scope, cls.REQUEST)


_DEFAULT_FAULT = {
    Scope.VENDOR: Fault.VENDOR,
    Scope.ACCOUNT: Fault.VENDOR,
    Scope.RECIPIENT: Fault.RECIPIENT,
}
