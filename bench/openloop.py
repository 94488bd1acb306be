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


@dataclass(frozen=True)
class Step:
    """What one run of requests measured."""

    offered: float | None  # requests/s offered; None for a closed-loop run
    sent: int
    seconds: float
    latencies: list[float]
    failures: int

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
    """Keep-alive connections to one host, opened on demand up to MAX_CONNECTIONS."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self.slots = asyncio.Semaphore(MAX_CONNECTIONS)

    async def send(self, raw: bytes) -> int:
        """The status code of one request (a connection that fails is dropped, not reused)."""
        async with self.slots:
            reader, writer = (
                self.idle.pop() if self.idle else await asyncio.open_connection(self.host, self.port)
            )
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
            self.idle.append((reader, writer))
            return int(head[9:12])

    def close(self) -> None:
        for _, writer in self.idle:
            writer.close()


async def _open_loop(host: str, port: int, requests: Sequence[bytes], rate: float) -> Step:
    pool, loop = _Pool(host, port), asyncio.get_running_loop()
    latencies: list[float] = []
    failures = 0

    async def one(scheduled: float, raw: bytes) -> None:
        nonlocal failures
        status = await pool.send(raw)
        if status == 200:
            latencies.append(loop.time() - scheduled)
        else:
            failures += 1

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
    return Step(rate, len(requests), seconds, latencies, failures)


async def _closed_loop(host: str, port: int, requests: Sequence[bytes], concurrency: int) -> Step:
    pool, pending = _Pool(host, port), list(reversed(requests))
    latencies: list[float] = []
    failures = 0

    async def worker() -> None:
        nonlocal failures
        while pending:
            raw = pending.pop()
            began = time.perf_counter()
            if await pool.send(raw) == 200:
                latencies.append(time.perf_counter() - began)
            else:
                failures += 1

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    seconds = time.perf_counter() - began
    pool.close()
    return Step(None, len(requests), seconds, latencies, failures)


def open_loop(host: str, port: int, requests: Sequence[bytes], rate: float) -> Step:
    """Send `requests` at `rate` per second regardless of answers; latency from each scheduled send."""
    return asyncio.run(_open_loop(host, port, requests, rate))


def closed_loop(host: str, port: int, requests: Sequence[bytes], concurrency: int) -> Step:
    """Send `requests` with `concurrency` in flight, each sent as soon as one is answered (saturation)."""
    return asyncio.run(_closed_loop(host, port, requests, concurrency))
