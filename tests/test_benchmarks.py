"""The benchmark runs (tiny counts): it stays working. Timings are never asserted here."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


def test_benchmarks_quick_run() -> None:
    proc = subprocess.run(
        [sys.executable, str(BENCH / "run.py"), "--quick"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    for section in (
        "## 2.",
        "## 3a.",
        "## 3b.",
        "## 4.",
        "## 5.",
        "## 6.",
        "classify small error body",
    ):
        assert section in proc.stdout


def test_overload_benchmark_quick_run() -> None:
    proc = subprocess.run(
        [sys.executable, str(BENCH / "overload.py"), "--quick"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    for section in ("## 16 threads, back to back", "## open loop at 2 C", "static limiter"):
        assert section in proc.stdout
