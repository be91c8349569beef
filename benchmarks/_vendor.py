"""A capacity-limited vendor for the overload benchmark, run as a subprocess.

Onbuka's SMS API at ``POST /v3/sendSms``: a token bucket of ``rate`` calls per second (``burst``
deep) serves a call with ``{"status": "0"}``; the rest get HTTP 200 with Onbuka's
``{"status": "-15", "reason": "Query too frequently"}``, and ``Retry-After: 1`` when switched on.
``POST /reset?retry_after=0|1`` refills the bucket and zeroes the counters; ``GET /stats`` answers
``{"requests": n, "served": m}``. Prints its port, then serves until killed.
"""

from __future__ import annotations

import asyncio
import json
import socket
import sys
import time

from _server import read_request  # the script's own folder is on sys.path

OK = json.dumps({"status": "0", "reason": "success", "success": 1, "fail": 0}).encode()
BUSY = json.dumps({"status": "-15", "reason": "Query too frequently"}).encode()


class Bucket:
    def __init__(self, rate: float, burst: float) -> None:
        self.rate, self.burst = rate, burst
        self.reset(False)

    def reset(self, retry_after: bool) -> None:
        self.tokens, self.stamp = self.burst, time.monotonic()
        self.requests = self.served = 0
        self.retry_after = retry_after

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        self.requests += 1
        if self.tokens >= 1:
            self.tokens -= 1
            self.served += 1
            return True
        return False


def response(body: bytes, extra: bytes = b"") -> bytes:
    return (
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n%scontent-length: %d\r\n\r\n%s"
        % (extra, len(body), body)
    )


async def handle(
    bucket: Bucket, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        while True:
            target = await read_request(reader)
            if target.startswith("/reset"):
                bucket.reset(target.endswith("retry_after=1"))
                writer.write(response(b"{}"))
            elif target.startswith("/stats"):
                stats = {"requests": bucket.requests, "served": bucket.served}
                writer.write(response(json.dumps(stats).encode()))
            elif bucket.take():
                writer.write(response(OK))
            else:
                extra = b"retry-after: 1\r\n" if bucket.retry_after else b""
                writer.write(response(BUSY, extra))
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def main(rate: float, burst: float) -> None:
    bucket = Bucket(rate, burst)
    server = await asyncio.start_server(
        lambda r, w: handle(bucket, r, w), "127.0.0.1", 0, backlog=1024
    )
    print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main(float(sys.argv[1]), float(sys.argv[2])))
    except KeyboardInterrupt:
        sys.exit(0)
