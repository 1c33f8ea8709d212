"""Rules, findings and the registry that ties a rule id to its check.

A rule is a function that takes an input (a compose Stack) and yields Hits; the @rule
decorator gives it a stable id, a slug, one severity, a title, a fix hint and help text,
and the kind of input it judges. The engine turns hits into Findings; formatting lives
in report.py.
"""

from __future__ import annotations

import enum
from collections import namedtuple
from collections.abc import Callable, Iterable

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing at start-up
if TYPE_CHECKING:
    from spin_audit.fixes import Fix
    from spin_audit.stack import Stack


class Severity(enum.IntEnum):
    INFO = 1
    WARNING = 2
    ERROR = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        return cls[text.upper()]


Location = namedtuple("Location", "path line column", defaults=(1,))
Location.__doc__ = "Where a finding is: the file as displayed, 1-based line and column."


class Hit:
    """What a rule reports: where, what, optionally a hint sharper than the rule's, and the fix
    (spin_audit.fixes.Fix: edits of the YAML it was read from) when the rule knows one."""

    __slots__ = ("location", "message", "service", "hint", "fix")

    def __init__(self, location: Location, message: str, service: str | None = None, hint: str | None = None,
                 fix: Fix | None = None):
        self.location = location
        self.message = message
        self.service = service
        self.hint = hint
        self.fix = fix


class Finding:
    """A rule's hit with the rule's metadata, as the reports show it."""

    __slots__ = ("rule", "location", "message", "hint", "service", "suppressed_by", "omitted", "fix")

    def __init__(self, rule: Rule, location: Location, message: str, hint: str, service: str | None = None,
                 fix: Fix | None = None):
        self.rule = rule
        self.location = location
        self.message = message
        self.hint = hint
        self.service = service
        self.fix = fix
        self.suppressed_by: str | None = None  # the reason of the suppression comment
        self.omitted = 0  # >0: this entry stands for that many findings of its rule past the cap, not listed

    @property
    def severity(self) -> Severity:
        return self.rule.severity

    @property
    def count(self) -> int:
        """How many findings this entry stands for."""
        return self.omitted or 1

    @property
    def fixable(self) -> str:
        """The kind of fix `--fix` offers for it ("safe" or "unsafe", see fixes.py), or "no"."""
        return self.fix.kind if self.fix is not None else "no"

    def sort_key(self) -> tuple:
        return (self.location.path, self.location.line, self.location.column, self.rule.id, self.message)

    def identity(self) -> tuple:
        """What names the finding across a fix, which moves lines: rule, file, message, service, suppression."""
        return (self.rule.id, self.location.path, self.message, self.service, self.suppressed_by is not None)

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
            "fixable": self.fixable,
        }
        if self.service is not None:
            data["service"] = self.service
        if self.omitted:
            data["omitted"] = self.omitted
        return data


Check = Callable[["Stack"], Iterable[Hit]]
COMPOSE, KUBE = "compose", "kube"  # the kinds of input a rule judges: a compose stack, Kubernetes objects


class Rule:
    """A stable id and name, one severity, the text the reports and docs show, the check, and what its
    fix does (`fix`: the kinds its findings' fixes may be, "safe" and/or "unsafe"; `fix_help`: what it edits)."""

    __slots__ = ("id", "name", "severity", "title", "hint", "help", "check", "kind", "fix", "fix_help")

    def __init__(self, id: str, name: str, severity: Severity, title: str, hint: str, help: str,
                 check: Check | None = None, kind: str = COMPOSE, fix: tuple[str, ...] = (), fix_help: str = ""):
        self.id = id
        self.name = name
        self.severity = severity
        self.title = title
        self.hint = hint
        self.help = help
        self.check = check  # None for rules the engine itself reports (SPIN0xx, SPIN9xx)
        self.kind = kind  # the kind of input it judges (RULE_PACKAGES)
        self.fix = fix
        self.fix_help = fix_help

    def __repr__(self) -> str:
        return f"Rule({self.id} {self.name})"

    @property
    def fix_kind(self) -> str:
        """How docs and --explain name its fix: "safe", "unsafe", "safe or unsafe", or "none"."""
        return " or ".join(self.fix) or "none"

    def finding(self, hit: Hit) -> Finding:
        if hit.fix is not None and hit.fix.kind not in self.fix:
            raise ValueError(f"{self.id} offers a {hit.fix.kind} fix but declares {self.fix_kind}")
        return Finding(self, hit.location, hit.message, hit.hint or self.hint, hit.service, hit.fix)


# Each kind's rules register when their package is imported, and that happens only when an input of
# that kind is audited (or every rule is asked for): auditing a compose stack loads no other kind's rules.
RULE_PACKAGES: dict[str, str] = {COMPOSE: "spin_audit.rules", KUBE: "spin_audit.kube.rules"}

_RULES: dict[str, Rule] = {}


def register(rule_: Rule) -> Rule:
    if rule_.id in _RULES:
        raise ValueError(f"rule id {rule_.id} registered twice")
    if any(r.name == rule_.name for r in _RULES.values()):
        raise ValueError(f"rule name {rule_.name} registered twice")
    _RULES[rule_.id] = rule_
    return rule_


def rule(id: str, name: str, severity: Severity, title: str, hint: str, help: str,
         kind: str = COMPOSE, fix: tuple[str, ...] = (), fix_help: str = "") -> Callable[[Check], Check]:
    """Register the decorated check under a stable id; `fix` names the kinds of fix its hits carry."""
    if bool(fix) != bool(fix_help):
        raise ValueError(f"{id}: a fix needs fix_help (what it edits), and fix_help a fix")

    def decorate(check: Check) -> Check:
        register(Rule(id, name, severity, title, hint, " ".join(help.split()), check, kind, fix,
                      " ".join(fix_help.split())))
        return check

    return decorate


def all_rules(kind: str | None = None) -> list[Rule]:
    """Every rule, or only those of one kind of input (importing only that kind's rules)."""
    for each, package in RULE_PACKAGES.items():
        if kind in (None, each):
            __import__(package)
    return sorted((r for r in _RULES.values() if kind is None or r.kind == kind), key=lambda r: r.id)


def get_rule(rule_id: str) -> Rule | None:
    found = _RULES.get(rule_id.upper())
    if found is None:
        all_rules()
        found = _RULES.get(rule_id.upper())
    return found
