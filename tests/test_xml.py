"""XML bodies read into the JSON-shaped tree, safely, in whatever encoding they declare."""

from __future__ import annotations

import pytest

from normalizer._xml import parse_xml


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
