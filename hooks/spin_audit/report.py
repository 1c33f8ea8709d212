"""Render findings and the rule list as text, JSON or SARIF 2.1.0."""

from __future__ import annotations

import json
import os

from spin_audit import __version__
from spin_audit.registry import Finding, Rule, Severity

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
GROUPS = {
    "0": "input", "1": "compose", "2": "security", "3": "global-file-system", "4": "images", "5": "network",
    "6": "secrets", "7": "naming", "8": "dockerfile", "9": "suppressions",
}


def md(text: str) -> str:
    """Escape `<`, `>` and `|` outside code spans, so that <service> stays visible in Markdown."""
    parts = text.split("`")
    for i in range(0, len(parts), 2):
        parts[i] = parts[i].replace("<", "&lt;").replace(">", "&gt;").replace("|", "\\|")
    return "`".join(parts)


# Kubernetes rules (SPINK + three digits) share the groups, but their 1xx judge manifests.
KUBE_GROUPS = {**GROUPS, "1": "manifest"}


def group_of(rule: Rule) -> str:
    if rule.id.startswith("SPINK"):
        return KUBE_GROUPS.get(rule.id[5:6], "other")
    return GROUPS.get(rule.id[4:5], "other")


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 or word == "info" else "s")


def render_text(findings: list[Finding], stacks: int) -> str:
    """One finding per two lines (where and what, then the hint), then a summary whose counts
    include the findings past the per-rule cap that are counted but not listed."""
    active = [f for f in findings if f.suppressed_by is None]
    lines = []
    for finding in active:
        where = finding.location
        lines.append(f"{where.path}:{where.line}:{where.column}: {finding.rule.id} [{finding.severity.label}] "
                     f"{finding.message}")
        lines.append(f"    hint: {finding.hint}")
    severities = (Severity.ERROR, Severity.WARNING, Severity.INFO)
    counts = [sum(f.count for f in active if f.severity == s) for s in severities]
    suppressed = sum(f.count for f in findings if f.suppressed_by is not None)
    unlisted = sum(f.omitted for f in active)
    scope = _plural(stacks, "stack")
    if active:
        summary = (f"spin-audit: {_plural(sum(counts), 'finding')} ({_plural(counts[0], 'error')}, "
                   f"{_plural(counts[1], 'warning')}, {counts[2]} info) in {scope}")
    else:
        summary = f"spin-audit: no findings in {scope}"
    if unlisted:
        summary += f", {unlisted} of them not listed"
    if suppressed:
        summary += f"; {suppressed} suppressed"
    lines.append(summary)
    return "\n".join(lines) + "\n"


def render_json(findings: list[Finding]) -> str:
    return json.dumps([f.as_dict() for f in findings if f.suppressed_by is None], indent=2) + "\n"


def rule_metadata(rule: Rule) -> dict[str, str]:
    return {"id": rule.id, "name": rule.name, "severity": rule.severity.label, "title": rule.title,
            "hint": rule.hint, "help": rule.help, "group": group_of(rule), "fix": rule.fix_kind,
            "fix_help": rule.fix_help}


def _sarif_rule(rule: Rule) -> dict:
    return {
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": rule.help},
        "help": {
            "text": f"{rule.help}\n\nFix: {rule.hint}",
            "markdown": f"**{md(rule.title)}**\n\n{md(rule.help)}\n\n**Fix:** {md(rule.hint)}",
        },
        "defaultConfiguration": {"level": SARIF_LEVELS[rule.severity]},
        "properties": {"tags": ["spin", group_of(rule)], "precision": "high", "fix": rule.fix_kind},
    }


def _artifact(path: str) -> dict:
    from pathlib import Path  # pathlib and urllib only for SARIF: they cost every other run's start-up
    from urllib.parse import quote

    if os.path.isabs(path):
        return {"uri": Path(path).as_uri()}
    return {"uri": quote(path.replace(os.sep, "/")), "uriBaseId": "%SRCROOT%"}


def _sarif_fix(finding: Finding, changes: list) -> dict:
    """A result's `fixes` entry: the fix's description and, for each file it changes, the replacements."""
    from spin_audit.fixer import replacements  # only when fixes are offered: it imports ruamel.yaml

    return {
        "description": {"text": f"{finding.fix.description} ({finding.fix.kind} fix)"},
        "artifactChanges": [{"artifactLocation": _artifact(source.display),
                             "replacements": replacements(source.text, text)} for source, text in changes],
    }


def render_sarif(findings: list[Finding], rules: list[Rule], failure: str | None = None,
                 changes: dict | None = None) -> str:
    """A SARIF 2.1.0 log; `failure` (the one-line reason of exit status 2) marks the run unsuccessful; `changes`
    (fixer.offered_changes: the files each checked fix changes, by the finding's identity) gives results `fixes`."""
    from pathlib import Path

    index = {rule.id: i for i, rule in enumerate(rules)}
    results = []
    for finding in findings:
        result = {
            "ruleId": finding.rule.id,
            "ruleIndex": index[finding.rule.id],
            "level": SARIF_LEVELS[finding.severity],
            "message": {"text": f"{finding.message} (hint: {finding.hint})"},
            "locations": [{
                "physicalLocation": {
                    "artifactLocation": _artifact(finding.location.path),
                    "region": {"startLine": finding.location.line, "startColumn": finding.location.column},
                },
            }],
        }
        properties: dict[str, object] = {}
        if finding.service is not None:
            properties["service"] = finding.service
        if finding.omitted:
            properties["omitted"] = finding.omitted
        if finding.fix is not None:
            properties["fixable"] = finding.fixable
        if properties:
            result["properties"] = properties
        if finding.suppressed_by is not None:
            result["suppressions"] = [{"kind": "inSource", "justification": finding.suppressed_by}]
        offered = (changes or {}).get(finding.identity())
        if offered:
            result["fixes"] = [_sarif_fix(finding, offered)]
        results.append(result)
    invocation: dict[str, object] = {"executionSuccessful": failure is None}
    if failure is not None:
        invocation["toolExecutionNotifications"] = [{"level": "error", "message": {"text": failure}}]
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "spin-audit",
                "version": __version__,
                "semanticVersion": __version__,
                "rules": [_sarif_rule(rule) for rule in rules],
            }},
            "invocations": [invocation],
            "originalUriBaseIds": {"%SRCROOT%": {"uri": Path(os.getcwd()).as_uri() + "/"}},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    }
    return json.dumps(log, indent=2) + "\n"


def render_rule_list(rules: list[Rule], fmt: str) -> str:
    if fmt == "json":
        return json.dumps([rule_metadata(r) for r in rules], indent=2) + "\n"
    width = max(len(r.name) for r in rules)
    return "".join(f"{r.id}  {r.severity.label:<7}  {r.name:<{width}}  {r.title}\n" for r in rules)


def fix_text(rule: Rule) -> str:
    """What `--fix` does for the rule, as docs and --explain say it."""
    if not rule.fix:
        return "none: fix it by hand"
    flag = "`--fix`" if rule.fix == ("safe",) else "`--fix --unsafe-fixes`" if rule.fix == ("unsafe",) else \
        "`--fix` (unsafe ones with `--unsafe-fixes`)"
    return f"{rule.fix_kind}, with {flag}: {rule.fix_help}"


def render_explain(rule: Rule) -> str:
    return (f"{rule.id} {rule.name} [{rule.severity.label}]\n{rule.title}\n\n{rule.help}\n\n"
            f"Fix: {rule.hint}\nAuto-fix: {fix_text(rule)}\n")
