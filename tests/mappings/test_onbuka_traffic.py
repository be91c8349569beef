"""Onbuka: real traffic beyond the seed tables (white-label brand, per-message results).

Where the bodies come from:
- sendSms: https://www.onbuka.com/sms-api3 (also http://onbuka.cloud/sms-api3) and the same page
  of the white label, https://itniotech.com/api/sms/sendSms: status / reason, "success" and
  "fail" counters, "array" of the submitted numbers (msgId, number, orderId).
- getReport: https://www.onbuka.com/sms-api4 (also http://onbuka.cloud/sms-api4), the response
  example with counters success / fail / sending / nofound and per-message status
  ("0: sent successfully, -1:sent in, 1:sent failed").
- getSentRcd: http://onbuka.cloud/sms-api5 ("0:sent successfully, 2:sent failed").
- ITNIO TECH status table: https://itniotech.com/api/sms/statusCode (adds -29 .. -32).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

import normalizer
from normalizer import Category, Match, classify, lookup

HEADERS = {"Sign": "05d7a50893e22a5c4bb3216ae3396c7c", "Timestamp": "1630468800", "Api-Key": "k"}
SEND = {"appId": "4luaKsL2", "numbers": "91856321412,91856321413", "content": "hello world"}

# https://itniotech.com/api/sms/statusCode, the rows Onbuka's SMS table lacks
BRAND_ROWS = {
    "-29": "WorkSpace is disabled",
    "-30": "API Key is disabled",
    "-31": "IP is not in the whitelist",
    "-32": "API Key does not have permission to access the current application",
}


def _send(url: str, body: Any, **options: Any) -> normalizer.Outcome:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=body)

    with normalizer.Client(transport=httpx.MockTransport(handler), retry=None, **options) as client:
        if "getReport" in url or "getSentRcd" in url:
            response = client.get(url, headers=HEADERS)
        else:
            response = client.post(url, json=SEND, headers=HEADERS)
    outcome = normalizer.outcome_of(response)
    assert outcome is not None
    return outcome


# ------------------------------------------------------ 7. the white-label brand


@pytest.mark.parametrize(("code", "description"), sorted(BRAND_ROWS.items()))
def test_brand_rows_are_in_the_sms_table(code: str, description: str) -> None:
    o = lookup("onbuka", code, product="sms")
    assert o.matched == Match.EXACT
    assert o.message == description
    assert o.category is Category.AUTH
    assert o.retryable is False


def test_brand_host_is_detected_as_onbuka_sms() -> None:
    body = {"status": "-30", "reason": "API Key is disabled"}
    o = _send("https://api.itniotech.com/sms/sendSms", body)
    assert (o.vendor, o.product, o.code) == ("onbuka", "sms", "-30")
    assert o.category is Category.AUTH
    assert o.vendor_message == "API Key is disabled"


def test_brand_rate_limit_reads_like_onbuka() -> None:
    o = _send(
        "https://api.itniotech.com/sms/sendSms", {"status": "-15", "reason": "Frequent query"}
    )
    assert o.product == "sms"
    assert o.category is Category.BUSY
    assert o.retryable
    assert o.rejected


def test_brand_minus_three_is_the_sms_reading() -> None:
    # -3 is "sensitive characters" for SMS, "balance insufficient" for intelligent voice: the
    # brand's /sms/ path must pick the SMS table
    o = classify("onbuka", {"status": -3}, url="https://api.itniotech.com/sms/sendSms/batch")
    assert o.product == "sms"
    assert o.category is Category.VALIDATION


# ------------------------------------------------------ 8. sendSms: counters and submitted numbers


def test_send_all_submitted_is_ok_with_items() -> None:
    body = {
        "status": "0",
        "reason": "success",
        "success": "2",
        "fail": "0",
        "array": [
            {"msgId": "2108021054011000095", "number": "91856321412", "orderId": "21412"},
            {"msgId": "2108021059531000096", "number": "91856321413", "orderId": "21413"},
        ],
    }
    o = _send("https://api.onbuka.com/v3/sendSms", body, raise_on_error=True)
    assert o.ok
    assert o.partial is False
    assert [item.message_id for item in o.items] == ["2108021054011000095", "2108021059531000096"]
    assert all(item.ok for item in o.items)
    # numbers are redacted like logs: only the last digits kept
    assert o.items[0].number is not None
    assert o.items[0].number.endswith("1412")
    assert "918563" not in o.items[0].number


def test_send_some_refused_is_partial() -> None:
    # "fail" counts numbers the platform refused; "array" lists only the submitted ones
    body = {
        "status": "0",
        "reason": "success",
        "success": "2",
        "fail": "1",
        "array": [
            {"msgId": "2108021054011000095", "number": "91856321412", "orderId": "21412"},
            {"msgId": "2108021059531000096", "number": "91856321413", "orderId": "21413"},
        ],
    }
    o = _send("https://api.onbuka.com/v3/sendSms", body)
    assert o.category is Category.OK
    assert o.partial is True
    assert o.retryable is False  # what went out must not go out twice
    assert len(o.items) == 2


def test_send_every_number_refused_is_not_ok() -> None:
    body = {"status": "0", "reason": "success", "success": "0", "fail": "2", "array": []}
    o = classify("onbuka", body, url="https://api.onbuka.com/v3/sendSms")
    assert not o.ok
    assert o.retryable is False


def test_send_top_level_error_wins() -> None:
    body = {"status": "-9", "reason": "Numbers are abnormal", "success": "0", "fail": "2"}
    o = classify("onbuka", body, url="https://api.onbuka.com/v3/sendSms")
    assert o.category is Category.VALIDATION
    assert o.code == "-9"


def test_brand_batch_send_items() -> None:
    body = {
        "status": "0",
        "reason": "success",
        "success": "3",
        "fail": "0",
        "array": [
            {"msgId": "2207201629421000001", "number": "91856321412", "orderId": "56584"},
            {"msgId": "2207201629421000002", "number": "91856321413", "orderId": "56585"},
            {"msgId": "2207201629421000003", "number": "91856321414", "orderId": "56586"},
        ],
    }
    o = _send("https://api.itniotech.com/sms/sendSms/batch", body)
    assert o.ok
    assert not o.partial
    assert len(o.items) == 3


# ------------------------------------------------------ 8. getReport / getSentRcd: delivery data


REPORT = {
    "status": "0",
    "reason": "success",
    "success": "1",
    "fail": "1",
    "sending": "1",
    "nofound": "0",
    "array": [
        {
            "msgId": "2108021054011000095",
            "number": "91856321412",
            "receiveTime": "2021-02-12T09:30:03+08:00",
            "status": "0",
        },
        {
            "msgId": "2108021059531000096",
            "number": "91856321413",
            "receiveTime": "2021-02-12T09:30:03+08:00",
            "status": "1",
        },
        {
            "msgId": "2108021059531000097",
            "number": "91856321414",
            "receiveTime": "2021-02-12T09:30:03+08:00",
            "status": "-1",
        },
    ],
}


def test_get_report_lists_delivery_statuses_as_data() -> None:
    url = "https://api.onbuka.com/v3/getReport?appId=4luaKsL2&msgIds=2108021054011000095"
    o = _send(url, REPORT, raise_on_error=True)  # a failed message is no failed query
    assert o.ok
    assert o.partial is False
    assert [(i.code, i.category) for i in o.items] == [
        ("0", Category.OK),
        ("1", Category.SERVER),
        ("-1", Category.BUSY),
    ]
    assert all(i.delivery_outcome for i in o.items)
    assert [i.message for i in o.items] == ["sent successfully", "sent failed", "sent in"]
    assert o.items[2].retryable is True  # ask again later: still sending
    assert o.items[1].retryable is False
    assert all(i.rejected is False for i in o.items)


def test_get_sent_rcd_has_its_own_status_numbers() -> None:
    body = {
        "status": "0",
        "reason": "success",
        "success": "1",
        "fail": "1",
        "array": [
            {"msgId": "1", "number": "91856321412", "status": "0"},
            {"msgId": "2", "number": "91856321413", "status": "2"},
        ],
    }
    url = "https://api.onbuka.com/v3/getSentRcd?appId=4luaKsL2&startTime=a&endTime=b"
    o = _send(url, body)
    assert o.ok
    assert [(i.code, i.category, i.message) for i in o.items] == [
        ("0", Category.OK, "sent successfully"),
        ("2", Category.SERVER, "sent failed"),
    ]


def test_report_query_error_is_the_query_error() -> None:
    body = {"status": "-15", "reason": "Query too frequently"}
    o = classify("onbuka", body, url="https://api.onbuka.com/v3/getReport")
    assert o.category is Category.BUSY
    assert o.items == ()
