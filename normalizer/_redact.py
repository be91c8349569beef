"""Removing secrets and phone numbers from anything that may reach a log line or an exception.

Redaction is on by default and errs on the side of masking: a masked timestamp costs nothing,
a leaked signature or customer's phone number costs a lot. :class:`Redactor` takes extra keys
and patterns; the default one covers the seed vendors' secrets (Authorization, Sign, Api-Key,
sig, vpbx_api_key, appsecret, token, password, accountSid...).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MASK = "***"

SECRET_KEYS = frozenset(
    {
        "authorization", "proxyauthorization", "cookie", "setcookie",
        "sign", "sig", "signature", "token", "accesstoken", "refreshtoken", "authtoken",
        "apikey", "xapikey", "vpbxapikey", "appsecret", "secret", "clientsecret", "password",
        "passwd", "pwd", "key", "accountsid", "authkey", "privatekey", "sessionid",
    }
)  # fmt: skip
"""Keys whose values are secrets, compared without case, '-' or '_'."""

PHONE = re.compile(r"(?<![\w.])\+?\d(?:[ -]?\d){8,18}(?![\w.])")
"""E.164 numbers and other runs of 9+ digits (spaces or dashes allowed between digits)."""


def _norm(key: str) -> str:
    return key.lower().replace("-", "").replace("_", "")


class Redactor:
    """Masks secret values by key, phone numbers and user patterns in text, URLs and bodies.

    ``keys`` adds secret key names; ``patterns`` adds regular expressions whose matches are
    masked in any text. Phone numbers keep their last ``keep_digits`` digits.
    """

    def __init__(
        self,
        *,
        keys: Iterable[str] = (),
        patterns: Iterable[str | re.Pattern[str]] = (),
        keep_digits: int = 4,
    ) -> None:
        self._keys = SECRET_KEYS | {_norm(k) for k in keys}
        self._patterns = tuple(re.compile(p) if isinstance(p, str) else p for p in patterns)
        self._keep = max(0, min(4, keep_digits))

    def is_secret(self, key: str) -> bool:
        """Whether a header/query/body key names a secret (``Api-Key``, ``app_secret``...)."""
        return _norm(key) in self._keys

    def text(self, text: str) -> str:
        """``text`` with user patterns masked and phone numbers cut to their last digits."""
        for pattern in self._patterns:
            text = pattern.sub(MASK, text)
        return PHONE.sub(self._mask_phone, text)

    def _mask_phone(self, match: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", match.group())
        kept = digits[len(digits) - self._keep :] if self._keep else ""
        return "*" * (len(digits) - len(kept)) + kept

    def number(self, number: str) -> str:
        """A recipient's number with every digit masked but the last ``keep_digits``, whatever
        its length or punctuation (an 8-digit local number, ``+7 (925) 507-06-02``)."""
        digits = re.sub(r"\D", "", number)
        if not digits:
            return MASK
        kept = digits[len(digits) - self._keep :] if self._keep else ""
        return "*" * (len(digits) - len(kept)) + kept

    def url(self, url: str) -> str:
        """A URL without credentials, secret query values or phone numbers."""
        try:
            parts = urlsplit(url)
        except ValueError:
            return self.text(url)
        netloc = parts.netloc
        if "@" in netloc:
            netloc = f"{MASK}@{netloc.rsplit('@', 1)[1]}"
        query = urlencode(
            [
                (k, MASK if self.is_secret(k) else self.text(v))
                for k, v in parse_qsl(parts.query, keep_blank_values=True)
            ],
            safe="*",
        )
        return urlunsplit((parts.scheme, netloc, self.text(parts.path), query, ""))

    def headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        """Headers with secret values masked."""
        return {k: MASK if self.is_secret(k) else self.text(v) for k, v in headers.items()}

    def data(self, value: object, depth: int = 0) -> object:
        """Parsed JSON (or form fields) with secret keys masked and phones cut, recursively."""
        if depth > 32:
            return MASK
        if isinstance(value, Mapping):
            return {
                str(k): MASK if self.is_secret(str(k)) else self.data(v, depth + 1)
                for k, v in value.items()
            }
        if isinstance(value, list | tuple):
            return [self.data(v, depth + 1) for v in value]
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, int) and not isinstance(value, bool) and len(str(abs(value))) >= 9:
            return self.text(str(value))
        return value

    def body(self, raw: bytes | str, limit: int = 2048) -> str:
        """A body for a log line: JSON redacted by key, anything else as text; at most ``limit``."""
        text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
        try:
            shown = json.dumps(self.data(json.loads(text)), ensure_ascii=False)
        except (ValueError, RecursionError):
            shown = self.text(text)
            form = parse_qsl(text, keep_blank_values=True)
            if form and "=" in text and " " not in text.strip():
                shown = urlencode(
                    [(k, MASK if self.is_secret(k) else self.text(v)) for k, v in form], safe="*"
                )
        return shown if len(shown) <= limit else shown[:limit] + "..."


DEFAULT = Redactor()
