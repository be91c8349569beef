"""Onbuka mapping: every code of the four product tables in the seed document; pinned decisions."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from normalizer import Category, classify, lookup

SEED = "004_eccdce29e4e69b28.txt"
MAPPING = Path(__file__).resolve().parents[2] / "mappings" / "onbuka.toml"

# table title in the document -> product name in the mapping
TITLES = {
    "Response status code description:": "sms",
    "Voice response status code description:": "voice",
    "Intelligent voice response status code description:": "ai_voice",
    "Call Center response status code description:": "call_center",
}
EXPECTED_COUNTS = {"sms": 29, "voice": 34, "ai_voice": 35, "call_center": 62}
CODE_LINE = re.compile(r"^(0|-[1-9]\d*) \|$")

SeedText = Callable[[str], str]


def parse_tables(text: str) -> dict[str, dict[str, str]]:
    """Split the document into its four "status | reason |" tables: product -> {code: reason}.

    Each table is a title line, the header "status | reason |", "---|---|", then one line per
    cell, each ending in " |": a code line ("-3 |") followed by its reason line.
    """
    lines = [line.strip() for line in text.splitlines()]
    tables: dict[str, dict[str, str]] = {}
    i = 0
    while i < len(lines):
        product = TITLES.get(lines[i])
        if product is None:
            i += 1
            continue
        assert product not in tables, f"table {lines[i]!r} appears twice"
        assert lines[i + 1] == "status | reason |", lines[i + 1]
        assert lines[i + 2] == "---|---|", lines[i + 2]
        i += 3
        rows: dict[str, str] = {}
        while i + 1 < len(lines):
            match = CODE_LINE.match(lines[i])
            if match is None:
                break
            reason = lines[i + 1]
            assert reason.endswith(" |"), f"reason line without a closing cell: {reason!r}"
            code = match.group(1)
            assert code not in rows, f"{product}: code {code} listed twice"
            rows[code] = reason[: -len(" |")].strip()
            i += 2
        tables[product] = rows
    return tables


@pytest.fixture
def tables(seed_text: SeedText) -> dict[str, dict[str, str]]:
    return parse_tables(seed_text(SEED))


def load_mapping() -> dict[str, Any]:
    with MAPPING.open("rb") as fh:
        return tomllib.load(fh)


def test_parser_finds_every_table_and_code(tables: dict[str, dict[str, str]]) -> None:
    assert {product: len(rows) for product, rows in tables.items()} == EXPECTED_COUNTS
    assert sum(len(rows) for rows in tables.values()) == 160
    # spot checks that the parser pairs codes and reasons correctly
    assert tables["sms"]["-3"] == "SMS contents with sensitive characters"
    assert tables["ai_voice"]["-3"] == "The customer's balance is insufficient"
    assert tables["voice"]["0"] == "success"
    assert tables["call_center"]["-77"] == "There is no minimum rate value under the application"


@pytest.mark.parametrize("product", sorted(EXPECTED_COUNTS))
def test_every_document_code_is_mapped(tables: dict[str, dict[str, str]], product: str) -> None:
    for code, description in tables[product].items():
        outcome = lookup("onbuka", code, product=product)
        assert outcome.matched == "exact", (product, code)
        assert outcome.product == product, (product, code)
        assert outcome.code == code
        assert outcome.message == description, (product, code)
        assert outcome.category is not Category.UNKNOWN, (product, code)
        assert outcome.gloss, (product, code)


def test_mapping_has_no_codes_the_document_lacks(tables: dict[str, dict[str, str]]) -> None:
    data = load_mapping()
    assert data.get("codes", {}) == {}, "Onbuka codes belong to product tables only"
    products = data["products"]
    assert set(products) == set(tables)
    for product, table in products.items():
        # entries with a `source` of their own come from a separately sourced table (a
        # white-label brand's page, checked in test_onbuka_traffic.py), not this document
        seed_codes = {code for code, entry in table["codes"].items() if "source" not in entry}
        assert seed_codes == set(tables[product]), product


PINNED = [
    # (product, code, category, retryable, rejected)
    ("sms", "0", Category.OK, False, False),
    ("sms", "-1", Category.AUTH, False, False),
    ("sms", "-2", Category.AUTH, False, False),
    ("sms", "-3", Category.VALIDATION, False, False),
    ("sms", "-10", Category.BILLING, False, False),
    ("sms", "-12", Category.SERVER, True, False),
    ("sms", "-15", Category.BUSY, True, True),
    ("sms", "-16", Category.AUTH, False, False),
    ("sms", "-18", Category.SERVER, True, False),
    ("sms", "-19", Category.BILLING, False, False),
    ("sms", "-20", Category.VALIDATION, False, False),
    ("sms", "-24", Category.NOT_FOUND, False, False),
    ("sms", "-26", Category.BILLING, False, False),
    ("sms", "-27", Category.BILLING, False, False),
    ("voice", "-16", Category.AUTH, False, False),
    ("voice", "-30", Category.AUTH, False, False),
    ("voice", "-37", Category.BUSY, True, True),
    ("voice", "-41", Category.VALIDATION, False, False),
    ("voice", "-46", Category.BILLING, False, False),
    ("voice", "-48", Category.NOT_FOUND, False, False),
    ("ai_voice", "-1", Category.AUTH, False, False),
    ("ai_voice", "-3", Category.BILLING, False, False),
    ("ai_voice", "-4", Category.AUTH, False, False),
    ("ai_voice", "-5", Category.SERVER, True, False),
    ("ai_voice", "-32", Category.NOT_FOUND, False, False),
    ("ai_voice", "-33", Category.VALIDATION, False, False),
    ("ai_voice", "-43", Category.BILLING, False, False),
    ("ai_voice", "-46", Category.SERVER, True, False),
    ("ai_voice", "-47", Category.BUSY, True, True),
    ("ai_voice", "-52", Category.BUSY, True, True),
    ("call_center", "-10", Category.BILLING, False, False),
    ("call_center", "-18", Category.SERVER, True, False),
    ("call_center", "-24", Category.NOT_FOUND, False, False),
    ("call_center", "-34", Category.VALIDATION, False, False),
    ("call_center", "-67", Category.BUSY, True, True),
    ("call_center", "-75", Category.BILLING, False, False),
    ("call_center", "-77", Category.BILLING, False, False),
]


@pytest.mark.parametrize(
    ("product", "code", "category", "retryable", "rejected"),
    PINNED,
    ids=[f"{p}{c}-{cat.value}" for p, c, cat, _, _ in PINNED],
)
def test_pinned_decisions(
    product: str, code: str, category: Category, retryable: bool, rejected: bool
) -> None:
    outcome = lookup("onbuka", code, product=product)
    assert outcome.matched == "exact"
    assert outcome.category is category
    assert outcome.retryable is retryable
    assert outcome.rejected is rejected
    assert outcome.call_outcome is False


def test_minus_three_without_product_is_ambiguous() -> None:
    outcome = lookup("onbuka", "-3")
    assert outcome.category is Category.UNKNOWN
    assert outcome.matched == "ambiguous"
    readings = {c.product: (c.category, c.message) for c in outcome.candidates}
    assert readings == {
        "sms": (Category.VALIDATION, "SMS contents with sensitive characters"),
        "ai_voice": (Category.BILLING, "The customer's balance is insufficient"),
    }


@pytest.mark.parametrize(
    ("code", "category"),
    [
        ("-1", Category.AUTH),
        ("-10", Category.BILLING),
        ("-16", Category.AUTH),
        ("-18", Category.SERVER),
        ("-20", Category.VALIDATION),
        ("-24", Category.NOT_FOUND),
        ("-26", Category.BILLING),
    ],
    ids=["-1", "-10", "-16", "-18", "-20", "-24", "-26"],
)
def test_codes_shared_by_products_resolve_without_product(code: str, category: Category) -> None:
    outcome = lookup("onbuka", code)
    assert outcome.matched == "exact"
    assert outcome.category is category


@pytest.mark.parametrize("code", ["-4", "-12", "-37", "-52"])
def test_codes_with_conflicting_readings_stay_ambiguous(code: str) -> None:
    outcome = lookup("onbuka", code)
    assert outcome.matched == "ambiguous"
    assert outcome.category is Category.UNKNOWN
    assert len(outcome.candidates) >= 2


def test_int_code_with_product() -> None:
    outcome = lookup("onbuka", -3, product="sms")
    assert outcome.code == "-3"
    assert outcome.matched == "exact"
    assert outcome.category is Category.VALIDATION
    assert outcome.message == "SMS contents with sensitive characters"


@pytest.mark.parametrize(
    ("url", "product", "category"),
    [
        ("https://api.onbuka.com/v3/sendSms", "sms", Category.VALIDATION),
        ("https://api.onbuka.com/aivoice/task/create", "ai_voice", Category.BILLING),
        ("https://api.onbuka.com/v3/aivoice/task/create", "ai_voice", Category.BILLING),
    ],
    ids=["sms-url", "aivoice-url", "nested-aivoice-url"],
)
def test_classify_picks_product_from_url(url: str, product: str, category: Category) -> None:
    outcome = classify("onbuka", b'{"status": "-3", "reason": "x"}', url=url)
    assert outcome.product == product
    assert outcome.matched == "exact"
    assert outcome.category is category
    assert outcome.vendor_message == "x"


def test_classify_int_status_from_voice_and_call_center_urls() -> None:
    voice = classify(
        "onbuka", b'{"status": -37, "reason": "y"}', url="https://api.onbuka.com/v3/voice/task"
    )
    assert voice.product == "voice"
    assert voice.category is Category.BUSY
    center = classify("onbuka", b'{"status": -67}', url="https://api.onbuka.com/v3/cc/agent")
    assert center.product == "call_center"
    assert center.category is Category.BUSY
    assert center.rejected is True


# ---------------------------------------------------------------- scope

SCOPES = [
    # (product, code, scope): explicit where the text names whom the answer is about
    ("sms", "-15", "account"),  # Query too frequently
    ("sms", "-28", "recipient"),  # Period phone send limit (billing: a quota, issue 31)
    ("sms", "-12", "vendor"),  # Due to platform issue, bulk submission has been failed
    ("voice", "-37", "account"),  # ... exceeds the maximum concurrent task limit
    ("ai_voice", "-47", "vendor"),  # Network is busy, please try again later
    ("ai_voice", "-52", "account"),  # The number of concurrent requests exceeds the upper limit
    ("call_center", "-67", "resource"),  # The agent is currently on a call
    # defaults (no scope written)
    ("sms", "-27", "account"),  # Period total send limit (billing)
    ("sms", "-1", "account"),  # auth
    ("sms", "-18", "vendor"),  # server
    ("sms", "-23", "request"),  # validation
    ("voice", "-47", "vendor"),  # Text to speech failed (server)
]


@pytest.mark.parametrize(
    ("product", "code", "scope"), SCOPES, ids=[f"{p}{c}" for p, c, _ in SCOPES]
)
def test_scope(product: str, code: str, scope: str) -> None:
    outcome = lookup("onbuka", code, product=product)
    assert outcome.matched == "exact"
    assert outcome.scope == scope


def test_busy_agent_does_not_slow_down_the_account() -> None:
    body = b'{"status": "-67", "reason": "The agent is currently on a call"}'
    outcome = classify("onbuka", body, url="https://api.onbuka.com/v3/cc/agent")
    assert outcome.category is Category.BUSY
    assert outcome.scope == "resource"
    assert not outcome.scope.shared


def test_period_phone_send_limit_is_that_numbers_quota() -> None:
    # seed table (sms): -28 Period phone send limit, beside -27 Period total send limit: both
    # caps for a period, quotas (billing), never validation (issue 31); -28 concerns one number
    found = lookup("onbuka", "-28", product="sms")
    assert (found.category, found.scope, found.retryable) == (Category.BILLING, "recipient", False)
    assert lookup("onbuka", "-27", product="sms").category is Category.BILLING
    # -28 means something else in the intelligent voice table: no product, no guess
    assert lookup("onbuka", "-28").matched == "ambiguous"
