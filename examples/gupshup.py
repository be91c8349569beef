"""Gupshup: the send API only says "submitted"; the message event says what happened.

Run: ``.venv/bin/python examples/gupshup.py``
"""

from __future__ import annotations

import json

import httpx

import normalizer

SUBMITTED = b'{"status":"submitted","messageId":"ee4a68a0-1203-4c85-8dc3-49d0b3226a35"}'
EVENT = {  # the envelope of https://docs.gupshup.io/docs/message-events
    "app": "DemoAPI",
    "timestamp": 1580546677791,
    "version": 2,
    "type": "message-event",
    "payload": {
        "id": "ee4a68a0-1203-4c85-8dc3-49d0b3226a35",
        "type": "failed",
        "destination": "919876543210",
        "payload": {"code": 1002, "reason": "Number Does Not Exist On WhatsApp"},
    },
}


def main() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        # Gupshup answers JSON with Content-Type text/html
        return httpx.Response(200, content=SUBMITTED, headers={"content-type": "text/html"})

    form = {"channel": "whatsapp", "source": "917834811114", "destination": "919876543210"}
    with normalizer.Client(transport=httpx.MockTransport(handler), retry=None) as client:
        sent = normalizer.outcome_of(client.post("https://api.gupshup.io/wa/api/v1/msg", data=form))
    print(sent)
    later = normalizer.classify_callback(
        json.dumps(EVENT).encode(), {"content-type": "application/json"}
    )
    print(later)  # 1002 Number Not Exist On WhatsApp: validation, a delivery outcome


if __name__ == "__main__":
    main()
