"""Plivo: a queued message, a rate-limited send, and a status callback saying why a message failed.

Run: ``.venv/bin/python examples/plivo.py`` (no network: httpx.MockTransport answers with the
bodies of Plivo's docs and SDK fixtures).
"""

from __future__ import annotations

import json

import httpx

import normalizer

URL = "https://api.plivo.com/v1/Account/MAXXXXXXXXXXXXXXXXXX/Message/"


def handler(request: httpx.Request) -> httpx.Response:
    sent = json.loads(request.content)
    if sent["dst"] == "14155550109":  # pretend this one hits the rate limit
        return httpx.Response(429, json={"api_id": "97ceeb52", "error": "rate_limit_exceeded"})
    queued = {"api_id": "948b53a2", "message": "message(s) queued", "message_uuid": ["5b40a428"]}
    return httpx.Response(202, json=queued)


def main() -> None:
    with normalizer.Client(transport=httpx.MockTransport(handler), retry=None) as client:
        for dst in ("14155550101", "14155550109"):
            body = {"src": "14155550100", "dst": dst, "text": "Hi"}
            response = client.post(URL, json=body)
            print(dst, "->", normalizer.outcome_of(response))
    # the status callback Plivo posts (form data) to the "url" of the send request
    callback = b"MessageUUID=5b40a428&To=14155550101&Status=undelivered&ErrorCode=80"
    outcome = normalizer.classify_callback(
        callback, {"content-type": "application/x-www-form-urlencoded"}
    )
    print("callback ->", outcome, "| retryable:", outcome.retryable)


if __name__ == "__main__":
    main()
