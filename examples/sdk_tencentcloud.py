"""tencentcloud-sdk-python 3.x (SMS), sync and async: what the SDK raises and returns, read and
retried by normalizer (docs/sdks/tencentcloud.md); and the sync client over
``normalizer.requests``.

Run: ``.venv/bin/python examples/sdk_tencentcloud.py`` (no network: the sync client's HTTP,
``requests``, is mocked with ``responses``, the async client's, ``httpx``, with ``respx``;
waits are switched off for the demonstration).
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import responses
import respx
import tenacity
from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.sms.v20210111 import models, sms_client, sms_client_async

import normalizer
from normalizer.requests import NormalizingAdapter
from normalizer.testing import set_testing

URL = "https://sms.tencentcloudapi.com/"
NUMBERS = ["+8613800138000", "+8613800138001"]


def error(code: str, message: str) -> dict[str, Any]:
    return {"Response": {"Error": {"Code": code, "Message": message}, "RequestId": "r1"}}


def status(number: str, code: str) -> dict[str, Any]:
    return {"PhoneNumber": number, "Code": code, "Message": code, "SerialNo": "", "Fee": 1}


CAPPED = status(NUMBERS[1], "LimitExceeded.PhoneNumberDailyLimit")
SENT = {"Response": {"RequestId": "r2", "SendStatusSet": [status(NUMBERS[0], "Ok"), CAPPED]}}


def sms_request(numbers: list[str]) -> models.SendSmsRequest:
    request = models.SendSmsRequest()
    request.PhoneNumberSet, request.SmsSdkAppId, request.TemplateId = numbers, "1400000000", "1"
    return request


# --8<-- [start:sync]
# ClientProfile() without retryer=: the SDK's StandardRetryer stays off, tenacity decides
client = sms_client.SmsClient(
    credential.Credential("secret_id", "secret_key"), "ap-guangzhou", ClientProfile()
)


@tenacity.retry(
    retry=normalizer.retry_if_retryable(),
    wait=normalizer.wait_vendor(),
    stop=normalizer.stop_vendor(),
    reraise=True,
)
def send(numbers: list[str]) -> normalizer.Outcome:
    return normalizer.classify("tencent_sms", client.SendSms(sms_request(numbers)))


# --8<-- [end:sync]


def sync_demo() -> None:
    demo = send.retry_with(sleep=lambda seconds: None)  # no waiting in this demonstration
    with responses.RequestsMock() as tencent:  # over the request rate once, then one number capped
        tencent.post(URL, json=error("RequestLimitExceeded", "slow down"))
        tencent.post(URL, json=SENT)
        outcome = demo(NUMBERS)
        sent = len(tencent.calls)
    assert sent == 2
    assert outcome.partial
    failed = [item.code for item in outcome.failed_items]
    assert failed == ["LimitExceeded.PhoneNumberDailyLimit"]
    print("sync: sent after", sent, "requests -> partial, failed:", *failed)


# --8<-- [start:requests]
normalized = sms_client.SmsClient(
    credential.Credential("secret_id", "secret_key"), "ap-guangzhou", ClientProfile()
)
# the SDK's requests.Session: every answer read, limited and retried there (no decorator)
normalized.request.conn._session.mount("https://", NormalizingAdapter("tencent_sms"))


def send_normalized(numbers: list[str]) -> normalizer.Outcome:
    return normalizer.classify("tencent_sms", normalized.SendSms(sms_request(numbers)))


# --8<-- [end:requests]


def requests_demo() -> None:
    with set_testing(True), responses.RequestsMock() as tencent:  # no waiting in the demo
        tencent.post(URL, json=error("RequestLimitExceeded", "slow down"))  # resent under the SDK
        tencent.post(URL, json=SENT)
        outcome = send_normalized(NUMBERS)
        sent = len(tencent.calls)
    assert sent == 2
    assert outcome.partial
    print("requests adapter: sent after", sent, "requests -> partial")

    with responses.RequestsMock() as tencent:  # refused: the SDK raises, not resent
        tencent.post(URL, json=error("AuthFailure.SecretIdNotFound", "no such SecretId"))
        try:
            send_normalized(NUMBERS)
        except TencentCloudSDKException as exc:
            refused = normalizer.classify_exception(exc)
        sent = len(tencent.calls)
    assert refused is not None
    assert sent == 1
    print("requests adapter: raised", refused.code, "->", refused.category)


# --8<-- [start:async]
async def async_client() -> sms_client_async.SmsClient:
    """The async SmsClient on normalizer's AsyncClient: every answer read, limited and retried
    by normalizer (no decorator), the SDK's retryer left unset."""
    profile = ClientProfile()
    client = sms_client_async.SmsClient(
        credential.Credential("secret_id", "secret_key"), "ap-guangzhou", profile
    )
    await client.http_client.aclose()  # the SDK builds its own httpx.AsyncClient: replace it
    client.http_client = normalizer.AsyncClient(
        "tencent_sms", timeout=profile.httpProfile.reqTimeout
    )
    return client


# --8<-- [end:async]


async def async_demo() -> None:
    with set_testing(True), respx.mock:  # no waiting in this demonstration
        route = respx.post(URL)
        route.side_effect = [
            httpx.Response(200, json=error("RequestLimitExceeded", "slow down")),
            httpx.Response(200, json=SENT),
        ]
        async with await async_client() as client:
            response = await client.SendSms(sms_request(NUMBERS))
        outcome = normalizer.classify("tencent_sms", response)
        assert route.call_count == 2  # the busy answer was resent by normalizer's transport
        assert outcome.partial
        print("async: sent after", route.call_count, "requests -> partial")

        route.side_effect = None
        route.return_value = httpx.Response(200, json=error("AuthFailure.SecretIdNotFound", "no"))
        async with await async_client() as client:
            try:
                await client.SendSms(sms_request(NUMBERS))
            except TencentCloudSDKException as exc:
                refused = normalizer.classify_exception(exc)
        assert refused is not None
        assert refused.category == "auth"
        print("async: raised", refused.code, "->", refused.category)


def main() -> None:
    sync_demo()
    requests_demo()
    asyncio.run(async_demo())


if __name__ == "__main__":
    main()
