"""``normalizer demo``: real clients against a simulated vendor on 127.0.0.1, no account needed.

Each scenario scripts the simulated vendor with what a seed vendor really answers (in its own
envelope), sends a request carrying secrets and phone numbers the way real integrations do,
and reports what normalizer made of it and did about it. The structured log lines follow,
redacted as they would be in production.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sys
from collections.abc import Sequence
from typing import Any

import httpx
from structlog.testing import capture_logs

from ._client import AsyncClient, Client
from ._outcome import ATTEMPTS_KEY, Outcome, outcome_of
from .testing import SimulatedVendor, vendor_response

PHONE_A = "+8613800138000"
PHONE_B = "79161234567"


@dataclasses.dataclass(frozen=True)
class Scenario:
    vendor: str
    title: str
    method: str
    path: str
    replies: tuple[httpx.Response, ...]
    expect: str
    request: dict[str, Any] = dataclasses.field(default_factory=dict)
    asynchronous: bool = False


def _html_502() -> httpx.Response:
    return httpx.Response(
        502,
        text="<html><body><h1>502 Bad Gateway</h1></body></html>",
        headers={"content-type": "text/html"},
    )


def scenarios() -> list[Scenario]:
    ucpaas_auth = {"Authorization": "QUNDT1VOVFNJRDoyMDI2MTEyMzE5MDAwMA=="}
    mango_form = {
        "vpbx_api_key": "demo-api-key-123",
        "sign": "d3adb33fd3adb33f",
        "json": json.dumps({"from": {"extension": "101"}, "to_number": PHONE_B}),
    }
    onbuka_headers = {
        "Api-Key": "demo-onbuka-key",
        "Sign": "5f4dcc3b5aa765d61d8327deb882cf99",
        "Timestamp": "1763924400",
    }
    return [
        Scenario(
            "ucpaas",
            "outbound call: 外呼繁忙 (107225), then success",
            "POST",
            "/2014-06-30/Accounts/ACCOUNTSID0001/Calls/callBack",
            (vendor_response("ucpaas", "107225"), vendor_response("ucpaas", "000000")),
            "ok",
            {
                "params": {"sig": "0123456789ABCDEF0123456789ABCDEF"},
                "headers": ucpaas_auth,
                "json": {"callback": {"fromClient": PHONE_A, "to": "13900139000"}},
            },
        ),
        Scenario(
            "mango",
            "callback: 5001 Перегрузка with Retry-After, then success",
            "POST",
            "/vpbx/commands/callback",
            (
                vendor_response("mango", 5001, headers={"Retry-After": "1"}),
                vendor_response("mango", 1000),
            ),
            "ok",
            {"data": mango_form},
        ),
        Scenario(
            "mango",
            "stats: 2219, a code known only by its class (221x)",
            "POST",
            "/vpbx/stats/request",
            (vendor_response("mango", 2219),),
            "billing",
            {"data": mango_form},
        ),
        Scenario(
            "onbuka",
            "SMS: status -3 (sensitive characters)",
            "POST",
            "/v3/sendSms",
            (vendor_response("onbuka", "-3", product="sms"),),
            "validation",
            {"headers": onbuka_headers, "json": {"numbers": PHONE_A, "content": "hi"}},
            asynchronous=True,
        ),
        Scenario(
            "onbuka",
            "intelligent voice: the same -3 (balance insufficient)",
            "POST",
            "/aivoice/task/create",
            (vendor_response("onbuka", "-3", product="ai_voice"),),
            "billing",
            {"headers": onbuka_headers, "json": {"taskName": "demo", "phone": PHONE_B}},
            asynchronous=True,
        ),
        Scenario(
            "airudder",
            "task list with a bad token: HTTP 401",
            "GET",
            "/service/cloud/task/list",
            (vendor_response("airudder", 401, status_code=401, extra={"status": "Error"}),),
            "auth",
            {"headers": {"Authorization": "Token 9f8e7d6c5b4a"}},
        ),
        Scenario(
            "airudder",
            "task detail through a gateway answering HTML 502",
            "GET",
            "/service/cloud/task/detail",
            (
                _html_502(),
                _html_502(),
                vendor_response("airudder", 200, extra={"status": "OK", "data": {}}),
            ),
            "ok",
            {"headers": {"Authorization": "Token 9f8e7d6c5b4a"}},
        ),
        Scenario(
            "huawei_isales",
            "OBS result codes: 0200001 (bad parameter)",
            "GET",
            "/rest/isales/v1/openapi/campaigns/1/queryOBSResultCode",
            (vendor_response("huawei_isales", "0200001", message="pageSize must be 1~50"),),
            "validation",
            {
                "params": {"pageSize": "100", "pageNum": "1"},
                "headers": {"Authorization": "SDK-HMAC-SHA256 Access=ak, Signature=sig"},
            },
        ),
    ]


@dataclasses.dataclass
class Row:
    scenario: Scenario
    outcome: Outcome | None
    attempts: int
    status: int | None
    error: str | None = None

    @property
    def passed(self) -> bool:
        return self.outcome is not None and self.outcome.category.value == self.scenario.expect

    def did(self) -> str:
        outcome = self.outcome
        if outcome is None:
            return f"raised {self.error}"
        retries = self.attempts - 1
        how = {"class": ", read by its class", "http_status": ", judged by HTTP status"}.get(
            outcome.matched.value, ""
        )
        if outcome.ok:
            if retries:
                return f"retried {retries}x, then ok{how}"
            return f"passed through{how}"
        if retries:
            return f"gave up after {self.attempts} attempts{how}"
        if outcome.retryable:
            return f"not retried: unsafe to resend{how}"
        return f"not retried: fix the {outcome.category.value} problem{how}"


def run(vendor: str | None = None) -> tuple[list[Row], list[dict[str, Any]]]:
    chosen = [s for s in scenarios() if vendor is None or s.vendor == vendor]
    rows: dict[int, Row] = {}
    with SimulatedVendor() as sim, capture_logs() as logs:
        for scenario in chosen:
            sim.script(scenario.path, *scenario.replies)
        for i, scenario in enumerate(chosen):
            if not scenario.asynchronous:
                with Client(scenario.vendor, base_url=sim.url, timeout=5.0) as client:
                    rows[i] = _record(scenario, client)
        concurrent = [(i, s) for i, s in enumerate(chosen) if s.asynchronous]
        if concurrent:
            for i, row in asyncio.run(_run_async(sim.url, concurrent)):
                rows[i] = row
    return [rows[i] for i in sorted(rows)], [dict(e) for e in logs]


async def _run_async(url: str, chosen: list[tuple[int, Scenario]]) -> list[tuple[int, Row]]:
    async with AsyncClient(base_url=url, timeout=5.0) as client:

        async def one(i: int, s: Scenario) -> tuple[int, Row]:
            extensions = {"normalizer": {"vendor": s.vendor}}
            try:
                response = await client.request(
                    s.method, s.path, extensions=extensions, **s.request
                )
            except httpx.HTTPError as exc:
                return i, Row(s, None, 0, None, type(exc).__name__)
            return i, _row(s, response)

        return list(await asyncio.gather(*(one(i, s) for i, s in chosen)))


def _record(scenario: Scenario, client: Client) -> Row:
    try:
        response = client.request(scenario.method, scenario.path, **scenario.request)
    except httpx.HTTPError as exc:
        return Row(scenario, None, 0, None, type(exc).__name__)
    return _row(scenario, response)


def _row(scenario: Scenario, response: httpx.Response) -> Row:
    return Row(
        scenario,
        outcome_of(response),
        response.extensions.get(ATTEMPTS_KEY, 1),
        response.status_code,
    )


def render(rows: Sequence[Row], logs: Sequence[dict[str, Any]]) -> str:
    header = ("vendor", "scenario", "code", "category", "retryable", "attempts", "what it did")
    table = [header] + [
        (
            r.scenario.vendor
            + (f"/{r.outcome.product}" if r.outcome and r.outcome.product else ""),
            r.scenario.title,
            (r.outcome.code or f"HTTP {r.status}") if r.outcome else "-",
            r.outcome.category.value if r.outcome else "-",
            ("yes" if r.outcome.retryable else "no") if r.outcome else "-",
            str(r.attempts),
            r.did() + ("" if r.passed else f"  << expected {r.scenario.expect}"),
        )
        for r in rows
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in table
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines.append("")
    lines.append("structured log lines (structlog, redacted):")
    for event in logs:
        fields = " ".join(f"{k}={v}" for k, v in event.items() if k not in ("event", "log_level"))
        lines.append(f"  [{event.get('log_level', '')}] {event.get('event')} {fields}")
    return "\n".join(lines)


def as_json(rows: Sequence[Row], logs: Sequence[dict[str, Any]]) -> str:
    data = {
        "calls": [
            {
                "vendor": r.scenario.vendor,
                "scenario": r.scenario.title,
                "product": r.outcome.product if r.outcome else None,
                "code": r.outcome.code if r.outcome else None,
                "category": r.outcome.category.value if r.outcome else None,
                "retryable": r.outcome.retryable if r.outcome else None,
                "matched": r.outcome.matched.value if r.outcome else None,
                "http_status": r.status,
                "attempts": r.attempts,
                "did": r.did(),
                "expected": r.scenario.expect,
                "passed": r.passed,
            }
            for r in rows
        ],
        "logs": list(logs),
    }
    return json.dumps(data, ensure_ascii=False, indent=2, default=str)


def main(vendor: str | None, as_json_output: bool) -> int:
    rows, logs = run(vendor)
    if not rows:
        print(f"normalizer: no demo scenario for vendor {vendor!r}", file=sys.stderr)
        return 2
    print(as_json(rows, logs) if as_json_output else render(rows, logs))
    return 0 if all(r.passed for r in rows) else 1
