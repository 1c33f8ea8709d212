"""What the READMEs (README.md and the stack's template/README.md.jinja) tell a person
to type works as written, and what they list is complete."""

import re
import subprocess
import sys
from pathlib import Path

import yaml

import spin_audit
from stackkit import ROOT, git

READMES = [ROOT / "README.md", ROOT / "template" / "README.md.jinja"]
COPIER = Path(sys.executable).parent / "copier"


def test_the_tests_run_the_working_trees_spin_audit():
    """`pip install .` in the development venv would replace the editable install with a copy."""
    assert Path(spin_audit.__file__).resolve().is_relative_to(ROOT / "hooks"), (
        f"spin_audit comes from {spin_audit.__file__}, not this tree: run .venv/bin/pip install -e '.[test]'")


def test_every_copier_update_that_changes_an_answer_keeps_the_others():
    """Without --defaults, `copier update --data KEY=VALUE` asks every question again."""
    texts = READMES + sorted((ROOT / "includes").glob("*.jinja")) + sorted((ROOT / "template").rglob("*.jinja"))
    for path in texts:
        for command in re.findall(r"copier update[^`\n]*--data[^`\n]*", path.read_text()):
            assert "--defaults" in command, f"{path.name}: {command}"


def test_the_questions_table_lists_every_question():
    questions = [key for key in yaml.safe_load((ROOT / "copier.yml").read_text()) if not key.startswith("_")]
    table = re.search(r"### Questions\n(.*?)\n## ", (ROOT / "README.md").read_text(), re.S).group(1)
    listed = {key for row in table.splitlines() if row.startswith("| `")
              for key in re.findall(r"`([a-z0-9_]+)`", row.split("|")[1])}
    assert set(questions) <= listed, f"not in README.md's table: {sorted(set(questions) - listed)}"


def test_try_it_renders_the_portal_stack_as_written(template_repo, tmp_path):
    """README's "Try it" command, run as written in a fresh clone (copier from the test venv)."""
    line = next(line for line in (ROOT / "README.md").read_text().splitlines() if "copier copy --defaults" in line)
    command = line.split("&& .venv/bin/copier ", 1)[1]
    clone = tmp_path / "spin-template"
    subprocess.run(["git", "clone", "-q", str(template_repo), str(clone)], check=True)
    result = subprocess.run(f"{COPIER} {command}", shell=True, cwd=clone, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    stack = tmp_path / "portal-stack"
    answers = yaml.safe_load((stack / ".copier-answers.yml").read_text())
    assert answers["_src_path"] == str(clone) and answers["stack_name"] == "portal-jgi-doe"
    assert yaml.safe_load((stack / ".pre-commit-config.yaml").read_text())["repos"][0]["rev"] == \
        git(clone, "rev-parse", "HEAD").strip()
