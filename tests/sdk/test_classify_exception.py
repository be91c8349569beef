"""classify_exception and the tenacity helpers on SDK exceptions, without any SDK: classes
are matched by name, so a class of the right name in a module of the right name is all an
``[sdk]`` table needs (here a private vendor's, through a private registry)."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import tenacity

import normalizer
from normalizer import Category, Registry, RetryPolicy, VendorError

WriteMapping = Callable[..., Path]

MINI = """
format = 1
[vendor]
id = "mini"
name = "Mini"
[envelope]
code = ["error.code"]
message = ["error.text"]
request_id = ["rid"]
[codes]
"LIMIT" = { category = "busy", description = "too fast" }
"DOWN" = { category = "server", description = "internal error" }
"BAD" = { category = "validation", description = "bad request" }
[[when]]
field = ["error.text"]
equals = ["try later"]
codes = ["BAD"]
category = "busy"
description = "bad request, try later"
rejected = true
[sdk]
source = "mini-sdk mini_sdk/errors.py"
[[sdk.errors]]
classes = ["mini_sdk.errors.ApiError"]
code = ["code"]
message = ["text"]
status = ["response.status"]
request_id = ["request_id"]
transport = ["NETWORK"]
[[sdk.errors]]
classes = ["mini_sdk.errors.Wrapper"]
wraps = ["inner"]
[[sdk.models]]
classes = ["mini_sdk.models.Reply"]
at = "Reply"
status = ["http_status"]
"""


@pytest.fixture
def sdk(write_mapping: WriteMapping) -> Iterator[tuple[Registry, types.ModuleType]]:
    """A private vendor with an ``[sdk]`` table, and a module holding its SDK's classes."""
    registry = Registry(builtin=write_mapping(MINI, "mini.toml").parent, environ=False)
    module = types.ModuleType("mini_sdk.errors")

    class ApiError(Exception):
        def __init__(self, code: str, text: str = "", status: int | None = None) -> None:
            super().__init__(code)
            self.code, self.text, self.request_id = code, text, "rid-1"
            self.response = types.SimpleNamespace(status=status)

    class Wrapper(Exception):
        def __init__(self, inner: BaseException) -> None:
            super().__init__("wrapped")
            self.inner = inner

    for cls in (ApiError, Wrapper):
        cls.__module__, cls.__qualname__ = module.__name__, cls.__name__
        setattr(module, cls.__name__, cls)
    sys.modules[module.__name__] = module
    yield registry, module
    del sys.modules[module.__name__]


def test_an_sdk_error_reads_through_the_vendor_s_table(sdk: Any) -> None:
    registry, errors = sdk
    outcome = normalizer.classify_exception(
        errors.ApiError("LIMIT", "slow down", 429), registry=registry
    )
    assert outcome is not None
    assert (outcome.vendor, outcome.code, outcome.category, outcome.http_status) == (
        "mini", "LIMIT", Category.BUSY, 429,
    )  # fmt: skip
    assert (outcome.vendor_message, outcome.request_id) == ("slow down", "rid-1")


def test_a_message_dependent_rule_applies_as_to_a_body(sdk: Any) -> None:
    registry, errors = sdk
    plain = normalizer.classify_exception(errors.ApiError("BAD", "no"), registry=registry)
    later = normalizer.classify_exception(errors.ApiError("BAD", "try later"), registry=registry)
    assert plain is not None
    assert later is not None
    assert (plain.category, later.category, later.rejected) == (
        Category.VALIDATION, Category.BUSY, True,
    )  # fmt: skip


def test_a_subclass_is_matched_along_the_mro(sdk: Any) -> None:
    registry, errors = sdk

    class Throttled(errors.ApiError):  # type: ignore[misc, name-defined]
        pass

    outcome = normalizer.classify_exception(Throttled("LIMIT"), registry=registry)
    assert outcome is not None
    assert outcome.code == "LIMIT"


def test_what_nobody_lists_reads_none(sdk: Any) -> None:
    registry, errors = sdk
    assert normalizer.classify_exception(ValueError("LIMIT"), registry=registry) is None
    # nothing says what the vendor answered: no code, no status
    assert normalizer.classify_exception(errors.ApiError(""), registry=registry) is None
    # the vendor hint narrows the search
    twilio_only = normalizer.classify_exception(errors.ApiError("LIMIT"), vendor="twilio")
    assert twilio_only is None
    with pytest.raises(normalizer.UnregisteredVendorError):
        normalizer.classify_exception(errors.ApiError("LIMIT"), vendor="nobody")


def test_wrappers_causes_and_contexts_are_seen_through(sdk: Any) -> None:
    registry, errors = sdk
    wrapped = errors.Wrapper(errors.ApiError("DOWN"))
    outcome = normalizer.classify_exception(wrapped, registry=registry)
    assert outcome is not None
    assert outcome.category is Category.SERVER
    try:
        try:
            raise errors.ApiError("LIMIT")
        except errors.ApiError as exc:
            raise RuntimeError("my own wrapper") from exc
    except RuntimeError as outer:
        caused = normalizer.classify_exception(outer, registry=registry)
    assert caused is not None
    assert caused.code == "LIMIT"


def test_a_transport_code_is_no_answer_but_a_vendor_error_inside_is(sdk: Any) -> None:
    registry, errors = sdk
    network = errors.ApiError("NETWORK", "connection reset")
    assert normalizer.classify_exception(network, registry=registry) is None
    busy = normalizer.lookup("mini", "LIMIT", registry=registry)
    reraised = errors.ApiError("NETWORK", "an adapter raised")
    reraised.__context__ = VendorError(busy)  # as an SDK re-raising inside its except block
    assert normalizer.classify_exception(reraised, registry=registry) is busy


def test_a_cycle_in_the_chain_ends(sdk: Any) -> None:
    registry, _ = sdk
    first, second = ValueError("a"), ValueError("b")
    first.__cause__, second.__cause__ = second, first
    assert normalizer.classify_exception(first, registry=registry) is None


def test_a_model_is_read_where_its_table_puts_it(sdk: Any) -> None:
    registry, _ = sdk

    class Reply:
        def __init__(self, code: str) -> None:
            self.http_status = 503
            self._cache = "not data"
            self.code = code

        def to_dict(self) -> dict[str, Any]:
            return {"error": {"code": self.code, "text": "from the model"}, "rid": "r-9"}

    class Listed(Reply):
        pass

    Reply.__module__, Reply.__qualname__ = "elsewhere", "Reply"
    Listed.__module__, Listed.__qualname__ = "mini_sdk.models", "Reply"  # by name, never imported
    outcome = normalizer.classify("mini", Reply("DOWN"), registry=registry)
    # no [[sdk.models]] entry names it: the model's data is the document
    assert (outcome.code, outcome.http_status, outcome.request_id) == ("DOWN", 200, "r-9")
    wrapped = normalizer.classify("mini", Listed("DOWN"), registry=registry)
    # listed: its data sits under "Reply" (where this envelope reads no code), and the status
    # is the model's own: the HTTP status decides
    assert (wrapped.code, wrapped.http_status, wrapped.category) == (None, 503, Category.SERVER)


def test_a_plain_object_reads_as_its_public_attributes(sdk: Any) -> None:
    registry, _ = sdk
    instance = types.SimpleNamespace(error={"code": "BAD", "text": "no"}, _secret="x")
    outcome = normalizer.classify("mini", instance, registry=registry)
    assert (outcome.code, outcome.category) == ("BAD", Category.VALIDATION)


@pytest.mark.parametrize(
    ("code", "policy", "sent"),
    [
        ("RequestLimitExceeded", None, 2),  # busy: refused before acting, resent
        ("InternalError", None, 1),  # server: may have acted, sent once
        ("InternalError", RetryPolicy(idempotent=True), 2),  # unless the caller says so
        ("AuthFailure.SignatureFailure", RetryPolicy(idempotent=True), 1),  # never retryable
    ],
)
def test_sdk_exceptions_under_tenacity_follow_the_transport_s_rules(
    code: str, policy: RetryPolicy | None, sent: int
) -> None:
    from tencentcloud.common.exception.tencent_cloud_sdk_exception import (
        TencentCloudSDKException,
    )

    calls: list[int] = []

    def attempt() -> str:
        calls.append(1)
        if len(calls) == 1:
            raise TencentCloudSDKException(code, "text", "rid")
        return "ok"

    retry = tenacity.Retrying(
        retry=normalizer.retry_if_retryable(policy),
        wait=normalizer.wait_vendor(policy),
        stop=normalizer.stop_vendor(policy),
        sleep=lambda seconds: None,
        reraise=True,
    )
    with contextlib.suppress(TencentCloudSDKException):
        retry(attempt)
    assert len(calls) == sent


def test_the_wait_is_the_category_s_pace() -> None:
    from tencentcloud.common.exception.tencent_cloud_sdk_exception import (
        TencentCloudSDKException,
    )

    policy = RetryPolicy(random=lambda: 1.0, pace={"busy": 3.0}, base=0.5)
    waits: list[float] = []
    for code in ("RequestLimitExceeded", "InternalError"):
        state = tenacity.RetryCallState(tenacity.Retrying(), None, (), {})
        state.set_exception((TencentCloudSDKException, TencentCloudSDKException(code), None))
        waits.append(normalizer.wait_vendor(policy)(state))
    assert waits == [3.0, 0.5]


def test_importing_normalizer_imports_no_sdk() -> None:
    code = (
        "import sys, normalizer; normalizer.classify_exception(ValueError()); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'twilio', 'tencentcloud', 'Tea', 'darabonba', 'alibabacloud_tea_openapi', "
        "'vonage', 'vonage_http_client', 'infobip_api_client', 'requests', 'aiohttp'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
