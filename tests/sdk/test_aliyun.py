"""alibabacloud_dysmsapi20170525 4.x (on alibabacloud_tea_openapi / darabonba), for real, its
HTTP (requests) mocked with ``responses``.

Aliyun signs every request with a one-time nonce (``x-acs-signature-nonce``): normalizer's
transport never resends one (the same bytes would be refused), so this is where Aliyun is
retried: tenacity around the SDK call, which signs each attempt anew.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import requests
import responses
import tenacity
from alibabacloud_dysmsapi20170525 import models as sms_models
from alibabacloud_dysmsapi20170525.client import Client
from alibabacloud_tea_openapi import models as open_api_models

import normalizer
from normalizer import Category, Outcome
from normalizer._registry import default_registry
from normalizer._sdk import chain
from tests.sdk.conftest import call, retrying

ENDPOINT = re.compile(r"https://dysmsapi\.aliyuncs\.com/.*")
OK = {"Code": "OK", "Message": "OK", "BizId": "900619746936498440^0", "RequestId": "r-ok"}


def answer(code: str, message: str) -> dict[str, Any]:
    return {"Code": code, "Message": message, "RequestId": "r-1"}


def client() -> Client:
    config = open_api_models.Config(
        access_key_id="id", access_key_secret="secret", endpoint="dysmsapi.aliyuncs.com"
    )
    return Client(config)


REQUEST = sms_models.SendSmsRequest(
    phone_numbers="13800138000", sign_name="Acme", template_code="SMS_1"
)


def send(answers: list[tuple[int, Any]]) -> tuple[Any, list[str]]:
    """SendSms through the real SDK, its answer read with ``classify`` (a raised error with
    ``classify_exception`` by the tenacity helpers), under those helpers: the outcome (or the
    last error) and the signature nonce of every request sent."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        for status, body in answers:
            mock.add(responses.POST, ENDPOINT, json=body, status=status)
        sdk = client()

        def attempt() -> Outcome:
            return normalizer.classify("aliyun_sms", sdk.send_sms(REQUEST), product="sms")

        result = call(attempt, retrying(vendor="aliyun_sms", product="sms"))
        nonces = [str(c.request.headers["x-acs-signature-nonce"]) for c in mock.calls]
        return result, nonces


@pytest.mark.parametrize(
    ("status", "code", "message", "category"),
    [
        (404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.", Category.AUTH),
        (400, "MissingParameter", '"SignName" is not supplied', Category.VALIDATION),
        (400, "Throttling.User", "Request was denied due to user flow control.", Category.BUSY),
        (500, "InternalError", "The request processing has failed.", Category.SERVER),
    ],
    ids=["auth", "validation", "busy", "server"],
)  # fmt: skip
def test_a_raised_error_reads_its_body(
    status: int, code: str, message: str, category: Category
) -> None:
    with responses.RequestsMock() as mock:
        mock.add(responses.POST, ENDPOINT, json=answer(code, message), status=status)
        with pytest.raises(Exception) as info:  # noqa: PT011 - the SDK's own classes
            client().send_sms(REQUEST)
    outcome = normalizer.classify_exception(info.value, product="sms")
    assert outcome is not None
    assert (outcome.vendor, outcome.product, outcome.code) == ("aliyun_sms", "sms", code)
    assert (outcome.category, outcome.http_status) == (category, status)
    assert (outcome.vendor_message, outcome.request_id) == (message, "r-1")  # the body's own


@pytest.mark.parametrize(
    ("code", "message", "category", "retryable"),
    [
        ("isv.MOBILE_NUMBER_ILLEGAL", "invalid mobile number", Category.VALIDATION, False),
        ("isv.AMOUNT_NOT_ENOUGH", "账户余额不足", Category.BILLING, False),
        ("isv.BUSINESS_LIMIT_CONTROL", "触发天级流控Permits:10", Category.BILLING, False),  # quota
        ("isv.BUSINESS_LIMIT_CONTROL", "触发分钟级流控Permits:1", Category.BUSY, True),
    ],
    ids=["validation", "billing", "day-limit", "minute-limit"],
)
def test_a_business_error_answered_with_200_is_read_from_the_returned_model(
    code: str, message: str, category: Category, retryable: bool
) -> None:
    with responses.RequestsMock() as mock:
        mock.add(responses.POST, ENDPOINT, json=answer(code, message), status=200)
        response = client().send_sms(REQUEST)
    assert isinstance(response, sms_models.SendSmsResponse)
    outcome = normalizer.classify("aliyun_sms", response, product="sms")
    assert (outcome.code, outcome.category, outcome.retryable) == (code, category, retryable)
    assert outcome.http_status == 200  # the model's own status_code
    # the body model alone reads the same
    assert normalizer.classify("aliyun_sms", response.body, product="sms").code == code


def test_a_busy_answer_is_retried_and_the_sdk_signs_each_attempt_anew() -> None:
    answers = [(400, answer("Throttling.User", "flow control")), (200, OK)]
    outcome, nonces = send(answers)
    assert isinstance(outcome, Outcome)
    assert outcome.ok
    assert len(nonces) == 2
    assert len(set(nonces)) == 2  # a fresh SignatureNonce: the transport could not do this


def test_a_minute_limit_returned_in_the_model_waits_its_window_or_stops() -> None:
    """The per-number minute limit names its window (60 s, issue 31): the helpers wait it, and
    with the policy's 60 s deadline it leaves no time, so the call stops after one request
    rather than sending again early into the same limit."""
    answers = [(200, answer("isv.BUSINESS_LIMIT_CONTROL", "触发分钟级流控Permits:1")), (200, OK)]
    result, nonces = send(answers)
    assert isinstance(result, tenacity.RetryError)
    last = result.last_attempt.result()
    assert (last.category, last.retry_after) == (Category.BUSY, 60.0)
    assert len(nonces) == 1


@pytest.mark.parametrize(
    "answers",
    [
        [(200, answer("isp.SYSTEM_ERROR", "system error")), (200, OK)],
        [(500, answer("InternalError", "failed")), (200, OK)],
    ],
    ids=["returned", "raised"],
)
def test_an_ambiguous_server_error_is_never_resent(answers: list[tuple[int, Any]]) -> None:
    result, nonces = send(answers)
    reading = result if isinstance(result, Outcome) else normalizer.classify_exception(result)
    assert reading is not None
    assert (reading.category, reading.retryable, reading.rejected) == (Category.SERVER, True, False)
    assert len(nonces) == 1


def test_the_day_limit_is_not_retried() -> None:
    outcome, nonces = send([(200, answer("isv.BUSINESS_LIMIT_CONTROL", "触发天级流控Permits:10"))])
    assert isinstance(outcome, Outcome)
    assert not outcome.retryable
    assert len(nonces) == 1


@pytest.mark.parametrize(
    ("failure", "sent"),
    [(requests.exceptions.ConnectTimeout("connect timed out"), 2),
     (requests.exceptions.ReadTimeout("read timed out"), 1)],
    ids=["never-sent", "maybe-sent"],
)  # fmt: skip
def test_a_transport_failure_the_sdk_gave_up_on_is_judged_by_what_it_wraps(
    failure: Exception, sent: int
) -> None:
    """darabonba raises UnretryableException(inner_exception=RetryError from the requests
    error): no answer (classify_exception reads None), resent only when it never left."""
    sdk = client()
    with responses.RequestsMock() as mock:
        mock.add(responses.POST, ENDPOINT, body=failure)
        with pytest.raises(Exception) as info:  # noqa: PT011 - the SDK's own class
            sdk.send_sms(REQUEST)
    assert normalizer.classify_exception(info.value) is None
    aliyun = (default_registry().get("aliyun_sms"),)
    assert failure in [link for link, _ in chain(info.value, aliyun)]  # [sdk] wraps

    def attempt() -> Outcome:
        return normalizer.classify("aliyun_sms", sdk.send_sms(REQUEST), product="sms")

    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add(responses.POST, ENDPOINT, body=failure)
        mock.add(responses.POST, ENDPOINT, json=OK)
        result = call(attempt, retrying(vendor="aliyun_sms", product="sms"))
        assert len(mock.calls) == sent
    assert isinstance(result, Outcome) == (sent == 2)
