"""A vendor played by an ``aiohttp.web`` server on 127.0.0.1, for the tests of
``normalizer.aiohttp`` and of the SDKs on aiohttp: no network.

The sessions it makes resolve every host name to the server (a resolver of their own), so a
request keeps the vendor's real URL (``http://api.twilio.com/...``), which the mappings detect,
route and redact as they would the vendor's own; ``refuse=n`` sends the first ``n``
connections to a closed port instead: a connection refused, for real.
"""

from __future__ import annotations

import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
DROP = "drop"
"""An answer: the connection closed once the request has arrived, no response."""


@dataclass
class Seen:
    method: str
    path_qs: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Reply:
    """A response as bytes: status, body, headers (a JSON body: :func:`json_reply`)."""

    status: int
    body: bytes = b""
    headers: dict[str, str] | None = None


def json_reply(status: int, body: Any) -> Reply:
    import json

    return Reply(status, json.dumps(body).encode(), {"Content-Type": "application/json"})


Answer = Reply | Handler | str | tuple[int, Any]


class LocalVendor:
    """Answers each request with the next of ``answers`` (the last one repeated): a
    :class:`Reply`, ``(status, json)``, :data:`DROP`, or a handler of its own."""

    def __init__(self, *answers: Answer) -> None:
        self.answers: list[Answer] = list(answers)
        self.requests: list[Seen] = []
        self.connections = 0
        self.port = 0
        self._runner: web.AppRunner | None = None

    async def __aenter__(self) -> LocalVendor:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._runner is not None
        await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        self.requests.append(Seen(request.method, request.path_qs, dict(request.headers), body))
        answer = self.answers[min(len(self.requests), len(self.answers)) - 1]
        if answer == DROP:
            assert request.transport is not None
            request.transport.close()  # the request arrived; its answer never leaves
            return web.Response()
        if isinstance(answer, tuple):
            answer = json_reply(*answer)
        if isinstance(answer, Reply):
            return web.Response(status=answer.status, body=answer.body, headers=answer.headers)
        assert callable(answer)
        return await answer(request)

    def session(
        self, *middlewares: Any, refuse: int = 0, limit: int = 100, **kwargs: Any
    ) -> aiohttp.ClientSession:
        """A session whose every host is this server (the first ``refuse`` connections
        refused), with ``middlewares``."""
        connector = aiohttp.TCPConnector(
            resolver=ToLocal(self, refuse), use_dns_cache=False, limit=limit
        )
        return aiohttp.ClientSession(connector=connector, middlewares=middlewares, **kwargs)


class ToLocal(AbstractResolver):
    """Resolves every name to the local vendor (to a closed port for the first ``refuse``)."""

    def __init__(self, vendor: LocalVendor, refuse: int) -> None:
        self.vendor = vendor
        self.refuse = refuse

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        self.vendor.connections += 1
        target = self.vendor.port
        if self.refuse > 0:
            self.refuse -= 1
            target = closed_port()
        return [
            {
                "hostname": host,
                "host": "127.0.0.1",
                "port": target,
                "family": socket.AF_INET,
                "proto": 0,
                "flags": socket.AI_NUMERICHOST,
            }
        ]

    async def close(self) -> None:
        return None


def closed_port() -> int:
    """A port on 127.0.0.1 nothing listens on (a connection there is refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port
