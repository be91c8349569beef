"""normalizer: telephony, SMS and call-center vendor APIs behind one well-mannered taxonomy."""

from ._callbacks import classify_callback
from ._category import Category, Scope
from ._classify import classify, classify_many, lookup
from ._client import AsyncClient, Client
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
from ._limiter import RateLimiter
from ._logging import VendorCall
from ._mapping import VendorMapping
from ._options import Options
from ._outcome import Item, Match, Outcome, outcome_of
from ._redact import Redactor
from ._registry import MappingWarning, Registry, register_mappings
from ._retry import RetryPolicy, retry_if_retryable, stop_vendor, wait_vendor
from ._sdk import classify_exception
from ._store import CircuitBreaker, LocalState
from ._telemetry import Telemetry
from ._transports import AsyncNormalizingTransport, NormalizingTransport, raise_for_outcome

__version__ = "0.1.0"

__all__ = [
    "AsyncClient",
    "AsyncNormalizingTransport",
    "AuthError",
    "BillingError",
    "BusyError",
    "Category",
    "CircuitBreaker",
    "CircuitOpenError",
    "Client",
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

# Present the public names as members of this package (as httpx does) for docs and reprs.
for _name in __all__:
    if _name != "__version__":
        globals()[_name].__module__ = "normalizer"
del _name
