"""One entry point for the callbacks vendors post to your server: raw bytes and headers in,
an :class:`Outcome` out.

A delivery report, call event or status callback arrives at a URL of yours, so nothing but its
content type and fields says whose it is and which product reads it. Every vendor's mapping
lists the callbacks it posts (``[[callbacks]]``, :mod:`normalizer._callback_spec`); this module
parses the body by its content type (JSON, a form, a JSON document inside a form field, or the
URL's query string), finds the one callback whose shape it has, verifies its signature when
given the secret, and classifies its payload with that callback's product. Two shapes that both
fit read ``unknown``: a callback is never guessed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from ._callback_spec import Callback, Signature
from ._category import Category
from ._classify import DEFAULT_MAX_BODY_SIZE, classify_parsed, classify_unread, parse_json
from ._exceptions import SignatureError
from ._mapping import VendorMapping
from ._outcome import Match, Outcome
from ._registry import Registry, default_registry
from ._signatures import (
    jwt_hs256,
    key_json_salt_sha256,
    sorted_params_sig,
    url_params_hmac_sha1,
)

RawBody = bytes | bytearray | memoryview | str

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
_MAX_FIELDS = 1000
"""Form fields read at most: a body with more is no vendor's callback."""


class _Parsed:
    """A callback body read by its content type."""

    __slots__ = ("_nested", "doc", "kind", "media", "pairs")

    def __init__(self, media: str, kind: str, doc: object, pairs: list[tuple[str, str]]) -> None:
        self.media = media
        """The media type it is matched as (declared, or sniffed when none was)."""
        self.kind = kind
        """"json", "form", "query" (no body: the URL's query string) or "none"."""
        self.doc = doc
        self.pairs = pairs
        self._nested: dict[str, object] = {}

    def payload(self, spec: Callback) -> object:
        """What ``spec`` reads: the document, or the JSON inside its form field."""
        if not spec.json_field:
            return self.doc
        name = spec.json_field
        if name not in self._nested:
            value = self.doc.get(name) if isinstance(self.doc, dict) else None
            self._nested[name] = parse_json(value) if isinstance(value, str) else None
        return self._nested[name]

    def fits(self, spec: Callback) -> bool:
        if self.kind == "query":
            return spec.query and spec.matches(self.payload(spec))
        return self.media in spec.content_types and spec.matches(self.payload(spec))


def classify_callback(
    body: RawBody,
    headers: Mapping[str, str] | None = None,
    *,
    vendor: str | None = None,
    url: str | None = None,
    secret: str | None = None,
    registry: Registry | None = None,
    max_body_size: int = DEFAULT_MAX_BODY_SIZE,
) -> Outcome:
    """Classify a callback a vendor posted to your server: a delivery report, a call event, a
    status callback, exactly as received (raw body bytes and request headers).

    The body is read by its ``Content-Type``: JSON, a form (``application/x-www-form-urlencoded``,
    a JSON document inside a form field included: MANGO's ``json=``), or, for a body-less GET,
    the query string of ``url``. The vendor and product are the one callback whose shape
    (content type and identifying fields, from the mappings' ``[[callbacks]]``) the body has;
    ``vendor`` limits the search to one vendor (and reads an unrecognised body with its
    vendor-level table). A body matching several vendors' or products' shapes reads
    ``unknown`` (``matched="ambiguous"``, one candidate per reading): pass ``vendor``.

    ``url`` is the URL the vendor posted to, as it signed it (your own, with its query string);
    it never selects a product. With ``secret`` (Twilio's auth token, Vonage's signature
    secret, MANGO's API salt) the signature the vendor's mapping declares is verified before
    anything else is read; :class:`SignatureError` is raised when it is absent or does not
    verify, when the callback cannot be recognised, or when the vendor does not sign it. Without
    ``secret`` nothing is verified.

    A body longer than ``max_body_size`` bytes is never parsed: it reads ``unknown`` (and with a
    ``secret``, raises :class:`SignatureError`). Like :func:`classify`, this never raises
    because of what a body holds unless a ``secret`` asks it to.
    """
    if max_body_size < 0:
        raise ValueError("max_body_size must be >= 0")
    if secret is not None and not secret:
        # an unset environment variable read as "": anyone can sign with an empty key
        raise ValueError("secret must not be empty (None: verify nothing)")
    reg = registry or default_registry()
    mappings = (reg.get(vendor),) if vendor is not None else reg.all()
    raw = body.encode() if isinstance(body, str) else bytes(body)
    lowered = {k.lower(): v for k, v in (headers or {}).items()}
    if len(raw) > max_body_size:
        if secret is not None:
            raise SignatureError(vendor or "", f"body over max_body_size ({max_body_size} bytes)")
        if vendor is not None:
            return classify_unread(mappings[0], None, None, None, max_body_size)
        return _unknown(f"body over max_body_size ({max_body_size} bytes): not read")
    parsed = _parse(raw, lowered.get("content-type", ""), url)
    found: list[tuple[VendorMapping, Callback]] = []
    for mapping in mappings:
        for spec in mapping.callbacks:
            if parsed.fits(spec):
                found.append((mapping, spec))
    readings = {(m.id, s.product): (m, s) for m, s in found}
    if len(readings) > 1:
        if secret is not None:
            raise SignatureError(vendor or "", "the body fits several callbacks' shapes")
        return _ambiguous(parsed, readings.values())
    if not readings:
        if vendor is None:
            if secret is not None:
                raise SignatureError("", "no vendor's callback shape fits the body: pass vendor=")
        else:
            if secret is not None:  # another webhook of the vendor's: signed as its callbacks are
                signatures = dict.fromkeys(s for c in mappings[0].callbacks for s in c.signatures)
                _verify(vendor, "a webhook", tuple(signatures), parsed, raw, lowered, url, secret)
            return classify_parsed(mappings[0], parsed.doc, None, None, None)
        return _unknown(
            f"not a callback any vendor's mapping describes ({parsed.media or 'no content type'},"
            f" {len(parsed.pairs) if parsed.kind != 'json' else 'JSON'}"
            f"{' fields' if parsed.kind != 'json' else ''}): pass vendor= to read it anyway"
        )
    mapping, spec = found[0]
    if secret is not None:
        _verify(mapping.id, spec.id, spec.signatures, parsed, raw, lowered, url, secret)
    return _read(mapping, spec, parsed.payload(spec))


def _parse(raw: bytes, content_type: str, url: str | None) -> _Parsed:
    media, _, params = content_type.partition(";")
    media = media.strip().lower()
    charset = "utf-8"
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset" and value.strip():
            charset = value.strip().strip("\"'")
    if not raw.strip():
        query = urlsplit(url).query if url else ""
        if query:
            pairs = _pairs(query, "utf-8")
            if pairs is not None:
                return _Parsed(media, "query", _fields(pairs), pairs)
        return _Parsed(media, "none", None, [])
    if not media:  # undeclared: a document opens with { or [; anything else may be a form
        media = JSON if raw.lstrip()[:1] in (b"{", b"[") else FORM
    if media == FORM:
        pairs = _pairs(raw.decode("utf-8", errors="replace"), charset)
        if pairs is None:
            return _Parsed(media, "none", None, [])
        return _Parsed(media, "form", _fields(pairs), pairs)
    return _Parsed(media, "json", parse_json(raw), [])


def _pairs(text: str, charset: str) -> list[tuple[str, str]] | None:
    try:
        return parse_qsl(
            text,
            keep_blank_values=True,
            encoding=charset,
            errors="replace",
            max_num_fields=_MAX_FIELDS,
        )
    except (ValueError, LookupError):  # too many fields, or a charset Python does not know
        return None


def _fields(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Form fields as a document; a field given twice holds the list of its values, which no
    code path reads (which one the vendor meant is not guessed)."""
    doc: dict[str, Any] = {}
    for name, value in pairs:
        if name in doc:
            old = doc[name]
            doc[name] = [*old, value] if isinstance(old, list) else [old, value]
        else:
            doc[name] = value
    return doc


def _read(mapping: VendorMapping, spec: Callback, payload: object) -> Outcome:
    """A recognised callback's payload read with its product (no HTTP status: it is a request
    the vendor made, not an answer)."""
    product = None if spec.product is None else mapping.products[spec.product]
    return classify_parsed(mapping, payload, None, None, product)


def _unknown(message: str, candidates: tuple[Outcome, ...] = ()) -> Outcome:
    return Outcome(
        category=Category.UNKNOWN,
        retryable=False,
        vendor="",
        message=message,
        matched=Match.AMBIGUOUS if candidates else Match.MISSING,
        candidates=candidates,
    )


def _ambiguous(parsed: _Parsed, found: Iterable[tuple[VendorMapping, Callback]]) -> Outcome:
    pairs = list(found)
    names = ", ".join(f"{m.id} {s.id}" for m, s in pairs)
    candidates = tuple(_read(m, s, parsed.payload(s)) for m, s in pairs)
    vendors = {m.id for m, _ in pairs}
    hint = "pass vendor=" if len(vendors) > 1 else "its products differ"
    return _unknown(f"ambiguous callback: the shapes of {names} all fit ({hint})", candidates)


def _verify(
    vendor: str,
    what: str,
    signatures: tuple[Signature, ...],
    parsed: _Parsed,
    raw: bytes,
    headers: Mapping[str, str],
    url: str | None,
    secret: str,
) -> None:
    """Raise :class:`SignatureError` unless the first of ``signatures`` the request carries
    verifies (the vendor's declared schemes; none carried, or none declared, raises too)."""
    if not signatures:
        raise SignatureError(vendor, f"{what}: the vendor does not sign it (nothing to verify)")
    fields = parsed.doc if isinstance(parsed.doc, dict) else {}
    for sig in signatures:
        value = headers.get(sig.header) if sig.header else fields.get(sig.field)
        if value is None:
            continue
        if not isinstance(value, str):  # a form field given twice, or JSON that is no text
            raise SignatureError(vendor, f"{what}: {sig.carrier} is not one text value")
        reason = _check(sig, value, parsed, fields, raw, url, secret)
        if reason is not None:
            raise SignatureError(vendor, f"{what}: {reason}")
        return
    where = " or ".join(dict.fromkeys(sig.carrier for sig in signatures))
    raise SignatureError(vendor, f"{what}: no signature ({where} absent)")


def _check(
    sig: Signature,
    value: str,
    parsed: _Parsed,
    fields: Mapping[str, Any],
    raw: bytes,
    url: str | None,
    secret: str,
) -> str | None:
    if sig.scheme == "url-params-hmac-sha1":
        if url is None:
            return "the URL the vendor posted to is signed: pass url="
        params = parsed.pairs if parsed.kind == "form" else []
        return url_params_hmac_sha1(
            secret, url, params, value, body=raw, body_hash_query=sig.body_hash_query
        )
    if sig.scheme == "key-json-salt-sha256":
        key, document = fields.get(sig.key_field), fields.get(sig.json_field)
        if not isinstance(key, str) or not isinstance(document, str):
            return f"fields {sig.key_field!r} and {sig.json_field!r} must each be given once"
        return key_json_salt_sha256(secret, key, document, value)
    if sig.scheme == "sorted-params-sig":
        if parsed.kind in ("form", "query"):
            params = parsed.pairs
        else:
            params = [(k, v if isinstance(v, str) else str(v)) for k, v in fields.items()]
        return sorted_params_sig(secret, params, value, sig.methods, sig.field)
    if sig.scheme == "jwt-hs256":
        return jwt_hs256(secret, value, raw, claim=sig.claim)
    raise AssertionError(f"unchecked signature scheme {sig.scheme!r}")  # pragma: no cover
