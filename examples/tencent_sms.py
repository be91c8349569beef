"""Tencent Cloud SMS: one SendSms answers per number, and HTTP 200 even when numbers failed.

Run: ``.venv/bin/python examples/tencent_sms.py`` (no network: a mock transport answers).
"""

from __future__ import annotations

from typing import Any

import httpx

import normalizer


def status(number: str, code: str, message: str) -> dict[str, Any]:
    return {"PhoneNumber": number, "Code": code, "Message": message, "SerialNo": "", "Fee": 0}


ANSWERS: dict[str, dict[str, Any]] = {  # X-TC-Action -> body shaped like the tccli examples
    "SendSms": {
        "SendStatusSet": [
            status("+8618501234444", "Ok", "send success"),
            status("+8618501238000", "LimitExceeded.PhoneNumberDailyLimit", "daily limit"),
        ],
        "RequestId": "a0aabda6-cf91-4f3e-a81f-9198114a2279",
    },
    "SmsPackagesStatistics": {
        "Error": {"Code": "AuthFailure.SignatureFailure", "Message": "signature is wrong"},
        "RequestId": "ed93f3cb-f35e-473f-b9f3-0d451b8b79c6",
    },
}


def handler(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"Response": ANSWERS[request.headers["X-TC-Action"]]})


def main() -> None:
    with normalizer.Client(transport=httpx.MockTransport(handler), retry=None) as client:
        for action in ANSWERS:
            headers = {"X-TC-Action": action, "X-TC-Version": "2021-01-11"}
            response = client.post("https://sms.tencentcloudapi.com/", json={}, headers=headers)
            outcome = normalizer.outcome_of(response)
            print(action, "->", outcome)
            for item in outcome.items if outcome else ():
                print("   ", item.number, item.category.value, item.code, item.gloss)


if __name__ == "__main__":
    main()
