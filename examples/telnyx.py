"""Telnyx: a queued message, a rate limit and a message.finalized webhook with a delivery error.

Run: ``.venv/bin/python examples/telnyx.py`` (no network: httpx.MockTransport answers with
bodies shaped like Telnyx's).
"""

from __future__ import annotations

import json

import httpx

import normalizer

URL = "https://api.telnyx.com/v2/messages"


def handler(request: httpx.Request) -> httpx.Response:
    sent = json.loads(request.content)
    if sent["to"] == "+18665550009":  # pretend this one hits the rate limit
        error = {
            "code": "10011",
            "title": "Too many requests",
            "detail": "You have exceeded the maximum number of allowed requests.",
        }
        headers = {
            "x-ratelimit-limit": "20",
            "x-ratelimit-remaining": "0",
            "x-ratelimit-reset": "1",
        }
        return httpx.Response(429, json={"errors": [error]}, headers=headers)
    to = [{"phone_number": sent["to"], "status": "queued", "carrier": "T-MOBILE USA, INC."}]
    message = {"record_type": "message", "id": "40385f64", "to": to, "errors": []}
    return httpx.Response(200, json={"data": message})


def main() -> None:
    with normalizer.Client(transport=httpx.MockTransport(handler), retry=None) as client:
        for to in ("+18665550001", "+18665550009"):
            response = client.post(URL, json={"from": "+18445550001", "to": to, "text": "Hi"})
            print(to, "->", normalizer.outcome_of(response))
    # the message.finalized webhook Telnyx posts to your webhook_url
    payload = {
        "id": "40385f64",
        "to": [{"phone_number": "+18665550001", "status": "delivery_failed"}],
        "errors": [{"code": "40001", "title": "Not routable", "detail": "Landline destination."}],
    }
    webhook = {"data": {"event_type": "message.finalized", "payload": payload}}
    outcome = normalizer.classify("telnyx", webhook)
    print("webhook ->", outcome, "| delivery outcome:", outcome.delivery_outcome)


if __name__ == "__main__":
    main()
