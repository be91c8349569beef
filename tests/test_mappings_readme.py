"""mappings/README.md lists every built-in vendor id, and only those.

The list is what a reader checks before writing ``Client("...")``; this test fails when a
mapping file is added, renamed or removed (or its display name changed) without the list.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from normalizer import Registry
from normalizer._cli import main

README = Path(__file__).resolve().parents[1] / "mappings" / "README.md"


def listed() -> dict[str, str]:
    """The README's "Built-in vendors" table: id -> display name."""
    text = README.read_text(encoding="utf-8")
    section = re.search(r"^## Built-in vendors\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    assert section is not None, "mappings/README.md has no '## Built-in vendors' section"
    rows = re.findall(r"^\| `([^`]+)` \| (.+?) \|$", section.group(1), re.M)
    ids = [vendor for vendor, _ in rows]
    assert len(ids) == len(set(ids)), "an id is listed twice"
    return dict(rows)


def test_the_readme_lists_every_built_in_vendor_and_only_those() -> None:
    builtin = {m.id: m.name for m in Registry(environ=False).all()}
    assert len(builtin) >= 13
    assert listed() == builtin
    files = {p.stem for p in README.parent.glob("*.toml")}
    assert set(listed()) == files


def test_the_readme_and_normalizer_vendors_agree(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["vendors", "--json"]) == 0
    shown = {row["id"]: row["name"] for row in json.loads(capsys.readouterr().out)}
    assert listed() == shown


def test_the_table_is_sorted() -> None:
    """As ``normalizer vendors`` prints them: a reader finds an id where they look."""
    assert list(listed()) == sorted(listed())
