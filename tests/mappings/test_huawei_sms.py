"""Huawei Cloud Message & SMS (MSGSMS): the sending API (code/description, one status per
number), the management API (error_code MSGSMS.xxxx), status reports.

Sources: https://support.huaweicloud.com/intl/en-us/api-msgsms/sms_05_0050.html (API Error
Codes: the example response and the code table), its Chinese table API错误码(发送短信)
(响应码 / 结果码 / 英文描述), https://support.huaweicloud.com/api-msgsms/sms_05_0060.html
(API错误码(应用、签名、模板) and its 响应示例), the 接收状态报告 page (form fields smsMsgId,
total, sequence, status; status report bodies below are shaped after it, not copied).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

import normalizer
from normalizer import Category, Match, classify, lookup
from tests.mappings.conftest import claimed

VENDOR = "huawei_sms"
SEND_URL = "https://smsapi.cn-north-4.myhuaweicloud.com:443/sms/batchSendSms/v1"
APPS_URL = "https://msgsms.cn-north-4.myhuaweicloud.com/v2/0a1b2c/msgsms/apps"

# sms_05_0050: "An example response is as follows"
EXAMPLE = {
    "code": "000000",
    "description": "Success",
    "result": [
        {
            "originTo": "+8618612345678",
            "createTime": "2018-08-06T11:59:50Z",
            "from": "1069031221280000001",
            "smsMsgId": "4b4b34e7-1a9e-42ac-b309-d10997148905_85496076",
            "status": "000000",
        }
    ],
}


def call(body: Any, url: str = SEND_URL, status: int = 200) -> normalizer.Outcome:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json=body)

    with normalizer.Client(transport=httpx.MockTransport(handler), retry=None) as client:
        response = client.post(url, data={"from": "1069", "to": "+8618612345678"})
    outcome = normalizer.outcome_of(response)
    assert outcome is not None
    return outcome


def test_documented_example_is_ok_with_one_item() -> None:
    o = call(EXAMPLE)
    assert o.vendor == VENDOR
    assert o.category is Category.OK
    (item,) = o.items
    assert item.category is Category.OK
    assert item.number == "*********5678"
    assert item.message_id == "4b4b34e7-1a9e-42ac-b309-d10997148905_85496076"


def test_one_number_failed_is_partial() -> None:
    body = {
        **EXAMPLE,
        "result": [
            *EXAMPLE["result"],
            {"originTo": "+8618612345679", "smsMsgId": "x", "status": "E000503"},
        ],
    }
    o = call(body)
    assert o.category is Category.OK
    assert o.partial is True
    (failed,) = o.failed_items
    assert failed.code == "E000503"
    assert failed.category is Category.VALIDATION


@pytest.mark.parametrize(
    ("status", "code", "text", "category"),
    [
        (401, "E000101", "Authentication failed.", Category.AUTH),
        (400, "E000020", "X-WSSE not contained in the HTTP header.", Category.AUTH),
        (403, "E000620", "The app client ip is not in ip white list.", Category.AUTH),
        (400, "E000000", "System error.", Category.VALIDATION),
        (200, "E000510", "The SMS fails to be sent. For details, see status.", Category.VALIDATION),
    ],
)
def test_send_api_errors(status: int, code: str, text: str, category: Category) -> None:
    o = call({"code": code, "description": text}, status=status)
    assert o.code == code
    assert o.matched == Match.EXACT
    assert o.category is category
    assert o.message == text
    assert o.retryable is False


def test_management_api_has_its_own_envelope() -> None:
    # sms_05_0060 响应示例
    body = {
        "error_code": "MSGSMS.0076",
        "error_msg": "Message Application does not exist",
        "error_detail": "appKey=123",
    }
    o = call(body, url=APPS_URL, status=400)
    assert o.product == "manage"
    assert o.category is Category.NOT_FOUND
    assert call({"apps": [], "total": 0}, url=APPS_URL).category is Category.OK
    server = call(
        {"error_code": "MSGSMS.0001", "error_msg": "Internal server error."}, APPS_URL, 500
    )
    assert server.category is Category.SERVER
    assert server.retryable is True


def test_management_codes_are_not_read_on_the_send_api() -> None:
    # the send API's body has no error_code: "MSGSMS.0001" there is nobody's code
    o = classify(VENDOR, {"code": "MSGSMS.0001"}, url=SEND_URL, status_code=500)
    assert o.category is Category.SERVER
    assert o.matched == Match.HTTP_STATUS


def test_codes_with_their_texts() -> None:
    assert lookup(VENDOR, "E000110").message == "Time out limit."
    assert lookup(VENDOR, "E000102").category is Category.AUTH
    assert lookup(VENDOR, "MSGSMS.0009", product="manage").category is Category.NOT_FOUND


@pytest.mark.parametrize(
    ("status", "category"), [("DELIVRD", Category.OK), ("REJECTD", Category.VALIDATION)]
)
def test_status_report_callback(status: str, category: Category) -> None:
    body = f"smsMsgId=4b4b34e7_85496076&total=1&sequence=1&status={status}".encode()
    o = normalizer.classify_callback(body, {"content-type": "application/x-www-form-urlencoded"})
    assert o.vendor == VENDOR
    assert o.product == "report"
    assert o.category is category
    assert o.delivery_outcome is True


@pytest.mark.parametrize(
    "url",
    [
        SEND_URL,
        APPS_URL,
        "https://smsapi.ap-southeast-1.myhuaweicloud.com:443/sms/batchSendDiffSms/v1",
    ],
)
def test_api_hosts_are_detected(url: str) -> None:
    assert (
        call({"code": "000000", "description": "Success", "result": []}, url=url).vendor == VENDOR
    )


@pytest.mark.parametrize(
    "url",
    [
        "https://support.huaweicloud.com/intl/en-us/api-msgsms/sms_05_0050.html",
        "https://console.huaweicloud.com/msgsms/",
        "https://www.huaweicloud.com/product/msgsms.html",
    ],
)
def test_web_pages_are_not_claimed(url: str) -> None:
    assert not claimed(url)


def test_wsse_and_token_headers_are_masked() -> None:
    mapping = normalizer.Registry(environ=False).get(VENDOR)
    redactor = normalizer.Redactor().extended(keys=mapping.redact.keys)
    wsse = 'UsernameToken Username="APPKEY",PasswordDigest="SECRETDIGEST",Nonce="n",Created="c"'
    masked = str(redactor.headers({"X-WSSE": wsse, "X-Auth-Token": "IAMTOKEN"}))
    assert "SECRETDIGEST" not in masked
    assert "APPKEY" not in masked
    assert "IAMTOKEN" not in masked
