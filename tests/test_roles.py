"""What each role runs with, exactly: its capabilities, its user and its image, in every
shape of stack that changes them. A capability more or less for any role, or an image
that floats, changes what Spin accepts, so each list is asserted whole."""

import pytest

from stackkit import minimal_answers
from stack_checks import assert_stack_ok, load_yaml

# What each engine's entrypoint needs to prepare its data as root and drop to its own account
# (tests/test_engine_capabilities.py runs those steps without each one).
DB_CAPABILITIES = {"postgres": ["CHOWN", "DAC_OVERRIDE", "FOWNER", "SETGID", "SETUID"],
                   "mysql": ["CHOWN", "DAC_OVERRIDE", "SETGID", "SETUID"],
                   "mariadb": ["CHOWN", "DAC_OVERRIDE", "SETGID", "SETUID"],
                   "mongodb": ["CHOWN", "SETGID", "SETUID"]}
KV_CAPABILITIES = ["SETGID", "SETUID"]  # the entrypoint drops to the redis account (a cache: nothing to chown)
# role -> (cap_add, runs as the stack's user); db's depends on the engine
EXPECTED = {"web": ([], True), "app": ([], True), "api": ([], True), "db": (None, False),
            "kv": (KV_CAPABILITIES, False), "util": ([], True)}


def _services(stack):
    return load_yaml(stack / "docker-compose.yml")["services"]


@pytest.mark.parametrize("engine", ["postgres", "mysql", "mariadb", "mongodb"])
def test_every_role_has_exactly_its_capabilities(render, engine):
    stack = render(minimal_answers(stack_name="roles", services=list(EXPECTED), db_engine=engine, access="private",
                                   gpfs_mounts=[{"service": role, "host_path": f"/global/cfs/cdirs/p/{role}",
                                                 "container_path": "/data", "read_only": False}
                                                for role in ("web", "app", "api", "util")]))
    services = _services(stack)
    assert sorted(services) == sorted(EXPECTED)
    for role, (capabilities, as_user) in EXPECTED.items():
        service = services[role]
        assert service["cap_drop"] == ["ALL"], role
        assert service.get("cap_add", []) == (DB_CAPABILITIES[engine] if role == "db" else capabilities), role
        assert service.get("user") == ("501:124" if as_user else None), role
        assert not {"privileged", "devices", "network_mode", "pid", "ipc"} & set(service), role
    assert_stack_ok(stack)


@pytest.mark.parametrize("role", list(EXPECTED))
def test_each_role_alone_renders_a_pinned_image_and_audits_clean(render, role):
    stack = render(minimal_answers(stack_name=f"only-{role}", services=[role]))
    (service,) = _services(stack).values()
    image = service["image"]
    name, _, tag = image.rpartition("/")[2].partition(":")
    assert tag and tag != "latest" and "@" not in name, image
    assert service.get("cap_add", []) == (DB_CAPABILITIES["postgres"] if role == "db" else EXPECTED[role][0])
    assert_stack_ok(stack)


def test_util_alone_uses_a_pinned_alpine_image(render):
    services = _services(render(minimal_answers(stack_name="only-util", services=["util"])))
    assert services["util"]["image"].startswith("alpine:") and services["util"]["image"] != "alpine:latest"
