"""Group commit: one writer per SQLite shard that commits concurrent writes together.

Each shard has one writer connection and one thread. Requests queue their write as a
function of the connection and await its result. The writer takes every write queued
so far (up to `max_batch`), runs them in one transaction, each inside its own
savepoint, and commits once. One fsync then covers the whole batch, so commits per
second stop bounding writes per second. A write that fails rolls back to its
savepoint and fails alone; a failed commit fails the whole batch.

The writer connection uses `synchronous = FULL`: in WAL mode the WAL is synced on
every commit, so a write acknowledged to a client survives a crash of the process
and of the machine.

NOTE: the writer is single per process. With `--procs N`, or with `perfgate consume`
beside a target, N writers share a file and SQLite's lock serializes their commits,
each waiting up to the busy timeout.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from targets.errors import StorageError
from targets.storage.sqlite.layout import connect

logger = logging.getLogger(__name__)

T = TypeVar("T")

WriteFunction = Callable[[sqlite3.Connection], Any]
"""A write: runs statements on the writer connection inside the batch's transaction."""

DEFAULT_MAX_BATCH = 512
"""Most writes one transaction takes; more wait for the next commit."""


class WriterState(enum.Enum):
    """Lifecycle of a writer: running until closed."""

    RUNNING = "running"
    CLOSING = "closing"
    CLOSED = "closed"


class GroupCommitWriter:
    """The single writer of one shard file; see the module docstring."""

    def __init__(self, path: Path, max_batch: int = DEFAULT_MAX_BATCH) -> None:
        """Open the writer connection to `path`; `max_batch=1` commits every write alone.

        Must be called on the running loop that will await the writes.

        Raises:
            StorageError: the file cannot be opened.
        """
        if max_batch < 1:
            raise ValueError(f"max_batch must be at least 1, got {max_batch!r}")
        self.path = path
        self._max_batch = max_batch
        self._connection = connect(path)
        self._connection.execute("PRAGMA synchronous = FULL")
        self._executor = ThreadPoolExecutor(1, thread_name_prefix=f"sqlite-writer-{path.stem}")
        self._queue: list[tuple[WriteFunction, asyncio.Future[Any]]] = []
        self._wakeup = asyncio.Event()
        self._state = WriterState.RUNNING
        self._task = asyncio.get_running_loop().create_task(self._run(), name=f"writer {path}")
        self.commits = 0
        """Transactions committed so far; `writes / commits` is the mean batch size."""
        self.writes = 0

    @property
    def state(self) -> WriterState:
        """The current lifecycle state."""
        return self._state

    async def write(self, function: WriteFunction) -> Any:
        """Queue `function`, wait until its transaction commits and return what it returned.

        Cancelling the caller does not withdraw a write that is queued already: it
        may still commit.

        Raises:
            StorageError: the writer is closed, or the write or its commit failed.
            sqlite3.Error: raised by `function` itself; its savepoint was rolled back.
        """
        if self._state is not WriterState.RUNNING:
            raise StorageError(f"cannot write to {self.path}: the writer is {self._state.value}")
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queue.append((function, future))
        self._wakeup.set()
        return await future

    async def close(self) -> None:
        """Commit the writes queued so far, stop the thread and close the connection."""
        if self._state is not WriterState.RUNNING:
            return
        self._state = WriterState.CLOSING
        self._wakeup.set()
        await self._task
        self._executor.shutdown(wait=True)
        self._connection.close()
        self._state = WriterState.CLOSED

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            while self._queue:
                batch = self._queue[: self._max_batch]
                del self._queue[: self._max_batch]
                functions = [function for function, _ in batch]
                try:
                    outcomes = await loop.run_in_executor(self._executor, self._commit, functions)
                except Exception as exc:
                    logger.exception("writer of %s failed; %d writes lost", self.path, len(batch))
                    outcomes = [(None, StorageError(f"writer of {self.path} failed: {exc}"))] * len(
                        batch
                    )
                for (_, future), (result, error) in zip(batch, outcomes, strict=True):
                    if future.done():
                        continue
                    if error is not None:
                        future.set_exception(error)
                    else:
                        future.set_result(result)
            if self._state is not WriterState.RUNNING:
                return

    def _commit(self, functions: list[WriteFunction]) -> list[tuple[Any, BaseException | None]]:
        """Run `functions` in one transaction, each in a savepoint; runs on the writer thread."""
        connection = self._connection
        outcomes: list[tuple[Any, BaseException | None]] = []
        try:
            connection.execute("BEGIN IMMEDIATE")
            for function in functions:
                outcomes.append(self._run_in_savepoint(connection, function))
            connection.execute("COMMIT")
        except sqlite3.Error as exc:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            logger.error("commit of %d writes to %s failed: %s", len(functions), self.path, exc)
            error = StorageError(f"commit to {self.path} failed: {exc}")
            return [(None, error) for _ in functions]
        self.commits += 1
        self.writes += len(functions)
        return outcomes

    @staticmethod
    def _run_in_savepoint(
        connection: sqlite3.Connection, function: WriteFunction
    ) -> tuple[Any, BaseException | None]:
        connection.execute("SAVEPOINT write")
        try:
            result = function(connection)
        except Exception as exc:
            connection.execute("ROLLBACK TO write")
            connection.execute("RELEASE write")
            return None, exc
        connection.execute("RELEASE write")
        return result, None
