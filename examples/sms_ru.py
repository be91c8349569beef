"""SMS.RU: the request succeeds (status_code 100) while one of the numbers is refused.

Run: ``.venv/bin/python examples/sms_ru.py``
"""

from __future__ import annotations

import httpx

import normalizer

SENT = {  # the sms/send "Пример ответа" (json=1) of sms.ru/api/send
    "status": "OK",
    "status_code": 100,
    "sms": {
        "79255070602": {"status": "OK", "status_code": 100, "sms_id": "000000-10000000"},
        "74993221627": {
            "status": "ERROR",
            "status_code": 207,
            "status_text": "На этот номер (или один из номеров) нельзя отправлять сообщения, "
            "либо указано более 100 номеров в списке получателей",
        },
    },
    "balance": 4122.56,
}
NO_MONEY = {
    "status": "ERROR",
    "status_code": 201,
    "status_text": "Не хватает средств на лицевом счету",
}


def main() -> None:
    bodies = iter([SENT, NO_MONEY])

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=next(bodies))

    form = {"api_id": "API_ID", "to": "79255070602,74993221627", "msg": "hello", "json": "1"}
    with normalizer.Client(transport=httpx.MockTransport(handler), retry=None) as client:
        for _ in range(2):
            outcome = normalizer.outcome_of(client.post("https://sms.ru/sms/send", data=form))
            assert outcome is not None
            print(outcome)
            for item in outcome.failed_items:
                print("  failed:", item.number, item.code, item.category.value, item.gloss)
    print(normalizer.lookup("sms_ru", 220))  # "service temporarily unavailable": busy


if __name__ == "__main__":
    main()
