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
