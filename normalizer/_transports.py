"""httpx transports that classify every vendor response on its way to the caller.

:class:`NormalizingTransport` and :class:`AsyncNormalizingTransport` are parallel types, as
httpx's own transports are: same options, same rules (:mod:`normalizer._inspect`), one reads
streams with ``for``, the other with ``async for``.

The caller gets the response the vendor sent, byte for byte. A JSON body (up to
``max_body_size``) is buffered to be classified and handed on as a fresh stream; any other body
is streamed through untouched, never read into memory.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import httpx
import tenacity

from ._call import Call, Record, Settings
from ._exceptions import PartialFailure, VendorError
from ._inspect import ATTEMPTS_KEY, DEFAULT_MAX_BODY_SIZE, Framing, Inspector, Plan, outcome_of
from ._logging import OnOutcome
from ._redact import DEFAULT as DEFAULT_REDACTOR
from ._redact import Redactor
from ._registry import Registry
from ._retry import RetryPolicy, async_sleeper, sleeper
from ._state import AsyncLocal, AsyncState, CircuitBreaker, Limits, LocalState, State

DEFAULT_RETRY = RetryPolicy()


class NormalizingTransport(httpx.BaseTransport):
    """Wraps any :class:`httpx.BaseTransport` and attaches an :class:`Outcome` to responses.

    ``vendor`` fixes the vendor; without it each request's vendor is found from the mappings'
    host and path patterns (``request.extensions["normalizer"]["vendor"]`` overrides either).
    Responses from hosts no mapping claims pass through with no outcome. Vendor responses
    are retried under ``retry`` (a :class:`RetryPolicy`; ``None`` turns retrying off). With
    ``raise_on_error=True`` a non-ok final outcome raises the matching :class:`VendorError`.
    Failures and retries are logged on ``logger`` (default: structlog's ``"normalizer"``
    logger), redacted by ``redactor``; ``on_outcome`` is called with a :class:`VendorCall`
    once per call, for metrics.

    ``circuit`` (a :class:`CircuitBreaker`) stops calling a vendor that keeps failing; ``state``
    is where the retry budget, circuits and cooldowns live: a :class:`LocalState` of its own by
    default, one shared with other transports, or ``normalizer.redis.RedisState`` to share
    them between processes.
    """

    def __init__(
        self,
        vendor: str | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
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
    ) -> None:
        self._transport = transport if transport is not None else httpx.HTTPTransport()
        if isinstance(state, AsyncState):
            raise TypeError("an async state store needs AsyncNormalizingTransport")
        self._settings = _settings(
            vendor,
            retry,
            registry,
            max_body_size,
            raise_on_error,
            logger,
            on_outcome,
            redactor,
            log_bodies,
            circuit,
            state or _local(retry),
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        settings = self._settings
        route = settings.inspector.route(request)
        if route is None:
            return self._transport.handle_request(request)
        call = settings.call(request, route)
        state = settings.state
        assert isinstance(state, State)
        wait = call.admitted(state.admit(call.keys, settings.limits))
        if wait and call.policy is not None:
            sleeper(call.policy)(wait)
        try:
            first = self._first(call)
            if not call.worth_retrying(first):
                response = _result(first)
            else:  # tenacity takes over, the first attempt replayed into it
                assert call.policy is not None
                retrying = tenacity.Retrying(
                    sleep=sleeper(call.policy),
                    before_sleep=_before_sleep(call),
                    **call.tenacity_kwargs(),
                )
                pending = [first]

                def attempt() -> httpx.Response:
                    return _result(pending.pop()) if pending else self._once(call)

                response = retrying(attempt)
        except httpx.TransportError as exc:
            call.failed(exc)
            raise
        error = call.finish(response)
        if error is not None:
            _settle(response)
            raise error
        return response

    def _first(self, call: Call) -> httpx.Response | httpx.TransportError:
        """The first attempt, outside tenacity: most calls need no second one."""
        try:
            return self._once(call)
        except httpx.TransportError as exc:
            return exc

    def _once(self, call: Call) -> httpx.Response:
        call.begin()
        settings = self._settings
        try:
            response = self._transport.handle_request(call.request)
            framing = Framing.of(response)
            plan = settings.inspector.plan(call.request, response, framing, call.route)
            body = (
                self._read(response, plan, call.route.envelope.xml)
                if plan in (Plan.READ, Plan.SNIFF)
                else None
            )
        except httpx.TransportError as exc:
            self._record(call, call.errored(exc))
            raise
        outcome = settings.inspector.outcome(call.route, response, framing, plan, body)
        self._record(call, call.inspected(response, outcome))
        return response

    def _record(self, call: Call, record: Record | None) -> None:
        if record is not None:
            state = self._settings.state
            assert isinstance(state, State)
            call.recorded(state.record(call.keys, self._settings.limits, *record))

    def _read(self, response: httpx.Response, plan: Plan, xml: bool) -> bytes | None:
        """Buffer a JSON body up to the cap; else re-stream what was read plus the rest."""
        stream = response.stream
        assert isinstance(stream, httpx.SyncByteStream)
        chunks: list[bytes] = []
        size = 0
        undecided = plan is Plan.SNIFF
        iterator = iter(stream)
        try:
            for chunk in iterator:
                chunks.append(chunk)
                size += len(chunk)
                if undecided:
                    verdict = Inspector.looks_like_json(b"".join(chunks), xml)
                    if verdict is False:
                        response.stream = _Replay(chunks, iterator, stream)
                        return None
                    undecided = verdict is None
                if size > self._settings.inspector.max_body_size:
                    response.stream = _Replay(chunks, iterator, stream)
                    return None
        except BaseException:
            stream.close()
            raise
        stream.close()
        body = b"".join(chunks)
        response.stream = httpx.ByteStream(body)
        return body

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
    ) -> None:
        self._transport = transport if transport is not None else httpx.AsyncHTTPTransport()
        if state is None:
            state = _local(retry)
        if isinstance(state, State) and not isinstance(state, LocalState):
            raise TypeError("a sync state store (RedisState) needs NormalizingTransport")
        self._settings = _settings(
            vendor,
            retry,
            registry,
            max_body_size,
            raise_on_error,
            logger,
            on_outcome,
            redactor,
            log_bodies,
            circuit,
            AsyncLocal(state) if isinstance(state, LocalState) else state,
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        settings = self._settings
        route = settings.inspector.route(request)
        if route is None:
            return await self._transport.handle_async_request(request)
        call = settings.call(request, route)
        state = settings.state
        assert isinstance(state, AsyncState)
        wait = call.admitted(await state.admit(call.keys, settings.limits))
        if wait and call.policy is not None:
            await async_sleeper(call.policy)(wait)
        try:
            first = await self._first(call)
            if not call.worth_retrying(first):
                response = _result(first)
            else:
                assert call.policy is not None
                retrying = tenacity.AsyncRetrying(
                    sleep=async_sleeper(call.policy),
                    before_sleep=_async_before_sleep(call),
                    **call.tenacity_kwargs(asynchronous=True),
                )
                pending = [first]

                async def attempt() -> httpx.Response:
                    return _result(pending.pop()) if pending else await self._once(call)

                response = await retrying(attempt)
        except httpx.TransportError as exc:
            call.failed(exc)
            raise
        error = call.finish(response)
        if error is not None:
            await _asettle(response)
            raise error
        return response

    async def _first(self, call: Call) -> httpx.Response | httpx.TransportError:
        try:
            return await self._once(call)
        except httpx.TransportError as exc:
            return exc

    async def _once(self, call: Call) -> httpx.Response:
        call.begin()
        settings = self._settings
        try:
            response = await self._transport.handle_async_request(call.request)
            framing = Framing.of(response)
            plan = settings.inspector.plan(call.request, response, framing, call.route)
            body = (
                await self._read(response, plan, call.route.envelope.xml)
                if plan in (Plan.READ, Plan.SNIFF)
                else None
            )
        except httpx.TransportError as exc:
            await self._record(call, call.errored(exc))
            raise
        outcome = settings.inspector.outcome(call.route, response, framing, plan, body)
        await self._record(call, call.inspected(response, outcome))
        return response

    async def _record(self, call: Call, record: Record | None) -> None:
        if record is not None:
            state = self._settings.state
            assert isinstance(state, AsyncState)
            call.recorded(await state.record(call.keys, self._settings.limits, *record))

    async def _read(self, response: httpx.Response, plan: Plan, xml: bool) -> bytes | None:
        stream = response.stream
        assert isinstance(stream, httpx.AsyncByteStream)
        chunks: list[bytes] = []
        size = 0
        undecided = plan is Plan.SNIFF
        iterator = stream.__aiter__()
        try:
            async for chunk in iterator:
                chunks.append(chunk)
                size += len(chunk)
                if undecided:
                    verdict = Inspector.looks_like_json(b"".join(chunks), xml)
                    if verdict is False:
                        response.stream = _AsyncReplay(chunks, iterator, stream)
                        return None
                    undecided = verdict is None
                if size > self._settings.inspector.max_body_size:
                    response.stream = _AsyncReplay(chunks, iterator, stream)
                    return None
        except BaseException:
            await stream.aclose()
            raise
        await stream.aclose()
        body = b"".join(chunks)
        response.stream = httpx.ByteStream(body)
        return body

    async def aclose(self) -> None:
        await self._transport.aclose()


def _result(first: httpx.Response | httpx.TransportError) -> httpx.Response:
    if isinstance(first, httpx.TransportError):
        raise first
    return first


def _settings(
    vendor: str | None,
    retry: RetryPolicy | None,
    registry: Registry | None,
    max_body_size: int,
    raise_on_error: bool,
    logger: Any,
    on_outcome: OnOutcome | None,
    redactor: Redactor | None,
    log_bodies: bool,
    circuit: CircuitBreaker | None,
    state: State | AsyncState,
) -> Settings:
    return Settings(
        inspector=Inspector(vendor, registry, max_body_size),
        retry=retry,
        state=state,
        limits=Limits(retry.budget_capacity if retry is not None else 0, circuit),
        raise_on_error=raise_on_error,
        logger=logger,
        on_outcome=on_outcome,
        redactor=redactor or DEFAULT_REDACTOR,
        log_bodies=log_bodies,
    )


def _local(retry: RetryPolicy | None) -> LocalState:
    return LocalState(time.monotonic if retry is None else retry.clock)


def _before_sleep(call: Call) -> Callable[[tenacity.RetryCallState], None]:
    """Before a retry: log the decision, release the response being replaced."""

    def before_sleep(state: tenacity.RetryCallState) -> None:
        call.retrying(state)
        if state.outcome is not None and not state.outcome.failed:
            state.outcome.result().close()

    return before_sleep


def _async_before_sleep(call: Call) -> Callable[[tenacity.RetryCallState], Awaitable[None]]:
    async def before_sleep(state: tenacity.RetryCallState) -> None:
        call.retrying(state)
        if state.outcome is not None and not state.outcome.failed:
            await state.outcome.result().aclose()

    return before_sleep


class _Replay(httpx.SyncByteStream):
    """The chunks already read, then the rest of the original stream."""

    def __init__(self, head: list[bytes], rest: Iterator[bytes], inner: httpx.SyncByteStream):
        self._head = head
        self._rest = rest
        self._inner = inner

    def __iter__(self) -> Iterator[bytes]:
        head, self._head = self._head, []
        yield from head
        yield from self._rest

    def close(self) -> None:
        self._inner.close()


class _AsyncReplay(httpx.AsyncByteStream):
    def __init__(self, head: list[bytes], rest: AsyncIterator[bytes], inner: httpx.AsyncByteStream):
        self._head = head
        self._rest = rest
        self._inner = inner

    async def __aiter__(self) -> AsyncIterator[bytes]:
        head, self._head = self._head, []
        for chunk in head:
            yield chunk
        async for chunk in self._rest:
            yield chunk

    async def aclose(self) -> None:
        await self._inner.aclose()


def _settle(response: httpx.Response) -> None:
    """Before raising: keep a buffered body readable, release an unread stream."""
    if isinstance(response.stream, httpx.ByteStream):
        response.read()
    response.close()


async def _asettle(response: httpx.Response) -> None:
    if isinstance(response.stream, httpx.ByteStream):
        await response.aread()
    await response.aclose()


def raise_for_outcome(response: httpx.Response, *, partial: bool = False) -> httpx.Response:
    """Raise the :class:`VendorError` subclass for a non-ok outcome; else return ``response``.

    A response without an outcome (not from a vendor) is returned as it is. A partial result
    of a batch (some items went out) is ok: with ``partial=True`` it raises
    :class:`PartialFailure`, carrying the failed items.
    """
    outcome = outcome_of(response)
    if outcome is None or (outcome.ok and not (partial and outcome.partial)):
        return response
    try:
        request: httpx.Request | None = response.request
    except RuntimeError:
        request = None
    kind = PartialFailure if outcome.ok else VendorError.for_outcome(outcome)
    raise kind(
        outcome,
        request=request,
        response=response,
        attempts=response.extensions.get(ATTEMPTS_KEY, 1),
    )
