"""docker-compose.yml: every perfgate command in it parses, and the services fit together.

Docker does not run in these tests, so they read the file as Compose would, with
`${VAR:-default}` substituted. They check what a wrong edit would break: commands and
options, the ports and host names the processes use to reach each other, the worker
count, the shard folder, and the files that the image must contain.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

ParsedCommand = tuple[str, dict[str, Any]]
ParsePerfgate = Callable[[Sequence[str]], ParsedCommand]

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
PERFGATE_SERVICES = {"shards-init", "target", "master", "worker"}
# Compose's variable forms: ${NAME}, ${NAME:-default} and ${NAME-default}.
VARIABLE = re.compile(r"\$\{(?P<name>\w+)(?::?-(?P<default>[^}]*))?\}")


def _substitute(value: Any, environment: Mapping[str, str]) -> Any:
    """Replace Compose variables in every string of `value`, as `docker compose` does."""
    if isinstance(value, str):

        def replace(match: re.Match[str]) -> str:
            name, default = match["name"], match["default"]
            if name in environment:
                return environment[name]
            assert default is not None, f"${{{name}}} has no default; `up` would fail without it"
            return default

        return VARIABLE.sub(replace, value)
    if isinstance(value, list):
        return [_substitute(item, environment) for item in value]
    if isinstance(value, dict):
        return {key: _substitute(item, environment) for key, item in value.items()}
    return value


def _services(environment: Mapping[str, str] | None = None) -> dict[str, Any]:
    document = yaml.safe_load(COMPOSE_FILE.read_text())
    services: dict[str, Any] = _substitute(document["services"], environment or {})
    return services


def _command(service: dict[str, Any]) -> list[str]:
    command = service["command"]
    assert isinstance(command, list), "write commands in exec form (a list), not a shell string"
    return [str(word) for word in command]


@pytest.fixture
def commands(parse_perfgate: ParsePerfgate) -> dict[str, ParsedCommand]:
    """Return each perfgate service's command, parsed by the CLI."""
    services = _services()
    return {name: parse_perfgate(_command(services[name])) for name in PERFGATE_SERVICES}


def test_compose_has_every_service() -> None:
    services = _services()

    assert set(services) >= PERFGATE_SERVICES
    assert "redis" in services
    shards = [name for name, service in services.items() if "postgres" in service.get("image", "")]
    assert len(shards) >= 2, "the PostgreSQL shards need at least two servers"


def test_compose_commands_parse(commands: dict[str, ParsedCommand]) -> None:
    assert commands["shards-init"][0] == "db init"
    assert commands["target"][0] == "serve"
    assert commands["master"][0] == "run"
    assert commands["worker"][0] == "worker"


def test_compose_perfgate_services_share_image() -> None:
    services = _services()
    images = {services[name]["image"] for name in PERFGATE_SERVICES}
    builds = {services[name]["build"]["dockerfile"] for name in PERFGATE_SERVICES}

    assert len(images) == 1
    assert builds == {"deploy/Dockerfile"}


def test_compose_master_waits_for_remote_workers(commands: dict[str, ParsedCommand]) -> None:
    master = commands["master"][1]

    assert master["workers"] == 0
    assert master["master_bind"] == "0.0.0.0"  # noqa: S104 - the workers are other containers
    assert str(master["master_port"]) in _services()["master"]["expose"]


@pytest.mark.parametrize(
    "environment",
    [pytest.param({}, id="default"), pytest.param({"WORKERS": "7"}, id="WORKERS=7")],
)
def test_compose_expected_workers_match_replicas(
    parse_perfgate: ParsePerfgate, environment: dict[str, str]
) -> None:
    services = _services(environment)
    _, master = parse_perfgate(_command(services["master"]))

    assert master["expect_workers"] == int(services["worker"]["deploy"]["replicas"])
    if environment:
        assert master["expect_workers"] == int(environment["WORKERS"])


def test_compose_workers_reach_master(commands: dict[str, ParsedCommand]) -> None:
    host, _, port = commands["worker"][1]["master"].rpartition(":")

    assert host == "master"
    assert int(port) == commands["master"][1]["master_port"]


def test_compose_master_reaches_target(commands: dict[str, ParsedCommand]) -> None:
    target = commands["target"][1]
    url = urlsplit(commands["master"][1]["host"])
    healthcheck = " ".join(_services()["target"]["healthcheck"]["test"])

    assert target["host"] == "0.0.0.0"  # noqa: S104 - the master is another container
    assert url.hostname == "target"
    assert url.port == target["port"]
    assert f"127.0.0.1:{target['port']}/healthz" in healthcheck


def test_compose_target_uses_initialized_shards(commands: dict[str, ParsedCommand]) -> None:
    services = _services()
    init, target = commands["shards-init"][1], commands["target"][1]
    shard_hosts = {urlsplit(url).hostname for url in str(target["db"]).split(",")}
    postgres = {
        name for name, service in services.items() if "postgres" in service.get("image", "")
    }

    assert init["db"] == target["db"]
    assert init["shards"] == target["shards"]
    assert shard_hosts == postgres
    target_needs = services["target"]["depends_on"]["shards-init"]
    assert target_needs["condition"] == "service_completed_successfully"
    assert urlsplit(str(target["queue"])).hostname == "redis"
    assert "redis" in services


def test_compose_postgres_shards_agree() -> None:
    services = _services()
    shards = [service for service in services.values() if "postgres" in service.get("image", "")]

    for shard in shards:
        environment = shard["environment"]
        healthcheck = shard["healthcheck"]["test"]
        assert {"POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB"} <= set(environment)
        assert environment["POSTGRES_USER"] in healthcheck
        assert environment["POSTGRES_DB"] in healthcheck
    assert len({shard["environment"]["POSTGRES_USER"] for shard in shards}) == 1


def test_compose_files_in_image(commands: dict[str, ParsedCommand]) -> None:
    dockerfile = DOCKERFILE.read_text()
    locustfile = Path(commands["worker"][1]["locustfile"])
    profile = commands["master"][1]["profile"]

    assert (ROOT / locustfile).is_file()
    assert (ROOT / "profiles" / f"{profile}.toml").is_file()
    assert f"COPY {locustfile.parts[0]} " in dockerfile
    assert "COPY profiles " in dockerfile


def test_parser_rejects_unknown_option(parse_perfgate: ParsePerfgate) -> None:
    # The checks above are only as strict as the parser; a misspelt option must fail.
    with pytest.raises(ValueError, match=r"No such option: --master-bnd"):
        parse_perfgate(["perfgate", "run", "--master-bnd", "10.0.0.5"])
    with pytest.raises(ValueError, match=r"no command 'db create'"):
        parse_perfgate(["perfgate", "db", "create"])
