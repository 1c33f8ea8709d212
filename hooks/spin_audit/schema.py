"""The project's schema of Rancher 1.6 service keys, and a small validator for it.

rancher_service_schema.json is the single list of the keys and types Rancher accepts;
the template's tests validate rendered stacks against it with jsonschema. The audit
cannot depend on jsonschema (the hook installs PyYAML only), so it validates with the
subset of Draft 4 that the file uses, on YNodes, to keep lines for every problem.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any, Dict, List, Optional, Tuple

from spin_audit.loader import YNode

SCHEMA_FILE = "rancher_service_schema.json"
SUPPORTED_KEYWORDS = frozenset({
    "$schema", "title", "description", "$ref", "type", "properties", "patternProperties",
    "additionalProperties", "items", "oneOf", "required", "uniqueItems", "definitions",
})


@lru_cache(maxsize=1)
def load_schema() -> Dict[str, Any]:
    text = resources.files("spin_audit").joinpath(SCHEMA_FILE).read_text(encoding="utf-8")
    return json.loads(text)


def service_schema() -> Dict[str, Any]:
    return load_schema()["definitions"]["service"]


def service_keys() -> Tuple[str, ...]:
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


@dataclass
class Problem:
    """One way a value breaks the schema."""

    kind: str  # "unknown-key", "type", "required", "duplicate"
    node: YNode  # the offending value (for unknown-key: the value under the unknown key)
    path: Tuple[Any, ...]  # keys and indexes from the service down to the node
    expected: Tuple[str, ...] = ()  # allowed types, or the missing key
    key: Any = None


class Validator:
    def __init__(self, schema: Dict[str, Any]):
        self.schema = schema

    def resolve(self, schema: Dict[str, Any]) -> Dict[str, Any]:
        while "$ref" in schema:
            target: Any = self.schema
            for part in schema["$ref"].lstrip("#/").split("/"):
                target = target[part]
            schema = target
        return schema

    def types_of(self, schema: Dict[str, Any]) -> Optional[List[str]]:
        """The types a schema accepts at its top, or None for any."""
        schema = self.resolve(schema)
        if "oneOf" in schema:
            found: List[str] = []
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

    def validate(self, node: YNode, schema: Dict[str, Any], path: Tuple[Any, ...] = ()) -> List[Problem]:
        schema = self.resolve(schema)
        actual = json_type(node.value)
        if "oneOf" in schema:
            return self._one_of(node, schema["oneOf"], path)
        if "type" in schema and not _accepts(schema["type"], actual):
            return [Problem("type", node, path, tuple(self.types_of(schema) or ()))]
        problems: List[Problem] = []
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

    def _one_of(self, node: YNode, branches: List[Dict[str, Any]], path: Tuple[Any, ...]) -> List[Problem]:
        actual = json_type(node.value)
        fitting = []
        for branch in branches:
            types = self.types_of(branch)
            if types is None or _accepts(types, actual):
                fitting.append(branch)
        if not fitting:
            expected: List[str] = []
            for branch in branches:
                expected += [t for t in (self.types_of(branch) or []) if t not in expected]
            return [Problem("type", node, path, tuple(expected))]
        results = [self.validate(node, branch, path) for branch in fitting]
        return min(results, key=len)

    def _object(self, node: YNode, schema: Dict[str, Any], path: Tuple[Any, ...]) -> List[Problem]:
        problems: List[Problem] = []
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


def validate_service(node: YNode) -> List[Problem]:
    """Problems of one service mapping (from either compose file)."""
    return Validator(load_schema()).validate(node, service_schema())
