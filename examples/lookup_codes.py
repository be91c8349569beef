"""Look vendor codes up and classify response bodies, with no network.

Run: ``.venv/bin/python examples/lookup_codes.py``
"""

from __future__ import annotations

import normalizer


def main() -> None:
    cases: list[tuple[str, str | int, str | None]] = [
        ("ucpaas", "107225", None),
        ("huawei_isales", "0200001", None),
        ("mango", 5001, None),
        ("mango", 2219, None),
        ("airudder", 10403, None),
        ("onbuka", "-3", "sms"),
        ("onbuka", "-3", "ai_voice"),
        ("onbuka", "-3", None),
    ]
    for vendor, code, product in cases:
        print(normalizer.lookup(vendor, code, product=product))

    body = b'{"status": "Error", "code": 10101, "message": "Appsecret is incorrect."}'
    outcome = normalizer.classify("airudder", body, status_code=200)
    print(outcome.category, outcome.retryable, outcome.vendor_message)


if __name__ == "__main__":
    main()
