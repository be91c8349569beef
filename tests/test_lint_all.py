"""``normalizer lint`` lists every mistake of a file; loading still stops at the first."""

from __future__ import annotations

from pathlib import Path

import pytest

from normalizer._cli import main
from normalizer._exceptions import MappingError
from normalizer._mapping import check_all, load_file

MANY = """format = 1
[vendor]
id = "acme"
name = "Acme"
colour = "red"
[envelope]
code = ["code"]
[codes]
"0" = { category = "ok", description = "ok" }
"1" = { category = "bsy", description = "busy" }
"2" = { category = "server" }
"3" = { category = "auth", description = "bad key", retryable = "no" }
[classes]
"4x" = "0"
[[http]]
status = "9999"
category = "server"
description = "x"
[products.sms]
paths = ["sms/*"]
"""


def test_check_all_lists_every_mistake(tmp_path: Path) -> None:
    path = tmp_path / "acme.toml"
    path.write_text(MANY, encoding="utf-8")
    keys = [e.key for e in check_all(path)]
    assert keys == [
        "vendor.colour",
        'codes."1".category',
        'codes."2".description',
        'codes."3".retryable',
        'classes."4x"',
        "http[0].status",
        "products.sms.paths[0]",
    ]


def test_loading_still_raises_the_first(tmp_path: Path) -> None:
    path = tmp_path / "acme.toml"
    path.write_text(MANY, encoding="utf-8")
    with pytest.raises(MappingError) as caught:
        load_file(path)
    assert caught.value.key == "vendor.colour"
    assert "unknown key" in caught.value.reason


def test_lint_prints_every_mistake(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "acme.toml"
    path.write_text(MANY, encoding="utf-8")
    assert main(["lint", str(path)]) == 1
    out = capsys.readouterr().out
    assert out.count("FAIL ") == 7
    assert 'codes."2".description: missing' in out
    assert "0 ok, 1 failed" in out


def test_a_file_without_vendor_is_one_mistake(tmp_path: Path) -> None:
    path = tmp_path / "x.toml"
    path.write_text("format = 2\n", encoding="utf-8")
    assert [e.key for e in check_all(path)] == ["format", "vendor"]
    path.write_text("format = [\n", encoding="utf-8")
    assert [e.key for e in check_all(path)] == [""]


def test_a_section_of_the_wrong_shape_does_not_hide_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "x.toml"
    head = MANY.split("[codes]")[0].replace('colour = "red"\n', "")
    head = head.replace("format = 1\n", "format = 1\nproducts = 3\n")
    path.write_text(
        head + '[codes]\n"1" = { category = "bsy", description = "x" }\n', encoding="utf-8"
    )
    assert [e.key for e in check_all(path)] == ['codes."1".category', "products"]


def test_a_draft_is_refused_until_its_marker_is_removed(tmp_path: Path) -> None:
    good = MANY.split("[codes]")[0].replace('colour = "red"\n', "")
    good += '[codes]\n"1" = { category = "busy", description = "x" }\n'
    path = tmp_path / "acme.toml"
    path.write_text(good + '[draft]\ntable = "acme.md"\n', encoding="utf-8")
    with pytest.raises(MappingError) as caught:
        load_file(path)
    assert (caught.value.key, str(path)) == ("draft", str(caught.value.path))
    assert "a draft is never loaded" in caught.value.reason
    assert [e.key for e in check_all(path)] == ["draft"]
    path.write_text(good, encoding="utf-8")
    assert load_file(path).id == "acme"
