"""Review: the find()/count() long-number check against the old `in` one and a brute force."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from normalizer import _classify
from normalizer._classify import _DIGITS, _NEGATIVE_RUN, _QUOTED_RUN, _RUN, long_number

orjson = pytest.importorskip("orjson")


def old_long_number(body: bytes) -> bool:
    flat = body.translate(_DIGITS)
    if _NEGATIVE_RUN in flat:
        return True
    return _RUN in flat and flat.count(_RUN) != flat.count(_QUOTED_RUN)


def rounds(body: bytes) -> bool:
    """Brute force: orjson reads the body differently from the standard library."""
    try:
        fast = orjson.loads(body)
    except orjson.JSONDecodeError:
        return False
    try:
        slow = json.loads(body)
    except ValueError:
        return True

    def same(a: Any, b: Any) -> bool:
        if type(a) is not type(b):
            return False
        if isinstance(a, dict):
            return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
        if isinstance(a, list):
            return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
        if isinstance(a, float) and a != a:
            return bool(b != b)
        return bool(a == b)

    return not same(fast, slow)


chunks = st.one_of(
    st.sampled_from(
        [b"0", b"1", b"9", b"-", b'"', b" ", b"\\", b",", b":", b"[", b"]", b"{", b"}", b"e", b"."]
    ),
    st.integers(min_value=0, max_value=10**45).map(lambda n: str(n).encode()),
    st.integers(min_value=-(10**45), max_value=0).map(lambda n: str(n).encode()),
    st.integers(min_value=1, max_value=45).map(lambda n: b"7" * n),
    st.integers(min_value=1, max_value=45).map(lambda n: b'"' + b"7" * n + b'"'),
    st.integers(min_value=1, max_value=45).map(lambda n: b'"-' + b"7" * n + b'"'),
)
raw = st.lists(chunks, max_size=20).map(b"".join)

json_values = st.recursive(
    st.one_of(
        st.integers(min_value=-(10**45), max_value=10**45),
        st.integers(min_value=-(2**65), max_value=2**65),
        st.text(alphabet='0123456789-" a\\', max_size=50),
        st.integers(min_value=0, max_value=10**45).map(str),
        st.integers(min_value=-(10**45), max_value=0).map(str),
        st.none(),
        st.booleans(),
    ),
    lambda c: st.one_of(
        st.lists(c, max_size=5),
        st.dictionaries(st.text(alphabet='0123456789-"', max_size=25), c, max_size=5),
    ),
    max_leaves=20,
)
documents = json_values.map(lambda v: json.dumps(v, separators=(",", ":")).encode())


@settings(max_examples=3000, deadline=None)
@given(st.one_of(raw, documents))
def test_new_equals_old(body: bytes) -> None:
    assert long_number(body) == old_long_number(body)


@settings(max_examples=3000, deadline=None)
@given(documents)
def test_no_silent_rounding(body: bytes) -> None:
    if rounds(body):
        assert long_number(body), body


@settings(max_examples=2000, deadline=None)
@given(st.one_of(raw, documents))
def test_generated_parse_agrees(body: bytes) -> None:
    # the inline copy in _PARSE: the same expression as long_number()
    src = "\n".join(_classify._PARSE)
    m = re.search(r"if (flat\.find\(SHORT_RUN\).*?\)\n    \)):", src, re.S)
    assert m is not None
    expr = m.group(1)
    env = {
        "flat": body.translate(_DIGITS),
        "SHORT_RUN": _classify._SHORT_RUN,
        "NEGATIVE_RUN": _NEGATIVE_RUN,
        "RUN": _RUN,
        "QUOTED_RUN": _QUOTED_RUN,
    }
    assert eval(expr, env) == long_number(body)


@pytest.mark.parametrize(
    "body",
    [
        b"-1234567890123456789",
        b"[-9223372036854775809]",
        b"18446744073709551616",
        b'{"a":"12345678901234567890"}',
        b'{"a":"1234567890123456789012345678901234567890"}',
        b'{"a":"12345678901234567890","b":12345678901234567890}',
        b'["12345678901234567890"12345678901234567890]',
        b'{"a":"x -1234567890123456789"}',
        b'"\\"12345678901234567890"',
    ],
)
def test_cases(body: bytes) -> None:
    assert long_number(body) == old_long_number(body)
    if rounds(body):
        assert long_number(body)
