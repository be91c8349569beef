"""normalizer.testing: the helpers users put in their own test suites."""

from __future__ import annotations

import httpx
import pytest

import normalizer
from normalizer import Category
from normalizer.testing import SimulatedVendor, VendorMock, set_testing, vendor_response
from tests.conftest import outcome


@pytest.mark.parametrize(
    ("vendor", "code", "product", "body"),
    [
        ("ucpaas", "107225", None, {"resp": {"respCode": "107225", "respDesc": "外呼繁忙"}}),
        ("mango", 5001, None, {"result": 5001, "message": "Перегрузка"}),
        ("airudder", 10403, None, {"code": 10403, "message": "Task name already exists."}),
        (
            "onbuka",
            "-3",
            "sms",
            {"status": "-3", "reason": "SMS contents with sensitive characters"},
        ),
        (
            "huawei_isales",
            "00605",
            "obs",
            {"obsCode": "00605", "obsCodeDesc": "The switch is busy."},
        ),
    ],
)
def test_vendor_response_uses_the_vendors_envelope(
    vendor: str, code: str | int, product: str | None, body: object
) -> None:
    response = vendor_response(vendor, code, product=product)
    assert response.json() == body
    assert normalizer.classify(vendor, response.content, product=product).code == str(code)


def test_vendor_response_options() -> None:
    response = vendor_response(
        "airudder",
        401,
        status_code=401,
        message="bad token",
        headers={"Retry-After": "3"},
        extra={"status": "Error"},
    )
    assert response.status_code == 401
    assert response.headers["retry-after"] == "3"
    assert response.json() == {"status": "Error", "code": 401, "message": "bad token"}


def test_vendor_mock_plays_a_script_and_records() -> None:
    mock = VendorMock("mango", 5001, vendor_response("mango", 1000), product=None)
    client = normalizer.Client("mango", transport=mock)
    response = client.post("https://app.mango-office.ru/vpbx/commands/callback")
    assert outcome(response).ok
    assert len(mock.requests) == 2
    # the last reply repeats
    assert outcome(client.post("https://app.mango-office.ru/vpbx/x")).ok


def test_vendor_mock_raises_exceptions() -> None:
    mock = VendorMock("mango", httpx.ConnectError("down"), 1000)
    assert outcome(
        normalizer.Client("mango", transport=mock).post("https://app.mango-office.ru/vpbx/x")
    ).ok
    with pytest.raises(ValueError, match="at least one reply"):
        VendorMock("mango")


@pytest.mark.anyio
async def test_vendor_mock_async() -> None:
    mock = VendorMock("onbuka", "-15", "0", product="sms")
    async with normalizer.AsyncClient("onbuka", transport=mock) as client:
        response = await client.post("https://api.onbuka.com/v3/sendSms")
    assert outcome(response).ok
    assert len(mock.requests) == 2


def test_simulated_vendor_real_server() -> None:
    with SimulatedVendor() as sim:
        sim.script("/vpbx/commands/callback", vendor_response("mango", 2219))
        with normalizer.Client("mango", base_url=sim.url) as client:
            response = client.post("/vpbx/commands/callback?x=1", data={"sign": "s"})
            missing = client.get("/nowhere")
        assert sim.url.startswith("http://127.0.0.1:")
    assert outcome(response).category is Category.BILLING
    assert outcome(response).matched == "class"
    assert missing.status_code == 404
    method, path, headers, body = sim.requests[0]
    assert (method, path, body) == ("POST", "/vpbx/commands/callback?x=1", b"sign=s")
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"


def test_set_testing_as_a_context_manager_restores() -> None:
    from normalizer.testing import is_testing

    before = is_testing()
    with set_testing(False):
        assert not is_testing()
        with set_testing(True, attempts=1):
            assert is_testing()
            mock = VendorMock("mango", 5001, 1000)
            client = normalizer.Client("mango", transport=mock)
            client.post("https://app.mango-office.ru/vpbx/x")
            assert len(mock.requests) == 1  # attempts=1: no retry
        assert not is_testing()
    assert is_testing() == before
