"""The registry: built-in files read lazily, user files and overlays, the environment variable."""

from __future__ import annotations

import dataclasses
import os
import stat
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

import normalizer
from normalizer import Category, MappingError, Match, Registry, UnregisteredVendorError, lookup
from normalizer._mapping import LazyCodes
from normalizer._registry import (
    CACHE_VAR,
    ENV_VAR,
    MappingCache,
    MappingWarning,
    builtin_dir,
    default_registry,
)
from tests.conftest import ACME

OVERLAY = """
format = 1
[vendor]
extends = "acme"
name = "ACME (patched)"
[envelope]
message = ["error.text"]
[codes]
"5000" = { category = "busy", description = "Ошибка сервера (really a limit)", gloss = "x" }
"9999" = { category = "not_found", description = "new code", gloss = "new" }
[classes]
"9xxx" = "9999"
[[http]]
status = "503"
category = "server"
description = "patched 503"
[products.sms.codes]
"-3" = { category = "busy", description = "patched sms", gloss = "p" }
[products.fax.codes]
"-1" = { category = "auth", description = "fax auth", gloss = "f" }
"""

NEW_VENDOR = """
format = 1
[vendor]
id = "zeta"
name = "Zeta"
[envelope]
code = ["err"]
[codes]
"E1" = { category = "auth", description = "bad key" }
"""


def test_builtin_vendors_are_read_lazily(tmp_path: Path) -> None:
    (tmp_path / "a.toml").write_text(NEW_VENDOR.replace('"zeta"', '"a"'), encoding="utf-8")
    (tmp_path / "b.toml").write_text("this is not toml", encoding="utf-8")
    reg = Registry(builtin=tmp_path, environ=False)
    assert reg.ids() == ("a", "b")
    # b.toml is broken, but nothing reads it until vendor b is used
    assert lookup("a", "E1", registry=reg).category is Category.AUTH
    with pytest.raises(MappingError, match=r"b\.toml"):
        reg.get("b")


def test_overlay_extends_and_overrides(registry: Registry, tmp_path: Path) -> None:
    path = tmp_path / "patch.toml"
    path.write_text(OVERLAY, encoding="utf-8")
    assert registry.register(path) == ("acme",)
    mapping = registry.get("acme")
    assert mapping.name == "ACME (patched)"
    assert mapping.files[-1] == str(path)
    assert lookup("acme", "5000", registry=registry).category is Category.BUSY
    assert lookup("acme", "9999", registry=registry).category is Category.NOT_FOUND
    assert lookup("acme", "9123", registry=registry).matched is Match.CLASS
    # untouched entries survive
    assert lookup("acme", "107225", registry=registry).message == "外呼繁忙"
    assert lookup("acme", "-3", product="voice", registry=registry).category is Category.BILLING
    assert lookup("acme", "-3", product="sms", registry=registry).message == "patched sms"
    assert lookup("acme", "-1", product="fax", registry=registry).message == "fax auth"
    # envelope fields are replaced one by one: code paths kept, message paths replaced
    out = normalizer.classify(
        "acme", {"code": "5001", "error": {"text": "t"}, "msg": "m"}, registry=registry
    )
    assert out.vendor_message == "t"
    # the overlay's HTTP rules go first
    assert normalizer.classify("acme", b"", status_code=503, registry=registry).message == (
        "patched 503"
    )


def test_file_with_same_id_replaces_a_vendor(registry: Registry, tmp_path: Path) -> None:
    path = tmp_path / "acme.toml"
    path.write_text(NEW_VENDOR.replace('"zeta"', '"acme"'), encoding="utf-8")
    registry.register(path)
    assert lookup("acme", "107225", registry=registry).matched is Match.UNMAPPED
    assert lookup("acme", "E1", registry=registry).category is Category.AUTH


def test_register_a_directory(registry: Registry, tmp_path: Path) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "zeta.toml").write_text(NEW_VENDOR, encoding="utf-8")
    (folder / "patch.toml").write_text(OVERLAY, encoding="utf-8")
    (folder / "notes.txt").write_text("ignored", encoding="utf-8")
    assert set(registry.register(folder)) == {"acme", "zeta"}
    assert registry.ids() == ("acme", "zeta")
    assert lookup("zeta", "E1", registry=registry).message == "bad key"


def test_bad_file_leaves_registry_unchanged(registry: Registry, tmp_path: Path) -> None:
    good = tmp_path / "zeta.toml"
    good.write_text(NEW_VENDOR, encoding="utf-8")
    bad = tmp_path / "bad.toml"
    bad.write_text(NEW_VENDOR.replace('"auth"', '"nope"').replace("zeta", "yota"), "utf-8")
    with pytest.raises(MappingError, match=r"bad\.toml"):
        registry.register(good, bad)
    assert registry.ids() == ("acme",)


def test_overlay_of_unknown_vendor(registry: Registry, tmp_path: Path) -> None:
    path = tmp_path / "o.toml"
    path.write_text(OVERLAY.replace('extends = "acme"', 'extends = "nobody"'), "utf-8")
    with pytest.raises(MappingError, match="no vendor 'nobody' to extend") as info:
        registry.register(path)
    assert info.value.key == "vendor.extends"


def test_overlay_breaking_a_class_target_fails_at_register(
    registry: Registry, tmp_path: Path
) -> None:
    path = tmp_path / "o.toml"
    path.write_text('format = 1\n[vendor]\nextends = "acme"\n[classes]\n"3xxx" = "3000"\n', "utf-8")
    with pytest.raises(MappingError, match="'3000' is not a code") as info:
        registry.register(path)
    assert info.value.path == str(path)


def test_missing_path(registry: Registry, tmp_path: Path) -> None:
    with pytest.raises(MappingError, match="no such file"):
        registry.register(tmp_path / "nowhere.toml")


def test_environment_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, registry: Registry
) -> None:
    (tmp_path / "zeta.toml").write_text(NEW_VENDOR, encoding="utf-8")
    builtin = tmp_path / "builtin"
    monkeypatch.setenv(ENV_VAR, f"{tmp_path / 'zeta.toml'}")
    reg = Registry(builtin=builtin)
    assert "zeta" in reg.ids()
    assert Registry(builtin=builtin, environ=False).ids() == ("acme",)


def test_unknown_vendor(registry: Registry) -> None:
    with pytest.raises(UnregisteredVendorError):
        registry.get("zeta")


def test_builtin_mappings_ship_with_the_package() -> None:
    assert builtin_dir().is_dir()
    assert set(default_registry().ids()) >= {
        "ucpaas",
        "huawei_isales",
        "mango",
        "airudder",
        "onbuka",
    }


def test_register_mappings_uses_the_default_registry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reg = Registry(environ=False)
    monkeypatch.setattr("normalizer._registry._default", reg)
    (tmp_path / "zeta.toml").write_text(NEW_VENDOR, encoding="utf-8")
    assert normalizer.register_mappings(tmp_path) == ("zeta",)
    assert lookup("zeta", "E1").category is Category.AUTH


def test_a_bad_file_in_the_environment_fails_every_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('format = 1\n[vendor]\nextends = "mango"\n[codes]\n"1" = "busy"\n', "utf-8")
    monkeypatch.setenv(ENV_VAR, str(bad))
    reg = Registry()
    for _ in range(3):  # never silently on the built-in tables without the user's overrides
        with pytest.raises(MappingError, match=r'codes\."1"'):
            reg.get("mango")
    bad.write_text('format = 1\n[vendor]\nextends = "mango"\n', "utf-8")
    assert reg.get("mango").id == "mango"  # fixed: the next use loads it


# --- a user file replacing a built-in vendor, or claiming another vendor's host (issue 26) --

REPLACED_TWILIO = """
format = 1
[vendor]
id = "twilio"
name = "Twilio, our own table"
[detect]
hosts = ["api.twilio.com"]
[envelope]
code = ["code"]
[codes]
"21211" = { category = "validation", description = "Invalid 'To' Phone Number" }
[redact]
keys = ["X-Our-Header"]
"""


def test_a_file_replacing_a_builtin_vendor_keeps_its_redaction(tmp_path: Path) -> None:
    """A file with ``id = "twilio"`` replaces Twilio's tables, but the account id after
    ``/Accounts/`` stays masked: the built-in ``[redact]`` is added to the file's own, as an
    overlay's would be (a user file adds secrets, it never unmasks the vendor's)."""
    reg = Registry(environ=False)
    builtin = reg.get("twilio").redact
    assert "Accounts" in builtin.after_segments
    path = tmp_path / "twilio.toml"
    path.write_text(REPLACED_TWILIO, encoding="utf-8")
    reg.register(path)
    mapping = reg.get("twilio")
    assert mapping.name == "Twilio, our own table"  # the file did replace the vendor
    assert mapping.files == (str(path),)
    assert lookup("twilio", "21610", registry=reg).matched is Match.UNMAPPED
    assert set(mapping.redact.after_segments) >= set(builtin.after_segments)
    assert set(mapping.redact.keys) == {"X-Our-Header", *builtin.keys}


def test_a_new_vendor_has_only_its_own_redaction(registry: Registry, tmp_path: Path) -> None:
    path = tmp_path / "zeta.toml"
    path.write_text(NEW_VENDOR + '[redact]\nkeys = ["z"]\n', encoding="utf-8")
    registry.register(path)
    assert registry.get("zeta").redact.keys == ("z",)


def claimer(tmp_path: Path, hosts: str, vid: str = "zeta") -> Path:
    path = tmp_path / f"{vid}.toml"
    text = NEW_VENDOR.replace('"zeta"', f'"{vid}"').replace("[envelope]", f"{hosts}\n[envelope]")
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("hosts", "key", "host", "theirs"),
    [
        ('[detect]\nhosts = ["api.acme.test"]', "detect.hosts", "api.acme.test", "api.acme.test"),
        (
            '[detect]\nhosts = ["x.acme-cc.test"]',
            "detect.hosts",
            "x.acme-cc.test",
            "*.acme-cc.test",
        ),
        ('[detect]\nhosts = ["*.test"]', "detect.hosts", "*.test", "api.acme.test"),
        (
            '[aliases.brand]\nhosts = ["api.acme.test"]',
            "aliases.brand.hosts",
            "api.acme.test",
            "api.acme.test",
        ),
    ],
)
def test_claiming_another_vendors_host_warns(
    registry: Registry, tmp_path: Path, hosts: str, key: str, host: str, theirs: str
) -> None:
    path = claimer(tmp_path, hosts)
    with pytest.warns(MappingWarning) as caught:
        assert registry.register(path) == ("zeta",)
    assert len(caught) == 1
    message = str(caught[0].message)
    assert message.startswith(f"{path}: {key}: vendor 'zeta' claims host {host!r}")
    assert f"which vendor 'acme' claims too ({theirs!r})" in message
    assert "a request both match goes to 'acme'" in message
    assert caught[0].filename == __file__  # points at the register call
    assert registry.get("zeta").detect.hosts or registry.get("zeta").aliases  # loaded all the same


def test_register_mappings_warns_at_its_caller(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("normalizer._registry._default", Registry(environ=False))
    path = claimer(tmp_path, '[detect]\nhosts = ["api.twilio.com"]', vid="acme_sms")
    with pytest.warns(
        MappingWarning, match=r"vendor 'acme_sms' claims host 'api.twilio.com'.*'twilio'"
    ):
        normalizer.register_mappings(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MappingWarning)  # users can filter it by category
        normalizer.register_mappings(path)


def test_own_hosts_and_overlays_do_not_warn(registry: Registry, tmp_path: Path) -> None:
    """pytest turns any warning into an error here: none is raised."""
    registry.register(claimer(tmp_path, '[detect]\nhosts = ["api.zeta.test"]'))
    overlay = tmp_path / "acme-patch.toml"
    overlay.write_text(
        'format = 1\n[vendor]\nextends = "acme"\n[detect]\nhosts = ["api.acme.test"]\n', "utf-8"
    )
    registry.register(overlay)
    assert registry.get("acme").detect.hosts == ("api.acme.test",)


# --- the compiled cache: what a file becomes, kept on disk (issue 28) -------------------------


def cached_registry(builtin: Path, cache: Path) -> Registry:
    return Registry(builtin=builtin, environ=False, cache=MappingCache(cache))


def never_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> object:
        raise AssertionError("a mapping file was parsed")

    monkeypatch.setattr("normalizer._registry.read_file", refuse)


def acme_dir(tmp_path: Path, text: str = ACME) -> Path:
    builtin = tmp_path / "builtin"
    builtin.mkdir(exist_ok=True)
    (builtin / "acme.toml").write_text(text, encoding="utf-8")
    return builtin


def test_a_fresh_registry_reads_a_vendor_from_the_cache_without_parsing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    builtin, cache = acme_dir(tmp_path), tmp_path / "cache"
    parsed = cached_registry(builtin, cache).get("acme")
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700
    assert [p.name.split("-")[0] for p in sorted(cache.glob("*.pickle"))] == [
        "document",
        "mapping",
    ]
    never_parsed(monkeypatch)
    cached = cached_registry(builtin, cache).get("acme")
    assert cached == parsed
    assert cached is not parsed
    assert cached.table.codes["107225"].origin == parsed.table.codes["107225"].origin
    assert lookup("acme", "2219", registry=cached_registry(builtin, cache)).matched is Match.CLASS


def test_a_cached_code_table_makes_each_entry_when_first_read(tmp_path: Path) -> None:
    builtin, cache = acme_dir(tmp_path), tmp_path / "cache"
    parsed = cached_registry(builtin, cache).get("acme")
    cached = cached_registry(builtin, cache).get("acme")
    codes = cached.table.codes
    assert isinstance(codes, LazyCodes)
    assert not isinstance(parsed.table.codes, LazyCodes)
    assert list(codes) == list(parsed.table.codes)
    assert len(codes) == len(parsed.table.codes)
    assert "5001" in codes
    assert "9999" not in codes
    assert codes.get("9999") is None
    assert codes._read == {}  # nothing made before it is read
    first = codes["5001"]
    assert codes.get("5001") is first
    assert list(codes._read) == ["5001"]
    for code, entry in parsed.table.codes.items():  # every field, the origin and scope too
        assert codes[code].__dict__ == entry.__dict__, code
        assert type(codes[code].category) is Category
    assert dict(codes) == dict(parsed.table.codes)
    with pytest.raises(dataclasses.FrozenInstanceError):
        first.gloss = "changed"  # type: ignore[misc]


def test_a_process_reading_from_the_cache_never_imports_tomllib(tmp_path: Path) -> None:
    code = (
        "import sys, normalizer\n"
        "assert normalizer.lookup('twilio', '21211').category == 'validation'\n"
        "print('tomllib' in sys.modules)\n"
    )
    env = {**os.environ, CACHE_VAR: str(tmp_path / "cache")}
    runs = [
        subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
        for _ in range(2)
    ]
    assert [r.returncode for r in runs] == [0, 0], runs[0].stderr
    assert [r.stdout.strip() for r in runs] == ["True", "False"]


def test_a_changed_file_is_parsed_again(tmp_path: Path) -> None:
    builtin, cache = acme_dir(tmp_path), tmp_path / "cache"
    assert cached_registry(builtin, cache).get("acme").table.codes["5000"].category == "server"
    acme_dir(
        tmp_path, ACME.replace('"5000" = { category = "server"', '"5000" = { category = "busy"')
    )
    assert cached_registry(builtin, cache).get("acme").table.codes["5000"].category == "busy"


def test_an_overlay_is_part_of_the_key(tmp_path: Path) -> None:
    builtin, cache = acme_dir(tmp_path), tmp_path / "cache"
    patch = tmp_path / "patch.toml"
    patch.write_text(OVERLAY, encoding="utf-8")
    first = cached_registry(builtin, cache)
    first.register(patch)
    assert first.get("acme").table.codes["5000"].category == "busy"
    patch.write_text(OVERLAY.replace('category = "busy"', 'category = "billing"', 1), "utf-8")
    second = cached_registry(builtin, cache)
    second.register(patch)
    assert second.get("acme").table.codes["5000"].category == "billing"
    assert cached_registry(builtin, cache).get("acme").table.codes["5000"].category == "server"


@pytest.mark.parametrize("damage", [b"", b"not a pickle", b"\x80\x05garbage"])
def test_a_corrupt_entry_reads_as_missing(tmp_path: Path, damage: bytes) -> None:
    builtin, cache = acme_dir(tmp_path), tmp_path / "cache"
    cached_registry(builtin, cache).get("acme")
    for entry in cache.glob("*.pickle"):
        entry.write_bytes(damage)
    assert cached_registry(builtin, cache).get("acme").id == "acme"


def test_an_entry_anyone_else_may_write_is_never_unpickled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    builtin, cache = acme_dir(tmp_path), tmp_path / "cache"
    cached_registry(builtin, cache).get("acme")
    loaded: list[bytes] = []
    monkeypatch.setattr("normalizer._registry._unpickled", loaded.append)
    entries = sorted(cache.glob("*.pickle"))
    for entry in entries:
        entry.chmod(0o622)  # group and others may write it
    cached_registry(builtin, cache).get("acme")
    assert loaded == []
    for entry in entries:
        entry.chmod(0o600)
    cache.chmod(0o755)  # a directory others may enter
    cached_registry(builtin, cache).get("acme")
    assert loaded == []
    cache.chmod(0o700)
    cached_registry(builtin, cache).get("acme")
    assert b"VendorMapping" in loaded[0]  # this user's own entry, in this user's directory


def test_a_symlinked_cache_directory_is_not_used(tmp_path: Path) -> None:
    builtin, real = acme_dir(tmp_path), tmp_path / "real"
    cached_registry(builtin, real).get("acme")
    link = tmp_path / "link"
    link.symlink_to(real, target_is_directory=True)
    cache = MappingCache(link)
    assert cache.load(next(real.glob("mapping-*")).name) is None
    cache.store("mapping-x.pickle", {"planted": True})
    assert not (real / "mapping-x.pickle").exists()


def test_the_cache_is_off_with_an_empty_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CACHE_VAR, "")
    assert MappingCache.default() is None
    monkeypatch.setenv(CACHE_VAR, "/somewhere")
    assert getattr(MappingCache.default(), "root", None) == Path("/somewhere")
    monkeypatch.delenv(CACHE_VAR)
    monkeypatch.setenv("XDG_CACHE_HOME", "/xdg")
    assert getattr(MappingCache.default(), "root", None) == Path("/xdg/normalizer")


def test_an_unwritable_cache_changes_nothing(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a directory", encoding="utf-8")
    reg = cached_registry(acme_dir(tmp_path), blocked / "cache")
    assert reg.get("acme").id == "acme"
