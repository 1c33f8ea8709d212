"""The spin-audit hook of .pre-commit-hooks.yaml on a rancher2 stack, for real (`pre-commit try-repo`):
it sees the Kubernetes manifests under k8s/ and the stack's answers, passes what the template renders,
and stops a commit that breaks one of Spin's Rancher 2 rules."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from stackkit import EXAMPLES, load_example, snapshot_template

pytest.importorskip("pre_commit")

RANCHER2 = next(path.stem for path in EXAMPLES if load_example(path).get("platform") == "rancher2")


def _git(repo: Path, env: dict, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)


def test_hook_judges_a_rancher2_stack(rendered_examples, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "PRE_COMMIT"))}
    env["PRE_COMMIT_HOME"] = str(tmp_path / "cache")
    hook_repo = snapshot_template(tmp_path / "hook-repo")
    repo = tmp_path / "stack"
    shutil.copytree(rendered_examples[RANCHER2], repo)
    _git(repo, env, "init", "-q")
    for key, value in (("user.email", "test@example.org"), ("user.name", "test"), ("commit.gpgsign", "false")):
        _git(repo, env, "config", key, value)
    _git(repo, env, "add", "-A")
    _git(repo, env, "commit", "-q", "-m", "rendered")

    def try_repo() -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "pre_commit", "try-repo", str(hook_repo), "spin-audit",
                               "--all-files", "--color", "never", "--verbose"], cwd=repo, env=env,
                              capture_output=True, text=True, timeout=900)

    passed = try_repo()
    assert passed.returncode == 0, passed.stdout + passed.stderr
    # the manifests are one audit; each Dockerfile of the stack is judged on its own
    assert re.search(r"spin-audit: no findings in \d+ stacks?\n", passed.stdout), passed.stdout

    web = repo / "k8s" / "base" / "web.yaml"
    web.write_text(re.sub(r"^( *)drop:", r"\1add: [SYS_ADMIN]\n\1drop:", web.read_text(), count=1, flags=re.M))
    _git(repo, env, "commit", "-q", "-am", "broken")
    failed = try_repo()
    assert failed.returncode == 1 and "SPINK202 [error]" in failed.stdout, failed.stdout + failed.stderr
