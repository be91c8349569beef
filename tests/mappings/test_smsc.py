"""SMSC.ru: fmt=3 JSON errors, fmt=0 plain-text answers with HTTP 200, message statuses.

Sources: the send error table and the answer shapes per ``fmt`` of https://smsc.ru/api/http/
("Ответ сервера и коды ошибок", verbatim on the platform's white-label copy
http://s1.sm-s.ru/api/http/send/sms/sms_answer/); the message statuses of
https://smsc.ru/api/http/status_messages/. Bodies: ``{"error": "authorise error",
"error_code": 2}`` and ``{"id": ..., "cnt": ...}`` as quoted in public SMSC clients
(the ``_sendSms`` docblock of a PHP client: "error - { "error": "authorise error",
"error_code": 2 }"); the fmt=0 forms "ERROR = N (описание)" and "OK - 1 SMS, ID - 1234" and
the status form of the API pages.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import httpx
import pytest

import normalizer
from normalizer import Category, Match, classify, lookup
from tests.mappings.conftest import claimed, logged

VENDOR = "smsc"
MAPPING = Path(__file__).resolve().parents[2] / "mappings" / "smsc.toml"
SEND_URL = "https://smsc.ru/sys/send.php"
STATUS_URL = "https://smsc.ru/sys/status.php"

# https://smsc.ru/api/http/ "N – номер ошибки, может принимать следующие значения"
SEND_ERRORS = {
    "1": "Ошибка в параметрах.",
    "2": "Неверный логин или пароль.",
    "3": "Недостаточно средств на счете Клиента.",
    "4": "IP-адрес временно заблокирован из-за частых ошибок в запросах.",
    "5": "Неверный формат даты.",
    "6": "Сообщение запрещено (по тексту или по имени отправителя).",
    "7": "Неверный формат номера телефона.",
    "8": "Сообщение на указанный номер не может быть доставлено.",
    "9": "Отправка более одного одинакового запроса на передачу SMS-сообщения либо более пяти "
    "одинаковых запросов на получение стоимости сообщения в течение минуты.",
}


def test_every_send_error_is_mapped_with_its_text() -> None:
    for code, text in SEND_ERRORS.items():
        o = lookup(VENDOR, code)
        assert o.matched == Match.EXACT, code
        assert o.message == text, code
        assert o.gloss, code
    with MAPPING.open("rb") as f:
        data: dict[str, Any] = tomllib.load(f)
    assert set(data["codes"]) == set(SEND_ERRORS)


PINNED: list[tuple[str, Category, bool, str]] = [
    # (code, category, retryable, scope)
    ("1", Category.VALIDATION, False, "request"),
    ("2", Category.AUTH, False, "account"),
    ("3", Category.BILLING, False, "account"),
    ("4", Category.BUSY, True, "account"),  # the caller's IP is blocked for a while
    ("7", Category.VALIDATION, False, "request"),
    ("8", Category.VALIDATION, False, "recipient"),
    # an identical send was accepted within the minute: sending again would deliver it twice
    ("9", Category.BUSY, False, "request"),
]


@pytest.mark.parametrize(("code", "category", "retryable", "scope"), PINNED)
def test_pinned_decision(code: str, category: Category, retryable: bool, scope: str) -> None:
    o = lookup(VENDOR, code)
    assert (o.category, o.retryable, o.scope) == (category, retryable, scope)


def call(body: Any, url: str = SEND_URL, text: bool = False) -> normalizer.Outcome:
    def handler(request: httpx.Request) -> httpx.Response:
        if text:
            return httpx.Response(200, text=body)
        return httpx.Response(200, json=body)

    with normalizer.Client(transport=httpx.MockTransport(handler), retry=None) as client:
        response = client.get(url, params={"login": "L", "psw": "P", "phones": "79991234567"})
    outcome = normalizer.outcome_of(response)
    assert outcome is not None
    return outcome


@pytest.mark.parametrize(
    ("code", "category"),
    [
        (2, Category.AUTH),
        (3, Category.BILLING),
        (7, Category.VALIDATION),
        (4, Category.BUSY),
    ],
    ids=["auth", "billing", "validation", "busy"],
)
def test_json_error_with_http_200(code: int, category: Category) -> None:
    o = call({"error": "authorise error", "error_code": code})
    assert o.vendor == VENDOR
    assert o.code == str(code)
    assert o.category is category
    assert o.vendor_message == "authorise error"


def test_json_send_success_has_no_code() -> None:
    o = call({"id": 1234, "cnt": 1, "cost": "1.40", "balance": "1000.00"})
    assert o.category is Category.OK
    assert o.matched == Match.NO_CODE


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("ERROR = 2 (authorise error)", Category.AUTH),
        ("ERROR = 3 (no money), ID - 1234", Category.BILLING),
        ("ERROR = 1 (parameters error)", Category.VALIDATION),
        ("ERROR = 9 (duplicate request, wait a minute)", Category.BUSY),
        ("OK - 1 SMS, ID - 1234", Category.OK),
    ],
)
def test_plain_text_answers_with_http_200(text: str, category: Category) -> None:
    # fmt=0, the default: a text line, always HTTP 200 (https://smsc.ru/api/http/)
    o = call(text, text=True)
    assert o.matched == Match.PAGE
    assert o.category is category


def test_plain_text_error_9_is_never_resent() -> None:
    o = call("ERROR = 9 (duplicate request, wait a minute)", text=True)
    assert o.retryable is False


def test_unknown_plain_text_is_not_a_success() -> None:
    o = call("something else", text=True)
    assert o.category is not Category.OK


@pytest.mark.parametrize(
    ("status", "category", "delivery"),
    [
        (1, Category.OK, True),
        (-1, Category.OK, True),
        (3, Category.BUSY, True),
        (22, Category.VALIDATION, True),
        (24, Category.BILLING, True),
        (-3, Category.NOT_FOUND, False),
    ],
)
def test_status_of_one_message(status: int, category: Category, delivery: bool) -> None:
    # status.php fmt=3: {"status": N, "last_date": ..., "last_timestamp": ..., "err": N}
    body = {"status": status, "last_date": "10.10.2010 10:10:10", "last_timestamp": 1286524541}
    o = call(body, STATUS_URL)
    assert o.matched == Match.FIELD
    assert o.category is category
    assert o.delivery_outcome is delivery


def test_status_field_is_not_read_on_send() -> None:
    # "status" means a message status only on status.php; the send table's 1 is an error
    o = classify(VENDOR, {"status": 22}, url=SEND_URL)
    assert o.category is Category.OK
    assert o.matched == Match.NO_CODE


def test_status_error_uses_the_error_table() -> None:
    o = call({"error": "authorise error", "error_code": 2}, STATUS_URL)
    assert o.category is Category.AUTH


@pytest.mark.parametrize(
    "url",
    [
        "https://smsc.ru/sys/send.php?fmt=3",
        "https://www2.smsc.ru/sys/send.php?fmt=3",
        "https://smsc.ru/rest/send/",
        "https://smscentre.com/sys/status.php?fmt=3",
        "https://www2.smscentre.com/sys/send.php",
    ],
)
def test_api_hosts_are_detected(url: str) -> None:
    with normalizer.Client(
        transport=httpx.MockTransport(lambda r: httpx.Response(200, json={"id": 1, "cnt": 1})),
        retry=None,
    ) as client:
        o = normalizer.outcome_of(client.get(url))
    assert o is not None
    assert o.vendor == VENDOR


@pytest.mark.parametrize(
    "url",
    ["https://smsc.ru/api/http/", "https://smsc.ru/tariffs/", "https://smscentre.com/api/http/"],
)
def test_web_pages_are_not_claimed(url: str) -> None:
    assert not claimed(url)


def test_credentials_are_masked(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG", logger="normalizer")
    call({"error": "authorise error", "error_code": 2})
    text = logged(caplog)
    assert "smsc.ru/sys/send.php" in text
    assert "psw=P" not in text
    assert "login=L" not in text
    assert "79991234567" not in text
