"""PostgreSQL shards: tables, layout record, database creation and seeding.

Each shard keeps its tables in its own schema (see `targets.storage.directory`):
`world`, `fortune` (on shard 0 only), `users`, `outbox`, `applied_events` and
`perfgate_layout`, the record of the keyspace the shard was seeded for.
Identifiers in these statements are built from integers or checked names, and
every value is a query parameter.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from targets.errors import StorageError, TargetConfigError
from targets.routing.keyspace import Keyspace
from targets.storage.base import WorldRow
from targets.storage.directory import ShardPlacement, redact_dsn
from targets.storage.seed import FORTUNES, generate_worlds
from targets.storage.sqlite.layout import FORTUNE_SHARD, LAYOUT_VERSION, expected_layout

logger = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 10.0
_DATABASE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")

TABLES = (
    "CREATE TABLE IF NOT EXISTS world (id integer PRIMARY KEY, randomnumber integer NOT NULL)",
    "CREATE TABLE IF NOT EXISTS fortune (id integer PRIMARY KEY, message text NOT NULL)",
    "CREATE TABLE IF NOT EXISTS users (id bigint PRIMARY KEY, name text NOT NULL,"
    " region text NOT NULL, events bigint NOT NULL DEFAULT 0)",
    "CREATE INDEX IF NOT EXISTS users_region_id ON users (region, id)",
    "CREATE TABLE IF NOT EXISTS outbox (id text PRIMARY KEY, user_id bigint NOT NULL,"
    " kind text NOT NULL, payload text NOT NULL, status text NOT NULL,"
    " enqueued_at double precision NOT NULL, claimed_at double precision)",
    "CREATE INDEX IF NOT EXISTS outbox_status ON outbox (status, enqueued_at)",
    "CREATE TABLE IF NOT EXISTS applied_events (event_id text PRIMARY KEY,"
    " user_id bigint NOT NULL, kind text NOT NULL, outcome text NOT NULL)",
    "CREATE TABLE IF NOT EXISTS perfgate_layout (key text PRIMARY KEY, value text NOT NULL)",
)
_INSERT_WORLD = "INSERT INTO world (id, randomnumber) VALUES ($1, $2) ON CONFLICT DO NOTHING"
_INSERT_FORTUNE = "INSERT INTO fortune (id, message) VALUES ($1, $2) ON CONFLICT DO NOTHING"
_WRITE_LAYOUT = (
    "INSERT INTO perfgate_layout (key, value) VALUES ($1, $2)"
    " ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value"
)
_READ_LAYOUT = "SELECT key, value FROM perfgate_layout"


async def connect_shard(placement: ShardPlacement) -> asyncpg.Connection:
    """Open one connection to a shard's database with its schema on the search path.

    Raises:
        StorageError: the database cannot be reached; the message hides any password.
    """
    try:
        return await asyncpg.connect(
            placement.dsn,
            timeout=CONNECT_TIMEOUT_S,
            server_settings={"search_path": placement.schema},
        )
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        raise StorageError(
            f"cannot connect to shard {placement.shard} at {placement.redacted_dsn}: {exc}"
        ) from exc


async def ensure_database(dsn: str) -> None:
    """Create the database `dsn` names, through the `postgres` database, if it is missing.

    Raises:
        StorageError: the server cannot be reached or the database cannot be created.
    """
    try:
        connection = await asyncpg.connect(dsn, timeout=CONNECT_TIMEOUT_S)
    except asyncpg.InvalidCatalogNameError:
        pass
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        raise StorageError(f"cannot connect to {redact_dsn(dsn)}: {exc}") from exc
    else:
        await connection.close()
        return

    parts = urlsplit(dsn)
    name = parts.path.lstrip("/")
    if not _DATABASE_NAME.fullmatch(name):
        raise TargetConfigError(
            f"cannot create database {name!r}: use letters, digits and '_' only"
        )
    maintenance = urlunsplit((parts.scheme, parts.netloc, "/postgres", parts.query, ""))
    try:
        connection = await asyncpg.connect(maintenance, timeout=CONNECT_TIMEOUT_S)
        try:
            await connection.execute(f'CREATE DATABASE "{name}"')
        except asyncpg.DuplicateDatabaseError:
            pass
        finally:
            await connection.close()
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        raise StorageError(f"cannot create database {name!r} on {redact_dsn(dsn)}: {exc}") from exc
    logger.info("created database %s", name)


async def init_postgres(placements: Sequence[ShardPlacement], keyspace: Keyspace) -> None:
    """Create the databases, schemas and tables of every shard, and seed them once.

    Running it again on seeded shards changes nothing.

    Raises:
        TargetConfigError: a shard was seeded for another keyspace; run reshard.
        StorageError: a database cannot be reached, created or written.
    """
    for dsn in dict.fromkeys(placement.dsn for placement in placements):
        await ensure_database(dsn)

    rows_by_shard: list[list[WorldRow]] = [[] for _ in placements]
    for row in generate_worlds():
        rows_by_shard[keyspace.shard_for_id(row[0])].append(row)

    for placement in placements:
        await _seed_shard(placement, keyspace, rows_by_shard[placement.shard])


async def read_layout(connection: asyncpg.Connection) -> dict[str, str]:
    """Read the layout a shard records; empty when it was never seeded."""
    exists = await connection.fetchval("SELECT to_regclass('perfgate_layout') IS NOT NULL")
    if not exists:
        return {}
    return {row["key"]: row["value"] for row in await connection.fetch(_READ_LAYOUT)}


async def create_tables(connection: asyncpg.Connection, schema: str) -> None:
    """Create a shard's schema and tables where missing."""
    await connection.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
    for statement in TABLES:
        await connection.execute(statement)


async def write_layout(connection: asyncpg.Connection, layout: dict[str, str]) -> None:
    """Record `layout` on a shard."""
    await connection.executemany(_WRITE_LAYOUT, sorted(layout.items()))


async def _seed_shard(
    placement: ShardPlacement, keyspace: Keyspace, worlds: Sequence[WorldRow]
) -> None:
    layout = expected_layout(placement.shard, keyspace)
    connection = await connect_shard(placement)
    try:
        async with connection.transaction():
            # Serializes seeding of this schema between processes that start together.
            await connection.execute("SELECT pg_advisory_xact_lock(hashtext($1))", placement.schema)
            await create_tables(connection, placement.schema)
            found = await read_layout(connection)
            if found == layout:
                return
            if found:
                raise _layout_mismatch(placement, found, layout)
            await connection.executemany(_INSERT_WORLD, worlds)
            if placement.shard == FORTUNE_SHARD:
                await connection.executemany(_INSERT_FORTUNE, FORTUNES)
            await write_layout(connection, layout)
        logger.info("seeded PostgreSQL shard %d with %d world rows", placement.shard, len(worlds))
    except asyncpg.PostgresError as exc:
        raise StorageError(
            f"cannot seed shard {placement.shard} at {placement.redacted_dsn}: {exc}"
        ) from exc
    finally:
        await connection.close()


def _layout_mismatch(
    placement: ShardPlacement, found: dict[str, str], expected: dict[str, str]
) -> TargetConfigError:
    recorded = ", ".join(f"{key}={value}" for key, value in sorted(found.items()))
    shards = expected["shard_count"]
    return TargetConfigError(
        f"shard {placement.shard} at {placement.redacted_dsn} records {recorded}, not this "
        f"layout (version {LAYOUT_VERSION}, {shards} shards, router {expected['router']}): "
        f"run `perfgate db reshard --db ... --shards {shards}` or drop schema {placement.schema}"
    )
