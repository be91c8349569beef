"""UCPaaS (云之讯) call center: the "rest返回码" page, a MediaWiki table on a single line."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest

from normalizer import Category, classify, lookup

VENDOR = "ucpaas"
SEED = "000_92f36a30ecbd046a.txt"
MAPPING = Path(__file__).resolve().parents[2] / "mappings" / "ucpaas.toml"

SeedText = Callable[[str], str]

CODE = re.compile(r"(?:107|200)\d{3}")


def parse_wiki_table(text: str) -> dict[str, str]:
    """Parse the ``{| ... |}`` table: rows separated by ``|-``, cells by ``|``.

    The first chunk before the first ``|-`` is the table attributes and the header row
    (``!``-cells), so it is skipped; every following row is ``|code |description``.
    """
    start = text.index("{|")
    end = text.index("|}", start)
    codes: dict[str, str] = {}
    for row in text[start + 2 : end].split("|-")[1:]:
        cells = row.split("|")
        assert len(cells) == 3, row
        assert not cells[0].strip(), row
        code, description = cells[1].strip(), cells[2].strip()
        assert CODE.fullmatch(code), row
        assert description, row
        assert code not in codes, code
        codes[code] = description
    return codes


# ---------------------------------------------------------------- document coverage


def test_parser_finds_every_row(seed_text: SeedText) -> None:
    text = seed_text(SEED)
    codes = parse_wiki_table(text)
    assert len(codes) == 208
    assert sum(c.startswith("107") for c in codes) == 147
    assert sum(c.startswith("200") for c in codes) == 61
    # every 107xxx/200xxx number in the table is a row code the parser saw
    table = text[text.index("{|") : text.index("|}")]
    assert set(re.findall(r"\|((?:107|200)\d{3}) ", table)) == set(codes)
    # the document skips these two numbers
    assert "107122" not in codes
    assert "107215" not in codes
    # a few rows copied exactly, stray spaces included
    assert codes["107221"] == "队列 已存在"
    assert codes["107247"] == "client 正在通话中"
    assert codes["107239"] == "预测式外呼用户号码需要为 PST"


def test_every_documented_code_is_mapped_exactly(seed_text: SeedText) -> None:
    for code, description in parse_wiki_table(seed_text(SEED)).items():
        o = lookup(VENDOR, code)
        assert o.matched == "exact", code
        assert o.message == description, code
        assert o.code == code
        assert o.gloss, code
        assert o.call_outcome is False, code
        assert o.category is not Category.UNKNOWN, code


def test_integer_codes_resolve_too(seed_text: SeedText) -> None:
    codes = parse_wiki_table(seed_text(SEED))
    for code in ("107225", "200011"):
        o = lookup(VENDOR, int(code))
        assert o.matched == "exact"
        assert o.message == codes[code]


def test_mapping_has_no_codes_the_document_lacks(seed_text: SeedText) -> None:
    documented = set(parse_wiki_table(seed_text(SEED)))
    with MAPPING.open("rb") as f:
        mapping = tomllib.load(f)
    # the seed's families only: the REST general codes (100xxx-105xxx) come from other
    # sources and are checked in test_ucpaas_traffic.py
    seed_codes = {c for c in mapping["codes"] if CODE.fullmatch(c)}
    assert seed_codes == documented
    assert mapping["vendor"]["id"] == VENDOR


# ---------------------------------------------------------------- pinned decisions

PINNED: list[tuple[str, Category, bool, bool]] = [
    # (code, category, retryable, rejected)
    ("107100", Category.VALIDATION, False, False),  # 请求参数值非法
    ("107113", Category.VALIDATION, False, False),  # 被叫号码不合法
    ("107131", Category.SERVER, True, True),  # bbcp 服务没连通: backend not connected
    ("107132", Category.SERVER, True, False),  # bbcp answered without ret: may have acted
    ("107137", Category.SERVER, True, True),  # no ccbp session connection
    ("107139", Category.SERVER, False, True),  # TCP找不到业务类型: repeats on every retry
    ("107140", Category.SERVER, True, False),  # config middleware internal exception
    ("107145", Category.VALIDATION, False, False),  # TTS text over 256 characters
    ("107156", Category.AUTH, False, False),  # app is not a call-center app: not allowed
    ("107159", Category.AUTH, False, False),  # no business unit configured for the appId
    ("107177", Category.NOT_FOUND, False, False),  # no file for the voice file ID
    ("107197", Category.VALIDATION, False, False),  # 该时间禁止发起呼叫
    ("107198", Category.VALIDATION, False, False),  # 被叫号码禁止呼叫
    ("107200", Category.VALIDATION, False, False),  # APPID已存在
    ("107201", Category.NOT_FOUND, False, False),  # APPID不存在
    ("107202", Category.NOT_FOUND, False, False),  # Callid不存在
    ("107208", Category.VALIDATION, False, False),  # 坐席已签入 (state)
    ("107223", Category.SERVER, True, False),  # 内存不够
    ("107224", Category.VALIDATION, False, False),  # Json解析错误
    ("107225", Category.BUSY, True, True),  # 外呼繁忙
    ("107226", Category.SERVER, True, True),  # 消息溢出: overload
    ("107227", Category.BUSY, True, True),  # TTS服务繁忙
    ("107228", Category.BUSY, True, True),  # TTS网络繁忙
    ("107231", Category.BILLING, False, False),  # 计费错误
    ("107232", Category.SERVER, True, False),  # 外呼失败: may have dialled
    ("107236", Category.VALIDATION, False, False),  # already monitored
    ("107240", Category.BUSY, True, True),  # 指定队列无空闲坐席
    ("107241", Category.VALIDATION, False, False),  # 重复操作
    ("107242", Category.BILLING, False, False),  # 账户余额不足
    ("107244", Category.BUSY, True, True),  # 坐席保持中,稍后操作
    ("107246", Category.BUSY, True, True),  # 坐席正在通话中
    ("107247", Category.BUSY, True, True),  # client 正在通话中
    ("107999", Category.SERVER, True, False),  # 系统内部错误码
    ("200002", Category.NOT_FOUND, False, False),  # 应用不存在
    ("200006", Category.AUTH, False, False),  # 主账户已关闭或者不存在
    ("200008", Category.AUTH, False, False),  # 主账户权限不足
    ("200010", Category.AUTH, False, False),  # malformed timestamp
    ("200011", Category.AUTH, False, False),  # 时间戳过期
    ("200013", Category.AUTH, False, False),  # wrong MD5 signature
    ("200014", Category.VALIDATION, False, False),  # 请勿重复提交
    ("200099", Category.SERVER, True, False),  # 系统内部错误
    ("200105", Category.VALIDATION, False, False),  # voice file over 2MB
    ("200204", Category.VALIDATION, False, False),  # 应用名称已存在
    ("200301", Category.BILLING, False, False),  # 应用余额不存在
    ("200404", Category.VALIDATION, False, False),  # 号码已存在
    ("200510", Category.NOT_FOUND, False, False),  # 短信模板不存在
    ("200513", Category.NOT_FOUND, False, False),  # 短信模板已删除
]


@pytest.mark.parametrize(
    ("code", "category", "retryable", "rejected"), PINNED, ids=[p[0] for p in PINNED]
)
def test_pinned_decision(code: str, category: Category, retryable: bool, rejected: bool) -> None:
    o = lookup(VENDOR, code)
    assert o.matched == "exact"
    assert o.category is category
    assert o.retryable is retryable
    assert o.rejected is rejected
    assert o.call_outcome is False


def test_busy_codes_are_all_transient() -> None:
    with MAPPING.open("rb") as f:
        mapping = tomllib.load(f)
    busy = {c for c, e in mapping["codes"].items() if e["category"] == "busy" and CODE.fullmatch(c)}
    assert busy == {"107225", "107227", "107228", "107240", "107244", "107246", "107247"}
    for code in busy:
        o = lookup(VENDOR, code)
        assert o.retryable, code
        assert o.rejected, code


# ---------------------------------------------------------------- envelope


@pytest.mark.parametrize(
    ("body", "code", "category"),
    [
        (b'{"resp": {"respCode": "107225", "respDesc": "x"}}', "107225", Category.BUSY),
        (b'{"respCode": "200011", "respDesc": "x"}', "200011", Category.AUTH),
        (b'{"resp": {"respCode": "000000"}}', "000000", Category.OK),
        (b'{"respCode": "0"}', "0", Category.OK),
    ],
    ids=["nested-busy", "flat-auth", "nested-success", "flat-success"],
)
def test_classify_envelope(body: bytes, code: str, category: Category) -> None:
    o = classify(VENDOR, body, status_code=200)
    assert o.code == code
    assert o.category is category


def test_classify_reports_vendor_message() -> None:
    body = '{"resp": {"respCode": "107242", "respDesc": "账户余额不足"}}'.encode()
    o = classify(VENDOR, body, status_code=200, url="https://api.ucpaas.com/2014-06-30/x")
    assert o.category is Category.BILLING
    assert o.vendor_message == "账户余额不足"


# ---------------------------------------------------------------- scope

SCOPES = [
    # (code, product, scope): explicit where the text names whom the answer is about
    ("107225", None, "account"),  # 外呼繁忙: the account's outbound capacity
    ("107227", None, "vendor"),  # TTS服务繁忙: the platform's TTS service
    ("107228", None, "vendor"),  # TTS网络繁忙
    ("107240", None, "resource"),  # 指定队列无空闲坐席: one queue
    ("107246", None, "resource"),  # 坐席正在通话中: one agent
    ("107247", None, "resource"),  # client 正在通话中: one client
    ("103125", None, "resource"),  # 子账号余额不足: one sub-account, not the main account
    ("104113", None, "recipient"),  # 不能同时呼叫同一被叫: one callee
    ("105116", None, "recipient"),  # 同一天同一用户 ... 3条相同的短信: per-user daily cap
    ("105130", None, "request"),  # 30秒内不能连续发同样的内容: only this content waits
    ("105131", None, "recipient"),  # 30秒内不能给同一号码 ...: one number
    ("105147", "sms", "recipient"),  # 对同个号码发送短信超过限定频率
    ("105150", "sms", "account"),  # 短信发送频率过快
    ("105166", "sms", "account"),  # 请求频率过快
    # defaults (no scope written)
    ("107242", None, "account"),  # billing
    ("200013", None, "account"),  # auth
    ("107999", None, "vendor"),  # server
    ("107100", None, "request"),  # validation
    ("300006", "sms", "recipient"),  # a delivery report (系统忙)
]


@pytest.mark.parametrize(
    ("code", "product", "scope"), SCOPES, ids=[f"{p or 'rest'}-{c}" for c, p, _ in SCOPES]
)
def test_scope(code: str, product: str | None, scope: str) -> None:
    o = lookup(VENDOR, code, product=product)
    assert o.matched == "exact"
    assert o.scope == scope


def test_only_account_and_platform_busy_codes_are_shared() -> None:
    # agent/queue/callee/content busy answers concern one call, not every call to UCPaaS
    with MAPPING.open("rb") as f:
        mapping = tomllib.load(f)
    for product, table, shared in [
        (None, mapping["codes"], {"107225", "107227", "107228"}),
        ("sms", mapping["products"]["sms"]["codes"], {"105150", "105166"}),
    ]:
        busy = [c for c, e in table.items() if e["category"] == "busy"]
        got = {c for c in busy if lookup(VENDOR, c, product=product).scope.shared}
        assert got == shared, product


def test_message_overflow_is_an_overload_of_the_platform() -> None:
    # seed table: 107226 消息溢出: the platform's queue overflowed (issue 31): a server answer that
    # also slows every call down (Outcome.overload feeds the adaptive limiter)
    found = lookup(VENDOR, "107226")
    assert (found.category, found.scope, found.overload) == (Category.SERVER, "vendor", True)
    assert found.rejected
    assert found.retryable
    assert not lookup(VENDOR, "107999").overload  # an internal error is no overload
