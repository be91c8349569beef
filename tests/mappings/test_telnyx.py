"""Telnyx v2: general API errors, Messaging errors, per-recipient message statuses.

Source files (tests/mappings/sources/telnyx/): ``api-error-codes.md``, rows 10001-10017 of
https://developers.telnyx.com/development/api-fundamentals/api-errors, and
``messaging-error-codes.md``, the tables of https://developers.telnyx.com/docs/messaging/messages/error-codes.

Bodies are shaped like Telnyx's: the error envelope of team-telnyx/telnyx-ext-agent-skills
(skills/telnyx-twilio-migration/references/error-code-mapping.md), the 429 body of the rate-limiting
page (https://developers.telnyx.com/development/api-fundamentals/reliability/rate-limiting), and the
message resource / message.finalized webhook of the messaging docs and team-telnyx/telnyx-python
(src/telnyx/types/messaging_outbound_message_payload.py).
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
from normalizer._classify import resolve
from normalizer._items import with_items
from normalizer._mapping import Entry
from normalizer._registry import default_registry
from tests.mappings.conftest import source_file

VENDOR = "telnyx"
ROOT = Path(__file__).resolve().parents[2]
MAPPING = ROOT / "mappings" / "telnyx.toml"
MESSAGES_URL = "https://api.telnyx.com/v2/messages"
ROW = re.compile(r"^\| `?(\d{5})`? +\| (.+?) +\| (.+?) +\|$")
DELIVERY_ERRORS = {f"400{n:02d}" for n in range(1, 21) if n != 7} | {"40329", "40330"}
STATUSES = {
    "queued": Category.OK,
    "sending": Category.OK,
    "sent": Category.OK,
    "delivered": Category.OK,
    "sending_failed": Category.SERVER,
    "delivery_failed": Category.UNKNOWN,
    "delivery_unconfirmed": Category.UNKNOWN,
}


def parse_table(path: Path) -> dict[str, str]:
    """code -> the first text column ("Title" / "Error"), markdown escapes undone."""
    rows: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = ROW.match(line.strip())
        if match:
            assert match.group(1) not in rows, match.group(1)
            rows[match.group(1)] = match.group(2).replace("\\&", "&")
    return rows


@pytest.fixture(scope="module")
def api_codes() -> dict[str, str]:
    return parse_table(source_file(VENDOR, "api-error-codes.md"))  # skips when absent


@pytest.fixture(scope="module")
def messaging_codes() -> dict[str, str]:
    return parse_table(source_file(VENDOR, "messaging-error-codes.md"))  # skips when absent


def load_mapping() -> dict[str, Any]:
    with MAPPING.open("rb") as fh:
        return tomllib.load(fh)


# ---------------------------------------------------------------- the documented tables


def test_tables_parse(api_codes: dict[str, str], messaging_codes: dict[str, str]) -> None:
    assert len(api_codes) >= 17
    assert len(messaging_codes) == 52
    assert api_codes["10007"] == "Unexpected error"
    assert messaging_codes["40017"] == "AT&T spam rejection"
    assert messaging_codes["40300"] == "Blocked (STOP)"
    assert set(messaging_codes) >= DELIVERY_ERRORS


def test_every_documented_code_is_mapped(
    api_codes: dict[str, str], messaging_codes: dict[str, str]
) -> None:
    for code, text in {**api_codes, **messaging_codes}.items():
        outcome = lookup(VENDOR, code)
        assert outcome.matched is Match.EXACT, code
        assert outcome.message == text, code
        assert outcome.gloss, code
        assert outcome.category is not Category.UNKNOWN, code
        assert outcome.delivery_outcome is (code in DELIVERY_ERRORS), code


def test_mapping_holds_no_code_the_tables_lack(
    api_codes: dict[str, str], messaging_codes: dict[str, str]
) -> None:
    data = load_mapping()
    # the rest of the general list comes from Telnyx's mirror (team-telnyx/knowledge-base)
    assert set(data["codes"]) >= set(api_codes) | set(messaging_codes)
    (items,) = data["items"]
    assert {code: e["description"] for code, e in items["codes"].items()} == {
        s: s for s in STATUSES
    }


PINNED = [
    # (code, category, retryable, rejected)
    ("10005", Category.NOT_FOUND, False, False),
    ("10007", Category.SERVER, True, False),
    ("10008", Category.SERVER, True, False),
    ("10009", Category.AUTH, False, False),
    ("10010", Category.AUTH, False, False),
    ("10011", Category.BUSY, True, True),
    ("10013", Category.VALIDATION, False, False),
    ("40001", Category.VALIDATION, False, False),
    ("40002", Category.BUSY, True, False),
    ("40006", Category.SERVER, True, False),
    ("40011", Category.BUSY, True, False),
    ("40016", Category.BUSY, True, False),
    ("40020", Category.VALIDATION, False, False),
    ("40300", Category.VALIDATION, False, False),
    ("40311", Category.AUTH, False, False),
    ("40314", Category.AUTH, False, False),
    ("40318", Category.BUSY, True, True),
    ("40333", Category.BILLING, False, False),
]


@pytest.mark.parametrize(
    ("code", "category", "retryable", "rejected"), PINNED, ids=[p[0] for p in PINNED]
)
def test_pinned_decisions(code: str, category: Category, retryable: bool, rejected: bool) -> None:
    outcome = lookup(VENDOR, code)
    assert (outcome.category, outcome.retryable, outcome.rejected) == (
        category,
        retryable,
        rejected,
    )


# ---------------------------------------------------------------- through a Client


def error(code: str, title: str, detail: str, pointer: str | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {"code": code, "title": title, "detail": detail}
    if pointer is not None:
        entry["source"] = {"pointer": pointer}
    entry["meta"] = {"url": f"https://developers.telnyx.com/docs/overview/errors/{code}"}
    return {"errors": [entry]}


def message(
    *recipients: tuple[str, str], errors: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    return {
        "record_type": "message",
        "direction": "outbound",
        "id": "40385f64-5717-4562-b3fc-2c963f66afa6",
        "type": "MMS" if len(recipients) > 1 else "SMS",
        "from": {"phone_number": "+18445550001", "carrier": "TELNYX LLC", "line_type": "VoIP"},
        "to": [
            {
                "phone_number": number,
                "status": state,
                "carrier": "T-MOBILE USA, INC.",
                "line_type": "Wireless",
            }
            for number, state in recipients
        ],
        "text": "Hello, World!",
        "media": [],
        "encoding": "GSM-7",
        "parts": 1,
        "errors": errors or [],
    }


def finalized(payload: dict[str, Any]) -> dict[str, Any]:
    return {
        "data": {
            "event_type": "message.finalized",
            "id": "4ee8c3a6-4995-4309-a3c6-38e3db9ea4be",
            "occurred_at": "2019-12-09T21:32:14.148+00:00",
            "payload": payload,
            "record_type": "event",
        },
        "meta": {"attempt": 1, "delivered_to": "https://example.com/webhooks"},
    }


def post(response: httpx.Response, url: str = MESSAGES_URL) -> normalizer.Outcome:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.host == "api.telnyx.com"
        return response

    send = {"from": "+18445550001", "to": "+18665550001", "text": "Hello, World!"}
    with normalizer.Client(transport=httpx.MockTransport(handler), retry=None) as client:
        reply = client.post(url, json=send)
    outcome = normalizer.outcome_of(reply)
    assert outcome is not None
    return outcome


def test_client_ok_message_queued() -> None:
    outcome = post(httpx.Response(200, json={"data": message(("+18665550001", "queued"))}))
    assert outcome.vendor == VENDOR
    assert outcome.category is Category.OK
    (item,) = outcome.items
    assert item.code == "queued"
    assert item.number is not None
    assert item.number.endswith("0001")
    assert "8665550" not in item.number


def test_client_auth() -> None:
    body = error(
        "10009",
        "Authentication failed",
        "The API key looks malformed. Check that you copied it correctly.",
    )
    outcome = post(httpx.Response(401, json=body))
    assert outcome.category is Category.AUTH
    assert outcome.code == "10009"
    assert outcome.matched is Match.EXACT
    assert (
        outcome.vendor_message == "The API key looks malformed. Check that you copied it correctly."
    )


def test_client_validation_invalid_to() -> None:
    body = error("40310", "Invalid 'to' address", "The 'to' address is invalid.", "/to")
    outcome = post(httpx.Response(400, json=body))
    assert outcome.category is Category.VALIDATION
    assert outcome.code == "40310"
    assert outcome.message == "Invalid 'to' address"
    assert outcome.delivery_outcome is False


def test_client_billing_spend_limit() -> None:
    body = error("40333", "Spend limit reached", "Messaging profile cost limit hit.")
    outcome = post(httpx.Response(400, json=body))
    assert outcome.category is Category.BILLING
    assert outcome.retryable is False


def test_client_busy_rate_limited() -> None:
    body = error(
        "10011", "Too many requests", "You have exceeded the maximum number of allowed requests."
    )
    headers = {"x-ratelimit-limit": "20", "x-ratelimit-remaining": "0", "x-ratelimit-reset": "1"}
    outcome = post(httpx.Response(429, json=body, headers=headers))
    assert outcome.category is Category.BUSY
    assert outcome.code == "10011"
    assert outcome.retryable is True
    assert outcome.rejected is True
    assert outcome.http_status == 429


def test_client_not_found() -> None:
    body = error("10005", "Resource not found", "The requested resource or URL could not be found.")
    outcome = post(httpx.Response(404, json=body), url=f"{MESSAGES_URL}/does-not-exist")
    assert outcome.category is Category.NOT_FOUND
    assert outcome.code == "10005"


def test_client_server() -> None:
    body = error("10007", "Unexpected error", "An unexpected error occured.")
    outcome = post(httpx.Response(500, json=body))
    assert outcome.category is Category.SERVER
    assert outcome.retryable is True
    assert outcome.rejected is False


def test_client_unknown_unconfirmed_delivery() -> None:
    body = {"data": message(("+18665550001", "delivery_unconfirmed"))}
    outcome = post(httpx.Response(200, json=body), url=f"{MESSAGES_URL}/40385f64")
    # retrieving the message worked: its recipients' statuses are data, not a failed request
    assert outcome.category is Category.OK
    (item,) = outcome.items
    assert item.code == "delivery_unconfirmed"
    assert item.category is Category.UNKNOWN
    assert item.delivery_outcome is True


def test_feature_limited_is_the_account_plans_limit_not_the_request() -> None:
    # 10039 "Feature limited: A limit for this feature has been reached at this account level.
    # See https://telnyx.com/upgrade" (the general list, team-telnyx/knowledge-base
    # wiki/reference/api-error-codes.md); its detail as quoted in public troubleshooting notes.
    # Before, its row could not be read and the status decided: now the code does, and a limit
    # of the plan is billing (upgrade), never validation (issue 31)
    detail = (
        "Only pre-verified destinations are allowed at this account level. "
        "Refer to https://telnyx.com/upgrade"
    )
    body = {"errors": [{"code": "10039", "detail": detail}]}
    outcome = post(httpx.Response(403, json=body))
    assert outcome.matched is Match.EXACT
    assert outcome.category is Category.BILLING
    assert outcome.code == "10039"
    assert outcome.vendor_message == detail


# the general list's account errors (team-telnyx/knowledge-base wiki/reference/api-error-codes.md)
ACCOUNT_ERRORS = [
    ("20002", "API Key revoked", Category.AUTH),
    ("20006", "Expired access token", Category.AUTH),
    ("20012", "Account inactive", Category.BILLING),  # "It may be out of funds."
    ("20013", "Account blocked", Category.AUTH),
    ("20100", "Insufficient Funds", Category.BILLING),
    ("10037", "Service unavailable", Category.SERVER),
]


@pytest.mark.parametrize(("code", "title", "category"), ACCOUNT_ERRORS)
def test_general_account_errors(code: str, title: str, category: Category) -> None:
    body = {"errors": [{"code": code, "title": title}]}
    outcome = post(httpx.Response(401 if category is Category.AUTH else 402, json=body))
    assert (outcome.matched, outcome.category, outcome.message) == (Match.EXACT, category, title)


def test_channel_limits_are_busy_of_their_own_scope() -> None:
    # 90041 the user's termination channels (the account), 90042/90043 one profile or connection
    assert (lookup(VENDOR, "90041").category, lookup(VENDOR, "90041").scope) == (
        Category.BUSY,
        "account",
    )
    for code in ("90042", "90043", "90036"):
        found = lookup(VENDOR, code)
        assert (found.category, found.scope) == (Category.BUSY, "resource"), code
        assert not found.scope.shared


def test_client_items_of_a_group_message() -> None:
    body = {"data": message(("+18665550001", "delivered"), ("+18665550002", "delivery_failed"))}
    outcome = post(httpx.Response(200, json=body), url=f"{MESSAGES_URL}/40385f64")
    assert outcome.category is Category.OK
    assert outcome.partial is False
    assert [(i.index, i.code, i.category) for i in outcome.items] == [
        (0, "delivered", Category.OK),
        (1, "delivery_failed", Category.UNKNOWN),
    ]
    failed = outcome.items[1]
    assert failed.number is not None
    assert failed.number.endswith("0002")
    assert "8665550" not in failed.number
    assert normalizer.retry_recipients(outcome) == []  # delivery results are never resent


def test_finalized_webhook_error_code_wins_and_is_a_delivery_outcome() -> None:
    payload = message(
        ("+18665550001", "delivery_failed"),
        errors=[{"code": "40001", "title": "Not routable", "detail": "Landline destination."}],
    )
    outcome = classify(VENDOR, finalized(payload))
    assert outcome.code == "40001"
    assert outcome.category is Category.VALIDATION
    assert outcome.delivery_outcome is True
    assert outcome.retryable is False
    assert outcome.vendor_message == "Landline destination."


def failed_group_message() -> dict[str, Any]:
    """A message.finalized webhook of a group MMS: one recipient delivered, one not.

    Shaped as the delivery-update example of https://developers.telnyx.com/api-reference/callbacks/delivery-update
    (the ``message()`` payload above); the error as team-telnyx/telnyx-python
    src/telnyx/types/messaging_error_0b38e7044b.py (code, title, detail, source.pointer), its code
    and texts the 40008 row of https://developers.telnyx.com/docs/messaging/messages/error-codes.
    """
    undeliverable = {
        "code": "40008",
        "title": "Undeliverable",
        "detail": "Carrier did not accept the message",
        "source": {"pointer": "/to/1"},
    }
    payload = message(
        ("+18665550001", "delivered"), ("+18665550002", "delivery_failed"), errors=[undeliverable]
    )
    return finalized(payload)


def read_items(doc: dict[str, Any]) -> normalizer.Outcome:
    """The webhook's outcome with its items, as the classifier hands them to ``with_items``."""
    mapping = default_registry().get(VENDOR)

    def read(code: str) -> tuple[Entry, Match] | None:
        found = resolve(mapping, code, None)
        return None if found is None else (found.entry, found.matched)

    return with_items(classify(VENDOR, doc), mapping.envelope, doc, None, read)


def test_a_failed_delivery_report_says_which_recipient_failed_and_why() -> None:
    outcome = read_items(failed_group_message())
    assert (outcome.category, outcome.code, outcome.delivery_outcome) == (
        Category.VALIDATION,
        "40008",
        True,
    )
    delivered, failed = outcome.items
    assert (delivered.code, delivered.category) == ("delivered", Category.OK)
    assert outcome.failed_items == (failed,)
    assert failed.number == "*******0002"
    assert (failed.category, failed.code, failed.message, failed.vendor_message) == (
        Category.VALIDATION,
        "40008",
        "Undeliverable",
        "Carrier did not accept the message",
    )
    assert normalizer.retry_recipients(outcome) == []  # what became of a message: never resent


def test_a_failed_delivery_report_lists_its_recipients_through_classify() -> None:
    outcome = classify(VENDOR, failed_group_message())
    assert [(i.code, i.category) for i in outcome.items] == [
        ("delivered", Category.OK),
        ("40008", Category.VALIDATION),
    ]


def test_sent_webhook_is_ok() -> None:
    outcome = classify(VENDOR, finalized(message(("+18665550001", "sent"))))
    assert outcome.category is Category.OK
    assert outcome.matched is Match.NO_CODE
    assert outcome.items[0].category is Category.OK


@pytest.mark.parametrize(("state", "category"), sorted(STATUSES.items()))
def test_every_recipient_status(state: str, category: Category) -> None:
    outcome = classify(VENDOR, {"data": message(("+18665550001", state))})
    (item,) = outcome.items
    assert item.matched is Match.EXACT
    assert item.category is category
    assert item.delivery_outcome is True
    assert outcome.category is Category.OK  # what became of the message, not of the request


# ---------------------------------------------------------------- scope

SCOPES: list[tuple[str, str]] = [
    # (code, scope): explicit where the text names whom the answer is about
    ("10011", "account"),  # HTTP 429: the account's API request limit
    ("10010", "request"),  # "on the specified resource or resources"
    ("40016", "resource"),  # "Exceeded T-Mobile throughput for this campaign"
    ("40018", "resource"),  # "Exceeded AT&T throughput for this campaign"
    ("40312", "resource"),  # "Messaging profile is disabled"
    ("40333", "resource"),  # "Messaging profile cost limit hit"
    ("40323", "request"),  # "Could not enable messaging on number"
    # defaults (no scope written)
    ("40318", "account"),  # busy: "Internal message queue at capacity"
    ("10007", "vendor"),  # server
    ("10009", "account"),  # auth
    ("40314", "account"),  # auth: "Messaging disabled on your account"
    ("40310", "request"),  # validation
    ("40011", "recipient"),  # delivery outcome: carrier throughput
    ("40006", "recipient"),  # delivery outcome: "Recipient's carrier server is down"
]


@pytest.mark.parametrize(("code", "scope"), SCOPES, ids=[c for c, _ in SCOPES])
def test_scope(code: str, scope: str) -> None:
    outcome = lookup(VENDOR, code)
    assert outcome.matched is Match.EXACT
    assert outcome.scope == scope


def test_rate_limited_request_slows_the_account() -> None:
    body = error(
        "10011", "Too many requests", "You have exceeded the maximum number of allowed requests."
    )
    outcome = post(httpx.Response(429, json=body))
    assert outcome.scope == "account"
    assert outcome.scope.shared


def test_profile_spend_limit_does_not_stop_other_profiles() -> None:
    body = error("40333", "Spend limit reached", "Messaging profile cost limit hit.")
    outcome = post(httpx.Response(400, json=body))
    assert outcome.category is Category.BILLING
    assert outcome.scope == "resource"
    assert not outcome.scope.shared


def test_campaign_throughput_in_a_finalized_webhook_is_the_campaign() -> None:
    payload = message(
        ("+18665550001", "delivery_failed"),
        errors=[{"code": "40018", "title": "AT&T sending limit", "detail": "Campaign TPM hit."}],
    )
    outcome = classify(VENDOR, finalized(payload))
    assert outcome.code == "40018"
    assert outcome.delivery_outcome is True
    assert outcome.scope == "resource"
