"""The shortcuts of issue 28's fast paths answer exactly what the long way answers.

classify() remembers per registry what a (vendor, product, URL) is read with, a scope
remembers the outcome of each code as the document wrote it, ``[[when]]`` tables take an int
as its text, and ``import normalizer`` leaves the call path for its first use: each test
breaks if its shortcut answers anything the long way would not.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from normalizer import Category, Match, Outcome, Registry, classify
from tests.conftest import ACME, CACHE

WHEN = """
[[when]]
field = ["state"]
equals = ["7", "0400", "-2"]
category = "busy"
description = "state says busy"
retryable = true
"""


def when_registry(tmp_path: Path) -> Registry:
    builtin = tmp_path / "builtin"
    builtin.mkdir()
    (builtin / "acme.toml").write_text(ACME + WHEN, encoding="utf-8")
    return Registry(builtin=builtin, environ=False)


@pytest.mark.parametrize(
    ("state", "matched"),
    [
        (7, True),  # an int read as its text, "7"
        ("7", True),
        (-2, True),
        (400, False),  # "400" is not "0400"
        ("0400", True),
        (True, False),  # a bool is no int here
        (7.0, False),
        (" 7", False),
    ],
)
def test_a_when_rule_reads_an_int_as_its_text(tmp_path: Path, state: object, matched: bool) -> None:
    registry = when_registry(tmp_path)
    for _ in range(2):  # the generated reader, then the same again
        out = classify("acme", {"code": "5000", "state": state}, registry=registry)
        assert (out.matched is Match.FIELD) is matched, state
        assert out.category is (Category.BUSY if matched else Category.SERVER)
        assert out.code == "5000"


def test_a_code_read_again_is_read_as_the_first_time(registry: Registry) -> None:
    bodies = [
        (b'{"code": 5001}', 200),
        (b'{"code": "5001"}', 200),
        (b'{"code": " 5001 "}', 200),
        (b'{"code": 1000}', 200),
        (b'{"code": 1000}', 500),  # a success code on an error answer: the status decides
        (b'{"code": "1000"}', 503),
        (b'{"code": true}', 200),  # a bool is no code (True == 1 as a key)
        (b'{"code": 1}', 200),
        (b'{"code": 2219}', 200),  # a class reading
        (b'{"other": 1}', 200),  # no code: the status and path decide, each time
        (b'{"other": 2}', 503),
        (b'{"other": 3}', 404),
        (b'{"resp": {"desc": "x"}}', 200),
    ]
    first = [classify("acme", b, status_code=s, registry=registry) for b, s in bodies]
    again = [classify("acme", b, status_code=s, registry=registry) for b, s in bodies]
    assert again == first
    assert [o.code for o in first] == [
        "5001",
        "5001",
        " 5001 ",
        "1000",
        "1000",
        "1000",
        None,
        "1",
        "2219",
        None,
        None,
        None,
        None,
    ]
    assert first[3].ok
    assert not first[4].ok
    assert first[4].http_status == 500
    assert first[5].matched is Match.HTTP_STATUS  # ACME's own 503 rule
    assert first[6].matched is Match.MISSING
    assert first[7].matched is Match.UNMAPPED
    assert first[8].matched is Match.CLASS
    assert [o.matched for o in first[9:]] == ["missing", "http_status", "http_status", "missing"]
    assert [o.category for o in first[9:]] == ["unknown", "busy", "not_found", "unknown"]
    assert first[12].vendor_message == "x"


def test_a_body_without_a_code_reads_by_its_status_and_path(registry: Registry) -> None:
    def read(status: int, url: str) -> Outcome:
        return classify("acme", b'{"other": 1}', status_code=status, url=url, registry=registry)

    ready, other = "https://api.acme.test/v1/stats/result", "https://api.acme.test/v1/send"
    for _ in range(2):
        assert read(204, ready).category == "busy"  # ACME's [[http]] 204 on stats/result
        assert read(204, other).matched is Match.MISSING
        assert read(503, other).category == "busy"


@pytest.mark.parametrize("first", [b'{"code": 5000}', {"code": 5000}])
def test_a_scope_is_compiled_once_whatever_classify_remembered_of_it(
    registry: Registry, first: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """classify() keeps the scope's parser for the next body: the compiled one (kept before
    the first body compiled it, every later body would compile it again)."""
    from normalizer import _classify

    compiled = []
    generate = _classify._generated_readers

    def counted(*args: object) -> object:
        compiled.append(args)
        return generate(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(_classify, "_generated_readers", counted)
    url = "https://api.acme.test/v1/send"
    outcomes = [classify("acme", first, url=url, registry=registry)]
    outcomes += [classify("acme", b'{"code": 5000}', url=url, registry=registry) for _ in range(3)]
    assert [o.category for o in outcomes] == ["server"] * 4
    assert len(compiled) == 1


def test_register_forgets_what_classify_remembered(
    registry: Registry, write_mapping: object, tmp_path: Path
) -> None:
    url = "https://api.acme.test/v1/send"
    assert classify("acme", b'{"code": 5000}', url=url, registry=registry).category == "server"
    assert registry._routes
    overlay = tmp_path / "acme-patch.toml"
    overlay.write_text(
        'format = 1\n[vendor]\nextends = "acme"\n[codes]\n'
        '"5000" = { category = "busy", description = "now busy" }\n',
        encoding="utf-8",
    )
    registry.register(overlay)
    out = classify("acme", b'{"code": 5000}', url=url, registry=registry)
    assert (out.category, out.message) == ("busy", "now busy")


def test_a_plain_import_leaves_the_call_path_for_its_first_use() -> None:
    code = """
import sys
import normalizer
deferred = ["normalizer._client", "normalizer._store", "normalizer._retry", "tenacity", "httpx"]
print(sorted(name for name in deferred if name in sys.modules))
assert normalizer.lookup("mango", 3103).category == "validation"
print(sorted(name for name in deferred if name in sys.modules))
client = normalizer.Client
print(client.__module__, "normalizer._client" in sys.modules, "Client" in dir(normalizer))
try:
    normalizer.NoSuchThing
except AttributeError as exc:
    print(exc)
"""
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, CACHE: os.environ[CACHE]},
        check=True,
    )
    assert proc.stdout.splitlines() == [
        "[]",
        "[]",
        "normalizer True True",
        "module 'normalizer' has no attribute 'NoSuchThing'",
    ]
