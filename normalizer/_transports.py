"""httpx transports that classify every vendor response on its way to the caller.

:class:`NormalizingTransport` and :class:`AsyncNormalizingTransport` are parallel types, as
httpx's own transports are, and thin: each routes a request, then *drives* the one vendor call
of :func:`normalizer._call.vendor_call` (route, admit, send, read, classify, record, decide,
wait, report), performing the effects it yields: sending through the wrapped transport,
reading the body, asking the store, sleeping. Those few lines of I/O are all that differs
between them.

The caller gets the response the vendor sent, byte for byte (see :mod:`normalizer._body`).
"""

from __future__ import annotations

import contextvars
from typing import Any, Unpack

import httpx

from ._body import asettle, settle
from ._call import Ask, Close, Effect, Read, Send, Sleep, Steps, Stopped, vendor_call
from ._exceptions import PartialFailure, VendorError
from ._options import Options, OptionsKwargs
from ._outcome import ATTEMPTS_KEY, REDACTOR_KEY, outcome_of
from ._pipeline import Pipeline
from ._redact import Redactor
from ._retry import async_sleeper, sleeper
from ._store import AsyncStore, Store


class NormalizingTransport(httpx.BaseTransport):
    """Wraps any :class:`httpx.BaseTransport` and attaches an :class:`Outcome` to responses.

    ``vendor`` fixes the vendor; without it each request's vendor is found from the mappings'
    selectors (``request.extensions["normalizer"]["vendor"]`` overrides either). Responses from
    hosts no mapping claims pass through with no outcome. ``options`` (an :class:`Options`) or
    its keyword arguments (``retry=``, ``raise_on_error=``, ``circuit=``, ``state=``,
    ``logger=``, ``on_outcome=``, ...) say how calls are retried, limited and observed.
    """

    def __init__(
        self,
        vendor: str | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
        options: Options | None = None,
        **kwargs: Unpack[OptionsKwargs],
    ) -> None:
        self._transport = transport if transport is not None else httpx.HTTPTransport()
        self._pipeline = Pipeline(vendor, Options.of(options, kwargs), asynchronous=False)

    @property
    def options(self) -> Options:
        return self._pipeline.options

    @property
    def transport(self) -> httpx.BaseTransport:
        """The transport this one wraps."""
        return self._transport

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """One request: a vendor's is driven through :func:`vendor_call`, in its span."""
        pipeline = self._pipeline
        route = None if _NESTED.get() else pipeline.router.route(request)
        if route is None:  # no vendor's; or an outer normalizing transport has this call
            return self._transport.handle_request(request)
        span = pipeline.span(route)
        if span is None:
            return self._drive(vendor_call(pipeline, request, route))
        with span:  # the call's span, current while its attempts run
            return self._drive(vendor_call(pipeline, request, route))

    def _drive(self, steps: Steps) -> httpx.Response:
        """Perform each effect the call yields and send it the result (or throw the error)."""
        pipeline = self._pipeline
        store = pipeline.store
        assert isinstance(store, Store)
        sleep = sleeper(pipeline.policy) if pipeline.policy is not None else None
        reply: Any = None
        error: BaseException | None = None
        while True:
            effect = _next(steps, reply, error)
            if isinstance(effect, httpx.Response):
                return effect
            reply = error = None
            try:
                if isinstance(effect, Ask):
                    reply = store.ask(effect.question)
                elif isinstance(effect, Send):
                    token = _NESTED.set(True)  # an inner normalizing transport passes it on
                    try:
                        reply = self._transport.handle_request(effect.request)
                    finally:
                        _NESTED.reset(token)
                elif isinstance(effect, Read):
                    response, plan, xml, deadline, declared = effect
                    reply = pipeline.body.read(response, plan, xml, deadline.expired, declared)
                elif isinstance(effect, Sleep):
                    assert sleep is not None
                    sleep(effect.seconds)
                else:
                    assert isinstance(effect, Close)
                    settle(effect.response)
            except StopIteration as exc:
                error = Stopped(exc)
            except BaseException as exc:  # the call decides what an error means
                error = exc

    def __enter__(self) -> NormalizingTransport:
        self._transport.__enter__()  # as httpx's client does for its transports
        return self

    def __exit__(self, *exc: Any) -> None:
        self._transport.__exit__(*exc)

    def close(self) -> None:
        self._transport.close()


class AsyncNormalizingTransport(httpx.AsyncBaseTransport):
    """The async twin of :class:`NormalizingTransport`, wrapping an ``AsyncBaseTransport``.

    ``state`` is a :class:`LocalState` or an async store (``normalizer.redis.AsyncRedisState``).
    """

    def __init__(
        self,
        vendor: str | None = None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        options: Options | None = None,
        **kwargs: Unpack[OptionsKwargs],
    ) -> None:
        self._transport = transport if transport is not None else httpx.AsyncHTTPTransport()
        self._pipeline = Pipeline(vendor, Options.of(options, kwargs), asynchronous=True)

    @property
    def options(self) -> Options:
        return self._pipeline.options

    @property
    def transport(self) -> httpx.AsyncBaseTransport:
        """The transport this one wraps."""
        return self._transport

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """One request: a vendor's is driven through :func:`vendor_call`, in its span."""
        pipeline = self._pipeline
        route = None if _NESTED.get() else pipeline.router.route(request)
        if route is None:  # no vendor's; or an outer normalizing transport has this call
            return await self._transport.handle_async_request(request)
        span = pipeline.span(route)
        if span is None:
            return await self._drive(vendor_call(pipeline, request, route))
        with span:  # current across the awaits: OpenTelemetry's context is a context variable
            return await self._drive(vendor_call(pipeline, request, route))

    async def _drive(self, steps: Steps) -> httpx.Response:
        """The async twin of :meth:`NormalizingTransport._drive`."""
        pipeline = self._pipeline
        store = pipeline.store
        assert isinstance(store, AsyncStore)
        sleep = async_sleeper(pipeline.policy) if pipeline.policy is not None else None
        reply: Any = None
        error: BaseException | None = None
        while True:
            effect = _next(steps, reply, error)
            if isinstance(effect, httpx.Response):
                return effect
            reply = error = None
            try:
                if isinstance(effect, Ask):
                    reply = await store.ask(effect.question)
                elif isinstance(effect, Send):
                    token = _NESTED.set(True)
                    try:
                        reply = await self._transport.handle_async_request(effect.request)
                    finally:
                        _NESTED.reset(token)
                elif isinstance(effect, Read):
                    response, plan, xml, deadline, declared = effect
                    reply = await pipeline.body.aread(
                        response, plan, xml, deadline.expired, declared
                    )
                elif isinstance(effect, Sleep):
                    assert sleep is not None
                    await sleep(effect.seconds)
                else:
                    assert isinstance(effect, Close)
                    await asettle(effect.response)
            except StopIteration as exc:
                error = Stopped(exc)
            except BaseException as exc:
                error = exc

    async def __aenter__(self) -> AsyncNormalizingTransport:
        await self._transport.__aenter__()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self._transport.__aexit__(*exc)

    async def aclose(self) -> None:
        await self._transport.aclose()


def _next(steps: Steps, reply: Any, error: BaseException | None) -> Effect | httpx.Response:
    """The call's next effect, given what the last one gave (or raised); its response when it
    is over. An effect's ``StopIteration`` went in as :class:`Stopped`: it comes out as itself."""
    try:
        return steps.send(reply) if error is None else steps.throw(error)
    except StopIteration as done:
        response: httpx.Response = done.value
        return response
    except Stopped as stopped:
        raise stopped.error from None


_NESTED: contextvars.ContextVar[bool] = contextvars.ContextVar("normalizer_nested", default=False)
"""True while an outer normalizing transport sends a call: an inner one passes it through.

A transport can end up wrapped twice (respx's ``using="httpx"`` mocker puts its own transport,
falling back to the client's, in front; a user may wrap a wrapped one): the call is classified,
retried and logged once, by the outermost. A context variable, not a request extension:
httpx copies extensions onto redirect requests, which are new calls."""


def raise_for_outcome(response: httpx.Response, *, partial: bool = False) -> httpx.Response:
    """Raise the :class:`VendorError` subclass for a non-ok outcome; else return ``response``.

    A response without an outcome (not from a vendor) is returned as it is. A partial result
    of a batch (some items went out) is ok: with ``partial=True`` it raises
    :class:`PartialFailure`, carrying the failed items. The message is masked with the
    redactor of the call that made ``response`` (the client's, extended with the vendor's
    ``[redact]``), as its log lines were.
    """
    outcome = outcome_of(response)
    if outcome is None or (outcome.ok and not (partial and outcome.partial)):
        return response
    try:
        request: httpx.Request | None = response.request
    except RuntimeError:
        request = None
    kind = PartialFailure if outcome.ok else VendorError.for_outcome(outcome)
    redactor = response.extensions.get(REDACTOR_KEY)
    raise kind(
        outcome,
        request=request,
        response=response,
        attempts=response.extensions.get(ATTEMPTS_KEY, 1),
        redactor=redactor if isinstance(redactor, Redactor) else None,
    )
