"""normalizer.testing: the helpers users put in their own test suites."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

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


# Every vendor the helpers know, as the vendor documents its answer (body and HTTP status).
# (vendor, product, code, HTTP status, body, category); the source of each shape on its line.
SHAPES: list[tuple[str, str | None, str | int, int, object, Category]] = [
    # https://www.twilio.com/docs/usage/twilios-response: REST errors, a 4xx, the code a number
    (
        "twilio",
        None,
        21211,
        400,
        {
            "code": 21211,
            "message": "Invalid 'To' Phone Number",
            "more_info": "https://www.twilio.com/docs/errors/21211",
            "status": 400,
        },
        Category.VALIDATION,
    ),
    # https://www.twilio.com/docs/api/errors/20429: HTTP 429 (asked for as a string: still a number)
    (
        "twilio",
        None,
        "20429",
        429,
        {
            "code": 20429,
            "message": "Too Many Requests",
            "more_info": "https://www.twilio.com/docs/errors/20429",
            "status": 429,
        },
        Category.BUSY,
    ),
    # https://www.twilio.com/docs/messaging/api/message-resource: a delivery error is the
    # Message resource's error_code / error_message, HTTP 200
    (
        "twilio",
        None,
        30003,
        200,
        {
            "sid": "SM1f0e8ae6ade43cb3c0ce4525424e404f",
            "status": "undelivered",
            "error_code": 30003,
            "error_message": "Unreachable destination handset",
        },
        Category.BUSY,
    ),
    # https://developers.telnyx.com/development/api-fundamentals/api-errors: errors is a list,
    # codes are strings; invalid parameters answer 422 (telnyx-python UnprocessableEntityError)
    (
        "telnyx",
        None,
        10002,
        422,
        {
            "errors": [
                {"code": "10002", "title": "Invalid phone number", "detail": "Invalid phone number"}
            ]
        },
        Category.VALIDATION,
    ),
    # developers.telnyx.com/development/api-fundamentals/reliability/rate-limiting: 429 + 10011
    (
        "telnyx",
        None,
        "10011",
        429,
        {
            "errors": [
                {"code": "10011", "title": "Too many requests", "detail": "Too many requests"}
            ]
        },
        Category.BUSY,
    ),
    (
        "telnyx",
        None,
        "10009",
        401,
        {
            "errors": [
                {
                    "code": "10009",
                    "title": "Authentication failed",
                    "detail": "Authentication failed",
                }
            ]
        },
        Category.AUTH,
    ),
    # https://developers.telnyx.com/docs/messaging/messages/error-codes: delivery errors arrive in
    # message.finalized webhooks (shape of api-reference/callbacks/delivery-update), HTTP 200
    (
        "telnyx",
        None,
        "40008",
        200,
        {
            "data": {
                "event_type": "message.finalized",
                "id": "4ee8c3a6-4995-4309-a3c6-38e3db9ea4be",
                "occurred_at": "2019-12-09T21:32:14.148+00:00",
                "payload": {
                    "record_type": "message",
                    "direction": "outbound",
                    "id": "40385f64-5717-4562-b3fc-2c963f66afa6",
                    "type": "SMS",
                    "to": [{"phone_number": "+18665550001", "status": "delivery_failed"}],
                    "errors": [
                        {"code": "40008", "title": "Undeliverable", "detail": "Undeliverable"}
                    ],
                },
                "record_type": "event",
            },
            "meta": {"attempt": 1, "delivered_to": "https://example.com/webhooks"},
        },
        Category.VALIDATION,
    ),
    # infobip/infobip-api-java-client ApiErrorResponsesTest.java: v2 requestError, v3 errorCode,
    # each with its HTTP status
    (
        "infobip",
        None,
        "UNAUTHORIZED",
        401,
        {
            "requestError": {
                "serviceException": {"messageId": "UNAUTHORIZED", "text": "Unauthorized"}
            }
        },
        Category.AUTH,
    ),
    (
        "infobip",
        None,
        "E400",
        400,
        {
            "errorCode": "E400",
            "description": "Request cannot be processed.",
            "violations": [],
            "resources": [],
        },
        Category.VALIDATION,
    ),
    # https://cloud.tencent.com/document/api/382/52075: always HTTP 200, Response.Error
    (
        "tencent_sms",
        None,
        "RequestLimitExceeded",
        200,
        {
            "Response": {
                "Error": {"Code": "RequestLimitExceeded", "Message": "请求的次数超过了频率限制。"},
                "RequestId": "ed93f3cb-f35e-473f-b9f3-0d451b8b79c6",
            }
        },
        Category.BUSY,
    ),
    # Vonage/vonage-python-sdk sms/tests/data: HTTP 200, one status per message part
    (
        "vonage",
        "sms",
        "1",
        200,
        {
            "message-count": "1",
            "messages": [
                {
                    "to": "447700900000",
                    "status": "1",
                    "error-text": "Throttled. You are sending SMS faster than the account limit.",
                }
            ],
        },
        Category.BUSY,
    ),
    # https://sms.ru/api/send (json=1): HTTP 200, status ERROR, status_code a number
    (
        "sms_ru",
        None,
        "207",
        200,
        {
            "status": "ERROR",
            "status_code": 207,
            "status_text": "На этот номер (или один из номеров) нельзя отправлять сообщения, "
            "либо указано более 100 номеров в списке получателей.",
        },
        Category.VALIDATION,
    ),
    # https://help.aliyun.com/document_detail/101346.html: HTTP 200, Code / Message / RequestId
    (
        "aliyun_sms",
        None,
        "isv.BUSINESS_LIMIT_CONTROL",
        200,
        {
            "Code": "isv.BUSINESS_LIMIT_CONTROL",
            "Message": "触发云通信流控限制",
            "RequestId": "F655A8D5-B967-440B-8683-DAD6FF8DE990",
        },
        Category.BUSY,  # a per-number frequency limit, never validation (issue 31)
    ),
    # the envelope of each mapping, HTTP 200 (sources in the mapping files' headers)
    ("mango", None, "5001", 200, {"result": 5001, "message": "Перегрузка"}, Category.SERVER),
    (
        "airudder",
        None,
        10403,
        200,
        {"code": 10403, "message": "Task name already exists."},
        Category.VALIDATION,
    ),
    # issue 32's vendors (sources in their mapping files' headers): the errorMessage "None" of
    # Africa's Talking's Voice answers; an Exotel SMSMessage; a message of Bird's Channels API
    # with a failure; a Gupshup failed message event
    ("africastalking", None, "None", 200, {"errorMessage": "None"}, Category.OK),
    (
        "exotel",
        None,
        23035,
        200,
        {
            "SMSMessage": {
                "DetailedStatusCode": 23035,
                "DetailedStatus": "FAILED_SUBSCRIBER_UNAVAILABLE",
            }
        },
        Category.BUSY,
    ),
    (
        "messagebird",
        "channels",
        15005,
        200,
        {"failure": {"code": 15005}, "reason": "unknown_subscriber"},
        Category.VALIDATION,
    ),
    (
        "gupshup",
        "events",
        1002,
        200,
        {"payload": {"payload": {"code": 1002, "reason": "Number Not Exist On WhatsApp"}}},
        Category.VALIDATION,
    ),
    (
        "onbuka",
        "sms",
        "-3",
        200,
        {"status": "-3", "reason": "SMS contents with sensitive characters"},
        Category.VALIDATION,
    ),
    (
        "huawei_isales",
        None,
        "0200001",
        200,
        {"resultCode": "0200001", "resultDesc": "参数异常,异常详情在resultDesc中描述。"},
        Category.VALIDATION,
    ),
    (
        "ucpaas",
        None,
        107225,
        200,
        {"resp": {"respCode": "107225", "respDesc": "外呼繁忙"}},
        Category.BUSY,
    ),
    (
        "yuntongxun",
        None,
        "160038",
        200,
        {"statusCode": "160038", "statusMsg": "【短信】短信验证码发送过频繁"},
        Category.BUSY,  # a frequency limit (issue 31)
    ),
    # Plivo's message record (GET .../Message/{uuid}/) carries error_code with HTTP 200
    # (https://plivo.com/docs/messaging/troubleshooting/error-codes): its envelope, as written
    ("plivo", None, "30", 200, {"error_code": "30", "error": "Spam detected"}, Category.VALIDATION),
    # Sinch's {"code", "text"} body (documented with HTTP 400/403:
    # https://developers.sinch.com/docs/sms/api-reference/status-codes)
    (
        "sinch",
        None,
        "syntax_invalid_json",
        400,
        {
            "code": "syntax_invalid_json",
            "text": "The JSON in the request is invalid or does not conform to the API "
            "specification.",
        },
        Category.VALIDATION,
    ),
    (
        "sinch",
        None,
        "unknown_group",
        403,
        {
            "code": "unknown_group",
            "text": "A referenced group ID is unknown. This could happen if the ID is invalid or "
            "if the group has been deleted.",
        },
        Category.NOT_FOUND,
    ),
    # Clickatell One API {"error": {"code", "description"}} (documented with HTTP 400 for 43:
    # https://docs.clickatell.com/channels/one-api/one-api-errors-table/)
    (
        "clickatell",
        "platform",
        43,
        400,
        {"error": {"code": 43, "description": "Rate limit"}},
        Category.BUSY,
    ),
    # issue 32: SMSC.ru's fmt=3 error {"error": "описание", "error_code": N}, always HTTP 200
    ("smsc", None, 2, 200, {"error_code": 2, "error": "Неверный логин или пароль."}, Category.AUTH),
    # SMS Aero v1 {"result": "reject", "reason": ...} (smsaero_python check_response)
    ("smsaero", None, "reject", 200, {"result": "reject", "reason": "reject"}, Category.VALIDATION),
    (
        "huawei_sms",
        None,
        "E000510",
        200,
        {"code": "E000510", "description": "The SMS fails to be sent. For details, see status."},
        Category.VALIDATION,
    ),
    ("submail", None, "101", 200, {"code": "101", "msg": "不正确的 APP ID"}, Category.AUTH),
]


@pytest.mark.parametrize(
    ("vendor", "product", "code", "status", "body", "category"),
    SHAPES,
    ids=[f"{vendor}-{code}" for vendor, _, code, *_ in SHAPES],
)
def test_vendor_response_is_the_vendors_documented_answer(
    vendor: str,
    product: str | None,
    code: str | int,
    status: int,
    body: object,
    category: Category,
) -> None:
    response = vendor_response(vendor, code, product=product)
    assert (response.status_code, response.json()) == (status, body)
    out = normalizer.classify(
        vendor, response.content, status_code=response.status_code, product=product
    )
    assert (out.code, out.category) == (str(code), category)
    assert out.category is normalizer.lookup(vendor, code, product=product).category


def test_every_builtin_vendor_has_a_checked_shape() -> None:
    builtin = normalizer.Registry(environ=False).ids()
    assert {vendor for vendor, *_ in SHAPES} == set(builtin)


def test_an_indexed_envelope_path_builds_a_list(write_mapping: Callable[..., Path]) -> None:
    mapping = """
format = 1
[vendor]
id = "listed"
name = "Errors in a list"
[envelope]
code = ["errors.0.code"]
message = ["errors.0.detail"]
[codes]
"E1" = { category = "busy", description = "slow down" }
"""
    reg = normalizer.Registry(builtin=write_mapping(mapping, "listed.toml").parent, environ=False)
    response = vendor_response("listed", "E1", registry=reg)
    assert response.json() == {"errors": [{"code": "E1", "detail": "slow down"}]}
    assert normalizer.classify("listed", response.content, registry=reg).code == "E1"


def test_a_client_retries_a_telnyx_429_built_by_the_helper() -> None:
    sent = {
        "data": {"id": "40385f64", "to": [{"phone_number": "+18665550001", "status": "queued"}]}
    }
    mock = VendorMock("telnyx", "10011", httpx.Response(200, json=sent))
    with normalizer.Client("telnyx", transport=mock) as client:
        response = client.post("https://api.telnyx.com/v2/messages", json={"text": "hi"})
    assert outcome(response).ok
    assert len(mock.requests) == 2
    first = vendor_response("telnyx", "10011")
    assert first.status_code == 429


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
