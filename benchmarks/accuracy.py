"""How often the mappings read real vendor responses right (issue 31's measure).

The corpus is ``tests/corpus/real/<vendor>.jsonl``: responses found in public code nobody on this
team wrote (vendor SDK fixtures, other people's clients and cassettes, vendor doc examples), each
with the reading its vendor's own documentation gives (category and retryable). Every record is
read twice:

* **named**: ``normalizer.classify(vendor, body, status_code=..., url=..., headers=...)``, the
  vendor given by the caller (the URL still selects the product);
* **auto-detected**: a ``normalizer.Client`` with no vendor sends the record's request to an
  ``httpx.MockTransport`` that answers with the recorded response, so the vendor and product come
  from the URL alone, exactly as in an application. Webhooks (``direction = "webhook"``: a
  vendor posting to the application's own URL) are read named only.

A reading is right when its category is the documented one and, for a failure, its
``retryable`` agrees too. Misses are grouped by cause so that mapping fixes can be directed.

    .venv/bin/python benchmarks/accuracy.py                  # both splits, per vendor, misses
    .venv/bin/python benchmarks/accuracy.py --split holdout  # the final figure only
    .venv/bin/python benchmarks/accuracy.py --no-misses --json

``split = "dev"`` records may be used to fix mappings; ``split = "holdout"`` records (chosen by a
hash of source, request and body when the corpus was built, and never from a source a mapping
cites) give the figure the issue's floors are checked against.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

import normalizer
from normalizer import Outcome, outcome_of

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "corpus" / "real"
SEED = ("ucpaas", "huawei_isales", "mango", "airudder", "onbuka")
NEWER = (
    "twilio",
    "vonage",
    "infobip",
    "telnyx",
    "tencent_sms",
    "aliyun_sms",
    "sms_ru",
    "yuntongxun",
)
CATEGORIES = {"ok", "auth", "validation", "billing", "busy", "not_found", "server", "unknown"}
FLOOR_NAMED = 0.95
FLOOR_AUTO = 0.90


def load(corpus: Path = CORPUS) -> list[dict[str, Any]]:
    """Every record of every ``*.jsonl`` file in ``corpus``, in file order."""
    records: list[dict[str, Any]] = []
    for path in sorted(corpus.glob("*.jsonl")):
        with path.open(encoding="utf-8") as fh:
            records.extend(json.loads(line) for line in fh if line.strip())
    return records


def problems(record: dict[str, Any]) -> list[str]:
    """What makes a record malformed (empty when it is well formed)."""
    found: list[str] = []
    for key in ("id", "vendor", "method", "url", "status", "body", "expected", "source", "split"):
        if key not in record:
            found.append(f"missing {key}")
    if found:
        return found
    expected = record["expected"]
    if expected.get("category") not in CATEGORIES:
        found.append(f"expected category {expected.get('category')!r}")
    if not isinstance(expected.get("retryable"), bool):
        found.append("expected retryable is not a bool")
    if not record.get("expected_from"):
        found.append("no documentation named for the expected reading")
    source = record["source"]
    if not (
        source.get("url") or (source.get("repo") and source.get("path") and source.get("commit"))
    ):
        found.append("source names neither a page nor a repository, path and commit")
    if record.get("direction", "response") not in ("response", "webhook"):
        found.append(f"direction {record['direction']!r}")
    if record["split"] not in ("dev", "holdout"):
        found.append(f"split {record['split']!r}")
    if record["split"] == "holdout" and record.get("cited_by_mapping"):
        found.append("a source the mapping cites is in the holdout")
    if not isinstance(record["status"], int) or not 100 <= record["status"] <= 599:
        found.append(f"status {record['status']!r}")
    if not isinstance(record["body"], str):
        found.append("body is not text")
    if record["url"] is None:
        if record.get("direction") != "webhook":
            found.append("only a webhook may come without a URL")
    elif not str(record["url"]).startswith(("https://", "http://")):
        found.append("url is not absolute")
    if "product" in record and record.get("direction") != "webhook":
        found.append("only a webhook names its product (a response's comes from its URL)")
    return found


@dataclass
class Reading:
    """One way of reading one record: right or not, and why not."""

    right: bool
    cause: str = ""
    outcome: Outcome | None = None


def _judge(record: dict[str, Any], outcome: Outcome | None) -> Reading:
    expected = record["expected"]
    if outcome is None:
        return Reading(False, "not detected: no vendor claims this URL")
    if outcome.vendor != record["vendor"]:
        return Reading(False, f"detected as another vendor ({outcome.vendor})", outcome)
    got = outcome.category.value
    if got == expected["category"] and (got == "ok" or outcome.retryable == expected["retryable"]):
        return Reading(True, outcome=outcome)
    if got == "unknown":
        return Reading(
            False, f"unknown ({outcome.matched}): documented {expected['category']}", outcome
        )
    if got != expected["category"]:
        return Reading(False, f"read {got}, documented {expected['category']}", outcome)
    return Reading(
        False,
        f"{got} but retryable={outcome.retryable}, documented {expected['retryable']}",
        outcome,
    )


def read_named(record: dict[str, Any]) -> Reading:
    """The vendor given by the caller; the URL (and headers) still select the product. A
    webhook names its product, as an application receiving it would."""
    outcome = normalizer.classify(
        record["vendor"],
        record["body"].encode("utf-8"),
        status_code=record["status"],
        url=record["url"],
        product=record.get("product"),
        headers={k.lower(): v for k, v in (record.get("request_headers") or {}).items()},
    )
    return _judge(record, outcome)


def read_auto(record: dict[str, Any]) -> Reading:
    """The vendor detected from the request alone, through a client, as an application sees it."""
    content = record["body"].encode("utf-8")
    headers = {"content-type": record.get("content_type") or "application/json"}

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(record["status"], headers=headers, content=content)

    with normalizer.Client(
        transport=httpx.MockTransport(answer),
        retry=normalizer.RetryPolicy(max_attempts=1),
        limiter=None,
        state=normalizer.LocalState(),
    ) as client:
        response = client.request(
            record["method"], record["url"], headers=record.get("request_headers") or None
        )
        return _judge(record, outcome_of(response))


@dataclass
class Tally:
    """Right answers out of records read, with the misses."""

    right: int = 0
    total: int = 0
    misses: list[tuple[dict[str, Any], Reading]] = field(default_factory=list)

    def add(self, record: dict[str, Any], reading: Reading) -> None:
        self.total += 1
        if reading.right:
            self.right += 1
        else:
            self.misses.append((record, reading))

    @property
    def share(self) -> float:
        return self.right / self.total if self.total else 0.0

    def text(self) -> str:
        return f"{100 * self.share:5.1f}% ({self.right}/{self.total})" if self.total else "    -"


@dataclass
class Report:
    """Named and auto-detected tallies per (split, vendor-or-group)."""

    named: dict[tuple[str, str], Tally] = field(default_factory=lambda: defaultdict(Tally))
    auto: dict[tuple[str, str], Tally] = field(default_factory=lambda: defaultdict(Tally))


def _groups(vendor: str) -> Iterator[str]:
    yield vendor
    yield "seed vendors" if vendor in SEED else "newer vendors"
    yield "all"


def measure(
    records: Iterable[dict[str, Any]], splits: tuple[str, ...] = ("dev", "holdout")
) -> Report:
    """Read every record of the given splits both ways."""
    report = Report()
    for record in records:
        if record["split"] not in splits:
            continue
        named = read_named(record)
        # a webhook is posted to the application's own URL: no vendor can be detected from it
        auto = None if record.get("direction") == "webhook" else read_auto(record)
        for split in (record["split"], "both"):
            for group in _groups(record["vendor"]):
                report.named[split, group].add(record, named)
                if auto is not None:
                    report.auto[split, group].add(record, auto)
    return report


def _print_table(report: Report, splits: list[str], vendors: list[str]) -> None:
    rows = [*vendors, "seed vendors", "newer vendors", "all"]
    header = f"{'':16}" + "".join(f"{s + ' named':>22}{s + ' auto':>22}" for s in splits)
    print(header)
    for row in rows:
        cells = "".join(
            f"{report.named[s, row].text():>22}{report.auto[s, row].text():>22}" for s in splits
        )
        print(f"{row:16}{cells}")


def _print_misses(report: Report, split: str) -> None:
    for label, tallies in (("named", report.named), ("auto-detected", report.auto)):
        tally = tallies[split, "all"]
        if not tally.misses:
            continue
        print(f"\nmisses ({split}, {label}): {len(tally.misses)}")
        by_cause: dict[str, list[str]] = defaultdict(list)
        for record, reading in tally.misses:
            cause = (
                reading.cause.split(":")[0]
                if reading.cause.startswith("unknown")
                else reading.cause
            )
            code = (
                f" code {reading.outcome.code}" if reading.outcome and reading.outcome.code else ""
            )
            by_cause[cause].append(f"{record['id']}{code}")
        for cause, ids in sorted(by_cause.items(), key=lambda kv: -len(kv[1])):
            print(f"  {len(ids):3}  {cause}: {', '.join(ids)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="How often the mappings read real responses right."
    )
    parser.add_argument("--split", choices=["dev", "holdout", "both"], default=None)
    parser.add_argument("--no-misses", action="store_true", help="print the figures only")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    args = parser.parse_args(argv)
    logging.getLogger("normalizer").setLevel(logging.CRITICAL)  # the figures, not the call log
    records = load(args.corpus)
    bad = {r.get("id", "?"): p for r in records if (p := problems(r))}
    if bad:
        print(f"malformed records: {bad}", file=sys.stderr)
        return 2
    splits = ["dev", "holdout", "both"] if args.split is None else [args.split]
    report = measure(records)
    vendors = [v for v in (*SEED, *NEWER) if any(r["vendor"] == v for r in records)]
    if args.json:
        figures = {
            f"{split}/{row}": {
                "named": report.named[split, row].share,
                "auto": report.auto[split, row].share,
                "records": report.named[split, row].total,
            }
            for split in splits
            for row in [*vendors, "seed vendors", "newer vendors", "all"]
        }
        print(json.dumps(figures, indent=2))
        return 0
    counts = Counter(r["vendor"] for r in records)
    print("records per vendor: " + ", ".join(f"{v} {counts[v]}" for v in vendors))
    _print_table(report, splits, vendors)
    if not args.no_misses:
        for split in splits:
            _print_misses(report, split)
    return 0


if __name__ == "__main__":
    sys.exit(main())
