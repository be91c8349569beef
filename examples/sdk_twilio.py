"""twilio-python 9.x, sync and async: what the SDK raises and returns, read and retried by
normalizer (docs/sdks/twilio.md); and the sync client over ``normalizer.requests``.

Run: ``.venv/bin/python examples/sdk_twilio.py`` (no network: the sync client's HTTP,
``requests``, is mocked with ``responses``; the async client's, ``aiohttp``, talks to a server
on 127.0.0.1 this script starts; tenacity's sleep is switched off for the demonstration).
"""

from __future__ import annotations

import asyncio
from typing import Any
from unittest import mock

import responses
import tenacity
from aiohttp import web
from twilio.base.domain import Domain
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

import normalizer
from normalizer.requests import NormalizingAdapter
from normalizer.testing import set_testing

SID = "AC0123456789abcdef0123456789abcdef"
BUSY = {"code": 20429, "message": "Too Many Requests", "more_info": "", "status": 429}
QUEUED = {"sid": "SM1", "status": "queued", "error_code": None, "error_message": None}
INVALID = {"code": 21211, "message": "Invalid 'To' Phone Number", "status": 400}

# --8<-- [start:sync]
client = Client(SID, "auth_token")  # TwilioHttpClient without max_retries: no urllib3 retries


@tenacity.retry(
    retry=normalizer.retry_if_retryable(),
    wait=normalizer.wait_vendor(),
    stop=normalizer.stop_vendor(),
    reraise=True,
)
def send(to: str, text: str) -> Any:
    return client.messages.create(to=to, from_="+15005550006", body=text)


# --8<-- [end:sync]


def sync_demo() -> None:
    demo = send.retry_with(sleep=lambda seconds: None)  # no waiting in this demonstration
    url = f"https://api.twilio.com/2010-04-01/Accounts/{SID}/Messages.json"
    with responses.RequestsMock() as twilio:  # busy once (HTTP 429, code 20429), then queued
        twilio.post(url, status=429, json=BUSY)
        twilio.post(url, status=201, json=QUEUED)
        message = demo("+15005550010", "hello")
        sent = len(twilio.calls)
    assert sent == 2  # resent once: a 429 is never processed by Twilio
    outcome = normalizer.classify("twilio", message)
    assert outcome.ok
    print("sync: sent after", sent, "requests ->", outcome.category)

    with responses.RequestsMock() as twilio:  # a bad number: raised, read, not resent
        twilio.post(url, status=400, json=INVALID)
        try:
            demo("+1555", "hello")
        except TwilioRestException as exc:
            code, refused = exc.code, normalizer.classify_exception(exc)
        sent = len(twilio.calls)
    assert refused is not None
    assert refused.category == "validation"
    assert sent == 1
    print("sync: raised", code, "->", refused.category, refused.product)


# --8<-- [start:requests]
# TwilioHttpClient without max_retries: urllib3 retries nothing, normalizer's policy decides
http_client = TwilioHttpClient()
http_client.session.mount("https://", NormalizingAdapter("twilio", raise_on_error=True))
normalized = Client(SID, "auth_token", http_client=http_client)  # no decorator needed


def send_normalized(to: str, text: str) -> Any:
    return normalized.messages.create(to=to, from_="+15005550006", body=text)


# --8<-- [end:requests]


def requests_demo() -> None:
    url = f"https://api.twilio.com/2010-04-01/Accounts/{SID}/Messages.json"
    with set_testing(True), responses.RequestsMock() as twilio:  # no waiting in the demo
        twilio.post(url, status=429, json=BUSY)  # busy once: resent under the SDK
        twilio.post(url, status=201, json=QUEUED)
        message = send_normalized("+15005550010", "hello")
        sent = len(twilio.calls)
    assert sent == 2
    assert message.sid == "SM1"
    print("requests adapter: sent after", sent, "requests ->", message.status)

    with responses.RequestsMock() as twilio:  # a bad number: the typed error, through the SDK
        twilio.post(url, status=400, json=INVALID)
        try:
            send_normalized("+1555", "hello")
        except normalizer.ValidationError as exc:
            code, category, attempts = exc.code, exc.outcome.category, exc.attempts
        sent = len(twilio.calls)
    assert sent == attempts == 1
    print("requests adapter: raised ValidationError", code, "->", category)


# --8<-- [start:async]
@tenacity.retry(
    retry=normalizer.retry_if_retryable(),
    wait=normalizer.wait_vendor(),
    stop=normalizer.stop_vendor(),
    reraise=True,
)
async def send_async(client: Client, to: str, text: str) -> Any:
    return await client.messages.create_async(to=to, from_="+15005550006", body=text)


async def main_async() -> Any:
    # AsyncTwilioHttpClient without max_retries: no aiohttp-retry RetryClient under tenacity
    async with AsyncTwilioHttpClient() as http_client:
        client = Client(SID, "auth_token", http_client=http_client)
        return await send_async(client, "+15005550010", "hello")


# --8<-- [end:async]


async def async_demo() -> None:
    answers = iter([(429, BUSY), (201, QUEUED)])
    seen: list[str] = []

    async def twilio(request: web.Request) -> web.Response:  # stands in for api.twilio.com
        seen.append(request.path)
        status, body = next(answers)
        return web.json_response(body, status=status)

    app = web.Application()
    app.router.add_post("/2010-04-01/Accounts/{sid}/Messages.json", twilio)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    local = f"http://127.0.0.1:{runner.addresses[0][1]}"
    absolute_url = Domain.absolute_url

    def to_local(domain: Domain, uri: str) -> str:  # api.twilio.com is the server above
        return str(absolute_url(domain, uri)).replace("https://api.twilio.com", local)

    async def no_sleep(seconds: float) -> None:  # no waiting in this demonstration
        return None

    try:
        with (
            mock.patch.object(Domain, "absolute_url", to_local),
            mock.patch.object(send_async.retry, "sleep", no_sleep),
        ):
            message = await main_async()
    finally:
        await runner.cleanup()
    outcome = normalizer.classify("twilio", message)
    assert outcome.ok
    assert len(seen) == 2
    print("async: sent after", len(seen), "requests ->", outcome.category)


def main() -> None:
    sync_demo()
    requests_demo()
    asyncio.run(async_demo())


if __name__ == "__main__":
    main()
