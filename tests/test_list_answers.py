"""gpfs_mounts and secrets typed the way people type them: the YAML list or mapping,
the short one-line forms (app:/global/...:/data:ro, api_key.txt:app+api), through
--data, a data file and `copier update`. Every form renders the same stack and the
same .copier-answers.yml as the YAML form, and is refused by the same rules."""

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from copier import run_update
from hypothesis import given, settings
from hypothesis import strategies as st

from stackkit import git, minimal_answers
from terminal import fits

COPIER = str(Path(sys.executable).parent / "copier")
BASE = minimal_answers(stack_name="forms", services=["web", "app", "api", "util"], access="private")
DATA = "/global/cfs/cdirs/m1234/data"
DUMP = "/global/cfs/cdirs/m1234/dump"
LONG_MOUNTS = [{"service": "app", "host_path": DATA, "container_path": "/data", "read_only": True},
               {"service": "util", "host_path": DUMP, "container_path": "/dump", "read_only": False}]
LONG_SECRETS = {"api_key.txt": ["app", "api"], "other": ["util"]}


def tree(path):
    return {p.relative_to(path).as_posix(): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def long_form(render):
    return tree(render({**BASE, "gpfs_mounts": LONG_MOUNTS, "secrets": LONG_SECRETS}))


MOUNT_FORMS = [
    f"app:{DATA}:/data:ro, util:{DUMP}:/dump:rw",
    f"app:{DATA}:/data,util:{DUMP}:/dump:rw",                      # no mode: read-only, like read_only's default
    f"  app :{DATA} :/data ,util:{DUMP}:/dump:rw  ",                # blanks (not after a colon: YAML)
    [f"app:{DATA}:/data:ro", f"util:{DUMP}:/dump:rw"],             # list items, compose style
    [f"app:{DATA}:/data", LONG_MOUNTS[1]],                         # short and long mixed
    f"[{{service: app, host_path: {DATA}, container_path: /data, read_only: true}},"
    f" {{service: util, host_path: {DUMP}, container_path: /dump, read_only: false}}]",  # YAML flow, as typed
]
SECRET_FORMS = [
    "api_key.txt:app+api, other:util",
    "api_key.txt:app, other:util, api_key.txt:api",                  # a file named twice: its readers add up
    {"api_key.txt": "app+api", "other": "util"},
    ["api_key.txt:app+api", "other:util"],
    " api_key.txt:app + api ,other:util",                           # blanks (not after a colon: YAML)
    "{api_key.txt: [app, api], other: [util]}",
]


@pytest.mark.parametrize("mounts, secrets", list(zip(MOUNT_FORMS, SECRET_FORMS)))
def test_every_form_renders_the_yaml_forms_stack(render, long_form, mounts, secrets):
    assert tree(render({**BASE, "gpfs_mounts": mounts, "secrets": secrets})) == long_form


@pytest.mark.parametrize("mounts, secrets", [(None, None), ("", ""), ("  ", " "), ([], {})])
def test_nothing_typed_is_no_mount_and_no_secret(render, mounts, secrets):
    stack = render({**BASE, "gpfs_mounts": mounts, "secrets": secrets})
    answers = yaml.safe_load((stack / ".copier-answers.yml").read_text())
    assert answers["gpfs_mounts"] == [] and answers["secrets"] == {}
    assert "/global/" not in (stack / "docker-compose.yml").read_text()


@pytest.mark.parametrize("mounts, rule", [
    (f"app:{DATA}", "#1: use svc:/host:/path[:ro|:rw]"),
    (f"app:{DATA}:/data:rx", "#1: use svc:/host:/path[:ro|:rw]"),
    (f"app:{DATA}:/data:", "must be a list or svc:/host:/path"),  # YAML reads a mapping
    (f"app:{DATA}:/data,", "#2: use svc:/host:/path[:ro|:rw]"),
    (f"app:{DATA}:/data:ro:rw", "#1: use svc:/host:/path[:ro|:rw]"),
    (f"app:{DATA}:/data, api:/global/homes/f/fred:/home", "#2: host_path in /global/homes"),
    (f"db:{DATA}:/data", "#1: only web/app/api/util mount"),
    (f"kv:{DATA}:/data", "#1: only web/app/api/util mount"),
    ("app:/global/cfs/cdirs:/data", "#1: host_path is too shallow"),
    (f"app:{DATA}:/etc", "#1: container_path is reserved"),
    (f"app:{DATA}/../..:/data", "#1: host_path is malformed"),
    (f"app:{DATA}:/data, app:{DUMP}:/data", "#2: container_path mounted twice"),
    (f"app:{DATA}:data", "#1: container_path is malformed"),
    (5, "must be a list or svc:/host:/path"),
    ({"service": "app"}, "must be a list or svc:/host:/path"),
])
def test_short_mounts_are_refused_by_the_same_rules(render, tmp_path, mounts, rule):
    with pytest.raises(ValueError, match="question 'gpfs_mounts': " + rule.replace("[", r"\[").replace("|", r"\|")) as error:
        render({**BASE, "gpfs_mounts": mounts}, dst=tmp_path / "out")
    assert not (tmp_path / "out").exists() and fits(str(error.value))


def test_a_writable_short_mount_of_a_public_service_needs_a_stack_that_is_not_public(render, tmp_path):
    with pytest.raises(ValueError, match="#1: public: app must be read-only"):
        render({**BASE, "access": "public", "services": ["app", "util"], "gpfs_mounts": f"app:{DUMP}:/dump:rw"},
               dst=tmp_path / "out")
    stack = render({**BASE, "access": "public", "gpfs_mounts": f"util:{DUMP}:/dump"})
    assert f"{DUMP}:/dump:ro" in (stack / "docker-compose.yml").read_text()
    stack = render({**BASE, "access": "public", "gpfs_mounts": f"util:{DUMP}:/dump:rw"})  # util serves no one
    assert f"{DUMP}:/dump:rw" in (stack / "docker-compose.yml").read_text()


@pytest.mark.parametrize("secrets, rule", [
    ("api_key.txt", "#1: list the services that read it"),
    ("api_key.txt:", "#1: list the services that read it"),
    ("api_key.txt:app+", "#1: a reader is not a chosen service"),
    ("api_key.txt:app, Key:app", "#2: name must be a-z, 0-9, _ . -"),
    ("api_key.txt:app,", "#2: name must be a-z, 0-9, _ . -"),
    ("token:db", "#1: a reader is not a chosen service"),
    ("../passwd:app", "#1: name must be"),
    (["token:app", 5], "must be file:svc\\+svc or a mapping"),
    (7, "must be file:svc\\+svc or a mapping"),
])
def test_short_secrets_are_refused_by_the_same_rules(render, tmp_path, secrets, rule):
    with pytest.raises(ValueError, match="question 'secrets': " + rule) as error:
        render({**BASE, "secrets": secrets}, dst=tmp_path / "out")
    assert not (tmp_path / "out").exists() and fits(str(error.value))


short_mount = st.builds(
    lambda service, path, target, mode: f"{service}:{path}:{target}{mode}",
    st.sampled_from(["web", "app", "api", "util", "db", "x"]),
    st.sampled_from([DATA, DUMP, "/global/homes/f/fred", "/etc", "/global/cfs/cdirs", "rel/path", DATA + " x"]),
    st.sampled_from(["/data", "/dump", "/etc", "data", "/a:b", "/"]),
    st.sampled_from(["", ":ro", ":rw", ":RO", ":x"]),  # not a bare ":" at the end: YAML reads a mapping
)


@settings(max_examples=12, deadline=None)
@given(entries=st.lists(short_mount, max_size=3), access=st.sampled_from(["public", "private"]))
def test_a_short_mount_list_is_judged_like_its_yaml_list(render, tmp_path_factory, entries, access):
    """The short form is refused exactly when the YAML list it stands for is, with the same message."""
    def outcome(mounts):
        dst = tmp_path_factory.mktemp("short") / "stack"
        try:
            render({**BASE, "access": access, "gpfs_mounts": mounts}, dst=dst)
        except ValueError as error:
            assert not dst.exists()
            return str(error)
        return yaml.safe_load((dst / ".copier-answers.yml").read_text())["gpfs_mounts"]

    as_yaml = []
    for entry in entries:
        parts = entry.split(":")
        if len(parts) in (3, 4) and parts[3:] in ([], ["ro"], ["rw"]):
            as_yaml.append({"service": parts[0], "host_path": parts[1], "container_path": parts[2],
                            "read_only": parts[3:] != ["rw"]})
        else:
            as_yaml.append(entry)
    assert outcome(", ".join(entries)) == outcome(as_yaml)


def copier_cli(*args, cwd=None):
    return subprocess.run([COPIER, *args], capture_output=True, text=True, timeout=300, cwd=cwd)


def test_short_forms_work_from_the_command_line_a_data_file_and_update(template_repo, tmp_path):
    data_file = tmp_path / "answers.yml"
    data_file.write_text(yaml.safe_dump({**BASE, "gpfs_mounts": [f"app:{DATA}:/data"],
                                         "secrets": "api_key.txt:app+api"}))
    from_file = tmp_path / "from-file"
    result = copier_cli("copy", "--defaults", "--data-file", str(data_file), str(template_repo), str(from_file))
    assert result.returncode == 0, result.stderr
    answers = yaml.safe_load((from_file / ".copier-answers.yml").read_text())
    assert answers["gpfs_mounts"] == [LONG_MOUNTS[0]]
    assert answers["secrets"] == {"api_key.txt": ["app", "api"]}

    # --data with the short forms, on a stack under git; then update with new short answers.
    stack = tmp_path / "stack"
    args = [f"--data={key}={value}" for key, value in BASE.items() if key != "services"]
    result = copier_cli("copy", "--defaults", *args, "--data", "services=[web, app, api, util]",
                        "--data", f"gpfs_mounts=app:{DATA}:/data:ro", "--data", "secrets=api_key.txt:app",
                        str(template_repo), str(stack))
    assert result.returncode == 0, result.stderr
    git(stack, "init", "-q")
    git(stack, "add", "-A")
    git(stack, "commit", "-q", "-m", "stack")
    run_update(stack, defaults=True, overwrite=True, quiet=True, unsafe=False,
               data={"gpfs_mounts": f"app:{DATA}:/data, util:{DUMP}:/dump:rw", "secrets": "api_key.txt:app+api, other:util"})
    answers = yaml.safe_load((stack / ".copier-answers.yml").read_text())
    assert answers["gpfs_mounts"] == LONG_MOUNTS and answers["secrets"] == LONG_SECRETS
    compose = (stack / "docker-compose.yml").read_text()
    assert f'- "{DUMP}:/dump:rw"' in compose and f'- "{DATA}:/data:ro"' in compose
    assert 'source: "forms.api_key.txt"' in compose and "app.forms.api_key.txt" not in compose


def test_an_old_answers_file_updates_to_the_same_stack(render, tmp_path):
    """Stacks made before the short forms store YAML lists and mappings; update keeps them as they are."""
    stack = render({**BASE, "gpfs_mounts": LONG_MOUNTS, "secrets": LONG_SECRETS}, dst=tmp_path / "old")
    before = tree(stack)
    git(stack, "init", "-q")
    git(stack, "add", "-A")
    git(stack, "commit", "-q", "-m", "stack")
    run_update(stack, defaults=True, overwrite=True, quiet=True, unsafe=False)
    after = tree(stack)
    assert {name: body for name, body in after.items() if not name.startswith(".git/")} == before


@pytest.mark.parametrize("key, bad", [
    ("gpfs_mounts", f"app:{DATA}"), ("gpfs_mounts", {"service": "app", "mode": "ro"}), ("gpfs_mounts", f"db:{DATA}:/x"),
    ("gpfs_mounts", f"api:{DATA}:/x"), ("gpfs_mounts", "app:/etc/x/y:/x"), ("gpfs_mounts", "app:/global/homes/f:/x"),
    ("gpfs_mounts", "app:/global/cfs:/x"), ("gpfs_mounts", "app:a b:/x"), ("gpfs_mounts", f"app:{DATA}:x"),
    ("gpfs_mounts", f"app:{DATA}:/usr"), ("gpfs_mounts", f"app:{DATA}:/d0"), ("gpfs_mounts", f"app:{DATA}:/x:rw"),
    ("gpfs_mounts", {"service": "app", "host_path": DATA, "container_path": "/x", "read_only": "no"}),
    ("secrets", "Key:app"), ("secrets", "key"), ("secrets", "key:db"),
])
def test_the_hundredth_entrys_refusal_still_fits(render, tmp_path, key, bad):
    """Entries are named by their number, never by their text: a refusal stays one line."""
    good = [f"app:{DATA}/d{i}:/d{i}" for i in range(99)] if key == "gpfs_mounts" else [f"f{i}:app" for i in range(99)]
    with pytest.raises(ValueError, match=f"question '{key}': #100: ") as error:
        render({**BASE, "services": ["web", "app", "util"], "access": "public", key: good + [bad]}, dst=tmp_path / "out")
    assert fits(str(error.value)), str(error.value)
