"""The platform over a stack's life: a rancher1 stack rendered by the last release before the
`platform` question updates with no input and no change; `--data platform=rancher2` brings the
Kubernetes tree in and takes the compose files out; a platform change that would drop answers is
refused with nothing written."""

import subprocess

import pytest
import yaml
from copier import run_copy, run_update

from stackkit import ROOT, commit_tagged, git, load_example, minimal_answers, snapshot_template

# The questions this release adds, with the answers an update gives a stack that never had them.
NEW_ANSWERS = {"platform": "rancher1", "backup_schedule": "0 0 9 * * *", "backup_keep_days": 14, "kv_persist": False,
               "db_nersc_access": False, "max_body_mb": 64, "proxy_timeout": 300}
# The last release before `platform` existed (v0.1.0, landed as this commit).
PREVIOUS_RELEASE = "9c7fc3452bc9d1f3764814df467da600b14efa10"


def release_at(commit, dest):
    """The template as it was at `commit`, as a tagged repository copier can fetch."""
    dest.mkdir()
    archive = subprocess.run(["git", "archive", commit], cwd=ROOT, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    return commit_tagged(dest, "v0.1.0", "previous release")


def has_commit(commit):
    return subprocess.run(["git", "cat-file", "-e", commit + "^{commit}"], cwd=ROOT, capture_output=True).returncode == 0


def tree(path):
    """Every file of a stack but its git data, with its text."""
    return {str(p.relative_to(path)): p.read_text() for p in sorted(path.rglob("*"))
            if p.is_file() and ".git" not in p.relative_to(path).parts}


def commit_all(dst, message):
    git(dst, "add", "-A")
    git(dst, "commit", "-q", "-m", message)


@pytest.fixture
def template(tmp_path):
    return snapshot_template(tmp_path / "template", tag="v2.0.0")


def rendered(template, dst, answers):
    run_copy(str(template), dst, data=answers, defaults=True, quiet=True, unsafe=False)
    git(dst, "init", "-q")
    commit_all(dst, "stack")
    return dst


def update(dst, **options):
    run_update(dst, defaults=True, overwrite=True, quiet=True, unsafe=False, **options)


@pytest.mark.skipif(not has_commit(PREVIOUS_RELEASE), reason="the previous release is not in this clone's history")
@pytest.mark.parametrize("example", ["portal", "static-site", "private-writer"])
def test_a_stack_of_the_previous_release_updates_unchanged(tmp_path, example):
    previous = release_at(PREVIOUS_RELEASE, tmp_path / "previous")
    dst = rendered(previous, tmp_path / "stack", load_example(ROOT / "examples" / f"{example}.yml"))
    before = tree(dst)
    # The same repository, now at this version of the template.
    for path in previous.iterdir():
        if path.name != ".git":
            subprocess.run(["rm", "-rf", str(path)], check=True)
    snapshot_template(tmp_path / "current", tag="v2.0.0")
    subprocess.run(["cp", "-a", f"{tmp_path / 'current'}/.", str(previous)], check=True)
    update(dst)
    after = tree(dst)
    answers = yaml.safe_load(after.pop(".copier-answers.yml"))
    before_answers = yaml.safe_load(before.pop(".copier-answers.yml"))
    # The stack lands where a fresh render of this version is. Only what this release changed on
    # purpose moved: the checks (the hooks' pin by commit hash, `make audit` and `make help`, the
    # README's Checks, CI) and the Dockerfiles' account lines (ids the base image already has).
    fresh_dst = tmp_path / "fresh" / "stack"
    run_copy(str(previous), fresh_dst, data=load_example(ROOT / "examples" / f"{example}.yml"), defaults=True,
             quiet=True, unsafe=False)
    fresh = tree(fresh_dst)
    fresh.pop(".copier-answers.yml")
    assert after == fresh
    moved = {name for name in after if after[name] != before.get(name)}
    assert moved <= {".pre-commit-config.yaml", "Makefile", "README.md", ".gitlab-ci.yml", ".github/workflows/spin.yml",
                     "web/Dockerfile", "app/Dockerfile", "api/Dockerfile",
                     "docker-compose.yml",  # the database's secret names, moving tags pulled, the util job
                     "web/nginx.conf",  # the request size and time limits (max_body_mb, proxy_timeout)
                     "app/main.py", "api/main.py",  # its docstring names the health checks of both platforms
                     ".gitignore",  # dumps/, where `make dumps` copies the util job's dumps
                     ".dockerignore",  # check-update.sh stays out of the images
                     "check-update.sh"}  # new: `make check-update` and the scheduled CI job run it
    assert set(after) == set(before) | {"check-update.sh"}
    assert answers.pop("_commit") == "v2.0.0"
    before_answers.pop("_commit")
    for key, value in NEW_ANSWERS.items():  # this release's questions, with their defaults
        assert answers.pop(key, value) == value, key
    assert answers == before_answers


def test_platform_rancher2_by_update_brings_the_kubernetes_tree(template, tmp_path):
    answers = minimal_answers(stack_name="portal", fqdn="portal.nersc.gov", environment="prod-cattle",
                              services=["web", "app", "db"])
    dst = rendered(template, tmp_path / "stack", answers)
    update(dst, data={"platform": "rancher2"})
    assert not (dst / "docker-compose.yml").exists() and not (dst / "rancher-compose.yml").exists()
    for path in ("k8s/base/web.yaml", "k8s/base/db.yaml", "k8s/production/ingress.yaml"):
        assert (dst / path).is_file(), path
    stored = yaml.safe_load((dst / ".copier-answers.yml").read_text())
    assert stored["platform"] == "rancher2" and stored["namespace"] == "portal"
    assert stored["cluster"] == "production", "the cluster follows the Rancher 1.6 environment"
    assert stored["rancher1_environment"] == "prod-cattle", "the README's Moving from Rancher 1.6 names it"
    assert "environment" not in stored and "web_exposure" not in stored
    assert "CLUSTER := production" in (dst / "Makefile").read_text()
    assert "registry.nersc.gov/fred/portal:v0.1.0" in (dst / "k8s" / "base" / "app.yaml").read_text()


def test_a_platform_change_that_would_drop_the_host_port_is_refused(template, tmp_path):
    dst = rendered(template, tmp_path / "stack", minimal_answers(stack_name="pages", services=["web"]))
    before = tree(dst)
    with pytest.raises(ValueError, match="question 'platform'.*web_port .* dropped"):
        update(dst, data={"platform": "rancher2"})
    assert tree(dst) == before
    update(dst, data={"platform": "rancher2", "web_exposure": "reverse-proxy"})
    assert (dst / "k8s" / "development" / "ingress.yaml").is_file()


def test_a_move_back_to_rancher1_that_would_drop_the_namespace_is_refused(template, tmp_path):
    dst = rendered(template, tmp_path / "stack", minimal_answers(platform="rancher2", stack_name="lims",
                                                                 namespace="lims-dev", services=["app"]))
    before = tree(dst)
    with pytest.raises(ValueError, match="question 'platform'.*namespace lims-dev would be dropped"):
        update(dst, data={"platform": "rancher1"})
    assert tree(dst) == before


@pytest.mark.parametrize("answers, question", [
    (minimal_answers(platform="rancher2", namespace="Lims"), "namespace"),
    (minimal_answers(platform="rancher2", namespace="-lims"), "namespace"),
    (minimal_answers(platform="rancher2", namespace="x" * 64), "namespace"),
    (minimal_answers(platform="rancher2", cluster="staging"), "cluster"),
    (minimal_answers(platform="rancher3"), "platform"),
    (minimal_answers(platform="rancher2", web_exposure="port", web_port=60010, services=["web"]), "platform"),
    (minimal_answers(platform="rancher1", cluster="production"), "platform"),
    (minimal_answers(platform="rancher2", services=["app"], secrets={"key_": ["app"]}), "secrets"),
    (minimal_answers(platform="rancher2", services=["app"], secrets={"a_b": ["app"], "a-b": ["app"]}), "secrets"),
])
def test_bad_platform_answers_name_the_question_and_write_nothing(template, tmp_path, answers, question):
    dst = tmp_path / "stack"
    with pytest.raises(ValueError, match=rf"'{question}'"):
        run_copy(str(template), dst, data=answers, defaults=True, quiet=True, unsafe=False)
    assert not dst.exists()


@pytest.mark.skipif(not has_commit(PREVIOUS_RELEASE), reason="the previous release is not in this clone's history")
def test_the_update_message_names_each_database_secret_to_create(tmp_path, capsys):
    previous = release_at(PREVIOUS_RELEASE, tmp_path / "previous")
    answers = minimal_answers(stack_name="myportal", services=["web", "app", "db", "util"], db_engine="mysql",
                              secrets={"django_key": ["app"]})
    dst = rendered(previous, tmp_path / "stack", answers)
    old = yaml.safe_load((dst / "docker-compose.yml").read_text())["secrets"]
    for path in previous.iterdir():
        if path.name != ".git":
            subprocess.run(["rm", "-rf", str(path)], check=True)
    snapshot_template(tmp_path / "current", tag="v2.0.0")
    subprocess.run(["cp", "-a", f"{tmp_path / 'current'}/.", str(previous)], check=True)
    capsys.readouterr()
    run_update(dst, defaults=True, overwrite=True, quiet=False, unsafe=False)
    message = capsys.readouterr().err
    new = yaml.safe_load((dst / "docker-compose.yml").read_text())["secrets"]
    created = sorted(set(new) - set(old))
    assert created == ["db.myportal.mysql_password", "db.myportal.mysql_root_password"]
    lines = message.splitlines()
    # Each renamed secret: "# was OLD", "rancher --env ENV secret create \\", then "NAME secrets/FILE".
    listed = [lines[row + 2].split()[0] for row, line in enumerate(lines) if line.strip().startswith("# was ")
              and lines[row + 1].strip().startswith("rancher --env") and lines[row + 1].endswith("\\")]
    assert listed == created, message
    assert ("  # was myportal.mysql_password\n  rancher --env dev-cattle secret create \\\n"
            "      db.myportal.mysql_password secrets/mysql_password\n") in message
    assert "app.myportal.django_key" in new and "app.myportal.django_key" in old  # the user's own: unchanged


def test_a_new_stack_gets_kubernetes_unless_it_asks_for_rancher1(template, tmp_path):
    """No platform answer on `copier copy` (and the other answers given with --data): rancher2."""
    dst = tmp_path / "new"
    run_copy(str(template), dst, data=minimal_answers(platform=None, services=["web", "app"]), defaults=True, quiet=True,
             unsafe=False)
    assert yaml.safe_load((dst / ".copier-answers.yml").read_text())["platform"] == "rancher2"
    assert (dst / "k8s" / "base" / "kustomization.yaml").is_file() and not (dst / "docker-compose.yml").exists()


@pytest.mark.parametrize("recorded", ["rancher1", None])
def test_a_rancher1_stack_stays_rancher1_through_an_update_with_no_input(template, tmp_path, recorded):
    """A stack that answered rancher1, or whose answers file has no platform (rendered before the
    question existed), is still a Rancher 1.6 stack after `copier update --defaults`."""
    dst = rendered(template, tmp_path / "stack", minimal_answers(platform="rancher1", services=["web", "app"]))
    if recorded is None:
        answers_file = dst / ".copier-answers.yml"
        answers_file.write_text("".join(line for line in answers_file.read_text().splitlines(keepends=True)
                                        if not line.startswith("platform:")))
        commit_all(dst, "an answers file from before the platform question")
    update(dst)
    assert yaml.safe_load((dst / ".copier-answers.yml").read_text())["platform"] == "rancher1"
    assert (dst / "docker-compose.yml").is_file() and not (dst / "k8s").exists()
