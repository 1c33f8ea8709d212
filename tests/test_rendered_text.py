"""What a person reads in any rendered file, on both platforms and for a stack moving from Rancher 1.6:
Rancher named by the versions Spin ran (1.6, 2), no stray whitespace, and the lines that say where the
stack came from and what its checks and secrets need."""

import re
from pathlib import Path

import pytest

from stackkit import EXAMPLES, ROOT, load_example, minimal_answers

MOVED = {**load_example(ROOT / "examples" / "portal.yml"), "platform": "rancher2",
         "services": ["web", "app", "db", "kv", "util"], "kv_persist": True}


@pytest.fixture(scope="module")
def stacks(rendered_examples, render):
    """The examples, a stack moving from Rancher 1.6 (every section of the move), and a moving stack
    with no database, no secret and no global mount."""
    extra = {"moved-portal": render(MOVED),
             "moved-bare": render(minimal_answers(platform="rancher2", rancher1_environment="sandbox",
                                                  stack_name="lims", services=["app", "kv"], kv_persist=True))}
    return {**rendered_examples, **extra}


def texts(stack: Path):
    for path in sorted(stack.rglob("*")):
        if path.is_file() and ".git" not in path.parts:
            yield path.relative_to(stack), path.read_text()


def test_rancher_is_named_by_the_versions_spin_ran(stacks):
    for name, stack in stacks.items():
        for path, text in texts(stack):
            for version in re.findall(r"\bRancher (\d[\d.]*)", text):
                assert version.rstrip(".") in ("1.6", "2"), (name, str(path), version)


def test_no_line_ends_in_whitespace(stacks):
    """The stack's own pre-commit and editors would rewrite such lines on the first commit."""
    for name, stack in stacks.items():
        for path, text in texts(stack):
            for number, line in enumerate(text.splitlines(), 1):
                assert line == line.rstrip(), (name, f"{path}:{number}", line)


def test_the_readme_says_which_template_rendered_the_stack(stacks, template_repo):
    for name, stack in stacks.items():
        readme = (stack / "README.md").read_text()
        assert f"Rendered by [spin-template]({template_repo}); `copier update` brings in template fixes." in readme, name


def test_a_rancher1_readme_asks_for_each_secrets_owner_description(render):
    """Spin's rule: a secret's description names its owner (owner:<NERSC user>)."""
    stack = render(minimal_answers(stack_name="lims", services=["app", "db"], secrets={"api_token": ["app"]}))
    secrets = (stack / "README.md").read_text().split("### Secrets", 1)[1].split("\n#", 1)[0]
    assert "description `owner:fred`" in secrets
    assert "secret create app.lims.api_token secrets/api_token" in secrets


@pytest.mark.parametrize("ci, says", [
    ("gitlab", ", and CI (`.gitlab-ci.yml`) on every push."),
    ("github", ", and CI (`.github/workflows/spin.yml`) on every push."),
    ("none", "runs the same checks\nbefore every commit.\n"),
])
@pytest.mark.parametrize("platform", ["rancher1", "rancher2"])
def test_the_readme_says_when_the_checks_run(render, platform, ci, says):
    readme = (render(minimal_answers(platform=platform, services=["app"], ci=ci)) / "README.md").read_text()
    assert "`pre-commit install` runs the same checks\nbefore every commit" in readme
    assert says in readme
