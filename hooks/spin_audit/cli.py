"""Command line: `spin-audit [PATH ...]`.

Exit status: 0 no finding at or above --fail-on, 1 such findings, 2 input that could not
be read or parsed (one line on stderr, nothing on stdout).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import List, NoReturn, Optional

from spin_audit import __version__
from spin_audit.engine import audit, audit_kube
from spin_audit.loader import InputError
from spin_audit.registry import Finding, Severity, all_rules, get_rule
from spin_audit.report import render_explain, render_json, render_rule_list, render_sarif, render_text
from spin_audit.stack import (
    ACCESS_LEVELS,
    COMPOSE_NAMES,
    RANCHER_NAMES,
    find_targets,
    is_dockerfile_name,
    load_stack,
)

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
               "--fail-on, 2 unreadable input.",
    )
    parser.add_argument("paths", nargs="*", metavar="PATH",
                        help="stack directory, or a file in it (docker-compose.yml, rancher-compose.yml, "
                             "a Dockerfile, .copier-answers.yml); or Kubernetes manifests: a file, a folder of "
                             "them, a rancher2 stack; default: .")
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
    parser.add_argument("--list-rules", action="store_true", help="list the rules and exit")
    parser.add_argument("--explain", metavar="ID", help="show one rule's help and exit")
    parser.add_argument("--version", action="version", version=f"spin-audit {__version__}")
    return parser


def _fail(message: str) -> int:
    sys.stderr.write(f"spin-audit: error: {message}\n")
    return EXIT_INPUT


def _is_kube_input(path: str) -> bool:
    """Kubernetes manifests, a folder of them or a rancher2 stack, rather than a compose stack. What is
    plainly a compose stack or one of its files is told without importing the Kubernetes package."""
    if os.path.isdir(path) and any(os.path.isfile(os.path.join(path, name)) for name in COMPOSE_NAMES):
        return False
    name = os.path.basename(path)
    if name in COMPOSE_NAMES + RANCHER_NAMES or is_dockerfile_name(name):
        return False
    from spin_audit.kube import is_kube_path

    return is_kube_path(path)


def _load_kube(paths: List[str], access: Optional[str]):
    from spin_audit.kube import load

    return load(paths, access)


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
    paths = args.paths or ["."]
    kube_paths = [path for path in paths if _is_kube_input(path)]
    try:
        compose_paths = [path for path in paths if path not in kube_paths]
        targets = find_targets(compose_paths) if compose_paths else []
        stacks = [load_stack(target, args.access, args.stack) for target in targets]
        bundle = _load_kube(kube_paths, args.access) if kube_paths else None
    except InputError as exc:
        return _fail(str(exc))
    findings: List[Finding] = []
    for stack in stacks:
        findings += audit(stack, allow_suppressions=not args.no_suppress)
    if bundle is not None:
        findings += audit_kube(bundle, allow_suppressions=not args.no_suppress)
        stacks.append(bundle)
    if args.format == "json":
        sys.stdout.write(render_json(findings))
    elif args.format == "sarif":
        sys.stdout.write(render_sarif(findings, all_rules()))  # every rule, Kubernetes ones too
    else:
        sys.stdout.write(render_text(findings, len(stacks)))
    threshold = Severity.parse(args.fail_on)
    failing = any(f.severity >= threshold for f in findings if f.suppressed_by is None)
    return EXIT_FINDINGS if failing else EXIT_OK


def main(argv: Optional[List[str]] = None) -> int:
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")
    args = build_parser().parse_args(argv)
    try:
        return run(args)
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:  # never a traceback: a bug still ends with one line
        return _fail(f"internal error: {type(exc).__name__}: {exc} (please report this)")
