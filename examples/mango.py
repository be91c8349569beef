"""MANGO OFFICE: POST-only API; 5001 Перегрузка is retried, an unlisted code read by its class.

Run: ``.venv/bin/python examples/mango.py``
"""

from __future__ import annotations

import json

import normalizer
from normalizer.testing import SimulatedVendor, vendor_response


def main() -> None:
    form = {
        "vpbx_api_key": "KEY",
        "sign": "SIGN",
        "json": json.dumps({"from": {"extension": "101"}, "to_number": "79161234567"}),
    }
    with SimulatedVendor() as sim:
        sim.script(
            "/vpbx/commands/callback",
            vendor_response("mango", 5001),
            vendor_response("mango", 1000),
        )
        sim.script("/vpbx/stats/request", vendor_response("mango", 2219))
        with normalizer.Client(
            "mango", base_url=sim.url, retry=normalizer.RetryPolicy(base=0.05)
        ) as client:
            callback = client.post("/vpbx/commands/callback", data=form)
            stats = client.post("/vpbx/stats/request", data=form)
    print(
        "callback:",
        normalizer.outcome_of(callback),
        f"({callback.extensions['normalizer.attempts']} attempts)",
    )
    print("stats:", normalizer.outcome_of(stats))
    print(normalizer.lookup("mango", 4599))  # 45xx: security restriction class


if __name__ == "__main__":
    main()
