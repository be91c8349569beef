"""``normalizer audit``: entries whose category their own text contradicts, reviewed or not."""

from __future__ import annotations

from pathlib import Path

import pytest

from normalizer._audit import REVIEWED, audit, load_reviewed
from normalizer._cli import main
from normalizer._exceptions import MappingError
from normalizer._registry import builtin_dir

ACME = """format = 1
[vendor]
id = "acme"
name = "Acme"
[envelope]
code = ["code"]
[codes]
"1" = { category = "validation", description = "Rate limit exceeded, too many requests" }
"2" = { category = "validation", description = "账户余额不足" }
"3" = { category = "server", description = "Signature does not match" }
"4" = { category = "billing", description = "Недостаточно средств" }
"5" = { category = "validation", description = "Phone number is invalid" }
[products.sms]
paths = ["/sms"]
[products.sms.codes]
"6" = { category = "busy", description = "daily limit reached for this number" }
"""

REVIEWED_ONE = """format = 1
[[reviewed]]
vendor = "acme"
key = 'codes."2"'
category = "validation"
reason = "a test: the text names another account's balance"
[[reviewed]]
vendor = "acme"
key = 'codes."9"'
category = "auth"
reason = "fixed since"
"""


@pytest.fixture
def acme(tmp_path: Path) -> Path:
    path = tmp_path / "acme.toml"
    path.write_text(ACME, encoding="utf-8")
    return path


def test_findings_name_the_entry_and_the_words(acme: Path) -> None:
    report = audit([acme], [])
    found = {f.key: (f.category, f.suggested) for f in report.open}
    assert found == {
        'codes."1"': ("validation", ("busy",)),
        'codes."2"': ("validation", ("billing",)),
        'codes."3"': ("server", ("auth",)),
        'products.sms.codes."6"': ("busy", ("billing",)),
    }
    assert next(f for f in report.open if f.key == 'codes."2"').words == ("余额不足",)


def test_reviewed_exceptions_pass_and_stale_ones_show(acme: Path, tmp_path: Path) -> None:
    reviewed_path = tmp_path / "reviewed.toml"
    reviewed_path.write_text(REVIEWED_ONE, encoding="utf-8")
    report = audit([acme], load_reviewed(reviewed_path))
    assert [f.key for f, _ in report.reviewed] == ['codes."2"']
    assert [e.key for e in report.stale] == ['codes."9"']
    assert len(report.open) == 3
    # an exception holds for the category it was reviewed at: a changed entry re-opens it
    acme.write_text(
        ACME.replace('"validation", description = "账户', '"auth", description = "账户')
    )
    report = audit([acme], load_reviewed(reviewed_path))
    assert 'codes."2"' in [f.key for f in report.open]


def test_cli_audit_fails_only_on_open_findings(
    acme: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reviewed_path = tmp_path / "reviewed.toml"
    reviewed_path.write_text(REVIEWED_ONE, encoding="utf-8")
    assert main(["audit", str(acme), "--reviewed", str(reviewed_path)]) == 1
    out = capsys.readouterr().out
    assert 'FINDING  acme codes."1": validation, but its text says busy' in out
    assert 'reviewed acme codes."2": validation: a test' in out
    assert "3 open, 1 reviewed, 1 stale" in out
    fixed = ACME.replace('"validation", description = "Rate', '"busy", description = "Rate')
    fixed = fixed.replace('"server", description = "Sig', '"auth", description = "Sig')
    fixed = fixed.replace('"busy", description = "daily', '"billing", description = "daily')
    acme.write_text(fixed, encoding="utf-8")
    assert main(["audit", str(acme), "--reviewed", str(reviewed_path)]) == 0


def test_reviewed_file_is_well_formed(tmp_path: Path) -> None:
    shipped = load_reviewed(builtin_dir() / REVIEWED)
    assert shipped
    assert all(e.reason.strip() for e in shipped)
    bad = tmp_path / "r.toml"
    bad.write_text('[[reviewed]]\nvendor = "acme"\nkey = "x"\ncategory = "auth"\n')
    with pytest.raises(MappingError) as caught:
        load_reviewed(bad)
    assert caught.value.key == "reviewed[0].reason"
