"""A lean asyncio HTTP/1.1 client for single-item load: open loop at a fixed offered rate, or closed loop.

Requests go out on a schedule whatever the answers (open loop), over a pool of keep-alive connections, and each
latency is counted from the scheduled send time, so queueing anywhere (client, server, database) shows in it.
Hand-written HTTP keeps the load generator's own CPU small: it shares the cores with the server it measures.
"""

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

MAX_CONNECTIONS = 256
KEEP_ALIVE_SECONDS = 4.0  # below uvicorn's timeout_keep_alive (5 s)


@dataclass(frozen=True)
class Step:
    """What one run of requests measured."""

    offered: float | None  # requests/s offered; None for a closed-loop run
    sent: int
    seconds: float
    latencies: list[float]
    failed: dict[int, int]  # status -> requests not answered 200; status 0: the connection failed

    @property
    def failures(self) -> str:
        """e.g. "0 failed", "3 failed (connection 2, 503: 1)"."""
        total = sum(self.failed.values())
        kinds = ", ".join(
            f"connection {n}" if status == 0 else f"{status}: {n}"
            for status, n in sorted(self.failed.items())
        )
        return f"{total} failed ({kinds})" if total else "0 failed"

    @property
    def achieved(self) -> float:
        return len(self.latencies) / self.seconds

    def percentile_ms(self, q: float) -> float:
        return float(np.percentile(self.latencies, q)) * 1000 if self.latencies else float("nan")


def request_bytes(path: str, token: str, body: bytes) -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


class _Pool:
    """Keep-alive connections to one host, opened on demand up to MAX_CONNECTIONS.

    A connection idle for KEEP_ALIVE_SECONDS is closed rather than reused: the server (uvicorn closes idle
    connections after 5 s) may have closed it, and a request written into it would be lost to the client's
    own bookkeeping, not to the server.
    """

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.idle: list[tuple[float, asyncio.StreamReader, asyncio.StreamWriter]] = []
        self.slots = asyncio.Semaphore(MAX_CONNECTIONS)

    async def _connection(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        now = time.monotonic()
        while self.idle:
            since, reader, writer = self.idle.pop()
            if now - since < KEEP_ALIVE_SECONDS:
                return reader, writer
            writer.close()
        return await asyncio.open_connection(self.host, self.port)

    async def send(self, raw: bytes) -> int:
        """The status code of one request; 0 if its connection failed (it is dropped, not reused)."""
        async with self.slots:
            reader, writer = await self._connection()
            try:
                writer.write(raw)
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:])
                await reader.readexactly(length)
            except (OSError, asyncio.IncompleteReadError):
                writer.close()
                return 0
            self.idle.append((time.monotonic(), reader, writer))
            return int(head[9:12])

    def close(self) -> None:
        for _, _, writer in self.idle:
            writer.close()


async def _open_loop(host: str, port: int, requests: Sequence[bytes], rate: float) -> Step:
    pool, loop = _Pool(host, port), asyncio.get_running_loop()
    latencies: list[float] = []
    failed: dict[int, int] = {}

    async def one(scheduled: float, raw: bytes) -> None:
        status = await pool.send(raw)
        if status == 200:
            latencies.append(loop.time() - scheduled)
        else:
            failed[status] = failed.get(status, 0) + 1

    start = loop.time() + 0.05
    tasks = []
    for n, raw in enumerate(requests):
        scheduled = start + n / rate
        if (pause := scheduled - loop.time()) > 0:
            await asyncio.sleep(pause)
        tasks.append(asyncio.create_task(one(scheduled, raw)))
    await asyncio.gather(*tasks)
    seconds = loop.time() - start
    pool.close()
    return Step(rate, len(requests), seconds, latencies, failed)


async def _closed_loop(host: str, port: int, requests: Sequence[bytes], concurrency: int) -> Step:
    pool, pending = _Pool(host, port), list(reversed(requests))
    latencies: list[float] = []
    failed: dict[int, int] = {}

    async def worker() -> None:
        while pending:
            raw = pending.pop()
            began = time.perf_counter()
            if (status := await pool.send(raw)) == 200:
                latencies.append(time.perf_counter() - began)
            else:
                failed[status] = failed.get(status, 0) + 1

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    seconds = time.perf_counter() - began
    pool.close()
    return Step(None, len(requests), seconds, latencies, failed)


def open_loop(host: str, port: int, requests: Sequence[bytes], rate: float) -> Step:
    """Send `requests` at `rate` per second regardless of answers; latency from each scheduled send."""
    return asyncio.run(_open_loop(host, port, requests, rate))


def closed_loop(host: str, port: int, requests: Sequence[bytes], concurrency: int) -> Step:
    """Send `requests` with `concurrency` in flight, each sent as soon as one is answered (saturation)."""
    return asyncio.run(_closed_loop(host, port, requests, concurrency))
