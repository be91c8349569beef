"""MANGO OFFICE: real traffic beyond the seed table.

Where the bodies come from:
- MangoOffice_VPBX_API_v1.9.pdf ("API v 1.10", maxodrom/yii2-mango-office-api, docs/):
  "Модель взаимодействия" (HTTP 420 Method Failure with ``{"code": 3104}``; error classes 2xxx,
  31xx, 33xx), "API Статистика" (``POST /stats/request`` answers ``{"key": ...}``,
  ``/stats/result`` answers 204 / 404 / CSV), "API Конфигурация" (``POST /config/users/request``
  answers ``{"users": [...]}``), "Уведомление о результате отправки SMS" (43xx delivery status).
- MangoOffice_VPBX_API v1.9 §3.4.2.3 (``/vpbx/stats/calls/result/``: ``result`` 1000 with
  ``status`` request / work / complete / cancel / error / not-found; the "Пример ответа" body)
  and x0cfwm/n8n-nodes-mango-office GenericFunctions.ts (polls while status is 'work').
- Public client code for ``POST https://auth.mango-office.ru/refresh`` (``{result: 1000,
  auth_token, refresh_token}`` / ``{result: 1103, message: "Token not found"}``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

import normalizer
from normalizer import Category, Match, classify, lookup

VPBX = "https://app.mango-office.ru/vpbx"
KEY = "b3Z7pivetID7uPJCFWMmSaFTtTO3meavk7h6caPew3dSX++wPR/ZIntjIfssKf/B+DvIt8hPJReV8v4MYspQQA=="
FORM = {"vpbx_api_key": "5f4dcc3b5aa765d61d8327deb882cf99", "sign": "x", "json": "{}"}


def _client(status: int, body: Any, **options: Any) -> tuple[normalizer.Client, Callable[[], None]]:
    def handler(request: httpx.Request) -> httpx.Response:
        if body is None:
            return httpx.Response(status)
        return httpx.Response(status, json=body)

    client = normalizer.Client(transport=httpx.MockTransport(handler), retry=None, **options)
    return client, client.close


def _post(url: str, status: int, body: Any) -> normalizer.Outcome:
    client, close = _client(status, body)
    try:
        response = client.post(url, data=FORM)
    finally:
        close()
    outcome = normalizer.outcome_of(response)
    assert outcome is not None
    return outcome


# ------------------------------------------------------ 1. error answers: HTTP 420 + {"code": N}


@pytest.mark.parametrize(
    ("code", "category", "matched"),
    [
        pytest.param(3104, Category.VALIDATION, Match.EXACT, id="3104-doc-example"),
        pytest.param(2240, Category.BILLING, Match.EXACT, id="2240-insufficient-funds"),
        pytest.param(2219, Category.BILLING, Match.CLASS, id="2219-billing-class"),
        pytest.param(3310, Category.NOT_FOUND, Match.EXACT, id="3310-call-not-found"),
        pytest.param(3399, Category.NOT_FOUND, Match.CLASS, id="3399-33xx-class"),
        pytest.param(3105, Category.AUTH, Match.EXACT, id="3105-bad-key"),
    ],
)
def test_420_error_body_code_wins_over_the_status(
    code: int, category: Category, matched: Match
) -> None:
    url = f"{VPBX}/commands/callback"
    o = classify("mango", {"code": code}, status_code=420, url=url)
    assert o.code == str(code)
    assert o.matched == matched
    assert o.category is category
    assert o.http_status == 420
    via_client = _post(url, 420, {"code": code})
    assert (via_client.vendor, via_client.code, via_client.category) == (
        "mango",
        str(code),
        category,
    )


def test_result_still_comes_first() -> None:
    o = classify("mango", {"result": 1000, "code": 3104})
    assert o.code == "1000"
    assert o.ok


def test_420_without_a_body_falls_back_to_the_status() -> None:
    o = classify("mango", b"", status_code=420, url=f"{VPBX}/commands/callback")
    assert o.matched == Match.HTTP_STATUS
    assert o.category is Category.VALIDATION


# ------------------------------------------------------ 2. documented successes without a code


@pytest.mark.parametrize(
    ("path", "body"),
    [
        pytest.param("/stats/request", {"key": KEY}, id="stats-request-key"),
        pytest.param(
            "/config/users/request",
            {
                "users": [
                    {
                        "general": {"name": "Ivan", "email": "john@mango-office.com"},
                        "telephony": {
                            "extension": "1234",
                            "numbers": [{"number": "74952223311", "protocol": "tel"}],
                        },
                    }
                ]
            },
            id="config-users-request",
        ),
    ],
)
def test_documented_answers_without_a_code_are_ok(path: str, body: dict[str, Any]) -> None:
    o = classify("mango", body, url=VPBX + path)
    assert o.ok
    assert o.matched == Match.NO_CODE
    client, close = _client(200, body, raise_on_error=True)
    try:
        response = client.post(VPBX + path, data=FORM)  # must not raise
    finally:
        close()
    outcome = normalizer.outcome_of(response)
    assert outcome is not None
    assert outcome.matched == Match.NO_CODE


def test_no_code_is_not_global() -> None:
    # a command answer without "result" is not a success: MANGO errors can come with a code only
    o = classify("mango", {"key": KEY}, url=f"{VPBX}/commands/callback")
    assert not o.ok
    assert o.matched == Match.MISSING


def test_no_code_path_still_reads_an_error_code() -> None:
    o = classify("mango", {"code": 3103}, status_code=420, url=f"{VPBX}/stats/request")
    assert o.category is Category.VALIDATION
    assert o.code == "3103"


# ------------------------------------------------------ 3. reports being built, rate limits


CALLS_RESULT = f"{VPBX}/stats/calls/result/"


@pytest.mark.parametrize("status", ["work", "request"])
def test_stats_calls_result_not_ready_is_busy(status: str) -> None:
    # a 'work' answer may already carry a partial first chunk (n8n-nodes-mango-office)
    body = {"result": 1000, "status": status, "data": [{"list": []}]}
    o = classify("mango", body, url=CALLS_RESULT)
    assert o.category is Category.BUSY
    assert o.matched == Match.FIELD
    assert o.retryable
    assert o.rejected
    assert not o.ok
    via_client = _post(CALLS_RESULT, 200, body)
    assert via_client.category is Category.BUSY
    assert via_client.retryable


def test_stats_calls_result_complete_is_ok() -> None:
    # shortened from the doc's "Пример ответа (расширенная статистика)"
    body = {
        "result": 1000,
        "status": "complete",
        "data": [
            {
                "list": [
                    {
                        "entry_id": "NTAwODcxNjI1Ng==",
                        "context_type": 2,
                        "context_status": 1,
                        "caller_number": "sip:ctulhu_cov@tinsk01.mangosip.ru",
                        "called_number": "7007374952233501",
                        "context_calls": [{"call_type": "number", "call_end_reason": 1110}],
                    }
                ]
            }
        ],
    }
    o = _post(CALLS_RESULT, 200, body)
    assert o.ok
    assert o.matched == Match.EXACT
    assert o.call_outcome is False  # call_end_reason inside the data is data


@pytest.mark.parametrize(
    ("status", "category", "retryable"),
    [
        ("not-found", Category.NOT_FOUND, False),
        ("error", Category.SERVER, False),
        ("cancel", Category.VALIDATION, False),
    ],
)
def test_stats_calls_result_final_failures(
    status: str, category: Category, retryable: bool
) -> None:
    o = classify("mango", {"result": 1000, "status": status}, url=CALLS_RESULT)
    assert o.category is category
    assert o.retryable is retryable
    assert o.matched == Match.FIELD


def test_status_field_elsewhere_is_not_a_report_status() -> None:
    o = classify("mango", {"result": 1000, "status": "work"}, url=f"{VPBX}/commands/callback")
    assert o.ok


def test_stats_result_204_and_404() -> None:
    url = f"{VPBX}/stats/result"
    waiting = _post(url, 204, None)
    assert waiting.category is Category.BUSY
    assert waiting.rejected
    gone = classify("mango", b"", status_code=404, url=url)
    assert gone.category is Category.NOT_FOUND
    assert gone.message.startswith("Данные не найдены")


def test_503_rate_limit_through_a_client() -> None:
    o = _post(f"{VPBX}/commands/callback", 503, None)
    assert o.category is Category.BUSY
    assert o.retryable
    assert o.rejected


# ------------------------------------------------------ auth.mango-office.ru


def test_auth_host_token_refresh() -> None:
    url = "https://auth.mango-office.ru/refresh"
    bad = _post(url, 200, {"result": 1103, "message": "Token not found"})
    assert (bad.vendor, bad.product, bad.category) == ("mango", "auth", Category.AUTH)
    assert bad.vendor_message == "Token not found"
    assert bad.call_outcome is False  # not the VPBX 11xx call endings
    good = _post(url, 200, {"result": 1000, "auth_token": "a", "refresh_token": "r"})
    assert good.ok
    assert good.product == "auth"


def test_1103_without_product_is_ambiguous() -> None:
    o = lookup("mango", "1103")
    assert o.matched == Match.AMBIGUOUS
    assert o.category is Category.UNKNOWN


# ------------------------------------------------------ 4. judgment fixes


def test_4301_expired_sms_is_a_delivery_outcome() -> None:
    o = lookup("mango", "4301")
    assert o.delivery_outcome is True
    assert o.rejected is False
    assert o.retryable is False


@pytest.mark.parametrize("code", ["4301", "4391", "4392", "4393", "6000", "6010", "6019"])
def test_delivery_statuses_are_flagged(code: str) -> None:
    o = lookup("mango", code)
    assert o.delivery_outcome or o.call_outcome, code
    assert o.retryable is False, code
    assert o.rejected is False, code


def test_events_sms_delivery_status() -> None:
    # /events/sms notification (API v1.10): "reason" is the 43xx delivery status
    event = {"command_id": "1sjdhjh1231", "timestamp": "1399906980", "reason": "4392"}
    o = lookup("mango", event["reason"])
    assert o.delivery_outcome is True
    assert o.category is Category.VALIDATION


def test_4200_is_not_safe_to_resend() -> None:
    o = lookup("mango", "4200")
    assert o.category is Category.BUSY
    assert o.rejected is False


def test_5102_reads_like_2220() -> None:
    active, concurrent = lookup("mango", "5102"), lookup("mango", "2220")
    assert active.category is concurrent.category is Category.BUSY
    assert active.retryable is concurrent.retryable is True


def test_4002_is_a_recording_outcome() -> None:
    o = lookup("mango", "4002")
    assert o.call_outcome is True
    assert o.retryable is False
    assert o.category is Category.VALIDATION
