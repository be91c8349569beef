"""Structured events for failures and retries, redacted, and the on_outcome metrics hook."""

from __future__ import annotations

import io
import logging
import subprocess
import sys
from collections.abc import Iterator, MutableMapping
from typing import Any

import httpx
import pytest
import structlog
from structlog.testing import capture_logs

import normalizer
from normalizer import RetryPolicy, VendorCall

PHONE = "13800138000"
SECRETS = ("SIG-SECRET", "TOKEN-SECRET", "KEY-SECRET", PHONE, "79161234567")
UCPAAS = f"https://api.ucpaas.com/2014-06-30/Accounts/a/Calls/callBack?sig=SIG-SECRET&to={PHONE}"


def replies(*bodies: object) -> httpx.MockTransport:
    seen: list[int] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(1)
        body = bodies[min(len(seen), len(bodies)) - 1]
        if isinstance(body, Exception):
            raise body
        return httpx.Response(200, json=body)

    return httpx.MockTransport(handle)


Logs = list[MutableMapping[str, Any]]


def call(*bodies: object, **options: object) -> tuple[Logs, httpx.Response]:
    client = normalizer.Client("ucpaas", transport=replies(*bodies), **options)  # type: ignore[arg-type]
    with capture_logs() as logs:
        response = client.post(
            UCPAAS,
            headers={"Authorization": "Token TOKEN-SECRET", "Api-Key": "KEY-SECRET"},
            json={"to": PHONE, "appsecret": "KEY-SECRET"},
        )
    return logs, response


def assert_clean(logs: Logs) -> None:
    text = repr(logs)
    for secret in SECRETS:
        assert secret not in text, secret


BUSY = {"resp": {"respCode": "107225", "respDesc": f"busy, callee {PHONE}", "callId": "c-1"}}
OK = {"resp": {"respCode": "000000"}}


def test_retry_then_success_events() -> None:
    logs, _ = call(BUSY, OK)
    assert [e["event"] for e in logs] == ["vendor_call_failed", "vendor_call_retrying"]
    failed, retrying = logs
    assert failed["log_level"] == "warning"
    assert failed["vendor"] == "ucpaas"
    assert failed["method"] == "POST"
    assert failed["code"] == "107225"
    assert failed["category"] == "busy"
    assert failed["retryable"] is True
    assert failed["http_status"] == 200
    assert failed["attempt"] == 1
    assert failed["max_attempts"] == 3
    assert failed["request_id"] == "c-1"
    assert isinstance(failed["elapsed_ms"], float)
    assert failed["vendor_message"] == "busy, callee *******8000"
    assert "sig=***" in str(failed["url"])
    assert retrying["log_level"] == "info"
    assert 0.0 <= retrying["delay"] <= 1.0  # busy pace, jittered
    assert_clean(logs)


def test_gave_up_event_after_max_attempts() -> None:
    logs, response = call(BUSY)
    events = [e["event"] for e in logs]
    assert events == ["vendor_call_failed", "vendor_call_retrying"] * 2 + [
        "vendor_call_failed",
        "vendor_call_gave_up",
    ]
    gave_up = logs[-1]
    assert gave_up["log_level"] == "error"
    assert gave_up["reason"] == "max_attempts"
    assert gave_up["attempt"] == 3
    assert response.extensions["normalizer.attempts"] == 3
    assert_clean(logs)


def test_not_retryable_logs_one_failure() -> None:
    logs, _ = call({"resp": {"respCode": "200013"}})
    assert [e["event"] for e in logs] == ["vendor_call_failed"]
    assert logs[0]["category"] == "auth"
    assert logs[0]["retryable"] is False


def test_unsafe_post_gives_up_with_reason() -> None:
    logs, _ = call({"resp": {"respCode": "107999"}})  # ambiguous internal error on a POST
    assert [e["event"] for e in logs] == ["vendor_call_failed", "vendor_call_gave_up"]
    assert logs[-1]["reason"] == "not_safe_to_resend"


def test_transport_errors_are_logged() -> None:
    with pytest.raises(httpx.ConnectError):
        call(httpx.ConnectError(f"refused for {PHONE}"))
    with capture_logs() as logs, pytest.raises(httpx.ConnectError):
        normalizer.Client("ucpaas", transport=replies(httpx.ConnectError("x"))).get(UCPAAS)
    assert [e["event"] for e in logs][-1] == "vendor_call_gave_up"
    assert logs[0]["error"] == "ConnectError"
    assert logs[-1]["reason"] == "max_attempts"


def test_ok_logs_nothing() -> None:
    logs, _ = call(OK)
    assert logs == []


def test_bodies_only_on_request_and_redacted() -> None:
    logs, _ = call({"resp": {"respCode": "200013"}})
    assert "request_body" not in logs[0]
    logs, _ = call({"resp": {"respCode": "200013", "token": "TOKEN-SECRET"}}, log_bodies=True)
    assert '"to": "*******8000"' in str(logs[0]["request_body"])
    assert '"token": "***"' in str(logs[0]["response_body"])
    assert_clean(logs)


def test_user_redactor_and_logger() -> None:
    captured: list[tuple[str, dict[str, object]]] = []

    class Logger:
        def warning(self, event: str, **fields: object) -> None:
            captured.append((event, fields))

        info = error = warning

    client = normalizer.Client(
        "ucpaas",
        transport=replies({"resp": {"respCode": "200013", "respDesc": "ORDER-42"}}),
        logger=Logger(),
        redactor=normalizer.Redactor(patterns=[r"ORDER-\d+"]),
    )
    client.get("https://api.ucpaas.com/x")
    assert captured[0][0] == "vendor_call_failed"
    assert captured[0][1]["vendor_message"] == "***"


def test_on_outcome_hook_gets_every_call() -> None:
    calls: list[VendorCall] = []
    call(BUSY, OK, on_outcome=calls.append)
    assert len(calls) == 1
    record = calls[0]
    assert record.outcome.ok
    assert record.attempts == 2
    assert record.method == "POST"
    assert PHONE not in record.url
    assert record.elapsed >= 0


def test_broken_hook_never_breaks_the_call() -> None:
    def hook(record: VendorCall) -> None:
        raise RuntimeError("metrics down")

    logs, response = call(OK, on_outcome=hook)
    assert response.status_code == 200
    assert logs[-1]["event"] == "on_outcome_failed"


def test_stdlib_logging_route(caplog: pytest.LogCaptureFixture) -> None:
    """Applications that route structlog into stdlib logging get the events there."""
    structlog.configure(
        processors=[structlog.stdlib.render_to_log_kwargs],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    try:
        with caplog.at_level(logging.INFO, logger="normalizer"):
            normalizer.Client("ucpaas", transport=replies(BUSY, OK)).post(UCPAAS)
    finally:
        structlog.reset_defaults()
    records = [r for r in caplog.records if r.name == "normalizer"]
    assert [r.getMessage() for r in records] == ["vendor_call_failed", "vendor_call_retrying"]
    assert records[0].levelno == logging.WARNING
    assert records[0].__dict__["code"] == "107225"


@pytest.fixture(autouse=True)
def _no_retry_budget_leak() -> Iterator[None]:
    yield
    assert RetryPolicy().max_attempts == 3


def test_a_quiet_logger_costs_no_event_fields() -> None:
    class Quiet:
        def __init__(self) -> None:
            self.events: list[str] = []

        def is_enabled_for(self, level: int) -> bool:
            return level >= logging.ERROR

        def warning(self, event: str, **fields: object) -> None:
            self.events.append(event)

        info = error = warning

    class Counting(normalizer.Redactor):
        urls = 0

        def url(self, url: str) -> str:
            Counting.urls += 1
            return super().url(url)

    quiet = Quiet()
    redactor = Counting()
    calls: list[VendorCall] = []
    # a failure that is not retried: only a warning, which this logger discards
    call({"resp": {"respCode": "107110"}}, logger=quiet, redactor=redactor, on_outcome=calls.append)
    assert quiet.events == []
    assert Counting.urls == 1  # once, for the metrics hook's VendorCall, not per event
    assert calls[0].url.startswith("https://api.ucpaas.com/")


# --- logging never breaks a call, and never writes to stdout on its own ----------------------


def _configured(**config: Any) -> Iterator[None]:
    structlog.configure(cache_logger_on_first_use=False, **config)
    try:
        yield
    finally:
        structlog.reset_defaults()


def _post(**options: object) -> httpx.Response:
    client = normalizer.Client("ucpaas", transport=replies(BUSY, OK), **options)  # type: ignore[arg-type]
    return client.post(UCPAAS, json={"to": PHONE})


def test_a_closed_stdout_never_breaks_the_call() -> None:
    """``app | head``: structlog printing to a closed stream raises on every event."""
    closed = io.StringIO()
    closed.close()
    calls: list[VendorCall] = []
    for _ in _configured(logger_factory=structlog.PrintLoggerFactory(closed)):
        response = _post(on_outcome=calls.append)
    assert response.status_code == 200
    assert response.extensions["normalizer.attempts"] == 2  # failed, retried, logged: no raise
    assert len(calls) == 1


def test_a_raising_processor_never_breaks_the_call() -> None:
    def explode(logger: object, method: str, event: MutableMapping[str, Any]) -> Any:
        raise RuntimeError("processor bug")

    for _ in _configured(processors=[explode]):
        response = _post()
    assert normalizer.outcome_of(response) is not None
    assert response.json() == OK


def test_a_raising_logger_never_breaks_the_call_nor_the_metrics_hook() -> None:
    class Broken:
        def warning(self, event: str, **fields: object) -> None:
            raise BrokenPipeError("stdout is gone")

        info = error = warning

    calls: list[VendorCall] = []
    response = _post(logger=Broken(), on_outcome=calls.append)
    assert response.status_code == 200
    assert [c.attempts for c in calls] == [2]


def test_a_stdlib_logger_is_accepted(caplog: pytest.LogCaptureFixture) -> None:
    """A ``logging.Logger`` has no keyword-field API: it gets ``event key=value ...``."""
    logger = logging.getLogger("myapp.vendors")
    with caplog.at_level(logging.INFO, logger="myapp.vendors"):
        response = _post(logger=logger)
    assert response.status_code == 200
    records = [r for r in caplog.records if r.name == "myapp.vendors"]
    assert [r.getMessage().split()[0] for r in records] == [
        "vendor_call_failed",
        "vendor_call_retrying",
    ]
    message = records[0].getMessage()
    assert "vendor=ucpaas" in message
    assert "code=107225" in message
    assert "vendor_message='busy, callee *******8000'" in message
    assert records[0].levelno == logging.WARNING
    assert records[0].__dict__["code"] == "107225"  # fields on the record too
    assert_clean([{"m": r.getMessage()} for r in records])


def test_unconfigured_structlog_goes_to_the_stdlib_normalizer_logger(
    caplog: pytest.LogCaptureFixture,
) -> None:
    structlog.reset_defaults()
    assert not structlog.is_configured()
    with caplog.at_level(logging.INFO, logger="normalizer"):
        _post()
    records = [r for r in caplog.records if r.name == "normalizer"]
    assert [r.getMessage().split()[0] for r in records] == [
        "vendor_call_failed",
        "vendor_call_retrying",
    ]
    assert "url=https://api.ucpaas.com/2014-06-30/Accounts/***/Calls" in records[0].getMessage()


UNCONFIGURED = f"""
import httpx, normalizer
body = {{"resp": {{"respCode": "107225", "respDesc": "busy {PHONE}"}}}}
transport = httpx.MockTransport(lambda request: httpx.Response(200, json=body))
client = normalizer.Client("ucpaas", transport=transport, retry=None)
response = client.post({UCPAAS!r})
assert normalizer.outcome_of(response).category == "busy"
"""


APP_LOGGING = (
    "import logging; logging.basicConfig(); logging.getLogger('normalizer').setLevel(10)\n"
)


@pytest.mark.parametrize("configure", ["", APP_LOGGING], ids=["no logging", "app logging"])
def test_unconfigured_structlog_writes_nothing_to_stdout(configure: str) -> None:
    """A CLI's stdout is its output: with structlog unconfigured, events go to the stdlib
    logger (stderr through Python's last-resort handler, or the app's own handlers)."""
    proc = subprocess.run(
        [sys.executable, "-c", configure + UNCONFIGURED],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    assert "vendor_call_failed vendor=ucpaas" in proc.stderr
    for secret in ("SIG-SECRET", PHONE):
        assert secret not in proc.stderr


# --- what the events carry ---------------------------------------------------------------


def test_vendor_newlines_cannot_forge_log_lines() -> None:
    forged = "busy\n2026-01-01 [error] vendor_call_failed vendor=evil\r\x1b[31m"
    body = {"resp": {"respCode": "107225\nx", "respDesc": forged, "callId": "c\n1"}}
    logs, _ = call(body)
    failed = logs[0]
    for field in ("vendor_message", "code", "request_id"):
        assert not any(ch in str(failed[field]) for ch in "\n\r\x1b"), field
    assert failed["vendor_message"].startswith("busy\\n2026-01-01 [error]")
    assert failed["code"] == "107225\\nx"


def test_a_number_in_the_vendors_code_field_is_masked() -> None:
    logs, _ = call({"resp": {"respCode": f"+7 (916) 123-45-67 sign=abc {PHONE}"}})
    assert_clean(logs)
    assert "abc" not in logs[0]["code"]
    logs, _ = call(BUSY)
    assert logs[0]["code"] == "107225"  # a real code is itself


def test_code_and_request_id_are_cut_short() -> None:
    logs, _ = call({"resp": {"respCode": "9" * 5000, "callId": "c" * 5000}})
    assert len(logs[0]["code"]) == 64
    assert len(logs[0]["request_id"]) == 128


def test_a_streamed_request_body_is_logged_as_a_placeholder() -> None:
    """A real transport sends a streamed body as it reads it, and keeps nothing to log."""

    class Streaming(httpx.BaseTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            assert isinstance(request.stream, httpx.SyncByteStream)
            assert b"".join(request.stream) == b'{"to": "13800138000"}'
            return httpx.Response(200, json={"resp": {"respCode": "200013"}})

    def chunks() -> Iterator[bytes]:
        yield b'{"to": "13800138000"}'

    client = normalizer.Client("ucpaas", transport=Streaming(), log_bodies=True)
    with capture_logs() as logs:
        response = client.post(UCPAAS, content=chunks())
    assert response.status_code == 200
    assert logs[0]["event"] == "vendor_call_failed"
    assert logs[0]["request_body"] == "<streamed body, not logged>"
    assert '"respCode": "200013"' in logs[0]["response_body"]


def test_the_vendors_redact_table_masks_its_path_secret() -> None:
    """UCPaaS's account id in the URL path is masked (mappings/ucpaas.toml [redact])."""
    url = f"https://api.ucpaas.com/2014-06-30/Accounts/ACCOUNT-SID-1/Calls/callBack?to={PHONE}"
    calls: list[VendorCall] = []
    client = normalizer.Client(
        "ucpaas",
        transport=replies({"resp": {"respCode": "200013"}}),
        on_outcome=calls.append,
        raise_on_error=True,
    )
    with capture_logs() as logs, pytest.raises(normalizer.AuthError) as info:
        client.post(url)
    shown = repr(logs) + str(info.value) + calls[0].url
    assert "ACCOUNT-SID-1" not in shown
    assert "/Accounts/***/Calls/callBack" in str(info.value)
    assert logs[0]["url"] == calls[0].url


# --- what reaches a real log line: encoded text, more number shapes, XML, ids (issue 26) -----


def failing_call(vendor: str, url: str, status: int, body: object, **request: Any) -> None:
    """One failing call (no retry) to ``vendor``, its transport answering ``status`` and the
    JSON ``body`` (bytes: as they are); ``options`` go to the client, the rest to the request."""

    def handle(request: httpx.Request) -> httpx.Response:
        if isinstance(body, bytes):
            return httpx.Response(status, content=body)
        return httpx.Response(status, json=body)

    options: dict[str, Any] = {"retry": None, "log_bodies": True, **request.pop("options", {})}
    client = normalizer.Client(vendor, transport=httpx.MockTransport(handle), **options)
    client.post(url, **request)


def logged(vendor: str, url: str, status: int, body: object, **request: Any) -> Logs:
    """The structlog events of :func:`failing_call`: its failure first."""
    with capture_logs() as logs:
        failing_call(vendor, url, status, body, **request)
    assert [e["event"] for e in logs][:1] == ["vendor_call_failed"]
    return logs


def test_aliyun_signature_answer_masks_its_encoded_key_and_numbers() -> None:
    """Aliyun's SignatureDoesNotMatch quotes its percent-encoded string to sign."""
    from tests.test_redact import ALIYUN_SIGNATURE

    body = {
        "Code": "SignatureDoesNotMatch",
        "Message": ALIYUN_SIGNATURE,
        "RequestId": "A57FBFD7-FC9A-54FE-A876-4D5E19577186",
    }
    logs = logged(
        "aliyun_sms",
        "https://dysmsapi.aliyuncs.com/?AccessKeyId=LTAI5tFAKEKEYFAKEKEY00&PhoneNumbers=13800138000",
        400,
        body,
    )
    failed = logs[0]
    assert failed["code"] == "SignatureDoesNotMatch"
    assert failed["request_id"] == "A57FBFD7-FC9A-54FE-A876-4D5E19577186"
    assert "AccessKeyId%3D***%26Action%3DSendSms" in failed["vendor_message"]
    assert "PhoneNumbers%3D*******8000%252C" in failed["vendor_message"]
    text = repr(logs)
    for secret in ("LTAI5tFAKEKEYFAKEKEY00", "13800138000", "8613900139000", "hunter2"):
        assert secret not in text, secret


@pytest.mark.parametrize(
    ("vendor", "url", "status", "body", "shown"),
    [
        (
            "twilio",
            "https://lookups.twilio.com/v2/PhoneNumbers/%2B14155550100?Fields=caller_name",
            404,
            {"code": 20404, "message": "The requested resource was not found", "status": 404},
            "https://lookups.twilio.com/v2/PhoneNumbers/*******0100?Fields=caller_name",
        ),
        (
            "telnyx",
            "https://api.telnyx.com/v2/number_lookup/%2B14155550100",
            404,
            {"errors": [{"code": "10005", "title": "Resource not found"}]},
            "https://api.telnyx.com/v2/number_lookup/*******0100",
        ),
    ],
)
def test_encoded_numbers_in_lookup_urls_are_masked(
    vendor: str, url: str, status: int, body: object, shown: str
) -> None:
    calls: list[VendorCall] = []
    logs = logged(vendor, url, status, body, options={"on_outcome": calls.append})
    assert logs[0]["url"] == shown
    assert calls[0].url == shown
    assert "14155550100" not in repr(logs)


@pytest.mark.parametrize(
    ("number", "shown"),
    [
        ("+1.415.555.0100", "*******0100"),
        ("415/555-0100", "******0100"),
        ("+7  916  123  45  67", "*******4567"),
        ("tel:+14155550100", "tel:*******0100"),
        ("a+14155550100", "a*******0100"),
    ],
)
def test_numbers_in_more_shapes_are_masked_in_the_vendors_text(
    caplog: pytest.LogCaptureFixture, number: str, shown: str
) -> None:
    body = {"resp": {"respCode": "200013", "respDesc": f"callee {number} rejected"}}
    logs = logged("ucpaas", UCPAAS, 200, body)
    assert logs[0]["vendor_message"] == f"callee {shown} rejected"
    assert f'"respDesc": "callee {shown} rejected"' in logs[0]["response_body"]
    assert number not in repr(logs)
    # the same line through a stdlib logger: the message and the record's fields
    with caplog.at_level(logging.WARNING, logger="myapp"):
        failing_call("ucpaas", UCPAAS, 200, body, options={"logger": logging.getLogger("myapp")})
    [record] = [r for r in caplog.records if r.name == "myapp"]
    assert f"vendor_message='callee {shown} rejected'" in record.getMessage()
    assert number not in record.getMessage()
    assert number not in repr(record.__dict__)


def test_xml_request_and_response_bodies_are_masked() -> None:
    request_body = (
        b'<?xml version="1.0" encoding="UTF-8"?><Request><Password>hunter2</Password>'
        b'<To>+1.415.555.0100</To><Auth token="t0k3n"/><Mode>1</Mode></Request>'
    )
    response_body = (
        b"<resp><respCode>200013</respCode><Token>s3cr3t</Token>"
        b"<respDesc>bad sign for 415/555-0100</respDesc></resp>"
    )
    logs = logged("ucpaas", UCPAAS, 200, response_body, content=request_body)
    failed = logs[0]
    assert failed["code"] == "200013"
    assert "<Password>***</Password><To>*******0100</To>" in failed["request_body"]
    assert '<Auth token="***"/><Mode>1</Mode>' in failed["request_body"]
    assert "<Token>***</Token>" in failed["response_body"]
    for secret in ("hunter2", "415.555", "t0k3n", "s3cr3t", "415/555"):
        assert secret not in repr(logs), secret


def test_what_users_need_stays_readable_in_log_lines() -> None:
    readable = (
        "SM0123456789abcdef0123456789abcdef, CA12345678901234567890123456789012, "
        "req 123e4567-e89b-12d3-a456-426614174000, BizId 900619746936498440^0, "
        "at 2024-01-15 10:30:00 (1718000000123, 1718000000), price 0.0075, "
        "codes 0200001, 107225, Date: Wed, 21 Oct 2015 07:28:00 GMT"
    )
    body = {"resp": {"respCode": "200013", "respDesc": readable, "callId": "c-1"}}
    logs = logged("ucpaas", UCPAAS, 200, body, json={"to": PHONE, "sent_at": 1718000000})
    assert logs[0]["vendor_message"] == readable
    assert readable in logs[0]["response_body"]
    assert '"sent_at": 1718000000' in logs[0]["request_body"]
    assert '"to": "*******8000"' in logs[0]["request_body"]


def test_twilio_replaced_by_a_user_file_still_masks_the_account_id(tmp_path: Any) -> None:
    """A whole file with ``id = "twilio"`` keeps the built-in ``[redact]`` (Accounts/...)."""
    from tests.test_registry import REPLACED_TWILIO

    registry = normalizer.Registry(environ=False)
    path = tmp_path / "twilio.toml"
    path.write_text(REPLACED_TWILIO, encoding="utf-8")
    registry.register(path)
    url = "https://api.twilio.com/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Messages.json"
    body = {"code": 21211, "message": "Invalid 'To' Phone Number: +14155550100", "status": 400}
    logs = logged("twilio", url, 400, body, options={"registry": registry})
    assert logs[0]["code"] == "21211"
    assert logs[0]["url"] == "https://api.twilio.com/2010-04-01/Accounts/***/Messages.json"
    assert "AC0123456789abcdef" not in repr(logs)


def test_a_long_vendor_message_never_logs_the_start_of_a_number() -> None:
    """Only the first 2000 characters are redacted; the cut never leaves a number's head."""
    message = "sign=" + "s" * 1990 + " 13800138000 rest"  # the cut falls inside the number
    body = {"resp": {"respCode": "200013", "respDesc": message}}
    logs = logged("ucpaas", UCPAAS, 200, body, options={"log_bodies": False})
    assert logs[0]["vendor_message"] == "sign=***"


def test_a_structlog_lazy_proxy_is_bound_once_a_call_and_anew_for_the_next() -> None:
    # a failed call logs two lines (the attempt, the give-up), each asked of the logger twice
    # (its level, then the event): one bind for the whole call, not four; and a configure()
    # between calls reaches the next call
    from structlog._config import BoundLoggerLazyProxy

    binds: list[object] = []
    real = BoundLoggerLazyProxy.bind

    def counting(self: BoundLoggerLazyProxy, **values: Any) -> Any:
        binds.append(self)
        return real(self, **values)

    lines: list[Any] = []

    def keep(logger: object, name: str, event: Any) -> str:
        lines.append(event)
        return ""

    proxy = structlog.wrap_logger(None, processors=[keep])
    client = normalizer.Client(
        "ucpaas",
        logger=proxy,
        transport=httpx.MockTransport(
            lambda request: httpx.Response(200, json={"resp": {"respCode": "103114"}})
        ),
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(BoundLoggerLazyProxy, "bind", counting)
        client.post("https://api.ucpaas.com/2014-06-30/Accounts/a/Calls/callBack")
        assert len(binds) == 1
        assert [line["event"] for line in lines][:1] == ["vendor_call_failed"]
        client.post("https://api.ucpaas.com/2014-06-30/Accounts/a/Calls/callBack")
        assert len(binds) == 2  # the next call binds anew
