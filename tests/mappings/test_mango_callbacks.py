"""MANGO OFFICE notifications (API Realtime): form bodies of vpbx_api_key, sign and json=<JSON>.

The JSON documents are the examples of MangoOffice_VPBX_API_v1.9.pdf (API v 1.10; the copy in
maxodrom/yii2-mango-office-api docs/, commit e9d967a5): "Уведомление о завершении вызова"
examples 1 and 4, "Уведомление о результате отправки SMS", "Уведомление о записи разговора",
"Уведомление о нажатиях DTMF клавиш" and /result/callback, with the doc's typing slips
(``"from" {``, an unquoted command_id) corrected so that they are JSON. The key is the doc's
example ``vpbx_api_key``; the doc prints a placeholder ``sign`` (not a SHA-256), so signatures
are computed here by its formula, sha256(vpbx_api_key + json + vpbx_api_salt).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any
from urllib.parse import urlencode

import pytest

import normalizer
from normalizer import Category, Match, SignatureError

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
KEY = "5f4dcc3b5aa765d61d8327deb882cf99"
SALT = "3d5d4f7c2b1e4a6f9c8b7a6d5e4f3a2b"

SUMMARY_OK = {  # example 1: an answered incoming call
    "entry_id": "232wc3e3w3s222",
    "call_direction": 1,
    "from": {"number": "7800123635242"},
    "to": {"extension": "123", "number": "7800123456789"},
    "line_number": "7800123456789",
    "create_time": 1399906976,
    "forward_time": 1399906978,
    "talk_time": 1399906980,
    "end_time": 1399906990,
    "entry_result": 1,
    "disconnect_reason": 1100,
}
SUMMARY_MISSED = {  # example 4: an unsuccessful outgoing call
    "entry_id": "232wc3e3w3s222",
    "call_direction": 2,
    "from": {"extension": "123", "number": "sip:user1@xyz.mangosip.ru"},
    "to": {"number": "7800123456789"},
    "line_number": "74953333357",
    "create_time": 1399906976,
    "forward_time": 1399906976,
    "talk_time": 0,
    "entry_result": 0,
    "end_time": 1399906990,
    "disconnect_reason": 1100,
}
SMS = {"command_id": "1sjdhjh1231", "timestamp": "1399906980", "reason": "4392"}
RECORDING_STARTED = {
    "recording_id": "r100:777:500:256",
    "recording_state": "Started",
    "seq": 1,
    "call_id": "100:500:256",
    "entry_id": "232wc3e3w3s222",
    "extension": "1234",
    "timestamp": "1399906976",
    "command_id": "cmd.12.vpbx.12345.external.system.com.net",
}
DTMF = {
    "seq": 1,
    "dtmf": "124",
    "timestamp": "1399906980",
    "call_id": "100:500:256",
    "entry_id": "232wc3e3w3s222",
    "location": "ivr.2",
    "initiator": "79000000000",
}
RESULT = {"command_id": "cmd.2.vpbx.12345.external.system.com.net", "result": "1000"}


def form(doc: dict[str, Any], *, salt: str = SALT, sign: str | None = None) -> bytes:
    text = json.dumps(doc, ensure_ascii=False, separators=(",", ":"))
    if sign is None:
        sign = hashlib.sha256((KEY + text + salt).encode()).hexdigest()
    return urlencode({"vpbx_api_key": KEY, "sign": sign, "json": text}).encode()


def read(doc: dict[str, Any], **kwargs: Any) -> normalizer.Outcome:
    return normalizer.classify_callback(form(doc), FORM, **kwargs)


def test_answered_call_summary_is_ok() -> None:
    out = read(SUMMARY_OK)
    assert (out.vendor, out.product, out.code, out.category) == ("mango", "events", "1100", "ok")
    assert out.call_outcome is True
    assert out.request_id == "232wc3e3w3s222"


def test_missed_call_summary_reads_entry_result() -> None:
    out = read(SUMMARY_MISSED)
    assert (out.category, out.matched, out.retryable) == (Category.BUSY, Match.FIELD, False)
    assert out.call_outcome is True
    assert out.message.startswith("0 - звонок пропущен")


def test_a_failing_disconnect_reason_keeps_its_own_reading() -> None:
    out = read({**SUMMARY_MISSED, "disconnect_reason": 1133})
    assert (out.category, out.matched) == (Category.NOT_FOUND, Match.EXACT)


def test_a_disconnect_reason_class_reads_as_its_class() -> None:
    out = read({**SUMMARY_OK, "disconnect_reason": 1119})  # 111x -> 1110
    assert (out.category, out.matched) == (Category.OK, Match.CLASS)


def test_sms_delivery_status() -> None:
    out = read(SMS)
    assert (out.code, out.category, out.delivery_outcome) == ("4392", "validation", True)


def test_recording_events() -> None:
    assert read(RECORDING_STARTED).matched == Match.NO_CODE  # started: nothing failed
    done = {**RECORDING_STARTED, "recording_state": "Completed", "completion_code": 4002}
    assert read(done).category is Category.VALIDATION  # too short to be saved


def test_call_state_event_without_result_is_ok() -> None:
    call = {
        "entry_id": "232wc3e3w3s222",
        "call_id": "100:500:256",
        "timestamp": 1399906976,
        "seq": 1,
        "call_state": "Appeared",
        "location": "ivr",
    }
    assert read(call).ok
    ended = {**call, "seq": 2, "call_state": "Disconnected", "disconnect_reason": 5001}
    assert (read(ended).category, read(ended).product) == (Category.SERVER, "events")


def test_dtmf_and_command_result() -> None:
    assert (read(DTMF).vendor, read(DTMF).product, read(DTMF).ok) == ("mango", "events", True)
    result = read(RESULT)
    assert (result.product, result.code, result.ok) == (None, "1000", True)
    assert read({**RESULT, "result": "3100"}).category is Category.VALIDATION


def test_the_url_does_not_change_the_reading() -> None:
    # the issue: an /events/... URL of your own read unknown; the shape decides now
    url = "https://crm.example.com/vpbx/events/summary"
    assert read(SUMMARY_MISSED, url=url).category is Category.BUSY


def test_the_events_codes_are_the_vendors_table() -> None:
    for code in ("1100", "1133", "4392", "4002", "5001"):
        assert (
            normalizer.lookup("mango", code, product="events").category
            is normalizer.lookup("mango", code).category
        )


# ---------------------------------------------------------------- sign


def test_a_signed_notification_verifies() -> None:
    out = normalizer.classify_callback(form(SUMMARY_OK), FORM, secret=SALT)
    assert (out.vendor, out.category) == ("mango", Category.OK)


@pytest.mark.parametrize(
    "body",
    [
        form(SUMMARY_MISSED, salt="another salt"),
        form(SUMMARY_MISSED, sign="0" * 64),
        form(SUMMARY_MISSED).replace(b"%3A0%2C", b"%3A1%2C"),  # entry_result 0 -> 1
    ],
    ids=["wrong salt", "wrong sign", "tampered json"],
)
def test_a_forged_notification_raises_without_leaking(body: bytes) -> None:
    with pytest.raises(SignatureError, match="sha256") as info:
        normalizer.classify_callback(body, FORM, secret=SALT)
    text = str(info.value)
    assert KEY not in text
    assert SALT not in text
    sign = dict(p.split("=", 1) for p in body.decode().split("&"))["sign"]
    assert sign not in text


def test_a_notification_without_sign_raises() -> None:
    text = json.dumps(SMS)
    body = urlencode({"vpbx_api_key": KEY, "json": text}).encode()
    with pytest.raises(SignatureError, match="field 'sign' absent"):
        normalizer.classify_callback(body, FORM, secret=SALT)
    assert normalizer.classify_callback(body, FORM).code == "4392"  # unverified, still read


def test_key_and_sign_are_masked_in_logs() -> None:
    body = form(SMS).decode()
    sign = dict(p.split("=", 1) for p in body.split("&"))["sign"]
    line = normalizer.Redactor().text(body)
    assert KEY not in line
    assert sign not in line
    assert "json=" in line


def test_a_sign_given_twice_raises() -> None:
    body = form(SMS) + b"&sign=" + b"0" * 64
    with pytest.raises(SignatureError, match="not one text value"):
        normalizer.classify_callback(body, FORM, secret=SALT)
