"""Twilio callbacks: status callbacks as raw form bodies, and X-Twilio-Signature.

Signature vectors are twilio/twilio-python's tests/unit/test_request_validator.py (commit
306691e7: auth token "12345", the URL https://mycompany.com/myapp.php?foo=1&bar=2 and its
expected signatures); the status callback fields are Twilio's
(https://www.twilio.com/docs/messaging/guides/track-outbound-message-status,
https://www.twilio.com/docs/voice/api/call-resource).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import urlencode

import pytest

import normalizer
from normalizer import Category, SignatureError
from normalizer._signatures import url_params_hmac_sha1

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
TOKEN = "12345"
URI = "https://mycompany.com/myapp.php?foo=1&bar=2"
PARAMS = {
    "CallSid": "CA1234567890ABCDE",
    "Digits": "1234",
    "From": "+14158675309",
    "To": "+18005551212",
    "Caller": "+14158675309",
}
EXPECTED = "RSOYDt4T1cUTdK1PDd93/VVr8B8="


def sign(url: str, params: dict[str, str], token: str = TOKEN) -> str:
    """Twilio's documented algorithm, written out (https://www.twilio.com/docs/usage/webhooks/webhooks-security)."""
    text = url + "".join(k + params[k] for k in sorted(params))
    return base64.b64encode(hmac.new(token.encode(), text.encode(), hashlib.sha1).digest()).decode()


def status(**fields: str) -> bytes:
    base = {
        "ApiVersion": "2010-04-01",
        "MessageSid": "SMXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
        "SmsSid": "SMXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
        "AccountSid": "ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
        "From": "+15017122661",
        "To": "+15558675310",
    }
    return urlencode({**base, **fields}).encode()


# ---------------------------------------------------------------- reading


def test_raw_form_body_of_a_failed_message_reads_its_error_code() -> None:
    body = status(MessageStatus="undelivered", SmsStatus="undelivered", ErrorCode="30003")
    out = normalizer.classify_callback(body, FORM)
    assert (out.vendor, out.product, out.code) == ("twilio", "messaging", "30003")
    assert out.category is Category.BUSY  # 30003 Unreachable destination handset
    assert out.request_id == "SMXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"


def test_the_same_fields_as_a_dict_read_the_same() -> None:
    body = status(MessageStatus="undelivered", ErrorCode="30003")
    fields = dict(pair.split("=", 1) for pair in body.decode().split("&"))
    by_dict = normalizer.classify("twilio", fields, product="messaging")
    by_bytes = normalizer.classify_callback(body, FORM)
    assert (by_bytes.category, by_bytes.code) == (by_dict.category, by_dict.code)


def test_a_delivered_message() -> None:
    out = normalizer.classify_callback(status(MessageStatus="delivered"), FORM)
    assert (out.category, out.delivery_outcome) == (Category.OK, True)


def test_a_sent_message_without_error_is_ok() -> None:
    assert normalizer.classify_callback(status(MessageStatus="sent"), FORM).ok


def test_voice_status_callback_busy() -> None:
    body = urlencode({"CallSid": "CA1", "CallStatus": "busy", "AccountSid": "AC1"}).encode()
    out = normalizer.classify_callback(body, FORM)
    assert (out.vendor, out.product, out.category, out.call_outcome) == (
        "twilio",
        "voice",
        Category.BUSY,
        True,
    )


def test_voice_status_callback_by_get_reads_the_query_string() -> None:
    url = "https://example.com/status?CallSid=CA1&CallStatus=no-answer&AccountSid=AC1"
    out = normalizer.classify_callback(b"", {}, url=url)
    assert (out.vendor, out.product, out.category) == ("twilio", "voice", Category.BUSY)


def test_a_field_given_twice_is_no_code() -> None:
    body = status(MessageStatus="undelivered") + b"&ErrorCode=30003&ErrorCode=30005"
    out = normalizer.classify_callback(body, FORM)
    assert out.vendor == "twilio"
    assert out.code is None


# ---------------------------------------------------------------- X-Twilio-Signature


def test_sdk_vectors_of_the_algorithm() -> None:
    pairs = list(PARAMS.items())
    assert url_params_hmac_sha1(TOKEN, URI, pairs, EXPECTED) is None
    # the SDK's port vectors: a port removed, and the default one added
    assert url_params_hmac_sha1(TOKEN, URI.replace(".com", ".com:1234"), pairs, EXPECTED) is None
    assert url_params_hmac_sha1(TOKEN, URI, pairs, "kvajT1Ptam85bY51eRf/AJRuM3w=") is None
    http = URI.replace("https", "http")
    assert url_params_hmac_sha1(TOKEN, http, pairs, "0ZXoZLH/DfblKGATFgpif+LLRf4=") is None
    # duplicates: names sorted, values sorted, each value once
    dup = [("Sid", "CA123"), ("SidAccount", "AC123"), ("Digits", "5678"), ("Digits", "1234")]
    dup.append(("Digits", "1234"))
    assert url_params_hmac_sha1(TOKEN, URI, dup, "IK+Dwps556ElfBT0I3Rgjkr1wJU=") is None
    # a JSON body: signed through the URL, which carries its SHA-256
    body = b'{"property": "value", "boolean": true}'
    digest = "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620"
    assert hashlib.sha256(body).hexdigest() == digest
    url = URI + "&bodySHA256=" + digest
    good = "a9nBmqA0ju/hNViExpshrM61xv4="
    assert (
        url_params_hmac_sha1(TOKEN, url, [], good, body=body, body_hash_query="bodySHA256") is None
    )
    tampered = body.replace(b"value", b"other")
    assert url_params_hmac_sha1(TOKEN, url, [], good, body=tampered, body_hash_query="bodySHA256")


def test_sdk_vectors_fail() -> None:
    pairs = list(PARAMS.items())
    assert url_params_hmac_sha1("54321", URI, pairs, EXPECTED) is not None
    assert url_params_hmac_sha1(TOKEN, URI + "&x=1", pairs, EXPECTED) is not None
    assert url_params_hmac_sha1(TOKEN, URI, [*pairs, ("Extra", "1")], EXPECTED) is not None


def test_the_sdk_vector_through_the_entry_point() -> None:
    # a gather callback: no status callback shape, but Twilio signs every webhook alike
    body = urlencode(PARAMS).encode()
    headers = {**FORM, "X-Twilio-Signature": EXPECTED}
    out = normalizer.classify_callback(body, headers, vendor="twilio", url=URI, secret=TOKEN)
    assert out.vendor == "twilio"
    with pytest.raises(SignatureError):
        normalizer.classify_callback(body, headers, vendor="twilio", url=URI, secret="54321")


def test_a_signed_status_callback_verifies() -> None:
    url = "https://example.com/twilio/status"
    fields = {"MessageSid": "SM1", "MessageStatus": "failed", "ErrorCode": "30007", "To": "+1555"}
    headers = {**FORM, "X-Twilio-Signature": sign(url, fields)}
    out = normalizer.classify_callback(urlencode(fields).encode(), headers, url=url, secret=TOKEN)
    assert (out.vendor, out.code) == ("twilio", "30007")


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"url": "https://evil.example.com/twilio/status"}, "differs"),
        ({"secret": "wrong"}, "differs"),
        ({"body": {"ErrorCode": "30003"}}, "differs"),
        ({"header": None}, "no signature"),
        ({"url": None}, "pass url="),
    ],
)
def test_a_forged_status_callback_raises(change: dict[str, object], reason: str) -> None:
    url = "https://example.com/twilio/status"
    fields = {"MessageSid": "SM1", "MessageStatus": "failed", "ErrorCode": "30007"}
    signature = sign(url, fields)
    body = {**fields, **change.get("body", {})}  # type: ignore[dict-item]
    headers = dict(FORM)
    if change.get("header", signature) is not None:
        headers["X-Twilio-Signature"] = signature
    with pytest.raises(SignatureError, match=reason) as info:
        normalizer.classify_callback(
            urlencode(body).encode(),
            headers,
            url=change.get("url", url),  # type: ignore[arg-type]
            secret=change.get("secret", TOKEN),  # type: ignore[arg-type]
        )
    assert signature not in str(info.value)
    assert TOKEN not in str(info.value)
    assert info.value.vendor == "twilio"


def test_the_signature_header_is_masked_in_logs() -> None:
    mapping = normalizer.Registry(environ=False).get("twilio")
    redactor = normalizer.Redactor().extended(keys=mapping.redact.keys)
    masked = redactor.headers({"X-Twilio-Signature": EXPECTED})
    assert EXPECTED not in str(masked)
