"""vonage 4.x (vonage-http-client, vonage-sms, vonage-messages), for real, its HTTP (requests)
mocked with ``responses``. The SDK's own retry layer is off (``max_retries=0``)."""

from __future__ import annotations

from typing import Any

import pytest
import responses
from vonage.vonage import Vonage
from vonage_http_client import Auth, HttpClientOptions
from vonage_http_client.errors import HttpRequestError
from vonage_messages import Sms
from vonage_sms import SmsMessage, SmsResponse
from vonage_sms.errors import PartialFailureError, SmsError

import normalizer
from normalizer import Category
from tests.sdk.conftest import call, retrying, transport_attempts

SMS_URL = "https://rest.nexmo.com/sms/json"
MESSAGES_URL = "https://api.nexmo.com/v1/messages"
SENT = {"to": "447700900000", "message-id": "m-1", "status": "0", "remaining-balance": "9.1",
        "message-price": "0.03", "network": "23410"}  # fmt: skip


def sms(*parts: dict[str, Any]) -> dict[str, Any]:
    return {"message-count": str(len(parts)), "messages": list(parts)}


def failed(status: str, text: str) -> dict[str, Any]:
    return {"status": status, "error-text": text}


def vonage() -> Vonage:
    return Vonage(Auth(api_key="key", api_secret="secret"), HttpClientOptions(max_retries=0))


def send_sms(answers: list[dict[str, Any]]) -> tuple[Any, int]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        for body in answers:
            mock.add(responses.POST, SMS_URL, json=body)
        client = vonage()
        message = SmsMessage(to="447700900000", from_="Acme", text="hi")
        result = call(lambda: client.sms.send(message), retrying())
        return result, len(mock.calls)


@pytest.mark.parametrize(
    ("status", "category"),
    [("4", Category.AUTH), ("3", Category.VALIDATION), ("9", Category.BILLING),
     ("1", Category.BUSY)],
    ids=["auth", "validation", "quota", "throttled"],
)  # fmt: skip
def test_a_failed_part_raised_as_sms_error_reads_its_status(
    status: str, category: Category
) -> None:
    raised, _ = send_sms([sms(failed(status, "the vendor's text"))] * 3)
    assert isinstance(raised, SmsError)
    outcome = normalizer.classify_exception(raised)
    assert outcome is not None
    assert (outcome.vendor, outcome.product, outcome.code) == ("vonage", "sms", status)
    assert (outcome.category, outcome.vendor_message) == (category, "the vendor's text")


def test_a_throttled_part_is_retried_exactly_as_the_transport_would() -> None:
    answers = [sms(failed("1", "Throughput Rate Exceeded")), sms(SENT)]
    response, requests_sent = send_sms(answers)
    assert isinstance(response, SmsResponse)
    assert normalizer.classify("vonage", response, product="sms").ok
    expected = transport_attempts("vonage", "POST", SMS_URL, [(200, a) for a in answers])
    assert requests_sent == 2 == expected


def test_an_internal_error_part_is_never_resent() -> None:
    answers = [sms(failed("5", "Internal Error")), sms(SENT)]
    raised, requests_sent = send_sms(answers)
    assert isinstance(raised, SmsError)
    expected = transport_attempts("vonage", "POST", SMS_URL, [(200, a) for a in answers])
    assert requests_sent == 1 == expected


def test_a_partial_failure_is_a_partial_outcome_and_not_resent() -> None:
    answers = [sms(SENT, failed("9", "Partner quota exceeded"))]
    raised, requests_sent = send_sms(answers)
    assert isinstance(raised, PartialFailureError)
    outcome = normalizer.classify_exception(raised)
    assert outcome is not None
    assert outcome.partial
    assert [i.code for i in outcome.failed_items] == ["9"]
    assert requests_sent == 1


@pytest.mark.parametrize(
    ("status", "body", "category"),
    [
        (401, {"type": "https://developer.nexmo.com/api-errors#unauthorized",
               "title": "Unauthorized", "detail": "You did not provide correct credentials."},
         Category.AUTH),
        (422, {"type": "https://developer.nexmo.com/api-errors/messages-olympus#1150",
               "title": "Invalid params", "detail": "The value of a parameter is invalid."},
         Category.VALIDATION),
        (429, {"type": "https://developer.nexmo.com/api-errors#throttled", "title": "Throttled",
               "detail": "Please wait, then retry your request"}, Category.BUSY),
    ],
    ids=["auth", "validation", "limit"],
)  # fmt: skip
def test_a_messages_api_error_reads_through_the_messages_family(
    status: int, body: dict[str, Any], category: Category
) -> None:
    with responses.RequestsMock() as mock:
        mock.add(responses.POST, MESSAGES_URL, json=body, status=status)
        with pytest.raises(HttpRequestError) as info:
            vonage().messages.send(Sms(to="447700900000", from_="Acme", text="hi"))
    outcome = normalizer.classify_exception(info.value)
    assert outcome is not None
    assert (outcome.vendor, outcome.product) == ("vonage", "messages")  # from the response URL
    assert (outcome.category, outcome.http_status) == (category, status)


def test_a_messages_api_rate_limit_is_retried_exactly_as_the_transport_would() -> None:
    throttled = {"type": "https://developer.nexmo.com/api-errors#throttled", "title": "Throttled"}
    accepted = {"message_uuid": "aaaaaaaa-bbbb-cccc-dddd-0123456789ab"}
    with responses.RequestsMock() as mock:
        mock.add(responses.POST, MESSAGES_URL, json=throttled, status=429)
        mock.add(responses.POST, MESSAGES_URL, json=accepted, status=202)
        client = vonage()
        sent = call(
            lambda: client.messages.send(Sms(to="447700900000", from_="Acme", text="hi")),
            retrying(),
        )
        requests_sent = len(mock.calls)
    assert sent.message_uuid == accepted["message_uuid"]
    answers = [(429, throttled), (202, accepted)]
    assert requests_sent == 2 == transport_attempts("vonage", "POST", MESSAGES_URL, answers)


def test_a_retry_after_the_sdk_keeps_is_waited_as_the_transport_waits_it() -> None:
    throttled = {"type": "https://developer.nexmo.com/api-errors#throttled", "title": "Throttled"}
    accepted = {"message_uuid": "aaaaaaaa-bbbb-cccc-dddd-0123456789ab"}
    waits: list[float] = []
    with responses.RequestsMock() as mock:
        mock.add(
            responses.POST, MESSAGES_URL, json=throttled, status=429, headers={"Retry-After": "7"}
        )
        mock.add(responses.POST, MESSAGES_URL, json=accepted, status=202)
        client = vonage()
        retry = retrying().copy(sleep=waits.append)
        retry(lambda: client.messages.send(Sms(to="447700900000", from_="Acme", text="hi")))
    assert waits == [7.0]  # the vendor's own pause, not the busy category's pace
