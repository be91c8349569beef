"""Reading vendor bodies safely: compressed bombs, slow sniffing, trickles, the deadline."""

from __future__ import annotations

import encodings
import functools
import gzip
import json
import subprocess
import sys
import zlib
from collections.abc import Callable, Iterator

import httpx
import pytest

import normalizer
from normalizer import Category, RetryPolicy
from normalizer import _body as body_module
from normalizer import _inflate as inflate_module
from normalizer import _xml as xml_module
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


def test_a_body_whose_last_byte_came_after_the_deadline_is_still_read(clock: FakeClock) -> None:
    # its Content-Length says nothing is left to wait for: the answer is classified
    chunks = [b'{"result": ', b"3103}"]
    length = str(sum(map(len, chunks)))
    stream = Trickle(chunks, clock, step=2.0)  # the last chunk comes at 4 s, past the 3 s

    def vendor(request: httpx.Request) -> httpx.Response:
        headers = {"content-type": "application/json", "content-length": length}
        return httpx.Response(200, stream=stream, headers=headers)

    policy = RetryPolicy(deadline=3.0, clock=clock, sleep=clock.sleep)
    transport = httpx.MockTransport(vendor)
    with normalizer.Client("mango", transport=transport, retry=policy) as client:
        response = client.post(MANGO)
    assert outcome(response).category is Category.VALIDATION
    assert response.read() == b"".join(chunks)


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


# --- hostile bodies through the clients: read in linear time, passed through whole -----------

UCPAAS = "https://api.ucpaas.com/2014-06-30/Accounts/a/Calls/callBack"
HOSTILE_DECLARATION = b"<?xml" + b" encoding='a'" * 20_000  # 4 s of CPU per call before
XML = {"content-type": "application/xml"}


def xml_declaring(codec: str) -> bytes:
    return f'<?xml version="1.0" encoding="{codec}"?><resp><respCode>0</respCode></resp>'.encode()


def serving(raw: bytes, headers: dict[str, str], status: int = 200) -> httpx.MockTransport:
    return httpx.MockTransport(lambda request: httpx.Response(status, content=raw, headers=headers))


def serving_async(raw: bytes, headers: dict[str, str]) -> httpx.MockTransport:
    async def vendor(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=raw, headers=headers)

    return httpx.MockTransport(vendor)


def read_through(response: httpx.Response, raw: bytes) -> None:
    """The caller reads the vendor's body, whole and as text."""
    assert response.content == raw
    assert response.text == raw.decode()


def test_a_hostile_xml_declaration_through_the_client(declaration_windows: list[int]) -> None:
    ok = b"<?xml version='1.0' encoding='GBK'?><resp><respCode>000000</respCode></resp>"
    for raw, category in ((HOSTILE_DECLARATION, Category.UNKNOWN), (ok, Category.OK)):
        with normalizer.Client("ucpaas", transport=serving(raw, XML)) as client:
            response = client.post(UCPAAS)
        assert outcome(response).category is category
        read_through(response, raw)
    assert declaration_windows
    assert max(declaration_windows) <= xml_module.MAX_DECLARATION


@pytest.mark.anyio
async def test_a_hostile_xml_declaration_through_the_async_client(
    declaration_windows: list[int],
) -> None:
    transport = serving_async(HOSTILE_DECLARATION + b"?><resp/>", XML)
    async with normalizer.AsyncClient("ucpaas", transport=transport) as client:
        response = await client.post(UCPAAS)
    assert outcome(response).category is Category.UNKNOWN
    read_through(response, HOSTILE_DECLARATION + b"?><resp/>")
    assert max(declaration_windows, default=0) <= xml_module.MAX_DECLARATION


ODD_CODECS = ["idna", "punycode", "utf-7", "rot13", "base64", "zlib", "no-such-codec"]


@pytest.mark.parametrize("codec", ODD_CODECS)
def test_an_xml_body_in_no_document_encoding_through_the_client(codec: str) -> None:
    raw = xml_declaring(codec)
    with normalizer.Client("ucpaas", transport=serving(raw, XML)) as client:
        response = client.post(UCPAAS)  # idna raised UnicodeError here
    assert (outcome(response).category, outcome(response).matched) == ("unknown", "missing")
    read_through(response, raw)


@pytest.mark.anyio
@pytest.mark.parametrize("codec", ODD_CODECS)
async def test_an_xml_body_in_no_document_encoding_through_the_async_client(codec: str) -> None:
    raw = xml_declaring(codec)
    async with normalizer.AsyncClient("ucpaas", transport=serving_async(raw, XML)) as client:
        response = await client.post(UCPAAS)
    assert outcome(response).category is Category.UNKNOWN
    read_through(response, raw)


def test_a_fresh_charset_per_response_never_grows_the_codec_cache() -> None:
    before = len(encodings._cache)
    raw = json.dumps({"result": 3103}).encode()
    with normalizer.Client("mango", transport=httpx.MockTransport(charset_per_call())) as client:
        for _ in range(300):
            response = client.post(MANGO)
            assert outcome(response).category is Category.VALIDATION
            assert response.content == raw
    assert len(encodings._cache) == before


def charset_per_call() -> Callable[[httpx.Request], httpx.Response]:
    calls = iter(range(1_000_000))
    raw = json.dumps({"result": 3103}).encode()

    def vendor(request: httpx.Request) -> httpx.Response:
        charset = f"x-hostile-{next(calls)}"
        headers = {"content-type": f"application/json; charset={charset}"}
        return httpx.Response(200, stream=Trickle([raw]), headers=headers)

    return vendor


def test_an_over_long_code_through_the_client() -> None:
    code = "ERR\n+14155550100 " + "9" * 500_000
    raw = json.dumps({"result": code}).encode()
    json_headers = {"content-type": "application/json"}
    with normalizer.Client("mango", transport=serving(raw, json_headers)) as client:
        response = client.post(MANGO)
    found = outcome(response)
    assert (found.category, found.matched) == (Category.UNKNOWN, "unmapped")
    assert found.code == code[:63] + "\u2026"
    assert response.content == raw
    assert response.json() == {"result": code}


@pytest.mark.anyio
async def test_an_over_long_code_through_the_async_client() -> None:
    code = "9" * 100_000
    raw = json.dumps({"result": code}).encode()
    transport = serving_async(raw, {"content-type": "application/json"})
    async with normalizer.AsyncClient("mango", transport=transport) as client:
        response = await client.post(MANGO)
    assert outcome(response).code == "9" * 63 + "\u2026"
    assert response.json() == {"result": code}


def test_classify_and_the_client_agree_on_a_body_over_the_cap() -> None:
    raw = json.dumps({"result": 3103, "pad": "x" * 2000}).encode()
    json_headers = {"content-type": "application/json"}
    with normalizer.Client(
        "mango", transport=serving(raw, json_headers), max_body_size=1024
    ) as client:
        response = client.post(MANGO)
    by_client = outcome(response)
    by_hand = normalizer.classify("mango", raw, url=MANGO, max_body_size=1024)
    assert (by_client.category, by_client.matched) == (by_hand.category, by_hand.matched)
    assert by_hand.category is Category.UNKNOWN
    assert response.content == raw
    assert response.json()["result"] == 3103
    read = normalizer.classify("mango", raw, url=MANGO, max_body_size=len(raw))
    assert read.category is Category.VALIDATION


@pytest.mark.anyio
async def test_a_webhook_sized_body_over_the_cap_through_the_async_client() -> None:
    raw = json.dumps({"result": 3103, "pad": "x" * 2000}).encode()
    transport = serving_async(raw, {"content-type": "application/json"})
    async with normalizer.AsyncClient("mango", transport=transport, max_body_size=1024) as client:
        response = await client.post(MANGO)
    assert outcome(response).category is Category.UNKNOWN
    assert await response.aread() == raw


def test_gzip_is_read_to_its_first_member_as_httpx_reads_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    made: list[int] = []
    real = zlib.decompressobj

    def counting(wbits: int) -> zlib._Decompress:
        made.append(wbits)
        return real(wbits)

    monkeypatch.setattr(zlib, "decompressobj", counting)
    first = gzip.compress(json.dumps({"result": 3103}).encode())
    raw = first + gzip.compress(b"") * 50_000  # a member per 20 bytes: quadratic to restart
    assert inflate_module.inflate(raw, "gzip", 1 << 20) == json.dumps({"result": 3103}).encode()
    assert len(made) == 1  # one inflater, not one per member (each copied the rest)
    headers = {"content-type": "application/json", "content-encoding": "gzip"}
    with normalizer.Client("mango", transport=serving(raw, headers)) as client:
        response = client.post(MANGO)
    assert outcome(response).category is Category.VALIDATION
    assert response.json() == {"result": 3103}  # httpx, too, reads the first member only


def test_more_codings_than_a_server_applies_are_not_undone() -> None:
    raw = json.dumps({"result": 3103}).encode()
    layers: list[bytes] = [raw]
    for _ in range(inflate_module.MAX_LAYERS + 1):
        layers.append(gzip.compress(layers[-1], compresslevel=0))
    coding = ", ".join(["gzip"] * inflate_module.MAX_LAYERS)
    assert inflate_module.inflate(layers[-2], coding, 1 << 20) == raw
    assert inflate_module.inflate(layers[-1], coding + ", gzip", 1 << 20) is None
    assert inflate_module.inflate(layers[1], "identity, gzip, identity", 1 << 20) == raw
    headers = {"content-type": "application/json", "content-encoding": coding + ", gzip"}
    with normalizer.Client("mango", transport=serving(layers[-1], headers)) as client:
        response = client.post(MANGO)
    assert outcome(response).category is Category.UNKNOWN
    assert response.json() == {"result": 3103}  # the caller's httpx still undoes them all


def test_framing_reads_httpx_own_header_store_and_the_public_one_alike() -> None:
    """Framing reads httpx's private ``_list`` for speed: it must hold what the public ``raw``
    gives (whatever the case), so a change in httpx is caught here, and a Headers without it
    is read through ``raw``."""
    from normalizer._body import Framing

    response = httpx.Response(
        200,
        headers=[
            ("Content-TYPE", "Application/JSON; charset=UTF-8"),
            ("content-length", " 12 "),
            ("X-Other", "1"),
            ("Content-Encoding", " GZip"),
        ],
    )
    json_utf8 = body_module.Media(file=False, json=True, xml=False, codec=None)
    expected = Framing("application/json; charset=utf-8", 12, "gzip", json_utf8)
    assert Framing.of(response) == expected
    public = [(name, name.lower(), value) for name, value in response.headers.raw]
    assert body_module._triples(response.headers) == public

    class Elsewhere:  # a Headers keeping its items some other way: only ``raw`` is read
        raw = response.headers.raw

    assert body_module._triples(Elsewhere()) == public  # type: ignore[arg-type]
    assert body_module._OWN_STORE  # this httpx keeps the triples: they are read as they are
    assert body_module._triples(response.headers) is response.headers._list


def test_an_httpx_keeping_headers_otherwise_is_read_through_raw(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Pairs(httpx.Headers):  # an httpx that keeps (name, value) pairs
        def __init__(self, headers: dict[str, str]) -> None:
            super().__init__(headers)
            self.__dict__["_list"] = [(k, v) for k, _, v in self._list]

    assert body_module._keeps_triples(httpx.Headers)  # checked once, at import, on a sample
    assert not body_module._keeps_triples(Pairs)
    monkeypatch.setattr(body_module, "_OWN_STORE", False)
    headers = httpx.Headers({"Content-Type": "a/b"})
    assert body_module._triples(headers) == [(b"Content-Type", b"content-type", b"a/b")]


@pytest.mark.parametrize(
    ("content_type", "expected"),
    [
        ("application/json", (False, True, False, None)),
        ("application/json; charset=gbk", (False, True, False, "gbk")),
        ('text/xml; charset="windows-1251"', (False, False, True, "cp1251")),
        ("audio/mpeg", (True, False, False, None)),
        ("text/event-stream; charset=utf-8", (True, False, False, None)),
        ("text/html", (False, False, False, None)),
        ("", (False, False, False, None)),
    ],
)
def test_a_content_type_is_read_once_and_remembered(
    content_type: str, expected: tuple[object, ...]
) -> None:
    header = content_type.upper().encode("latin-1")
    lowered, media = body_module._content_type(header)
    assert (lowered, tuple(media)) == (content_type, expected)
    assert body_module._content_type(header)[1] is media  # the memo answers the next response
