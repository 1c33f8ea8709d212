"""Property-based tests over the whole answer space of interface.md: any answer set
is either refused with a message that names a question (and nothing is written),
or renders a stack that keeps its YAML types, passes the project's Rancher schema,
hadolint and spin-audit. The audit itself never crashes on mutated stacks.

`HYPOTHESIS_PROFILE=deep pytest tests/test_properties.py` runs many more examples."""

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from stack_checks import assert_stack_ok, tool
from terminal import refusal_fits

settings.register_profile("default", max_examples=30, deadline=None,
                          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
settings.register_profile("deep", max_examples=400, deadline=None,
                          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

ROLES = ["web", "app", "api", "db", "kv", "util"]
HOSTILE = ["", " ", "x; rm -rf /", "$(id)", "`id`", "a\nb: c", "'", '"', "{{ 7*7 }}", "${HOME}", "a b",
           "../../etc/passwd", "\x00", "é", "-", "latest", "root", "x" * 300, "*", "&anchor", "!!python/object"]

label = st.from_regex(r"[a-z]([a-z0-9-]{0,61}[a-z0-9])?", fullmatch=True)
name = st.from_regex(r"[a-z][a-z0-9_]{0,63}", fullmatch=True)


fqdns = st.one_of(st.just(""), st.lists(label, min_size=2, max_size=5).map(".".join))
images = st.sampled_from([
    "python:3.13-slim", "python:3.13-alpine", "library/python:3.12", "docker.io/library/python:3.11-slim",
    "registry.spin.nersc.gov/genome/python:3.13", "registry.nersc.gov/library/spin/python:3.12",
    "python", "python:latest", "ghcr.io/org/python:3.12", "localhost:5000/python:3", "Python:3.12",
    "postgres:16", "mysql:8.4", "mariadb:11.4", "mongo:8.0", "redis:7.4-alpine",
])
host_paths = st.one_of(
    st.lists(st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9._+-]{0,12}", fullmatch=True), min_size=0, max_size=5)
    .flatmap(lambda parts: st.sampled_from(["/global/cfs/cdirs/", "/global/project/projectdirs/", "/global/homes/",
                                            "/global/", "/etc/", "/global/cfs/"]).map(lambda root: root + "/".join(parts))),
    st.sampled_from(HOSTILE),
)
container_paths = st.one_of(st.from_regex(r"(/[a-z][a-z0-9_.-]{0,10}){1,3}", fullmatch=True),
                            st.sampled_from(["/", "/etc", "/run/secrets", "relative", "/data:rw", "/a/../b"]))
mounts = st.fixed_dictionaries(
    {"service": st.sampled_from(ROLES + ["lb"]), "host_path": host_paths, "container_path": container_paths},
    optional={"read_only": st.one_of(st.booleans(), st.sampled_from(["no", 0, None]))},
)
secret_files = st.one_of(st.from_regex(r"[a-z0-9][a-z0-9_.-]{0,20}", fullmatch=True), st.sampled_from(HOSTILE))
well_formed = st.fixed_dictionaries(
    {
        "owner": name,
        "staff_owner": name,
        "run_as_uid": st.one_of(st.integers(1, 2**31 - 1), st.integers(-5, 2**32)),
        "run_as_gid": st.one_of(st.integers(1, 2**31 - 1), st.integers(-5, 2**32)),
        "services": st.lists(st.sampled_from(ROLES), min_size=1, max_size=6, unique=True),
    },
    optional={
        "platform": st.sampled_from(["rancher1", "rancher2", "rancher2"]),
        "cluster": st.sampled_from(["development", "production", "staging"]),
        "namespace": st.one_of(label, st.sampled_from(["9lives", "Caps", "-x", "x" * 64])),
        "fqdn": fqdns,
        "stack_name": label,
        "environment": st.sampled_from(["dev-cattle", "prod-cattle", "sandbox", "dev-cattle", "production"]),
        "group": st.one_of(st.just(""), name),
        "staff_group": st.one_of(st.just(""), name),
        "registry_project": st.from_regex(r"[a-z0-9]+([._-][a-z0-9]+){0,2}", fullmatch=True),
        "access": st.sampled_from(["public", "authenticated", "private"]),
        "web_exposure": st.sampled_from(["reverse-proxy", "port"]),
        "web_port": st.one_of(st.integers(60000, 60050), st.integers(60000, 60050), st.sampled_from([80, 443, 8080, 8443, 50010, 5432, 12345])),
        "app_port": st.integers(1, 70000),
        "app_base_image": images,
        "image_tag": st.from_regex(r"v[0-9]{1,3}(\.[0-9]{1,3}){0,2}", fullmatch=True),
        "db_engine": st.sampled_from(["postgres", "mysql", "mariadb", "mongodb"]),
        "db_image": images,
        "kv_image": images,
        "run_as_user": st.one_of(st.just(""), st.from_regex(r"[a-z_][a-z0-9_-]{0,31}", fullmatch=True)),
        "run_as_group": st.one_of(st.just(""), st.from_regex(r"[a-z_][a-z0-9_-]{0,31}", fullmatch=True)),
        "run_as_comment": st.from_regex(r"[A-Za-z0-9 _.-]{0,64}", fullmatch=True),
        "gpfs_mounts": st.lists(mounts, max_size=3),
        "secrets": st.dictionaries(secret_files, st.lists(st.sampled_from(ROLES), min_size=0, max_size=3), max_size=3),
        "ci": st.sampled_from(["none", "gitlab", "github"]),
    },
)
TEXT_KEYS = ["fqdn", "stack_name", "namespace", "owner", "staff_owner", "group", "staff_group", "registry_project", "image_tag",
             "app_base_image", "db_image", "kv_image", "run_as_user", "run_as_group", "run_as_comment"]


@st.composite
def answer_sets(draw):
    """Well-formed answers (still free to clash with each other), and in half the
    cases one text answer replaced by something hostile."""
    answers = draw(well_formed)
    if draw(st.booleans()):
        answers[draw(st.sampled_from(TEXT_KEYS))] = draw(st.one_of(st.sampled_from(HOSTILE), st.text(max_size=30)))
    return answers


QUESTION_NAMED = re.compile(r"question '([a-z_]+)'|Invalid choice for '([a-z_]+)'|Question \"([a-z_]+)\" is required")


@given(answers=answer_sets())
def test_any_answer_set_is_refused_cleanly_or_renders_a_valid_stack(render, answers):
    dst = Path(tempfile.mkdtemp()) / "stack"
    try:
        try:
            render(answers, dst=dst)
        except (ValueError, TypeError) as error:
            assert QUESTION_NAMED.search(str(error)) or "invalid literal for int()" in str(error), str(error)
            assert refusal_fits(str(error)), "longer than 80 columns"
            assert not dst.exists(), "a refused answer set must leave nothing written"
            event("refused: " + next(filter(None, QUESTION_NAMED.search(str(error)).groups()), "int")
                  if QUESTION_NAMED.search(str(error)) else "refused: int")
            return
        event("rendered")
        assert_stack_ok(dst)
    finally:
        shutil.rmtree(dst.parent, ignore_errors=True)


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
