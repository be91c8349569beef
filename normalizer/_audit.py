"""``normalizer audit``: every mapping entry read again through the drafter's lexicon, listing
those whose category contradicts the vendor's own words (a frequency limit read as validation,
arrears not read as billing, a signature failure read as server).

Only the lexicon's ``[[audit]]`` rules judge: each says what the taxonomy decides for
a kind of text (mappings/README.md), so a finding is a question a person can answer from the
text. A finding is fixed in the mapping (with its source), or kept as a reviewed exception in
``mappings/audit/reviewed.toml`` with the reason the entry is right; an exception holds for the
category it was reviewed at, so changing the entry re-opens it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._draft import Rule, load_lexicon, reviewed_rows

REVIEWED = "audit/reviewed.toml"
"""Where the reviewed exceptions are, under the built-in mappings' directory."""


@dataclass(frozen=True)
class Finding:
    """An entry whose category its text contradicts."""

    vendor: str
    file: str
    key: str
    category: str
    text: str
    suggested: tuple[str, ...]
    """The categories the matched rules say, in lexicon order."""
    words: tuple[str, ...]
    """The phrases that matched."""


@dataclass(frozen=True)
class Exception_:
    """A finding a person read and kept: the entry is right at ``category`` for ``reason``."""

    vendor: str
    key: str
    category: str
    reason: str


def audit_rules() -> tuple[Rule, ...]:
    return load_lexicon(table="audit")


def audit_doc(doc: dict[str, Any], file: str, rules: Sequence[Rule]) -> list[Finding]:
    """The findings of one checked mapping document."""
    vendor = doc["vendor"].get("id") or doc["vendor"]["extends"]
    out = []
    for row in reviewed_rows(doc):
        text = f"{row['description']} {row['gloss']}".lower()
        said: dict[str, list[str]] = {}
        for rule in rules:
            found = rule.matches(text)
            if found and row["category"] not in rule.allow:
                said.setdefault(rule.category, []).extend(found)
        if said:
            out.append(
                Finding(
                    vendor=vendor,
                    file=file,
                    key=row["key"],
                    category=row["category"],
                    text=row["description"] + (f" ({row['gloss']})" if row["gloss"] else ""),
                    suggested=tuple(said),
                    words=tuple(dict.fromkeys(w for ws in said.values() for w in ws)),
                )
            )
    return out


def load_reviewed(path: str | Path) -> list[Exception_]:
    """The reviewed exceptions (``[[reviewed]]`` tables: vendor, key, category, reason)."""
    import tomllib

    from ._exceptions import MappingError

    try:
        with open(path, "rb") as fh:
            doc = tomllib.load(fh)
    except FileNotFoundError:
        return []
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise MappingError(path, "", f"cannot read: {exc}") from None
    out = []
    for i, raw in enumerate(doc.get("reviewed", [])):
        for field in ("vendor", "key", "category", "reason"):
            if not isinstance(raw.get(field), str) or not raw[field].strip():
                raise MappingError(path, f"reviewed[{i}].{field}", "missing (a non-empty string)")
        out.append(Exception_(raw["vendor"], raw["key"], raw["category"], raw["reason"]))
    return out


@dataclass(frozen=True)
class Report:
    open: list[Finding]
    reviewed: list[tuple[Finding, Exception_]]
    stale: list[Exception_]
    """Exceptions that match no finding any more (fixed, or the entry changed)."""


def audit(files: Iterable[str | Path], reviewed: Sequence[Exception_]) -> Report:
    from ._mapping import read_file

    rules = audit_rules()
    findings = [f for path in files for f in audit_doc(read_file(path), str(path), rules)]
    kept = {(e.vendor, e.key, e.category): e for e in reviewed}
    used = set()
    open_, done = [], []
    for finding in findings:
        exc = kept.get((finding.vendor, finding.key, finding.category))
        if exc is None:
            open_.append(finding)
        else:
            used.add((exc.vendor, exc.key, exc.category))
            done.append((finding, exc))
    stale = [e for k, e in kept.items() if k not in used]
    return Report(open_, done, stale)
