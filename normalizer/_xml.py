"""XML bodies read into the same tree JSON gives, without the dangers of XML.

Some vendors (UCPaaS's REST API) answer in XML as well as JSON with the same content:
``<resp><respCode>000000</respCode></resp>`` becomes ``{"resp": {"respCode": "000000"}}``, so
the mapping's dotted paths work on both. An element with children becomes an object (a
repeated child becomes a list), a leaf its stripped text; attributes are kept as keys where no
child has that name.

The standard library's expat parser is used directly with every declaration refused: any
DOCTYPE, entity or external reference ends the parse (as defusedxml's ``forbid_dtd`` does),
so a billion-laughs or external-entity body cannot expand or reach anything; depth and element
count are capped. Whatever is refused or malformed reads as None, never an exception.
"""

from __future__ import annotations

import codecs
import re
from encodings.aliases import aliases
from typing import Any

MAX_DEPTH = 64
MAX_ELEMENTS = 100_000


class _Refused(Exception):
    pass


def _refuse(*_: object) -> Any:
    raise _Refused


def parse_xml(body: bytes | bytearray | memoryview | str) -> object:
    """The XML document as nested dicts, lists and strings; None for anything else."""
    data = _text(bytes(body) if isinstance(body, bytearray | memoryview) else body)
    if data is None or not data.lstrip().startswith("<"):
        return None
    from xml.parsers import expat  # here: most processes never meet an XML body

    parser = expat.ParserCreate()
    parser.StartDoctypeDeclHandler = _refuse
    parser.EntityDeclHandler = _refuse
    parser.UnparsedEntityDeclHandler = _refuse
    parser.ExternalEntityRefHandler = _refuse
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    # per open element: its tag, child values by tag, attributes, text pieces
    stack: list[tuple[str, dict[str, Any], dict[str, str], list[str]]] = [("", {}, {}, [])]
    count = 0

    def start(name: str, attrs: dict[str, str]) -> None:
        nonlocal count
        count += 1
        if len(stack) > MAX_DEPTH or count > MAX_ELEMENTS:
            raise _Refused
        stack.append((name, {}, attrs, []))

    def end(name: str) -> None:
        tag, children, attrs, text = stack.pop()
        value: object
        if children:
            value = {**{k: v for k, v in attrs.items() if k not in children}, **children}
        elif attrs and not "".join(text).strip():
            value = dict(attrs)
        else:
            value = "".join(text).strip()
        siblings = stack[-1][1]
        known = siblings.get(tag, _ABSENT)
        if known is _ABSENT:
            siblings[tag] = value
        elif isinstance(known, _Repeated):
            known.append(value)
        else:
            siblings[tag] = _Repeated((known, value))

    def chars(data: str) -> None:
        stack[-1][3].append(data)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    try:
        parser.Parse(data, True)
    except (_Refused, expat.ExpatError, ValueError, RecursionError):
        return None
    root = stack[0][1]
    if not root or any(tag.lower() == "html" for tag in root):
        return None  # an HTML page (a proxy's error page) is no vendor document
    return root


class _Repeated(list[object]):
    """A list made of repeated elements (not to be confused with a value that is a list)."""


_ABSENT = object()
_BOMS = (  # the longest first: a UTF-32 LE BOM begins like a UTF-16 LE one
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
MAX_DECLARATION = 1024
"""Characters an XML declaration may take (``<?xml version="1.0" encoding="GBK"?>`` takes 38):
only this much of a body is searched for its end, so a declaration that never ends costs a
fixed amount, not a scan of the body per ``encoding=`` it repeats."""
_ENCODING = re.compile(rb"""\sencoding\s*=\s*["']([^"']*)["']""")


def _text(data: bytes | str) -> str | None:
    """The document as text: by its BOM, else its declared encoding (a text encoding Python
    knows: expat alone knows few, see :func:`text_codec`), else UTF-8; the declaration is
    dropped, the text now being decoded. None when the declaration is unreadable."""
    if isinstance(data, str):
        text = data.lstrip("\ufeff")
    else:
        encoding: str | None = "utf-8"
        for bom, name in _BOMS:
            if data.startswith(bom):
                encoding, data = name, data[len(bom) :]
                break
        else:
            data = data.lstrip()
            if data.startswith(b"<?xml"):
                end = data.find(b"?>", 0, MAX_DECLARATION)
                if end < 0:
                    return None  # a declaration that does not end where one must
                declared = _ENCODING.search(data, 0, end)
                if declared is not None:
                    encoding = text_codec(declared.group(1).decode("latin-1"))
        if encoding is None:
            return None
        try:
            text = data.decode(encoding, errors="replace")
        except (LookupError, UnicodeError):  # a codec module this Python was built without
            return None
    text = text.lstrip()
    if text.startswith("<?xml"):
        end = text.find("?>", 0, MAX_DECLARATION)
        if end < 0:
            return None  # a declaration that does not end where one must: not a vendor's
        text = text[end + 2 :]
    return text


def text_codec(name: str) -> str | None:
    """The Python codec a body's declared encoding (or charset) names, if it is one to read a
    document with; None for anything else.

    Only the standard text encodings are accepted (those of the ``encodings`` package's alias
    table, plus the few without an alias), looked up under their canonical name: a vendor's
    name never reaches :func:`codecs.lookup`, whose cache keeps every name it is asked about,
    known or not (a fresh name per body would grow it without end). Refused, besides what is
    not a text encoding at all (base64, hex, zlib, rot13...): Python's own codecs, which read
    domain labels or escapes rather than documents (``idna`` even raises with
    ``errors="replace"``, ``punycode`` is quadratic) and the platform-dependent ``mbcs`` and
    ``oem``; and UTF-7, which the WHATWG encoding standard bans (browsers and expat do not read
    it) and in which ASCII bytes spell other characters (``+ADw-`` is ``<``): the caller's own
    parser would read another document than the one classified.
    """
    if not _CODEC_NAME.fullmatch(name):
        return None
    key = name.lower().replace("-", "_")
    codec = aliases.get(key) or aliases.get(key.replace(".", "_")) or key
    return codec if codec in _TEXT_CODECS else None


_CODEC_NAME = re.compile(r"[A-Za-z0-9._-]{1,40}")
_TEXT_CODECS = frozenset(aliases.values()).union(
    # standard encodings with no alias of their own (Python's "Standard Encodings" table)
    ("cp720", "cp737", "cp856", "cp874", "cp875", "cp1006", "koi8_t", "koi8_u", "utf_8_sig"),
    ("mac_arabic", "mac_croatian", "mac_farsi", "mac_romanian"),
) - {
    "base64_codec", "bz2_codec", "hex_codec", "quopri_codec", "rot_13", "uu_codec",
    "zlib_codec", "idna", "punycode", "raw_unicode_escape", "unicode_escape", "undefined",
    "charmap", "mbcs", "oem", "palmos", "utf_7",
}  # fmt: skip
