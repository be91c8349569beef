"""A callback webhook: one URL for every vendor's delivery reports and call events.

A plain ASGI app (run it with any ASGI server, e.g. ``uvicorn webhook_reports:app``). It hands
``normalizer.classify_callback`` the raw body and the request headers: the vendor and product
come from the body's shape (a Twilio form, MANGO's ``json=`` form, a Vonage receipt, a Tencent
report list), and signed vendors' signatures are verified with their secrets; a forged callback
is answered 403. ``main`` posts four callbacks to it in-process, so it needs no server to try.

Run: ``.venv/bin/python examples/webhook_reports.py``
"""

from __future__ import annotations

import asyncio
import base64
import collections
import hashlib
import hmac
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import urlencode

import normalizer

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

PUBLIC_URL = "https://hooks.example.com"  # how the vendors reach this app (they sign this URL)
# In real life, from your secret store. Tencent signs no report, and this example's Vonage
# account has no signature secret: their callbacks are read unverified (docs/webhooks.md).
SECRETS = {"twilio": "twilio-auth-token", "mango": "mango-api-salt"}

seen: collections.Counter[tuple[str, str]] = collections.Counter()


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    """Any path: the body says whose callback it is."""
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
    query = scope.get("query_string", b"").decode("latin-1")
    url = PUBLIC_URL + scope["path"] + (f"?{query}" if query else "")
    # which vendor signed it is known only once its shape is read: look it up without a
    # secret, then verify with that vendor's
    vendor = normalizer.classify_callback(body, headers, url=url).vendor
    try:
        outcome = normalizer.classify_callback(
            body, headers, vendor=vendor or None, url=url, secret=SECRETS.get(vendor)
        )
    except normalizer.SignatureError as exc:  # its message names no secret: safe to log
        print(f"  refused: {exc}")
        await respond(send, 403, b"forbidden")
        return
    seen[(outcome.vendor or "?", outcome.category.value)] += 1
    print(f"  {outcome.vendor}/{outcome.product}: code {outcome.code} -> {outcome.category}")
    for item in outcome.failed_items:  # numbers are redacted: safe to log
        print(f"    not delivered: {item.number} ({item.vendor_message})")
    await respond(send, 200, b"ok")


async def respond(send: Send, status: int, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": []})
    await send({"type": "http.response.body", "body": body})


async def post(path: str, body: bytes, headers: dict[str, str]) -> int:
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> MutableMapping[str, Any]:
        return {"type": "http.request", "body": body}

    async def reply(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    scope = {"type": "http", "method": "POST", "path": path, "headers": raw}
    await app(scope, receive, reply)
    return int(sent[0]["status"])


def twilio_status() -> tuple[bytes, dict[str, str]]:
    """A Twilio status callback, signed as Twilio signs it."""
    fields = {"MessageSid": "SM1", "MessageStatus": "undelivered", "ErrorCode": "30003"}
    signed = PUBLIC_URL + "/callbacks" + "".join(k + fields[k] for k in sorted(fields))
    mac = hmac.new(SECRETS["twilio"].encode(), signed.encode(), hashlib.sha1).digest()
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Twilio-Signature": base64.b64encode(mac).decode(),
    }
    return urlencode(fields).encode(), headers


def mango_summary(salt: str) -> tuple[bytes, dict[str, str]]:
    """A MANGO OFFICE end-of-call summary: a missed call, signed with the API salt."""
    key = "5f4dcc3b5aa765d61d8327deb882cf99"
    summary = {"entry_id": "e1", "call_direction": 2, "entry_result": 0, "disconnect_reason": 1100}
    doc = json.dumps(summary)
    sign = hashlib.sha256((key + doc + salt).encode()).hexdigest()
    body = urlencode({"vpbx_api_key": key, "sign": sign, "json": doc}).encode()
    return body, {"Content-Type": "application/x-www-form-urlencoded"}


def main() -> None:
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    tencent = json.dumps(
        [  # Tencent Cloud SMS posts a bare list of reports
            {"mobile": "13800138000", "report_status": "SUCCESS", "errmsg": "DELIVRD", "sid": "a1"},
            {"mobile": "13800138001", "report_status": "FAIL", "errmsg": "MK:0001", "sid": "a2"},
        ]
    ).encode()
    receipt = {"messageId": "0B00000127FDBC63", "msisdn": "447547232824", "to": "Nexmo CLI"}
    receipt.update({"status": "failed", "err-code": "2"})
    vonage = urlencode(receipt).encode()  # a Vonage SMS delivery receipt, no product named
    statuses = [
        asyncio.run(post("/callbacks", *twilio_status())),
        asyncio.run(post("/callbacks", *mango_summary(SECRETS["mango"]))),
        asyncio.run(post("/callbacks", vonage, form)),
        asyncio.run(post("/callbacks", tencent, {"Content-Type": "application/json"})),
        asyncio.run(post("/callbacks", *mango_summary("a forger's guess"))),
    ]
    print("statuses:", statuses)
    print("seen:", dict(seen))
    assert statuses == [200, 200, 200, 200, 403]
    assert seen == {
        ("twilio", "busy"): 1,  # 30003 Unreachable destination handset
        ("mango", "busy"): 1,  # entry_result 0: a missed call
        ("vonage", "busy"): 1,  # err-code 2: Absent Subscriber - Temporary
        ("tencent_sms", "ok"): 1,  # the request is fine; its reports are items
    }


if __name__ == "__main__":
    main()
