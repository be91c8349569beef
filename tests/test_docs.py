"""The documentation site: every Python block runs, the code reference covers every code.

Every ```python block of ``docs/**/*.md`` runs in a fresh interpreter, as a reader would paste
it (the approach of ``test_readme.py``). The generated code reference (``docs/hooks.py``) is
checked by calling its generator directly: every vendor, product and code has its page and its
row. Where mkdocs is installed (the ``docs`` and ``dev`` extras), the whole site is built with
``mkdocs build --strict``, so a broken link or reference fails here as in CI.
"""

from __future__ import annotations

import html
import importlib.util
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from docs import hooks
from normalizer import Category
from tests.conftest import CACHE, run_example

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.rglob("*.md"))
BLOCKS = [
    (f"{page.relative_to(DOCS)}:{n}", code)
    for page in PAGES
    for n, code in enumerate(
        re.findall(r"```python\n(.*?)```", page.read_text(encoding="utf-8"), re.S), 1
    )
]
GUIDES = [
    "index.md",
    "quickstart.md",
    "clients.md",
    "retries.md",
    "redis.md",
    "observability.md",
    "testing.md",
    "mappings.md",
    "adding-a-vendor.md",
    "limitations.md",
    "sdks.md",
    "reference/api.md",
]


def test_the_guides_exist_and_have_examples() -> None:
    for guide in GUIDES:
        assert (DOCS / guide).is_file(), guide
    assert len(BLOCKS) >= 20


@pytest.mark.parametrize("code", [c for _, c in BLOCKS], ids=[i for i, _ in BLOCKS])
def test_docs_block_runs(code: str) -> None:
    run_example(code)


@pytest.fixture(scope="module")
def pages() -> dict[str, str]:
    return hooks.pages()


def shown(code: str) -> str:
    """A code as a generated page writes it."""
    return hooks.code(code)


def test_every_vendor_and_product_has_a_page(pages: dict[str, str]) -> None:
    vendors = hooks.registry().all()
    assert {v.id for v in vendors} >= {"ucpaas", "mango", "onbuka", "huawei_isales", "twilio"}
    index = pages[hooks.CODES_INDEX]
    for vendor in vendors:
        assert hooks.page_of(vendor) in pages, vendor.id
        assert f"]({vendor.id}/index.md)" in index, vendor.id
        for product in vendor.products.values():
            assert hooks.page_of(vendor, product) in pages, (vendor.id, product.id)
            assert f"[{product.id}]({product.id}.md)" in pages[hooks.page_of(vendor)]


def test_every_code_is_on_its_page_and_under_its_category(pages: dict[str, str]) -> None:
    categories = pages[hooks.CATEGORIES_PAGE]
    total = 0
    for vendor in hooks.registry().all():
        counted = 0
        for table in hooks.tables(vendor):
            page = pages[table.page]
            for code, entry in table.table.codes.items():
                row = (
                    f"| {shown(code)} | {entry.category.value} | {hooks.flag(entry.retryable)} "
                    f"| {hooks.flag(entry.rejected)} | {hooks.text(entry.description)} "
                    f"| {hooks.text(entry.gloss)} |"
                )
                assert row in page, (table.label, code)
                source = hooks.entry_source(entry, "")
                if source:
                    assert hooks.linked(source) in page
                counted += 1
            section = [
                re.split(r"\n#{2,3} ", s)[0]
                for s in categories.split(f"### {hooks.text(table.label)}: ")[1:]
            ]
            for code, entry in table.table.codes.items():
                assert any(
                    s.startswith(entry.category.value + " ") and f"| {shown(code)} |" in s
                    for s in section
                ), (table.label, code, entry.category)
        assert counted == vendor.code_count, vendor.id
        total += counted
    assert total > 2000


def test_the_pages_read_what_lookup_answers(pages: dict[str, str]) -> None:
    from normalizer import lookup

    page = pages["reference/codes/ucpaas/index.md"]
    out = lookup("ucpaas", "107225")
    assert out.category is Category.BUSY
    assert out.message is not None
    assert f"| {shown('107225')} | busy | yes | yes | {hooks.text(out.message)} |" in page
    mango = pages["reference/codes/mango/index.md"]
    assert "Перегрузка" in mango
    assert "### Nearest-class fallback" in mango
    assert f"| {shown('221x')} | {shown('2210')} |" in mango


def test_markdown_escaping() -> None:
    assert hooks.text("a|b *c* <d>\n_e_") == r"a\|b \*c\* &lt;d&gt; \_e\_"
    assert hooks.linked("https://x.example/a_b (note)") == r"<https://x.example/a_b> \(note\)"
    assert set(hooks.MEANING) == set(Category)


def test_glob_display_inverts_fnmatch() -> None:
    import fnmatch

    globs = ["/v3/sendSms", "*/aivoice/*", "/a?b/[ab]*", "/x.y/*"]
    pattern = re.compile("|".join(f"(?:{fnmatch.translate(g)})" for g in globs))
    assert hooks.globs(pattern) == globs
    assert hooks.globs(None) == []


def test_navigation_lists_every_page(pages: dict[str, str]) -> None:
    def walk(items: list[object]) -> list[str]:
        found: list[str] = []
        for item in items:
            if isinstance(item, str):
                found.append(item)
            elif isinstance(item, dict):
                for value in item.values():
                    found += walk(value if isinstance(value, list) else [value])
        return found

    listed = walk(hooks.nav())
    assert sorted(listed) == sorted(p for p in pages if p != hooks.CATEGORIES_PAGE)


@pytest.mark.skipif(importlib.util.find_spec("mkdocs") is None, reason="mkdocs not installed")
def test_site_builds_strictly(tmp_path: Path) -> None:
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PYTHONUTF8": "1", "PATH": "", "NO_MKDOCS_2_WARNING": "1", CACHE: os.environ[CACHE]},
    )
    assert proc.returncode == 0, proc.stderr
    assert time.monotonic() - started < 120
    ucpaas = (tmp_path / "reference/codes/ucpaas/index.html").read_text(encoding="utf-8")
    assert "107225" in ucpaas
    assert html.escape("外呼繁忙") in ucpaas
    assert (tmp_path / "reference/categories/index.html").is_file()
    assert (tmp_path / "reference/api/index.html").is_file()
    index = json.loads((tmp_path / "search/search_index.json").read_text(encoding="utf-8"))
    for term, page in [("107225", "ucpaas"), ("Перегрузка", "mango"), ("0200001", "huawei")]:
        found = {d["location"] for d in index["docs"] if term in d["text"]}
        assert f"reference/codes/{page}" in " ".join(found), term
    assert not list(tmp_path.rglob("*.py")), "the hooks must not be published"
