"""Run every rule of an input's kind on it (a compose stack, or the Kubernetes objects of a kube
Bundle), applying (or, for CI, refusing) suppression comments."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from spin_audit.registry import COMPOSE, KUBE, Finding, Hit, Location, Rule, all_rules, get_rule
from spin_audit.rules.meta import (
    SUPPRESSION_REFUSED,
    SUPPRESSION_UNKNOWN_RULE,
    SUPPRESSION_UNUSED,
    SUPPRESSION_WITHOUT_REASON,
)
from spin_audit.suppression import Suppression, find_suppressions

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing at start-up
if TYPE_CHECKING:
    from spin_audit.kube.model import Bundle
    from spin_audit.stack import Stack

# Hostile input can breach one rule on every line; past this many findings of one rule in one
# stack the rest are only counted, so that memory and output stay bounded.
MAX_FINDINGS_PER_RULE = 1000

Index = dict[tuple[str, int, str], list[Suppression]]


def _suppressions(stack: Stack) -> list[Suppression]:
    found = []
    dockerfiles = {id(use.dockerfile.source) for use in stack.dockerfiles}
    for source in stack.sources:
        found += find_suppressions(source, yaml_comments=id(source) not in dockerfiles)
    return found


def _collect(rule: Rule, hits: Iterable[Hit], index: Index) -> list[Finding]:
    """The rule's findings without repeats, marked when a suppression applies.

    Past MAX_FINDINGS_PER_RULE the rest are only counted: one closing entry stands for the
    unlisted active findings and one for the unlisted suppressed ones, so counts stay exact."""
    found: list[Finding] = []
    seen = set()
    first_omitted: dict[bool, Hit] = {}
    omitted = {False: 0, True: 0}  # by "is suppressed"
    for hit in hits:
        key = (hit.location, hit.message)
        if key in seen:
            continue
        seen.add(key)
        applying = index.get((hit.location.path, hit.location.line, rule.id), [])
        for suppression in applying:
            suppression.used = True
        if len(found) < MAX_FINDINGS_PER_RULE:
            finding = rule.finding(hit)
            finding.suppressed_by = applying[0].reason if applying else None
            found.append(finding)
        else:
            first_omitted.setdefault(bool(applying), hit)
            omitted[bool(applying)] += 1
    for suppressed, hit in first_omitted.items():
        what = "suppressed " if suppressed else ""
        closing = rule.finding(Hit(hit.location, f"{omitted[suppressed]} more {what}{rule.id} findings in this "
                                                 f"stack are not listed (at most {MAX_FINDINGS_PER_RULE} per rule)",
                                   hit.service))
        closing.omitted = omitted[suppressed]
        closing.suppressed_by = "several suppression comments" if suppressed else None
        found.append(closing)
    return found


def _problems_of(suppressions: list[Suppression], allowed: bool) -> Iterator[tuple[Rule, Hit]]:
    """Findings about the suppression comments themselves."""
    for suppression in suppressions:
        where = Location(suppression.path, suppression.line)
        ids = ", ".join(suppression.rules) or "nothing"
        if not allowed:
            yield SUPPRESSION_REFUSED, Hit(where, f"suppression of {ids} refused")
            continue
        unknown = [r for r in suppression.rules if get_rule(r) is None]
        for rule_id in unknown:
            yield SUPPRESSION_UNKNOWN_RULE, Hit(where, f"suppression names unknown rule {rule_id}")
        if not suppression.reason:
            yield SUPPRESSION_WITHOUT_REASON, Hit(where, f"suppression of {ids} gives no reason")
        elif not suppression.used and len(unknown) < len(suppression.rules):
            yield SUPPRESSION_UNUSED, Hit(where, f"suppression of {ids} matches no finding")


def audit(stack: Stack, allow_suppressions: bool = True) -> list[Finding]:
    """All findings of a compose stack, sorted; suppressed ones carry `suppressed_by`."""
    return _run(all_rules(COMPOSE), stack, _suppressions(stack), allow_suppressions)


def audit_kube(bundle: Bundle, allow_suppressions: bool = True) -> list[Finding]:
    """All findings on the Kubernetes objects of a bundle, sorted, as `audit` gives them for a stack."""
    suppressions = [s for source in bundle.sources for s in find_suppressions(source, yaml_comments=True)]
    return _run(all_rules(KUBE), bundle, suppressions, allow_suppressions)


def _run(rules: list[Rule], subject: object, suppressions: list[Suppression], allow_suppressions: bool) -> list[Finding]:
    """Each rule's findings on the subject, marked where a suppression applies, then the suppressions' own."""
    index: Index = {}
    if allow_suppressions:
        for suppression in suppressions:
            if suppression.reason and suppression.target_line is not None:
                for rule_id in suppression.rules:
                    index.setdefault((suppression.path, suppression.target_line, rule_id), []).append(suppression)

    findings: list[Finding] = []
    for rule in rules:
        if rule.check is not None:
            findings += _collect(rule, rule.check(subject), index)
    for meta in (SUPPRESSION_REFUSED, SUPPRESSION_UNKNOWN_RULE, SUPPRESSION_WITHOUT_REASON, SUPPRESSION_UNUSED):
        hits = (hit for rule, hit in _problems_of(suppressions, allow_suppressions) if rule is meta)
        findings += _collect(meta, hits, {})
    return sorted(findings, key=Finding.sort_key)
