"""The exception tree, and messages that read well without leaking secrets."""

from __future__ import annotations

import httpx
import pytest

import normalizer
from normalizer import Category, Match, Outcome, VendorError

PAIRS = [
    (Category.AUTH, normalizer.AuthError),
    (Category.VALIDATION, normalizer.ValidationError),
    (Category.BILLING, normalizer.BillingError),
    (Category.BUSY, normalizer.BusyError),
    (Category.NOT_FOUND, normalizer.NotFoundError),
    (Category.SERVER, normalizer.ServerError),
    (Category.UNKNOWN, normalizer.UnknownVendorError),
]


@pytest.mark.parametrize(("category", "cls"), PAIRS)
def test_one_exception_per_failing_category(category: Category, cls: type[VendorError]) -> None:
    outcome = Outcome(category, False, "mango", "1")
    assert VendorError.for_outcome(outcome) is cls
    assert issubclass(cls, VendorError)
    assert issubclass(cls, normalizer.NormalizerError)


def test_message_names_everything_useful_and_no_secret() -> None:
    outcome = Outcome(
        Category.BUSY,
        True,
        "onbuka",
        "-15",
        "Query too frequently",
        product="sms",
        vendor_message="slow down 13800138000",
        http_status=200,
        matched=Match.EXACT,
    )
    request = httpx.Request(
        "POST", "https://user:pw@api.onbuka.com/v3/sendSms?token=abc&numbers=8613800138000"
    )
    err = normalizer.BusyError(outcome, request=request, attempts=3)
    text = str(err)
    assert text.startswith("onbuka/sms code -15: busy - Query too frequently")
    assert "(HTTP 200)" in text
    assert "after 3 attempts" in text
    assert "POST https://***@api.onbuka.com/v3/sendSms?token=***&numbers=" in text
    for secret in ("abc", "pw", "13800138000", "8613800138000"):
        assert secret not in text
    assert err.outcome is outcome


def test_mapping_and_lookup_errors_are_normalizer_errors() -> None:
    assert issubclass(normalizer.MappingError, ValueError)
    assert issubclass(normalizer.UnregisteredVendorError, LookupError)
    err = normalizer.UnregisteredVendorError("x", ["b", "a"])
    assert str(err) == "unknown vendor 'x'; known vendors: a, b"


def test_raise_for_outcome_uses_the_clients_redactor() -> None:
    """The message of ``raise_for_outcome(response)`` masks what the call's logs mask: the
    client's own patterns and the vendor's ``[redact]`` (UCPaaS's account id in the path)."""
    body = {"resp": {"respCode": "200013", "respDesc": "ORDER-42 refused"}}
    client = normalizer.Client(
        "ucpaas",
        transport=httpx.MockTransport(lambda request: httpx.Response(200, json=body)),
        redactor=normalizer.Redactor(patterns=[r"ORDER-\d+"]),
    )
    response = client.post("https://api.ucpaas.com/2014-06-30/Accounts/ACC-SID-7/Calls/callBack")
    with pytest.raises(normalizer.AuthError) as info:
        normalizer.raise_for_outcome(response)
    message = str(info.value)
    assert "ORDER-42" not in message
    assert "ACC-SID-7" not in message
    assert "vendor said: '*** refused'" in message
    assert "/Accounts/***/Calls/callBack" in message


def test_raise_for_outcome_without_a_transport_uses_the_default_redactor() -> None:
    outcome = Outcome(Category.AUTH, False, "mango", "3101", vendor_message="sign=abc 13800138000")
    response = httpx.Response(200, request=httpx.Request("GET", "https://x.test/?sign=s"))
    response.extensions = {"normalizer.outcome": outcome}
    with pytest.raises(normalizer.AuthError) as info:
        normalizer.raise_for_outcome(response)
    assert "abc" not in str(info.value)
    assert "13800138000" not in str(info.value)


def test_a_number_across_the_cut_is_still_masked() -> None:
    import normalizer

    text = "x" * 193 + " +79161234567 " + "y" * 50
    outcome = normalizer.classify("mango", {"result": 3103, "message": text})
    outcome = type(outcome)(**{**outcome.__dict__, "vendor_message": text})
    message = str(normalizer.ValidationError(outcome))
    assert "7916123" not in message
    assert "79161234567" not in message
