"""Limits, overloads, success codes on error answers and gateway pages: the mapping fields
that carry them (``retry_after``, ``overload``, ``ok_on_http_error``, ``[[page]]``) and what
the classifier and the retry strategies do with them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from normalizer import (
    AsyncNormalizingTransport,
    Category,
    MappingError,
    Match,
    NormalizingTransport,
    Registry,
    RetryPolicy,
    Scope,
    classify,
)
from normalizer._retry import Attempt, decide, wait_for
from tests.conftest import outcome

LIMITS = """
format = 1

[vendor]
id = "limits"
name = "Limits Telecom"

[detect]
hosts = ["api.limits.test"]

[envelope]
code = ["code"]
success = ["0"]

[codes]
"0" = { category = "ok", description = "done" }
"20001" = { category = "ok", description = "Unknown parameters (ignored)" }
"7" = { category = "ok", description = "accepted, documented on 400", ok_on_http_error = true }
"30s" = { category = "busy", description = "1 per 30 s per number", scope = "recipient", \
retry_after = 30 }
"1h" = { category = "busy", description = "hourly limit per number", scope = "recipient", \
retry_after = 3600 }
"overload" = { category = "server", description = "overload", rejected = true, overload = true }

[[page]]
contains = ["Bad Account Credentials"]
status = "4xx"
category = "auth"
description = "Bad Account Credentials"
source = "a test page"
"""


@pytest.fixture
def reg(tmp_path: Path) -> Registry:
    builtin = tmp_path / "builtin"
    builtin.mkdir()
    (builtin / "limits.toml").write_text(LIMITS, encoding="utf-8")
    return Registry(builtin=builtin, environ=False)


def test_a_frequency_window_is_the_outcomes_retry_after_and_the_wait(reg: Registry) -> None:
    found = classify("limits", {"code": "30s"}, registry=reg)
    assert (found.category, found.scope, found.retry_after) == (
        Category.BUSY,
        Scope.RECIPIENT,
        30.0,
    )
    assert not found.scope.shared  # never slows other calls
    policy = RetryPolicy(random=lambda: 1.0)
    response = httpx.Response(200, json={"code": "30s"})
    attempt = Attempt(None, 1, response, found)
    assert wait_for(attempt, policy) == (30.0, "retry_after")
    # a Retry-After header, when the vendor sends one, comes first
    headed = httpx.Response(200, json={"code": "30s"}, headers={"Retry-After": "5"})
    assert wait_for(Attempt(None, 1, headed, found), policy) == (5.0, "retry_after")


def test_a_window_longer_than_max_retry_after_stops_the_call(reg: Registry) -> None:
    found = classify("limits", {"code": "1h"}, registry=reg)
    request = httpx.Request("POST", "https://api.limits.test/send")
    attempt = Attempt(request, 1, httpx.Response(200, json={"code": "1h"}), found)
    decision = decide(attempt, RetryPolicy(max_retry_after=60))
    assert (decision.retry, decision.why) == (False, "retry_after_too_long")
    # the classification carries no client policy: a longer max_retry_after waits it
    assert decide(attempt, RetryPolicy(max_retry_after=7200)).delay == 3600.0


def test_an_overload_answer_says_so(reg: Registry) -> None:
    found = classify("limits", {"code": "overload"}, registry=reg)
    assert (found.category, found.overload, found.scope) == (Category.SERVER, True, Scope.VENDOR)
    assert not classify("limits", {"code": "30s"}, registry=reg).overload


def test_an_ok_code_never_turns_an_error_status_into_success(reg: Registry) -> None:
    found = classify("limits", {"code": "20001"}, status_code=400, registry=reg)
    assert (found.category, found.code, found.matched) == (
        Category.VALIDATION,
        "20001",
        Match.HTTP_STATUS,
    )
    assert classify("limits", {"code": "0"}, status_code=503, registry=reg).category is (
        Category.SERVER
    )  # an envelope success code too
    assert classify("limits", {"code": "20001"}, registry=reg).ok  # on a 2xx it stands
    documented = classify("limits", {"code": "7"}, status_code=400, registry=reg)
    assert (documented.category, documented.matched) == (Category.OK, Match.EXACT)


PAGE = b"<html><head><title>402</title></head><body><h1>Bad Account\n  Credentials</h1></body>"


def test_a_gateway_page_is_read_by_its_words(reg: Registry) -> None:
    found = classify("limits", PAGE, status_code=402, registry=reg)
    assert (found.category, found.matched, found.http_status) == (Category.AUTH, Match.PAGE, 402)
    assert found.message == "Bad Account Credentials"
    # another page, or the same words on a status the rule does not name: the status decides
    other = classify("limits", b"<html>Payment Required</html>", status_code=402, registry=reg)
    assert (other.category, other.matched) == (Category.BILLING, Match.HTTP_STATUS)
    assert classify("limits", PAGE, status_code=200, registry=reg).category is Category.UNKNOWN


def test_a_gateway_page_is_read_through_the_transport(reg: Registry) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(402, content=PAGE, headers={"content-type": "text/html"})

    transport = NormalizingTransport(
        transport=httpx.MockTransport(handler), registry=reg, retry=None
    )
    with httpx.Client(transport=transport) as client:
        response = client.post("https://api.limits.test/send", json={"to": "1"})
    found = outcome(response)
    assert (found.category, found.matched) == (Category.AUTH, Match.PAGE)
    assert response.content == PAGE  # the caller still gets the page byte for byte


@pytest.mark.parametrize(
    ("entry", "key"),
    [
        ('{ category = "validation", description = "x", retry_after = 30 }', "retry_after"),
        ('{ category = "busy", description = "x", retry_after = 0 }', "retry_after"),
        ('{ category = "busy", description = "x", retry_after = "30" }', "retry_after"),
        ('{ category = "validation", description = "x", overload = true }', "overload"),
        ('{ category = "server", description = "x", overload = 1 }', "overload"),
        (
            '{ category = "server", description = "x", scope = "request", overload = true }',
            "overload",
        ),
        ('{ category = "auth", description = "x", ok_on_http_error = true }', "ok_on_http_error"),
    ],
)
def test_the_new_fields_are_validated(
    write_mapping: Callable[[str, str], Path], entry: str, key: str
) -> None:
    path = write_mapping(
        f'format = 1\n[vendor]\nid = "bad"\nname = "Bad"\n[envelope]\ncode = ["code"]\n'
        f'[codes]\n"1" = {entry}\n',
        "bad.toml",
    )
    with pytest.raises(MappingError, match=key):
        Registry(builtin=path.parent, environ=False).get("bad")


@pytest.mark.parametrize(
    "rule",
    [
        'contains = []\ncategory = "auth"\ndescription = "x"',
        'contains = ["ab"]\ncategory = "auth"\ndescription = "x"',
        'contains = ["Bad Credentials"]\nstatus = "4x2"\ncategory = "auth"\ndescription = "x"',
        'category = "auth"\ndescription = "x"',
    ],
)
def test_page_rules_are_validated(write_mapping: Callable[[str, str], Path], rule: str) -> None:
    path = write_mapping(
        f'format = 1\n[vendor]\nid = "bad"\nname = "Bad"\n[envelope]\ncode = ["code"]\n'
        f"[[page]]\n{rule}\n",
        "bad.toml",
    )
    with pytest.raises(MappingError, match=r"page\[0\]"):
        Registry(builtin=path.parent, environ=False).get("bad")


def test_a_products_page_rule_comes_before_the_vendors_and_an_overlay_before_both(
    tmp_path: Path,
) -> None:
    builtin = tmp_path / "builtin"
    builtin.mkdir()
    (builtin / "limits.toml").write_text(
        LIMITS
        + """
[products.sms]
paths = ["/sms/*"]

[[products.sms.page]]
contains = ["Bad Account Credentials"]
category = "billing"
description = "the product's own reading"
""",
        encoding="utf-8",
    )
    reg = Registry(builtin=builtin, environ=False)
    on_sms = classify(
        "limits", PAGE, status_code=402, url="https://api.limits.test/sms/send", registry=reg
    )
    assert (on_sms.category, on_sms.product, on_sms.matched) == (
        Category.BILLING,
        "sms",
        Match.PAGE,
    )
    elsewhere = classify(
        "limits", PAGE, status_code=402, url="https://api.limits.test/x", registry=reg
    )
    assert elsewhere.category is Category.AUTH  # the vendor's rule
    overlay = tmp_path / "overlay.toml"
    overlay.write_text(
        'format = 1\n[vendor]\nextends = "limits"\n[[page]]\ncontains = ["Credentials"]\n'
        'category = "validation"\ndescription = "the overlay\'s reading"\n',
        encoding="utf-8",
    )
    reg.register(overlay)
    assert classify("limits", PAGE, status_code=402, registry=reg).category is Category.VALIDATION


@pytest.mark.anyio
async def test_a_gateway_page_is_read_through_the_async_transport(reg: Registry) -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(402, content=PAGE, headers={"content-type": "text/html"})

    transport = AsyncNormalizingTransport(
        transport=httpx.MockTransport(handler), registry=reg, retry=None
    )
    async with httpx.AsyncClient(transport=transport) as client:
        response = await client.post("https://api.limits.test/send", json={"to": "1"})
    found = outcome(response)
    assert (found.category, found.matched) == (Category.AUTH, Match.PAGE)
    assert response.content == PAGE


LINE_CODES = """
format = 1

[vendor]
id = "lines"
name = "Lines Telecom"

[envelope]
code = ["code"]

[codes]
"100" = { category = "ok", description = "done" }
"201" = { category = "billing", description = "no funds" }

[[page]]
contains = ["Bad Account Credentials"]
category = "auth"
description = "Bad Account Credentials"

[[page]]
code = "first_line"
status = "2xx"
"""


@pytest.fixture
def lines(tmp_path: Path) -> Registry:
    builtin = tmp_path / "builtin"
    builtin.mkdir()
    (builtin / "lines.toml").write_text(LINE_CODES, encoding="utf-8")
    return Registry(builtin=builtin, environ=False)


def test_a_code_rule_reads_the_pages_first_line_through_the_code_table(lines: Registry) -> None:
    ok = classify("lines", b"100\nid-1\nbalance=5", status_code=200, registry=lines)
    assert (ok.category, ok.code, ok.matched, ok.http_status) == (
        Category.OK,
        "100",
        Match.EXACT,
        200,
    )
    billing = classify("lines", "\n  201  \nsee the docs", status_code=200, registry=lines)
    assert (billing.category, billing.code) == (Category.BILLING, "201")
    # a first line no table knows, or words, or another status: the rule does not apply
    for body, status in ((b"999\nx\n", 200), (b"not a code\n1", 200), (b"100\nx\n", 500)):
        found = classify("lines", body, status_code=status, registry=lines)
        assert found.code is None
        assert found.matched is not Match.EXACT
    # a phrase rule before it still wins
    page = b"Bad Account Credentials\n100\n"
    assert classify("lines", page, status_code=200, registry=lines).category is Category.AUTH


def test_an_ok_first_line_never_turns_an_error_status_into_success(tmp_path: Path) -> None:
    builtin = tmp_path / "builtin"
    builtin.mkdir()
    text = LINE_CODES.replace('status = "2xx"\n', "")
    (builtin / "lines.toml").write_text(text, encoding="utf-8")
    reg = Registry(builtin=builtin, environ=False)
    found = classify("lines", b"100\nid-1\n", status_code=503, registry=reg)
    assert (found.category, found.code, found.matched) == (
        Category.SERVER,
        "100",
        Match.HTTP_STATUS,
    )


@pytest.mark.parametrize(
    ("rule", "key", "reason"),
    [
        ('code = "last_line"', r"page\[0\]\.code", "first_line"),
        ('code = "first_line"\ncategory = "ok"', r"page\[0\]\.category", "no entry fields"),
        ('code = "first_line"\ndescription = "x"', r"page\[0\]\.description", "no entry fields"),
        ('code = "first_line"\ncontains = []', r"page\[0\]\.contains", "at least one phrase"),
        ('code = "first_line"\nsurprise = 1', r"page\[0\]\.surprise", "unknown key"),
    ],
)
def test_code_rules_are_validated(
    write_mapping: Callable[[str, str], Path], rule: str, key: str, reason: str
) -> None:
    path = write_mapping(
        f'format = 1\n[vendor]\nid = "bad"\nname = "Bad"\n[envelope]\ncode = ["code"]\n'
        f"[[page]]\n{rule}\n",
        "bad.toml",
    )
    with pytest.raises(MappingError, match=key) as caught:
        Registry(builtin=path.parent, environ=False).get("bad")
    assert "bad.toml" in str(caught.value)
    assert reason in str(caught.value)
