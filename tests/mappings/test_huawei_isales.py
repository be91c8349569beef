"""Huawei Cloud CEC CC-iSales: table 5 (错误原因码说明) and the OBS call-result codes."""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from normalizer import Category, classify, lookup

VENDOR = "huawei_isales"
SEED = "001_95761108493916c8.txt"
MAPPING = Path(__file__).resolve().parents[2] / "mappings" / "huawei_isales.toml"

SeedText = Callable[[str], str]


def parse_table5(text: str) -> dict[str, str]:
    """Parse 表5 错误原因码说明: after the headers 序号/错误码/说明, one value per line."""
    start = text.index("表5 错误原因码说明")
    end = text.index("报文样例", start)
    lines = [line.strip() for line in text[start:end].splitlines()[1:] if line.strip()]
    assert lines[:3] == ["序号", "错误码", "说明"]
    cells = lines[3:]
    assert len(cells) % 3 == 0, cells
    codes: dict[str, str] = {}
    for i in range(0, len(cells), 3):
        number, code, description = cells[i : i + 3]
        assert number == str(i // 3 + 1), (number, code)
        assert re.fullmatch(r"\d+", code), code
        assert code not in codes, code
        codes[code] = description
    return codes


def parse_obs_sample(text: str) -> dict[str, Any]:
    """Parse the JSON response sample under 报文样例."""
    start = text.index("报文样例")
    end = text.index("分享:", start)
    block = text[start:end]
    sample: dict[str, Any] = json.loads(block[block.index("{") : block.rindex("}") + 1])
    return sample


def obs_codes(sample: dict[str, Any]) -> dict[str, str]:
    return {item["obsCode"]: item["obsCodeDesc"] for item in sample["obsCodes"]}


def load_mapping() -> dict[str, Any]:
    with MAPPING.open("rb") as f:
        return tomllib.load(f)


# ---------------------------------------------------------------- document coverage


def test_table5_parser_finds_every_row(seed_text: SeedText) -> None:
    codes = parse_table5(seed_text(SEED))
    assert len(codes) == 12
    assert "0200001" in codes
    assert [f"020000{n:02d}" for n in range(1, 12)] == [c for c in codes if len(c) == 8]


def test_every_table5_code_is_mapped_exactly(seed_text: SeedText) -> None:
    for code, description in parse_table5(seed_text(SEED)).items():
        o = lookup(VENDOR, code)
        assert o.matched == "exact", code
        assert o.message == description, code
        assert o.code == code
        assert o.product is None
        assert o.gloss


def test_mapping_has_no_codes_the_document_lacks(seed_text: SeedText) -> None:
    text = seed_text(SEED)
    documented = set(parse_table5(text))
    # the success code is documented in 表3 (resultCode/returnCode), not as a table 5 row
    assert "0200000表示成功" in text
    mapping = load_mapping()
    assert set(mapping["codes"]) == documented | {"0200000"}
    assert mapping["envelope"]["success"] == ["0200000"]


def test_obs_sample_parser_finds_every_code(seed_text: SeedText) -> None:
    sample = parse_obs_sample(seed_text(SEED))
    codes = obs_codes(sample)
    assert len(codes) == 5
    assert sorted(codes) == ["00602", "00603", "00604", "00605", "00606"]
    assert sample["resultCode"] == sample["returnCode"] == "0200000"


def test_every_obs_code_is_mapped_exactly(seed_text: SeedText) -> None:
    codes = obs_codes(parse_obs_sample(seed_text(SEED)))
    for code, description in codes.items():
        o = lookup(VENDOR, code, product="obs")
        assert o.matched == "exact", code
        assert o.message == description, code
        assert o.product == "obs"
        assert o.call_outcome is True, code
        assert o.retryable is False, code
    assert set(load_mapping()["products"]["obs"]["codes"]) == set(codes)


# ---------------------------------------------------------------- pinned decisions

PINNED: list[tuple[str, str | None, Category, bool]] = [
    # (code, product, category, retryable)
    ("0200000", None, Category.OK, False),
    ("0200001", None, Category.VALIDATION, False),
    ("02000001", None, Category.VALIDATION, False),
    ("02000002", None, Category.VALIDATION, False),
    ("02000003", None, Category.VALIDATION, False),
    ("02000004", None, Category.VALIDATION, False),
    ("02000005", None, Category.VALIDATION, False),
    ("02000006", None, Category.VALIDATION, False),
    ("02000007", None, Category.VALIDATION, False),
    ("02000008", None, Category.VALIDATION, False),
    ("02000009", None, Category.VALIDATION, False),
    ("02000010", None, Category.VALIDATION, False),
    ("02000011", None, Category.VALIDATION, False),
    ("00602", "obs", Category.BUSY, False),
    ("00603", "obs", Category.BUSY, False),
    ("00604", "obs", Category.BUSY, False),
    ("00605", "obs", Category.BUSY, False),
    ("00606", "obs", Category.BUSY, False),
]


@pytest.mark.parametrize(
    ("code", "product", "category", "retryable"),
    PINNED,
    ids=[f"{p or 'api'}-{c}-{cat.value}" for c, p, cat, _ in PINNED],
)
def test_pinned_decision(
    code: str, product: str | None, category: Category, retryable: bool
) -> None:
    o = lookup(VENDOR, code, product=product)
    assert o.matched == "exact"
    assert o.category == category
    assert o.retryable is retryable
    assert o.call_outcome is (product == "obs")


@pytest.mark.parametrize("code", ["200001", "2000001", "020000010", "0200002"])
def test_leading_zeros_matter(code: str) -> None:
    o = lookup(VENDOR, code)
    assert o.matched == "unmapped"
    assert o.category == Category.UNKNOWN


def test_obs_codes_are_not_vendor_codes() -> None:
    o = lookup(VENDOR, "00605", product="obs")
    assert o.message == "The switch is busy."
    assert o.gloss == "switch busy"
    # a call outcome: the call ended busy; repeating the API request changes nothing
    assert o.category == Category.BUSY
    assert o.retryable is False


# ---------------------------------------------------------------- classify


def test_success_body_with_obs_codes_is_ok(seed_text: SeedText) -> None:
    sample = parse_obs_sample(seed_text(SEED))
    o = classify(VENDOR, json.dumps(sample).encode(), status_code=200)
    # the obsCodes list is data, not the status of the request
    assert o.category == Category.OK
    assert o.code == "0200000"
    assert o.call_outcome is False
    assert o.vendor_message == "query queryOBSResultCode Success!"


def test_classify_parameter_error_keeps_vendor_message() -> None:
    o = classify(VENDOR, {"resultCode": "0200001", "resultDesc": "x"})
    assert o.category == Category.VALIDATION
    assert o.matched == "exact"
    assert o.code == "0200001"
    assert o.vendor_message == "x"
    assert o.retryable is False


def test_classify_return_code_fallback() -> None:
    o = classify(VENDOR, {"returnCode": "02000003", "returnDesc": "too long"})
    assert o.category == Category.VALIDATION
    assert o.code == "02000003"
    assert o.vendor_message == "too long"


def test_classify_401_is_auth_via_http_status() -> None:
    o = classify(VENDOR, b"", status_code=401)
    assert o.category == Category.AUTH
    assert o.matched == "http_status"
    assert o.http_status == 401


def test_classify_obs_product_explicitly() -> None:
    o = classify(VENDOR, {"obsCode": "00605"}, product="obs")
    assert o.category == Category.BUSY
    assert o.product == "obs"
    assert o.call_outcome is True
    assert o.retryable is False


def test_detect_by_path() -> None:
    url = "https://10.0.0.1:28090/rest/isales/v1/openapi/campaigns/1/queryOBSResultCode"
    o = classify(VENDOR, {"resultCode": "02000001", "resultDesc": "e"}, url=url)
    assert o.category == Category.VALIDATION
    assert o.product is None


# ---------------------------------------------------------------- scope

SCOPES = [
    # (code, product, scope)
    ("00602", "obs", "resource"),  # "No resource available on the ACD.": explicit
    ("00603", "obs", "recipient"),  # callee did not answer: a call outcome's default
    ("0200001", None, "request"),  # parameter error: default
    ("0100999", "cms", "vendor"),  # 未知异常: server default
    ("0101003", "cms", "account"),  # 权限不足: auth default
]


@pytest.mark.parametrize(
    ("code", "product", "scope"), SCOPES, ids=[f"{p or 'api'}-{c}" for c, p, _ in SCOPES]
)
def test_scope(code: str, product: str | None, scope: str) -> None:
    o = lookup(VENDOR, code, product=product)
    assert o.matched == "exact"
    assert o.scope == scope


def test_scope_of_401_is_the_account() -> None:
    assert classify(VENDOR, b"", status_code=401).scope == "account"
