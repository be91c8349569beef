"""Client-side rate limiting: send no faster than the vendor serves, learned from its answers.

Most vendors do not publish their limit, and the one an account gets moves with the vendor's
load; what they do is answer "too frequent" (Onbuka ``-15``, UCPaaS ``107225`` 外呼繁忙, HTTP
429). Retrying those with backoff converges but keeps the vendor at its limit; a Retry-After
turned into a pause for every caller stops the flow although the vendor could serve most of it.
So every vendor gets an adaptive limiter:

- it does nothing until the vendor says it is overloaded, with a busy answer of vendor or
  account scope (:class:`~normalizer.Scope`): a healthy vendor sees no difference;
- then the rate becomes ``beta`` times the rate calls were going out at (the limiter's own
  rate while calls queue for turns, else the measured sending rate), and grows back along
  CUBIC's curve (RFC 9438; botocore's adaptive retry mode does the same for AWS throttling):
  quickly while far below the rate that was refused, flat near it, then probing above it. Each
  later signal lowers it again, once per round: answers to calls let go before the last
  lowering (or just after it, while the vendor recovers: ``SETTLE``) say nothing new, so sixteen
  refusals in flight lower the rate once, not sixteen times;
- calls wait for their turn instead of being sent to be refused. Turns are handed out by GCRA
  (one "theoretical arrival time" per vendor, one number a Redis store can keep for a fleet), at
  most ``max_wait`` ahead and never past the retry policy's deadline: a call whose turn comes too
  late fails at once with :class:`~normalizer.RateLimitedError`;
- when the curve has grown to ``RELEASE`` times the refused rate with no new signal, the limiter
  lets go (calls go out untouched again until the next signal).

Why CUBIC rather than AIMD or Google SRE's client-side throttling: SRE's accept ratio drops calls
locally at random instead of pacing them, and linear AIMD spends most of its time well below the
limit it is climbing back to (a slow climb) or refuses often (a fast one); CUBIC's plateau near the
last refused rate keeps goodput within a few percent of capacity with few refusals.

The numbers are kept as plain fields (the store's ``_Slot``, the Redis hash) and these functions
are their only rules; ``LocalState`` applies them and the Redis store's script mirrors it.
"""

from __future__ import annotations

import dataclasses
import math

from ._mapping import parse_rate

BETA = 0.7
"""The share of the refused rate the limiter drops to (CUBIC's multiplicative decrease)."""
SCALE = 0.4
"""CUBIC's C: how fast the rate grows back, in calls/s per s³."""
RELEASE = 1.5
"""Let go when the curve reaches this multiple of the refused rate without a new signal."""
TOLERANCE = 0.05
"""Seconds of burst a turn may be taken early (about ``rate * TOLERANCE`` calls at once)."""
BUCKET = 0.5
"""Seconds over which the sending rate is counted."""
SMOOTHING = 0.8
"""Weight of the latest bucket in the smoothed sending rate."""
ROUNDING = 1.0
"""A Retry-After this short on an account's rate limit is the header's whole-second rounding,
not a pause: the first retry of a call refused with it waits for a limiter turn instead."""
SETTLE = 0.1
"""Seconds after a lowering whose calls' refusals do not lower the rate again: the vendor's own
bucket, emptied by the rate that was refused, needs a moment to refill."""


def news(at: float, since: float) -> bool:
    """A refusal of a call admitted at ``at`` tells something the lowering at ``since`` did
    not already answer (one lowering per round, not one per refusal in flight)."""
    return since <= 0 or at >= since + SETTLE


@dataclasses.dataclass(frozen=True)
class RateLimiter:
    """How fast calls to a vendor go out (per product, and per account on Redis); on by
    default, adaptive.

    ``rate``: a ceiling in calls per second (a number, or text such as ``"100/s"``,
    ``"600/min"``) for every vendor the transport calls, lowered further by a vendor's own
    published ``rate`` in its mapping. ``adaptive``: learn the rate from the vendor's
    overload answers (see the module); False keeps only the ceiling, a static limiter.
    ``max_wait``: the longest a call waits for its turn before failing with
    :class:`~normalizer.RateLimitedError` (the retry policy's deadline also bounds it).
    ``min_rate``: the adaptive rate never drops below this.

    Waiting needs the retry policy's sleep: with ``retry=None`` (or under
    ``normalizer.testing.set_testing(True)``) nothing is limited.
    """

    rate: float | str | None = None
    adaptive: bool = True
    max_wait: float = 5.0
    min_rate: float = 0.5

    def __post_init__(self) -> None:
        if self.rate is not None:
            object.__setattr__(self, "rate", parse_rate(self.rate))
        if not (self.max_wait >= 0 and self.min_rate > 0):
            raise ValueError("max_wait must be >= 0 and min_rate > 0")

    def ceiling(self, published: float | None) -> float:
        """Calls per second never exceeded for a vendor publishing ``published`` (inf: none)."""
        rates = [r for r in (self.rate, published) if r is not None]
        return float(min(rates)) if rates else math.inf


def curve(peak: float, since: float, now: float) -> float:
    """CUBIC's rate ``now - since`` seconds after the rate ``peak`` was refused."""
    k: float = (peak * (1 - BETA) / SCALE) ** (1 / 3)
    return SCALE * (max(0.0, now - since) - k) ** 3 + peak  # a clock stepping back: no time


def rate_at(peak: float, since: float, now: float, ceiling: float, min_rate: float) -> float:
    """The rate a vendor's calls go out at: the curve when engaged (``peak`` > 0), within the
    ceiling and the floor; inf when nothing limits it."""
    if peak <= 0:
        return ceiling
    return min(ceiling, max(min_rate, curve(peak, since, now)))


def released(peak: float, since: float, now: float) -> bool:
    """The curve has grown far past the refused rate: no signal for long, let go."""
    return peak > 0 and curve(peak, since, now) >= RELEASE * peak


def turn(
    tat: float, now: float, arrival: float, rate: float, horizon: float = math.inf
) -> tuple[float, float]:
    """GCRA: when a call arriving at ``arrival`` may go, and the next theoretical arrival time.

    Returns ``(start, tat)``; with no limit (``rate`` inf) the call goes on arrival. No turn is
    ever handed out further than ``horizon`` ahead: a ``tat`` beyond it means the clock stepped
    back (a Redis server's, after NTP or a failover), and is forgotten rather than obeyed.
    """
    if math.isinf(rate):
        return arrival, tat
    if tat - now > horizon:
        tat = now
    start = max(arrival, tat - TOLERANCE)
    return start, max(tat, start) + 1 / rate


def given_back(tat: float, now: float, rate: float) -> float:
    """The theoretical arrival time once a call gives its turn back (cancelled while waiting)."""
    if math.isinf(rate) or tat <= now:
        return tat
    return max(now, tat - 1 / rate)


def tick(meter: list[float], now: float) -> None:
    """Count one call in a sending-rate meter ``[bucket start, count in it, smoothed rate]``."""
    elapsed = now - meter[0]
    if elapsed >= BUCKET:
        meter[2] = SMOOTHING * meter[1] / elapsed + (1 - SMOOTHING) * meter[2]
        meter[0], meter[1] = now, 1.0
    else:
        meter[1] += 1.0


def sending(meter: list[float] | None, now: float) -> float:
    """The rate calls were going out at: the smoothed rate, or the current bucket's if higher.

    Over- rather than underestimating: a rate set too high is lowered by the next refusal within
    one round, one set too low takes the curve seconds to climb back from.
    """
    if meter is None:
        return 0.0
    start, count, rate = meter
    return max(rate, count / max(now - start, TOLERANCE))


def lowered(
    peak: float, since: float, now: float, meter: float, ceiling: float, min_rate: float
) -> float:
    """The new ``peak`` after a refusal: the rate calls were going out at (no more than the
    limiter allowed, when engaged), which the curve drops from to ``BETA`` times it."""
    if peak > 0:
        meter = min(meter, rate_at(peak, since, now, ceiling, min_rate))
    return max(min_rate, min(meter, ceiling))
