"""Shared fixtures: the template as copier sees it (a tagged git repository) and
a `render` helper that runs copier's own run_copy against it."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.yml"))
FACTS = json.loads((ROOT / "hooks" / "spin_audit" / "spin_facts.json").read_text())
SHARED = ROOT.parent / "shared"


def git(cwd, *args):
    """Run git with a fixed identity, so tests work on a machine without git config."""
    return subprocess.run(
        ["git", "-c", "user.name=spin-template tests", "-c", "user.email=tests@example.invalid",
         "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false", *args],
        cwd=cwd, check=True, capture_output=True, text=True,
    ).stdout


def project_files():
    """The files of the working tree that git would ship (tracked or new, not ignored)."""
    listed = git(ROOT, "ls-files", "--cached", "--others", "--exclude-standard", "-z")
    return [name for name in listed.split("\0") if name and (ROOT / name).is_file()]


def snapshot_template(dest, tag="v1.0.0"):
    """Copy the working tree into a fresh git repository tagged `tag`: what copier
    fetches from `gh:org/spin-template`, including changes not yet committed."""
    for name in project_files():
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
    git(dest, "init", "-q")
    git(dest, "add", "-A")
    git(dest, "commit", "-q", "-m", "template snapshot")
    git(dest, "tag", tag)
    return dest


@pytest.fixture(scope="session")
def template_repo(tmp_path_factory):
    return snapshot_template(tmp_path_factory.mktemp("template"))


def load_example(path):
    return yaml.safe_load(Path(path).read_text())


@pytest.fixture(scope="session")
def render(template_repo, tmp_path_factory):
    """render(answers) -> the rendered stack's directory, through copier.run_copy."""
    from copier import run_copy

    counter = iter(range(10**9))

    def _render(answers, dst=None, **options):
        dst = Path(dst) if dst else tmp_path_factory.mktemp("stack") / f"stack{next(counter)}"
        run_copy(str(template_repo), dst, data=answers, defaults=True, quiet=True,
                 unsafe=False, **options)
        return dst

    return _render


@pytest.fixture(scope="session")
def rendered_examples(render):
    """Every example answers file, rendered once for the whole session."""
    return {path.stem: render(load_example(path)) for path in EXAMPLES}


def minimal_answers(**overrides):
    """The smallest complete answer set; tests override what they exercise."""
    answers = {"owner": "fred", "staff_owner": "wilma", "run_as_uid": 501, "run_as_gid": 124}
    answers.update(overrides)
    return answers
