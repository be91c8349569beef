"""Helpers for the test suites of code that uses normalizer.

- :func:`set_testing` makes retries instant (``attempts=1`` turns them off), also as a
  context manager that restores; :func:`is_testing` says whether it is on; in the manner of
  ``stamina.set_testing``, so tests of code that calls vendors stay fast.
- :func:`vendor_response` builds the response a vendor sends for a code, as the vendor sends
  it: its documented body and HTTP status (Twilio and Telnyx answer errors with a 4xx).
- :class:`VendorMock` is an ``httpx.MockTransport`` that answers a script of codes.
- :class:`SimulatedVendor` is a real HTTP server on 127.0.0.1 answering a script, for tests
  (and the demo) that want real sockets.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
import threading
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

import httpx

from ._classify import lookup
from ._outcome import Outcome
from ._registry import Registry, default_registry
from ._retry import is_testing, set_testing

__all__ = ["SimulatedVendor", "VendorMock", "is_testing", "set_testing", "vendor_response"]

Reply = httpx.Response | Exception | str | int


def vendor_response(
    vendor: str,
    code: str | int,
    *,
    product: str | None = None,
    status_code: int | None = None,
    message: str | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
    registry: Registry | None = None,
) -> httpx.Response:
    """The JSON response ``vendor`` sends for ``code``, as the vendor sends it.

    A built-in vendor's answer has its documented shape and HTTP status: Twilio's
    ``{"code": 21211, "message": ..., "more_info": ..., "status": 400}`` with HTTP 400,
    Telnyx's ``{"errors": [{"code": "10002", "title": ..., "detail": ...}]}`` with HTTP 422, a
    Telnyx delivery error as its ``message.finalized`` webhook, Tencent's HTTP 200
    ``{"Response": {"Error": ...}}``. The code is written as the vendor writes it (Twilio's and
    MANGO's as JSON numbers, Telnyx's and UCPaaS's as strings). Any other vendor's code goes to
    its mapping's first ``envelope.code`` path (an integer segment makes a list), the text to its
    first message path, with HTTP 200 and the code's type kept. The text is the mapping's
    description unless ``message`` is given; ``status_code`` overrides the vendor's status and
    ``extra`` adds top-level fields.
    """
    reg = registry or default_registry()
    mapping = reg.get(vendor)
    reading = lookup(vendor, code, product=product, registry=reg)
    shape = _SHAPES.get((mapping.id, product)) or _SHAPES.get((mapping.id, None)) or _Shape()
    value = shape.written(code)
    text = message if message is not None else reading.message
    kind = _kind(reading)
    template = shape.template(kind, str(code))
    status = status_code if status_code is not None else shape.status(kind, reading, str(code))
    body: dict[str, Any] = dict(extra or {})
    if template is None:
        envelope = mapping.envelope_for(None if product is None else mapping.products[product])
        _put(body, envelope.code[0].segments, value)
        if envelope.message:
            _put(body, envelope.message[0].segments, text)
    else:
        slots = {_CODE: value, _MESSAGE: text, _TITLE: reading.message, _STATUS: status}
        body.update(_fill(template, slots, code))
    return httpx.Response(status, json=body, headers=headers)


_Kind = Literal["ok", "error", "report"]


def _kind(reading: Outcome) -> _Kind:
    if reading.delivery_outcome or reading.call_outcome:
        return "report"
    return "ok" if reading.ok else "error"


class _Slot:
    """A place in a body template: the code, the text, the title or the HTTP status."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"<{self.name}>"


_CODE, _MESSAGE, _TITLE, _STATUS = _Slot("code"), _Slot("message"), _Slot("title"), _Slot("status")


@dataclasses.dataclass(frozen=True, slots=True)
class _Link:
    """A string with the code in it (Twilio's ``more_info`` URL)."""

    text: str


@dataclasses.dataclass(frozen=True, slots=True)
class _Body:
    """One documented body: for answers of ``kind``, and (``codes``) codes matching a pattern."""

    kind: _Kind
    template: Mapping[str, Any]
    codes: str = ".*"


@dataclasses.dataclass(frozen=True, slots=True)
class _Shape:
    """How a vendor answers: its documented bodies and HTTP statuses, and how it writes codes.

    ``statuses`` gives an error's HTTP status by category (``"*"``: any other), ``codes`` by
    code where the vendor's differs from its category's; without them an answer is HTTP 200.
    ``numeric``: True, codes are JSON numbers; False, strings; None, as given.
    """

    source: str = ""
    bodies: tuple[_Body, ...] = ()
    statuses: Mapping[str, int] = dataclasses.field(default_factory=dict)
    codes: Mapping[str, int] = dataclasses.field(default_factory=dict)
    numeric: bool | None = None

    def written(self, code: str | int) -> str | int:
        if self.numeric is False:
            return str(code)
        if self.numeric and isinstance(code, str) and re.fullmatch(r"-?[1-9][0-9]*|0", code):
            return int(code)
        return code

    def template(self, kind: _Kind, code: str) -> Mapping[str, Any] | None:
        for body in self.bodies:
            if body.kind == kind and re.fullmatch(body.codes, code):
                return body.template
        return None

    def status(self, kind: _Kind, reading: Outcome, code: str) -> int:
        if kind != "error" or not self.statuses:
            return 200
        if code in self.codes:
            return self.codes[code]
        return self.statuses.get(reading.category.value, self.statuses["*"])


def _fill(template: object, slots: Mapping[_Slot, object], code: str | int) -> Any:
    """The template with its slots filled: a fresh copy, since templates are shared."""
    if isinstance(template, _Slot):
        return slots[template]
    if isinstance(template, _Link):
        return template.text.format(code=code)
    if isinstance(template, Mapping):
        return {key: _fill(value, slots, code) for key, value in template.items()}
    if isinstance(template, list):
        return [_fill(value, slots, code) for value in template]
    return template


def _put(doc: dict[str, Any], path: tuple[str, ...], value: object) -> None:
    """Set ``value`` at ``path``; an integer segment indexes a list (``errors.0.code``)."""
    node: Any = doc
    for key, following in itertools.pairwise(path):
        fresh: object = [] if following.isdigit() else {}
        node = _step(node, key, fresh)
    _set(node, path[-1], value)


def _step(node: Any, key: str, fresh: object) -> Any:
    if isinstance(node, list):
        index = int(key)
        while len(node) <= index:
            node.append(None)
        if node[index] is None:
            node[index] = fresh
        return node[index]
    return node.setdefault(key, fresh)


def _set(node: Any, key: str, value: object) -> None:
    if isinstance(node, list):
        _step(node, key, None)
        node[int(key)] = value
    else:
        node[key] = value


# What each built-in vendor sends, from its documentation (each entry names where). Vendors
# not listed here answer HTTP 200 with the envelope of their mapping.
_ERROR_STATUS = {"auth": 401, "not_found": 404, "busy": 429, "server": 500, "*": 400}
_SHAPES: dict[tuple[str, str | None], _Shape] = {
    ("twilio", None): _Shape(
        source="https://www.twilio.com/docs/usage/twilios-response (REST errors); "
        "https://www.twilio.com/docs/messaging/api/message-resource (error_code, error_message)",
        bodies=(
            _Body(
                "error",
                {
                    "code": _CODE,
                    "message": _MESSAGE,
                    "more_info": _Link("https://www.twilio.com/docs/errors/{code}"),
                    "status": _STATUS,
                },
            ),
            _Body(
                "report",
                {
                    "sid": "SM1f0e8ae6ade43cb3c0ce4525424e404f",
                    "status": "undelivered",
                    "error_code": _CODE,
                    "error_message": _MESSAGE,
                },
            ),
        ),
        statuses={**_ERROR_STATUS, "validation": 400},
        codes={"20403": 403},
        numeric=True,
    ),
    ("telnyx", None): _Shape(
        source="https://developers.telnyx.com/development/api-fundamentals/api-errors (code, "
        "title, detail); team-telnyx/telnyx-python (HTTP 422: UnprocessableEntityError); "
        "https://developers.telnyx.com/api-reference/callbacks/delivery-update (webhooks)",
        bodies=(
            _Body("error", {"errors": [{"code": _CODE, "title": _TITLE, "detail": _MESSAGE}]}),
            _Body(
                "report",
                {
                    "data": {
                        "event_type": "message.finalized",
                        "id": "4ee8c3a6-4995-4309-a3c6-38e3db9ea4be",
                        "occurred_at": "2019-12-09T21:32:14.148+00:00",
                        "payload": {
                            "record_type": "message",
                            "direction": "outbound",
                            "id": "40385f64-5717-4562-b3fc-2c963f66afa6",
                            "type": "SMS",
                            "to": [{"phone_number": "+18665550001", "status": "delivery_failed"}],
                            "errors": [{"code": _CODE, "title": _TITLE, "detail": _MESSAGE}],
                        },
                        "record_type": "event",
                    },
                    "meta": {"attempt": 1, "delivered_to": "https://example.com/webhooks"},
                },
            ),
        ),
        statuses={**_ERROR_STATUS, "validation": 422},
        codes={"10010": 403, "10015": 400},
        numeric=False,
    ),
    ("infobip", None): _Shape(
        source="infobip/infobip-api-java-client ApiErrorResponsesTest.java, "
        "ApiExceptionDetailsResolver.java (v2 requestError, v3 errorCode; HTTP status per code)",
        bodies=(
            _Body(
                "error",
                {"errorCode": _CODE, "description": _MESSAGE, "violations": [], "resources": []},
                codes=r"E[0-9]{3}",
            ),
            _Body(
                "error",
                {"requestError": {"serviceException": {"messageId": _CODE, "text": _MESSAGE}}},
            ),
        ),
        statuses={**_ERROR_STATUS, "validation": 400},
        codes={"FORBIDDEN": 403, "E403": 403, "E409": 409},
        numeric=False,
    ),
    ("vonage", "sms"): _Shape(
        source="Vonage/vonage-python-sdk sms/tests/data (HTTP 200, one status per message part)",
        bodies=(
            _Body(
                "error",
                {
                    "message-count": "1",
                    "messages": [{"to": "447700900000", "status": _CODE, "error-text": _MESSAGE}],
                },
            ),
            _Body(
                "ok",
                {
                    "message-count": "1",
                    "messages": [
                        {
                            "to": "447700900000",
                            "message-id": "0A0000000123ABCD1",
                            "status": _CODE,
                            "remaining-balance": "3.14159265",
                            "message-price": "0.03330000",
                            "network": "12345",
                        }
                    ],
                },
            ),
        ),
        numeric=False,
    ),
    ("tencent_sms", None): _Shape(
        source="https://cloud.tencent.com/document/api/382/52075 (HTTP 200, Response.Error)",
        bodies=(
            _Body(
                "error",
                {
                    "Response": {
                        "Error": {"Code": _CODE, "Message": _MESSAGE},
                        "RequestId": "ed93f3cb-f35e-473f-b9f3-0d451b8b79c6",
                    }
                },
            ),
        ),
        numeric=False,
    ),
    ("sinch", None): _Shape(
        source="https://developers.sinch.com/docs/sms/api-reference/status-codes (400 and 403 "
        "answer {code, text}; which code comes with which status, as listed there)",
        bodies=(_Body("error", {"code": _CODE, "text": _MESSAGE}),),
        statuses={**_ERROR_STATUS, "validation": 400},
        codes={"unknown_group": 403, "unknown_campaign": 403, "missing_callback_url": 403},
        numeric=False,
    ),
    ("clickatell", "platform"): _Shape(
        source="https://docs.clickatell.com/channels/one-api/one-api-errors-table/ (One API "
        "error {code, description}; 43 Rate limit with HTTP 400)",
        bodies=(_Body("error", {"error": {"code": _CODE, "description": _MESSAGE}}),),
        statuses={**_ERROR_STATUS, "validation": 400},
        codes={"43": 400},
        numeric=True,
    ),
    ("sms_ru", None): _Shape(
        source="https://sms.ru/api/send (json=1: status, status_code, status_text; HTTP 200)",
        bodies=(
            _Body("error", {"status": "ERROR", "status_code": _CODE, "status_text": _MESSAGE}),
            _Body("ok", {"status": "OK", "status_code": _CODE}),
        ),
        numeric=True,
    ),
    ("aliyun_sms", None): _Shape(
        source="https://help.aliyun.com/document_detail/101346.html (HTTP 200, Code/Message)",
        bodies=(
            _Body(
                "error",
                {
                    "Code": _CODE,
                    "Message": _MESSAGE,
                    "RequestId": "F655A8D5-B967-440B-8683-DAD6FF8DE990",
                },
            ),
        ),
        numeric=False,
    ),
    ("mango", None): _Shape(source="MangoOffice_VPBX_API_v1.9 (result: a number)", numeric=True),
    ("airudder", None): _Shape(
        source="https://api-docs.airudder.com (code: a number)", numeric=True
    ),
    ("onbuka", None): _Shape(
        source="https://www.onbuka.com/sms-api3 (status: a string)", numeric=False
    ),
    ("huawei_isales", None): _Shape(
        source="https://support.huaweicloud.com/api-cec/ (resultCode: a string)", numeric=False
    ),
    ("ucpaas", None): _Shape(
        source="http://docs.ucpaas.com/doku.php?id=rest_error (respCode: a string)", numeric=False
    ),
    ("yuntongxun", None): _Shape(
        source="容联云通讯 REST API (statusCode: a string, HTTP 200)", numeric=False
    ),
}


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
