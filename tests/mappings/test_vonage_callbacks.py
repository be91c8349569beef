"""Vonage callbacks: SMS delivery receipts (JSON, form, GET) without product=, Messages API
status webhooks, Voice API events; the SMS API's ``sig`` and the signed webhooks' JWT.

Vectors: Vonage/vonage-python-sdk (commit b308cb1e) http_client/tests/test_auth.py
(signature secret "signature_secret": sign_params and check_signature) and
jwt/tests/test_verify_jwt.py (an HS256 token and its secret). The receipt is the body of
tests/mappings/test_vonage.py (fields of
https://developer.vonage.com/en/messaging/sms/guides/delivery-receipts); the Messages status
is the Java SDK's MessageStatus test body used there; the Voice event's fields are
https://developer.vonage.com/en/voice/voice-api/webhook-reference#event-webhook.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any
from urllib.parse import urlencode

import pytest

import normalizer
from normalizer import Category, SignatureError
from normalizer._signatures import jwt_hs256, sorted_params_sig

JSON = {"Content-Type": "application/json"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
SECRET = "signature_secret"

DLR = {
    "err-code": "2",
    "message-timestamp": "2018-10-25 12:10:29",
    "messageId": "0B00000127FDBC63",
    "msisdn": "447547232824",
    "network-code": "23410",
    "price": "0.03330000",
    "scts": "1810251310",
    "status": "failed",
    "to": "Nexmo CLI",
}
STATUS = {
    "message_uuid": "aaaaaaaa-bbbb-cccc-dddd-0123456789ab",
    "to": "447700900000",
    "from": "447700900001",
    "timestamp": "2020-01-01 14:00:00 +0000",
    "status": "submitted",
    "channel": "sms",
    "error": {
        "type": "https://developer.nexmo.com/api-errors/messages-olympus#1000",
        "title": 1000,
        "detail": "Throttled - You have exceeded the submission capacity allowed on this "
        "account. Please wait and retry",
        "instance": "bf0ca0bf927b3b52e3cb03217e1a1ddf",
    },
}
EVENT = {
    "uuid": "63f61863-4a51-4f6b-86e1-46edebcf9356",
    "conversation_uuid": "CON-f972836a-550f-45fa-956c-12a2ab5b7d22",
    "status": "busy",
    "direction": "outbound",
    "timestamp": "2020-01-01T12:00:00.000Z",
    "from": "447700900000",
    "to": "447700900001",
}
SDK_TOKEN = (
    "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJPbmxpbmUgSldUIEJ1aWxkZXIiLCJpYXQiOjE2OTc2Mz"
    "Q2ODAsImV4cCI6MzMyNTQ1NDA4MjgsImF1ZCI6IiIsInN1YiI6IiJ9.88vJc3I2HhuqEDixHXVhc9R30tA6U_HQHZTC29y6CGM"
)
SDK_JWT_SECRET = "qwertyuiopasdfghjklzxcvbnm123456"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def token(claims: dict[str, Any], secret: str = SECRET, alg: str = "HS256") -> str:
    head = b64url(json.dumps({"alg": alg, "typ": "JWT"}).encode())
    body = b64url(json.dumps(claims).encode())
    mac = hmac.new(secret.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64url(mac)}"


def md5hash(params: dict[str, str], secret: str = SECRET) -> str:
    """The dashboard's default "MD5 hash", as the signing-messages guide describes it."""
    text = "".join(f"&{k}={params[k].replace('&', '_').replace('=', '_')}" for k in sorted(params))
    return hashlib.md5((text + secret).encode()).hexdigest()


# ---------------------------------------------------------------- reading


def test_a_json_receipt_without_product_is_read_as_a_receipt() -> None:
    out = normalizer.classify_callback(json.dumps(DLR).encode(), JSON)
    assert (out.vendor, out.product, out.code, out.category) == ("vonage", "dlr", "2", "busy")
    assert out.delivery_outcome is True
    # before: without product= a receipt read unknown
    assert normalizer.classify("vonage", DLR).category is Category.UNKNOWN


def test_a_form_and_a_get_receipt() -> None:
    by_form = normalizer.classify_callback(urlencode(DLR).encode(), FORM)
    by_get = normalizer.classify_callback(b"", {}, url="https://example.com/dlr?" + urlencode(DLR))
    assert by_form.product == by_get.product == "dlr"
    assert by_form.category is by_get.category is Category.BUSY


def test_a_delivered_receipt() -> None:
    body = json.dumps({**DLR, "err-code": "0", "status": "delivered"}).encode()
    assert normalizer.classify_callback(body, JSON).ok


def test_a_messages_status_webhook() -> None:
    out = normalizer.classify_callback(json.dumps(STATUS).encode(), JSON)
    assert (out.product, out.code, out.category) == ("messages", "1000", Category.BUSY)


def test_a_voice_event() -> None:
    out = normalizer.classify_callback(json.dumps(EVENT).encode(), JSON)
    assert (out.product, out.code, out.category, out.call_outcome) == (
        "voice",
        "busy",
        Category.BUSY,
        True,
    )
    assert out.request_id == EVENT["uuid"]
    done = normalizer.classify_callback(json.dumps({**EVENT, "status": "completed"}).encode(), JSON)
    assert done.ok
    odd = normalizer.classify_callback(json.dumps({**EVENT, "status": "failed"}).encode(), JSON)
    assert odd.category is Category.UNKNOWN  # not mapped: carriers relay it loosely


# ---------------------------------------------------------------- sig (SMS API)


def test_sdk_sig_vectors() -> None:
    methods = ["md5hash", "md5", "sha1", "sha256", "sha512"]
    ok = [("param", "value"), ("timestamp", "1234567890")]
    assert sorted_params_sig(SECRET, ok, "655a4d0b7f064dff438defc52b012cf5", methods) is None
    two = [("param1", "value1"), ("param2", "value2"), ("timestamp", "1234567890")]
    sha = "280c4320703dbc98bfa22db676655ed2acfbfe8792b062ff7622e67f1183c287"
    assert sorted_params_sig(SECRET, two, sha, methods) is None
    assert sorted_params_sig(SECRET, two, "724c2bf6ca423c36e20631b11d1c5753", methods) is None
    odd = [("param1", "value&1"), ("param2", "value=2"), ("timestamp", "1234567890")]
    assert sorted_params_sig(SECRET, odd, "2bbf0abafb2c55e5af6231513896a2ac", methods) is None
    assert sorted_params_sig(SECRET, ok, "invalid_signature", methods) is not None
    # only the methods the mapping lists are tried
    assert sorted_params_sig(SECRET, two, sha, ["md5hash", "md5"]) is not None


def test_the_sdk_vector_through_the_entry_point() -> None:
    body = b"param=value&timestamp=1234567890&sig=655a4d0b7f064dff438defc52b012cf5"
    out = normalizer.classify_callback(body, FORM, vendor="vonage", secret=SECRET)
    assert out.vendor == "vonage"
    with pytest.raises(SignatureError, match="'sig'"):
        normalizer.classify_callback(body, FORM, vendor="vonage", secret="another")


@pytest.mark.parametrize("kind", ["json", "form", "get"])
def test_a_signed_receipt_verifies_and_a_forged_one_raises(kind: str) -> None:
    fields = {**DLR, "timestamp": "1540469429"}
    signed = {**fields, "sig": md5hash(fields)}
    forged = {**signed, "err-code": "0", "status": "delivered"}

    def call(doc: dict[str, str]) -> normalizer.Outcome:
        if kind == "json":
            return normalizer.classify_callback(json.dumps(doc).encode(), JSON, secret=SECRET)
        if kind == "form":
            return normalizer.classify_callback(urlencode(doc).encode(), FORM, secret=SECRET)
        url = "https://example.com/dlr?" + urlencode(doc)
        return normalizer.classify_callback(b"", {}, url=url, secret=SECRET)

    assert call(signed).category is Category.BUSY
    with pytest.raises(SignatureError) as info:
        call(forged)
    assert signed["sig"] not in str(info.value)
    with pytest.raises(SignatureError, match="no signature"):
        call(fields)


# ---------------------------------------------------------------- JWT (signed webhooks)


def test_sdk_jwt_vector() -> None:
    assert jwt_hs256(SDK_JWT_SECRET, "Bearer " + SDK_TOKEN, b"") is None
    assert jwt_hs256("asdf", "Bearer " + SDK_TOKEN, b"") is not None
    assert jwt_hs256(SDK_JWT_SECRET, "Bearer asdf", b"") is not None
    # the SDK token carries no payload_hash: with the claim required it does not verify
    assert "payload_hash" in str(
        jwt_hs256(SDK_JWT_SECRET, "Bearer " + SDK_TOKEN, b"", claim="payload_hash")
    )


def test_a_signed_status_webhook_verifies() -> None:
    body = json.dumps(STATUS).encode()
    claims = {
        "iat": 1700000000,
        "api_key": "abcd1234",
        "payload_hash": hashlib.sha256(body).hexdigest(),
    }
    headers = {**JSON, "Authorization": "Bearer " + token(claims)}
    out = normalizer.classify_callback(body, headers, secret=SECRET)
    assert (out.product, out.code) == ("messages", "1000")


def test_a_compactly_hashed_voice_event_verifies() -> None:
    # the support article: the SHA-256 of the JSON written without whitespace
    body = json.dumps(EVENT, indent=2).encode()
    compact = json.dumps(EVENT, separators=(",", ":")).encode()
    claims = {"payload_hash": hashlib.sha256(compact).hexdigest()}
    headers = {**JSON, "Authorization": "Bearer " + token(claims)}
    assert normalizer.classify_callback(body, headers, secret=SECRET).product == "voice"


@pytest.mark.parametrize(
    ("auth", "body", "reason"),
    [
        ("Bearer " + token({"payload_hash": "0" * 64}), None, "payload_hash"),
        ("Bearer " + token({"iat": 1}), None, "no 'payload_hash'"),
        ("Bearer " + token({"payload_hash": "x"}, secret="wrong"), None, "HS256 signature differs"),
        ("Bearer " + token({"payload_hash": "x"}, alg="none"), None, "not signed with HS256"),
        ("Bearer " + token({"exp": 1, "payload_hash": "x"}), None, "expired"),
        ("Bearer not.a.jwt", None, "not a JWT"),
        ("Basic dXNlcjpwYXNz", None, "no Bearer token"),
        (None, None, "header authorization absent"),
    ],
)
def test_a_forged_status_webhook_raises(auth: str | None, body: bytes | None, reason: str) -> None:
    raw = body or json.dumps(STATUS).encode()
    headers = dict(JSON)
    if auth is not None:
        headers["Authorization"] = auth
    with pytest.raises(SignatureError, match=reason) as info:
        normalizer.classify_callback(raw, headers, secret=SECRET)
    assert SECRET not in str(info.value)
    if auth is not None:
        assert auth.split()[-1] not in str(info.value)


def test_a_tampered_body_fails_its_hash() -> None:
    body = json.dumps(STATUS).encode()
    claims = {"payload_hash": hashlib.sha256(body).hexdigest()}
    headers = {**JSON, "Authorization": "Bearer " + token(claims)}
    tampered = body.replace(b'"submitted"', b'"delivered"')
    with pytest.raises(SignatureError, match="differs from the JWT's 'payload_hash'"):
        normalizer.classify_callback(tampered, headers, secret=SECRET)
