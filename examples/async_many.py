"""Many concurrent calls through one AsyncClient, with per-vendor retry budget and outcomes.

Run: ``.venv/bin/python examples/async_many.py``
"""

from __future__ import annotations

import asyncio
import collections

import normalizer
from normalizer.testing import SimulatedVendor, vendor_response


async def campaign(url: str, calls: int) -> collections.Counter[str]:
    tally: collections.Counter[str] = collections.Counter()
    limits = asyncio.Semaphore(20)
    async with normalizer.AsyncClient(
        "onbuka", base_url=url, retry=normalizer.RetryPolicy(pace={"busy": 0.01})
    ) as client:

        async def send(i: int) -> None:
            async with limits:
                response = await client.post("/v3/sendSms", json={"numbers": f"86138{i:08d}"})
            outcome = normalizer.outcome_of(response)
            tally[outcome.category.value if outcome else "none"] += 1

        await asyncio.gather(*(send(i) for i in range(calls)))
    return tally


def main() -> None:
    with SimulatedVendor() as sim:
        # "query too frequently" now and then: busy, retried at the busy pace
        sim.script(
            "/v3/sendSms",
            vendor_response("onbuka", "-15", product="sms"),
            vendor_response("onbuka", "0", product="sms"),
        )
        print(dict(asyncio.run(campaign(sim.url, 100))))


if __name__ == "__main__":
    main()
