"""lookup() and classify(): every resolution mechanism, and bodies that are not what they seem."""

from __future__ import annotations

import dataclasses
import inspect
import json
import pickle
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import normalizer
from normalizer import Category, Match, Outcome, Registry, UnregisteredVendorError, classify, lookup
from normalizer import _classify as classify_module
from normalizer import _xml as xml_module
from normalizer._classify import DEFAULT_MAX_BODY_SIZE
from normalizer._mapping import MAX_CODE_LENGTH


def test_exact_code_keeps_vendor_spelling(registry: Registry) -> None:
    out = lookup("acme", "0200001", registry=registry)
    assert out.category is Category.VALIDATION
    assert out.code == "0200001"
    assert out.matched is Match.EXACT
    assert out.message == "参数异常"
    assert out.gloss == "bad parameter"
    # leading zeros matter: a different code is not the same entry
    assert lookup("acme", "200001", registry=registry).category is Category.UNKNOWN


def test_int_code_becomes_its_decimal_string(registry: Registry) -> None:
    out = lookup("acme", 107225, registry=registry)
    assert out.code == "107225"
    assert out.category is Category.BUSY
    assert out.retryable is True
    assert out.rejected is True  # busy defaults to "refused before acting"


def test_server_defaults_retryable_but_not_safe_to_resend(registry: Registry) -> None:
    ambiguous = lookup("acme", "5000", registry=registry)
    assert (ambiguous.retryable, ambiguous.rejected) == (True, False)
    overload = lookup("acme", "5001", registry=registry)
    assert (overload.retryable, overload.rejected) == (True, True)


def test_success_codes_from_envelope(registry: Registry) -> None:
    out = lookup("acme", "000000", registry=registry)
    assert out.ok
    assert out.category is Category.OK
    assert out.matched is Match.EXACT
    assert lookup("acme", 0, registry=registry).ok


def test_class_fallback_reads_nearest_class(registry: Registry) -> None:
    out = lookup("acme", "2219", registry=registry)
    assert out.matched is Match.CLASS
    assert out.code == "2219"
    assert out.message == "Доступ ограничен периодом"  # 221x -> 2210
    assert lookup("acme", "2290", registry=registry).message == "Доступ к счету ограничен"
    assert lookup("acme", "2900", registry=registry).message == "Ограничение биллинга"
    assert lookup("acme", "1090", registry=registry).ok
    # a specific entry wins over its class
    assert lookup("acme", "2210", registry=registry).matched is Match.EXACT


def test_class_fallback_needs_same_length_and_digits(registry: Registry) -> None:
    assert lookup("acme", "22190", registry=registry).matched is Match.UNMAPPED
    assert lookup("acme", "22a9", registry=registry).matched is Match.UNMAPPED


def test_unmapped_code_is_unknown_never_guessed(registry: Registry) -> None:
    out = lookup("acme", "999999", registry=registry)
    assert out.category is Category.UNKNOWN
    assert out.matched is Match.UNMAPPED
    assert out.retryable is False
    assert not out.ok


def test_call_outcome_flag(registry: Registry) -> None:
    out = lookup("acme", "00605", registry=registry)
    assert out.call_outcome is True
    assert out.category is Category.BUSY
    assert out.retryable is False


def test_product_tables_are_separate(registry: Registry) -> None:
    sms = lookup("acme", -3, product="sms", registry=registry)
    voice = lookup("acme", "-3", product="voice", registry=registry)
    assert (sms.category, sms.product) == (Category.VALIDATION, "sms")
    assert (voice.category, voice.product) == (Category.BILLING, "voice")
    # vendor-level codes still apply under a product
    assert lookup("acme", "107225", product="sms", registry=registry).category is Category.BUSY


def test_no_product_resolves_only_where_products_agree(registry: Registry) -> None:
    agreed = lookup("acme", "-1", registry=registry)
    assert agreed.category is Category.AUTH
    assert agreed.matched is Match.EXACT
    assert agreed.product is None
    single = lookup("acme", "-9", registry=registry)
    assert (single.category, single.product) == (Category.BUSY, "voice")


def test_no_product_disagreement_is_ambiguous_with_candidates(registry: Registry) -> None:
    out = lookup("acme", "-3", registry=registry)
    assert out.category is Category.UNKNOWN
    assert out.matched is Match.AMBIGUOUS
    assert out.retryable is False
    assert {(c.product, c.category) for c in out.candidates} == {
        ("sms", Category.VALIDATION),
        ("voice", Category.BILLING),
    }
    assert "sensitive characters" in out.message
    assert "balance insufficient" in out.message


def test_unknown_vendor_lists_known_ones(registry: Registry) -> None:
    with pytest.raises(UnregisteredVendorError, match="known vendors: acme") as info:
        lookup("nope", "1", registry=registry)
    assert info.value.known == ("acme",)
    assert isinstance(info.value, LookupError)


def test_unknown_product_is_a_clear_error(registry: Registry) -> None:
    with pytest.raises(ValueError, match=r"no product 'fax'.*sms, voice"):
        lookup("acme", "-3", product="fax", registry=registry)


@pytest.mark.parametrize("code", [1.0, None, True, ["1"]])
def test_lookup_rejects_non_codes(registry: Registry, code: object) -> None:
    with pytest.raises(TypeError):
        lookup("acme", code, registry=registry)  # type: ignore[arg-type]


# --- classify ----------------------------------------------------------------------------------


def test_classify_nested_envelope_with_message_and_request_id(registry: Registry) -> None:
    body = {"resp": {"code": "107225", "desc": "busy now", "callId": 42}}
    for form in (body, json.dumps(body), json.dumps(body).encode()):
        out = classify("acme", form, registry=registry)
        assert out.category is Category.BUSY
        assert out.vendor_message == "busy now"
        assert out.request_id == "42"
        assert out.http_status == 200


def test_classify_code_paths_in_order(registry: Registry) -> None:
    assert classify("acme", {"code": 5001}, registry=registry).code == "5001"
    both = {"resp": {"code": "0"}, "code": 5001}
    assert classify("acme", both, registry=registry).ok
    # a list index in a path
    assert classify("acme", {"data": [{"status": "2219"}]}, registry=registry).code == "2219"


def test_classify_skips_values_that_are_not_codes(registry: Registry) -> None:
    # a float, bool or null at the first path is not a code: the next path is tried
    body = {"resp": {"code": 1.5}, "code": "5001"}
    assert classify("acme", body, registry=registry).code == "5001"
    bad_values: list[object] = [1000.0, None, True, False, "", "  ", [], {}]
    for bad in bad_values:
        out = classify("acme", {"code": bad}, registry=registry)
        assert out.category is Category.UNKNOWN
        assert out.matched is Match.MISSING
        assert out.code is None


def test_classify_product_from_url(registry: Registry) -> None:
    body = b'{"code": "-3", "status": "-3", "reason": "r"}'
    sms = classify("acme", body, url="https://api.acme.test/v1/sms/send", registry=registry)
    assert (sms.product, sms.category) == ("sms", Category.VALIDATION)
    voice = classify("acme", body, url="https://api.acme.test/v1/voice/x", registry=registry)
    assert (voice.product, voice.category, voice.vendor_message) == (
        "voice",
        Category.BILLING,
        "r",
    )
    # an explicit product wins over the URL
    forced = classify(
        "acme", body, url="https://api.acme.test/v1/voice/x", product="sms", registry=registry
    )
    assert forced.product == "sms"
    nowhere = classify("acme", body, url="https://api.acme.test/v1/other", registry=registry)
    assert nowhere.matched is Match.AMBIGUOUS


def test_product_envelope_overrides_vendor_paths(registry: Registry) -> None:
    # the voice product reads "status", not "code"
    out = classify("acme", {"status": "-9"}, product="voice", registry=registry)
    assert out.category is Category.BUSY
    assert classify("acme", {"status": "-9"}, registry=registry).matched is Match.MISSING


@pytest.mark.parametrize(
    ("status", "category"),
    [
        (401, Category.AUTH),
        (403, Category.AUTH),
        (402, Category.BILLING),
        (404, Category.NOT_FOUND),
        (429, Category.BUSY),
        (400, Category.VALIDATION),
        (500, Category.SERVER),
        (502, Category.SERVER),
        (503, Category.BUSY),  # the vendor's own rule beats the default 5xx
    ],
)
def test_http_status_fallback_without_code(
    registry: Registry, status: int, category: Category
) -> None:
    out = classify("acme", b"<html>gateway</html>", status_code=status, registry=registry)
    assert out.category is category
    assert out.matched is Match.HTTP_STATUS
    assert out.http_status == status
    assert out.code is None
    assert out.retryable is category.retryable_by_default


def test_http_fallback_for_unmapped_code_on_error_status(registry: Registry) -> None:
    out = classify("acme", {"code": "77777"}, status_code=500, registry=registry)
    assert (out.category, out.matched, out.code) == (Category.SERVER, Match.HTTP_STATUS, "77777")
    # a known code wins over the status
    known = classify("acme", {"code": "0200001"}, status_code=500, registry=registry)
    assert (known.category, known.matched) == (Category.VALIDATION, Match.EXACT)
    # 2xx with an unmapped code stays unknown
    plain = classify("acme", {"code": "77777"}, status_code=200, registry=registry)
    assert (plain.category, plain.matched) == (Category.UNKNOWN, Match.UNMAPPED)


def test_http_rule_limited_to_paths(registry: Registry) -> None:
    url = "https://api.acme.test/v1/stats/result"
    hit = classify("acme", b"", status_code=204, url=url, registry=registry)
    assert (hit.category, hit.matched) == (Category.BUSY, Match.HTTP_STATUS)
    assert hit.retryable is True
    miss = classify(
        "acme", b"", status_code=204, url="https://api.acme.test/v1/x", registry=registry
    )
    assert (miss.category, miss.matched) == (Category.UNKNOWN, Match.MISSING)
    assert classify("acme", b"", status_code=204, registry=registry).matched is Match.MISSING


def test_product_http_rules_come_first(tmp_path: object, write_mapping: object) -> None:
    from pathlib import Path

    assert isinstance(tmp_path, Path)
    text = """
format = 1
[vendor]
id = "p"
name = "P"
[envelope]
code = ["code"]
[[http]]
status = "5xx"
category = "server"
description = "vendor"
[products.a]
[[products.a.http]]
status = "502"
category = "busy"
description = "product"
"""
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "p.toml").write_text(text, encoding="utf-8")
    reg = Registry(builtin=tmp_path / "b", environ=False)
    assert classify("p", b"", status_code=502, product="a", registry=reg).message == "product"
    assert classify("p", b"", status_code=502, registry=reg).message == "vendor"


MALFORMED = [
    b"",
    b"   ",
    b"<html><body>502 Bad Gateway</body></html>",
    b'{"code": "5001"',  # truncated
    b'{"code": 5001, }',
    b"[" * 10_000 + b"]" * 10_000,  # deeply nested
    b"{" + b'"a":{' * 10_000 + b"}" * 10_001,
    b'["5001"]',  # a list, not an object
    b'"5001"',
    b"5001",
    b"null",
    b'{"code": NaN}',
    b"\xff\xfe\x00garbage",
    "{'code': 5001}",  # not JSON
]


@pytest.mark.parametrize("body", MALFORMED, ids=range(len(MALFORMED)))
def test_malformed_bodies_are_unknown_never_raise(registry: Registry, body: bytes | str) -> None:
    out = classify("acme", body, registry=registry)
    assert isinstance(out, Outcome)
    assert out.category is Category.UNKNOWN
    assert out.matched is Match.MISSING
    assert not out.retryable


@pytest.mark.parametrize("body", MALFORMED, ids=range(len(MALFORMED)))
def test_malformed_bodies_fall_back_to_http_status(registry: Registry, body: bytes | str) -> None:
    out = classify("acme", body, status_code=502, registry=registry)
    assert (out.category, out.matched) == (Category.SERVER, Match.HTTP_STATUS)


def test_other_encodings_still_find_the_code(registry: Registry) -> None:
    body = '{"code": "107225", "msg": "外呼繁忙"}'
    for encoding in ("utf-16", "utf-32"):
        out = classify("acme", body.encode(encoding), registry=registry)
        assert (out.category, out.vendor_message) == (Category.BUSY, "外呼繁忙")
    gbk = classify("acme", body.encode("gbk"), registry=registry)
    assert gbk.category is Category.BUSY  # the text is lossy, the code is not


def test_memoryview_and_bytearray_bodies(registry: Registry) -> None:
    raw = b'{"code": 5001}'
    assert classify("acme", bytearray(raw), registry=registry).code == "5001"
    assert classify("acme", memoryview(raw), registry=registry).code == "5001"


def test_outcome_is_immutable_and_readable(registry: Registry) -> None:
    out = classify("acme", {"code": 5001, "msg": "overloaded"}, status_code=200, registry=registry)
    with pytest.raises(AttributeError):
        out.category = Category.OK  # type: ignore[misc]
    assert hash(out) == hash(
        classify("acme", {"code": 5001, "msg": "overloaded"}, registry=registry)
    )
    assert str(out) == "acme code 5001 -> server (exact, HTTP 200): Перегрузка"


@pytest.mark.parametrize("body", MALFORMED, ids=range(len(MALFORMED)))
def test_malformed_bodies_without_orjson(
    registry: Registry, body: bytes | str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("normalizer._classify.fast_loads", None)
    out = classify("acme", body, status_code=502, registry=registry)
    assert (out.category, out.matched) == (Category.SERVER, Match.HTTP_STATUS)


def test_both_parsers_agree(registry: Registry, monkeypatch: pytest.MonkeyPatch) -> None:
    bodies = [
        b'{"resp": {"code": "107225", "desc": "d", "callId": 7}}',
        '{"code": 5001}'.encode("utf-16"),
        rb'{"code": "2219", "msg": "\u0442\u0435\u0441\u0442"}',
    ]
    fast = [classify("acme", b, registry=registry) for b in bodies]
    monkeypatch.setattr("normalizer._classify.fast_loads", None)
    slow = [classify("acme", b, registry=registry) for b in bodies]
    assert fast == slow
    # orjson reads integers past 64 bits as floats: no code either way, never an exception
    huge = b'{"code": 123456789012345678901234567890}'
    assert classify("acme", huge, registry=registry).category is Category.UNKNOWN


def test_products_agreeing_on_a_code_but_not_its_scope_read_the_narrower(
    registry: Registry, write_mapping: Callable[[str, str], Path]
) -> None:
    registry.register(
        write_mapping(
            'format = 1\n[vendor]\nextends = "acme"\n'
            '[products.sms.codes]\n"-9" = { category = "busy", description = "too frequent" }\n'
            '[products.voice.codes]\n"-9" = { category = "busy", description = "callee busy",'
            ' scope = "recipient" }\n',
            "acme-scopes.toml",
        )
    )
    assert lookup("acme", "-9", product="sms", registry=registry).scope == "account"
    out = lookup("acme", "-9", registry=registry)  # no product: both agree it is busy
    assert (out.category, out.scope) == ("busy", "recipient")  # never slows every call


# --- hostile bodies: a cap on what is read, on a code's length, on the codecs used -------------


def never_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> object:
        raise AssertionError("a body over the cap was parsed")

    monkeypatch.setattr(classify_module, "parse_json", refuse)
    monkeypatch.setattr(classify_module, "parse_xml", refuse)


def test_a_body_over_max_body_size_is_unknown_and_never_parsed(
    registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = b'{"code": "107225", "pad": "' + b"x" * 1000 + b'"}'
    assert classify("acme", body, registry=registry).category is Category.BUSY  # under the cap
    never_parsed(monkeypatch)
    for large in (body, bytearray(body), memoryview(body), body.decode()):
        out = classify("acme", large, registry=registry, max_body_size=1000)
        assert (out.category, out.matched, out.code) == (Category.UNKNOWN, Match.MISSING, None)
        assert out.message == "body over max_body_size (1000 bytes): not read"
        assert not out.retryable
    # as for a client's response over the cap, the HTTP status decides where it can
    failed = classify("acme", body, status_code=502, registry=registry, max_body_size=1000)
    assert (failed.category, failed.matched) == (Category.SERVER, Match.HTTP_STATUS)
    limited = classify("acme", body, status_code=503, registry=registry, max_body_size=1000)
    assert (limited.category, limited.rejected) == (Category.BUSY, True)  # the vendor's rule


def test_the_default_cap_is_the_transports(registry: Registry) -> None:
    default = inspect.signature(classify).parameters["max_body_size"].default
    assert default == normalizer.Options().max_body_size == DEFAULT_MAX_BODY_SIZE == 1 << 20
    huge = b'{"code": "107225"}' + b" " * DEFAULT_MAX_BODY_SIZE  # a webhook has no other cap
    assert classify("acme", huge, registry=registry).category is Category.UNKNOWN
    raised = classify("acme", huge, registry=registry, max_body_size=len(huge))
    assert raised.category is Category.BUSY
    parsed = {"code": "107225", "pad": "x" * DEFAULT_MAX_BODY_SIZE}  # already parsed: no cap
    assert classify("acme", parsed, registry=registry).category is Category.BUSY
    with pytest.raises(ValueError, match="max_body_size"):
        classify("acme", b"{}", registry=registry, max_body_size=-1)


PHONE_NUMBER = "+14155550100"


def long_code() -> str:
    """A vendor-controlled ``code`` of 500 KB, a raw newline and a phone number early on."""
    return "ERR\n" + PHONE_NUMBER + " " + "9" * 500_000


def test_an_over_long_code_is_not_looked_up_and_is_kept_cut(
    registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    looked_up: list[str] = []
    real = classify_module.resolve

    def counting(mapping: object, code: str, *args: object, **kwargs: object) -> object:
        looked_up.append(code)
        return real(mapping, code, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(classify_module, "resolve", counting)
    raw = json.dumps({"code": long_code(), "msg": "x"}).encode()
    out = classify("acme", raw, registry=registry)
    assert (out.category, out.matched) == (Category.UNKNOWN, Match.UNMAPPED)
    assert out.code is not None
    assert len(out.code) == MAX_CODE_LENGTH
    assert out.code == long_code()[: MAX_CODE_LENGTH - 1] + "\u2026"
    assert out.message == f"code over {MAX_CODE_LENGTH} characters: not looked up"
    assert not looked_up
    assert len(str(out)) < 300
    assert len(repr(out)) < 1000
    # an unmapped code on an error status: the status decides, as for any unmapped code
    failed = classify("acme", raw, status_code=502, registry=registry)
    assert (failed.category, len(failed.code or "")) == (Category.SERVER, MAX_CODE_LENGTH)
    assert lookup("acme", long_code(), registry=registry).code == out.code
    assert not looked_up


def test_a_code_of_the_mappings_longest_is_still_looked_up(
    registry: Registry, write_mapping: Callable[[str, str], Path]
) -> None:
    longest = "E" * MAX_CODE_LENGTH  # what a mapping file may hold (\S{1,64})
    registry.register(
        write_mapping(
            f'format = 1\n[vendor]\nextends = "acme"\n[codes]\n"{longest}" = '
            '{ category = "busy", description = "longest" }\n',
            "acme-longest.toml",
        )
    )
    out = classify("acme", {"code": longest}, registry=registry)
    assert (out.category, out.code) == (Category.BUSY, longest)
    assert lookup("acme", longest + "E", registry=registry).category is Category.UNKNOWN


def test_a_huge_integer_code_is_neither_written_out_nor_raises(registry: Registry) -> None:
    # str() of an int past 4300 digits raises ValueError, and costs quadratic time below that
    out = classify("acme", {"code": 10**5000}, registry=registry)
    assert (out.category, out.matched, out.code) == (Category.UNKNOWN, Match.UNMAPPED, "\u2026")
    assert classify("acme", {"code": -(10**64)}, registry=registry).code == "\u2026"
    widest = -(10 ** (MAX_CODE_LENGTH - 1)) + 1  # a '-' and 63 digits: 64 characters
    assert classify("acme", {"code": widest}, registry=registry).code == str(widest)
    assert lookup("acme", 10**5000, registry=registry).category is Category.UNKNOWN


HOSTILE_DECLARATION = b"<?xml" + b" encoding='a'" * 20_000  # 4 s of CPU before, 72 s at 1 MB


def test_a_hostile_xml_declaration_is_unknown_in_bounded_steps(
    declaration_windows: list[int],
) -> None:
    windows = declaration_windows
    out = normalizer.classify("ucpaas", HOSTILE_DECLARATION)
    assert (out.category, out.matched) == (Category.UNKNOWN, Match.MISSING)
    ok = b"<?xml version='1.0' encoding='GBK'?><resp><respCode>000000</respCode></resp>"
    assert normalizer.classify("ucpaas", ok).ok
    assert windows
    assert max(windows) <= xml_module.MAX_DECLARATION


@pytest.mark.parametrize("codec", ["idna", "punycode", "utf-7", "rot13", "hex", "zlib", "nope"])
def test_an_xml_body_in_no_document_encoding_is_unknown_never_raises(codec: str) -> None:
    body = f'<?xml version="1.0" encoding="{codec}"?><resp><respCode>000000</respCode></resp>'
    out = normalizer.classify("ucpaas", body.encode())  # idna raised UnicodeError here
    assert (out.category, out.matched) == (Category.UNKNOWN, Match.MISSING)
    failed = normalizer.classify("ucpaas", body.encode(), status_code=502)
    assert failed.category is Category.SERVER


# --- many bodies at once, and the compiled form (issue 28) -------------------------------------


def test_classify_many_reads_each_body_as_classify_does(registry: Registry) -> None:
    url = "https://api.acme.test/v1/voice/call"
    bodies: list[normalizer._classify.Body] = [
        b'{"status": "-9", "reason": "slow down"}',
        '{"status": "-3"}',
        {"status": "-1", "reason": "who are you"},
        b"<html>502</html>",
        None,
        b'{"status": "-9", "pad": "' + b"x" * 2000 + b'"}',  # over the cap below
    ]
    many = normalizer.classify_many(
        "acme", bodies, url=url, status_code=200, registry=registry, max_body_size=1000
    )
    one_by_one = [
        classify("acme", b, url=url, status_code=200, registry=registry, max_body_size=1000)
        for b in bodies
    ]
    assert list(many) == one_by_one
    assert [o.category for o in one_by_one] == ["busy", "billing", "auth", *["unknown"] * 3]
    assert one_by_one[-1].message == "body over max_body_size (1000 bytes): not read"


def test_classify_many_checks_its_arguments_at_once_and_reads_lazily(registry: Registry) -> None:
    with pytest.raises(UnregisteredVendorError):
        normalizer.classify_many("nope", [], registry=registry)
    with pytest.raises(ValueError, match="no product 'fax'"):
        normalizer.classify_many("acme", [], product="fax", registry=registry)
    with pytest.raises(ValueError, match="max_body_size"):
        normalizer.classify_many("acme", [], registry=registry, max_body_size=-1)

    def queue() -> Iterator[bytes]:
        yield b'{"code": "107225"}'
        raise AssertionError("read past what was asked for")

    first = next(normalizer.classify_many("acme", queue(), registry=registry))
    assert first.category is Category.BUSY


def test_a_string_of_19_digits_is_parsed_by_orjson_a_number_by_json(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if classify_module.fast_loads is None:
        pytest.skip("orjson is not installed")
    careful: list[object] = []
    real = json.loads

    def counting(body: bytes | str) -> object:
        careful.append(body)
        return real(body)

    monkeypatch.setattr("normalizer._classify.json.loads", counting)
    onbuka = (
        b'{"status": "0", "array": [{"msgId": "2108021054011000095", "number": "91856321412"}]}'
    )
    out = normalizer.classify("onbuka", onbuka, url="https://api.onbuka.com/v3/sendSms")
    assert out.items[0].message_id == "2108021054011000095"
    assert careful == []  # an id that is a string: orjson read it
    for number in (b"12345678901234567890123", b"-12345678901234567890", b"-9223372036854775809"):
        body = b'{"code": ' + number + b', "msg": "x"}'
        assert classify_module.long_number(body)
        assert classify_module.parse_json(body) == {"code": int(number), "msg": "x"}
    assert len(careful) == 3  # a number orjson would read as a float: the careful parser
    for text in (b'{"id": "a12345678901234567890123"}', b'["12345678901234567890"]'):
        assert classify_module.long_number(text) is (text[8:9] == b"a")
    # 19 digits fit orjson's 64 bits (unsigned, or signed when negative): read by orjson
    for number in (b"1234567890123456789", b"9999999999999999999", b"18446744073709551615"):
        body = b'{"code": ' + number + b"}"
        assert not classify_module.long_number(body) or len(number) == 20
        parsed = classify_module.parse_json(body)
        assert parsed == {"code": int(number)}
        assert type(parsed["code"]) is int


def test_every_integer_around_64_bits_is_read_exactly() -> None:
    # the boundaries of orjson's integers (signed and unsigned 64 bits) and past them: the
    # document must hold what the standard library reads, an int, never a rounded float
    edges = [2**63 - 1, 2**63, 2**64 - 1, 2**64, 10**19 - 1, 10**19, 10**20, 10**40]
    for value in [*edges, *(-e for e in edges), -(2**63), -(2**63) - 1]:
        for body in (b'{"code": %d}' % value, b'{"id": "%d", "code": %d}' % (value, value)):
            parsed = classify_module.parse_json(body)
            assert parsed == json.loads(body), body
            assert isinstance(parsed, dict)
            assert type(parsed["code"]) is int, body
        # and the generated reader's own copy of the check (MANGO's code is "result")
        assert normalizer.classify("mango", b'{"result": %d}' % value).code == str(value)


def test_an_outcome_is_built_from_its_code_template_not_its_constructor(
    registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = b'{"resp": {"code": "107225", "desc": "busy now", "callId": 42}}'
    first = classify("acme", body, registry=registry)
    built: list[object] = []
    real = Outcome.__init__

    def counting(self: Outcome, *args: object, **kwargs: object) -> None:
        built.append(args)
        real(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Outcome, "__init__", counting)
    again = [
        classify("acme", body.replace(b"42", str(n).encode()), registry=registry) for n in range(50)
    ]
    assert built == []  # every one a copy of the code's prebuilt outcome
    assert again[7] == dataclasses.replace(first, request_id="7")
    assert lookup("acme", "107225", registry=registry) is lookup(
        "acme", "107225", registry=registry
    )


def test_a_vendor_mapping_is_compiled_once_and_never_pickled(registry: Registry) -> None:
    mapping = registry.get("acme")
    classify("acme", {"code": "0"}, registry=registry)
    compiled = mapping.compiled
    assert compiled is not None
    classify("acme", {"code": "5001"}, url="https://api.acme.test/v1/sms/x", registry=registry)
    assert mapping.compiled is compiled
    back = pickle.loads(pickle.dumps(mapping))
    assert back.compiled is None
    assert back == mapping
