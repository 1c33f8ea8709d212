"""The rendered Makefile prints the right commands (`make -n`): explicit stack,
environment and version tag on every line, secrets read from git-ignored files."""

import shutil
import subprocess

import pytest
import yaml

from stackkit import minimal_answers

pytestmark = pytest.mark.skipif(not shutil.which("make"), reason="make is not installed")


def make_n(stack, *targets, **variables):
    result = subprocess.run(["make", "-n", *targets, *(f"{k}={v}" for k, v in variables.items())],
                            cwd=stack, capture_output=True, text=True)
    return result.returncode, result.stdout + result.stderr


@pytest.fixture(scope="module")
def portal(render):
    return render(minimal_answers(stack_name="myportal", group="genome", environment="prod-cattle", image_tag="v1.2.3",
                                  services=["web", "app", "db"], secrets={"django_key": ["app"]}))


def test_build_and_push_use_the_explicit_tag(portal):
    code, out = make_n(portal, "build", "push")
    assert code == 0, out
    assert "docker build --pull --file web/Dockerfile --tag registry.spin.nersc.gov/genome/nginx-myportal:v1.2.3 ." in out
    assert "docker build --pull --file app/Dockerfile --tag registry.spin.nersc.gov/genome/myportal:v1.2.3 ." in out
    assert "docker push registry.spin.nersc.gov/genome/nginx-myportal:v1.2.3" in out
    assert ":latest" not in out


def test_push_refuses_latest(portal):
    result = subprocess.run(["make", "push", "TAG=latest", "DOCKER=echo"], cwd=portal, capture_output=True, text=True)
    assert result.returncode != 0 and "explicit version" in result.stderr


@pytest.mark.parametrize("target, command", [
    ("render", "rancher --env prod-cattle up --render --stack myportal"),
    ("up", "rancher --env prod-cattle up -d --stack myportal --file docker-compose.yml --rancher-file rancher-compose.yml"),
    ("upgrade", "rancher --env prod-cattle up --upgrade -d --stack myportal"),
    ("confirm", "rancher --env prod-cattle up --upgrade --confirm-upgrade -d --stack myportal"),
    ("rollback", "rancher --env prod-cattle up --upgrade --rollback -d --stack myportal"),
    ("volumes", "rancher --env prod-cattle volume create --driver rancher-nfs db.myportal"),
    ("audit", "pre-commit run --config .pre-commit-config.yaml --files $(git ls-files --cached --others --exclude-standard)"),
])
def test_rancher_targets(portal, target, command):
    code, out = make_n(portal, target)
    assert code == 0 and command in out, out


def test_audit_runs_the_hooks_pinned_in_the_stack(portal):
    """spin-audit and hadolint come from .pre-commit-config.yaml (tests/test_stack_pre_commit.py runs them)."""
    _, out = make_n(portal, "audit")
    assert "spin-audit ." not in out and "hadolint --" not in out
    hooks = [hook["id"] for hook in yaml.safe_load((portal / ".pre-commit-config.yaml").read_text())
             ["repos"][0]["hooks"]]
    assert hooks == ["spin-audit", "hadolint"]


def test_secrets_come_from_ignored_files(portal):
    code, out = make_n(portal, "secrets")
    assert code == 0
    assert "rancher --env prod-cattle secret create app.myportal.django_key secrets/django_key" in out
    assert "rancher --env prod-cattle secret create db.myportal.postgres_password secrets/postgres_password" in out
    assert "/secrets/" in (portal / ".gitignore").read_text()
    subprocess.run(["git", "init", "-q"], cwd=portal, check=True)
    for path in ("secrets/postgres_password", "secrets/django_key"):
        assert subprocess.run(["git", "check-ignore", "-q", path], cwd=portal).returncode == 0, path


def test_secrets_refuses_a_missing_file(portal):
    result = subprocess.run(["make", "secrets", "RANCHER=echo rancher"], cwd=portal, capture_output=True, text=True)
    assert result.returncode != 0 and "missing secrets/django_key" in result.stderr


def test_help_lists_every_target(portal):
    out = subprocess.run(["make", "help"], cwd=portal, capture_output=True, text=True).stdout
    targets = [line.split()[0] for line in out.splitlines()]
    assert targets == ["help", "build", "push", "audit", "check-update", "render", "up", "upgrade", "confirm", "rollback",
                       "secrets", "volumes"]
    assert "$(" not in out, "make help shows what a variable holds, not its name"
    assert "  secrets   Create the Rancher secrets from the files in secrets/\n" in out
    assert all(len(line) <= 80 for line in out.splitlines()), out
    out = subprocess.run(["make", "help", "SECRETS_DIR=/vault/portal"], cwd=portal, capture_output=True, text=True).stdout
    assert "from the files in /vault/portal/" in out


@pytest.mark.parametrize("example", ["portal-k8s", "private-writer-k8s", "static-site", "database-only"])
def test_help_of_every_platform_fits_and_names_no_variable(rendered_examples, example):
    out = subprocess.run(["make", "help"], cwd=rendered_examples[example], capture_output=True, text=True).stdout
    assert "audit " in out and "$(" not in out, out
    assert all(len(line) <= 80 for line in out.splitlines()), out


def test_stack_without_built_images(render):
    stack = render(minimal_answers(stack_name="dbonly", services=["db"]))
    code, out = make_n(stack, "build", "push", "audit", "secrets")
    assert code == 0 and "docker" not in out and "hadolint" not in out
    assert "secret create db.dbonly.postgres_password secrets/postgres_password" in out


def test_make_tls_without_the_certificate_says_what_is_missing(rendered_examples, tmp_path):
    """Before the CA has answered: a message on stderr naming both files, and nothing stored."""
    stack = tmp_path / "portal"
    shutil.copytree(rendered_examples["portal-k8s"], stack)
    result = subprocess.run(["make", "tls", "KUBECTL=echo kubectl"], cwd=stack, capture_output=True, text=True)
    assert result.returncode != 0 and "kubectl" not in result.stdout
    assert "missing" in result.stderr and "portal.jgi.doe.gov" in result.stderr, result.stderr
    assert "Bad file descriptor" not in result.stderr
