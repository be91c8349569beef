"""UCPaaS (云之讯) real traffic: the REST API's general codes, XML, counters, the SMS platform.

Sources (saved under tests/mappings/sources/ucpaas/, origins in each file's header):
- rest_error_info.php: the REST return codes 100xxx-105xxx, from github.com/goodspb/laravel5-ucpaas
  src/Api/UcpaasApi.php ($error_info of the UCPaaS PHP SDK, as on docs.ucpaas.com rest_error);
  104105 and 105133-105139 come from github.com/lilong9298/UCPAAS src/UCPAAS/Model/result/Resp.cs.
- open_error_codes.php: the SMS platform (open.ucpaas.com) codes, from github.com/lijia0614/sxiwx
  extend/Sms/ucpaas.php (getErrorMessage), the table of docs.ucpaas.com error_code.
Bodies: each test says where its body was seen.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import httpx
import pytest

import normalizer
from normalizer import Category, Match, Outcome, classify, lookup
from tests.mappings.conftest import source_file

VENDOR = "ucpaas"
ROOT = Path(__file__).resolve().parents[2]
MAPPING = ROOT / "mappings" / "ucpaas.toml"
ROW = re.compile(r"'(\d{6})' => '([^']*)'")
LILONG = "github.com/lilong9298/UCPAAS src/UCPAAS/Model/result/Resp.cs"
# codes the SDK table lacks, taken from lilong9298/UCPAAS Resp.cs (text as there)
LILONG_CODES = {
    "104105": "语音验证码位4 - 8位",
    "105133": "模板短信整体长度不能超过500位",
    "105134": "自签名短信内容只能包含一对【】且不能只有短信签名，短信签名只能在开头或结尾",
    "105135": "非自签短信内容中不允许出现【】",
    "105136": "自签短信签名长度为2到12位",
    "105137": "群发短信全部失败",
    "105138": "群发短信号码不能重复",
    "105139": "补发短信模板不规范",
}

REST_URL = "https://api.ucpaas.com/2014-06-30/Accounts/a0dde32eea337c1351c7dc9e590dc469"
SMS_URL = "https://open.ucpaas.com/ol/sms/sendsms"
BATCH_URL = "https://open.ucpaas.com/ol/sms/sendsms_batch"


def _rows(name: str) -> dict[str, str]:
    rows: dict[str, str] = {}
    for code, text in ROW.findall(source_file(VENDOR, name).read_text(encoding="utf-8")):
        assert code not in rows, code
        rows[code] = text.strip()  # two open-platform texts end in a stray tab
    return rows


def _mapping() -> dict[str, Any]:
    with MAPPING.open("rb") as f:
        return tomllib.load(f)


def _seed(code: str) -> bool:
    return code.startswith(("107", "200"))


# ---------------------------------------------------------------- the REST general table


def test_rest_source_parses() -> None:
    rows = _rows("rest_error_info.php")
    assert len(rows) == 157
    assert rows["000000"] == "ok"
    assert rows["101110"] == "主账户已锁定"
    assert rows["105122"] == "同一天同一用户不能发超过N条验证码(n为用户自己配置)"
    assert not any(_seed(code) for code in rows)  # no number collides with the seed families


def test_every_rest_code_is_mapped_at_vendor_level_with_its_text() -> None:
    codes = _mapping()["codes"]
    rows = _rows("rest_error_info.php")
    del rows["000000"]  # a success code of the envelope
    for code, text in {**rows, **LILONG_CODES}.items():
        assert codes[code]["description"] == text, code
        assert codes[code]["gloss"], code
        o = lookup(VENDOR, code)
        assert o.matched is Match.EXACT, code
        assert o.message == text, code
        assert o.category is not Category.UNKNOWN, code
    for code in LILONG_CODES:
        assert codes[code]["source"] == LILONG, code


def test_vendor_table_holds_only_seed_and_rest_codes() -> None:
    rest = set(_rows("rest_error_info.php")) | set(LILONG_CODES)
    extra = {code for code in _mapping()["codes"] if not _seed(code)}
    assert extra == rest - {"000000"}


REST_PINNED: list[tuple[str, Category, bool, bool]] = [
    # (code, category, retryable, rejected)
    ("100001", Category.BILLING, False, False),  # 余额不足
    ("100005", Category.AUTH, False, False),  # 访问IP不合法: IP whitelist
    ("100699", Category.SERVER, True, False),  # 系统内部错误
    ("101106", Category.AUTH, False, False),  # Authorization timestamp expired
    ("101116", Category.AUTH, False, False),  # sig mismatch
    ("102102", Category.NOT_FOUND, False, False),  # 应用不存在
    ("104113", Category.BUSY, True, True),  # the same callee is being called
    ("105103", Category.SERVER, False, True),  # no channel configured: never fixed by a retry
    ("105107", Category.VALIDATION, False, False),  # 黑名单
    ("105110", Category.NOT_FOUND, False, False),  # 短信模板ID不存在
    ("105111", Category.VALIDATION, False, False),  # template not approved
    ("105116", Category.BILLING, False, False),  # per-number daily cap: a quota (issue 31)
    ("105122", Category.BILLING, False, False),  # per-number daily cap: a quota (issue 31)
    # a 30-second window on content just sent: waiting and resending sends it twice
    ("105130", Category.BUSY, False, True),
    ("105131", Category.BUSY, False, True),
]


@pytest.mark.parametrize(("code", "category", "retryable", "rejected"), REST_PINNED)
def test_rest_pinned(code: str, category: Category, retryable: bool, rejected: bool) -> None:
    o = lookup(VENDOR, code)
    assert (o.category, o.retryable, o.rejected) == (category, retryable, rejected)


@pytest.mark.parametrize(
    ("code", "category", "retryable", "rejected"),
    [
        ("107139", Category.SERVER, False, True),  # a routing miss repeats on every retry
        ("107156", Category.AUTH, False, False),  # the app is not allowed this API
        ("107159", Category.AUTH, False, False),
    ],
)
def test_review_fixes(code: str, category: Category, retryable: bool, rejected: bool) -> None:
    o = lookup(VENDOR, code)
    assert (o.category, o.retryable, o.rejected) == (category, retryable, rejected)


# ---------------------------------------------------------------- the SMS platform family


def test_every_sms_platform_code_is_in_the_family_with_its_text() -> None:
    rows = _rows("open_error_codes.php")
    assert len(rows) == 74
    table = _mapping()["products"]["sms"]["codes"]
    assert set(table) == set(rows)
    for code, text in rows.items():
        assert table[code]["description"] == text, code
        o = lookup(VENDOR, code, product="sms")
        assert o.matched is Match.EXACT, code
        assert o.message == text, code
        assert o.product == "sms"


def test_family_and_vendor_read_shared_numbers_alike() -> None:
    mapping = _mapping()
    family = mapping["products"]["sms"]["codes"]
    for code, entry in mapping["codes"].items():
        if code in family:
            assert family[code]["category"] == entry["category"], code
            assert family[code].get("retryable") == entry.get("retryable"), code
            # so a product-less lookup is never ambiguous
            assert lookup(VENDOR, code).matched is Match.EXACT, code


def test_family_codes_only_the_family_knows_resolve_without_product() -> None:
    o = lookup(VENDOR, "105147")
    assert o.matched is Match.EXACT
    assert o.product == "sms"
    assert o.category is Category.BUSY  # a per-number frequency limit: waiting passes it
    assert o.retryable is True
    assert o.scope == "recipient"


@pytest.mark.parametrize(
    ("code", "category"),
    [
        ("300001", Category.SERVER),
        ("300002", Category.UNKNOWN),
        ("300003", Category.VALIDATION),
        ("300004", Category.VALIDATION),
        ("300005", Category.BUSY),  # 超频: a frequency limit (issue 31)
        ("300006", Category.BUSY),
    ],
)
def test_delivery_statuses(code: str, category: Category) -> None:
    o = lookup(VENDOR, code, product="sms")
    assert o.category is category
    assert o.delivery_outcome is True
    assert o.call_outcome is False
    assert o.retryable is (code in ("300005", "300006"))


def test_sms_platform_rate_limits_are_busy() -> None:
    for code in ("105150", "105166"):
        o = lookup(VENDOR, code, product="sms")
        assert o.category is Category.BUSY, code
        assert o.retryable is True, code
        assert o.rejected is True, code


# ---------------------------------------------------------------- bodies through classify

# github.com/yinchaodear/nbcb .../UcpaasSms/UcpaasSms.java: captured answers of /ol/sms/sendsms
OPEN_OK = (
    '{"code":"000000","count":"1","create_date":"2019-08-22 11:47:34","mobile":"18260027172",'
    '"msg":"OK","smsid":"d44974357463934b15a219965049e6a3","uid":""}'
)
OPEN_FREQ = (
    '{"code":"105147","count":"0","create_date":"","mobile":"13814170516",'
    '"msg":"对同个号码发送短信超过限定频率","smsid":"","uid":""}'
)
# the documented templateSMS answer, captured in public client code (see ucpaas.toml)
REST_FAILURE_1 = {
    "resp": {
        "respCode": "000000",
        "failure": 1,
        "templateSMS": {"createDate": 20140623185016, "smsId": "f96f79240e372587e9284cd580d8f953"},
    }
}
# the same API's older capture (nbcb UcpaasSms.java): "failure":"0", a string
REST_FAILURE_0 = (
    '{"resp":{"respCode":"000000","failure":"0","templateSMS":{"createDate":"20190620110641",'
    '"smsId":"b78b7c5c77cdefc1397729867af485a8"}}}'
)


def test_open_platform_success() -> None:
    o = classify(VENDOR, OPEN_OK, url=SMS_URL)
    assert o.category is Category.OK
    assert o.product == "sms"
    assert o.request_id == "d44974357463934b15a219965049e6a3"


def test_open_platform_frequency_cap() -> None:
    o = classify(VENDOR, OPEN_FREQ, url=SMS_URL)
    assert (o.category, o.code, o.product) == (Category.BUSY, "105147", "sms")
    assert o.vendor_message == "对同个号码发送短信超过限定频率"
    assert o.retryable is True  # a frequency limit passes with waiting (issue 31)
    assert not o.scope.shared  # and never slows the other numbers


def test_open_platform_body_is_not_read_with_the_rest_envelope() -> None:
    # without the family's envelope the flat "code" would be missing
    o = classify(VENDOR, OPEN_FREQ, url="https://api.ucpaas.com/2014-06-30/Accounts/x")
    assert o.matched is Match.MISSING


def test_rest_failure_counter_makes_an_accepted_send_not_ok() -> None:
    url = f"{REST_URL}/Messages/templateSMS?sig=F96F"
    o = classify(VENDOR, REST_FAILURE_1, url=url)
    assert o.code == "000000"
    assert o.category is Category.UNKNOWN  # failure 1 and nothing says why
    assert o.retryable is False
    assert o.rejected is False
    assert o.request_id == "f96f79240e372587e9284cd580d8f953"
    assert classify(VENDOR, REST_FAILURE_0, url=url).category is Category.OK


def test_rest_failure_counter_applies_to_template_sms_only() -> None:
    o = classify(VENDOR, REST_FAILURE_1, url=f"{REST_URL}/Calls/callBack")
    assert o.category is Category.OK


@pytest.mark.parametrize(
    ("body", "code", "category"),
    [
        # XmlReqClient (UCPaaS Java demo) callers test for these exact elements
        (
            '<?xml version="1.0" encoding="UTF-8"?><resp><respCode>000000</respCode></resp>',
            "000000",
            Category.OK,
        ),
        (
            '<?xml version="1.0" encoding="UTF-8"?><resp><respCode>105122</respCode></resp>',
            "105122",
            Category.BILLING,
        ),
        ("<resp><respCode>101116</respCode></resp>", "101116", Category.AUTH),
    ],
    ids=["ok", "daily-cap", "sig"],
)
def test_xml_bodies(body: str, code: str, category: Category) -> None:
    o = classify(VENDOR, body.encode(), url=f"{REST_URL}/Messages/templateSMS")
    assert (o.code, o.category) == (code, category)


def test_xml_failure_counter() -> None:
    body = (
        "<resp><respCode>000000</respCode><failure>1</failure><templateSMS>"
        "<createDate>20140623185016</createDate><smsId>f96f</smsId></templateSMS></resp>"
    )
    o = classify(VENDOR, body, url=f"{REST_URL}/Messages/templateSMS")
    assert o.category is Category.UNKNOWN
    assert o.request_id == "f96f"


def test_xml_bomb_is_refused() -> None:
    body = (
        '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa">]>'
        "<resp><respCode>&a;</respCode></resp>"
    )
    assert classify(VENDOR, body, url=f"{REST_URL}/Messages/templateSMS").category is (
        Category.UNKNOWN
    )


# ---------------------------------------------------------------- through a Client


def _outcome(response: httpx.Response) -> Outcome:
    outcome = normalizer.outcome_of(response)
    assert outcome is not None, "the client did not attach an outcome"
    return outcome


def _client(body: str | bytes, content_type: str = "application/json") -> normalizer.Client:
    data = body.encode() if isinstance(body, str) else body

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=data, headers={"Content-Type": content_type})

    return normalizer.Client(transport=httpx.MockTransport(handler), retry=None)


def test_client_detects_the_sms_platform() -> None:
    with _client(OPEN_FREQ) as client:
        response = client.post(SMS_URL, json={"templateid": "494998", "mobile": "13814170516"})
    o = _outcome(response)
    assert (o.vendor, o.product, o.code) == (VENDOR, "sms", "105147")
    assert o.category is Category.BUSY


def test_client_batch_report_items() -> None:
    # the SendBatchResponse shape of github.com/aimuz/ucpaas-sms ucpaas.go
    body = json.dumps(
        {
            "code": "000000",
            "msg": "OK",
            "count_sum": "1",
            "create_date": "2019-08-22 11:47:34",
            "uid": "",
            "report": [
                {
                    "code": "000000",
                    "msg": "OK",
                    "count": "1",
                    "smsid": "d44974357463934b15a219965049e6a3",
                    "mobile": "18260027172",
                },
                {
                    "code": "105147",
                    "msg": "对同个号码发送短信超过限定频率",
                    "count": "0",
                    "smsid": "",
                    "mobile": "13814170516",
                },
            ],
        },
        ensure_ascii=False,
    )
    with _client(body) as client:
        response = client.post(BATCH_URL, json={"mobile": "18260027172,13814170516"})
    o = _outcome(response)
    assert o.category is Category.OK
    assert o.partial is True
    assert o.retryable is False
    assert [i.category for i in o.items] == [Category.OK, Category.BUSY]
    bad = o.items[1]
    assert (bad.code, bad.index) == ("105147", 1)
    assert bad.number is not None
    assert bad.number.endswith("0516")
    assert "13814170516" not in bad.number  # redacted like logs
    assert o.items[0].message_id == "d44974357463934b15a219965049e6a3"


def test_client_batch_all_failed_reads_as_the_items() -> None:
    body = json.dumps(
        {
            "code": "000000",
            "msg": "OK",
            "count_sum": "0",
            "report": [
                {"code": "100015", "msg": "号码不合法", "count": "0", "smsid": "", "mobile": "123"}
            ],
        },
        ensure_ascii=False,
    )
    with _client(body) as client:
        o = _outcome(client.post(BATCH_URL, json={}))
    assert o.category is Category.VALIDATION
    assert o.partial is False
    assert o.code == "100015"


def test_client_rest_template_sms_counter() -> None:
    with _client(json.dumps(REST_FAILURE_1)) as client:
        response = client.post(f"{REST_URL}/Messages/templateSMS?sig=F96F", json={})
    o = _outcome(response)
    assert o.vendor == VENDOR
    assert o.product is None
    assert o.category is Category.UNKNOWN


def test_client_rest_xml_on_message_host() -> None:
    # message.ucpaas.com serves the same REST API (voiceNotify in public client code)
    body = "<resp><respCode>100001</respCode></resp>"
    url = "https://message.ucpaas.com/2017-06-30/Accounts/x/Calls/voiceNotify?sig=AB"
    with _client(body, "application/xml") as client:
        o = _outcome(client.post(url, content=b"<voiceNotify/>"))
    assert (o.vendor, o.code, o.category) == (VENDOR, "100001", Category.BILLING)


def test_client_rest_auth_error() -> None:
    body = '{"resp":{"respCode":"101115"}}'
    with _client(body) as client:
        o = _outcome(client.post(f"{REST_URL}/Calls/callBack?sig=AB", json={}))
    assert (o.code, o.category, o.retryable) == ("101115", Category.AUTH, False)
