"""rancher_service_schema.json: valid Draft 4, within what the built-in validator supports, and in
agreement with jsonschema on real and generated services."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from spin_audit.loader import SourceFile, YamlFile, parse_yaml
from spin_audit.schema import SUPPORTED_KEYWORDS, Validator, load_schema, service_keys

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SCHEMA = load_schema()


def _keywords(node, found: set) -> set:
    if isinstance(node, dict):
        for key, value in node.items():
            found.add(key)
            if key in ("properties", "patternProperties", "definitions"):
                for sub in value.values():
                    _keywords(sub, found)
            else:
                _keywords(value, found)
    elif isinstance(node, list):
        for item in node:
            _keywords(item, found)
    return found


def test_schema_is_valid_draft4() -> None:
    jsonschema.Draft4Validator.check_schema(SCHEMA)


def test_schema_uses_only_keywords_the_audit_understands() -> None:
    assert _keywords(SCHEMA, set()) - SUPPORTED_KEYWORDS - {"type", "items"} == set()


def test_documented_keys_are_there_and_docker_only_keys_are_not() -> None:
    keys = set(service_keys())
    assert {"image", "user", "cap_drop", "secrets", "health_check", "retain_ip", "upgrade_strategy", "scale",
            "build", "restart", "labels", "volumes", "ports", "group_add"} <= keys
    assert not {"healthcheck", "deploy", "configs"} & keys


def _services(path: Path) -> dict:
    return yaml.safe_load(path.read_text())["services"]


@pytest.mark.parametrize("stack", ["myportal", "rendered"])
@pytest.mark.parametrize("name", ["docker-compose.yml", "rancher-compose.yml"])
def test_fixtures_validate_with_jsonschema(request, stack: str, name: str) -> None:
    folder = request.getfixturevalue("rendered_stack") if stack == "rendered" else FIXTURES / stack
    jsonschema.Draft4Validator(SCHEMA).validate(_services(folder / name))


def _load(text: str) -> YamlFile:
    return parse_yaml(SourceFile("/stack/docker-compose.yml", "docker-compose.yml", text))


scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.sampled_from(["a", "1", "x=y", "0400"]))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3),
    st.dictionaries(st.sampled_from(["source", "target", "uid", "gid", "mode", "driver", "options", "soft", "hard",
                                     "context", "service", "a", "b"]), inner, max_size=3)), max_leaves=8)
service = st.dictionaries(st.sampled_from(list(service_keys())[:60] + ["healthcheck"]), values, max_size=4)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(["web", "app", "bad name!"]), service, min_size=1, max_size=2))
def test_builtin_validator_agrees_with_jsonschema(services) -> None:
    text = yaml.safe_dump(services)
    node = _load(text).root
    ours = Validator(SCHEMA).validate(node, SCHEMA)
    theirs = list(jsonschema.Draft4Validator(SCHEMA).iter_errors(json.loads(json.dumps(yaml.safe_load(text)))))
    assert bool(ours) == bool(theirs), (ours, [e.message for e in theirs])


def test_a_value_no_branch_of_one_of_takes_names_each_expected_type_once() -> None:
    root = parse_yaml(SourceFile("/s/x.yml", "x.yml", "value: [a]\n")).root
    schema = {"oneOf": [{"type": "string"}, {"type": ["string", "integer"]}, {"type": "boolean"}]}
    [problem] = Validator(schema).validate(root.get("value"), schema)
    assert (problem.kind, problem.expected) == ("type", ("string", "integer", "boolean"))
