"""Count vendor outcomes by vendor and category with the on_outcome hook.

Uses prometheus_client when it is installed (``pip install prometheus-client``), otherwise a
plain Counter, so the example runs anywhere. No network: the vendor is an httpx.MockTransport.

Run: ``.venv/bin/python examples/metrics.py``
"""

from __future__ import annotations

import collections
from collections.abc import Callable

import httpx

import normalizer


def make_hook() -> tuple[Callable[[normalizer.VendorCall], None], Callable[[], str]]:
    try:
        import prometheus_client  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        counts: collections.Counter[tuple[str, str]] = collections.Counter()

        def count(call: normalizer.VendorCall) -> None:
            counts[(call.outcome.vendor, call.outcome.category.value)] += 1

        return count, lambda: "\n".join(f"{v} {c}: {n}" for (v, c), n in sorted(counts.items()))

    registry = prometheus_client.CollectorRegistry()
    calls = prometheus_client.Counter(
        "vendor_calls", "Vendor calls by outcome", ["vendor", "category"], registry=registry
    )
    seconds = prometheus_client.Histogram(
        "vendor_call_seconds", "Vendor call time, retries included", ["vendor"], registry=registry
    )

    def observe(call: normalizer.VendorCall) -> None:
        calls.labels(call.outcome.vendor, call.outcome.category.value).inc()
        seconds.labels(call.outcome.vendor).observe(call.elapsed)

    return observe, lambda: prometheus_client.generate_latest(registry).decode()


def main() -> None:
    hook, report = make_hook()
    answers = iter([{"result": 5001}, {"result": 1000}, {"result": 3103}, {"result": 1000}])

    def vendor(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=next(answers))

    with normalizer.Client(
        "mango",
        transport=httpx.MockTransport(vendor),
        on_outcome=hook,
        retry=normalizer.RetryPolicy(base=0.01),
    ) as client:
        for _ in range(3):
            client.post("https://app.mango-office.ru/vpbx/commands/callback")
    print(report())


if __name__ == "__main__":
    main()
