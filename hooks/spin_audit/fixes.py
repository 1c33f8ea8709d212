"""Fixes as data: what a rule's hit would change in the YAML file it was read from.

A Fix has a kind and edits. SAFE fixes cannot change what the workload does beyond Spin's
rules (a pull policy for a moving tag, a pull secret, `allowPrivilegeEscalation: false`);
UNSAFE ones may stop an image from starting (dropping every capability, a read-only mount,
a run-as user) and are applied only with `--unsafe-fixes`, as in ruff. An Edit names a node as
the loader read it (a YNode of one file) and what to do there; fixer.py applies the edits to
ruamel.yaml's round-trip document of that file, so that comments and layout stay, and checks
the result before anything is written. Standard library only: rules build fixes on every run.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing at start-up
if TYPE_CHECKING:
    from typing import Any

    from spin_audit.loader import YNode

SAFE, UNSAFE = "safe", "unsafe"
KINDS = (SAFE, UNSAFE)

# What an Edit does at its node.
SET = "set"  # node[keys...] = value, creating the mappings on the way (a new key goes after `after`)
APPEND = "append"  # node[key] (a list, created in flow style when missing) gets value at its end
REPLACE = "replace"  # the node itself becomes value
DELETE = "delete"  # node[keys...] is removed


class Quoted(str):
    """A string written in single quotes (`mode: '0400'`): the text itself, whatever YAML 1.1 would make of it."""

    __slots__ = ()


class Octal(int):
    """A file mode written as YAML 1.1 octal (`defaultMode: 0400`), as Kubernetes manifests write modes."""

    __slots__ = ()


class Edit:
    __slots__ = ("node", "op", "keys", "value", "after")

    def __init__(self, node: YNode, op: str, keys: tuple[Any, ...] = (), value: Any = None,
                 after: tuple[str, ...] = ()):
        self.node = node  # a mapping (SET, APPEND, DELETE) or the value to replace (REPLACE)
        self.op = op
        self.keys = keys
        self.value = value
        self.after = after  # SET: keys after which a new key goes, the first present one wins; else at the end


class Fix:
    """A finding's fix: its kind, what it does (one line), its edits, and the rule the finding becomes when
    the fix removes only part of the problem (`becomes`: SPINK402's pull policy leaves SPINK403's floating tag)."""

    __slots__ = ("kind", "description", "edits", "becomes")

    def __init__(self, kind: str, description: str, edits: list[Edit], becomes: str | None = None):
        if kind not in KINDS:
            raise ValueError(f"unknown kind of fix {kind!r}")
        self.kind = kind
        self.description = description
        self.edits = edits
        self.becomes = becomes


def set_key(node: YNode, *keys: Any, value: Any, after: tuple[str, ...] = ()) -> Edit:
    return Edit(node, SET, keys, value, after)


def append_item(node: YNode, *keys: Any, value: Any) -> Edit:
    return Edit(node, APPEND, keys, value)


def replace(node: YNode, value: Any) -> Edit:
    return Edit(node, REPLACE, (), value)


def delete_key(node: YNode, *keys: Any) -> Edit:
    return Edit(node, DELETE, keys)
