"""Reading what the vendors' own SDKs raise and return, through the same mappings.

Most code calls Twilio, Tencent Cloud, Alibaba Cloud, Vonage or Infobip through the vendor's
SDK, which never hands over a raw response: it raises an exception of its own for a failure,
or returns a model object. Which exception classes belong to which vendor, and which of their
attributes hold the code, message, HTTP status, request id or the whole body, is vendor
knowledge: each vendor's mapping file says it in its ``[sdk]`` table. This module only reads
that table. An answer becomes the document the vendor sent (its body, or the code and message
put back where its envelope keeps them) and goes through :func:`normalizer.classify`, so every
table, class, HTTP fallback and message-dependent ``[[when]]`` rule applies unchanged.

No SDK is imported here, ever: classes are matched by their module-qualified names along the
exception's MRO, and models are converted by what they can do (``to_map()``, ``_serialize()``,
``to_dict()``, ``model_dump()``, public attributes).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple

import httpx

from ._classify import Body, classify
from ._exceptions import VendorError
from ._mapping import SdkError, SdkModel, VendorMapping
from ._outcome import Outcome, derive
from ._registry import Registry, default_registry

_LONGEST_CHAIN = 16
"""Exceptions followed through ``__cause__``, ``__context__`` and an SDK's wrapper attributes
before giving up (a chain is seldom longer than three; a cycle ends sooner)."""

_PLAIN = (bytes, bytearray, memoryview, str, Mapping, list)


def class_names(cls: type) -> Iterator[str]:
    """The module-qualified names of ``cls`` and its bases, most derived first."""
    for klass in cls.__mro__:
        yield f"{klass.__module__}.{klass.__qualname__}"


def _mappings(vendor: str | None, registry: Registry) -> tuple[VendorMapping, ...]:
    if vendor is not None:
        return (registry.get(vendor),)
    return tuple(m for m in registry.all() if m.sdk.errors)


def _error_spec(
    exc: BaseException, mappings: tuple[VendorMapping, ...]
) -> tuple[VendorMapping, SdkError] | None:
    """The ``[[sdk.errors]]`` entry of the most derived class of ``exc`` that one lists."""
    for name in class_names(type(exc)):
        for mapping in mappings:
            for spec in mapping.sdk.errors:
                if name in spec.classes:
                    return mapping, spec
    return None


def chain(
    exc: BaseException, mappings: tuple[VendorMapping, ...] = ()
) -> Iterator[tuple[BaseException, tuple[VendorMapping, SdkError] | None]]:
    """``exc``, then what it wraps: an SDK's wrapper attributes (``[[sdk.errors]] wraps``),
    exceptions among its ``args``, ``__cause__``, and ``__context__`` unless suppressed; each
    with its ``[sdk]`` entry."""
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo and len(seen) < _LONGEST_CHAIN:
        link = todo.pop(0)
        if id(link) in seen:
            continue
        seen.add(id(link))
        found = _error_spec(link, mappings) if mappings else None
        yield link, found
        inner: list[BaseException] = []
        if found is not None:
            for attr in found[1].wraps:
                value = attribute(link, attr)
                if isinstance(value, BaseException):
                    inner.append(value)
        # what it was made from: requests' ConnectionError(MaxRetryError(...)) holds urllib3's
        inner += [arg for arg in link.args if isinstance(arg, BaseException)]
        if link.__cause__ is not None:
            inner.append(link.__cause__)
        elif link.__context__ is not None and not link.__suppress_context__:
            inner.append(link.__context__)
        todo.extend(inner)


def classify_exception(
    exc: BaseException,
    *,
    vendor: str | None = None,
    product: str | None = None,
    registry: Registry | None = None,
) -> Outcome | None:
    """The :class:`Outcome` a vendor SDK's exception carries; None for one nobody knows.

    The vendors' mapping files list their SDKs' exception classes (``[sdk]``): Twilio's
    ``TwilioRestException``, Tencent Cloud's ``TencentCloudSDKException``, Alibaba Cloud's
    ``ClientException`` / ``ThrottlingException`` / ``ServerException`` (and older Tea
    SDKs' ``TeaException``), Vonage's ``HttpRequestError`` and ``SmsError``, Infobip's
    ``ApiException``. ``vendor`` narrows the search to one vendor (one SDK serving several
    vendors' APIs, or your own overlay); ``product`` names the API family where the exception
    does not say (Alibaba Cloud's exceptions are the same for SMS and voice).

    What the SDK wraps is seen through: a transport failure the SDK re-raised as its own
    error (Tencent's ``ClientNetworkError``) is no vendor answer (None, unless a
    :class:`~normalizer.VendorError` inside it says what the vendor answered: its outcome).
    """
    found = answer(exc, vendor=vendor, product=product, registry=registry)
    return None if found is None else found.outcome


class Answer(NamedTuple):
    """What an SDK's exception says the vendor answered: the outcome, the headers of the
    answer where the SDK keeps them (for a Retry-After), and the vendor whose ``[sdk]`` table
    read it (None for a :class:`VendorError`'s outcome)."""

    outcome: Outcome
    headers: Mapping[str, str] | None = None
    mapping: VendorMapping | None = None


def answer(
    exc: BaseException,
    *,
    vendor: str | None = None,
    product: str | None = None,
    registry: Registry | None = None,
) -> Answer | None:
    """:func:`classify_exception`'s reading with the headers beside it (for the waits)."""
    mappings = _mappings(vendor, registry or default_registry())
    for link, found in chain(exc, mappings):
        if isinstance(link, VendorError):
            return Answer(link.outcome)
        if found is None:
            continue
        mapping, spec = found
        outcome = _read(link, mapping, spec, product, registry)
        if outcome is not None:
            headers = _first(link, spec.headers)
            return Answer(outcome, headers if isinstance(headers, Mapping) else None, mapping)
    return None


def _read(
    exc: BaseException,
    mapping: VendorMapping,
    spec: SdkError,
    product: str | None,
    registry: Registry | None,
) -> Outcome | None:
    """One exception's answer, as its ``[sdk]`` entry says where it is; None when it holds
    none (a transport failure, or no code, status or body at all)."""
    code = _usable(_first(exc, spec.code))
    message = _text(_first(exc, spec.message))
    if code is None and spec.text is not None:
        found = spec.text.search(str(exc))
        if found is not None:
            code = found["code"]
            if "message" in spec.text.groupindex and found["message"]:
                message = found["message"]
    if code is not None and str(code) in spec.transport:
        return None
    status = _status(_first(exc, spec.status))
    url = _text(_first(exc, spec.url))
    request_id = _usable(_first(exc, spec.request_id))
    body = _first(exc, spec.body)
    chosen = product or spec.product
    if status is None and code is None and body is None:
        return None  # nothing says what the vendor answered: no reading is better than a guess
    answered = 200 if status is None else status
    if body is not None:
        outcome = classify(
            mapping.id, body, status_code=answered, url=url, product=chosen, registry=registry
        )
        if outcome.code is not None or code is None:
            return _with_request_id(outcome, request_id)
    doc = _document(mapping, chosen, code, message, request_id)
    outcome = classify(
        mapping.id, doc, status_code=answered, url=url, product=chosen, registry=registry
    )
    return _with_request_id(outcome, request_id)


def _with_request_id(outcome: Outcome, request_id: str | int | None) -> Outcome:
    if outcome.request_id is not None or request_id is None:
        return outcome
    return derive(outcome, request_id=str(request_id))


def _document(
    mapping: VendorMapping,
    product: str | None,
    code: str | int | None,
    message: str | None,
    request_id: str | int | None,
) -> dict[str, Any]:
    """The answer put back where the vendor's envelope keeps it (its first plain path for
    each field), so that the vendor's tables and ``[[when]]`` rules read it as they would
    read the vendor's own body."""
    chosen = mapping.products.get(product) if product is not None else None
    envelope = mapping.envelope_for(chosen)
    doc: dict[str, Any] = {}
    for paths, value in (
        (envelope.code, code),
        (envelope.message, message),
        (envelope.request_id, request_id),
    ):
        if value is None:
            continue
        path = next((p for p in paths if not any(s.isdecimal() for s in p.segments)), None)
        if path is None or not path.segments:
            continue
        node = doc
        for segment in path.segments[:-1]:
            child = node.get(segment)
            if not isinstance(child, dict):
                child = node[segment] = {}
            node = child
        node.setdefault(path.segments[-1], value)
    return doc


# --- what an SDK returns --------------------------------------------------------------------


def sdk_document(mapping: VendorMapping, body: Any, status_code: int) -> tuple[Body, int]:
    """``body`` as :func:`normalizer.classify` reads it, and the HTTP status: a response
    body (bytes, str, parsed JSON) unchanged; an SDK's response model converted to the
    vendor's JSON (its ``[[sdk.models]]`` entry says where the content sits and which
    attribute holds the status), the status it carries taking the place of the default."""
    if body is None or isinstance(body, _PLAIN):
        return body, status_code
    spec = _model_spec(mapping, type(body))
    target = body
    if spec is not None:
        inner = _first(body, spec.body)
        if inner is not None:
            target = inner
        status = _status(_first(body, spec.status))
        if status is not None:
            status_code = status
    doc = as_dict(target)
    if doc is not None and spec is not None and spec.at:
        for segment in reversed(spec.at.split(".")):
            doc = {segment: doc}
    return doc, status_code


def _model_spec(mapping: VendorMapping, cls: type) -> SdkModel | None:
    models = mapping.sdk.models
    if not models:
        return None
    for name in class_names(cls):
        for spec in models:
            if name in spec.classes:
                return spec
    return None


def as_dict(model: object) -> dict[str, Any] | list[Any] | None:
    """A model object as plain data, by what it can do: Tea's ``to_map()``, Tencent Cloud's
    ``_serialize()``, an OpenAPI-generated ``to_dict()`` (by the API's field names), pydantic's
    ``model_dump(by_alias=True)``, else its public attributes (Twilio's instances); None for
    anything else."""
    if isinstance(model, dict | list):
        return model
    for method, kwargs in (
        ("to_map", {}),
        ("_serialize", {}),
        ("to_dict", {}),
        ("model_dump", {"by_alias": True, "mode": "json"}),
    ):
        convert = getattr(model, method, None)
        if callable(convert):
            try:
                value = convert(**kwargs)
            except Exception:  # a model that cannot convert itself: try the next way
                continue
            if isinstance(value, dict | list):
                return value
    try:
        fields = vars(model)
    except TypeError:
        return None
    return {k: v for k, v in fields.items() if not k.startswith("_")}


# --- attributes -----------------------------------------------------------------------------


def attribute(obj: object, path: str) -> object:
    """The value at a dotted attribute path (a mapping's key where a step is a mapping)."""
    node = obj
    for step in path.split("."):
        node = node.get(step) if isinstance(node, Mapping) else getattr(node, step, None)
        if node is None:
            return None
    return node


def _first(obj: object, paths: tuple[str, ...]) -> Any:
    for path in paths:
        value = attribute(obj, path)
        if value is not None and value != "":
            return value
    return None


def _usable(value: object) -> str | int | None:
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    if isinstance(value, str) and not value.strip():
        return None
    return value


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _status(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.strip().isdecimal():
        value = int(value)
    return value if isinstance(value, int) and 100 <= value <= 599 else None


# --- transport failures wrapped by an SDK ---------------------------------------------------

# Which HTTP library's exceptions say the request never left, and which that it may have
# reached the vendor: knowledge of requests, urllib3, aiohttp and httpx, not of any vendor.
NEVER_CONNECTED = frozenset(
    {
        "requests.exceptions.ConnectTimeout",
        "urllib3.exceptions.NewConnectionError",
        "urllib3.exceptions.ConnectTimeoutError",
        "aiohttp.client_exceptions.ClientConnectorError",
        "aiohttp.client_exceptions.ConnectionTimeoutError",  # connecting timed out (3.10+)
        "httpx.ConnectError",
        "httpx.ConnectTimeout",
        "httpx.PoolTimeout",
    }
)
_MAYBE_SENT = frozenset(
    {
        "requests.exceptions.ConnectionError",
        "requests.exceptions.Timeout",
        "requests.exceptions.ChunkedEncodingError",
        "urllib3.exceptions.ProtocolError",
        "urllib3.exceptions.TimeoutError",
        "aiohttp.client_exceptions.ServerDisconnectedError",
        "aiohttp.client_exceptions.ServerTimeoutError",
        "aiohttp.client_exceptions.ClientOSError",
        "http.client.RemoteDisconnected",
        "httpx.TransportError",
    }
)


def transport_failure(
    exc: BaseException, *, vendor: str | None = None, registry: Registry | None = None
) -> httpx.TransportError | None:
    """The transport failure under ``exc`` (raised by an SDK's HTTP library, maybe wrapped
    by the SDK), as the httpx error the transports judge the same way: ``ConnectError`` when
    the request never left, ``ReadError`` when it may have reached the vendor; None when
    there is none. Never sent is the more specific reading: a requests ``ConnectionError``
    over urllib3's ``NewConnectionError`` never left."""
    mappings = _mappings(vendor, registry or default_registry())
    maybe = False
    for link, _ in chain(exc, mappings):
        if isinstance(link, VendorError):
            return None  # an answer, not a transport failure
        names = set(class_names(type(link)))
        if names & NEVER_CONNECTED:
            return httpx.ConnectError(f"never sent: {type(link).__name__}")
        if names & _MAYBE_SENT:
            maybe = True
        reason = getattr(link, "reason", None)  # urllib3's MaxRetryError keeps its cause here
        if isinstance(reason, BaseException) and set(class_names(type(reason))) & NEVER_CONNECTED:
            return httpx.ConnectError(f"never sent: {type(reason).__name__}")
    return httpx.ReadError("may have been sent") if maybe else None


def vendor_error_in(exc: BaseException) -> VendorError | None:
    """A :class:`VendorError` in ``exc``'s chain (an SDK wrapping a normalizer transport's)."""
    for link, _ in chain(exc):
        if isinstance(link, VendorError):
            return link
    return None
