"""Shared helpers for the per-vendor mapping tests: the vendors' own code documents."""

from __future__ import annotations

from pathlib import Path

import pytest

SEEDS = Path(__file__).resolve().parents[2].parent / "shared" / "seeds"
# third-party source tables (copied from other repositories and doc pages); not redistributed,
# so listed in .gitignore and absent from a fresh clone
SOURCES = Path(__file__).resolve().parent / "sources"


def source_file(vendor: str, name: str) -> Path:
    """Return ``sources/<vendor>/<name>``; skip the calling test when it is not in this checkout.

    Call it inside a test or fixture, never at import or collection time.
    """
    path = SOURCES / vendor / name
    if not path.is_file():
        pytest.skip(
            f"source table {path} is not in this checkout (third-party file, not redistributed)"
        )
    return path


@pytest.fixture
def seed_text() -> object:
    """Return a reader for one seed document (skips when ../shared/seeds is not beside the repo)."""

    def read(filename: str) -> str:
        path = SEEDS / filename
        if not path.is_file():
            pytest.skip(f"seed document {path} is not available")
        return path.read_text(encoding="utf-8")

    return read
