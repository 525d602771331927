"""Run one target variant in the foreground: the lifecycle behind `perfgate serve`.

Steps: check the configuration, open storage (creating and seeding the shards if
needed), bind, announce the address in the ready file, serve until SIGINT or
SIGTERM, then stop accepting, close connections and storage, and return. With more
than one process, `targets.servers.multiproc` runs these steps in each of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path

from targets.codecs import get_codec
from targets.config import TargetConfig
from targets.errors import TargetConfigError
from targets.loops import get_loop_factory
from targets.servers import ServerSettings, TargetServer, get_asgi_host_factory, get_server_factory
from targets.services import Services, open_services, validate_services
from targets.storage.sqlite import check_sqlite_mode

logger = logging.getLogger(__name__)

_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def serve(config: TargetConfig) -> None:
    """Serve `config`'s variant until SIGINT or SIGTERM, then stop cleanly and return.

    Raises:
        TargetConfigError: a variant name or setting is invalid, or the address
            cannot be bound.
        StorageError: the shard files cannot be created or opened.
    """
    validate_config(config)
    if config.procs > 1:
        from targets.servers.multiproc import serve_processes

        serve_processes(config, prepare=_prepare_storage, announce=_announce)
        return
    with asyncio.Runner(loop_factory=get_loop_factory(config.loop)) as runner:
        runner.run(run_target(config))


def validate_config(config: TargetConfig) -> None:
    """Check every name and number in `config` before anything starts.

    Raises:
        TargetConfigError: names the invalid value and the allowed ones.
    """
    get_server_factory(config.target)
    get_asgi_host_factory(config.server)
    get_codec(config.codec)
    get_loop_factory(config.loop)
    check_sqlite_mode(config.sqlite_mode)
    if config.shards < 1:
        raise TargetConfigError(f"shard count must be at least 1, got {config.shards!r}")
    if not 0 <= config.port <= 65535:
        raise TargetConfigError(f"port must be in 0..65535, got {config.port!r}")
    if config.procs < 1:
        raise TargetConfigError(f"process count must be at least 1, got {config.procs!r}")
    validate_services(config.services, config.shards)


async def run_target(config: TargetConfig, stop: asyncio.Event | None = None) -> None:
    """Serve `config`'s variant on the running loop until `stop` is set or a signal arrives.

    Args:
        config: the variant to serve; `validate_config` should have passed.
        stop: set it to stop the target; SIGINT and SIGTERM set it too, when the
            loop runs in the main thread.
    """
    stop_event = stop if stop is not None else asyncio.Event()
    with _stop_on_signals(stop_event):
        services = await _open_services(config)
        try:
            codec = get_codec(config.codec)
            settings = ServerSettings(
                routes=services.routes(codec),
                codec=codec,
                storage=services.storage,
                host=config.host,
                port=config.port,
                limits=config.limits,
                reuse_port=config.reuse_port,
                asgi_server=config.server,
            )
            server = get_server_factory(config.target)(settings)
            host, port = await _start_server(server, config)
            try:
                _announce(config, host, port)
                await stop_event.wait()
                logger.info("stopping target on %s", format_address(host, port))
            finally:
                await server.stop()
                _remove_ready_file(config.ready_file)
        finally:
            await services.close()
    logger.info("target stopped")


async def _open_services(config: TargetConfig) -> Services:
    return await open_services(config.services, config.shards, config.data_dir, config.sqlite_mode)


def _prepare_storage(config: TargetConfig) -> None:
    """Open and close storage once, creating and seeding it if needed."""

    async def open_and_close() -> None:
        no_consumers = dataclasses.replace(config.services, consumers=0)
        services = await _open_services(dataclasses.replace(config, services=no_consumers))
        await services.close()

    with asyncio.Runner(loop_factory=get_loop_factory(config.loop)) as runner:
        runner.run(open_and_close())


async def _start_server(server: TargetServer, config: TargetConfig) -> tuple[str, int]:
    try:
        return await server.start()
    except OSError as exc:
        address = format_address(config.host, config.port)
        raise TargetConfigError(
            f"cannot listen on {address}: {exc.strerror or exc}. Stop the process that uses "
            f"the port or pass another --port (0 picks a free one)"
        ) from exc


def format_address(host: str, port: int) -> str:
    """Format `host:port`, with brackets around an IPv6 host."""
    if ":" in host:
        return f"[{host}]:{port}"
    return f"{host}:{port}"


def write_ready_file(path: Path, address: str) -> None:
    """Write `address` to `path` atomically: a temporary file beside it, then a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(
        "w", dir=path.parent, prefix=f".{path.name}.", delete=False, encoding="ascii"
    ) as temporary:
        temporary.write(address)
    os.replace(temporary.name, path)


def _announce(config: TargetConfig, host: str, port: int) -> None:
    address = format_address(host, port)
    if config.ready_file is not None:
        write_ready_file(config.ready_file, address)
    variant = config.target if config.target == "raw" else f"{config.target} on {config.server}"
    logger.info(
        "serving target %s on http://%s (codec %s, loop %s, SQLite %s, %d shards in %s)",
        variant,
        address,
        config.codec,
        config.loop,
        config.sqlite_mode,
        config.shards,
        config.data_dir,
    )


def _remove_ready_file(path: Path | None) -> None:
    """Remove the ready file, so that it never names a port that no server listens on."""
    if path is not None:
        path.unlink(missing_ok=True)


@contextlib.contextmanager
def _stop_on_signals(stop: asyncio.Event) -> Iterator[None]:
    """Set `stop` on SIGINT and SIGTERM while inside, where the loop supports it."""
    loop = asyncio.get_running_loop()
    installed: list[signal.Signals] = []
    for signum in _STOP_SIGNALS:
        try:
            loop.add_signal_handler(signum, _request_stop, stop, signum)
        except (NotImplementedError, RuntimeError, ValueError) as exc:
            # Only the main thread of a Unix process can take signals this way.
            logger.debug("cannot stop on %s here: %s", signum.name, exc)
        else:
            installed.append(signum)
    try:
        yield
    finally:
        for signum in installed:
            loop.remove_signal_handler(signum)


def _request_stop(stop: asyncio.Event, signum: signal.Signals) -> None:
    logger.info("received %s", signum.name)
    stop.set()


__all__ = ["format_address", "run_target", "serve", "validate_config"]
