"""Helpers for the tests that run the vendors' real SDKs with their HTTP mocked.

``transport_attempts`` answers the question every retry test asks: how many requests would
normalizer's own transport have sent for the same answers? The SDK wrapped in tenacity with
normalizer's strategies must send exactly as many.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
import tenacity

import normalizer

Answer = tuple[int, Any]
"""An HTTP status and a JSON body (or an httpx exception class to raise instead)."""


def transport_attempts(
    vendor: str, method: str, url: str, answers: list[Answer], **kwargs: Any
) -> int:
    """Requests a :class:`normalizer.Client` sends for ``answers`` (default policy, no waits)."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        status, body = answers[min(len(seen), len(answers)) - 1]
        if isinstance(body, type) and issubclass(body, httpx.TransportError):
            raise body("mocked", request=request)
        return httpx.Response(status, json=body)

    client = normalizer.Client(vendor, transport=httpx.MockTransport(handler))
    with client, contextlib.suppress(httpx.TransportError):
        client.request(method, url, **kwargs)
    return len(seen)


def retrying(vendor: str | None = None, product: str | None = None) -> tenacity.Retrying:
    """The decorator docs/sdks.md recommends around an SDK call, without real sleeping."""
    return tenacity.Retrying(
        retry=normalizer.retry_if_retryable(vendor=vendor, product=product),
        wait=normalizer.wait_vendor(vendor=vendor, product=product),
        stop=normalizer.stop_vendor(vendor=vendor, product=product),
        sleep=lambda seconds: None,
        reraise=True,
    )


def call(attempt: Callable[[], Any], retry: tenacity.Retrying) -> Any:
    """``attempt`` under ``retry``; what it finally raised, or returned."""
    try:
        return retry(attempt)
    except Exception as exc:
        return exc


class LocalServer:
    """An HTTP server on 127.0.0.1 answering each request with the next of ``answers``
    (JSON bodies), counting the requests: for an SDK on urllib3, which ``responses`` does
    not mock."""

    def __init__(self) -> None:
        self.answers: list[Answer] = []
        self.paths: list[str] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length", 0)))
                owner.paths.append(self.path)
                status, body = owner.answers[min(len(owner.paths), len(owner.answers)) - 1]
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture
def local_server() -> Iterator[LocalServer]:
    server = LocalServer()
    yield server
    server.close()
