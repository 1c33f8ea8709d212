"""A stack over the years, with copier's own run_copy/run_update on tagged git repositories of
the template: it hears of a newer release (check-update.sh, `make check-update`, the CI job that
runs it on a schedule only), and a Rancher 1.6 stack with its owner's edits moves to Kubernetes
by `copier update --defaults --data platform=rancher2`, keeps the edits that do not collide with
the move, passes every check a fresh rancher2 stack passes, and its README says, with this
stack's commands, what is left to do by hand ("Moving from Rancher 1.6")."""

import os
import re
import shlex
import shutil
import subprocess
import tomllib

import pytest
import yaml
from copier import run_copy, run_update
from hypothesis import given, settings
from hypothesis import strategies as st

from stack_checks import BIN, assert_stack_ok, kustomize, tool
from stackkit import ROOT, git, load_example, minimal_answers, section, snapshot_template
from test_properties import valid_answers

needs_make = pytest.mark.skipif(not shutil.which("make"), reason="make is not installed")
needs_kubectl = pytest.mark.skipif(not tool("kubectl"), reason="kubectl (with kustomize) is not installed")
CONFLICT = re.compile(r"^<<<<<<< before updating\n(.*?)^=======\n(.*?)^>>>>>>> after updating\n", re.S | re.M)
MOVING = "## Moving from Rancher 1.6"


def commit_all(dst, message):
    git(dst, "add", "-A")
    git(dst, "commit", "-q", "-m", message)


def rendered(template, dst, answers):
    """A stack of `template`, committed in a git repository of its own."""
    run_copy(str(template), dst, data=answers, defaults=True, quiet=True, unsafe=False)
    git(dst, "init", "-q")
    commit_all(dst, "stack")
    return dst


def update(dst, **options):
    run_update(dst, defaults=True, overwrite=True, quiet=True, unsafe=False, **options)


def answers_of(stack):
    return yaml.safe_load((stack / ".copier-answers.yml").read_text())


# ---------------------------------------------------------------------------------------------
# Told of template fixes

def with_copier_on_path():
    """The environment of a person who installed copier (the test venv's) and nothing else."""
    return dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}")


def check_update(stack, *command):
    result = subprocess.run(list(command) or ["sh", "check-update.sh"], cwd=stack, env=with_copier_on_path(),
                            capture_output=True, text=True, timeout=300)
    return result.returncode, result.stdout + result.stderr


def release(template, tag):
    """A new release of the template: a commit that changes a rendered file, tagged."""
    readme = template / "template" / "README.md.jinja"
    readme.write_text(readme.read_text() + "\n")
    commit_all(template, f"release {tag}")
    git(template, "tag", tag)


@pytest.fixture(scope="module", params=["rancher2", "rancher1"])
def released(request, tmp_path_factory):
    """The template at v1.0.0 and a stack of either platform rendered from it, committed."""
    base = tmp_path_factory.mktemp(f"released-{request.param}")
    template = snapshot_template(base / "template", tag="v1.0.0")
    stack = rendered(template, base / "stack", minimal_answers(platform=request.param, stack_name="tracker",
                                                               services=["web", "app"]))
    return template, stack


def copy_of(released, tmp_path, src_path=None):
    """A copy of the released stack, its `_src_path` set to `src_path` (else a clone of the
    template, which the test may give new releases) and committed; (template, stack)."""
    template, stack = released
    if src_path is None:
        src_path = tmp_path / "template"
        git(tmp_path, "clone", "-q", str(template), str(src_path))
    copy = tmp_path / "stack"
    shutil.copytree(stack, copy, symlinks=True)
    answers = (copy / ".copier-answers.yml").read_text()
    (copy / ".copier-answers.yml").write_text(re.sub(r"(?m)^_src_path: .*$", f"_src_path: {src_path}", answers))
    commit_all(copy, "the template's address")
    return src_path, copy


def test_check_update_reports_none_when_the_stack_is_on_the_newest_release(released):
    status, out = check_update(released[1])
    assert status == 0, out
    assert "This stack is on spin-template 1.0.0, the newest release." in out


def test_check_update_reports_a_newer_release_with_the_command_that_applies_it(released, tmp_path):
    template, stack = copy_of(released, tmp_path)
    release(template, "v1.1.0")
    status, out = check_update(stack)
    assert status == 1, out
    assert "spin-template 1.1.0 is out; this stack is on 1.0.0." in out
    assert "\n  copier update --defaults\n" in out and "make audit" in out
    # The command it names, run as printed, brings the stack to that release; then it is current.
    command = next(line.strip() for line in out.splitlines() if line.startswith("  copier "))
    applied = subprocess.run([str(BIN / "copier"), *shlex.split(command)[1:]], cwd=stack, env=with_copier_on_path(),
                             capture_output=True, text=True, timeout=300)
    assert applied.returncode == 0, applied.stderr
    assert answers_of(stack)["_commit"] == "v1.1.0"
    commit_all(stack, "spin-template v1.1.0")
    assert check_update(stack)[0] == 0


@needs_make
def test_make_check_update_fails_when_a_newer_release_exists(released, tmp_path):
    template, stack = copy_of(released, tmp_path)
    status, out = check_update(stack, "make", "check-update")
    assert status == 0 and "the newest release" in out, out
    release(template, "v2.0.0")
    status, out = check_update(stack, "make", "check-update")
    assert status != 0 and "spin-template 2.0.0 is out" in out, out


def test_check_update_says_why_when_the_template_path_is_gone(released, tmp_path):
    gone = tmp_path / "spin-template"
    _, stack = copy_of(released, tmp_path, src_path=gone)
    status, out = check_update(stack)
    assert status == 2, out
    assert out.startswith("Cannot tell whether spin-template has a newer release: ")
    assert f"_src_path in .copier-answers.yml is {gone}, a path on the machine that" in out
    assert "README.md, Checks" in out


def test_check_update_says_why_when_the_template_url_cannot_be_reached(released, tmp_path):
    _, stack = copy_of(released, tmp_path, src_path="https://127.0.0.1:9/spin-template.git")
    status, out = check_update(stack)
    assert status == 2, out
    first = out.splitlines()[0]
    assert first.startswith("Cannot tell whether spin-template has a newer release: ") and "127.0.0.1" in first, out
    assert "Traceback" not in out and "_src_path in" not in out


def test_check_update_without_copier_says_how_to_install_it(released):
    result = subprocess.run(["sh", "check-update.sh"], cwd=released[1], env=dict(os.environ, PATH="/usr/bin:/bin"),
                            capture_output=True, text=True)
    assert result.returncode == 127 and f"pip install {pinned_copier()}" in result.stderr


def pinned_copier():
    test_extra = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["test"]
    return next(requirement for requirement in test_extra if requirement.startswith("copier=="))


# The CI files of several answer sets, both platforms, both CI systems.
CI_ANSWERS = {
    "k8s-gitlab": minimal_answers(platform="rancher2", stack_name="tracker", ci="gitlab"),
    "k8s-github": minimal_answers(platform="rancher2", stack_name="tracker", ci="github",
                                  services=["web", "app", "db", "util"]),
    "k8s-github-nothing-built": minimal_answers(platform="rancher2", stack_name="dbonly", ci="github",
                                                services=["db"]),
    "r1-gitlab-nothing-built": minimal_answers(platform="rancher1", stack_name="dbonly", ci="gitlab",
                                               services=["db", "util"]),
    "r1-github": minimal_answers(platform="rancher1", stack_name="portal", ci="github", services=["web", "app"]),
    "r1-gitlab": load_example(ROOT / "examples" / "portal.yml"),
}
CI_FILES = {"gitlab": (".gitlab-ci.yml", "vendor.gitlab-ci"), "github": (".github/workflows/spin.yml",
                                                                           "vendor.github-workflows")}


@pytest.fixture(scope="module")
def ci_stacks(render):
    return {name: render(answers) for name, answers in CI_ANSWERS.items()}


def ci_file(stack):
    path, schema = CI_FILES[answers_of(stack)["ci"]]
    return stack / path, schema


def check_jsonschema(schema, path):
    return subprocess.run([tool("check-jsonschema"), "--builtin-schema", schema, str(path)],
                          capture_output=True, text=True)


@pytest.mark.parametrize("name", sorted(CI_ANSWERS))
def test_the_ci_file_is_valid_for_its_ci_system(ci_stacks, name):
    path, schema = ci_file(ci_stacks[name])
    result = check_jsonschema(schema, path)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("ci", sorted(CI_FILES))
def test_the_ci_schema_check_refuses_a_broken_job(ci_stacks, ci, tmp_path):
    """The schemas are not vacuous: a job with a mistyped keyword is refused."""
    stack = next(stack for stack in ci_stacks.values() if answers_of(stack)["ci"] == ci)
    path, schema = ci_file(stack)
    broken = tmp_path / path.name
    broken.write_text(path.read_text().replace("allow_failure:", "allow_failures:").replace("runs-on:", "run-on:"))
    assert check_jsonschema(schema, broken).returncode != 0


@pytest.mark.parametrize("name", [name for name in sorted(CI_ANSWERS) if CI_ANSWERS[name]["ci"] == "gitlab"])
def test_gitlab_runs_check_update_in_scheduled_and_manual_pipelines_only(ci_stacks, name):
    jobs = yaml.safe_load((ci_stacks[name] / ".gitlab-ci.yml").read_text())
    job = jobs["check-update"]
    assert job["rules"] == [{"if": '$CI_PIPELINE_SOURCE == "schedule" || $CI_PIPELINE_SOURCE == "web"'}]
    assert job["allow_failure"] == {"exit_codes": [2]}, "unreachable is a warning, never a failed pipeline"
    assert job["script"][-1] == "sh check-update.sh" and f"pip install --quiet {pinned_copier()}" in job["script"]
    others = [key for key, value in jobs.items() if key != "check-update" and isinstance(value, dict)
              and "check-update" in " ".join(map(str, value.get("script", [])))]
    assert others == [], "no other job, and so no push pipeline, runs it"


@pytest.mark.parametrize("name", [name for name in sorted(CI_ANSWERS) if CI_ANSWERS[name]["ci"] == "github"])
def test_github_runs_check_update_on_its_schedule_and_by_hand_only(ci_stacks, name):
    workflow = yaml.safe_load((ci_stacks[name] / ".github" / "workflows" / "spin.yml").read_text())
    triggers = workflow[True]  # PyYAML (YAML 1.1) reads the key `on` as true
    assert "workflow_dispatch" in triggers and re.fullmatch(r"[0-5]?[0-9] 6 \* \* 1", triggers["schedule"][0]["cron"])
    job = workflow["jobs"]["check-update"]
    assert job["if"] == "github.event_name == 'schedule' || github.event_name == 'workflow_dispatch'"
    assert {"run": f"pip install {pinned_copier()}"} in job["steps"]
    readme = (ci_stacks[name] / "README.md").read_text()
    assert f'cron: "{triggers["schedule"][0]["cron"]}"' in readme, "the README names the schedule"


@pytest.mark.parametrize("status, shown, exit_status", [(0, None, 0), (1, None, 1),
                                                        (2, "::warning title=check-update::no way 100%25", 0)])
def test_the_github_step_turns_unreachable_into_a_warning(ci_stacks, tmp_path, status, shown, exit_status):
    """The step's script, run by bash as GitHub runs a `run:` step, with check-update.sh standing in."""
    workflow = yaml.safe_load((ci_stacks["k8s-github"] / ".github" / "workflows" / "spin.yml").read_text())
    script = next(step["run"] for step in workflow["jobs"]["check-update"]["steps"]
                  if "check-update.sh" in step.get("run", ""))
    (tmp_path / "check-update.sh").write_text(f"echo 'no way 100%'\necho 'second line'\nexit {status}\n")
    result = subprocess.run(["bash", "--noprofile", "--norc", "-e", "-c", script], cwd=tmp_path,
                            capture_output=True, text=True)
    assert result.returncode == exit_status, result.stdout + result.stderr
    assert "no way 100%\nsecond line\n" in result.stdout, "the log shows the whole report"
    assert (shown in result.stdout.splitlines()) if shown else "::warning" not in result.stdout


@pytest.mark.parametrize("name", sorted(CI_ANSWERS))
def test_the_readme_says_how_the_schedule_runs(ci_stacks, name):
    stack = ci_stacks[name]
    updates = section((stack / "README.md").read_text(), "## Template updates")
    assert "`make check-update`" in updates and f"pip install {pinned_copier()}" in updates
    words = " ".join(updates.split())
    if answers_of(stack)["ci"] == "gitlab":
        assert "Build > Pipeline schedules > New schedule" in words
    else:
        assert "Actions > spin > Run workflow" in words


@needs_make
@pytest.mark.parametrize("name", sorted(CI_ANSWERS))
def test_make_help_lists_check_update_within_80_columns(ci_stacks, name):
    out = subprocess.run(["make", "help"], cwd=ci_stacks[name], capture_output=True, text=True).stdout
    line = next(line for line in out.splitlines() if line.split()[0] == "check-update")
    assert "newer spin-template release" in line and len(line) <= 80


# ---------------------------------------------------------------------------------------------
# Moving from Rancher 1.6

PORTAL = {**load_example(ROOT / "examples" / "portal.yml"), "environment": "prod-cattle",
          "services": ["web", "app", "db", "kv", "util"], "kv_persist": True}

# The owner's edits of a committed Rancher 1.6 stack: (file, text, the owner's text).
KEPT_EDITS = [
    ("app/Dockerfile", "WORKDIR /srv/app\n", "WORKDIR /srv/app\nRUN pip install --no-cache-dir flask==3.1.0\n"),
    ("app/Dockerfile", "COPY app/main.py ./\n", "COPY app/ ./\n"),
    ("web/Dockerfile", "FROM nginx:1.28-alpine\n", 'FROM nginx:1.28-alpine\nLABEL org.opencontainers.image.authors="fred"\n'),
    ("app/main.py", 'STACK = os.environ.get("STACK_NAME", "")\n',
     'STACK = os.environ.get("STACK_NAME", "")\nGREETING = "hello from the portal"\n'),
    ("web/nginx.conf", "        location = /healthz {",
     "        location /static/ {\n            alias /srv/static/;\n        }\n\n        location = /healthz {"),
    ("web/html/index.html", "</body>", "<p>Run by the portal team.</p>\n</body>"),
    (".gitignore", "/dumps/\n", "/dumps/\n/media/\n"),
]
CONFLICTING_EDITS = [
    ("README.md", "## Deploy\n", "## Who to call\n\nPage the portal team at x1234.\n\n## Deploy\n"),
    ("Makefile", "DOCKER := docker\n", "DOCKER := podman\n"),
]
REMOVED_EDITS = [
    ("docker-compose.yml", '      PORT: "8000"\n', '      PORT: "8000"\n      DEBUG: "0"\n'),
    ("rancher-compose.yml", "      interval: 5000", "      interval: 7000"),
]
OWNER_TAIL = "\n## Our notes\n\nThe portal team meets on Tuesdays.\n"
OWNER_TARGET = "\nshell: ## Open a shell in the app\n\t$(RANCHER) exec -it $(STACK)/app sh\n"


def edit(stack, path, old, new):
    text = (stack / path).read_text()
    assert old in text, f"{path} no longer holds {old!r}: update this test's edits"
    (stack / path).write_text(text.replace(old, new, 1))


@pytest.fixture(scope="module")
def moved(tmp_path_factory):
    """The portal, rendered for Rancher 1.6 from v1.0.0, edited by its owner, committed, moved by
    `copier update --defaults --data platform=rancher2`; and a fresh rancher2 render to compare."""
    base = tmp_path_factory.mktemp("moving")
    template = snapshot_template(base / "template", tag="v1.0.0")
    stack = rendered(template, base / "portal", PORTAL)
    for path, old, new in KEPT_EDITS + CONFLICTING_EDITS + REMOVED_EDITS:
        edit(stack, path, old, new)
    with (stack / "README.md").open("a") as readme:
        readme.write(OWNER_TAIL)
    with (stack / "Makefile").open("a") as makefile:
        makefile.write(OWNER_TARGET)
    commit_all(stack, "the owner's edits")
    before = {path: (stack / path).read_text() for path in ("docker-compose.yml", "rancher-compose.yml")}
    run_update(stack, data={"platform": "rancher2"}, defaults=True, overwrite=True, quiet=False, unsafe=False)
    fresh = base / "fresh"
    run_copy(str(template), fresh, data={**PORTAL, "platform": "rancher2", "cluster": "production"},
             defaults=True, quiet=True, unsafe=False)
    return {"stack": stack, "fresh": fresh, "template": template, "before": before}


def owner_lines(new):
    return [line for line in new.splitlines() if line.strip()]


def test_the_move_keeps_the_owners_edits_that_do_not_collide(moved):
    stack = moved["stack"]
    for path, _, new in KEPT_EDITS:
        text = (stack / path).read_text()
        assert not CONFLICT.search(text), f"{path} has a conflict"
        assert new in text, f"{path} lost {new!r}"
    assert (stack / "README.md").read_text().endswith(OWNER_TAIL), "a section added at the end stays at the end"


def test_edits_on_lines_the_move_rewrites_are_conflicts_marked_inline(moved):
    """A true conflict is left to git: the owner's side and the template's, between markers."""
    stack = moved["stack"]
    for path, old, new in CONFLICTING_EDITS + [("Makefile", "", OWNER_TARGET)]:
        blocks = CONFLICT.findall((stack / path).read_text())
        assert any(all(line in ours for line in owner_lines(new)) for ours, _ in blocks), (path, new)
    unmerged = {line.split("\t")[1] for line in git(stack, "ls-files", "--unmerged").splitlines()}
    assert unmerged == {"README.md", "Makefile"}, "git lists exactly these as unmerged"


def test_the_move_removes_the_compose_files_edits_and_all(moved):
    stack = moved["stack"]
    for path, _, new in REMOVED_EDITS:
        assert not (stack / path).exists(), path
        # What they had, the owner's edits included, is in git diff until the move is committed.
        assert f"\n-{new.splitlines()[-1]}\n" in git(stack, "diff", "HEAD", "--", path)
        assert moved["before"][path] == git(stack, "show", f"HEAD:{path}")


def test_the_moved_stack_gets_exactly_the_kubernetes_tree_of_a_fresh_one(moved):
    stack, fresh = moved["stack"], moved["fresh"]
    tree = {path.relative_to(stack) for path in (stack / "k8s").rglob("*") if path.is_file()}
    assert tree == {path.relative_to(fresh) for path in (fresh / "k8s").rglob("*") if path.is_file()}
    for path in tree:
        assert (stack / path).read_text() == (fresh / path).read_text(), path
    answers = answers_of(stack)
    assert answers["platform"] == "rancher2" and answers["cluster"] == "production"
    assert answers["rancher1_environment"] == "prod-cattle"
    assert "environment" not in answers and "web_exposure" not in answers


@needs_kubectl
def test_the_moved_stack_passes_every_check_of_a_fresh_rancher2_stack(moved):
    """kubectl kustomize of both overlays, kubernetes-validate (strict), hadolint, spin-audit."""
    assert_stack_ok(moved["stack"])


@needs_make
def test_once_resolved_the_makefile_speaks_kubectl(moved, tmp_path):
    """The owner resolves the Makefile's conflicts by taking the template's side and keeping their target."""
    copy = tmp_path / "stack"
    shutil.copytree(moved["stack"], copy, ignore=shutil.ignore_patterns(".git"))
    text = CONFLICT.sub(lambda match: match.group(2), (copy / "Makefile").read_text())
    (copy / "Makefile").write_text(text + OWNER_TARGET.replace("$(RANCHER) exec -it $(STACK)/app sh",
                                                               "$(KUBECTL) exec -it deploy/app -- sh"))
    out = subprocess.run(["make", "-n", "up", "shell"], cwd=copy, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "kubectl --context production --namespace portal-jgi-doe apply -k k8s/production" in out.stdout
    targets = [line.split()[0] for line in subprocess.run(["make", "help"], cwd=copy, capture_output=True,
                                                          text=True).stdout.splitlines()]
    assert "check-update" in targets and "shell" in targets and "volumes" not in targets


def test_once_resolved_the_readme_is_a_fresh_one_with_the_moving_section_and_the_owners(moved, tmp_path):
    """Taking the template's side of the README's conflict gives what a fresh rancher2 stack with
    rancher1_environment has, plus the owner's own section at the end."""
    readme = CONFLICT.sub(lambda match: match.group(2), (moved["stack"] / "README.md").read_text())
    expected = tmp_path / "expected"
    run_copy(str(moved["template"]), expected, data={**PORTAL, "platform": "rancher2", "cluster": "production",
                                                      "rancher1_environment": "prod-cattle"},
             defaults=True, quiet=True, unsafe=False)
    assert readme == (expected / "README.md").read_text() + OWNER_TAIL


def test_the_readme_of_the_moved_stack_has_its_commands(moved):
    readme = (moved["stack"] / "README.md").read_text()
    moving = section(readme, MOVING)
    for line in [
        "rancher --env prod-cattle exec portal-jgi-doe/app cat /run/secrets/django_secret_key > secrets/django_secret_key",
        "| `app.portal-jgi-doe.django_secret_key` | `app.portal-jgi-doe.django-secret-key` | `secrets/django_secret_key` |",
        "rancher --env prod-cattle stop portal-jgi-doe/app",
        "rancher --env prod-cattle exec --user=70 portal-jgi-doe/db pg_dumpall --username=app > portal-jgi-doe.sql",
        "kubectl --context production --namespace portal-jgi-doe apply -k k8s/production "
        "--selector=app.kubernetes.io/name=db",
        "kubectl --context production --namespace portal-jgi-doe exec -i deploy/db -- psql --username=app "
        "--dbname=postgres --quiet < portal-jgi-doe.sql",
        "rancher --env prod-cattle exec --user=999 portal-jgi-doe/kv base64 /data/dump.rdb > kv-dump.rdb.b64",
        "kubectl --context production --namespace portal-jgi-doe exec deploy/kv -- redis-cli SHUTDOWN NOSAVE",
        "namei -m /global/cfs/cdirs/genome/portal/reference",
        "`lb.reverse-proxy.prod-cattle.stable.spin.nersc.org`",
        "portal.jgi.doe.gov.  CNAME  web.portal-jgi-doe.production.svc.spin.nersc.org.",
        "rancher --env prod-cattle rm portal-jgi-doe",
        "rancher --env prod-cattle volume rm db.portal-jgi-doe",
        "`make tls-csr`",
    ]:
        assert line in moving, line
    assert readme.index(MOVING) < readme.index("## DNS and TLS")


def test_the_move_is_pointed_to_until_the_owner_drops_the_section(tmp_path, capsys):
    """The message of the moving update, and of the next, point to the README's section; it stays
    through updates until the owner answers rancher1_environment empty, and then stays away."""
    template = snapshot_template(tmp_path / "template", tag="v1.0.0")
    stack = rendered(template, tmp_path / "stack", minimal_answers(platform="rancher1", stack_name="lims",
                                                                   environment="sandbox", services=["app", "db"]))
    capsys.readouterr()
    run_update(stack, data={"platform": "rancher2"}, defaults=True, overwrite=True, quiet=False, unsafe=False)
    message = capsys.readouterr().err
    assert "copier removed docker-compose.yml and\nrancher-compose.yml, your edits of them too" in message
    assert 'README.md, "Moving from Rancher 1.6", has the steps left' in message
    assert "retiring the old stack in sandbox." in message
    assert max(map(len, message.splitlines())) <= 80, message
    commit_all(stack, "moved")
    release(template, "v1.1.0")
    run_update(stack, defaults=True, overwrite=True, quiet=False, unsafe=False)
    later = capsys.readouterr().err
    assert '"Moving from Rancher 1.6", has the steps left' in later and "docker-compose.yml" not in later
    assert answers_of(stack)["_commit"] == "v1.1.0" and answers_of(stack)["rancher1_environment"] == "sandbox"
    assert MOVING in (stack / "README.md").read_text()
    commit_all(stack, "v1.1.0")
    update(stack, data={"rancher1_environment": ""})
    readme = (stack / "README.md").read_text()
    assert MOVING not in readme and not CONFLICT.search(readme)
    assert answers_of(stack)["rancher1_environment"] == ""
    commit_all(stack, "moved for good")
    release(template, "v1.2.0")
    run_update(stack, defaults=True, overwrite=True, quiet=False, unsafe=False)
    assert "Moving from Rancher 1.6" not in capsys.readouterr().err
    assert MOVING not in (stack / "README.md").read_text() and answers_of(stack)["rancher1_environment"] == ""


def test_a_new_rancher2_stack_has_no_moving_section(render):
    stack = render(minimal_answers(platform="rancher2", stack_name="lims", services=["web", "app", "db"]))
    assert "rancher1_environment" not in answers_of(stack)
    assert MOVING not in (stack / "README.md").read_text()


def test_answers_that_name_a_rancher_16_environment_bring_the_section(render):
    """A rancher2 copy from a Rancher 1.6 stack's answers (its environment given) is that stack moving."""
    stack = render({**load_example(ROOT / "examples" / "portal.yml"), "platform": "rancher2"})
    assert answers_of(stack)["rancher1_environment"] == "dev-cattle"
    assert "rancher --env dev-cattle exec portal-jgi-doe/app" in section((stack / "README.md").read_text(), MOVING)


@pytest.mark.parametrize("engine, note", [
    ("postgres", "pg_dumpall needs no password"),
    ("mysql", "mysqldump reads it from its environment (`MYSQL_PWD`)"),
    ("mariadb", "mariadb-dump reads it from its environment (`MYSQL_PWD`)"),
    ("mongodb", "mongodump reads it from its standard input"),
])
def test_the_copy_out_step_says_where_each_engines_password_comes_from(render, engine, note):
    """Under the copy-out commands, one sentence for the engine in use, and the section is prose and
    commands only (no line of template code or data leaks into it)."""
    stack = render(minimal_answers(platform="rancher2", rancher1_environment="sandbox", stack_name="lims",
                                   services=["app", "db"], db_engine=engine))
    moving = section((stack / "README.md").read_text(), MOVING)
    copy_out = moving.split("**Copy the data out**", 1)[1].split("**Start the new", 1)[0]
    assert note in copy_out.split("```")[2]
    for line in moving.splitlines():
        assert not re.match(r"\s*(['\"]\w+['\"]\s*:|[{}%]|\} -%\})", line), line


@pytest.mark.parametrize("services, says", [
    (["app"], "on Kubernetes\n   app answers at <http://app.lims.development.svc.spin.nersc.org/>."),
    (["app", "api"], "on Kubernetes\n   app and api answer at <http://app.lims.development.svc.spin.nersc.org/>, "
                     "<http://api.lims.development.svc.spin.nersc.org/>."),
])
def test_the_dns_step_of_a_stack_without_web_names_where_each_role_answers(render, services, says):
    """Rancher 1.6 published no HTTP without web; on Kubernetes each role has its Ingress (one sentence)."""
    stack = render(minimal_answers(platform="rancher2", rancher1_environment="sandbox", stack_name="lims",
                                   namespace="lims", cluster="development", services=services))
    dns = section((stack / "README.md").read_text(), MOVING).split("**DNS.**", 1)[1]
    assert " On Rancher 1.6 nothing of this stack was published over HTTP; " + says in dns, dns


@pytest.mark.parametrize("mounts", [[], [{"service": "app", "host_path": "/global/cfs/cdirs/genome/ref",
                                          "container_path": "/ref"}]])
def test_the_moving_section_has_a_global_file_system_step_only_for_mounts(render, mounts):
    stack = render(minimal_answers(platform="rancher2", rancher1_environment="sandbox", stack_name="lims",
                                   services=["app"], gpfs_mounts=mounts))
    moving = section((stack / "README.md").read_text(), MOVING)
    assert ("**Global file system.**" in moving) == bool(mounts)
    assert ("namei -m /global/cfs/cdirs/genome/ref" in moving) == bool(mounts)


@pytest.mark.parametrize("released", ["rancher1"], indirect=True)
def test_a_rancher1_stack_never_stores_the_question(released, tmp_path):
    _, stack = copy_of(released, tmp_path)
    update(stack)
    assert "rancher1_environment" not in answers_of(stack) and answers_of(stack)["platform"] == "rancher1"


@pytest.mark.parametrize("value", ["prod", "rancher2", "Dev-Cattle"])
def test_a_wrong_environment_is_refused(render, tmp_path, value):
    with pytest.raises(ValueError, match="question 'rancher1_environment'"):
        render(minimal_answers(platform="rancher2", rancher1_environment=value), dst=tmp_path / "stack")


# The section over the answer space: run_copy with rancher1_environment in --data renders it as the
# move does, and each command is held against what else the stack renders (Makefile, kustomize).

@st.composite
def moved_answers(draw):
    answers = draw(valid_answers().filter(lambda answers: answers.get("platform") == "rancher2"))
    answers["rancher1_environment"] = draw(st.sampled_from(["dev-cattle", "prod-cattle", "sandbox"]))
    return answers


def code_lines(text):
    """The lines of the section's code blocks."""
    blocks = re.findall(r"^ *```\n(.*?)^ *```$", text, re.S | re.M)
    return [line.strip() for block in blocks for line in block.splitlines() if line.strip()]


def created_secrets(stack):
    """{file: Kubernetes secret} as the Makefile's `secrets` target creates them."""
    makefile = (stack / "Makefile").read_text()
    return dict((file, name) for name, file in re.findall(r"create secret generic (\S+) --from-file=([^=]+)=", makefile))


def mounted_secrets(objects):
    """{role: secret names its pod mounts}, and the roles that are CronJobs."""
    mounted, jobs = {}, set()
    for obj in objects:
        if obj["kind"] not in ("Deployment", "CronJob"):
            continue
        spec = obj["spec"]["template"]["spec"] if obj["kind"] == "Deployment" else \
            obj["spec"]["jobTemplate"]["spec"]["template"]["spec"]
        role = obj["metadata"]["name"]
        if obj["kind"] == "CronJob":
            jobs.add(role)
        mounted[role] = {source["secret"]["name"] for volume in spec.get("volumes", [])
                         for source in volume.get("projected", {}).get("sources", [])}
    return mounted, jobs


@needs_kubectl
@settings(max_examples=max(1, settings().max_examples // 3))
@given(answers=moved_answers())
def test_every_command_of_the_section_fits_the_stack(render, answers):
    stack = render(answers)
    env, cluster = answers["rancher1_environment"], answers.get("cluster", "development")
    stored = answers_of(stack)
    namespace, name = stored["namespace"], stored["stack_name"]
    moving = section((stack / "README.md").read_text(), MOVING)
    assert moving and stored["rancher1_environment"] == env
    steps = [int(number) for number in re.findall(r"^(\d+)\. \*\*", moving, re.M)]
    assert steps == list(range(1, len(steps) + 1)) and len(steps) >= 3
    objects = kustomize(stack, cluster)
    mounted, jobs = mounted_secrets(objects)
    secrets = created_secrets(stack)
    lines = code_lines(moving)
    for line in lines:
        assert subprocess.run(["sh", "-n", "-c", line]).returncode == 0, f"not a shell command: {line}"
        words = shlex.split(line)
        if words[0] == "rancher":
            assert words[1:3] == ["--env", env], line
        if words[0] == "kubectl":
            assert words[1:5] == ["--context", cluster, "--namespace", namespace], line
            assert "-k" not in words or words[words.index("-k") + 1] == f"k8s/{cluster}", line
    # Each secret: in the table with the name the Makefile creates, and copied from a running reader.
    for file, secret in secrets.items():
        assert f"| `{secret}` | `secrets/{file}` |" in moving, (file, secret)
        copies = [line for line in lines if line.endswith(f"cat /run/secrets/{file} > secrets/{file}")]
        readers = {role for role, names in mounted.items() if secret in names}
        if readers - jobs:
            assert len(copies) == 1, (file, copies)
            words = shlex.split(copies[0])
            role = words[-5].split("/")[1]
            assert words[-5] == f"{name}/{role}" and role in readers - jobs, copies[0]
            assert ("--user=" in copies[0]) == (role in ("db", "kv")), copies[0]
        else:
            assert not copies and f"`{file}`" in moving.split("Only util reads", 1)[1].split("\n\n")[0]
    # The stores that keep data start alone, selected by the label their objects carry, and get it back.
    stores = [obj["metadata"]["name"] for obj in objects if obj["kind"] == "PersistentVolumeClaim"
              and obj["metadata"]["labels"]["app.kubernetes.io/name"] in ("db", "kv")]
    selected = [line.rsplit("=", 1)[1] for line in lines if "--selector=app.kubernetes.io/name=" in line]
    assert sorted(selected) == sorted(claim.split(".")[0] for claim in stores)
    for role in selected:
        assert any(obj["kind"] == "Deployment" and obj["metadata"]["name"] == role
                   and obj["metadata"]["labels"]["app.kubernetes.io/name"] == role for obj in objects)
        assert any(line.startswith(f"rancher --env {env} exec --user=") and f" {name}/{role} " in line
                   for line in lines), f"{role}'s data is copied out"
        assert any(f"exec -i deploy/{role} -- " in line for line in lines), f"{role}'s data is copied in"
    for line in lines:
        assert "MYSQL_PWD" not in line or "sh -c 'MYSQL_PWD=" in line, "the password stays in the container"
    ingresses = [obj for obj in objects if obj["kind"] == "Ingress"]
    if answers.get("fqdn") and ingresses:
        host = next(rule["host"] for rule in ingresses[0]["spec"]["rules"] if rule["host"] != answers["fqdn"])
        assert f"{answers['fqdn']}.  CNAME  {host}." in lines

