"""Rules the engine reports itself, for any kind of input: input it could not read
(SPIN0xx) and problems with the audit's own suppression comments (SPIN9xx)."""

from spin_audit.registry import Rule, Severity, register

INPUT_ERROR = register(Rule(
    "SPIN001", "input-error", Severity.ERROR,
    "Input cannot be read or parsed",
    "fix the file named in the message (or the path given), then audit again",
    "A path that does not exist, a file that is not UTF-8 text or not valid YAML, or YAML beyond the "
    "audit's limits (size, depth, aliases) cannot be judged at all: spin-audit stops with exit status 2 "
    "and says why in one line.", kind="any"))

INPUT_TEMPLATE = register(Rule(
    "SPIN002", "input-template", Severity.ERROR,
    "Input is a template (a Helm chart, a catalog or Jinja template), not a stack file or manifest",
    "render the template (`helm template NAME CHART | spin-audit -`, the Rancher catalog, or copier for a "
    "Jinja template), then audit the result",
    "A Helm chart (a folder with Chart.yaml, any file in it, or a values file), a Rancher catalog template "
    "(docker-compose.yml.tpl, with Go `{{ }}` actions) or a Jinja template (*.j2, or a file whose keys or "
    "values are `{{ }}` placeholders) only becomes a stack file or a manifest when it is rendered with its "
    "values or answers; the rules judge that result, which spin-audit reads from standard input as `-`. "
    "spin-audit names the template and how to render it in one line and stops with exit status 2.",
    kind="any"))

SUPPRESSION_WITHOUT_REASON = register(Rule(
    "SPIN901", "suppression-without-reason", Severity.WARNING,
    "Suppression comment without a reason",
    "write why: `# spin-audit: ignore[SPIN201] reason the rule does not apply here`",
    "A suppression must say why the rule does not apply, so that a reviewer can judge it. One without "
    "a reason is not honoured: the finding it meant to hide is reported too.", kind="any"))

SUPPRESSION_UNKNOWN_RULE = register(Rule(
    "SPIN902", "suppression-unknown-rule", Severity.WARNING,
    "Suppression names an unknown rule",
    "use a rule id from `spin-audit --list-rules`",
    "The suppression comment names a rule id that does not exist, so it hides nothing.", kind="any"))

SUPPRESSION_UNUSED = register(Rule(
    "SPIN903", "suppression-unused", Severity.INFO,
    "Suppression matches no finding",
    "remove the comment, or move it to the line the finding points at (or the line above it)",
    "A suppression applies to its own line (a trailing comment) or to the next line (a comment on a "
    "line of its own). This one hides nothing there: the problem is gone or the comment is misplaced.",
    kind="any"))

SUPPRESSION_REFUSED = register(Rule(
    "SPIN904", "suppression-refused", Severity.ERROR,
    "Suppression refused (--no-suppress)",
    "fix the finding instead of suppressing it, or run without --no-suppress",
    "With --no-suppress (for CI) suppression comments are ignored, and each one is reported so that "
    "suppressed problems cannot slip through.", kind="any"))
