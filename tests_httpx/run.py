"""Run httpx's own test suite bare and with normalizer substituted; fail on what normalizer breaks.

    .venv/bin/python tests_httpx/run.py [--mode detect] [--mode fixed] [-- <pytest args>]

1. Downloads the source distribution of the httpx *installed* here (``pip download``, PyPI only)
   into ``.cache/httpx-suite/`` and extracts its ``tests/`` (and the pytest settings of its
   ``pyproject.toml``).
2. Makes ``.cache/httpx-suite/venv``: a venv that sees everything in the project's venv (httpx,
   normalizer, ...) plus what httpx's tests need on top (``tests_httpx/requirements.txt``), so
   the project's own venv is never changed.
3. Runs the suite (``-m "not network"``) once per mode through ``normalizer_httpx_plugin``:
   ``bare`` (httpx's clients), ``detect`` (``normalizer.Client``) and ``fixed``
   (``functools.partial(normalizer.Client, "ucpaas")``).
4. Compares the outcome of every test. A test that passes bare and fails (or is missing) in a
   substituted mode is a regression; it is run again once in that mode, and one that passes
   then is reported as flaky and not counted. Regressions listed in
   ``tests_httpx/known_differences.txt`` are allowed.

Exit status: 0 when no regression is left, 1 when some are, 2 when the suite could not be set
up or run. Everything it writes is under ``.cache/httpx-suite/`` (gitignored).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CACHE = ROOT / ".cache" / "httpx-suite"
VENV = CACHE / "venv"
REQUIREMENTS = HERE / "requirements.txt"
ALLOWLIST = HERE / "known_differences.txt"
PLUGIN = "normalizer_httpx_plugin"
MODES = ("bare", "detect", "fixed")
SUBSTITUTED = ("detect", "fixed")
RUN_TIMEOUT = 600  # seconds for one run of the suite; a run takes about 15


class SetupError(Exception):
    pass


def log(message: str) -> None:
    print(f"[httpx-suite] {message}", flush=True)


def pip(python: Path | str, *args: str) -> None:
    cmd = [str(python), "-m", "pip", "--disable-pip-version-check", "-q", *args]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SetupError(f"{' '.join(cmd)} failed:\n{done.stdout}{done.stderr}")


def fetch_suite(version: str) -> Path:
    """httpx's tests for ``version``, extracted from its sdist (downloaded once)."""
    suite = CACHE / f"httpx-{version}"
    if (suite / "tests" / "conftest.py").is_file():
        return suite
    CACHE.mkdir(parents=True, exist_ok=True)
    sdist = CACHE / f"httpx-{version}.tar.gz"
    if not sdist.is_file():
        log(f"downloading the httpx {version} sdist")
        pip(sys.executable, "download", "--no-deps", "--no-binary", ":all:",
            f"httpx=={version}", "-d", str(CACHE))  # fmt: skip
    if not sdist.is_file():
        raise SetupError(f"pip download did not produce {sdist}")
    top = f"httpx-{version}/"
    with tempfile.TemporaryDirectory(dir=CACHE) as tmp, tarfile.open(sdist) as tar:
        members = [
            m
            for m in tar.getmembers()
            if m.name.startswith(top + "tests/") or m.name == top + "pyproject.toml"
        ]
        tar.extractall(tmp, members=members, filter="data")
        shutil.rmtree(suite, ignore_errors=True)
        Path(tmp, top).rename(suite)
    return suite


def venv_python() -> Path:
    """A venv for the suite: the project venv's packages plus the suite's requirements."""
    project_site = sysconfig.get_paths()["purelib"]
    stamp_text = f"{sys.executable}\n{project_site}\n{REQUIREMENTS.read_text()}"
    python = VENV / "bin" / "python"
    stamp = VENV / "normalizer-suite.stamp"
    if python.exists() and stamp.is_file() and stamp.read_text() == stamp_text:
        return python
    log("making the suite's venv (the project venv's packages + tests_httpx/requirements.txt)")
    shutil.rmtree(VENV, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    # the project's venv after this one's own packages (addsitedir also runs its .pth files,
    # so the editable normalizer is found)
    Path(site, "_normalizer_project.pth").write_text(
        f"import site; site.addsitedir({project_site!r})\n"
    )
    pip(python, "install", "-r", str(REQUIREMENTS))
    stamp.write_text(stamp_text)
    return python


def run_suite(
    python: Path, suite: Path, mode: str, extra: list[str], nodeids: list[str] | None = None
) -> dict[str, dict[str, str]]:
    """One run of the suite in ``mode``: {node id: {"outcome", "message"}}."""
    tag = mode if nodeids is None else f"{mode}-rerun"
    report = suite / f"results-{tag}.json"
    output = suite / f"output-{tag}.txt"
    report.unlink(missing_ok=True)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(HERE), env.get("PYTHONPATH")]))
    env["NORMALIZER_HTTPX_MODE"] = mode
    env["NORMALIZER_HTTPX_REPORT"] = str(report)
    cmd = [str(python), "-m", "pytest", "-p", PLUGIN, "-p", "no:cacheprovider", "-q",
           "-m", "not network", "--rootdir", str(suite), *extra, *(nodeids or [])]  # fmt: skip
    started = time.monotonic()
    with output.open("w") as out:
        try:
            done = subprocess.run(cmd, cwd=suite, env=env, stdout=out, stderr=subprocess.STDOUT,
                                  timeout=RUN_TIMEOUT, check=False)  # fmt: skip
        except subprocess.TimeoutExpired as exc:
            raise SetupError(f"{tag}: no result after {RUN_TIMEOUT}s (see {output})") from exc
    lines = output.read_text(errors="replace").strip().splitlines()
    last = lines[-1] if lines else ""
    log(
        f"{tag:>12}: {last.strip('= ')} ({time.monotonic() - started:.1f}s, exit {done.returncode})"
    )
    if not report.is_file():
        raise SetupError(f"{tag}: pytest wrote no results (exit {done.returncode}; see {output})")
    tests: dict[str, dict[str, str]] = json.loads(report.read_text())["tests"]
    return tests


def load_allowlist() -> dict[str, tuple[set[str], str]]:
    """{node id: (modes, reason)} from known_differences.txt."""
    allowed: dict[str, tuple[set[str], str]] = {}
    for number, raw in enumerate(ALLOWLIST.read_text().splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        fields = [f.strip() for f in line.split(" | ")]
        modes = set(SUBSTITUTED)
        if len(fields) == 3:
            modes = {m.strip() for m in fields[1].split(",")}
        if len(fields) not in (2, 3) or not fields[0] or not fields[-1] or modes - set(SUBSTITUTED):
            raise SetupError(f"{ALLOWLIST.name}:{number}: expected '<node id> | [modes |] reason'")
        allowed[fields[0]] = (modes, fields[-1])
    return allowed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--mode", action="append", choices=SUBSTITUTED,
                        help="a substituted mode to run (default: both)")  # fmt: skip
    parser.add_argument("pytest_args", nargs="*", help="after --: passed on to every pytest run")
    args = parser.parse_args(argv)
    modes = args.mode or list(SUBSTITUTED)
    started = time.monotonic()
    try:
        version = importlib.metadata.version("httpx")
        log(f"httpx {version} (installed in {sys.prefix})")
        suite = fetch_suite(version)
        python = venv_python()
        allowed = load_allowlist()
        bare = run_suite(python, suite, "bare", args.pytest_args)
        if not any(v["outcome"] == "passed" for v in bare.values()):
            raise SetupError("no test passed bare: the suite itself is broken here")
        results = {mode: run_suite(python, suite, mode, args.pytest_args) for mode in modes}
        regressions: dict[str, dict[str, str]] = {}  # mode -> {node id: message}
        flaky: dict[str, list[str]] = {}
        for mode, tests in results.items():
            broken = {
                nodeid: tests.get(nodeid, {"message": "missing (not collected or not run)"})[
                    "message"
                ]
                for nodeid, bare_result in bare.items()
                if bare_result["outcome"] == "passed"
                and tests.get(nodeid, {}).get("outcome") != "passed"
            }
            for nodeid, result in tests.items():  # collection errors have no bare twin
                if nodeid not in bare and result["outcome"] == "failed":
                    broken[nodeid] = result["message"]
            if broken:
                again = run_suite(python, suite, mode, args.pytest_args, sorted(broken))
                flaky[mode] = [n for n in broken if again.get(n, {}).get("outcome") == "passed"]
                broken = {n: m for n, m in broken.items() if n not in flaky[mode]}
            regressions[mode] = broken
    except SetupError as exc:
        log(f"ERROR: {exc}")
        return 2

    def count(tests: dict[str, dict[str, str]], outcome: str) -> int:
        return sum(1 for v in tests.values() if v["outcome"] == outcome)

    print()
    header = (
        f"{'mode':<8} {'passed':>7} {'failed':>7} {'skipped':>8} {'regressed':>10} {'allowed':>8}"
    )
    print(header)
    print("-" * len(header))
    print(f"{'bare':<8} {count(bare, 'passed'):>7} {count(bare, 'failed'):>7} "
          f"{count(bare, 'skipped'):>8} {'-':>10} {'-':>8}")  # fmt: skip
    unexpected = 0
    for mode in modes:
        tests = results[mode]
        ok = [n for n in regressions[mode] if mode in allowed.get(n, (set(), ""))[0]]
        bad = len(regressions[mode]) - len(ok)
        unexpected += bad
        print(f"{mode:<8} {count(tests, 'passed'):>7} {count(tests, 'failed'):>7} "
              f"{count(tests, 'skipped'):>8} {bad:>10} {len(ok):>8}")  # fmt: skip
    print()
    for mode in modes:
        for nodeid, message in sorted(regressions[mode].items()):
            mark = "allowed" if mode in allowed.get(nodeid, (set(), ""))[0] else "REGRESSION"
            print(f"{mark} [{mode}] {nodeid}\n    {message}")
        for nodeid in flaky.get(mode, []):
            print(f"flaky [{mode}] {nodeid} (failed once, passed when run again)")
    for nodeid, (allowed_modes, _) in sorted(allowed.items()):
        if not any(nodeid in regressions[m] for m in allowed_modes if m in regressions):
            print(f"note: {ALLOWLIST.name} lists {nodeid}, which did not regress")
    elapsed = time.monotonic() - started
    verdict = "FAILED" if unexpected else "ok"
    print(f"\nhttpx suite with normalizer: {verdict}, {unexpected} regression(s), {elapsed:.0f}s")
    print(f"(pytest output and results: {suite}/output-*.txt, results-*.json)")
    return 1 if unexpected else 0


if __name__ == "__main__":
    sys.exit(main())
