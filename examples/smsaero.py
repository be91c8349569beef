"""SMS Aero: a v2 send to two numbers read per number, and a v2 failure that carries no code.

Run: ``.venv/bin/python examples/smsaero.py``
"""

from __future__ import annotations

import httpx

import normalizer

SENT = {  # sms/send with "numbers": one message per number (statuses as in smsaero_python)
    "success": True,
    "data": [
        {"id": 686325, "number": "79990000000", "status": 1, "extendStatus": "delivery"},
        {"id": 686326, "number": "79990000001", "status": 0, "extendStatus": "queue"},
    ],
    "message": None,
}
FAILED = {"success": False, "data": None, "message": "test reason"}  # smsaero_python's tests


def main() -> None:
    answers = iter([httpx.Response(200, json=SENT), httpx.Response(401, json=FAILED)])

    def handler(request: httpx.Request) -> httpx.Response:
        return next(answers)

    payload = {"numbers": [79990000000, 79990000001], "text": "hello", "sign": "SMS Aero"}
    with normalizer.Client(transport=httpx.MockTransport(handler), retry=None) as client:
        for _ in range(2):
            response = client.post("https://gate.smsaero.ru/v2/sms/send", json=payload)
            outcome = normalizer.outcome_of(response)
            assert outcome is not None
            print(outcome)
            for item in outcome.items:
                print("  ", item.number, item.code, item.message)


if __name__ == "__main__":
    main()
