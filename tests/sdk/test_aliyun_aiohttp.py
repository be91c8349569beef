"""Alibaba Cloud's async SDK (darabonba, and the older Tea) has no seam for an aiohttp
middleware: each async call builds an ``aiohttp.ClientSession`` of its own and passes it
nothing a caller could give (docs/sdks/aliyun.md, "Async"). These tests keep that statement
true: they fail the day the SDK lets a session, or middlewares, in."""

from __future__ import annotations

import inspect

import pytest

CORES = [("darabonba.core", "DaraCore"), ("Tea.core", "TeaCore")]


@pytest.mark.parametrize(("module", "name"), CORES)
def test_every_async_call_makes_its_own_session_with_no_middlewares(module: str, name: str) -> None:
    core = getattr(pytest.importorskip(module), name)
    source = inspect.getsource(core.async_do_action)
    assert "aiohttp.ClientSession(" in source
    assert "middlewares" not in source
    signature = inspect.signature(core.async_do_action)
    assert not {"session", "middlewares", "http_client"} & set(signature.parameters)


def test_the_openapi_client_hands_no_session_down() -> None:
    from alibabacloud_tea_openapi.models import Config

    fields = set(Config().to_map()) | set(vars(Config()))
    assert not {"session", "middlewares", "http_client", "httpClient"} & fields
