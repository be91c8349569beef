"""Families, aliases, selectors on headers and query, no_code, [[when]] rules and provenance."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from normalizer import Category, Client, Registry, classify, lookup, outcome_of
from normalizer._cli import main

WriteMapping = Callable[..., Path]

GLOBEX = """
format = 1

[vendor]
id = "globex"
name = "Globex"
source = "https://globex.test/doc/errors"

[detect]
hosts = ["api.globex.test"]

[envelope]
code = ["resp.code", "code"]
message = ["resp.desc", "msg", "description"]
success = ["0"]
no_code = ["/v1/stats/request", "/v1/users"]
xml = true

[codes]
"10301" = { category = "validation", description = "parameters missing" }
"10400" = { category = "busy", description = "too frequent" }
"0100000" = { category = "ok", description = "success", source = "https://globex.test/cms" }

[[when]]
field = ["data.state", "state"]
equals = ["building", 2]
codes = ["0"]
paths = ["*/stats/result"]
category = "busy"
description = "the report is still being built"
retryable = true
rejected = true

[products.dialer]
name = "Dialer"
source = "https://globex.test/dialer/errors"
paths = ["/service/callcenter/*"]
inherit = false
envelope = { code = ["code"], message = ["msg"] }
[products.dialer.codes]
"0" = { category = "ok", description = "ok" }
"10301" = { category = "auth", description = "invalid app key" }

[products.sms]
hosts = ["sms.globex.test"]
query = { Action = ["SendSms", "SendBatchSms"] }
[products.sms.codes]
"-3" = { category = "validation", description = "sensitive words" }

[products.voice]
headers = { X-Action = ["Call*"] }
[products.voice.codes]
"-3" = { category = "billing", description = "balance insufficient" }

[aliases.brandx]
name = "BrandX (white label)"
source = "https://brandx.test/doc"
hosts = ["api.brandx.test"]
products = { dialer = ["/cc/*"] }
"""


@pytest.fixture
def reg(write_mapping: WriteMapping) -> Registry:
    registry = Registry(builtin=write_mapping(GLOBEX, "globex.toml").parent, environ=False)
    return registry


def outcome_through_client(
    registry: Registry, url: str, body: bytes, **kwargs: object
) -> tuple[httpx.Response, object]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=body, headers={"content-type": "application/json"})

    with Client(transport=httpx.MockTransport(handler), registry=registry, retry=None) as client:
        response = client.get(url, **kwargs)  # type: ignore[arg-type]
        response.read()
    return response, outcome_of(response)


def test_a_family_reads_its_own_numbers(reg: Registry) -> None:
    body = b'{"code": 10301, "msg": "invalid appKey"}'
    family = classify(
        "globex", body, url="https://api.globex.test/service/callcenter/task", registry=reg
    )
    assert (family.category, family.product) == (Category.AUTH, "dialer")
    plain = classify("globex", body, url="https://api.globex.test/service/cloud/x", registry=reg)
    assert (plain.category, plain.product) == (Category.VALIDATION, None)


def test_a_family_never_falls_back_to_the_vendor_table(reg: Registry) -> None:
    out = classify(
        "globex",
        b'{"code": 10400}',
        url="https://api.globex.test/service/callcenter/t",
        registry=reg,
    )
    assert out.category is Category.UNKNOWN
    assert out.matched == "unmapped"


def test_a_code_two_families_read_differently_is_ambiguous_alone(reg: Registry) -> None:
    out = lookup("globex", "10301", registry=reg)
    assert out.matched == "ambiguous"
    assert {(c.product, c.category) for c in out.candidates} == {
        (None, Category.VALIDATION),
        ("dialer", Category.AUTH),
    }
    assert lookup("globex", "10400", registry=reg).category is Category.BUSY  # uncontested


def test_products_selected_by_host_query_and_header(reg: Registry) -> None:
    body = b'{"code": "-3"}'
    _, sms = outcome_through_client(reg, "https://sms.globex.test/?Action=SendSms", body)
    assert getattr(sms, "product", None) == "sms"
    _, other = outcome_through_client(reg, "https://sms.globex.test/?Action=QueryDetails", body)
    assert getattr(other, "vendor", None) == "globex"  # a product's host is the vendor's
    assert getattr(other, "product", "?") is None
    _, voice = outcome_through_client(
        reg, "https://api.globex.test/", body, headers={"x-action": "CallByTts"}
    )
    assert getattr(voice, "product", None) == "voice"
    assert getattr(voice, "category", None) is Category.BILLING
    # the same host and path with another header value is routed anew, not from the cache
    _, none = outcome_through_client(
        reg, "https://api.globex.test/", body, headers={"x-action": "Query"}
    )
    assert getattr(none, "product", "?") is None


def test_alias_hosts_are_detected_and_select_products_by_their_paths(reg: Registry) -> None:
    _, out = outcome_through_client(reg, "https://api.brandx.test/cc/task", b'{"code": 10301}')
    assert getattr(out, "vendor", None) == "globex"
    assert getattr(out, "product", None) == "dialer"
    assert getattr(out, "category", None) is Category.AUTH
    assert [a.id for a in reg.get("globex").aliases] == ["brandx"]
    assert "api.brandx.test" in reg.get("globex").hosts


def test_no_code_success_only_where_the_mapping_says(reg: Registry) -> None:
    url = "https://api.globex.test/v1/stats/request"
    out = classify("globex", b'{"key": "abc"}', url=url, registry=reg)
    assert (out.category, out.matched) == (Category.OK, "no_code")
    elsewhere = classify(
        "globex", b'{"key": "abc"}', url="https://api.globex.test/v1/x", registry=reg
    )
    assert (elsewhere.category, elsewhere.matched) == (Category.UNKNOWN, "missing")
    failed = classify("globex", b'{"key": "abc"}', status_code=500, url=url, registry=reg)
    assert failed.category is Category.SERVER  # a non-2xx answer is never a success
    html = classify("globex", b"<html>oops</html>", url=url, registry=reg)
    assert html.category is Category.UNKNOWN  # not a document: no code is not a success


def test_no_code_success_does_not_raise(reg: Registry) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"users": [{"id": 1}]})

    with Client(
        transport=httpx.MockTransport(handler), registry=reg, retry=None, raise_on_error=True
    ) as client:
        response = client.post("https://api.globex.test/v1/users")
    assert response.json() == {"users": [{"id": 1}]}


def test_a_field_decides_not_ready(reg: Registry) -> None:
    url = "https://api.globex.test/v1/stats/result"
    out = classify("globex", {"code": 0, "data": {"state": "building"}}, url=url, registry=reg)
    assert (out.category, out.matched, out.retryable, out.rejected) == (
        Category.BUSY,
        "field",
        True,
        True,
    )
    assert classify("globex", {"code": 0, "state": 2}, url=url, registry=reg).category == "busy"
    done = classify("globex", {"code": 0, "data": {"state": "done"}}, url=url, registry=reg)
    assert done.category is Category.OK
    other_path = classify(
        "globex", {"code": 0, "state": "building"}, url="https://api.globex.test/v1/x", registry=reg
    )
    assert other_path.category is Category.OK
    other_code = classify("globex", {"code": 10400, "state": "building"}, url=url, registry=reg)
    assert other_code.category is Category.BUSY
    assert other_code.matched == "exact"


def test_xml_bodies_read_like_json(reg: Registry) -> None:
    xml = b'<?xml version="1.0"?><resp><code>10400</code><desc>slow down</desc></resp>'
    out = classify("globex", xml, url="https://api.globex.test/x", registry=reg)
    assert (out.code, out.category, out.vendor_message) == ("10400", Category.BUSY, "slow down")


@pytest.mark.parametrize(
    "body",
    [
        b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">'
        b'<!ENTITY c "&b;&b;&b;&b;">]><resp><code>&c;</code></resp>',
        b'<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><resp><code>&x;</code></resp>',
        b"<resp><code>10400</code>",
        b"<resp>" * 5000,
    ],
    ids=["bomb", "external-entity", "truncated", "deep"],
)
def test_hostile_xml_passes_through_intact_as_unknown(reg: Registry, body: bytes) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body, headers={"content-type": "application/xml"})

    with Client(transport=httpx.MockTransport(handler), registry=reg, retry=None) as client:
        response = client.get("https://api.globex.test/x.xml")
    assert response.content == body
    out = outcome_of(response)
    assert out is not None
    assert out.category is Category.UNKNOWN


def test_undeclared_xml_is_sniffed_for_xml_vendors(reg: Registry) -> None:
    response, out = outcome_through_client(
        reg, "https://api.globex.test/x", b"  <resp><code>10400</code></resp>"
    )
    assert getattr(out, "category", None) is Category.BUSY
    assert response.text == "  <resp><code>10400</code></resp>"


def test_provenance_of_every_entry(reg: Registry, capsys: pytest.CaptureFixture[str]) -> None:
    mapping = reg.get("globex")
    entry = mapping.table.codes["10301"]
    assert entry.origin is not None
    assert entry.origin.file.endswith("globex.toml")
    assert entry.origin.key == 'codes."10301"'
    assert entry.origin.source == "https://globex.test/doc/errors"
    assert entry.origin.written == frozenset()
    assert mapping.table.codes["0100000"].origin.source == "https://globex.test/cms"  # type: ignore[union-attr]
    dialer = mapping.products["dialer"].table.codes["10301"].origin
    assert dialer is not None
    assert dialer.source == "https://globex.test/dialer/errors"
    when = mapping.table.when[0].entry.origin
    assert when is not None
    assert when.key == "when[0]"
    assert when.written == {"retryable", "rejected"}


def test_overlay_entries_name_the_overlay(
    reg: Registry, write_mapping: WriteMapping, capsys: pytest.CaptureFixture[str]
) -> None:
    overlay = write_mapping(
        'format = 1\n[vendor]\nextends = "ucpaas"\n[codes]\n'
        '"107225" = { category = "busy", description = "ours", retryable = false, '
        'source = "our runbook" }\n',
        "ours.toml",
    )
    registry = Registry(environ=False)
    registry.register(overlay)
    origin = registry.get("ucpaas").table.codes["107225"].origin
    assert origin is not None
    assert (origin.file, origin.source, origin.written) == (
        str(overlay),
        "our runbook",
        frozenset({"retryable"}),
    )
    assert (
        registry.get("ucpaas")
        .table.codes["107100"]
        .origin.file.endswith(  # type: ignore[union-attr]
            "mappings/ucpaas.toml"
        )
    )


def test_explain_prints_where_an_entry_came_from(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "mango", "2219"]) == 0
    out = capsys.readouterr().out
    assert "set in " in out
    assert 'mappings/mango.toml at codes."2210"' in out
    assert "source: " in out
    assert "defaulted (not written in the file): rejected, retryable" in out


def test_overlay_provenance_cites_the_overlay_and_keeps_base_keys(
    write_mapping: WriteMapping,
) -> None:
    overlay = write_mapping(
        'format = 1\n[vendor]\nextends = "tencent_sms"\nsource = "our runbook"\n'
        '[codes]\n"LimitExceeded" = { category = "busy", description = "ours" }\n'
        '[[items]]\npath = ["Data.Set"]\ncode = ["Code"]\n',
        "ours.toml",
    )
    registry = Registry(environ=False)
    registry.register(overlay)
    mapping = registry.get("tencent_sms")
    ours = mapping.table.codes["LimitExceeded"].origin
    assert ours is not None
    assert (ours.file, ours.key, ours.source) == (
        str(overlay),
        'codes."LimitExceeded"',
        "our runbook",
    )
    # the base file's item tables keep their own keys though the overlay's spec comes first
    base = next(s for s in mapping.envelope.items if s.table is not None)
    origin = base.table.codes["SUCCESS"].origin  # type: ignore[union-attr]
    assert origin is not None
    assert origin.file.endswith("mappings/tencent_sms.toml")
    assert origin.key == 'items[1].codes."SUCCESS"'
    assert "tencentcloud" in origin.source


def test_classify_reads_request_headers_for_selectors(reg: Registry) -> None:
    body = b'{"code": "-3"}'
    voice = classify(
        "globex",
        body,
        url="https://api.globex.test/",
        headers={"X-Action": "CallByTts"},
        registry=reg,
    )
    assert (voice.product, voice.category) == ("voice", Category.BILLING)
    plain = classify("globex", body, url="https://api.globex.test/", registry=reg)
    assert plain.product is None
