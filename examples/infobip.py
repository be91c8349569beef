"""Infobip SMS: a partly rejected bulk send, a bad API key and a delivery report.

Run: ``.venv/bin/python examples/infobip.py`` (no network: httpx.MockTransport answers with
bodies shaped like Infobip's).
"""

from __future__ import annotations

import httpx

import normalizer

BASE = "https://xyz123.api.infobip.com"  # every account has its own base URL


def status(group: str, sid: int, name: str, text: str) -> dict[str, object]:
    group_id = {"PENDING": 1, "REJECTED": 5, "DELIVERED": 3}[group]
    return {"groupId": group_id, "groupName": group, "id": sid, "name": name, "description": text}


def handler(request: httpx.Request) -> httpx.Response:
    if request.headers.get("Authorization") != "App good-key":
        error = {"messageId": "UNAUTHORIZED", "text": "Invalid login details"}
        return httpx.Response(401, json={"requestError": {"serviceException": error}})
    pending = status("PENDING", 26, "PENDING_ACCEPTED", "Message sent to next instance")
    no_credit = status("REJECTED", 12, "REJECTED_NOT_ENOUGH_CREDITS", "Not enough credits")
    messages = [
        {"to": "41793026727", "messageId": "m-1", "status": pending},
        {"to": "41793026834", "messageId": "m-2", "status": no_credit},
    ]
    return httpx.Response(200, json={"bulkId": "bulk-1", "messages": messages})


def main() -> None:
    transport = httpx.MockTransport(handler)
    for key in ("good-key", "bad-key"):
        headers = {"Authorization": f"App {key}"}
        with normalizer.Client(transport=transport, retry=None, headers=headers) as client:
            response = client.post(f"{BASE}/sms/2/text/advanced", json={"messages": []})
        outcome = normalizer.outcome_of(response)
        print(key, "->", outcome)
        for item in outcome.items if outcome else ():
            print("   ", item.number, item.code, item.category.value)
    # a delivery report pushed to your notifyUrl: classify it by name
    report = {
        "results": [
            {
                "messageId": "m-1",
                "to": "41793026727",
                "status": status(
                    "DELIVERED", 5, "DELIVERED_TO_HANDSET", "Message delivered to handset"
                ),
            }
        ]
    }
    print("report ->", normalizer.classify("infobip", report).items[0].category.value)


if __name__ == "__main__":
    main()
