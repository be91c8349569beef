"""Huawei CC-iSales (OBS): a parameter error, and reading OBS call results from a payload.

Run: ``.venv/bin/python examples/huawei_isales.py``
"""

from __future__ import annotations

import normalizer
from normalizer.testing import SimulatedVendor, vendor_response

PATH = "/rest/isales/v1/openapi/campaigns/1/queryOBSResultCode"


def main() -> None:
    with SimulatedVendor() as sim:
        sim.script(PATH, vendor_response("huawei_isales", "0200001", message="pageSize 1~50"))
        # on-premises hosts: the vendor is recognised by its path, so no vendor= is needed
        with normalizer.Client(base_url=sim.url) as client:
            response = client.get(
                PATH,
                params={"pageSize": 100, "pageNum": 1},
                extensions={"normalizer": {"vendor": "huawei_isales"}},
            )
        try:
            normalizer.raise_for_outcome(response)
        except normalizer.ValidationError as exc:
            print("fix the request:", exc)

    # a call-result payload (webhook or query result): obsCode is a call outcome, not an error
    result = normalizer.classify("huawei_isales", {"obsCode": "00605"}, product="obs")
    print(result.category, "call outcome:", result.call_outcome, "-", result.message)


if __name__ == "__main__":
    main()
