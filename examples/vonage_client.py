"""Vonage SMS API: one status per message part; a long SMS can go out partly.

Run: ``.venv/bin/python examples/vonage_client.py``
"""

from __future__ import annotations

import httpx

import normalizer

PARTS = {  # the Vonage Python SDK's send_sms_partial_error.json fixture
    "message-count": "2",
    "messages": [
        {
            "to": "447700900000",
            "message-id": "0C000000217B7F02",
            "status": "0",
            "remaining-balance": "15.53590000",
            "message-price": "0.03330000",
            "network": "23410",
        },
        {"status": "1", "error-text": "Throttled"},
    ],
}
NO_CREDIT = {"message-count": "1", "messages": [{"status": "9", "error-text": "Quota Exceeded"}]}


def main() -> None:
    bodies = iter([PARTS, NO_CREDIT])

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=next(bodies))

    form = {"api_key": "KEY", "api_secret": "SECRET", "from": "Acme", "to": "447700900000"}
    with normalizer.Client(transport=httpx.MockTransport(handler), retry=None) as client:
        for _ in range(2):
            response = client.post("https://rest.nexmo.com/sms/json", data=form)
            outcome = normalizer.outcome_of(response)
            assert outcome is not None
            print(outcome)
            for item in outcome.items:
                print("  part", item.index, item.number, item.category.value, item.vendor_message)
    # a delivery receipt (webhook) is read by naming its product
    dlr = {"err-code": "2", "status": "failed", "messageId": "0B00000127FDBC63"}
    print(normalizer.classify("vonage", dlr, product="dlr"))


if __name__ == "__main__":
    main()
