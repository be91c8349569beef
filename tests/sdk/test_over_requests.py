"""The vendors' sync SDKs, for real, over ``normalizer.requests.NormalizingAdapter`` mounted on
the ``requests.Session`` each one talks through, their HTTP mocked with ``responses``: the
adapter classifies, retries and raises under the SDK exactly as the httpx transport would.

The seams (docs/sdks/): Twilio's ``TwilioHttpClient().session``; Tencent Cloud's
``client.request.conn._session``; darabonba's (Alibaba Cloud) ``DaraCore.get_adapter``, which
builds the adapter of every session it opens; Vonage's ``client.http_client._session``.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import requests
import responses
from alibabacloud_dysmsapi20170525 import models as aliyun_models
from alibabacloud_dysmsapi20170525.client import Client as AliyunClient
from alibabacloud_tea_openapi import models as open_api_models
from darabonba.core import DaraCore
from requests.adapters import HTTPAdapter
from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.sms.v20210111 import models as tencent_models
from tencentcloud.sms.v20210111 import sms_client
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client as TwilioClient
from vonage.vonage import Vonage as VonageClient
from vonage_http_client import Auth as VonageAuth
from vonage_http_client import HttpClientOptions
from vonage_sms import SmsMessage, SmsResponse
from vonage_sms.errors import SmsError

import normalizer
from normalizer import Category, Outcome
from normalizer.requests import NormalizingAdapter
from tests.sdk.conftest import call, retrying, transport_attempts

# --- Twilio: TwilioHttpClient().session ------------------------------------------------------

TWILIO = "https://api.twilio.com/2010-04-01/Accounts/AC123/Messages.json"
QUEUED = {"sid": "SM1", "status": "queued", "error_code": None, "error_message": None}


def twilio_error(code: int, message: str, status: int) -> dict[str, Any]:
    return {"code": code, "message": message, "more_info": "", "status": status}


def twilio(answers: list[tuple[int, Any]], **options: Any) -> tuple[Any, int]:
    """One message sent through the real SDK over the adapter: what it returned (or raised)
    and how many requests went out."""
    http_client = TwilioHttpClient()
    http_client.session.mount("https://", NormalizingAdapter("twilio", **options))
    client = TwilioClient("AC123", "token", http_client=http_client)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        for status, body in answers:
            mock.add(responses.POST, TWILIO, json=body, status=status)
        try:
            result = client.messages.create(to="+15005550006", from_="+15005550001", body="hi")
        except Exception as exc:
            result = exc
        return result, len(mock.calls)


TWILIO_ANSWERS = {
    "auth": ((401, twilio_error(20003, "Authenticate", 401)), Category.AUTH, "20003"),
    "validation": ((400, twilio_error(21211, "Invalid 'To'", 400)), Category.VALIDATION, "21211"),
    "limit": ((429, twilio_error(20429, "Too Many Requests", 429)), Category.BUSY, "20429"),
}


@pytest.mark.parametrize("kind", sorted(TWILIO_ANSWERS))
def test_twilio_errors_read_alike_and_are_sent_as_the_transport_sends(kind: str) -> None:
    answer, category, code = TWILIO_ANSWERS[kind]
    raised, sent = twilio([answer])
    assert isinstance(raised, TwilioRestException)  # the SDK's own, from the same body
    outcome = normalizer.classify_exception(raised)
    assert outcome is not None
    assert (outcome.category, outcome.code) == (category, code)
    assert sent == transport_attempts("twilio", "POST", TWILIO, [answer])
    assert sent == (3 if category is Category.BUSY else 1)


@pytest.mark.parametrize("kind", sorted(TWILIO_ANSWERS))
def test_twilio_with_raise_on_error_raises_the_typed_error_through_the_sdk(kind: str) -> None:
    answer, category, code = TWILIO_ANSWERS[kind]
    raised, _ = twilio([answer], raise_on_error=True)
    assert isinstance(raised, normalizer.VendorError)
    assert (raised.outcome.category, raised.code) == (category, code)
    assert isinstance(raised.response, requests.Response)
    assert raised.response.json() == answer[1]


def test_twilio_busy_is_retried_under_the_sdk_exactly_as_the_transport_would() -> None:
    answers = [(429, twilio_error(20429, "Too Many Requests", 429)), (201, QUEUED)]
    message, sent = twilio(answers)
    assert message.sid == "SM1"  # the SDK never saw the 429
    assert sent == 2 == transport_attempts("twilio", "POST", TWILIO, answers)


# --- Tencent Cloud: client.request.conn._session ---------------------------------------------

TENCENT = "https://sms.tencentcloudapi.com/"
ACTION = {"X-TC-Action": "SendSms"}


def tencent_error(code: str) -> dict[str, Any]:
    return {"Response": {"Error": {"Code": code, "Message": "text"}, "RequestId": "req-1"}}


SENT = {
    "Response": {
        "SendStatusSet": [
            {
                "SerialNo": "s",
                "PhoneNumber": "+8613800138000",
                "Fee": 1,
                "SessionContext": "",
                "Code": "Ok",
                "Message": "send success",
                "IsoCode": "CN",
            }
        ],
        "RequestId": "req-2",
    }
}


def tencent(answers: list[dict[str, Any]], **options: Any) -> tuple[Any, int]:
    client = sms_client.SmsClient(credential.Credential("id", "key"), "ap-guangzhou")
    client.request.conn._session.mount("https://", NormalizingAdapter("tencent_sms", **options))
    request = tencent_models.SendSmsRequest()
    request.PhoneNumberSet = ["+8613800138000"]
    request.SmsSdkAppId = "1400000000"
    request.TemplateId = "1"
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        for body in answers:
            mock.add(responses.POST, TENCENT, json=body)
        try:
            result = client.SendSms(request)
        except Exception as exc:
            result = exc
        return result, len(mock.calls)


@pytest.mark.parametrize(
    ("code", "category"),
    [
        ("AuthFailure.SignatureFailure", Category.AUTH),
        ("InvalidParameterValue.IncorrectPhoneNumber", Category.VALIDATION),
        ("LimitExceeded.PhoneNumberDailyLimit", Category.BILLING),
        ("RequestLimitExceeded", Category.BUSY),
    ],
    ids=["auth", "validation", "limit", "busy"],
)
def test_tencent_errors_read_alike_and_are_sent_as_the_transport_sends(
    code: str, category: Category
) -> None:
    raised, sent = tencent([tencent_error(code)])
    assert isinstance(raised, TencentCloudSDKException)
    outcome = normalizer.classify_exception(raised)
    assert outcome is not None
    assert (outcome.category, outcome.code) == (category, code)
    expected = transport_attempts(
        "tencent_sms", "POST", TENCENT, [(200, tencent_error(code))], headers=ACTION
    )
    assert sent == expected == (3 if category is Category.BUSY else 1)


def test_tencent_busy_is_retried_under_the_sdk_exactly_as_the_transport_would() -> None:
    answers = [tencent_error("RequestLimitExceeded"), SENT]
    result, sent = tencent(answers)
    assert isinstance(result, tencent_models.SendSmsResponse)
    assert result.SendStatusSet[0].Code == "Ok"
    expected = transport_attempts(
        "tencent_sms", "POST", TENCENT, [(200, body) for body in answers], headers=ACTION
    )
    assert sent == 2 == expected


def test_tencent_with_raise_on_error_the_sdk_wraps_the_typed_error() -> None:
    """Tencent's SDK turns every exception its HTTP layer raises into a
    ``TencentCloudSDKException("ClientNetworkError", ...)``; the VendorError is its context,
    which ``classify_exception`` reads."""
    raised, sent = tencent([tencent_error("AuthFailure.SecretIdNotFound")], raise_on_error=True)
    assert isinstance(raised, TencentCloudSDKException)
    assert isinstance(raised.__context__, normalizer.AuthError)
    outcome = normalizer.classify_exception(raised)
    assert outcome is not None
    assert (outcome.category, outcome.code) == (Category.AUTH, "AuthFailure.SecretIdNotFound")
    assert sent == 1


# --- Alibaba Cloud (darabonba): DaraCore.get_adapter ----------------------------------------

ALIYUN = re.compile(r"https://dysmsapi\.aliyuncs\.com/.*")
OK = {"Code": "OK", "Message": "OK", "BizId": "1^0", "RequestId": "r-ok"}


def aliyun_answer(code: str, message: str) -> dict[str, Any]:
    return {"Code": code, "Message": message, "RequestId": "r-1"}


@pytest.fixture
def aliyun_calls(monkeypatch: pytest.MonkeyPatch) -> list[Outcome]:
    """darabonba's sessions built with the adapter (the recipe in docs/sdks/aliyun.md), fresh
    ones for the test; the outcome of every call the adapter made."""
    outcomes: list[Outcome] = []
    build = DaraCore.get_adapter

    def normalizing(*args: Any, **kwargs: Any) -> HTTPAdapter:
        inner = build(*args, **kwargs)
        return NormalizingAdapter(adapter=inner, on_outcome=lambda c: outcomes.append(c.outcome))

    monkeypatch.setattr(DaraCore, "get_adapter", staticmethod(normalizing))
    monkeypatch.setattr(DaraCore, "_sessions", {})
    return outcomes


def aliyun(answers: list[tuple[int, Any]], helpers: bool = True) -> tuple[Any, list[str]]:
    config = open_api_models.Config(
        access_key_id="id", access_key_secret="secret", endpoint="dysmsapi.aliyuncs.com"
    )
    sdk = AliyunClient(config)
    request = aliyun_models.SendSmsRequest(
        phone_numbers="13800138000", sign_name="Acme", template_code="SMS_1"
    )

    def attempt() -> Outcome:
        return normalizer.classify("aliyun_sms", sdk.send_sms(request), product="sms")

    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        for status, body in answers:
            mock.add(responses.POST, ALIYUN, json=body, status=status)
        if helpers:
            result = call(attempt, retrying(vendor="aliyun_sms", product="sms"))
        else:
            try:
                result = attempt()
            except Exception as exc:
                result = exc
        return result, [str(c.request.headers["x-acs-signature-nonce"]) for c in mock.calls]


@pytest.mark.parametrize(
    ("status", "code", "category"),
    [
        (404, "InvalidAccessKeyId.NotFound", Category.AUTH),
        (400, "MissingParameter", Category.VALIDATION),
        (400, "Throttling.User", Category.BUSY),
        (200, "isv.BUSINESS_LIMIT_CONTROL", Category.BUSY),  # the minute limit, answered 200
    ],
    ids=["auth", "validation", "limit", "busy"],
)
def test_aliyun_answers_are_classified_under_the_sdk_and_never_resent_by_it(
    aliyun_calls: list[Outcome], status: int, code: str, category: Category
) -> None:
    """Aliyun signs each request with a one-time nonce: the adapter (as the transport) never
    sends the same one twice, whatever the answer; it reads and reports each."""
    message = "触发分钟级流控Permits:1" if status == 200 else "text"
    answer = (status, aliyun_answer(code, message))
    result, nonces = aliyun([answer], helpers=False)
    assert (
        len(nonces)
        == 1
        == transport_attempts("aliyun_sms", "POST", "https://dysmsapi.aliyuncs.com/", [answer])
    )
    assert [(o.vendor, o.category, o.code) for o in aliyun_calls] == [
        ("aliyun_sms", category, code)
    ]
    sdk_reading = result if isinstance(result, Outcome) else normalizer.classify_exception(result)
    assert sdk_reading is not None
    assert (sdk_reading.category, sdk_reading.code) == (category, code)


def test_aliyun_busy_is_retried_by_tenacity_around_the_sdk_signing_anew(
    aliyun_calls: list[Outcome],
) -> None:
    answers = [(400, aliyun_answer("Throttling.User", "flow control")), (200, OK)]
    result, nonces = aliyun(answers)
    assert isinstance(result, Outcome)
    assert result.ok
    assert len(set(nonces)) == 2  # two SDK attempts, each signed anew, each sent once
    assert [o.category for o in aliyun_calls] == [Category.BUSY, Category.OK]


# --- Vonage: client.http_client._session -----------------------------------------------------

VONAGE_SMS = "https://rest.nexmo.com/sms/json"
VONAGE_SENT = {"to": "447700900000", "message-id": "m-1", "status": "0",
               "remaining-balance": "9.1", "message-price": "0.03", "network": "23410"}  # fmt: skip


def vonage_sms(*parts: dict[str, Any]) -> dict[str, Any]:
    return {"message-count": str(len(parts)), "messages": list(parts)}


def vonage(answers: list[Any]) -> tuple[Any, int]:
    """One SMS through the real SDK over the adapter (docs/sdks/vonage.md): what it returned (or
    raised) and how many requests went out. ``pool_maxsize=1``: the SDK's own resend after a
    ``RemoteDisconnected`` (``pool_maxsize`` times) is off; ``max_retries=0``: its urllib3
    adapter would retry too, and is replaced anyway."""
    client = VonageClient(
        VonageAuth(api_key="key", api_secret="secret"),
        HttpClientOptions(max_retries=0, pool_maxsize=1),
    )
    client.http_client._session.mount("https://", NormalizingAdapter("vonage"))
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        for answer in answers:
            if isinstance(answer, Exception):
                mock.add(responses.POST, VONAGE_SMS, body=answer)
            else:
                mock.add(responses.POST, VONAGE_SMS, json=answer)
        try:
            result = client.sms.send(SmsMessage(to="447700900000", from_="Acme", text="hi"))
        except Exception as exc:
            result = exc
        return result, len(mock.calls)


@pytest.mark.parametrize(
    ("status", "category"),
    [("4", Category.AUTH), ("3", Category.VALIDATION), ("9", Category.BILLING)],
    ids=["auth", "validation", "quota"],
)
def test_vonage_part_failures_read_alike_and_are_sent_once(status: str, category: Category) -> None:
    answer = vonage_sms({"status": status, "error-text": "the vendor's text"})
    raised, sent = vonage([answer] * 3)
    assert isinstance(raised, SmsError)  # the SDK's own, from the same body
    outcome = normalizer.classify_exception(raised)
    assert outcome is not None
    assert (outcome.category, outcome.code) == (category, status)
    assert sent == 1 == transport_attempts("vonage", "POST", VONAGE_SMS, [(200, answer)])


def test_vonage_throttled_part_is_resent_by_the_adapter_under_the_sdk() -> None:
    answers = [vonage_sms({"status": "1", "error-text": "Throughput Rate Exceeded"}),
               vonage_sms(VONAGE_SENT)]  # fmt: skip
    response, sent = vonage(answers)
    assert isinstance(response, SmsResponse)  # the SDK saw only the answer that went out
    assert normalizer.classify("vonage", response, product="sms").ok
    expected = transport_attempts("vonage", "POST", VONAGE_SMS, [(200, a) for a in answers])
    assert sent == 2 == expected


def test_vonage_never_resends_a_send_whose_answer_was_lost() -> None:
    # the connection dropped after the request was written: the message may have gone; the
    # adapter does not resend it, nor (with pool_maxsize=1) does the SDK's own loop
    lost = requests.ConnectionError("('Connection aborted.', RemoteDisconnected('closed'))")
    raised, sent = vonage([lost, vonage_sms(VONAGE_SENT)])
    assert isinstance(raised, requests.ConnectionError)
    assert sent == 1
