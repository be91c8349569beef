"""Clickatell: the Platform / One API and the legacy HTTP and REST APIs, two families whose
numbers mean different things (100, 101), a rate limit answered with HTTP 400 (43), and the
legacy HTTP API's plain-text answers with HTTP 200.

Sources: https://docs.clickatell.com/channels/one-api/one-api-errors-table/ (Platform codes and
their HTTP statuses), https://docs.clickatell.com/archive/channels/rest-archived/api-error-codes/
and the HTTP API Specification 2.5.5 list in arcturial/clickatell src/Diagnostic.php (legacy
codes), https://docs.clickatell.com/channels/one-api/one-api-message-status-table/ (statuses).
Bodies: the One API success/failure shapes of the clickatell-api crate's tests (docs.rs
clickatell-api 0.3.0 src/one_api/send_messages/message_response.rs: "apiMessageId"
"02ca87d5a95446e68b0ac36a0c2057f1", "to" "2799900001"), the Platform shape read by
clickatell/ClickatellJavaLibrary util/MessageUtil.java, the legacy plain text of
clickatell/clickatell-ruby HTTP/SendMessage.rb and arcturial/clickatell test/DecoderTest.php
("ERR: 301, Some Error").
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import httpx
import pytest

import normalizer
from normalizer import Category, Match, classify, lookup

VENDOR = "clickatell"
MAPPING = Path(__file__).resolve().parents[2] / "mappings" / "clickatell.toml"
ONE_API = "https://platform.clickatell.com/v1/message"
PLATFORM = "https://platform.clickatell.com/messages"
LEGACY_HTTP = "https://api.clickatell.com/http/sendmsg"
LEGACY_REST = "https://api.clickatell.com/rest/message"

PLATFORM_CODES = {
    1, 2, 3, 7, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 30, 31, 32, 33,
    38, 39, 40, 41, 42, 43, 44, 45, 46, 100, 101, 110, 111,
}  # fmt: skip
LEGACY_CODES = {
    "001", "002", "003", "005", "007", "100", "101", "102", "103", "104", "105", "106", "107",
    "108", "109", "113", "114", "115", "116", "120", "121", "122", "123", "128", "130", "201",
    "202", "301", "901",
}  # fmt: skip


def data() -> dict[str, Any]:
    with MAPPING.open("rb") as f:
        loaded: dict[str, Any] = tomllib.load(f)
    return loaded


def test_tables_are_the_published_ones() -> None:
    products = data()["products"]
    assert set(products["platform"]["codes"]) == {str(c) for c in PLATFORM_CODES}
    assert set(products["legacy"]["codes"]) == LEGACY_CODES
    assert products["platform"]["inherit"] is False
    assert products["legacy"]["inherit"] is False
    assert data()["codes"] == {}


@pytest.mark.parametrize(
    ("code", "legacy", "platform"),
    [
        ("100", "Data malformed", "Maximum message parts exceeded"),
        ("101", "Invalid or missing parameters", "Destination does not support two-way messaging"),
    ],
)
def test_same_number_means_different_things(code: str, legacy: str, platform: str) -> None:
    assert lookup(VENDOR, code, product="legacy").message == legacy
    assert lookup(VENDOR, code, product="platform").message == platform


PINNED: list[tuple[str, str, Category, bool, bool]] = [
    # (product, code, category, retryable, rejected)
    ("platform", "1", Category.AUTH, False, False),
    ("platform", "18", Category.SERVER, True, False),
    ("platform", "19", Category.SERVER, True, True),  # "please retry"
    ("platform", "20", Category.BILLING, False, False),
    ("platform", "25", Category.VALIDATION, False, False),
    ("platform", "41", Category.NOT_FOUND, False, False),
    ("platform", "43", Category.BUSY, True, True),  # "Rate limit", with HTTP 400
    ("legacy", "001", Category.AUTH, False, False),
    ("legacy", "103", Category.NOT_FOUND, False, False),
    ("legacy", "114", Category.VALIDATION, False, False),
    ("legacy", "130", Category.BILLING, False, False),  # daily/monthly MT quota
    ("legacy", "301", Category.BILLING, False, False),
    ("legacy", "901", Category.SERVER, True, True),
    ("status", "4", Category.OK, False, False),
    ("status", "20", Category.BUSY, True, False),
    ("status", "27", Category.BILLING, False, False),
]


@pytest.mark.parametrize(
    ("product", "code", "category", "retryable", "rejected"),
    PINNED,
    ids=[f"{p}-{c}" for p, c, *_ in PINNED],
)
def test_pinned(
    product: str, code: str, category: Category, retryable: bool, rejected: bool
) -> None:
    o = lookup(VENDOR, code, product=product)
    assert o.matched == Match.EXACT
    assert (o.category, o.retryable, o.rejected) == (category, retryable, rejected)


def call(status: int, body: object, url: str) -> normalizer.Outcome:
    def handler(request: httpx.Request) -> httpx.Response:
        if isinstance(body, bytes):
            return httpx.Response(status, content=body, headers={"content-type": "text/html"})
        return httpx.Response(status, json=body)

    with normalizer.Client(transport=httpx.MockTransport(handler), retry=None) as client:
        response = client.post(url, json={"messages": [{"channel": "sms", "to": "2799900001"}]})
    outcome = normalizer.outcome_of(response)
    assert outcome is not None
    return outcome


def test_one_api_accepted() -> None:
    body = {
        "messages": [
            {
                "apiMessageId": "02ca87d5a95446e68b0ac36a0c2057f1",
                "accepted": True,
                "to": "2799900001",
            }
        ],
        "error": None,
    }
    o = call(202, body, ONE_API)
    assert (o.vendor, o.product) == (VENDOR, "platform")
    assert o.category is Category.OK
    assert o.request_id == "02ca87d5a95446e68b0ac36a0c2057f1"


def test_rate_limit_with_http_400_is_busy() -> None:
    o = call(400, {"messages": [], "error": {"code": 43, "description": "Rate limit"}}, ONE_API)
    assert o.code == "43"
    assert o.category is Category.BUSY  # not validation, whatever the 400 says
    assert o.retryable is True
    assert o.rejected is True


def test_message_level_error_of_a_one_message_send() -> None:
    message = {
        "apiMessageId": None,
        "accepted": False,
        "to": "2799900002",
        "error": {"code": 25, "description": "Invalid recipient address: 2799900002"},
    }
    o = call(400, {"messages": [message], "error": None}, ONE_API)
    assert o.code == "25"
    assert o.category is Category.VALIDATION


def test_platform_rest_error_fields() -> None:
    # the Platform's errorCode/error/errorDescription (ClickatellJavaLibrary MessageUtil.java)
    body = {
        "messages": [],
        "errorCode": 1,
        "error": "Invalid or missing integration API Key",
        "errorDescription": "Invalid or missing integration API Key",
    }
    o = call(401, body, PLATFORM)
    assert o.code == "1"
    assert o.category is Category.AUTH


def test_insufficient_balance_status_402() -> None:
    o = call(402, {"messages": [], "error": None}, ONE_API)  # no code: the status (table: 402)
    assert o.category is Category.BILLING


@pytest.mark.parametrize(
    ("text", "category", "retryable"),
    [
        (b"ERR: 001, Authentication failed", Category.AUTH, False),
        (b"ERR: 301, Some Error", Category.BILLING, False),  # arcturial test/DecoderTest.php
        (b"ERR: 114, Cannot route message", Category.VALIDATION, False),
        (b"ERR: 130, Maximum MT limit exceeded until 1700000000", Category.BILLING, False),
        (b"ERR: 901, Internal error", Category.SERVER, True),
        (b"ID: 02ca87d5a95446e68b0ac36a0c2057f1", Category.OK, False),
    ],
    ids=["auth", "billing", "no-route", "quota", "server", "ok"],
)
def test_legacy_plain_text_with_http_200(text: bytes, category: Category, retryable: bool) -> None:
    o = call(200, text, LEGACY_HTTP)
    assert (o.vendor, o.product) == (VENDOR, "legacy")
    assert o.matched == Match.PAGE
    assert o.category is category
    assert o.retryable is retryable


def test_legacy_rest_error() -> None:
    body = {"error": {"code": "001", "description": "Authentication failed"}}
    o = call(401, body, LEGACY_REST)
    assert o.code == "001"
    assert o.category is Category.AUTH
    assert o.message == "Authentication failed"


def test_legacy_101_is_not_the_platform_101() -> None:
    legacy = classify(VENDOR, {"error": {"code": "101", "description": "x"}}, url=LEGACY_REST)
    platform = classify(VENDOR, {"error": {"code": 101, "description": "x"}}, url=ONE_API)
    assert legacy.message == "Invalid or missing parameters"
    assert platform.message == "Destination does not support two-way messaging"


def test_legacy_http_sends_through_get() -> None:
    resend = data()["resend"]
    assert resend["acts_through"] == ["GET"]
    assert "/http/sendmsg" not in resend["reads"][0]["paths"]


def test_detection_claims_the_api_hosts_only() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, text="<html>Clickatell</html>", headers={"content-type": "text/html"}
        )

    with normalizer.Client(transport=httpx.MockTransport(handler), retry=None) as client:
        for url in ("https://www.clickatell.com/", "https://docs.clickatell.com/channels/one-api/"):
            assert normalizer.outcome_of(client.get(url)) is None, url
