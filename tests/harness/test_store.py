"""run.json storage: atomic writes, and clear errors for damaged files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from perfgate.errors import ResultsError
from perfgate.results.store import new_run_id, read_run, write_atomic

MINIMAL_RUN = Path(__file__).parent / "minimal_run.json"


def _valid_document() -> dict[str, object]:
    document: dict[str, object] = json.loads(MINIMAL_RUN.read_text())
    return document


def test_read_run_accepts_folder_and_file(tmp_path: Path) -> None:
    (tmp_path / "run.json").write_text(json.dumps(_valid_document()))
    assert read_run(tmp_path).run_id == "20261204T000000Z-abcdef"
    assert read_run(tmp_path / "run.json").verdict == "pass"


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ('{"schema": "perfgate.run/1", "run_id": ', r"is truncated or not JSON"),
        ("not json at all", r"is truncated or not JSON"),
        (
            '{"schema": "perfgate.run/9"}',
            r"has schema 'perfgate.run/9'; this perfgate reads perfgate.run/1",
        ),
        ("[1, 2]", r"has schema None"),
        ('{"schema": "perfgate.run/1", "run_id": "x"}', r"is not a valid perfgate.run/1 record"),
    ],
    ids=["truncated", "not-json", "newer-schema", "not-an-object", "missing-fields"],
)
def test_read_run_rejects_damaged_file(tmp_path: Path, content: str, match: str) -> None:
    path = tmp_path / "run.json"
    path.write_text(content)
    with pytest.raises(ResultsError, match=match) as caught:
        read_run(path)
    assert str(path) in str(caught.value)


def test_read_run_missing_file_names_it(tmp_path: Path) -> None:
    with pytest.raises(ResultsError, match=r"run file '.*run.json' not found"):
        read_run(tmp_path)


def test_write_atomic_replaces_whole_file(tmp_path: Path) -> None:
    path = tmp_path / "run.json"
    path.write_text("old")
    write_atomic(path, b"new contents")
    assert path.read_text() == "new contents"
    assert sorted(item.name for item in tmp_path.iterdir()) == ["run.json"]


def test_run_ids_are_unique_and_sortable() -> None:
    first, second = new_run_id(), new_run_id()
    assert first != second
    assert first[:16] <= second[:16]
    assert first[8] == "T"
    assert first[15:17] == "Z-"
