"""Onbuka: the same status -3 means different things for SMS and intelligent voice.

Run: ``.venv/bin/python examples/onbuka.py``
"""

from __future__ import annotations

import normalizer
from normalizer.testing import SimulatedVendor, vendor_response


def main() -> None:
    headers = {"Api-Key": "KEY", "Sign": "SIGN", "Timestamp": "1763924400"}
    with SimulatedVendor() as sim:
        sim.script("/v3/sendSms", vendor_response("onbuka", "-3", product="sms"))
        sim.script("/aivoice/task/create", vendor_response("onbuka", "-3", product="ai_voice"))
        sim.script(
            "/v3/getBalance",
            vendor_response("onbuka", "-15", product="sms"),
            vendor_response("onbuka", "0", product="sms"),
        )
        with normalizer.Client("onbuka", base_url=sim.url, headers=headers) as client:
            for path in ("/v3/sendSms", "/aivoice/task/create", "/v3/getBalance"):
                response = client.post(path, json={"numbers": "8613800138000"})
                print(path, "->", normalizer.outcome_of(response))
    print(normalizer.lookup("onbuka", "-3"))  # no product named: ambiguous, never guessed


if __name__ == "__main__":
    main()
