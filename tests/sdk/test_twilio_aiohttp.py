"""twilio-python 9.x's async client, for real, over normalizer.aiohttp's middleware: its
``AsyncTwilioHttpClient`` given a session with ``NormalizingMiddleware`` (docs/sdks/twilio.md,
"Async, through normalizer.aiohttp"), against an aiohttp.web server on 127.0.0.1."""

from __future__ import annotations

import asyncio
from typing import Any
from unittest import mock

import aiohttp
import pytest
from twilio.base.domain import Domain
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client

import normalizer
from normalizer import Category
from normalizer.aiohttp import NormalizingMiddleware
from tests.sdk.conftest import transport_attempts
from tests.sdk.local_aiohttp import LocalVendor

# the SDK passes aiohttp's auth= (a BasicAuth), which aiohttp 3.14 deprecates: the SDK's business
pytestmark = [
    pytest.mark.filterwarnings("ignore:BasicAuth is deprecated:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:The 'auth' parameter is deprecated:DeprecationWarning"),
]

SID = "AC0123456789abcdef0123456789abcdef"
URL = f"https://api.twilio.com/2010-04-01/Accounts/{SID}/Messages.json"
QUEUED = {"sid": "SM1", "status": "queued", "error_code": None, "error_message": None}


def error(code: int, message: str, status: int) -> tuple[int, dict[str, Any]]:
    return status, {"code": code, "message": message, "more_info": "", "status": status}


AUTH = error(20003, "Authenticate", 401)
INVALID = error(21211, "The 'To' number is not valid", 400)
BUSY = error(20429, "Too Many Requests", 429)
FAILED = error(20500, "Internal Server Error", 500)


# --8<-- [start:recipe]
def twilio_on(session: aiohttp.ClientSession) -> Client:
    """Twilio's async client on ``session``, a session with ``NormalizingMiddleware``."""
    # pool_connections=False: no session of its own; no max_retries: no aiohttp-retry under
    # the middleware's retries
    http_client = AsyncTwilioHttpClient(pool_connections=False)
    http_client.session = session  # closed by http_client.close()
    return Client(SID, "auth_token", http_client=http_client)


# --8<-- [end:recipe]


def send(answers: list[tuple[int, Any]], **options: Any) -> tuple[Any, int]:
    """One message through the real async SDK over the middleware: what it returned (or
    raised) and how many requests reached the server."""
    absolute_url = Domain.absolute_url

    def plain(domain: Domain, uri: str) -> str:  # api.twilio.com over http: the local server
        return str(absolute_url(domain, uri)).replace("https://", "http://")

    async def main() -> tuple[Any, int]:
        async with LocalVendor(*answers) as vendor:
            client = twilio_on(vendor.session(NormalizingMiddleware("twilio", **options)))
            http_client = client.http_client
            assert isinstance(http_client, AsyncTwilioHttpClient)
            try:
                result = await client.messages.create_async(
                    to="+15005550006", from_="+15005550001", body="hi"
                )
            except Exception as exc:
                result = exc
            finally:
                await http_client.close()
        return result, len(vendor.requests)

    with mock.patch.object(Domain, "absolute_url", plain):
        return asyncio.run(main())


@pytest.mark.parametrize(
    ("answer", "category", "code"),
    [
        (AUTH, Category.AUTH, "20003"),
        (INVALID, Category.VALIDATION, "21211"),
        (BUSY, Category.BUSY, "20429"),
        (FAILED, Category.SERVER, "20500"),
    ],
    ids=["auth", "validation", "limit", "server"],
)
def test_an_error_answer_is_sent_as_often_as_the_transport_sends_it_then_raised_by_the_sdk(
    answer: tuple[int, Any], category: Category, code: str
) -> None:
    raised, requests = send([answer])
    assert isinstance(raised, TwilioRestException)  # the SDK reads the vendor's last answer
    outcome = normalizer.classify_exception(raised)
    assert outcome is not None
    assert (outcome.category, outcome.code, outcome.http_status) == (category, code, answer[0])
    assert requests == transport_attempts("twilio", "POST", URL, [answer])  # limit: 3, else 1


def test_a_busy_answer_is_retried_exactly_as_the_transport_would() -> None:
    answers = [BUSY, (201, QUEUED)]
    message, requests = send(answers)
    assert message.sid == "SM1"
    assert requests == 2 == transport_attempts("twilio", "POST", URL, answers)
    assert normalizer.classify("twilio", message).ok


def test_an_ambiguous_server_error_is_never_resent() -> None:
    answers = [FAILED, (201, QUEUED)]
    raised, requests = send(answers)
    assert isinstance(raised, TwilioRestException)
    assert requests == 1 == transport_attempts("twilio", "POST", URL, answers)


def test_raise_on_error_raises_normalizer_s_typed_error_through_the_sdk() -> None:
    raised, requests = send([INVALID], raise_on_error=True)
    assert isinstance(raised, normalizer.ValidationError)
    assert (raised.vendor, raised.code, raised.status_code) == ("twilio", "21211", 400)
    assert SID not in str(raised)  # the account id in the path is masked
    assert requests == 1
