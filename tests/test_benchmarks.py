"""Every benchmark script runs (tiny counts, ``--quick``): it stays working. Timings are never
asserted here; each test checks the sections or rows its script prints."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


def quick(script: str, *args: str) -> str:
    """``benchmarks/<script> [args] --quick``: what it printed (it must exit 0)."""
    proc = subprocess.run(
        [sys.executable, str(BENCH / script), *args, "--quick"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_benchmarks_quick_run() -> None:
    out = quick("run.py")
    for section in (
        "## 2.",
        "## 3a.",
        "## 3b.",
        "## 4.",
        "## 5.",
        "## 6.",
        "classify small error body",
    ):
        assert section in out


def test_overload_benchmark_quick_run() -> None:
    out = quick("overload.py")
    for section in ("## 16 threads, back to back", "## open loop at 2 C", "static limiter"):
        assert section in out


def test_the_classification_table_runs() -> None:
    out = quick("classify.py", "classify")
    for row in ("Onbuka success", "MANGO error", "Tencent report, 1,000 items", "Infobip report"):
        assert row in out


def test_the_aiohttp_middleware_benchmark_runs() -> None:
    out = quick("aiohttp_middleware.py")
    assert "NormalizingMiddleware" in out
    assert "opcodes per call" in out


def test_the_requests_adapter_benchmark_runs() -> None:
    out = quick("requests_adapter.py")
    assert "Session + NormalizingAdapter, quiet logger" in out
    assert "hand-written: requests + tenacity + JSON check" in out


def test_the_failover_benchmark_runs() -> None:
    assert quick("bench_failover.py").count("no move") == 4  # both shapes, wall and CPU time
