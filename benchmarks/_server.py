"""A minimal keep-alive HTTP/1.1 server for the benchmarks, run as a subprocess.

``/json`` answers a small MANGO body; ``/stream/N`` streams N MiB of audio/mpeg in chunks;
``/big-json`` a 1 MiB JSON error body. Prints its port, then serves until killed.

Also what every benchmark server and script shares: reading a request (:func:`read_request`,
also used by ``_vendor.py``) and a throwaway redis-server (:func:`redis_server`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

SMALL = json.dumps({"result": 1000, "message": "ok"}).encode()
BIG = json.dumps({"result": 3103, "message": "x" * ((1 << 20) - 100)}).encode()  # under the cap
CHUNK = b"\x49\x44\x33" + bytes(65_533)


async def read_request(reader: asyncio.StreamReader) -> str:
    """Read one request (its head, and its body if any); returns its target."""
    head = await reader.readuntil(b"\r\n\r\n")
    target = head.split(b"\r\n", 1)[0].split(b" ")[1].decode()
    length = 0
    for line in head.split(b"\r\n")[1:]:
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    if length:
        await reader.readexactly(length)
    return target


@contextlib.contextmanager
def redis_server() -> Iterator[str | None]:
    """A throwaway redis-server on 127.0.0.1, or None where there is none to start."""
    binary = shutil.which("redis-server")
    if binary is None:
        yield None
        return
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    args = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(500):
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port)):
                break
            time.sleep(0.01)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.kill()
        proc.wait(timeout=10)


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    if sock is not None:  # no Nagle delay: small responses go out at once
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        while True:
            path = await read_request(reader)
            if path.startswith("/stream/"):
                mib = int(path.rsplit("/", 1)[1])
                writer.write(
                    b"HTTP/1.1 200 OK\r\ncontent-type: audio/mpeg\r\n"
                    b"content-length: %d\r\n\r\n" % (mib * 16 * len(CHUNK))
                )
                for _ in range(mib * 16):
                    writer.write(CHUNK)
                    await writer.drain()
                continue
            body = BIG if path == "/big-json" else SMALL
            writer.write(
                b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                b"content-length: %d\r\n\r\n%s" % (len(body), body)
            )
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def main() -> None:
    server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=512)
    port = server.sockets[0].getsockname()[1]
    print(port, flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
