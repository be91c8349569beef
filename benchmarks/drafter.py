"""The drafter (``normalizer draft``) measured leave-one-vendor-out on the frozen reviewed
mappings (tests/drafter/frozen/, kept as the mappings stood before the audit's fixes).

Each vendor's table (its codes and descriptions, no gloss: what a vendor publishes) is drafted
by a drafter that learned from every other vendor's frozen entries only, and compared with the
reviewed category. ``python benchmarks/drafter.py`` prints the per-vendor table; ``--unseen``
also drafts the published tables of tests/drafter/unseen/ (vendors no mapping knows) with a
drafter that learned from every frozen table.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from normalizer._draft import Drafter, _vendor_weight, leave_one_out  # noqa: E402
from tests.drafter.tables import frozen, unseen  # noqa: E402


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
            drafter.learn(rows, weight=_vendor_weight(len(rows)))
        table("Tables no mapping knows", unseen(drafter))


if __name__ == "__main__":
    main()
