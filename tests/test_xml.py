"""XML bodies read into the JSON-shaped tree, safely, in whatever encoding they declare."""

from __future__ import annotations

import encodings
import re
import sys

import pytest

from normalizer import _xml as xml_module
from normalizer._xml import MAX_DECLARATION, parse_xml, text_codec


def test_repeated_elements_become_one_list() -> None:
    doc = parse_xml(b"<r><a>1</a><a>2</a><a>3</a><a>4</a><b x='1'/></r>")
    assert doc == {"r": {"a": ["1", "2", "3", "4"], "b": {"x": "1"}}}


@pytest.mark.parametrize(
    "body",
    [
        '<?xml version="1.0" encoding="GBK"?><R><m>短信</m></R>'.encode("gbk"),
        "\ufeff<R><m>短信</m></R>".encode(),
        "<R><m>短信</m></R>".encode("utf-16"),
        '<?xml version="1.0" encoding="utf-8"?><R><m>短信</m></R>',
    ],
    ids=["declared GBK", "UTF-8 BOM", "UTF-16", "text"],
)
def test_encodings(body: bytes | str) -> None:
    assert parse_xml(body) == {"R": {"m": "短信"}}


@pytest.mark.parametrize(
    "body",
    [
        b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "x">]><r>&a;</r>',
        b'<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>',
        b"<r>&undeclared;</r>",
        b"<r>" * 100 + b"</r>" * 100,
        b"<html><body>502 Bad Gateway</body></html>",
        b'<?xml version="1.0" encoding="no-such-codec"?><r/>',
        b'{"json": 1}',
        b"",
    ],
    ids=["dtd", "external", "undeclared", "deep", "html", "codec", "json", "empty"],
)
def test_refused_or_not_xml_is_none(body: bytes) -> None:
    assert parse_xml(body) is None


def test_many_siblings_stay_flat_and_fast() -> None:
    doc = parse_xml(b"<r>" + b"<a>1</a>" * 99_000 + b"</r>")
    assert isinstance(doc, dict)
    assert len(doc["r"]["a"]) == 99_000


class Searches:
    """Stands in for the declaration's encoding pattern, noting how much text each search saw."""

    def __init__(self, pattern: re.Pattern[bytes]) -> None:
        self.pattern = pattern
        self.windows: list[int] = []

    def search(self, data: bytes, pos: int = 0, endpos: int = sys.maxsize) -> object:
        self.windows.append(min(endpos, len(data)) - pos)
        return self.pattern.search(data, pos, endpos)


@pytest.fixture
def searches(monkeypatch: pytest.MonkeyPatch) -> Searches:
    recorder = Searches(xml_module._ENCODING)
    monkeypatch.setattr(xml_module, "_ENCODING", recorder)
    return recorder


HOSTILE_DECLARATION = b"<?xml" + b" encoding='a'" * 20_000  # 260 KB, no '?>': 4 s before


def test_a_declaration_that_never_ends_costs_a_bounded_search(searches: Searches) -> None:
    # the pattern that read it backtracked once per "encoding=" over the rest of the body
    assert parse_xml(HOSTILE_DECLARATION) is None
    assert parse_xml(HOSTILE_DECLARATION + b"?><r/>") is None  # ends past where one may
    long = b"<?xml version='1.0' encoding='GBK'?><r>" + b"<a>1</a>" * 50_000 + b"</r>"
    assert parse_xml(long) is not None
    assert searches.windows
    assert max(searches.windows) <= MAX_DECLARATION


def test_a_declaration_ending_past_its_bound_is_refused() -> None:
    late = b'<?xml version="1.0"' + b" " * MAX_DECLARATION + b"?><r>1</r>"
    assert parse_xml(late) is None
    assert parse_xml(late.decode()) is None
    assert parse_xml(b'<?xml version="1.0"' + b" " * 900 + b"?><r>1</r>") == {"r": "1"}


NOT_DOCUMENT_CODECS = [
    "idna",  # raised UnicodeError from classify() and client.post()
    "punycode",
    "utf-7",
    "UTF7",
    "rot13",
    "base64",
    "hex",
    "zlib",
    "bz2",
    "uu",
    "quopri",
    "undefined",
    "unicode_escape",
    "raw-unicode-escape",
    "charmap",
    "mbcs",
    "oem",
    "palmos",
    "no-such-codec",
    "x" * 41,
]


@pytest.mark.parametrize("codec", NOT_DOCUMENT_CODECS)
def test_a_codec_that_is_no_document_encoding_reads_as_none(codec: str) -> None:
    body = f'<?xml version="1.0" encoding="{codec}"?><resp><respCode>0</respCode></resp>'
    assert text_codec(codec) is None
    assert parse_xml(body.encode()) is None


@pytest.mark.parametrize(
    ("declared", "codec", "text"),
    [
        ("GBK", "gbk", "短信"),
        ("GB18030", "gb18030", "短信"),
        ("big5", "big5", "簡訊"),
        ("Shift_JIS", "shift_jis", "メッセージ"),
        ("windows-1251", "cp1251", "Перегрузка"),
        ("KOI8-U", "koi8_u", "Перевантаження"),
        ("ISO-8859-1", "latin_1", "Überlastung"),
        ("cp874", "cp874", "ข้อความ"),
        ("utf-8", "utf_8", "短信"),
        ("UTF-8-SIG", "utf_8_sig", "短信"),
    ],
)
def test_standard_encodings_are_read(declared: str, codec: str, text: str) -> None:
    assert text_codec(declared) == codec
    body = f'<?xml version="1.0" encoding="{declared}"?><R><m>{text}</m></R>'
    assert parse_xml(body.encode(codec)) == {"R": {"m": text}}


def test_every_accepted_codec_is_a_text_encoding() -> None:
    for codec in xml_module._TEXT_CODECS:
        assert isinstance(b"<r/>".decode(codec, errors="replace"), str)  # bytes -> str, no error


def test_a_fresh_codec_name_per_body_never_grows_the_codec_cache() -> None:
    # codecs.lookup() caches every name it is asked about, known or not: a name per body
    # from a hostile vendor (or webhook caller) would grow it without end
    before = len(encodings._cache)
    for n in range(500):
        parse_xml(f'<?xml version="1.0" encoding="x-hostile-{n}"?><r/>'.encode())
    assert len(encodings._cache) == before
