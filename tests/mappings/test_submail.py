"""SUBMAIL: the error table, the one-to-many sends' per-recipient list, SUBHOOK events and
their receipt codes.

Source: the vendor's documentation repository github.com/submail-developers/submail.documents
(commit f43bba49): 短信/HTTP API开发文档/API错误码/API 错误代码与描述.md (the table, parsed below
when the file is saved as tests/mappings/sources/submail/API 错误代码与描述.md), 短信发送 API.md and
短信一对多发送 API.md (the answers used below), SUBHOOK 状态回调/短信 SUBHOOK 事件.md (推送示例)
and 常见问题与解答/回执代码表.md.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import httpx
import pytest

import normalizer
from normalizer import Category, Match, classify, lookup
from tests.mappings.conftest import claimed, get, logged, source_file

VENDOR = "submail"
MAPPING = Path(__file__).resolve().parents[2] / "mappings" / "submail.toml"
SEND_URL = "https://api-v4.mysubmail.com/sms/send"
MULTI_URL = "https://api-v4.mysubmail.com/sms/multixsend"
ROW = re.compile(r"^\| (\d{3}) +\| (.+?) +\| (.+?) +\|")
FORM = {"content-type": "application/x-www-form-urlencoded"}


def source_codes() -> dict[str, str]:
    text = source_file(VENDOR, "API 错误代码与描述.md").read_text("utf-8")
    return {m.group(1): m.group(2) for m in map(ROW.match, text.splitlines()) if m}


def test_every_source_code_is_mapped_with_its_text() -> None:
    codes = source_codes()
    assert len(codes) == 58
    for code, text in codes.items():
        o = lookup(VENDOR, code)
        assert o.matched == Match.EXACT, code
        assert o.message == text, code
    with MAPPING.open("rb") as f:
        data: dict[str, Any] = tomllib.load(f)
    assert set(data["codes"]) == set(codes) | {"success"}


PINNED: list[tuple[str, Category, bool, str]] = [
    # (code, category, retryable, scope)
    ("101", Category.AUTH, False, "account"),
    ("113", Category.AUTH, False, "account"),
    ("114", Category.VALIDATION, False, "recipient"),
    ("115", Category.BUSY, True, "recipient"),  # a per-number frequency limit (issue 31)
    ("404", Category.VALIDATION, False, "request"),
    ("408", Category.BUSY, False, "recipient"),  # identical message: never sent twice
    ("409", Category.BUSY, True, "resource"),  # project under review, try later
    ("418", Category.NOT_FOUND, False, "request"),
    ("901", Category.BILLING, False, "account"),  # the daily quota
    ("903", Category.BILLING, False, "account"),
]


@pytest.mark.parametrize(("code", "category", "retryable", "scope"), PINNED)
def test_pinned_decision(code: str, category: Category, retryable: bool, scope: str) -> None:
    o = lookup(VENDOR, code)
    assert (o.category, o.retryable, o.scope) == (category, retryable, scope)


def call(body: Any, url: str = SEND_URL, status: int = 200) -> normalizer.Outcome:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json=body)

    with normalizer.Client(transport=httpx.MockTransport(handler), retry=None) as client:
        response = client.post(url, data={"appid": "10001", "to": "13812345678", "signature": "K"})
    outcome = normalizer.outcome_of(response)
    assert outcome is not None
    return outcome


def test_send_success() -> None:
    # 短信发送 API.md, 返回
    body = {
        "status": "success",
        "send_id": "c2f0e679ad8dxxxxxf6cb71bf2925665e0",
        "fee": 1,
        "sms_credits": "21129",
        "transactional_sms_credits": "0",
    }
    o = call(body)
    assert o.vendor == VENDOR
    assert o.category is Category.OK
    assert o.request_id == "c2f0e679ad8dxxxxxf6cb71bf2925665e0"


@pytest.mark.parametrize(
    ("code", "category"),
    [
        ("101", Category.AUTH),
        ("903", Category.BILLING),
        ("404", Category.VALIDATION),
        ("115", Category.BUSY),
        ("418", Category.NOT_FOUND),
    ],
)
def test_send_error(code: str, category: Category) -> None:
    # 请求失败: {"status": "error", "code": "1xx", "msg": "error sms"}, HTTP 4XX
    o = call({"status": "error", "code": code, "msg": "error sms"}, status=400)
    assert o.code == code
    assert o.category is category
    assert o.vendor_message == "error sms"


def test_error_without_code_is_never_ok() -> None:
    o = call({"status": "error", "msg": "error sms"})
    assert o.category is Category.UNKNOWN


def test_one_to_many_send_lists_each_recipient() -> None:
    # 短信一对多发送 API.md, 请求失败 (a bare list: successes and errors mixed)
    body = [
        {"status": "error", "code": 115, "msg": "error sms"},
        {"status": "success", "to": "18912345678", "send_id": "093c0a7df143c087d6cba9cdf0cf3738"},
    ]
    o = call(body, url=MULTI_URL)
    assert o.category is Category.OK
    assert o.partial is True
    failed, sent = o.items
    assert (failed.code, failed.category, failed.scope) == ("115", Category.BUSY, "recipient")
    assert sent.category is Category.OK
    assert sent.number == "*******5678"
    assert sent.message_id == "093c0a7df143c087d6cba9cdf0cf3738"


def test_one_to_many_send_all_failed() -> None:
    body = [{"status": "error", "code": 903, "msg": "error sms"}] * 2
    o = call(body, url=MULTI_URL)
    assert o.category is Category.BILLING


def test_a_bare_list_elsewhere_is_not_a_success() -> None:
    o = classify(VENDOR, [{"status": "success"}], url=SEND_URL)
    assert o.category is not Category.OK


@pytest.mark.parametrize(
    ("body", "code", "category", "retryable"),
    [
        (
            b"events=delivered&address=138xxxxxxxx&send_id=093c0a7df143c087d6cba9cdf0cf3738"
            b"&operator=x&app=1&timestamp=1415014855&token=067ef7e2f286a9a56eabb07dc9657852"
            b"&signature=a70d09a9345adfdd353d34a505dac4ca",
            "delivered",
            Category.OK,
            False,
        ),
        # the dropped 推送示例: "report":" UNDELIV" (a leading blank)
        (
            b"events=dropped&address=138xxxxxxxx&send_id=093c0a7df143c087d6cba9cdf0cf3738"
            b"&report=+UNDELIV&app=1&timestamp=1415014855&token=067ef7e2f286a9a56eabb07dc9657852"
            b"&signature=a70d09a9345adfdd353d34a505dac4ca",
            "UNDELIV",
            Category.BUSY,
            True,
        ),
        (
            b"events=dropped&address=138xxxxxxxx&send_id=093c&report=BEYONDD&app=1"
            b"&timestamp=1&token=t&signature=s",
            "BEYONDD",
            Category.BILLING,
            False,
        ),
    ],
    ids=["delivered", "undeliv", "daily-limit"],
)
def test_subhook_events(body: bytes, code: str, category: Category, retryable: bool) -> None:
    o = normalizer.classify_callback(body, FORM)
    assert o.vendor == VENDOR
    assert o.product == "subhook"
    assert o.code is not None
    assert o.code.strip() == code
    assert o.category is category
    assert o.retryable is retryable
    assert o.delivery_outcome is True


def test_minute_limit_receipt_names_its_window() -> None:
    o = lookup(VENDOR, "BEYONDM", product="subhook")
    assert (o.category, o.scope, o.retry_after) == (Category.BUSY, "recipient", 60)


@pytest.mark.parametrize(
    "url",
    [
        SEND_URL,
        "https://api.mysubmail.com/message/xsend",
        "https://us-api.mysubmail.com/sms/send",
        "https://api.submail.cn/addressbook/sms/subscribe",
    ],
)
def test_api_hosts_are_detected(url: str) -> None:
    assert call({"status": "success", "send_id": "x"}, url=url).vendor == VENDOR


@pytest.mark.parametrize(
    "url",
    ["https://www.mysubmail.com/documents/rK2yh3", "https://www.mysubmail.com/console/sms/apps"],
)
def test_web_pages_are_not_claimed(url: str) -> None:
    assert not claimed(url)


def test_app_key_is_masked(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG", logger="normalizer")
    url = "https://api-v4.mysubmail.com/sms/send?appid=10001&signature=APPKEYSECRET&to=13812345678"
    get(url, httpx.Response(400, json={"status": "error", "code": "101", "msg": "x"}))
    text = logged(caplog)
    assert "code=101" in text
    assert "APPKEYSECRET" not in text
    assert "13812345678" not in text
