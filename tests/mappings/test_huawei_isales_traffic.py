"""Huawei Cloud CEC: real traffic beyond the CC-iSales seed table.

Where the bodies and tables come from:
- ``sources/huawei_isales/cec_07_0696.txt``: CEC 错误码参考,
  https://support.huaweicloud.com/intl/zh-cn/api-cec/cec_07_0696.html (the CC-CMS numbering,
  success "0100000"), copied as read.
- CC-CMS answers ``{"resultCode": "0100000", "resultDesc": {"data": [...]}}`` for
  ``/rest/cmsapp/v2/openapi/vdn/querycalls`` (public client code of a CEC customer,
  HuaweiAICCClient and its tests).
- 统计当日外呼数据, https://support.huaweicloud.com/api-ccfs-cec/cec_07_0765.html:
  ``GET /rest/isales/v2/openapi/campaigns/{vdnId}/statistics`` answers ``{"countDetail": [...]}``.
- The seed's queryOBSResultCode sample (obsCodes are data).
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import httpx
import pytest

import normalizer
from normalizer import Category, Match, classify, lookup
from tests.mappings.conftest import source_file

VENDOR = "huawei_isales"
MAPPING = Path(__file__).resolve().parents[2] / "mappings" / "huawei_isales.toml"
HOST = "https://10.0.0.1:28090"
CMS_QUERYCALLS = "https://brazilsaas.aicccloud.com:28443/rest/cmsapp/v2/openapi/vdn/querycalls"


def parse_cms_table(text: str) -> dict[str, str]:
    """The rows after the "错误码<TAB>描述" header: code -> description."""
    lines = text.splitlines()
    start = lines.index("错误码\t描述")
    rows: dict[str, str] = {}
    for line in lines[start + 1 :]:
        code, description = line.split("\t")
        assert code.isdigit(), line
        assert len(code) == 7, line
        assert code not in rows, code
        rows[code] = description
    return rows


def cms_source() -> str:
    """The saved CEC error-code page (skips the test when it is not in this checkout)."""
    return source_file(VENDOR, "cec_07_0696.txt").read_text(encoding="utf-8")


def _post(url: str, status: int, body: Any, **options: Any) -> normalizer.Outcome:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json=body)

    with normalizer.Client(transport=httpx.MockTransport(handler), retry=None, **options) as client:
        response = client.post(url, json={"ccId": 1, "vdn": 1})
    outcome = normalizer.outcome_of(response)
    assert outcome is not None
    return outcome


def _get(url: str, body: Any, **options: Any) -> normalizer.Outcome:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=body)

    with normalizer.Client(transport=httpx.MockTransport(handler), retry=None, **options) as client:
        response = client.get(url)
    outcome = normalizer.outcome_of(response)
    assert outcome is not None
    return outcome


# ------------------------------------------------------ the CC-CMS family (0100000)


def test_cms_table_parser() -> None:
    rows = parse_cms_table(cms_source())
    assert len(rows) == 8
    assert rows["0100000"] == "接口调用成功"
    assert rows["0101003"] == "权限不足"


def test_every_cms_code_is_mapped_with_the_same_text() -> None:
    rows = parse_cms_table(cms_source())
    for code, description in rows.items():
        o = lookup(VENDOR, code, product="cms")
        assert o.matched == Match.EXACT, code
        assert o.message == description, code
        assert o.gloss, code
        assert o.category is not Category.UNKNOWN, code
    with MAPPING.open("rb") as fh:
        table = tomllib.load(fh)["products"]["cms"]["codes"]
    assert set(table) == set(rows)


def test_cms_success_through_a_client() -> None:
    body = {"resultCode": "0100000", "resultDesc": {"data": [{"callId": "call-1"}]}}
    o = _post(CMS_QUERYCALLS, 200, body, raise_on_error=True)
    assert (o.vendor, o.product, o.code) == (VENDOR, "cms", "0100000")
    assert o.ok


@pytest.mark.parametrize(
    ("code", "category"),
    [
        ("0100002", Category.VALIDATION),
        ("0101002", Category.NOT_FOUND),
        ("0101003", Category.AUTH),
        ("0100999", Category.SERVER),
    ],
)
def test_cms_errors(code: str, category: Category) -> None:
    # the doc's error example: {"resultCode": "0100002", "resultDesc": "参数不合法"}
    body = {"resultCode": code, "resultDesc": "参数不合法"}
    o = classify(VENDOR, body, url=CMS_QUERYCALLS)
    assert o.product == "cms"
    assert o.category is category
    assert o.vendor_message == "参数不合法"


def test_cms_codes_never_fall_back_to_isales() -> None:
    # an iSales success code on a CMS path is not read with the iSales table
    o = classify(VENDOR, {"resultCode": "0200000"}, url=CMS_QUERYCALLS)
    assert o.product == "cms"
    assert not o.ok
    assert o.matched == Match.UNMAPPED


# ------------------------------------------------------ v2 statistics: no code, success


STATS = f"{HOST}/rest/isales/v2/openapi/campaigns/1/statistics?campaignId=1"
COUNT_DETAIL = {
    "countDetail": [
        {
            "campaignId": "1",
            "unCallCount": 3,
            "calledCount": 2,
            "finishCount": 2,
            "batchDetail": [],
            "totalCalledCount": 2,
            "totalCallSucc": 1,
            "totalFinishCount": 2,
            "totalCount": 5,
            "dailyCalledCount": 2,
            "dailyCallSucc": 1,
            "dailyFinishCount": 2,
            "dailyCount": 5,
        }
    ]
}


def test_v2_statistics_without_a_code_is_ok() -> None:
    o = _get(STATS, COUNT_DETAIL, raise_on_error=True)  # must not raise
    assert o.vendor == VENDOR
    assert o.ok
    assert o.matched == Match.NO_CODE


def test_a_body_without_code_elsewhere_stays_missing() -> None:
    o = classify(VENDOR, COUNT_DETAIL, url=f"{HOST}/rest/isales/v1/openapi/campaigns/1")
    assert not o.ok
    assert o.matched == Match.MISSING


def test_v2_statistics_error_code_still_read() -> None:
    o = classify(VENDOR, {"resultCode": "02000001", "resultDesc": "x"}, url=STATS)
    assert o.category is Category.VALIDATION


# ------------------------------------------------------ OBS results stay data


def test_obs_code_query_is_not_an_item_failure() -> None:
    # the seed's queryOBSResultCode sample: a query of call results, not failed calls
    body = {
        "obsCodes": [
            {"obsCodeDesc": "The switch is busy.", "obsCode": "00605"},
            {"obsCodeDesc": "The call is rejected.", "obsCode": "00604"},
        ],
        "returnCode": "0200000",
        "resultCode": "0200000",
        "resultDesc": "query queryOBSResultCode Success!",
        "totalCount": 120,
        "returnDesc": "query queryOBSResultCode Success!",
    }
    url = f"{HOST}/rest/isales/v1/openapi/campaigns/1/queryOBSResultCode?pageSize=5&pageNum=1"
    o = _get(url, body, raise_on_error=True)
    assert o.ok
    assert o.partial is False
    assert o.items == ()
    assert o.call_outcome is False


def test_401_through_a_client() -> None:
    o = _post(f"{HOST}/rest/isales/v1/openapi/campaigns/1/queryOBSResultCode", 401, {})
    assert o.category is Category.AUTH
    assert o.matched == Match.HTTP_STATUS
