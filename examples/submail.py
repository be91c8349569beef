"""SUBMAIL: a one-to-many send with one recipient refused, then a SUBHOOK "dropped" event.

Run: ``.venv/bin/python examples/submail.py``
"""

from __future__ import annotations

import httpx

import normalizer

SENT = [  # sms/multixsend, 请求失败 (the vendor's documented answer: one error, one success)
    {"status": "error", "code": 115, "msg": "error sms"},
    {"status": "success", "to": "18912345678", "send_id": "093c0a7df143c087d6cba9cdf0cf3738"},
]
DROPPED = (  # the SUBHOOK "dropped" 推送示例, as the form fields it is posted as
    b"events=dropped&address=13812345678&send_id=093c0a7df143c087d6cba9cdf0cf3738"
    b"&report=+UNDELIV&app=10001&timestamp=1415014855"
    b"&token=067ef7e2f286a9a56eabb07dc9657852&signature=a70d09a9345adfdd353d34a505dac4ca"
)


def main() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=SENT)

    form = {"appid": "10001", "project": "XXXXX", "multi": "[...]", "signature": "APP_KEY"}
    with normalizer.Client(transport=httpx.MockTransport(handler), retry=None) as client:
        response = client.post("https://api-v4.mysubmail.com/sms/multixsend", data=form)
    outcome = normalizer.outcome_of(response)
    assert outcome is not None
    print(outcome)
    for item in outcome.failed_items:
        print("  failed:", item.code, item.category.value, item.scope, item.gloss)

    headers = {"content-type": "application/x-www-form-urlencoded"}
    print(normalizer.classify_callback(DROPPED, headers))


if __name__ == "__main__":
    main()
