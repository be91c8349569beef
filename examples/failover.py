"""Failover across vendors: Twilio first, Vonage when Twilio cannot serve, recipient by recipient.

Twilio takes one recipient per request (a 201 with the message, or a 4xx with its code);
Vonage's SMS API too, always HTTP 200 with a status per message part. Both are simulated here
over ``httpx.MockTransport``: Twilio's account is over its request rate for one number
(20429, never processed: moves), another number is invalid (21211: the number's fault, never
moved), and a third times out after the request was written (maybe sent: never moved unless
the failover is told a duplicate is better than a loss).

Run: ``.venv/bin/python examples/failover.py``
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable

import httpx

import normalizer
from normalizer.testing import vendor_response

TWILIO = "https://api.twilio.com/2010-04-01/Accounts/AC123/Messages.json"
VONAGE = "https://rest.nexmo.com/sms/json"

BUSY, INVALID, SLOW, FINE = "+15005550001", "+15005550002", "+15005550003", "+15005550004"


def to_of(request: httpx.Request) -> str:
    form = urllib.parse.parse_qs(request.content.decode())
    return (form.get("To") or form["to"])[0]


def twilio(request: httpx.Request) -> httpx.Response:
    to = to_of(request)
    if to == BUSY:
        return vendor_response("twilio", 20429)  # Too Many Requests (HTTP 429)
    if to == INVALID:
        return vendor_response("twilio", 21211)  # Invalid 'To' Phone Number (HTTP 400)
    if to == SLOW:
        raise httpx.ReadTimeout("written, no answer", request=request)
    return httpx.Response(201, json={"sid": "SM" + to[-4:], "status": "queued", "to": to})


def vonage(request: httpx.Request) -> httpx.Response:
    to = to_of(request).lstrip("+")  # Vonage echoes the number without its +
    part = {"to": to, "message-id": "0A00000" + to[-4:], "status": "0"}
    return httpx.Response(200, json={"message-count": "1", "messages": [part]})


def each(
    recipients: list[str], post: Callable[[str], httpx.Response]
) -> list[httpx.Response | Exception]:
    """One request per recipient, each one's answer or exception in its place: a timeout
    of one request says nothing of the others."""
    answers: list[httpx.Response | Exception] = []
    for to in recipients:
        try:
            answers.append(post(to))
        except Exception as exc:
            answers.append(exc)
    return answers


def main() -> None:
    with (
        normalizer.Client("twilio", transport=httpx.MockTransport(twilio)) as tw,
        normalizer.Client("vonage", transport=httpx.MockTransport(vonage)) as vo,
    ):

        def send_twilio(recipients: list[str]) -> list[httpx.Response | Exception]:
            form = {"From": "+15005550006", "Body": "Your code is 123456"}
            return each(recipients, lambda to: tw.post(TWILIO, data={**form, "To": to}))

        def send_vonage(recipients: list[str]) -> list[httpx.Response | Exception]:
            form = {"from": "Acme", "text": "Your code is 123456"}
            return each(recipients, lambda to: vo.post(VONAGE, data={**form, "to": to}))

        failover = normalizer.Failover([("twilio", send_twilio), ("vonage", send_vonage)])
        result = failover([BUSY, INVALID, SLOW, FINE])
        for attempt in result.attempts:
            reasons = ", ".join(f"{to[-4:]} {why}" for to, why in attempt.reasons.items())
            print(f"{attempt.vendor}: {reasons}")
        for to, outcome in result.outcomes.items():
            print(f"{to[-4:]} -> {outcome.vendor} {outcome.category.value}")

        # a one-time password: a duplicate is better than a loss, so maybe-sent moves too
        otp = normalizer.Failover(
            [("twilio", send_twilio), ("vonage", send_vonage)], move_maybe_sent=True
        )
        outcome = otp([SLOW]).outcomes[SLOW]
        print(f"opted in: {SLOW[-4:]} -> {outcome.vendor} {outcome.category.value}")


if __name__ == "__main__":
    main()
