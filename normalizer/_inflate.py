"""Undoing a body's content-encoding with a cap on the *decoded* bytes.

A compressed body may expand a thousandfold or more (a few KB of brotli, a 1 MB gzip of zeros
that inflates to 1 GB): decoding it in one go, as reading ``response.content`` does, costs the
memory and CPU of the whole expansion. Here every layer is decoded incrementally and stops as
soon as it would pass ``limit`` bytes, so classifying a response costs at most ``limit`` bytes
of output per layer, whatever the vendor sent. The caller's own stream is never touched: httpx
decodes it as usual when the caller reads it.
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Callable

Layer = Callable[[bytes, int], bytes | None]

MAX_LAYERS = 4
"""Codings undone per body: each may cost up to ``limit`` bytes of output, so a header listing
thousands ("gzip, gzip, ...") over nested stored gzips would cost thousands of times the cap.
Servers apply one; a body with more is not read."""
_NONE = ("", "identity")


def inflate(raw: bytes, content_encoding: str, limit: int) -> bytes | None:
    """``raw`` with its encodings undone (the last applied first), or None when a layer is
    unknown, broken, or would decode to more than ``limit`` bytes."""
    data = raw
    codings = [c for c in (c.strip() for c in content_encoding.split(",")) if c not in _NONE]
    if len(codings) > MAX_LAYERS:
        return None
    for coding in reversed(codings):
        layer = _LAYERS.get(coding)
        if layer is None:
            return None
        try:
            decoded = layer(data, limit)
        except Exception:  # any codec's error means "not readable", never a crash
            return None
        if decoded is None:
            return None
        data = decoded
    return data


def _zlib(wbits: int) -> Layer:
    def decode(data: bytes, limit: int) -> bytes | None:
        """The first stream only (a gzip's first member), as httpx decodes it for the caller:
        reading on would classify bytes the caller never sees, and restarting per member
        copies what is left each time (quadratic in a body of tiny members)."""
        inflater = zlib.decompressobj(wbits)
        out = inflater.decompress(data, limit + 1)  # a truncated stream: what came out
        return None if len(out) > limit else out

    return decode


def _deflate(data: bytes, limit: int) -> bytes | None:
    """HTTP "deflate" is zlib-wrapped by the standard, raw deflate by some servers."""
    try:
        return _zlib(zlib.MAX_WBITS)(data, limit)
    except zlib.error:
        return _zlib(-zlib.MAX_WBITS)(data, limit)


def _brotli(data: bytes, limit: int) -> bytes | None:
    import brotli  # optional, as for httpx itself: without it a br body is not classified

    inflater = brotli.Decompressor()
    if not hasattr(inflater, "can_accept_more_data"):  # brotli < 1.2: no output limit, so
        out = bytearray()  # feed it slices small enough that one cannot expand too far
        for start in range(0, len(data), 256):
            out += inflater.process(data[start : start + 256])
            if len(out) > limit:
                return None
        return bytes(out)
    out = bytearray(inflater.process(data, output_buffer_limit=limit + 1))
    while len(out) <= limit and not inflater.is_finished() and not inflater.can_accept_more_data():
        out += inflater.process(b"", output_buffer_limit=limit + 1 - len(out))
    return None if len(out) > limit else bytes(out)


def _zstd(data: bytes, limit: int) -> bytes | None:
    import zstandard  # optional, as for httpx itself

    reader = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(data), read_across_frames=True)
    out = reader.read(limit + 1)
    return None if len(out) > limit else out


_LAYERS: dict[str, Layer] = {
    "gzip": _zlib(zlib.MAX_WBITS | 16),
    "x-gzip": _zlib(zlib.MAX_WBITS | 16),
    "deflate": _deflate,
    "br": _brotli,
    "zstd": _zstd,
}
