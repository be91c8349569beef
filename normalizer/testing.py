"""Helpers for the test suites of code that uses normalizer.

- :func:`set_testing` makes retries instant (``attempts=1`` turns them off), also as a
  context manager that restores; :func:`is_testing` says whether it is on; in the manner of
  ``stamina.set_testing``, so tests of code that calls vendors stay fast.
- :func:`vendor_response` builds the response a vendor sends for a code, in its own envelope.
- :class:`VendorMock` is an ``httpx.MockTransport`` that answers a script of codes.
- :class:`SimulatedVendor` is a real HTTP server on 127.0.0.1 answering a script, for tests
  (and the demo) that want real sockets.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from ._registry import Registry, default_registry
from ._retry import is_testing, set_testing

__all__ = ["SimulatedVendor", "VendorMock", "is_testing", "set_testing", "vendor_response"]

Reply = httpx.Response | Exception | str | int


def vendor_response(
    vendor: str,
    code: str | int,
    *,
    product: str | None = None,
    status_code: int = 200,
    message: str | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
    registry: Registry | None = None,
) -> httpx.Response:
    """The JSON response ``vendor`` sends for ``code``, in the vendor's own envelope.

    The code goes to the mapping's first ``envelope.code`` path (``resp.respCode`` for
    UCPaaS), the text to its first message path (the mapping's description unless
    ``message`` is given). ``code`` keeps its type: ``5001`` is sent as a JSON number,
    ``"0200001"`` as a string.
    """
    mapping = (registry or default_registry()).get(vendor)
    envelope = mapping.envelope
    table = mapping.table
    if product is not None:
        envelope = mapping.products[product].envelope
        table = mapping.products[product].table
    body: dict[str, Any] = dict(extra or {})
    _put(body, envelope.code[0].segments, code)
    if envelope.message:
        entry = table.codes.get(str(code)) or mapping.table.codes.get(str(code))
        text = message if message is not None else entry.description if entry else ""
        _put(body, envelope.message[0].segments, text)
    return httpx.Response(status_code, json=body, headers=headers)


def _put(doc: dict[str, Any], path: tuple[str, ...], value: object) -> None:
    for key in path[:-1]:
        doc = doc.setdefault(key, {})
    doc[path[-1]] = value


class VendorMock(httpx.MockTransport):
    """A mock vendor answering a script: codes (str/int), responses, or exceptions to raise.

    Replies are played in order and the last one repeats. ``requests`` records what was sent.
    Use it as the ``transport=`` of :class:`normalizer.Client` or ``AsyncClient``::

        mock = VendorMock("ucpaas", "107225", "000000")
        client = normalizer.Client("ucpaas", transport=mock)
    """

    def __init__(
        self,
        vendor: str,
        *replies: Reply,
        product: str | None = None,
        registry: Registry | None = None,
    ) -> None:
        if not replies:
            raise ValueError("VendorMock needs at least one reply")
        self.vendor = vendor
        self.product = product
        self.replies = list(replies)
        self.requests: list[httpx.Request] = []
        self._registry = registry
        self._lock = threading.Lock()
        super().__init__(self._answer)

    def _answer(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self.requests.append(request)
            reply = self.replies[min(len(self.requests), len(self.replies)) - 1]
        if isinstance(reply, Exception):
            raise reply
        if isinstance(reply, httpx.Response):  # fresh each time: responses are not shareable
            return httpx.Response(reply.status_code, headers=reply.headers, content=reply.content)
        return vendor_response(self.vendor, reply, product=self.product, registry=self._registry)


class SimulatedVendor:
    """A real HTTP server on 127.0.0.1 (a free port) answering scripted responses per path.

    ::

        with SimulatedVendor() as sim:
            sim.script("/vpbx/commands/callback", vendor_response("mango", 5001),
                       vendor_response("mango", 1000))
            client = normalizer.Client("mango", base_url=sim.url)
            client.post("/vpbx/commands/callback")

    Unscripted paths answer 404. The last reply of a script repeats. ``requests`` records
    ``(method, path, headers, body)`` of every request.
    """

    def __init__(self) -> None:
        self._scripts: dict[str, list[httpx.Response]] = {}
        self._served: dict[str, int] = {}
        self._lock = threading.Lock()
        self.requests: list[tuple[str, str, dict[str, str], bytes]] = []
        self._server = _Server(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def script(self, path: str, *responses: httpx.Response) -> None:
        """Answer requests to ``path`` (without query) with ``responses``, in order."""
        with self._lock:
            self._scripts[path] = [_frozen(r) for r in responses]
            self._served[path] = 0

    def _next(self, path: str) -> httpx.Response | None:
        with self._lock:
            script = self._scripts.get(path)
            if not script:
                return None
            index = min(self._served[path], len(script) - 1)
            self._served[path] += 1
            return script[index]

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        simulator = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go in two writes: no 40 ms stall

            def _serve(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                path = self.path.split("?", 1)[0]
                with simulator._lock:
                    simulator.requests.append((self.command, self.path, dict(self.headers), body))
                reply = simulator._next(path)
                if reply is None:
                    reply = httpx.Response(404, json={"error": f"no script for {path}"})
                content = reply.content
                self.send_response(reply.status_code)
                for key, value in reply.headers.items():
                    if key.lower() not in ("content-length", "transfer-encoding", "connection"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(content)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _serve

            def log_message(self, format: str, *args: Any) -> None:
                return None  # quiet: the demo prints its own table

        return Handler

    def start(self) -> SimulatedVendor:
        self._thread = threading.Thread(
            target=self._server.serve_forever, daemon=True, name="normalizer-simulated-vendor"
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> SimulatedVendor:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _Server(ThreadingHTTPServer):
    request_queue_size = 256  # socketserver's default of 5 refuses bursts of async clients


def _frozen(response: httpx.Response) -> httpx.Response:
    response.read()
    return response
