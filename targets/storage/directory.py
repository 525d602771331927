"""The shard directory: the physical store of each logical shard.

`--db sqlite` (the default) keeps shard i in the file `shard-{i}.sqlite3` of the data
folder. `--db` with a PostgreSQL URL maps shards to databases, as Citus's placement
table maps shards to nodes:

- a URL containing `{shard}`, such as `postgresql://host/perfgate_{shard}`, gives
  shard i the database whose URL has `{shard}` replaced by i;
- a comma-separated list of URLs gives shard i the URL at position `i mod len(list)`,
  so several logical shards may share one database.

Inside its database, shard i keeps its tables in the schema `perfgate_shard_{i}`,
so shards that share a database never mix rows.
"""

from __future__ import annotations

import dataclasses
from urllib.parse import urlsplit, urlunsplit

from targets.errors import TargetConfigError

SHARD_PLACEHOLDER = "{shard}"
_POSTGRES_SCHEMES = ("postgresql://", "postgres://")


@dataclasses.dataclass(frozen=True)
class ShardPlacement:
    """Location of one logical shard in PostgreSQL.

    Attributes:
        shard: the logical shard index.
        dsn: the connection URL of its database; may contain a password.
        schema: the schema of its tables.
    """

    shard: int
    dsn: str
    schema: str

    @property
    def redacted_dsn(self) -> str:
        """The DSN with its password replaced by `***`, safe to log."""
        return redact_dsn(self.dsn)


def is_postgres(db: str) -> bool:
    """Return whether `--db` names PostgreSQL rather than SQLite."""
    return db.startswith(_POSTGRES_SCHEMES)


def check_db(db: str) -> None:
    """Raise `TargetConfigError` unless `db` is `sqlite` or PostgreSQL URLs."""
    if db == "sqlite":
        return
    dsns = [part.strip() for part in db.split(",")]
    for dsn in dsns:
        if not is_postgres(dsn):
            raise TargetConfigError(
                f"invalid --db {redact_dsn(db)!r}: expected sqlite, a postgresql:// URL "
                f"(with {SHARD_PLACEHOLDER} for one database per shard) or a comma-separated "
                f"list of them"
            )


def place_shards(db: str, shards: int) -> list[ShardPlacement]:
    """Map each of `shards` logical shards to a PostgreSQL database and schema.

    Raises:
        TargetConfigError: `db` is not PostgreSQL URLs.
    """
    check_db(db)
    if db == "sqlite":
        raise TargetConfigError("--db sqlite has no PostgreSQL placement")
    dsns = [part.strip() for part in db.split(",")]
    placements = []
    for shard in range(shards):
        dsn = dsns[shard % len(dsns)].replace(SHARD_PLACEHOLDER, str(shard))
        placements.append(ShardPlacement(shard, dsn, shard_schema(shard)))
    return placements


def shard_schema(shard: int) -> str:
    """Return the schema name of shard `shard`; built from an int, so safe to quote in SQL."""
    return f"perfgate_shard_{int(shard)}"


def redact_dsn(dsn: str) -> str:
    """Return `dsn` (one URL or a comma-separated list) with every password as `***`."""
    return ",".join(_redact_one(part) for part in dsn.split(","))


def _redact_one(url: str) -> str:
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return "<unparsable URL>"
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    netloc = f"{user}:***@{host}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
