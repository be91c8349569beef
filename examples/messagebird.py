"""Bird (MessageBird): the REST API's error codes, and the Voice API's numbers kept apart.

Code 2 on rest.messagebird.com is a wrong access key; the Voice API (voice.messagebird.com)
numbers its errors on its own and says to rely on the HTTP status, which is what is read there.

Run: ``.venv/bin/python examples/messagebird.py``
"""

from __future__ import annotations

import httpx

import normalizer

ANSWERS = {  # bodies of the official Go SDK's fixtures (messagebird/go-rest-api)
    "rest.messagebird.com": (
        401,
        {
            "errors": [
                {
                    "code": 2,
                    "description": "Request not allowed (incorrect access_key)",
                    "parameter": "access_key",
                }
            ]
        },
    ),
    "voice.messagebird.com": (
        400,
        {"data": None, "errors": [{"code": 13, "message": "some-error"}]},
    ),
}


def main() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        status, body = ANSWERS[request.url.host]
        return httpx.Response(status, json=body)

    with normalizer.Client(transport=httpx.MockTransport(handler), retry=None) as client:
        for url in (
            "https://rest.messagebird.com/messages",
            "https://voice.messagebird.com/v1/calls",
        ):
            outcome = normalizer.outcome_of(client.post(url, json={"recipients": ["31612345678"]}))
            assert outcome is not None
            print(outcome)
    print(normalizer.lookup("messagebird", 25))  # NotEnoughBalance: billing


if __name__ == "__main__":
    main()
