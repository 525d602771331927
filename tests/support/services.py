"""Pytest fixtures for the real services: PostgreSQL databases and Redis queue names.

URLs come from `PERFGATE_PG_URL` and `PERFGATE_REDIS_URL` (defaults: the local
servers). A test that needs an unreachable service is skipped with the reason, or
fails when `PERFGATE_REQUIRE_SERVICES=1`. Every database and key a test creates has
a name unique to the run, and is dropped at teardown.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
import redis

DEFAULT_PG_URL = "postgresql://root@127.0.0.1:5432/postgres"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
CONNECT_TIMEOUT_S = 5


def _unavailable(service: str, url: str, error: Exception) -> None:
    message = f"{service} at {url} is unreachable: {error}"
    if os.environ.get("PERFGATE_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{message} (PERFGATE_REQUIRE_SERVICES=1)")
    pytest.skip(message)


def with_database(url: str, name: str) -> str:
    """Return `url` with its database (the path) replaced by `name`."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """The PostgreSQL maintenance URL, checked to accept connections."""
    url = os.environ.get("PERFGATE_PG_URL", DEFAULT_PG_URL)
    try:
        psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT_S).close()
    except psycopg.Error as exc:
        _unavailable("PostgreSQL", url, exc)
    return url


DatabaseFactory = Callable[[], str]
"""Return a new unique database name prefix; `{prefix}_{shard}` names each shard's database."""


@pytest.fixture
def postgres_prefix(postgres_url: str) -> Iterator[DatabaseFactory]:
    """Hand out unique database name prefixes and drop every database made with them."""
    prefixes: list[str] = []

    def new_prefix() -> str:
        prefix = f"perfgate_t{secrets.token_hex(4)}"
        prefixes.append(prefix)
        return prefix

    yield new_prefix
    drop_databases(postgres_url, prefixes)


def drop_databases(postgres_url: str, prefixes: list[str]) -> None:
    """Drop every database whose name starts with one of `prefixes`, closing its sessions."""
    if not prefixes:
        return
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        for prefix in prefixes:
            rows = connection.execute(
                "SELECT datname FROM pg_database WHERE datname LIKE %s", (f"{prefix}%",)
            ).fetchall()
            for (name,) in rows:
                # The name came from pg_database and starts with our own prefix.
                connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def postgres_template(postgres_url: str, postgres_prefix: DatabaseFactory) -> str:
    """A `--db` value with `{shard}`: one new database per shard, dropped at teardown."""
    return with_database(postgres_url, f"{postgres_prefix()}_{{shard}}")


@pytest.fixture
def postgres_database(postgres_url: str, postgres_prefix: DatabaseFactory) -> str:
    """A `--db` value naming one new database, which contains every shard in its own schema."""
    return with_database(postgres_url, postgres_prefix())


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The Redis URL, checked to respond to PING."""
    url = os.environ.get("PERFGATE_REDIS_URL", DEFAULT_REDIS_URL)
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=CONNECT_TIMEOUT_S)
        client.ping()
        client.close()
    except (redis.RedisError, OSError) as exc:
        _unavailable("Redis", url, exc)
    return url


@pytest.fixture
def queue_name(redis_url: str) -> Iterator[str]:
    """A Redis stream name unique to the test; its keys are deleted at teardown."""
    name = f"perfgate-test:{secrets.token_hex(4)}"
    yield name
    client = redis.Redis.from_url(redis_url)
    client.delete(name, f"{name}:status")
    client.close()
