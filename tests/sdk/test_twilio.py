"""twilio-python 9.x, for real, its HTTP (requests) mocked with ``responses``."""

from __future__ import annotations

from typing import Any

import pytest
import requests
import responses
import urllib3
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

import normalizer
from normalizer import Category
from tests.sdk.conftest import call, retrying, transport_attempts

URL = "https://api.twilio.com/2010-04-01/Accounts/AC123/Messages.json"
QUEUED = {"sid": "SM1", "status": "queued", "error_code": None, "error_message": None}


def error(code: int, message: str, status: int) -> dict[str, Any]:
    return {"code": code, "message": message, "more_info": "", "status": status}


def send(answers: list[tuple[int, Any]]) -> tuple[Any, int]:
    """Send one message through the real SDK against ``answers``, under the tenacity helpers:
    what it returned (or raised at last) and how many requests went out."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        for status, body in answers:
            if isinstance(body, Exception):
                mock.add(responses.POST, URL, body=body)
            else:
                mock.add(responses.POST, URL, json=body, status=status)
        client = Client("AC123", "token")
        result = call(
            lambda: client.messages.create(to="+15005550006", from_="+15005550001", body="hi"),
            retrying(),
        )
        return result, len(mock.calls)


@pytest.mark.parametrize(
    ("answer", "category", "code"),
    [
        ((401, error(20003, "Authenticate", 401)), Category.AUTH, "20003"),
        ((400, error(21211, "The 'To' number is not valid", 400)), Category.VALIDATION, "21211"),
        ((429, error(20429, "Too Many Requests", 429)), Category.BUSY, "20429"),
        ((503, "<html>unavailable</html>"), Category.SERVER, "503"),  # no code: the status
    ],
    ids=["auth", "validation", "limit", "unavailable"],
)
def test_a_raised_error_reads_as_the_vendor_s_code(
    answer: tuple[int, Any], category: Category, code: str
) -> None:
    raised, requests_sent = send([answer])
    assert isinstance(raised, TwilioRestException)
    outcome = normalizer.classify_exception(raised)
    assert outcome is not None
    assert (outcome.vendor, outcome.category, outcome.code) == ("twilio", category, code)
    assert outcome.http_status == answer[0]
    assert outcome.product == "messaging"  # the SDK's uri chose the family
    # a busy answer on every attempt: sent as often as the transport sends it (3), others once
    assert requests_sent == transport_attempts("twilio", "POST", URL, [answer])


def test_a_busy_answer_is_retried_exactly_as_the_transport_would() -> None:
    answers = [(429, error(20429, "Too Many Requests", 429)), (201, QUEUED)]
    message, requests_sent = send(answers)
    assert message.sid == "SM1"
    assert requests_sent == 2 == transport_attempts("twilio", "POST", URL, answers)
    assert normalizer.classify("twilio", message).ok  # the returned instance reads as ok


def test_an_ambiguous_server_error_is_never_resent() -> None:
    answers = [(500, error(20500, "Internal Server Error", 500)), (201, QUEUED)]
    raised, requests_sent = send(answers)
    assert isinstance(raised, TwilioRestException)
    assert requests_sent == 1 == transport_attempts("twilio", "POST", URL, answers)


def test_a_read_timeout_may_have_sent_the_message_so_it_is_not_resent() -> None:
    raised, requests_sent = send(
        [(0, requests.exceptions.ReadTimeout("read timed out")), (201, QUEUED)]
    )
    assert isinstance(raised, requests.exceptions.ReadTimeout)
    assert normalizer.classify_exception(raised) is None  # no answer from the vendor
    assert requests_sent == 1


def test_a_connection_never_made_is_resent() -> None:
    refused = urllib3.exceptions.NewConnectionError(None, "Connection refused")  # type: ignore[arg-type]
    never = requests.exceptions.ConnectionError(
        urllib3.exceptions.MaxRetryError(None, URL, reason=refused)  # type: ignore[arg-type]
    )
    message, requests_sent = send([(0, never), (201, QUEUED)])
    assert message.sid == "SM1"
    assert requests_sent == 2


def test_a_fetched_message_that_failed_reads_its_error_code() -> None:
    failed = {**QUEUED, "status": "failed", "error_code": 30001, "error_message": "Queue overflow"}
    with responses.RequestsMock() as mock:
        mock.add(responses.GET, URL.replace(".json", "/SM1.json"), json=failed)
        message = Client("AC123", "token").messages("SM1").fetch()
    outcome = normalizer.classify("twilio", message)
    assert (outcome.category, outcome.code, outcome.request_id) == (Category.BUSY, "30001", "SM1")
