"""Every live API host is detected as its vendor (and product where the selectors depend on
the URL); a web page of the same domain is not claimed (issue 31, class 4).

Each host's source is in its mapping file's ``[detect]`` or alias comment."""

from __future__ import annotations

import httpx
import pytest

import normalizer
from normalizer import outcome_of


def _client() -> normalizer.Client:
    # no vendor named: the transport detects it per request; one attempt, a plain answer
    return normalizer.Client(
        transport=httpx.MockTransport(lambda request: httpx.Response(200, json={})),
        retry=normalizer.RetryPolicy(max_attempts=1),
    )


DETECTED = [
    # Vonage: SDK default, regional and Voice-region hosts (vonage.toml [detect])
    ("https://api-eu.vonage.com/v1/messages", "vonage", "messages"),
    ("https://api-us.vonage.com/v1/messages", "vonage", "messages"),
    ("https://api-ap.vonage.com/v1/messages", "vonage", "messages"),
    ("https://api-us-3.vonage.com/v1/calls", "vonage", None),
    ("https://api-us-4.vonage.com/v1/calls", "vonage", None),
    ("https://api-eu-3.vonage.com/v1/calls", "vonage", None),
    ("https://api-eu-4.vonage.com/v1/calls", "vonage", None),
    ("https://api-ap-3.vonage.com/v1/calls", "vonage", None),
    ("https://api-ap-4.vonage.com/v1/calls", "vonage", None),
    ("https://video.api.vonage.com/v2/project/x/session", "vonage", None),
    ("https://messages-sandbox.nexmo.com/v1/messages", "vonage", "messages"),
    ("https://api.nexmo.com/v1/messages", "vonage", "messages"),
    ("https://rest.nexmo.com/sms/json", "vonage", "sms"),
    # Twilio: the API's version prefixes on any product, edge and region host
    ("https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json", "twilio", "messaging"),
    ("https://api.dublin.ie1.twilio.com/2010-04-01/Accounts/AC1/Calls.json", "twilio", "voice"),
    ("https://verify.twilio.com/v2/Services/VA1/Verifications", "twilio", None),
    ("https://preview.twilio.com/HostedNumbers/HostedNumberOrders", "twilio", None),
    # Aliyun: the generated SDKs' endpoint map
    ("https://dysmsapi.us-east-1.aliyuncs.com/?Action=SendSms", "aliyun_sms", "sms"),
    ("https://dysmsapi-proxy.cn-beijing.aliyuncs.com/?Action=SendSms", "aliyun_sms", "sms"),
    ("https://dysmsapi-xman.cn-hongkong.aliyuncs.com/?Action=SendSms", "aliyun_sms", "sms"),
    ("https://dysmsapi-xman.ap-southeast-5.aliyuncs.com/?Action=SendSms", "aliyun_sms", "sms"),
    # Onbuka's white label Laaffic: the products' own path selectors apply
    ("https://api.laaffic.com/v3/sendSms", "onbuka", "sms"),
    ("https://api.laaffic.com/v3/getReport", "onbuka", "sms"),
    ("https://api.laaffic.com/v3/voice/sendSip", "onbuka", "voice"),
    ("https://api.onbuka.com/v3/sendSms", "onbuka", "sms"),
    # UCPaaS's white label FlyPaaS: the REST API (vendor-level table)
    ("https://api.flypaas.com/2014-06-30/Accounts/e03b/Calls/voiceNotify", "ucpaas", None),
    # SMS.RU: its API method groups
    ("https://sms.ru/sms/send?api_id=x&to=79000000000&msg=hi&json=1", "sms_ru", None),
    ("https://sms.ru/my/balance?api_id=x&json=1", "sms_ru", None),
    ("https://tele2.sms.ru/sms/status?api_id=x&sms_id=1&json=1", "sms_ru", None),
]


@pytest.mark.parametrize(("url", "vendor", "product"), DETECTED)
def test_api_host_is_detected(url: str, vendor: str, product: str | None) -> None:
    with _client() as client:
        outcome = outcome_of(client.get(url))
    assert outcome is not None, url
    assert (outcome.vendor, outcome.product) == (vendor, product)


WEB_PAGES = [
    "https://www.vonage.com/communications-apis/",
    "https://developer.vonage.com/en/api-errors/sms",
    "https://developer.nexmo.com/api/sms",
    "https://dashboard.nexmo.com/",
    "https://www.twilio.com/docs/api/errors/20003",
    "https://www.twilio.com/en-us/pricing",
    "https://console.twilio.com/us1/develop/sms",
    "https://www.onbuka.com/sms-api3/",
    "https://www.laaffic.com/api/sms/sendSms/",
    "https://www.flypaas.com/user/toSign",
    "https://docs.flypaas.com/doku.php",
    "https://sms.ru/api/send",
    "https://sms.ru/",
]


@pytest.mark.parametrize("url", WEB_PAGES)
def test_web_page_of_the_same_domain_is_not_claimed(url: str) -> None:
    with _client() as client:
        response = client.get(url)
    assert outcome_of(response) is None, url
