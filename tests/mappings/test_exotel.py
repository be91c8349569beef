"""Exotel v1: a Twilio-shaped XML error told apart by host, the 403 texts, SMS DetailedStatusCodes.

Bodies: the error XML and example messages of
https://support.exotel.com/support/solutions/articles/48282-sending-an-sms, the SMSMessage of
https://developer.exotel.com/api/sms-details, the SMS status callback parameters of
https://developer.exotel.com/api-console/send-sms-api-console and the call StatusCallback of
https://developer.exotel.com/api/statuscallback. Codes: the DetailedStatusCode glossary,
https://support.exotel.com/support/solutions/articles/3000112255-glossary-for-sms-stats-beta-.
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

VENDOR = "exotel"
MAPPING = Path(__file__).resolve().parents[2] / "mappings" / "exotel.toml"
SEND_URL = "https://api.exotel.com/v1/Accounts/exotel1/Sms/send"
FORM = "application/x-www-form-urlencoded"

# the glossary's "DetailedStatusCode: DetailedStatus" pairs
GLOSSARY = {
    "20005": "DELIVERED_TO_HANDSET",
    "20006": "DELIVERED_TO_OPERATOR",
    "24105": "FAILED_HANDSET_ERROR",
    "24120": "FAILED_SUBSCRIBER_ERROR",
    "23015": "FAILED_SPAM_DETECTED",
    "23035": "FAILED_SUBSCRIBER_UNAVAILABLE",
    "24110": "FAILED_OPERATOR_ERROR",
    "23030": "FAILED_UNAVAILABLE_ROUTE",
    "23060": "FAILED_REJECTED",
    "24010": "FAILED_SYSTEM_ERROR",
    "24990": "FAILED_UNKNOWN_ERROR",
    "23080": "SENDER_BLOCKED_BY_DLT",
    "23081": "ENTITY_BLOCKED_BY_DLT",
    "23281": "DLT_ENTITY_NOT_FOUND",
    "23082": "TEMPLATE_BLOCKED_BY_DLT",
    "23181": "DLT_TEMPLATE_ID_INVALID",
    "23182": "DLT_TEMPLATE_NOT_FOUND",
    "23183": "DLT_TEMPLATE_ID_INACTIVE",
    "23184": "DLT_TEMPLATE_ID_BLACKLISTED",
    "23185": "DLT_TEMPLATE_DOES_NOT_MATCH",
    "23186": "DLT_LENGTH_EXCEEDED",
    "23083": "FAILED_DLT_SCRUBBING_ERROR",
    "23084": "FAILED_DLT_CONSENT_ERROR",
    "21010": "PENDING_TO_OPERATOR",
    "21015": "SENDING_TO_OPERATOR",
    "21020": "PENDING_ON_OPERATOR",
}


def test_the_table_is_the_glossary() -> None:
    with MAPPING.open("rb") as fh:
        data: dict[str, Any] = tomllib.load(fh)
    assert {code: e["description"] for code, e in data["codes"].items()} == GLOSSARY
    for code in GLOSSARY:
        assert lookup(VENDOR, code).delivery_outcome is True, code


PINNED = [
    ("20005", Category.OK, False),
    ("21010", Category.OK, False),
    ("23035", Category.BUSY, True),
    ("24110", Category.SERVER, True),
    ("23015", Category.VALIDATION, False),
    ("23185", Category.VALIDATION, False),
    ("24990", Category.UNKNOWN, False),
]


@pytest.mark.parametrize(("code", "category", "retryable"), PINNED, ids=[p[0] for p in PINNED])
def test_pinned(code: str, category: Category, retryable: bool) -> None:
    o = lookup(VENDOR, code)
    assert (o.matched, o.category, o.retryable) == (Match.EXACT, category, retryable)


def send(status: int, body: bytes | dict[str, Any], url: str = SEND_URL) -> normalizer.Outcome:
    def handler(request: httpx.Request) -> httpx.Response:
        if isinstance(body, bytes):
            return httpx.Response(status, content=body, headers={"content-type": "application/xml"})
        return httpx.Response(status, json=body)

    with normalizer.Client(transport=httpx.MockTransport(handler), retry=None) as client:
        response = client.post(url, data={"From": "EXOTEL", "To": "09000000001", "Body": "hi"})
    outcome = normalizer.outcome_of(response)
    assert outcome is not None
    return outcome


def rest_exception(status: int, message: str) -> bytes:
    # the documented XML form: "The 'Status' is the HTTP code itself again"
    return (
        f"<TwilioResponse><RestException><Status>{status}</Status>"
        f"<Message>{message}</Message></RestException></TwilioResponse>"
    ).encode()


@pytest.mark.parametrize(
    ("status", "message", "category", "retryable"),
    [
        (400, "Invalid Parameters", Category.VALIDATION, False),
        (400, "Invalid Recipient [09000000001]", Category.VALIDATION, False),
        (403, "Account is not active", Category.AUTH, False),
        (403, "Insufficient balance to send the SMS", Category.BILLING, False),
        (403, "Account validity has expired", Category.BILLING, False),
        (429, "Too Many Requests", Category.BUSY, True),
        (500, "Internal Server Error", Category.SERVER, True),
    ],
)
def test_documented_errors(status: int, message: str, category: Category, retryable: bool) -> None:
    o = send(status, rest_exception(status, message))
    assert (o.vendor, o.category, o.retryable) == (VENDOR, category, retryable)
    assert o.vendor_message == message


def test_json_rest_exception() -> None:
    o = send(
        403, {"RestException": {"Status": 403, "Message": "Insufficient balance to send the SMS"}}
    )
    assert (o.category, o.matched) == (Category.BILLING, Match.FIELD)


def test_twilio_shaped_xml_is_read_by_its_host() -> None:
    # the same <TwilioResponse><RestException> on Twilio's host is Twilio's 21211; on Exotel's
    # host a <Code> in it is no Twilio code: the HTTP status decides
    body = (
        b"<TwilioResponse><RestException><Status>400</Status><Message>The 'To' number 123 is"
        b" not a valid phone number.</Message><Code>21211</Code></RestException></TwilioResponse>"
    )
    twilio = send(400, body, "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages")
    assert (twilio.vendor, twilio.code) == ("twilio", "21211")
    exotel = send(400, body)
    assert (exotel.vendor, exotel.code, exotel.matched) == (VENDOR, None, Match.HTTP_STATUS)
    assert exotel.category is Category.VALIDATION


def test_sms_resource_reads_its_detailed_status() -> None:
    body = {
        "SMSMessage": {
            "Sid": "0f477d60517e6e6a0f6d9a7e9af8630e",
            "AccountSid": "Exotel",
            "From": "0XXXXXX4890/WEBDEV",
            "To": "0XXXXX30240",
            "Status": "sent",
            "DetailedStatusCode": 20005,
            "DetailedStatus": "DELIVERED_TO_HANDSET",
        }
    }
    o = send(200, body, "https://api.in.exotel.com/v1/Accounts/exotel1/SMS/Messages/0f47")
    assert (o.vendor, o.code, o.category) == (VENDOR, "20005", Category.OK)
    assert o.request_id == "0f477d60517e6e6a0f6d9a7e9af8630e"


def test_several_recipients_are_listed() -> None:
    body = (
        b"<TwilioResponse><SMSMessage><Sid>a1</Sid><To>09000000001</To><Status>queued</Status>"
        b"<DetailedStatusCode>21010</DetailedStatusCode><DetailedStatus>PENDING_TO_OPERATOR"
        b"</DetailedStatus></SMSMessage><SMSMessage><Sid>a2</Sid><To>09000000002</To>"
        b"<Status>queued</Status><DetailedStatusCode>21010</DetailedStatusCode>"
        b"<DetailedStatus>PENDING_TO_OPERATOR</DetailedStatus></SMSMessage></TwilioResponse>"
    )
    o = send(200, body)
    assert o.category is Category.OK
    assert [(i.message_id, i.code) for i in o.items] == [("a1", "21010"), ("a2", "21010")]
    assert o.items[1].number == "*******0002"


def test_sms_status_callback() -> None:
    body = (
        b"SmsSid=0f477d60517e6e6a0f6d9a7e9af8630e&To=09000000001&Status=failed&SmsUnits=1"
        b"&DetailedStatus=FAILED_SUBSCRIBER_UNAVAILABLE&DetailedStatusCode=23035"
        b"&DateSent=2024-01-15+10%3A30%3A02"
    )
    o = normalizer.classify_callback(body, {"content-type": FORM})
    assert (o.vendor, o.code, o.category, o.retryable) == (VENDOR, "23035", Category.BUSY, True)


def test_call_status_callback() -> None:
    body = (
        b"CallSid=b6cfaf0e8f9f&DateUpdated=2024-01-15+10%3A30%3A02&Status=no-answer&RecordingUrl="
    )
    o = normalizer.classify_callback(body, {"content-type": FORM})
    assert (o.vendor, o.product, o.code, o.call_outcome) == (
        VENDOR,
        "call_status",
        "no-answer",
        True,
    )


@pytest.mark.parametrize(
    "url",
    [
        "https://exotel.com/",
        "https://www.exotel.com/pricing/",
        "https://developer.exotel.com/api/sms",
        "https://support.exotel.com/support/solutions/articles/48282-sending-an-sms",
        "https://my.exotel.com/exotel1/settings/site#api-settings",
    ],
)
def test_web_pages_are_not_claimed(url: str) -> None:
    assert not claimed(url)


def test_account_sid_is_masked() -> None:
    mapping = normalizer.Registry(environ=False).get(VENDOR)
    redactor = normalizer.Redactor().extended(after_segments=mapping.redact.after_segments)
    masked = redactor.url("https://key:token@api.exotel.com/v1/Accounts/acme_corp7/Sms/send")
    assert "acme_corp7" not in masked
    assert "token" not in masked
