"""The ``[sdk]`` table of a mapping file: validated on load like every other table (file, key,
reason), merged by overlays, and the built-in vendors' tables name real SDK classes."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path

import pytest

from normalizer import MappingError, Registry
from normalizer._mapping import load_file
from normalizer._registry import default_registry

WriteMapping = Callable[..., Path]

MINIMAL = """
format = 1
[vendor]
id = "mini"
name = "Mini"
[envelope]
code = ["code"]
[products.sms]
paths = ["/sms"]
"""

GOOD = (
    MINIMAL
    + """
[sdk]
source = "mini-sdk mini/errors.py"
[[sdk.errors]]
classes = ["mini.errors.ApiError"]
code = ["code"]
message = ["detail", "title"]
status = ["response.status_code"]
text = 'code (?P<code>\\d+): (?P<message>.*)'
product = "sms"
transport = ["NetworkError"]
[[sdk.models]]
classes = ["mini.models.Model"]
at = "Response.Data"
"""
)

S = '[sdk]\nsource = "s"\n'
E = S + '[[sdk.errors]]\nclasses = ["m.E"]\n'
M = S + '[[sdk.models]]\nclasses = ["m.M"]\n'
BAD = [
    ("[sdk]\nerrors = 1\n", "sdk.errors", "array of tables"),
    (S + '[[sdk.errors]]\ncode = ["code"]\n', "sdk.errors[0].classes", "at least one class"),
    (
        S + '[[sdk.errors]]\nclasses = ["ApiError"]\ncode = ["c"]\n',
        "sdk.errors[0].classes[0]",
        "module-qualified",
    ),
    ('[[sdk.errors]]\nclasses = ["m.E"]\ncode = ["c"]\n', "sdk.errors[0].source", "missing"),
    (E + 'code = ["a-b"]\n', "sdk.errors[0].code[0]", "dotted attribute"),
    (E, "sdk.errors[0]", "reads nothing"),
    (E + 'text = "("\n', "sdk.errors[0].text", "regular expression"),
    (E + 'text = "x"\n', "sdk.errors[0].text", "named 'code'"),
    (E + 'code = ["c"]\nproduct = "voice"\n', "sdk.errors[0].product", "no product 'voice'"),
    (E + 'code = ["c"]\nurl_of = ["u"]\n', "sdk.errors[0].url_of", "unknown key"),
    (E + 'transport = ["a b"]\n', "sdk.errors[0].transport[0]", "not a code"),
    (M + 'at = "a..b"\n', "sdk.models[0].at", "dotted path"),
    (M + 'text = "x"\n', "sdk.models[0].text", "unknown key"),
]


@pytest.mark.parametrize(("text", "key", "reason"), BAD, ids=[b[1] + ":" + b[2] for b in BAD])
def test_bad_sdk_tables_name_file_key_and_reason(
    write_mapping: WriteMapping, text: str, key: str, reason: str
) -> None:
    path = write_mapping(MINIMAL + text, "mini.toml")
    with pytest.raises(MappingError) as info:
        load_file(path)
    assert (info.value.path, info.value.key) == (str(path), key)
    assert reason in info.value.reason


def test_a_good_sdk_table_is_read(write_mapping: WriteMapping) -> None:
    sdk = load_file(write_mapping(GOOD, "mini.toml")).sdk
    (error,) = sdk.errors
    assert error.classes == ("mini.errors.ApiError",)
    assert (error.code, error.message, error.status) == (
        ("code",),
        ("detail", "title"),
        ("response.status_code",),
    )
    assert error.text is not None
    found = error.text.search("code 42: slow")
    assert found is not None
    assert found["code"] == "42"
    assert (error.product, error.transport) == ("sms", frozenset({"NetworkError"}))
    assert error.source == "mini-sdk mini/errors.py"  # the table's source, when none of its own
    assert sdk.models[0].at == "Response.Data"


def test_an_overlay_s_sdk_entries_come_first(tmp_path: Path) -> None:
    builtin = tmp_path / "builtin"
    builtin.mkdir()
    (builtin / "mini.toml").write_text(GOOD, encoding="utf-8")
    registry = Registry(builtin=builtin, environ=False)
    overlay = tmp_path / "patch.toml"
    overlay.write_text(
        'format = 1\n[vendor]\nextends = "mini"\n[[sdk.errors]]\nclasses = ["mini2.E"]\n'
        'code = ["error_code"]\nsource = "mini-sdk 2.0"\n',
        encoding="utf-8",
    )
    registry.register(overlay)
    errors = registry.get("mini").sdk.errors
    assert [e.classes for e in errors] == [("mini2.E",), ("mini.errors.ApiError",)]
    assert errors[0].source == "mini-sdk 2.0"


BUILT_IN = ["twilio", "tencent_sms", "aliyun_sms", "vonage", "infobip"]


@pytest.mark.parametrize("vendor", BUILT_IN)
def test_every_class_a_built_in_table_names_exists_in_the_installed_sdk(vendor: str) -> None:
    """Names are matched, never imported, by normalizer: a typo would silently match nothing,
    so the test imports each (the SDKs are in the dev extra)."""
    sdk = default_registry().get(vendor).sdk
    names = [n for spec in sdk.errors for n in spec.classes]
    names += [n for spec in sdk.models for n in spec.classes]
    assert names
    for name in names:
        module, _, cls = name.rpartition(".")
        assert getattr(importlib.import_module(module), cls).__module__ == module, name
