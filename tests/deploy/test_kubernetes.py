"""The Kubernetes manifests: every perfgate command parses, and the objects fit together.

No cluster runs in these tests. They check what a wrong edit would break: the
commands and options, the Services' selectors and ports against the processes behind
them, the names the processes use to reach each other, and the worker count.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

ParsedCommand = tuple[str, dict[str, Any]]
ParsePerfgate = Callable[[Sequence[str]], ParsedCommand]

MANIFESTS = Path(__file__).resolve().parents[2] / "deploy" / "kubernetes"


def _objects() -> dict[tuple[str, str], dict[str, Any]]:
    """Return every object of the manifests listed by the kustomization, by kind and name."""
    kustomization = yaml.safe_load((MANIFESTS / "kustomization.yaml").read_text())
    objects = {}
    for resource in kustomization["resources"]:
        for document in yaml.safe_load_all((MANIFESTS / resource).read_text()):
            key = (document["kind"], document["metadata"]["name"])
            assert key not in objects, f"{key} is defined twice"
            objects[key] = document
    return objects


def _pod(workload: dict[str, Any]) -> dict[str, Any]:
    pod: dict[str, Any] = workload["spec"]["template"]
    return pod


def _container(workload: dict[str, Any], name: str, init: bool = False) -> dict[str, Any]:
    containers = _pod(workload)["spec"]["initContainers" if init else "containers"]
    (container,) = [container for container in containers if container["name"] == name]
    return dict(container)


def _selects(service: dict[str, Any], workload: dict[str, Any]) -> bool:
    labels = _pod(workload)["metadata"]["labels"]
    return all(labels.get(key) == value for key, value in service["spec"]["selector"].items())


@pytest.fixture
def objects() -> dict[tuple[str, str], dict[str, Any]]:
    """Return the manifests' objects by kind and name."""
    return _objects()


@pytest.fixture
def commands(
    objects: dict[tuple[str, str], dict[str, Any]], parse_perfgate: ParsePerfgate
) -> dict[str, ParsedCommand]:
    """Return each perfgate container's command, parsed by the CLI."""
    containers = {
        "shards-init": _container(
            objects[("Deployment", "perfgate-target")], "shards-init", init=True
        ),
        "target": _container(objects[("Deployment", "perfgate-target")], "target"),
        "master": _container(objects[("Job", "perfgate-master")], "master"),
        "worker": _container(objects[("Job", "perfgate-worker")], "worker"),
    }
    return {
        name: parse_perfgate([str(word) for word in container["command"]])
        for name, container in containers.items()
    }


def test_kustomization_lists_every_manifest() -> None:
    kustomization = yaml.safe_load((MANIFESTS / "kustomization.yaml").read_text())
    manifests = {path.name for path in MANIFESTS.glob("*.yaml")} - {"kustomization.yaml"}

    assert set(kustomization["resources"]) == manifests


def test_kubernetes_has_every_object(objects: dict[tuple[str, str], dict[str, Any]]) -> None:
    assert set(objects) >= {
        ("Deployment", "perfgate-target"),
        ("Service", "perfgate-target"),
        ("Job", "perfgate-master"),
        ("Service", "perfgate-master"),
        ("Job", "perfgate-worker"),
        ("PersistentVolumeClaim", "perfgate-results"),
    }


def test_kubernetes_commands_parse(commands: dict[str, ParsedCommand]) -> None:
    assert commands["shards-init"][0] == "db init"
    assert commands["target"][0] == "serve"
    assert commands["master"][0] == "run"
    assert commands["worker"][0] == "worker"


def test_kubernetes_images_are_perfgate(objects: dict[tuple[str, str], dict[str, Any]]) -> None:
    kustomization = yaml.safe_load((MANIFESTS / "kustomization.yaml").read_text())
    image_names = {image["name"] for image in kustomization["images"]}

    for (kind, name), document in objects.items():
        if kind not in ("Deployment", "Job"):
            continue
        spec = _pod(document)["spec"]
        for container in [*spec.get("initContainers", []), *spec["containers"]]:
            assert container["image"] in image_names, f"{name}/{container['name']}"


def test_master_service_reaches_master(
    objects: dict[tuple[str, str], dict[str, Any]], commands: dict[str, ParsedCommand]
) -> None:
    master_job = objects[("Job", "perfgate-master")]
    service = objects[("Service", "perfgate-master")]
    master = commands["master"][1]
    (port,) = service["spec"]["ports"]
    container_ports = [
        entry["containerPort"] for entry in _container(master_job, "master")["ports"]
    ]

    assert _selects(service, master_job)
    assert master["master_bind"] == "0.0.0.0"  # noqa: S104 - workers run in other pods
    assert master["workers"] == 0
    assert port["targetPort"] == master["master_port"]
    assert master["master_port"] in container_ports


def test_workers_reach_master_service(
    objects: dict[tuple[str, str], dict[str, Any]], commands: dict[str, ParsedCommand]
) -> None:
    service = objects[("Service", "perfgate-master")]
    host, _, port = commands["worker"][1]["master"].rpartition(":")

    assert host == service["metadata"]["name"]
    assert int(port) == service["spec"]["ports"][0]["port"]


def test_master_expects_every_worker(
    objects: dict[tuple[str, str], dict[str, Any]], commands: dict[str, ParsedCommand]
) -> None:
    workers = objects[("Job", "perfgate-worker")]["spec"]

    assert commands["master"][1]["expect_workers"] == workers["parallelism"]
    assert workers["completions"] == workers["parallelism"]


def test_master_and_workers_never_restart(
    objects: dict[tuple[str, str], dict[str, Any]],
) -> None:
    # A restarted master would start a second measurement; a restarted worker would
    # join a run that already counts it as lost.
    for name in ("perfgate-master", "perfgate-worker"):
        job = objects[("Job", name)]
        assert job["spec"]["backoffLimit"] == 0
        assert _pod(job)["spec"]["restartPolicy"] == "Never"


def test_target_service_reaches_target(
    objects: dict[tuple[str, str], dict[str, Any]], commands: dict[str, ParsedCommand]
) -> None:
    deployment = objects[("Deployment", "perfgate-target")]
    service = objects[("Service", "perfgate-target")]
    target = commands["target"][1]
    container = _container(deployment, "target")
    url = urlsplit(commands["master"][1]["host"])

    assert _selects(service, deployment)
    assert target["host"] == "0.0.0.0"  # noqa: S104 - the workers run in other pods
    assert service["spec"]["ports"][0]["targetPort"] == target["port"]
    assert container["readinessProbe"]["httpGet"]["port"] == target["port"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/healthz"
    assert url.hostname == service["metadata"]["name"]
    assert url.port == service["spec"]["ports"][0]["port"]


def test_target_shards_created_first(
    objects: dict[tuple[str, str], dict[str, Any]], commands: dict[str, ParsedCommand]
) -> None:
    deployment = objects[("Deployment", "perfgate-target")]
    init, target = commands["shards-init"][1], commands["target"][1]
    init_mounts = {
        mount["mountPath"]: mount["name"]
        for mount in _container(deployment, "shards-init", init=True)["volumeMounts"]
    }
    target_mounts = {
        mount["mountPath"]: mount["name"]
        for mount in _container(deployment, "target")["volumeMounts"]
    }

    assert init["data_dir"] == target["data_dir"]
    assert init["shards"] == target["shards"]
    assert init_mounts[str(target["data_dir"])] == target_mounts[str(target["data_dir"])]


def test_master_writes_results_to_volume(
    objects: dict[tuple[str, str], dict[str, Any]], commands: dict[str, ParsedCommand]
) -> None:
    master_job = objects[("Job", "perfgate-master")]
    mounts = {
        mount["mountPath"]: mount["name"]
        for mount in _container(master_job, "master")["volumeMounts"]
    }
    volumes = {volume["name"]: volume for volume in _pod(master_job)["spec"]["volumes"]}
    volume = volumes[mounts[str(commands["master"][1]["out"])]]

    assert volume["persistentVolumeClaim"]["claimName"] == "perfgate-results"
