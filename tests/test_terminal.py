"""A person at an ordinary 80x24 terminal: `copier copy` in a pseudo-terminal of that
size, its screen read through a terminal emulator (pyte), one question at a time.
Every question of copier.yml is reached (the sessions go on, choosing other choices,
until each has been asked), its whole help is on the screen, uncut, and a refusal
of each kind of validator is on the screen whole, beside the help that spells out
the rule. Questions added to copier.yml later are covered the same way: only
answers that must be typed (no default) need an entry in TYPED."""

import re
import sys
from pathlib import Path

import jinja2
import pytest
import yaml
from wcwidth import wcswidth

from stackkit import ROOT, git, load_example, minimal_answers
from terminal import COLUMNS, CLEAR_LINE, DOWN, ENTER, Terminal

COPIER = str(Path(sys.executable).parent / "copier")
CONFIG = yaml.safe_load((ROOT / "copier.yml").read_text())
QUESTIONS = {key: spec for key, spec in CONFIG.items() if not key.startswith("_")}
QMARK = "🎤 "
DATA = "/global/cfs/cdirs/m1234/data"

# What a person types where there is no default to take, session by session (cycled).
TYPED = {
    "owner": ["fred"], "staff_owner": ["wilma"], "run_as_uid": ["501"], "run_as_gid": ["124"],
    "run_as_user": ["c_flintstones", ""],
    "gpfs_mounts": [f"app:{DATA}:/data:ro",
                    f"[{{service: app, host_path: {DATA}, container_path: /data, read_only: true}}]",
                    f"app:{DATA}:/data, util:/global/cfs/cdirs/m1234/dump:/dump:rw", ""],
    "secrets": ["api_key.txt:app+api", "{api_key.txt: [app]}", "api_key.txt:app+api, other:util", ""],
}
# What each session's .copier-answers.yml holds for the list answers typed above.
STORED = [
    ([{"service": "app", "host_path": DATA, "container_path": "/data", "read_only": True}],
     {"api_key.txt": ["app", "api"]}),
    ([{"service": "app", "host_path": DATA, "container_path": "/data", "read_only": True}],
     {"api_key.txt": ["app"]}),
    ([{"service": "app", "host_path": DATA, "container_path": "/data", "read_only": True},
      {"service": "util", "host_path": "/global/cfs/cdirs/m1234/dump", "container_path": "/dump", "read_only": False}],
     {"api_key.txt": ["app", "api"], "other": ["util"]}),
    ([], {}),
]
# One wrong answer per kind of validator, typed in the first session, then the right one.
REFUSED = {
    "owner": ("Fred", "fred"),                                    # text pattern
    "run_as_uid": ("0", "501"),                                   # whole number in a range
    "web_port": ("443", "8080"),                                  # Spin's host ports
    "app_base_image": ("python:latest", "python:3.13-slim"),      # image
    "run_as_group": ("", "genome"),                               # group needed with run_as_user
    "gpfs_mounts": ("app:/global/homes/f/fred:/home", TYPED["gpfs_mounts"][0]),  # mounts
    "secrets": ("api_key.txt", TYPED["secrets"][0]),              # secrets
    "services": (None, None),                                     # the multiselect, nothing selected
    "backup_schedule": ("0 0 25 * * *", "0 0 9 * * *"),          # cron fields
}
# Asked only by `copier update --data platform=rancher2` of a Rancher 1.6 stack (moving_session).
MOVING = {"rancher1_environment": ("prod", "prod-cattle")}  # a refusal, then the right answer
# The answers under which copier itself refuses each of those, for the expected line.
CONTEXT = minimal_answers(platform="rancher1", services=["web", "app", "api", "db", "kv", "util"], web_exposure="port",
                          run_as_user="c_flintstones")
PLATFORMS = ["rancher2", "rancher1"]


def question_on_screen(lines):
    """(row, key) of the last question on the screen, or (None, None)."""
    for row in range(len(lines) - 1, -1, -1):
        match = re.match(re.escape(QMARK) + r"(\w+):", lines[row])
        if match:
            return row, match.group(1)
    return None, None


def help_lines(key, platform="rancher2"):
    """The help of `key` as copier shows it on `platform` (some helps speak of the platform)."""
    return jinja2.Template(QUESTIONS[key].get("help", "")).render(platform=platform).split("\n")


class Person:
    """Goes through one `copier copy` session, recording each screen it sees."""

    def __init__(self, template, dst, session, refuse):
        self.terminal = Terminal(COPIER, ["copy", str(template), str(dst)])
        self.session = session
        self.refuse = refuse  # the keys of REFUSED to answer wrongly first in this session
        self.screens = {}    # key -> screen lines when the question was asked
        self.refusals = {}   # key -> screen lines after the wrong answer

    def next_question(self, previous):
        t = self.terminal
        refused = f"Validation error for question '{previous}'"
        t.settle(until=lambda: t.ended or question_on_screen(t.lines())[1] not in (None, previous)
                 or refused in t.text())
        assert refused not in t.text(), (f"{previous} refused its default: give it an answer in TYPED\n"
                                         + "\n".join(t.lines()))
        return None if t.ended else question_on_screen(t.lines())[1]

    def answer(self, key):
        spec, t = QUESTIONS[key], self.terminal
        choices = spec.get("choices")
        if choices and spec.get("multiselect"):
            if key in self.refuse:
                t.send("a", "a", ENTER)  # all on, then all off: nothing selected
                self.refusals[key] = t.settle(until=lambda: "Validation error" in t.text()).lines()
            t.send("a", ENTER)  # every service: every question that depends on one is asked
            t.settle(until=lambda: "Validation error" not in t.text())
        elif choices:
            # The choice in position session % n, counted from the top, wherever the default put the pointer.
            titles = list(choices) if isinstance(choices, dict) else [str(choice) for choice in choices]
            pointed = next(line for line in t.lines() if line.startswith(" » ")).split("» ", 1)[1].strip()
            start = titles.index(pointed)
            t.send(*[DOWN] * ((self.session - start) % len(titles)), ENTER)
        elif spec.get("type") == "bool":
            t.send(ENTER)
        else:
            typed = TYPED.get(key)
            typed = typed[self.session % len(typed)] if typed else None
            if key in self.refuse:
                wrong, typed = REFUSED[key]
                t.send(CLEAR_LINE + wrong + ENTER)
                self.refusals[key] = t.settle(until=lambda: "Validation error" in t.text()).lines()
            t.send(ENTER if typed is None else CLEAR_LINE + typed + ENTER)
            if key in self.refusals:
                t.settle(until=lambda: "Validation error" not in t.text())

    def run(self):
        key = None
        while (key := self.next_question(key)) is not None:
            assert key not in self.screens, f"{key} was asked again:\n" + "\n".join(self.terminal.lines())
            self.screens[key] = self.terminal.lines()
            self.answer(key)
        return self.terminal.finish()


@pytest.fixture(scope="module")
def sessions(template_repo, tmp_path_factory):
    """Sessions until every question has been asked: session N moves N down in every
    choice (so each choice of each question is taken in some session, both platforms
    among them), selects every service, and types TYPED's Nth answer; at least two, so
    both list forms are typed. Each wrong answer of REFUSED is typed in the first session
    that asks its question."""
    most_choices = max(len(spec.get("choices") or []) for spec in QUESTIONS.values() if not spec.get("multiselect"))
    done = []
    for session in range(max(2, most_choices)):
        dst = tmp_path_factory.mktemp("terminal") / f"stack{session}"
        refused = set().union(*(p.refusals for p, _ in done))
        person = Person(template_repo, dst, session, set(REFUSED) - refused)
        status = person.run()
        assert status == 0, "\n".join(person.terminal.lines())
        done.append((person, dst))
        asked = set().union(*(p.screens for p, _ in done))
        if session >= 1 and asked == set(QUESTIONS):
            break
    return done


@pytest.fixture(scope="module")
def moving_session(template_repo, tmp_path_factory):
    """A Rancher 1.6 stack moved at the terminal: `copier update --skip-answered --data
    platform=rancher2` asks only what the move brings; rancher1_environment gets a wrong answer
    first. (screens, refusal screen, the stack)."""
    from copier import run_copy

    dst = tmp_path_factory.mktemp("moving") / "stack"
    run_copy(str(template_repo), dst, data=minimal_answers(platform="rancher1", stack_name="lims", services=["app"],
                                                            environment="prod-cattle"),
             defaults=True, quiet=True, unsafe=False)
    git(dst, "init", "-q")
    git(dst, "add", "-A")
    git(dst, "commit", "-q", "-m", "stack")
    t = Terminal(COPIER, ["update", "--skip-answered", "--data", "platform=rancher2"], cwd=dst)
    screens, refusal, key = {}, None, None
    while True:
        t.settle(until=lambda: t.ended or question_on_screen(t.lines())[1] not in (None, key))
        if t.ended:
            break
        key = question_on_screen(t.lines())[1]
        screens[key] = t.lines()
        if key in MOVING:
            wrong, right = MOVING[key]
            t.send(CLEAR_LINE + wrong + ENTER)
            refusal = t.settle(until=lambda: "Validation error" in t.text()).lines()
            t.send(CLEAR_LINE + right + ENTER)
            t.settle(until=lambda: "Validation error" not in t.text())
        else:
            t.send(ENTER)
    assert t.finish() == 0, "\n".join(t.lines())
    return screens, refusal, dst


def test_every_question_of_copier_yml_is_asked(sessions, moving_session):
    asked = set().union(*(person.screens for person, _ in sessions))
    assert asked == set(QUESTIONS) - set(MOVING), f"never asked: {sorted(set(QUESTIONS) - set(MOVING) - asked)}"
    # What the move brings to a stack of app alone: the Ingress's limits apply on Kubernetes only.
    assert list(moving_session[0]) == ["cluster", "namespace", "rancher1_environment", "max_body_mb",
                                       "proxy_timeout"]


def test_the_moves_question_is_whole_on_the_screen_and_stored(moving_session):
    screens, refusal, dst = moving_session
    lines = screens["rancher1_environment"]
    row, _ = question_on_screen(lines)
    expected = help_lines("rancher1_environment")
    assert lines[row:row + len(expected)] == [QMARK + expected[0]] + expected[1:], "\n".join(lines)
    message = "Validation error for question 'rancher1_environment': must be one listed above"
    assert message in refusal and question_on_screen(refusal)[1] == "rancher1_environment", "\n".join(refusal)
    answers = yaml.safe_load((dst / ".copier-answers.yml").read_text())
    assert answers["rancher1_environment"] == "prod-cattle" and answers["platform"] == "rancher2"


def test_every_help_is_whole_on_the_screen(sessions):
    for person, dst in sessions:
        platform = yaml.safe_load((dst / ".copier-answers.yml").read_text())["platform"]
        for key, lines in person.screens.items():
            row, _ = question_on_screen(lines)
            expected = help_lines(key, platform)
            shown = lines[row:row + len(expected)]
            assert shown == [QMARK + expected[0]] + expected[1:], "\n".join(lines)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_every_help_line_fits_80_columns(platform):
    """Checked without a terminal too, so a long line is found before a session is run."""
    for key, spec in QUESTIONS.items():
        lines = help_lines(key, platform)
        assert lines[0].startswith(f"{key}: "), f"{key}: the help starts with the key, as every question's does"
        widths = [wcswidth(QMARK + lines[0])] + [wcswidth(line) for line in lines[1:]]
        assert max(widths) <= COLUMNS, f"{key}: help line of {max(widths)} columns"
        assert len(lines) <= 10, f"{key}: a help of {len(lines)} lines leaves too little of a 24-line screen"
        choices = spec.get("choices") or []
        for title in (choices if isinstance(choices, dict) else map(str, choices)):
            assert wcswidth(" » ○ " + title) < COLUMNS, f"{key}: choice {title!r} fills the line"


def copier_refusal(render, tmp_path, key, typed, platform):
    """The message copier gives when `typed` is the answer, through --data, on `platform`."""
    with pytest.raises(ValueError) as error:
        render({**CONTEXT, "platform": platform, key: [] if key == "services" else typed}, dst=tmp_path / key)
    return str(error.value)


@pytest.mark.parametrize("key", sorted(REFUSED))
def test_a_refusal_is_whole_on_the_screen_beside_its_help(sessions, render, tmp_path, key):
    person, dst = next((person, dst) for person, dst in sessions if key in person.refusals)
    lines = person.refusals[key]
    platform = yaml.safe_load((dst / ".copier-answers.yml").read_text())["platform"]
    message = copier_refusal(render, tmp_path, key, REFUSED[key][0], platform)
    assert message.startswith(f"Validation error for question '{key}': ")
    assert message in lines, f"{message!r} is not a whole line of the screen:\n" + "\n".join(lines)
    row, asked = question_on_screen(lines)
    assert asked == key and lines[row].startswith(QMARK + key), "the help went off the screen:\n" + "\n".join(lines)


def test_the_list_answers_are_typed_in_every_form(sessions):
    for (person, dst), (mounts, secrets) in zip(sessions, STORED):
        answers = yaml.safe_load((dst / ".copier-answers.yml").read_text())
        assert (answers["gpfs_mounts"], answers["secrets"]) == (mounts, secrets)
    first = sessions[0][0].screens
    row, _ = question_on_screen(first["gpfs_mounts"])
    assert first["gpfs_mounts"][row + len(help_lines("gpfs_mounts"))] == "", "the mounts line starts empty"
    row, _ = question_on_screen(first["secrets"])
    assert first["secrets"][row + len(help_lines("secrets"))] == "", "the secrets line starts empty"


def test_a_wrong_choice_from_the_command_line_is_readable(template_repo, tmp_path):
    """A choice cannot be mistyped at the prompt; through --data, copier's own refusal
    is printed and the terminal wraps it: the whole message is on the screen."""
    args = ["copy", "--defaults", "--data", "environment=prod", *[f"--data={k}={v}" for k, v in minimal_answers().items()],
            str(template_repo), str(tmp_path / "stack")]
    terminal = Terminal(COPIER, args)
    assert terminal.finish() != 0
    assert "Invalid choice for 'environment': 'prod' is not in ['dev-cattle', 'prod-cattle', 'sandbox']" in terminal.text()
    assert not (tmp_path / "stack").exists()


def test_web_ports_help_names_spins_open_ports():
    """The refusal says "must be one of Spin's open ports": the help must list exactly those."""
    import json

    ports = json.loads((ROOT / "hooks" / "spin_audit" / "spin_facts.json").read_text())["host_ports"]
    text = " ".join(QUESTIONS["web_port"]["help"].split())
    for group, label in [("public", "Open to anyone"), ("nersc_lbl", "NERSC and LBL:"), ("nersc", "NERSC only:")]:
        listed = ", ".join(f"{low}" if low == high else f"{low}-{high}" for low, high in ports[group])
        assert f"{listed}" in text.split(label, 1)[1].split(".")[0], (group, listed)


# Answer sets whose closing message is long: many secrets, mounts and volumes, both platforms.
CLOSING = {
    "portal-k8s": load_example(ROOT / "examples" / "portal-k8s.yml"),
    "portal": load_example(ROOT / "examples" / "portal.yml"),
    "everything-k8s": minimal_answers(
        platform="rancher2", fqdn="sample-tracker.jgi.doe.gov", access="private", group="genome",
        services=["web", "app", "api", "db", "kv", "util"], db_engine="mariadb", kv_persist=True,
        gpfs_mounts=f"app:{DATA}:/data:rw, util:/global/cfs/cdirs/m1234/dumps:/dumps:rw, web:/global/cfs/cdirs/m1234/www:/www",
        secrets="api_key.txt:app+api, django_secret_key:app, orcid_client_secret:app, smtp_password:app+util"),
    "everything-rancher1": minimal_answers(
        platform="rancher1", fqdn="sample-tracker.jgi.doe.gov", access="private", group="genome", staff_group="isg",
        services=["web", "app", "api", "db", "kv", "util"], db_engine="mysql", kv_persist=True,
        web_exposure="reverse-proxy", gpfs_mounts=f"app:{DATA}:/data:rw",
        secrets="api_key.txt:app+api, django_secret_key:app, orcid_client_secret:app, smtp_password:app+util"),
}


@pytest.mark.parametrize("name", CLOSING)
def test_the_closing_message_fits_an_80x24_terminal(template_repo, tmp_path, name):
    """After `copier copy --defaults`, the whole closing message is on the 80x24 screen, each of its
    lines whole on one row (no word cut by the terminal's wrapping)."""
    data = tmp_path / "answers.yml"
    data.write_text(yaml.safe_dump(CLOSING[name]))
    dst = tmp_path / "stack"  # a short path, as most people's
    terminal = Terminal(COPIER, ["copy", "--defaults", "--data-file", str(data), str(template_repo), str(dst)])
    assert terminal.finish() == 0, "\n".join(terminal.lines())
    lines = terminal.lines()
    first = next(row for row, line in enumerate(lines) if line.startswith("Spin stack "))
    message = lines[first:]
    while message and not message[-1]:
        message.pop()
    assert len(message) <= 24 - 1, "the message does not fit the screen with the prompt under it"
    assert all(len(line) < COLUMNS for line in message), "a line filled the row: the terminal wrapped it\n" + "\n".join(message)
    assert message[1].strip() == str(dst)
    assert any(line.strip().startswith("cd ") for line in message)
    assert "make audit" in "\n".join(message)
