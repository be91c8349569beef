"""Hostile vendor bodies cost time linear in their size: each shape at n and 4n bytes.

Run: ``.venv/bin/python benchmarks/hostile.py`` (``--quick`` for a smoke run at small sizes).
Linear work costs about 4x for 4x the input, quadratic 16x; a shape whose ratio passes 8 is
reported and the run exits 1. CPU time (``time.process_time``), best of three; the suite never
asserts on it (tests/test_xml.py, test_body.py and test_classify.py check the bounds
structurally), this is the measurement behind them.
"""

from __future__ import annotations

import gzip
import json
import sys
import time
from collections.abc import Callable

import normalizer
from normalizer._inflate import inflate

LIMIT = 1 << 20
FIRST_MEMBER = gzip.compress(json.dumps({"result": 1000}).encode())
Shape = tuple[str, Callable[[bytes], object], Callable[[int], bytes]]


def repeat(unit: bytes) -> Callable[[int], bytes]:
    return lambda n: unit * (n // len(unit))


def xml(body: bytes) -> object:
    return normalizer.classify("ucpaas", body, max_body_size=len(body))


def mango(body: bytes) -> object:
    return normalizer.classify("mango", body, max_body_size=len(body))


SHAPES: list[Shape] = [
    ("xml declaration repeating encoding=", xml, lambda n: b"<?xml" + repeat(b" encoding='a'")(n)),
    ("xml declaration of blanks, no end", xml, lambda n: b"<?xml" + repeat(b" ")(n)),
    ("xml many attributes", xml, lambda n: b"<r " + repeat(b'a="1" ')(n) + b"/>"),
    ("xml many siblings", xml, lambda n: b"<r>" + repeat(b"<a>1</a>")(n) + b"</r>"),
    ("xml character references", xml, lambda n: b"<r><a>" + repeat(b"&#65;")(n) + b"</a></r>"),
    ("xml unterminated processing instr.", xml, lambda n: b"<r><?a" + repeat(b" ?")(n)),
    ("json digits for the long-int check", mango, repeat(b"123456789012345678a")),
    ("json many keys", mango, lambda n: b"{" + repeat(b'"k":1,')(n) + b'"k":1}'),
    ("json long code", mango, lambda n: b'{"result": "' + repeat(b"9")(n) + b'"}'),
    (
        "gzip of many tiny members",
        lambda raw: inflate(raw, "gzip", LIMIT),
        lambda n: (
            gzip.compress(json.dumps({"result": 1000}).encode()) + repeat(gzip.compress(b""))(n)
        ),
    ),
    (
        "content-encoding listing many codings",
        lambda header: inflate(b"", header.decode(), LIMIT),
        repeat(b"gzip, "),
    ),
]


def cost(fn: Callable[[bytes], object], body: bytes) -> float:
    best = float("inf")
    for _ in range(3):
        start = time.process_time()
        fn(body)
        best = min(best, time.process_time() - start)
    return best


def main(argv: list[str]) -> int:
    size = 16 * 1024 if "--quick" in argv else 256 * 1024
    worst = 0.0
    print(f"{'shape':40} {'n s':>9} {'4n s':>9} ratio (n = {size // 1024} KB)")
    for name, fn, make in SHAPES:
        small, large = cost(fn, make(size)), cost(fn, make(4 * size))
        ratio = large / max(small, 1e-4)  # under 0.1 ms the ratio is noise
        worst = max(worst, ratio)
        flag = "  <- superlinear" if ratio > 8 else ""
        print(f"{name:40} {small:9.4f} {large:9.4f} {ratio:5.1f}{flag}")
    return 1 if worst > 8 and "--quick" not in argv else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
