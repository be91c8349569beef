"""Per-item results: how batch responses sum up, partial failures, and never sending twice."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping
from pathlib import Path

import httpx
import pytest
import structlog

import normalizer
from normalizer import (
    Category,
    Client,
    PartialFailure,
    Registry,
    RetryPolicy,
    classify,
    outcome_of,
    raise_for_outcome,
    retry_recipients,
)
from normalizer._classify import resolve
from normalizer._items import MAX_ITEMS, with_items

WriteMapping = Callable[..., Path]

BATCH = """
format = 1

[vendor]
id = "batch"
name = "Batch SMS"

[detect]
hosts = ["api.batch.test"]

[envelope]
code = ["code"]
message = ["msg"]
success = ["0"]
no_code = true
xml = true

[codes]
"1" = { category = "busy", description = "throttled" }
"2" = { category = "validation", description = "invalid number" }
"3" = { category = "billing", description = "no credit" }
"4" = { category = "server", description = "internal error" }
"7" = { category = "auth", description = "bad key" }
"20" = { category = "busy", description = "queue full" }
"40" = { category = "validation", description = "not routable", delivery_outcome = true }

[[items]]
path = ["messages", "data.list"]
code = ["status"]
message = ["error-text"]
number = ["to"]
message_id = ["message-id"]
failed = ["fail"]
succeeded = ["success"]
paths = ["/send*"]

[[items]]
path = ["sms"]
keyed = true
code = ["status_code"]
paths = ["/keyed"]

[[items]]
path = ["$"]
code = ["status"]
number = ["mobile"]
report = true
paths = ["/reports"]
[items.codes]
"DELIVRD" = { category = "ok", description = "delivered", delivery_outcome = true }
"EXPIRED" = { category = "busy", description = "expired", delivery_outcome = true }

[[items]]
path = ["payload.to"]
code = ["status"]
number = ["phone_number"]
report = true
paths = ["/dlr"]
[items.codes]
"delivered" = { category = "ok", description = "delivered", delivery_outcome = true }
"delivery_failed" = { category = "unknown", description = "failed", delivery_outcome = true }

[[items]]
path = ["resp.item"]
code = ["status"]
number = ["to"]
paths = ["/xml"]

[[items]]
path = ["list"]
code = ["status"]
paths = ["/classes"]
[items.codes]
"0" = { category = "ok", description = "sent" }
"90" = { category = "busy", description = "in transit", delivery_outcome = true }
[items.classes]
"2x" = "20"
"""

SEND = "https://api.batch.test/send"


@pytest.fixture
def reg(write_mapping: WriteMapping) -> Registry:
    return Registry(builtin=write_mapping(BATCH, "batch.toml").parent, environ=False)


def msg(status: str, to: str = "447700900001", **extra: object) -> dict[str, object]:
    return {"status": status, "to": to, "message-id": f"id-{to[-4:]}", **extra}


def test_every_item_ok(reg: Registry) -> None:
    out = classify(
        "batch", {"messages": [msg("0"), msg("0", "447700900002")]}, url=SEND, registry=reg
    )
    assert (out.category, out.partial) == (Category.OK, False)
    assert [i.category for i in out.items] == [Category.OK, Category.OK]
    assert out.items[1].number == "********0002"
    assert out.items[1].message_id == "id-0002"
    assert out.items[0].index == 0
    assert out.items[1].index == 1
    assert "447700900002" not in repr(out)  # the number in clear never shows


def test_mixed_is_ok_and_partial_never_retryable(reg: Registry) -> None:
    body = {"messages": [msg("0"), msg("1", "447700900002", **{"error-text": "Throttled"})]}
    out = classify("batch", body, url=SEND, registry=reg)
    assert (out.category, out.partial, out.retryable, out.rejected) == (
        Category.OK,
        True,
        False,
        False,
    )
    assert out.ok
    [failed] = out.failed_items
    assert (failed.category, failed.code, failed.vendor_message) == (
        Category.BUSY,
        "1",
        "Throttled",
    )
    assert "partial: 1 of 2 items failed" in str(out)


def test_all_failed_with_one_category(reg: Registry) -> None:
    body = {"messages": [msg("1"), msg("1", "447700900002")]}
    out = classify("batch", body, url=SEND, registry=reg)
    assert (out.category, out.retryable, out.rejected, out.code, out.message) == (
        Category.BUSY,
        True,
        True,
        "1",
        "throttled",
    )
    assert not out.partial


def test_all_failed_differently_reads_as_the_least_recoverable(reg: Registry) -> None:
    body = {"messages": [msg("1"), msg("3", "447700900002"), msg("2", "447700900003")]}
    out = classify("batch", body, url=SEND, registry=reg)
    assert (out.category, out.code) == (Category.BILLING, "3")
    assert not out.retryable  # never retried for its busy item while others failed for good
    auth = classify("batch", {"messages": [msg("4"), msg("7", "1")]}, url=SEND, registry=reg)
    assert auth.category is Category.AUTH


def test_empty_list_is_plain_ok(reg: Registry) -> None:
    out = classify("batch", {"messages": []}, url=SEND, registry=reg)
    assert (out.category, out.items, out.partial) == (Category.OK, (), False)


def test_items_that_are_not_objects_are_unknown(reg: Registry) -> None:
    out = classify(
        "batch", {"messages": [msg("0"), "447700900002", None, 7]}, url=SEND, registry=reg
    )
    assert [i.category for i in out.items] == [Category.OK] + [Category.UNKNOWN] * 3
    assert out.partial
    missing = classify("batch", {"messages": [{"to": "1"}]}, url=SEND, registry=reg)
    assert (missing.category, missing.items[0].matched) == (Category.UNKNOWN, "missing")


def test_a_million_items_are_capped_and_the_body_intact(reg: Registry) -> None:
    raw = json.dumps({"messages": [{"status": "0"}] * 1_000_000}).encode()

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=raw, headers={"content-type": "application/json"})

    # classify() caps bodies like the clients (1 MiB): lifted here to reach the item cap
    out = classify("batch", raw, url=SEND, registry=reg, max_body_size=len(raw))
    assert len(out.items) == MAX_ITEMS
    assert out.category is Category.OK
    with Client(transport=httpx.MockTransport(handler), registry=reg, retry=None) as client:
        response = client.post(SEND)
    assert response.content == raw  # over the body cap: not read, passed through whole
    assert outcome_of(response) is not None


def test_counters_count_when_the_list_does_not_show_failures(reg: Registry) -> None:
    # the list names what was accepted, the counter says one more failed
    out = classify(
        "batch", {"messages": [msg("0")], "success": "1", "fail": "1"}, url=SEND, registry=reg
    )
    assert out.partial
    assert out.category is Category.OK
    none_went = classify("batch", {"fail": 2, "success": 0}, url=SEND, registry=reg)
    assert (none_went.category, none_went.retryable) == (Category.UNKNOWN, False)
    # a counter that says more succeeded than the list shows keeps a failed list partial
    more = classify("batch", {"messages": [msg("2")], "success": 3}, url=SEND, registry=reg)
    assert more.partial


def test_keyed_items_take_the_number_from_the_key(reg: Registry) -> None:
    body = {"sms": {"79255070602": {"status_code": "0"}, "74993221627": {"status_code": "2"}}}
    out = classify("batch", body, url="https://api.batch.test/keyed", registry=reg)
    assert out.partial
    assert [(i.number, i.index) for i in out.items] == [
        ("*******0602", None),
        ("*******1627", None),
    ]


def test_reports_are_data_and_read_from_the_root(reg: Registry) -> None:
    reports = [
        {"status": "DELIVRD", "mobile": "8613800138000"},
        {"status": "EXPIRED", "mobile": "1"},
    ]
    out = classify("batch", reports, url="https://api.batch.test/reports", registry=reg)
    assert (out.category, out.partial, out.matched) == (Category.OK, False, "no_code")
    assert [(i.category, i.delivery_outcome) for i in out.items] == [
        (Category.OK, True),
        (Category.BUSY, True),
    ]


def test_retry_recipients_never_lists_a_number_that_went_out(reg: Registry) -> None:
    body = {
        "messages": [
            msg("0", "447700900001"),
            msg("1", "447700900001"),  # a second part of the same message: it went out in part
            msg("1", "447700900002"),
            msg("2", "447700900003"),  # not retryable
        ]
    }
    out = classify("batch", body, url=SEND, registry=reg)
    assert retry_recipients(out) == ["447700900002"]


def test_a_partial_post_is_sent_exactly_once(reg: Registry) -> None:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={"messages": [msg("0"), msg("1", "447700900002")]})

    policy = RetryPolicy(max_attempts=5, idempotent=True)
    with Client(transport=httpx.MockTransport(handler), registry=reg, retry=policy) as client:
        response = client.post(SEND, json={"to": ["a", "b"]})
    assert len(sent) == 1
    out = outcome_of(response)
    assert out is not None
    assert out.partial


def test_a_batch_refused_whole_is_retried_like_any_refusal(reg: Registry) -> None:
    answers = [
        {"messages": [msg("1"), msg("1", "447700900002")]},
        {"messages": [msg("0"), msg("0", "447700900002")]},
    ]

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=answers.pop(0))

    with Client(transport=httpx.MockTransport(handler), registry=reg) as client:
        response = client.post(SEND)
    out = outcome_of(response)
    assert out is not None
    assert out.ok
    assert not out.partial
    assert answers == []


def test_partial_is_logged_redacted_and_raised_only_when_asked(reg: Registry) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, json={"messages": [msg("0"), msg("2", "447700900002"), msg("3", "447700900003")]}
        )

    with (
        structlog.testing.capture_logs() as logs,
        Client(
            transport=httpx.MockTransport(handler), registry=reg, retry=None, raise_on_error=True
        ) as client,
    ):
        response = client.post(SEND)  # ok at the top: raise_on_error does not raise
    [event] = [e for e in logs if e["event"] == "vendor_call_partial"]
    assert event["log_level"] == "warning"
    assert event["failed_by_category"] == {"validation": 1, "billing": 1}
    assert (event["items"], event["failed"]) == (3, 2)
    assert event["failed_numbers"] == ["********0002", "********0003"]
    assert "447700900002" not in repr(logs)
    assert raise_for_outcome(response) is response
    with pytest.raises(PartialFailure) as info:
        raise_for_outcome(response, partial=True)
    assert [i.code for i in info.value.failed] == ["2", "3"]
    assert "partial: 2 of 3 items failed (1 validation, 1 billing)" in str(info.value)
    assert "447700900002" not in str(info.value)


def test_a_failed_top_level_code_wins_over_items(reg: Registry) -> None:
    out = classify("batch", {"code": 7, "messages": [msg("0")]}, url=SEND, registry=reg)
    assert (out.category, out.items) == (Category.AUTH, ())


@pytest.mark.parametrize(
    ("xml", "statuses"),
    [
        (b"<resp><item><status>2</status><to>447700900001</to></item></resp>", ["2"]),
        (b"<resp>" + b"<item><status>0</status></item>" * 4 + b"</resp>", ["0"] * 4),
    ],
    ids=["one element", "four elements"],
)
def test_xml_items_one_or_many(reg: Registry, xml: bytes, statuses: list[str]) -> None:
    out = classify("batch", xml, url="https://api.batch.test/xml", registry=reg)
    assert [i.code for i in out.items] == statuses
    assert out.ok == (statuses[0] == "0")


@pytest.mark.parametrize("fail", ["\u00b2", "9" * 5000, "-3", "1.5", [1], {"n": 1}])
def test_odd_counters_never_raise(reg: Registry, fail: object) -> None:
    out = classify("batch", {"messages": [msg("0")], "fail": fail}, url=SEND, registry=reg)
    assert out.ok
    assert not out.partial


def test_what_went_out_in_any_form_is_never_resent(reg: Registry) -> None:
    # an item still in transit (a delivery outcome) went out: its batch is partial, not busy
    body = {"list": [{"status": "90"}, {"status": "1"}]}
    out = classify("batch", body, url="https://api.batch.test/classes", registry=reg)
    assert (out.partial, out.retryable) == (True, False)
    # items past MAX_ITEMS were not read: a batch that looks refused whole is not resent
    many = {"messages": [msg("1")] * (MAX_ITEMS + 1)}
    cut = classify("batch", many, url=SEND, registry=reg)
    assert (cut.category, cut.retryable, cut.rejected) == (Category.BUSY, False, False)


def test_an_item_class_may_point_at_the_vendor_table(reg: Registry) -> None:
    # [items.classes] "2x" = "20": "20" is the vendor's code, not the item table's
    out = classify(
        "batch", {"list": [{"status": "25"}]}, url="https://api.batch.test/classes", registry=reg
    )
    assert (out.items[0].category, out.items[0].matched) == (Category.BUSY, "class")


@pytest.mark.parametrize(
    ("number", "shown"),
    [("12345678", "****5678"), ("+7 (925) 507-06-02", "*******0602"), ("abc", "***")],
)
def test_item_numbers_are_masked_whatever_their_form(
    reg: Registry, number: str, shown: str
) -> None:
    out = classify("batch", {"messages": [msg("0", number)]}, url=SEND, registry=reg)
    assert out.items[0].number == shown
    assert out.items[0].recipient == number
    assert number not in repr(out) or number == "abc"


def test_partial_log_uses_the_clients_redactor(reg: Registry) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"messages": [msg("0"), msg("2", "447700900002")]})

    redactor = normalizer.Redactor(keep_digits=0)
    with (
        structlog.testing.capture_logs() as logs,
        Client(
            transport=httpx.MockTransport(handler), registry=reg, retry=None, redactor=redactor
        ) as client,
    ):
        client.post(SEND)
    [event] = [e for e in logs if e["event"] == "vendor_call_partial"]
    assert event["failed_numbers"] == ["************"]


@pytest.mark.parametrize("body", [b'"unavailable"', b"0", b"false", b"[]", b"[1, 2]"])
def test_no_code_needs_a_document(reg: Registry, body: bytes) -> None:
    out = classify("batch", body, url=SEND, registry=reg)
    assert out.category is Category.UNKNOWN


def read_items(reg: Registry, body: Mapping[str, object], path: str) -> normalizer.Outcome:
    """What the classifier gives ``with_items`` for ``body``: its outcome, then its items."""
    mapping = reg.get("batch")

    def read(code: str) -> tuple[normalizer._mapping.Entry, normalizer.Match] | None:
        found = resolve(mapping, code, None, routed=True)
        return None if found is None else (found.entry, found.matched)

    out = classify("batch", body, url=f"https://api.batch.test{path}", registry=reg)
    return with_items(out, mapping.envelope, body, path, read)


def test_a_failed_delivery_report_lists_which_recipients_failed_and_why(reg: Registry) -> None:
    # a message.finalized-like report: the message's error code says why, beside the
    # recipients' statuses (Telnyx data.payload.errors[] and data.payload.to[])
    body = {
        "code": "40",
        "msg": "Landline destination.",
        "payload": {
            "to": [
                {"phone_number": "+18665550001", "status": "delivered"},
                {"phone_number": "+18665550002", "status": "delivery_failed"},
            ]
        },
    }
    out = read_items(reg, body, "/dlr")
    assert (out.category, out.code, out.delivery_outcome) == (Category.VALIDATION, "40", True)
    delivered, failed = out.items
    assert (delivered.category, delivered.code) == (Category.OK, "delivered")
    assert (failed.category, failed.code, failed.message, failed.vendor_message) == (
        Category.VALIDATION,
        "40",
        "not routable",
        "Landline destination.",
    )
    assert (failed.number, failed.index, failed.delivery_outcome) == ("*******0002", 1, True)
    assert out.failed_items == (failed,)
    assert retry_recipients(out) == []  # a delivery result is never resent


def test_a_failure_that_is_no_delivery_outcome_keeps_no_items(reg: Registry) -> None:
    body = {"code": "7", "payload": {"to": [{"phone_number": "1", "status": "delivered"}]}}
    out = read_items(reg, body, "/dlr")
    assert (out.category, out.items) == (Category.AUTH, ())


def test_an_item_code_no_table_knows_reads_the_vendors_text(reg: Registry) -> None:
    body = {"messages": [msg("99", **{"error-text": "number is empty"}), msg("2")]}
    out = classify("batch", body, url=SEND, registry=reg)
    unknown, known = out.items
    assert (unknown.category, unknown.matched) == (Category.UNKNOWN, "unmapped")
    assert (unknown.message, unknown.vendor_message) == ("number is empty", "number is empty")
    assert known.message == "invalid number"  # a known code keeps the table's description
    silent = classify("batch", {"messages": [msg("99")]}, url=SEND, registry=reg)
    assert silent.items[0].message == ""


def test_an_items_fields_are_cut_as_an_outcomes_code_is(reg: Registry) -> None:
    huge = "9" * 500_000 + "\n+14155550100"
    body = {"messages": [msg(huge, to=huge), {"status": 10**5000, "to": "447700900002"}]}
    out = classify("batch", body, url=SEND, registry=reg)
    first, second = out.items
    assert len(first.code or "") == 64
    assert first.category is Category.UNKNOWN
    assert len(first.recipient or "") == 64
    assert second.code == "\u2026"  # a 5000-digit int is not even written out


def test_items_are_copies_of_their_codes_prebuilt_item(
    reg: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A report of many items builds one Item per distinct code, then copies it per item."""
    body = {"messages": [msg(str(n % 3), to=f"4477009000{n:02d}") for n in range(60)]}
    classify("batch", body, url=SEND, registry=reg)  # the codes' items prebuilt
    built: list[object] = []
    real = normalizer.Item.__init__

    def counting(self: normalizer.Item, *args: object, **kwargs: object) -> None:
        built.append(kwargs)
        real(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(normalizer.Item, "__init__", counting)
    fresh = {"messages": [msg(str(n % 3), to=f"4477009001{n:02d}") for n in range(60)]}
    out = classify("batch", fresh, url=SEND, registry=reg)
    assert built == []
    assert len(out.items) == 60
    assert (out.items[4].code, out.items[4].number, out.items[4].index) == ("1", "********0104", 4)
    assert out.items[4] == dataclasses.replace(
        out.items[1], number="********0104", index=4, message_id="id-0104"
    )
    assert out.items[4].recipient == "447700900104"
