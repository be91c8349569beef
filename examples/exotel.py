"""Exotel: a Twilio-shaped XML error, read by Exotel's host and its documented 403 texts.

Exotel's v1 API answers errors as <TwilioResponse><RestException>, like Twilio's 2010 API; the
host says whose it is. The same HTTP 403 means a credential problem or an empty balance: the
documented message decides.

Run: ``.venv/bin/python examples/exotel.py``
"""

from __future__ import annotations

import httpx

import normalizer

ERRORS = [  # https://support.exotel.com/support/solutions/articles/48282-sending-an-sms
    (403, "Insufficient balance to send the SMS"),
    (403, "Account is not active"),
    (429, "Too Many Requests"),
]


def main() -> None:
    answers = iter(ERRORS)

    def handler(request: httpx.Request) -> httpx.Response:
        status, message = next(answers)
        xml = (
            f"<TwilioResponse><RestException><Status>{status}</Status>"
            f"<Message>{message}</Message></RestException></TwilioResponse>"
        )
        return httpx.Response(status, text=xml, headers={"content-type": "application/xml"})

    url = "https://api.exotel.com/v1/Accounts/your_sid/Sms/send"
    with normalizer.Client(transport=httpx.MockTransport(handler), retry=None) as client:
        for _ in ERRORS:
            outcome = normalizer.outcome_of(client.post(url, data={"To": "09000000001"}))
            assert outcome is not None
            print(outcome)
    print(normalizer.lookup("exotel", 23185))  # DLT_TEMPLATE_DOES_NOT_MATCH: validation


if __name__ == "__main__":
    main()
