"""benchmarks/classify.py runs (a smoke run of its classification table): it stays working.
Timings are never asserted here."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "classify.py"


def test_the_classification_table_runs() -> None:
    proc = subprocess.run(
        [sys.executable, str(BENCH), "classify", "--quick"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    for row in ("Onbuka success", "MANGO error", "Tencent report, 1,000 items", "Infobip report"):
        assert row in proc.stdout
