"""The project's schema of Rancher 1.6 service keys, and a small validator for it.

rancher_service_schema.json is the single list of the keys and types Rancher accepts;
the template's tests validate rendered stacks against it with jsonschema. The audit
cannot depend on jsonschema (the hook installs PyYAML only), so it validates with the
subset of Draft 4 that the file uses, on YNodes, to keep lines for every problem.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache

from spin_audit.facts import package_json
from spin_audit.loader import YNode

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing at start-up
if TYPE_CHECKING:
    from typing import Any

SCHEMA_FILE = "rancher_service_schema.json"
SUPPORTED_KEYWORDS = frozenset({
    "$schema", "title", "description", "$ref", "type", "properties", "patternProperties",
    "additionalProperties", "items", "oneOf", "required", "uniqueItems", "definitions",
})


@lru_cache(maxsize=1)
def load_schema() -> dict[str, Any]:
    return package_json(SCHEMA_FILE)


def service_schema() -> dict[str, Any]:
    return load_schema()["definitions"]["service"]


def service_keys() -> tuple[str, ...]:
    return tuple(service_schema()["properties"])


def json_type(value: Any) -> str:
    """The JSON Schema type of a loaded value ('timestamp', 'binary' for YAML-only types)."""
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if value is None:
        return "null"
    if isinstance(value, bytes):
        return "binary"
    return "timestamp"


def _accepts(types: Any, actual: str) -> bool:
    allowed = types if isinstance(types, list) else [types]
    return actual in allowed or (actual == "integer" and "number" in allowed)


class Problem:
    """One way a value breaks the schema."""

    __slots__ = ("kind", "node", "path", "expected", "key")

    def __init__(self, kind: str, node: YNode, path: tuple[Any, ...], expected: tuple[str, ...] = (),
                 key: Any = None):
        self.kind = kind  # "unknown-key", "type", "required", "duplicate"
        self.node = node  # the offending value (for unknown-key: the value under the unknown key)
        self.path = path  # keys and indexes from the service down to the node
        self.expected = expected  # allowed types, or the missing key
        self.key = key

    def __repr__(self) -> str:
        return f"Problem({self.kind} at {self.path})"


class Validator:
    def __init__(self, schema: dict[str, Any]):
        self.schema = schema

    def resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in schema:
            target: Any = self.schema
            for part in schema["$ref"].lstrip("#/").split("/"):
                target = target[part]
            schema = target
        return schema

    def types_of(self, schema: dict[str, Any]) -> list[str] | None:
        """The types a schema accepts at its top, or None for any."""
        schema = self.resolve(schema)
        if "oneOf" in schema:
            found: list[str] = []
            for branch in schema["oneOf"]:
                types = self.types_of(branch)
                if types is None:
                    return None
                found += [t for t in types if t not in found]
            return found
        types = schema.get("type")
        if types is None:
            return None
        return list(types) if isinstance(types, list) else [types]

    def validate(self, node: YNode, schema: dict[str, Any], path: tuple[Any, ...] = ()) -> list[Problem]:
        schema = self.resolve(schema)
        actual = json_type(node.value)
        if "oneOf" in schema:
            return self._one_of(node, schema["oneOf"], path)
        if "type" in schema and not _accepts(schema["type"], actual):
            return [Problem("type", node, path, tuple(self.types_of(schema) or ()))]
        problems: list[Problem] = []
        if actual == "object":
            problems += self._object(node, schema, path)
        elif actual == "array":
            items = schema.get("items")
            if items is not None:
                for index, item in enumerate(node.value):
                    problems += self.validate(item, items, path + (index,))
            if schema.get("uniqueItems"):
                seen = set()
                for index, item in enumerate(node.value):
                    key = json.dumps([json_type(item.value), item.plain()], sort_keys=True, default=str)
                    if key in seen:
                        problems.append(Problem("duplicate", item, path + (index,)))
                    seen.add(key)
        return problems

    def _one_of(self, node: YNode, branches: list[dict[str, Any]], path: tuple[Any, ...]) -> list[Problem]:
        actual = json_type(node.value)
        fitting = []
        for branch in branches:
            types = self.types_of(branch)
            if types is None or _accepts(types, actual):
                fitting.append(branch)
        if not fitting:
            expected: list[str] = []
            for branch in branches:
                expected += [t for t in (self.types_of(branch) or []) if t not in expected]
            return [Problem("type", node, path, tuple(expected))]
        results = [self.validate(node, branch, path) for branch in fitting]
        return min(results, key=len)

    def _object(self, node: YNode, schema: dict[str, Any], path: tuple[Any, ...]) -> list[Problem]:
        problems: list[Problem] = []
        properties = schema.get("properties", {})
        patterns = schema.get("patternProperties", {})
        for key, value in node.items():
            name = str(key)
            matched = False
            if name in properties:
                matched = True
                problems += self.validate(value, properties[name], path + (key,))
            for pattern, sub in patterns.items():
                if re.search(pattern, name):
                    matched = True
                    problems += self.validate(value, sub, path + (key,))
            if not matched and schema.get("additionalProperties") is False:
                problems.append(Problem("unknown-key", value, path + (key,), key=key))
        for required in schema.get("required", []):
            if required not in node.value:
                problems.append(Problem("required", node, path, (required,)))
        return problems


def validate_service(node: YNode) -> list[Problem]:
    """Problems of one service mapping (from either compose file)."""
    return Validator(load_schema()).validate(node, service_schema())
