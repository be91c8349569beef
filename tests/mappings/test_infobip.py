"""Infobip SMS: the general status and error codes, request errors, per-message items.

Source file: ``tests/mappings/sources/infobip/infobip-error-codes.yml``, the first 1072 lines
(families "General status codes" ... "General error codes") of errors/infobip-error-codes.yml in
GitHub api-evangelist/infobip (commit b3be77826a8f1d17ead20f2edb64a03ef343f929), a machine-readable
copy of https://www.infobip.com/docs/essentials/api-essentials/response-status-and-error-codes.

Bodies are shaped like Infobip's: the send response and delivery report fixtures of
infobip/infobip-api-java-client (src/test/java/com/infobip/api/SmsApiTest.java), its error bodies
(ApiErrorResponsesTest.java, ResponseProcessorTest.java) and the OpenAPI examples
(components.responses ApiException401..500 / ApiError401..500).
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any, NamedTuple

import httpx
import pytest

import normalizer
from normalizer import Category, Match, classify, lookup
from tests.mappings.conftest import source_file

VENDOR = "infobip"
ROOT = Path(__file__).resolve().parents[2]
MAPPING = ROOT / "mappings" / "infobip.toml"
SOURCE = "infobip-error-codes.yml"
BASE = "https://xyz123.api.infobip.com"
FAMILIES = ("General status codes", "General error codes")
CALL_STATUSES = {"NO_ANSWER", "BUSY", "CANCELLED", "REJECTED"}
# request-level codes: requestError messageId and v3 errorCode (not in the status/error catalogue)
REQUEST_CODES = {
    "BAD_REQUEST": Category.VALIDATION,
    "E400": Category.VALIDATION,
    "UNAUTHORIZED": Category.AUTH,
    "E401": Category.AUTH,
    "FORBIDDEN": Category.AUTH,
    "E403": Category.AUTH,
    "NOT_FOUND": Category.NOT_FOUND,
    "E404": Category.NOT_FOUND,
    "E409": Category.VALIDATION,
    "TOO_MANY_REQUESTS": Category.BUSY,
    "E429": Category.BUSY,
    "GENERAL_ERROR": Category.SERVER,
    "E500": Category.SERVER,
}


class Row(NamedTuple):
    family: str
    group: str
    id: str
    name: str
    description: str
    permanent: bool | None


KEY = re.compile(r"^( *)(- )?([a-z_]+):(?: (.*))?$")


def parse_codes(text: str) -> list[Row]:
    """Read families -> groups -> codes (the YAML subset the file uses: block lists and maps,
    plain or single-quoted scalars folded over deeper-indented lines)."""
    entries: list[tuple[int, str, str]] = []  # (indent of the key, key, value)
    for line in text[text.index("\nfamilies:\n") + 1 :].splitlines():
        match = KEY.match(line)
        indent = len(line) - len(line.lstrip(" "))
        if match and indent <= 6:
            key_indent = indent + (2 if match.group(2) else 0)
            entries.append((key_indent, match.group(3), match.group(4) or ""))
        elif line.strip():
            assert entries, line
            assert indent > entries[-1][0], line
            k_indent, key, value = entries[-1]
            entries[-1] = (k_indent, key, f"{value} {line.strip()}")
    rows: list[Row] = []
    family = group = ""
    code: dict[str, str] = {}

    def flush() -> None:
        if code:
            permanent = code.get("permanent")
            flag = None if permanent is None else permanent == "true"
            rows.append(Row(family, group, code["id"], code["name"], code["description"], flag))
            code.clear()

    for _indent, key, value in entries:
        if value.startswith("'"):
            assert value.endswith("'"), value
            value = value[1:-1].replace("''", "'")
        if key == "family":
            flush()
            family, group = value, ""
        elif key == "group":
            flush()
            group = value
        elif key == "id":
            flush()
            code["id"] = value
        elif code and key in ("name", "description", "permanent"):
            code[key] = value
    flush()
    return rows


@pytest.fixture(scope="module")
def rows() -> list[Row]:
    text = source_file(VENDOR, SOURCE).read_text(encoding="utf-8")  # skips when absent
    return [r for r in parse_codes(text) if r.family in FAMILIES]


def load_mapping() -> dict[str, Any]:
    with MAPPING.open("rb") as fh:
        return tomllib.load(fh)


# ---------------------------------------------------------------- the catalogue


def test_parser_reads_the_whole_catalogue(rows: list[Row]) -> None:
    groups: dict[tuple[str, str], int] = {}
    for r in rows:
        groups[(r.family, r.group)] = groups.get((r.family, r.group), 0) + 1
    assert groups == {
        ("General status codes", "Pending"): 3,
        ("General status codes", "Undeliverable"): 6,
        ("General status codes", "Delivered"): 2,
        ("General status codes", "Expired"): 3,
        ("General status codes", "Rejected"): 20,
        ("General error codes", "OK"): 1,
        ("General error codes", "Handset errors"): 76,
        ("General error codes", "User errors"): 34,
        ("General error codes", "Operator errors"): 35,
    }
    by_name = {r.name: r for r in rows}
    assert by_name["PENDING_ACCEPTED"].id == "26"
    assert by_name["EC_ABSENT_SUBSCRIBER_SM"].permanent is False
    assert by_name["EC_UNKNOWN_SUBSCRIBER"].description.startswith("Typically, this indicates")
    assert "the end user if the end user opts back in" in by_name["EC_CONTENT_BLOCKED"].description
    # listed twice in the catalogue (two groups, two texts): one name, one entry
    assert [r.group for r in rows if r.name == "SIGNALS_BLOCKED"] == ["Expired", "Rejected"]
    assert len({r.name for r in rows}) == len(rows) - 2


def test_every_catalogue_code_is_mapped_with_its_text(rows: list[Row]) -> None:
    texts: dict[str, set[str]] = {}
    for r in rows:
        texts.setdefault(r.name, set()).add(r.description)
    for name, descriptions in texts.items():
        outcome = lookup(VENDOR, name)
        assert outcome.matched is Match.EXACT, name
        assert outcome.message in descriptions, name
        assert outcome.gloss, name


def test_mapping_holds_no_code_the_sources_lack(rows: list[Row]) -> None:
    mapped = set(load_mapping()["codes"])
    assert mapped == {r.name for r in rows} | set(REQUEST_CODES)


def test_retryable_follows_the_permanent_flag(rows: list[Row]) -> None:
    for r in rows:
        if r.family != "General error codes" or r.name == "NO_ERROR":
            continue
        outcome = lookup(VENDOR, r.name)
        assert outcome.retryable is (not r.permanent), r.name
        assert outcome.delivery_outcome is True, r.name


def test_statuses_are_delivery_or_call_outcomes(rows: list[Row]) -> None:
    """PENDING_*/REJECTED_* answer a send; UNDELIVERABLE_*/DELIVERED_*/EXPIRED_* only come in
    reports (delivery outcomes); the voice results among them are call outcomes."""
    for r in rows:
        if r.family != "General status codes":
            continue
        outcome = lookup(VENDOR, r.name)
        report_only = r.group in ("Undeliverable", "Delivered", "Expired")
        if r.name in CALL_STATUSES:
            assert outcome.call_outcome is True, r.name
        elif r.name == "SIGNALS_BLOCKED":  # listed under Expired and Rejected: a refusal
            assert outcome.delivery_outcome is False
        else:
            assert outcome.delivery_outcome is report_only, r.name
        if r.group in ("Pending", "Delivered"):
            assert outcome.category is Category.OK, r.name
        else:
            assert outcome.category is not Category.OK, r.name


@pytest.mark.parametrize(("code", "category"), sorted(REQUEST_CODES.items()))
def test_request_codes(code: str, category: Category) -> None:
    outcome = lookup(VENDOR, code)
    assert outcome.matched is Match.EXACT
    assert outcome.category is category
    assert outcome.delivery_outcome is False


PINNED = [
    # (code, category, retryable, rejected); a delivery outcome is never "rejected" (it was sent)
    ("REJECTED_NOT_ENOUGH_CREDITS", Category.BILLING, False, False),
    ("REJECTED_PREPAID_PACKAGE_EXPIRED", Category.BILLING, False, False),
    ("REJECTED_DND", Category.VALIDATION, False, False),
    ("REJECTED_FLOODING_FILTER", Category.BUSY, True, True),  # a frequency limit (issue 31)
    ("REJECTED_DESTINATION_NOT_REGISTERED", Category.AUTH, False, False),
    ("REJECTED_SYSTEM_ERROR", Category.SERVER, True, True),
    ("EXPIRED_EXPIRED", Category.BUSY, True, False),
    ("EXPIRED_DLR_UNKNOWN", Category.UNKNOWN, False, False),
    ("UNDELIVERABLE_NOT_DELIVERED", Category.NOT_FOUND, False, False),
    ("EC_UNKNOWN_SUBSCRIBER", Category.NOT_FOUND, False, False),
    ("EC_ABSENT_SUBSCRIBER_SM", Category.BUSY, True, False),
    ("EC_LIMIT_REACHED", Category.BUSY, True, False),
    ("EC_QUOTA_REACHED", Category.BILLING, False, False),  # a daily quota (issue 31)
    ("EC_SIGNALS_HARD_LIMIT_REACHED", Category.BILLING, False, False),
    ("EC_CONTENT_BLOCKED", Category.VALIDATION, False, False),
    ("EC_MONTHLY_LIMIT_REACHED", Category.BILLING, False, False),
    ("EC_ACCOUNT_ACCESS_DENIED", Category.AUTH, False, False),
    ("EC_SYSTEM_FAILURE", Category.SERVER, True, False),
    ("EC_UNKNOWN_ERROR", Category.UNKNOWN, True, False),
    ("NO_ERROR", Category.OK, False, False),
    ("TOO_MANY_REQUESTS", Category.BUSY, True, True),
    ("GENERAL_ERROR", Category.SERVER, True, False),
]


@pytest.mark.parametrize(
    ("code", "category", "retryable", "rejected"), PINNED, ids=[p[0] for p in PINNED]
)
def test_pinned_decisions(code: str, category: Category, retryable: bool, rejected: bool) -> None:
    outcome = lookup(VENDOR, code)
    assert outcome.matched is Match.EXACT
    assert (outcome.category, outcome.retryable, outcome.rejected) == (
        category,
        retryable,
        rejected,
    )


# ---------------------------------------------------------------- through a Client


def status(group_id: int, group: str, sid: int, name: str, text: str) -> dict[str, Any]:
    return {"groupId": group_id, "groupName": group, "id": sid, "name": name, "description": text}


PENDING = status(1, "PENDING", 26, "PENDING_ACCEPTED", "Message sent to next instance")
NO_CREDIT = status(5, "REJECTED", 12, "REJECTED_NOT_ENOUGH_CREDITS", "Not enough credits")


def sent(*statuses: dict[str, Any]) -> dict[str, Any]:
    messages = [
        {"to": f"4179302{6727 + i}", "messageId": f"msg-{i}", "status": s}
        for i, s in enumerate(statuses)
    ]
    return {"bulkId": "BULK-ID-123-xyz", "messages": messages}


def v2_error(message_id: str, text: str) -> dict[str, Any]:
    return {"requestError": {"serviceException": {"messageId": message_id, "text": text}}}


def v3_error(code: str, description: str, action: str) -> dict[str, Any]:
    return {"errorCode": code, "description": description, "action": action, "violations": []}


def post(response: httpx.Response, url: str = f"{BASE}/sms/2/text/advanced") -> normalizer.Outcome:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.host.endswith("api.infobip.com")
        return response

    with normalizer.Client(transport=httpx.MockTransport(handler), retry=None) as client:
        reply = client.post(url, json={"messages": [{"destinations": [{"to": "41793026727"}]}]})
    outcome = normalizer.outcome_of(reply)
    assert outcome is not None
    return outcome


def test_client_ok_send_accepted() -> None:
    outcome = post(httpx.Response(200, json=sent(PENDING, PENDING)))
    assert outcome.vendor == VENDOR
    assert outcome.category is Category.OK
    assert outcome.partial is False
    assert [i.code for i in outcome.items] == ["PENDING_ACCEPTED", "PENDING_ACCEPTED"]
    assert all(i.category is Category.OK for i in outcome.items)


def test_client_auth_v2_unauthorized() -> None:
    outcome = post(httpx.Response(401, json=v2_error("UNAUTHORIZED", "Invalid login details")))
    assert outcome.category is Category.AUTH
    assert outcome.matched is Match.EXACT
    assert outcome.code == "UNAUTHORIZED"
    assert outcome.vendor_message == "Invalid login details"
    assert outcome.http_status == 401


def test_client_validation_v3_e400() -> None:
    body = v3_error(
        "E400",
        "Request cannot be processed.",
        "Check the syntax, violations and adjust the request.",
    )
    body["violations"] = [
        {"property": "messages[0].destinations", "violation": "must not be empty"}
    ]
    outcome = post(httpx.Response(400, json=body), url=f"{BASE}/sms/3/messages")
    assert outcome.category is Category.VALIDATION
    assert outcome.code == "E400"
    assert outcome.vendor_message == "Request cannot be processed."
    assert outcome.retryable is False


def test_client_billing_every_message_rejected_for_credit() -> None:
    outcome = post(httpx.Response(200, json=sent(NO_CREDIT, NO_CREDIT)))
    assert outcome.category is Category.BILLING
    assert outcome.partial is False
    assert {i.category for i in outcome.items} == {Category.BILLING}
    assert outcome.items[0].vendor_message == "Not enough credits"


def test_client_busy_rate_limited() -> None:
    body = v3_error(
        "E429",
        "Too many requests sent.",
        "Check request rate limit specified in the API endpoint documentation resource.",
    )
    outcome = post(httpx.Response(429, json=body), url=f"{BASE}/sms/3/reports")
    assert outcome.category is Category.BUSY
    assert outcome.code == "E429"
    assert outcome.retryable is True
    assert outcome.rejected is True


def test_client_not_found_v2() -> None:
    outcome = post(
        httpx.Response(404, json=v2_error("NOT_FOUND", "Bulk not found")),
        url=f"{BASE}/sms/1/bulks/status",
    )
    assert outcome.category is Category.NOT_FOUND
    assert outcome.code == "NOT_FOUND"
    assert outcome.vendor_message == "Bulk not found"


def test_client_server_general_error() -> None:
    body = v2_error("GENERAL_ERROR", "Something went wrong. Please contact support.")
    outcome = post(
        httpx.Response(500, json=body), url="https://api.infobip.com/sms/2/text/advanced"
    )
    assert outcome.category is Category.SERVER
    assert outcome.code == "GENERAL_ERROR"
    assert outcome.retryable is True
    assert outcome.rejected is False


def report(name: str, group_id: int, group: str, sid: int, error: dict[str, Any]) -> dict[str, Any]:
    return {
        "bulkId": "BULK-ID-123-xyz",
        "messageId": f"MESSAGE-{sid}",
        "to": "41793026727",
        "sentAt": "2019-11-09T16:00:00.000+0000",
        "doneAt": "2019-11-09T16:00:00.000+0000",
        "messageCount": 1,
        "status": status(group_id, group, sid, name, name.lower()),
        "error": error,
    }


NO_ERROR = {"groupId": 0, "groupName": "OK", "id": 0, "name": "NO_ERROR", "description": "No Error"}
ABSENT = {
    "groupId": 1,
    "groupName": "HANDSET_ERRORS",
    "id": 27,
    "name": "EC_ABSENT_SUBSCRIBER",
    "description": "Absent Subscriber",
    "permanent": False,
}


def test_client_unknown_in_a_delivery_report() -> None:
    body = {"results": [report("EXPIRED_DLR_UNKNOWN", 4, "EXPIRED", 29, NO_ERROR)]}
    outcome = post(httpx.Response(200, json=body), url=f"{BASE}/sms/1/reports")
    # fetching reports worked: the reports are listed as data and never fail the request
    assert outcome.category is Category.OK
    assert outcome.partial is False
    (item,) = outcome.items
    assert item.code == "EXPIRED_DLR_UNKNOWN"
    assert item.category is Category.UNKNOWN
    assert item.delivery_outcome is True
    assert item.message_id == "MESSAGE-29"


def test_client_partial_send() -> None:
    outcome = post(httpx.Response(200, json=sent(PENDING, NO_CREDIT, PENDING)))
    assert outcome.category is Category.OK
    assert outcome.partial is True
    failed = [i for i in outcome.items if i.category is not Category.OK]
    assert [(i.index, i.code, i.category) for i in failed] == [
        (1, "REJECTED_NOT_ENOUGH_CREDITS", Category.BILLING)
    ]
    assert failed[0].number is not None
    assert failed[0].number.endswith("6728")
    assert "4179302" not in failed[0].number  # redacted like logs
    assert failed[0].message_id == "msg-1"


def test_delivery_report_items_are_read_by_status_not_error() -> None:
    delivered = report("DELIVERED_TO_HANDSET", 3, "DELIVERED", 5, NO_ERROR)
    expired = report("EXPIRED_EXPIRED", 4, "EXPIRED", 15, ABSENT)
    rejected = report("REJECTED_NOT_ENOUGH_CREDITS", 5, "REJECTED", 12, NO_ERROR)
    outcome = classify(VENDOR, {"results": [delivered, expired, rejected]})
    assert outcome.category is Category.OK
    assert outcome.partial is False
    assert [(i.code, i.category) for i in outcome.items] == [
        ("DELIVERED_TO_HANDSET", Category.OK),
        ("EXPIRED_EXPIRED", Category.BUSY),
        ("REJECTED_NOT_ENOUGH_CREDITS", Category.BILLING),  # NO_ERROR beside it is not "ok"
    ]
    # the error name of a report is in the table for lookup
    assert lookup(VENDOR, "EC_ABSENT_SUBSCRIBER").category is Category.BUSY
    assert normalizer.retry_recipients(outcome) == []  # reports are never resent


def test_v3_send_response_uses_destination_for_the_number() -> None:
    body = {
        "bulkId": "BULK-ID-123-xyz",
        "messages": [
            {"messageId": "abc123", "status": NO_CREDIT, "destination": "385991112222"},
        ],
    }
    outcome = classify(VENDOR, body, url=f"{BASE}/sms/3/messages")
    (item,) = outcome.items
    assert item.number is not None
    assert item.number.endswith("2222")
    assert item.category is Category.BILLING


def test_policy_exception_is_read_too() -> None:
    body = {"requestError": {"policyException": {"messageId": "FORBIDDEN", "text": "Forbidden"}}}
    outcome = classify(VENDOR, body, status_code=403)
    assert outcome.category is Category.AUTH
    assert outcome.code == "FORBIDDEN"


@pytest.mark.parametrize(
    "url",
    ["https://xyz123.api.infobip.com/sms/2/text/advanced", "https://api.infobip.com/sms/1/logs"],
)
def test_both_host_forms_are_detected(url: str) -> None:
    outcome = post(httpx.Response(200, json=sent(PENDING)), url=url)
    assert outcome.vendor == VENDOR
    assert outcome.items[0].code == "PENDING_ACCEPTED"


# ---------------------------------------------------------------- scope

SCOPES: list[tuple[str, str]] = [
    # (code, scope): explicit where the text names whom the answer is about
    ("REJECTED_FLOODING_FILTER", "recipient"),  # "a single number can only receive 20 varied ..."
    ("EC_LIMIT_REACHED", "resource"),  # "the TPS ... limit on your messaging campaign"
    ("EC_ACCOUNT_ACCESS_DENIED", "account"),  # "Account access has been denied"
    ("EC_ACC_NOT_PROVISIONED_TO_SMS_DEMO_SC", "account"),  # "The account is not provisioned ..."
    ("EC_ACC_NOT_2_WAY", "account"),  # "Account is not provisioned for global two-way SMS"
    ("EC_MONTHLY_LIMIT_REACHED", "account"),  # "Your account monthly credit limit has been reached"
    ("EC_NOTSUBMITTEDTOGMSC", "vendor"),  # "failed at the platform"
    # defaults (no scope written)
    ("TOO_MANY_REQUESTS", "account"),  # busy
    ("E429", "account"),  # busy
    ("E500", "vendor"),  # server
    ("REJECTED_NOT_ENOUGH_CREDITS", "account"),  # billing
    ("E401", "account"),  # auth
    ("REJECTED_DESTINATION", "request"),  # validation
    ("EC_ABSENT_SUBSCRIBER", "recipient"),  # delivery outcome
    ("EC_DESTINATION_FLOODING", "recipient"),  # delivery outcome: per-destination flooding filter
    ("BUSY", "recipient"),  # call outcome
]


@pytest.mark.parametrize(("code", "scope"), SCOPES, ids=[c for c, _ in SCOPES])
def test_scope(code: str, scope: str) -> None:
    outcome = lookup(VENDOR, code)
    assert outcome.matched is Match.EXACT
    assert outcome.scope == scope


def test_flooding_filter_in_a_send_concerns_that_number_only() -> None:
    flooding = status(5, "REJECTED", 17, "REJECTED_FLOODING_FILTER", "Flooding filter")
    outcome = post(httpx.Response(200, json=sent(PENDING, flooding)))
    assert outcome.category is Category.OK
    assert outcome.partial is True
    assert outcome.items[1].scope == "recipient"
    alone = post(httpx.Response(200, json=sent(flooding)))
    assert alone.category is Category.BUSY  # waiting passes a frequency limit (issue 31)
    assert alone.scope == "recipient"
    assert not alone.scope.shared


def test_flooding_limits_carry_their_hourly_window() -> None:
    # "a single number can only receive 20 varied and 6 identical messages per hour"
    # (response-status-and-error-codes): the window is the outcome's retry_after
    for code in (
        "REJECTED_FLOODING_FILTER",
        "EC_DESTINATION_FLOODING",
        "EC_DESTINATION_TXT_FLOODING",
    ):
        found = lookup(VENDOR, code)
        assert (found.category, found.scope, found.retry_after) == (
            Category.BUSY,
            "recipient",
            3600.0,
        ), code
        assert found.retryable
        assert not found.scope.shared
