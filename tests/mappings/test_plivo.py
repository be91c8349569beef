"""Plivo: API failures read by HTTP status, SMS error codes in message records and callbacks.

Sources: the Plivo docs (https://docs.plivo.com/docs/messaging/api/response: the envelope, the
"not found" error example, the HTTP statuses; https://plivo.com/docs/messaging/troubleshooting/error-codes
and https://www.plivo.com/blog/introducing-sms-error-codes/: the SMS error codes;
https://plivo.com/docs/messaging/api/message/message-status-callbacks: the status callback) and
the official SDK's fixtures (plivo/plivo-python tests/resources/fixtures/messageSendResponse.json,
messageGetResponse.json, messageListResponse.json).
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import httpx
import pytest

import normalizer
from normalizer import Category, Match, classify, classify_callback, lookup

VENDOR = "plivo"
MAPPING = Path(__file__).resolve().parents[2] / "mappings" / "plivo.toml"
MESSAGES = "https://api.plivo.com/v1/Account/MAXXXXXXXXXXXXXXXXXX/Message/"

# plivo-python tests/resources/fixtures/messageSendResponse.json
SENT = {
    "api_id": "948b53a2-3f08-11e7-b6f4-061564b78b75",
    "message": "message(s) queued",
    "message_uuid": ["5b40a428-bfc7-4daf-9d06-726c558bf3b8"],
}
# plivo-python tests/resources/fixtures/messageGetResponse.json
RECORD: dict[str, Any] = {
    "api_id": "95747262-3f08-11e7-8bc8-065f6a74a84a",
    "error_code": None,
    "from_number": "911231231230",
    "message_direction": "outbound",
    "message_state": "sent",
    "message_time": "2017-05-22 21:36:14+05:30",
    "message_type": "sms",
    "message_uuid": "5b40a428-bfc7-4daf-9d06-726c558bf3b8",
    "resource_uri": "/v1/Account/MAXXXXXXXXXXXXXXXXXX/Message/"
    "5b40a428-bfc7-4daf-9d06-726c558bf3b8/",
    "to_number": "911231231231",
    "total_amount": "0.00250",
    "total_rate": "0.00250",
    "units": 1,
    "error_message": "",
}

PINNED: list[tuple[str, Category, bool]] = [
    ("10", Category.VALIDATION, False),
    ("20", Category.SERVER, True),  # "This is a temporary error. You can retry later"
    ("30", Category.VALIDATION, False),
    ("50", Category.VALIDATION, False),
    ("80", Category.BUSY, True),  # "retry your messages at a later time"
    ("90", Category.SERVER, False),
    ("200", Category.VALIDATION, False),
    ("420", Category.BUSY, True),
    ("450", Category.VALIDATION, False),
    ("900", Category.BILLING, False),
    ("910", Category.AUTH, False),
    ("1000", Category.UNKNOWN, False),
]


@pytest.mark.parametrize(("code", "category", "retryable"), PINNED, ids=[c for c, *_ in PINNED])
def test_pinned_decision(code: str, category: Category, retryable: bool) -> None:
    o = lookup(VENDOR, code)
    assert o.matched == Match.EXACT
    assert o.category is category
    assert o.retryable is retryable
    assert o.delivery_outcome is True  # every SMS error code says what became of a message
    assert o.gloss


PUBLISHED = (10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 200, 201, 300, 420, 450, 900, 910, 1000)


def test_every_published_code_is_mapped_and_no_other() -> None:
    with MAPPING.open("rb") as f:
        data: dict[str, Any] = tomllib.load(f)
    assert set(data["codes"]) == {str(c) for c in PUBLISHED}
    for code in PUBLISHED:
        assert lookup(VENDOR, code).matched == Match.EXACT
    assert lookup(VENDOR, "30").message == "Spam detected"


def call(
    status: int, body: dict[str, Any], url: str = MESSAGES, method: str = "POST"
) -> normalizer.Outcome:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json=body)

    with normalizer.Client(transport=httpx.MockTransport(handler), retry=None) as client:
        response = client.request(
            method, url, json={"src": "14155550100", "dst": "14155550101", "text": "hi"}
        )
    outcome = normalizer.outcome_of(response)
    assert outcome is not None
    return outcome


def test_queued_send_is_ok_and_detected() -> None:
    o = call(202, SENT)
    assert o.vendor == VENDOR
    assert o.category is Category.OK
    assert o.request_id == SENT["api_id"]


@pytest.mark.parametrize(
    ("status", "error", "category", "retryable"),
    [
        (400, "invalid_parameter", Category.VALIDATION, False),
        (401, "authentication_failed", Category.AUTH, False),
        (404, "not found", Category.NOT_FOUND, False),  # the docs' "Error Response Example"
        (405, "method not allowed", Category.VALIDATION, False),
        (429, "rate_limit_exceeded", Category.BUSY, True),
        (500, "server error", Category.SERVER, True),
    ],
    ids=["validation", "auth", "not_found", "405", "busy", "server"],
)
def test_api_failure_is_read_by_status(
    status: int, error: str, category: Category, retryable: bool
) -> None:
    o = call(status, {"api_id": "97ceeb52-58b6-11e1-86da-77300b68f8bb", "error": error})
    assert o.code is None
    assert o.category is category
    assert o.retryable is retryable
    assert o.matched == Match.HTTP_STATUS


def test_rate_limit_was_refused() -> None:
    o = call(429, {"api_id": "a", "error": "rate_limit_exceeded"})
    assert o.rejected is True
    assert o.scope == "account"


def test_insufficient_credit_error_text_is_billing() -> None:
    # support.plivo.com 17000088423: send requests "fail with the error 'Insufficient Credit'"
    o = call(400, {"api_id": "a", "error": "Insufficient Credit"})
    assert o.category is Category.BILLING
    assert o.retryable is False


def test_message_record_with_error_code() -> None:
    record = dict(
        RECORD, message_state="undelivered", error_code="30", error_message="Spam detected"
    )
    o = call(200, record, url=MESSAGES + "5b40a428-bfc7-4daf-9d06-726c558bf3b8/", method="GET")
    assert o.code == "30"
    assert o.category is Category.VALIDATION
    assert o.delivery_outcome is True


def test_message_record_sent_and_delivered() -> None:
    url = MESSAGES + "5b40a428-bfc7-4daf-9d06-726c558bf3b8/"
    assert call(200, RECORD, url=url, method="GET").category is Category.OK
    delivered = call(200, dict(RECORD, message_state="delivered"), url=url, method="GET")
    assert delivered.category is Category.OK
    assert delivered.delivery_outcome is True
    failed = call(200, dict(RECORD, message_state="failed"), url=url, method="GET")
    assert failed.category is Category.UNKNOWN  # failed without a code: nothing says why


def test_message_list_items_are_reports() -> None:
    # messageListResponse.json's shape, one record turned undelivered with code 80
    page = {
        "api_id": "9506d2c0-3f08-11e7-b886-067c5485c240",
        "meta": {"limit": 20, "offset": 0, "total_count": 2},
        "objects": [
            RECORD,
            dict(
                RECORD,
                message_uuid="39062592",
                to_number="911231231232",
                error_code=80,
                message_state="undelivered",
            ),
        ],
    }
    o = call(200, page, method="GET")
    assert o.category is Category.OK  # a list query worked; its records are data
    assert o.partial is False
    by_id = {i.message_id: i for i in o.items}
    assert by_id["39062592"].category is Category.BUSY
    assert by_id["39062592"].delivery_outcome is True
    assert by_id["39062592"].number == "********1232"


def test_status_callback() -> None:
    headers = {"content-type": "application/x-www-form-urlencoded"}
    body = (
        b"MessageUUID=5b40a428&To=14155550101&From=14155550100&Type=sms"
        b"&Status=undelivered&ErrorCode=80"
    )
    o = classify_callback(body, headers)
    assert o.vendor == VENDOR
    assert o.code == "80"
    assert o.category is Category.BUSY
    assert o.retryable is True
    queued = classify_callback(b"MessageUUID=5b40a428&To=14155550101&Status=queued", headers)
    assert queued.vendor == VENDOR
    assert queued.category is Category.OK


def test_detection_claims_api_hosts_only() -> None:
    o = classify(VENDOR, SENT, url=MESSAGES)
    assert o.vendor == VENDOR
    page = "<html><body>Plivo docs</body></html>"

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text=page, headers={"content-type": "text/html"})

    with normalizer.Client(transport=httpx.MockTransport(handler), retry=None) as client:
        response = client.get("https://www.plivo.com/docs/messaging/troubleshooting/error-codes")
    assert normalizer.outcome_of(response) is None  # the vendor's web pages are not claimed
