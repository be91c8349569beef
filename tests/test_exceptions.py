"""The exception tree, and messages that read well without leaking secrets."""

from __future__ import annotations

import dataclasses
import json
import multiprocessing
import pickle
from concurrent.futures import ProcessPoolExecutor
from typing import Any

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
    (Category.UNKNOWN, normalizer.UnknownOutcomeError),
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
    assert str(err) == "no mapping defines vendor 'x'; known vendors: a, b"


def test_the_unknown_outcome_and_the_unregistered_vendor_cannot_be_confused() -> None:
    """An answer nobody can read and a vendor id nobody defines are apart in name and in
    the tree; the first name of the one for answers is the same class, so old code still
    catches what it caught."""
    assert normalizer.UnknownVendorError is normalizer.UnknownOutcomeError
    assert issubclass(normalizer.UnknownOutcomeError, VendorError)
    assert not issubclass(normalizer.UnregisteredVendorError, VendorError)
    assert not issubclass(normalizer.UnknownOutcomeError, LookupError)
    outcome = Outcome(Category.UNKNOWN, False, "mango", "98765")
    assert VendorError.for_outcome(outcome) is normalizer.UnknownOutcomeError
    with pytest.raises(normalizer.UnknownVendorError):  # the old name still catches it
        raise VendorError.for_outcome(outcome)(outcome)
    with pytest.raises(normalizer.UnregisteredVendorError) as info:
        normalizer.lookup("no_such_vendor", "1")
    assert not isinstance(info.value, normalizer.UnknownVendorError)
    assert "no mapping defines vendor 'no_such_vendor'" in str(info.value)
    err = pickle.loads(pickle.dumps(normalizer.UnknownVendorError(outcome)))
    assert type(err) is normalizer.UnknownOutcomeError


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
    assert info.value.vendor_message == "*** refused"
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


# Across a process boundary: a ProcessPoolExecutor or multiprocessing worker pickles the
# exception it raises, Celery rebuilds one from JSON as ``type(exc)(*exc.args)``.

NUMBER = "+8613800138000"
DIGITS = "13800138000"


def _outcome(category: Category, **fields: Any) -> Outcome:
    outcome = Outcome(
        category,
        category is Category.BUSY,
        "onbuka",
        "-15",
        "Query too frequently",
        product="sms",
        vendor_message="slow down",
        http_status=200,
        request_id="req-7",
    )
    return dataclasses.replace(outcome, **fields)


def _vendor_error(cls: type[VendorError], category: Category) -> VendorError:
    request = httpx.Request("POST", "https://api.onbuka.com/v3/sendSms?token=s3cret")
    response = httpx.Response(200, json={"status": "-15"}, request=request)
    return cls(_outcome(category), request=request, response=response, attempts=3)


def _partial() -> normalizer.PartialFailure:
    items = (
        normalizer.Item(Category.OK, False, "0", number="*******1111", index=0),
        normalizer.Item(Category.BILLING, False, "-7", number="*******2222", index=1),
    )
    return normalizer.PartialFailure(_outcome(Category.OK, items=items, partial=True))


EXAMPLES: dict[type[Exception], Exception] = {
    normalizer.NormalizerError: normalizer.NormalizerError("something went wrong"),
    normalizer.MappingError: normalizer.MappingError("m/acme.toml", "codes.1", "bad category"),
    normalizer.UnregisteredVendorError: normalizer.UnregisteredVendorError("x", ["b", "a"]),
    normalizer.CircuitOpenError: normalizer.CircuitOpenError("mango", "mango/sms", 2.5, "open"),
    normalizer.RateLimitedError: normalizer.RateLimitedError("mango", 0.75),
    normalizer.VendorError: _vendor_error(normalizer.VendorError, Category.UNKNOWN),
    **{cls: _vendor_error(cls, category) for category, cls in PAIRS},
    normalizer.PartialFailure: _partial(),
    normalizer.SignatureError: normalizer.SignatureError("mango", "sms: sha256 differs"),
}


def _facts(err: Exception) -> dict[str, object]:
    """What must survive the crossing: the message, and vendor, code and category."""
    facts: dict[str, object] = {"type": type(err), "message": str(err)}
    names: tuple[str, ...] = ("vendor", "circuit", "retry_after", "reason", "path", "key", "known")
    names += ("code", "status_code", "vendor_message")  # a VendorError's flat attributes
    for name in names:
        if hasattr(err, name):
            facts[name] = getattr(err, name)
    if isinstance(err, VendorError):
        outcome = err.outcome
        facts.update(
            vendor=outcome.vendor,
            code=outcome.code,
            category=outcome.category,
            product=outcome.product,
            retryable=outcome.retryable,
            attempts=err.attempts,
        )
    return facts


def test_every_public_exception_has_an_example() -> None:
    public = {
        value
        for name in normalizer.__all__
        if isinstance(value := getattr(normalizer, name), type)
        and issubclass(value, Exception)
        and not issubclass(value, Warning)  # MappingWarning: a plain message, pickled as is
    }
    assert public == set(EXAMPLES)


@pytest.mark.parametrize("err", EXAMPLES.values(), ids=[c.__name__ for c in EXAMPLES])
def test_every_exception_pickles_with_its_outcome(err: Exception) -> None:
    back = pickle.loads(pickle.dumps(err))
    assert _facts(back) == _facts(err)
    if isinstance(err, VendorError):
        assert back.outcome == err.outcome  # nothing here to mask: the whole outcome crosses
        assert (back.request, back.response) == (None, None)


@pytest.mark.parametrize("err", EXAMPLES.values(), ids=[c.__name__ for c in EXAMPLES])
def test_every_exception_is_rebuilt_from_json_args_as_celery_does(err: Exception) -> None:
    args = json.loads(json.dumps(err.args))  # JSON values only: Celery would repr the rest
    back = type(err)(*args)
    assert _facts(back) == _facts(err)


def test_a_pickled_vendor_error_carries_no_number_request_or_response() -> None:
    """Exceptions travel unasked (result backends, error trackers): a pickled one carries the
    outcome with every vendor text masked and no recipient, and drops request and response."""
    item = normalizer.Item(
        Category.BILLING,
        False,
        "-7",
        vendor_message=f"no balance for {DIGITS}",
        number="*******8000",
        recipient=NUMBER,
    )
    candidate = _outcome(Category.BILLING, vendor_message=f"for {NUMBER}")
    outcome = _outcome(
        Category.BUSY, vendor_message=f"{NUMBER} busy", items=(item,), candidates=(candidate,)
    )
    request = httpx.Request("POST", f"https://api.onbuka.com/v3/sendSms?token=s3cret&n={NUMBER}")
    response = httpx.Response(200, content=f'{{"to": "{NUMBER}"}}'.encode(), request=request)
    data = pickle.dumps(normalizer.BusyError(outcome, request=request, response=response))
    assert DIGITS.encode() not in data
    assert b"s3cret" not in data
    back = pickle.loads(data)
    assert (back.request, back.response) == (None, None)
    assert back.outcome.vendor_message == "*********8000 busy"
    assert back.outcome.items[0].recipient is None
    assert back.outcome.items[0].number == "*******8000"
    assert back.outcome.items[0].vendor_message == "no balance for *******8000"
    assert back.outcome.candidates[0].vendor_message == "for *********8000"
    assert back.outcome.request_id == "req-7"


def _busy_in_a_worker(number: str) -> None:
    """Run in a worker process: a real client call the vendor answers busy, raised."""
    body = {"status": "-15", "reason": f"query too frequently for {number}"}
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=body))
    with normalizer.Client("onbuka", transport=transport, retry=None, raise_on_error=True) as c:
        c.post("https://api.onbuka.com/v3/sendSms", params={"numbers": number, "sign": "s3cret"})


def test_a_busy_error_raised_in_a_process_pool_worker_reaches_the_caller() -> None:
    """Before: the parent could not unpickle it, and the whole pool broke (BrokenProcessPool)."""
    spawn = multiprocessing.get_context("spawn")  # a fresh interpreter, as Celery's workers are
    with ProcessPoolExecutor(1, mp_context=spawn) as pool:
        with pytest.raises(normalizer.BusyError) as info:
            pool.submit(_busy_in_a_worker, NUMBER).result(timeout=120)
        assert pool.submit(len, "the pool").result(timeout=120) == 8  # and it still works
    err = info.value
    outcome = err.outcome
    assert (outcome.vendor, outcome.product, outcome.code) == ("onbuka", "sms", "-15")
    assert outcome.category is Category.BUSY
    assert outcome.retryable
    assert (err.request, err.response, err.attempts) == (None, None, 1)
    assert outcome.vendor_message == "query too frequently for *********8000"
    assert str(err).startswith("onbuka/sms code -15: busy")
    assert "[POST https://api.onbuka.com/v3/sendSms?numbers=" in str(err)
    assert DIGITS not in str(err)
    assert "s3cret" not in str(err)


def test_a_500_kb_code_makes_a_short_single_line_message() -> None:
    """A vendor-controlled code is shown cut, masked and on one line: 500 KB with a raw
    newline and a phone number in, one short line out, and the same code crosses processes."""
    code = "E42\nforged log line " + NUMBER + " " + "x" * 500_000
    outcome = Outcome(Category.UNKNOWN, False, "onbuka", code, vendor_message="y" * 500_000)
    err = normalizer.UnknownOutcomeError(outcome)
    message = str(err)
    assert len(message) < 600
    assert "\n" not in message
    assert message.startswith("onbuka code E42\\nforged log line *********8000 xxx")
    assert "...: unknown" in message
    assert DIGITS not in message
    back = pickle.loads(pickle.dumps(err))
    assert str(back) == message
    assert back.outcome.code == err.args[2]
    assert back.outcome.code is not None
    assert len(back.outcome.code) < 100
    assert DIGITS not in back.outcome.code
    assert err.code == back.code == back.outcome.code
    assert err.vendor_message is not None
    assert len(err.vendor_message) == 503  # 500 and "..."
    assert back.vendor_message == err.vendor_message


def test_a_real_code_is_shown_and_crosses_unchanged() -> None:
    code = "FailedOperation.ForbidAddMarketingTemplates"  # Tencent's, among the longest mapped
    err = normalizer.ValidationError(Outcome(Category.VALIDATION, False, "tencent_sms", code))
    assert str(err) == f"tencent_sms code {code}: validation"
    assert pickle.loads(pickle.dumps(err)).outcome.code == code


def test_every_mapped_code_is_itself_on_the_exception() -> None:
    """``exc.code`` is masked and bounded, yet equals the vendor's code for every code a
    mapping lists: ``except ...: if exc.code == "0200001"`` works."""
    codes = {
        code
        for mapping in normalizer.Registry(environ=False).all()
        for table in (mapping.table, *(p.table for p in mapping.products.values()))
        for code in table.codes
    }
    assert len(codes) > 1000
    for code in codes:
        assert normalizer.ServerError(Outcome(Category.SERVER, True, "x", code)).code == code


def test_the_mappings_message_is_one_bounded_line_too() -> None:
    outcome = Outcome(Category.AUTH, False, "acme", "1", "first line\nsecond line" + "z" * 5000)
    message = str(normalizer.AuthError(outcome))
    assert "first line\\nsecond line" in message
    assert "\n" not in message
    assert len(message) < 300


# The flat attributes a user of vendor SDKs expects (twilio's TwilioRestException: code,
# status, msg): vendor, code, status_code and vendor_message, masked and bounded.


def test_a_vendor_error_has_flat_attributes_beside_its_outcome() -> None:
    body = {"code": 21211, "message": "The 'To' number +15005550001 is not a valid phone number."}
    client = normalizer.Client(
        "twilio",
        transport=httpx.MockTransport(lambda request: httpx.Response(400, json=body)),
        raise_on_error=True,
    )
    with client, pytest.raises(normalizer.ValidationError) as info:
        client.post("https://api.twilio.com/2010-04-01/Accounts/AC123/Messages.json")
    err = info.value
    assert err.vendor == "twilio"
    assert err.code == "21211"
    assert err.status_code == 400
    assert err.vendor_message == "The 'To' number *******0001 is not a valid phone number."
    assert "5005550001" not in str(err)
    assert (err.vendor, err.code, err.status_code) == (
        err.outcome.vendor,
        err.outcome.code,
        err.outcome.http_status,
    )
    assert err.outcome.vendor_message == body["message"]  # the outcome keeps it whole


def test_the_flat_attributes_are_none_when_the_vendor_said_nothing() -> None:
    err = normalizer.ServerError(Outcome(Category.SERVER, True, "mango", None))
    assert (err.vendor, err.code, err.status_code, err.vendor_message) == (
        "mango",
        None,
        None,
        None,
    )
    back = type(err)(*json.loads(json.dumps(err.args)))
    assert (back.vendor, back.code, back.status_code, back.vendor_message) == (
        "mango",
        None,
        None,
        None,
    )


def test_the_flat_attributes_use_the_calls_redactor_and_stay_one_line() -> None:
    outcome = Outcome(
        Category.AUTH,
        False,
        "ucpaas",
        "100\n500 " + NUMBER,
        vendor_message=f"ORDER-42 for {NUMBER}\nforged line",
        http_status=401,
    )
    redactor = normalizer.Redactor(patterns=[r"ORDER-\d+"])
    err = normalizer.AuthError(outcome, redactor=redactor)
    assert err.vendor_message == "*** for *********8000\\nforged line"
    assert err.code == "100\\n500 *********8000"
    assert err.status_code == 401


@pytest.mark.parametrize("cross", ["pickle", "celery"])
def test_the_flat_attributes_cross_a_process_boundary_without_a_number(cross: str) -> None:
    outcome = _outcome(
        Category.BILLING,
        code=f"E{NUMBER}",
        vendor_message=f"no balance to send to {NUMBER}, nor to {DIGITS}",
        http_status=402,
    )
    err = normalizer.BillingError(outcome, attempts=2)
    if cross == "pickle":
        pickled = pickle.dumps(err)
        assert DIGITS.encode() not in pickled
        back = pickle.loads(pickled)
    else:
        data = json.dumps(err.args)
        assert DIGITS not in data
        back = type(err)(*json.loads(data))
    assert type(back) is normalizer.BillingError
    assert back.vendor == "onbuka"
    assert back.code == err.code == "E*********8000"
    assert back.status_code == 402
    assert back.vendor_message == err.vendor_message
    assert back.vendor_message == "no balance to send to *********8000, nor to *******8000"
    assert back.outcome.http_status == 402
    assert back.outcome.vendor_message == back.vendor_message
    for text in (str(back), back.code, back.vendor_message, repr(back.args)):
        assert DIGITS not in text


def test_seven_args_as_before_still_rebuild() -> None:
    """A result stored by a worker running the version before the flat attributes."""
    args: list[Any] = ["onbuka/sms code -15: busy", "onbuka", "-15", "busy", "sms", True, 3]
    err = normalizer.BusyError(*args)
    assert (err.vendor, err.code, err.status_code, err.vendor_message) == (
        "onbuka",
        "-15",
        None,
        None,
    )
    assert err.attempts == 3
    assert str(err) == "onbuka/sms code -15: busy"
