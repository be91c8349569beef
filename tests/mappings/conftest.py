"""Shared helpers for the per-vendor mapping tests: the vendors' own code documents."""

from __future__ import annotations

from pathlib import Path

import pytest

SEEDS = Path(__file__).resolve().parents[2].parent / "shared" / "seeds"


@pytest.fixture
def seed_text() -> object:
    """Return a reader for one seed document (skips when ../shared/seeds is not beside the repo)."""

    def read(filename: str) -> str:
        path = SEEDS / filename
        if not path.is_file():
            pytest.skip(f"seed document {path} is not available")
        return path.read_text(encoding="utf-8")

    return read
