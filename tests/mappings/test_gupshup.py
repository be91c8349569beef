"""Gupshup: the send message API's "submitted", its error answers, and the message events.

Bodies: the send message API answer of https://docs.gupshup.io/docs/session-messages
({"status":"submitted","messageId":...}, Content-Type text/html), the message event envelope of
https://docs.gupshup.io/docs/message-events. Codes: "Gupshup Specific Error Codes" of
https://docs.gupshup.io/docs/error-and-status-messages.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import httpx
import pytest

import normalizer
from normalizer import Category, Match, lookup
from tests.mappings.conftest import claimed

VENDOR = "gupshup"
MAPPING = Path(__file__).resolve().parents[2] / "mappings" / "gupshup.toml"
SEND_URL = "https://api.gupshup.io/wa/api/v1/msg"

# docs.gupshup.io/docs/error-and-status-messages: Error Code -> Error Message
ERRORS = {
    "500": "Internal Server Error",
    "1001": "Last Mapped Bot Failed",
    "1002": "Number Not Exist On WhatsApp",
    "1003": "Wallet Balance Low",
    "1004": "Template Disabled Failure",
    "1005": "Template Match Failed",
    "1006": "Template Opt-in Failure",
    "1007": "Template Opt-in Match Failure",
    "1008": "Neither Proxied Nor Opted-in",
    "1010": "Invalid Media Url",
    "1011": "Invalid Media Size",
    "1012": "Number Opted Out",
    "4001": "API Rate Limited",
    "4002": "Invalid Response From WhatsApp",
    "4003": "No Template Match",
    "4004": "Only CAPI Feature",
    "4005": "Paused Template",
}
EVENT_TYPES = {"enqueued", "sent", "delivered", "read", "deleted", "failed"}


def test_the_event_table_is_the_documented_one() -> None:
    with MAPPING.open("rb") as fh:
        data: dict[str, Any] = tomllib.load(fh)
    table = data["products"]["events"]["codes"]
    assert set(table) == set(ERRORS) | EVENT_TYPES
    for code, text in ERRORS.items():
        o = lookup(VENDOR, code, product="events")
        assert (o.matched, o.message, o.delivery_outcome) == (Match.EXACT, text, True), code


PINNED = [
    ("1002", Category.VALIDATION, False, "recipient"),
    ("1003", Category.BILLING, False, "account"),
    ("4001", Category.BUSY, True, "account"),
    ("4002", Category.SERVER, True, "vendor"),
    ("500", Category.SERVER, True, "recipient"),
    ("4005", Category.VALIDATION, False, "resource"),
]


@pytest.mark.parametrize(
    ("code", "category", "retryable", "scope"), PINNED, ids=[p[0] for p in PINNED]
)
def test_pinned(code: str, category: Category, retryable: bool, scope: str) -> None:
    o = lookup(VENDOR, code, product="events")
    assert (o.category, o.retryable, o.scope) == (category, retryable, scope)


def send(status: int, body: bytes, content_type: str = "text/html") -> normalizer.Outcome:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=body, headers={"content-type": content_type})

    form = {"channel": "whatsapp", "source": "917834811114", "destination": "919876543210"}
    with normalizer.Client(transport=httpx.MockTransport(handler), retry=None) as client:
        outcome = normalizer.outcome_of(client.post(SEND_URL, data=form))
    assert outcome is not None
    return outcome


def test_submitted_is_ok_even_as_text_html() -> None:
    o = send(200, b'{"status":"submitted","messageId":"ee4a68a0-1203-4c85-8dc3-49d0b3226a35"}')
    assert (o.vendor, o.code, o.category) == (VENDOR, "submitted", Category.OK)
    assert o.request_id == "ee4a68a0-1203-4c85-8dc3-49d0b3226a35"


def test_an_error_answer_is_read_by_its_status() -> None:
    body = b'{"status":"error","message":"Invalid Destination"}'
    o = send(400, body, "application/json")
    assert (o.code, o.category, o.matched) == ("error", Category.VALIDATION, Match.HTTP_STATUS)
    assert o.vendor_message == "Invalid Destination"
    # the same answer with a 2xx status is never read as a success
    assert send(200, body, "application/json").category is Category.UNKNOWN


def event(kind: str, inner: dict[str, Any]) -> bytes:
    return json.dumps(
        {
            "app": "DemoAPI",
            "timestamp": 1580546677791,
            "version": 2,
            "type": "message-event",
            "payload": {
                "id": "59f8db90-c37e-4408-90ab-cc54ef8246ad",
                "gsId": "ee4a68a0-1203-4c85-8dc3-49d0b3226a35",
                "type": kind,
                "destination": "918x98xx21x4",
                "payload": inner,
            },
        }
    ).encode()


HEADERS = {"content-type": "application/json"}


def test_delivered_event() -> None:
    o = normalizer.classify_callback(event("delivered", {"ts": 1580546677}), HEADERS)
    assert (o.vendor, o.product, o.code, o.category) == (VENDOR, "events", "delivered", "ok")
    assert o.request_id == "ee4a68a0-1203-4c85-8dc3-49d0b3226a35"


def test_failed_event_reads_its_code_when_given() -> None:
    inner = {"code": 1003, "reason": "Unable To Send Message / Check your wallet balance."}
    o = normalizer.classify_callback(event("failed", inner), HEADERS)
    assert (o.code, o.category, o.delivery_outcome) == ("1003", Category.BILLING, True)
    # without a code the type is read: failed, reason unknown
    bare = normalizer.classify_callback(event("failed", {}), HEADERS)
    assert (bare.code, bare.category) == ("failed", Category.UNKNOWN)


def test_other_json_callbacks_are_not_gupshup_events() -> None:
    body = json.dumps({"app": "DemoAPI", "type": "user-event", "payload": {"type": "opted-in"}})
    o = normalizer.classify_callback(body.encode(), HEADERS)
    assert o.vendor != VENDOR


@pytest.mark.parametrize(
    "url",
    [
        "https://www.gupshup.io/developer/home",
        "https://gupshup.io/",
        "https://docs.gupshup.io/docs/session-messages",
    ],
)
def test_web_pages_are_not_claimed(url: str) -> None:
    assert not claimed(url)
