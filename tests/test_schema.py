"""The project's own schema of Rancher 1.6's service keys (hooks/spin_audit/
rancher_service_schema.json) accepts what Rancher accepts and refuses what it refuses."""

import copy

import jsonschema
import pytest

from stack_checks import rancher_schema

GOOD = {
    "web": {"image": "registry.spin.nersc.gov/genome/nginx-portal:v1.0.0", "user": "501:124", "group_add": ["nginx"],
            "ports": ["60042:8080"], "cap_drop": ["ALL"], "scale": 1, "start_on_create": True, "retain_ip": True,
            "health_check": {"port": 8080, "request_line": 'GET "/" "HTTP/1.0"', "interval": 2000},
            "secrets": [{"source": "web.portal.key", "target": "key", "uid": "501", "gid": "124", "mode": "0400"}],
            "labels": {"io.rancher.container.pull_image": "always"}, "environment": {"PORT": "8080"},
            "volumes": ["/global/cfs/cdirs/genome/www:/srv/www:ro"], "command": ["nginx", "-g", "daemon off;"]},
    "db": {"image": "postgres:17-alpine", "cap_drop": ["ALL"], "cap_add": ["CHOWN", "SETGID", "SETUID"],
           "environment": ["POSTGRES_PASSWORD_FILE=/run/secrets/postgres_password"], "secrets": ["db.portal.pw"],
           "volumes": ["db.portal:/var/lib/postgresql/data"], "stdin_open": True, "tty": True},
}


def validate(services):
    jsonschema.Draft4Validator(rancher_schema()).validate(services)


def test_accepts_what_rancher_accepts():
    validate(GOOD)


@pytest.mark.parametrize("service, key, value", [
    ("web", "healthcheck", {"test": ["CMD", "true"]}),  # compose 2.1+, not Rancher
    ("web", "deploy", {"replicas": 2}),  # compose 3
    ("web", "configs", ["x"]),
    ("web", "user", 60050),  # `user: 1000:50` as YAML 1.1 reads it
    ("web", "ports", [{"target": 8080, "published": 60042}]),  # compose 3 long form
    ("web", "cap_drop", "ALL"),
    ("web", "start_on_create", "true"),
    ("web", "retain_ip", "yes"),
    ("web", "scale", [1]),
    ("web", "labels", {"a": ["b"]}),
    ("web", "command", {"sh": "-c"}),
    ("web", "volumes", [{"type": "bind", "source": "/x", "target": "/y"}]),
])
def test_refuses_what_rancher_refuses(service, key, value):
    services = copy.deepcopy(GOOD)
    services[service][key] = value
    with pytest.raises(jsonschema.ValidationError):
        validate(services)


@pytest.mark.parametrize("field, value", [("uid", 501), ("gid", 124)])
def test_secret_owner_must_be_a_string(field, value):
    services = copy.deepcopy(GOOD)
    services["web"]["secrets"][0][field] = value
    with pytest.raises(jsonschema.ValidationError):
        validate(services)


def test_service_names_are_restricted():
    with pytest.raises(jsonschema.ValidationError):
        validate({"web app": GOOD["web"]})


REFERENCE = __import__("stackkit").SHARED / "reference" / "rancher-1.6-service-schema.json"


@pytest.mark.skipif(not REFERENCE.exists(), reason="../shared is not here")
@pytest.mark.parametrize("key, value", [
    (None, None), ("healthcheck", {}), ("deploy", {}), ("user", 60050), ("ports", [{"target": 1}]),
    ("retain_ip", "yes"), ("labels", {"a": ["b"]}), ("volumes", [{"type": "bind"}]), ("init", True),
    ("stop_grace_period", "10s"), ("lb_config", {}), ("sysctls", {"net.core.somaxconn": 1024}),
])
def test_agrees_with_rancher_16s_own_schema(key, value):
    import json

    services = copy.deepcopy(GOOD)
    if key:
        services["web"][key] = value
    reference = jsonschema.Draft4Validator(json.loads(REFERENCE.read_text()))
    ours = jsonschema.Draft4Validator(rancher_schema())
    assert ours.is_valid(services) == reference.is_valid(services)
