"""httpx transports that classify every vendor response on its way to the caller.

:class:`NormalizingTransport` and :class:`AsyncNormalizingTransport` are parallel types, as
httpx's own transports are: the same :class:`Options`, the same stages wired once by a
:class:`~normalizer._pipeline.Pipeline`; one awaits where the other does not. One request
meets each stage once, in order::

    route ──> admit ──> send ──> read ──> classify ──> decide ─┬─> settle ──> log
    (vendor,  (circuit,  (the      (the body   (the vendor's   │   (raise if
     product)  cooldown)  wrapped   worth       code, items)   │    asked; metrics
                          transport) reading)                  │    hook)
                          ^                                    │
                          └──── wait <── pay (budget, circuit, cooldown) <── retry

The caller gets the response the vendor sent, byte for byte (see :mod:`normalizer._body`).
"""

from __future__ import annotations

import contextvars
import math
from typing import Any, Unpack

import httpx
import tenacity

from ._body import Framing, Plan, asettle, settle
from ._exceptions import PartialFailure, VendorError
from ._exchange import Exchange
from ._options import Options, OptionsKwargs
from ._outcome import ATTEMPTS_KEY, REDACTOR_KEY, outcome_of
from ._pipeline import Pipeline
from ._redact import Redactor
from ._retry import Decision, async_sleeper, sleeper
from ._router import Route
from ._store import AsyncStore, Signal, Store
from ._telemetry import decided, traced

Result = httpx.Response | httpx.TransportError
"""What one attempt ends with: a response, or the transport error it raised."""


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
        """One request, stage by stage (see the module's drawing)."""
        pipeline = self._pipeline
        route = None if _NESTED.get() else pipeline.router.route(request)
        if route is None:  # no vendor's; or an outer normalizing transport has this call
            return self._transport.handle_request(request)
        span = traced(pipeline, route)
        if span is None:
            return self._call(request, route)
        with span:  # the call's span, current while its attempts run
            return self._call(request, route)

    def _call(self, request: httpx.Request, route: Route) -> httpx.Response:
        pipeline = self._pipeline
        call = pipeline.exchange(request, route)
        store = pipeline.store
        assert isinstance(store, Store)
        admission = store.admit(call.keys, call.limits, call.patience())  # admit
        try:
            wait = call.admitted(admission)
            if wait:
                self._wait(call, wait)
            result = self._attempt(call)  # send, read, classify
            if self._decide(call, result).retry:  # decide, pay
                result = self._resend(call, result)  # wait, send, read, classify, decide, pay...
        except BaseException:
            if call.probing:  # cancelled (or broken) before its answer: free the probe's slot
                store.release(call.keys)
            if call.waiting:  # ... or while waiting for its turn: the next call may have it
                store.give_back(call.keys, call.limits)
            raise
        finally:
            call.restore()
        if isinstance(result, httpx.TransportError):
            call.failed(result)
            raise result
        error = call.finish(result)  # settle, log
        if error is not None:
            settle(result)
            raise error
        return result

    def _attempt(self, call: Exchange) -> Result:
        """Send, read the body worth reading, classify; record what it showed in the store."""
        body = self._pipeline.body
        call.begin()
        try:
            token = _NESTED.set(True)  # an inner normalizing transport passes this call on
            try:
                response = self._transport.handle_request(call.request)
            finally:
                _NESTED.reset(token)
            framing = Framing.of(response)
            plan = body.plan(call.request, response, framing, call.route)
            xml = call.route.envelope.xml
            read = plan in (Plan.READ, Plan.SNIFF)
            length = framing.content_length if plan is Plan.SNIFF else None
            raw = body.read(response, plan, xml, call.expired, length) if read else None
        except httpx.TransportError as exc:
            self._record(call, call.errored(exc))
            return exc
        document = None if raw is None else body.document(response, framing, raw, xml)
        outcome = call.classify(response, document, plan is not Plan.FILE)
        self._record(call, call.inspected(response, outcome))
        return response

    def _record(self, call: Exchange, signal: Signal | None) -> None:
        if signal is not None:
            store = self._pipeline.store
            assert isinstance(store, Store)
            call.recorded(store.record(call.keys, call.limits, signal))

    def _decide(self, call: Exchange, result: httpx.Response | BaseException) -> Decision:
        """The pure decision, then, for a retry, the store's answer: budget, circuit, cooldown."""
        decision = call.decide(result)
        if decision.retry:
            store = self._pipeline.store
            assert isinstance(store, Store)
            cost = call.cost(result, decision)
            patience = call.patience(decision.delay)
            admission = store.retry(call.keys, call.limits, cost, decision.delay, patience)
            decision = call.paid(decision, admission, cost)
            if call.unpaid:  # taken for a retry the cooldown then ruled out: give them back
                store.refund(call.keys, call.limits, call.refund())
        if call.telemetry is not None:  # the attempt's span event, with what was decided
            decided(call.attempts, result, decision)
        return call.decided(decision)

    def _resend(self, call: Exchange, first: Result) -> Result:
        """Wait and send again on tenacity, one decision per attempt, until one says no."""
        pending, last = [first], [first]

        def attempt() -> httpx.Response:
            if pending:
                result = pending.pop()
            elif self._pace(call, _kept(last[0])):
                result = self._attempt(call)
            else:  # its turn came too late: the last answer stands
                result = last[0]
            last[0] = result
            if isinstance(result, httpx.TransportError):
                raise result
            return result

        def retry(state: tenacity.RetryCallState) -> bool:
            if state.attempt_number == 1:
                return True  # the first attempt's decision was taken (and paid) already
            return not call.stopped and self._decide(call, _result(state)).retry

        def before_sleep(state: tenacity.RetryCallState) -> None:
            result = _result(state)
            call.retrying(None if isinstance(result, BaseException) else outcome_of(result))
            if isinstance(result, httpx.Response) and not _kept(result):
                result.close()  # released: the next attempt replaces it

        assert call.pipeline.policy is not None
        retrying = tenacity.Retrying(
            retry=retry,
            wait=lambda state: _delay(call),
            stop=tenacity.stop_never,
            sleep=sleeper(call.pipeline.policy),
            before_sleep=before_sleep,
            reraise=True,
        )
        try:
            return retrying(attempt)
        except httpx.TransportError as exc:
            return exc

    def _pace(self, call: Exchange, returnable: bool) -> bool:
        """A retry whose backoff is over waits for its rate-limiter turn; False: too far, and
        the last answer (``returnable``: still readable) stands instead."""
        if call.limits.limiter is None:
            return True
        store = self._pipeline.store
        assert isinstance(store, Store)
        patience = call.patience() if returnable else math.inf
        wait = call.paced(store.pace(call.keys, call.limits, patience))
        if wait is None:
            store.refund(call.keys, call.limits, call.refund())
            return False
        if wait:
            self._wait(call, wait)
        return True

    def _wait(self, call: Exchange, seconds: float) -> None:
        """Sleep for a cooldown or a turn (given back if the wait is interrupted)."""
        call.waiting = call.limits.limiter is not None
        self._sleep(call, seconds)
        call.waiting = False

    def _sleep(self, call: Exchange, seconds: float) -> None:
        policy = call.pipeline.policy
        assert policy is not None
        sleeper(policy)(seconds)

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
        """One request, stage by stage (see the module's drawing)."""
        pipeline = self._pipeline
        route = None if _NESTED.get() else pipeline.router.route(request)
        if route is None:  # no vendor's; or an outer normalizing transport has this call
            return await self._transport.handle_async_request(request)
        span = traced(pipeline, route)
        if span is None:
            return await self._call(request, route)
        with span:  # current across the awaits: a context variable
            return await self._call(request, route)

    async def _call(self, request: httpx.Request, route: Route) -> httpx.Response:
        pipeline = self._pipeline
        call = pipeline.exchange(request, route)
        store = pipeline.store
        assert isinstance(store, AsyncStore)
        admission = await store.admit(call.keys, call.limits, call.patience())  # admit
        try:
            wait = call.admitted(admission)
            if wait:
                await self._wait(call, wait)
            result = await self._attempt(call)  # send, read, classify
            if (await self._decide(call, result)).retry:  # decide, pay
                result = await self._resend(call, result)  # wait, send, ... decide, pay
        except BaseException:
            if call.probing:  # a cancelled probe frees its slot for the next call
                await store.release(call.keys)
            if call.waiting:  # as does a call cancelled while waiting for its turn
                await store.give_back(call.keys, call.limits)
            raise
        finally:
            call.restore()
        if isinstance(result, httpx.TransportError):
            call.failed(result)
            raise result
        error = call.finish(result)  # settle, log
        if error is not None:
            await asettle(result)
            raise error
        return result

    async def _attempt(self, call: Exchange) -> Result:
        body = self._pipeline.body
        call.begin()
        try:
            token = _NESTED.set(True)
            try:
                response = await self._transport.handle_async_request(call.request)
            finally:
                _NESTED.reset(token)
            framing = Framing.of(response)
            plan = body.plan(call.request, response, framing, call.route)
            xml = call.route.envelope.xml
            read = plan in (Plan.READ, Plan.SNIFF)
            length = framing.content_length if plan is Plan.SNIFF else None
            raw = await body.aread(response, plan, xml, call.expired, length) if read else None
        except httpx.TransportError as exc:
            await self._record(call, call.errored(exc))
            return exc
        document = None if raw is None else body.document(response, framing, raw, xml)
        outcome = call.classify(response, document, plan is not Plan.FILE)
        await self._record(call, call.inspected(response, outcome))
        return response

    async def _record(self, call: Exchange, signal: Signal | None) -> None:
        if signal is not None:
            store = self._pipeline.store
            assert isinstance(store, AsyncStore)
            call.recorded(await store.record(call.keys, call.limits, signal))

    async def _decide(self, call: Exchange, result: httpx.Response | BaseException) -> Decision:
        decision = call.decide(result)
        if decision.retry:
            store = self._pipeline.store
            assert isinstance(store, AsyncStore)
            cost = call.cost(result, decision)
            patience = call.patience(decision.delay)
            admission = await store.retry(call.keys, call.limits, cost, decision.delay, patience)
            decision = call.paid(decision, admission, cost)
            if call.unpaid:
                await store.refund(call.keys, call.limits, call.refund())
        if call.telemetry is not None:
            decided(call.attempts, result, decision)
        return call.decided(decision)

    async def _resend(self, call: Exchange, first: Result) -> Result:
        pending, last = [first], [first]

        async def attempt() -> httpx.Response:
            if pending:
                result = pending.pop()
            elif await self._pace(call, _kept(last[0])):
                result = await self._attempt(call)
            else:
                result = last[0]
            last[0] = result
            if isinstance(result, httpx.TransportError):
                raise result
            return result

        async def retry(state: tenacity.RetryCallState) -> bool:
            if state.attempt_number == 1:
                return True  # the first attempt's decision was taken (and paid) already
            return not call.stopped and (await self._decide(call, _result(state))).retry

        async def before_sleep(state: tenacity.RetryCallState) -> None:
            result = _result(state)
            call.retrying(None if isinstance(result, BaseException) else outcome_of(result))
            if isinstance(result, httpx.Response) and not _kept(result):
                await result.aclose()

        assert call.pipeline.policy is not None
        retrying = tenacity.AsyncRetrying(
            retry=retry,
            wait=lambda state: _delay(call),
            stop=tenacity.stop_never,
            sleep=async_sleeper(call.pipeline.policy),
            before_sleep=before_sleep,
            reraise=True,
        )
        try:
            return await retrying(attempt)
        except httpx.TransportError as exc:
            return exc

    async def _pace(self, call: Exchange, returnable: bool) -> bool:
        if call.limits.limiter is None:
            return True
        store = self._pipeline.store
        assert isinstance(store, AsyncStore)
        patience = call.patience() if returnable else math.inf
        wait = call.paced(await store.pace(call.keys, call.limits, patience))
        if wait is None:
            await store.refund(call.keys, call.limits, call.refund())
            return False
        if wait:
            await self._wait(call, wait)
        return True

    async def _wait(self, call: Exchange, seconds: float) -> None:
        call.waiting = call.limits.limiter is not None
        await self._sleep(call, seconds)
        call.waiting = False

    async def _sleep(self, call: Exchange, seconds: float) -> None:
        policy = call.pipeline.policy
        assert policy is not None
        await async_sleeper(policy)(seconds)

    async def __aenter__(self) -> AsyncNormalizingTransport:
        await self._transport.__aenter__()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self._transport.__aexit__(*exc)

    async def aclose(self) -> None:
        await self._transport.aclose()


_NESTED: contextvars.ContextVar[bool] = contextvars.ContextVar("normalizer_nested", default=False)
"""True while an outer normalizing transport sends a call: an inner one passes it through.

A transport can end up wrapped twice (respx's ``using="httpx"`` mocker puts its own transport,
falling back to the client's, in front; a user may wrap a wrapped one): the call is classified,
retried and logged once, by the outermost. A context variable, not a request extension:
httpx copies extensions onto redirect requests, which are new calls."""


def _result(state: tenacity.RetryCallState) -> httpx.Response | BaseException:
    assert state.outcome is not None
    if state.outcome.failed:
        error = state.outcome.exception()
        assert error is not None
        return error
    result: httpx.Response = state.outcome.result()
    return result


def _kept(result: Result) -> bool:
    """The result can stand as the call's answer later: an error, or a response whose body
    normalizer read whole (nothing to release, still readable once the call gives up)."""
    return not isinstance(result, httpx.Response) or isinstance(result.stream, httpx.ByteStream)


def _delay(call: Exchange) -> float:
    assert call.decision is not None
    return call.decision.delay


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
