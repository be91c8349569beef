"""Mapping files: every bad file fails at load with the file, the key and the reason."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

import normalizer
from normalizer import Category, MappingError, Registry
from normalizer._mapping import VendorMapping, load_file, read_file
from tests.conftest import ACME

WriteMapping = Callable[..., Path]

MINIMAL = """
format = 1
[vendor]
id = "mini"
name = "Mini"
[envelope]
code = ["code"]
"""


def test_the_synthetic_vendor_loads(write_mapping: WriteMapping) -> None:
    mapping = load_file(write_mapping(ACME))
    assert mapping.id == "acme"
    assert mapping.table.codes["5001"].rejected is True
    assert mapping.table.codes["5000"].rejected is False
    assert mapping.products["voice"].name == "voice"  # name defaults to the id
    assert mapping.products["sms"].envelope.code == mapping.envelope.code
    assert [p.text for p in mapping.products["voice"].envelope.code] == ["status"]


def test_call_outcomes_are_neither_retryable_nor_rejected_by_default(
    write_mapping: WriteMapping,
) -> None:
    text = (
        MINIMAL + '[codes]\n"1" = { category = "busy", description = "d", call_outcome = true }\n'
    )
    entry = load_file(write_mapping(text)).table.codes["1"]
    assert (entry.category, entry.retryable, entry.rejected) == (Category.BUSY, False, False)


BAD = [
    # (what is appended/replaced, expected key, expected reason fragment)
    (MINIMAL.replace("format = 1", "format = 2"), "format", "must be 1"),
    (MINIMAL.replace('id = "mini"', 'id = "Mini Vendor"'), "vendor.id", "is not an id"),
    (MINIMAL.replace('name = "Mini"', ""), "vendor.name", "missing"),
    (MINIMAL.replace('code = ["code"]', ""), "envelope.code", "missing"),
    (MINIMAL.replace('code = ["code"]', "code = []"), "envelope.code", "at least one path"),
    (MINIMAL.replace('code = ["code"]', 'code = ["resp..code"]'), "envelope.code[0]", "dotted"),
    (MINIMAL.replace('code = ["code"]', 'code = "code"'), "envelope.code", "list of strings"),
    (MINIMAL.replace('name = "Mini"', 'name = "Mini"\nextends = "x"'), "vendor", "exactly one of"),
    (MINIMAL + "surprise = 1\n", "envelope.surprise", "unknown key"),
    (MINIMAL + 'remaining = ["x ratelimit"]\n', "envelope.remaining[0]", "not a header name"),
    (MINIMAL + 'retry_after = ["a:b"]\n', "envelope.retry_after[0]", "not a header name"),
    (MINIMAL + '[resend]\nacts_through = ["GET"]\n', "resend.source", "missing"),
    (MINIMAL + '[resend]\nsource = "s"\nreads = [{}]\n', "resend.reads[0]", "every request"),
    (
        MINIMAL + '[resend]\nsource = "s"\nnonce = [{ path = ["/x"] }]\n',
        "resend.nonce[0].path",
        "unknown key",
    ),
    (
        MINIMAL
        + '[resend]\nsource = "s"\nidempotency = [{ header = "Idem Key", paths = ["/"] }]\n',
        "resend.idempotency[0].header",
        "not a header name",
    ),
    (
        MINIMAL + '[resend]\nsource = "s"\nidempotency = [{ paths = ["/"] }]\n',
        "resend.idempotency[0].header",
        "missing",
    ),
    (
        MINIMAL + '[resend]\nsource = "s"\nreads = [{ paths = ["/"], methods = ["get"] }]\n',
        "resend.reads[0].methods[0]",
        "not an HTTP method",
    ),
    (
        MINIMAL + '[resend]\nsource = "s"\nreads = [{ methods = ["GET"] }]\n',
        "resend.reads[0]",
        "every request",
    ),
    (
        MINIMAL + '[resend]\nsource = "s"\nacts_through = ["POST"]\n',
        "resend.acts_through[0]",
        "not an idempotent method",
    ),
    (
        MINIMAL + '[codes]\n"1" = { category = "busy", description = "d", cooldown = "5s" }\n',
        'codes."1".cooldown',
        "number of seconds",
    ),
    (
        MINIMAL + '[[http]]\nstatus = 429\ncategory = "busy"\ndescription = "d"\ncooldown = 0\n',
        "http[0].cooldown",
        "more than 0",
    ),
    (
        MINIMAL + '[codes]\n"1" = { category = "fatal", description = "d" }\n',
        'codes."1".category',
        "not one of",
    ),
    (MINIMAL + '[codes]\n"1" = { category = "busy" }\n', 'codes."1".description', "missing"),
    (
        MINIMAL + '[codes]\n"1" = { category = "busy", description = "" }\n',
        'codes."1".description',
        "must not be empty",
    ),
    (
        MINIMAL + '[codes]\n"1" = { category = "busy", description = "d", retryable = "yes" }\n',
        'codes."1".retryable',
        "true or false",
    ),
    (
        MINIMAL + '[codes]\n"1" = { catgory = "busy", description = "d" }\n',
        'codes."1".catgory',
        "unknown key",
    ),
    (
        MINIMAL + '[codes]\n"1 2" = { category = "busy", description = "d" }\n',
        'codes."1 2"',
        "without spaces",
    ),
    (MINIMAL + '[codes]\n"1" = "busy"\n', 'codes."1"', "must be a table"),
    (MINIMAL + '[classes]\n"22" = "2200"\n', 'classes."22"', "at least one 'x'"),
    (MINIMAL + '[classes]\n"22xx" = "2200"\n', 'classes."22xx"', "not a code in the table"),
    (
        MINIMAL + '[codes]\n"2300" = { category = "busy", description = "d" }\n'
        '[classes]\n"22xx" = "2300"\n',
        'classes."22xx"',
        "does not fall in the class",
    ),
    (MINIMAL + '[classes]\n"22xx" = "220"\n', 'classes."22xx"', "not as long"),
    (
        MINIMAL + '[[http]]\nstatus = "600"\ncategory = "busy"\ndescription = "d"\n',
        "http[0].status",
        "not an HTTP status",
    ),
    (
        MINIMAL + '[[http]]\nstatus = "503"\ncategory = "busy"\ndescription = "d"\npaths = ["x"]\n',
        "http[0].paths[0]",
        "must start with",
    ),
    (MINIMAL + '[http]\nstatus = "503"\n', "http", "array of tables"),
    (MINIMAL + '[detect]\nhosts = ["https://a.test/"]\n', "detect.hosts[0]", "host name"),
    (
        MINIMAL.replace('code = ["code"]', 'code = ["code"]\nsuccess = ["1"]')
        + '[codes]\n"1" = { category = "busy", description = "d" }\n',
        'codes."1"',
        "envelope.success",
    ),
    (MINIMAL + '[products."SMS"]\n', "products.SMS", "not a product id"),
    (
        MINIMAL + "[products.sms]\nenvelope = { code = [] }\n",
        "products.sms.envelope.code",
        "at least one path",
    ),
    (
        MINIMAL + '[products.sms.codes]\n"1" = { category = "nope", description = "d" }\n',
        'products.sms.codes."1".category',
        "not one of",
    ),
    (MINIMAL + '[products.sms.classes]\n"1x" = "10"\n', 'products.sms.classes."1x"', "not a code"),
    (MINIMAL + "[products.sms]\ninherit = 1\n", "products.sms.inherit", "true or false"),
    (MINIMAL + "[detect]\nheaders = { X-Action = [] }\n", "detect.headers.X-Action", "at least"),
    (MINIMAL + '[detect]\nquery = { Action = "Send" }\n', "detect.query.Action", "list of"),
    (MINIMAL + '[aliases.brand]\nname = "B"\n', "aliases.brand.hosts", "missing"),
    (
        MINIMAL + '[aliases.brand]\nhosts = ["b.test"]\nproducts = { fax = ["/f/*"] }\n',
        "aliases.brand.products.fax",
        "no product 'fax'",
    ),
    (
        MINIMAL.replace('code = ["code"]', 'code = ["code"]\nno_code = "yes"'),
        "envelope.no_code",
        "true, false or a list",
    ),
    (MINIMAL.replace('code = ["code"]', 'code = ["code"]\nxml = 1'), "envelope.xml", "true or"),
    (
        MINIMAL + '[[when]]\nequals = ["1"]\ncategory = "busy"\ndescription = "d"\n',
        "when[0].field",
        "missing",
    ),
    (
        MINIMAL + '[[when]]\nfield = ["s"]\nequals = []\ncategory = "busy"\ndescription = "d"\n',
        "when[0].equals",
        "at least one value",
    ),
    (
        MINIMAL + '[[when]]\nfield = ["s"]\nequals = [1.5]\ncategory = "busy"\ndescription = "d"\n',
        "when[0].equals[0]",
        "string or integer",
    ),
    (MINIMAL + "[[items]]\nkeyed = true\n", "items[0].path", "missing"),
    (MINIMAL + '[[items]]\npath = ["a..b"]\n', "items[0].path[0]", "dotted path"),
    (
        MINIMAL
        + '[[items]]\npath = ["list"]\n[items.codes]\n'
        + '"1" = { category = "x", description = "d" }\n',
        'items[0].codes."1".category',
        "not one of",
    ),
    (
        MINIMAL + '[codes]\n"1" = { category = "ok", description = "d", call_outcome = true, '
        "delivery_outcome = true }\n",
        'codes."1"',
        "not both",
    ),
    (
        MINIMAL
        + '[codes]\n"1" = { category = "validation", description = "d", fault = "theirs" }\n',
        'codes."1".fault',
        "'theirs' is not one of: vendor, recipient, content, request",
    ),
    (
        MINIMAL + '[codes]\n"1" = { category = "validation", description = "d", fault = 1 }\n',
        'codes."1".fault',
        "string",
    ),
    (
        MINIMAL + '[codes]\n"1" = { category = "ok", description = "d", fault = "vendor" }\n',
        'codes."1".fault',
        "a success is nobody's fault",
    ),
]


@pytest.mark.parametrize(("text", "key", "reason"), BAD, ids=[b[1] + ":" + b[2] for b in BAD])
def test_bad_files_name_file_key_and_reason(
    write_mapping: WriteMapping, text: str, key: str, reason: str
) -> None:
    path = write_mapping(text, "mini.toml")
    with pytest.raises(MappingError) as info:
        load_file(path)
    err = info.value
    assert err.path == str(path)
    assert err.key == key
    assert reason in err.reason
    assert str(path) in str(err)
    assert key in str(err)


def test_duplicate_code_is_rejected_with_the_line(write_mapping: WriteMapping) -> None:
    text = MINIMAL + '[codes]\n"1" = { category = "busy", description = "a" }\n'
    text += '"1" = { category = "server", description = "b" }\n'
    path = write_mapping(text, "dup.toml")
    with pytest.raises(MappingError, match=r"not valid TOML.*line 10") as info:
        read_file(path)
    assert info.value.path == str(path)


@pytest.mark.parametrize(
    ("content", "reason"),
    [(b"\xff\xfe not utf8", "not UTF-8"), (b"= nonsense", "not valid TOML")],
)
def test_unreadable_files(tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "x.toml"
    path.write_bytes(content)
    with pytest.raises(MappingError, match=reason):
        read_file(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match="cannot read"):
        read_file(tmp_path / "nope.toml")


def test_overlay_cannot_load_alone(write_mapping: WriteMapping) -> None:
    path = write_mapping('format = 1\n[vendor]\nextends = "acme"\n', "o.toml")
    with pytest.raises(MappingError, match="register it"):
        load_file(path)


def test_toml_cannot_execute_code(write_mapping: WriteMapping) -> None:
    # the format has no tags or object constructors: this is just an invalid file
    text = MINIMAL + '[codes]\n"1" = !!python/object/apply:os.system ["echo pwned"]\n'
    with pytest.raises(MappingError, match="not valid TOML"):
        load_file(write_mapping(text, "evil.toml"))


def test_registry_rejects_builtin_whose_id_differs_from_file_name(tmp_path: Path) -> None:
    (tmp_path / "other.toml").write_text(MINIMAL, encoding="utf-8")
    with pytest.raises(MappingError, match="must be 'other'"):
        Registry(builtin=tmp_path, environ=False).get("other")


BAD_REDACT = [
    (MINIMAL + '[redact]\nkeys = "api_id"\n', "redact.keys", "list of strings"),
    (MINIMAL + "[redact]\nkeys = [1]\n", "redact.keys[0]", "must be a string"),
    (MINIMAL + '[redact]\nkeys = ["api id"]\n', "redact.keys[0]", "not a header, query or field"),
    (MINIMAL + '[redact]\nkeys = [""]\n', "redact.keys[0]", "must not be empty"),
    (MINIMAL + '[redact]\nafter_segments = ["a/b"]\n', "redact.after_segments[0]", "segment"),
    (MINIMAL + '[redact]\nafter = ["Accounts"]\n', "redact.after", "unknown key"),
    (MINIMAL.replace("format = 1", 'format = 1\nredact = ["a"]'), "redact", "must be a table"),
]


@pytest.mark.parametrize(
    ("text", "key", "reason"), BAD_REDACT, ids=[b[1] + ":" + b[2] for b in BAD_REDACT]
)
def test_bad_redact_tables_name_file_key_and_reason(
    write_mapping: WriteMapping, text: str, key: str, reason: str
) -> None:
    path = write_mapping(text, "mini.toml")
    with pytest.raises(MappingError) as info:
        load_file(path)
    assert (info.value.path, info.value.key) == (str(path), key)
    assert reason in info.value.reason


def test_redact_is_read_and_an_overlay_adds_to_it(tmp_path: Path) -> None:
    builtin = tmp_path / "builtin"
    builtin.mkdir()
    (builtin / "mini.toml").write_text(
        MINIMAL + '[redact]\nkeys = ["api_id"]\nafter_segments = ["Accounts"]\n', encoding="utf-8"
    )
    registry = Registry(builtin=builtin, environ=False)
    redact = registry.get("mini").redact
    assert (redact.keys, redact.after_segments) == (("api_id",), ("Accounts",))
    overlay = tmp_path / "patch.toml"
    overlay.write_text(
        'format = 1\n[vendor]\nextends = "mini"\n[redact]\nkeys = ["X-Tenant"]\n', encoding="utf-8"
    )
    registry.register(overlay)
    redact = registry.get("mini").redact
    assert (redact.keys, redact.after_segments) == (("api_id", "X-Tenant"), ("Accounts",))
    assert load_file(builtin / "mini.toml").redact == redact.__class__(("api_id",), ("Accounts",))


def test_deeply_nested_toml_is_a_mapping_error(write_mapping: WriteMapping) -> None:
    path = write_mapping(MINIMAL + "deep = " + "[" * 20_000 + "]" * 20_000 + "\n", "deep.toml")
    with pytest.raises(MappingError) as info:
        read_file(path)
    assert info.value.path == str(path)
    assert "nested too deeply" in info.value.reason


def test_thousands_of_class_patterns_load_and_resolve_in_linear_time(
    write_mapping: WriteMapping,
) -> None:
    """Every distinct "x" layout of a 12-digit code (4095 classes) beside an inherit = false
    family of 10,000 codes: once quadratic (each lookup tried every layout), now a trie walk.
    Counted in calls (Python's and C's), not seconds (a busy machine failed the timed
    assertion this replaces): 16 times the layouts must not cost a try per layout per code."""
    import sys

    def calls_to_load(positions: int) -> tuple[int, VendorMapping]:
        lines = [MINIMAL, "[codes]", '"000000000000" = { category = "busy", description = "d" }']
        lines.append("[classes]")
        for mask in range(1, 1 << positions):  # the layouts of "x" over the last positions
            pattern = "".join("x" if mask >> i & 1 else "0" for i in range(12))
            lines.append(f'"{pattern[::-1]}" = "000000000000"')
        lines += ["[products.family]", "inherit = false", "[products.family.codes]"]
        lines += [
            f'"9{i:011d}" = {{ category = "auth", description = "d" }}' for i in range(10_000)
        ]
        path = write_mapping("\n".join(lines) + "\n", f"big{positions}.toml")
        count = 0

        def counting(frame: object, event: str, arg: object) -> None:
            nonlocal count
            count += event in ("call", "c_call")  # a scan of every layout makes C calls too

        sys.setprofile(counting)
        try:
            loaded = load_file(path)
        finally:
            sys.setprofile(None)
        return count, loaded

    few, _ = calls_to_load(8)  # 255 layouts
    many, mapping = calls_to_load(12)  # 4095 layouts
    # with 3,840 more layouts each code's walk costs about 900 more calls (8.7 million in
    # all); trying every layout for every code would cost 41 million and more
    assert many - few < 25_000_000
    table = mapping.table
    assert table.nearest_class("000000000001") == "00000000000x"  # the fewest x wins
    assert table.nearest_class("100000000000") == "x00000000000"
    assert table.nearest_class("999999999999") == "x" * 12
    assert table.nearest_class("00000000000a") is None  # "x" stands for a digit only
    assert table.nearest_class("0000") is None  # no pattern of that length


def test_equally_specific_classes_prefer_the_earlier_digits(write_mapping: WriteMapping) -> None:
    text = MINIMAL + '[codes]\n"12" = { category = "busy", description = "d" }\n'
    text += '[classes]\n"x2" = "12"\n"1x" = "12"\n'
    table = load_file(write_mapping(text, "tie.toml")).table
    assert table.nearest_class("13") == "1x"
    assert table.nearest_class("22") == "x2"
    assert table.nearest_class("12") == "1x"  # both match: the one whose digits come first


def test_an_overlay_adds_reads_and_nonces_and_replaces_the_rest(
    write_mapping: WriteMapping,
) -> None:
    from normalizer._mapping import Target, build, merge

    base = (
        MINIMAL + '[resend]\nsource = "s"\nacts_through = ["GET"]\nreads = [{ paths = ["/a"] }]\n'
    )
    patch = 'format = 1\n[vendor]\nextends = "mini"\n[resend]\nreads = [{ paths = ["/b"] }]\n'
    patch += "acts_through = []\n"
    doc = merge(read_file(write_mapping(base)), read_file(write_mapping(patch, "patch.toml")))
    resend = build(doc, ("mini.toml", "patch.toml")).resend
    assert not resend.acts_through
    assert resend.source == "s"
    reads = [resend.reads_only("GET", Target("h", p)) for p in ("/a", "/b", "/c")]
    assert reads == [True, True, False]


def test_fault_written_or_derived_reaches_outcomes_items_and_the_cache(
    write_mapping: WriteMapping, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A written fault wins; an unwritten one follows the category's scope; both survive the
    compiled cache (marshal rows) and reach Outcome and Item."""
    from normalizer import Fault

    text = MINIMAL + (
        '[codes]\n"1" = { category = "validation", description = "template not approved", '
        'fault = "vendor" }\n'
        '"2" = { category = "validation", description = "invalid number", fault = "recipient" }\n'
        '"3" = { category = "busy", description = "rate limit" }\n'
        '"4" = { category = "busy", description = "per-number cap", scope = "recipient" }\n'
        '"5" = { category = "validation", description = "bad parameter" }\n'
        '"6" = { category = "ok", description = "fine" }\n'
    )
    folder = write_mapping(text, "mini.toml").parent
    monkeypatch.setenv("NORMALIZER_CACHE_DIR", str(tmp_path / "cache"))
    expected = {
        "1": Fault.VENDOR,
        "2": Fault.RECIPIENT,
        "3": Fault.VENDOR,
        "4": Fault.RECIPIENT,
        "5": Fault.REQUEST,
        "6": None,
    }
    for _ in range(2):  # the second registry reads the cache the first one wrote
        registry = Registry(builtin=folder, environ=False)
        mapping = registry.get("mini")
        assert {code: mapping.table.codes[code].fault for code in expected} == expected
        for code, fault in expected.items():
            assert normalizer.lookup("mini", code, registry=registry).fault is fault
