"""The `raw` server variant: an asyncio Protocol server on httptools, without a framework."""

from targets.servers.raw.protocol import HttpProtocol
from targets.servers.raw.server import RawServer

__all__ = ["HttpProtocol", "RawServer"]
