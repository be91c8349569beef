"""Pages a vendor's gateway writes instead of its JSON (issue 31, class 5), read by the
mappings' ``[[page]]`` rules. Every page below is copied from the public report named beside it
(blank lines trimmed); a vendor whose pages no public material shows has no rule and no test."""

from __future__ import annotations

import httpx
import pytest

from normalizer import Category, Match, NormalizingTransport, classify, outcome_of

TWILIO_SEND = "https://api.twilio.com/2010-04-01/Accounts/AC123/Messages.json"

# https://github.com/twilio/twilio-ruby/issues/544 (messages.create)
TWILIO_504_OPENRESTY = (
    b"<html> \n<head><title>504 Gateway Time-out</title></head> \n<body> \n"
    b"<center><h1>504 Gateway Time-out</h1></center> \n<hr><center>openresty</center> \n"
    b"</body> \n</html> \n"
)
# https://github.com/twilio/twilio-ruby/issues/457 (messages.create)
TWILIO_504_HAPROXY = (
    b"<html><body><h1>504 Gateway Time-out</h1>\nThe server didn't respond in time.\n"
    b"</body></html>\n"
)
TWILIO_500_NGINX = (
    b"<html>\n<head><title>500 Internal Server Error</title></head>\n"
    b'<body bgcolor="white">\n<center><h1>500 Internal Server Error</h1></center>\n'
    b"<hr><center>nginx</center>\n</body>\n</html>\n"
)
# https://github.com/Vonage/vonage-ruby-sdk/issues/4 (rest.nexmo.com/sms/json)
VONAGE_500_JETTY = (
    b'<html>\n<head>\n<meta http-equiv="Content-Type" content="text/html;charset=ISO-8859-1"/>\n'
    b"<title>Error 500 Server Error</title>\n</head>\n<body>\n<h2>HTTP ERROR: 500</h2>\n"
    b"<p>Problem accessing /sms/json. Reason:\n<pre>    Server Error</pre></p>\n"
    b"<hr /><i><small>Powered by Jetty://</small></i>\n</body>\n</html>\n"
)
# https://github.com/Vonage/vonage-node-sdk/issues/308 (HTTP 403; the page's head, as logged)
VONAGE_403_CLOUDFLARE = (
    b'<!DOCTYPE html>\n\n\n\n <html class="no-js" lang="en-US">\n<head>\n'
    b"<title>Attention Required! | Cloudflare</title>\n"
    b'<meta name="captcha-bypass" id="captcha-bypass" />\n<meta charset="UTF-8" />\n'
)


@pytest.mark.parametrize(
    ("page", "status", "message"),
    [
        (TWILIO_504_OPENRESTY, 504, "504 Gateway Time-out"),
        (TWILIO_504_HAPROXY, 504, "504 Gateway Time-out"),
        (TWILIO_500_NGINX, 500, "500 Internal Server Error"),
    ],
)
def test_twilio_front_door_pages(page: bytes, status: int, message: str) -> None:
    o = classify("twilio", page, status_code=status, url=TWILIO_SEND)
    assert (o.category, o.matched, o.message, o.http_status) == (
        Category.SERVER,
        Match.PAGE,
        message,
        status,
    )
    assert o.retryable
    assert not o.rejected  # a timed-out send may have gone out
    # the same page on another status is not this rule's: the status decides
    assert classify("twilio", page, status_code=502, url=TWILIO_SEND).matched is Match.HTTP_STATUS


def test_vonage_sms_api_jetty_page() -> None:
    o = classify("vonage", VONAGE_500_JETTY, status_code=500, url="https://rest.nexmo.com/sms/json")
    assert (o.category, o.matched, o.product) == (Category.SERVER, Match.PAGE, "sms")
    assert o.message.startswith("HTTP ERROR: 500")


@pytest.mark.parametrize(
    "url",
    [
        "https://rest.nexmo.com/sms/json",
        "https://api.nexmo.com/v1/messages",
        "https://api.nexmo.com/v1/calls",
    ],
)
def test_vonage_cloudflare_block_page(url: str) -> None:
    o = classify("vonage", VONAGE_403_CLOUDFLARE, status_code=403, url=url)
    assert (o.category, o.matched) == (Category.AUTH, Match.PAGE)
    assert o.message == "Attention Required! | Cloudflare"
    assert not o.retryable


def test_a_page_is_read_through_the_transport() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            504, content=TWILIO_504_OPENRESTY, headers={"content-type": "text/html"}
        )

    transport = NormalizingTransport(transport=httpx.MockTransport(handler), retry=None)
    with httpx.Client(transport=transport) as client:
        response = client.post(TWILIO_SEND, data={"To": "+15005550006"})
    found = outcome_of(response)
    assert found is not None
    assert (found.category, found.matched) == (Category.SERVER, Match.PAGE)
    assert response.content == TWILIO_504_OPENRESTY
