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

from typing import Any, Generic, NamedTuple, TypeVar, Unpack

import httpx

from ._body import asettle, settle
from ._call import Close, Effect, Read, Send, Sleep, Steps, Stopped, vendor_call
from ._exceptions import PartialFailure, VendorError
from ._options import Options, OptionsKwargs
from ._outcome import ATTEMPTS_KEY, REDACTOR_KEY, extensions_of, outcome_of
from ._pipeline import Pipeline
from ._redact import Redactor
from ._retry import async_sleeper, sleeper
from ._store import AsyncStore, Query, Store

_T = TypeVar("_T", httpx.BaseTransport, httpx.AsyncBaseTransport)
_R = TypeVar("_R")


class _Wrapping(Generic[_T]):
    """What both transports are made of: the transport they wrap, and the stages built once
    from their options (:class:`Pipeline`)."""

    _asynchronous = False

    def __init__(
        self,
        vendor: str | None = None,
        *,
        transport: _T | None = None,
        options: Options | None = None,
        **kwargs: Unpack[OptionsKwargs],
    ) -> None:
        self._transport: _T = transport if transport is not None else self._default_transport()
        options = Options.of(options, kwargs)
        self._pipeline = Pipeline(vendor, options, asynchronous=self._asynchronous)

    def _default_transport(self) -> _T:
        raise NotImplementedError

    @property
    def options(self) -> Options:
        return self._pipeline.options

    @property
    def transport(self) -> _T:
        """The transport this one wraps."""
        return self._transport


class NormalizingTransport(_Wrapping[httpx.BaseTransport], httpx.BaseTransport):
    """Wraps any :class:`httpx.BaseTransport` and attaches an :class:`Outcome` to responses.

    ``vendor`` fixes the vendor; without it each request's vendor is found from the mappings'
    selectors (``request.extensions["normalizer"]["vendor"]`` overrides either). Responses from
    hosts no mapping claims pass through with no outcome. ``options`` (an :class:`Options`) or
    its keyword arguments (``retry=``, ``raise_on_error=``, ``circuit=``, ``state=``,
    ``logger=``, ``on_outcome=``, ...) say how calls are retried, limited and observed.
    """

    def _default_transport(self) -> httpx.BaseTransport:
        return httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """One request: a vendor's is driven through :func:`vendor_call`, in its span."""
        pipeline = self._pipeline
        route = None if request in _SENDING else pipeline.router.route(request)
        if route is None:  # no vendor's; or an outer normalizing transport has this call
            return self._transport.handle_request(request)
        telemetry = pipeline.listening()
        if telemetry is None:  # the usual case: nothing set up to report to
            return self._drive(vendor_call(pipeline, request, route, None))
        span = pipeline.span(route, telemetry)
        if span is None:
            return self._drive(vendor_call(pipeline, request, route, telemetry))
        with span:  # the call's span, current while its attempts run
            return self._drive(vendor_call(pipeline, request, route, telemetry))

    def _drive(self, steps: Steps) -> httpx.Response:
        """Perform each effect the call yields and send it the result (or throw the error)."""
        pipeline = self._pipeline
        store = pipeline.store
        assert isinstance(store, Store)
        reply: Any = None
        while True:
            effect = _next(steps, reply)
            if isinstance(effect, httpx.Response):
                return effect
            try:
                if isinstance(effect, Query):
                    reply = store.ask(effect)
                elif isinstance(effect, Send):
                    request = effect.request
                    _SENDING.add(request)  # an inner normalizing transport passes it on
                    try:
                        reply = self._transport.handle_request(request)
                    finally:
                        _SENDING.discard(request)
                elif isinstance(effect, Read):
                    response, plan, xml, deadline, declared = effect
                    reply = pipeline.body.read(response, plan, xml, deadline.expired, declared)
                elif isinstance(effect, Sleep):
                    assert pipeline.policy is not None  # only a retry policy sleeps
                    sleeper(pipeline.policy)(effect.seconds)
                    reply = None
                else:
                    assert isinstance(effect, Close)
                    settle(effect.response)
                    reply = None
            except BaseException as exc:  # the call decides what an error means
                reply = _Thrown(exc)

    def __enter__(self) -> NormalizingTransport:
        self._transport.__enter__()  # as httpx's client does for its transports
        return self

    def __exit__(self, *exc: Any) -> None:
        self._transport.__exit__(*exc)

    def close(self) -> None:
        self._transport.close()


class AsyncNormalizingTransport(_Wrapping[httpx.AsyncBaseTransport], httpx.AsyncBaseTransport):
    """The async twin of :class:`NormalizingTransport`, wrapping an ``AsyncBaseTransport``.

    ``state`` is a :class:`LocalState` or an async store (``normalizer.redis.AsyncRedisState``).
    """

    _asynchronous = True

    def _default_transport(self) -> httpx.AsyncBaseTransport:
        return httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """One request: a vendor's is driven through :func:`vendor_call`, in its span."""
        pipeline = self._pipeline
        route = None if request in _SENDING else pipeline.router.route(request)
        if route is None:  # no vendor's; or an outer normalizing transport has this call
            return await self._transport.handle_async_request(request)
        telemetry = pipeline.listening()
        if telemetry is None:
            return await self._drive(vendor_call(pipeline, request, route, None))
        span = pipeline.span(route, telemetry)
        if span is None:
            return await self._drive(vendor_call(pipeline, request, route, telemetry))
        with span:  # current across the awaits: OpenTelemetry's context is a context variable
            return await self._drive(vendor_call(pipeline, request, route, telemetry))

    async def _drive(self, steps: Steps) -> httpx.Response:
        """The async twin of :meth:`NormalizingTransport._drive`."""
        pipeline = self._pipeline
        store = pipeline.store
        assert isinstance(store, AsyncStore)
        reply: Any = None
        while True:
            effect = _next(steps, reply)
            if isinstance(effect, httpx.Response):
                return effect
            try:
                if isinstance(effect, Query):
                    reply = await store.ask(effect)
                elif isinstance(effect, Send):
                    request = effect.request
                    _SENDING.add(request)
                    try:
                        reply = await self._transport.handle_async_request(request)
                    finally:
                        _SENDING.discard(request)
                elif isinstance(effect, Read):
                    response, plan, xml, deadline, declared = effect
                    reply = await pipeline.body.aread(
                        response, plan, xml, deadline.expired, declared
                    )
                elif isinstance(effect, Sleep):
                    assert pipeline.policy is not None
                    await async_sleeper(pipeline.policy)(effect.seconds)
                    reply = None
                else:
                    assert isinstance(effect, Close)
                    await asettle(effect.response)
                    reply = None
            except BaseException as exc:
                reply = _Thrown(exc)

    async def __aenter__(self) -> AsyncNormalizingTransport:
        await self._transport.__aenter__()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self._transport.__aexit__(*exc)

    async def aclose(self) -> None:
        await self._transport.aclose()


class _Thrown(NamedTuple):
    """An effect's error, to throw into the call (a ``StopIteration``, from a user's mock
    transport out of replies, as :class:`Stopped`: thrown in as it is, Python would turn it
    into a ``RuntimeError``)."""

    error: BaseException


def _next(steps: Steps, reply: Any) -> Effect | httpx.Response:
    """The call's next effect, given what the last one gave (or raised); its response when it
    is over. A ``StopIteration`` that went in as :class:`Stopped` comes out as itself."""
    try:
        if type(reply) is _Thrown:
            error = reply.error
            return steps.throw(Stopped(error) if isinstance(error, StopIteration) else error)
        return steps.send(reply)
    except StopIteration as done:
        response: httpx.Response = done.value
        return response
    except Stopped as stopped:
        raise stopped.error from None


_SENDING: set[httpx.Request] = set()
"""The requests an outer normalizing transport is sending now: an inner one passes them on.

A transport can end up wrapped twice (respx's ``using="httpx"`` mocker puts its own transport,
falling back to the client's, in front; a user may wrap a wrapped one): the call is classified,
retried and logged once, by the outermost. The request itself is the mark, not a context
variable (setting one costs an allocation a send) nor a request extension: httpx copies
extensions onto redirect requests, which are new requests and new calls; so is any other
request an inner transport makes of its own. One request object sent by two threads at once
would be passed on by the second: httpx never does that, each send builds its own."""


def raise_for_outcome(response: _R, *, partial: bool = False) -> _R:
    """Raise the :class:`VendorError` subclass for a non-ok outcome; else return ``response``.

    A response without an outcome (not from a vendor) is returned as it is. A partial result
    of a batch (some items went out) is ok: with ``partial=True`` it raises
    :class:`PartialFailure`, carrying the failed items. The message is masked with the
    redactor of the call that made ``response`` (the client's, extended with the vendor's
    ``[redact]``), as its log lines were. ``response`` is an httpx response, or a
    ``requests.Response`` from :class:`normalizer.requests.NormalizingAdapter` (the error then
    carries it, and its ``PreparedRequest`` as ``request``).
    """
    outcome = outcome_of(response)
    if outcome is None or (outcome.ok and not (partial and outcome.partial)):
        return response
    try:
        request: Any = getattr(response, "request", None)
    except RuntimeError:  # an httpx response built without one
        request = None
    kind = PartialFailure if outcome.ok else VendorError.for_outcome(outcome)
    extensions = extensions_of(response)
    redactor = extensions.get(REDACTOR_KEY)
    answer: Any = response  # an httpx or a requests response
    raise kind(
        outcome,
        request=request,
        response=answer,
        attempts=extensions.get(ATTEMPTS_KEY, 1),
        redactor=redactor if isinstance(redactor, Redactor) else None,
    )
