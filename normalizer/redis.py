"""Share retry budgets, circuits and cooldowns between processes, on Redis.

Optional: needs ``pip install 'telco-normalizer[redis]'`` (redis-py). A fleet of workers calling
one vendor account then spends one retry budget, sees one circuit and waits out one cooldown::

    from normalizer import Client, CircuitBreaker
    from normalizer.redis import RedisState

    state = RedisState.from_url("redis://localhost:6379/0", account="acme-prod")
    client = Client("mango", circuit=CircuitBreaker(), state=state)

Each answer is one Lua script run on the server, so no two workers can both take the last retry
token or both be the probe of a half-open circuit; times come from the server's clock, so the
workers' clocks need not agree. The keys are ``{prefix:account:vendor}`` hashes (one hash slot
per vendor, for Redis Cluster) that expire an idle hour after the last call admitted, or after
the pause they hold; calls the client may refuse (a pause is pending) do not keep them alive.
Every value read back is checked as :class:`~normalizer.LocalState` checks its own: one that
is not a number, or lies further ahead than any client puts it, is read as absent.

Redis is an accelerator, never a single point of failure: when it fails or is slow (keep the
client's timeouts short, as :meth:`RedisState.from_url` does), the store answers from its
in-process :class:`~normalizer.LocalState` instead, logs one ``shared_state_unavailable``
warning, tries Redis again after ``retry_interval`` seconds, and logs ``shared_state_restored``
when it answers again.
"""

from __future__ import annotations

import dataclasses
import math
import re
import time
from collections.abc import Callable
from typing import Any, Generic, TypeVar, cast

try:
    import redis
    import redis.asyncio
    from redis.asyncio.retry import Retry as AsyncRetry
    from redis.backoff import NoBackoff
    from redis.retry import Retry as SyncRetry
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "normalizer.redis needs redis-py: pip install 'telco-normalizer[redis]'"
    ) from exc

from . import _limiter
from ._logging import adapt
from ._mapping import MAX_COOLDOWN
from ._redact import DEFAULT as DEFAULT_REDACTOR
from ._redact import clean_text
from ._store import (
    STEP,
    A,
    Admission,
    Admit,
    AsyncStore,
    GiveBack,
    Keys,
    Limits,
    LocalState,
    Pace,
    Query,
    Record,
    Refund,
    Release,
    Retry,
    Signal,
    Store,
    Transition,
    Verdict,
)

__all__ = ["AsyncRedisState", "RedisState"]

_SCRIPT = """
-- the question, by name (normalizer/redis.py's _argv): ARGV holds name, value pairs; numbers
-- are read as numbers, and one that is infinite (no bound: patience, the rate's ceiling) was
-- left out and reads nil here
local q = {}
for i = 1, #ARGV, 2 do q[ARGV[i]] = tonumber(ARGV[i + 1]) or ARGV[i + 1] end
local now = q.now
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) + tonumber(t[2]) / 1000000
end
local vendor, circuit, pacer = KEYS[1], KEYS[2], KEYS[3]
local op, capacity, ttl = q.op, q.capacity or 0, q.ttl
-- the circuit breaker's (threshold 0: none)
local threshold, window, recovery = q.failures or 0, q.window or 0, q.recovery or 0

-- every number read is checked first (the rules of normalizer/_store.py's _settle): a hash
-- written by another program, by hand or by a bug must neither fail a call nor lock a vendor
-- out. A value that is no finite non-negative decimal number (hex, 'nan', 'inf', '-1', '1e999',
-- 'soon'), or lies further ahead than it could have been put (STEP), is read as absent (the
-- next write of the field replaces it), and its hash is given an expiry if it had none
local hashes = {}  -- each key's fields, read once (HGETALL) and kept in step with the writes
local function hash(key)
  local h = hashes[key]
  if not h then
    h = {}
    local flat = redis.call('HGETALL', key)
    for i = 1, #flat, 2 do h[flat[i]] = flat[i + 1] end
    hashes[key] = h
  end
  return h
end
local function write(key, ...)
  redis.call('HSET', key, ...)
  local h, pairs_ = hashes[key], {...}
  if h then
    for i = 1, #pairs_, 2 do h[pairs_[i]] = tostring(pairs_[i + 1]) end
  end
end
local function absent(key)
  if redis.call('TTL', key) == -1 then redis.call('EXPIRE', key, ttl) end
  return nil
end
local function read(key, field)  -- nil: absent
  local v = hash(key)[field]
  if not v then return nil end
  local x = tonumber(v)  -- which reads ' 1', '0x1f', 'inf' and 'nan' too
  if x and x >= 0 and x < math.huge and not string.find(v, '[xX]') then return x end
  return absent(key)
end
local function num(key, field)
  return read(key, field) or 0
end
local function upto(key, field, top)  -- no more than top; absent: 0
  local x = read(key, field)
  if not x then return 0 end
  if x > top then
    absent(key)
    return 0
  end
  return x
end
local function ending(key, field, longest)  -- an end time, and the seconds left until it
  local t = upto(key, field, now + STEP + longest)
  return t, math.min(math.max(0, t - now), longest)
end
local function started(key, field)  -- a time recorded as "now"
  return upto(key, field, now + STEP)
end
local function cooldown()  -- what is left of the vendor's pause: never more than recorded
  local longest = read(vendor, 'cooldown_for')
  if not longest or longest > MAX_COOLDOWN then longest = MAX_COOLDOWN end
  local _, left = ending(vendor, 'cooldown_until', longest)
  return left
end
local function str(x)  -- every digit: times near 1.8e9 s keep their microseconds
  return string.format('%.17g', x)
end

-- each key written lives an idle hour past the pause it holds; a call that may be refused
-- (a pause is pending: the client refuses one longer than it may wait) extends no expiry
local kept, quiet = {}, false
local function keep(key)
  if not quiet or redis.call('TTL', key) < 0 then kept[key] = true end
end
local function done(reply)
  for key in pairs(kept) do
    local hold = 0
    if key == vendor then hold = cooldown() end
    if key == circuit and threshold > 0 then
      local _, open = ending(circuit, 'opened_until', recovery)
      local _, probing = ending(circuit, 'probe_until', recovery)
      hold = math.max(hold, open, probing)
    end
    redis.call('EXPIRE', key, ttl + math.ceil(hold))
  end
  return reply
end

-- the rate limiter (mirrors normalizer/_limiter.py): its fields come only with one
local limited, adaptive = q.adaptive ~= nil, q.adaptive == 1
local ceiling, min_rate = q.ceiling, q.min_rate or 0  -- ceiling nil: none
local max_wait = q.max_wait or math.huge
local function curve(peak, since)
  local k = (peak * (1 - BETA) / SCALE) ^ (1 / 3)
  return SCALE * (math.max(0, now - since) - k) ^ 3 + peak
end
local function rate_at(peak, since)  -- nil: no limit
  if peak <= 0 then return ceiling end
  local rate = math.max(min_rate, curve(peak, since))
  if ceiling then rate = math.min(rate, ceiling) end
  return rate
end

if op == 'Refund' then
  local tokens = read(vendor, 'tokens')
  if tokens then
    write(vendor, 'tokens', math.min(capacity, tokens + q.tokens))
  end
  return ''
end

if op == 'Release' then  -- a probe that will never report: the next call may probe
  if redis.call('EXISTS', circuit) == 1 then redis.call('HSET', circuit, 'probe_until', 0) end
  return ''
end

if op == 'GiveBack' then  -- a turn taken by a call that was cancelled while waiting for it
  local rate = rate_at(num(pacer, 'peak'), started(pacer, 'since'))
  local tat = num(pacer, 'tat')
  if limited and rate and tat > now then
    write(pacer, 'tat', str(math.max(now, tat - 1 / rate)))
  end
  return ''
end

-- a rate-limiter turn for a call arriving at `arrival`: taken (reserve) or only looked at;
-- returns its start, and false when it is more than `patience` (nil: any) from now
local function take_turn(arrival, patience, reserve)
  if not limited then return arrival, true end
  local peak, since = num(pacer, 'peak'), started(pacer, 'since')
  if peak > 0 and curve(peak, since) >= RELEASE * peak then
    peak = 0
    write(pacer, 'peak', 0)
  end
  local start = arrival
  local rate = rate_at(peak, since)
  local tat = num(pacer, 'tat')
  if rate then
    -- a turn further ahead than any call may wait: the server's clock stepped back
    if tat - now > max_wait + 1 / rate + TOLERANCE then tat = now end
    start = math.max(arrival, tat - TOLERANCE)
  end
  if patience and start - now > patience then return start, false end
  if not reserve then return start, true end
  if rate then write(pacer, 'tat', str(math.max(tat, start) + 1 / rate)) end
  if adaptive then
    local m_start, count, m_rate = started(pacer, 'm_start'), num(pacer, 'm_count'),
      num(pacer, 'm_rate')
    if m_start <= 0 then
      m_start, count = now, 1
    elseif now - m_start >= BUCKET then
      m_rate = SMOOTHING * count / (now - m_start) + (1 - SMOOTHING) * m_rate
      m_start, count = now, 1
    else
      count = count + 1
    end
    write(pacer, 'm_start', str(m_start), 'm_count', count, 'm_rate', str(m_rate))
  end
  keep(pacer)
  return start, true
end

if op == 'Pace' then
  local start, granted = take_turn(now, q.patience, true)
  local verdict = 'go'
  if not granted then verdict = 'rate' end
  return done({verdict, '0', '0', str(start - now), str(now)})
end

if op == 'Admit' or op == 'Retry' then
  local cost = q.cost or 0
  local verdict = 'go'
  local opened = 0
  if threshold > 0 then
    local open
    opened, open = ending(circuit, 'opened_until', recovery)
    if opened > 0 then
      if open > 0 then return {'open', str(open), '0', '0', str(now)} end
      local _, probing = ending(circuit, 'probe_until', recovery)
      if probing > 0 then return {'open', str(probing), '0', '0', str(now)} end
      verdict = 'probe'
    end
  end
  local tokens = math.min(capacity, read(vendor, 'tokens') or capacity)
  if cost > tokens then return {'budget', '0', '0', '0', str(now)} end
  local wait = cooldown()
  quiet = wait > 0
  -- a first attempt takes its turn; a retry only looks (it takes one when due: 'Pace')
  local start, granted = take_turn(now + (q.delay or 0), q.patience, op == 'Admit')
  if not granted then return done({'rate', '0', '0', str(start - now), str(now)}) end
  if cost > 0 then
    write(vendor, 'tokens', tokens - cost)
    keep(vendor)
  end
  if verdict == 'probe' then
    write(circuit, 'probe_until', str(now + recovery))
    keep(circuit)
  end
  local clean = '0'
  if num(circuit, 'failures') == 0 and opened == 0 and tokens >= capacity then clean = '1' end
  return done({verdict, str(wait), clean, str(start - now), str(now)})
end

-- 'Record': what an attempt showed (its Signal's fields)
local failed = q.failed == 1
local probe = q.probe == 1  -- only the probe's success closes an open circuit
local transition = ''
if threshold > 0 then
  local opened = ending(circuit, 'opened_until', recovery)
  if not failed then
    if opened == 0 or probe then
      if opened > 0 then transition = 'closed' end
      write(circuit, 'failures', 0, 'first_failure', 0, 'opened_until', 0, 'probe_until', 0)
    end
  elseif opened > 0 then
    if now >= opened then transition = 'opened' end
    write(circuit, 'opened_until', str(now + recovery), 'probe_until', 0)
  else
    local failures, first = num(circuit, 'failures'), started(circuit, 'first_failure')
    if failures == 0 or now - first > window then
      failures, first = 1, now
    else
      failures = failures + 1
    end
    if failures >= threshold then
      write(circuit, 'failures', 0, 'opened_until', str(now + recovery))
      transition = 'opened'
    else
      write(circuit, 'failures', failures, 'first_failure', str(first))
    end
  end
  keep(circuit)
end
local pause = math.min(q.cooldown or math.huge, MAX_COOLDOWN)  -- nil: infinite
if pause > 0 and cooldown() < pause then
  write(vendor, 'cooldown_until', str(now + pause), 'cooldown_for', str(pause))
end
if q.refund > 0 then
  local tokens = read(vendor, 'tokens')
  if tokens then write(vendor, 'tokens', math.min(capacity, tokens + q.refund)) end
end
keep(vendor)
-- a busy answer of shared scope lowers the rate, once per round (a call admitted after the
-- last lowering and its settling time), and from a rate actually measured
if q.slow == 1 and limited and adaptive then
  local since = started(pacer, 'since')
  local m_start, count, m_rate = started(pacer, 'm_start'), num(pacer, 'm_count'),
    num(pacer, 'm_rate')
  local meter = m_rate
  if m_start > 0 then meter = math.max(m_rate, count / math.max(now - m_start, TOLERANCE)) end
  local peak = num(pacer, 'peak')
  if peak > 0 and num(pacer, 'tat') > now then meter = rate_at(peak, since) end  -- queued
  if meter > 0 and (since <= 0 or q.at >= since + SETTLE) then
    if peak > 0 then meter = math.min(meter, rate_at(peak, since)) end
    if ceiling then meter = math.min(meter, ceiling) end
    write(pacer, 'peak', str(math.max(min_rate, meter)), 'since', str(now))
    keep(pacer)
  end
end
return done(transition)
"""

_SCRIPT = (
    _SCRIPT.replace("BETA", repr(_limiter.BETA))
    .replace("SCALE", repr(_limiter.SCALE))
    .replace("RELEASE", repr(_limiter.RELEASE))
    .replace("TOLERANCE", repr(_limiter.TOLERANCE))
    .replace("BUCKET", repr(_limiter.BUCKET))
    .replace("SMOOTHING", repr(_limiter.SMOOTHING))
    .replace("SETTLE", repr(_limiter.SETTLE))
    .replace("MAX_COOLDOWN", repr(MAX_COOLDOWN))
    .replace("STEP", repr(STEP))
)
_TTL = 3600

_Client = TypeVar("_Client", redis.Redis, redis.asyncio.Redis)


class _Away(redis.RedisError):
    """Redis is known to be away (no connection attempt until retry time)."""


_ERRORS = (redis.RedisError, OSError)


def _argv(question: Query[Any], now: float | None) -> list[str | float]:
    """``question`` as the script reads it: ARGV as name, value pairs, each named as the field
    it comes from (the question's own, its :class:`Limits`' and :class:`Signal`'s), so the
    script reads ``q.patience``, ``q.cost``, ``q.slow``."""
    named: list[tuple[str, Any]] = [("op", type(question).__name__), ("ttl", _TTL), ("now", now)]
    for name in _fields(type(question)):
        value = getattr(question, name)
        if isinstance(value, Limits):
            named += _limits(value)
        elif isinstance(value, Signal):
            named += zip(Signal._fields, value, strict=True)
        elif name != "keys":  # the keys are the script's KEYS
            named.append((name, value))
    return _pairs(named)


def _fields(kind: type[Query[Any]]) -> tuple[str, ...]:
    """The names of a question's fields, in order (read once a kind)."""
    names = _FIELDS.get(kind)
    if names is None:
        names = _FIELDS[kind] = tuple(field.name for field in dataclasses.fields(kind))
    return names


_FIELDS: dict[type[Query[Any]], tuple[str, ...]] = {}


def _limits(limits: Limits) -> list[tuple[str, Any]]:
    """The numbers of ``limits`` the script applies, by name (the breaker's and the rate
    limiter's only when there is one)."""
    named: list[tuple[str, Any]] = [("capacity", limits.capacity)]
    breaker, limiter = limits.breaker, limits.limiter
    if breaker is not None:
        named += (
            ("failures", breaker.failures),
            ("window", breaker.window),
            ("recovery", breaker.recovery),
        )
    if limiter is not None:
        named += (
            ("adaptive", limits.adaptive),
            ("ceiling", limits.ceiling),
            ("min_rate", limiter.min_rate),
            ("max_wait", limiter.max_wait),
        )
    return named


def _pairs(named: list[tuple[str, Any]]) -> list[str | float]:
    """Flat name, value pairs: True and False are 1 and 0; None and an infinite number (no
    bound) are left out, which the script reads as nil."""
    argv: list[str | float] = []
    for name, value in named:
        if value is not None and value != math.inf:
            argv += (name, int(value) if value is True or value is False else value)
    return argv


class _Shared:
    """What the sync and async stores share: everything but the script's call. A question
    becomes the script's KEYS and ARGV (:meth:`call`), its reply an answer (:meth:`answer`);
    while Redis is away the in-process fallback answers (:meth:`failed`)."""

    def __init__(
        self,
        prefix: str,
        account: str,
        fallback: LocalState | None,
        retry_interval: float,
        logger: Any,
        clock: Callable[[], float] | None,
    ) -> None:
        for name, value in (("prefix", prefix), ("account", account)):
            if not value or any(ch in value for ch in ":{}*?[]\\"):
                raise ValueError(f"{name} {value!r} must be non-empty, without : {{ }} * ? [ ] \\")
        self._tag = f"{prefix}:{account}"
        self._now = clock  # None: the Redis server's clock, the one all workers agree on
        self._clock = clock or time.monotonic
        self.fallback = fallback if fallback is not None else LocalState(self._clock)
        self._retry_interval = retry_interval
        self._logger = None if logger is None else adapt(logger)
        self._down_until: float | None = None
        self._names: dict[Keys, list[str]] = {}

    def pattern(self, vendor: str) -> str:
        """A SCAN pattern for every key of ``vendor`` (its hash and its product circuits)."""
        return f"{{{self._tag}:{vendor}}}*"

    def call(self, question: Query[Any]) -> dict[str, Any]:
        """The script's arguments for ``question``; raises :class:`_Away` while Redis is known
        to be away."""
        if self._down_until is not None and self._clock() < self._down_until:
            raise _Away
        return {
            "keys": self._keys(question.keys),
            "args": _argv(question, self._now and self._now()),
        }

    def answer(self, question: Query[A], reply: Any) -> A:
        """The script's ``reply`` read as ``question``'s answer (the fallback's, for a reply
        that makes no sense: a corrupted hash must not crash a call, nor lock a vendor out)."""
        if self._down_until is not None:
            self._down_until = None
            self._emit("info", "shared_state_restored")
        answer = _READERS[type(question)](reply)
        return self.fallback.ask(question) if answer is _HERE else cast(A, answer)

    def failed(self, question: Query[A], error: BaseException) -> A:
        """Redis failed (or is away): the fallback answers until ``retry_interval`` is over."""
        if not isinstance(error, _Away):
            if self._down_until is None:
                self._emit(
                    "warning",
                    "shared_state_unavailable",
                    error=type(error).__name__,
                    error_message=clean_text(DEFAULT_REDACTOR.text(str(error)), 300),
                    fallback="in-process",
                )
            self._down_until = self._clock() + self._retry_interval
        return self.fallback.ask(question)

    def _keys(self, keys: Keys) -> list[str]:
        names = self._names.get(keys)
        if names is None:
            vendor = f"{{{self._tag}:{keys.vendor}}}"
            circuit = vendor if keys.circuit == keys.vendor else f"{vendor}:{keys.circuit}"
            pace = vendor if keys.pace == keys.vendor else f"{vendor}:{keys.pace}"
            names = self._names[keys] = [vendor, circuit, pace]
        return names

    def _emit(self, level: str, event: str, **fields: Any) -> None:
        """Log as the transports do (never stdout unasked); a failing logger never fails a call."""
        try:
            logger = self._logger or adapt(None)  # the default follows the app's logging setup
            getattr(logger, level)(event, **fields)
        except Exception:  # the call's answer matters more than this line
            pass


_HERE = object()
"""A reader's word that the in-process fallback answers this question."""

_VERDICTS: dict[str, Verdict] = {
    "go": "go",
    "probe": "probe",
    "open": "open",
    "budget": "budget",
    "rate": "rate",
}


def _admission(reply: Any) -> Admission | object:
    """The script's admission, or :data:`_HERE` for a reply that makes no sense."""
    try:
        verdict, wait, clean, turn, at = (
            v.decode() if isinstance(v, bytes) else str(v) for v in reply
        )
        seconds, ahead, when = float(wait), float(turn), float(at)
        if not (math.isfinite(ahead) and ahead >= 0 and math.isfinite(when)):
            return _HERE
        return Admission(
            _VERDICTS[verdict],
            min(seconds, MAX_COOLDOWN) if math.isfinite(seconds) and seconds >= 0 else 0.0,
            clean == "1",
            ahead,
            when,
        )
    except (ValueError, TypeError, KeyError, UnicodeDecodeError):
        return _HERE


def _transition(reply: Any) -> Transition:
    try:
        text = reply.decode() if isinstance(reply, bytes) else str(reply or "")
    except UnicodeDecodeError:
        return None
    if text == "opened":
        return "opened"
    return "closed" if text == "closed" else None


def _nothing(reply: Any) -> None:
    return None


def _here_too(reply: Any) -> object:
    """A release frees the probe's slot in the fallback too: the probe may have been let
    through there while Redis was away."""
    return _HERE


_READERS: dict[type[Query[Any]], Callable[[Any], Any]] = {
    Admit: _admission,
    Retry: _admission,
    Pace: _admission,
    GiveBack: _nothing,
    Record: _transition,
    Refund: _nothing,
    Release: _here_too,
}


def _check_vendor(vendor: str) -> None:
    """A vendor id, not a pattern: ``clear("*")`` must not wipe every vendor's state."""
    if not re.fullmatch(r"[a-z][a-z0-9_]*", vendor):
        raise ValueError(f"{vendor!r} is not a vendor id")


def _require_asyncio() -> None:
    """redis.asyncio runs on asyncio only: under trio say so, instead of a loop error."""
    import asyncio

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        raise RuntimeError(
            "AsyncRedisState needs asyncio (redis-py's asyncio client); under trio, share state "
            "with RedisState from a worker thread, or use LocalState"
        ) from None


def _client_options(timeout: float, retry: SyncRetry | AsyncRetry) -> dict[str, Any]:
    """Fail fast: a slow Redis must cost a call milliseconds, then the fallback takes over.

    ``retry`` (none: 0 retries) is of the client's own kind: redis-py 8 warns when an asyncio
    client is given the sync ``Retry``, and redis-py 6 and later retry three times by default.
    """
    return {"socket_timeout": timeout, "socket_connect_timeout": timeout, "retry": retry}


class _RedisStore(Generic[_Client]):
    """The constructor both stores share: a client, its script, keys and the fallback."""

    def __init__(
        self,
        client: _Client,
        *,
        account: str = "default",
        prefix: str = "normalizer",
        fallback: LocalState | None = None,
        retry_interval: float = 5.0,
        logger: Any = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.client: _Client = client
        self._script: Any = client.register_script(_SCRIPT)  # Script or AsyncScript
        self._shared = _Shared(prefix, account, fallback, retry_interval, logger, clock)

    @property
    def fallback(self) -> LocalState:
        """The in-process state that answers while Redis is away."""
        return self._shared.fallback


class RedisState(_RedisStore[redis.Redis], Store):
    """Retry budgets, circuits and cooldowns in Redis, for :class:`~normalizer.NormalizingTransport`
    and :class:`~normalizer.Client`.

    ``client`` is a ``redis.Redis``; give it short timeouts (or use :meth:`from_url`).
    ``account`` separates vendor accounts sharing one Redis; ``prefix`` separates applications.
    ``fallback`` is the in-process state used while Redis is away. ``clock`` replaces the
    server's clock (for tests only: workers' clocks rarely agree).
    """

    @classmethod
    def from_url(cls, url: str, *, timeout: float = 0.05, **options: Any) -> RedisState:
        """A store on a new client for ``url`` whose every operation gives up after ``timeout``."""
        client = redis.Redis.from_url(url, **_client_options(timeout, SyncRetry(NoBackoff(), 0)))
        return cls(client, **options)

    def ask(self, question: Query[A]) -> A:
        """One run of the script answers ``question`` (the fallback, while Redis is away)."""
        shared = self._shared
        try:
            return shared.answer(question, self._script(**shared.call(question)))
        except _ERRORS as exc:
            return shared.failed(question, exc)

    def clear(self, vendor: str) -> int:
        """Forget ``vendor``'s budget, circuits and cooldown for the whole fleet (and here);
        returns how many Redis keys were deleted. Raises if Redis cannot be reached."""
        _check_vendor(vendor)
        self.fallback.clear(vendor)
        names = list(self.client.scan_iter(match=self._shared.pattern(vendor)))
        return int(self.client.delete(*names)) if names else 0

    def close(self) -> None:
        """Close the Redis client (when the transports using this store are done)."""
        self.client.close()

    def __enter__(self) -> RedisState:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncRedisState(_RedisStore[redis.asyncio.Redis], AsyncStore):
    """The async twin of :class:`RedisState` (``redis.asyncio.Redis``), for
    :class:`~normalizer.AsyncNormalizingTransport` and :class:`~normalizer.AsyncClient`."""

    @classmethod
    def from_url(cls, url: str, *, timeout: float = 0.05, **options: Any) -> AsyncRedisState:
        """A store on a new client for ``url`` whose every operation gives up after ``timeout``."""
        retry = AsyncRetry(NoBackoff(), 0)
        return cls(redis.asyncio.Redis.from_url(url, **_client_options(timeout, retry)), **options)

    async def ask(self, question: Query[A]) -> A:
        """As :meth:`RedisState.ask`, awaiting the script."""
        _require_asyncio()
        shared = self._shared
        try:
            return shared.answer(question, await self._script(**shared.call(question)))
        except _ERRORS as exc:
            return shared.failed(question, exc)

    async def clear(self, vendor: str) -> int:
        """The async twin of :meth:`RedisState.clear`."""
        _check_vendor(vendor)
        self.fallback.clear(vendor)
        names = [name async for name in self.client.scan_iter(match=self._shared.pattern(vendor))]
        return int(await self.client.delete(*names)) if names else 0

    async def aclose(self) -> None:
        """Close the Redis client (when the transports using this store are done)."""
        await self.client.aclose()

    async def __aenter__(self) -> AsyncRedisState:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
