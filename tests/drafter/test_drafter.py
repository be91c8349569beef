"""The drafter: tables as people paste them, readings in the vendors' languages, the draft
file (refused until reviewed) and its leave-one-vendor-out agreement with reviewed mappings."""

from __future__ import annotations

import io
import tomllib
from dataclasses import replace
from pathlib import Path

import pytest

from normalizer._cli import main
from normalizer._draft import (
    Drafter,
    Rule,
    _vendor_weight,
    draft,
    drafted,
    leave_one_out,
    read_table,
)
from normalizer._exceptions import MappingError
from normalizer._mapping import check_all, load_file
from tests.drafter.tables import frozen, unseen

ROWS = [("1001", "Invalid API key"), ("1002", "Too many requests")]


@pytest.mark.parametrize(
    "text",
    [
        "| Code | Description |\n|---|---|\n| 1001 | Invalid API key |\n"
        "| 1002 | Too many requests |",
        "<table><tr><th>code</th><th>message</th></tr><tr><td>1001</td><td>Invalid API key</td>"
        "</tr><tr><td>1002</td><td>Too many<br>requests</td></tr></table>",
        'code,message\n1001,Invalid API key\n1002,"Too many requests"\n',
        "1001\tInvalid API key\n1002\tToo many requests\n",
        "1001: Invalid API key\n1002 - Too many requests\n",
        "Error codes\n  1001  Invalid API key\n  1002  Too many requests\n",
    ],
    ids=["markdown", "html", "csv", "tsv", "lines", "aligned"],
)
def test_read_table_finds_codes_and_texts(text: str) -> None:
    assert read_table(text) == ROWS


def test_read_table_picks_the_code_and_text_columns() -> None:
    text = (
        "| 错误码 | 说明 | 解决方案 |\n|---|---|---|\n"
        "| isv.BUSINESS_LIMIT_CONTROL | 业务限流 | 将短信发送频率限制在正常的业务流控范围内 |\n"
        "| isv.AMOUNT_NOT_ENOUGH | 账户余额不足 | 充值 |\n"
    )
    rows = read_table(text)
    assert [code for code, _ in rows] == ["isv.BUSINESS_LIMIT_CONTROL", "isv.AMOUNT_NOT_ENOUGH"]
    assert rows[1][1] == "账户余额不足"


def test_read_table_reads_every_named_text_column() -> None:
    text = (
        "| 错误码 | 错误码描述 | 说明 |\n|---|---|---|\n"
        "| 90005 | api limit | 频率限制 |\n| 90006 | server failure | server failure |\n"
    )
    assert read_table(text) == [("90005", "api limit 频率限制"), ("90006", "server failure")]


def test_an_http_status_column_is_read_as_a_hint() -> None:
    """A table that gives each code its HTTP status: the status is not taken for the code,
    and a text that says nothing by itself is read by its status (429 busy, 401 auth, 5xx
    server; a 400 says nothing either)."""
    text = (
        "| HTTP status | Error code | Message |\n|---|---|---|\n"
        "| 429 | E_REFUSED_A | Request refused |\n| 401 | E_REFUSED_B | Request refused |\n"
        "| 503 | E_REFUSED_C | Request refused |\n| 400 | E_REFUSED_D | Request refused |\n"
    )
    rows = read_table(text)
    assert rows[0] == ("E_REFUSED_A", "Request refused (HTTP 429)")
    categories = [r.category for r in Drafter().read_rows(rows)]
    assert categories == ["busy", "auth", "server", "validation"]
    alone = Drafter().read_rows([(code, "Request refused") for code, _ in rows])
    assert {r.category for r in alone} == {"validation"}


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("Too many requests, slow down", "busy"),
        ("单个手机号日发送条数超过上限", "billing"),
        ("Превышена частота отправки сообщений", "busy"),
        ("Недостаточно средств на счете", "billing"),
        ("Saldo insuficiente", "billing"),
        ("Demasiadas solicitudes, frecuencia excedida", "busy"),
        ("Неверный ключ доступа", "auth"),
        ("Signature does not match", "auth"),
        ("账户余额不足", "billing"),
        ("模板不存在", "not_found"),
        ("Internal server error", "server"),
        ("Erro interno do servidor", "server"),
        ("The phone number format is invalid", "validation"),
    ],
)
def test_the_lexicon_alone_reads_every_language(text: str, category: str) -> None:
    reading = Drafter().read(text)
    assert reading.category == category
    assert reading.words  # the words that decided are shown
    assert reading.retryable is (category in ("busy", "server"))


def test_a_rule_outranks_another_category() -> None:
    """A daily quota is billing even where its text also says "frequency" (docs: a quota is
    billing, a frequency limit busy): the outranked rules of the same text say nothing."""
    frequency = Rule("busy", 3.0, ("frequency",), "")
    daily = Rule("billing", 2.0, ("daily",), "")
    text = "Daily frequency limit reached"
    assert Drafter(rules=(frequency, daily)).read(text).category == "busy"
    outranks = replace(daily, over=("busy",))
    reading = Drafter(rules=(frequency, outranks)).read(text)
    assert (reading.category, reading.words) == ("billing", ("daily",))


@pytest.mark.parametrize(
    "text",
    [
        "Message was not delivered",
        "Сообщение не может быть доставлено",
        "消息未送达",
        "The call was delivered to the device; however, it was not answered.",
        "Delivered, but the handset rejected it",
    ],
)
def test_a_negated_or_taken_back_success_is_not_one(text: str) -> None:
    delivered = Rule("ok", 3.0, ("delivered", "доставлено", "送达"), "", negatable=True)
    assert Drafter(rules=(replace(delivered, negatable=False),)).read(text).category == "ok"
    assert Drafter(rules=(delivered,)).read(text).category == "validation"


def test_the_lexicon_reads_negation_priority_and_code_names() -> None:
    """The shipped lexicon: a success negated or taken back, a missing API (the request's
    fault, not a missing thing), a message too long (its shape, not a rate) and the words of
    a CamelCase or dotted code name when the text says nothing."""
    drafter = Drafter()
    assert drafter.read("Message delivered").category == "ok"
    assert drafter.read("Message was not delivered").category != "ok"
    assert drafter.read("发送未成功").category != "ok"
    answered = "The call was successfully delivered; however, it was not answered."
    assert drafter.read(answered).category == "busy"
    assert drafter.read("接口不存在").category == "validation"
    assert drafter.read("模板不存在").category == "not_found"
    assert drafter.read("Message too long: too many characters").category == "validation"
    assert drafter.read("Too many requests").category == "busy"
    code = drafter.read("", "FailedOperation.InsufficientBalanceInSmsPackage")
    assert (code.category, code.words[0]) == ("billing", "balance")
    assert drafter.read("").category == "validation"


def test_learning_moves_a_reading() -> None:
    drafter = Drafter()
    assert drafter.read("Zorblax refused").category == "validation"
    rows = [
        {"code": str(i), "description": f"zorblax refused {i}", "category": "busy"}
        for i in range(5)
    ]
    drafter.learn(rows, weight=1.0)
    reading = drafter.read("Zorblax refused")
    assert reading.category == "busy"
    assert "zorblax" in reading.words or "refused" in reading.words


TABLE = (
    "| code | description |\n|---|---|\n| 1001 | Invalid API key |\n"
    "| 1002 | Too many requests |\n| 1003 | Insufficient balance |\n| 1004 | Frobnicated |\n"
)


def test_a_draft_is_refused_until_reviewed(tmp_path: Path) -> None:
    text = draft("Acme SMS", TABLE, Drafter(), table="acme.md")
    doc = tomllib.loads(text)
    assert doc["vendor"]["id"] == "acme_sms"
    assert {c: e["category"] for c, e in doc["codes"].items()} == {
        "1001": "auth",
        "1002": "busy",
        "1003": "billing",
        "1004": "validation",
    }
    assert doc["codes"]["1002"]["retryable"] is True
    assert doc["draft"]["review"] == ["1004"]  # nothing telling: low confidence
    assert "# REVIEW validation" in text
    path = tmp_path / "acme_sms.toml"
    path.write_text(text, encoding="utf-8")
    assert [e.key for e in check_all(path)] == ["draft"]
    with pytest.raises(MappingError) as caught:
        load_file(path)
    assert caught.value.key == "draft"
    assert caught.value.path == str(path)
    reviewed = text.split("\n[draft]\n")[0] + "\n[vendor]\n" + text.split("\n[vendor]\n")[1]
    path.write_text(reviewed, encoding="utf-8")
    assert load_file(path).table.codes["1003"].category.value == "billing"


def test_cli_draft(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = tmp_path / "acme.md"
    table.write_text(TABLE, encoding="utf-8")
    assert main(["draft", "acme", str(table)]) == 0
    out = capsys.readouterr().out
    assert tomllib.loads(out)["codes"]["1003"]["category"] == "billing"
    monkeypatch.setattr("sys.stdin", io.StringIO("1001: Невозможно: превышена частота\n"))
    assert main(["draft", "acme", "-"]) == 0
    assert tomllib.loads(capsys.readouterr().out)["codes"]["1001"]["category"] == "busy"
    table.write_text("nothing here\n", encoding="utf-8")
    assert main(["draft", "acme", str(table)]) == 2
    assert "no code table found" in capsys.readouterr().err


# What issue 32 asks for (benchmarks/drafter.py prints the table: 85.2% overall, every vendor
# at 75% or more, the tables no mapping knows 50/61), kept from falling.
OVERALL_FLOOR = 0.85
VENDOR_FLOOR = 0.75
UNSEEN_FLOOR = 0.78


@pytest.fixture(scope="module")
def loo() -> dict[str, tuple[int, int]]:
    return leave_one_out(frozen())


def test_frozen_copy_is_complete() -> None:
    tables = frozen()
    assert len(tables) == 13
    assert sum(len(t) for t in tables.values()) > 2700
    assert all(r["category"] and r["description"] for t in tables.values() for r in t)


def test_leave_one_vendor_out_meets_the_issue_floors(loo: dict[str, tuple[int, int]]) -> None:
    """Issue 32: 85% of codes overall, 75% for every vendor."""
    overall = sum(a for a, _ in loo.values()) / sum(n for _, n in loo.values())
    assert overall >= OVERALL_FLOOR
    low = {v: round(a / n, 3) for v, (a, n) in loo.items() if a / n < VENDOR_FLOOR}
    assert not low


def test_a_vendor_is_drafted_without_anything_of_its_own_mapping() -> None:
    """Leave one vendor out holds for everything learned (words, Han pairs, code-name tokens,
    lexicon rules' learned weights): the drafted vendor's categories and glosses replaced by
    nonsense, its readings do not move, while another vendor's reading of the same words does."""
    tables = frozen()
    vendor = "huawei_isales"  # the smallest table: two fits
    poisoned = {
        **tables,
        vendor: [{**r, "category": "unknown", "gloss": "zorblax"} for r in tables[vendor]],
    }
    assert drafted(poisoned, vendor) == drafted(tables, vendor)
    # The comparison could have failed: a drafter that does learn the poisoned rows reads
    # their words as the poison says.
    learner = Drafter()
    learner.learn(poisoned[vendor], weight=20.0)
    first = tables[vendor][0]
    assert learner.read(str(first["description"]), str(first["code"])).category == "unknown"
    assert drafted(tables, vendor)[0].category != "unknown"


def test_tables_no_mapping_knows() -> None:
    """Published tables of vendors without a mapping (tests/drafter/unseen/README.md)."""
    drafter = Drafter()
    for rows in frozen().values():
        drafter.learn(rows, weight=_vendor_weight(len(rows)))
    result = unseen(drafter)
    assert set(result) == {"megafon", "intis", "plivo", "toughradius"}
    agree = sum(a for a, _ in result.values()) / sum(n for _, n in result.values())
    assert agree >= UNSEEN_FLOOR


def test_a_builtin_vendor_is_drafted_without_its_own_file() -> None:
    from normalizer._draft import builtin_drafter, reviewed_rows
    from normalizer._mapping import read_file
    from normalizer._registry import builtin_dir

    own = list(reviewed_rows(read_file(builtin_dir() / "sms_ru.toml")))
    total = len(builtin_drafter().examples)
    assert own
    assert len(builtin_drafter("SMS.ru").examples) == total - len(own)
