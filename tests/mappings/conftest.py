"""Shared helpers for the per-vendor mapping tests: the vendors' own code documents, and what
a client makes of a URL and logs of a call."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

import normalizer

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


def claimed(url: str) -> bool:
    """Whether auto-detection takes ``url`` for a vendor's (a web page answered there gets an
    outcome): a vendor's own web site must not be."""
    page = httpx.MockTransport(lambda request: httpx.Response(200, text="<html></html>"))
    with normalizer.Client(transport=page, retry=None) as client:
        return normalizer.outcome_of(client.get(url)) is not None


def get(url: str, answer: httpx.Response) -> httpx.Response:
    """A GET of ``url`` through an auto-detecting client, the vendor answering ``answer``."""
    vendor = httpx.MockTransport(lambda request: answer)
    with normalizer.Client(transport=vendor, retry=None) as client:
        return client.get(url)


def logged(caplog: pytest.LogCaptureFixture) -> str:
    """What normalizer logged in the test, a line a record."""
    return "\n".join(r.getMessage() for r in caplog.records if r.name == "normalizer")
