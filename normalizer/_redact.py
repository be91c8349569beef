"""Removing secrets and phone numbers from text that may reach a log line or an exception.

Redaction is on by default and errs on the side of masking: a masked timestamp costs nothing,
a leaked signature or customer's phone number costs a lot.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MASK = "***"

SECRET_KEYS = frozenset(
    {
        "authorization",
        "proxyauthorization",
        "cookie",
        "setcookie",
        "sign",
        "sig",
        "signature",
        "token",
        "accesstoken",
        "refreshtoken",
        "authtoken",
        "apikey",
        "xapikey",
        "vpbxapikey",
        "appsecret",
        "secret",
        "clientsecret",
        "password",
        "passwd",
        "pwd",
        "key",
        "accountsid",
        "authkey",
        "privatekey",
        "sessionid",
    }
)
"""Header, query and body keys whose values are secrets, compared without case, '-' or '_'."""

# E.164 (+ and 7-15 digits) or any run of 9+ digits, possibly split by spaces or dashes
_PHONE = re.compile(r"(?<![\w.])\+?\d(?:[ -]?\d){8,18}(?![\w.])")


def is_secret_key(key: str) -> bool:
    """Whether a header/query/body key names a secret (``Api-Key``, ``app_secret``, ``Sign``)."""
    return key.lower().replace("-", "").replace("_", "") in SECRET_KEYS


def mask_phone(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group())
    return "*" * (len(digits) - 4) + digits[-4:]


def redact_text(text: str) -> str:
    """Mask phone numbers (and other long digit runs) to their last four digits."""
    return _PHONE.sub(mask_phone, text)


def redact_url(url: str) -> str:
    """A URL without secrets: credentials, secret query values, and phone numbers masked."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return redact_text(url)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{MASK}@{netloc.rsplit('@', 1)[1]}"
    query = urlencode(
        [
            (k, MASK if is_secret_key(k) else redact_text(v))
            for k, v in parse_qsl(parts.query, keep_blank_values=True)
        ],
        safe="*",
    )
    return urlunsplit((parts.scheme, netloc, redact_text(parts.path), query, ""))
