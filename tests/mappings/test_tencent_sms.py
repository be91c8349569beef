"""Tencent Cloud SMS (API 3.0): the SDK's error-code table, the common codes, per-number items.

Source file: tests/mappings/sources/tencent_sms/sms_v20210111_errorcodes.py.txt is
tencentcloud/sms/v20210111/errorcodes.py of TencentCloud/tencentcloud-sdk-python (commit
b96622bf87d1d38a08ca1a653e8215885d999f05), unchanged: every SMS error code with its Chinese text
as the comment above it. Response bodies below are the shapes of TencentCloud/tencentcloud-cli
tccli/services/sms/v20210111/examples.json (SendSms, SendMultiGlobalSms, PullSmsSendStatus) and of
the error example on https://cloud.tencent.com/document/api/382/52075.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import httpx
import pytest

import normalizer
from normalizer import Category, Match, RetryPolicy, classify, lookup
from normalizer._retry import Attempt, decide
from tests.mappings.conftest import source_file

VENDOR = "tencent_sms"
ROOT = Path(__file__).resolve().parents[2]
MAPPING = ROOT / "mappings" / "tencent_sms.toml"
ERRORCODES = "sms_v20210111_errorcodes.py.txt"
HOST = "https://sms.tencentcloudapi.com/"

# "公共错误码" of https://cloud.tencent.com/document/api/382/52075, as the page writes them.
# InvalidParameter, MissingParameter and UnsupportedOperation are on that page too, but the SMS
# table gives them texts of its own ("参数错误。", "缺少参数错误。", "操作不支持。"), which win.
COMMON: dict[str, str] = {
    "ActionOffline": "接口已下线。",
    "AuthFailure.InvalidAuthorization": "请求头部的 Authorization 不符合腾讯云标准。",
    "AuthFailure.InvalidSecretId": "密钥非法（不是云 API 密钥类型）。",
    "AuthFailure.MFAFailure": "MFA 错误。",
    "AuthFailure.SecretIdNotFound": (
        "密钥不存在。请在 控制台 检查密钥是否已被删除或者禁用，如状态正常，"
        "请检查密钥是否填写正确，注意前后不得有空格。"
    ),
    "AuthFailure.SignatureExpire": (
        "签名过期。Timestamp 和服务器时间相差不得超过五分钟，请检查本地时间是否和标准时间同步。"
    ),
    "AuthFailure.SignatureFailure": (
        "签名错误。签名计算错误，请对照调用方式中的签名方法文档检查签名计算过程。"
    ),
    "AuthFailure.TokenFailure": "token 错误。",
    "AuthFailure.UnauthorizedOperation": "请求未授权。请参考 CAM 文档对鉴权的说明。",
    "DryRunOperation": "DryRun 操作，代表请求将会是成功的，只是多传了 DryRun 参数。",
    "FailedOperation": "操作失败。",
    "InternalError": "内部错误。",
    "InvalidAction": "接口不存在。",
    "InvalidParameterValue": "参数取值错误。",
    "InvalidRequest": "请求 body 的 multipart 格式错误。",
    "IpInBlacklist": "IP 地址在黑名单中。",
    "IpNotInWhitelist": "IP 地址不在白名单中。",
    "LimitExceeded": "超过配额限制。",
    "NoSuchProduct": "产品不存在",
    "NoSuchVersion": "接口版本不存在。",
    "RequestLimitExceeded": "请求的次数超过了频率限制。",
    "RequestLimitExceeded.GlobalRegionUinLimitExceeded": "主账号超过频率限制。",
    "RequestLimitExceeded.IPLimitExceeded": "IP 限频。",
    "RequestLimitExceeded.UinLimitExceeded": "主账号限频。",
    "RequestSizeLimitExceeded": "请求包超过限制大小。",
    "ResourceInUse": "资源被占用。",
    "ResourceInsufficient": "资源不足。",
    "ResourceNotFound": "资源不存在。",
    "ResourceUnavailable": "资源不可用。",
    "ResponseSizeLimitExceeded": "返回包超过限制大小。",
    "ServiceUnavailable": "当前服务暂时不可用。",
    "UnauthorizedOperation": "未授权操作。",
    "UnknownParameter": "未知参数错误，用户多传未定义的参数会导致错误。",
    "UnsupportedProtocol": "http(s) 请求协议错误，只支持 GET 和 POST 请求。",
    "UnsupportedRegion": "接口不支持所传地域。",
}

ENTRY = re.compile(r"^# (.+)\n([A-Z_]+) = '([^']+)'$", re.MULTILINE)


def parse_errorcodes(text: str) -> dict[str, str]:
    """Code -> text: each ``NAME = 'Code'`` line with the comment line right above it."""
    codes: dict[str, str] = {}
    for match in ENTRY.finditer(text):
        description, name, code = match.groups()
        assert name == code.replace(".", "_").upper(), (name, code)
        assert code not in codes, code
        codes[code] = description
    return codes


@pytest.fixture(scope="module")
def sdk_text() -> str:
    return source_file(VENDOR, ERRORCODES).read_text(encoding="utf-8")  # skips when absent


@pytest.fixture(scope="module")
def sdk_codes(sdk_text: str) -> dict[str, str]:
    return parse_errorcodes(sdk_text)


def load_mapping() -> dict[str, Any]:
    with MAPPING.open("rb") as fh:
        return tomllib.load(fh)


def error_body(code: str, message: str = "vendor text") -> dict[str, Any]:
    return {
        "Response": {
            "Error": {"Code": code, "Message": message},
            "RequestId": "ed93f3cb-f35e-473f-b9f3-0d451b8b79c6",
        }
    }


def send_status(number: str, code: str, message: str, serial: str = "") -> dict[str, Any]:
    return {
        "SerialNo": serial,
        "PhoneNumber": number,
        "Fee": 1 if code == "Ok" else 0,
        "SessionContext": "",
        "Code": code,
        "Message": message,
        "IsoCode": "CN" if code == "Ok" else "",
    }


def post(body: dict[str, Any], *, url: str = HOST, action: str = "SendSms") -> normalizer.Outcome:
    """POST through a normalizing client, the vendor found from the URL alone."""

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["X-TC-Action"] == action
        return httpx.Response(200, json=body)

    headers = {"X-TC-Action": action, "X-TC-Version": "2021-01-11"}
    with normalizer.Client(transport=httpx.MockTransport(handler), retry=None) as client:
        response = client.post(url, json={"SmsSdkAppId": "1400006666"}, headers=headers)
    outcome = normalizer.outcome_of(response)
    assert outcome is not None
    assert outcome.vendor == VENDOR
    return outcome


# ---------------------------------------------------------------- the SDK table


def test_parser_reads_every_entry(sdk_codes: dict[str, str], sdk_text: str) -> None:
    text = sdk_text
    assert len(sdk_codes) == text.count(" = '") == 94
    assert sdk_codes["FailedOperation.InsufficientBalanceInSmsPackage"].startswith("套餐包余量不足")
    assert sdk_codes["InvalidParameter"] == "参数错误。"
    assert sdk_codes["LimitExceeded.PhoneNumberDailyLimit"].startswith("单个手机号日下发")


def test_every_sdk_code_is_mapped_with_its_text(sdk_codes: dict[str, str]) -> None:
    for code, description in sdk_codes.items():
        outcome = lookup(VENDOR, code)
        assert outcome.matched == Match.EXACT, code
        assert outcome.code == code
        assert outcome.message == description, code
        assert outcome.gloss, code
        assert outcome.category is not Category.UNKNOWN, code
        assert outcome.category is not Category.OK, code


def test_every_common_code_is_mapped_with_its_text() -> None:
    for code, description in COMMON.items():
        outcome = lookup(VENDOR, code)
        assert outcome.matched == Match.EXACT, code
        assert outcome.message == description, code
        assert outcome.gloss, code


def test_mapping_holds_no_code_the_sources_lack(sdk_codes: dict[str, str]) -> None:
    mapping = load_mapping()
    assert set(mapping["codes"]) == set(sdk_codes) | set(COMMON)
    assert not set(sdk_codes) & set(COMMON)
    assert mapping.get("products", {}) == {}
    item_tables = [spec.get("codes", {}) for spec in mapping["items"]]
    assert [set(t) for t in item_tables] == [set(), {"SUCCESS", "FAIL"}, {"SUCCESS", "FAIL"}]


# ---------------------------------------------------------------- pinned decisions

PINNED: list[tuple[str, Category, bool, bool]] = [
    # (code, category, retryable, rejected)
    ("FailedOperation.InsufficientBalanceInSmsPackage", Category.BILLING, False, False),
    ("UnauthorizedOperation.ServiceSuspendDueToArrears", Category.BILLING, False, False),
    ("AuthFailure.SignatureFailure", Category.AUTH, False, False),
    ("AuthFailure.SecretIdNotFound", Category.AUTH, False, False),
    ("AuthFailure.SignatureExpire", Category.AUTH, False, False),
    ("InternalError.RequestTimeException", Category.AUTH, False, False),
    ("UnauthorizedOperation.RequestIpNotInWhitelist", Category.AUTH, False, False),
    ("UnauthorizedOperation.SmsSdkAppIdVerifyFail", Category.AUTH, False, False),
    ("UnauthorizedOperation.IndividualUserMarketingSmsPermissionDeny", Category.AUTH, False, False),
    ("IpNotInWhitelist", Category.AUTH, False, False),
    ("LimitExceeded.PhoneNumberDailyLimit", Category.BILLING, False, False),
    ("LimitExceeded.PhoneNumberOneHourLimit", Category.BUSY, True, True),
    ("LimitExceeded.PhoneNumberThirtySecondLimit", Category.BUSY, True, True),
    ("LimitExceeded.PhoneNumberSameContentDailyLimit", Category.BILLING, False, False),
    ("LimitExceeded.DeliveryFrequencyLimit", Category.BUSY, True, True),
    ("LimitExceeded.AppDailyLimit", Category.BILLING, False, False),
    ("LimitExceeded.DailyLimit", Category.BILLING, False, False),
    ("LimitExceeded", Category.BILLING, False, False),
    ("RequestSizeLimitExceeded", Category.VALIDATION, False, False),
    ("InternalError.SigVerificationFail", Category.AUTH, False, False),
    ("UnauthorizedOperation.SerivceSuspendDueToArrears", Category.BILLING, False, False),
    ("LimitExceeded.PhoneNumberCountLimit", Category.VALIDATION, False, False),
    ("FailedOperation.PhoneNumberInBlacklist", Category.VALIDATION, False, False),
    ("FailedOperation.TemplateIncorrectOrUnapproved", Category.VALIDATION, False, False),
    ("FailedOperation.SignatureIncorrectOrUnapproved", Category.VALIDATION, False, False),
    ("FailedOperation.MarketingSendTimeConstraint", Category.VALIDATION, False, False),
    ("InvalidParameterValue.IncorrectPhoneNumber", Category.VALIDATION, False, False),
    ("DryRunOperation", Category.VALIDATION, False, False),
    ("FailedOperation.TemplateIdNotExist", Category.NOT_FOUND, False, False),
    ("FailedOperation.SignIdNotExist", Category.NOT_FOUND, False, False),
    ("InvalidParameterValue.SdkAppIdNotExist", Category.NOT_FOUND, False, False),
    ("ResourceNotFound", Category.NOT_FOUND, False, False),
    ("RequestLimitExceeded", Category.BUSY, True, True),
    ("RequestLimitExceeded.IPLimitExceeded", Category.BUSY, True, True),
    ("LimitExceeded.GlobalSmsSendingRateLimit", Category.BUSY, True, True),
    ("InternalError", Category.SERVER, True, False),
    ("InternalError.Timeout", Category.SERVER, True, False),
    ("InternalError.SendAndRecvFail", Category.SERVER, True, False),
    ("InternalError.ParseBackendResponseFail", Category.SERVER, True, False),
    ("InternalError.OtherError", Category.SERVER, True, False),
    ("InternalError.JsonParseFail", Category.VALIDATION, False, False),
    ("ServiceUnavailable", Category.SERVER, True, True),
    ("FailedOperation", Category.UNKNOWN, False, False),
]


@pytest.mark.parametrize(
    ("code", "category", "retryable", "rejected"),
    PINNED,
    ids=[code for code, *_ in PINNED],
)
def test_pinned_decision(code: str, category: Category, retryable: bool, rejected: bool) -> None:
    outcome = lookup(VENDOR, code)
    assert outcome.matched == Match.EXACT
    assert outcome.category is category
    assert outcome.retryable is retryable
    assert outcome.rejected is rejected
    assert outcome.call_outcome is False
    assert outcome.delivery_outcome is False


def test_what_the_sdk_retries_is_busy_here() -> None:
    # tencentcloud/common/retry.py StandardRetryer.should_retry: the vendor's own retry list
    for code in (
        "RequestLimitExceeded",
        "RequestLimitExceeded.UinLimitExceeded",
        "RequestLimitExceeded.GlobalRegionUinLimitExceeded",
    ):
        outcome = lookup(VENDOR, code)
        assert outcome.category is Category.BUSY, code
        assert outcome.retryable is True, code


def test_limit_exceeded_codes_are_read_by_their_text(sdk_codes: dict[str, str]) -> None:
    # a limit is never validation unless it limits the request's shape (issue 31): rates and
    # frequency windows are busy, daily caps billing
    family = {c: lookup(VENDOR, c).category for c in sdk_codes if c.startswith("LimitExceeded.")}
    assert {c for c, category in family.items() if category is Category.BUSY} == {
        "LimitExceeded.GlobalSmsSendingRateLimit",
        "LimitExceeded.DeliveryFrequencyLimit",
        "LimitExceeded.PhoneNumberOneHourLimit",
        "LimitExceeded.PhoneNumberThirtySecondLimit",
    }
    assert {c for c, category in family.items() if category is Category.VALIDATION} == {
        "LimitExceeded.PhoneNumberCountLimit",  # more than 200 numbers in one request
        "LimitExceeded.AppCountryOrRegionInBlacklist",  # a country not allowed: no volume
    }


def test_every_unauthorized_operation_is_auth_but_arrears(sdk_codes: dict[str, str]) -> None:
    family = [c for c in sdk_codes if c.startswith("UnauthorizedOperation.")]
    assert len(family) == 6
    for code in family:
        expected = (
            Category.BILLING if code.endswith("ServiceSuspendDueToArrears") else Category.AUTH
        )
        assert lookup(VENDOR, code).category is expected, code


# ---------------------------------------------------------------- one per category, by URL


def test_ok_all_numbers_sent() -> None:
    outcome = post(
        {
            "Response": {
                "SendStatusSet": [
                    send_status("+8618501234444", "Ok", "send success", "5000:104571066915705"),
                    send_status("+8618501234445", "Ok", "send success", "5000:104571066915706"),
                ],
                "RequestId": "a0aabda6-cf91-4f3e-a81f-9198114a2279",
            }
        }
    )
    assert outcome.category is Category.OK
    assert outcome.matched == Match.NO_CODE
    assert outcome.partial is False
    assert outcome.request_id == "a0aabda6-cf91-4f3e-a81f-9198114a2279"
    assert [item.category for item in outcome.items] == [Category.OK, Category.OK]


@pytest.mark.parametrize(
    ("code", "category"),
    [
        ("AuthFailure.SignatureFailure", Category.AUTH),
        ("LimitExceeded.PhoneNumberCountLimit", Category.VALIDATION),
        ("FailedOperation.InsufficientBalanceInSmsPackage", Category.BILLING),
        ("RequestLimitExceeded", Category.BUSY),
        ("FailedOperation.TemplateIdNotExist", Category.NOT_FOUND),
        ("InternalError.Timeout", Category.SERVER),
    ],
    ids=lambda value: value.value if isinstance(value, Category) else None,
)
def test_error_through_client(code: str, category: Category) -> None:
    outcome = post(error_body(code, "The provided credentials could not be validated."))
    assert outcome.category is category
    assert outcome.matched == Match.EXACT
    assert outcome.code == code
    assert outcome.http_status == 200
    assert outcome.vendor_message == "The provided credentials could not be validated."
    assert outcome.request_id == "ed93f3cb-f35e-473f-b9f3-0d451b8b79c6"
    assert outcome.items == ()


def test_busy_is_refused_before_acting() -> None:
    outcome = post(error_body("RequestLimitExceeded"))
    assert outcome.retryable is True
    assert outcome.rejected is True


def test_timeout_may_have_sent_so_not_rejected() -> None:
    outcome = post(error_body("InternalError.Timeout"))
    assert outcome.retryable is True
    assert outcome.rejected is False


def test_unknown_code_is_unmapped() -> None:
    # the misspelt code of the tccli "发送短信失败示例" (a trailing "e" missing)
    outcome = post(error_body("FailedOperation.TemplateParamSetNotMatchApprovedTemplat"))
    assert outcome.category is Category.UNKNOWN
    assert outcome.matched == Match.UNMAPPED


# ---------------------------------------------------------------- per-number items


def test_send_sms_mixed_numbers_is_partial() -> None:
    outcome = post(
        {
            "Response": {
                "SendStatusSet": [
                    send_status("+8618501234444", "Ok", "send success", "5000:104571066915705"),
                    send_status(
                        "+8618501238000",
                        "LimitExceeded.PhoneNumberDailyLimit",
                        "the number of sms messages sent from a single mobile number every day "
                        "exceeds the upper limit",
                    ),
                    send_status(
                        "+8618501239000",
                        "FailedOperation.PhoneNumberInBlacklist",
                        "the phone number is in blacklist",
                    ),
                ],
                "RequestId": "4e394811-9ebd-4d66-98ee-730b21c4a681",
            }
        }
    )
    assert outcome.category is Category.OK
    assert outcome.partial is True
    first, daily, black = outcome.items
    assert [item.index for item in outcome.items] == [0, 1, 2]
    assert first.category is Category.OK
    assert first.code == "Ok"
    assert first.message_id == "5000:104571066915705"
    assert daily.category is Category.BILLING  # a per-number daily quota (issue 31)
    assert daily.matched == Match.EXACT
    assert daily.code == "LimitExceeded.PhoneNumberDailyLimit"
    assert daily.message.startswith("单个手机号日下发短信条数超过设定的上限")
    assert daily.vendor_message is not None
    assert daily.vendor_message.startswith("the number of sms messages")
    assert daily.retryable is False
    assert black.category is Category.VALIDATION
    # numbers are redacted like logs: only the last four digits
    assert [item.number for item in outcome.items] == [
        "*********4444",
        "*********8000",
        "*********9000",
    ]
    assert all("1850123" not in (item.number or "") for item in outcome.items)


def test_send_sms_every_number_failed_without_error_is_not_ok() -> None:
    # the tccli "发送短信失败示例": no Response.Error, both numbers failed
    body = {
        "Response": {
            "SendStatusSet": [
                send_status(
                    "+8618501234444",
                    "FailedOperation.TemplateParamSetNotMatchApprovedTemplate",
                    "request content does not match the template content",
                ),
                send_status(
                    "+8618501234445",
                    "FailedOperation.TemplateParamSetNotMatchApprovedTemplate",
                    "request content does not match the template content",
                ),
            ],
            "RequestId": "4e394811-9ebd-4d66-98ee-730b21c4a681",
        }
    }
    outcome = post(body)
    assert outcome.category is Category.VALIDATION
    assert outcome.partial is False
    assert outcome.retryable is False
    assert outcome.code == "FailedOperation.TemplateParamSetNotMatchApprovedTemplate"
    assert {item.category for item in outcome.items} == {Category.VALIDATION}


def test_send_multi_global_sms_items_come_from_their_own_set() -> None:
    body = {
        "Response": {
            "SendMultiStatusSet": [
                {
                    "Code": "Ok",
                    "Fee": 1,
                    "IsoCode": "MY",
                    "Message": "send success",
                    "PhoneNumber": "+60198890000",
                    "SerialNo": "a84166ff-8c6c-41f7-923b-9fdd27fd0fe4",
                    "SessionContext": "outsid_1776313405_1001",
                },
                {
                    "Code": "InvalidParameterValue.IncorrectPhoneNumber",
                    "Fee": 0,
                    "IsoCode": "MY",
                    "Message": "incorrect phone number",
                    "PhoneNumber": "+6019889",
                    "SerialNo": "72f1f018-a0c8-4101-976b-265f25b4c0a2",
                    "SessionContext": "outsid_1776313405_1002",
                },
            ],
            "RequestId": "104cc55c-05f1-456c-8a0b-18cf25ef56a4",
        }
    }
    outcome = post(body, url="https://sms.intl.tencentcloudapi.com/", action="SendMultiGlobalSms")
    assert outcome.category is Category.OK
    assert outcome.partial is True
    ok, bad = outcome.items
    assert ok.message_id == "a84166ff-8c6c-41f7-923b-9fdd27fd0fe4"
    assert ok.number == "*******0000"
    assert bad.category is Category.VALIDATION
    assert bad.code == "InvalidParameterValue.IncorrectPhoneNumber"


def test_balance_error_beats_items() -> None:
    body = error_body("FailedOperation.InsufficientBalanceInSmsPackage")
    body["Response"]["SendStatusSet"] = [send_status("+8618501234444", "Ok", "send success")]
    outcome = classify(VENDOR, body)
    assert outcome.category is Category.BILLING
    assert outcome.partial is False


# ---------------------------------------------------------------- delivery reports


def pull_status(number: str, status: str, description: str) -> dict[str, Any]:
    return {
        "Description": description,
        "CountryCode": "86",
        "SubscriberNumber": number[3:],
        "ReportStatus": status,
        "PhoneNumber": number,
        "SerialNo": "5000:1045710669157053657849499619",
        "UserReceiveTime": 1620734188,
        "SessionContext": "",
    }


def test_pull_send_status_items_are_delivery_outcomes() -> None:
    body = {
        "Response": {
            "PullSmsSendStatusSet": [
                pull_status("+8618501234444", "SUCCESS", "DELIVRD"),
                pull_status("+8618501236000", "FAIL", "MK:0001"),
            ],
            "RequestId": "8979fc1e-9564-4fc9-bf7d-2958ce679b72",
        }
    }
    url = "https://sms.ap-guangzhou.tencentcloudapi.com/"
    outcome = post(body, url=url, action="PullSmsSendStatus")
    # a query of delivery reports worked: its items are data, never summed into a failure
    assert outcome.category is Category.OK
    assert outcome.partial is False
    delivered, failed = outcome.items
    assert delivered.category is Category.OK
    assert delivered.delivery_outcome is True
    assert delivered.vendor_message == "DELIVRD"
    assert delivered.message == "下发成功"
    assert failed.code == "FAIL"
    assert failed.delivery_outcome is True
    assert failed.category is Category.UNKNOWN
    assert failed.retryable is False
    assert failed.vendor_message == "MK:0001"
    assert failed.number == "*********6000"


def test_every_report_failed_still_answers_ok() -> None:
    body = {
        "Response": {
            "PullSmsSendStatusSet": [pull_status("+8618501236000", "FAIL", "MK:0001")],
            "RequestId": "8979fc1e-9564-4fc9-bf7d-2958ce679b72",
        }
    }
    outcome = classify(VENDOR, body)
    assert outcome.category is Category.OK
    assert outcome.partial is False
    assert [item.category for item in outcome.items] == [Category.UNKNOWN]
    assert outcome.items[0].delivery_outcome is True


def test_report_statuses_are_not_request_codes() -> None:
    # SUCCESS / FAIL live in the delivery-report item table only
    assert lookup(VENDOR, "SUCCESS").matched == Match.UNMAPPED
    assert lookup(VENDOR, "Ok").matched == Match.UNMAPPED


# ---------------------------------------------------------------- detection and envelope


@pytest.mark.parametrize(
    "url",
    [
        "https://sms.tencentcloudapi.com/",
        "https://sms.ap-guangzhou.tencentcloudapi.com/",
        "https://sms.eu-frankfurt.tencentcloudapi.com/",
        "https://sms.intl.tencentcloudapi.com/",
    ],
)
def test_detected_from_documented_hosts(url: str) -> None:
    outcome = post(error_body("FailedOperation.InsufficientBalanceInSmsPackage"), url=url)
    assert outcome.category is Category.BILLING


def test_other_tencent_cloud_products_are_not_detected() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=error_body("RequestLimitExceeded"))

    with normalizer.Client(transport=httpx.MockTransport(handler), retry=None) as client:
        response = client.post("https://cvm.tencentcloudapi.com/", json={})
    outcome = normalizer.outcome_of(response)
    assert outcome is None or outcome.vendor != VENDOR


def test_body_without_error_is_ok_as_no_code() -> None:
    outcome = classify(VENDOR, {"Response": {"RequestId": "b5b41468"}})
    assert outcome.category is Category.OK
    assert outcome.matched == Match.NO_CODE


def test_non_json_502_is_server() -> None:
    outcome = classify(VENDOR, b"<html>502 Bad Gateway</html>", status_code=502)
    assert outcome.category is Category.SERVER
    assert outcome.matched == Match.HTTP_STATUS


def test_status_callback_list_is_read_as_reports() -> None:
    # the callback posts a bare list (doc 382/43547): read from the document root, as data
    callback = [
        {"mobile": "13800138000", "report_status": "SUCCESS", "errmsg": "DELIVRD", "sid": "s-1"},
        {"mobile": "13800138001", "report_status": "FAIL", "errmsg": "MK:0001", "sid": "s-2"},
    ]
    out = classify("tencent_sms", callback)
    assert (out.category, out.partial) == (Category.OK, False)
    assert [(i.category, i.message_id, i.vendor_message) for i in out.items] == [
        (Category.OK, "s-1", "DELIVRD"),
        (Category.UNKNOWN, "s-2", "MK:0001"),
    ]
    assert all(i.delivery_outcome for i in out.items)
    assert out.items[1].number == "*******8001"


def test_status_callback_failure_shows_the_vendors_reason() -> None:
    # the 短信下发状态通知 shape (https://cloud.tencent.com/document/product/382/43547, also
    # tencentyun/qcloud-documents: user_receive_time, nationcode, mobile, report_status, errmsg
    # "用户接收短信状态码", description "用户接收短信状态描述", sid); its example is the SUCCESS
    # entry below, the FAIL entry's errmsg / description (空号, "empty number") are illustrative
    callback = [
        {
            "user_receive_time": "2015-10-17 08:03:04",
            "nationcode": "86",
            "mobile": "13800138000",
            "report_status": "SUCCESS",
            "errmsg": "DELIVRD",
            "description": "用户短信送达成功",
            "sid": "s-1",
        },
        {
            "user_receive_time": "2015-10-17 08:03:05",
            "nationcode": "86",
            "mobile": "13800138001",
            "report_status": "FAIL",
            "errmsg": "MK:0001",
            "description": "空号",
            "sid": "s-2",
        },
    ]
    out = classify(VENDOR, callback)
    assert (out.category, out.partial) == (Category.OK, False)
    [failed] = out.failed_items
    assert (failed.number, failed.code, failed.category) == (
        "*******8001",
        "FAIL",
        Category.UNKNOWN,
    )
    assert (failed.message, failed.vendor_message) == ("下发失败", "空号")
    assert out.items[0].vendor_message == "用户短信送达成功"


def test_unknown_item_code_reads_the_vendors_message() -> None:
    # SendSms answer shaped as tccli examples.json SendSms; the second number's Code is one no
    # public table lists (the SDK table has UnsupportedOperation.ContainDomesticAnd...), so it is
    # not mapped: its own Message is what the item says
    text = "request contains both domestic and international phone numbers"
    outcome = post(
        {
            "Response": {
                "SendStatusSet": [
                    send_status("+8618511122233", "Ok", "send success", "5000:104571066915705"),
                    send_status(
                        "+8618511122266",
                        "FailedOperation.ContainDomesticAndInternationalPhoneNumber",
                        text,
                    ),
                ],
                "RequestId": "a0aabda6-cf91-4f3e-a81f-9198114a2279",
            }
        }
    )
    assert outcome.partial is True
    [failed] = outcome.failed_items
    assert (failed.number, failed.category, failed.matched) == (
        "*********2266",
        Category.UNKNOWN,
        Match.UNMAPPED,
    )
    assert (failed.code, failed.message) == (
        "FailedOperation.ContainDomesticAndInternationalPhoneNumber",
        text,
    )
    assert lookup(VENDOR, failed.code or "").matched == Match.UNMAPPED  # never invented


# ---------------------------------------------------------------- scope

SCOPES: list[tuple[str, str]] = [
    # (code, scope): explicit where the text names whom the answer is about
    ("RequestLimitExceeded.UinLimitExceeded", "account"),  # 主账号限频
    ("RequestLimitExceeded.GlobalRegionUinLimitExceeded", "account"),  # 主账号超过频率限制
    ("ResourceInUse", "request"),  # 资源被占用: the resource the request names
    ("LimitExceeded.PhoneNumberDailyLimit", "recipient"),  # 单个手机号日下发短信条数
    ("LimitExceeded.PhoneNumberOneHourLimit", "recipient"),
    ("LimitExceeded.PhoneNumberSameContentDailyLimit", "recipient"),
    ("LimitExceeded.PhoneNumberThirtySecondLimit", "recipient"),
    # defaults (no scope written)
    ("RequestLimitExceeded", "account"),  # busy
    ("LimitExceeded.GlobalSmsSendingRateLimit", "account"),  # busy: 国际短信发送速率限制
    ("UnauthorizedOperation.ServiceSuspendDueToArrears", "account"),  # billing
    ("AuthFailure.SignatureFailure", "account"),  # auth
    ("InternalError.Timeout", "vendor"),  # server
    ("LimitExceeded.AppDailyLimit", "account"),  # billing: the application's daily quota
]


@pytest.mark.parametrize(("code", "scope"), SCOPES, ids=[c for c, _ in SCOPES])
def test_scope(code: str, scope: str) -> None:
    outcome = lookup(VENDOR, code)
    assert outcome.matched == Match.EXACT
    assert outcome.scope == scope


def test_a_per_number_cap_in_a_batch_concerns_that_number_only() -> None:
    outcome = post(
        {
            "Response": {
                "SendStatusSet": [
                    send_status(
                        "+8618501238000",
                        "LimitExceeded.PhoneNumberThirtySecondLimit",
                        "the number of sms messages sent from a single mobile number within 30 "
                        "seconds exceeds the upper limit",
                    ),
                ],
                "RequestId": "4e394811-9ebd-4d66-98ee-730b21c4a681",
            }
        }
    )
    assert outcome.category is Category.BUSY  # a frequency window: waiting passes it
    (item,) = outcome.items
    assert item.scope == "recipient"
    assert outcome.scope == "recipient"
    assert not outcome.scope.shared


def test_root_account_rate_limit_is_shared() -> None:
    outcome = post(error_body("RequestLimitExceeded.UinLimitExceeded", "主账号限频。"))
    assert outcome.category is Category.BUSY
    assert outcome.scope == "account"
    assert outcome.scope.shared


# ---------------------------------------------------------------- limits, issue 31


def test_the_thirty_second_window_is_waited_for_that_number_only() -> None:
    # 单个手机号30秒内下发短信条数超过设定的上限 (errorcodes.py; doc 382/59177): the text names the
    # window, so the outcome carries it; a retry waits it (within max_retry_after), and the
    # answer never slows the other numbers (recipient scope: no limiter, no cooldown)
    found = lookup(VENDOR, "LimitExceeded.PhoneNumberThirtySecondLimit")
    assert (found.category, found.scope, found.retry_after) == (Category.BUSY, "recipient", 30.0)
    assert not found.scope.shared
    request = httpx.Request("POST", "https://sms.tencentcloudapi.com/")
    attempt = Attempt(request, 1, httpx.Response(200), found)
    decision = decide(attempt, RetryPolicy(random=lambda: 1.0))
    assert (decision.retry, decision.delay, decision.delay_from) == (True, 30.0, "retry_after")
    hourly = lookup(VENDOR, "LimitExceeded.PhoneNumberOneHourLimit")
    assert hourly.retry_after == 3600.0
    stopped = decide(Attempt(request, 1, httpx.Response(200), hourly), RetryPolicy())
    assert (stopped.retry, stopped.why) == (False, "retry_after_too_long")


def test_a_daily_quota_is_billing_and_no_rate() -> None:
    # 业务短信日下发条数超过设定的上限 / 单个手机号日下发短信条数超过设定的上限 (382/59177)
    for code in ("LimitExceeded.AppDailyLimit", "LimitExceeded.DailyLimit"):
        assert lookup(VENDOR, code).category is Category.BILLING
    per_number = lookup(VENDOR, "LimitExceeded.PhoneNumberDailyLimit")
    assert (per_number.category, per_number.scope) == (Category.BILLING, "recipient")
    assert not per_number.retryable


def test_internal_error_codes_that_are_the_callers() -> None:
    # TencentCloud/tencentcloud-sdk-nodejs issue #36: the maintainer reads JsonParseFail as
    # "你的参数不是合法的json": resending the same body cannot pass
    body = post(error_body("InternalError.JsonParseFail", "request json body parse fail"))
    assert (body.category, body.retryable, body.rejected) == (Category.VALIDATION, False, False)
    assert lookup(VENDOR, "InternalError.SigVerificationFail").category is Category.AUTH


def test_the_2019_spelling_of_arrears_is_billing() -> None:
    # tencentcloud-sdk-go sms/v20210111/client.go lists this spelling among its possible answers
    found = post(error_body("UnauthorizedOperation.SerivceSuspendDueToArrears", "欠费被停止服务"))
    assert (found.category, found.matched) == (Category.BILLING, Match.EXACT)
