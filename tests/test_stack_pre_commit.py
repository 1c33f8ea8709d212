"""A rendered stack checks itself: its .pre-commit-config.yaml pins the template
repository at the commit it was rendered from and runs spin-audit and hadolint;
`make audit` runs those hooks on a machine where only pre-commit is installed; the
stack's CI runs them on a runner when the template came from a published URL, and
says what to do when it came from a local path; and the pin never makes the first
`copier update` conflict."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from copier import run_copy, run_update

from stackkit import ROOT, git, load_example, minimal_answers, snapshot_template

pytest.importorskip("pre_commit")

PRE_COMMIT = Path(sys.executable).parent / "pre-commit"


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory):
    """One cache of hook environments for the module, as a person's ~/.cache/pre-commit."""
    return tmp_path_factory.mktemp("pre-commit-home")


def clean_env(pre_commit_home, **extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "PRE_COMMIT"))}
    env.update(PRE_COMMIT_HOME=str(pre_commit_home), **extra)
    return env


def commit_all(path, message="stack"):
    git(path, "init", "-q")
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", message)


def run_hooks(stack, env):
    return subprocess.run([sys.executable, "-m", "pre_commit", "run", "--all-files", "--color", "never"],
                          cwd=stack, env=env, capture_output=True, text=True, timeout=900)


def test_rendered_stack_passes_its_own_hooks(render, template_repo, pre_commit_home, tmp_path):
    stack = render(load_example(ROOT / "examples" / "portal.yml"), dst=tmp_path / "portal")
    config = yaml.safe_load((stack / ".pre-commit-config.yaml").read_text())
    assert config["repos"][0]["rev"] == git(template_repo, "rev-parse", "v1.0.0^{commit}").strip()
    commit_all(stack)
    env = clean_env(pre_commit_home)

    result = run_hooks(stack, env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "spin-audit" in result.stdout and "hadolint" in result.stdout

    compose = (stack / "docker-compose.yml").read_text().replace("    cap_drop:\n      - ALL\n", "", 1)
    (stack / "docker-compose.yml").write_text(compose)
    result = run_hooks(stack, env)
    assert result.returncode == 1 and "SPIN201" in result.stdout, result.stdout


@pytest.fixture
def only_pre_commit(tmp_path):
    """A PATH with pre-commit and the system's tools (git, make, python3), and neither
    spin-audit nor hadolint: what a person has after `pip install pre-commit`."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "pre-commit").symlink_to(PRE_COMMIT)
    path = f"{bin_dir}:/usr/bin:/bin"
    assert shutil.which("make", path=path) and shutil.which("git", path=path)
    assert not shutil.which("spin-audit", path=path) and not shutil.which("hadolint", path=path)
    return path


def make(stack, target, env):
    return subprocess.run(["make", target], cwd=stack, env=env, capture_output=True, text=True, timeout=900)


@pytest.mark.skipif(not shutil.which("make"), reason="make is not installed")
def test_make_audit_in_a_fresh_stack_needs_only_pre_commit(render, only_pre_commit, pre_commit_home, tmp_path):
    stack = render(load_example(ROOT / "examples" / "portal.yml"), dst=tmp_path / "fresh")
    assert not (stack / ".git").exists()
    env = clean_env(pre_commit_home, PATH=only_pre_commit)

    result = make(stack, "audit", env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "spin-audit (NERSC Spin stack rules)" in result.stdout and "hadolint (Dockerfile linter)" in result.stdout
    assert (stack / ".git").is_dir(), "the stack became a git repository, for pre-commit"

    # A new Dockerfile nobody added to git yet is checked too, and a finding fails the target.
    (stack / "app" / "Dockerfile.debug").write_text("FROM python:3.13-slim\nRUN cd /tmp && echo debug\n")
    result = make(stack, "audit", env)
    assert result.returncode != 0 and "DL3003" in result.stdout, result.stdout
    (stack / "app" / "Dockerfile.debug").unlink()
    compose = (stack / "docker-compose.yml").read_text().replace("    cap_drop:\n      - ALL\n", "", 1)
    (stack / "docker-compose.yml").write_text(compose)
    result = make(stack, "audit", env)
    assert result.returncode != 0 and "SPIN201" in result.stdout, result.stdout


@pytest.mark.skipif(not shutil.which("make"), reason="make is not installed")
def test_make_audit_without_pre_commit_says_what_to_install(render, tmp_path):
    stack = render(minimal_answers(services=["app"]), dst=tmp_path / "stack")
    result = make(stack, "audit", {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert result.returncode != 0
    assert "make audit runs pre-commit: pip install pre-commit" in result.stderr
    assert "pip install pre-commit" in (stack / "README.md").read_text()


def ci_commands(stack, ci):
    """The shell commands of the stack's audit job, as the CI service runs them."""
    if ci == "gitlab":
        return yaml.safe_load((stack / ".gitlab-ci.yml").read_text())["audit"]["script"]
    steps = yaml.safe_load((stack / ".github" / "workflows" / "spin.yml").read_text())["jobs"]["audit"]["steps"]
    return [step["run"] for step in steps if "run" in step]


def run_ci_job(stack, ci, tmp_path, published):
    """The audit job's pre-commit commands (after its apt-get and pip lines), as a runner
    runs them: in a fresh clone of the stack elsewhere, with an empty pre-commit cache."""
    runner = tmp_path / "runner"
    shutil.rmtree(runner, ignore_errors=True)
    subprocess.run(["git", "clone", "-q", str(stack), str(runner)], check=True)
    commands = [c for c in ci_commands(runner, ci) if c.startswith("pre-commit")]
    assert commands[-1] == "pre-commit run --all-files --show-diff-on-failure" and len(commands) == 2, commands
    shutil.rmtree(tmp_path / "runner-cache", ignore_errors=True)
    return subprocess.run(["bash", "-c", f"PATH={PRE_COMMIT.parent}:$PATH; set -e; " + "; ".join(commands)],
                          cwd=runner, env=clean_env(tmp_path / "runner-cache", **published),
                          capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    """The template published at gh:org/spin-template. There is no network here, so git
    (copier's, pre-commit's, the runner's) is told to fetch https://github.com/org/ from
    a local mirror: the stack itself only ever names the URL."""
    mirror = tmp_path_factory.mktemp("github") / "org" / "spin-template"
    mirror.mkdir(parents=True)
    snapshot_template(mirror)
    (mirror.parent / "spin-template.git").symlink_to(mirror)  # copier asks for .git, pre-commit does not
    return {"GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": f"url.{mirror.parent.as_uri()}/.insteadOf",
            "GIT_CONFIG_VALUE_0": "https://github.com/org/"}


@pytest.mark.parametrize("ci", ["gitlab", "github"])
def test_ci_of_a_stack_from_a_published_url_runs_on_a_runner(published, pre_commit_home, tmp_path, ci):
    stack = tmp_path / "stack"
    env = clean_env(pre_commit_home, **published)
    answers = [f"--data={key}={value}" for key, value in minimal_answers(ci=ci).items()]
    result = subprocess.run([str(PRE_COMMIT.parent / "copier"), "copy", "--defaults", *answers,
                             "gh:org/spin-template", str(stack)], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert yaml.safe_load((stack / ".pre-commit-config.yaml").read_text())["repos"][0]["repo"] == \
        "https://github.com/org/spin-template"
    commit_all(stack)

    result = run_ci_job(stack, ci, tmp_path, published)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "spin-audit" in result.stdout and "hadolint" in result.stdout


@pytest.mark.parametrize("ci", ["gitlab", "github"])
def test_ci_of_a_stack_from_a_local_path_says_what_to_do_and_the_fix_works(published, pre_commit_home, tmp_path, ci):
    """Rendered from a clone on the person's machine: a runner cannot fetch the hooks, and
    the job says what to change. With the two lines the stack's README names changed to
    the published URL, the job passes and `copier update` keeps the URL."""
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "https://github.com/org/spin-template", str(clone)], check=True,
                   env=clean_env(pre_commit_home, **published))
    stack = tmp_path / "stack"
    run_copy(str(clone), stack, data=minimal_answers(ci=ci), defaults=True, quiet=True, unsafe=False)
    assert yaml.safe_load((stack / ".pre-commit-config.yaml").read_text())["repos"][0]["repo"] == str(clone)
    commit_all(stack)

    shutil.rmtree(clone)  # the runner is another machine: the path is not there
    result = run_ci_job(stack, ci, tmp_path, published)
    assert result.returncode != 0
    assert "If its repo: is a local path" in result.stderr and "_src_path in .copier-answers.yml" in result.stderr

    for name, old, new in [(".pre-commit-config.yaml", f'repo: "{clone}"', 'repo: "https://github.com/org/spin-template"'),
                           (".copier-answers.yml", f"_src_path: {clone}", "_src_path: gh:org/spin-template")]:
        text = (stack / name).read_text()
        assert old in text, name
        (stack / name).write_text(text.replace(old, new))
    git(stack, "commit", "-q", "-am", "hooks from the published template")
    result = run_ci_job(stack, ci, tmp_path, published)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "spin-audit" in result.stdout and "hadolint" in result.stdout

    before = (stack / ".pre-commit-config.yaml").read_text()
    subprocess.run([str(PRE_COMMIT.parent / "copier"), "update", "--defaults"], cwd=stack, check=True,
                   env=clean_env(pre_commit_home, **published), capture_output=True)
    assert (stack / ".pre-commit-config.yaml").read_text() == before


def test_first_update_of_a_stack_from_an_untagged_commit_does_not_conflict(tmp_path):
    """Rendered from a commit after v1.0.0; that commit is released as v1.1.0 later, then
    v1.2.0 comes. `git describe` now names the stack's commit v1.1.0, not v1.0.0-1-g...:
    a pin by that name would differ between the stack and copier's re-render of it."""
    template = snapshot_template(tmp_path / "template")
    (template / "CHANGELOG.md").write_text((template / "CHANGELOG.md").read_text() + "\nuntagged work\n")
    git(template, "commit", "-q", "-am", "work after v1.0.0")
    stack = tmp_path / "stack"
    run_copy(str(template), stack, data=minimal_answers(), vcs_ref="HEAD", defaults=True, quiet=True, unsafe=False)
    commit_all(stack)
    git(template, "tag", "v1.1.0")
    (template / "CHANGELOG.md").write_text((template / "CHANGELOG.md").read_text() + "\nv1.2.0\n")
    git(template, "commit", "-q", "-am", "v1.2.0")
    git(template, "tag", "v1.2.0")

    run_update(stack, defaults=True, overwrite=True, quiet=True, unsafe=False)
    config = (stack / ".pre-commit-config.yaml").read_text()
    assert "<<<<<<<" not in config and not list(stack.rglob("*.rej"))
    assert yaml.safe_load(config)["repos"][0]["rev"] == git(template, "rev-parse", "v1.2.0^{commit}").strip()
    assert git(stack, "status", "--porcelain").split() == ["M", ".copier-answers.yml", "M", ".pre-commit-config.yaml"]
