"""Removing secrets and phone numbers from anything that may reach a log line or an exception.

Redaction is on by default and errs on the side of masking: a masked timestamp costs nothing,
a leaked signature or customer's phone number costs a lot. :class:`Redactor` takes extra keys,
patterns and secret URL path segments; the default one covers the common secret names
(Authorization, Sign, Api-Key, sig, vpbx_api_key, appsecret, token, password, AccessKeyId,
SecretKey, X-Auth-Token, JSESSIONID...). A vendor's own secret names and path secrets live in
its mapping file's ``[redact]`` table, and a transport extends its redactor with them
(:meth:`Redactor.extended`).
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterable, Mapping
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MASK = "***"

SECRET_KEYS = frozenset(
    {
        "authorization", "proxyauthorization", "cookie", "setcookie",
        "sign", "sig", "signature", "sigparameter", "token", "accesstoken", "refreshtoken",
        "authtoken", "xauthtoken", "xaccesstoken", "sessiontoken", "securitytoken",
        "apikey", "xapikey", "vpbxapikey", "appkey", "appsecret", "secret", "clientsecret",
        "apisecret", "secretkey", "secretid", "accesskey", "accesskeyid", "accesskeysecret",
        "password", "passwd", "pwd", "key", "accountsid", "authkey", "privatekey",
        "sessionid", "jsessionid", "phpsessid",
    }
)  # fmt: skip
"""Keys whose values are secrets, compared without case, '-' or '_'."""

SECRET_SUFFIXES = ("secret", "token", "password", "apikey", "accesskey", "privatekey")
"""A key ending in one of these (normalized) is a secret too: ``client_secret``,
``X-Upstream-Token``, ``AccessKeySecret``; masking a harmless one costs nothing."""

PHONE = re.compile(r"(?<![^\W_])(?<!\d\.)(?:\+ ?)?\(?\d(?:\)?[ -]?\(?\d){8,30}(?![^\W_]|\.\d)")
"""E.164 numbers and other runs of 9+ digits, spaces, dashes and parentheses allowed between
digits (``+7 (916) 123-45-67``); also inside names (``rec_79161234567.mp3``), but not inside
longer alphanumeric words, ids or decimals."""

_PAIR = re.compile(r"""(?<![\w-])(["']?)([A-Za-z][\w-]*)\1[ \t]*[=:][ \t]*""")
"""``name=value``, ``name: value`` or ``"name": value`` in free text (the value follows)."""

_VALUE = re.compile(
    r""""(?:[^"\\]|\\.)*"|'[^']*'"""
    r"|(?:(?:Bearer|Basic|Digest|Token|App|OAuth|Negotiate|[A-Z0-9]+(?:-[A-Z0-9]+)*-HMAC-SHA256)"
    r"[ \t]+)?[^\s\"',;&<>()\[\]{}]+"
)
"""The value after a secret name: a quoted string, or a token (with its auth scheme)."""


def _norm(key: str) -> str:
    return key.lower().replace("-", "").replace("_", "")


class Redactor:
    """Masks secret values by key, phone numbers and user patterns in text, URLs and bodies.

    ``keys`` adds secret key names (headers, query and form fields, JSON keys, ``name=value``
    in text); ``patterns`` adds regular expressions whose matches are masked in any text;
    ``after_segments`` names URL path segments whose next segment is a secret
    (``["Accounts"]`` masks ``/Accounts/{accountSid}/...``). Phone numbers keep their last
    ``keep_digits`` digits.
    """

    def __init__(
        self,
        *,
        keys: Iterable[str] = (),
        patterns: Iterable[str | re.Pattern[str]] = (),
        keep_digits: int = 4,
        after_segments: Iterable[str] = (),
    ) -> None:
        self._keys = SECRET_KEYS | {_norm(k) for k in keys}
        self._patterns = tuple(re.compile(p) if isinstance(p, str) else p for p in patterns)
        self._keep = max(0, min(4, keep_digits))
        self._after = frozenset(_norm(s) for s in after_segments)

    def extended(self, *, keys: Iterable[str] = (), after_segments: Iterable[str] = ()) -> Redactor:
        """This redactor (of the same class) also masking ``keys`` and the path segments after
        ``after_segments``: how a transport adds a vendor's ``[redact]`` to the user's one.

        Returns ``self`` when there is nothing to add, so the usual vendor costs nothing.
        """
        more_keys = {_norm(k) for k in keys} - self._keys
        more_after = {_norm(s) for s in after_segments} - self._after
        if not more_keys and not more_after:
            return self
        twin = copy.copy(self)
        twin._keys = self._keys | more_keys
        twin._after = self._after | more_after
        return twin

    def is_secret(self, key: str) -> bool:
        """Whether a header/query/body key names a secret (``Api-Key``, ``app_secret``...)."""
        norm = _norm(key)
        return norm in self._keys or norm.endswith(SECRET_SUFFIXES)

    def text(self, text: str) -> str:
        """``text`` with user patterns masked, the values of ``secret=value`` and
        ``secret: value`` pairs masked (a vendor echoing ``sign=...``), and phone numbers cut
        to their last digits."""
        for pattern in self._patterns:
            text = pattern.sub(MASK, text)
        if "=" in text or ":" in text:
            text = self._pairs(text)
        return PHONE.sub(self._mask_phone, text)

    def _pairs(self, text: str) -> str:
        """Mask the value after every secret name in ``text`` (one pass, left to right)."""
        out: list[str] = []
        done = 0
        for pair in _PAIR.finditer(text):
            if pair.start() < done or not self.is_secret(pair.group(2)):
                continue  # inside a value already masked, or an ordinary name
            value = _VALUE.match(text, pair.end())
            if value is None:
                continue
            quote = value.group()[0] if value.group()[0] in "\"'" else ""
            out.append(text[done : value.start()])
            out.append(f"{quote}{MASK}{quote}")
            done = value.end()
        if not out:
            return text
        out.append(text[done:])
        return "".join(out)

    def _mask_phone(self, match: re.Match[str]) -> str:
        return self._mask_digits(re.sub(r"\D", "", match.group()))

    def number(self, number: str) -> str:
        """A recipient's number with every digit masked but the last ``keep_digits``, whatever
        its length or punctuation (an 8-digit local number, ``+7 (925) 507-06-02``)."""
        digits = re.sub(r"\D", "", number)
        return self._mask_digits(digits) if digits else MASK

    def _mask_digits(self, digits: str) -> str:
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
        return urlunsplit((parts.scheme, netloc, self.path(parts.path), query, ""))

    def path(self, path: str) -> str:
        """A URL path with the segment after each ``after_segments`` name masked, then as text."""
        if self._after:
            segments = path.split("/")
            for i in range(1, len(segments)):
                if _norm(segments[i - 1]) in self._after and segments[i]:
                    segments[i] = MASK
            path = "/".join(segments)
        return self.text(path)

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
