"""Africa's Talking: SMS per-recipient statusCodes, delivery reports, the errorMessage envelope.

Bodies: the official node SDK's mocks (AfricasTalkingLtd/africastalking-node.js test/mocks.js),
the recorded answers of SamuelMwangiW/africastalking-laravel (tests/Fixtures/Saloon/messaging/bulk/
with-sender.json, invalid-sender-id.json, invalid-key.json; voice/call.json), the send answer quoted
by http://help.africastalking.com/articles/742491-why-did-my-messages-fail, and the delivery report
fields of http://docs.africastalking.com/sms/notifications. Codes: africastalking-laravel
src/ValueObjects/SentMessageRecipient.php (statusMessage()).
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import httpx
import pytest

import normalizer
from normalizer import Category, Match, lookup
from tests.mappings.conftest import claimed

VENDOR = "africastalking"
MAPPING = Path(__file__).resolve().parents[2] / "mappings" / "africastalking.toml"
SEND_URL = "https://api.africastalking.com/version1/messaging"

# africastalking-laravel SentMessageRecipient::statusMessage()
STATUS_CODES = {
    "100": "Processed",
    "101": "Sent",
    "102": "Queued",
    "401": "RiskHold",
    "402": "InvalidSenderId",
    "403": "InvalidPhoneNumber",
    "404": "UnsupportedNumberType",
    "405": "InsufficientBalance",
    "406": "UserInBlacklist",
    "407": "CouldNotRoute",
    "409": "DoNotDisturbRejection",
    "500": "InternalServerError",
    "501": "GatewayError",
    "502": "RejectedByGateway",
}


def test_the_sms_table_is_the_sourced_one() -> None:
    with MAPPING.open("rb") as fh:
        data: dict[str, Any] = tomllib.load(fh)
    table = data["products"]["sms"]["codes"]
    assert {code: entry["description"] for code, entry in table.items()} == STATUS_CODES
    # the vendor table holds only the errorMessage "None": the numbers are SMS recipient statuses
    assert set(data["codes"]) == {"None"}


PINNED = [
    # (code, category, retryable): the numbers look like HTTP statuses and are not
    ("101", Category.OK, False),
    ("401", Category.VALIDATION, False),
    ("403", Category.VALIDATION, False),
    ("405", Category.BILLING, False),  # InsufficientBalance, not "method not allowed"
    ("406", Category.VALIDATION, False),
    ("500", Category.SERVER, True),
    ("501", Category.SERVER, True),
    ("502", Category.VALIDATION, False),
]


@pytest.mark.parametrize(("code", "category", "retryable"), PINNED, ids=[p[0] for p in PINNED])
def test_pinned(code: str, category: Category, retryable: bool) -> None:
    o = lookup(VENDOR, code, product="sms")
    assert o.matched is Match.EXACT
    assert (o.category, o.retryable, o.message) == (category, retryable, STATUS_CODES[code])


def send(status: int, body: Any, url: str = SEND_URL) -> normalizer.Outcome:
    def handler(request: httpx.Request) -> httpx.Response:
        if isinstance(body, str):
            return httpx.Response(status, text=body)
        return httpx.Response(status, json=body)

    with normalizer.Client(transport=httpx.MockTransport(handler), retry=None) as client:
        response = client.post(url, data={"username": "sandbox", "to": "+254711000111"})
    outcome = normalizer.outcome_of(response)
    assert outcome is not None
    return outcome


def recipient(code: int, number: str, status: str, message_id: str) -> dict[str, Any]:
    return {
        "statusCode": code,
        "number": number,
        "status": status,
        "cost": "KES 0.8000",
        "messageId": message_id,
    }


def test_sent_is_ok_with_its_recipient() -> None:
    # node SDK test/mocks.js (HTTP 201)
    body = {
        "SMSMessageData": {
            "Message": "Sent to 1/1 Total Cost: KES 0.8000",
            "Recipients": [
                recipient(101, "+254711XXXYYY", "Success", "ATPid_SampleTxnId123"),
            ],
        }
    }
    o = send(201, body)
    assert (o.vendor, o.product, o.category, o.partial) == (VENDOR, "sms", Category.OK, False)
    (item,) = o.items
    assert (item.code, item.message_id, item.category) == ("101", "ATPid_SampleTxnId123", "ok")


def test_a_recipient_405_is_billing_not_an_http_status() -> None:
    body = {
        "SMSMessageData": {
            "Message": "Sent to 1/2 Total Cost: KES 0.8000",
            "Recipients": [
                recipient(
                    101, "+254705336634", "Success", "ATXid_03cb5ecf11ce748794c0f9a85c276259"
                ),
                recipient(405, "+254711000222", "InsufficientBalance", "None"),
            ],
        }
    }
    o = send(201, body)
    assert o.category is Category.OK
    assert o.partial is True
    (failed,) = o.failed_items
    assert (failed.code, failed.category, failed.number) == ("405", "billing", "********0222")
    assert failed.vendor_message == "InsufficientBalance"


@pytest.mark.parametrize(
    ("code", "status", "category", "retryable"),
    [
        (403, "InvalidPhoneNumber", Category.VALIDATION, False),
        (405, "InsufficientBalance", Category.BILLING, False),
        (500, "InternalServerError", Category.SERVER, True),
    ],
    ids=["validation", "billing", "server"],
)
def test_every_recipient_failed(
    code: int, status: str, category: Category, retryable: bool
) -> None:
    body = {
        "SMSMessageData": {
            "Message": "Sent to 0/1 Total Cost: 0",
            "Recipients": [recipient(code, "+254711000111", status, "None")],
        }
    }
    o = send(201, body)
    assert (o.category, o.retryable) == (category, retryable)


def test_invalid_sender_id_with_no_recipient() -> None:
    # africastalking-laravel tests/Fixtures/Saloon/messaging/bulk/invalid-sender-id.json
    o = send(201, {"SMSMessageData": {"Message": "InvalidSenderId", "Recipients": []}})
    assert o.category is Category.VALIDATION
    assert o.matched is Match.FIELD


def test_bad_api_key_is_a_plain_text_401() -> None:
    # africastalking-laravel tests/Fixtures/Saloon/messaging/bulk/invalid-key.json
    o = send(401, "The supplied authentication is invalid")
    assert (o.vendor, o.category) == (VENDOR, Category.AUTH)


def test_voice_error_message_none_is_success() -> None:
    # africastalking-laravel tests/Fixtures/Saloon/voice/call.json
    body = {
        "entries": [
            {
                "phoneNumber": "+254720123123",
                "status": "Queued",
                "sessionId": "ATVId_b1ad0dc21e85d5afdd33aeb4e8b87b17",
            }
        ],
        "errorMessage": "None",
    }
    o = send(200, body, "https://voice.africastalking.com/call")
    assert (o.vendor, o.category, o.code) == (VENDOR, Category.OK, "None")
    # an error text nobody sourced is never guessed
    o = send(
        200,
        {"entries": [], "errorMessage": "Something else"},
        "https://voice.africastalking.com/call",
    )
    assert o.category is Category.UNKNOWN


@pytest.mark.parametrize(
    "url",
    [
        "https://api.africastalking.com/version1/messaging",
        "https://api.sandbox.africastalking.com/version1/messaging/bulk",
        "https://content.africastalking.com/version1/messaging",
        "https://voice.sandbox.africastalking.com/queueStatus",
    ],
)
def test_api_hosts_are_detected(url: str) -> None:
    assert send(200, {"errorMessage": "None"}, url).vendor == VENDOR


@pytest.mark.parametrize(
    "url",
    [
        "https://africastalking.com/sms",
        "https://developers.africastalking.com/docs/sms/sending/bulk",
        "https://account.africastalking.com/apps/sandbox",
        "https://help.africastalking.com/en/",
    ],
)
def test_web_pages_are_not_claimed(url: str) -> None:
    assert not claimed(url)


def test_delivery_report_callback() -> None:
    body = (
        b"id=ATXid_03cb5ecf11ce748794c0f9a85c276259&status=Failed&phoneNumber=%2B254705336634"
        b"&networkCode=63902&failureReason=UserInBlackList&retryCount=0"
    )
    o = normalizer.classify_callback(body, {"content-type": "application/x-www-form-urlencoded"})
    assert (o.vendor, o.product, o.code, o.category) == (
        VENDOR,
        "dlr",
        "UserInBlackList",
        "validation",
    )
    assert o.delivery_outcome is True
    ok = normalizer.classify_callback(
        b"id=ATXid_1&status=Success&phoneNumber=%2B254705336634&networkCode=63902",
        {"content-type": "application/x-www-form-urlencoded"},
    )
    assert (ok.code, ok.category) == ("Success", Category.OK)


def test_api_key_header_is_masked() -> None:
    mapping = normalizer.Registry(environ=False).get(VENDOR)
    redactor = normalizer.Redactor().extended(keys=mapping.redact.keys)
    masked = redactor.headers({"apiKey": "atsk_0123456789abcdef", "Accept": "application/json"})
    assert "atsk_0123456789abcdef" not in str(masked)
    assert "application/json" in str(masked)
