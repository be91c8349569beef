"""infobip-api-python-client 6.x: what the SDK raises and returns, read and retried by normalizer
(docs/sdks/infobip.md).

Run: ``.venv/bin/python examples/sdk_infobip.py`` (no network: the SDK speaks urllib3, which
``responses`` does not mock, so it talks to a server on 127.0.0.1 this script starts; tenacity's
sleep is switched off for the demonstration).
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import tenacity
from infobip_api_client import ApiClient, Configuration
from infobip_api_client.api.sms_api import SmsApi
from infobip_api_client.exceptions import ApiException
from infobip_api_client.models import (
    SmsDestination,
    SmsMessage,
    SmsMessageContent,
    SmsRequest,
    SmsResponse,
    SmsTextContent,
)

import normalizer


def sms_api(host: str) -> SmsApi:
    # --8<-- [start:client]
    # retries=0: urllib3's default Retry(3) is off, tenacity decides
    config = Configuration(host=host, api_key="key", retries=0)
    # --8<-- [end:client]
    return SmsApi(ApiClient(config))


# --8<-- [start:recipe]
@tenacity.retry(
    retry=normalizer.retry_if_retryable(),
    wait=normalizer.wait_vendor(),
    stop=normalizer.stop_vendor(),
    reraise=True,
)
def send(api: SmsApi, request: SmsRequest) -> SmsResponse:
    return api.send_sms_messages(request)


# --8<-- [end:recipe]


def message(number: str, name: str) -> dict[str, Any]:
    return {"messageId": f"m-{number[-4:]}", "destination": number,
            "status": {"groupName": name.split("_")[0], "name": name}}  # fmt: skip


class Infobip(ThreadingHTTPServer):
    """Stands in for xyz.api.infobip.com: answers each POST with the next of ``answers``."""

    def __init__(self) -> None:
        self.answers: list[tuple[int, Any]] = []
        self.seen = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length", 0)))
                server.seen += 1
                status, body = server.answers[min(server.seen, len(server.answers)) - 1]
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                return None

        super().__init__(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server_address[1]}"

    def answer(self, *answers: tuple[int, Any]) -> None:
        self.answers, self.seen = list(answers), 0


def main() -> None:
    vendor = Infobip()
    threading.Thread(target=vendor.serve_forever, args=(0.05,), daemon=True).start()
    api = sms_api(vendor.url)
    demo = send.retry_with(sleep=lambda seconds: None)  # no waiting in this demonstration
    to = [SmsDestination(to="41793026727"), SmsDestination(to="4179")]
    text = SmsMessageContent(actual_instance=SmsTextContent(text="hello"))
    request = SmsRequest(messages=[SmsMessage(sender="Acme", destinations=to, content=text)])
    try:
        limited = {"errorCode": "E429", "description": "Too many requests sent."}
        parts = [
            message("41793026727", "PENDING_ACCEPTED"),
            message("4179", "REJECTED_PREFIX_MISSING"),
        ]
        sent = {"bulkId": "b1", "messages": parts}
        vendor.answer((429, limited), (200, sent))  # limited once (raised), then sent in part
        response = demo(api, request)
        outcome = normalizer.classify("infobip", response)
        assert vendor.seen == 2
        assert outcome.partial
        failed = [item.code for item in outcome.failed_items]
        assert failed == ["REJECTED_PREFIX_MISSING"]
        print("limited, then sent after", vendor.seen, "requests -> partial, failed:", *failed)

        unauthorized = {"errorCode": "E401", "description": "Invalid login details"}
        vendor.answer((401, unauthorized))
        try:
            demo(api, request)
        except ApiException as exc:
            refused = normalizer.classify_exception(exc)
        assert refused is not None
        assert refused.category == "auth"
        assert vendor.seen == 1
        print("raised", refused.code, "->", refused.category)
    finally:
        vendor.shutdown()
        vendor.server_close()


if __name__ == "__main__":
    main()
