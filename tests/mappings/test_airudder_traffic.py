"""AIRudder real traffic: API families selected by path, success codes, the token answer.

Sources: the seed "Error Codes" table (api-docs.airudder.com doc-1648295); the Quick Start
(developer.airudder.com doc-1918333: "Domain name: https://api.airudder.com", "Authorization:
Token <token>"); public client code: a PHP client's Options.php (/service/cloud/{auth,task,
operation,cancelphonecall,list,detail,robot,recording,case}) and a TypeScript client's
airudder.constant.ts ("code: 0" on /service/sms/message/v2/send, "code: 200" on auth and
workflow endpoints). The predictive-dialer family (/service/callcenter/) has a numbering of
its own whose table is not public: its codes must never be read with the seed table.
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
    assert dialer["codes"] == {}  # no public table: nothing invented
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
    assert dialer.category is Category.UNKNOWN  # never the seed's "parameters are missing"
    assert dialer.matched is Match.UNMAPPED
    assert dialer.message != "One or more parameters are missing."
    assert dialer.vendor_message == "One or more parameters are missing."


def test_lookup_without_product_keeps_the_seed_meaning() -> None:
    o = lookup(VENDOR, "10301")
    assert o.matched is Match.EXACT
    assert o.category is Category.VALIDATION
    assert lookup(VENDOR, "10301", product="dialer").matched is Match.UNMAPPED


def test_client_cloud_task_error() -> None:
    body = {"status": "Error", "code": 10403, "message": "Task name already exists."}
    with _client(200, body) as client:
        response = client.post(f"{HOST}/service/cloud/task", json={"TaskName": "t"})
    o = _outcome(response)
    assert (o.vendor, o.product, o.code) == (VENDOR, None, "10403")
    assert o.category is Category.VALIDATION


def test_client_dialer_error_is_unknown() -> None:
    with _client(200, MISSING_PARAMS) as client:
        response = client.post(f"{HOST}/service/callcenter/agent/login", json={})
    o = _outcome(response)
    assert (o.vendor, o.product) == (VENDOR, "dialer")
    assert o.category is Category.UNKNOWN
    assert o.retryable is False


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
