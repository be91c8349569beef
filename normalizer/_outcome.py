"""The value a classified vendor response becomes."""

from __future__ import annotations

import dataclasses
import enum

from ._category import Category


class Match(enum.StrEnum):
    """How an outcome's category was found."""

    EXACT = "exact"
    """The code is in the vendor's (or product's) table, or is a declared success code."""
    CLASS = "class"
    """The code is unlisted and was read as its nearest known class (MANGO's 2219 -> 2210)."""
    HTTP_STATUS = "http_status"
    """No usable code: the HTTP status decided."""
    AMBIGUOUS = "ambiguous"
    """The code means different things in different products and none was given."""
    UNMAPPED = "unmapped"
    """A code was found that no table, class or HTTP rule knows."""
    MISSING = "missing"
    """No code was found in the body and no HTTP rule applied."""


@dataclasses.dataclass(frozen=True)
class Outcome:
    """One vendor response (or bare code) read through the unified taxonomy.

    Immutable and hashable; ``code`` is the vendor's code as a string exactly as the vendor
    wrote it ("0200001" and "200001" differ; the int 1000 becomes "1000").
    """

    category: Category
    retryable: bool
    vendor: str
    code: str | None = None
    message: str = ""
    """The vendor's own description of the code, from the mapping, in its original language."""
    gloss: str = ""
    """A short English gloss of ``message``."""
    product: str | None = None
    vendor_message: str | None = None
    """The text the response itself carried, if any."""
    http_status: int | None = None
    matched: Match = Match.EXACT
    rejected: bool = False
    """The vendor refused before doing any work: resending is safe even for a POST."""
    call_outcome: bool = False
    """The code reports how a phone call ended, not whether the API request worked."""
    request_id: str | None = None
    """The vendor's request or call id, when the body carries one."""
    candidates: tuple[Outcome, ...] = ()
    """Each product's reading of an ambiguous code."""
    cooldown: float = 0.0
    """Seconds the mapping says every caller should pause after this code (0: none)."""

    @property
    def ok(self) -> bool:
        """True for a successful outcome."""
        return self.category is Category.OK

    def __str__(self) -> str:
        code = "no code" if self.code is None else f"code {self.code}"
        text = self.message or self.vendor_message or ""
        where = self.vendor if self.product is None else f"{self.vendor}/{self.product}"
        status = "" if self.http_status is None else f", HTTP {self.http_status}"
        tail = f": {text}" if text else ""
        return f"{where} {code} -> {self.category.value} ({self.matched.value}{status}){tail}"


_new = object.__new__
_set = object.__setattr__


def make_outcome(
    category: Category,
    retryable: bool,
    vendor: str,
    code: str | None,
    message: str,
    gloss: str,
    product: str | None,
    vendor_message: str | None,
    http_status: int | None,
    matched: Match,
    rejected: bool,
    call_outcome: bool,
    request_id: str | None,
    candidates: tuple[Outcome, ...],
    cooldown: float,
) -> Outcome:
    """Build an Outcome on the hot path: one dict instead of fifteen frozen ``__setattr__``.

    A frozen dataclass's ``__init__`` pays a Python-level ``object.__setattr__`` per field,
    more than half of classifying a small body; the instance is the same either way.
    """
    outcome = _new(Outcome)
    _set(
        outcome,
        "__dict__",
        {
            "category": category,
            "retryable": retryable,
            "vendor": vendor,
            "code": code,
            "message": message,
            "gloss": gloss,
            "product": product,
            "vendor_message": vendor_message,
            "http_status": http_status,
            "matched": matched,
            "rejected": rejected,
            "call_outcome": call_outcome,
            "request_id": request_id,
            "candidates": candidates,
            "cooldown": cooldown,
        },
    )
    return outcome
