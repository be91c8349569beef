"""Structured events for failures and retries, redacted, and the on_outcome metrics hook."""

from __future__ import annotations

import logging
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
