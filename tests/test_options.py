"""Options: one frozen object, or the keyword arguments that build it, for every entry point."""

from __future__ import annotations

import dataclasses

import httpx
import pytest

import normalizer
from normalizer import LocalState, Options, RetryPolicy
from normalizer._options import OPTION_NAMES


def mock() -> httpx.MockTransport:
    return httpx.MockTransport(lambda r: httpx.Response(200, json={"result": 3103}))


def test_the_keyword_arguments_are_exactly_the_fields() -> None:
    assert {f.name for f in dataclasses.fields(Options)} == OPTION_NAMES


def test_options_or_keywords_build_the_same_transport() -> None:
    store = LocalState()
    built = normalizer.NormalizingTransport("mango", transport=mock(), retry=None, state=store)
    given = normalizer.NormalizingTransport(
        "mango", transport=mock(), options=Options(retry=None, state=store)
    )
    assert built.options == given.options
    with pytest.raises(TypeError, match="not both"):
        normalizer.NormalizingTransport("mango", options=Options(), retry=None)


def test_options_are_frozen_and_checked() -> None:
    options = Options()
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.raise_on_error = True  # type: ignore[misc]
    with pytest.raises(ValueError, match="max_body_size"):
        Options(max_body_size=-1)


def test_one_options_object_serves_every_client_and_route() -> None:
    options = Options(retry=RetryPolicy(max_attempts=1), raise_on_error=True)
    with normalizer.Client("mango", transport=mock(), options=options) as client:
        with pytest.raises(normalizer.ValidationError):
            client.post("https://app.mango-office.ru/vpbx/commands/callback")
        # the client made one store for all its routes, and kept the rest as given
        assert isinstance(client.normalizer_options.state, LocalState)
        assert client.normalizer_options.retry is options.retry
    with normalizer.Client("mango", transport=mock(), raise_on_error=False) as client:
        assert client.normalizer_options.raise_on_error is False
        client.options("https://app.mango-office.ru/vpbx/x")  # httpx's OPTIONS still works


@pytest.mark.anyio
async def test_async_client_takes_options_too() -> None:
    transport = httpx.MockTransport(lambda r: httpx.Response(200, json={"result": 3103}))
    async with normalizer.AsyncClient(
        "mango", transport=transport, options=Options(raise_on_error=True)
    ) as client:
        with pytest.raises(normalizer.ValidationError):
            await client.post("https://app.mango-office.ru/vpbx/commands/callback")
