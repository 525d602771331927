"""A canned-response HTTP/1.1 server: the fastest response a Python asyncio server can send.

It responds to every request with the same small JSON body, without parsing beyond
finding the end of each request's head, so it measures the load generator, not the
server. Requests must have no body (GET); pipelined requests are answered in one
write. It counts the requests it answered, so tests can compare that count with what
perfgate reports.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

logger = logging.getLogger(__name__)

BODY = b'{"message":"Hello, World!"}'
RESPONSE = (
    b"HTTP/1.1 200 OK\r\nServer: canned\r\nContent-Type: application/json\r\n"
    b"Content-Length: " + str(len(BODY)).encode() + b"\r\n\r\n" + BODY
)
HEAD_END = b"\r\n\r\n"
MAX_HEAD_BYTES = 64 * 1024


class CannedProtocol(asyncio.Protocol):
    """Respond to each request head with the canned response."""

    def __init__(self, counter: list[int]) -> None:
        self._counter = counter
        self._buffer = b""
        self._transport: asyncio.WriteTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Keep the transport for writing."""
        # uvloop's TCP transport is not a subclass of asyncio.Transport, only of
        # the abstract write transport interface.
        self._transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        """Respond to every complete request head in the buffer."""
        self._buffer += data
        complete = self._buffer.count(HEAD_END)
        if complete:
            self._buffer = self._buffer[self._buffer.rfind(HEAD_END) + len(HEAD_END) :]
            self._counter[0] += complete
            assert self._transport is not None
            self._transport.write(RESPONSE * complete)
        elif len(self._buffer) > MAX_HEAD_BYTES and self._transport is not None:
            self._transport.close()


async def serve_canned(host: str, port: int, ready: asyncio.Event | None = None) -> int:
    """Serve until cancelled or SIGTERM/SIGINT, and return how many requests were answered."""
    counter = [0]
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: CannedProtocol(counter), host, port)
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.set)
    address = server.sockets[0].getsockname()
    logger.info("canned server listening on %s:%d", address[0], address[1])
    if ready is not None:
        ready.set()
    try:
        await stop.wait()
    finally:
        server.close()
        await server.wait_closed()
        logger.info("canned server stopped after %d requests", counter[0])
    return counter[0]


def main() -> None:
    """Run the canned server: `python -m perfgate.calibrate.canned_server --ready-file F`."""
    import argparse
    import os
    from pathlib import Path

    parser = argparse.ArgumentParser(description="Canned-response HTTP server on uvloop.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--ready-file", type=Path, required=True)
    arguments = parser.parse_args()

    async def run() -> int:
        loop = asyncio.get_running_loop()
        counter = [0]
        server = await loop.create_server(
            lambda: CannedProtocol(counter), arguments.host, arguments.port
        )
        host, port = server.sockets[0].getsockname()[:2]
        temporary = arguments.ready_file.with_name(arguments.ready_file.name + ".tmp")
        temporary.write_text(f"{host}:{port}", encoding="ascii")
        os.replace(temporary, arguments.ready_file)
        stop = asyncio.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        await stop.wait()
        server.close()
        return counter[0]

    import uvloop

    answered = uvloop.run(run())
    logger.info("canned server responded to %d requests", answered)


if __name__ == "__main__":
    main()
