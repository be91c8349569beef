"""Twilio: REST errors, a rate limit and a delivery-status callback read into one taxonomy.

Run: ``.venv/bin/python examples/twilio_client.py`` (no network: httpx.MockTransport answers with
bodies shaped like Twilio's).
"""

from __future__ import annotations

import httpx

import normalizer

BASE = "https://api.twilio.com/2010-04-01/Accounts/ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"


def error(status: int, code: int, message: str) -> httpx.Response:
    more_info = f"https://www.twilio.com/docs/errors/{code}"
    body = {"code": code, "message": message, "more_info": more_info, "status": status}
    return httpx.Response(status, json=body)


def handler(request: httpx.Request) -> httpx.Response:
    to = dict(httpx.QueryParams(request.content.decode())).get("To", "")
    if request.url.path.endswith("/Calls.json"):
        return error(429, 20429, "Too Many Requests")
    if to == "+1555":
        return error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
    if to == "+15005550004":
        return error(400, 21610, "Attempt to send to unsubscribed recipient")
    return httpx.Response(
        201, json={"sid": "SM" + "0" * 32, "status": "queued", "error_code": None}
    )


def main() -> None:
    with normalizer.Client(transport=httpx.MockTransport(handler), retry=None) as client:
        for to in ("+15558675310", "+1555", "+15005550004"):
            response = client.post(f"{BASE}/Messages.json", data={"To": to, "Body": "Hi"})
            print("message to", to, "->", normalizer.outcome_of(response))
        response = client.post(f"{BASE}/Calls.json", data={"To": "+15558675310"})
        print("call ->", normalizer.outcome_of(response))
    # a status callback, as the form fields Twilio posts to your StatusCallback URL
    callback = {"MessageSid": "SM" + "1" * 32, "MessageStatus": "undelivered", "ErrorCode": "30003"}
    outcome = normalizer.classify("twilio", callback)
    print("callback ->", outcome, "| delivery outcome:", outcome.delivery_outcome)


if __name__ == "__main__":
    main()
