"""Alibaba Cloud SMS through alibabacloud_dysmsapi20170525 4.x: what the SDK raises and returns,
read and retried by normalizer (docs/sdks/aliyun.md), over ``normalizer.requests`` (darabonba's
sessions built with the adapter: every answer read, logged and counted by normalizer).

Run: ``.venv/bin/python examples/sdk_aliyun.py`` (no network: the SDK's HTTP, ``requests``, is
mocked with ``responses``; tenacity's sleep is switched off for the demonstration).
"""

from __future__ import annotations

import re
from typing import Any

import responses
import tenacity
from alibabacloud_dysmsapi20170525 import models
from alibabacloud_dysmsapi20170525.client import Client
from alibabacloud_tea_openapi.exceptions import AlibabaCloudException
from alibabacloud_tea_openapi.models import Config
from darabonba.core import DaraCore

import normalizer
from normalizer.requests import NormalizingAdapter

ENDPOINT = re.compile(r"https://dysmsapi\.aliyuncs\.com/.*")
OK = {"Code": "OK", "Message": "OK", "BizId": "1^0", "RequestId": "r"}

seen: list[normalizer.VendorCall] = []  # what the adapter reported (on_outcome)

# --8<-- [start:requests]
build_adapter = DaraCore.get_adapter  # darabonba builds the adapter of every session it opens


def normalizing_adapter(*args: Any, **kwargs: Any) -> NormalizingAdapter:
    """darabonba's own adapter (its TLS settings and pool) doing the I/O, under normalizer."""
    return NormalizingAdapter(adapter=build_adapter(*args, **kwargs), on_outcome=seen.append)


DaraCore.get_adapter = staticmethod(normalizing_adapter)  # before the SDK's first call
# --8<-- [end:requests]

# --8<-- [start:recipe]
# Config without retry_options: the SDK retries nothing, tenacity decides (and the SDK signs
# each attempt with a new nonce, so a resend is not refused as a replay)
config = Config(access_key_id="id", access_key_secret="secret", endpoint="dysmsapi.aliyuncs.com")
client = Client(config)


@tenacity.retry(
    retry=normalizer.retry_if_retryable(vendor="aliyun_sms", product="sms"),
    wait=normalizer.wait_vendor(vendor="aliyun_sms", product="sms"),
    stop=normalizer.stop_vendor(vendor="aliyun_sms", product="sms"),
    reraise=True,
)
def send(number: str) -> normalizer.Outcome:
    request = models.SendSmsRequest(phone_numbers=number, sign_name="Acme", template_code="SMS_1")
    return normalizer.classify("aliyun_sms", client.send_sms(request), product="sms")


# --8<-- [end:recipe]


def main() -> None:
    demo = send.retry_with(sleep=lambda seconds: None)  # no waiting in this demonstration
    with responses.RequestsMock() as aliyun:  # throttled (HTTP 400, raised), then accepted
        aliyun.post(ENDPOINT, status=400, json={"Code": "Throttling.User"})
        aliyun.post(ENDPOINT, json=OK)
        outcome = demo("13800138000")
        nonces = {call.request.headers["x-acs-signature-nonce"] for call in aliyun.calls}
    assert outcome.ok
    assert len(nonces) == 2  # each attempt signed anew
    print("throttled, then sent after", len(nonces), "requests ->", outcome.category)
    read = [(call.outcome.category.value, call.attempts) for call in seen]
    assert read == [("busy", 1), ("ok", 1)]  # each signed request sent once, never resent
    print("the adapter read:", *(f"{category} ({n} attempt)" for category, n in read))

    with responses.RequestsMock() as aliyun:  # the day's limit for the number: not retried
        day = {"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发天级流控Permits:10"}
        aliyun.post(ENDPOINT, json=day)  # HTTP 200: returned in the model, not raised
        outcome = demo("13800138000")
        sent = len(aliyun.calls)
    assert sent == 1
    assert (outcome.category, outcome.scope, outcome.retryable) == ("billing", "recipient", False)
    print("day limit after", sent, "request ->", outcome.category, outcome.scope)

    with responses.RequestsMock() as aliyun:  # a bad key: raised, read by classify_exception
        aliyun.post(ENDPOINT, status=404, json={"Code": "InvalidAccessKeyId.NotFound"})
        try:
            client.send_sms(models.SendSmsRequest(phone_numbers="13800138000"))
        except AlibabaCloudException as exc:
            refused = normalizer.classify_exception(exc, vendor="aliyun_sms", product="sms")
    assert refused is not None
    assert refused.category == "auth"
    print("raised", refused.code, "->", refused.category)


if __name__ == "__main__":
    main()
