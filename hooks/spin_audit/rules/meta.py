"""SPIN9xx: problems with the audit's own suppression comments (reported by the engine)."""

from spin_audit.registry import Rule, Severity, register

SUPPRESSION_WITHOUT_REASON = register(Rule(
    "SPIN901", "suppression-without-reason", Severity.WARNING,
    "Suppression comment without a reason",
    "write why: `# spin-audit: ignore[SPIN201] reason the rule does not apply here`",
    "A suppression must say why the rule does not apply, so that a reviewer can judge it. One without "
    "a reason is not honoured: the finding it meant to hide is reported too."))

SUPPRESSION_UNKNOWN_RULE = register(Rule(
    "SPIN902", "suppression-unknown-rule", Severity.WARNING,
    "Suppression names an unknown rule",
    "use a rule id from `spin-audit --list-rules`",
    "The suppression comment names a rule id that does not exist, so it hides nothing."))

SUPPRESSION_UNUSED = register(Rule(
    "SPIN903", "suppression-unused", Severity.INFO,
    "Suppression matches no finding",
    "remove the comment, or move it to the line the finding points at (or the line above it)",
    "A suppression applies to its own line (a trailing comment) or to the next line (a comment on a "
    "line of its own). This one hides nothing there: the problem is gone or the comment is misplaced."))

SUPPRESSION_REFUSED = register(Rule(
    "SPIN904", "suppression-refused", Severity.ERROR,
    "Suppression refused (--no-suppress)",
    "fix the finding instead of suppressing it, or run without --no-suppress",
    "With --no-suppress (for CI) suppression comments are ignored, and each one is reported so that "
    "suppressed problems cannot slip through."))
