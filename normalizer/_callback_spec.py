"""The ``[[callbacks]]`` of a mapping file: what each callback a vendor posts looks like.

A delivery report or call event arrives at the user's own server, so no vendor URL says whose
it is or which product reads it: its content type and fields do. Each vendor's file lists the
callbacks it posts (the product their payload is read with, the content types, the fields that
identify one, where a form nests its JSON payload) and where each signs them. This module
checks that data when a file is loaded and builds it into values; recognising a body and
verifying its signature is :mod:`normalizer._callbacks`' work.

It imports nothing from the rest of normalizer, so the mapping loader can use it freely.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._mapping import _Checker

SCHEMES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # scheme: (required keys, optional keys) besides "scheme" and "source"
    "url-params-hmac-sha1": (("header",), ("body_hash_query",)),
    "key-json-salt-sha256": (("field", "key_field", "json_field"), ()),
    "sorted-params-sig": (("field", "methods"), ()),
    "jwt-hs256": (("header",), ("claim",)),
}
"""The signature algorithms normalizer implements (code); which one a vendor uses, and where
its signature sits, is each callback's data."""

PARAMS_METHODS = ("md5hash", "md5", "sha1", "sha256", "sha512")
"""Digests of the ``sorted-params-sig`` scheme: ``md5hash`` is MD5 over the string and the
secret, the others an HMAC keyed by the secret."""

_KEYS = (
    "id",
    "name",
    "product",
    "content_types",
    "query",
    "json_field",
    "list",
    "fields",
    "values",
    "signatures",
    "source",
)
_ID = re.compile(r"[a-z][a-z0-9_]*\Z")
_MEDIA = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*\Z")
_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+\Z")


@dataclasses.dataclass(frozen=True)
class Signature:
    """Where one callback carries its signature and how it is computed."""

    scheme: str
    header: str = ""
    """The request header holding the signature (lower-case), if it travels in one."""
    field: str = ""
    """The form or JSON field holding the signature, if it travels in the body."""
    key_field: str = ""
    json_field: str = ""
    methods: tuple[str, ...] = ()
    claim: str = ""
    """A JWT claim holding the SHA-256 of the body (``payload_hash``): required when named."""
    body_hash_query: str = ""
    """A URL query parameter holding the SHA-256 of a JSON body (Twilio's ``bodySHA256``)."""
    source: str = ""

    @property
    def carrier(self) -> str:
        """Where the signature sits, as a person reads it (never its value)."""
        return f"header {self.header}" if self.header else f"field {self.field!r}"


@dataclasses.dataclass(frozen=True)
class Callback:
    """One kind of callback a vendor posts, recognised by its content type and fields."""

    id: str
    name: str
    product: str | None
    content_types: tuple[str, ...]
    fields: tuple[tuple[str, ...], ...]
    """Dotted paths (split) that must each hold something in the payload."""
    values: tuple[tuple[tuple[str, ...], re.Pattern[str]], ...] = ()
    """Paths whose value (a string or an int, as text) must match one of the globs."""
    query: bool = False
    json_field: str = ""
    is_list: bool = False
    signatures: tuple[Signature, ...] = ()
    source: str = ""

    def matches(self, doc: object) -> bool:
        """Whether a payload (parsed JSON or form fields) has this callback's shape."""
        if self.is_list:
            if not isinstance(doc, list) or not doc:
                return False
            doc = doc[0]
        if not isinstance(doc, dict):
            return False
        for path in self.fields:
            if find(doc, path) is None:
                return False
        for path, pattern in self.values:
            value = find(doc, path)
            if isinstance(value, bool) or not isinstance(value, str | int):
                return False
            if pattern.match(str(value)) is None:
                return False
        return True


def find(doc: object, path: tuple[str, ...]) -> object:
    """The value at a split dotted path of ``doc``, or None."""
    node = doc
    for segment in path:
        if isinstance(node, dict):
            node = node.get(segment)
        elif isinstance(node, list) and segment.isdecimal() and int(segment) < len(node):
            node = node[int(segment)]
        else:
            return None
    return node


def check(ck: _Checker, value: object, products: Sequence[str] | None) -> None:
    """Validate a file's ``[[callbacks]]`` (``products``: the file's product ids, None for an
    overlay, whose products may be the base file's: checked again when built)."""
    seen: set[str] = set()
    for i, raw in enumerate(ck.array(value, "callbacks")):
        key = f"callbacks[{i}]"
        spec = ck.table(raw, key)
        ck.keys(spec, key, _KEYS)
        for required in ("id", "content_types", "fields", "source"):
            if required not in spec:
                raise ck.fail(f"{key}.{required}", "missing")
        cid = ck.string(spec["id"], f"{key}.id")
        if not _ID.match(cid):
            raise ck.fail(f"{key}.id", f"{cid!r} is not an id ([a-z][a-z0-9_]*)")
        if cid in seen:
            raise ck.fail(f"{key}.id", f"{cid!r} is listed twice")
        seen.add(cid)
        for field in ("name", "source"):
            if field in spec:
                ck.string(spec[field], f"{key}.{field}")
        if "product" in spec:
            pid = ck.string(spec["product"], f"{key}.product")
            if products is not None and pid not in products:
                known = ", ".join(products) or "(none)"
                raise ck.fail(f"{key}.product", f"no product {pid!r} (products: {known})")
        types = ck.strings(spec["content_types"], f"{key}.content_types")
        if not types:
            raise ck.fail(f"{key}.content_types", "must list at least one media type")
        for j, media in enumerate(types):
            if not _MEDIA.match(media):
                raise ck.fail(
                    f"{key}.content_types[{j}]",
                    f"{media!r} is not a lower-case media type (type/subtype, no parameters)",
                )
        for flag in ("query", "list"):
            if flag in spec:
                ck.boolean(spec[flag], f"{key}.{flag}")
        if "json_field" in spec:
            _name(ck, spec["json_field"], f"{key}.json_field")
        fields = ck.strings(spec["fields"], f"{key}.fields")
        if not fields:
            raise ck.fail(f"{key}.fields", "must name at least one field that identifies it")
        for j, path in enumerate(fields):
            _path(ck, path, f"{key}.fields[{j}]")
        for path, globs in ck.table(spec.get("values", {}), f"{key}.values").items():
            _path(ck, path, f"{key}.values")
            if not ck.strings(globs, f"{key}.values.{path}"):
                raise ck.fail(f"{key}.values.{path}", "must list at least one value glob")
        for j, sig in enumerate(ck.array(spec.get("signatures", []), f"{key}.signatures")):
            _signature(ck, sig, f"{key}.signatures[{j}]")


def _signature(ck: _Checker, value: object, key: str) -> None:
    sig = ck.table(value, key)
    if "scheme" not in sig:
        raise ck.fail(f"{key}.scheme", f"missing (one of: {', '.join(SCHEMES)})")
    scheme = ck.string(sig["scheme"], f"{key}.scheme")
    if scheme not in SCHEMES:
        raise ck.fail(f"{key}.scheme", f"{scheme!r} is not one of: {', '.join(SCHEMES)}")
    required, optional = SCHEMES[scheme]
    ck.keys(sig, key, ("scheme", "source", *required, *optional))
    if "source" not in sig:
        raise ck.fail(f"{key}.source", "missing: say where the vendor documents this signature")
    ck.string(sig["source"], f"{key}.source")
    for name in required:
        if name not in sig:
            raise ck.fail(f"{key}.{name}", f"missing (scheme {scheme!r} needs it)")
    for name in ("header", "field", "key_field", "json_field", "claim", "body_hash_query"):
        if name in sig:
            _name(ck, sig[name], f"{key}.{name}")
    if "methods" in sig:
        methods = ck.strings(sig["methods"], f"{key}.methods")
        if not methods:
            raise ck.fail(f"{key}.methods", "must list at least one method")
        for j, method in enumerate(methods):
            if method not in PARAMS_METHODS:
                raise ck.fail(
                    f"{key}.methods[{j}]", f"{method!r} is not one of: {', '.join(PARAMS_METHODS)}"
                )


def _name(ck: _Checker, value: object, key: str) -> str:
    name = ck.string(value, key)
    if not _NAME.match(name):
        raise ck.fail(key, f"{name!r} is not a header or field name")
    return name


def _path(ck: _Checker, text: str, key: str) -> None:
    if any(not seg.strip() or seg != seg.strip() for seg in text.split(".")):
        raise ck.fail(key, f"{text!r} is not a dotted path (empty or padded segment)")


def build(
    ck: _Checker, raw: Sequence[Mapping[str, Any]], products: Mapping[str, object]
) -> tuple[Callback, ...]:
    """Checked ``[[callbacks]]`` as values; an overlay's come first and replace the base's of
    the same id. Fails (file, key, reason) when one names a product the vendor lacks."""
    out: dict[str, Callback] = {}
    for i, spec in enumerate(raw):
        if spec["id"] in out:
            continue
        product = spec.get("product")
        if product is not None and product not in products:
            known = ", ".join(products) or "(none)"
            raise ck.fail(f"callbacks[{i}].product", f"no product {product!r} (products: {known})")
        out[spec["id"]] = Callback(
            id=spec["id"],
            name=spec.get("name", spec["id"]),
            product=product,
            content_types=tuple(spec["content_types"]),
            fields=tuple(tuple(p.split(".")) for p in spec["fields"]),
            values=tuple(
                (
                    tuple(path.split(".")),
                    re.compile("|".join(f"(?:{fnmatch.translate(g)})" for g in globs)),
                )
                for path, globs in spec.get("values", {}).items()
            ),
            query=spec.get("query", False),
            json_field=spec.get("json_field", ""),
            is_list=spec.get("list", False),
            signatures=tuple(
                Signature(
                    scheme=s["scheme"],
                    header=s.get("header", "").lower(),
                    field=s.get("field", ""),
                    key_field=s.get("key_field", ""),
                    json_field=s.get("json_field", ""),
                    methods=tuple(s.get("methods", ())),
                    claim=s.get("claim", ""),
                    body_hash_query=s.get("body_hash_query", ""),
                    source=s["source"],
                )
                for s in spec.get("signatures", ())
            ),
            source=spec["source"],
        )
    return tuple(out.values())
