"""The composition root: one transport's stages, wired once from its options.

In the manner of botocore's ``retries/standard.py:register_retry_handler``, everything a
transport needs is built here in one place, so the transports only run the stages in order:

    Router        which vendor and product a request goes to       (_router.py)
    BodyReader    which bodies to read, and their documents        (_body.py)
    classify      the document read through the vendor's mapping   (_classify.py)
    RetryPolicy   tenacity's strategies, and :func:`paid`          (_retry.py)
    Store         budget, rate, circuit, cooldown per vendor       (_store.py, _limiter.py)
    Telemetry     OpenTelemetry, beside the logs (_observe.py)    (_telemetry.py)

and :func:`normalizer._call.vendor_call` carries one request through them, its own context
(:class:`normalizer._call.Call`) built from them.
"""

from __future__ import annotations

import math
import time
from dataclasses import replace
from typing import NamedTuple

from ._body import BodyReader
from ._classify import Reader, routed_scope
from ._mapping import Envelope, VendorMapping
from ._options import Options
from ._redact import DEFAULT as DEFAULT_REDACTOR
from ._redact import Redactor
from ._router import Route, Router
from ._store import Admit, AsyncLocal, AsyncStore, Keys, Limits, LocalState, Store
from ._telemetry import CallSpan, Telemetry, resolve


class Prepared(NamedTuple):
    """What every call on one route (a vendor, or one of its products) shares."""

    mapping: VendorMapping
    keys: Keys
    limits: Limits
    envelope: Envelope
    """Where the vendor's (or product's) responses keep their fields."""
    redactor: Redactor
    """The transport's redactor with the vendor's ``[redact]``."""
    admit: Admit | None
    """The question before each call, when it is always the same one (see
    :meth:`Pipeline._usual_admit`)."""
    reader: Reader
    """How the route's responses are read (the mapping compiled for its product)."""


class Pipeline:
    """What one transport built once from its :class:`Options`, shared by all its calls."""

    def __init__(self, vendor: str | None, options: Options, *, asynchronous: bool) -> None:
        self.options = options
        self.router = Router(vendor, options.registry)
        self.body = BodyReader(options.max_body_size)
        self.policy = options.retry
        self.redactor = options.redactor or DEFAULT_REDACTOR
        limiter = options.limiter if self.policy is not None else None  # nothing waits without
        # a retry policy's sleep
        self.limits = Limits(
            self.policy.budget_capacity if self.policy is not None else 0, options.circuit, limiter
        )
        self.store = _store(options, asynchronous)
        self.telemetry = resolve(options.telemetry)
        self._prepared: dict[tuple[str, str | None], Prepared] = {}
        self._redactors: dict[str, tuple[VendorMapping, Redactor]] = {}

    def prepare(self, route: Route) -> Prepared:
        """What every call on ``route`` shares, built on its first call: one small dict entry
        per vendor and product, built again only when its mapping is replaced."""
        mapping = route.mapping
        product = route.product
        name = (mapping.id, None if product is None else product.id)
        found = self._prepared.get(name)
        if found is not None and found.mapping is mapping:
            return found
        limiter = self.limits.limiter
        ceiling = math.inf if limiter is None else limiter.ceiling(mapping.rate)
        if limiter is not None and not limiter.adaptive and ceiling == math.inf:
            limiter = None  # static, and nothing published: nothing to limit
        keys = Keys.of(*name, self.limits.breaker)
        limits = replace(self.limits, limiter=limiter, ceiling=ceiling)
        found = self._prepared[name] = Prepared(
            mapping,
            keys,
            limits,
            mapping.envelope_for(product),
            self.redactor_for(mapping),
            self._usual_admit(keys, limits),
            routed_scope(mapping, product),
        )
        self._watch(keys, limits)
        return found

    def _usual_admit(self, keys: Keys, limits: Limits) -> Admit | None:
        """The question before a call's first attempt, when every call asks the same: how far
        ahead a rate-limiter turn may be is its ``max_wait``, unless the deadline is nearer (a
        call starting has its whole deadline ahead); None when the deadline may be nearer."""
        limiter = limits.limiter
        if limiter is None:
            return Admit(keys, limits, math.inf)
        deadline = None if self.policy is None else self.policy.deadline
        if deadline is not None and deadline <= limiter.max_wait:
            return None  # each call works its patience out (normalizer._call._patience)
        return Admit(keys, limits, limiter.max_wait)

    def _watch(self, keys: Keys, limits: Limits) -> None:
        """Show the vendor's retry budget and rate on the telemetry gauges (in-process stores)."""
        store = self.store.state if isinstance(self.store, AsyncLocal) else self.store
        if self.telemetry is not None and self.policy is not None and isinstance(store, LocalState):
            self.telemetry.watch(store, keys, limits)

    def listening(self) -> Telemetry | None:
        """The telemetry a call starting now reports to; None when there is none, or no
        provider is set up (one cached check a call)."""
        telemetry = self.telemetry
        return None if telemetry is None or telemetry.idle() else telemetry

    def span(self, route: Route, telemetry: Telemetry) -> CallSpan | None:
        """The OpenTelemetry span of one call on ``route``, when there is one to make."""
        product = None if route.product is None else route.product.id
        return telemetry.span(route.mapping.id, product, self.redactor_for(route.mapping))

    def redactor_for(self, mapping: VendorMapping) -> Redactor:
        """The transport's redactor extended with the vendor's ``[redact]`` (its secret names
        and path secrets), built once per vendor, again only when its mapping is replaced."""
        cached = self._redactors.get(mapping.id)
        if cached is not None and cached[0] is mapping:
            return cached[1]
        redact = mapping.redact
        redactor = self.redactor.extended(keys=redact.keys, after_segments=redact.after_segments)
        self._redactors[mapping.id] = (mapping, redactor)
        return redactor


def _store(options: Options, asynchronous: bool) -> Store | AsyncStore:
    """The options' store, or a fresh in-process one; async transports see it async."""
    store = options.state
    if store is None:
        retry = options.retry
        store = LocalState(time.monotonic if retry is None else retry.clock)
    if asynchronous:
        if isinstance(store, LocalState):
            return AsyncLocal(store)
        if isinstance(store, Store):
            raise TypeError("a sync state store (RedisState) needs NormalizingTransport")
        return store
    if isinstance(store, AsyncStore):
        raise TypeError("an async state store needs AsyncNormalizingTransport")
    return store
