"""Bird (MessageBird): the legacy REST API's error codes, its Voice API's own numbers, the
recipients of a message, and Bird's current error envelope (named only).

Bodies: the official Go SDK's fixtures (messagebird/go-rest-api internal/mbtest/test_server.go
WillReturnAccessKeyError, sms/testdata/messageNotFound.json, sms/testdata/messageObject.json,
voice/testdata/error.json); Bird's current envelope as printed on https://bird.com/en-us/docs/guides/errors
and https://bird.com/docs/errors. Codes: messagebird/csharp-rest-api MessageBird/Objects/Error.cs.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import httpx
import pytest

import normalizer
from normalizer import Category, Match, classify, lookup
from tests.mappings.conftest import claimed

VENDOR = "messagebird"
MAPPING = Path(__file__).resolve().parents[2] / "mappings" / "messagebird.toml"

# messagebird/csharp-rest-api MessageBird/Objects/Error.cs, enum ErrorCode
ERROR_CODES = {
    "2": "RequestNotAllowed",
    "9": "MissingParameters",
    "10": "InvalidParameters",
    "20": "NotFound",
    "25": "NotEnoughBalance",
    "98": "ApiNotFound",
    "99": "InternalError",
}


def test_the_rest_table_is_the_sdk_enum() -> None:
    with MAPPING.open("rb") as fh:
        data: dict[str, Any] = tomllib.load(fh)
    assert set(data["codes"]) == set(ERROR_CODES)
    for code, name in ERROR_CODES.items():
        o = lookup(VENDOR, code)
        assert o.matched is Match.EXACT, code
        # the SDK's name, or (code 2) the text the SDK's test server answers
        assert o.message == name or name == "RequestNotAllowed", code
    assert lookup(VENDOR, "2").message == "Request not allowed (incorrect access_key)"


PINNED = [
    ("2", Category.AUTH, False),
    ("9", Category.VALIDATION, False),
    ("10", Category.VALIDATION, False),
    ("20", Category.NOT_FOUND, False),
    ("25", Category.BILLING, False),
    ("98", Category.VALIDATION, False),
    ("99", Category.SERVER, True),
]


@pytest.mark.parametrize(("code", "category", "retryable"), PINNED, ids=[p[0] for p in PINNED])
def test_pinned(code: str, category: Category, retryable: bool) -> None:
    o = lookup(VENDOR, code)
    assert (o.category, o.retryable) == (category, retryable)


def call(
    status: int, body: Any, url: str = "https://rest.messagebird.com/messages"
) -> normalizer.Outcome:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json=body)

    with normalizer.Client(transport=httpx.MockTransport(handler), retry=None) as client:
        response = client.post(url, json={"originator": "TestName", "recipients": ["31612345678"]})
    outcome = normalizer.outcome_of(response)
    assert outcome is not None
    return outcome


def errors(code: int, description: str, parameter: str | None = None) -> dict[str, Any]:
    return {"errors": [{"code": code, "description": description, "parameter": parameter}]}


@pytest.mark.parametrize(
    ("status", "code", "text", "category"),
    [
        # go-rest-api internal/mbtest/test_server.go WillReturnAccessKeyError
        (401, 2, "Request not allowed (incorrect access_key)", Category.AUTH),
        # go-rest-api sms/testdata/messageNotFound.json
        (404, 20, "message not found", Category.NOT_FOUND),
        (422, 9, "no (correct) recipients found", Category.VALIDATION),
        (402, 25, "Not enough balance", Category.BILLING),
    ],
    ids=["auth", "not_found", "validation", "billing"],
)
def test_rest_errors(status: int, code: int, text: str, category: Category) -> None:
    o = call(status, errors(code, text))
    assert (o.vendor, o.product, o.code, o.category) == (VENDOR, None, str(code), category)
    assert o.vendor_message == text


def test_message_created_lists_its_recipients_as_data() -> None:
    # go-rest-api sms/testdata/messageObject.json
    body = {
        "id": "6fe65f90454aa61536e6a88b88972670",
        "href": "https://rest.messagebird.com/messages/6fe65f90454aa61536e6a88b88972670",
        "direction": "mt",
        "type": "sms",
        "originator": "TestName",
        "body": "Hello World",
        "recipients": {
            "totalCount": 2,
            "totalSentCount": 1,
            "totalDeliveredCount": 0,
            "totalDeliveryFailedCount": 1,
            "items": [
                {"recipient": 31612345678, "status": "sent", "messagePartCount": 1},
                {"recipient": 31612345679, "status": "delivery_failed", "messagePartCount": 1},
            ],
        },
    }
    o = call(201, body)
    assert (o.category, o.request_id) == (Category.OK, "6fe65f90454aa61536e6a88b88972670")
    assert [i.code for i in o.items] == ["sent", "delivery_failed"]
    assert all(i.delivery_outcome for i in o.items)
    assert o.items[0].number == "*******5678"


def test_voice_numbers_are_not_the_rest_numbers() -> None:
    # go-rest-api voice/testdata/error.json: the Voice API's own code 13; a REST number on the
    # Voice host is not read with the REST table either: the HTTP status decides
    o = call(
        400,
        {"data": None, "errors": [{"code": 13, "message": "some-error"}]},
        "https://voice.messagebird.com/v1/calls",
    )
    assert (o.product, o.code, o.category, o.matched) == (
        "voice",
        "13",
        "validation",
        "http_status",
    )
    o = call(
        503,
        {"data": None, "errors": [{"code": 2, "message": "x"}]},
        "https://voice.messagebird.com/v1/calls",
    )
    assert (o.category, o.matched) == (Category.SERVER, Match.HTTP_STATUS)
    assert lookup(VENDOR, "15", product="voice").category is Category.AUTH


def test_bird_current_envelope_named() -> None:
    nested = {
        "error": {
            "type": "validation_error",
            "code": "E01001",
            "name": "ValidationError",
            "message": "Request validation failed.",
            "doc_url": "https://docs.bird.com/errors/E01001",
            "request_id": "req_01krdgeqcxet5s7t44vh8rt9mg",
        }
    }
    o = classify(VENDOR, nested, status_code=400, product="bird")
    assert (o.category, o.request_id) == (Category.VALIDATION, "req_01krdgeqcxet5s7t44vh8rt9mg")
    flat = {
        "type": "rate_limited",
        "message": "Too many requests. Retry after 1.0s.",
        "doc_url": "https://bird.dev/docs/errors#rate_limited",
        "request_id": "req_3nB91x",
    }
    o = classify(VENDOR, flat, status_code=429, product="bird")
    assert (o.category, o.retryable, o.scope) == (Category.BUSY, True, "account")


@pytest.mark.parametrize(
    "url",
    [
        "https://rest.messagebird.com/balance",
        "https://conversations.messagebird.com/v1/conversations",
        "https://numbers.messagebird.com/v1/phone-numbers",
    ],
)
def test_api_hosts_are_detected(url: str) -> None:
    assert call(200, {"payment": "prepaid", "type": "credits", "amount": 9}, url).vendor == VENDOR


@pytest.mark.parametrize(
    "url",
    [
        "https://messagebird.com/",
        "https://www.messagebird.com/en/pricing",
        "https://developers.messagebird.com/api/sms-messaging/",
        "https://dashboard.messagebird.com/en/developers/access",
    ],
)
def test_web_pages_are_not_claimed(url: str) -> None:
    assert not claimed(url)


def test_access_key_query_parameter_is_masked() -> None:
    mapping = normalizer.Registry(environ=False).get(VENDOR)
    redactor = normalizer.Redactor().extended(keys=mapping.redact.keys)
    masked = redactor.url("https://rest.messagebird.com/balance?access_key=live_abc123")
    assert "live_abc123" not in masked


# ---------------------------------------------------------------- Bird's Channels API
# https://docs.bird.com/api/channels-api/message-status-and-interactions/message-failure-codes

CHANNEL_MESSAGE = "https://api.bird.com/workspaces/w1/channels/c1/messages/m1"


def test_channels_failure_code_is_read() -> None:
    # the page's example message
    body = {
        "id": "m1",
        "status": "delivery_failed",
        "reason": "details: unknown subscriber; reason: unknown_subscriber; code: 1",
        "direction": "outgoing",
        "details": "unknown_subscriber",
        "failure": {"code": 15005, "source": {"name": "sms-messagebird", "code": "1"}},
    }
    o = call(200, body, CHANNEL_MESSAGE)
    assert (o.vendor, o.product, o.code, o.category) == (VENDOR, "channels", "15005", "validation")
    assert o.delivery_outcome is True


def test_channels_failed_status_without_a_code_is_unknown() -> None:
    o = call(200, {"id": "m1", "status": "sending_failed"}, CHANNEL_MESSAGE)
    assert (o.category, o.matched) == (Category.UNKNOWN, Match.FIELD)


def test_channels_accepted_message_is_ok() -> None:
    # "202 Message was accepted for processing"
    o = call(
        202,
        {"id": "m1", "status": "accepted"},
        "https://api.bird.com/workspaces/w1/channels/c1/messages",
    )
    assert (o.product, o.category, o.request_id) == ("channels", Category.OK, "m1")


def test_rest_numbers_are_not_read_on_bird_channels() -> None:
    # REST code 2 (access key) means nothing to the Channels API: the HTTP status decides
    o = call(403, errors(2, "Request not allowed (incorrect access_key)"), CHANNEL_MESSAGE)
    assert (o.product, o.matched) == ("channels", Match.HTTP_STATUS)


@pytest.mark.parametrize(
    "url", ["https://bird.com/en-us/docs/guides/errors", "https://docs.bird.com/api/channels-api"]
)
def test_bird_web_pages_are_not_claimed(url: str) -> None:
    assert not claimed(url)
