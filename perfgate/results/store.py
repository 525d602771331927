"""Write result files atomically and read them back with clear errors."""

from __future__ import annotations

import os
import secrets
from datetime import UTC, datetime
from pathlib import Path

import msgspec

from perfgate.errors import ResultsError
from perfgate.results.schema import RUN_SCHEMA, RunRecord

RUN_FILE = "run.json"
KNOWN_SCHEMAS = frozenset({RUN_SCHEMA})


def new_run_id(now: datetime | None = None) -> str:
    """Return a run id: the UTC start time plus a short random suffix."""
    moment = now or datetime.now(UTC)
    return f"{moment:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def write_atomic(path: Path, payload: bytes) -> None:
    """Write `payload` to `path` through a temporary file, fsync, then rename.

    A reader sees either the old file or the whole new one, never a partial write.
    """
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with temporary.open("wb") as stream:
        stream.write(payload)
        stream.flush()
        os.fsync(stream.fileno())
    os.replace(temporary, path)


def write_run(run_dir: Path, record: RunRecord) -> Path:
    """Write run.json into `run_dir` atomically and return its path."""
    path = run_dir / RUN_FILE
    write_atomic(path, msgspec.json.format(msgspec.json.encode(record), indent=2) + b"\n")
    return path


def read_run(path: Path) -> RunRecord:
    """Read a run.json file, or the run.json inside a run folder.

    Raises:
        ResultsError: the file is missing, truncated, not JSON, of an unknown schema or
            missing a field; the message names the file and what to do.
    """
    file = path / RUN_FILE if path.is_dir() else path
    try:
        raw = file.read_bytes()
    except FileNotFoundError:
        msg = f"run file {str(file)!r} not found; pass a run folder under results/ or its run.json"
        raise ResultsError(msg) from None
    try:
        document = msgspec.json.decode(raw)
    except msgspec.DecodeError as exc:
        msg = f"run file {str(file)!r} is truncated or not JSON ({exc}); rerun or restore it"
        raise ResultsError(msg) from None
    schema = document.get("schema") if isinstance(document, dict) else None
    if schema not in KNOWN_SCHEMAS:
        msg = (
            f"run file {str(file)!r} has schema {schema!r}; this perfgate reads "
            f"{', '.join(sorted(KNOWN_SCHEMAS))}. Upgrade perfgate to read newer files"
        )
        raise ResultsError(msg)
    try:
        return msgspec.convert(document, RunRecord)
    except msgspec.ValidationError as exc:
        msg = f"run file {str(file)!r} is not a valid {schema} record: {exc}"
        raise ResultsError(msg) from None
