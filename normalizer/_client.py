"""Drop-in ``httpx.Client`` and ``httpx.AsyncClient`` whose every transport normalizes.

They are real subclasses: base_url, auth, timeouts, event hooks, proxies and mounts behave as
in httpx. The normalizing transport wraps whatever transport httpx would have used (the
default connection pool, each proxy or mount, or the ``transport=`` you give), so every route
out of the client is classified, including environment proxies.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

import httpx

from ._body import CHALLENGE_KEY, STREAMED_KEY, asettle, settle
from ._exceptions import VendorError
from ._options import OPTION_NAMES, Options, OptionsKwargs
from ._store import LocalState
from ._transports import AsyncNormalizingTransport, NormalizingTransport, raise_for_outcome

if TYPE_CHECKING:  # httpx's own names for send()'s parameters, not exported
    from httpx._client import UseClientDefault
    from httpx._types import AuthTypes


def _client_options(options: Options | None, kwargs: dict[str, Any]) -> Options:
    """The client's options (taking its keyword arguments out of ``kwargs``), with one store
    for the whole client, whichever route (pool, proxy, mount) a request takes."""
    mine = cast(OptionsKwargs, {k: kwargs.pop(k) for k in OPTION_NAMES if k in kwargs})
    built = Options.of(options, mine)
    if built.state is not None:
        return built
    retry = built.retry
    store = LocalState(time.monotonic if retry is None else retry.clock)
    return dataclasses.replace(built, state=store)


def _mark(
    request: httpx.Request, streamed: bool, auth: object, client_auth: httpx.Auth | None
) -> dict[str, Any] | None:
    """Tell the transports what only send() knows: the caller streams the body, or an auth
    flow may answer a challenge (its 401 is a hop, not a failure to log). Returns the
    request's own extensions, to put back when send() is done; None when nothing was marked
    (the usual send: no stream, no challenge-answering auth)."""
    if auth is httpx.USE_CLIENT_DEFAULT:
        auth = client_auth
    flow = (
        auth is not None
        and isinstance(auth, httpx.Auth)
        and type(auth) is not httpx.Auth
        and not isinstance(auth, _ONE_LEG)
    )
    if not (flow or streamed):
        return None
    plain = request.extensions
    marks = {STREAMED_KEY: True} if streamed else {}
    if flow:
        marks[CHALLENGE_KEY] = True
    request.extensions = {**plain, **marks}
    return plain


_DEFAULT = httpx.USE_CLIENT_DEFAULT

# auth that sends credentials once and never answers a challenge
_ONE_LEG: tuple[type[httpx.Auth], ...] = (httpx.BasicAuth,)
try:
    from httpx._auth import FunctionAuth

    _ONE_LEG += (FunctionAuth,)
except ImportError:  # pragma: no cover - httpx moved it: every custom auth counts as a flow
    pass


class _Setup:
    """A client's normalizer settings: its options, and those its transports get (which never
    raise: the client raises in ``send``, after httpx's redirects and auth)."""

    __slots__ = ("options", "transports", "vendor")

    def __init__(self, vendor: str | None, options: Options) -> None:
        self.vendor = vendor
        self.options = options
        self.transports = dataclasses.replace(options, raise_on_error=False)


class Client(httpx.Client):
    """An ``httpx.Client`` that classifies vendor responses (see :class:`NormalizingTransport`).

    ``vendor``, ``options`` and the keyword arguments of :class:`Options` (``retry=``,
    ``raise_on_error=``, ``state=``, ...) are normalizer's; everything else is httpx's.
    ``transport=`` is the inner transport to wrap, e.g. ``httpx.MockTransport(handler)``.
    """

    def __init__(
        self,
        vendor: str | None = None,
        *,
        options: Options | None = None,
        mounts: Mapping[str, httpx.BaseTransport | None] | None = None,
        **kwargs: Any,
    ) -> None:
        self._normalizer = _Setup(vendor, _client_options(options, kwargs))
        if mounts is not None:
            mounts = {k: None if t is None else self._normalize(t) for k, t in mounts.items()}
        super().__init__(mounts=mounts, **kwargs)

    @property
    def normalizer_options(self) -> Options:
        """normalizer's options (``options`` is httpx's OPTIONS request)."""
        return self._normalizer.options

    def send(
        self,
        request: httpx.Request,
        *,
        stream: bool = False,
        auth: AuthTypes | UseClientDefault | None = _DEFAULT,
        follow_redirects: bool | UseClientDefault = _DEFAULT,
    ) -> httpx.Response:
        """httpx's send; with ``raise_on_error`` the final outcome raises here, once httpx has
        followed redirects and answered auth challenges (their hops are not failures).

        httpx's own parameters, spelled out: passing ``**kwargs`` on costs a dict built and
        unpacked again, 0.2 us a send."""
        plain = _mark(request, stream, auth, self.auth)
        try:
            response = super().send(
                request, stream=stream, auth=auth, follow_redirects=follow_redirects
            )
        finally:
            if plain is not None:  # a later send of the same request starts unmarked
                request.extensions = plain
        if self._normalizer.options.raise_on_error:
            try:
                raise_for_outcome(response)
            except VendorError:
                settle(response)
                raise
        return response

    def _normalize(self, transport: httpx.BaseTransport) -> httpx.BaseTransport:
        if isinstance(transport, NormalizingTransport):
            return transport
        setup = self._normalizer
        return NormalizingTransport(setup.vendor, transport=transport, options=setup.transports)

    def _transport_for_url(self, url: httpx.URL) -> httpx.BaseTransport:
        # respx's using="httpx" mocker (and the like) answers with a transport of its own here
        transport = super()._transport_for_url(url)
        if type(transport) is NormalizingTransport:  # the usual case, at once
            return transport
        return self._normalize(transport)

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
        options: Options | None = None,
        mounts: Mapping[str, httpx.AsyncBaseTransport | None] | None = None,
        **kwargs: Any,
    ) -> None:
        self._normalizer = _Setup(vendor, _client_options(options, kwargs))
        if mounts is not None:
            mounts = {k: None if t is None else self._normalize(t) for k, t in mounts.items()}
        super().__init__(mounts=mounts, **kwargs)

    @property
    def normalizer_options(self) -> Options:
        """normalizer's options (``options`` is httpx's OPTIONS request)."""
        return self._normalizer.options

    async def send(
        self,
        request: httpx.Request,
        *,
        stream: bool = False,
        auth: AuthTypes | UseClientDefault | None = _DEFAULT,
        follow_redirects: bool | UseClientDefault = _DEFAULT,
    ) -> httpx.Response:
        """The async twin of :meth:`Client.send`."""
        plain = _mark(request, stream, auth, self.auth)
        try:
            response = await super().send(
                request, stream=stream, auth=auth, follow_redirects=follow_redirects
            )
        finally:
            if plain is not None:
                request.extensions = plain
        if self._normalizer.options.raise_on_error:
            try:
                raise_for_outcome(response)
            except VendorError:
                await asettle(response)
                raise
        return response

    def _normalize(self, transport: httpx.AsyncBaseTransport) -> httpx.AsyncBaseTransport:
        if isinstance(transport, AsyncNormalizingTransport):
            return transport
        setup = self._normalizer
        return AsyncNormalizingTransport(
            setup.vendor, transport=transport, options=setup.transports
        )

    def _transport_for_url(self, url: httpx.URL) -> httpx.AsyncBaseTransport:
        transport = super()._transport_for_url(url)
        if type(transport) is AsyncNormalizingTransport:
            return transport
        return self._normalize(transport)

    def _init_transport(self, *args: Any, **kwargs: Any) -> httpx.AsyncBaseTransport:
        return self._normalize(super()._init_transport(*args, **kwargs))

    def _init_proxy_transport(self, *args: Any, **kwargs: Any) -> httpx.AsyncBaseTransport:
        return self._normalize(super()._init_proxy_transport(*args, **kwargs))
