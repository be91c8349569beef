"""A delivery-report webhook: count delivered and failed messages by category.

A plain ASGI app (run it with any ASGI server, e.g. ``uvicorn webhook_reports:app``); ``main``
posts a Tencent Cloud SMS status callback to it in-process, so it needs no server to try.

Run: ``.venv/bin/python examples/webhook_reports.py``
"""

from __future__ import annotations

import asyncio
import collections
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import normalizer

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

delivered: collections.Counter[str] = collections.Counter()


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    """POST /reports/<vendor> with the vendor's report payload (JSON)."""
    vendor = scope["path"].rsplit("/", 1)[-1]
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    outcome = normalizer.classify(vendor, body)
    counts = collections.Counter(item.category.value for item in outcome.items)
    delivered.update(counts)
    for item in outcome.failed_items:  # numbers are redacted: safe to log
        print(f"  not delivered: {item.number} ({item.vendor_message})")
    reply = json.dumps(dict(counts)).encode()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": reply})


async def post(path: str, payload: object) -> bytes:
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> MutableMapping[str, Any]:
        return {"type": "http.request", "body": json.dumps(payload).encode()}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    await app({"type": "http", "method": "POST", "path": path}, receive, send)
    return bytes(sent[-1]["body"])


def main() -> None:
    callback = [  # Tencent Cloud SMS posts a bare list of reports
        {"mobile": "13800138000", "report_status": "SUCCESS", "errmsg": "DELIVRD", "sid": "a1"},
        {"mobile": "13800138001", "report_status": "FAIL", "errmsg": "MK:0001", "sid": "a2"},
        {"mobile": "13800138002", "report_status": "SUCCESS", "errmsg": "DELIVRD", "sid": "a3"},
    ]
    print("reply:", asyncio.run(post("/reports/tencent_sms", callback)).decode())
    print("totals:", dict(delivered))
    assert delivered == {"ok": 2, "unknown": 1}


if __name__ == "__main__":
    main()
