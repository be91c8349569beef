"""Routing: which vendor (and product, or API family) a request goes to.

A request's vendor is the one fixed on the transport, the one named in
``request.extensions["normalizer"]``, or the one whose mapping selectors (hosts, paths, headers,
query) match it. Routes are cached per host and path, plus the header and query values the
selectors for that host read, so the usual request costs one dict lookup.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import httpx

from ._mapping import Envelope, Product, Target, VendorMapping
from ._registry import Registry, default_registry

REQUEST_KEY = "normalizer"
"""Per-request options in ``request.extensions``: ``{"vendor": ..., "product": ...,
"idempotent": ...}`` (the last read by the retry rules)."""

_KEPT = 1024
_UNSEEN: Any = object()


@dataclasses.dataclass(frozen=True, slots=True)
class Route:
    """Which vendor (and product) a request goes to."""

    mapping: VendorMapping
    product: Product | None
    path: str

    @property
    def envelope(self) -> Envelope:
        return self.mapping.envelope_for(self.product)


class Router:
    """Finds each request's :class:`Route`; follows mappings registered after it was made."""

    def __init__(self, vendor: str | None, registry: Registry | None) -> None:
        self.registry = registry or default_registry()
        self.vendor = None if vendor is None else self.registry.get(vendor)
        self._routes: dict[tuple[object, ...], Route | None] = {}
        self._names: dict[str, tuple[tuple[str, ...], tuple[str, ...]] | None] = {}
        self._generation = self.registry.generation

    def route(self, request: httpx.Request) -> Route | None:
        """Which vendor and product ``request`` goes to (None: not a vendor's)."""
        if self._generation != self.registry.generation:  # mappings were registered since
            self._generation = self.registry.generation
            self._routes = {}
            self._names = {}
            if self.vendor is not None:
                self.vendor = self.registry.get(self.vendor.id)
        if REQUEST_KEY in request.extensions:
            return self._route(request)
        url = request.url
        host = url.host
        key: tuple[object, ...] = (host, url.path)
        names = self._names.get(host, _UNSEEN)
        if names is _UNSEEN:
            names = self._selector_names(host)
        if names is not None:  # a selector reads headers or the query: they are part of the key
            headers, query = names
            target = target_of(request)
            key += tuple(target.header(n) for n in headers) + tuple(target.query(n) for n in query)
        route = self._routes.get(key, _UNSEEN)
        if route is not _UNSEEN:
            return route  # type: ignore[no-any-return]
        route = self._route(request)
        if len(self._routes) >= _KEPT:
            self._routes.clear()  # many distinct paths (ids in them): start over, stay small
        self._routes[key] = route
        return route

    def _selector_names(self, host: str) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
        """The header and query names the selectors for ``host`` read; None for none (worked
        out on the host's first request, then read from ``_names``)."""
        candidates = (self.vendor,) if self.vendor is not None else self.registry.candidates(host)
        headers: set[str] = set()
        query: set[str] = set()
        for mapping in candidates:
            h, q = mapping.selector_names()
            headers |= h
            query |= q
        names = (tuple(sorted(headers)), tuple(sorted(query))) if headers or query else None
        if len(self._names) >= _KEPT:
            self._names.clear()
        self._names[host] = names
        return names

    def _route(self, request: httpx.Request) -> Route | None:
        options: Any = request.extensions.get(REQUEST_KEY) or {}
        target = target_of(request)
        mapping = self.vendor
        if isinstance(options, dict) and options.get("vendor"):
            mapping = self.registry.get(options["vendor"])
        elif mapping is None:
            mapping = self.registry.detect(target)
            if mapping is None:
                return None
        product_id = options.get("product") if isinstance(options, dict) else None
        if product_id is None:
            return Route(mapping, mapping.product_for(target), target.path)
        product = mapping.products.get(product_id)
        if product is None:
            raise ValueError(
                f"vendor {mapping.id!r} has no product {product_id!r}; "
                f"its products: {', '.join(mapping.products) or '(none)'}"
            )
        return Route(mapping, product, target.path)


def target_of(request: httpx.Request) -> Target:
    """What a mapping selector looks at in ``request`` (headers of any case)."""
    url = request.url
    return Target(url.host, url.path, url.query, request.headers)  # headers: any case
