"""An HTTP server with known behaviour, for checking perfgate against ground truth.

Run as a script; it writes `host:port` to the ready file once listening and, on
SIGTERM, writes what it did to the record file as JSON: how many requests it
answered, how many came from each client address, and the time each spent inside
the server, in microseconds.

Options:
    --bind ADDR      address to listen on (default 127.0.0.1).
    --delay-seed S   each request waits a log-normally distributed time drawn from a
                     generator seeded with S (median 4 ms, long tail).
    --stall-after N  after the N-th request, stop answering for --stall-s seconds;
                     requests that arrive meanwhile wait until the stall ends.
    --service-s S    serve one request at a time, each taking S seconds, so the
                     capacity is exactly 1/S requests per second.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import time
from pathlib import Path

BODY = b'{"message":"Hello, World!"}'
RESPONSE = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
    + str(len(BODY)).encode()
    + b"\r\n\r\n"
    + BODY
)
DELAY_MEDIAN_S = 0.004
DELAY_SIGMA = 0.6


class KnownServer:
    """Answer requests with a seeded delay or a stall, and record what it did."""

    def __init__(
        self, delay_seed: int | None, stall_after: int | None, stall_s: float, service_s: float
    ) -> None:
        self.requests = 0
        self._service_s = service_s
        self._one_at_a_time = asyncio.Lock()
        self._last_done = 0.0
        self.requests_by_client: dict[str, int] = {}
        self.server_times_us: list[int] = []
        self._random = random.Random(delay_seed) if delay_seed is not None else None
        self._stall_after = stall_after
        self._stall_s = stall_s
        self._stall_until = 0.0

    def _delay_s(self) -> float:
        if self._random is None:
            return 0.0
        return self._random.lognormvariate(0.0, DELAY_SIGMA) * DELAY_MEDIAN_S

    async def _serve_one_at_a_time(self) -> None:
        # Completions fall on a grid S apart while the server is busy, so a late
        # timer wake-up does not lower the capacity below exactly 1/S.
        async with self._one_at_a_time:
            now = time.monotonic()
            done = max(now, self._last_done) + self._service_s
            await asyncio.sleep(done - now)
            self._last_done = done

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Serve one keep-alive connection until the client closes it."""
        client = str(writer.get_extra_info("peername")[0])
        try:
            while True:
                await reader.readuntil(b"\r\n\r\n")
                started = time.perf_counter()
                self.requests += 1
                self.requests_by_client[client] = self.requests_by_client.get(client, 0) + 1
                if self._stall_after is not None and self.requests == self._stall_after:
                    self._stall_until = time.monotonic() + self._stall_s
                wait_s = max(self._stall_until - time.monotonic(), 0.0) + self._delay_s()
                if wait_s > 0:
                    await asyncio.sleep(wait_s)
                if self._service_s > 0:
                    await self._serve_one_at_a_time()
                writer.write(RESPONSE)
                self.server_times_us.append(round((time.perf_counter() - started) * 1e6))
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


async def main() -> None:
    """Parse arguments, serve until SIGTERM, then write the record."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--ready-file", type=Path, required=True)
    parser.add_argument("--bind", default="127.0.0.1")
    parser.add_argument("--record-file", type=Path, required=True)
    parser.add_argument("--delay-seed", type=int)
    parser.add_argument("--stall-after", type=int)
    parser.add_argument("--stall-s", type=float, default=1.0)
    parser.add_argument("--service-s", type=float, default=0.0)
    arguments = parser.parse_args()

    known = KnownServer(
        arguments.delay_seed, arguments.stall_after, arguments.stall_s, arguments.service_s
    )
    server = await asyncio.start_server(known.handle, arguments.bind, 0, backlog=1024)
    host, port = server.sockets[0].getsockname()[:2]
    temporary = arguments.ready_file.with_suffix(".tmp")
    temporary.write_text(f"{host}:{port}")
    os.replace(temporary, arguments.ready_file)

    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    server.close()
    record = {
        "requests": known.requests,
        "requests_by_client": known.requests_by_client,
        "server_times_us": known.server_times_us,
    }
    arguments.record_file.write_text(json.dumps(record))


if __name__ == "__main__":
    asyncio.run(main())
