"""Vonage (Nexmo): SMS API part statuses, DLR err-codes, Messages API errors.

Sources saved under tests/mappings/sources/vonage/:
- sms_x_errors.yml: the x-errors block of github.com/Nexmo/api-specification
  definitions/sms.yml (commit ad042003), rendered at developer.vonage.com/en/api-errors/sms
- messages_x_errors.yml: the x-errors block of definitions/messages-olympus.yml (same commit),
  rendered at developer.vonage.com/en/api-errors/messages
- delivery_receipts.md: the DLR tables of github.com/mheap/nexmo-developer
  _documentation/en/messaging/sms/guides/delivery-receipts.md (commit 2552e3f8)
Response bodies are the Vonage Python SDK's fixtures (github.com/Vonage/vonage-python-sdk
sms/tests/data and messages/tests/data) and the Java SDK's MessageStatus test.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

import normalizer
from normalizer import Category, Match, classify, lookup
from tests.mappings.conftest import source_file

VENDOR = "vonage"
MAPPING = Path(__file__).resolve().parents[2] / "mappings" / "vonage.toml"
SMS_URL = "https://rest.nexmo.com/sms/json"
MESSAGES_URL = "https://api.nexmo.com/v1/messages"

X_ERROR = re.compile(r'^  "(\d+)":\n    description: (.*)$', re.M)
DLR_ROW = re.compile(r"^\| (\d+) \| ([^|]+)\|([^|]+)\|", re.M)


def x_errors(name: str) -> dict[str, str]:
    return {c: d.strip() for c, d in X_ERROR.findall(source_file(VENDOR, name).read_text("utf-8"))}


def dlr_codes() -> dict[str, str]:
    text = source_file(VENDOR, "delivery_receipts.md").read_text("utf-8")
    return {code: meaning.strip() for code, meaning, _ in DLR_ROW.findall(text)}


def product_codes(product: str) -> set[str]:
    with MAPPING.open("rb") as f:
        data: dict[str, Any] = tomllib.load(f)
    assert data["codes"] == {}, "every Vonage code belongs to a product table"
    return set(data["products"][product]["codes"])


# ---------------------------------------------------------------- source coverage


def test_parsers_find_every_row() -> None:
    sms = x_errors("sms_x_errors.yml")
    assert len(sms) == 19
    assert sms["9"].startswith("Partner Quota Violation.")
    messages = x_errors("messages_x_errors.yml")
    assert len(messages) == 44
    assert messages["1000"].startswith("Throttled - ")
    dlr = dlr_codes()
    assert len(dlr) == 17
    assert dlr["2"] == "Absent Subscriber - Temporary"
    assert dlr["99"] == "General Error"


# SMS statuses the current table left out but the API still answers: numbers from the older
# API reference as transcribed in mozilla/fxa-content-server app/scripts/lib/sms-errors.js
OLDER_SMS_STATUSES = {
    "13": (Category.SERVER, True, True),  # COMMUNICATION_FAILED: not submitted, try again
    "16": (Category.VALIDATION, False, False),  # INVALID_TTL
    "19": (Category.AUTH, False, False),  # FACILITY_NOT_ALLOWED: not enabled on the account
    "20": (Category.VALIDATION, False, False),  # INVALID_MESSAGE_CLASS
    "34": (Category.VALIDATION, False, False),  # INVALID_PHONE_NUMBER (missing/invalid "to")
}


@pytest.mark.parametrize("code", sorted(OLDER_SMS_STATUSES))
def test_older_sms_statuses_are_mapped(code: str) -> None:
    category, retryable, rejected = OLDER_SMS_STATUSES[code]
    found = classify(
        VENDOR,
        {
            "message-count": "1",
            "messages": [{"status": code, "error-text": "x", "to": "447700900000"}],
        },
        url="https://rest.nexmo.com/sms/json",
    )
    assert (found.category, found.retryable, found.rejected) == (category, retryable, rejected)
    (part,) = found.items
    assert (part.code, part.matched) == (code, Match.EXACT)


# product -> its source table, read when a test asks (never at collection time)
PRODUCT_SOURCES: dict[str, Callable[[], dict[str, str]]] = {
    "sms": lambda: x_errors("sms_x_errors.yml"),
    "messages": lambda: x_errors("messages_x_errors.yml"),
    "dlr": dlr_codes,
}


@pytest.mark.parametrize("product", list(PRODUCT_SOURCES))
def test_every_source_code_is_mapped_with_its_text(product: str) -> None:
    source = PRODUCT_SOURCES[product]()  # skips when the file is absent
    for code, text in source.items():
        o = lookup(VENDOR, code, product=product)
        assert o.matched == Match.EXACT, (product, code)
        assert o.product == product
        assert o.message == text, (product, code)
        assert o.gloss, (product, code)
    # ... and the mapping holds nothing the source lacks (sms "0" comes from the
    # troubleshooting page; 13, 16, 19, 20 and 34 from the older API reference, issue 31)
    extra = {"0", *OLDER_SMS_STATUSES} if product == "sms" else set()
    assert product_codes(product) == set(source) | extra


def test_sms_success_code_text() -> None:
    o = lookup(VENDOR, "0", product="sms")
    assert o.category is Category.OK
    assert o.message == "The message was successfully accepted for delivery."


# ---------------------------------------------------------------- pinned decisions

PINNED: list[tuple[str, str, Category, bool, bool]] = [
    # (product, code, category, retryable, rejected); receipts and webhooks are delivery
    # outcomes: the send request already worked, so even busy ones are not "rejected"
    ("sms", "1", Category.BUSY, True, True),
    ("sms", "2", Category.VALIDATION, False, False),
    ("sms", "3", Category.VALIDATION, False, False),
    ("sms", "4", Category.AUTH, False, False),
    ("sms", "5", Category.SERVER, True, False),
    ("sms", "6", Category.VALIDATION, False, False),
    ("sms", "8", Category.AUTH, False, False),
    ("sms", "9", Category.BILLING, False, False),
    ("sms", "10", Category.BUSY, True, True),
    ("sms", "14", Category.AUTH, False, False),
    ("sms", "15", Category.VALIDATION, False, False),
    ("sms", "29", Category.VALIDATION, False, False),
    ("messages", "1000", Category.BUSY, True, False),
    ("messages", "1070", Category.BILLING, False, False),
    ("messages", "1180", Category.BUSY, True, False),
    ("messages", "1240", Category.VALIDATION, False, False),
    ("messages", "1330", Category.UNKNOWN, False, False),
    ("messages", "1370", Category.AUTH, False, False),
    ("dlr", "0", Category.OK, False, False),
    ("dlr", "2", Category.BUSY, True, False),
    ("dlr", "8", Category.SERVER, True, False),
    ("dlr", "9", Category.VALIDATION, False, False),
    ("dlr", "15", Category.VALIDATION, False, False),
]


@pytest.mark.parametrize(
    ("product", "code", "category", "retryable", "rejected"),
    PINNED,
    ids=[f"{p}{c}-{cat.value}" for p, c, cat, _, _ in PINNED],
)
def test_pinned_decision(
    product: str, code: str, category: Category, retryable: bool, rejected: bool
) -> None:
    o = lookup(VENDOR, code, product=product)
    assert o.matched == Match.EXACT
    assert o.category is category
    assert o.retryable is retryable
    assert o.rejected is rejected


def test_send_statuses_are_not_delivery_outcomes_but_receipts_are() -> None:
    assert lookup(VENDOR, "9", product="sms").delivery_outcome is False
    assert lookup(VENDOR, "2", product="dlr").delivery_outcome is True
    assert lookup(VENDOR, "1000", product="messages").delivery_outcome is True


def test_code_one_without_product_is_ambiguous() -> None:
    o = lookup(VENDOR, "1")
    assert o.category is Category.UNKNOWN
    assert o.matched == Match.AMBIGUOUS
    readings = {c.product: c.category for c in o.candidates}
    assert readings == {"sms": Category.BUSY, "dlr": Category.UNKNOWN}


# ---------------------------------------------------------------- through a client


def send(body: dict[str, Any], url: str = SMS_URL, status: int = 200) -> normalizer.Outcome:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json=body)

    with normalizer.Client(transport=httpx.MockTransport(handler), retry=None) as client:
        response = client.post(url, data={"api_key": "k", "api_secret": "s", "to": "447700900000"})
    outcome = normalizer.outcome_of(response)
    assert outcome is not None
    return outcome


def one_part(status: str, error_text: str) -> dict[str, Any]:
    return {"message-count": "1", "messages": [{"status": status, "error-text": error_text}]}


SENT = {
    # sms/tests/data/send_sms.json
    "message-count": "1",
    "messages": [
        {
            "to": "1234567890",
            "message-id": "3295d748-4e14-4681-af78-166dca3c5aab",
            "status": "0",
            "remaining-balance": "38.07243628",
            "message-price": "0.04120000",
            "network": "23420",
        }
    ],
}


def test_client_ok() -> None:
    o = send(SENT)
    assert o.vendor == VENDOR
    assert o.product == "sms"
    assert o.category is Category.OK
    assert o.partial is False
    assert [i.message_id for i in o.items] == ["3295d748-4e14-4681-af78-166dca3c5aab"]
    assert o.items[0].number == "******7890"


@pytest.mark.parametrize(
    ("status", "text", "category", "retryable"),
    [
        ("4", "Bad Credentials", Category.AUTH, False),
        ("2", "Missing to param", Category.VALIDATION, False),
        ("7", "Number barred.", Category.VALIDATION, False),
        ("9", "Quota Exceeded - rejected", Category.BILLING, False),
        ("1", "Throttled", Category.BUSY, True),
        ("5", "Internal Error", Category.SERVER, True),
    ],
    ids=["auth", "validation", "barred", "billing", "busy", "server"],
)
def test_client_failed_part_decides(
    status: str, text: str, category: Category, retryable: bool
) -> None:
    o = send(one_part(status, text))
    assert o.product == "sms"
    assert o.category is category
    assert o.retryable is retryable
    assert o.partial is False
    (item,) = o.items
    assert item.code == status
    assert item.vendor_message == text
    assert item.matched == Match.EXACT


def test_client_mixed_parts_are_partial() -> None:
    # sms/tests/data/send_sms_partial_error.json
    body = {
        "message-count": "2",
        "messages": [
            {
                "to": "1234567890",
                "message-id": "3295d748-4e14-4681-af78-166dca3c5aab",
                "status": "0",
                "remaining-balance": "38.07243628",
                "message-price": "0.04120000",
                "network": "23420",
            },
            {"status": "1", "error-text": "Throttled"},
        ],
    }
    o = send(body)
    assert o.category is Category.OK
    assert o.partial is True
    assert [(i.index, i.category) for i in o.items] == [(0, Category.OK), (1, Category.BUSY)]
    (failed,) = o.failed_items
    assert failed.retryable is True
    assert failed.rejected is True
    assert failed.vendor_message == "Throttled"


def test_client_all_parts_failed_worst_category_wins() -> None:
    body = {
        "message-count": "2",
        "messages": [
            {"status": "1", "error-text": "Throttled"},
            {"status": "9", "error-text": "Quota Exceeded - rejected"},
        ],
    }
    o = send(body)
    assert o.category is Category.BILLING
    assert o.partial is False


def test_client_messages_api_accepted_and_problem_json() -> None:
    accepted = send({"message_uuid": "d8f86df1-dec6-442f-870a-2241be27d721"}, MESSAGES_URL, 202)
    assert accepted.product == "messages"
    assert accepted.category is Category.OK
    assert accepted.matched == Match.NO_CODE
    assert accepted.request_id == "d8f86df1-dec6-442f-870a-2241be27d721"
    # Java SDK MessagesClient test body (422)
    invalid = send(
        {
            "type": "https://developer.nexmo.com/api-errors/messages-olympus#1120",
            "title": "Invalid sender",
            "detail": "The `from` parameter is invalid for the given channel.",
            "instance": "bf0ca0bf927b3b52e3cb03217e1a1ddf",
        },
        MESSAGES_URL,
        422,
    )
    assert invalid.category is Category.VALIDATION
    assert invalid.matched == Match.HTTP_STATUS
    assert invalid.vendor_message == "The `from` parameter is invalid for the given channel."
    # messages/tests/data/low_balance_error.json (402)
    low = send(
        {
            "type": "https://developer.nexmo.com/api-errors/#low-balance",
            "title": "Low balance",
            "detail": "This request could not be performed due to your account balance being low.",
            "instance": "bf0ca0bf927b3b52e3cb03217e1a1ddf",
        },
        MESSAGES_URL,
        402,
    )
    assert low.category is Category.BILLING


def test_client_not_found() -> None:
    # messages/tests/data/not_found.json
    o = send(
        {
            "type": "https://developer.vonage.com/api-errors#not-found",
            "title": "Not Found",
            "detail": "Message with ID asdf not found",
            "instance": "617431f2-06b7-4798-af36-1b8151df8359",
        },
        MESSAGES_URL + "/asdf",
        404,
    )
    assert o.product == "messages"
    assert o.category is Category.NOT_FOUND
    assert o.vendor_message == "Message with ID asdf not found"


# ---------------------------------------------------------------- webhooks (named product)


def test_dlr_err_code_is_the_outcome() -> None:
    dlr = {
        "err-code": "2",
        "message-timestamp": "2018-10-25 12:10:29",
        "messageId": "0B00000127FDBC63",
        "msisdn": "447547232824",
        "network-code": "23410",
        "price": "0.03330000",
        "scts": "1810251310",
        "status": "failed",
        "to": "Nexmo CLI",
    }
    o = classify(VENDOR, dlr, product="dlr")
    assert o.category is Category.BUSY
    assert o.delivery_outcome is True
    assert o.retryable is True
    assert o.request_id == "0B00000127FDBC63"


def test_dlr_status_decides_when_err_code_is_zero() -> None:
    delivered = classify(VENDOR, {"err-code": "0", "status": "delivered"}, product="dlr")
    assert delivered.category is Category.OK
    assert delivered.matched == Match.EXACT
    accepted = classify(VENDOR, {"err-code": "0", "status": "accepted"}, product="dlr")
    assert accepted.category is Category.OK
    assert accepted.matched == Match.FIELD
    assert accepted.message.startswith("Message has been accepted for delivery")
    expired = classify(VENDOR, {"err-code": "0", "status": "expired"}, product="dlr")
    assert expired.category is Category.BUSY
    assert expired.delivery_outcome is True
    missing = classify(VENDOR, {"status": "rejected"}, product="dlr")
    assert missing.category is Category.UNKNOWN
    assert missing.matched == Match.MISSING


def test_messages_status_webhook() -> None:
    # Java SDK MessageStatusTest body: error.title carries the number
    rejected = {
        "message_uuid": "aaaaaaaa-bbbb-cccc-dddd-0123456789ab",
        "to": "447700900000",
        "from": "447700900001",
        "timestamp": "2020-01-01 14:00:00 +0000",
        "status": "submitted",
        "channel": "sms",
        "error": {
            "type": "https://developer.nexmo.com/api-errors/messages-olympus#1000",
            "title": 1000,
            "detail": "Throttled - You have exceeded the submission capacity allowed on this "
            "account. Please wait and retry",
            "instance": "bf0ca0bf927b3b52e3cb03217e1a1ddf",
        },
    }
    o = classify(VENDOR, rejected, product="messages")
    assert o.code == "1000"
    assert o.category is Category.BUSY
    assert o.delivery_outcome is True
    # spec 2021 shape: error.code / error.reason
    spec = {
        "status": "rejected",
        "error": {"code": 1300, "reason": "Not part of the provider network"},
    }
    o = classify(VENDOR, spec, product="messages")
    assert o.category is Category.VALIDATION
    assert o.vendor_message == "Not part of the provider network"
    delivered = classify(VENDOR, {"status": "delivered", "message_uuid": "x"}, product="messages")
    assert delivered.category is Category.OK
    assert delivered.matched == Match.FIELD


# ---------------------------------------------------------------- scope

SCOPES: list[tuple[str, str, str]] = [
    # (product, code, scope): explicit where the text names whom the answer is about
    ("sms", "1", "account"),  # "faster than the account limit"
    ("sms", "10", "account"),  # "exceeds your account allocation"
    ("messages", "1000", "account"),  # "submission capacity allowed on this account"
    ("messages", "1030", "vendor"),  # "error processing your request in the Platform"
    ("messages", "1060", "account"),  # "an account that has been barred"
    ("messages", "1070", "account"),  # "Your pre-paid account does not have sufficient credit"
    ("messages", "1080", "account"),  # "This account is not provisioned for REST submission"
    ("messages", "1140", "account"),  # "not enabled on your account"
    ("messages", "1350", "resource"),  # "to be paid by the Facebook Page"
    ("messages", "1370", "resource"),  # "reauthenticate your Facebook Page"
    # defaults (no scope written)
    ("sms", "5", "vendor"),  # server: "An error has occurred in the platform"
    ("sms", "9", "account"),  # billing
    ("sms", "4", "account"),  # auth
    ("sms", "3", "request"),  # validation
    ("dlr", "7", "recipient"),  # a receipt: Handset Busy
    ("messages", "1220", "recipient"),  # a status: Handset Busy
    ("messages", "1241", "recipient"),  # "Too many send requests to phone numbers"
]


@pytest.mark.parametrize(
    ("product", "code", "scope"), SCOPES, ids=[f"{p}-{c}" for p, c, _ in SCOPES]
)
def test_scope(product: str, code: str, scope: str) -> None:
    o = lookup(VENDOR, code, product=product)
    assert o.matched == Match.EXACT
    assert o.scope == scope


def test_throttled_part_slows_the_account() -> None:
    o = send(one_part("1", "Throughput Rate Exceeded - please wait [ 30 ] and retry"))
    assert o.category is Category.BUSY
    assert o.scope == "account"
    assert o.scope.shared


def test_published_rate_is_30_per_second() -> None:
    mapping = normalizer.Registry(environ=False).get(VENDOR)
    assert mapping.rate == 30.0
    doc = tomllib.loads(MAPPING.read_text(encoding="utf-8"))
    assert "203993598" in doc["vendor"]["rate_source"]
