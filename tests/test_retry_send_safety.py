"""requests that go out twice."""

from __future__ import annotations

import contextlib
from pathlib import Path

import httpx

import normalizer
from tests.conftest import outcome


def counting(
    status: int, body: dict[str, object]
) -> tuple[list[httpx.Request], httpx.MockTransport]:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(status, json=body)

    return sent, httpx.MockTransport(handler)


def test_a_vonage_put_that_plays_into_a_call_is_sent_once() -> None:
    # PUT /v1/calls/{uuid}/talk plays text to speech into a live call (Vonage voice.yml, cited
    # in vonage.toml's [resend] source); PUT /dtmf sends digits. Each PUT acts.
    sent, mock = counting(500, {"title": "Internal Error"})
    with normalizer.Client("vonage", transport=mock) as client:
        r = client.put("https://api.nexmo.com/v1/calls/63f61863/talk", json={"text": "pay now"})
    o = outcome(r)
    print(o.category, o.retryable, o.rejected)
    assert len(sent) == 1, f"the TTS was played {len(sent)} times"


ACME = """format = 1
[vendor]
id = "acme_sms"
name = "Acme SMS"
source = "https://acme.example/docs"

[resend]
source = "https://acme.example/docs/send: GET /send sends"
acts_through = ["GET"]

[detect]
hosts = ["api.acme.example"]

[envelope]
code = ["code"]
success = ["0"]

[codes]
"5000" = { category = "server", description = "Internal error" }
"""


def test_a_user_decorator_reads_the_rules_of_a_private_registry(
    tmp_path: Path,
) -> None:
    import tenacity

    (tmp_path / "acme.toml").write_text(ACME, encoding="utf-8")
    registry = normalizer.Registry(environ=False)
    registry.register(tmp_path)
    sent, mock = counting(200, {"code": "5000"})
    with normalizer.Client(transport=mock, registry=registry, raise_on_error=True) as client:
        # the transport itself honours acts_through_get: one send
        with contextlib.suppress(normalizer.ServerError):
            client.get("https://api.acme.example/send", params={"to": "1", "text": "hi"})
        assert len(sent) == 1

        @tenacity.retry(
            retry=normalizer.retry_if_retryable(),
            stop=normalizer.stop_vendor(),
            reraise=True,
        )
        def send() -> httpx.Response:
            return client.get("https://api.acme.example/send", params={"to": "1", "text": "hi"})

        sent.clear()
        with contextlib.suppress(normalizer.ServerError):
            send()
    assert len(sent) == 1, f"the decorator sent the GET send {len(sent)} times"


def test_an_aliyun_post_with_its_nonce_in_the_form_body_is_not_resent() -> None:
    # Signature V2 over POST: the common parameters (Action, SignatureNonce...) in the form body
    sent: list[bytes] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request.content)
        if len(sent) == 1:
            return httpx.Response(400, json={"Code": "Throttling.User", "Message": "flow control"})
        return httpx.Response(400, json={"Code": "SignatureNonceUsed", "Message": "used"})

    form = {
        "Action": "SendSms",
        "SignatureNonce": "3ee8c1b8",
        "PhoneNumbers": "1",
        "Signature": "x",
    }
    with normalizer.Client(transport=httpx.MockTransport(handler)) as client:
        r = client.post("https://dysmsapi.aliyuncs.com/", data=form)
    # with the nonce in the query the transport sends it once and returns the throttling answer
    assert len(sent) == 1, (len(sent), outcome(r).code)


def test_a_replacement_aliyun_file_keeps_the_builtin_resend(
    tmp_path: Path,
) -> None:
    import re

    from normalizer._registry import builtin_dir

    text = (builtin_dir() / "aliyun_sms.toml").read_text(encoding="utf-8")
    # the user's copy, customised before [resend] existed
    text = re.sub(r"(?ms)^\[resend\].*?(?=^\[detect\])", "", text)
    (tmp_path / "aliyun_sms.toml").write_text(text, encoding="utf-8")
    registry = normalizer.Registry(environ=False)
    registry.register(tmp_path)
    sent, mock = counting(500, {"Code": "isp.SYSTEM_ERROR", "Message": "x"})
    with normalizer.Client(transport=mock, registry=registry) as client:
        client.get(
            "https://dysmsapi.aliyuncs.com/", params={"Action": "SendSms", "PhoneNumbers": "1"}
        )
    assert len(sent) == 1, f"GET SendSms sent {len(sent)} times"


def test_an_aliyun_head_sendsms_is_not_resent() -> None:
    # acts_through_get covers GET only; the mapping's own reads list HEAD as reaching operations
    sent, mock = counting(500, {"Code": "isp.SYSTEM_ERROR", "Message": "x"})
    with normalizer.Client(transport=mock) as client:
        client.head(
            "https://dysmsapi.aliyuncs.com/", params={"Action": "SendSms", "PhoneNumbers": "1"}
        )
    assert len(sent) == 1, f"HEAD SendSms sent {len(sent)} times"
