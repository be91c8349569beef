"""The command line: explain, vendors, table, lint; human and JSON output."""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
import sys
from pathlib import Path

import pytest

import normalizer
from normalizer._cli import main, version
from tests.conftest import ACME

MAPPINGS = Path(__file__).resolve().parents[1] / "mappings"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_explain_human(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "explain", "ucpaas", "107225")
    assert code == 0
    assert "ucpaas 107225: busy (exact)" in out
    assert "外呼繁忙" in out
    assert "retryable: yes" in out


def test_explain_class_fallback_says_what_it_was_read_as(
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, out, _ = run(capsys, "explain", "mango", "2219")
    assert "class 221x, read as 2210" in out
    assert "Доступ ограничен периодом использования" in out


def test_explain_ambiguous_lists_candidates(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "explain", "onbuka", "-3")
    assert "unknown (ambiguous)" in out
    assert "- sms: validation" in out
    assert "- ai_voice: billing" in out
    _, out, _ = run(capsys, "explain", "onbuka", "-3", "--product", "ai_voice")
    assert "onbuka/ai_voice -3: billing (exact)" in out


def test_explain_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "explain", "mango", "5001", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["category"] == "server"
    assert data["retryable"] is True
    assert data["rejected"] is True
    assert data["message"] == "Перегрузка"
    assert data["matched"] == "exact"
    assert data["ok"] is False
    assert data["scope"] == "vendor"


def test_explain_says_whom_an_answer_is_about(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "explain", "ucpaas", "107225")
    assert "scope: account" in out  # 外呼繁忙: the account's outbound capacity
    _, out, _ = run(capsys, "explain", "onbuka", "-67", "--product", "call_center")
    assert "scope: resource" in out  # the agent is on a call


def test_explain_unmapped(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "explain", "airudder", "99999")
    assert "unknown (unmapped)" in out
    assert "no mapping knows this code" in out


def test_unknown_vendor_and_product_are_errors(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "explain", "acme-nope", "1")
    assert code == 2
    assert f"known vendors: {', '.join(sorted(p.stem for p in MAPPINGS.glob('*.toml')))}" in err
    code, _, err = run(capsys, "explain", "onbuka", "-3", "--product", "fax")
    assert code == 2
    assert "no product 'fax'" in err


def test_vendors(capsys: pytest.CaptureFixture[str]) -> None:
    shipped = sorted(p.stem for p in MAPPINGS.glob("*.toml"))  # every built-in file, no list here
    assert len(shipped) >= 5
    _, out, _ = run(capsys, "vendors")
    assert [line.split()[0] for line in out.splitlines()] == shipped
    assert "products: sms, voice, ai_voice, call_center" in out
    _, out, _ = run(capsys, "vendors", "--json")
    assert sorted(v["id"] for v in json.loads(out)) == shipped


def test_table_by_category(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "table", "mango")
    assert "\nbusy (" in out
    assert "5001  Перегрузка" in out
    assert "221x -> 2210" in out
    _, out, _ = run(capsys, "table", "onbuka", "--product", "sms", "--json")
    rows = json.loads(out)
    assert {r["product"] for r in rows} == {"sms"}
    assert any(r["code"] == "-15" and r["category"] == "busy" for r in rows)


def test_lint_builtin_and_files(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run(capsys, "lint")
    assert code == 0
    assert f"{len(list(MAPPINGS.glob('*.toml')))} ok, 0 failed" in out
    good = tmp_path / "acme.toml"
    good.write_text(ACME, encoding="utf-8")
    bad = tmp_path / "bad.toml"
    bad.write_text(ACME.replace('"busy"', '"bsy"', 1), encoding="utf-8")
    overlay = tmp_path / "patch.toml"
    overlay.write_text(
        'format = 1\n[vendor]\nextends = "mango"\n[codes]\n'
        '"5001" = { category = "busy", description = "x" }\n',
        encoding="utf-8",
    )
    code, out, _ = run(capsys, "lint", str(tmp_path))
    assert code == 1
    assert f"FAIL {bad}: codes.\"107225\".category: 'bsy' is not one of" in out
    assert f"ok   {good}: acme" in out
    assert f"ok   {overlay}: mango" in out
    assert "2 ok, 1 failed" in out


def test_lint_missing_path(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run(capsys, "lint", str(tmp_path / "nope.toml"))
    assert code == 1
    assert "no such file" in out


def test_python_dash_m_entry_point() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "normalizer", "explain", "onbuka", "-15", "--product", "sms"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "busy" in proc.stdout


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    """``--version`` prints the installed distribution's version, as pip knows it."""
    installed = importlib.metadata.version("telco-normalizer")
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    out, err = capsys.readouterr()
    assert out == f"telco-normalizer {installed}\n"
    assert err == ""
    assert normalizer.__version__ == installed  # the package and its metadata agree


def test_version_from_a_source_tree_never_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(name: str) -> str:
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "version", missing)
    assert version() == normalizer.__version__


@pytest.mark.parametrize("command", ["python -m normalizer", "normalizer"])
def test_version_from_a_shell(command: str) -> None:
    if command == "normalizer":
        script = Path(sys.executable).with_name("normalizer")
        if not script.exists():
            pytest.skip("the console script is not installed next to this interpreter")
        argv = [str(script)]
    else:
        argv = [sys.executable, "-m", "normalizer"]
    proc = subprocess.run([*argv, "--version"], capture_output=True, text=True, check=True)
    assert proc.stdout == f"telco-normalizer {importlib.metadata.version('telco-normalizer')}\n"


def test_explain_shows_a_limits_window_and_an_overload(capsys: pytest.CaptureFixture[str]) -> None:
    """The fields issue 31 added to entries: the window a limit names, an overload answer."""
    assert main(["explain", "tencent_sms", "LimitExceeded.PhoneNumberThirtySecondLimit"]) == 0
    assert "window: 30 s" in capsys.readouterr().out
    assert main(["explain", "mango", "5001"]) == 0
    out = capsys.readouterr().out
    assert "overload: yes" in out
    assert "window" not in out
