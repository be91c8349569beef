"""Alibaba Cloud SMS (dysmsapi) and Voice (dyvmsapi): codes, products, flow control, items.

The SMS table is checked against ``sources/aliyun_sms/api_error_codes.tsv``: the 短信服务
API错误码 table (https://help.aliyun.com/document_detail/101346.html) as transcribed in 2023 in
vnjohn/sms-provider-gateway, src/main/java/org/vnjohn/sms/constants/
AliCloudCommonErrorCodeEnum.java (commit 7b14e8da6d852640cc77bda76b18c31288ea348e).
Response bodies follow the shapes documented for SendSms, QuerySendDetails and the POP gateway.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import httpx
import pytest

import normalizer
from normalizer import Category, Match, classify, lookup
from tests.mappings.conftest import source_file

VENDOR = "aliyun_sms"
ROOT = Path(__file__).resolve().parents[2]
MAPPING = ROOT / "mappings" / "aliyun_sms.toml"
# codes of the SMS table taken from the current 101346 page, not from the 2023 transcription
NEWER = {
    "isv.MONTH_LIMIT_CONTROL": "触发月发送限额",
    "isv.SIGN_STATE_ILLEGAL": "签名状态为“不可用”",
}

SMS = "https://dysmsapi.aliyuncs.com/"
VOICE = "https://dyvmsapi.aliyuncs.com/"


def parse_source() -> dict[str, str]:
    """``code<TAB>message`` rows; ``#`` lines are the provenance header."""
    rows: dict[str, str] = {}
    source = source_file(VENDOR, "api_error_codes.tsv")  # skips when absent
    for line in source.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        code, message = line.split("\t")
        assert code not in rows, f"{code} listed twice"
        rows[code] = message
    return rows


def load_mapping() -> dict[str, Any]:
    with MAPPING.open("rb") as fh:
        return tomllib.load(fh)


def body(code: str, message: str, **extra: object) -> dict[str, object]:
    return {
        "Message": message,
        "RequestId": "F655A8D5-B967-440B-8683-DAD6FF8DE990",
        "Code": code,
        **extra,
    }


def through_client(url: str, status: int, payload: dict[str, object]) -> normalizer.Outcome:
    """POST ``url`` through a Client (vendor detected from the URL) answered by ``payload``."""

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json=payload)

    with normalizer.Client(transport=httpx.MockTransport(handler), retry=None) as client:
        response = client.post(url, data={"PhoneNumbers": "13800138000", "SignName": "阿里云"})
    outcome = normalizer.outcome_of(response)
    assert outcome is not None
    return outcome


# ---------------------------------------------------------------- the source table


def test_source_table_parses() -> None:
    rows = parse_source()
    assert len(rows) == 63
    assert rows["isv.BUSINESS_LIMIT_CONTROL"] == "触发云通信流控限制"
    assert rows["isp.SYSTEM_ERROR"] == "系统出现错误，请重新调用"
    assert "OK" not in rows


def test_every_source_code_is_mapped_with_its_text() -> None:
    for code, message in {**parse_source(), **NEWER}.items():
        outcome = lookup(VENDOR, code, product="sms")
        assert outcome.matched is Match.EXACT, code
        assert outcome.product == "sms", code
        assert outcome.message == message, code
        assert outcome.category is not Category.UNKNOWN, code
        assert outcome.gloss, code


def test_sms_table_holds_no_code_the_source_lacks() -> None:
    table = load_mapping()["products"]["sms"]["codes"]
    assert set(table) == set(parse_source()) | set(NEWER)


# ---------------------------------------------------------------- pinned decisions

PINNED = [
    # (product, code, category, retryable, rejected)
    ("sms", "isv.BUSINESS_LIMIT_CONTROL", Category.BUSY, True, True),  # issue 31
    ("sms", "isv.DAY_LIMIT_CONTROL", Category.BILLING, False, False),
    ("sms", "isv.MONTH_LIMIT_CONTROL", Category.BILLING, False, False),
    ("sms", "isv.AMOUNT_NOT_ENOUGH", Category.BILLING, False, False),
    ("sms", "isv.OUT_OF_SERVICE", Category.BILLING, False, False),
    ("sms", "isv.SMS_TEMPLATE_ILLEGAL", Category.VALIDATION, False, False),
    ("sms", "isv.SMS_SIGNATURE_ILLEGAL", Category.VALIDATION, False, False),
    ("sms", "isv.MOBILE_NUMBER_ILLEGAL", Category.VALIDATION, False, False),
    ("sms", "isv.CUSTOMER_REFUSED", Category.VALIDATION, False, False),
    ("sms", "isp.SYSTEM_ERROR", Category.SERVER, True, False),
    ("sms", "isp.GATEWAY_ERROR", Category.SERVER, True, False),
    ("sms", "isp.RAM_PERMISSION_DENY", Category.AUTH, False, False),
    ("sms", "isv.DENY_IP_RANGE", Category.AUTH, False, False),
    ("sms", "SignatureDoesNotMatch", Category.AUTH, False, False),
    ("sms", "isv.NO_AVAILABLE_SHORT_URL", Category.NOT_FOUND, False, False),
    ("voice", "isv.BUSINESS_LIMIT_CONTROL", Category.BUSY, True, True),
    ("voice", "isv.AMOUNT_NOT_ENOUGH", Category.BILLING, False, False),
    ("voice", "isv.TTS_TEMPLATE_ILLEGAL", Category.VALIDATION, False, False),
    ("voice", "isv.VOICE_CALL_FAIL", Category.SERVER, True, False),
    ("voice", "Throttling.User", Category.BUSY, True, True),
    ("voice", "InvalidAccessKeyId.NotFound", Category.AUTH, False, False),
]


@pytest.mark.parametrize(
    ("product", "code", "category", "retryable", "rejected"),
    PINNED,
    ids=[f"{p}:{c}" for p, c, *_ in PINNED],
)
def test_pinned_decisions(
    product: str, code: str, category: Category, retryable: bool, rejected: bool
) -> None:
    outcome = lookup(VENDOR, code, product=product)
    assert outcome.matched is Match.EXACT
    assert outcome.category is category
    assert outcome.retryable is retryable
    assert outcome.rejected is rejected


def test_voice_text_differs_from_sms_text_for_the_same_code() -> None:
    sms = lookup(VENDOR, "isv.BUSINESS_LIMIT_CONTROL", product="sms")
    voice = lookup(VENDOR, "isv.BUSINESS_LIMIT_CONTROL", product="voice")
    assert sms.message == "触发云通信流控限制"
    assert voice.message.startswith("触发业务流控限制")
    # both read the same, so a lookup without a product still resolves
    alone = lookup(VENDOR, "isv.BUSINESS_LIMIT_CONTROL")
    assert alone.matched is Match.EXACT
    assert alone.category is Category.BUSY


def test_gateway_codes_are_shared_by_both_products() -> None:
    voice = lookup(VENDOR, "InvalidAccessKeyId.Inactive", product="voice")
    sms = lookup(VENDOR, "InvalidAccessKeyId.Inactive", product="sms")
    assert voice.category is sms.category is Category.AUTH
    assert voice.message == "Specified access key is disabled."


# ---------------------------------------------------------------- one category each, via a Client

CASES = [
    # (url, HTTP status, body, category, retryable)
    (SMS, 200, body("OK", "OK", BizId="900619746936498440^0"), Category.OK, False),
    (SMS, 200, body("isv.AMOUNT_NOT_ENOUGH", "账户余额不足"), Category.BILLING, False),
    (
        SMS,
        200,
        body("isv.MOBILE_NUMBER_ILLEGAL", "invalid mobile number"),
        Category.VALIDATION,
        False,
    ),
    (SMS, 200, body("isv.NO_AVAILABLE_SHORT_URL", "该账号无有效短链"), Category.NOT_FOUND, False),
    (SMS, 200, body("isp.SYSTEM_ERROR", "isp.SYSTEM_ERROR"), Category.SERVER, True),
    (
        SMS,
        400,
        body("SignatureDoesNotMatch", "Specified signature is not matched with our calculation."),
        Category.AUTH,
        False,
    ),
    (
        VOICE,
        400,
        body("Throttling.User", "Request was denied due to user flow control."),
        Category.BUSY,
        True,
    ),
    (VOICE, 200, body("isv.OUT_OF_SERVICE", "业务停机"), Category.BILLING, False),
]


@pytest.mark.parametrize(
    ("url", "status", "payload", "category", "retryable"),
    CASES,
    ids=[f"{c.value}-{p['Code']}" for _, _, p, c, _ in CASES],
)
def test_category_through_client(
    url: str, status: int, payload: dict[str, object], category: Category, retryable: bool
) -> None:
    outcome = through_client(url, status, payload)
    assert outcome.vendor == VENDOR
    assert outcome.category is category
    assert outcome.retryable is retryable
    assert outcome.code == payload["Code"]
    assert outcome.vendor_message == payload["Message"]
    assert outcome.request_id == "F655A8D5-B967-440B-8683-DAD6FF8DE990"
    assert outcome.http_status == status


def test_unknown_code_with_http_500_falls_back_to_server() -> None:
    outcome = through_client(SMS, 500, body("isp.SOMETHING_NEW", "?"))
    assert outcome.category is Category.SERVER
    assert outcome.matched is Match.HTTP_STATUS


# ---------------------------------------------------------------- products by host


@pytest.mark.parametrize(
    ("url", "product"),
    [
        ("https://dysmsapi.aliyuncs.com/?Action=SendSms", "sms"),
        ("https://dysmsapi.ap-southeast-1.aliyuncs.com/", "sms"),
        ("https://dysmsapi.eu-central-1.aliyuncs.com/", "sms"),
        ("https://dyvmsapi.aliyuncs.com/?Action=SingleCallByTts", "voice"),
    ],
)
def test_product_selected_by_host(url: str, product: str) -> None:
    outcome = through_client(url, 200, body("isv.PRODUCT_UNSUBSCRIBE", "产品未开通"))
    assert outcome.product == product
    assert outcome.category is Category.AUTH
    expected = "产品未开通" if product == "sms" else "产品功能未开通"
    assert outcome.message == expected


def test_other_aliyun_hosts_are_not_this_vendor() -> None:
    outcome = classify(VENDOR, body("OK", "OK"), url="https://ecs.aliyuncs.com/")
    assert outcome.product is None


# ---------------------------------------------------------------- flow control levels


def test_minute_level_flow_control_is_busy() -> None:
    outcome = through_client(
        SMS, 200, body("isv.BUSINESS_LIMIT_CONTROL", "触发分钟级流控Permits:1")
    )
    assert outcome.category is Category.BUSY
    assert outcome.matched is Match.FIELD
    assert outcome.retryable is True
    assert outcome.rejected is True
    assert outcome.cooldown == 0  # per recipient number: never pause every call
    assert outcome.retry_after == 60  # 1 per minute per number


def test_hour_level_flow_control_is_busy_for_an_hour() -> None:
    # 触发小时级流控Permits:5 (real answers quoted in public client code): a frequency limit of
    # one number whose window is an hour (issue 31: never validation)
    outcome = through_client(
        SMS, 200, body("isv.BUSINESS_LIMIT_CONTROL", "触发小时级流控Permits:5")
    )
    assert (outcome.category, outcome.matched, outcome.scope) == (
        Category.BUSY,
        Match.FIELD,
        "recipient",
    )
    assert outcome.retry_after == 3600
    assert outcome.cooldown == 0
    assert not outcome.scope.shared


def test_day_level_flow_control_is_that_numbers_daily_quota() -> None:
    outcome = through_client(SMS, 200, body("isv.BUSINESS_LIMIT_CONTROL", "触发天级流控Permits:10"))
    assert (outcome.category, outcome.matched, outcome.scope) == (
        Category.BILLING,
        Match.FIELD,
        "recipient",
    )
    assert outcome.retryable is False


def test_an_unknown_flow_control_level_is_still_a_limit() -> None:
    # a console-raised limit says another permit count: the code's own reading, busy of the
    # number, never validation (issue 31)
    message = "触发分钟级流控Permits:3"
    outcome = through_client(SMS, 200, body("isv.BUSINESS_LIMIT_CONTROL", message))
    assert (outcome.category, outcome.matched, outcome.scope) == (
        Category.BUSY,
        Match.EXACT,
        "recipient",
    )
    assert outcome.retry_after == 0
    assert outcome.vendor_message == message


def test_daily_application_caps_are_billing() -> None:
    for code in (
        "isv.SIGN_COUNT_OVER_LIMIT",
        "isv.TEMPLATE_COUNT_OVER_LIMIT",
        "isv.SMS_OVER_LIMIT",
    ):
        assert lookup(VENDOR, code, product="sms").category is Category.BILLING, code


def test_minute_rule_only_applies_to_its_code() -> None:
    outcome = classify(VENDOR, body("isv.DAY_LIMIT_CONTROL", "触发分钟级流控Permits:1"), url=SMS)
    assert outcome.category is Category.BILLING


# ---------------------------------------------------------------- QuerySendDetails items

QUERY_SEND_DETAILS = {
    "TotalCount": 3,
    "Message": "OK",
    "RequestId": "819BE656-D2E0-4858-8B21-B2E477085AAF",
    "Code": "OK",
    "SmsSendDetailDTOs": {
        "SmsSendDetailDTO": [
            {
                "SendDate": "2019-01-08 16:44:10",
                "OutId": "123",
                "SendStatus": 3,
                "ReceiveDate": "2019-01-08 16:44:13",
                "ErrCode": "DELIVRD",
                "TemplateCode": "SMS_122310183",
                "Content": "【阿里云】验证码为：123，您正在登录，若非本人操作，请勿泄露",
                "PhoneNum": "15200008000",
            },
            {
                "SendDate": "2019-01-08 16:45:10",
                "SendStatus": 2,
                "ReceiveDate": "2019-01-08 16:45:12",
                "ErrCode": "MOBILE_NOT_ON_SERVICE",
                "TemplateCode": "SMS_122310183",
                "PhoneNum": "15200008001",
            },
            {
                "SendDate": "2019-01-08 16:46:10",
                "SendStatus": 1,
                "ReceiveDate": "",
                "ErrCode": "",
                "TemplateCode": "SMS_122310183",
                "PhoneNum": "15200008002",
            },
        ]
    },
}


def test_query_send_details_items() -> None:
    outcome = through_client(SMS + "?Action=QuerySendDetails", 200, QUERY_SEND_DETAILS)
    assert outcome.product == "sms"
    # delivery reports are data: the query itself worked
    assert outcome.category is Category.OK
    assert outcome.partial is False
    got = [(i.index, i.code, i.category, i.vendor_message, i.number) for i in outcome.items]
    assert got == [
        (0, "3", Category.OK, "DELIVRD", "*******8000"),
        (1, "2", Category.UNKNOWN, "MOBILE_NOT_ON_SERVICE", "*******8001"),
        (2, "1", Category.BUSY, None, "*******8002"),
    ]
    assert all(item.delivery_outcome for item in outcome.items)
    assert outcome.items[0].message == "发送成功"
    assert outcome.items[1].message == "发送失败"
    assert outcome.items[2].retryable is True  # ask again later for the final status


def test_send_sms_answer_has_no_items() -> None:
    outcome = classify(VENDOR, json.dumps(body("OK", "OK", BizId="1^0")), url=SMS)
    assert outcome.items == ()
    assert outcome.category is Category.OK


def test_failed_query_keeps_its_own_code() -> None:
    outcome = classify(VENDOR, body("isv.INVALID_PARAMETERS", "参数格式不正确"), url=SMS)
    assert outcome.category is Category.VALIDATION
    assert outcome.items == ()


# ---------------------------------------------------------------- scope

SCOPES: list[tuple[str | None, str, str]] = [
    # (product, code, scope): explicit where the text names whom the answer is about
    (None, "Throttling.User", "account"),  # "denied due to user flow control"
    ("sms", "isv.BUSINESS_LIMIT_CONTROL", "recipient"),  # per number (and signature) limits
    # defaults (no scope written)
    (None, "Throttling.Api", "account"),  # busy
    (None, "InternalError", "vendor"),  # server
    ("sms", "isv.AMOUNT_NOT_ENOUGH", "account"),  # billing
    ("sms", "isv.DAY_LIMIT_CONTROL", "account"),  # billing: the account's console quota
    ("sms", "isp.RAM_PERMISSION_DENY", "account"),  # auth
    ("sms", "isv.MOBILE_NUMBER_ILLEGAL", "request"),  # validation
    ("voice", "isv.BUSINESS_LIMIT_CONTROL", "request"),  # the voice text names no number
]


@pytest.mark.parametrize(
    ("product", "code", "scope"), SCOPES, ids=[f"{p or 'pop'}-{c}" for p, c, _ in SCOPES]
)
def test_scope(product: str | None, code: str, scope: str) -> None:
    outcome = lookup(VENDOR, code, product=product)
    assert outcome.matched is Match.EXACT
    assert outcome.scope == scope


def test_minute_level_flow_control_concerns_one_number() -> None:
    # 触发分钟级流控 is a per-number limit: busy, but never a reason to slow every call down
    outcome = through_client(
        SMS, 200, body("isv.BUSINESS_LIMIT_CONTROL", "触发分钟级流控Permits:1")
    )
    assert outcome.category is Category.BUSY
    assert outcome.scope == "recipient"
    assert not outcome.scope.shared


def test_user_flow_control_slows_the_account() -> None:
    outcome = through_client(
        SMS, 400, body("Throttling.User", "Request was denied due to user flow control.")
    )
    assert outcome.category is Category.BUSY
    assert outcome.scope == "account"
    assert outcome.scope.shared
