"""httpx transports that classify every vendor response on its way to the caller.

:class:`NormalizingTransport` and :class:`AsyncNormalizingTransport` are parallel types, as
httpx's own transports are: same options, same rules (:mod:`normalizer._inspect`), one reads
streams with ``for``, the other with ``async for``.

The caller gets the response the vendor sent, byte for byte. A JSON body (up to
``max_body_size``) is buffered to be classified and handed on as a fresh stream; any other body
is streamed through untouched, never read into memory.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import tenacity

from ._exceptions import VendorError
from ._inspect import (
    ATTEMPTS_KEY,
    DEFAULT_MAX_BODY_SIZE,
    Inspector,
    Plan,
    Route,
    attach,
    outcome_of,
)
from ._outcome import Outcome
from ._registry import Registry
from ._retry import Budgets, RetryPolicy, Strategy, async_sleeper, effective_attempts, sleeper

DEFAULT_RETRY = RetryPolicy()


class NormalizingTransport(httpx.BaseTransport):
    """Wraps any :class:`httpx.BaseTransport` and attaches an :class:`Outcome` to responses.

    ``vendor`` fixes the vendor; without it each request's vendor is found from the mappings'
    host and path patterns (``request.extensions["normalizer"]["vendor"]`` overrides either).
    Responses from hosts no mapping claims pass through with no outcome. Vendor responses
    are retried under ``retry`` (a :class:`RetryPolicy`; ``None`` turns retrying off). With
    ``raise_on_error=True`` a non-ok final outcome raises the matching :class:`VendorError`.
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
    ) -> None:
        self._transport = transport if transport is not None else httpx.HTTPTransport()
        self._inspector = Inspector(vendor, registry, max_body_size)
        self._retry = retry
        self._budgets = Budgets(retry.budget_capacity if retry is not None else 0)
        self._raise = raise_on_error

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        route = self._inspector.route(request)
        if route is None:
            return self._transport.handle_request(request)
        policy = self._retry
        if policy is None:
            response, attempts = self._once(request, route), 1
        else:
            strategy = Strategy(
                policy,
                self._budgets.for_vendor(route.mapping.id),
                request,
                effective_attempts(policy),
            )
            retrying = tenacity.Retrying(
                sleep=sleeper(policy), before_sleep=_discard, **strategy.tenacity_kwargs()
            )
            response = retrying(self._once, request, route)
            attempts = retrying.statistics["attempt_number"]
        outcome = outcome_of(response)
        assert outcome is not None
        if policy is not None:
            strategy.settle(outcome.ok)
        attach(response, outcome, attempts)
        if self._raise and not outcome.ok:
            _settle(response)
            raise _error(outcome, request, response)
        return response

    def _once(self, request: httpx.Request, route: Route) -> httpx.Response:
        response = self._transport.handle_request(request)
        attach(response, self._inspect(request, response, route), 1)
        return response

    def _inspect(self, request: httpx.Request, response: httpx.Response, route: Route) -> Outcome:
        plan = self._inspector.plan(request, response)
        body = None
        if plan in (Plan.READ, Plan.SNIFF):
            body = self._read(response, plan)
        return self._inspector.outcome(route, response, plan, body)

    def _read(self, response: httpx.Response, plan: Plan) -> bytes | None:
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
                    verdict = Inspector.looks_like_json(b"".join(chunks))
                    if verdict is False:
                        response.stream = _Replay(chunks, iterator, stream)
                        return None
                    undecided = verdict is None
                if size > self._inspector.max_body_size:
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
    """The async twin of :class:`NormalizingTransport`, wrapping an ``AsyncBaseTransport``."""

    def __init__(
        self,
        vendor: str | None = None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        retry: RetryPolicy | None = DEFAULT_RETRY,
        registry: Registry | None = None,
        max_body_size: int = DEFAULT_MAX_BODY_SIZE,
        raise_on_error: bool = False,
    ) -> None:
        self._transport = transport if transport is not None else httpx.AsyncHTTPTransport()
        self._inspector = Inspector(vendor, registry, max_body_size)
        self._retry = retry
        self._budgets = Budgets(retry.budget_capacity if retry is not None else 0)
        self._raise = raise_on_error

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        route = self._inspector.route(request)
        if route is None:
            return await self._transport.handle_async_request(request)
        policy = self._retry
        if policy is None:
            response, attempts = await self._once(request, route), 1
        else:
            strategy = Strategy(
                policy,
                self._budgets.for_vendor(route.mapping.id),
                request,
                effective_attempts(policy),
            )
            retrying = tenacity.AsyncRetrying(
                sleep=async_sleeper(policy), before_sleep=_adiscard, **strategy.tenacity_kwargs()
            )
            response = await retrying(self._once, request, route)
            attempts = retrying.statistics["attempt_number"]
        outcome = outcome_of(response)
        assert outcome is not None
        if policy is not None:
            strategy.settle(outcome.ok)
        attach(response, outcome, attempts)
        if self._raise and not outcome.ok:
            await _asettle(response)
            raise _error(outcome, request, response)
        return response

    async def _once(self, request: httpx.Request, route: Route) -> httpx.Response:
        response = await self._transport.handle_async_request(request)
        attach(response, await self._inspect(request, response, route), 1)
        return response

    async def _inspect(
        self, request: httpx.Request, response: httpx.Response, route: Route
    ) -> Outcome:
        plan = self._inspector.plan(request, response)
        body = None
        if plan in (Plan.READ, Plan.SNIFF):
            body = await self._read(response, plan)
        return self._inspector.outcome(route, response, plan, body)

    async def _read(self, response: httpx.Response, plan: Plan) -> bytes | None:
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
                    verdict = Inspector.looks_like_json(b"".join(chunks))
                    if verdict is False:
                        response.stream = _AsyncReplay(chunks, iterator, stream)
                        return None
                    undecided = verdict is None
                if size > self._inspector.max_body_size:
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


def _discard(state: tenacity.RetryCallState) -> None:
    """Before a retry: release the response being replaced."""
    if state.outcome is not None and not state.outcome.failed:
        state.outcome.result().close()


async def _adiscard(state: tenacity.RetryCallState) -> None:
    if state.outcome is not None and not state.outcome.failed:
        await state.outcome.result().aclose()


def _error(outcome: Outcome, request: httpx.Request, response: httpx.Response) -> VendorError:
    attempts = response.extensions.get(ATTEMPTS_KEY, 1)
    return VendorError.for_outcome(outcome)(
        outcome, request=request, response=response, attempts=attempts
    )


def _settle(response: httpx.Response) -> None:
    """Before raising: keep a buffered body readable, release an unread stream."""
    if isinstance(response.stream, httpx.ByteStream):
        response.read()
    response.close()


async def _asettle(response: httpx.Response) -> None:
    if isinstance(response.stream, httpx.ByteStream):
        await response.aread()
    await response.aclose()


def raise_for_outcome(response: httpx.Response) -> httpx.Response:
    """Raise the :class:`VendorError` subclass for a non-ok outcome; else return ``response``.

    A response without an outcome (not from a vendor) is returned as it is.
    """
    outcome = outcome_of(response)
    if outcome is None or outcome.ok:
        return response
    try:
        request: httpx.Request | None = response.request
    except RuntimeError:
        request = None
    raise VendorError.for_outcome(outcome)(
        outcome,
        request=request,
        response=response,
        attempts=response.extensions.get(ATTEMPTS_KEY, 1),
    )
