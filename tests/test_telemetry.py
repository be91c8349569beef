"""OpenTelemetry: a span per vendor call, an event per attempt, and metrics."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import httpx
import pytest
from opentelemetry import trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
    InMemorySpanExporter,
)
from opentelemetry.trace import SpanKind, StatusCode

import normalizer
from normalizer import Telemetry
from normalizer._telemetry import _CALL

UCPAAS = "https://api.ucpaas.com/2014-06-30/Accounts/ACSECRET/Calls/callBack?to=13800138000"


class Otel:
    def __init__(self) -> None:
        self.spans = InMemorySpanExporter()
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.spans))
        self.reader = InMemoryMetricReader()
        self.meter_provider = MeterProvider(metric_readers=[self.reader])
        self.telemetry = Telemetry(
            meter_provider=self.meter_provider, tracer_provider=self.tracer_provider
        )
        self.tracer = self.tracer_provider.get_tracer("app")

    def span(self, name: str) -> ReadableSpan:
        [found] = [s for s in self.spans.get_finished_spans() if s.name == name]
        return found

    def http_spans(self) -> list[ReadableSpan]:
        return [s for s in self.spans.get_finished_spans() if s.name == "POST"]

    def metrics(self) -> dict[str, list[Any]]:
        data = self.reader.get_metrics_data()
        found: dict[str, list[Any]] = {}
        if data is None:
            return found
        for resource in data.resource_metrics:
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    found[metric.name] = list(metric.data.data_points)
        return found


@pytest.fixture
def otel() -> Otel:
    return Otel()


def replies(*bodies: dict[str, Any]) -> httpx.MockTransport:
    answers = list(bodies)

    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=answers.pop(0) if len(answers) > 1 else answers[0])

    return httpx.MockTransport(handle)


BUSY = {"resp": {"respCode": "107225", "respDesc": "外呼繁忙 13800138000"}}
OK = {"resp": {"respCode": "000000"}}


def test_one_span_per_call_with_an_event_per_attempt(otel: Otel) -> None:
    client = normalizer.Client(transport=replies(BUSY, BUSY), telemetry=otel.telemetry)
    with otel.tracer.start_as_current_span("place call"):
        client.post(UCPAAS, json={"to": "13800138000"})
    app = otel.span("place call")
    span = otel.span("normalizer ucpaas")  # one span for the call, its three attempts inside
    assert len(otel.spans.get_finished_spans()) == 2
    assert span.kind is SpanKind.INTERNAL  # the HTTP instrumentation's spans are the CLIENT ones
    assert span.parent is not None
    assert span.parent.span_id == app.context.span_id
    attributes = dict(span.attributes or {})
    assert attributes["normalizer.vendor"] == "ucpaas"
    assert attributes["normalizer.code"] == "107225"
    assert attributes["normalizer.category"] == "busy"
    assert attributes["error.type"] == "busy"
    assert attributes["normalizer.matched"] == "exact"
    assert attributes["normalizer.attempts"] == 3
    assert attributes["normalizer.retry.reason"] == "max_attempts"
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == "busy: code 107225"
    assert "normalizer.vendor" not in (app.attributes or {})  # the caller's span is the caller's
    events = [e.attributes or {} for e in span.events if e.name == "normalizer.attempt"]
    assert [e["normalizer.attempt"] for e in events] == [1, 2, 3]
    assert [e["normalizer.decision"] for e in events] == ["rejected", "rejected", "max_attempts"]
    assert all(e["normalizer.category"] == "busy" for e in events)
    assert all(e["normalizer.code"] == "107225" for e in events)
    assert all(e["http.response.status_code"] == 200 for e in events)
    assert [("normalizer.retry.delay" in e) for e in events] == [True, True, False]
    assert events[0]["normalizer.retry.delay_from"] == "rate_limit"  # the account is busy
    text = repr(span.to_json())
    for secret in ("13800138000", "ACSECRET", "外呼繁忙"):  # no number, secret or vendor text
        assert secret not in text


def test_an_ok_call_leaves_the_status_unset(otel: Otel) -> None:
    client = normalizer.Client(transport=replies(OK), telemetry=otel.telemetry)
    client.post(UCPAAS)
    span = otel.span("normalizer ucpaas")
    assert span.status.status_code is StatusCode.UNSET
    assert "error.type" not in (span.attributes or {})
    [event] = [e.attributes or {} for e in span.events]
    assert (event["normalizer.category"], event["normalizer.decision"]) == ("ok", "ok")


def http_instrumentation(otel: Otel, *bodies: dict[str, Any]) -> httpx.MockTransport:
    """What opentelemetry-instrumentation-httpx does around the wrapped transport: a CLIENT span
    per request, started from the span current when the request is sent."""
    answers = list(bodies)
    tracer = otel.tracer_provider.get_tracer("httpx-instrumentation")

    def handle(request: httpx.Request) -> httpx.Response:
        with tracer.start_as_current_span(request.method, kind=SpanKind.CLIENT):
            return httpx.Response(200, json=answers.pop(0) if len(answers) > 1 else answers[0])

    return httpx.MockTransport(handle)


def test_http_spans_nest_under_the_call_span(otel: Otel) -> None:
    transport = http_instrumentation(otel, BUSY, OK)
    client = normalizer.Client(transport=transport, telemetry=otel.telemetry)
    with otel.tracer.start_as_current_span("place call"):
        client.post(UCPAAS)
        assert trace.get_current_span().name == "place call"  # type: ignore[attr-defined]
    call = otel.span("normalizer ucpaas")
    sent = otel.http_spans()
    assert len(sent) == 2  # one per attempt, both children of the call
    assert all(s.parent is not None and s.parent.span_id == call.context.span_id for s in sent)
    assert call.parent is not None
    assert call.parent.span_id == otel.span("place call").context.span_id


@pytest.mark.anyio
async def test_async_http_spans_nest_under_the_call_span_across_awaits(otel: Otel) -> None:
    import anyio

    answers = {"POST": [BUSY, OK], "GET": [OK]}
    tracer = otel.tracer_provider.get_tracer("httpx-instrumentation")
    seen: list[object] = []

    async def handle(request: httpx.Request) -> httpx.Response:
        await anyio.sleep(0)  # the event loop runs the other call in between
        seen.append(_CALL.get())
        with tracer.start_as_current_span(request.method, kind=SpanKind.CLIENT):
            await anyio.sleep(0)
            return httpx.Response(200, json=answers[request.method].pop(0))

    async with normalizer.AsyncClient(
        transport=httpx.MockTransport(handle), telemetry=otel.telemetry
    ) as client:
        with otel.tracer.start_as_current_span("place call"):
            async with anyio.create_task_group() as group:  # two calls at once, a span each
                group.start_soon(client.post, UCPAAS)
                group.start_soon(client.get, UCPAAS)
            assert trace.get_current_span().name == "place call"  # type: ignore[attr-defined]
    finished = otel.spans.get_finished_spans()
    calls = {s.context.span_id for s in finished if s.name == "normalizer ucpaas"}
    assert len(calls) == 2
    parents: dict[str, set[int]] = {"POST": set(), "GET": set()}
    for sent in finished:
        if sent.name in parents and sent.parent is not None:
            parents[sent.name].add(sent.parent.span_id)
    assert len(parents["POST"]) == 1  # both POST attempts under the same call span
    assert parents["POST"] | parents["GET"] == calls  # and the GET under the other one
    assert len(seen) == 3
    assert len({id(c) for c in seen}) == 2
    assert None not in seen


def test_a_transport_error_and_a_refusal_end_the_span_in_error(otel: Otel) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    client = normalizer.Client(transport=httpx.MockTransport(refuse), telemetry=otel.telemetry)
    with pytest.raises(httpx.ConnectError):
        client.post(UCPAAS)
    span = otel.span("normalizer ucpaas")
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == "ConnectError"
    assert (span.attributes or {})["error.type"] == "ConnectError"
    events = [e.attributes or {} for e in span.events]
    assert [e["error.type"] for e in events] == ["ConnectError"] * 3  # never sent: retried
    assert not [e for e in span.events if e.name == "exception"]  # no message, no stack

    breaker = normalizer.CircuitBreaker(
        failures=1, recovery=30, categories=frozenset({normalizer.Category.BUSY})
    )
    client = normalizer.Client(
        transport=replies(BUSY), telemetry=otel.telemetry, retry=None, circuit=breaker
    )
    client.post(UCPAAS)  # opens the circuit
    otel.spans.clear()
    with pytest.raises(normalizer.CircuitOpenError):
        client.post(UCPAAS)
    span = otel.span("normalizer ucpaas")
    assert (span.status.status_code, span.status.description) == (
        StatusCode.ERROR,
        "CircuitOpenError",
    )
    assert span.events == ()  # refused before sending: no attempt


def test_the_code_attribute_is_capped_masked_and_on_one_line(otel: Otel) -> None:
    code = "E1\n+7 (916) 123-45-67 sign=abc" + "x" * 500_000
    body = {"resp": {"respCode": code}}
    client = normalizer.Client(transport=replies(body), telemetry=otel.telemetry, retry=None)
    client.post(UCPAAS)
    span = otel.span("normalizer ucpaas")
    [event] = span.events
    for shown in (
        (span.attributes or {})["normalizer.code"],
        (event.attributes or {})["normalizer.code"],
    ):
        assert isinstance(shown, str)
        assert len(shown) <= 70
        assert "\n" not in shown
        assert shown.startswith("E1\\n")
        assert "916" not in shown
        assert "4567" in shown
        assert "abc" not in shown  # a secret the redactor knows
    assert span.status.description is not None
    assert len(span.status.description) < 100
    assert "916" not in span.status.description


def test_no_span_without_telemetry_or_without_a_tracer_provider(otel: Otel) -> None:
    seen: list[object] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(_CALL.get())
        return httpx.Response(200, json=OK)

    transport = httpx.MockTransport(handle)
    metrics_only = Telemetry(meter_provider=otel.meter_provider)  # no SDK tracer provider here
    for telemetry in (False, metrics_only):
        normalizer.Client(transport=transport, telemetry=telemetry).post(UCPAAS)
    assert seen == [None, None]  # nothing was built for either
    assert otel.spans.get_finished_spans() == ()


def test_metrics_count_calls_attempts_retries_and_time(otel: Otel) -> None:
    client = normalizer.Client(transport=replies(BUSY, OK), telemetry=otel.telemetry)
    client.post(UCPAAS)
    metrics = otel.metrics()
    [calls] = metrics["normalizer.calls"]
    assert calls.value == 1
    assert dict(calls.attributes) == {"normalizer.vendor": "ucpaas", "normalizer.category": "ok"}
    attempts = {
        p.attributes["normalizer.category"]: p.value for p in metrics["normalizer.attempts"]
    }
    assert attempts == {"busy": 1, "ok": 1}
    [retries] = metrics["normalizer.retries"]
    assert (retries.value, retries.attributes["normalizer.retry.reason"]) == (1, "rejected")
    [duration] = metrics["normalizer.call.duration"]
    assert duration.count == 1
    [budget] = metrics["normalizer.retry_budget.tokens"]
    assert budget.value == 500  # the retry's tokens came back with the success
    assert all("normalizer.code" not in p.attributes for p in metrics["normalizer.calls"])


def test_codes_as_metric_attributes_only_when_asked() -> None:
    otel = Otel()
    telemetry = Telemetry(meter_provider=otel.meter_provider, code_attributes=True)
    normalizer.Client(transport=replies(OK), telemetry=telemetry, retry=None).post(UCPAAS)
    [calls] = otel.metrics()["normalizer.calls"]
    assert calls.attributes["normalizer.code"] == "000000"


def test_open_circuits_go_up_and_down(otel: Otel) -> None:
    breaker = normalizer.CircuitBreaker(
        failures=1, recovery=30, categories=frozenset({normalizer.Category.BUSY})
    )
    state = normalizer.LocalState()
    client = normalizer.Client(
        transport=replies(BUSY), telemetry=otel.telemetry, retry=None, circuit=breaker, state=state
    )
    client.post(UCPAAS)
    [open_] = otel.metrics()["normalizer.circuits.open"]
    assert open_.value == 1


def test_telemetry_off_and_a_broken_sdk_never_matter(otel: Otel) -> None:
    client = normalizer.Client(transport=replies(OK), telemetry=False, retry=None)
    client.post(UCPAAS)
    assert "normalizer.calls" not in otel.metrics()

    class Broken(Telemetry):
        def finished(self, *args: object) -> None:
            raise RuntimeError("exporter down")

    broken = Broken(meter_provider=otel.meter_provider)
    response = normalizer.Client(transport=replies(OK), telemetry=broken, retry=None).post(UCPAAS)
    assert normalizer.outcome_of(response) is not None


def test_without_an_sdk_configured_nothing_is_recorded_and_nothing_breaks() -> None:
    code = """
import httpx, normalizer
from opentelemetry import trace
client = normalizer.Client(transport=httpx.MockTransport(
    lambda r: httpx.Response(200, json={"resp": {"respCode": "107225"}})), retry=None)
with trace.get_tracer("x").start_as_current_span("s") as span:
    response = client.post("https://api.ucpaas.com/x")
assert not span.is_recording()
print(normalizer.outcome_of(response).category)
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "busy"


def test_without_opentelemetry_nothing_is_imported() -> None:
    code = """
import sys, importlib.util
real = importlib.util.find_spec
importlib.util.find_spec = lambda name, *a: None if name == "opentelemetry" else real(name, *a)
import httpx, normalizer
client = normalizer.Client(transport=httpx.MockTransport(
    lambda r: httpx.Response(200, json={"resp": {"respCode": "000000"}})), retry=None)
client.post("https://api.ucpaas.com/x")
print(any(m.startswith("opentelemetry") for m in sys.modules))
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "False"


def test_a_global_sdk_installed_before_the_first_client_is_reported_to() -> None:
    code = """
import httpx, normalizer
from opentelemetry import metrics
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
reader = InMemoryMetricReader()
metrics.set_meter_provider(MeterProvider(metric_readers=[reader]))  # the app's startup
busy = httpx.MockTransport(lambda r: httpx.Response(200, json={"result": 5001}))
with normalizer.Client("mango", transport=busy, retry=None) as client:
    client.post("https://app.mango-office.ru/vpbx/commands/callback")
names = {m.name for r in reader.get_metrics_data().resource_metrics
         for s in r.scope_metrics for m in s.metrics}
print("normalizer.calls" in names)
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "True"


def test_a_provider_set_up_after_the_first_calls_is_heard_from_within_a_second() -> None:
    # every call asks one cached question while nothing is set up (Telemetry.idle): a
    # provider set up later is found when the answer is a second old, not before
    code = """
import types, httpx, normalizer
from normalizer import _telemetry
now = [1000.0]
_telemetry.time = types.SimpleNamespace(monotonic=lambda: now[0])
from opentelemetry import metrics
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
busy = httpx.MockTransport(lambda r: httpx.Response(200, json={"result": 5001}))
url = "https://app.mango-office.ru/vpbx/commands/callback"
client = normalizer.Client("mango", transport=busy, retry=None)
client.post(url)
reader = InMemoryMetricReader()
metrics.set_meter_provider(MeterProvider(metric_readers=[reader]))
client.post(url)  # the answer "nothing set up" is younger than a second
now[0] += 1.5
client.post(url)
client.post(url)
points = [p for r in reader.get_metrics_data().resource_metrics for s in r.scope_metrics
          for m in s.metrics if m.name == "normalizer.calls" for p in m.data.data_points]
print(sum(p.value for p in points))
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "2"


def test_a_global_sdk_tracer_provider_gets_a_span_per_call_unless_telemetry_is_off() -> None:
    code = """
import httpx, normalizer
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
spans = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(spans))
trace.set_tracer_provider(provider)  # the app's startup: traces only, no metrics
busy = httpx.MockTransport(lambda r: httpx.Response(200, json={"result": 5001}))
url = "https://app.mango-office.ru/vpbx/commands/callback"
with normalizer.Client("mango", transport=busy, retry=None, telemetry=False) as client:
    client.post(url)
print(len(spans.get_finished_spans()))
with normalizer.Client("mango", transport=busy, retry=None) as client:
    with trace.get_tracer("app").start_as_current_span("call"):
        client.post(url)
[span] = [s for s in spans.get_finished_spans() if s.name == "normalizer mango"]
print(span.attributes["error.type"], span.attributes["normalizer.code"])
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.split("\n")[:2] == ["0", "server 5001"]


def test_the_limiters_rate_is_a_gauge_while_it_holds_calls_back(otel: Otel) -> None:
    from tests.conftest import FakeClock

    clock = FakeClock()
    retry = normalizer.RetryPolicy(max_attempts=1, clock=clock, sleep=clock.sleep)
    state = normalizer.LocalState(clock)

    def client(body: dict[str, Any]) -> normalizer.Client:
        return normalizer.Client(
            transport=replies(body), telemetry=otel.telemetry, retry=retry, state=state
        )

    with normalizer.testing.set_testing(False):
        client(OK).post(UCPAAS)
        assert otel.metrics().get("normalizer.rate_limit", []) == []  # nothing held back
        client(BUSY).post(UCPAAS)  # 外呼繁忙: the account's capacity
    [rate] = otel.metrics()["normalizer.rate_limit"]
    assert dict(rate.attributes) == {"normalizer.vendor": "ucpaas"}
    assert 0.5 <= rate.value < 100
