"""AIRudder: a bad token (HTTP 401) and a duplicate task name, as typed exceptions.

Run: ``.venv/bin/python examples/airudder.py``
"""

from __future__ import annotations

import normalizer
from normalizer.testing import SimulatedVendor, vendor_response


def main() -> None:
    with SimulatedVendor() as sim:
        sim.script(
            "/service/cloud/task/list",
            vendor_response("airudder", 401, status_code=401, extra={"status": "Error"}),
        )
        sim.script(
            "/service/cloud/task/create",
            vendor_response("airudder", 10403, extra={"status": "Error"}),
        )
        with normalizer.Client(
            "airudder",
            base_url=sim.url,
            raise_on_error=True,
            headers={"Authorization": "Token expired-token"},
        ) as client:
            for method, path in (
                ("GET", "/service/cloud/task/list"),
                ("POST", "/service/cloud/task/create"),
            ):
                try:
                    client.request(method, path, json={"name": "campaign"})
                except (normalizer.AuthError, normalizer.ValidationError) as exc:
                    print(type(exc).__name__, "-", exc)


if __name__ == "__main__":
    main()
