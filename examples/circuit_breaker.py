"""A vendor in trouble: the circuit breaker fails calls fast, then a probe closes it again.

Run: ``.venv/bin/python examples/circuit_breaker.py``. Give ``redis://...`` as an argument to
keep the state on that Redis (``pip install 'telco-normalizer[redis]'``), as a fleet of workers
would share it; it works the same, in process, when that Redis is down.
"""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING

import normalizer
from normalizer import CircuitBreaker, CircuitOpenError
from normalizer.testing import SimulatedVendor, vendor_response

if TYPE_CHECKING:
    from normalizer.redis import RedisState

PATH = "/vpbx/commands/callback"


def calls(state: normalizer.LocalState | RedisState) -> None:
    breaker = CircuitBreaker(failures=3, window=10, recovery=0.5)
    with SimulatedVendor() as sim:
        # three overloads (5001 Перегрузка), then the vendor is fine again
        sim.script(PATH, *[vendor_response("mango", 5001)] * 3, vendor_response("mango", 1000))
        with normalizer.Client(
            "mango", base_url=sim.url, retry=None, circuit=breaker, state=state
        ) as client:
            for i in range(6):
                if i == 5:
                    time.sleep(0.5)  # the recovery time has passed: this call is the probe
                try:
                    response = client.post(PATH, json={"to_number": "79161234567"})
                except CircuitOpenError as exc:
                    print(f"call {i}: not sent ({exc.reason}), retry in {exc.retry_after:.1f}s")
                else:
                    print(f"call {i}: {normalizer.outcome_of(response)}")
        print(f"the vendor saw {len(sim.requests)} requests for 6 calls")


def main(redis_url: str | None) -> None:
    if redis_url is None:
        calls(normalizer.LocalState())
        return
    from normalizer.redis import RedisState

    with RedisState.from_url(redis_url, account="example-circuit") as state:
        calls(state)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
