"""Property-based tests over the whole answer space of interface.md: every valid answer
set renders a stack that keeps its YAML types, passes the project's Rancher schema,
hadolint and spin-audit; an answer set with one answer broken is either refused with a
message that names a question (and nothing is written) or renders such a stack. The
audit itself never crashes on mutated stacks.

The seed is printed in pytest's header (tests/conftest.py); `HYPOTHESIS_PROFILE=deep
pytest tests/test_properties.py` runs many more examples."""

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from hypothesis import event, given, settings
from hypothesis import strategies as st

from stack_checks import assert_stack_ok, tool
from terminal import refusal_fits

ROLES = ["web", "app", "api", "db", "kv", "util"]
MOUNT_ROLES = ["web", "app", "api", "util"]  # db and kv need capabilities Spin forbids with /global
HOSTILE = ["", " ", "x; rm -rf /", "$(id)", "`id`", "a\nb: c", "'", '"', "{{ 7*7 }}", "${HOME}", "a b",
           "../../etc/passwd", "\x00", "é", "-", "latest", "root", "x" * 300, "*", "&anchor", "!!python/object"]
OPEN_PORTS = {"public": [8080, 8443, *range(60000, 60051)],
              "other": [8080, 8443, *range(60000, 60051), 3306, 5432, 27017, 55000, 55100, 5672, 8081, 50000, 50050]}
ENGINE_IMAGES = {"postgres": ["postgres:16", "postgres:17-alpine", "registry.spin.nersc.gov/dbs/postgres:16.4"],
                 "mysql": ["mysql:8.4", "library/mysql:8.0"], "mariadb": ["mariadb:11.4"], "mongodb": ["mongo:8.0"]}
PYTHON_IMAGES = ["python:3.13-slim", "python:3.13-alpine", "library/python:3.12", "docker.io/library/python:3.11-slim",
                 "registry.spin.nersc.gov/genome/python:3.13", "registry.nersc.gov/library/spin/python:3.12"]
BAD_IMAGES = ["python", "python:latest", "ghcr.io/org/python:3.12", "localhost:5000/python:3", "Python:3.12"]
SYSTEM_PATHS = ["/", "/etc", "/run/secrets", "/usr", "/var/run"]
SCHEDULES = ["0 0 9 * * *", "0 30 2 * * MON-FRI", "15 */10 * 1,15 JAN-JUN ?", "59 59 23 31 12 6", "0 0 0 * * SUN"]

label = st.from_regex(r"[a-z]([a-z0-9-]{0,61}[a-z0-9])?", fullmatch=True)
name = st.from_regex(r"[a-z][a-z0-9_]{0,63}", fullmatch=True)
fqdns = st.lists(st.from_regex(r"[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?", fullmatch=True), min_size=1, max_size=3).flatmap(
    lambda labels: st.from_regex(r"[a-z]([a-z0-9-]{0,8}[a-z0-9])?", fullmatch=True).map(
        lambda top: ".".join(labels + [top])))
component = st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9._+-]{0,12}", fullmatch=True).filter(lambda c: c.strip("."))
container_path = st.lists(st.from_regex(r"[a-z][a-z0-9_.-]{0,10}", fullmatch=True), min_size=1, max_size=3).map(
    lambda parts: "/" + "/".join(parts)).filter(lambda path: path not in SYSTEM_PATHS)


@st.composite
def valid_answers(draw):
    """An answer set that interface.md allows: every answer well-formed and consistent with the others."""
    services = draw(st.lists(st.sampled_from(ROLES), min_size=1, max_size=6, unique=True))
    access = draw(st.sampled_from(["public", "authenticated", "private"]))
    answers = {"owner": draw(name), "staff_owner": draw(name), "services": services, "access": access,
               "run_as_uid": draw(st.integers(1, 2**31 - 1)), "run_as_gid": draw(st.integers(1, 2**31 - 1))}
    optional = {
        "fqdn": st.one_of(st.just(""), fqdns), "stack_name": label,
        "environment": st.sampled_from(["dev-cattle", "prod-cattle", "sandbox"]),
        "group": st.one_of(st.just(""), name), "staff_group": st.one_of(st.just(""), name),
        "registry_project": st.from_regex(r"[a-z0-9]+([._-][a-z0-9]+){0,2}", fullmatch=True),
        "app_port": st.integers(1025, 65535), "app_base_image": st.sampled_from(PYTHON_IMAGES),
        "image_tag": st.from_regex(r"v[0-9]{1,3}(\.[0-9]{1,3}){0,2}", fullmatch=True),
        "kv_image": st.sampled_from(["redis:7.4-alpine", "redis:7.2", "registry.spin.nersc.gov/cache/redis:7"]),
        "ci": st.sampled_from(["none", "gitlab", "github"]),
        "max_body_mb": st.integers(1, 10240), "proxy_timeout": st.integers(1, 3600),
    }
    kubernetes = draw(st.booleans())
    if kubernetes:  # Spin on Kubernetes, a new stack's default: its own questions, none of Rancher 1.6's
        if draw(st.booleans()):
            answers["platform"] = "rancher2"
        optional.pop("environment")
        optional["kv_image"] = st.sampled_from(["redis:7.4-alpine", "redis:7.2", "ghcr.io/cache/redis:7.4",
                                                "registry.nersc.gov/cache/redis:7"])
        optional.update({"cluster": st.sampled_from(["development", "production"]),
                         "namespace": st.from_regex(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?", fullmatch=True)})
    else:
        answers["platform"] = "rancher1"
    for key, strategy in optional.items():
        if draw(st.booleans()):
            answers[key] = draw(strategy)
    if "web" in services and not kubernetes and draw(st.booleans()):
        if answers.get("fqdn") and draw(st.booleans()):
            answers["web_exposure"] = "reverse-proxy"
        else:
            answers["web_exposure"] = "port"
            answers["web_port"] = draw(st.sampled_from(OPEN_PORTS["public" if access == "public" else "other"]))
    if "db" in services and draw(st.booleans()):
        answers["db_engine"] = draw(st.sampled_from(sorted(ENGINE_IMAGES)))
        answers["db_image"] = draw(st.sampled_from(ENGINE_IMAGES[answers["db_engine"]]))
    if "kv" in services and draw(st.booleans()):
        answers["kv_persist"] = draw(st.booleans())
    if "util" in services and draw(st.booleans()):
        answers["backup_schedule"] = draw(st.sampled_from(SCHEDULES))
        answers["backup_keep_days"] = draw(st.sampled_from([0, 1, 7, 14, 36500]))
    if "db" in services and access != "public" and draw(st.booleans()):
        answers["db_nersc_access"] = draw(st.booleans())
    if draw(st.booleans()):
        answers["run_as_user"] = draw(st.from_regex(r"[a-z_][a-z0-9_-]{0,31}", fullmatch=True).filter(
            lambda user: user != "root"))
        if draw(st.booleans()):
            answers["run_as_group"] = draw(st.from_regex(r"[a-z_][a-z0-9_-]{0,31}", fullmatch=True).filter(
                lambda group: group != "root"))
            answers["run_as_comment"] = draw(st.from_regex(r"[A-Za-z0-9 _.-]{0,64}", fullmatch=True))
    mountable = [role for role in services if role in MOUNT_ROLES]
    if mountable:
        mounts = draw(st.lists(st.fixed_dictionaries(
            {"service": st.sampled_from(mountable),
             "host_path": st.lists(component, min_size=1, max_size=3).map(
                 lambda parts: "/global/cfs/cdirs/myproj/" + "/".join(parts)),
             "container_path": container_path},
            optional={"read_only": st.booleans() if access != "public" else st.just(True)}),
            max_size=3, unique_by=lambda mount: (mount["service"], mount["container_path"])))
        answers["gpfs_mounts"] = mounts
    if kubernetes:  # the NERSC registry under the name Spin on Kubernetes pulls from
        for key in ("app_base_image", "db_image", "kv_image"):
            if key in answers:
                answers[key] = answers[key].replace("registry.spin.nersc.gov/", "registry.nersc.gov/")
    # On Kubernetes a file name is also a Secret's name (with - for _): no part may start or end with - or _.
    secret_file = r"[a-z0-9]{1,8}(\.[a-z]{1,4})?" if kubernetes else r"[a-z0-9][a-z0-9_.-]{0,20}"
    answers["secrets"] = draw(st.dictionaries(st.from_regex(secret_file, fullmatch=True),
                                              st.lists(st.sampled_from(services), min_size=1, max_size=3, unique=True),
                                              max_size=3))
    return answers


# One answer broken, each way the interface refuses: key -> values that break it.
BREAKS = {
    "fqdn": ["Foo.Example.org", "localhost", "a..b", "-x.org"], "stack_name": ["1abc", "a_b", "x-", "x" * 64],
    "owner": ["Fred", "1fred", "fred-x"], "group": ["a b"], "registry_project": ["a__b_", "UPPER"],
    "environment": ["production", "dev"], "access": ["everyone"], "services": [[], ["web", "nginx"], "web"],
    "web_port": [80, 443, 12345, 0, 70000], "app_port": [80, 1024, 70000], "image_tag": ["latest", "v 1", ""],
    "app_base_image": BAD_IMAGES, "db_image": BAD_IMAGES, "kv_image": BAD_IMAGES, "db_engine": ["oracle"],
    "run_as_uid": [0, -1, 2**31], "run_as_gid": [0, 2**32], "run_as_user": ["root", "Fred"],
    "run_as_comment": ["a;b", "x" * 65],
    "gpfs_mounts": [[{"service": "db", "host_path": "/global/cfs/cdirs/p/x", "container_path": "/x"}],
                    [{"service": "web", "host_path": "/global/homes/f/fred", "container_path": "/x"}],
                    [{"service": "web", "host_path": "/global/cfs/cdirs", "container_path": "/x"}],
                    [{"service": "web", "host_path": "/etc/passwd", "container_path": "/x"}],
                    [{"service": "web", "host_path": "/global/cfs/cdirs/p/x", "container_path": "/etc"}],
                    [{"service": "web", "host_path": "/global/cfs/cdirs/p/x", "container_path": "/x",
                      "read_only": "no"}], "not a list"],
    "secrets": [{"Bad Name": ["web"]}, {"key": []}, {"key": ["nginx"]}, ["key"]],
    "backup_schedule": ["0 0 9 * *", "* 0 9 * * *", "0 0 25 * * *", "0 0 9 * * 7", "@daily", "0 0 9 * * *; id"],
    "backup_keep_days": [-1, 36501], "max_body_mb": [0, 10241, "64m"], "proxy_timeout": [0, 3601],
    "ci": ["travis"], "platform": ["rancher3", "kubernetes"], "cluster": ["staging", "Production"],
    "namespace": ["Caps", "-x", "x_y", "x" * 64],
}
TEXT_KEYS = ["fqdn", "stack_name", "namespace", "owner", "staff_owner", "group", "staff_group", "registry_project", "image_tag",
             "app_base_image", "db_image", "kv_image", "run_as_user", "run_as_group", "run_as_comment"]


@st.composite
def broken_answers(draw):
    """A valid answer set with one answer replaced: by a value the interface refuses, or by hostile text."""
    answers = draw(valid_answers())
    if draw(st.booleans()):
        key = draw(st.sampled_from(sorted(BREAKS)))
        answers[key] = draw(st.sampled_from(BREAKS[key]))
    else:
        answers[draw(st.sampled_from(TEXT_KEYS))] = draw(st.one_of(st.sampled_from(HOSTILE), st.text(max_size=30)))
    return answers


QUESTION_NAMED = re.compile(r"question '([a-z_]+)'|Invalid choice for '([a-z_]+)'|Question \"([a-z_]+)\" is required")


def _render_or_refuse(render, kind, answers):
    """'rendered' after checking the stack, or 'refused' after checking the refusal."""
    dst = Path(tempfile.mkdtemp()) / "stack"
    try:
        try:
            render(answers, dst=dst)
        except (ValueError, TypeError) as error:
            assert kind == "broken", f"a valid answer set was refused: {error}\n{answers}"
            # copier casts an int answer and a list answer itself, before any validator runs, and
            # says so in its own words (tests/test_validators.py pins both)
            assert QUESTION_NAMED.search(str(error)) or "invalid literal for int()" in str(error) or \
                "Not a YAML list" in str(error), str(error)
            assert refusal_fits(str(error)), f"longer than 80 columns: {error}"
            assert not dst.exists(), "a refused answer set must leave nothing written"
            return "refused"
        assert_stack_ok(dst)
        return "rendered"
    finally:
        shutil.rmtree(dst.parent, ignore_errors=True)


@given(answers=valid_answers())
def test_any_valid_answer_set_renders_a_valid_stack(render, answers):
    assert _render_or_refuse(render, "valid", answers) == "rendered"


@given(answers=broken_answers())
def test_any_broken_answer_set_is_refused_cleanly_or_renders_a_valid_stack(render, answers):
    event(_render_or_refuse(render, "broken", answers))


def mutate(text, data):
    """One random edit of a compose file: a line dropped, doubled or moved, bytes changed, values swapped."""
    lines = text.splitlines(keepends=True)
    kind = data.draw(st.sampled_from(["drop", "double", "swap", "bytes", "indent", "value"]))
    at = data.draw(st.integers(0, max(len(lines) - 1, 0)))
    if kind == "drop" and lines:
        del lines[at]
    elif kind == "double" and lines:
        lines.insert(at, lines[at])
    elif kind == "swap" and len(lines) > 1:
        other = data.draw(st.integers(0, len(lines) - 1))
        lines[at], lines[other] = lines[other], lines[at]
    elif kind == "indent" and lines:
        lines[at] = data.draw(st.sampled_from(["", " ", "   ", "\t"])) + lines[at].lstrip(" ")
    elif kind == "value" and lines:
        value = data.draw(st.sampled_from(["0", "root", "[ALL]", "{}", "*a", "&a x", "80:80", "1000:50", "0400",
                                           "'unclosed", "- x", "~", "!!binary AAAA", "latest", "/global/homes/x:/x"]))
        lines[at] = re.sub(r":\s.*$", ": " + value, lines[at]) if ": " in lines[at] else lines[at] + value
    else:
        blob = "".join(lines).encode()
        noise = data.draw(st.binary(min_size=1, max_size=8))
        return blob[:at] + noise + blob[at:]
    return "".join(lines).encode()


@settings(max_examples=2 * settings().max_examples)
@given(data=st.data())
def test_audit_never_crashes_on_mutated_stacks(rendered_examples, tmp_path_factory, data):
    compose_stacks = sorted(name for name, path in rendered_examples.items() if (path / "docker-compose.yml").is_file())
    source = rendered_examples[data.draw(st.sampled_from(compose_stacks))]
    stack = tmp_path_factory.mktemp("mutated")
    for path in ("docker-compose.yml", "rancher-compose.yml"):
        mutated = mutate((source / path).read_text(), data) if data.draw(st.booleans()) else (source / path).read_bytes()
        (stack / path).write_bytes(mutated)
    for fmt in ("text", "json", "sarif"):
        result = subprocess.run([tool("spin-audit"), "--format", fmt, str(stack)], capture_output=True, timeout=30)
        assert result.returncode in (0, 1, 2), result
        assert b"Traceback" not in result.stderr, result.stderr.decode(errors="replace")
        if result.returncode == 2:
            assert len(result.stderr.decode(errors="replace").strip().splitlines()) == 1, result.stderr
