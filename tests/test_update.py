"""`copier update` over a stack's life: a v2 of the template arrives, the user's own
edits stay, a new question gets its default, real conflicts show as copier's docs
promise, and `--data` re-renders what depends on an answer."""

import re

import pytest
import yaml
from copier import run_copy, run_update

from stackkit import git, minimal_answers, snapshot_template
from stack_checks import assert_stack_ok, load_yaml

CONFLICT_MARKERS = re.compile(r"^(<<<<<<<|>>>>>>>)", re.M)


def edit(path, old, new):
    text = path.read_text()
    assert old in text, f"{path.name} no longer holds {old!r}: update this test's release"
    path.write_text(text.replace(old, new, 1))


def release_v2(template):
    """A v2 of the template: a new question, and changes to rendered files."""
    with (template / "copier.yml").open("a") as handle:
        handle.write("\ntimezone:\n  type: str\n  default: UTC\n  help: Time zone of the app and api containers.\n"
                     "  validator: \"{{ '' if timezone | regex_search('^[A-Za-z_/+-]+$') else 'must be a tz name' }}\"\n")
    edit(template / "includes" / "stack.jinja",
         "{%- set variables = {'PORT': app_port,", "{%- set variables = {'TZ': timezone, 'PORT': app_port,")
    edit(template / "includes" / "compose.jinja", "      interval: 5000", "      interval: 10000")
    git(template, "add", "-A")
    git(template, "commit", "-q", "-m", "v2: time zone question, slower health checks")
    git(template, "tag", "v2.0.0")


@pytest.fixture
def stack(tmp_path):
    """A stack rendered from template v1, committed, with the user's own edits committed."""
    template = snapshot_template(tmp_path / "template")
    dst = tmp_path / "mystack"
    run_copy(str(template), dst, data=minimal_answers(stack_name="mystack", services=["web", "app", "db"]),
             defaults=True, quiet=True, unsafe=False)
    git(dst, "init", "-q")
    git(dst, "add", "-A")
    git(dst, "commit", "-q", "-m", "stack from v1")
    edit(dst / "app" / "Dockerfile", "WORKDIR /srv/app\n", "WORKDIR /srv/app\nLABEL org.opencontainers.image.authors=\"fred\"\n")
    with (dst / "README.md").open("a") as handle:
        handle.write("\n## Our notes\n\nThe portal team meets on Tuesdays.\n")
    edit(dst / "docker-compose.yml", '      PORT: "8000"\n', '      PORT: "8000"\n      DEBUG: "0"\n')
    git(dst, "commit", "-q", "-am", "our edits")
    return template, dst


def update(dst, **options):
    run_update(dst, defaults=True, overwrite=True, quiet=True, unsafe=False, **options)


def test_update_brings_v2_and_keeps_the_users_edits(stack):
    template, dst = stack
    release_v2(template)
    update(dst)
    answers = load_yaml(dst / ".copier-answers.yml")
    assert answers["_commit"] == "v2.0.0" and answers["timezone"] == "UTC"
    compose = load_yaml(dst / "docker-compose.yml")
    assert compose["services"]["app"]["environment"]["TZ"] == "UTC"  # the template's change
    assert compose["services"]["app"]["environment"]["DEBUG"] == "0"  # the user's edit
    assert load_yaml(dst / "rancher-compose.yml")["services"]["web"]["health_check"]["interval"] == 10000
    assert 'LABEL org.opencontainers.image.authors="fred"' in (dst / "app" / "Dockerfile").read_text()
    assert "## Our notes" in (dst / "README.md").read_text()
    for path in dst.rglob("*"):
        if path.is_file() and ".git" not in path.parts:
            assert not CONFLICT_MARKERS.search(path.read_text(errors="replace")), path
            assert path.suffix != ".rej", path
    assert_stack_ok(dst)


def test_a_real_conflict_is_marked_inline(stack):
    template, dst = stack
    edit(dst / "rancher-compose.yml", "      interval: 5000", "      interval: 7000")  # web's check, the user's way
    git(dst, "commit", "-q", "-am", "slower web check")
    release_v2(template)
    update(dst, conflict="inline")
    text = (dst / "rancher-compose.yml").read_text()
    assert "<<<<<<< before updating" in text and ">>>>>>> after updating" in text
    assert "interval: 7000" in text and "interval: 10000" in text
    # Files where nothing conflicted are clean.
    assert not CONFLICT_MARKERS.search((dst / "docker-compose.yml").read_text())


def test_a_real_conflict_as_rej_file(stack):
    template, dst = stack
    edit(dst / "rancher-compose.yml", "      interval: 5000", "      interval: 7000")
    git(dst, "commit", "-q", "-am", "slower web check")
    release_v2(template)
    update(dst, conflict="rej")
    rejected = (dst / "rancher-compose.yml.rej").read_text()
    assert "+      interval: 7000" in rejected  # the user's hunk, to re-apply by hand
    assert "interval: 10000" in (dst / "rancher-compose.yml").read_text()


def test_changing_an_answer_re_renders_what_depends_on_it(stack):
    _, dst = stack
    update(dst, data={"image_tag": "v0.2.0"})
    compose = load_yaml(dst / "docker-compose.yml")
    assert compose["services"]["app"]["image"].endswith("/mystack:v0.2.0")
    assert compose["services"]["web"]["image"].endswith("/nginx-mystack:v0.2.0")
    assert "TAG := v0.2.0" in (dst / "Makefile").read_text()
    assert compose["services"]["app"]["environment"]["DEBUG"] == "0"
    assert 'LABEL org.opencontainers.image.authors="fred"' in (dst / "app" / "Dockerfile").read_text()
    assert load_yaml(dst / ".copier-answers.yml")["image_tag"] == "v0.2.0"


def test_adding_a_service_by_update(stack):
    _, dst = stack
    update(dst, data={"services": ["web", "app", "db", "util"]})
    compose = load_yaml(dst / "docker-compose.yml")
    assert "util" in compose["services"] and "util.mystack" in compose["volumes"]
    assert compose["services"]["app"]["environment"]["DEBUG"] == "0"
    assert_stack_ok(dst)


def test_an_invalid_answer_on_update_is_refused(stack):
    _, dst = stack
    before = (dst / "docker-compose.yml").read_text()
    with pytest.raises(ValueError, match="image_tag"):
        update(dst, data={"image_tag": "latest"})
    assert (dst / "docker-compose.yml").read_text() == before
    assert yaml.safe_load((dst / ".copier-answers.yml").read_text())["image_tag"] == "v0.1.0"


def test_message_after_update_names_what_to_create(stack, capsys):
    _, dst = stack
    run_update(dst, data={"services": ["web", "app", "db", "util"]}, defaults=True, overwrite=True, quiet=False,
               unsafe=False)
    message = capsys.readouterr().err
    assert "Spin stack mystack is updated" in message
    assert "git diff docker-compose.yml" in message
    # Each command on one line, or on two joined by a backslash where it would pass 80 columns.
    commands = message.replace("\\\n", "").split("\n")
    assert "  rancher --env dev-cattle volume create --driver rancher-nfs util.mystack" in commands
    assert any(line.split() == "rancher --env dev-cattle secret create db.mystack.postgres_password secrets/postgres_password".split()
               for line in commands)
    assert all(len(line) <= 80 for line in message.splitlines()), message
