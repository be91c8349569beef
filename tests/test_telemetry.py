"""OpenTelemetry: the outcome on the current span, an event per attempt, and metrics."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import httpx
import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
    InMemorySpanExporter,
)

import normalizer
from normalizer import Telemetry

UCPAAS = "https://api.ucpaas.com/2014-06-30/Accounts/ACSECRET/Calls/callBack?to=13800138000"


class Otel:
    def __init__(self) -> None:
        self.spans = InMemorySpanExporter()
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.spans))
        self.reader = InMemoryMetricReader()
        self.meter_provider = MeterProvider(metric_readers=[self.reader])
        self.telemetry = Telemetry(meter_provider=self.meter_provider)

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


def test_the_current_span_gets_the_outcome_and_an_event_per_attempt(otel: Otel) -> None:
    tracer = otel.tracer_provider.get_tracer("app")
    client = normalizer.Client(transport=replies(BUSY, BUSY), telemetry=otel.telemetry)
    with tracer.start_as_current_span("place call"):
        client.post(UCPAAS, json={"to": "13800138000"})
    [span] = otel.spans.get_finished_spans()
    attributes = dict(span.attributes or {})
    assert attributes["normalizer.vendor"] == "ucpaas"
    assert attributes["normalizer.code"] == "107225"
    assert attributes["normalizer.category"] == "busy"
    assert attributes["error.type"] == "busy"
    assert attributes["normalizer.matched"] == "exact"
    assert attributes["normalizer.attempts"] == 3
    assert attributes["normalizer.retry.reason"] == "max_attempts"
    events = [e for e in span.events if e.name == "normalizer.attempt"]
    assert [e.attributes["normalizer.attempt"] for e in events] == [1, 2, 3]  # type: ignore[index]
    text = repr(span.to_json())
    for secret in ("13800138000", "ACSECRET", "外呼繁忙"):  # no number, secret or vendor text
        assert secret not in text


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


def test_a_global_sdk_tracer_provider_gets_span_attributes() -> None:
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
with normalizer.Client("mango", transport=busy, retry=None) as client:
    with trace.get_tracer("app").start_as_current_span("call"):
        client.post("https://app.mango-office.ru/vpbx/commands/callback")
[span] = spans.get_finished_spans()
print(span.attributes["error.type"], span.attributes["normalizer.code"])
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "server 5001"


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
