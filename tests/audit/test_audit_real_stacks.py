"""NERSC's public Spin recipes (kept outside the project, in shared/): flagged where a reviewer would be."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REAL_STACKS = Path(__file__).resolve().parents[3] / "shared" / "reference" / "real-stacks"
STACKS = sorted(p for p in REAL_STACKS.glob("*") if (p / "docker-compose.yml").is_file()) if REAL_STACKS.is_dir() else []

pytestmark = pytest.mark.skipif(not STACKS, reason=f"real stacks not available at {REAL_STACKS}")


@pytest.mark.parametrize("stack", STACKS, ids=lambda p: p.name)
@pytest.mark.parametrize("fmt", ["text", "json", "sarif"])
def test_real_stack_audits_without_crashing(cli, stack: Path, fmt: str) -> None:
    result = cli("--format", fmt, stack)
    assert result.code in (0, 1), result.err
    assert result.err == ""
    if fmt != "text":
        json.loads(result.out)


def test_all_real_stacks_together_fail(cli) -> None:
    result = cli("--format", "json", *STACKS)
    assert result.code == 1
    findings = json.loads(result.out)
    by_stack = {}
    for finding in findings:
        by_stack.setdefault(Path(finding["path"]).parent.name, []).append(finding)

    for name in ("httpd-rootless", "httpd-rootless-with-user", "nginx-rootless"):
        hits = [f for f in by_stack[name] if f["rule"] == "SPIN501"]
        assert hits and "80:8080" in hits[0]["message"], name
    untagged = [f for f in by_stack["httpd-rootless"] if f["rule"] == "SPIN402"]
    assert untagged and "'httpd-rootless'" in untagged[0]["message"]
    floating = {f["message"] for f in by_stack["lets-proxy"] if f["rule"] == "SPIN403"}
    assert any(":latest" in m for m in floating) and any("'nginx'" in m for m in floating)
    # placeholders (UserID:GroupID) on services that mount /global are findings, not crashes
    for name in ("mysql", "postgres", "mongodb", "redis"):
        assert any(f["rule"] == "SPIN301" for f in by_stack[name]), name


def test_real_stacks_pass_as_file_arguments_like_pre_commit() -> None:
    files = [str(p) for stack in STACKS for p in sorted(stack.iterdir())]
    proc = subprocess.run([sys.executable, "-m", "spin_audit", "--format", "json", *files],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1 and proc.stderr == ""
    keys = [(f["path"], f["line"], f["rule"], f["message"]) for f in json.loads(proc.stdout)]
    assert keys and len(keys) == len(set(keys)), "each stack is audited once"
