"""The hooks in .pre-commit-hooks.yaml, for real: `pre-commit try-repo` from a stack's own repository.

The hook repository is the tests' tagged snapshot of this project's working tree (try-repo
would otherwise miss files that are not committed yet). pre-commit installs the hooks from PyPI.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from stackkit import snapshot_template

pytest.importorskip("pre_commit")

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def _env(home: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "PRE_COMMIT"))}
    env["PRE_COMMIT_HOME"] = str(home)
    return env


def _git_commit_all(repo: Path, env: dict) -> None:
    for args in (["init", "-q"], ["config", "user.email", "test@example.org"], ["config", "user.name", "test"],
                 ["config", "commit.gpgsign", "false"], ["add", "-A"], ["commit", "-q", "-m", "snapshot"]):
        subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    base = tmp_path_factory.mktemp("pre-commit")
    env = _env(base / "cache")
    hook_repo = snapshot_template(base / "hook-repo")
    return hook_repo, env, base


def _stack_repo(base: Path, name: str, env: dict) -> Path:
    repo = base / name
    shutil.copytree(FIXTURES / "myportal", repo)
    return repo


def _try_repo(repo: Path, hook_repo: Path, hook: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pre_commit", "try-repo", str(hook_repo), hook, "--all-files",
                           "--color", "never"], cwd=repo, env=env, capture_output=True, text=True, timeout=900)


def test_spin_audit_hook_passes_a_clean_stack_and_fails_a_bad_one(setup) -> None:
    hook_repo, env, base = setup
    clean = _stack_repo(base, "clean-stack", env)
    (clean / ".copier-answers.yml").write_text("stack_name: myportal\naccess: authenticated\n")
    _git_commit_all(clean, env)
    passed = _try_repo(clean, hook_repo, "spin-audit", env)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "Passed" in passed.stdout

    bad = _stack_repo(base, "bad-stack", env)
    compose = (bad / "docker-compose.yml").read_text().replace('"60040:8080"', "80:8080")
    (bad / "docker-compose.yml").write_text(compose)
    _git_commit_all(bad, env)
    failed = _try_repo(bad, hook_repo, "spin-audit", env)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "SPIN501" in failed.stdout and failed.stdout.count("SPIN501") == 1


def test_hadolint_hook_runs_from_the_same_repository(setup) -> None:
    hook_repo, env, base = setup
    repo = _stack_repo(base, "hadolint-stack", env)
    _git_commit_all(repo, env)
    result = _try_repo(repo, hook_repo, "hadolint", env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "hadolint" in result.stdout and "Passed" in result.stdout


def test_spin_audit_fix_hook_makes_the_safe_fixes_and_stops_the_commit_once(setup) -> None:
    """As the stack's README says: the hook rewrites the files it fixes (pre-commit then fails, for the owner to
    review and add them); run again, nothing is left to fix and it passes."""
    hook_repo, env, base = setup
    repo = _stack_repo(base, "fix-stack", env)
    (repo / ".copier-answers.yml").write_text("stack_name: myportal\naccess: authenticated\n")
    compose = repo / "docker-compose.yml"
    original = compose.read_text()
    compose.write_text(original.replace("image: postgres:16.4-alpine", "image: postgres:16-alpine  # moves"))
    _git_commit_all(repo, env)
    first = _try_repo(repo, hook_repo, "spin-audit-fix", env)
    assert first.returncode == 1 and "files were modified by this hook" in first.stdout, first.stdout + first.stderr
    fixed = compose.read_text()
    assert "image: postgres:16-alpine  # moves\n" in fixed
    assert yaml.safe_load(fixed)["services"]["db"]["labels"] == {"io.rancher.container.pull_image": "always"}
    _git_commit_all(repo, env)
    second = _try_repo(repo, hook_repo, "spin-audit-fix", env)
    assert second.returncode == 0 and compose.read_text() == fixed, second.stdout + second.stderr
