"""AIRudder: the "Error Codes" table (code number and description glued together)."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest

import normalizer
from normalizer import Category, classify, lookup

VENDOR = "airudder"
SEED = "003_fdf9cf1454cebfec.txt"
MAPPING = Path(__file__).resolve().parents[2] / "mappings" / "airudder.toml"

SeedText = Callable[[str], str]

ROW = re.compile(r"(\d{3,5})(\D.*)")


def parse_error_codes(text: str) -> dict[str, str]:
    """Parse the rows after the "Code numberDescription" header, up to the page footer."""
    start = text.index("Code numberDescription")
    end = text.index("上一页", start)
    codes: dict[str, str] = {}
    for line in text[start:end].splitlines()[1:]:
        line = line.strip()
        if not line:
            continue
        match = ROW.fullmatch(line)
        assert match, line
        code, description = match.group(1), match.group(2).strip()
        assert code not in codes, code
        codes[code] = description
    return codes


# ---------------------------------------------------------------- document coverage


def test_parser_finds_every_row(seed_text: SeedText) -> None:
    codes = parse_error_codes(seed_text(SEED))
    assert len(codes) == 50
    assert "401" in codes
    assert all(c.startswith("10") and len(c) == 5 for c in codes if c != "401")


def test_every_documented_code_is_mapped_exactly(seed_text: SeedText) -> None:
    for code, description in parse_error_codes(seed_text(SEED)).items():
        o = lookup(VENDOR, code)
        if o.matched == "ambiguous":
            # the predictive-dialer family numbers it too, with a table of its own
            # (mappings/airudder.toml): a bare lookup never guesses, and the seed's reading is
            # one of the candidates; a request to the seed's API reads it exactly
            (o,) = [c for c in o.candidates if c.product is None]
            routed = seed_api(code)
            assert (routed.matched, routed.message) == ("exact", description), code
        assert o.matched == "exact", code
        assert o.message == description, code
        assert o.code == code
        assert o.gloss
        assert o.call_outcome is False


def test_mapping_has_no_codes_the_document_lacks(seed_text: SeedText) -> None:
    documented = set(parse_error_codes(seed_text(SEED)))
    with MAPPING.open("rb") as f:
        mapping = tomllib.load(f)
    assert set(mapping["codes"]) == documented


# ---------------------------------------------------------------- pinned decisions

CLOUD = "https://api.airudder.com/service/cloud/task"


def seed_api(code: str) -> normalizer.Outcome:
    """The seed table's reading: a request to the API it documents (/service/cloud). A bare
    lookup of a number the predictive-dialer family also lists is ambiguous by design."""
    return classify(VENDOR, {"code": code}, url=CLOUD)


PINNED: list[tuple[str, Category, bool]] = [
    # (code, category, retryable)
    ("401", Category.AUTH, False),
    ("10101", Category.AUTH, False),
    ("10102", Category.AUTH, False),
    ("10301", Category.VALIDATION, False),
    ("10302", Category.VALIDATION, False),
    ("10402", Category.VALIDATION, False),
    ("10403", Category.VALIDATION, False),
    ("10406", Category.VALIDATION, False),
    ("10409", Category.VALIDATION, False),
    ("10416", Category.VALIDATION, False),
    ("10423", Category.VALIDATION, False),
    ("10502", Category.VALIDATION, False),
    ("10503", Category.NOT_FOUND, False),
    ("10504", Category.SERVER, True),
    ("10602", Category.VALIDATION, False),
    ("10702", Category.NOT_FOUND, False),
    ("10801", Category.VALIDATION, False),
    ("10802", Category.VALIDATION, False),
    ("10804", Category.VALIDATION, False),
    ("10809", Category.VALIDATION, False),
    ("10901", Category.VALIDATION, False),
    ("10902", Category.VALIDATION, False),
    ("10903", Category.VALIDATION, False),
    ("10904", Category.VALIDATION, False),
    ("10905", Category.VALIDATION, False),
    ("10906", Category.AUTH, False),
    ("10907", Category.VALIDATION, False),
]


@pytest.mark.parametrize(
    ("code", "category", "retryable"),
    PINNED,
    ids=[f"{c}-{cat.value}" for c, cat, _ in PINNED],
)
def test_pinned_decision(code: str, category: Category, retryable: bool) -> None:
    o = seed_api(code)
    assert o.matched == "exact"
    assert o.category == category
    assert o.retryable is retryable


def test_stop_failure_is_not_resent_blindly() -> None:
    o = seed_api("10504")
    assert o.category == Category.SERVER
    assert o.rejected is False


def test_unknown_code_is_unmapped() -> None:
    o = seed_api("10803")  # gap in the documented table (the dialer's table lists it)
    assert o.matched == "unmapped"
    assert o.category == Category.UNKNOWN


# ---------------------------------------------------------------- classify


def test_classify_success() -> None:
    o = classify(VENDOR, {"status": "OK", "code": 200, "data": {}})
    assert o.category == Category.OK
    assert o.code == "200"


def test_classify_error_body_keeps_vendor_message() -> None:
    body = b'{"status":"Error","code":10403,"message":"Task name already exists."}'
    o = classify(VENDOR, body, status_code=200)
    assert o.category == Category.VALIDATION
    assert o.matched == "exact"
    assert o.code == "10403"
    assert o.vendor_message == "Task name already exists."


def test_classify_401_html_body_is_auth_via_http_status() -> None:
    body = b"<html><head><title>401 Authorization Required</title></head><body></body></html>"
    o = classify(VENDOR, body, status_code=401)
    assert o.category == Category.AUTH
    assert o.matched == "http_status"
    assert o.http_status == 401
    assert o.message == "token is incorrect or expired"


def test_classify_token_error_in_body() -> None:
    o = classify(VENDOR, {"status": "Error", "code": 401, "message": "Token is incorrect."})
    assert o.category == Category.AUTH
    assert o.matched == "exact"


def test_detect_by_host() -> None:
    o = classify(
        VENDOR,
        {"status": "Error", "code": 10702, "message": "Task ID is invalid"},
        url="https://api.airudder.com/service/task/detail",
    )
    assert o.category == Category.NOT_FOUND


# ---------------------------------------------------------------- scope

# No AIRudder text names a scope other than its category's default, so none is written
SCOPES = [
    ("401", "account"),  # auth
    ("10101", "account"),  # auth
    ("10906", "account"),  # auth (account service does not match the interface)
    ("10504", "vendor"),  # server (the stop operation failed)
    ("10301", "request"),  # validation
    ("10503", "request"),  # not_found
]


@pytest.mark.parametrize(("code", "scope"), SCOPES, ids=[c for c, _ in SCOPES])
def test_scope_defaults(code: str, scope: str) -> None:
    assert seed_api(code).scope == scope


def test_scope_of_401_is_the_account() -> None:
    assert classify(VENDOR, b"<html></html>", status_code=401).scope == "account"
