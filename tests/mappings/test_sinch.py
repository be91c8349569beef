"""Sinch SMS REST API: {"code", "text"} errors, and delivery reports whose codes 400-418 are not
HTTP statuses.

Sources: https://developers.sinch.com/docs/sms/api-reference/status-codes (error codes, HTTP
statuses), https://developers.sinch.com/docs/sms/api-reference/sms/delivery-reports/delivery-report-error-codes
(report codes and statuses) and the official SDKs' fixtures: sinch/sinch-sdk-java
openapi-contracts/src/test/resources/domains/sms/v1/error-response.json,
deliveryreports/RecipientDeliveryReportSMSDto.json, BatchDeliveryReportSMSDto.json,
batches/response/TextResponseDto.json.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import httpx
import pytest

import normalizer
from normalizer import Category, Match, classify, classify_callback, lookup

VENDOR = "sinch"
MAPPING = Path(__file__).resolve().parents[2] / "mappings" / "sinch.toml"
BATCHES = "https://us.sms.api.sinch.com/xms/v1/SERVICE_PLAN_ID/batches"
JSON = {"content-type": "application/json"}

# sinch-sdk-java .../sms/v1/error-response.json
ERROR = {"code": "syntax_invalid_parameter_format", "text": "'foo' is not a valid identifier"}
# sinch-sdk-java .../deliveryreports/RecipientDeliveryReportSMSDto.json
RECIPIENT_REPORT: dict[str, Any] = {
    "type": "recipient_delivery_report_sms",
    "batch_id": "01FC66621XXXXX119Z8PMV1QPQ",
    "recipient": "+44231235674",
    "code": 401,
    "status": "Dispatched",
    "at": "2022-08-30T08:16:08.930Z",
    "operator": "operator",
    "applied_originator": "applied originator",
    "client_reference": "client reference",
    "encoding": "encoding",
    "number_of_message_parts": 123,
    "operator_status_at": "2022-08-30T08:16:08.150Z",
}
# sinch-sdk-java .../deliveryreports/BatchDeliveryReportSMSDto.json
BATCH_REPORT: dict[str, Any] = {
    "type": "delivery_report_sms",
    "batch_id": "01FC66621XXXXX119Z8PMV1QPQ",
    "statuses": [{"code": 0, "count": 1, "recipients": ["44231235674"], "status": "Delivered"}],
    "total_message_count": 1,
    "client_reference": "a client reference",
}
# the six codes of the status-codes page
ERROR_CODES = {
    "syntax_invalid_json": Category.VALIDATION,
    "syntax_invalid_parameter_format": Category.VALIDATION,
    "syntax_constraint_violation": Category.VALIDATION,
    "unknown_group": Category.NOT_FOUND,
    "unknown_campaign": Category.VALIDATION,
    "missing_callback_url": Category.VALIDATION,
}
# the REST API's own report codes (DeliveryReceiptStatusCode.java, the docs' table)
REPORT_CODES: dict[str, tuple[Category, bool]] = {
    "400": (Category.OK, False),  # Queued
    "401": (Category.OK, False),  # Dispatched
    "402": (Category.VALIDATION, False),  # Message unroutable
    "403": (Category.SERVER, False),  # Internal error
    "404": (Category.BUSY, True),  # Temporary delivery failure: "Message can be retried."
    "405": (Category.VALIDATION, False),
    "406": (Category.BUSY, True),
    "407": (Category.VALIDATION, False),
    "408": (Category.VALIDATION, False),
    "410": (Category.VALIDATION, False),
    "411": (Category.VALIDATION, False),
    "412": (Category.VALIDATION, False),
    "413": (Category.BILLING, False),  # Blocked: "Potentially out of credits."
    "414": (Category.VALIDATION, False),
    "415": (Category.VALIDATION, False),
    "416": (Category.VALIDATION, False),
    "417": (Category.BUSY, True),
    "418": (Category.VALIDATION, False),
}


def test_tables_are_the_published_ones() -> None:
    with MAPPING.open("rb") as f:
        data: dict[str, Any] = tomllib.load(f)
    assert set(data["codes"]) == set(ERROR_CODES)
    assert set(data["products"]["reports"]["codes"]) == set(REPORT_CODES)
    assert data["products"]["reports"]["inherit"] is False


@pytest.mark.parametrize(("code", "category"), ERROR_CODES.items(), ids=list(ERROR_CODES))
def test_error_codes(code: str, category: Category) -> None:
    o = lookup(VENDOR, code)
    assert o.matched == Match.EXACT
    assert o.category is category
    assert o.retryable is False


@pytest.mark.parametrize(("code", "expected"), REPORT_CODES.items(), ids=list(REPORT_CODES))
def test_report_codes(code: str, expected: tuple[Category, bool]) -> None:
    o = lookup(VENDOR, code, product="reports")
    assert o.matched == Match.EXACT
    assert (o.category, o.retryable) == expected
    assert o.delivery_outcome is True


def call(
    status: int, body: dict[str, Any], url: str = BATCHES, method: str = "POST"
) -> normalizer.Outcome:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json=body)

    with normalizer.Client(transport=httpx.MockTransport(handler), retry=None) as client:
        if method == "POST":
            response = client.post(
                url, json={"from": "12345", "to": ["+15551231234"], "body": "Hi"}
            )
        else:
            response = client.get(url)
    outcome = normalizer.outcome_of(response)
    assert outcome is not None
    return outcome


def test_created_batch_is_ok() -> None:
    body = {
        "id": "01FC66621XXXXX119Z8PMV1QPQ",
        "to": ["+15551231234"],
        "from": "+15551231234",
        "canceled": False,
        "body": "Hi",
        "type": "mt_text",
    }
    o = call(201, body)
    assert o.vendor == VENDOR
    assert o.category is Category.OK
    assert o.request_id == "01FC66621XXXXX119Z8PMV1QPQ"


def test_error_body_on_400() -> None:
    o = call(400, ERROR)
    assert o.code == "syntax_invalid_parameter_format"
    assert o.category is Category.VALIDATION
    assert o.vendor_message == "'foo' is not a valid identifier"


def test_unknown_group_on_403_is_not_auth() -> None:
    o = call(403, {"code": "unknown_group", "text": "Group 01FC not found"})
    assert o.category is Category.NOT_FOUND  # the body's code, not the 403 status


@pytest.mark.parametrize(
    ("status", "category", "rejected"),
    [
        (401, Category.AUTH, False),
        (404, Category.NOT_FOUND, False),
        (415, Category.VALIDATION, False),
        (429, Category.BUSY, True),
        (500, Category.SERVER, True),  # "the request was not processed"
        (503, Category.SERVER, True),
    ],
    ids=["auth", "not_found", "415", "busy", "server", "unavailable"],
)
def test_statuses_without_body_code(status: int, category: Category, rejected: bool) -> None:
    o = call(status, {})
    assert o.code is None
    assert o.category is category
    assert o.rejected is rejected


def test_report_code_401_is_dispatched_not_unauthorized() -> None:
    url = BATCHES + "/01FC66621XXXXX119Z8PMV1QPQ/delivery_report/+44231235674"
    o = call(200, RECIPIENT_REPORT, url=url, method="GET")
    assert o.product == "reports"
    assert o.code == "401"
    assert o.category is Category.OK  # Dispatched, never HTTP 401's auth
    assert o.delivery_outcome is True
    aborted = call(200, dict(RECIPIENT_REPORT, code=402, status="Aborted"), url=url, method="GET")
    assert aborted.category is Category.VALIDATION
    expired = call(200, dict(RECIPIENT_REPORT, code=1, status="Expired"), url=url, method="GET")
    assert expired.category is Category.BUSY  # an SMPP code: the status decides
    assert expired.retryable is True


def test_batch_report_items() -> None:
    body = dict(BATCH_REPORT)
    body["statuses"] = [
        *BATCH_REPORT["statuses"],
        {"code": 402, "count": 1, "recipients": ["44231235675"], "status": "Aborted"},
    ]
    o = call(200, body, url=BATCHES + "/01FC66621XXXXX119Z8PMV1QPQ/delivery_report", method="GET")
    assert o.category is Category.OK  # the report query worked; its entries are data
    assert [i.code for i in o.items] == ["Delivered", "Aborted"]
    assert o.items[0].category is Category.OK
    assert all(i.delivery_outcome for i in o.items)


def test_callbacks() -> None:
    recipient = classify_callback(
        json.dumps(dict(RECIPIENT_REPORT, code=404, status="Aborted")).encode(), JSON
    )
    assert (recipient.vendor, recipient.product) == (VENDOR, "reports")
    assert recipient.category is Category.BUSY
    assert recipient.retryable is True
    batch = classify_callback(json.dumps(BATCH_REPORT).encode(), JSON)
    assert (batch.vendor, batch.product) == (VENDOR, "reports")
    assert [i.code for i in batch.items] == ["Delivered"]


def test_detection_and_web_pages() -> None:
    assert classify(VENDOR, ERROR, status_code=400, url=BATCHES).code == ERROR["code"]

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"id": "x"})

    with normalizer.Client(transport=httpx.MockTransport(handler), retry=None) as client:
        for url in (
            "https://eu.sms.api.sinch.com/xms/v1/SP/batches",
            "https://zt.au.sms.api.sinch.com/xms/v1/PROJECT/batches",
        ):
            o = normalizer.outcome_of(client.get(url))
            assert o is not None, url
            assert o.vendor == VENDOR, url
        page = client.get("https://developers.sinch.com/docs/sms/api-reference/status-codes")
        assert normalizer.outcome_of(page) is None  # the docs site is not claimed


class SinchException(Exception):
    """Stands for sinch.core.exceptions.SinchException (same attributes), without the SDK."""

    def __init__(self, message: str, response: Any) -> None:
        self.is_from_server = True
        self.response_status_code = response.status_code
        self.http_response = response
        super().__init__(message)


SinchException.__module__ = "sinch.core.exceptions"


class HTTPResponse:
    def __init__(self, status_code: int, body: dict[str, Any]) -> None:
        self.status_code = status_code
        self.headers: dict[str, str] = {}
        self.body = body


def test_sdk_exception() -> None:
    exc = SinchException("Error 400", HTTPResponse(400, ERROR))
    o = normalizer.classify_exception(exc)
    assert o is not None
    assert o.vendor == VENDOR
    assert o.code == "syntax_invalid_parameter_format"
    assert o.category is Category.VALIDATION
    limited = normalizer.classify_exception(SinchException("Error 429", HTTPResponse(429, {})))
    assert limited is not None
    assert limited.category is Category.BUSY
