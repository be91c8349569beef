"""The held-out corpus of real responses (tests/corpus/real) and its measure (issue 31).

The corpus is read by ``benchmarks/accuracy.py``; these tests keep every record well formed and
sourced, keep the holdout clean of material a mapping already cites, make sure reading the whole
corpus never crashes, and check the issue's floors on the holdout (95% right with the vendor named,
90% auto-detected).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _accuracy() -> ModuleType:
    name = "benchmarks_accuracy"
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / "accuracy.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


accuracy = _accuracy()
RECORDS: list[dict[str, Any]] = accuracy.load()


def test_the_corpus_is_not_empty_and_covers_the_newer_vendors() -> None:
    vendors = Counter(r["vendor"] for r in RECORDS)
    assert len(RECORDS) >= 150
    for vendor in ("twilio", "vonage", "infobip", "telnyx", "tencent_sms", "aliyun_sms", "sms_ru"):
        assert vendors[vendor] >= 1, vendor


@pytest.mark.parametrize("record", RECORDS, ids=lambda r: str(r.get("id")))
def test_every_record_is_well_formed_and_sourced(record: dict[str, Any]) -> None:
    assert accuracy.problems(record) == []
    assert record["id"].startswith(record["vendor"] + "-")
    assert (ROOT / "mappings" / f"{record['vendor']}.toml").is_file()


def test_ids_are_unique_and_files_hold_their_vendor_only() -> None:
    ids = [r["id"] for r in RECORDS]
    assert len(ids) == len(set(ids))
    for path in (ROOT / "tests" / "corpus" / "real").glob("*.jsonl"):
        lines = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line]
        assert {r["vendor"] for r in lines} == {path.stem}


def test_the_split_is_the_hash_rule_and_cited_sources_stay_in_dev() -> None:
    # the rule of tests/corpus/real/README.md, fixed before any reading was looked at
    for r in RECORDS:
        source = r["source"]
        key = "|".join(
            [
                r["vendor"],
                source.get("repo") or source["url"],
                source.get("path", ""),
                r["method"],
                r["url"] or "",
                str(r["status"]),
                r["body"],
            ]
        )
        odd = hashlib.sha256(key.encode()).digest()[0] % 2 == 1
        expected = "holdout" if odd and not r.get("cited_by_mapping") else "dev"
        assert r["split"] == expected, r["id"]
    assert any(r["split"] == "holdout" for r in RECORDS)


def test_problems_catches_a_record_without_a_source() -> None:
    record = dict(RECORDS[0], source={"repo": "someone/something"})
    assert any("source" in problem for problem in accuracy.problems(record))
    record = dict(RECORDS[0], expected={"category": "fine", "retryable": False})
    assert any("category" in problem for problem in accuracy.problems(record))


def test_the_whole_corpus_is_read_both_ways_without_crashing() -> None:
    report = accuracy.measure(RECORDS)
    named, auto = report.named["both", "all"], report.auto["both", "all"]
    assert named.total == len(RECORDS)
    webhooks = sum(1 for r in RECORDS if r.get("direction") == "webhook")
    assert auto.total == len(RECORDS) - webhooks
    # every miss says why, so that mapping fixes can be directed
    assert all(reading.cause for _record, reading in named.misses + auto.misses)


def test_the_benchmark_script_prints_its_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert accuracy.main(["--split", "holdout"]) == 0
    out = capsys.readouterr().out
    for heading in ("holdout named", "holdout auto", "seed vendors", "newer vendors", "all"):
        assert heading in out


def test_the_holdout_meets_the_floors() -> None:
    report = accuracy.measure(RECORDS, splits=("holdout",))
    named, auto = report.named["holdout", "all"], report.auto["holdout", "all"]
    assert named.share >= accuracy.FLOOR_NAMED, named.text()
    assert auto.share >= accuracy.FLOOR_AUTO, auto.text()
