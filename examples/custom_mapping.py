"""Add your own vendor, and override a built-in code, with mapping files: no Python changes.

Run: ``.venv/bin/python examples/custom_mapping.py``
"""

from __future__ import annotations

import pathlib
import tempfile

import normalizer

ACME = """
format = 1

[vendor]
id = "acme_sms"
name = "ACME SMS gateway"

[detect]
hosts = ["sms.acme.example"]

[envelope]
code = ["error.code"]
message = ["error.text"]
success = ["OK"]

[codes]
"E_RATE" = { category = "busy", description = "Rate limit, slow down", gloss = "rate limit" }
"E_KEY" = { category = "auth", description = "Unknown API key", gloss = "bad key" }
"""

PATCH = """
format = 1

[vendor]
extends = "mango"

[codes]
"4501" = { category = "busy", description = "Установлено ограничение частоты звонков" }
"""


def main() -> None:
    folder = pathlib.Path(tempfile.mkdtemp())
    (folder / "acme_sms.toml").write_text(ACME, encoding="utf-8")
    (folder / "mango-patch.toml").write_text(PATCH, encoding="utf-8")
    print("registered:", normalizer.register_mappings(folder))
    print(normalizer.classify("acme_sms", b'{"error": {"code": "E_RATE", "text": "slow"}}'))
    print(normalizer.lookup("mango", 4501))


if __name__ == "__main__":
    main()
