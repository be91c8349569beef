"""MANGO OFFICE: the mapping against the vendor's own "Список кодов результатов" document."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

import normalizer
from normalizer import Category, CircuitOpenError, LocalState, classify, lookup
from tests.conftest import FakeClock

SEED = "002_70b3d05360f7addc.txt"
MAPPING = Path(__file__).resolve().parents[2] / "mappings" / "mango.toml"

# A class/subclass cell: "1xxx", "11xx", "111x"
CLASS_RE = re.compile(r"\d*x+")
# One "code description" pair; a row may hold several ("1110 ... 1111 ...")
CODE_RE = re.compile(r"(\d{4})\s+(.+?)(?=\s+\d{4}\s|$)")

EXPECTED_CODES = 103
EXPECTED_CLASSES = 43


def parse_seed(text: str) -> tuple[dict[str, str], list[str]]:
    """Read the table under the "Класс / Код / Описание" header.

    Rows are tab-separated but the columns drift: the class may be in the first, second or
    third cell (or absent), some rows put the class and "code description" in one cell, one
    row holds two codes, and blank lines sit between rows. So every non-empty cell that looks
    like a class is a class, and the rest of the row is read as one or more
    "NNNN description" pairs.
    """
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.split("\t")[0].strip() == "Класс")
    codes: dict[str, str] = {}
    classes: list[str] = []
    for line in lines[start + 1 :]:
        cells = [cell.strip() for cell in line.split("\t") if cell.strip()]
        if not cells:
            continue
        classes.extend(cell for cell in cells if CLASS_RE.fullmatch(cell))
        rest = " ".join(cell for cell in cells if not CLASS_RE.fullmatch(cell))
        pairs = CODE_RE.findall(rest)
        assert pairs, f"unparsed row: {line!r}"
        assert rest.startswith(pairs[0][0]), f"unparsed row: {line!r}"
        for code, description in pairs:
            assert code not in codes, f"code {code} listed twice"
            codes[code] = description.strip()
    return codes, classes


@pytest.fixture
def seed(seed_text: Callable[[str], str]) -> tuple[dict[str, str], list[str]]:
    return parse_seed(seed_text(SEED))


def _mapping() -> dict[str, object]:
    with MAPPING.open("rb") as fh:
        return tomllib.load(fh)


def _class_matches(pattern: str, code: str) -> bool:
    if len(pattern) != len(code):
        return False
    return all(p in ("x", c) for p, c in zip(pattern, code, strict=True))


# --- the document ---------------------------------------------------------------------------


def test_parser_reads_the_whole_table(seed: tuple[dict[str, str], list[str]]) -> None:
    codes, classes = seed
    assert len(codes) == EXPECTED_CODES
    assert len(classes) == EXPECTED_CLASSES
    assert len(set(classes)) == EXPECTED_CLASSES
    # the two-code row
    assert codes["1110"] == "Вызов завершен вызываемым абонентом"
    assert codes["1111"] == "Вызов не получил ответа в течение времени ожидания"
    # rows after a blank line, with the class pushed into the third cell
    assert codes["1191"] == "Вызываемый номер неактивен (снят флажок активности ЛК)"
    assert codes["4403"] == "Недостаточно ресурсов"
    assert codes["2110"] == "Счет заблокирован"
    # "10 000" is part of a description, not a code
    assert codes["5107"].endswith("(10 000)")
    assert "0000" not in codes
    assert "5104" not in codes
    assert {"1xxx", "111x", "221x", "601x", "61xx"} <= set(classes)


def test_every_document_code_maps_exactly(seed: tuple[dict[str, str], list[str]]) -> None:
    codes, _ = seed
    for code, description in codes.items():
        o = lookup("mango", code)
        assert o.matched == "exact", code
        assert o.code == code
        assert o.message == description, code
        assert o.gloss, code
        assert o.category is not Category.UNKNOWN, code


def test_mapping_has_no_codes_the_document_lacks(seed: tuple[dict[str, str], list[str]]) -> None:
    codes, _ = seed
    table = _mapping()["codes"]
    assert isinstance(table, dict)
    assert set(table) == set(codes)


def test_every_document_class_is_mapped(seed: tuple[dict[str, str], list[str]]) -> None:
    codes, classes = seed
    table = _mapping()["classes"]
    assert isinstance(table, dict)
    assert set(table) == set(classes)
    for pattern in classes:
        target = table[pattern]
        # each class is read as its own x->0 code, which the document lists
        assert target == pattern.replace("x", "0"), pattern
        assert target in codes, pattern
        # an unlisted code that only this class covers resolves to the class's code
        more_specific = [p for p in classes if p != pattern and p.count("x") < pattern.count("x")]
        candidates = [
            code
            for code in (f"{n:04d}" for n in range(9999, -1, -1))
            if _class_matches(pattern, code)
            and code not in codes
            and not any(_class_matches(p, code) for p in more_specific)
        ]
        assert candidates, pattern
        o = lookup("mango", candidates[0])
        assert o.matched == "class", (pattern, candidates[0])
        assert o.message == codes[target], (pattern, candidates[0])


# --- class fallback, as the document describes it -------------------------------------------


@pytest.mark.parametrize(
    ("code", "target", "category"),
    [
        pytest.param("2219", "2210", Category.BILLING, id="2219-reads-as-2210"),
        pytest.param(1090, "1000", Category.OK, id="1090-reads-as-1000"),
        pytest.param("5999", "5000", Category.SERVER, id="5999-reads-as-5000"),
        pytest.param("3315", "3310", Category.NOT_FOUND, id="3315-reads-as-3310"),
        pytest.param("2228", "2220", Category.BUSY, id="2228-reads-as-2220"),
        pytest.param("4399", "4300", Category.SERVER, id="4399-reads-as-4300"),
        pytest.param("6019", "6010", Category.SERVER, id="6019-reads-as-6010"),
    ],
)
def test_unlisted_code_reads_as_its_class(code: str | int, target: str, category: str) -> None:
    o = lookup("mango", code)
    assert o.matched == "class"
    assert o.code == str(code)
    assert o.category == category
    assert o.message == lookup("mango", target).message


def test_class_2219_message() -> None:
    assert lookup("mango", "2219").message == "Доступ ограничен периодом использования"
    assert lookup("mango", "1090").message == "Действие успешно выполнено"


def test_specific_entry_wins_over_its_class() -> None:
    # 5103 is a campaign limit listed under 5xxx, not a server error
    o = lookup("mango", "5103")
    assert o.matched == "exact"
    assert o.category == Category.VALIDATION
    assert not o.retryable
    # 5102 (active campaigns) is a concurrency limit like 2220, not a server error either
    assert lookup("mango", "5102").category == Category.BUSY


# --- pinned decisions -----------------------------------------------------------------------

# code, category, retryable, rejected (None: not pinned; a call outcome is not a refusal of the
# request either way), call_outcome
DECISIONS = [
    ("1000", Category.OK, False, False, False, "1000-success"),
    ("1100", Category.OK, False, False, True, "1100-normal-call-end"),
    ("1111", Category.BUSY, False, None, True, "1111-no-answer"),
    ("1121", Category.BUSY, False, None, True, "1121-busy-reply"),
    ("1122", Category.BUSY, False, None, True, "1122-callee-rejected"),
    ("1133", Category.NOT_FOUND, False, False, True, "1133-number-does-not-exist"),
    ("1151", Category.VALIDATION, False, False, True, "1151-blacklisted-caller"),
    ("1164", Category.BUSY, False, None, True, "1164-no-operator-free"),
    ("1181", Category.OK, False, False, True, "1181-ended-by-external-system"),
    ("2110", Category.BILLING, False, False, False, "2110-account-blocked"),
    ("2211", Category.BILLING, False, False, False, "2211-daily-limit"),
    ("2212", Category.BILLING, False, False, False, "2212-monthly-limit"),
    ("2220", Category.BUSY, True, True, False, "2220-simultaneous-calls-limited"),
    ("2240", Category.BILLING, False, False, False, "2240-insufficient-funds"),
    ("2400", Category.BILLING, False, False, False, "2400-billing-error"),
    ("3101", Category.VALIDATION, False, False, False, "3101-not-post"),
    ("3102", Category.AUTH, False, False, False, "3102-sign-mismatch"),
    ("3103", Category.VALIDATION, False, False, False, "3103-missing-parameter"),
    ("3105", Category.AUTH, False, False, False, "3105-bad-api-key"),
    ("3300", Category.NOT_FOUND, False, False, False, "3300-object-does-not-exist"),
    ("3320", Category.NOT_FOUND, False, False, False, "3320-recording-not-found"),
    ("4101", Category.NOT_FOUND, False, False, False, "4101-call-ended-or-missing"),
    ("4102", Category.VALIDATION, False, False, False, "4102-already-recording"),
    # the PBX had probably started dialling: not refused before acting
    ("4200", Category.BUSY, True, False, False, "4200-unreachable-now"),
    ("4392", Category.VALIDATION, False, False, False, "4392-sms-rejected-by-operator"),
    ("4403", Category.BUSY, True, True, False, "4403-insufficient-resources"),
    ("4404", Category.VALIDATION, False, False, False, "4404-conference-full"),
    ("4501", Category.BUSY, True, True, False, "4501-call-frequency-limit"),
    ("5000", Category.SERVER, True, False, False, "5000-server-error-not-rejected"),
    ("5001", Category.SERVER, True, True, False, "5001-overload-rejected"),
    ("5002", Category.SERVER, True, True, False, "5002-restart-rejected"),
    ("5004", Category.SERVER, True, False, False, "5004-database"),
    ("5101", Category.BILLING, False, False, False, "5101-no-contact-center-product"),
    ("5105", Category.NOT_FOUND, False, False, False, "5105-creator-does-not-exist"),
    ("5107", Category.VALIDATION, False, False, False, "5107-too-many-tasks"),
    ("6012", Category.NOT_FOUND, False, False, True, "6012-fax-number-does-not-exist"),
    ("6014", Category.BUSY, False, None, True, "6014-fax-refused"),
    ("6101", Category.VALIDATION, False, False, False, "6101-fax-file-too-big"),
]


@pytest.mark.parametrize(
    ("code", "category", "retryable", "rejected", "call_outcome"),
    [pytest.param(*row[:5], id=row[5]) for row in DECISIONS],
)
def test_pinned_decision(
    code: str, category: Category, retryable: bool, rejected: bool | None, call_outcome: bool
) -> None:
    o = lookup("mango", code)
    assert o.matched == "exact"
    assert o.category == category
    assert o.retryable is retryable
    if rejected is not None:
        assert o.rejected is rejected
    assert o.call_outcome is call_outcome


def test_33xx_all_not_found() -> None:
    for code in ("3300", "3310", "3320", "3330", "3340", "3399"):
        assert lookup("mango", code).category == Category.NOT_FOUND, code


def test_call_outcomes_never_retryable(seed: tuple[dict[str, str], list[str]]) -> None:
    codes, _ = seed
    for code in codes:
        o = lookup("mango", code)
        if code.startswith("11"):
            assert o.call_outcome, code
        if o.call_outcome:
            assert not o.retryable, code


# --- classify: envelope and HTTP fallbacks --------------------------------------------------


def test_classify_int_code() -> None:
    o = classify("mango", b'{"result": 5001}')
    assert o.matched == "exact"
    assert o.code == "5001"
    assert o.category == Category.SERVER
    assert o.retryable
    assert o.rejected


def test_classify_string_success() -> None:
    o = classify("mango", b'{"result": "1000"}')
    assert o.matched == "exact"
    assert o.category == Category.OK
    assert o.ok


def test_classify_vendor_message() -> None:
    o = classify("mango", b'{"result": 3102, "message": "bad sign"}')
    assert o.category == Category.AUTH
    assert o.vendor_message == "bad sign"


def test_classify_503_is_rate_limit() -> None:
    o = classify("mango", b"", status_code=503)
    assert o.matched == "http_status"
    assert o.category == Category.BUSY
    assert o.retryable
    assert o.rejected
    assert o.http_status == 503


def test_classify_401_is_auth() -> None:
    o = classify("mango", b"", status_code=401)
    assert o.matched == "http_status"
    assert o.category == Category.AUTH
    # API v1.9 §1.4.1: more than 1 invalid request in 2 minutes blocks access for 2 minutes;
    # every caller holds back that long so that retries do not prolong the block
    assert (o.cooldown, o.scope, o.retryable) == (120.0, "account", False)


def test_after_a_401_the_fleet_holds_back_instead_of_prolonging_the_block() -> None:
    clock = FakeClock()
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(401)

    client = normalizer.Client(
        transport=httpx.MockTransport(handler),
        retry=normalizer.RetryPolicy(clock=clock, max_attempts=1),
        state=LocalState(clock),
    )
    url = "https://app.mango-office.ru/vpbx/commands/callback"
    with client:
        first = client.post(url, data={"vpbx_api_key": "k", "sign": "s", "json": "{}"})
        assert normalizer.outcome_of(first).category == Category.AUTH  # type: ignore[union-attr]
        with pytest.raises(CircuitOpenError) as info:  # 120 s > max_retry_after: fail fast
            client.post(url, data={"vpbx_api_key": "k", "sign": "s", "json": "{}"})
    assert len(sent) == 1  # the second request never reached MANGO
    assert info.value.reason == "cooldown"


def test_classify_204_on_stats_result_is_not_ready() -> None:
    url = "https://app.mango-office.ru/vpbx/stats/result"
    o = classify("mango", b"", status_code=204, url=url)
    assert o.matched == "http_status"
    assert o.category == Category.BUSY
    assert o.retryable
    assert o.rejected


def test_classify_204_elsewhere_is_not_busy() -> None:
    url = "https://app.mango-office.ru/vpbx/commands/callback"
    o = classify("mango", b"", status_code=204, url=url)
    assert o.category != Category.BUSY
    assert o.matched != "http_status"


# ---------------------------------------------------------------- scope

SCOPES = [
    # (code, scope): explicit where the text names whom the answer is about
    ("5001", "vendor"),  # Перегрузка
    ("5002", "vendor"),  # Перезапуск
    ("2220", "account"),  # Количество одновременных вызовов/действий ограничено
    ("5102", "account"),  # Превышен лимит активных кампаний
    ("4200", "recipient"),  # Связаться с абонентом в данный момент невозможно
    ("2300", "recipient"),  # Направление заблокировано: the destination, not the account
    ("2301", "recipient"),  # an unlisted 23xx is read as 2300
    # defaults (no scope written)
    ("5000", "vendor"),  # server
    ("4501", "account"),  # busy (call frequency limit)
    ("2240", "account"),  # billing
    ("3102", "account"),  # auth
    ("3100", "request"),  # validation
    ("1121", "recipient"),  # a call outcome (remote side busy)
]


@pytest.mark.parametrize(("code", "scope"), SCOPES, ids=[c for c, _ in SCOPES])
def test_scope(code: str, scope: str) -> None:
    assert lookup("mango", code).scope == scope


def test_scope_of_503_rate_limit_is_the_account() -> None:
    o = classify("mango", b"", status_code=503)
    assert o.scope == "account"
    assert o.scope.shared


def test_scope_of_report_not_ready_is_the_request() -> None:
    # one report (its key) is not ready: not a reason to slow down every call to MANGO
    o = classify("mango", b"", status_code=204, url="https://app.mango-office.ru/vpbx/stats/result")
    assert o.category == Category.BUSY
    assert o.scope == "request"
    assert not o.scope.shared
    url = "https://app.mango-office.ru/vpbx/stats/calls/result/"
    for status in ("request", "work"):
        o = classify("mango", {"result": 1000, "status": status}, url=url)
        assert o.category == Category.BUSY
        assert o.scope == "request", status
    # a failed report job keeps the server default
    assert classify("mango", {"result": 1000, "status": "error"}, url=url).scope == "vendor"


def test_overload_slows_every_call_and_an_internal_error_does_not() -> None:
    # seed table: 5001 Перегрузка (overload) vs 5000 Ошибка сервера: both server, only the
    # overload feeds the adaptive rate limiter (Outcome.overload, issue 31)
    overload = lookup("mango", "5001")
    assert (overload.category, overload.scope, overload.overload) == (
        Category.SERVER,
        "vendor",
        True,
    )
    assert not lookup("mango", "5000").overload
    # the usage caps of the seed table are quotas (billing), never validation
    assert lookup("mango", "2211").category is Category.BILLING  # дневной лимит
    assert lookup("mango", "2212").category is Category.BILLING  # месячный лимит
