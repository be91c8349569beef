"""The demo: real clients against the simulated vendor, every scenario as expected, redacted."""

from __future__ import annotations

import json

import pytest

from normalizer._cli import main

SECRETS = (
    "0123456789ABCDEF0123456789ABCDEF",
    "demo-api-key-123",
    "d3adb33fd3adb33f",
    "demo-onbuka-key",
    "5f4dcc3b5aa765d61d8327deb882cf99",
    "9f8e7d6c5b4a",
    "13800138000",
    "79161234567",
    "QUNDT1VOVFNJRDoy",
)


def test_demo_json_every_scenario_passes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--json"]) == 0
    out = capsys.readouterr().out
    data = json.loads(out)
    calls = data["calls"]
    assert {c["vendor"] for c in calls} == {
        "ucpaas",
        "mango",
        "onbuka",
        "airudder",
        "huawei_isales",
    }
    assert all(c["passed"] for c in calls)
    by_title = {c["scenario"].split(":")[0]: c for c in calls}
    assert by_title["outbound call"]["attempts"] == 2
    assert by_title["stats"]["matched"] == "class"
    events = [e["event"] for e in data["logs"]]
    assert "vendor_call_retrying" in events
    for secret in SECRETS:
        assert secret not in out, secret


def test_demo_table_for_one_vendor(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--vendor", "onbuka"]) == 0
    out = capsys.readouterr().out
    assert "onbuka/sms" in out
    assert "onbuka/ai_voice" in out
    assert "mango" not in out
    assert "structured log lines" in out


def test_demo_unknown_vendor(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--vendor", "nope"]) == 2
