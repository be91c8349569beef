"""The drafter (``normalizer draft``) measured leave-one-vendor-out on the frozen reviewed
mappings (tests/drafter/frozen/, kept as the mappings stood before the audit's fixes).

Each vendor's table (its codes and descriptions, no gloss: what a vendor publishes) is drafted
by a drafter that learned from every other vendor's frozen entries only, and compared with the
reviewed category. ``python benchmarks/drafter.py`` prints the per-vendor table; ``--unseen``
also drafts the published tables in tests/drafter/unseen/ (vendors no mapping knows).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from normalizer._draft import Drafter, leave_one_out, read_table  # noqa: E402

FROZEN = ROOT / "tests" / "drafter" / "frozen"
UNSEEN = ROOT / "tests" / "drafter" / "unseen"


def frozen() -> dict[str, list[dict[str, object]]]:
    """The frozen reviewed entries, by vendor."""
    out = {}
    for path in sorted(FROZEN.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        out[data["vendor"]] = data["codes"]
    return out


def unseen(drafter: Drafter) -> dict[str, tuple[int, int]]:
    """Published tables of vendors without a mapping, each with the categories a person gave
    its codes (``<name>.expected.json``): vendor -> (agree, codes)."""
    out = {}
    for expected_path in sorted(UNSEEN.glob("*.expected.json")):
        name = expected_path.name.removesuffix(".expected.json")
        table = next(p for p in UNSEEN.glob(f"{name}.*") if p != expected_path)
        expected = json.loads(expected_path.read_text(encoding="utf-8"))["categories"]
        rows = dict(read_table(table.read_text(encoding="utf-8")))
        agree = sum(
            drafter.read(rows.get(code, ""), code).category == category
            for code, category in expected.items()
        )
        out[name] = (agree, len(expected))
    return out


def table(title: str, result: dict[str, tuple[int, int]]) -> None:
    print(f"\n{title}\n")
    print("| vendor | codes | agree | share |")
    print("|---|---:|---:|---:|")
    for vendor, (agree, n) in result.items():
        print(f"| {vendor} | {n} | {agree} | {agree / n:.1%} |")
    agree = sum(a for a, _ in result.values())
    n = sum(n for _, n in result.values())
    print(f"| **all** | {n} | {agree} | {agree / n:.1%} |")


def main() -> None:
    tables = frozen()
    table("Leave one vendor out (frozen reviewed mappings)", leave_one_out(tables))
    if "--unseen" in sys.argv:
        drafter = Drafter()
        for rows in tables.values():
            drafter.learn(rows, weight=10.0 / len(rows) ** 0.5)
        table("Tables no mapping knows", unseen(drafter))


if __name__ == "__main__":
    main()
