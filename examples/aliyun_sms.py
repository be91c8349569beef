"""Alibaba Cloud SMS: flow control levels and per-number delivery reports (no network).

Run: ``.venv/bin/python examples/aliyun_sms.py``
"""

from __future__ import annotations

import httpx

import normalizer

REQUEST_ID = "F655A8D5-B967-440B-8683-DAD6FF8DE990"
ANSWERS: dict[str, dict[str, object]] = {
    # minute-level flow control passes after a minute: busy; the day level does not
    "SendSms": {
        "Message": "触发分钟级流控Permits:1",
        "RequestId": REQUEST_ID,
        "Code": "isv.BUSINESS_LIMIT_CONTROL",
    },
    "SendBatchSms": {
        "Message": "触发天级流控Permits:10",
        "RequestId": REQUEST_ID,
        "Code": "isv.BUSINESS_LIMIT_CONTROL",
    },
    "QuerySendDetails": {
        "Code": "OK",
        "Message": "OK",
        "RequestId": REQUEST_ID,
        "TotalCount": 2,
        "SmsSendDetailDTOs": {
            "SmsSendDetailDTO": [
                {"SendStatus": 3, "ErrCode": "DELIVRD", "PhoneNum": "15200008000"},
                {"SendStatus": 2, "ErrCode": "MOBILE_NOT_ON_SERVICE", "PhoneNum": "15200008001"},
            ]
        },
    },
}


def handler(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json=ANSWERS[request.url.params["Action"]])


def main() -> None:
    with normalizer.Client(transport=httpx.MockTransport(handler), retry=None) as client:
        for action in ANSWERS:
            response = client.post("https://dysmsapi.aliyuncs.com/", params={"Action": action})
            outcome = normalizer.outcome_of(response)
            print(action, "->", outcome)
            for item in outcome.items if outcome else ():
                print("   ", item.number, item.category.value, item.message, item.vendor_message)


if __name__ == "__main__":
    main()
