"""Helpers shared by the tests and the benchmark: the template as copier sees it
(a tagged git repository of the working tree), example answers, Spin's facts."""

import re
import shutil
import subprocess
import textwrap
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.yml"))
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
    return commit_tagged(dest, tag, "template snapshot")


def commit_tagged(dest, tag="v1.0.0", message="v1"):
    """Make `dest` a git repository of one commit, tagged: a template copier can fetch."""
    git(dest, "init", "-q")
    git(dest, "add", "-A")
    git(dest, "commit", "-q", "-m", message)
    git(dest, "tag", tag)
    return dest


def load_example(path):
    return yaml.safe_load(Path(path).read_text())


def minimal_answers(**overrides):
    """The smallest complete answer set; tests override what they exercise. It names the Rancher
    1.6 platform, which most of the older tests judge (a new stack's default is rancher2):
    platform=None leaves the platform to its default."""
    answers = {"platform": "rancher1", "owner": "fred", "staff_owner": "wilma", "run_as_uid": 501, "run_as_gid": 124}
    answers.update(overrides)
    return {key: value for key, value in answers.items() if value is not None}


def write_files(root, files):
    """Write {relative path: text} below root; text is dedented and starts at its first line,
    bytes are written as they are."""
    root.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(textwrap.dedent(content).lstrip("\n"), encoding="utf-8")
    return root


def section(readme, title):
    """The README section `title` (## level), up to the next one; '' when there is none."""
    match = re.search(rf"^{re.escape(title)}\n(.*?)(?=^## |\Z)", readme, re.S | re.M)
    return match.group(1) if match else ""
