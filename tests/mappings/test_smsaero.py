"""SMS Aero: v2 message statuses per family (SMS and Viber number them differently), the batch
list of a send to several numbers, v1 results, hosts.

Sources: the official SDK smsaero/smsaero_python (smsaero/__init__.py: GATE_URLS, check_response,
the example responses of send_sms, sms_status and viber_send; tests/test_smsaero.py:
{"result": "reject", "reason": "test reason"}, {"result": "no credits"},
{"success": False, "message": "test reason"}), commit df74fb96; a recorded sms/send answer with
"status": 8, "extendStatus": "moderation" quoted in a public client; the "Multiple numbers"
answer of the @hqdaemon/smsaero npm README.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

import normalizer
from normalizer import Category, classify, lookup
from tests.mappings.conftest import claimed, get, logged

VENDOR = "smsaero"
SEND_URL = "https://gate.smsaero.ru/v2/sms/send"


def call(body: Any, url: str = SEND_URL, status: int = 200) -> normalizer.Outcome:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json=body)

    with normalizer.Client(transport=httpx.MockTransport(handler), retry=None) as client:
        response = client.post(url, json={"number": 79031234567, "text": "hi", "sign": "SMS Aero"})
    outcome = normalizer.outcome_of(response)
    assert outcome is not None
    return outcome


def test_send_answer_one_number() -> None:
    # smsaero_python send_sms "Example response" (wrapped in the v2 envelope)
    data = {
        "id": 12345,
        "from": "SMS Aero",
        "number": "79031234567",
        "text": "Hello, World!",
        "status": 0,
        "extendStatus": "queue",
        "channel": "FREE SIGN",
        "cost": 5.49,
        "dateCreate": 1719119523,
        "dateSend": 1719119523,
    }
    o = call({"success": True, "data": data, "message": None})
    assert o.vendor == VENDOR
    assert o.product == "sms"
    assert o.code == "0"
    assert o.category is Category.OK


def test_send_on_moderation_is_accepted() -> None:
    # a recorded sms/send answer: "status": 8, "extendStatus": "moderation"
    data = {"id": 539820423, "from": "SMS Aero", "number": "79186475294", "status": 8}
    o = call({"success": True, "data": data, "message": None})
    assert o.category is Category.OK
    assert o.message == "moderation"


def test_send_to_several_numbers_lists_one_item_each() -> None:
    data = [
        {"id": 686325, "number": "79990000000", "status": 1, "extendStatus": "delivery"},
        {"id": 686326, "number": "79990000001", "status": 0, "extendStatus": "queue"},
    ]
    o = call({"success": True, "data": data, "message": None})
    assert o.category is Category.OK
    assert [i.message_id for i in o.items] == ["686325", "686326"]
    assert [i.number for i in o.items] == ["*******0000", "*******0001"]
    assert [i.code for i in o.items] == ["1", "0"]


def test_sms_and_viber_number_statuses_differently() -> None:
    sms = classify(VENDOR, {"success": True, "data": {"status": 1}}, url=SEND_URL)
    viber = classify(
        VENDOR,
        {"success": True, "data": {"status": 1}},
        url="https://gate.smsaero.ru/v2/viber/send",
    )
    assert (sms.product, sms.message) == ("sms", "delivery")
    assert (viber.product, viber.message) == ("viber", "moderation")
    assert lookup(VENDOR, "1", product="viber").message == "moderation"
    assert lookup(VENDOR, "1", product="sms").message == "delivery"


@pytest.mark.parametrize(
    ("status", "category"),
    [(200, Category.UNKNOWN), (400, Category.VALIDATION), (401, Category.AUTH)],
)
def test_v2_failure_is_never_ok(status: int, category: Category) -> None:
    # {"success": false, ...} carries no code: the HTTP status decides, a 200 stays unknown
    o = call({"success": False, "data": None, "message": "test reason"}, status=status)
    assert o.category is category
    assert o.vendor_message == "test reason"


def test_v1_results() -> None:
    url = "https://gate.smsaero.ru/send/"
    assert classify(VENDOR, {"result": "no credits"}, url=url).category is Category.BILLING
    rejected = classify(VENDOR, {"result": "reject", "reason": "test reason"}, url=url)
    assert rejected.category is Category.VALIDATION
    assert rejected.vendor_message == "test reason"
    assert classify(VENDOR, {"result": "accepted", "id": 1}, url=url).category is Category.OK


@pytest.mark.parametrize(
    "url",
    [
        "https://gate.smsaero.ru/v2/sms/send",
        "https://gate.smsaero.org/v2/sms/send",
        "https://gate.smsaero.net/v2/balance",
    ],
)
def test_gateways_are_detected(url: str) -> None:
    assert call({"success": True, "data": {"status": 0}}, url=url).vendor == VENDOR


@pytest.mark.parametrize(
    "url", ["https://smsaero.ru/", "https://smsaero.ru/integration/documentation/api/"]
)
def test_web_pages_are_not_claimed(url: str) -> None:
    assert not claimed(url)


def test_v1_credentials_are_masked(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG", logger="normalizer")
    url = "https://gate.smsaero.ru/send/?user=me@example.com&password=SECRET&to=79031234567"
    get(url, httpx.Response(200, json={"result": "no credits"}))
    text = logged(caplog)
    assert "gate.smsaero.ru/send/" in text
    assert "SECRET" not in text
    assert "79031234567" not in text
