"""tencentcloud-sdk-python 3.x (common + sms), for real, its HTTP (requests) mocked with
``responses``."""

from __future__ import annotations

from typing import Any

import pytest
import requests
import responses
import tenacity
from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.sms.v20210111 import models, sms_client

import normalizer
from normalizer import Category, VendorError
from tests.sdk.conftest import call, retrying, transport_attempts

URL = "https://sms.tencentcloudapi.com/"
HEADERS = {"X-TC-Action": "SendSms"}


def error(code: str, message: str) -> dict[str, Any]:
    return {"Response": {"Error": {"Code": code, "Message": message}, "RequestId": "req-1"}}


def status(number: str, code: str, message: str) -> dict[str, Any]:
    return {"SerialNo": "s" if code == "Ok" else "", "PhoneNumber": number, "Fee": 1,
            "SessionContext": "", "Code": code, "Message": message, "IsoCode": "CN"}  # fmt: skip


SENT = {"Response": {"SendStatusSet": [status("+8613800138000", "Ok", "send success")],
                     "RequestId": "req-2"}}  # fmt: skip


def send(answers: list[Any], retry: bool = True) -> tuple[Any, int]:
    """SendSms through the real SDK against ``answers`` (bodies, or exceptions the HTTP layer
    raises), under the tenacity helpers: its result (or last error) and the requests sent."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        for body in answers:
            if isinstance(body, Exception):
                mock.add(responses.POST, URL, body=body)
            else:
                mock.add(responses.POST, URL, json=body)
        client = sms_client.SmsClient(credential.Credential("id", "key"), "ap-guangzhou")
        request = models.SendSmsRequest()
        request.PhoneNumberSet = ["+8613800138000"]
        request.SmsSdkAppId = "1400000000"
        request.TemplateId = "1"

        def attempt() -> Any:
            return client.SendSms(request)

        result = call(attempt, retrying()) if retry else call(attempt, retrying_once())
        return result, len(mock.calls)


def retrying_once() -> tenacity.Retrying:
    return tenacity.Retrying(stop=tenacity.stop_after_attempt(1), reraise=True)


@pytest.mark.parametrize(
    ("code", "category"),
    [
        ("AuthFailure.SignatureFailure", Category.AUTH),
        ("InvalidParameterValue.IncorrectPhoneNumber", Category.VALIDATION),
        ("FailedOperation.InsufficientBalanceInSmsPackage", Category.BILLING),
        ("RequestLimitExceeded", Category.BUSY),
    ],
    ids=["auth", "validation", "billing", "busy"],
)
def test_a_raised_error_reads_as_the_vendor_s_code(code: str, category: Category) -> None:
    raised, _ = send([error(code, "text")], retry=False)
    assert isinstance(raised, TencentCloudSDKException)
    outcome = normalizer.classify_exception(raised)
    assert outcome is not None
    assert (outcome.vendor, outcome.code, outcome.category) == ("tencent_sms", code, category)
    assert (outcome.vendor_message, outcome.request_id) == ("text", "req-1")


def test_a_per_number_limit_in_the_returned_model_is_an_item() -> None:
    both = {"Response": {"RequestId": "req-3", "SendStatusSet": [
        status("+8613800138000", "Ok", "send success"),
        status("+8613800138001", "LimitExceeded.PhoneNumberDailyLimit", "daily limit"),
    ]}}  # fmt: skip
    response, _ = send([both])
    assert isinstance(response, models.SendSmsResponse)
    outcome = normalizer.classify("tencent_sms", response)
    assert outcome.ok
    assert outcome.partial
    assert outcome.request_id == "req-3"
    (failed,) = outcome.failed_items
    assert (failed.code, failed.category, failed.number) == (
        "LimitExceeded.PhoneNumberDailyLimit",
        Category.BILLING,  # a per-number daily quota (issue 31), of recipient scope
        "*********8001",
    )
    assert failed.recipient == "+8613800138001"


def test_a_busy_answer_is_retried_exactly_as_the_transport_would() -> None:
    answers = [error("RequestLimitExceeded", "too fast"), SENT]
    response, requests_sent = send(answers)
    assert isinstance(response, models.SendSmsResponse)
    assert normalizer.classify("tencent_sms", response).ok
    expected = transport_attempts(
        "tencent_sms", "POST", URL, [(200, a) for a in answers], headers=HEADERS
    )
    assert requests_sent == 2 == expected


def test_an_ambiguous_server_error_is_never_resent() -> None:
    answers = [error("InternalError.Timeout", "timeout"), SENT]
    raised, requests_sent = send(answers)
    assert isinstance(raised, TencentCloudSDKException)
    expected = transport_attempts(
        "tencent_sms", "POST", URL, [(200, a) for a in answers], headers=HEADERS
    )
    assert requests_sent == 1 == expected


def test_a_read_timeout_wrapped_as_client_network_error_is_not_resent() -> None:
    raised, requests_sent = send([requests.exceptions.ReadTimeout("read timed out"), SENT])
    assert isinstance(raised, TencentCloudSDKException)
    assert raised.code == "ClientNetworkError"
    assert normalizer.classify_exception(raised) is None  # the SDK's code, no vendor answer
    assert requests_sent == 1


def test_a_connection_never_made_wrapped_as_client_network_error_is_resent() -> None:
    response, requests_sent = send([requests.exceptions.ConnectTimeout("connect timeout"), SENT])
    assert isinstance(response, models.SendSmsResponse)
    assert requests_sent == 2


def test_a_vendor_error_inside_client_network_error_keeps_its_outcome() -> None:
    """The HTTP seam (a requests adapter raising normalizer's VendorError) under the SDK:
    tencentcloud re-raises it as ClientNetworkError; its outcome is still the answer."""
    busy = normalizer.lookup("tencent_sms", "RequestLimitExceeded")
    raised, requests_sent = send([VendorError(busy), SENT], retry=False)
    assert isinstance(raised, TencentCloudSDKException)
    assert raised.code == "ClientNetworkError"
    assert normalizer.classify_exception(raised) is busy
    response, requests_sent = send([VendorError(busy), SENT])
    assert isinstance(response, models.SendSmsResponse)  # and retried as the busy answer it is
    assert requests_sent == 2
