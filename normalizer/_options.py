"""Everything a normalizing transport or client is configured with, in one frozen object.

Both transports and both clients take an :class:`Options`, or the keyword arguments that build
one (``retry=``, ``state=``, ...): adding an option is one field here and one key in
:class:`OptionsKwargs`, and every entry point has it.
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypedDict

from ._body import DEFAULT_MAX_BODY_SIZE
from ._limiter import RateLimiter
from ._logging import OnOutcome
from ._redact import Redactor
from ._registry import Registry
from ._retry import RetryPolicy
from ._store import AsyncStore, CircuitBreaker, Store
from ._telemetry import Telemetry

DEFAULT_RETRY = RetryPolicy()
DEFAULT_LIMITER = RateLimiter()


@dataclasses.dataclass(frozen=True, kw_only=True)
class Options:
    """How vendor calls are read, retried, limited and observed; immutable, shareable.

    ``retry`` (a :class:`RetryPolicy`, None turns retrying off); ``registry`` of mappings
    (default: the process-wide one); ``max_body_size`` (bytes of a JSON body read to classify
    it); ``raise_on_error`` (a non-ok final outcome raises its :class:`VendorError`);
    ``limiter`` (a :class:`RateLimiter`: adaptive and on by default, engaged only once a vendor
    says it is overloaded; None turns it off); ``circuit`` (a :class:`CircuitBreaker`, off by
    default); ``state`` (where retry budgets, rate limits, circuits and cooldowns live: a
    :class:`LocalState` of the transport's or client's own by default, or
    ``normalizer.redis.RedisState`` shared between processes); and observability:
    ``logger`` (default: structlog's ``"normalizer"`` logger once the application configured
    structlog, else the stdlib logger ``"normalizer"``; a stdlib logger may be given),
    ``on_outcome`` (called once per call with a :class:`VendorCall`), ``redactor``,
    ``log_bodies`` and ``telemetry`` (OpenTelemetry: None reports to the global providers when
    ``opentelemetry-api`` is installed, False never, a :class:`Telemetry` as it says).
    """

    retry: RetryPolicy | None = DEFAULT_RETRY
    registry: Registry | None = None
    max_body_size: int = DEFAULT_MAX_BODY_SIZE
    raise_on_error: bool = False
    limiter: RateLimiter | None = DEFAULT_LIMITER
    circuit: CircuitBreaker | None = None
    state: Store | AsyncStore | None = None
    logger: Any = None
    on_outcome: OnOutcome | None = None
    redactor: Redactor | None = None
    log_bodies: bool = False
    telemetry: Telemetry | bool | None = None

    def __post_init__(self) -> None:
        if self.max_body_size < 0:
            raise ValueError("max_body_size must be >= 0")

    @classmethod
    def of(cls, options: Options | None, kwargs: OptionsKwargs) -> Options:
        """``options``, or the options the keyword arguments build (not both)."""
        if options is None:
            return cls(**kwargs)
        if kwargs:
            raise TypeError(f"pass options= or its keyword arguments, not both: {sorted(kwargs)}")
        return options


class OptionsKwargs(TypedDict, total=False):
    """The keyword arguments that build :class:`Options` (see there)."""

    retry: RetryPolicy | None
    registry: Registry | None
    max_body_size: int
    raise_on_error: bool
    limiter: RateLimiter | None
    circuit: CircuitBreaker | None
    state: Store | AsyncStore | None
    logger: Any
    on_outcome: OnOutcome | None
    redactor: Redactor | None
    log_bodies: bool
    telemetry: Telemetry | bool | None


OPTION_NAMES = frozenset(OptionsKwargs.__annotations__)
