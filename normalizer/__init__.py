"""normalizer: telephony, SMS and call-center vendor APIs behind one well-mannered taxonomy.

``import normalizer`` loads what reading a vendor's codes needs (the taxonomy, the outcome,
the classifier and its registry); the clients, transports, retry helpers, state stores,
telemetry, SDK and webhook readers are imported when one of their names is first used (a
module ``__getattr__``, as httpx and structlog do), so a process that only classifies never
pays for them. Every name in ``__all__`` is reachable either way.
"""

import typing as _typing

from ._category import Category, Fault, Scope
from ._classify import classify, classify_many, lookup
from ._exceptions import (
    AuthError,
    BillingError,
    BusyError,
    CircuitOpenError,
    MappingError,
    NormalizerError,
    NotFoundError,
    PartialFailure,
    RateLimitedError,
    ServerError,
    SignatureError,
    UnknownOutcomeError,
    UnknownVendorError,
    UnregisteredVendorError,
    ValidationError,
    VendorError,
)
from ._items import retry_recipients
from ._mapping import VendorMapping
from ._outcome import Item, Match, Outcome, outcome_of
from ._redact import Redactor
from ._registry import MappingWarning, Registry, register_mappings

if _typing.TYPE_CHECKING:
    from ._callbacks import classify_callback
    from ._client import AsyncClient, Client
    from ._failover import AsyncFailover, Failover, FailoverAttempt, FailoverLeg, FailoverResult
    from ._limiter import RateLimiter
    from ._logging import VendorCall
    from ._options import Options
    from ._retry import RetryPolicy, retry_if_retryable, stop_vendor, wait_vendor
    from ._sdk import classify_exception
    from ._store import CircuitBreaker, LocalState
    from ._telemetry import Telemetry
    from ._transports import AsyncNormalizingTransport, NormalizingTransport, raise_for_outcome

__version__ = "0.1.0"

__all__ = [
    "AsyncClient",
    "AsyncFailover",
    "AsyncNormalizingTransport",
    "AuthError",
    "BillingError",
    "BusyError",
    "Category",
    "CircuitBreaker",
    "CircuitOpenError",
    "Client",
    "Failover",
    "FailoverAttempt",
    "FailoverLeg",
    "FailoverResult",
    "Fault",
    "Item",
    "LocalState",
    "MappingError",
    "MappingWarning",
    "Match",
    "NormalizerError",
    "NormalizingTransport",
    "NotFoundError",
    "Options",
    "Outcome",
    "PartialFailure",
    "RateLimitedError",
    "RateLimiter",
    "Redactor",
    "Registry",
    "RetryPolicy",
    "Scope",
    "ServerError",
    "SignatureError",
    "Telemetry",
    "UnknownOutcomeError",
    "UnknownVendorError",
    "UnregisteredVendorError",
    "ValidationError",
    "VendorCall",
    "VendorError",
    "VendorMapping",
    "__version__",
    "classify",
    "classify_callback",
    "classify_exception",
    "classify_many",
    "lookup",
    "outcome_of",
    "raise_for_outcome",
    "register_mappings",
    "retry_if_retryable",
    "retry_recipients",
    "stop_vendor",
    "wait_vendor",
]

_LAZY = {
    "AsyncClient": "_client",
    "AsyncFailover": "_failover",
    "AsyncNormalizingTransport": "_transports",
    "CircuitBreaker": "_store",
    "Client": "_client",
    "Failover": "_failover",
    "FailoverAttempt": "_failover",
    "FailoverLeg": "_failover",
    "FailoverResult": "_failover",
    "LocalState": "_store",
    "NormalizingTransport": "_transports",
    "Options": "_options",
    "RateLimiter": "_limiter",
    "RetryPolicy": "_retry",
    "Telemetry": "_telemetry",
    "VendorCall": "_logging",
    "classify_callback": "_callbacks",
    "classify_exception": "_sdk",
    "raise_for_outcome": "_transports",
    "retry_if_retryable": "_retry",
    "stop_vendor": "_retry",
    "wait_vendor": "_retry",
}
"""Public names imported on first use, by the module that defines them: the call path
(clients, transports, retry, stores, limiter, logging, telemetry: tenacity and a few dozen
dataclasses) and the SDK and webhook readers, none of which a lookup or classify needs."""


def _present(value: _typing.Any) -> None:
    """Show a public object as a member of this package (as httpx does) for docs and reprs."""
    value.__module__ = "normalizer"


def __getattr__(name: str) -> _typing.Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'normalizer' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f"normalizer.{module}"), name)
    _present(value)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


for _name in __all__:
    if _name != "__version__" and _name not in _LAZY:
        _present(globals()[_name])
del _name
