"""Retries in your own code with tenacity, using normalizer's retry and wait strategies.

Run: ``.venv/bin/python examples/retries_tenacity.py``
"""

from __future__ import annotations

import tenacity

import normalizer
from normalizer.testing import VendorMock


def main() -> None:
    # the transport's own retries are off here: the decorator decides
    mock = VendorMock("ucpaas", "107225", "107225", "000000")
    client = normalizer.Client("ucpaas", transport=mock, retry=None, raise_on_error=True)

    @tenacity.retry(
        retry=normalizer.retry_if_retryable(),
        wait=normalizer.wait_vendor(normalizer.RetryPolicy(pace={"busy": 0.05})),
        stop=tenacity.stop_after_attempt(5) | tenacity.stop_after_delay(10),
        reraise=True,
    )
    def place_call() -> str:
        response = client.post(
            "https://api.ucpaas.com/2014-06-30/Accounts/a/Calls/callBack",
            json={"to": "13900139000"},
        )
        return str(normalizer.outcome_of(response))

    print(place_call(), f"after {len(mock.requests)} calls")


if __name__ == "__main__":
    main()
