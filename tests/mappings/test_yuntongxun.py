"""容联·云通讯 (Yuntongxun / Cloopen): the REST error-code table and the statusCode envelope.

Source file: ``sources/yuntongxun/exception.sms.properties`` is saved verbatim from
github.com/zhangyanwei/yuntongxun-sms-client, src/main/resources/exception.sms.properties
(commit 2e75a94841803908fee5e5c73f0a29a3bddd0c3b): a copy of the vendor's "REST错误码" table,
one ``code=text`` line per code, two ranges written ``111001~111099`` and ``160001~160010``.
Codes the vendor added later come from other public code and are listed in ``LATER`` below.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

import normalizer
from normalizer import Category, classify, lookup
from tests.mappings.conftest import source_file

VENDOR = "yuntongxun"
ROOT = Path(__file__).resolve().parents[2]
MAPPING = ROOT / "mappings" / "yuntongxun.toml"
TABLE = "exception.sms.properties"

SID = "8aaf0708754a3ef2017572b5ce560d55"
SMS_URL = f"https://app.cloopen.com:8883/2013-12-26/Accounts/{SID}/SMS/TemplateSMS?sig=0A1B2C"
VOICE_URL = f"https://app.cloopen.com:8883/2013-12-26/Accounts/{SID}/Calls/VoiceVerify?sig=0A1B2C"
ACCOUNT_URL = f"https://app.cloopen.com:8883/2013-12-26/Accounts/{SID}/AccountInfo?sig=0A1B2C"

TOWCENT = "github.com/towcentTeam01/base-framework RongLianSmsComponent.java statusMap"
JINYI = (
    "public PHP package jinyicheng\\cloopen, Sms.php ($errExplain), 【容云短信】 prefix left out"
)
SDK = "official SDKs (cloopen/python-sms-sdk, java-sms-sdk, php-sms-sdk; lotosbin .NET SDK)"

# Codes the saved table lacks: code -> (text, where it comes from)
LATER: dict[str, tuple[str, str]] = {
    "112324": ("【短信】日期不能为空", TOWCENT),
    "112325": ("【短信】msgId不能为空", TOWCENT),
    "112326": ("【短信】发送短信失败", TOWCENT),
    "112327": ("【短信】日期参数含有非法字符", TOWCENT),
    "112328": ("【短信】电话号码参数含有非法字符", TOWCENT),
    "112329": ("【短信】获取短信状态报告count参数不正确", TOWCENT),
    "112330": ("【短信】获取短信状态报告count参数超过最大限制", TOWCENT),
    "112341": ("【短信】短信模板产品类型不能为空", TOWCENT),
    "112342": ("【短信】rest接口生成短信模板时产品类型仅支持已发布应用和网页", TOWCENT),
    "112343": ("【短信】短信模板标题不能为空", TOWCENT),
    "112344": ("【短信】短信模板签名不能为空", TOWCENT),
    "112345": ("【短信】短信模板内容不能为空", TOWCENT),
    "112346": ("【短信】短信模板签名必须大于3个字小于8个字", TOWCENT),
    "112347": ("【短信】短信模板签名必须带有中文", TOWCENT),
    "112348": ("【短信】短信模板产品地址不能为空", TOWCENT),
    "112349": ("【短信】账户必须企业认证", TOWCENT),
    "112350": ("【短信】账户必须累计充值2000元以上或购买任一短信包", TOWCENT),
    "112351": ("【短信】短信状态不存在", TOWCENT),
    "112352": ("【短信】短信状态已过期", TOWCENT),
    "112353": ("【短信】应用不属于该主账号", TOWCENT),
    "112354": ("【短信】查询超过并发次数", TOWCENT),
    "112357": ("【短信】短信模板签名长度必须在2-16个字之间", TOWCENT),
    "113302": ("【短信】您正在使用云通讯测试模板且短信接收者不是注册的测试号码", TOWCENT),
    "160044": ("【短信】发送号码为空", TOWCENT),
    "160045": ("【短信】群发号码重复", TOWCENT),
    "160046": ("【短信】营销短信发送内容审核未通过", TOWCENT),
    "160047": ("【短信】询状态报告包体解析失败", TOWCENT),
    "160048": ("【短信】号码数超200限制", TOWCENT),
    "160049": ("【短信】短信内容含敏感词", TOWCENT),
    "160051": ("【短信】营销退订号码", TOWCENT),
    "160052": ("【短信】模板变量格式有误", TOWCENT),
    "160053": ("【短信】IP鉴权失败", TOWCENT),
    "160054": ("【短信】请求重复", TOWCENT),
    "160055": ("【短信】请求reqId超长", TOWCENT),
    "160056": ("【短信】同号码请求内容重复", TOWCENT),
    "160057": ("【短信】短信模板ID要求为数字", TOWCENT),
    "160058": ("【短信】账户无国际短信权限", TOWCENT),
    "160059": ("【短信】国际短信暂不支持群发", TOWCENT),
    "160060": ("【短信】国际短信账户无营销短信权限", TOWCENT),
    "160061": ("【短信】暂不支持的国家码号", TOWCENT),
    "160062": ("【短信】未开通此国家码号", TOWCENT),
    "160063": ("【短信】短信发送失败", TOWCENT),
    "160064": ("【短信】短信发送失败", TOWCENT),
    "160065": ("【短信】子扩展不符合要求", TOWCENT),
    "161000": ("渠道返回失败", TOWCENT),
    "161001": ("渠道调用异常", TOWCENT),
    "161002": ("渠道账户余额不足", TOWCENT),
    "161003": ("短信计费失败", TOWCENT),
    "161004": ("短信记录入库失败", TOWCENT),
    "161005": ("未配置可用通道", TOWCENT),
    "161006": ("超出通道最大并发数", TOWCENT),
    "161007": ("短信内容通道敏感", TOWCENT),
    "161008": ("DB访问异常", TOWCENT),
    "161009": ("RDS访问异常", TOWCENT),
    "161010": ("RDS连接失败", TOWCENT),
    "161011": ("RDS超过最大连接数", TOWCENT),
    "161012": ("DB超过最大连接数", TOWCENT),
    "161020": ("直连通道HTTP连接超时", TOWCENT),
    "161021": ("直连通道HTTP读取超时", TOWCENT),
    "161022": ("直连通道HTTP请求异常", TOWCENT),
    "161023": ("直连通道响应空包体", TOWCENT),
    "161024": ("直连通道响应发送失败", TOWCENT),
    "161030": ("状态报告推送异常", TOWCENT),
    "161031": ("上线短信推送异常", TOWCENT),
    "161100": ("鉴权失败", TOWCENT),
    "161101": ("请求包头Authorization参数为空", TOWCENT),
    "161102": ("请求包头Authorization参数Base64解码失败", TOWCENT),
    "161103": ("请求包头Authorization参数解码后格式有误", TOWCENT),
    "161104": ("请求包头Authorization参数解码后token为空", TOWCENT),
    "161105": ("请求包头Authorization参数解码后时间戳为空", TOWCENT),
    "161106": ("请求包头Authorization参数解码后时间戳过期", TOWCENT),
    "161107": ("请求包头Authorization参数中时间戳错误", TOWCENT),
    "161108": ("请求包头Authorization参数解码后时间戳格式有误", TOWCENT),
    "160000": ("系统错误", JINYI),
    "160030": ("请求包体为空", JINYI),
    "160066": ("定时发送时间不符合平台规则", JINYI),
    "160067": ("定时发送时间格式有误", JINYI),
    "160068": ("平台全部退订号码黑名单", JINYI),
    "160069": ("测试模板变量非数字", JINYI),
    "160070": ("自定义短信模板不支持国际短信", JINYI),
    "160071": ("营销短信不在允许发送时间段", JINYI),
    "160072": ("关键号码黑名单", JINYI),
    "160073": ("运营商投诉号码黑名单", JINYI),
    "160074": ("高危投诉号码黑名单", JINYI),
    "172001": ("网络错误", SDK),
    "172002": ("无返回", SDK),
    "172003": ("返回包体错误", SDK),
    "172004": ("IP为空", SDK),
    "172005": ("端口错误", SDK),
    "172006": ("主帐号为空", SDK),
    "172007": ("主帐号令牌为空", SDK),
    "172012": ("应用ID为空", SDK),
    "172013": ("版本号为空", SDK),
}


def parse_table(text: str) -> dict[str, str]:
    """``code=text`` lines; a key may be a range (``111001~111099``); blank lines are skipped."""
    table: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        key, _, value = line.partition("=")
        assert value, line
        assert key not in table, key
        table[key] = value
    return table


def expand(key: str) -> list[str]:
    if "~" not in key:
        return [key]
    first, last = key.split("~")
    return [str(n) for n in range(int(first), int(last) + 1)]


@pytest.fixture(scope="module")
def table() -> dict[str, str]:
    return parse_table(source_file(VENDOR, TABLE).read_text(encoding="utf-8"))


def load_mapping() -> dict[str, Any]:
    with MAPPING.open("rb") as fh:
        return tomllib.load(fh)


def mapped_codes() -> dict[str, dict[str, Any]]:
    data = load_mapping()
    codes: dict[str, dict[str, Any]] = dict(data["codes"])
    for name, product in data["products"].items():
        for code, entry in product.get("codes", {}).items():
            assert code not in codes, f"{code} in two tables ({name})"
            codes[code] = entry
    return codes


# ---------------------------------------------------------------- the saved table


def test_parser_reads_every_line(table: dict[str, str]) -> None:
    assert len(table) == 241
    assert [k for k in table if "~" in k] == ["111001~111099", "160001~160010"]
    assert table["111109"] == "【账号】请求地址Sig校验失败"
    assert table["160038"] == "【短信】短信验证码发送过频繁"
    assert table["112727"] == "导入号码资源count取值范围为1到100"
    assert sum(len(expand(k)) for k in table) == 239 + 99 + 10


def test_every_table_code_is_mapped_with_its_text(table: dict[str, str]) -> None:
    for key, text in table.items():
        for code in expand(key):
            o = lookup(VENDOR, code)
            assert o.code == code
            assert o.message == text, code
            assert o.gloss, code
            assert o.category is not Category.UNKNOWN, code
            # a range is one entry plus a class (1110xx) or one entry per code (1600xx)
            expected = "class" if key == "111001~111099" and code != "111001" else "exact"
            assert o.matched == expected, code


def test_later_codes_are_mapped_with_their_text() -> None:
    for code, (text, _) in LATER.items():
        o = lookup(VENDOR, code)
        assert o.matched == "exact", code
        assert o.message == text, code
        assert o.category is not Category.UNKNOWN, code


def test_mapping_has_no_codes_its_sources_lack(table: dict[str, str]) -> None:
    documented = {k for k in table if "~" not in k} | {"111001"} | set(expand("160001~160010"))
    assert not documented & set(LATER)
    assert set(mapped_codes()) == documented | set(LATER)


def test_every_judgment_call_in_the_file_is_commented() -> None:
    lines = MAPPING.read_text(encoding="utf-8").splitlines()
    judged = [
        lines[i + 1].split('"')[1] for i, line in enumerate(lines) if line.startswith("# judgment:")
    ]
    assert {"111000", "160001", "160014", "160019", "160038", "161003", "161005", "172001"} <= set(
        judged
    )


# ---------------------------------------------------------------- pinned decisions

PINNED: list[tuple[str, Category, bool, bool]] = [
    # (code, category, retryable, rejected)
    ("000000", Category.OK, False, False),
    ("111000", Category.SERVER, True, False),
    ("111001", Category.SERVER, True, False),
    ("111109", Category.AUTH, False, False),
    ("111106", Category.AUTH, False, False),
    ("111115", Category.AUTH, False, False),
    ("111139", Category.AUTH, False, False),
    ("111141", Category.AUTH, False, False),
    ("111110", Category.VALIDATION, False, False),
    ("111111", Category.BUSY, True, True),
    ("111112", Category.BUSY, True, True),
    ("111116", Category.BUSY, True, True),
    ("111142", Category.BILLING, False, False),
    ("111158", Category.BILLING, False, False),
    ("111181", Category.NOT_FOUND, False, False),
    ("111177", Category.AUTH, False, False),
    ("111212", Category.AUTH, False, False),
    ("112303", Category.AUTH, False, False),
    ("112305", Category.VALIDATION, False, False),
    ("112311", Category.NOT_FOUND, False, False),
    ("112314", Category.BILLING, False, False),
    ("112323", Category.VALIDATION, False, False),
    ("112350", Category.BILLING, False, False),
    ("112354", Category.BUSY, True, True),
    ("113302", Category.VALIDATION, False, False),
    ("160000", Category.SERVER, True, False),
    ("160001", Category.SERVER, True, False),
    ("160010", Category.SERVER, True, False),
    ("160014", Category.SERVER, True, False),
    ("160015", Category.BUSY, True, True),  # a frequency limit (issue 31)
    ("160016", Category.BUSY, True, True),
    ("160019", Category.VALIDATION, False, False),
    ("160021", Category.BILLING, False, False),
    ("160022", Category.BILLING, False, False),  # a daily quota (issue 31)
    ("160032", Category.VALIDATION, False, False),
    ("160034", Category.VALIDATION, False, False),
    ("160038", Category.BUSY, True, True),
    ("160039", Category.BILLING, False, False),
    ("160040", Category.BILLING, False, False),
    ("160041", Category.BILLING, False, False),
    ("160050", Category.SERVER, True, False),
    ("160051", Category.VALIDATION, False, False),
    ("160053", Category.AUTH, False, False),
    ("160058", Category.AUTH, False, False),
    ("160071", Category.VALIDATION, False, False),
    ("161003", Category.BILLING, False, False),
    ("161005", Category.SERVER, False, True),
    ("161006", Category.BUSY, True, True),
    ("161021", Category.SERVER, True, False),
    ("161100", Category.AUTH, False, False),
    ("112615", Category.SERVER, True, True),
    ("172001", Category.SERVER, True, False),
    ("172007", Category.AUTH, False, False),
    ("172012", Category.VALIDATION, False, False),
]


@pytest.mark.parametrize(
    ("code", "category", "retryable", "rejected"),
    PINNED,
    ids=[f"{c}-{cat.value}" for c, cat, _, _ in PINNED],
)
def test_pinned_decision(code: str, category: Category, retryable: bool, rejected: bool) -> None:
    o = lookup(VENDOR, code)
    assert o.matched == "exact"
    assert o.category is category
    assert o.retryable is retryable
    assert o.rejected is rejected
    assert o.call_outcome is False
    assert o.delivery_outcome is False


def test_internal_error_range_is_read_through_its_class() -> None:
    o = lookup(VENDOR, "111057")
    assert o.matched == "class"
    assert o.category is Category.SERVER
    assert o.message == "内部错误"
    assert lookup(VENDOR, "111000").message == "未知错误"  # listed apart, not the class
    assert lookup(VENDOR, "111127").matched == "unmapped"  # a gap in the table stays a gap


def test_per_number_limits_are_never_validation() -> None:
    # issue 31: a daily cap of a number is a quota (billing), a frequency limit busy
    for code in ("160021", "160022", "160039", "160040", "160041"):
        o = lookup(VENDOR, code)
        assert (o.category, o.scope) == (Category.BILLING, "recipient"), code
        assert o.retryable is False, code
    for code in ("160015", "160038"):
        assert lookup(VENDOR, code).category is Category.BUSY, code


def test_sms_codes_belong_to_the_sms_product() -> None:
    o = lookup(VENDOR, "160038")
    assert o.product == "sms"
    assert lookup(VENDOR, "111142").product is None
    assert lookup(VENDOR, "160038", product="voice").matched == "unmapped"


# ---------------------------------------------------------------- through a client


def body_handler(body: dict[str, Any]) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=body)

    return handler


def post(url: str, body: dict[str, Any]) -> normalizer.Outcome:
    transport = httpx.MockTransport(body_handler(body))
    with normalizer.Client(transport=transport, retry=None) as client:
        response = client.post(url, json={"to": "13800138000", "appId": "app", "templateId": "1"})
    outcome = normalizer.outcome_of(response)
    assert outcome is not None
    return outcome


SENT = {
    "statusCode": "000000",
    "templateSMS": {
        "dateCreated": "20130201155306",
        "smsMessageSid": "ff8080813c373cab013c94b0f0512345",
    },
}


def test_client_ok_with_message_id() -> None:
    o = post(SMS_URL, SENT)
    assert o.vendor == VENDOR
    assert o.product == "sms"
    assert o.category is Category.OK
    assert o.code == "000000"
    assert o.request_id == "ff8080813c373cab013c94b0f0512345"


@pytest.mark.parametrize(
    ("url", "code", "message", "category", "product"),
    [
        (SMS_URL, "111109", "[账号]请求地址Sig校验失败", Category.AUTH, "sms"),
        (SMS_URL, "160032", "短信模板无效", Category.VALIDATION, "sms"),
        (ACCOUNT_URL, "111142", "主账户余额不足", Category.BILLING, None),
        (SMS_URL, "111111", "超过规定的并发数", Category.BUSY, "sms"),
        (SMS_URL, "112311", "短信模板不存在", Category.NOT_FOUND, "sms"),
        (SMS_URL, "160050", "短信发送失败", Category.SERVER, "sms"),
        (VOICE_URL, "111142", "主账户余额不足", Category.BILLING, "voice"),
    ],
    ids=["auth", "validation", "billing", "busy", "not_found", "server", "voice-billing"],
)
def test_client_reads_each_category(
    url: str, code: str, message: str, category: Category, product: str | None
) -> None:
    o = post(url, {"statusCode": code, "statusMsg": message})
    assert o.vendor == VENDOR
    assert o.product == product
    assert o.code == code
    assert o.matched == "exact"
    assert o.category is category
    assert o.vendor_message == message
    assert o.http_status == 200


@pytest.mark.parametrize("host", ["app.cloopen.com", "sandboxapp.cloopen.com", "hksms.cloopen.com"])
def test_every_documented_host_is_detected(host: str) -> None:
    url = f"https://{host}:8883/2013-12-26/Accounts/{SID}/SMS/TemplateSMS?sig=0A1B2C"
    o = post(url, {"statusCode": "160038", "statusMsg": "短信验证码发送过频繁"})
    assert o.vendor == VENDOR
    assert o.category is Category.BUSY  # a frequency limit of the number (issue 31)


def test_international_sms_path_is_the_sms_product() -> None:
    url = f"https://hksms.cloopen.com:8883/v2/account/{SID}/international/send?sig=0A1B2C"
    o = post(url, {"statusCode": "160058", "statusMsg": "账户无国际短信权限"})
    assert o.product == "sms"
    assert o.category is Category.AUTH


def test_sms_code_from_a_voice_url_is_not_guessed() -> None:
    o = post(VOICE_URL, {"statusCode": "160038", "statusMsg": "x"})
    assert o.product == "voice"
    assert o.category is Category.UNKNOWN
    assert o.matched == "unmapped"


def test_voice_success_carries_the_call_id() -> None:
    body = {
        "statusCode": "000000",
        "VoiceVerify": {"callSid": "1211180914034217000100080000014b", "dateCreated": "20181211"},
    }
    o = post(VOICE_URL, body)
    assert o.category is Category.OK
    assert o.request_id == "1211180914034217000100080000014b"


# ---------------------------------------------------------------- XML and SDK-made bodies

XML_ERROR = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    b"<Response><statusCode>111109</statusCode>"
    b"<statusMsg>[\xe8\xb4\xa6\xe5\x8f\xb7]\xe8\xaf\xb7\xe6\xb1\x82\xe5\x9c\xb0\xe5\x9d\x80"
    b"Sig\xe6\xa0\xa1\xe9\xaa\x8c\xe5\xa4\xb1\xe8\xb4\xa5</statusMsg></Response>"
)
XML_SENT = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    b"<Response><statusCode>000000</statusCode><TemplateSMS>"
    b"<dateCreated>20130201155306</dateCreated>"
    b"<smsMessageSid>ff8080813c373cab013c94b0f0512345</smsMessageSid>"
    b"</TemplateSMS></Response>"
)


def test_xml_error_body() -> None:
    o = classify(VENDOR, XML_ERROR, url=SMS_URL)
    assert o.code == "111109"
    assert o.category is Category.AUTH
    assert o.vendor_message == "[账号]请求地址Sig校验失败"


def test_xml_success_body_with_message_id() -> None:
    o = classify(VENDOR, XML_SENT, url=SMS_URL)
    assert o.category is Category.OK
    assert o.request_id == "ff8080813c373cab013c94b0f0512345"


def test_xml_with_a_dtd_is_refused() -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "000000">]>'
        b"<Response><statusCode>&a;</statusCode></Response>"
    )
    o = classify(VENDOR, bomb, url=SMS_URL)
    assert o.category is Category.UNKNOWN


def test_sdk_network_error_string() -> None:
    # what ronglian_sms_sdk.SmsSDK.sendMessage returns when the request raised
    o = classify(VENDOR, '{"statusCode": "172001", "statusMsg": "网络错误"}')
    assert o.category is Category.SERVER
    assert o.retryable is True
    assert o.rejected is False
    assert o.vendor_message == "网络错误"


def test_success_body_without_status_is_not_ok() -> None:
    o = classify(VENDOR, {"templateSMS": {"smsMessageSid": "x"}}, url=SMS_URL)
    assert o.category is Category.UNKNOWN
    assert o.matched == "missing"


# ---------------------------------------------------------------- scope

SCOPES: list[tuple[str, str | None, str]] = [
    # (code, product, scope): explicit where the text names whom the answer is about
    ("111111", None, "account"),  # 【账号】超过规定的并发数
    ("111112", None, "recipient"),  # 同一号码呼叫超过规定的并发数
    ("111114", None, "resource"),  # 资源使用超过规定的并发数
    ("111158", None, "resource"),  # 子账户余额不足: one sub-account, not the main account
    ("160015", "sms", "recipient"),  # 限制对单号码的发送次数
    ("160021", "sms", "recipient"),  # 相同的内容发给同一手机一天中只能发一次
    ("160022", "sms", "recipient"),  # 对同一个手机一天发送的短信超过限制次数
    ("160039", "sms", "recipient"),  # 同模板同号天发送次数上限
    ("160040", "sms", "recipient"),
    ("160041", "sms", "recipient"),
    ("160056", "sms", "recipient"),  # 同号码请求内容重复
    # defaults (no scope written)
    ("111116", None, "account"),  # busy: 接口调用间隔过短
    ("112354", "sms", "account"),  # busy: 查询超过并发次数
    ("160016", "sms", "account"),  # busy: 通道限制发送速度
    ("111142", None, "account"),  # billing: the main account's balance
    ("112314", "sms", "account"),  # billing: 短信下发超过当日发送限制
    ("111109", None, "account"),  # auth
    ("160001", "sms", "vendor"),  # server: 短信通道繁忙
    ("160038", "sms", "recipient"),  # busy: a verification code's frequency limit is its number's
]


@pytest.mark.parametrize(
    ("code", "product", "scope"), SCOPES, ids=[f"{p or 'rest'}-{c}" for c, p, _ in SCOPES]
)
def test_scope(code: str, product: str | None, scope: str) -> None:
    o = lookup(VENDOR, code, product=product)
    assert o.matched == "exact"
    assert o.scope == scope


def test_concurrent_calls_to_one_number_do_not_slow_the_account() -> None:
    o = post(
        VOICE_URL, {"statusCode": "111112", "statusMsg": "【账号】同一号码呼叫超过规定的并发数"}
    )
    assert o.category is Category.BUSY
    assert o.scope == "recipient"
    assert not o.scope.shared
    o = post(VOICE_URL, {"statusCode": "111111", "statusMsg": "【账号】超过规定的并发数"})
    assert o.scope == "account"
    assert o.scope.shared


def test_channel_busy_is_an_overload_and_per_number_limits_stay_with_their_number() -> None:
    # 160001~160010 【短信】短信通道繁忙 (REST错误码): the channel's capacity: slows every call
    for code in expand("160001~160010"):
        found = lookup(VENDOR, code)
        assert (found.category, found.overload, found.scope) == (Category.SERVER, True, "vendor")
    # 【短信】短信验证码发送过频繁 / 限制对单号码的发送次数: frequency limits of one number, never
    # shared (no limiter, no cooldown), never validation
    for code in ("160015", "160038"):
        found = lookup(VENDOR, code)
        assert (found.category, found.scope) == (Category.BUSY, "recipient"), code
        assert not found.scope.shared
