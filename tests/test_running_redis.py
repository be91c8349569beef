"""docs/running-redis.md says only what the store does: its ACL user can do all of it.

The page's ``ACL SETUSER`` line is read from the page itself, so a command added to the Lua
script (or a store operation using a new one) fails here until the page lists it.
"""

from __future__ import annotations

import re
import shlex
import uuid
from pathlib import Path

import pytest
import redis
from structlog.testing import capture_logs

from normalizer import CircuitBreaker, RateLimiter
from normalizer import redis as normalizer_redis
from normalizer.redis import RedisState
from normalizer.store import (
    Admit,
    GiveBack,
    Keys,
    Limits,
    Pace,
    Record,
    Refund,
    Release,
    Retry,
    Signal,
)
from tests.conftest import RedisServer

PAGE = Path(__file__).resolve().parents[1] / "docs" / "running-redis.md"


def acl_rules() -> list[str]:
    """The rules of the page's ``redis-cli ACL SETUSER normalizer ...`` line, after the name."""
    text = PAGE.read_text(encoding="utf-8").replace("\\\n", " ")
    line = re.search(r"^redis-cli ACL SETUSER .*$", text, re.M)
    assert line is not None, "docs/running-redis.md shows no ACL SETUSER line"
    words = shlex.split(line.group())
    assert words[:4] == ["redis-cli", "ACL", "SETUSER", "normalizer"]
    return words[4:]


def test_the_acl_allows_every_command_the_script_runs() -> None:
    allowed = {rule[1:].lower() for rule in acl_rules() if rule.startswith("+")}
    script = normalizer_redis._SCRIPT
    called = {name.lower() for name in re.findall(r"redis\.p?call\('([A-Za-z]+)'", script)}
    assert called  # the pattern still finds the script's calls
    assert "redis.call(" not in re.sub(r"redis\.p?call\('[A-Za-z]+'", "", script)  # all named
    # the store itself: the script by its digest, loaded once; clear() and `normalizer reset`
    assert called | {"evalsha", "script|load", "scan", "del"} <= allowed


def _user(server: RedisServer, rules: list[str]) -> str:
    """A new ACL user with ``rules``; its URL."""
    name, password = f"n{uuid.uuid4().hex[:12]}", uuid.uuid4().hex
    admin = redis.Redis.from_url(server.url)
    try:
        rules = [rule.replace("PASSWORD", password) for rule in rules]
        admin.execute_command("ACL", "SETUSER", name, "reset", *rules)  # type: ignore[no-untyped-call]
    finally:
        admin.close()
    return f"redis://{name}:{password}@127.0.0.1:{server.port}/0"


def _every_question(url: str) -> list[str]:
    """Ask the store every kind of question, as a user of ``url``, then clear its keys; what
    went wrong (the shared_state events, a clear that raised or found nothing)."""
    store = RedisState.from_url(url, account=uuid.uuid4().hex, timeout=5.0)
    keys = Keys("onbuka", "onbuka/sms", "onbuka/sms")
    limits = Limits(10, CircuitBreaker(failures=1, recovery=600), RateLimiter())
    try:
        with capture_logs() as logs:
            store.ask(Admit(keys, limits))
            store.ask(Record(keys, limits, Signal(failed=True, cooldown=5.0, slow=True)))
            store.ask(Retry(keys, limits, cost=1, delay=0.1))
            store.ask(Pace(keys, limits))
            store.ask(Refund(keys, limits, 1))
            store.ask(GiveBack(keys, limits))
            store.ask(Release(keys))
            store.ask(Record(keys, limits, Signal(probe=True)))
        wrong = [log["event"] for log in logs if log["event"].startswith("shared_state")]
        if store.clear("onbuka") == 0:  # what `normalizer reset` does
            wrong.append("clear: no keys")
    except redis.RedisError as exc:  # clear() raises where the store's questions fall back
        wrong.append(f"clear: {type(exc).__name__}")
    finally:
        store.close()
    return wrong


def test_the_documented_acl_user_does_everything_the_store_does(
    redis_server: RedisServer,
) -> None:
    assert _every_question(_user(redis_server, acl_rules())) == []


@pytest.mark.parametrize("missing", ["+time", "+del"])
def test_a_user_missing_a_command_is_noticed(redis_server: RedisServer, missing: str) -> None:
    """The check above can fail: a user refused a command falls back, or clear() raises."""
    rules = [rule for rule in acl_rules() if rule != missing]
    assert len(rules) == len(acl_rules()) - 1
    assert _every_question(_user(redis_server, rules)) != []
