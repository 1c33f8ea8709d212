"""docs/rules.md is generated from the registry and must stay in sync with it."""

from __future__ import annotations

from pathlib import Path

from spin_audit.docgen import render
from spin_audit.registry import KUBE, Severity, all_rules

DOCS = Path(__file__).resolve().parents[2] / "docs" / "rules.md"


def test_rules_doc_is_in_sync() -> None:
    assert DOCS.read_text(encoding="utf-8") == render(), (
        "docs/rules.md is stale: run `python -m spin_audit.docgen > docs/rules.md`")


def test_rule_metadata_is_complete_and_stable() -> None:
    rules = all_rules()
    assert len({r.id for r in rules}) == len(rules) and len({r.name for r in rules}) == len(rules)
    for rule in rules:
        prefix = "SPINK" if rule.kind == KUBE else "SPIN"  # Kubernetes rules: SPINK + three digits
        assert rule.id.startswith(prefix) and len(rule.id) == len(prefix) + 3 and rule.id[len(prefix):].isdigit()
        assert isinstance(rule.severity, Severity)
        assert rule.title and rule.hint and rule.help and "\n" not in rule.title
        assert rule.name == rule.name.lower() and " " not in rule.name
