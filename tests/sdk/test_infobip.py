"""infobip-api-python-client 6.x, for real, against a server on 127.0.0.1 (the SDK speaks
urllib3, which ``responses`` does not mock)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import tenacity
from infobip_api_client import ApiClient, Configuration
from infobip_api_client.api.sms_api import SmsApi
from infobip_api_client.exceptions import ApiException
from infobip_api_client.models import (
    SmsDestination,
    SmsMessage,
    SmsMessageContent,
    SmsRequest,
    SmsResponse,
    SmsTextContent,
)

import normalizer
from normalizer import Category, Outcome
from tests.sdk.conftest import LocalServer, call, retrying, transport_attempts

URL = "https://xyz.api.infobip.com/sms/3/messages"


def error(code: str, text: str) -> dict[str, Any]:
    return {"errorCode": code, "description": text, "action": "", "violations": [],
            "resources": []}  # fmt: skip


def message(number: str, group: str, name: str, text: str) -> dict[str, Any]:
    return {"messageId": f"m-{number[-4:]}", "destination": number, "details": {"messageCount": 1},
            "status": {"groupId": 1, "groupName": group, "id": 26, "name": name,
                       "description": text}}  # fmt: skip


ACCEPTED = {"bulkId": "b-1", "messages": [message("41793026727", "PENDING", "PENDING_ACCEPTED",
                                                  "Message sent to next instance")]}  # fmt: skip
REQUEST = SmsRequest(
    messages=[
        SmsMessage(
            sender="Acme",
            destinations=[SmsDestination(to="41793026727")],
            content=SmsMessageContent(actual_instance=SmsTextContent(text="hi")),
        )
    ]
)


def send(server: LocalServer, answers: list[tuple[int, Any]]) -> tuple[Any, int]:
    server.answers = answers
    api = SmsApi(ApiClient(Configuration(host=server.url, api_key="key")))
    return call(lambda: api.send_sms_messages(REQUEST), retrying()), len(server.paths)


@pytest.mark.parametrize(
    ("status", "code", "category"),
    [
        (401, "E401", Category.AUTH),
        (400, "E400", Category.VALIDATION),
        (429, "E429", Category.BUSY),
        (500, "E500", Category.SERVER),
    ],
    ids=["auth", "validation", "limit", "server"],
)
def test_a_raised_error_reads_its_body(
    local_server: LocalServer, status: int, code: str, category: Category
) -> None:
    raised, _ = send(local_server, [(status, error(code, "the vendor's text"))] * 3)
    assert isinstance(raised, ApiException)
    outcome = normalizer.classify_exception(raised)
    assert outcome is not None
    assert (outcome.vendor, outcome.code, outcome.category) == ("infobip", code, category)
    assert (outcome.http_status, outcome.vendor_message) == (status, "the vendor's text")


def test_a_busy_answer_is_retried_exactly_as_the_transport_would(local_server: LocalServer) -> None:
    answers = [(429, error("E429", "Too many requests sent.")), (200, ACCEPTED)]
    response, requests_sent = send(local_server, answers)
    assert isinstance(response, SmsResponse)
    assert requests_sent == 2 == transport_attempts("infobip", "POST", URL, answers)


def test_an_ambiguous_server_error_is_never_resent(local_server: LocalServer) -> None:
    answers = [(500, error("E500", "Something went wrong.")), (200, ACCEPTED)]
    raised, requests_sent = send(local_server, answers)
    assert isinstance(raised, ApiException)
    assert requests_sent == 1 == transport_attempts("infobip", "POST", URL, answers)


def test_a_rejected_message_in_the_returned_model_is_a_failed_item(
    local_server: LocalServer,
) -> None:
    rejected = message("41793026", "REJECTED", "REJECTED_PREFIX_MISSING", "Number prefix invalid")
    body = {"bulkId": "b-2", "messages": [*ACCEPTED["messages"], rejected]}
    response, _ = send(local_server, [(200, body)])
    assert isinstance(response, SmsResponse)
    outcome = normalizer.classify("infobip", response)
    assert isinstance(outcome, Outcome)
    assert outcome.partial
    assert outcome.request_id == "b-2"
    (item,) = outcome.failed_items
    assert (item.code, item.category, item.message_id) == (
        "REJECTED_PREFIX_MISSING",
        Category.VALIDATION,
        "m-3026",
    )


def test_a_retry_after_in_the_exception_s_headers_is_waited() -> None:
    limited = ApiException(status=429, body=json.dumps(error("E429", "Too many requests sent.")))
    limited.headers = {"Retry-After": "3"}  # as ApiException keeps http_resp.getheaders()
    state = tenacity.RetryCallState(tenacity.Retrying(), None, (), {})
    state.set_exception((ApiException, limited, None))
    assert normalizer.wait_vendor()(state) == 3.0
    limited.headers = None
    assert normalizer.wait_vendor(normalizer.RetryPolicy(random=lambda: 0.5))(state) == 0.5
