"""SMS.RU: top-level status_code plus a status per number (or per sms_id) under "sms".

Source saved as tests/mappings/sources/sms_ru/ResponseOnSendRequest.cs: the sms.ru response
codes with their texts, as transcribed by github.com/Coldiplay/MessageSenderService
(MessageSenderService/Model/Enums/ResponseOnSendRequest.cs, commit 2fe206ea). Code -1 is read
with the text sms.ru actually answers (github.com/svyatov/smsru_ruby test/cassettes/status.yml);
that client's own "Ошибка в коде." is not a vendor text. Bodies: the sms.ru API pages
(sms.ru/api/send, sms.ru/api/status, "Пример ответа") and smsru_ruby's recorded answers.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import httpx
import pytest

import normalizer
from normalizer import Category, Match, classify, lookup
from tests.mappings.conftest import source_file

VENDOR = "sms_ru"
MAPPING = Path(__file__).resolve().parents[2] / "mappings" / "sms_ru.toml"
SEND_URL = "https://sms.ru/sms/send"

ENUM_ROW = re.compile(r"/// <summary>(.*?)</summary>\s*(?://[^\n]*\n\s*)?\w+ = (-?\d+)", re.S)
# codes whose mapped text is not the C# file's (see the module docstring)
OVERRIDES = {"-1": "Сообщение не найдено"}


def source_codes() -> dict[str, str]:
    text = source_file(VENDOR, "ResponseOnSendRequest.cs").read_text("utf-8")
    enum = text[text.index("public enum ResponseOnSendRequest") : text.index("public class")]
    return {code: summary.strip() for summary, code in ENUM_ROW.findall(enum)}


def test_parser_finds_every_code() -> None:
    codes = source_codes()
    assert len(codes) == 54
    assert codes["201"] == "Не хватает средств на лицевом счету."
    assert codes["902"] == "Callback: Обработчик не найден (возможно был удален ранее)"


def test_every_source_code_is_mapped_with_its_text() -> None:
    for code, text in source_codes().items():
        o = lookup(VENDOR, code)
        assert o.matched == Match.EXACT, code
        assert o.message == OVERRIDES.get(code, text), code
        assert o.gloss, code


def test_mapping_has_no_codes_the_source_lacks() -> None:
    with MAPPING.open("rb") as f:
        data: dict[str, Any] = tomllib.load(f)
    assert set(data["codes"]) == set(source_codes())
    assert "products" not in data


PINNED: list[tuple[str, Category, bool, bool, bool]] = [
    # (code, category, retryable, rejected, delivery_outcome)
    ("100", Category.OK, False, False, False),
    ("103", Category.OK, False, False, True),
    ("102", Category.OK, False, False, True),
    ("104", Category.BUSY, True, False, True),
    ("107", Category.UNKNOWN, False, False, True),
    ("108", Category.VALIDATION, False, False, True),
    ("150", Category.VALIDATION, False, False, True),
    ("-1", Category.NOT_FOUND, False, False, False),
    ("200", Category.AUTH, False, False, False),
    ("201", Category.BILLING, False, False, False),
    ("206", Category.BILLING, False, False, False),
    ("207", Category.VALIDATION, False, False, False),
    ("209", Category.VALIDATION, False, False, False),
    ("211", Category.NOT_FOUND, False, False, False),
    ("220", Category.BUSY, True, True, False),
    ("221", Category.VALIDATION, False, False, False),
    ("230", Category.BILLING, False, False, False),  # a daily quota (issue 31)
    ("231", Category.BUSY, True, True, False),  # a per-minute limit (issue 31)
    ("232", Category.BILLING, False, False, False),
    ("233", Category.BUSY, True, True, False),
    ("300", Category.AUTH, False, False, False),
    ("304", Category.BUSY, True, True, False),
    ("500", Category.SERVER, True, False, False),
    ("501", Category.BUSY, True, True, False),
    ("550", Category.VALIDATION, False, False, False),
]


@pytest.mark.parametrize(
    ("code", "category", "retryable", "rejected", "delivery_outcome"),
    PINNED,
    ids=[f"{c}-{cat.value}" for c, cat, *_ in PINNED],
)
def test_pinned_decision(
    code: str, category: Category, retryable: bool, rejected: bool, delivery_outcome: bool
) -> None:
    o = lookup(VENDOR, code)
    assert o.matched == Match.EXACT
    assert o.category is category
    assert o.retryable is retryable
    assert o.rejected is rejected
    assert o.delivery_outcome is delivery_outcome


# ---------------------------------------------------------------- through a client


def send(body: dict[str, Any], url: str = SEND_URL) -> normalizer.Outcome:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=body)

    with normalizer.Client(transport=httpx.MockTransport(handler), retry=None) as client:
        response = client.post(url, data={"api_id": "X", "to": "79255070602", "json": "1"})
    outcome = normalizer.outcome_of(response)
    assert outcome is not None
    return outcome


def error(code: int, text: str) -> dict[str, Any]:
    return {"status": "ERROR", "status_code": code, "status_text": text}


def test_client_ok() -> None:
    body = {
        "status": "OK",
        "status_code": 100,
        "sms": {"79255070602": {"status": "OK", "status_code": 100, "sms_id": "000000-10000000"}},
        "balance": 4122.56,
    }
    o = send(body)
    assert o.vendor == VENDOR
    assert o.category is Category.OK
    assert o.partial is False
    (item,) = o.items
    assert item.number == "*******0602"
    assert item.message_id == "000000-10000000"
    assert item.index is None


@pytest.mark.parametrize(
    ("code", "text", "category", "retryable"),
    [
        (200, "Неправильный api_id", Category.AUTH, False),
        (201, "Не хватает средств на лицевом счету", Category.BILLING, False),
        (203, "Нет текста сообщения", Category.VALIDATION, False),
        (220, "Сервис временно недоступен, попробуйте чуть позже", Category.BUSY, True),
        (211, "Метод не найден", Category.NOT_FOUND, False),
        (500, "Ошибка на сервере. Повторите запрос.", Category.SERVER, True),
    ],
    ids=["auth", "billing", "validation", "busy", "not_found", "server"],
)
def test_client_top_level_error(code: int, text: str, category: Category, retryable: bool) -> None:
    o = send(error(code, text))
    assert o.code == str(code)
    assert o.category is category
    assert o.retryable is retryable
    assert o.vendor_message == text
    assert o.items == ()


def test_client_mixed_numbers_are_partial() -> None:
    # the sms/send "Пример ответа" (json=1) of sms.ru/api/send
    body = {
        "status": "OK",
        "status_code": 100,
        "sms": {
            "79255070602": {"status": "OK", "status_code": 100, "sms_id": "000000-10000000"},
            "74993221627": {
                "status": "ERROR",
                "status_code": 207,
                "status_text": "На этот номер (или один из номеров) нельзя отправлять сообщения, "
                "либо указано более 100 номеров в списке получателей",
            },
        },
        "balance": 4122.56,
    }
    o = send(body)
    assert o.category is Category.OK
    assert o.partial is True
    by_number = {i.number: i for i in o.items}
    assert by_number["*******0602"].category is Category.OK
    failed = by_number["*******1627"]
    assert failed.category is Category.VALIDATION
    assert failed.code == "207"
    assert failed.vendor_message is not None
    assert failed.vendor_message.startswith("На этот номер")
    assert o.failed_items == (failed,)


def test_client_every_number_failed() -> None:
    # smsru_ruby test/cassettes/deliver_many.yml: a real answer, both numbers refused with 221
    text = (
        "Для работы с нашим сервисом, необходимо создать буквенного отправителя, "
        "соответствующего вашему сайту, названию юр. лица или товарному знаку - "
        "https://sms.ru/?panel=senders"
    )
    body = {
        "status": "OK",
        "status_code": 100,
        "sms": {
            "79255070602": {
                "status": "ERROR",
                "status_code": 221,
                "status_text": text,
                "sms_id": "202626-1000000",
            },
            "74993221627": {
                "status": "ERROR",
                "status_code": 221,
                "status_text": text,
                "sms_id": "202626-1000001",
            },
        },
        "balance": 1000.0,
    }
    o = send(body)
    assert o.category is Category.VALIDATION
    assert o.partial is False
    assert {i.code for i in o.items} == {"221"}
    assert lookup(VENDOR, "221").message == text


def test_client_status_delivery_outcomes() -> None:
    # the sms/status "Пример ответа" of sms.ru/api/status: keyed by sms_id
    body = {
        "status": "OK",
        "status_code": 100,
        "sms": {
            "000000-000001": {
                "status": "OK",
                "status_code": 103,
                "cost": 0.50,
                "status_text": "Сообщение доставлено",
            },
            "000000-000002": {
                "status": "OK",
                "status_code": 104,
                "cost": 0.50,
                "status_text": "Не может быть доставлено: время жизни истекло",
            },
        },
    }
    o = send(body, "https://sms.ru/sms/status")
    # a status query worked even when a message was not delivered: its items are data
    assert o.category is Category.OK
    assert o.partial is False
    assert o.retryable is False
    codes = {i.code: i for i in o.items}
    assert codes["103"].delivery_outcome is True
    assert codes["103"].message_id == "000000-000001"  # the key is the message id
    assert codes["103"].number is None
    assert codes["103"].category is Category.OK
    assert codes["104"].category is Category.BUSY
    assert codes["104"].retryable is True


def test_status_of_unknown_message() -> None:
    # smsru_ruby test/cassettes/status.yml (a recorded sms.ru answer)
    body: dict[str, Any] = {
        "status": "OK",
        "status_code": 100,
        "sms": {
            "000000-10000000": {
                "status": "ERROR",
                "status_code": -1,
                "status_text": "Сообщение не найдено",
            }
        },
    }
    o = classify(VENDOR, body, url="https://sms.ru/sms/status")
    # the one message the query names does not exist: not found, never ok (issue 31)
    assert (o.category, o.code, o.retryable) == (Category.NOT_FOUND, "-1", False)
    (item,) = o.items
    assert item.category is Category.NOT_FOUND
    assert item.code == "-1"
    assert item.message == "Сообщение не найдено"
    # one known message beside it: the query is ok, partly
    body["sms"]["000000-000001"] = {
        "status": "OK",
        "status_code": 103,
        "status_text": "Сообщение доставлено",
    }
    both = classify(VENDOR, body, url="https://sms.ru/sms/status")
    assert (both.category, both.partial) == (Category.OK, True)


# ---------------------------------------------------------------- plain text (no json=1)


@pytest.mark.parametrize(
    ("url", "body"),
    [
        # IlyaDonskikh/smster_ruby test/smsru_test.rb: the sms.ru answers its tests stub
        ("http://sms.ru/sms/send", b"100\n201523-1000007\nbalance=52.54"),
        ("http://sms.ru/sms/cost", b"100\n0.69\n1"),
    ],
)
def test_plain_text_answers_are_read_by_their_first_line(url: str, body: bytes) -> None:
    o = classify(VENDOR, body, status_code=200, url=url)
    assert (o.category, o.code, o.matched) == (Category.OK, "100", Match.EXACT)
    assert o.http_status == 200


def test_a_plain_text_answer_is_read_through_the_transport() -> None:
    body = b"100\n201523-1000007\nbalance=52.54"  # IlyaDonskikh/smster_ruby test/smsru_test.rb

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body, headers={"content-type": "text/plain"})

    transport = normalizer.NormalizingTransport(transport=httpx.MockTransport(handler), retry=None)
    with httpx.Client(transport=transport) as client:
        response = client.post("http://sms.ru/sms/send", data={"to": "79255070602"})
    found = normalizer.outcome_of(response)
    assert found is not None
    assert (found.vendor, found.category, found.code) == ("sms_ru", Category.OK, "100")
    assert response.content == body


# ---------------------------------------------------------------- scope

SCOPES: list[tuple[str, str]] = [
    # (code, scope): explicit where the text names whom the answer is about
    ("220", "vendor"),  # Сервис временно недоступен
    ("501", "request"),  # end users from TOR
    ("502", "request"),  # end-user IP does not match the country
    ("503", "request"),  # too many messages to this country
    ("504", "request"),  # too many authorisation codes abroad
    ("505", "request"),  # too many messages for one (end-user) IP address
    ("506", "request"),  # end users on hosting-company IPs
    ("230", "recipient"),  # на один номер в день нельзя отправлять более 100 сообщений
    ("231", "recipient"),  # одинаковых сообщений на этот номер в минуту
    ("232", "recipient"),  # одинаковых сообщений на этот номер в день
    ("233", "recipient"),  # повторных сообщений с кодом на этот номер
    # defaults (no scope written)
    ("304", "account"),  # busy: too many confirmation codes sent
    ("508", "account"),  # busy: the account's calls in 5 minutes
    ("500", "vendor"),  # server
    ("201", "account"),  # billing
    ("206", "account"),  # billing: the account's daily limit
    ("200", "account"),  # auth
    ("207", "request"),  # validation
    ("104", "recipient"),  # delivery outcome
]


@pytest.mark.parametrize(("code", "scope"), SCOPES, ids=[c for c, _ in SCOPES])
def test_scope(code: str, scope: str) -> None:
    o = lookup(VENDOR, code)
    assert o.matched == Match.EXACT
    assert o.scope == scope


def test_per_number_cap_in_a_send_concerns_that_number_only() -> None:
    text = "Превышен лимит одинаковых сообщений на этот номер в минуту"
    body = {
        "status": "OK",
        "status_code": 100,
        "sms": {"79255070602": {"status": "ERROR", "status_code": 231, "status_text": text}},
        "balance": 4122.56,
    }
    o = send(body)
    assert o.category is Category.BUSY  # a frequency limit: waiting passes it (issue 31)
    assert o.scope == "recipient"
    assert not o.scope.shared
    # "в минуту": the window the text names is the wait
    assert lookup(VENDOR, "231").retry_after == 60


def test_service_unavailable_concerns_the_platform() -> None:
    o = send(error(220, "Сервис временно недоступен, попробуйте чуть позже"))
    assert o.category is Category.BUSY
    assert o.scope == "vendor"
    assert o.scope.shared
