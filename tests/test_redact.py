"""Redaction: secrets by key, phone numbers by shape, user additions."""

from __future__ import annotations

import re

import pytest

from normalizer import Redactor

R = Redactor()


@pytest.mark.parametrize(
    "key",
    [
        "Authorization",
        "Sign",
        "sig",
        "Api-Key",
        "api_key",
        "X-Api-Key",
        "Token",
        "appsecret",
        "AppSecret",
        "app_secret",
        "password",
        "vpbx_api_key",
        "accountSid",
        "Cookie",
    ],
)
def test_secret_keys(key: str) -> None:
    assert R.is_secret(key)


@pytest.mark.parametrize("key", ["to", "code", "callee", "result", "status", "reason"])
def test_ordinary_keys(key: str) -> None:
    assert not R.is_secret(key)


@pytest.mark.parametrize(
    ("text", "hidden", "kept"),
    [
        ("call 13800138000 failed", "13800138000", "*******8000"),
        ("to +79161234567 now", "79161234567", "*******4567"),
        ("+7 916 123-45-67", "916 123", "4567"),
        ("callee=8613800138000", "8613800138000", "8000"),
    ],
)
def test_phone_numbers_keep_last_digits(text: str, hidden: str, kept: str) -> None:
    out = R.text(text)
    assert hidden not in out
    assert kept in out


def test_codes_survive() -> None:
    assert R.text("code 107225, status -15, 0200001") == "code 107225, status -15, 0200001"


def test_url() -> None:
    url = (
        "https://sid:tok@api.ucpaas.com/2014-06-30/Accounts/a/Calls"
        "?sig=ABCDEF&to=13800138000&mode=1&Api-Key=k"
    )
    out = R.url(url)
    for secret in ("ABCDEF", "tok", "13800138000", "=k"):
        assert secret not in out
    assert "mode=1" in out
    assert out.startswith("https://***@api.ucpaas.com/")


def test_headers() -> None:
    out = R.headers({"Authorization": "Token abc", "Sign": "s", "Content-Type": "json"})
    assert out == {"Authorization": "***", "Sign": "***", "Content-Type": "json"}


def test_json_and_form_bodies() -> None:
    body = b'{"appsecret": "s3", "to": "13800138000", "nested": {"token": "t", "n": 13800138000}}'
    out = R.body(body)
    for secret in ('"s3"', '"t"', "13800138000"):
        assert secret not in out
    form = "vpbx_api_key=KEY&sign=SIG&json=%7B%22to_number%22%3A%2279161234567%22%7D"
    out = R.body(form)
    assert "KEY" not in out
    assert "SIG" not in out
    assert "79161234567" not in out


def test_body_is_capped() -> None:
    assert len(R.body("x" * 10_000, limit=100)) == 103


def test_user_keys_and_patterns() -> None:
    custom = Redactor(keys=["X-Tenant"], patterns=[r"sk_live_\w+", re.compile(r"ORDER-\d+")])
    assert custom.is_secret("x_tenant")
    assert custom.text("key sk_live_abc123 for ORDER-77") == "key *** for ***"
    assert Redactor(keep_digits=2).text("13800138000") == "*********00"


@pytest.mark.parametrize(
    "key",
    [
        "AccessKey",
        "AccessKeyId",
        "AccessKeySecret",
        "api_secret",
        "secret_key",
        "SecretId",
        "app_key",
        "X-Auth-Token",
        "X-Access-Token",
        "JSESSIONID",
        "auth_token",
        "client_secret",
        "X-Upstream-Token",  # any name ending in secret, token, password
        "SigParameter",
    ],
)
def test_more_secret_keys(key: str) -> None:
    assert R.is_secret(key)
    assert R.headers({key: "v4lue"}) == {key: "***"}


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("invalid sign=9f8e7d6c5b, check your key", "9f8e7d6c5b"),
        ("bad request: sig=ABCDEF&to=1", "ABCDEF"),
        ('echo {"token": "t0k3n", "to": "x"}', "t0k3n"),
        ("header Authorization: Bearer sk.live.abc rejected", "sk.live.abc"),
        ("X-Auth-Token : zz-top", "zz-top"),
        ("cookie JSESSIONID=ABC123; Path=/", "ABC123"),
        ("api_secret='s3cr3t' is wrong", "s3cr3t"),
        ("AccessKeyId: LTAI5tFakeKey not found", "LTAI5tFakeKey"),
        ("TC3-HMAC-SHA256 Credential=AKIDx/2019, SignedHeaders=a, Signature=ff00", "ff00"),
    ],
)
def test_secret_pairs_in_free_text(text: str, secret: str) -> None:
    out = R.text(text)
    assert secret not in out
    assert "***" in out


def test_ordinary_pairs_in_free_text_survive() -> None:
    text = "status: 400, reason=bad template, code: 107225, at 10:30"
    assert R.text(text) == text


@pytest.mark.parametrize(
    ("text", "hidden", "kept"),
    [
        ("+7 (916) 123-45-67", "916", "*******4567"),
        ("call (916) 123-45-67 now", "123-45", "******4567"),
        ("rec_79161234567.mp3", "79161234567", "rec_*******4567.mp3"),
        ("file 79161234567_2024.wav", "79161234567", "*******4567_2024.wav"),
        ("+86 138 0013 8000", "138 0013", "*******8000"),
    ],
)
def test_more_phone_formats(text: str, hidden: str, kept: str) -> None:
    out = R.text(text)
    assert hidden not in out
    assert kept in out


@pytest.mark.parametrize(
    "text",
    [
        "code 107225",
        "v1.123456789",
        "id 0A0000000123ABCD1",
        "total 12345678 items",
        "3.14159265358",
    ],
)
def test_short_numbers_ids_and_decimals_survive(text: str) -> None:
    assert R.text(text) == text


def test_after_segments_mask_path_secrets() -> None:
    url = "https://api.ucpaas.com/2014-06-30/Accounts/8a2b3c4d5e/Calls/callBack?sig=S"
    assert "8a2b3c4d5e" in R.url(url)  # the default knows no path secrets
    ucpaas = R.extended(after_segments=["Accounts"])
    assert (
        ucpaas.url(url) == "https://api.ucpaas.com/2014-06-30/Accounts/***/Calls/callBack?sig=***"
    )
    assert Redactor(after_segments=["accounts"]).path("/v2/account/x/Accounts/y") == (
        "/v2/account/x/Accounts/***"
    )


def test_extended_keeps_the_class_and_the_users_additions() -> None:
    class Mine(Redactor):
        pass

    mine = Mine(patterns=[r"ORDER-\d+"], keep_digits=2)
    vendor = mine.extended(keys=["api_id"], after_segments=["Accounts"])
    assert type(vendor) is Mine
    assert vendor.is_secret("API-ID")
    assert not mine.is_secret("api_id")  # the user's redactor is left as it was
    assert vendor.text("ORDER-7 13800138000") == "*** *********00"
    assert mine.extended() is mine
    assert mine.extended(keys=["sign"]) is mine  # nothing new: no copy


def test_outcome_and_item_reprs_mask_vendor_text() -> None:
    from normalizer import Category, Item, Outcome

    item = Item(Category.BUSY, True, vendor_message="to 79161234567", recipient="79161234567")
    outcome = Outcome(
        Category.AUTH,
        False,
        "ucpaas",
        "200013",
        vendor_message="sign=abcdef01 wrong for 13800138000",
        items=(item,),
    )
    for shown in (repr(outcome), str(outcome), repr(item)):
        for secret in ("abcdef01", "13800138000", "79161234567"):
            assert secret not in shown, (secret, shown)
    assert "vendor_message='sign=*** wrong for *******8000'" in repr(outcome)
    assert outcome.vendor_message == "sign=abcdef01 wrong for 13800138000"  # the value is kept
    assert item.vendor_message == "to 79161234567"
