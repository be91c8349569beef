"""Removing secrets and phone numbers from anything that may reach a log line or an exception.

Redaction is on by default and errs on the side of masking: a masked timestamp costs nothing,
a leaked signature or customer's phone number costs a lot. :class:`Redactor` takes extra keys,
patterns and secret URL path segments; the default one covers the common secret names
(Authorization, Sign, Api-Key, sig, vpbx_api_key, appsecret, token, password, AccessKeyId,
SecretKey, X-Auth-Token, JSESSIONID...). A vendor's own secret names and path secrets live in
its mapping file's ``[redact]`` table, and a transport extends its redactor with them
(:meth:`Redactor.extended`).

Text is read through a percent-decoded view (:class:`_View`): vendors echo URL-encoded text
(Aliyun's ``SignatureDoesNotMatch`` answer quotes its string to sign,
``AccessKeyId%3DLTAI...%26PhoneNumbers%3D138...``), so names, separators and numbers are found
in the decoded view and the matching stretches of the original are masked; the rest of the
text stays exactly as the vendor wrote it (the string to sign is what a developer compares).

Every pattern here runs in time linear in its input: each repetition is either over one
character class that the next part of the pattern cannot match (``[^<>]*`` then ``>``), or
bounded (a phone number has at most 31 digits), and every scan for a closing delimiter
(``<``, ``]]>``, a quote) starts where the previous one ended. A hostile 1 MB string costs what
any 1 MB string does (tests/test_redact.py feeds several).
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

PHONE = re.compile(
    # a '+' needs only no digit before it ('a+1415...', 'tel:+1415...'); a bare number no
    # ASCII letter or digit (an id's digits), nor a decimal point or a time's ':' after a
    # digit (3.14159..., the seconds of '10:30:00 (1718000000123)')
    r"(?=[+(\d])"  # fails fast where no number can start (most of any text)
    r"(?:(?<!\d)(?P<plus>\+)[ ]?|(?<![A-Za-z0-9])(?<!\d[.:]))"
    r"(?P<number>"
    r"(?P<dotted>\d{1,4}(?:\.\d{1,4}){2,7})"  # 415.555.0100, 01.23.45.67.89
    r"|\(?\d(?:\)?(?:[ ]{1,2}|[-/])?\(?\d){8,30}"  # +7 (916) 123-45-67, 415/555-0100
    r")"
    # after a '+' number anything but a digit; after a bare one no letter or digit, and no
    # '.5' (a decimal) or ':30' (the time of '2024-01-15 10:30')
    r"(?(plus)(?!\d)|(?![A-Za-z0-9])(?!\.\d)(?!:\d))"
)
"""E.164 numbers and other runs of 9+ digits, single or double spaces, dashes, slashes and
parentheses allowed between digits (``+7 (916) 123-45-67``, ``+7  916  123  45  67``,
``415/555-0100``) or dots between groups of at most 4 (``+1.415.555.0100``); also inside names
(``rec_79161234567.mp3``) and beside non-ASCII letters (``号码13800138000``), but not inside
longer ASCII words, ids or decimals. :func:`_readable` then spares what only looks like one."""

_TIMESTAMP = re.compile(
    r"1\d{9}|1\d{12}"  # epoch seconds or milliseconds, 2001-09-09 to 2033-05-18
    r"|(?:19|20)\d\d(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])(?:[01]\d|2[0-3])[0-5]\d[0-5]\d",
    re.ASCII,
)
"""A run of digits that is a time: no country code starts 10 or 13 digits with 1 (+1 numbers
have 11), and none makes 14 digits of 19xx/20xx (yyyyMMddHHmmss, Yuntongxun's dateCreated)."""

_IPV4 = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}", re.ASCII)
_UUID_GROUP = re.compile(r"[0-9A-Fa-f]{4}-")
_LONGEST_NUMBER = 15
"""E.164 numbers have at most 15 digits: a longer unbroken run is an id (Aliyun's BizId has 18)."""

_PAIR = re.compile(r"""(?<![\w-])(["']?)([A-Za-z][\w-]*)\1[ \t]*[=:][ \t]*""")
"""``name=value``, ``name: value`` or ``"name": value`` in free text (the value follows)."""

_VALUE = re.compile(
    r""""(?:[^"\\]|\\.)*"|'[^']*'"""
    r"|(?:(?:Bearer|Basic|Digest|Token|App|OAuth|Negotiate|[A-Z0-9]+(?:-[A-Z0-9]+)*-HMAC-SHA256)"
    r"[ \t]+)?[^\s\"',;&<>()\[\]{}]+"
)
"""The value after a secret name: a quoted string, or a token (with its auth scheme)."""

_ELEMENT = re.compile(r"<(?:[A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)(?:\s[^<>]*)?>")
"""An XML start tag (``<Password>``, ``<s:Token xmlns:s="...">``): its name, then its text."""

_CDATA = "<![CDATA["

_ESCAPE = re.compile(r"%(?:25)*([0-9A-Fa-f]{2})")
"""A percent escape, however often its '%' was escaped again (``%3D``, ``%253D``: '=')."""

Span = tuple[int, int, str]
"""A stretch of text, ``[start, end)``, and what replaces it."""


def _norm(key: str) -> str:
    return key.lower().replace("-", "").replace("_", "")


class _View:
    """A text with its percent escapes decoded, and where each decoded character came from.

    Spans found in :attr:`text` replace the stretches of :attr:`original` they came from, so
    ``PhoneNumbers%3D13800138000%26`` becomes ``PhoneNumbers%3D*******8000%26``.
    """

    __slots__ = ("_starts", "original", "text")

    def __init__(self, original: str) -> None:
        self.original = self.text = original
        self._starts: list[int] | None = None  # None: no escapes, view and original agree
        if "%" in original:
            self._decode()

    def _decode(self) -> None:
        pieces: list[str] = []
        starts: list[int] = []
        done = 0
        for escape in _ESCAPE.finditer(self.original):
            pieces += (self.original[done : escape.start()], chr(int(escape.group(1), 16)))
            starts += range(done, escape.start())
            starts.append(escape.start())
            done = escape.end()
        if not done:
            return
        pieces.append(self.original[done:])
        starts += range(done, len(self.original) + 1)
        self.text = "".join(pieces)
        self._starts = starts

    def replace(self, spans: Iterable[Span]) -> str:
        """The original with each span (sorted, apart) of the view replaced."""
        starts = self._starts
        out: list[str] = []
        done = 0
        for start, end, new in spans:
            if starts is not None:
                start, end = starts[start], starts[end]
            out += (self.original[done:start], new)
            done = end
        if not out:
            return self.original
        out.append(self.original[done:])
        return "".join(out)


def _readable(match: re.Match[str]) -> bool:
    """Whether a phone-shaped match is something users need to read in a log line: an epoch
    or compact timestamp, an id longer than any number, a UUID's last group, an IPv4 address
    or a dotted version or date. A '+' always means a number."""
    if match.group("plus"):
        return False
    number = match.group("number")
    if match.group("dotted"):
        digits = sum(ch.isdigit() for ch in number)
        return digits < 9 or _IPV4.fullmatch(number) is not None
    if number[0] == "(":  # (1718000000)
        number = number[1:]
    if not number.isdecimal():
        return False  # written with separators: a number
    start = match.end() - len(number)
    return (
        len(number) > _LONGEST_NUMBER
        or _TIMESTAMP.fullmatch(number) is not None
        or (len(number) == 12 and _UUID_GROUP.fullmatch(match.string, start - 5, start) is not None)
    )


def _blanked(text: str, spans: Iterable[Span]) -> str:
    """``text`` with the spans' stretches filled with '*' (same length, so positions hold)."""
    out: list[str] = []
    done = 0
    for start, end, _ in spans:
        out += (text[done:start], "*" * (end - start))
        done = end
    out.append(text[done:])
    return "".join(out)


class Redactor:
    """Masks secret values by key, phone numbers and user patterns in text, URLs and bodies.

    ``keys`` adds secret key names (headers, query and form fields, JSON keys, XML elements,
    ``name=value`` in text); ``patterns`` adds regular expressions whose matches are masked in
    any text; ``after_segments`` names URL path segments whose next segment is a secret
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
        """``text`` with user patterns masked, the values of ``secret=value``,
        ``secret: value`` pairs and ``<Secret>`` elements masked (a vendor echoing
        ``sign=...``), percent-encoded or not, and phone numbers cut to their last digits."""
        for pattern in self._patterns:
            text = pattern.sub(MASK, text)
        view = _View(text)
        secrets = self._secrets(view.text)
        numbers = self._numbers(_blanked(view.text, secrets) if secrets else view.text)
        if not numbers:
            return view.replace(secrets)
        return view.replace(sorted(secrets + numbers))

    def _secrets(self, text: str) -> list[Span]:
        """Where secret values are: after secret names, inside secret XML elements."""
        spans = self._pairs(text) if "=" in text or ":" in text else []
        if "<" in text:
            elements = self._elements(text)
            if elements:
                spans = _apart(sorted(spans + elements))
        return spans

    def _pairs(self, text: str) -> list[Span]:
        """The value after every secret name in ``text`` (one pass, left to right); a quoted
        value keeps its quotes."""
        spans: list[Span] = []
        done = 0
        for pair in _PAIR.finditer(text):
            if pair.start() < done or not self.is_secret(pair.group(2)):
                continue  # inside a value already masked, or an ordinary name
            value = _VALUE.match(text, pair.end())
            if value is None:
                continue
            start, end = value.span()
            if text[start] in "\"'":
                start, end = start + 1, end - 1
            spans.append((start, end, MASK))
            done = value.end()
        return spans

    def _elements(self, text: str) -> list[Span]:
        """The text of every XML element named like a secret (``<Password>``, CDATA too)."""
        spans: list[Span] = []
        done = 0
        for element in _ELEMENT.finditer(text):
            tag = element.group()
            if element.start() < done or tag.endswith("/>") or not self.is_secret(element.group(1)):
                continue
            start = element.end()
            if text.startswith(_CDATA, start):
                start += len(_CDATA)
                end = text.find("]]>", start)
            else:
                end = text.find("<", start)
            done = end = len(text) if end < 0 else end  # unclosed: masked to the end
            spans.append((start, end, MASK))
        return spans

    def _numbers(self, text: str) -> list[Span]:
        """Phone numbers, each cut to its last digits."""
        return [
            (match.start(), match.end(), self._mask_digits(re.sub(r"\D", "", match.group())))
            for match in PHONE.finditer(text)
            if not _readable(match)
        ]

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
        """Parsed JSON (or form fields) with secret keys masked and phones cut, recursively;
        keys too (SMS.RU keys its results by number)."""
        if depth > 32:
            return MASK
        if isinstance(value, Mapping):
            out: dict[str, object] = {}
            for k, v in value.items():
                key = str(k)
                shown = MASK if self.is_secret(key) else self.data(v, depth + 1)
                out[_unique(self.text(key), out)] = shown
            return out
        if isinstance(value, list | tuple):
            return [self.data(v, depth + 1) for v in value]
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, int) and not isinstance(value, bool) and len(str(abs(value))) >= 9:
            shown = self.text(str(value))
            return value if shown == str(value) else shown
        return value

    def body(self, raw: bytes | str, limit: int = 2048) -> str:
        """A body for a log line: JSON redacted by key, anything else (XML, form fields, text)
        as text; at most ``limit`` characters."""
        text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
        try:
            shown = json.dumps(self.data(json.loads(text)), ensure_ascii=False)
        except (ValueError, RecursionError):
            shown = self.text(text)
            form = parse_qsl(text, keep_blank_values=True)
            if form and "=" in text and " " not in text.strip():
                shown = urlencode(
                    [(self.text(k), MASK if self.is_secret(k) else self.text(v)) for k, v in form],
                    safe="*",
                )
        return shown if len(shown) <= limit else shown[:limit] + "..."


def _apart(spans: list[Span]) -> list[Span]:
    """Sorted spans without those starting inside an earlier one."""
    out: list[Span] = []
    for span in spans:
        if not out or span[0] >= out[-1][1]:
            out.append(span)
    return out


def _unique(key: str, taken: Mapping[str, object]) -> str:
    """``key``, or ``key~2``, ``key~3``... when two masked keys read alike."""
    if key not in taken:
        return key
    n = 2
    while f"{key}~{n}" in taken:
        n += 1
    return f"{key}~{n}"


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def clean_text(text: str, limit: int) -> str:
    """Vendor text for a log field: at most ``limit`` characters, line breaks and other control
    characters escaped (``\\n``), so no renderer (structlog < 25 included) writes a forged line."""
    text = text[:limit]
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def head(text: str, limit: int) -> str:
    """The first ``limit`` characters of a text about to be redacted, without the digits of a
    number the cut split (the first 7 digits of an 11-digit number would not read as one)."""
    if len(text) <= limit:
        return text
    return text[:limit].rstrip("0123456789+-./() ")


DEFAULT = Redactor()
