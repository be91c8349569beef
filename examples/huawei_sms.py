"""Huawei Cloud Message & SMS: one number of a batch refused, then a status report.

Run: ``.venv/bin/python examples/huawei_sms.py``
"""

from __future__ import annotations

import httpx

import normalizer

SENT = {  # the example response of the MSGSMS "API Error Codes" page, a second number added
    "code": "000000",
    "description": "Success",
    "result": [
        {
            "originTo": "+8618612345678",
            "createTime": "2018-08-06T11:59:50Z",
            "from": "1069031221280000001",
            "smsMsgId": "4b4b34e7-1a9e-42ac-b309-d10997148905_85496076",
            "status": "000000",
        },
        {"originTo": "+8618612345679", "smsMsgId": "", "status": "E000503"},
    ],
}


def main() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=SENT)

    url = "https://smsapi.cn-north-4.myhuaweicloud.com:443/sms/batchSendSms/v1"
    with normalizer.Client(transport=httpx.MockTransport(handler), retry=None) as client:
        outcome = normalizer.outcome_of(client.post(url, data={"to": "+8618612345678"}))
    assert outcome is not None
    print(outcome)
    for item in outcome.failed_items:
        print("  failed:", item.number, item.code, item.category.value, item.gloss)

    # the status report posted to statusCallback (form fields of 接收状态报告)
    report = (
        b"smsMsgId=4b4b34e7-1a9e-42ac-b309-d10997148905_85496076&total=1&sequence=1&status=DELIVRD"
    )
    print(
        normalizer.classify_callback(report, {"content-type": "application/x-www-form-urlencoded"})
    )


if __name__ == "__main__":
    main()
