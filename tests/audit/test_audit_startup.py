"""What auditing one compose stack imports: its own kind's rules and nothing heavy it does not
need (start-up time is measured by bench/bench.py; this checks the structure that keeps it low)."""

from __future__ import annotations

import json
import subprocess
import sys

from spin_audit import registry

COMPOSE = "version: '2'\nservices:\n  web:\n    image: nginx:1.27\n    cap_drop: [ALL]\n"
# Modules that would each add milliseconds to every run without being needed for it.
NOT_AT_START_UP = ("dataclasses", "typing", "importlib.resources", "pathlib", "difflib", "urllib.parse")


def test_a_compose_audit_loads_no_other_kind_of_rules(cli, make_stack, monkeypatch) -> None:
    monkeypatch.setitem(registry.RULE_PACKAGES, "elsewhere", "spin_audit.no_such_rules")
    result = cli("--format", "json", make_stack({"docker-compose.yml": COMPOSE}))
    assert (result.code, json.loads(result.out), result.err) == (0, [], "")


def test_listing_the_rules_loads_every_kind(monkeypatch) -> None:
    monkeypatch.setitem(registry.RULE_PACKAGES, "elsewhere", "spin_audit.no_such_rules")
    try:
        registry.all_rules()
    except ModuleNotFoundError as error:
        assert error.name == "spin_audit.no_such_rules"
    else:
        raise AssertionError("all_rules() did not import the rules of every kind")


def test_start_up_imports_only_what_a_compose_audit_needs(make_stack) -> None:
    stack = make_stack({"docker-compose.yml": COMPOSE, "web/Dockerfile": "FROM nginx:1.27\n"})
    probe = ("import sys\nfrom spin_audit.cli import main\nmain(['--format', 'json', sys.argv[1]])\n"
             "print('\\n'.join(sorted(sys.modules)))\n")
    proc = subprocess.run([sys.executable, "-c", probe, str(stack)], capture_output=True, text=True, timeout=60)
    modules = set(proc.stdout.split("]\n", 1)[1].split())
    assert registry.RULE_PACKAGES[registry.COMPOSE] in modules
    assert not {m for m in modules if m.startswith("spin_audit.kube")}
    assert not set(NOT_AT_START_UP) & modules
