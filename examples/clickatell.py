"""Clickatell: a rate limit the One API answers with HTTP 400, and the legacy HTTP API's
plain-text "ERR: ..." answers with HTTP 200.

Run: ``.venv/bin/python examples/clickatell.py`` (no network: httpx.MockTransport answers with
bodies shaped like Clickatell's).
"""

from __future__ import annotations

import json

import httpx

import normalizer

ONE_API = "https://platform.clickatell.com/v1/message"
LEGACY = "https://api.clickatell.com/http/sendmsg"


def handler(request: httpx.Request) -> httpx.Response:
    if request.url.host == "api.clickatell.com":  # the legacy HTTP API: text, always 200
        return httpx.Response(200, text="ERR: 301, No credit left")
    to = json.loads(request.content)["messages"][0]["to"]
    if to == "2799900009":  # pretend this one hits the rate limit
        return httpx.Response(
            400, json={"messages": [], "error": {"code": 43, "description": "Rate limit"}}
        )
    accepted = {"apiMessageId": "02ca87d5a95446e68b0ac36a0c2057f1", "accepted": True, "to": to}
    return httpx.Response(202, json={"messages": [accepted], "error": None})


def main() -> None:
    with normalizer.Client(transport=httpx.MockTransport(handler), retry=None) as client:
        for to in ("2799900001", "2799900009"):
            body = {"messages": [{"channel": "sms", "to": to, "content": "Hi"}]}
            print(to, "->", normalizer.outcome_of(client.post(ONE_API, json=body)))
        params = {
            "user": "USER",
            "password": "PASSWORD",
            "api_id": "1",
            "to": "2799900001",
            "text": "Hi",
        }
        print("legacy ->", normalizer.outcome_of(client.get(LEGACY, params=params)))
    # 101 means other things in the two APIs
    print(normalizer.lookup("clickatell", 101, product="legacy"))
    print(normalizer.lookup("clickatell", 101, product="platform"))


if __name__ == "__main__":
    main()
