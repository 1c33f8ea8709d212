"""Rules, findings and the registry that ties a rule id to its check.

A rule is a function that takes a Stack (or, for Kubernetes rules, a kube Bundle) and
yields Hits; the @rule decorator gives it a stable id, a slug, one severity, a title, a
fix hint, help text and the kind of input it judges. The engine turns hits into
Findings; formatting lives in report.py.
"""

from __future__ import annotations

import enum
import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Dict, Iterable, List, Optional

if TYPE_CHECKING:
    from spin_audit.stack import Stack


class Severity(enum.IntEnum):
    INFO = 1
    WARNING = 2
    ERROR = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> "Severity":
        return cls[text.upper()]


@dataclass(frozen=True)
class Location:
    path: str  # as displayed
    line: int
    column: int = 1


@dataclass
class Hit:
    """What a rule reports: where, what, and optionally a hint sharper than the rule's."""

    location: Location
    message: str
    service: Optional[str] = None
    hint: Optional[str] = None


@dataclass
class Finding:
    rule: "Rule"
    location: Location
    message: str
    hint: str
    service: Optional[str] = None
    suppressed_by: Optional[str] = None  # the reason of the suppression comment

    @property
    def severity(self) -> Severity:
        return self.rule.severity

    def sort_key(self) -> tuple:
        return (self.location.path, self.location.line, self.location.column, self.rule.id, self.message)

    def as_dict(self) -> dict:
        data = {
            "rule": self.rule.id,
            "name": self.rule.name,
            "severity": self.severity.label,
            "path": self.location.path,
            "line": self.location.line,
            "column": self.location.column,
            "message": self.message,
            "hint": self.hint,
        }
        if self.service is not None:
            data["service"] = self.service
        return data


Check = Callable[["Stack"], Iterable[Hit]]

COMPOSE, KUBE = "compose", "kube"  # the kinds of input a rule judges
# Each kind's rules register when their package is imported; the Kubernetes rules only when needed.
RULE_PACKAGES = {COMPOSE: "spin_audit.rules", KUBE: "spin_audit.kube.rules"}


@dataclass
class Rule:
    id: str
    name: str
    severity: Severity
    title: str
    hint: str
    help: str
    check: Optional[Check] = None  # None for rules the engine itself reports (SPIN9xx)
    kind: str = COMPOSE  # the input it judges: a compose stack or Kubernetes objects

    def finding(self, hit: Hit) -> Finding:
        return Finding(self, hit.location, hit.message, hit.hint or self.hint, hit.service)


_RULES: Dict[str, Rule] = {}


def register(rule_: Rule) -> Rule:
    if rule_.id in _RULES:
        raise ValueError(f"rule id {rule_.id} registered twice")
    if any(r.name == rule_.name for r in _RULES.values()):
        raise ValueError(f"rule name {rule_.name} registered twice")
    _RULES[rule_.id] = rule_
    return rule_


def rule(id: str, name: str, severity: Severity, title: str, hint: str, help: str,
         kind: str = COMPOSE) -> Callable[[Check], Check]:
    """Register the decorated check under a stable id."""

    def decorate(check: Check) -> Check:
        register(Rule(id, name, severity, title, hint, " ".join(help.split()), check, kind))
        return check

    return decorate


def all_rules(kind: Optional[str] = None) -> List[Rule]:
    """Every rule, or only those judging one kind of input (importing only that kind's rules)."""
    for each, package in RULE_PACKAGES.items():
        if kind in (None, each):
            importlib.import_module(package)
    return sorted((r for r in _RULES.values() if kind is None or r.kind == kind), key=lambda r: r.id)


def get_rule(rule_id: str) -> Optional[Rule]:
    rule_id = rule_id.upper()
    all_rules(KUBE if rule_id.startswith("SPINK") else COMPOSE)
    return _RULES.get(rule_id)
