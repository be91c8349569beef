"""SMSC.ru: the same error read from its JSON form (fmt=3) and its plain-text form (fmt=0),
both answered with HTTP 200.

Run: ``.venv/bin/python examples/smsc.py``
"""

from __future__ import annotations

import httpx

import normalizer

ANSWERS = [  # the answer forms of https://smsc.ru/api/http/ ("Ответ сервера и коды ошибок")
    httpx.Response(200, json={"error": "authorise error", "error_code": 2}),
    httpx.Response(200, text="ERROR = 3 (no money)"),
    httpx.Response(200, json={"id": 1234, "cnt": 1}),
]


def main() -> None:
    answers = iter(ANSWERS)

    def handler(request: httpx.Request) -> httpx.Response:
        return next(answers)

    params = {"login": "LOGIN", "psw": "PASSWORD", "phones": "79991234567", "mes": "hello"}
    with normalizer.Client(transport=httpx.MockTransport(handler), retry=None) as client:
        for _ in ANSWERS:
            response = client.get("https://smsc.ru/sys/send.php", params=params)
            print(normalizer.outcome_of(response))
    # 9: an identical send was accepted less than a minute ago: never sent again
    print(normalizer.lookup("smsc", 9))


if __name__ == "__main__":
    main()
