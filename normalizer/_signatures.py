"""Callback signature algorithms: code. Which one a vendor uses is its mapping's data.

Each function answers None when the signature verifies, else the reason it does not, worded
without the signature, the secret or any field value (the reason ends up in an exception
message, and exception messages end up in logs). Comparisons are constant-time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Sequence
from urllib.parse import parse_qs, urlsplit, urlunsplit

Pairs = Sequence[tuple[str, str]]


def url_params_hmac_sha1(
    secret: str,
    url: str,
    params: Pairs,
    signature: str,
    *,
    body: bytes = b"",
    body_hash_query: str = "",
) -> str | None:
    """Twilio's ``X-Twilio-Signature``: base64 HMAC-SHA1, keyed by the auth token, of the full
    URL followed by every POST parameter's name and value, sorted by name (each name once, its
    distinct values sorted). The URL is tried with and without its default port, as Twilio's
    own validator does (its signing "is inconsistent" about the port). A JSON body is signed
    through the URL alone, which then carries the body's SHA-256 in ``body_hash_query``.

    Source: twilio/twilio-python twilio/request_validator.py (``compute_signature``,
    ``validate``); https://www.twilio.com/docs/usage/webhooks/webhooks-security
    """
    if body_hash_query:
        query = parse_qs(urlsplit(url).query)
        if body_hash_query in query:
            wanted = query[body_hash_query][0]
            if not _same(hashlib.sha256(body).hexdigest(), wanted):
                return f"the body's SHA-256 differs from the URL's {body_hash_query}"
            params = ()
    grouped: dict[str, set[str]] = {}
    for name, value in params:
        grouped.setdefault(name, set()).add(value)
    tail = "".join(name + value for name in sorted(grouped) for value in sorted(grouped[name]))
    key = secret.encode()
    for candidate in _port_variants(url):
        mac = hmac.new(key, (candidate + tail).encode(), hashlib.sha1).digest()
        if _same(base64.b64encode(mac).decode(), signature.strip()):
            return None
    return "the HMAC-SHA1 of the URL and parameters differs (wrong auth token or URL?)"


def _port_variants(url: str) -> tuple[str, ...]:
    """The URL as given, and with its port removed (or the scheme's default port added)."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        return (url,)
    if port is not None:
        return (url, urlunsplit(parts._replace(netloc=parts.netloc.rsplit(":", 1)[0])))
    default = 443 if parts.scheme == "https" else 80
    return (url, urlunsplit(parts._replace(netloc=f"{parts.netloc}:{default}")))


def key_json_salt_sha256(secret: str, key: str, document: str, signature: str) -> str | None:
    """MANGO OFFICE's ``sign``: ``sha256(vpbx_api_key + json + vpbx_api_salt)``, hex, where
    ``json`` is the form field exactly as posted. "Подписываются все запросы — как от внешней
    системы, так и от API ВАТС" (every request is signed, the PBX's to you included).

    Source: MangoOffice_VPBX_API_v1.9.pdf (API v 1.10), "Модель взаимодействия"
    """
    expected = hashlib.sha256((key + document + secret).encode()).hexdigest()
    if _same(expected, signature.strip().lower()):
        return None
    return "sha256(vpbx_api_key + json + salt) differs (wrong API salt?)"


_HMAC_DIGESTS: dict[str, Callable[[], object]] = {
    "md5": hashlib.md5,
    "sha1": hashlib.sha1,
    "sha256": hashlib.sha256,
    "sha512": hashlib.sha512,
}


def sorted_params_sig(
    secret: str, params: Pairs, signature: str, methods: Sequence[str], field: str = "sig"
) -> str | None:
    """Vonage's ``sig`` on SMS API webhooks: every parameter but ``sig`` sorted by name, each
    written ``&name=value`` with ``&`` and ``=`` in values replaced by ``_``; then either the
    MD5 of that string followed by the signature secret (``md5hash``, the dashboard's default)
    or its HMAC keyed by the secret (``md5``, ``sha1``, ``sha256``, ``sha512``), hex in either
    case. The method is an account setting: each listed one whose length fits is tried.

    Source: https://developer.vonage.com/en/getting-started/concepts/signing-messages;
    Vonage/vonage-python-sdk http_client/src/vonage_http_client/auth.py (``sign_params``,
    ``check_signature``); Vonage .NET SDK ``SmsSignatureGenerator`` (md5hash: MD5 of query +
    secret)
    """
    values: dict[str, str] = {}
    for name, value in params:
        if name == field:
            continue
        if name in values:
            return f"parameter {name!r} is given twice: the signed string is undefined"
        values[name] = value
    text = "".join(
        f"&{name}={values[name].replace('&', '_').replace('=', '_')}" for name in sorted(values)
    ).encode()
    given = signature.strip().lower()
    for method in methods:
        if method == "md5hash":
            expected = hashlib.md5(text + secret.encode()).hexdigest()
        else:
            expected = hmac.new(secret.encode(), text, _HMAC_DIGESTS[method]).hexdigest()  # type: ignore[arg-type]
        if len(expected) == len(given) and _same(expected, given):
            return None
    return f"no signature method ({', '.join(methods)}) gives the posted {field!r}"


def jwt_hs256(
    secret: str,
    authorization: str,
    body: bytes,
    *,
    claim: str = "",
    now: Callable[[], float] = time.time,
) -> str | None:
    """Vonage's signed webhooks (Messages, Voice): ``Authorization: Bearer <JWT>``, HS256
    keyed by the signature secret; the token's ``exp``/``nbf`` are honoured, and when ``claim``
    is named (``payload_hash``) the token must carry it and it must be the SHA-256 (hex) of
    the body as posted, or of the JSON document written without whitespace (how Vonage's
    support article says the Voice API hashes it). Any ``alg`` but HS256 is refused.

    Source: https://developer.vonage.com/en/messages/concepts/signed-webhooks;
    https://developer.vonage.com/en/getting-started/concepts/webhooks#decoding-signed-webhooks;
    https://api.support.vonage.com/hc/en-us/articles/19033783342876; Vonage/vonage-python-sdk
    jwt/src/vonage_jwt/verify_jwt.py (``decode(token, secret, algorithms='HS256')``)
    """
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return "the Authorization header holds no Bearer token"
    parts = token.strip().split(".")
    if len(parts) != 3:
        return "the Bearer token is not a JWT"
    try:
        header = json.loads(_b64url(parts[0]))
        claims = json.loads(_b64url(parts[1]))
        mac = _b64url(parts[2])
    except (ValueError, UnicodeDecodeError):
        return "the Bearer token is not a JWT"
    if not isinstance(header, dict) or header.get("alg") != "HS256":
        return "the JWT is not signed with HS256"
    signed = f"{parts[0]}.{parts[1]}".encode()
    if not hmac.compare_digest(hmac.new(secret.encode(), signed, hashlib.sha256).digest(), mac):
        return "the JWT's HS256 signature differs (wrong signature secret?)"
    if not isinstance(claims, dict):
        return "the JWT carries no claims"
    moment = now()
    exp, nbf = claims.get("exp"), claims.get("nbf")
    if exp is not None and (not isinstance(exp, int | float) or moment >= exp):
        return "the JWT has expired"
    if nbf is not None and (not isinstance(nbf, int | float) or moment < nbf):
        return "the JWT is not valid yet"
    if claim:
        wanted = claims.get(claim)
        if not isinstance(wanted, str):
            return f"the JWT carries no {claim!r} claim: the body is not covered"
        if not any(_same(digest, wanted.lower()) for digest in _body_digests(body)):
            return f"the body's SHA-256 differs from the JWT's {claim!r}"
    return None


def _body_digests(body: bytes) -> list[str]:
    digests = [hashlib.sha256(body).hexdigest()]
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return digests
    compact = json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()
    if compact != body:
        digests.append(hashlib.sha256(compact).hexdigest())
    return digests


def _b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _same(expected: str, given: str) -> bool:
    return hmac.compare_digest(expected.encode(), given.encode())
