"""UCPaaS (云之讯) call center: place a callback, retried through 外呼繁忙 (107225).

Runs against normalizer's simulated vendor on 127.0.0.1; point ``base_url`` at
``https://api.ucpaas.com`` for the real thing. Run: ``.venv/bin/python examples/ucpaas.py``
"""

from __future__ import annotations

import normalizer
from normalizer.testing import SimulatedVendor, vendor_response

PATH = "/2014-06-30/Accounts/{sid}/Calls/callBack"


def main() -> None:
    with SimulatedVendor() as sim:
        path = PATH.format(sid="ACCOUNTSID0001")
        sim.script(path, vendor_response("ucpaas", "107225"), vendor_response("ucpaas", "000000"))
        with normalizer.Client("ucpaas", base_url=sim.url, raise_on_error=True) as client:
            response = client.post(
                path,
                params={"sig": "MD5-SIGNATURE"},
                json={"callback": {"fromClient": "c1", "to": "13900139000"}},
            )
        outcome = normalizer.outcome_of(response)
        assert outcome is not None
        print(f"{outcome}, after {response.extensions['normalizer.attempts']} attempts")


if __name__ == "__main__":
    main()
