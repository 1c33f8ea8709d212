"""Command line: `spin-audit [PATH ...] [--file FILE ...] [--rancher-file FILE ...] [--fix | --diff]`.

Exit status: 0 no finding at or above --fail-on, 1 such findings, 2 input that could not
be read or parsed: one line on stderr and, with --format json or sarif, a document on
stdout that holds the input error as its one finding (nothing on stdout for text). With
--fix or --diff the status is that of the findings the fixes leave.
"""

from __future__ import annotations

import argparse
import sys

from spin_audit import __version__
from spin_audit.engine import audit, audit_kube
from spin_audit.loader import InputError, TemplateError
from spin_audit.registry import KUBE, Finding, Location, Severity, all_rules, get_rule
from spin_audit.report import render_explain, render_json, render_rule_list, render_sarif, render_text
from spin_audit.rules.meta import INPUT_ERROR, INPUT_TEMPLATE
from spin_audit.stack import ACCESS_LEVELS, load_stack
from spin_audit.targets import Target, find_targets

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing at start-up
if TYPE_CHECKING:
    from typing import NoReturn

EXIT_OK, EXIT_FINDINGS, EXIT_INPUT = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        """Usage errors are one line too, with exit 2."""
        self.exit(EXIT_INPUT, f"spin-audit: error: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="spin-audit",
        description="Check NERSC Spin stacks (Rancher 1.6 docker-compose v2, or Kubernetes manifests for "
                    "Rancher 2) against Spin's rules before Spin refuses them.",
        epilog="Suppress one finding with a comment on its line (or the line above): "
               "`# spin-audit: ignore[SPIN201] reason`. Exit status: 0 clean, 1 findings at or above "
               "--fail-on, 2 unreadable input or a template (one line on stderr; with --format json or sarif, also a "
               "document whose one finding names it).",
    )
    parser.add_argument("paths", nargs="*", metavar="PATH",
                        help="stack directory, or a file in it (docker-compose.yml, rancher-compose.yml, "
                             "a Dockerfile, .copier-answers.yml); a compose file of another name is merged over "
                             "the docker-compose.yml beside it; or Kubernetes manifests: a file, a folder of "
                             "them, a rancher2 stack; - for standard input (`helm template NAME CHART | spin-audit "
                             "-`); default: . (unless --file is given)")
    parser.add_argument("-f", "--file", action="append", default=[], metavar="FILE",
                        help="a compose file of one stack, repeatable, merged in the order given as "
                             "`rancher up --file A --file B` merges them")
    parser.add_argument("-r", "--rancher-file", action="append", default=[], metavar="FILE",
                        help="a rancher-compose file of that stack, repeatable (default: rancher-compose.yml "
                             "beside the first --file)")
    parser.add_argument("--format", choices=("text", "json", "sarif"), default="text", help="output format")
    parser.add_argument("--fail-on", choices=("error", "warning", "info"), default="error",
                        help="lowest severity that makes the exit status 1 (default: error)")
    parser.add_argument("--access", choices=ACCESS_LEVELS,
                        help="who can reach the stack; overrides `access` in .copier-answers.yml")
    parser.add_argument("--stack", metavar="NAME",
                        help="stack name for the naming rules; default: `stack_name` in .copier-answers.yml, "
                             "else the directory name (as `rancher up`)")
    parser.add_argument("--no-suppress", action="store_true",
                        help="ignore suppression comments and report each one as a finding (for CI)")
    parser.add_argument("--fix", action="store_true",
                        help="apply the safe fixes in place (comments and layout kept), then report what remains")
    parser.add_argument("--diff", action="store_true",
                        help="print the fixes as a unified diff on stdout and write nothing; the exit status is "
                             "that of what would remain")
    parser.add_argument("--unsafe-fixes", action="store_true",
                        help="with --fix or --diff, also apply the unsafe fixes (which may stop an image from "
                             "starting: dropping every capability, read-only mounts, a run-as user)")
    parser.add_argument("--list-rules", action="store_true", help="list the rules and exit")
    parser.add_argument("--explain", metavar="ID", help="show one rule's help and exit")
    parser.add_argument("--version", action="version", version=f"spin-audit {__version__}")
    return parser


def _fail(message: str) -> int:
    sys.stderr.write(f"spin-audit: error: {message}\n")
    return EXIT_INPUT


def _input_failure(error: InputError, fmt: str) -> int:
    """Exit 2: the reason on stderr, and for json/sarif a document that holds it as a finding."""
    rule = INPUT_TEMPLATE if isinstance(error, TemplateError) else INPUT_ERROR
    finding = Finding(rule, Location(error.path, error.line or 1, error.column or 1), error.reason, rule.hint)
    if fmt == "json":
        sys.stdout.write(render_json([finding]))
    elif fmt == "sarif":
        sys.stdout.write(render_sarif([finding], all_rules(), failure=str(error)))
    return _fail(str(error))


def _audit(target: Target, args: argparse.Namespace) -> tuple[object, list[Finding]]:
    """Load the target and audit it: (the stack or bundle, its findings)."""
    if target.kind == KUBE:
        from spin_audit.kube import load  # only for Kubernetes input

        bundle = load(target.kube_paths, args.access, target.stdin)
        return bundle, audit_kube(bundle, allow_suppressions=not args.no_suppress)
    stack = load_stack(target, args.access, args.stack)
    return stack, audit(stack, allow_suppressions=not args.no_suppress)


def run(args: argparse.Namespace) -> int:
    if args.list_rules:
        rules = all_rules()
        sys.stdout.write(render_sarif([], rules) if args.format == "sarif" else render_rule_list(rules, args.format))
        return EXIT_OK
    if args.explain:
        found = get_rule(args.explain)
        if found is None:
            return _fail(f"unknown rule {args.explain!r} (see --list-rules)")
        sys.stdout.write(render_explain(found))
        return EXIT_OK
    if args.unsafe_fixes and not (args.fix or args.diff):
        return _fail("--unsafe-fixes applies only with --fix or --diff")
    paths = args.paths or ([] if args.file or args.rancher_file else ["."])
    findings: list[Finding] = []
    fixing = args.fix or args.diff
    offered: dict = {}
    fixed = 0
    try:
        targets = find_targets(paths, args.file, args.rancher_file)
        for target in targets:
            def again(target: Target = target) -> tuple[object, list[Finding]]:
                return _audit(target, args)

            if fixing or args.format == "sarif":
                from spin_audit import fixer  # ruamel.yaml: only when fixes are made or offered

            if fixing:
                outcome = fixer.fix_input(again, args.unsafe_fixes)
                _tell_refused(outcome)
                fixed += len(outcome.fixed)
                found = outcome.remaining
            else:
                _, found = again()
            if args.format == "sarif":
                offered.update(fixer.offered_changes(again))
            findings += found
        if fixing:
            changed = fixer.finish(write=not args.diff)
            if args.diff:
                sys.stdout.write("".join(diff for _, diff in changed))
            _tell_fixed(fixed, len(changed), findings, args)
    except InputError as exc:
        return _input_failure(exc, args.format)
    finally:
        if fixing or args.format == "sarif":
            from spin_audit.loader import PENDING

            PENDING.clear()
    if args.diff:
        pass  # the diff was the output
    elif args.format == "json":
        sys.stdout.write(render_json(findings))
    elif args.format == "sarif":
        sys.stdout.write(render_sarif(findings, all_rules(), changes=offered))  # every rule, Kubernetes ones too
    else:
        sys.stdout.write(render_text(findings, len(targets)))
    threshold = Severity.parse(args.fail_on)
    failing = any(f.severity >= threshold for f in findings if f.suppressed_by is None)
    return EXIT_FINDINGS if failing else EXIT_OK


def _tell_refused(outcome) -> None:
    """On stderr: each fix that was not made, and why (its file stays as it was for it)."""
    for finding, reason in outcome.refused.values():
        where = finding.location
        sys.stderr.write(f"spin-audit: not fixed: {where.path}:{where.line}: {finding.rule.id} ({reason})\n")


def _tell_fixed(fixed: int, files: int, remaining: list[Finding], args: argparse.Namespace) -> None:
    """On stderr, so that stdout stays the report (or the diff): what was fixed, and what more could be."""
    done = "would fix" if args.diff else "fixed"
    line = f"spin-audit: {done} {fixed} finding{'s' * (fixed != 1)} in {files} file{'s' * (files != 1)}"
    unsafe = sum(1 for f in remaining if f.fixable == "unsafe" and f.suppressed_by is None)
    if unsafe and not args.unsafe_fixes:
        line += f"; {unsafe} more with --unsafe-fixes"
    sys.stderr.write(line + "\n")


def main(argv: list[str] | None = None) -> int:
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")
    args = build_parser().parse_args(argv)
    try:
        return run(args)
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:  # never a traceback: a bug still ends with one line (and a document)
        where = (args.paths or args.file or args.rancher_file or ["."])[0]
        return _input_failure(InputError(where, f"internal error: {type(exc).__name__}: {exc} (please report "
                                                "this)"), args.format)
