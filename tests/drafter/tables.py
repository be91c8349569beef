"""The drafter's measures: the frozen reviewed tables and the published tables no mapping
knows (read by tests/drafter/test_drafter.py and benchmarks/drafter.py)."""

from __future__ import annotations

import json
from pathlib import Path

from normalizer._draft import Drafter, read_table

HERE = Path(__file__).resolve().parent
FROZEN = HERE / "frozen"
UNSEEN = HERE / "unseen"


def frozen() -> dict[str, list[dict[str, object]]]:
    """The frozen reviewed entries (freeze.py), by vendor."""
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
        rows = read_table(table.read_text(encoding="utf-8"))
        read = dict(zip((code for code, _ in rows), drafter.read_rows(rows), strict=True))
        agree = sum(
            (read.get(code) or drafter.read("", code)).category == category
            for code, category in expected.items()
        )
        out[name] = (agree, len(expected))
    return out
