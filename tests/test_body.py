"""Reading vendor bodies safely: compressed bombs, slow sniffing, trickles, the deadline."""

from __future__ import annotations

import functools
import gzip
import json
import subprocess
import sys
import zlib
from collections.abc import Iterator

import httpx
import pytest

import normalizer
from normalizer import Category, RetryPolicy
from normalizer import _body as body_module
from tests.conftest import FakeClock, outcome

MANGO = "https://app.mango-office.ru/vpbx/commands/callback"


def zeros_gzip(size: int) -> bytes:
    """A gzip of ``size`` zero bytes, made without holding them in memory."""
    packer = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    block = b"\0" * (1 << 20)
    out = [packer.compress(block) for _ in range(size // len(block))]
    return b"".join([*out, packer.flush()])


@functools.cache
def bombs() -> dict[str, tuple[bytes, str]]:
    """Bodies of a few KB to a few hundred that inflate to 64 MiB: 64 times the cap."""
    import brotli
    import zstandard

    zeros = b"\0" * (64 << 20)
    return {
        "gzip": (zeros_gzip(64 << 20), "gzip"),
        "gzip, gzip": (gzip.compress(zeros_gzip(64 << 20)), "gzip, gzip"),
        "br": (brotli.compress(zeros), "br"),
        "zstd": (zstandard.ZstdCompressor().compress(zeros), "zstd"),
    }


@pytest.mark.parametrize("name", ["gzip", "gzip, gzip", "br", "zstd"])
def test_a_compressed_bomb_is_unknown_and_passes_through_raw(name: str) -> None:
    raw, encoding = bombs()[name]
    headers = {"content-type": "application/json", "content-encoding": encoding}

    def vendor(request: httpx.Request) -> httpx.Response:
        # a stream, as off the wire: httpx.Response(content=...) would decode it all at once
        return httpx.Response(200, stream=Trickle(split(raw)), headers=headers)

    with (
        normalizer.Client("mango", transport=httpx.MockTransport(vendor)) as client,
        client.stream("POST", MANGO) as response,
    ):
        assert outcome(response).category is Category.UNKNOWN
        assert b"".join(response.iter_raw()) == raw  # what httpx itself would hand over


def test_a_bomb_costs_no_memory_in_a_fresh_process() -> None:
    code = """
import resource, zlib, httpx, normalizer
packer = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
raw = b"".join([packer.compress(b"\\0" * (1 << 20)) for _ in range(1024)] + [packer.flush()])
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
class Wire(httpx.SyncByteStream):
    def __iter__(self):
        yield from (raw[i : i + 65536] for i in range(0, len(raw), 65536))
vendor = httpx.MockTransport(lambda r: httpx.Response(
    200, stream=Wire(),
    headers={"content-type": "application/json", "content-encoding": "gzip"}))
with normalizer.Client("mango", transport=vendor, logger=None) as client:
    with client.stream("POST", "https://app.mango-office.ru/vpbx/x") as response:
        assert normalizer.outcome_of(response).category == "unknown"
print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) // 1024)
"""
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    grown = int(proc.stdout.strip().splitlines()[-1])
    assert grown < 64  # MB: the 1 GB it inflates to is never made


def test_a_small_compressed_json_body_is_still_read() -> None:
    raw = gzip.compress(json.dumps({"result": 3103}).encode())
    headers = {"content-type": "text/plain", "content-encoding": "gzip"}  # mislabelled, zipped

    def vendor(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=Trickle(split(raw)), headers=headers)

    with normalizer.Client("mango", transport=httpx.MockTransport(vendor)) as client:
        response = client.post(MANGO)
    assert outcome(response).category is Category.VALIDATION
    assert response.json() == {"result": 3103}


def split(raw: bytes, size: int = 65536) -> list[bytes]:
    return [raw[i : i + size] for i in range(0, len(raw), size)]


class Trickle(httpx.SyncByteStream):
    """A body in many small chunks; each chunk moves the fake clock on."""

    def __init__(self, chunks: list[bytes], clock: FakeClock | None = None, step: float = 0.0):
        self.chunks = chunks
        self.clock = clock
        self.step = step
        self.pulled = 0

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.chunks:
            self.pulled += 1
            if self.clock is not None:
                self.clock.now += self.step
            yield chunk


def test_sniffing_looks_at_each_byte_once(monkeypatch: pytest.MonkeyPatch) -> None:
    looked: list[int] = []
    real = body_module.opens_document

    def counting(head: bytes, xml: bool = False) -> bool | None:
        looked.append(len(head))
        return real(head, xml)

    monkeypatch.setattr(body_module, "opens_document", counting)
    chunks = [b" "] * 40_000 + [b'{"result": 1000}']
    stream = Trickle(chunks)

    def vendor(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=stream, headers={"content-type": "text/plain"})

    with normalizer.Client("mango", transport=httpx.MockTransport(vendor)) as client:
        response = client.post(MANGO)
    assert outcome(response).ok
    assert sum(looked) <= 40_016  # linear: each chunk once, not the growing prefix


def test_the_deadline_bounds_reading_a_trickling_body(clock: FakeClock) -> None:
    chunks = [b'{"result": 1000, "pad": "'] + [b"x"] * 10_000 + [b'"}']
    stream = Trickle(chunks, clock, step=0.1)  # 0.1 s a byte
    seen: list[dict[str, float]] = []

    def vendor(request: httpx.Request) -> httpx.Response:
        seen.append(request.extensions["timeout"])
        return httpx.Response(200, stream=stream, headers={"content-type": "application/json"})

    policy = RetryPolicy(deadline=3.0, clock=clock, sleep=clock.sleep)
    transport = httpx.MockTransport(vendor)
    with (
        normalizer.Client("mango", transport=transport, retry=policy) as client,
        client.stream("POST", MANGO, timeout=None) as response,
    ):
        assert outcome(response).category is Category.UNKNOWN  # not read to its end
        assert stream.pulled <= 32  # about 3 s worth, not 10,000 chunks
        rest = b"".join(response.iter_bytes())
    assert rest == b"".join(chunks)  # the caller still gets the whole body
    # httpx's own timeouts were bounded by the deadline too (None meant: no timeout)
    assert seen[0] == {"connect": 3.0, "read": 3.0, "write": 3.0, "pool": 3.0}


@pytest.mark.parametrize("charset", ["idna", "no-such-charset", "utf-7"])
def test_an_odd_charset_never_makes_the_call_raise(charset: str) -> None:
    raw = json.dumps({"result": 3103, "message": "ä"}).encode()
    headers = {"content-type": f"application/json; charset={charset}"}

    def vendor(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=Trickle([raw]), headers=headers)

    with normalizer.Client("mango", transport=httpx.MockTransport(vendor)) as client:
        response = client.post(MANGO)
    assert outcome(response).category is Category.VALIDATION
    assert response.read() == raw


def test_an_odd_content_length_never_raises() -> None:
    def vendor(request: httpx.Request) -> httpx.Response:
        headers = [(b"content-type", b"application/json"), (b"content-length", "\u00b2".encode())]
        return httpx.Response(200, stream=Trickle([b'{"result": 1000}']), headers=headers)

    with normalizer.Client("mango", transport=httpx.MockTransport(vendor)) as client:
        response = client.post(MANGO)
    assert outcome(response).ok
