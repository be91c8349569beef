"""Failover across vendors through normalizer's clients over MockTransport: two and three
simulated vendors, each recipient moved only when its vendor failed it and did not send it."""

from __future__ import annotations

import json
import urllib.parse
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from structlog.testing import capture_logs

import normalizer
from normalizer import AsyncFailover, Category, CircuitBreaker, Failover, FailoverResult
from normalizer.testing import vendor_response
from tests.conftest import RedisServer

TWILIO = "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json"
VONAGE = "https://rest.nexmo.com/sms/json"
TENCENT = "https://sms.tencentcloudapi.com/"
UCPAAS = "https://open.ucpaas.com/ol/sms/sendsms_batch"

Handler = Callable[[httpx.Request], httpx.Response]


class Vendor:
    """A simulated vendor: its requests kept, each answered by ``answer(recipient)``."""

    def __init__(self, answer: Callable[[str], Any]) -> None:
        self.answer = answer
        self.requests: list[httpx.Request] = []

    def recipients(self) -> list[str]:
        """Every recipient the vendor was asked to send to, in order."""
        found: list[str] = []
        for request in self.requests:
            found += _recipients(request)
        return found

    def said(self, recipients: list[str]) -> tuple[str, Any]:
        """The one recipient of a request and the answer for it (an exception is raised, as
        a transport raises it)."""
        [to] = recipients
        said = self.answer(to)
        if isinstance(said, Exception):
            raise said
        return to, said

    def handler(self, reply: Callable[[list[str]], httpx.Response]) -> Handler:
        def handle(request: httpx.Request) -> httpx.Response:
            self.requests.append(request)
            return reply(_recipients(request))

        return handle


def _recipients(request: httpx.Request) -> list[str]:
    if request.headers.get("content-type", "").startswith("application/json"):
        doc = json.loads(request.content)
        return list(doc.get("PhoneNumberSet") or doc.get("mobile", "").split(","))
    form = urllib.parse.parse_qs(request.content.decode())
    return form.get("To") or form.get("to") or []


# --- the vendors' shapes ----------------------------------------------------------------------


def twilio(answer: Callable[[str], Any]) -> tuple[Vendor, Handler]:
    """Twilio Messaging: one recipient per request; 201 with the message, or its error."""
    vendor = Vendor(answer)

    def reply(recipients: list[str]) -> httpx.Response:
        to, said = vendor.said(recipients)
        if said == "ok":
            return httpx.Response(201, json={"sid": "SM" + to[-4:], "status": "queued", "to": to})
        return vendor_response("twilio", said)

    return vendor, vendor.handler(reply)


def vonage(answer: Callable[[str], Any]) -> tuple[Vendor, Handler]:
    """Vonage SMS: one recipient per request, always HTTP 200, a status per message part,
    the number echoed without its +."""
    vendor = Vendor(answer)

    def reply(recipients: list[str]) -> httpx.Response:
        to, said = vendor.said(recipients)
        statuses = said if isinstance(said, list) else [said]
        parts = [
            {"to": to.lstrip("+"), "status": status, "message-id": f"M{n}"}
            for n, status in enumerate(statuses)
        ]
        return httpx.Response(200, json={"message-count": str(len(parts)), "messages": parts})

    return vendor, vendor.handler(reply)


def tencent(answer: Callable[[str], Any]) -> tuple[Vendor, Handler]:
    """Tencent Cloud SMS SendSms: many numbers per request, a status per number (echoed with
    +86), always HTTP 200; an error for the whole request in Response.Error."""
    vendor = Vendor(answer)

    def reply(recipients: list[str]) -> httpx.Response:
        whole = vendor.answer("*")
        if isinstance(whole, Exception):
            raise whole
        if whole is not None:
            error = {"Code": whole, "Message": "refused"}
            return httpx.Response(200, json={"Response": {"Error": error, "RequestId": "r"}})
        statuses = [
            {"PhoneNumber": "+86" + number_of(r), "Code": vendor.answer(r), "SerialNo": r[-4:]}
            for r in recipients
        ]
        return httpx.Response(200, json={"Response": {"SendStatusSet": statuses, "RequestId": "r"}})

    return vendor, vendor.handler(reply)


def number_of(recipient: str) -> str:
    return recipient.removeprefix("+86").removeprefix("+")


def ucpaas(answer: Callable[[str], Any]) -> tuple[Vendor, Handler]:
    """UCPaaS SMS (open.ucpaas.com): one flat code for the whole batch."""
    vendor = Vendor(answer)

    def reply(recipients: list[str]) -> httpx.Response:
        code = vendor.answer("*")
        return httpx.Response(200, json={"code": code, "msg": "x"})

    return vendor, vendor.handler(reply)


def twilio_send(client: normalizer.Client) -> Callable[[list[str]], list[Any]]:
    return lambda recipients: [
        client.post(TWILIO, data={"To": r, "From": "+15005550006", "Body": "hi"})
        for r in recipients
    ]


def vonage_send(client: normalizer.Client) -> Callable[[list[str]], list[Any]]:
    return lambda recipients: [
        client.post(VONAGE, data={"to": r, "from": "Acme", "text": "hi"}) for r in recipients
    ]


def tencent_send(client: normalizer.Client) -> Callable[[list[str]], httpx.Response]:
    return lambda recipients: client.post(
        TENCENT, json={"PhoneNumberSet": recipients, "TemplateId": "1"}
    )


def ucpaas_send(client: normalizer.Client) -> Callable[[list[str]], httpx.Response]:
    return lambda recipients: client.post(
        UCPAAS, json={"mobile": ",".join(recipients), "templateid": "1"}
    )


@pytest.fixture
def clients() -> Iterator[Callable[..., normalizer.Client]]:
    made: list[normalizer.Client] = []

    def make(vendor: str, handler: Handler, **options: Any) -> normalizer.Client:
        client = normalizer.Client(vendor, transport=httpx.MockTransport(handler), **options)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


US = ["+15005550001", "+15005550002"]
CN = ["+8613800138000", "+8613800138001", "+8613800138002", "+8613800138003"]


def reasons(result: FailoverResult) -> list[dict[str, str]]:
    return [dict(attempt.reasons) for attempt in result.attempts]


# --- two vendors -------------------------------------------------------------------------------


def test_busy_everywhere_moves_once_and_ends_busy_at_the_last(clients: Any) -> None:
    _first, a = twilio(lambda to: 20429)  # Too Many Requests (never processed)
    second, b = vonage(lambda to: "1")  # Throttled
    failover = Failover(
        [
            ("twilio", twilio_send(clients("twilio", a))),
            ("vonage", vonage_send(clients("vonage", b))),
        ]
    )
    result = failover(US)
    assert list(dict.fromkeys(second.recipients())) == US  # (each call retried its busy)
    assert result.attempts[1].recipients == tuple(US)  # each moved once
    assert {r: (o.vendor, o.category) for r, o in result.outcomes.items()} == dict.fromkeys(
        US, ("vonage", Category.BUSY)
    )
    assert reasons(result) == [dict.fromkeys(US, "busy"), dict.fromkeys(US, "busy")]
    assert result.attempts[0].moved == tuple(US)
    assert result.attempts[1].moved == ()
    assert not result.ok
    assert result.failed == tuple(US)


def test_one_vendor_out_of_money_moves_everyone_to_the_next(clients: Any) -> None:
    first, a = tencent(
        lambda r: "FailedOperation.InsufficientBalanceInSmsPackage" if r == "*" else "Ok"
    )
    second, b = ucpaas(lambda r: "000000")
    failover = Failover(
        [
            ("tencent_sms", tencent_send(clients("tencent_sms", a))),
            ("ucpaas", ucpaas_send(clients("ucpaas", b)), "sms"),
        ]
    )
    result = failover(CN)
    assert len(first.requests) == 1  # a refusal of the account: not retried
    assert second.recipients() == CN
    assert len(second.requests) == 1
    assert result.ok
    assert dict(result.taken_by) == dict.fromkeys(CN, "ucpaas")
    assert reasons(result)[0] == dict.fromkeys(CN, "billing")
    assert result.attempts[1].product == "sms"


def test_a_partial_batch_moves_only_the_vendors_failures(clients: Any) -> None:
    codes = {
        CN[0]: "Ok",
        CN[1]: "FailedOperation.InsufficientBalanceInSmsPackage",  # the vendor's: moves
        CN[2]: "InvalidParameterValue.IncorrectPhoneNumber",  # the number's: stays
        CN[3]: "LimitExceeded.PhoneNumberDailyLimit",  # a cap on that recipient: stays
    }
    _first, a = tencent(lambda r: None if r == "*" else codes[r])
    second, b = vonage(lambda to: "0")
    failover = Failover(
        [
            ("tencent_sms", tencent_send(clients("tencent_sms", a))),
            ("vonage", vonage_send(clients("vonage", b))),
        ]
    )
    result = failover(CN)
    assert second.recipients() == [CN[1]]
    assert reasons(result)[0] == {
        CN[0]: "accepted",
        CN[1]: "billing",
        CN[2]: "recipient",
        CN[3]: "recipient",
    }
    assert {r: (o.vendor, o.category.value) for r, o in result.outcomes.items()} == {
        CN[0]: ("tencent_sms", "ok"),
        CN[1]: ("vonage", "ok"),
        CN[2]: ("tencent_sms", "validation"),
        CN[3]: ("tencent_sms", "billing"),
    }
    assert result.failed == (CN[2], CN[3])


def test_an_invalid_number_is_never_moved(clients: Any) -> None:
    _first, a = twilio(lambda to: 21211 if to == US[0] else "ok")
    second, b = vonage(lambda to: "0")
    failover = Failover(
        [
            ("twilio", twilio_send(clients("twilio", a))),
            ("vonage", vonage_send(clients("vonage", b))),
        ]
    )
    result = failover(US)
    assert second.requests == []
    assert result.outcomes[US[0]].category is Category.VALIDATION
    assert result.outcomes[US[0]].fault is normalizer.Fault.RECIPIENT
    assert result.attempts[0].reasons[US[0]] == "recipient"
    assert len(result.attempts) == 1


@pytest.mark.parametrize("opted_in", [False, True])
def test_a_timeout_after_writing_moves_only_when_opted_in(clients: Any, opted_in: bool) -> None:
    first, a = twilio(lambda to: httpx.ReadTimeout("request written, no answer"))
    second, b = vonage(lambda to: "0")
    failover = Failover(
        [
            ("twilio", twilio_send(clients("twilio", a))),
            ("vonage", vonage_send(clients("vonage", b))),
        ],
        move_maybe_sent=opted_in,
    )
    with capture_logs() as logs:
        result = failover([US[0]])
    assert len(first.requests) == 1  # a POST that may have acted is never resent
    assert isinstance(result.attempts[0].error, httpx.ReadTimeout)
    assert result.attempts[0].reasons == {US[0]: "maybe_sent"}
    if opted_in:
        assert second.recipients() == [US[0]]
        assert result.outcomes[US[0]].vendor == "vonage"
        assert result.ok
        [warning] = [e for e in logs if e["event"] == "failover_moved_maybe_sent"]
        assert warning["log_level"] == "warning"
        assert warning["to"] == "vonage"
        assert US[0] not in repr(logs)  # the number is masked
    else:
        assert second.requests == []
        outcome = result.outcomes[US[0]]
        assert (outcome.vendor, outcome.category) == ("twilio", Category.UNKNOWN)
        assert outcome.message.startswith("maybe sent")


def test_a_connection_never_established_moves(clients: Any) -> None:
    _first, a = twilio(lambda to: httpx.ConnectError("connection refused"))
    _second, b = vonage(lambda to: "0")
    failover = Failover(
        [
            ("twilio", twilio_send(clients("twilio", a))),
            ("vonage", vonage_send(clients("vonage", b))),
        ]
    )
    result = failover([US[0]])
    assert result.attempts[0].reasons == {US[0]: "not_connected"}
    assert result.ok
    assert result.outcomes[US[0]].vendor == "vonage"


def test_a_send_raising_after_some_of_its_requests_went_out_moves_no_one(clients: Any) -> None:
    # one request per recipient: the first accepted, the second's connection refused; the
    # refusal that escapes send says nothing of the first, which must not go twice
    first, a = twilio(lambda to: "ok" if to == US[0] else httpx.ConnectError("refused"))
    second, b = vonage(lambda to: "0")
    send_one = twilio_send(clients("twilio", a))
    failover = Failover([("twilio", send_one), ("vonage", vonage_send(clients("vonage", b)))])
    result = failover(US)
    assert first.recipients()[0] == US[0]  # accepted; then the second, refused (and retried)
    assert second.requests == []  # nobody sent twice
    assert reasons(result)[0] == dict.fromkeys(US, "maybe_sent")

    # returned in its recipient's place instead, the refusal is that recipient's alone
    def each(recipients: list[str]) -> list[Any]:
        answers: list[Any] = []
        for r in recipients:
            try:
                answers += send_one([r])
            except httpx.ConnectError as exc:
                answers.append(exc)
        return answers

    result = Failover([("twilio", each), ("vonage", vonage_send(clients("vonage", b)))])(US)
    assert reasons(result)[0] == {US[0]: "accepted", US[1]: "not_connected"}
    assert second.recipients() == [US[1]]
    assert result.outcomes[US[1]].vendor == "vonage"


def test_a_refusal_after_an_attempt_that_may_have_gone_does_not_move(clients: Any) -> None:
    # the POST declared idempotent, so resent after a read timeout; the resend refused (429):
    # the first attempt may have sent it all the same, and another vendor would send it again
    answers = iter([httpx.ReadTimeout("written, no answer"), 20429])
    first, a = twilio(lambda to: next(answers))
    second, b = vonage(lambda to: "0")
    policy = normalizer.RetryPolicy(idempotent=True, max_attempts=2, sleep=lambda s: None)
    failover = Failover(
        [
            ("twilio", twilio_send(clients("twilio", a, retry=policy))),
            ("vonage", vonage_send(clients("vonage", b))),
        ]
    )
    result = failover([US[0]])
    assert len(first.requests) == 2
    assert second.requests == []
    assert reasons(result)[0] == {US[0]: "maybe_sent"}
    # the same refusal with no doubtful attempt before it moves
    first, a = twilio(lambda to: 20429)
    policy = normalizer.RetryPolicy(max_attempts=1)
    failover = Failover(
        [
            ("twilio", twilio_send(clients("twilio", a, retry=policy))),
            ("vonage", vonage_send(clients("vonage", b))),
        ]
    )
    result = failover([US[0]])
    assert reasons(result)[0] == {US[0]: "busy"}
    assert second.recipients() == [US[0]]


def test_a_send_in_threads_or_returning_one_of_several_answers_moves_no_one(clients: Any) -> None:
    # its calls in worker threads (context variables do not follow): nothing heard, and an
    # exception out of a send of two recipients may follow a request that went
    from concurrent.futures import ThreadPoolExecutor

    _first, a = twilio(lambda to: "ok" if to == US[0] else httpx.ConnectError("refused"))
    second, b = vonage(lambda to: "0")
    send_one = twilio_send(clients("twilio", a, retry=normalizer.RetryPolicy(max_attempts=1)))

    def threaded(recipients: list[str]) -> list[Any]:
        with ThreadPoolExecutor(2) as pool:
            return list(pool.map(lambda r: send_one([r])[0], recipients))

    result = Failover([("twilio", threaded), ("vonage", vonage_send(clients("vonage", b)))])(US)
    assert reasons(result)[0] == dict.fromkeys(US, "maybe_sent")
    assert second.requests == []
    # one request per chunk, only the last answer returned: the first chunk went out
    _first, a = twilio(lambda to: "ok" if to == US[0] else 20429)
    send_one = twilio_send(clients("twilio", a, retry=normalizer.RetryPolicy(max_attempts=1)))

    def last_only(recipients: list[str]) -> Any:
        return [send_one([r])[0] for r in recipients][-1]

    result = Failover([("twilio", last_only), ("vonage", vonage_send(clients("vonage", b)))])(US)
    assert reasons(result)[0] == dict.fromkeys(US, "maybe_sent")
    assert second.requests == []
    assert result.outcomes[US[0]].message.startswith("maybe sent")


def test_a_failover_inside_a_send_tells_the_outer_one_what_it_heard(clients: Any) -> None:
    answers = iter([httpx.ReadTimeout("written, no answer"), 20429])
    _first, a = twilio(lambda to: next(answers))
    second, b = vonage(lambda to: "0")
    policy = normalizer.RetryPolicy(idempotent=True, max_attempts=2, sleep=lambda s: None)
    inner = Failover([("twilio", twilio_send(clients("twilio", a, retry=policy)))])

    def through_inner(recipients: list[str]) -> list[normalizer.Outcome]:
        found = inner(recipients)
        return [found.outcomes[r] for r in recipients]

    outer = Failover([("twilio", through_inner), ("vonage", vonage_send(clients("vonage", b)))])
    result = outer([US[0]])
    assert second.requests == []  # the inner attempt that may have gone is the outer's too
    assert result.outcomes[US[0]].vendor == "twilio"


def test_a_request_still_on_its_way_when_send_raises_is_maybe_sent() -> None:
    # asyncio.gather, one POST per recipient: the second's refused connection ends the send
    # while the first is written and waits for its answer
    import asyncio

    async def twilio_answer(request: httpx.Request) -> httpx.Response:
        if _recipients(request) == [US[1]]:
            raise httpx.ConnectError("refused", request=request)
        await asyncio.sleep(0.05)  # written; the answer comes later
        return httpx.Response(201, json={"sid": "SM1", "status": "queued"})

    moved: list[str] = []

    async def vonage_answer(recipients: list[str]) -> list[normalizer.Outcome]:
        moved.extend(recipients)
        ok = normalizer.classify("vonage", {"messages": [{"status": "0"}]}, product="sms")
        return [ok for _ in recipients]

    async def main() -> FailoverResult:
        policy = normalizer.RetryPolicy(max_attempts=1)
        async with normalizer.AsyncClient(
            "twilio", retry=policy, transport=httpx.MockTransport(twilio_answer)
        ) as tc:

            async def together(recipients: list[str]) -> Any:
                return await asyncio.gather(*(tc.post(TWILIO, data={"To": r}) for r in recipients))

            result = await AsyncFailover([("twilio", together), ("vonage", vonage_answer)])(US)
            await asyncio.sleep(0.1)  # the first answer arrives: it was sent
            return result

    result = asyncio.run(main())
    assert moved == []  # the first was on its way when the second's refusal ended the send
    assert reasons(result)[0] == dict.fromkeys(US, "maybe_sent")


def test_an_unexplained_5xx_is_maybe_sent_and_stays(clients: Any) -> None:
    first, _a = tencent(lambda r: None)
    first.answer = lambda r: (_ for _ in ()).throw(AssertionError)  # never asked per number
    second, b = vonage(lambda to: "0")

    def send(recipients: list[str]) -> Any:
        return clients("tencent_sms", lambda request: httpx.Response(502, text="")).post(
            TENCENT, json={"PhoneNumberSet": recipients}
        )

    result = Failover([("tencent_sms", send), ("vonage", vonage_send(clients("vonage", b)))])(
        [CN[0]]
    )
    assert result.attempts[0].reasons == {CN[0]: "maybe_sent"}
    assert second.requests == []


def test_an_exception_of_the_callers_send_is_maybe_sent(clients: Any) -> None:
    second, b = vonage(lambda to: "0")

    def broken(recipients: list[str]) -> Any:
        raise RuntimeError("a bug after the request went out, perhaps")

    result = Failover([("twilio", broken), ("vonage", vonage_send(clients("vonage", b)))])(US)
    assert second.requests == []
    assert reasons(result) == [dict.fromkeys(US, "maybe_sent")]
    assert isinstance(result.attempts[0].error, RuntimeError)


def test_a_client_raising_on_error_is_judged_by_its_outcome(clients: Any) -> None:
    _first, a = twilio(lambda to: 20003)  # credentials refused: BillingError's cousin AuthError
    _second, b = vonage(lambda to: "0")
    client = clients("twilio", a, raise_on_error=True)
    result = Failover(
        [("twilio", twilio_send(client)), ("vonage", vonage_send(clients("vonage", b)))]
    )([US[0]])
    assert isinstance(result.attempts[0].error, normalizer.AuthError)
    assert result.attempts[0].reasons == {US[0]: "auth"}
    assert result.ok


def test_a_circuit_open_on_the_first_vendor_is_skipped_without_a_request(clients: Any) -> None:
    first, a = twilio(lambda to: 20500)  # Internal Server Error
    _second, b = vonage(lambda to: "0")
    breaker = CircuitBreaker(failures=1, recovery=600)
    client = clients("twilio", a, circuit=breaker, retry=None)
    client.post(TWILIO, data={"To": US[0]})  # the vendor fails: the circuit opens
    before = len(first.requests)
    failover = Failover(
        [("twilio", twilio_send(client)), ("vonage", vonage_send(clients("vonage", b)))]
    )
    with capture_logs() as logs:
        result = failover(US)
    assert len(first.requests) == before  # not one request to the sick vendor
    assert result.skipped == ("twilio",)
    assert result.attempts[0].skipped
    assert reasons(result)[0] == dict.fromkeys(US, "circuit_open")
    assert result.ok
    assert set(result.taken_by.values()) == {"vonage"}
    [skip] = [e for e in logs if e["event"] == "failover_skipped"]
    assert (skip["vendor"], skip["reason"], skip["to"]) == ("twilio", "circuit_open", "vonage")


def test_multipart_parts_are_one_message(clients: Any) -> None:
    _first, a = vonage(lambda to: ["0", "1"] if to == US[0] else ["1", "1"])
    second, b = twilio(lambda to: "ok")
    failover = Failover(
        [
            ("vonage", vonage_send(clients("vonage", a))),
            ("twilio", twilio_send(clients("twilio", b))),
        ]
    )
    result = failover(US)
    assert reasons(result)[0] == {US[0]: "partly_sent", US[1]: "busy"}
    assert second.recipients() == [US[1]]  # the whole message, once
    assert result.outcomes[US[0]].partial
    assert result.outcomes[US[0]].vendor == "vonage"


def test_duplicated_recipients_are_sent_once(clients: Any) -> None:
    first, a = twilio(lambda to: "ok")
    result = Failover([("twilio", twilio_send(clients("twilio", a)))])([US[0], US[0], US[1]])
    assert first.recipients() == US
    assert list(result.outcomes) == US


# --- three vendors -----------------------------------------------------------------------------


def test_three_vendors_each_recipient_goes_as_far_as_it_must(clients: Any) -> None:
    _first, a = tencent(lambda r: httpx.ConnectError("no route") if r == "*" else "Ok")
    _second, b = ucpaas(lambda r: "105150")  # 短信发送频率过快: the account's rate
    third, c = vonage(lambda to: "0" if to != CN[3] else "7")  # 7: Number Barred
    ucpaas_code = normalizer.lookup("ucpaas", "105150", product="sms")
    assert ucpaas_code.fault is normalizer.Fault.VENDOR, ucpaas_code  # the account's
    failover = Failover(
        [
            ("tencent_sms", tencent_send(clients("tencent_sms", a))),
            ("ucpaas", ucpaas_send(clients("ucpaas", b)), "sms"),
            ("vonage", vonage_send(clients("vonage", c))),
        ]
    )
    result = failover(CN)
    assert [a.vendor for a in result.attempts] == ["tencent_sms", "ucpaas", "vonage"]
    assert reasons(result)[0] == dict.fromkeys(CN, "not_connected")
    assert set(reasons(result)[1].values()) == {ucpaas_code.category.value}
    assert third.recipients() == CN
    assert dict(result.taken_by) == dict.fromkeys(CN[:3], "vonage")
    assert result.failed == (CN[3],)
    assert result.attempts[2].reasons[CN[3]] == "recipient"


# --- observability -----------------------------------------------------------------------------


def test_metrics_and_a_span_per_failover(clients: Any) -> None:
    reader = InMemoryMetricReader()
    spans = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
    _first, a = twilio(lambda to: 20429)
    _second, b = vonage(lambda to: "0" if to == US[0] else "7")
    failover = Failover(
        [
            ("twilio", twilio_send(clients("twilio", a))),
            ("vonage", vonage_send(clients("vonage", b))),
        ],
        name="otp",
        meter_provider=MeterProvider(metric_readers=[reader]),
        tracer_provider=tracer_provider,
    )
    failover(US)
    points: dict[str, list[Any]] = {}
    data = reader.get_metrics_data()
    assert data is not None
    for resource in data.resource_metrics:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                points[metric.name] = list(metric.data.data_points)
    [moves] = points["normalizer.failover.moves"]
    assert moves.value == 2
    assert dict(moves.attributes) == {
        "normalizer.failover.name": "otp",
        "normalizer.failover.from": "twilio",
        "normalizer.failover.to": "vonage",
        "normalizer.failover.reason": "busy",
    }
    taken = {
        (
            dict(p.attributes or {})["normalizer.vendor"],
            dict(p.attributes or {})["normalizer.category"],
        ): p.value
        for p in points["normalizer.failover.recipients"]
    }
    assert taken == {("vonage", "ok"): 1, ("vonage", "validation"): 1}
    [span] = spans.get_finished_spans()
    assert span.name == "normalizer failover otp"
    assert [dict(e.attributes or {})["normalizer.vendor"] for e in span.events] == [
        "twilio",
        "vonage",
    ]
    assert US[0] not in repr(span.attributes) + repr([e.attributes for e in span.events])


def test_a_failover_that_moves_no_one_logs_nothing(clients: Any) -> None:
    _first, a = twilio(lambda to: "ok")
    failover = Failover([("twilio", twilio_send(clients("twilio", a))), ("vonage", lambda r: [])])
    with capture_logs() as logs:
        result = failover(US)
    assert result.ok
    assert len(result.attempts) == 1
    assert [e for e in logs if e["event"].startswith("failover")] == []
    assert "15005550001" not in repr(result)  # numbers masked in reprs


def test_no_recipients_no_attempt() -> None:
    def never(recipients: list[str]) -> Any:
        raise AssertionError("nothing to send")

    with capture_logs() as logs:
        result = Failover([("twilio", never)])([])
    assert result.ok
    assert (dict(result.outcomes), result.attempts, logs) == ({}, (), [])


def test_legs_are_checked() -> None:
    with pytest.raises(ValueError, match="at least one leg"):
        Failover([])
    with pytest.raises(TypeError, match="not callable"):
        Failover([("twilio", "not a function")])
    with pytest.raises(TypeError, match="not one string"):
        Failover([("twilio", lambda rs: [])])("+15005550001")


# --- async -------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_async_failover_moves_the_same_recipients() -> None:
    codes = {
        CN[0]: "Ok",
        CN[1]: "FailedOperation.InsufficientBalanceInSmsPackage",
        CN[2]: "InvalidParameterValue.IncorrectPhoneNumber",
    }
    _first, a = tencent(lambda r: None if r == "*" else codes[r])
    second, b = vonage(lambda to: "0")
    async with (
        normalizer.AsyncClient("tencent_sms", transport=httpx.MockTransport(a)) as tc,
        normalizer.AsyncClient("vonage", transport=httpx.MockTransport(b)) as vc,
    ):

        async def tencent_async(recipients: list[str]) -> httpx.Response:
            return await tc.post(TENCENT, json={"PhoneNumberSet": recipients})

        async def vonage_async(recipients: list[str]) -> list[httpx.Response]:
            return [await vc.post(VONAGE, data={"to": r}) for r in recipients]

        result = await AsyncFailover([("tencent_sms", tencent_async), ("vonage", vonage_async)])(
            CN[:3]
        )
    assert second.recipients() == [CN[1]]
    assert reasons(result)[0] == {CN[0]: "accepted", CN[1]: "billing", CN[2]: "recipient"}
    assert result.outcomes[CN[1]].vendor == "vonage"
    assert result.failed == (CN[2],)


@pytest.mark.anyio
async def test_async_failover_judges_what_send_raised() -> None:
    def never(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectTimeout("never connected", request=request)

    async def fine(recipients: list[str]) -> list[normalizer.Outcome]:
        ok = normalizer.classify("twilio", {"sid": "SM1"}, status_code=201, url=TWILIO)
        return [ok for _ in recipients]

    async with normalizer.AsyncClient("vonage", transport=httpx.MockTransport(never)) as vc:

        async def refused(recipients: list[str]) -> Any:
            return [await vc.post(VONAGE, data={"to": r}) for r in recipients]

        result = await AsyncFailover([("vonage", refused), ("twilio", fine)])(US)
    # heard: the first request never connected, and nothing else went: both move
    assert reasons(result)[0] == dict.fromkeys(US, "not_connected")
    assert result.ok
    assert set(result.taken_by.values()) == {"twilio"}

    async def unheard(recipients: list[str]) -> Any:  # not through normalizer's clients
        raise httpx.ConnectTimeout("never connected")

    result = await AsyncFailover([("vonage", unheard), ("twilio", fine)])(US)
    # two recipients, nothing heard: the send may have sent one before it raised
    assert reasons(result)[0] == dict.fromkeys(US, "maybe_sent")
    result = await AsyncFailover([("vonage", unheard), ("twilio", fine)])(US[:1])
    assert reasons(result)[0] == {US[0]: "not_connected"}  # one recipient: certain


# --- Redis: the whole fleet skips a sick vendor -------------------------------------------------


def test_a_circuit_opened_by_another_process_on_redis_is_skipped(
    redis_server: RedisServer,
) -> None:
    from normalizer.redis import RedisState

    account = uuid.uuid4().hex
    breaker = CircuitBreaker(failures=1, recovery=600)
    first, a = twilio(lambda to: 20500)
    _second, b = vonage(lambda to: "0")
    # "process" one: its call fails and opens the circuit for the fleet
    with (
        RedisState.from_url(redis_server.url, account=account) as one,
        normalizer.Client(
            "twilio", transport=httpx.MockTransport(a), circuit=breaker, state=one, retry=None
        ) as client,
    ):
        client.post(TWILIO, data={"To": US[0]})
    assert len(first.requests) == 1
    # "process" two: its own store and client, the same Redis: skips twilio at once
    with (
        RedisState.from_url(redis_server.url, account=account) as two,
        normalizer.Client(
            "twilio", transport=httpx.MockTransport(a), circuit=breaker, state=two
        ) as tw,
        normalizer.Client("vonage", transport=httpx.MockTransport(b), state=two) as vo,
    ):
        result = Failover([("twilio", twilio_send(tw)), ("vonage", vonage_send(vo))])(US)
    assert len(first.requests) == 1  # no request: the fleet's circuit was open
    assert result.skipped == ("twilio",)
    assert result.ok
    assert reasons(result)[0] == dict.fromkeys(US, "circuit_open")


# --- health first: the client's own refusals -----------------------------------------------------

MANGO = "https://app.mango-office.ru/vpbx/commands/callback"
UCPAAS_CALL = "https://api.ucpaas.com/2014-06-30/Accounts/a/Calls/callBack"


@pytest.fixture
def real_clock() -> Iterator[Any]:
    """A fake clock the clients' retry policy and state run on (the suite's instant mode off:
    a limiter needs the policy's sleep)."""
    from normalizer.testing import set_testing
    from tests.conftest import FakeClock

    clock = FakeClock()
    set_testing(False)
    yield clock
    set_testing(True)


def _policy(clock: Any) -> normalizer.RetryPolicy:
    return normalizer.RetryPolicy(
        clock=clock, sleep=clock.sleep, async_sleep=clock.async_sleep, max_attempts=1
    )


def ucpaas_calls() -> tuple[Vendor, Handler]:
    """UCPaaS's call API (api.ucpaas.com): ``resp.respCode``, here always 000000."""
    vendor = Vendor(lambda to: None)
    ok = {"resp": {"respCode": "000000"}}
    return vendor, vendor.handler(lambda recipients: httpx.Response(200, json=ok))


def _mango_then_ucpaas(
    mango: normalizer.Client, ucpaas: Vendor, ucpaas_handler: Handler
) -> tuple[Failover, normalizer.Client]:
    uc = normalizer.Client("ucpaas", transport=httpx.MockTransport(ucpaas_handler))
    failover = Failover(
        [
            ("mango", lambda callees: [mango.post(MANGO, data={"to": c}) for c in callees]),
            ("ucpaas", lambda callees: [uc.post(UCPAAS_CALL, data={"to": c}) for c in callees]),
        ]
    )
    return failover, uc


def test_a_running_cooldown_skips_the_vendor_without_a_request(real_clock: Any) -> None:
    mango = Vendor(lambda to: None)
    blocked = mango.handler(lambda r: httpx.Response(401))  # MANGO: API blocked for 2 minutes
    ucpaas_vendor, ucpaas_handler = ucpaas_calls()
    state = normalizer.LocalState(real_clock)
    with normalizer.Client(
        "mango", transport=httpx.MockTransport(blocked), retry=_policy(real_clock), state=state
    ) as client:
        client.post(MANGO, data={"to": "+79161234567"})  # the 401 starts a 120 s cooldown
        failover, uc = _mango_then_ucpaas(client, ucpaas_vendor, ucpaas_handler)
        with uc:
            result = failover(["+79161234567"])
    assert len(mango.requests) == 1  # the failover sent nothing to MANGO
    assert result.attempts[0].reasons == {"+79161234567": "cooldown"}
    assert result.skipped == ("mango",)
    assert len(ucpaas_vendor.requests) == 1


def test_a_limiter_turn_beyond_the_clients_patience_skips_the_vendor(real_clock: Any) -> None:
    mango = Vendor(lambda to: None)
    fine = mango.handler(lambda r: httpx.Response(200, json={"result": 1000}))
    ucpaas_vendor, ucpaas_handler = ucpaas_calls()
    limiter = normalizer.RateLimiter(rate="1/s", max_wait=0.5)  # the failover's patience
    with normalizer.Client(
        "mango",
        transport=httpx.MockTransport(fine),
        retry=_policy(real_clock),
        state=normalizer.LocalState(real_clock),
        limiter=limiter,
    ) as client:
        client.post(MANGO, data={"to": "+79160000000"})  # this second's turn is taken
        failover, uc = _mango_then_ucpaas(client, ucpaas_vendor, ucpaas_handler)
        with uc:
            result = failover(["+79161234567"])
    assert len(mango.requests) == 1
    assert result.attempts[0].reasons == {"+79161234567": "rate_limited"}
    assert isinstance(result.attempts[0].error, normalizer.RateLimitedError)
    assert result.ok
    assert result.outcomes["+79161234567"].vendor == "ucpaas"
    assert real_clock.sleeps == []  # refused at once, not after waiting


def _patient_mango(clock: Any, mango: Vendor) -> normalizer.Client:
    """A MANGO client whose limiter waits up to 5 s for a turn (one call a second)."""
    fine = mango.handler(lambda r: httpx.Response(200, json={"result": 1000}))
    return normalizer.Client(
        "mango",
        transport=httpx.MockTransport(fine),
        retry=_policy(clock),
        state=normalizer.LocalState(clock),
        limiter=normalizer.RateLimiter(rate="1/s", max_wait=5.0),
    )


@pytest.mark.parametrize("patience", [None, 2.0])
def test_a_turn_within_the_clients_and_the_failovers_patience_is_waited_for(
    real_clock: Any, patience: float | None
) -> None:
    mango = Vendor(lambda to: None)
    ucpaas_vendor, ucpaas_handler = ucpaas_calls()
    with _patient_mango(real_clock, mango) as client:
        client.post(MANGO, data={"to": "+79160000000"})  # this second's turn is taken
        failover, uc = _mango_then_ucpaas(client, ucpaas_vendor, ucpaas_handler)
        failover = Failover(failover.legs, patience=patience)
        with uc:
            result = failover(["+79161234567"])
    assert len(mango.requests) == 2  # it waited for the next turn and sent
    assert result.outcomes["+79161234567"].vendor == "mango"
    assert sum(real_clock.sleeps) == pytest.approx(1.0, abs=0.05)
    assert ucpaas_vendor.requests == []


def test_a_turn_beyond_the_failovers_patience_skips_the_vendor_its_client_would_wait_for(
    real_clock: Any,
) -> None:
    mango = Vendor(lambda to: None)
    ucpaas_vendor, ucpaas_handler = ucpaas_calls()
    with _patient_mango(real_clock, mango) as client:
        client.post(MANGO, data={"to": "+79160000000"})  # the next turn is a second away
        failover, uc = _mango_then_ucpaas(client, ucpaas_vendor, ucpaas_handler)
        failover = Failover(failover.legs, patience=0.2)
        with uc:
            result = failover(["+79161234567"])
        assert len(mango.requests) == 1  # the failover sent nothing to MANGO
        assert result.attempts[0].reasons == {"+79161234567": "rate_limited"}
        assert isinstance(result.attempts[0].error, normalizer.RateLimitedError)
        assert result.skipped == ("mango",)
        assert result.outcomes["+79161234567"].vendor == "ucpaas"
        assert real_clock.sleeps == []  # refused at once, not after waiting
        # outside the failover, the same client still waits for its turn as it always did
        client.post(MANGO, data={"to": "+79160000001"})
    assert len(mango.requests) == 2
    assert sum(real_clock.sleeps) > 0.2  # it waited for its turn


def test_a_failover_inside_another_keeps_the_shorter_patience(real_clock: Any) -> None:
    mango = Vendor(lambda to: None)
    ucpaas_vendor, ucpaas_handler = ucpaas_calls()
    with _patient_mango(real_clock, mango) as client:
        client.post(MANGO, data={"to": "+79160000000"})
        inner, uc = _mango_then_ucpaas(client, ucpaas_vendor, ucpaas_handler)
        inner = Failover(inner.legs)  # patient: alone, it would wait for MANGO's turn
        outer = Failover(
            [("inner", lambda rs: list(inner(rs).outcomes.values())), ("vonage", lambda rs: [])],
            patience=0.2,
        )
        with uc:
            result = outer(["+79161234567"])
    assert len(mango.requests) == 1
    assert result.outcomes["+79161234567"].vendor == "ucpaas"
    assert real_clock.sleeps == []


@pytest.mark.parametrize(("patience", "sent_to_mango"), [(None, 2), (0.2, 1)])
def test_a_retry_whose_turn_is_beyond_the_failovers_patience_is_not_waited_for(
    real_clock: Any, patience: float | None, sent_to_mango: int
) -> None:
    """MANGO is overloaded (5001, retryable): its client would wait for the limiter's next
    turn, a second away, to try again; a failover with less patience takes the answer as it is
    (the vendor wrote it: nothing went) and moves on."""
    mango = Vendor(lambda to: None)
    overloaded = mango.handler(lambda r: httpx.Response(200, json={"result": 5001}))
    ucpaas_vendor, ucpaas_handler = ucpaas_calls()
    policy = normalizer.RetryPolicy(
        clock=real_clock, sleep=real_clock.sleep, max_attempts=2, random=lambda: 0.0
    )
    with normalizer.Client(
        "mango",
        transport=httpx.MockTransport(overloaded),
        retry=policy,
        state=normalizer.LocalState(real_clock),
        limiter=normalizer.RateLimiter(rate="1/s", max_wait=5.0),
    ) as client:
        failover, uc = _mango_then_ucpaas(client, ucpaas_vendor, ucpaas_handler)
        failover = Failover(failover.legs, patience=patience)
        with uc:
            result = failover(["+79161234567"])
    assert len(mango.requests) == sent_to_mango
    assert result.outcomes["+79161234567"].vendor == "ucpaas"
    assert (sum(real_clock.sleeps) >= 0.9) is (patience is None)


@pytest.mark.anyio
async def test_an_async_failovers_patience_skips_the_vendor_too(real_clock: Any) -> None:
    mango = Vendor(lambda to: None)
    fine = mango.handler(lambda r: httpx.Response(200, json={"result": 1000}))
    ucpaas_vendor, ucpaas_handler = ucpaas_calls()
    async with (
        normalizer.AsyncClient(
            "mango",
            transport=httpx.MockTransport(fine),
            retry=_policy(real_clock),
            state=normalizer.LocalState(real_clock),
            limiter=normalizer.RateLimiter(rate="1/s", max_wait=5.0),
        ) as client,
        normalizer.AsyncClient("ucpaas", transport=httpx.MockTransport(ucpaas_handler)) as uc,
    ):
        await client.post(MANGO, data={"to": "+79160000000"})

        async def via_mango(callees: list[str]) -> list[httpx.Response]:
            return [await client.post(MANGO, data={"to": c}) for c in callees]

        async def via_ucpaas(callees: list[str]) -> list[httpx.Response]:
            return [await uc.post(UCPAAS_CALL, data={"to": c}) for c in callees]

        failover = AsyncFailover([("mango", via_mango), ("ucpaas", via_ucpaas)], patience=0.2)
        result = await failover(["+79161234567"])
    assert len(mango.requests) == 1
    assert len(ucpaas_vendor.requests) == 1
    assert result.skipped == ("mango",)
    assert result.outcomes["+79161234567"].vendor == "ucpaas"
    assert real_clock.sleeps == []


@pytest.mark.parametrize("patience", [-1.0, float("nan")])
def test_a_negative_or_nan_patience_is_refused(patience: float) -> None:
    with pytest.raises(ValueError, match="patience"):
        Failover([("twilio", lambda rs: [])], patience=patience)


@pytest.mark.parametrize("recipients", [US[:1], CN])
def test_the_fast_path_of_a_first_vendor_taking_all_equals_the_general_one(
    recipients: list[str],
) -> None:
    """A failover whose first leg takes everyone is made in one step, unless metrics or a span
    want the general path: both give the same result."""
    ok = normalizer.classify("tencent_sms", {"Response": {"RequestId": "r"}}, url=TENCENT)
    legs = [("tencent_sms", lambda rs: ok), ("vonage", lambda rs: [])]
    fast = Failover(legs, telemetry=False)(recipients)
    general = Failover(legs, meter_provider=MeterProvider(metric_readers=[InMemoryMetricReader()]))(
        recipients
    )
    for result in (fast, general):
        [attempt] = result.attempts
        assert dict(result.outcomes) == dict(attempt.outcomes) == dict.fromkeys(recipients, ok)
        assert dict(attempt.reasons) == dict.fromkeys(recipients, "accepted")
        assert (attempt.moved, attempt.skipped, attempt.error, result.failed) == (
            (),
            False,
            None,
            (),
        )
        assert attempt.recipients == tuple(recipients)
    assert repr(fast) == repr(general)
    assert repr(fast.attempts[0]) == repr(general.attempts[0])


def test_requests_answers_are_matched_to_their_own_requests() -> None:
    # one request per recipient through normalizer.requests: the first answered 500 (maybe
    # sent: it stays), the second refused with a 429 (certainly not sent: it moves); the
    # requests responses are matched to the attempts heard of their own requests
    import requests
    import responses

    from normalizer.requests import NormalizingAdapter

    session = requests.Session()
    session.mount("https://", NormalizingAdapter("twilio", retry=None))
    moved: list[str] = []

    def vonage_ok(recipients: list[str]) -> list[normalizer.Outcome]:
        moved.extend(recipients)
        ok = normalizer.classify("vonage", {"messages": [{"status": "0"}]}, product="sms")
        return [ok for _ in recipients]

    def one_by_one(recipients: list[str]) -> list[Any]:
        return [session.post(TWILIO, data={"To": r}) for r in recipients]

    with responses.RequestsMock() as mock:
        mock.add(responses.POST, TWILIO, status=500, body=b"")
        mock.add(responses.POST, TWILIO, status=429, json={"code": 20429, "message": "Too Many"})
        result = Failover([("twilio", one_by_one), ("vonage", vonage_ok)])(US)
    assert reasons(result)[0] == {US[0]: "maybe_sent", US[1]: "busy"}
    assert moved == [US[1]]


def test_only_an_exception_of_send_is_its_answer_and_the_listening_ends_either_way() -> None:
    from normalizer._observe import HEARD

    def interrupted(recipients: list[str]) -> Any:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        Failover([("twilio", interrupted)])(US)
    assert HEARD.get() is None  # not left listening

    def broken(recipients: list[str]) -> Any:
        raise ValueError("a bug of the caller's")

    result = Failover([("twilio", broken)])(US)
    assert isinstance(result.attempts[0].error, ValueError)
    assert HEARD.get() is None
