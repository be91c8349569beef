"""Drop-in ``httpx.Client`` and ``httpx.AsyncClient`` whose every transport normalizes.

They are real subclasses: base_url, auth, timeouts, event hooks, proxies and mounts behave as
in httpx. The normalizing transport wraps whatever transport httpx would have used (the
default connection pool, each proxy or mount, or the ``transport=`` you give), so every route
out of the client is classified, including environment proxies.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import httpx

from ._inspect import DEFAULT_MAX_BODY_SIZE
from ._logging import OnOutcome
from ._redact import Redactor
from ._registry import Registry
from ._retry import RetryPolicy
from ._state import AsyncState, CircuitBreaker, LocalState, State
from ._transports import DEFAULT_RETRY, AsyncNormalizingTransport, NormalizingTransport


class _Wrapping:
    """What a client needs to wrap each transport httpx builds for it.

    Shared by both clients: the normalizer options, and one state (retry budgets, circuits,
    cooldowns) for the whole client, whichever route (pool, proxy, mount) a request takes.
    """

    def __init__(self, vendor: str | None, options: dict[str, Any]) -> None:
        self.vendor = vendor
        if options["state"] is None:
            retry = options["retry"]
            options["state"] = LocalState(time.monotonic if retry is None else retry.clock)
        self.options = options

    def wrap(self, transport: Any, kind: type[Any]) -> Any:
        if isinstance(transport, kind):
            return transport
        return kind(self.vendor, transport=transport, **self.options)

    def wrap_mounts(self, mounts: Mapping[str, Any] | None, kind: type[Any]) -> Any:
        if mounts is None:
            return None
        return {k: None if t is None else self.wrap(t, kind) for k, t in mounts.items()}


class Client(httpx.Client):
    """An ``httpx.Client`` that classifies vendor responses (see :class:`NormalizingTransport`).

    ``transport=`` is the inner transport to wrap, e.g. ``httpx.MockTransport(handler)``.
    """

    def __init__(
        self,
        vendor: str | None = None,
        *,
        retry: RetryPolicy | None = DEFAULT_RETRY,
        registry: Registry | None = None,
        max_body_size: int = DEFAULT_MAX_BODY_SIZE,
        raise_on_error: bool = False,
        logger: Any = None,
        on_outcome: OnOutcome | None = None,
        redactor: Redactor | None = None,
        log_bodies: bool = False,
        circuit: CircuitBreaker | None = None,
        state: State | None = None,
        mounts: Mapping[str, httpx.BaseTransport | None] | None = None,
        **kwargs: Any,
    ) -> None:
        self._normalizer = _Wrapping(
            vendor,
            {
                "retry": retry,
                "registry": registry,
                "max_body_size": max_body_size,
                "raise_on_error": raise_on_error,
                "logger": logger,
                "on_outcome": on_outcome,
                "redactor": redactor,
                "log_bodies": log_bodies,
                "circuit": circuit,
                "state": state,
            },
        )
        mounts = self._normalizer.wrap_mounts(mounts, NormalizingTransport)
        super().__init__(mounts=mounts, **kwargs)

    def _normalize(self, transport: httpx.BaseTransport) -> httpx.BaseTransport:
        wrapped: httpx.BaseTransport = self._normalizer.wrap(transport, NormalizingTransport)
        return wrapped

    # httpx builds its default pool and proxy transports through these two hooks
    def _init_transport(self, *args: Any, **kwargs: Any) -> httpx.BaseTransport:
        return self._normalize(super()._init_transport(*args, **kwargs))

    def _init_proxy_transport(self, *args: Any, **kwargs: Any) -> httpx.BaseTransport:
        return self._normalize(super()._init_proxy_transport(*args, **kwargs))


class AsyncClient(httpx.AsyncClient):
    """The async twin of :class:`Client`."""

    def __init__(
        self,
        vendor: str | None = None,
        *,
        retry: RetryPolicy | None = DEFAULT_RETRY,
        registry: Registry | None = None,
        max_body_size: int = DEFAULT_MAX_BODY_SIZE,
        raise_on_error: bool = False,
        logger: Any = None,
        on_outcome: OnOutcome | None = None,
        redactor: Redactor | None = None,
        log_bodies: bool = False,
        circuit: CircuitBreaker | None = None,
        state: LocalState | AsyncState | None = None,
        mounts: Mapping[str, httpx.AsyncBaseTransport | None] | None = None,
        **kwargs: Any,
    ) -> None:
        self._normalizer = _Wrapping(
            vendor,
            {
                "retry": retry,
                "registry": registry,
                "max_body_size": max_body_size,
                "raise_on_error": raise_on_error,
                "logger": logger,
                "on_outcome": on_outcome,
                "redactor": redactor,
                "log_bodies": log_bodies,
                "circuit": circuit,
                "state": state,
            },
        )
        mounts = self._normalizer.wrap_mounts(mounts, AsyncNormalizingTransport)
        super().__init__(mounts=mounts, **kwargs)

    def _normalize(self, transport: httpx.AsyncBaseTransport) -> httpx.AsyncBaseTransport:
        wrapped: httpx.AsyncBaseTransport = self._normalizer.wrap(
            transport, AsyncNormalizingTransport
        )
        return wrapped

    def _init_transport(self, *args: Any, **kwargs: Any) -> httpx.AsyncBaseTransport:
        return self._normalize(super()._init_transport(*args, **kwargs))

    def _init_proxy_transport(self, *args: Any, **kwargs: Any) -> httpx.AsyncBaseTransport:
        return self._normalize(super()._init_proxy_transport(*args, **kwargs))
