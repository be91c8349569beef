"""The failover rule alone: does a recipient move, from an outcome or an exception and the
mapping's data (no client, no I/O)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

import normalizer
from normalizer import Category, CircuitOpenError, Fault, RateLimitedError
from normalizer._failover_rule import Judged, Sent, Verdict, judge, judge_error, match_items
from normalizer._failover_rule import judged as judgement
from normalizer._items import number_key, same_number

TWILIO = "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json"
VONAGE = "https://rest.nexmo.com/sms/json"
TENCENT = "https://sms.tencentcloudapi.com/"


def judged(*args: Any) -> list[Judged]:
    """Each recipient's verdict and outcome, in the recipients' order."""
    found = judgement(*args)
    assert found.uniform is not None or list(found.outcomes) == list(found.verdicts)
    return [Judged(r, found.verdict(r), found.outcomes[r]) for r in found.outcomes]


@pytest.mark.parametrize(
    ("vendor", "code", "move", "reason"),
    [
        ("twilio", "20429", True, "busy"),  # too many requests, the account's: never processed
        ("twilio", "20003", True, "auth"),  # credentials refused
        ("tencent_sms", "FailedOperation.InsufficientBalanceInSmsPackage", True, "billing"),
        ("tencent_sms", "FailedOperation.TemplateUnapprovedOrNotExist", True, "validation"),
        ("ucpaas", "107225", True, "busy"),  # 外呼繁忙: the account's outbound capacity
        ("mango", "5001", True, "server"),  # Перегрузка: overloaded, refused (rejected)
        ("yuntongxun", "160001", False, "maybe_sent"),  # channel busy: may have acted
        ("twilio", "21211", False, "recipient"),  # invalid 'To' number
        ("twilio", "21610", False, "recipient"),  # unsubscribed
        ("tencent_sms", "FailedOperation.ContainSensitiveWord", False, "content"),
        ("tencent_sms", "LimitExceeded.PhoneNumberDailyLimit", False, "recipient"),  # a cap
        ("twilio", "21604", False, "request"),  # 'To' missing: the request's
        ("airudder", "99999", False, "unknown"),  # unmapped
        ("onbuka", "-3", False, "unknown"),  # ambiguous across products
    ],
)
def test_who_moves_by_the_mappings_data(vendor: str, code: str, move: bool, reason: str) -> None:
    verdict = judge(normalizer.lookup(vendor, code))
    assert (verdict.move, verdict.reason) == (move, reason)


def test_a_server_error_the_vendor_did_not_explain_is_maybe_sent() -> None:
    out = normalizer.classify("twilio", b"", status_code=500, url=TWILIO)
    assert out.fault is Fault.VENDOR
    assert not out.rejected
    assert judge(out) == (False, "maybe_sent", Sent.MAYBE)
    assert judge(out, move_maybe_sent=True) == (True, "maybe_sent", Sent.MAYBE)  # opted in


def test_a_delivery_report_went_out_and_never_moves() -> None:
    out = normalizer.lookup("twilio", "30003")  # unreachable handset: a delivery outcome
    assert out.delivery_outcome
    assert judge(out, move_maybe_sent=True) == (False, "sent", Sent.YES)


@pytest.mark.parametrize(
    ("error", "move", "reason", "sent"),
    [
        (CircuitOpenError("twilio", "twilio", 5.0, "open"), True, "circuit_open", Sent.NO),
        (CircuitOpenError("twilio", "twilio", 5.0, "cooldown"), True, "cooldown", Sent.NO),
        (RateLimitedError("twilio", 9.0), True, "rate_limited", Sent.NO),
        (httpx.ConnectError("refused"), True, "not_connected", Sent.NO),
        (httpx.ConnectTimeout("slow"), True, "not_connected", Sent.NO),
        (httpx.PoolTimeout("pool"), True, "not_connected", Sent.NO),
        (httpx.ReadTimeout("written, no answer"), False, "maybe_sent", Sent.MAYBE),
        (httpx.WriteTimeout("half written"), False, "maybe_sent", Sent.MAYBE),
        (httpx.RemoteProtocolError("lost mid-answer"), False, "maybe_sent", Sent.MAYBE),
        (ValueError("the caller's own bug"), False, "maybe_sent", Sent.MAYBE),
    ],
)
def test_exceptions_move_only_when_certainly_not_sent(
    error: Exception, move: bool, reason: str, sent: Sent
) -> None:
    assert judge_error(error) == (move, reason, sent)
    if sent is Sent.MAYBE:  # the caller's opt-in moves an ambiguous failure, and only that
        assert judge_error(error, move_maybe_sent=True).move


def test_a_vendor_error_is_judged_by_its_outcome() -> None:
    billing = normalizer.lookup("tencent_sms", "FailedOperation.InsufficientBalanceInSmsPackage")
    invalid = normalizer.lookup("twilio", "21211")
    assert judge_error(normalizer.BillingError(billing)).move
    assert not judge_error(normalizer.ValidationError(invalid)).move


def test_numbers_match_with_or_without_plus_country_code_and_trunk_zero() -> None:
    assert number_key("+44 7700-900001") == number_key("00447700900001") == "447700900001"
    assert same_number(number_key("+447700900001"), number_key("07700900001"))
    assert same_number(number_key("+8613800138001"), number_key("13800138001"))
    assert not same_number(number_key("+447700900001"), number_key("+447700900002"))
    assert not same_number(number_key("900001"), number_key("+447700900001"))  # too short
    assert not same_number("", "")


def test_items_are_matched_to_recipients_and_an_ambiguous_echo_to_none() -> None:
    body = {
        "messages": [
            {"to": "447700900002", "status": "0", "message-id": "a"},
            {"to": "7700900001", "status": "1"},  # echoed without the country code
            {"to": "900003", "status": "0"},  # too short to say whose
        ]
    }
    out = normalizer.classify("vonage", body, url=VONAGE)
    recipients = ["+447700900001", "+447700900002", "+447700900003"]
    found = match_items(recipients, out.items)
    assert [[item.code for item in items] for items in found] == [["1"], ["0"], []]
    verdicts = {j.recipient: j.verdict.reason for j in judged("vonage", None, recipients, out)}
    assert verdicts == {
        "+447700900001": "busy",
        "+447700900002": "accepted",
        "+447700900003": "maybe_sent",  # no item of its own: maybe sent, never moved
    }


def test_parts_of_one_message_move_together_or_not_at_all() -> None:
    one_part_out = {
        "messages": [{"to": "447700900001", "status": "0"}, {"to": "447700900001", "status": "1"}]
    }
    every_part_throttled = {
        "messages": [{"to": "447700900001", "status": "1"}, {"to": "447700900001", "status": "1"}]
    }
    partly = judged(
        "vonage", None, ["+447700900001"], normalizer.classify("vonage", one_part_out, url=VONAGE)
    )
    assert [(j.verdict.move, j.verdict.reason) for j in partly] == [(False, "partly_sent")]
    whole = judged(
        "vonage",
        None,
        ["+447700900001"],
        normalizer.classify("vonage", every_part_throttled, url=VONAGE),
    )
    assert [(j.verdict.move, j.verdict.reason) for j in whole] == [(True, "busy")]
    assert whole[0].outcome.category is Category.BUSY
    assert len(whole[0].outcome.items) == 2


def test_a_batch_decides_recipient_by_recipient_and_keeps_each_ones_outcome() -> None:
    body = {
        "Response": {
            "SendStatusSet": [
                {"PhoneNumber": "+8613800138000", "Code": "Ok"},
                {
                    "PhoneNumber": "+8613800138001",
                    "Code": "FailedOperation.InsufficientBalanceInSmsPackage",
                },
                {
                    "PhoneNumber": "+8613800138002",
                    "Code": "InvalidParameterValue.IncorrectPhoneNumber",
                },
            ],
            "RequestId": "r1",
        }
    }
    out = normalizer.classify("tencent_sms", body, url=TENCENT)
    recipients = ["+8613800138000", "13800138001", "+8613800138002"]
    found = judged("tencent_sms", None, recipients, out)
    assert [(j.verdict.move, j.verdict.reason) for j in found] == [
        (False, "accepted"),
        (True, "billing"),
        (False, "recipient"),
    ]
    assert [j.outcome.category for j in found] == ["ok", "billing", "validation"]
    assert found[1].outcome.request_id == "r1"
    assert found[1].outcome.fault is Fault.VENDOR


def test_a_list_answers_recipient_by_recipient_and_a_short_list_leaves_the_rest_maybe_sent() -> (
    None
):
    ok = normalizer.classify("twilio", {"sid": "SM1"}, status_code=201, url=TWILIO)
    busy = normalizer.lookup("twilio", "20429")
    found = judged("twilio", None, ["+1", "+2", "+3"], [ok, busy])
    assert [j.verdict.reason for j in found] == ["accepted", "busy", "maybe_sent"]


def test_a_response_without_an_outcome_is_maybe_sent() -> None:
    plain = httpx.Response(200, json={})  # not from normalizer's clients: nothing was read
    [found] = judged("twilio", None, ["+1"], plain)
    assert (found.verdict.move, found.verdict.reason) == (False, "maybe_sent")
    assert found.outcome.category is Category.UNKNOWN
    assert found.outcome.vendor == "twilio"


def test_explain_says_whose_fault_a_code_is(capsys: pytest.CaptureFixture[str]) -> None:
    from normalizer._cli import main

    assert main(["explain", "tencent_sms", "FailedOperation.TemplateUnapprovedOrNotExist"]) == 0
    assert "fault: vendor" in capsys.readouterr().out  # its template, not the recipient
    assert main(["explain", "twilio", "21211"]) == 0
    assert "fault: recipient" in capsys.readouterr().out


def test_a_connection_refused_through_requests_or_aiohttp_was_never_sent() -> None:
    # normalizer.requests and normalizer.aiohttp give their users requests' and aiohttp's own
    # exceptions: a refused connection is still a certain non-send (a port on 127.0.0.1 that
    # nothing listens on)
    import asyncio
    import socket

    import aiohttp
    import requests

    from normalizer.aiohttp import NormalizingMiddleware
    from normalizer.requests import NormalizingAdapter

    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{probe.getsockname()[1]}/2010-04-01/Accounts/AC1/Messages.json"
    probe.close()
    session = requests.Session()
    session.mount("http://", NormalizingAdapter("twilio", retry=None))
    with pytest.raises(requests.ConnectionError) as refused:
        session.post(url, data={"To": "+15005550001"}, timeout=2)
    assert judge_error(refused.value) == Verdict(True, "not_connected", Sent.NO)

    async def post() -> BaseException:
        middleware = NormalizingMiddleware("twilio", retry=None)
        async with aiohttp.ClientSession(middlewares=[middleware]) as client:
            try:
                await client.post(url, data={"To": "+15005550001"})
            except aiohttp.ClientError as exc:
                return exc
        raise AssertionError("connected")

    error = asyncio.run(post())
    assert isinstance(error, aiohttp.ClientConnectorError)
    assert judge_error(error) == Verdict(True, "not_connected", Sent.NO)
    # a lost answer stays what it is, whichever library says it
    lost = requests.ConnectionError("('Connection aborted.', RemoteDisconnected('closed'))")
    assert judge_error(lost).sent is Sent.MAYBE


def test_an_error_raised_while_handling_a_refused_connection_may_have_gone() -> None:
    # the backup-host pattern: the first connection refused, the second request written and
    # timed out; the timeout's __context__ is the refusal, and says nothing of the timeout
    import requests

    def backup() -> None:
        try:
            raise httpx.ConnectError("refused")
        except httpx.ConnectError:
            raise requests.ReadTimeout("the backup host did not answer")  # noqa: B904

    with pytest.raises(requests.ReadTimeout) as timed_out:
        backup()
    assert timed_out.value.__context__ is not None
    assert judge_error(timed_out.value).sent is Sent.MAYBE
    made_of = requests.ConnectionError(httpx.ConnectError("refused"))  # wraps it: never left
    assert judge_error(made_of) == Verdict(True, "not_connected", Sent.NO)
