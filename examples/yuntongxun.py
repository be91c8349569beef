"""容联·云通讯 (Yuntongxun / Cloopen): HTTP 200 answers whose statusCode says what happened.

The vendor is recognised from the URL (app.cloopen.com); no network is used: a mock transport
answers like the Template SMS API, in JSON and in XML.

Run: ``.venv/bin/python examples/yuntongxun.py``
"""

from __future__ import annotations

import httpx

import normalizer

SID = "8aaf0708754a3ef2017572b5ce560d55"
URL = f"https://app.cloopen.com:8883/2013-12-26/Accounts/{SID}/SMS/TemplateSMS?sig=0A1B2C"

ANSWERS = [
    b'{"statusCode":"000000","templateSMS":{"dateCreated":"20130201155306",'
    b'"smsMessageSid":"ff8080813c373cab013c94b0f0512345"}}',
    '{"statusCode":"160038","statusMsg":"短信验证码发送过频繁"}'.encode(),
    '{"statusCode":"111142","statusMsg":"[账号]主账户余额不足"}'.encode(),
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Response>'
    "<statusCode>111109</statusCode><statusMsg>[账号]请求地址Sig校验失败</statusMsg>"
    "</Response>".encode(),
]


def main() -> None:
    answers = iter(ANSWERS)

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=next(answers))

    with normalizer.Client(transport=httpx.MockTransport(handler), retry=None) as client:
        for _ in ANSWERS:
            response = client.post(
                URL, json={"to": "13800138000", "appId": "APP", "templateId": "1"}
            )
            outcome = normalizer.outcome_of(response)
            assert outcome is not None
            print(outcome.code, outcome.category, outcome.vendor_message or outcome.request_id)
    print(normalizer.lookup("yuntongxun", "111057"))  # 111001~111099 内部错误, read by class


if __name__ == "__main__":
    main()
