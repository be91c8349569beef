"""Africa's Talking: a send answers HTTP 201 while one recipient is refused with statusCode 405.

405 here is InsufficientBalance (billing), not an HTTP "method not allowed": the per-recipient
statusCodes of Africa's Talking look like HTTP statuses and are read from the SMS table.

Run: ``.venv/bin/python examples/africastalking.py``
"""

from __future__ import annotations

import httpx

import normalizer

SENT = {  # the shape of the official node SDK's mock (test/mocks.js), one recipient refused
    "SMSMessageData": {
        "Message": "Sent to 1/2 Total Cost: KES 0.8000",
        "Recipients": [
            {
                "statusCode": 101,
                "number": "+254711000111",
                "status": "Success",
                "cost": "KES 0.8000",
                "messageId": "ATPid_SampleTxnId123",
            },
            {
                "statusCode": 405,
                "number": "+254711000222",
                "status": "InsufficientBalance",
                "cost": "0",
                "messageId": "None",
            },
        ],
    }
}
BAD_SENDER = {"SMSMessageData": {"Message": "InvalidSenderId", "Recipients": []}}


def main() -> None:
    bodies = iter([SENT, BAD_SENDER])

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(201, json=next(bodies))

    form = {"username": "sandbox", "to": "+254711000111,+254711000222", "message": "hello"}
    with normalizer.Client(transport=httpx.MockTransport(handler), retry=None) as client:
        for _ in range(2):
            response = client.post("https://api.africastalking.com/version1/messaging", data=form)
            outcome = normalizer.outcome_of(response)
            assert outcome is not None
            print(outcome)
            for item in outcome.failed_items:
                print("  failed:", item.number, item.code, item.category.value, item.gloss)
    print(normalizer.lookup("africastalking", 405))


if __name__ == "__main__":
    main()
