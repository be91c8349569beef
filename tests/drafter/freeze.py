"""Freeze the reviewed mappings' code tables for the drafter's leave-one-vendor-out test.

Run once (``python tests/drafter/freeze.py``): it writes ``tests/drafter/frozen/<vendor>.json``,
every code entry of every built-in mapping file (vendor table, products, item tables) as
(key, code, description, gloss, category, retryable). The test measures the drafter against
this copy, not against ``mappings/``: fixing a mapping toward what the drafter says must not
raise its score. Re-running it is a decision (a new reviewed baseline), never a routine step.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from normalizer._category import Category  # noqa: E402
from normalizer._mapping import read_file  # noqa: E402


def rows(scope: dict[str, Any], prefix: str) -> list[dict[str, Any]]:
    out = []
    for code, entry in scope.get("codes", {}).items():
        category = entry["category"]
        default = Category(category).retryable_by_default and not (
            entry.get("call_outcome") or entry.get("delivery_outcome")
        )
        out.append(
            {
                "key": f'{prefix}codes."{code}"',
                "code": code,
                "description": entry["description"],
                "gloss": entry.get("gloss", ""),
                "category": category,
                "retryable": entry.get("retryable", default),
            }
        )
    for i, spec in enumerate(scope.get("items", [])):
        out.extend(rows(spec, f"{prefix}items[{i}]."))
    for name, product in scope.get("products", {}).items():
        out.extend(rows(product, f"{prefix}products.{name}."))
    return out


def main() -> None:
    out = ROOT / "tests" / "drafter" / "frozen"
    out.mkdir(parents=True, exist_ok=True)
    for path in sorted((ROOT / "mappings").glob("*.toml")):
        doc = read_file(path)
        data = {
            "vendor": doc["vendor"]["id"],
            "file": f"mappings/{path.name}",
            "codes": rows(doc, ""),
        }
        text = json.dumps(data, ensure_ascii=False, indent=1) + "\n"
        (out / f"{path.stem}.json").write_text(text, encoding="utf-8")
        print(f"{path.stem}: {len(data['codes'])} codes")


if __name__ == "__main__":
    main()
