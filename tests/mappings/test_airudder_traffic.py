"""AIRudder real traffic: API families selected by path, success codes, the token answer.

Sources: the seed "Error Codes" table (api-docs.airudder.com doc-1648295); the Quick Start
(developer.airudder.com doc-1918333: "Domain name: https://api.airudder.com", "Authorization:
Token <token>"); public client code: a PHP client's Options.php (/service/cloud/{auth,task,
operation,cancelphonecall,list,detail,robot,recording,case}) and a TypeScript client's
airudder.constant.ts ("code: 0" on /service/sms/message/v2/send, "code: 200" on auth and
workflow endpoints). The predictive-dialer family (/service/callcenter/) has a numbering of
its own, from a dialer user's public client (sajinavi2006/julomvp
mvp/src/juloserver/juloserver/minisquad/clients/airudder_pds.py, AIRudderErrorCodes): its
codes are never read with the seed table.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import httpx
import pytest

import normalizer
from normalizer import Category, Match, Outcome, classify, lookup

VENDOR = "airudder"
MAPPING = Path(__file__).resolve().parents[2] / "mappings" / "airudder.toml"
HOST = "https://api.airudder.com"
# the seed's error body shape (seeds README; api-docs.airudder.com)
MISSING_PARAMS = {
    "status": "Error",
    "code": 10301,
    "message": "One or more parameters are missing.",
}


def _outcome(response: httpx.Response) -> Outcome:
    outcome = normalizer.outcome_of(response)
    assert outcome is not None, "the client did not attach an outcome"
    return outcome


def _client(status: int, body: object) -> normalizer.Client:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json=body)

    return normalizer.Client(transport=httpx.MockTransport(handler), retry=None)


def test_dialer_family_is_kept_apart() -> None:
    with MAPPING.open("rb") as f:
        mapping = tomllib.load(f)
    dialer = mapping["products"]["dialer"]
    assert dialer["paths"] == ["/service/callcenter/*"]
    assert dialer["inherit"] is False
    # the dialer user's table (AIRudderErrorCodes): 10201-10901, 60 codes
    assert len(dialer["codes"]) == 60
    assert dialer["codes"]["10301"]["description"] == "Invalid app key"
    assert mapping["detect"]["hosts"] == ["api.airudder.com"]


def test_10301_reads_differently_per_family() -> None:
    cloud = classify(VENDOR, MISSING_PARAMS, url=f"{HOST}/service/cloud/task")
    assert (cloud.category, cloud.matched, cloud.product) == (
        Category.VALIDATION,
        Match.EXACT,
        None,
    )
    dialer = classify(VENDOR, MISSING_PARAMS, url=f"{HOST}/service/callcenter/task/create")
    assert dialer.product == "dialer"
    # the dialer's own 10301: "Invalid app key" (AIRudderErrorCodes), never the seed's
    # "parameters are missing"
    assert (dialer.category, dialer.matched) == (Category.AUTH, Match.EXACT)
    assert dialer.message == "Invalid app key"
    assert dialer.vendor_message == "One or more parameters are missing."


def test_lookup_without_product_never_guesses_between_the_tables() -> None:
    # 10301 means "parameters missing" to the seed's API and "invalid app key" to the dialer
    o = lookup(VENDOR, "10301")
    assert o.matched is Match.AMBIGUOUS
    assert {(c.product, c.category) for c in o.candidates} == {
        (None, Category.VALIDATION),
        ("dialer", Category.AUTH),
    }
    assert lookup(VENDOR, "10301", product="dialer").category is Category.AUTH


def test_client_cloud_task_error() -> None:
    body = {"status": "Error", "code": 10403, "message": "Task name already exists."}
    with _client(200, body) as client:
        response = client.post(f"{HOST}/service/cloud/task", json={"TaskName": "t"})
    o = _outcome(response)
    assert (o.vendor, o.product, o.code) == (VENDOR, None, "10403")
    assert o.category is Category.VALIDATION


def test_client_dialer_error_reads_the_dialer_table() -> None:
    with _client(200, MISSING_PARAMS) as client:
        response = client.post(f"{HOST}/service/callcenter/agent/login", json={})
    o = _outcome(response)
    assert (o.vendor, o.product) == (VENDOR, "dialer")
    assert o.category is Category.AUTH  # 10301 Invalid app key
    assert o.retryable is False


@pytest.mark.parametrize(
    ("code", "category"),
    [
        ("10201", Category.SERVER),  # Internal error
        ("10506", Category.NOT_FOUND),  # Task is not found
        ("10510", Category.VALIDATION),  # Incorrect phone number
        ("10813", Category.AUTH),  # Expired user token
        ("10611", Category.BUSY),  # The call of the CallID is not finished
    ],
)
def test_dialer_codes_through_a_client(code: str, category: Category) -> None:
    body = {"code": int(code), "status": "Error"}
    with _client(200, body) as client:
        o = _outcome(client.post(f"{HOST}/service/callcenter/call/predict/querytasklist", json={}))
    assert (o.product, o.code, o.category, o.matched) == ("dialer", code, category, Match.EXACT)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        # auth and workflow endpoints answer code 200 (airudder.constant.ts)
        ("/service/cloud/auth", {"status": "OK", "code": 200, "data": {"token": "abc"}}),
        (
            "/service/cloud/workflow/createinstance",
            {"status": "OK", "code": 200, "data": {"workflow_id": "w1"}},
        ),
        # the transactional SMS send answers code 0 with body.messageId
        ("/service/sms/message/v2/send", {"code": 0, "body": {"messageId": "m1"}}),
    ],
    ids=["auth", "workflow", "sms-send"],
)
def test_client_success_codes(path: str, body: object) -> None:
    with _client(200, body) as client:
        o = _outcome(client.post(f"{HOST}{path}", json={}))
    assert o.category is Category.OK
    assert o.vendor == VENDOR


def test_client_token_rejected_with_http_401() -> None:
    # a bad token may come as HTTP 401 without a vendor code (seeds README)
    with _client(401, {"status": "Error", "message": "Token is incorrect."}) as client:
        o = _outcome(client.get(f"{HOST}/service/cloud/list"))
    assert o.category is Category.AUTH
    assert o.matched is Match.HTTP_STATUS


def test_client_token_error_in_body() -> None:
    body = {"status": "Error", "code": 401, "message": "Token is incorrect."}
    with _client(200, body) as client:
        o = _outcome(client.get(f"{HOST}/service/cloud/detail"))
    assert (o.category, o.matched, o.code) == (Category.AUTH, Match.EXACT, "401")
