"""Shard files on disk: names, schema, connection settings, and seeding with `init_shards`.

A data folder contains `shard-0.sqlite3` to `shard-{N-1}.sqlite3`. Each `world` row
lives on the shard its keyspace routes its id to (`jump_hash(id, N)` by default). The
`fortune` table lives on shard 0 only, because it is small and always read whole.
Each file also records its layout (format version, shard index, shard count, router
name and placement) in `perfgate_layout`, so that a folder seeded for another shard
count, router or placement is detected instead of read wrongly.
"""

from __future__ import annotations

import logging
import re
import sqlite3
from collections.abc import Sequence
from pathlib import Path

from targets.errors import StorageError, TargetConfigError
from targets.routing.keyspace import Keyspace
from targets.storage.base import WorldRow
from targets.storage.seed import FORTUNES, generate_worlds

logger = logging.getLogger(__name__)

LAYOUT_VERSION = "2"
FORTUNE_SHARD = 0
"""Index of the shard that contains the whole `fortune` table."""

BUSY_TIMEOUT_MS = 5_000
"""How long a connection waits for another writer's lock before failing."""

_SHARD_FILE = re.compile(r"shard-(\d+)\.sqlite3")

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS world (id INTEGER PRIMARY KEY, randomnumber INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS fortune (id INTEGER PRIMARY KEY, message TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS perfgate_layout (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
)
_INSERT_WORLD = "INSERT OR IGNORE INTO world (id, randomnumber) VALUES (?, ?)"
_INSERT_FORTUNE = "INSERT OR IGNORE INTO fortune (id, message) VALUES (?, ?)"
_WRITE_LAYOUT = "INSERT OR REPLACE INTO perfgate_layout (key, value) VALUES (?, ?)"


def shard_path(data_dir: Path, index: int) -> Path:
    """Return the path of shard `index` in `data_dir`."""
    return data_dir / f"shard-{index}.sqlite3"


def connect(path: Path) -> sqlite3.Connection:
    """Open one shard file with the settings every read path shares.

    The connection is in autocommit mode, so writers open transactions explicitly.
    It may be closed from another thread than the one that opened it, but callers
    use it from one thread at a time. WAL lets readers go on while a writer commits.
    `synchronous=NORMAL` skips the fsync on each commit, which under WAL risks only
    the last transactions on power loss, not corruption.

    Raises:
        StorageError: the file cannot be opened or is not an SQLite database.
    """
    try:
        connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("PRAGMA synchronous = NORMAL")
    except sqlite3.Error as exc:
        raise StorageError(f"cannot open shard file {path}: {exc}") from exc
    return connection


def init_shards(data_dir: Path, shards: int, keyspace: Keyspace | None = None) -> list[Path]:
    """Create and seed the shard files in `data_dir`, or check the ones already there.

    Running it again on a seeded folder changes nothing, and a shard whose seeding
    was cut short is seeded again. Each shard is seeded in one transaction.

    Args:
        data_dir: folder for the shard files; created if missing.
        shards: number of shard files, at least 1.
        keyspace: routes world ids to shards; the default router without placement
            when `None`.

    Returns:
        The shard paths, in shard order.

    Raises:
        TargetConfigError: `shards` is less than 1, or the folder was seeded for
            another shard count or router.
        StorageError: a file cannot be created, opened or written.
    """
    if shards < 1:
        raise TargetConfigError(f"shard count must be at least 1, got {shards!r}")
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StorageError(f"cannot create data folder {data_dir}: {exc}") from exc
    keyspace = keyspace if keyspace is not None else Keyspace(shards)
    if keyspace.shards != shards:
        raise TargetConfigError(f"keyspace has {keyspace.shards} shards, expected {shards}")
    check_layout(data_dir, shards, keyspace)

    rows_by_shard: list[list[WorldRow]] = [[] for _ in range(shards)]
    for row in generate_worlds():
        rows_by_shard[keyspace.shard_for_id(row[0])].append(row)

    paths = [shard_path(data_dir, index) for index in range(shards)]
    for index, path in enumerate(paths):
        _seed_shard(path, expected_layout(index, keyspace), rows_by_shard[index])
    return paths


def check_layout(data_dir: Path, shards: int, keyspace: Keyspace | None = None) -> None:
    """Check that every shard file already in `data_dir` belongs to a `shards`-shard layout.

    With a `keyspace`, the recorded router and placement must match it too.

    Files whose seeding never finished have no layout yet, and pass.

    Raises:
        TargetConfigError: a file has an index or a recorded layout that does not fit.
    """
    for path in sorted(data_dir.glob("shard-*.sqlite3")):
        match = _SHARD_FILE.fullmatch(path.name)
        if match is None:
            continue
        index = int(match.group(1))
        if index >= shards:
            raise _layout_mismatch(data_dir, shards, f"it has {path.name}")

        layout = read_layout(path)
        expected = expected_layout(index, keyspace or Keyspace(shards))
        if layout and layout != expected:
            found = ", ".join(f"{key}={value}" for key, value in sorted(layout.items()))
            raise _layout_mismatch(data_dir, shards, f"{path.name} records {found}")


def read_layout(path: Path) -> dict[str, str]:
    """Read the layout a shard file records; empty if it was never fully seeded.

    Raises:
        StorageError: the file cannot be opened or read.
    """
    connection = connect(path)
    try:
        return _read_layout(connection)
    except sqlite3.Error as exc:
        raise StorageError(f"cannot read the layout of shard file {path}: {exc}") from exc
    finally:
        connection.close()


def _read_layout(connection: sqlite3.Connection) -> dict[str, str]:
    table = connection.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'perfgate_layout'"
    ).fetchone()
    if table is None:
        return {}
    return dict(connection.execute("SELECT key, value FROM perfgate_layout").fetchall())


def expected_layout(index: int, keyspace: Keyspace) -> dict[str, str]:
    """Return the layout shard `index` of `keyspace` records in `perfgate_layout`."""
    return {"version": LAYOUT_VERSION, "shard_index": str(index), **keyspace.describe()}


def _layout_mismatch(data_dir: Path, shards: int, finding: str) -> TargetConfigError:
    return TargetConfigError(
        f"data folder {str(data_dir)!r} does not hold a {shards}-shard layout ({finding}): "
        f"delete the folder to seed it again, or run "
        f"`perfgate db reshard --data-dir {data_dir} --shards {shards}`"
    )


def _seed_shard(path: Path, layout: dict[str, str], worlds: Sequence[WorldRow]) -> None:
    connection = connect(path)
    try:
        # BEGIN IMMEDIATE takes the write lock before checking, so two processes that
        # start on one folder at once seed each shard only once.
        connection.execute("BEGIN IMMEDIATE")
        try:
            if _read_layout(connection) == layout:
                connection.execute("ROLLBACK")
                return
            _write_seed(connection, layout, worlds)
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        logger.info("seeded shard %s with %d world rows", path, len(worlds))
    except sqlite3.Error as exc:
        raise StorageError(f"cannot seed shard file {path}: {exc}") from exc
    finally:
        connection.close()


def _write_seed(
    connection: sqlite3.Connection, layout: dict[str, str], worlds: Sequence[WorldRow]
) -> None:
    for statement in SCHEMA:
        connection.execute(statement)
    connection.executemany(_INSERT_WORLD, worlds)
    if layout["shard_index"] == str(FORTUNE_SHARD):
        connection.executemany(_INSERT_FORTUNE, FORTUNES)
    connection.executemany(_WRITE_LAYOUT, sorted(layout.items()))
