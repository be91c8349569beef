"""normalizer.classify_callback: raw callback bytes and headers in, recognised by their shape.

Vendor bodies here come from the vendors' documentation and SDK fixtures (named at each);
the per-vendor readings and signature vectors are in tests/mappings/test_*_callbacks.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

import normalizer
from normalizer import Category, MappingError, Match, Registry, SignatureError
from normalizer._mapping import load_file

WriteMapping = Callable[..., Path]

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
JSON = {"Content-Type": "application/json"}

# Tencent Cloud SMS status callback (https://cloud.tencent.com/document/product/382/43547)
TENCENT = json.dumps(
    [
        {
            "user_receive_time": "2015-10-17 08:03:04",
            "nationcode": "86",
            "mobile": "13xxxxxxxxx",
            "report_status": "SUCCESS",
            "errmsg": "DELIVRD",
            "description": "用户短信送达成功",
            "sid": "xxxxxxx",
        }
    ]
).encode()

# Twilio status callback, form-encoded (its fields:
# https://www.twilio.com/docs/messaging/guides/track-outbound-message-status)
TWILIO = (
    b"ApiVersion=2010-04-01&MessageStatus=undelivered&ErrorCode=30003"
    b"&MessageSid=SMXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX&SmsSid=SMXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"
    b"&SmsStatus=undelivered&AccountSid=ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"
    b"&To=%2B15558675310&From=%2B15017122661"
)


def test_each_vendor_is_recognised_with_no_vendor_given() -> None:
    tencent = normalizer.classify_callback(TENCENT, JSON)
    assert tencent.vendor == "tencent_sms"
    assert [i.code for i in tencent.items] == ["SUCCESS"]
    twilio = normalizer.classify_callback(TWILIO, FORM)
    assert (twilio.vendor, twilio.product, twilio.code) == ("twilio", "messaging", "30003")


def test_a_callback_carries_no_http_status() -> None:
    # the vendor made a request: there is no answer status to report
    assert normalizer.classify_callback(TWILIO, FORM).http_status is None


def test_headers_are_read_without_case_and_the_body_may_be_text() -> None:
    out = normalizer.classify_callback(
        TWILIO.decode(), {"content-TYPE": "application/x-www-form-urlencoded; charset=utf-8"}
    )
    assert out.vendor == "twilio"


def test_an_undeclared_content_type_is_sniffed() -> None:
    assert normalizer.classify_callback(TENCENT).vendor == "tencent_sms"
    assert normalizer.classify_callback(TWILIO).vendor == "twilio"


def test_a_declared_content_type_must_be_the_callbacks_own() -> None:
    # Twilio's status callbacks are form-encoded: the same fields as JSON are no known shape
    doc = json.dumps({"MessageSid": "SM1", "MessageStatus": "delivered"}).encode()
    out = normalizer.classify_callback(doc, JSON)
    assert (out.category, out.vendor, out.matched) == (Category.UNKNOWN, "", Match.MISSING)
    assert "not a callback any vendor's mapping describes" in out.message


@pytest.mark.parametrize(
    "body",
    [b"", b"\x00\xff\xfe garbage", b"{not json", b"[]", b"a=1&b=2", b"%%%=&&&", b"[1, 2, 3]"],
)
@pytest.mark.parametrize("headers", [{}, FORM, JSON, {"Content-Type": "text/plain"}])
def test_garbage_reads_unknown_and_never_raises(body: bytes, headers: dict[str, str]) -> None:
    out = normalizer.classify_callback(body, headers)
    assert out.category is Category.UNKNOWN
    assert out.vendor == ""


def test_too_many_form_fields_are_no_callback() -> None:
    body = b"&".join(b"f%d=1" % n for n in range(2000))
    assert normalizer.classify_callback(body, FORM).category is Category.UNKNOWN


def test_garbage_for_a_named_vendor_reads_with_its_table() -> None:
    out = normalizer.classify_callback(b"\x00garbage", JSON, vendor="tencent_sms")
    assert (out.vendor, out.category, out.matched) == ("tencent_sms", Category.UNKNOWN, "missing")


def test_oversize_body_is_never_read() -> None:
    big = TENCENT + b" " * 100
    out = normalizer.classify_callback(big, JSON, max_body_size=len(TENCENT))
    assert out.category is Category.UNKNOWN
    assert "max_body_size" in out.message
    assert out.items == ()
    named = normalizer.classify_callback(big, JSON, vendor="tencent_sms", max_body_size=10)
    assert (named.vendor, named.category, named.http_status) == ("tencent_sms", "unknown", None)
    assert "max_body_size" in named.message
    # at the cap exactly, it is read
    assert normalizer.classify_callback(TENCENT, JSON, max_body_size=len(TENCENT)).vendor == (
        "tencent_sms"
    )


def test_oversize_body_with_a_secret_is_not_verified() -> None:
    with pytest.raises(SignatureError, match="max_body_size"):
        normalizer.classify_callback(TWILIO, FORM, secret="x", max_body_size=10)


def test_negative_cap_is_refused() -> None:
    with pytest.raises(ValueError, match="max_body_size"):
        normalizer.classify_callback(TWILIO, FORM, max_body_size=-1)


def test_the_default_cap_is_the_clients() -> None:
    body = b"[" + b" " * normalizer._classify.DEFAULT_MAX_BODY_SIZE + b"]"
    assert "max_body_size" in normalizer.classify_callback(body, JSON).message


def test_an_unsigned_vendor_with_a_secret_raises() -> None:
    with pytest.raises(SignatureError, match="does not sign"):
        normalizer.classify_callback(TENCENT, JSON, secret="s3cr3t")


def test_an_empty_secret_is_refused() -> None:
    # an unset environment variable read as "" would let anyone sign with an empty key
    with pytest.raises(ValueError, match="secret must not be empty"):
        normalizer.classify_callback(TWILIO, FORM, url="https://x.example/", secret="")


def test_garbage_with_a_secret_raises() -> None:
    with pytest.raises(SignatureError, match="no vendor's callback shape"):
        normalizer.classify_callback(b"junk", FORM, secret="s3cr3t")


def test_unknown_vendor_raises_at_once() -> None:
    with pytest.raises(normalizer.UnregisteredVendorError):
        normalizer.classify_callback(TWILIO, FORM, vendor="nope")


def test_signature_error_pickles_and_rebuilds() -> None:
    import pickle

    err = SignatureError("mango", "sms: sha256 differs")
    again = pickle.loads(pickle.dumps(err))
    assert str(again) == str(err) == "mango: signature not verified: sms: sha256 differs"
    assert str(type(err)(*err.args)) == str(err)
    assert isinstance(err, normalizer.NormalizerError)


# ---------------------------------------------------------------- ambiguity

COPYCAT = """
format = 1
[vendor]
id = "copycat"
name = "A vendor posting Tencent's report shape"
[envelope]
code = ["code"]
[[callbacks]]
id = "report"
content_types = ["application/json"]
list = true
fields = ["report_status", "mobile", "sid"]
source = "test"
"""


def test_two_vendors_fitting_one_body_read_unknown_never_a_guess(tmp_path: Path) -> None:
    (tmp_path / "copycat.toml").write_text(COPYCAT, encoding="utf-8")
    registry = Registry(environ=False)
    registry.register(tmp_path / "copycat.toml")
    out = normalizer.classify_callback(TENCENT, JSON, registry=registry)
    assert (out.category, out.matched, out.vendor) == (Category.UNKNOWN, Match.AMBIGUOUS, "")
    assert "ambiguous callback" in out.message
    assert "pass vendor=" in out.message
    assert {c.vendor for c in out.candidates} == {"tencent_sms", "copycat"}
    # naming the vendor settles it
    named = normalizer.classify_callback(TENCENT, JSON, vendor="tencent_sms", registry=registry)
    assert named.vendor == "tencent_sms"
    with pytest.raises(SignatureError, match="several"):
        normalizer.classify_callback(TENCENT, JSON, registry=registry, secret="s")


TWO_PRODUCTS = """
format = 1
[vendor]
id = "twins"
name = "One shape, two products"
[envelope]
code = ["code"]
[products.a.codes]
"1" = { category = "ok", description = "fine" }
[products.b.codes]
"1" = { category = "busy", description = "busy" }
[[callbacks]]
id = "one"
product = "a"
content_types = ["application/json"]
fields = ["code"]
source = "test"
[[callbacks]]
id = "two"
product = "b"
content_types = ["application/json"]
fields = ["code"]
source = "test"
"""


def test_one_vendors_shapes_for_two_products_read_unknown(tmp_path: Path) -> None:
    (tmp_path / "twins.toml").write_text(TWO_PRODUCTS, encoding="utf-8")
    registry = Registry(environ=False)
    registry.register(tmp_path / "twins.toml")
    out = normalizer.classify_callback(b'{"code": "1"}', JSON, vendor="twins", registry=registry)
    assert out.matched == Match.AMBIGUOUS
    assert "its products differ" in out.message
    assert sorted((c.product, c.category) for c in out.candidates) == [
        ("a", Category.OK),
        ("b", Category.BUSY),
    ]


def test_every_builtin_fixture_fits_exactly_one_shape() -> None:
    """The built-in shapes do not overlap on the vendors' own bodies."""
    registry = Registry(environ=False)
    for body, headers in [(TENCENT, JSON), (TWILIO, FORM)]:
        fits = [
            (m.id, c.id)
            for m in registry.all()
            for c in m.callbacks
            if normalizer._callbacks._parse(body, headers["Content-Type"], None).fits(c)
        ]
        assert len(fits) == 1, fits


# ---------------------------------------------------------------- the mapping format

MINIMAL = """
format = 1
[vendor]
id = "mini"
name = "Mini"
[envelope]
code = ["code"]
[products.p.codes]
"""

OK_CALLBACK = """
[[callbacks]]
id = "report"
product = "p"
content_types = ["application/x-www-form-urlencoded"]
json_field = "json"
fields = ["a.b", "c"]
values = { c = ["x*"] }
source = "doc"
[[callbacks.signatures]]
scheme = "key-json-salt-sha256"
field = "sign"
key_field = "k"
json_field = "json"
source = "doc"
"""


def test_a_valid_callback_builds(write_mapping: WriteMapping) -> None:
    mapping = load_file(write_mapping(MINIMAL + OK_CALLBACK, "mini.toml"))
    (spec,) = mapping.callbacks
    assert (spec.id, spec.product, spec.json_field) == ("report", "p", "json")
    assert spec.matches({"a": {"b": 1}, "c": "xyz"})
    assert not spec.matches({"a": {"b": 1}, "c": "yz"})  # the value glob
    assert not spec.matches({"a": {}, "c": "xyz"})  # a field missing
    assert spec.signatures[0].key_field == "k"


BASE = '[[callbacks]]\nid = "r"\ncontent_types = ["application/json"]\nfields = ["a"]\n'


def cb(extra: str = "", base: str = BASE + 'source = "s"\n') -> str:
    return base + extra


SIG = 'signatures = [{ scheme = %s, source = "s" }]\n'

BAD: list[tuple[str, str, str]] = [
    (BASE, "callbacks[0].source", "missing"),
    (cb().replace('"r"', '"R"'), "callbacks[0].id", "not an id"),
    (cb().replace("application/json", "json"), "callbacks[0].content_types[0]", "media type"),
    (cb().replace('["application/json"]', "[]"), "callbacks[0].content_types", "at least one"),
    (cb().replace('["a"]', "[]"), "callbacks[0].fields", "at least one"),
    (cb().replace('"a"', '"a..b"'), "callbacks[0].fields[0]", "not a dotted path"),
    (cb('product = "zz"\n'), "callbacks[0].product", "no product 'zz'"),
    (cb('url = "x"\n'), "callbacks[0].url", "unknown key"),
    (cb() + cb(), "callbacks[1].id", "listed twice"),
    (cb(SIG % '"rot13", header = "X"'), "callbacks[0].signatures[0].scheme", "not one of"),
    (cb(SIG % '"jwt-hs256"'), "callbacks[0].signatures[0].header", "missing"),
    (
        cb('signatures = [{ scheme = "jwt-hs256", header = "Authorization" }]\n'),
        "callbacks[0].signatures[0].source",
        "missing",
    ),
    (
        cb(SIG % '"sorted-params-sig", field = "sig", methods = ["crc32"]'),
        "callbacks[0].signatures[0].methods[0]",
        "not one of",
    ),
    (
        cb(SIG % '"jwt-hs256", header = "Authorization", field = "x"'),
        "callbacks[0].signatures[0].field",
        "unknown key",
    ),
    (cb("values = { a = [] }\n"), "callbacks[0].values.a", "at least one"),
]


@pytest.mark.parametrize(("text", "key", "reason"), BAD, ids=[f"{k}:{r}" for _, k, r in BAD])
def test_bad_callbacks_name_file_key_and_reason(
    write_mapping: WriteMapping, text: str, key: str, reason: str
) -> None:
    path = write_mapping(MINIMAL + text, "mini.toml")
    with pytest.raises(MappingError) as info:
        load_file(path)
    assert info.value.key == key
    assert reason in info.value.reason
    assert str(path) in str(info.value)


def test_an_overlay_replaces_a_callback_of_the_same_id(tmp_path: Path) -> None:
    overlay = tmp_path / "tencent-patch.toml"
    overlay.write_text(
        'format = 1\n[vendor]\nextends = "tencent_sms"\n[[callbacks]]\nid = "sms_status"\n'
        'content_types = ["application/json"]\nlist = true\nfields = ["sid", "extra"]\n'
        'source = "my fork"\n',
        encoding="utf-8",
    )
    registry = Registry(environ=False)
    registry.register(overlay)
    (spec,) = registry.get("tencent_sms").callbacks
    assert spec.source == "my fork"
    out = normalizer.classify_callback(TENCENT, JSON, registry=registry)
    assert out.vendor == ""  # the overlay's shape wants "extra"


def test_an_overlay_naming_a_product_the_vendor_lacks_fails(tmp_path: Path) -> None:
    overlay = tmp_path / "tencent-patch.toml"
    overlay.write_text(
        'format = 1\n[vendor]\nextends = "tencent_sms"\n[[callbacks]]\nid = "x"\nproduct = "zz"\n'
        'content_types = ["application/json"]\nfields = ["sid"]\nsource = "s"\n',
        encoding="utf-8",
    )
    registry = Registry(environ=False)
    with pytest.raises(MappingError, match="no product 'zz'"):
        registry.register(overlay)  # checked against the vendor it extends


# ---------------------------------------------------------------- report feeds (no signature)


def test_infobip_delivery_report() -> None:
    # infobip/infobip-api-java-client SmsApiTest's report shape (tests/mappings/test_infobip.py)
    report = {
        "bulkId": "BULK-ID-123-xyz",
        "messageId": "MESSAGE-ID-123-xyz",
        "to": "41793026727",
        "sentAt": "2019-11-09T16:00:00.000+0000",
        "doneAt": "2019-11-09T16:00:00.000+0000",
        "smsCount": 1,
        "status": {
            "groupId": 3,
            "groupName": "DELIVERED",
            "id": 5,
            "name": "DELIVERED_TO_HANDSET",
            "description": "Message delivered to handset",
        },
        "error": {"groupId": 0, "groupName": "OK", "id": 0, "name": "NO_ERROR"},
    }
    out = normalizer.classify_callback(json.dumps({"results": [report]}).encode(), JSON)
    assert out.vendor == "infobip"
    assert [(i.code, i.category) for i in out.items] == [("DELIVERED_TO_HANDSET", Category.OK)]


def test_telnyx_message_webhook() -> None:
    # https://developers.telnyx.com/docs/messaging/messages/receiving-webhooks (message.finalized)
    webhook = {
        "data": {
            "event_type": "message.finalized",
            "id": "b301ed3f-1490-491f-995f-6e64e69674d4",
            "occurred_at": "2019-12-09T20:16:07.588+00:00",
            "payload": {
                "id": "40317159-2b8e-4c3a-9b89-a4b1b5d3ef43",
                "errors": [{"code": "40008", "title": "Undeliverable", "detail": "x"}],
                "to": [{"phone_number": "+13125550100", "status": "delivery_failed"}],
            },
            "record_type": "event",
        },
        "meta": {"attempt": 1, "delivered_to": "https://example.com/webhooks"},
    }
    out = normalizer.classify_callback(json.dumps(webhook).encode(), JSON)
    assert (out.vendor, out.code) == ("telnyx", "40008")
    not_event = {**webhook, "data": {**webhook["data"], "record_type": "message"}}  # type: ignore[dict-item]
    assert normalizer.classify_callback(json.dumps(not_event).encode(), JSON).vendor == ""


def test_aliyun_smsreport_http_push() -> None:
    # https://help.aliyun.com/document_detail/101867.html, the documented example and a failure
    reports = [
        {
            "phone_number": "1381111****",
            "send_time": "2017-01-01 00:00:00",
            "report_time": "2017-01-01 00:00:00",
            "success": True,
            "err_code": "DELIVERED",
            "err_msg": "用户接收成功",
            "sms_size": "1",
            "biz_id": "12345********",
            "out_id": "67890**",
        },
        {
            "phone_number": "1381112****",
            "send_time": "2017-01-01 00:00:00",
            "report_time": "2017-01-01 00:00:05",
            "success": False,
            "err_code": "MK:0001",
            "err_msg": "空号",
            "sms_size": "1",
            "biz_id": "12345********",
            "out_id": "67891**",
        },
    ]
    body = json.dumps(reports, ensure_ascii=False).encode()
    out = normalizer.classify_callback(body, JSON)
    assert (out.vendor, out.product, out.category) == ("aliyun_sms", "report", Category.OK)
    assert [(i.code, i.category, i.vendor_message) for i in out.items] == [
        ("DELIVERED", Category.OK, "用户接收成功"),
        ("MK:0001", Category.UNKNOWN, "空号"),  # carrier codes are not listed: never guessed
    ]
    assert all(i.delivery_outcome for i in out.items)
