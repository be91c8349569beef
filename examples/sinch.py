"""Sinch SMS: a created batch, an invalid request, and a delivery report whose code 401 means
"Dispatched", not HTTP 401.

Run: ``.venv/bin/python examples/sinch.py`` (no network: httpx.MockTransport answers with the
bodies of Sinch's docs and SDK fixtures).
"""

from __future__ import annotations

import json

import httpx

import normalizer

BATCHES = "https://us.sms.api.sinch.com/xms/v1/SERVICE_PLAN_ID/batches"


def handler(request: httpx.Request) -> httpx.Response:
    sent = json.loads(request.content)
    if not sent["to"][0].startswith("+"):  # pretend Sinch refuses the number's format
        error = {
            "code": "syntax_invalid_parameter_format",
            "text": "'foo' is not a valid identifier",
        }
        return httpx.Response(400, json=error)
    batch = {"id": "01FC66621XXXXX119Z8PMV1QPQ", "to": sent["to"], "canceled": False}
    return httpx.Response(201, json=batch)


def main() -> None:
    with normalizer.Client(transport=httpx.MockTransport(handler), retry=None) as client:
        for to in ("+15551231234", "foo"):
            response = client.post(BATCHES, json={"from": "12345", "to": [to], "body": "Hi"})
            print(to, "->", normalizer.outcome_of(response))
    # a recipient delivery report Sinch posts to the batch's callback_url
    report = {
        "type": "recipient_delivery_report_sms",
        "batch_id": "01FC66621XXXXX119Z8PMV1QPQ",
        "recipient": "+15551231234",
        "code": 401,
        "status": "Dispatched",
        "at": "2022-08-30T08:16:08.930Z",
    }
    outcome = normalizer.classify_callback(
        json.dumps(report).encode(), {"content-type": "application/json"}
    )
    print("report ->", outcome, "| delivery outcome:", outcome.delivery_outcome)


if __name__ == "__main__":
    main()
