"""pytest plugin: httpx's own test suite, with normalizer's clients in place of httpx's.

Loaded with ``-p normalizer_httpx_plugin`` (``tests_httpx/`` on ``PYTHONPATH``); ``run.py`` does
this. Plugins named with ``-p`` are imported before any conftest or test module, so by the time
httpx's tests run ``import httpx``, the names below already point at normalizer's clients.

``NORMALIZER_HTTPX_MODE`` picks what ``httpx.Client`` / ``httpx.AsyncClient`` are:

- ``bare``: httpx's own (the baseline);
- ``detect``: ``normalizer.Client`` / ``normalizer.AsyncClient`` (vendor found per request);
- ``fixed``: ``functools.partial(normalizer.Client, "ucpaas")`` and its async twin (every
  request is a ucpaas call: classified, and retried when the classification says so).

The module-level helpers (``httpx.get``, ``httpx.stream``, ...) and the command line build
their client from ``httpx._api.Client`` and ``httpx._main.Client``; those names are substituted
too, so ``tests/test_api.py`` and ``tests/test_main.py`` go through normalizer as well.

The proxy tests (``tests/client/test_proxies.py``) inspect httpx's private transports
(``client._transport_for_url(url)._pool``, ``client._transport``, ``transport == mounted``).
They may look one level through normalizer's wrapper: that module alone is imported with each
``<x>._transport_for_url(...)`` and ``<x>._transport`` read wrapped in :func:`through`, which
returns the transport a normalizing transport wraps, and anything else as it is (so under
``bare`` the module is unchanged). Assertion rewriting is kept for it.

``NORMALIZER_HTTPX_REPORT``, when set, is a path: each test's outcome (passed, failed, skipped,
with the failure's one-line message) is written there as JSON at the end of the session.
"""

from __future__ import annotations

import ast
import functools
import importlib.abc
import importlib.machinery
import importlib.util
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

import normalizer
from normalizer import AsyncNormalizingTransport, NormalizingTransport

MODES = ("bare", "detect", "fixed")
FIXED_VENDOR = "ucpaas"
PROXY_TESTS = "tests.client.test_proxies"

MODE = os.environ.get("NORMALIZER_HTTPX_MODE", "bare")
if MODE not in MODES:
    raise pytest.UsageError(f"NORMALIZER_HTTPX_MODE={MODE!r}: one of {', '.join(MODES)}")

BARE_CLIENT = httpx.Client
BARE_ASYNC_CLIENT = httpx.AsyncClient


def _substitute(mode: str) -> None:
    client: Any
    async_client: Any
    if mode == "bare":
        return
    if mode == "detect":
        client, async_client = normalizer.Client, normalizer.AsyncClient
    else:
        client = functools.partial(normalizer.Client, FIXED_VENDOR)
        async_client = functools.partial(normalizer.AsyncClient, FIXED_VENDOR)
        # pytest names a parametrized value by its __name__: the same test ids in every mode
        setattr(client, "__name__", "Client")  # noqa: B010
        setattr(async_client, "__name__", "AsyncClient")  # noqa: B010
    setattr(httpx, "Client", client)  # noqa: B010
    setattr(httpx, "AsyncClient", async_client)  # noqa: B010
    # the names the module-level helpers and the command line build their client from
    for name in ("httpx._api", "httpx._main"):
        module = sys.modules.get(name)
        if module is not None and hasattr(module, "Client"):
            setattr(module, "Client", client)  # noqa: B010


_substitute(MODE)


def through(transport: Any) -> Any:
    """The transport a normalizing transport wraps (one level); anything else as it is."""
    if isinstance(transport, NormalizingTransport | AsyncNormalizingTransport):
        inner = getattr(transport, "transport", None)  # a public name, if normalizer has one
        return inner if inner is not None else transport._transport
    return transport


class _LookThrough(ast.NodeTransformer):
    """``a._transport_for_url(...)`` -> ``__through__(a._transport_for_url(...))``, and the
    same for every ``a._transport`` read."""

    def _wrap(self, node: ast.expr) -> ast.expr:
        call = ast.Call(func=ast.Name(id="__through__", ctx=ast.Load()), args=[node], keywords=[])
        return ast.copy_location(call, node)

    def visit_Call(self, node: ast.Call) -> ast.expr:
        self.generic_visit(node)
        if isinstance(node.func, ast.Attribute) and node.func.attr == "_transport_for_url":
            return self._wrap(node)
        return node

    def visit_Attribute(self, node: ast.Attribute) -> ast.expr:
        self.generic_visit(node)
        if node.attr == "_transport" and isinstance(node.ctx, ast.Load):
            return self._wrap(node)
        return node


class _LookThroughLoader(importlib.machinery.SourceFileLoader):
    config: pytest.Config | None = None

    def exec_module(self, module: ModuleType) -> None:
        path = self.get_filename(self.name)
        source = Path(path).read_bytes()
        tree = _LookThrough().visit(ast.parse(source, filename=path))
        ast.fix_missing_locations(tree)
        try:  # keep pytest's assertion messages for this module
            from _pytest.assertion.rewrite import rewrite_asserts

            rewrite_asserts(tree, source, path, self.config)
        except ImportError:  # pragma: no cover - another pytest layout: plain asserts
            pass
        module.__dict__["__through__"] = through
        exec(compile(tree, path, "exec", dont_inherit=True), module.__dict__)


class _LookThroughFinder(importlib.abc.MetaPathFinder):
    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != PROXY_TESTS:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.origin is None:
            return None
        loader = _LookThroughLoader(fullname, spec.origin)
        loader.config = self.config
        return importlib.util.spec_from_file_location(fullname, spec.origin, loader=loader)


_OUTCOMES = pytest.StashKey[dict[str, dict[str, str]]]()
_CONFIG: pytest.Config | None = None


def pytest_configure(config: pytest.Config) -> None:
    global _CONFIG
    _CONFIG = config
    config.stash[_OUTCOMES] = {}
    sys.meta_path.insert(0, _LookThroughFinder(config))


def pytest_report_header(config: pytest.Config) -> str:
    return f"normalizer substitution: NORMALIZER_HTTPX_MODE={MODE} (httpx {httpx.__version__})"


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if _CONFIG is None:
        return
    outcomes = _CONFIG.stash[_OUTCOMES]
    entry = outcomes.setdefault(report.nodeid, {"outcome": "passed", "message": ""})
    if report.failed and entry["outcome"] != "failed":
        phase = "" if report.when == "call" else f"[{report.when}] "
        entry["outcome"] = "failed"
        entry["message"] = phase + _message(report)
    elif report.skipped and report.when in ("setup", "call") and entry["outcome"] == "passed":
        entry["outcome"] = "xfailed" if hasattr(report, "wasxfail") else "skipped"


def pytest_collectreport(report: pytest.CollectReport) -> None:
    if report.failed and _CONFIG is not None:
        outcomes = _CONFIG.stash[_OUTCOMES]
        outcomes[report.nodeid] = {"outcome": "failed", "message": "[collect] " + _message(report)}


def _message(report: pytest.TestReport | pytest.CollectReport) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)
    text = crash.message if crash is not None else str(report.longrepr)
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    first = lines[0][:300] if lines else ""
    if "Exception ignored" in first:  # an unraisable: the warning or error it carried says why
        carried = [
            line[1:].strip()
            for line in report.longreprtext.splitlines()
            if line.startswith("E ") and ("Warning: " in line or "Error: " in line)
        ]
        if carried and carried[-1] not in first:
            return f"{first[:150]} ... {carried[-1][:300]}"
    return first


def pytest_sessionfinish(session: pytest.Session) -> None:
    target = os.environ.get("NORMALIZER_HTTPX_REPORT")
    if target:
        data = {"mode": MODE, "httpx": httpx.__version__, "tests": session.config.stash[_OUTCOMES]}
        Path(target).write_text(json.dumps(data, indent=1, sort_keys=True))
