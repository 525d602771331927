"""Every server variant passes every endpoint rule over real HTTP: server x codec x loop.

By default a representative subset runs: each server library, codec and loop at
least once, and two multi-process targets. `PERFGATE_FULL_MATRIX=1` runs every
combination, 32 targets with the multi-process ones, in about 70 s on 2 cores.
"""

from __future__ import annotations

import dataclasses
import itertools
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

import httpx
import pytest

from perfgate.verify import verify_target
from perfgate.verify.model import Verdict

if TYPE_CHECKING:
    from tests.targets.conftest import LaunchTarget, TargetProcess

FULL_MATRIX = os.environ.get("PERFGATE_FULL_MATRIX") == "1"


@dataclasses.dataclass(frozen=True)
class ServerVariant:
    """One server, codec and loop combination, started with `perfgate serve`."""

    target: str
    server: str
    codec: str
    loop: str
    procs: int = 1

    @property
    def id(self) -> str:
        server = self.target if self.target == "raw" else f"{self.target}-{self.server}"
        procs = f"-procs{self.procs}" if self.procs > 1 else ""
        return f"{server}-{self.codec}-{self.loop}{procs}"

    @property
    def options(self) -> list[str]:
        return [
            "--target", self.target,
            "--server", self.server,
            "--codec", self.codec,
            "--loop", self.loop,
            "--procs", str(self.procs),
        ]  # fmt: skip


SERVERS = [("raw", "uvicorn"), ("asgi", "uvicorn"), ("asgi", "granian"),
           ("fastapi", "uvicorn"), ("fastapi", "granian")]  # fmt: skip

SUBSET = [
    ServerVariant("asgi", "uvicorn", "msgspec", "asyncio"),
    ServerVariant("asgi", "granian", "json", "uvloop"),
    ServerVariant("fastapi", "uvicorn", "orjson", "uvloop"),
    ServerVariant("fastapi", "granian", "msgspec", "asyncio"),
    ServerVariant("raw", "uvicorn", "orjson", "uvloop", procs=2),
    ServerVariant("asgi", "granian", "orjson", "uvloop", procs=2),
]

MATRIX = [
    ServerVariant(target, server, codec, loop)
    for (target, server), codec, loop in itertools.product(
        SERVERS, ("json", "orjson", "msgspec"), ("asyncio", "uvloop")
    )
]

VARIANTS = [*MATRIX, *SUBSET[-2:]] if FULL_MATRIX else SUBSET


@pytest.fixture(scope="module", params=VARIANTS, ids=lambda variant: variant.id)
def variant_target(
    request: pytest.FixtureRequest,
    launch: LaunchTarget,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[ServerVariant, TargetProcess]]:
    variant: ServerVariant = request.param
    process = launch(tmp_path_factory.mktemp(variant.id), *variant.options)
    yield variant, process
    process.kill()


def test_every_rule_passes(variant_target: tuple[ServerVariant, TargetProcess]) -> None:
    _, target = variant_target

    report = verify_target(target.base_url, timeout_s=10)

    failures = [f"{o.endpoint} {o.name}: {o.message} {o.response}" for o in report.failures]
    assert failures == []


def test_user_and_event_rules_not_skipped(
    variant_target: tuple[ServerVariant, TargetProcess],
) -> None:
    _, target = variant_target

    report = verify_target(target.base_url, timeout_s=10)

    skipped = {o.endpoint for o in report.outcomes if o.verdict is Verdict.SKIPPED}
    assert skipped == set()


def test_oversized_body_rejected_413(variant_target: tuple[ServerVariant, TargetProcess]) -> None:
    _, target = variant_target

    response = httpx.post(
        f"{target.base_url}/users",
        content=b'{"name": "' + b"x" * (2 << 20) + b'", "region": "eu"}',
        headers={"content-type": "application/json"},
        timeout=10,
    )

    assert response.status_code == 413
