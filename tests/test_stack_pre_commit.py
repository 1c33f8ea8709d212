"""A rendered stack's own .pre-commit-config.yaml works as committed: it pins the
template repository at the rendered tag and runs spin-audit and hadolint."""

import os
import subprocess
import sys

import pytest
import yaml

from stackkit import ROOT, git, load_example

pytest.importorskip("pre_commit")


def test_rendered_stack_passes_its_own_hooks(render, tmp_path):
    stack = render(load_example(ROOT / "examples" / "portal.yml"), dst=tmp_path / "portal")
    config = yaml.safe_load((stack / ".pre-commit-config.yaml").read_text())
    assert config["repos"][0]["rev"] == "v1.0.0"
    git(stack, "init", "-q")
    git(stack, "add", "-A")
    git(stack, "commit", "-q", "-m", "stack")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "PRE_COMMIT"))}
    env["PRE_COMMIT_HOME"] = str(tmp_path / "pre-commit-home")

    def run_hooks():
        return subprocess.run([sys.executable, "-m", "pre_commit", "run", "--all-files", "--color", "never"],
                              cwd=stack, env=env, capture_output=True, text=True, timeout=900)

    result = run_hooks()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "spin-audit" in result.stdout and "hadolint" in result.stdout

    compose = (stack / "docker-compose.yml").read_text().replace("    cap_drop:\n      - ALL\n", "", 1)
    (stack / "docker-compose.yml").write_text(compose)
    result = run_hooks()
    assert result.returncode == 1 and "SPIN201" in result.stdout, result.stdout
