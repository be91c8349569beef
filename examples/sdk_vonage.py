"""vonage 4.x (SMS API and Messages API): what the SDK raises and returns, read and retried by
normalizer (docs/sdks/vonage.md).

Run: ``.venv/bin/python examples/sdk_vonage.py`` (no network: the SDK's HTTP, ``requests``, is
mocked with ``responses``; tenacity's sleep is switched off for the demonstration).
"""

from __future__ import annotations

from typing import Any

import responses
import tenacity
from vonage.vonage import Vonage
from vonage_http_client import Auth, HttpClientOptions
from vonage_http_client.errors import HttpRequestError
from vonage_messages import Sms
from vonage_sms import SmsMessage

import normalizer

SMS_URL = "https://rest.nexmo.com/sms/json"
MESSAGES_URL = "https://api.nexmo.com/v1/messages"

# --8<-- [start:recipe]
# max_retries=0: the SDK's urllib3 Retry (3 by default) is off, tenacity decides
client = Vonage(Auth(api_key="key", api_secret="secret"), HttpClientOptions(max_retries=0))


@tenacity.retry(
    retry=normalizer.retry_if_retryable(),
    wait=normalizer.wait_vendor(),
    stop=normalizer.stop_vendor(),
    reraise=True,
)
def send(to: str, text: str) -> Any:
    return client.sms.send(SmsMessage(to=to, from_="Acme", text=text))


# --8<-- [end:recipe]


def main() -> None:
    demo = send.retry_with(sleep=lambda seconds: None)  # no waiting in this demonstration
    throttled = {"message-count": "1", "messages": [{"status": "1", "error-text": "Throttled"}]}
    part = {"to": "447700900000", "message-id": "m1", "status": "0", "network": "23410"}
    accepted = {"message-count": "1", "messages": [{**part, "remaining-balance": "9"}]}
    with responses.RequestsMock() as vonage:  # throttled once (SmsError, status 1), then accepted
        vonage.post(SMS_URL, json=throttled)
        vonage.post(SMS_URL, json=accepted)
        response = demo("447700900000", "hello")
        sent = len(vonage.calls)
    outcome = normalizer.classify("vonage", response, product="sms")
    assert sent == 2
    assert outcome.ok
    print("sms: throttled, then sent after", sent, "requests ->", outcome.category)

    # the Messages API raises HttpRequestError subclasses holding the requests response
    unauthorized = {
        "type": "https://developer.nexmo.com/api-errors#unauthorized",
        "title": "Unauthorized",
        "detail": "You did not provide correct credentials.",
    }
    with responses.RequestsMock() as vonage:
        vonage.post(MESSAGES_URL, status=401, json=unauthorized)
        try:
            client.messages.send(Sms(to="447700900000", from_="Acme", text="hello"))
        except HttpRequestError as exc:
            raised, refused = type(exc).__name__, normalizer.classify_exception(exc)
    assert refused is not None
    assert (refused.category, refused.product) == ("auth", "messages")
    print("messages: raised", raised, "->", refused.category, refused.product)


if __name__ == "__main__":
    main()
