"""Resharding: exactly the rows whose shard changes move, in the share each router predicts."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from targets.errors import TargetConfigError
from targets.routing.keyspace import Keyspace
from targets.storage.admin import init_storage, reshard_storage
from targets.storage.sqlite import init_shards
from targets.storage.sqlite.layout import read_layout, shard_path
from targets.storage.sqlite.users import create_schema

OLD_SHARDS = 4
NEW_SHARDS = 5
USERS = 2000

# From N to N+1 shards: consistent routers move about 1/(N+1) of the keys, modulo
# about N/(N+1). The bounds allow for the spread of 12,000 hashed keys.
EXPECTED_SHARE = {
    "jump": 1 / NEW_SHARDS,
    "rendezvous": 1 / NEW_SHARDS,
    "ring": 1 / NEW_SHARDS,
    "modulo": OLD_SHARDS / NEW_SHARDS,
}
TOLERANCE = {"jump": 0.02, "rendezvous": 0.02, "ring": 0.05, "modulo": 0.02}


def _seed_users(data_dir: Path, keyspace: Keyspace) -> None:
    by_shard: dict[int, list[tuple[int, str]]] = {}
    for user_id in range(1, USERS + 1):
        by_shard.setdefault(keyspace.shard_for_id(user_id), []).append((user_id, "u"))
    for shard, rows in by_shard.items():
        connection = sqlite3.connect(shard_path(data_dir, shard))
        create_schema(connection)
        connection.executemany("INSERT INTO users (id, name, region) VALUES (?, ?, 'eu')", rows)
        connection.commit()
        connection.close()


def _ids_by_shard(data_dir: Path, shards: int, table: str) -> list[set[int]]:
    found = []
    for index in range(shards):
        connection = sqlite3.connect(shard_path(data_dir, index))
        found.append({row[0] for row in connection.execute(f"SELECT id FROM {table}")})  # noqa: S608
        connection.close()
    return found


@pytest.mark.parametrize("router", sorted(EXPECTED_SHARE))
def test_one_more_shard_moves_expected_share(tmp_path: Path, router: str) -> None:
    old, new = Keyspace(OLD_SHARDS, router), Keyspace(NEW_SHARDS, router)
    init_shards(tmp_path, OLD_SHARDS, old)
    _seed_users(tmp_path, old)
    before = _ids_by_shard(tmp_path, OLD_SHARDS, "world")

    report = reshard_storage("sqlite", tmp_path, NEW_SHARDS, None, None)

    changed = sum(1 for key in range(1, 10_001) if old.shard_for_id(key) != new.shard_for_id(key))
    assert report.moved["world"] == changed
    assert report.rows["world"] == 10_000
    assert report.moved_share("world") == pytest.approx(
        EXPECTED_SHARE[router], abs=TOLERANCE[router]
    )
    assert report.moved_share("users") == pytest.approx(EXPECTED_SHARE[router], abs=0.05)

    after = _ids_by_shard(tmp_path, NEW_SHARDS, "world")
    assert set().union(*after) == set().union(*before)
    for index, ids in enumerate(after):
        assert all(new.shard_for_id(key) == index for key in ids)
    users = _ids_by_shard(tmp_path, NEW_SHARDS, "users")
    assert sum(len(ids) for ids in users) == USERS


def test_fewer_shards_removes_files(tmp_path: Path) -> None:
    init_shards(tmp_path, OLD_SHARDS, Keyspace(OLD_SHARDS))
    report = reshard_storage("sqlite", tmp_path, 2, None, None)
    assert report.new_shards == 2
    assert sorted(path.name for path in tmp_path.glob("shard-*.sqlite3")) == [
        "shard-0.sqlite3",
        "shard-1.sqlite3",
    ]
    assert sum(len(ids) for ids in _ids_by_shard(tmp_path, 2, "world")) == 10_000


def test_resharded_folder_opens_with_new_layout(tmp_path: Path) -> None:
    init_shards(tmp_path, OLD_SHARDS, Keyspace(OLD_SHARDS))
    with pytest.raises(TargetConfigError, match="perfgate db reshard"):
        init_shards(tmp_path, NEW_SHARDS, Keyspace(NEW_SHARDS))

    reshard_storage("sqlite", tmp_path, NEW_SHARDS, "ring", None)
    init_shards(tmp_path, NEW_SHARDS, Keyspace(NEW_SHARDS, "ring"))
    assert read_layout(shard_path(tmp_path, 4))["router"] == "ring"


def test_placement_needed_for_new_count(tmp_path: Path) -> None:
    init_shards(tmp_path, OLD_SHARDS, Keyspace(OLD_SHARDS, "jump", "eu=0,1;us=2,3"))
    with pytest.raises(TargetConfigError, match=r"pass --placement for 5 shards"):
        reshard_storage("sqlite", tmp_path, NEW_SHARDS, None, None)
    report = reshard_storage("sqlite", tmp_path, NEW_SHARDS, None, "eu=0,1,4;us=2,3")
    assert read_layout(shard_path(tmp_path, 0))["placement"] == "eu=0,1,4;us=2,3"
    assert report.moved["world"] > 0


def test_unseeded_folder_rejected(tmp_path: Path) -> None:
    with pytest.raises(TargetConfigError, match="run `perfgate db init` first"):
        reshard_storage("sqlite", tmp_path, NEW_SHARDS, None, None)


def test_postgres_reshard_moves_rows(postgres_template: str) -> None:
    old, new = Keyspace(3, "jump"), Keyspace(4, "jump")
    init_storage(postgres_template, Path("unused"), old)

    report = reshard_storage(postgres_template, Path("unused"), 4, None, None)

    changed = sum(1 for key in range(1, 10_001) if old.shard_for_id(key) != new.shard_for_id(key))
    assert report.moved["world"] == changed
    assert report.moved_share("world") == pytest.approx(1 / 4, abs=0.02)
    # Seeding the new layout again finds every shard seeded and changes nothing.
    assert len(init_storage(postgres_template, Path("unused"), new)) == 4
