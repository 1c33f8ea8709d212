"""Checks that every rendered stack must pass, shared by the example tests and the
property-based tests: real YAML types, the project's Rancher schema, hadolint,
spin-audit."""

import json
import re
import shutil
import subprocess
import sys
from importlib import resources
from pathlib import Path

import jsonschema
import yaml

BIN = Path(sys.executable).parent


def tool(name):
    """A command of this virtual environment, else from PATH."""
    local = BIN / name
    return str(local) if local.exists() else shutil.which(name)


def load_yaml(path):
    return yaml.safe_load(Path(path).read_text())


def rancher_schema():
    return json.loads(resources.files("spin_audit").joinpath("rancher_service_schema.json").read_text())


def merged_services(stack):
    """docker-compose.yml and rancher-compose.yml merged per service, as Rancher reads them."""
    compose = load_yaml(stack / "docker-compose.yml")
    rancher = load_yaml(stack / "rancher-compose.yml")
    services = {name: dict(config) for name, config in compose["services"].items()}
    for name, config in rancher["services"].items():
        assert name in services, f"rancher-compose.yml names {name}, which docker-compose.yml lacks"
        services[name].update(config)
    return compose, rancher, services


def assert_types(stack):
    """The types Rancher needs, as PyYAML (YAML 1.1) reads the files."""
    compose, rancher, services = merged_services(stack)
    assert compose["version"] == "2" and rancher["version"] == "2"
    for name, service in services.items():
        assert isinstance(service["image"], str) and ":" in service["image"].rsplit("/", 1)[-1], name
        assert service["cap_drop"] == ["ALL"], name
        for forbidden in ("restart", "healthcheck", "build", "privileged", "network_mode", "pid", "ipc", "devices"):
            assert forbidden not in service, (name, forbidden)
        if "user" in service:
            assert isinstance(service["user"], str) and re.fullmatch(r"[1-9][0-9]*:[0-9]+", service["user"]), name
        for port in service.get("ports", []):
            assert isinstance(port, str) and re.fullmatch(r"[0-9]+:[0-9]+", port), (name, port)
        for key in ("environment", "labels"):
            for value in (service.get(key) or {}).values():
                assert isinstance(value, str), (name, key, value)
        for secret in service.get("secrets", []):
            assert {type(secret[k]) for k in ("source", "target", "uid", "gid", "mode")} == {str}, (name, secret)
            assert secret["mode"] == "0400" and secret["source"].endswith("." + secret["target"])
            assert secret["source"] in compose["secrets"] and compose["secrets"][secret["source"]] == {"external": True}
        for volume in service.get("volumes", []):
            assert isinstance(volume, str), (name, volume)
        assert isinstance(service["scale"], int) and isinstance(service["start_on_create"], bool)
        if "retain_ip" in service:
            assert service["retain_ip"] is True and not (service.get("upgrade_strategy") or {}).get("start_first")
        check = service.get("health_check")
        if check:
            assert all(isinstance(check[k], int) for k in ("port", "interval", "response_timeout")), name
    return services


def assert_schema(stack):
    _, _, services = merged_services(stack)
    jsonschema.Draft4Validator(rancher_schema()).validate(services)


def dockerfiles(stack):
    return sorted(Path(stack).glob("*/Dockerfile"))


def assert_hadolint(stack):
    files = dockerfiles(stack)
    if files:
        result = subprocess.run([tool("hadolint"), "--no-color", "--failure-threshold", "warning", *map(str, files)],
                                capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr


def assert_audit_clean(stack, fail_on="warning"):
    result = subprocess.run([tool("spin-audit"), "--format", "json", "--fail-on", fail_on, str(stack)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


K8S_VERSION = "1.31.0"  # the Kubernetes API the rendered objects are validated against


def kustomize(stack, overlay):
    """The objects `kubectl apply -k k8s/<overlay>` would send."""
    built = subprocess.run([tool("kubectl"), "kustomize", str(Path(stack) / "k8s" / overlay)],
                           capture_output=True, text=True)
    assert built.returncode == 0, built.stderr
    return [doc for doc in yaml.safe_load_all(built.stdout) if doc]


def assert_valid_overlay(stack, overlay):
    """The overlay builds into objects, each valid for K8S_VERSION (strict)."""
    import kubernetes_validate

    objects = kustomize(stack, overlay)
    assert objects, overlay
    for obj in objects:
        kubernetes_validate.validate(obj, K8S_VERSION, strict=True)


def assert_kubernetes(stack):
    """Each overlay builds with `kubectl kustomize` into objects valid for K8S_VERSION (strict)."""
    for overlay in ("development", "production"):
        assert_valid_overlay(stack, overlay)


def assert_stack_ok(stack):
    """Every check a rendered stack of either platform must pass."""
    if load_yaml(Path(stack) / ".copier-answers.yml").get("platform") == "rancher2":
        if tool("kubectl"):
            assert_kubernetes(stack)
    else:
        assert_types(stack)
        assert_schema(stack)
    assert_hadolint(stack)
    assert_audit_clean(stack)
