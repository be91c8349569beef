"""Cost of lookup() and classify() per call, against a hand-written check in the same run.

Run: ``.venv/bin/python benchmarks/bench_classify.py`` (add ``--quick`` for a smoke run).
The baseline is what users write today: ``json.loads(body)`` and ``body["code"] != 0``.
``benchmarks/classify.py`` measures classification against the speed of parsing (orjson, the
walk to the code, one dict lookup) with bodies that change every call, import and first use.
"""

from __future__ import annotations

import json
import sys
import timeit
from collections.abc import Callable

import normalizer
from normalizer import _classify

SMALL_OK = b'{"resp": {"respCode": "000000", "callId": "abc"}}'
SMALL_ERR = b'{"status": "Error", "code": 10403, "message": "Task name already exists."}'
MANGO_CLASS = b'{"result": 2219}'
ONBUKA_SMS = b'{"status": "-15", "reason": "Query too frequently"}'
ONBUKA_URL = "https://api.onbuka.com/v3/sendSms"


def baseline() -> object:
    body = json.loads(SMALL_ERR)
    return body["code"] != 0 and body.get("message")


CASES: list[tuple[str, Callable[[], object]]] = [
    ("baseline: json.loads + code check", baseline),
    ("lookup ucpaas 107225", lambda: normalizer.lookup("ucpaas", "107225")),
    ("lookup mango 2219 (class fallback)", lambda: normalizer.lookup("mango", 2219)),
    ("classify small success body", lambda: normalizer.classify("ucpaas", SMALL_OK)),
    ("classify small error body", lambda: normalizer.classify("airudder", SMALL_ERR)),
    ("classify mango class fallback", lambda: normalizer.classify("mango", MANGO_CLASS)),
    (
        "classify onbuka, product by URL",
        lambda: normalizer.classify("onbuka", ONBUKA_SMS, url=ONBUKA_URL),
    ),
]


def measure(quick: bool) -> list[tuple[str, float, float]]:
    """(case, seconds per call, ratio to the baseline) for every case, best of a few runs."""
    number = 1_000 if quick else 100_000
    repeat = 2 if quick else 5
    for _, fn in CASES:  # warm up: load the mappings once
        fn()
    rows = []
    base = 0.0
    for name, fn in CASES:
        best = min(timeit.repeat(fn, number=number, repeat=repeat)) / number
        base = base or best
        rows.append((name, best, best / base))
    return rows


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    parsers = ["orjson", "json"] if _classify.fast_loads is not None else ["json"]
    fast = _classify.fast_loads
    for parser in parsers:
        _classify.fast_loads = fast if parser == "orjson" else None
        print(f"\nclassify's parser: {parser}")
        print(f"{'case':<40} {'per call':>10} {'x baseline':>11}")
        for name, seconds, ratio in measure(quick):
            print(f"{name:<40} {seconds * 1e6:>8.2f}us {ratio:>10.2f}x")
    _classify.fast_loads = fast
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
