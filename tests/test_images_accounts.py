"""Ids and names that the base image already has build and run as answered
(buildah, imagekit.py): Debian's users 100 and nobody/nogroup 65534, nginx 101
of nginx:alpine, an answered group or user name that exists with another id,
and ids above busybox's 256000. In each case the container, run as its compose
service, reports the answered ids and names, the answered names and ids
resolve to each other, and the base image's own entry is still there under
its other name or id (Dockerfile comment: the answered entry goes first)."""

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import imagekit
from stack_checks import assert_hadolint
from stackkit import minimal_answers

pytestmark = [pytest.mark.images, pytest.mark.skipif(bool(imagekit.missing()), reason=imagekit.missing())]

SLIM, ALPINE = "python:3.13-slim", "python:3.13-alpine"
REPORT = ("echo $(id -u) $(id -g); "
          "if user=$(id -un 2>/dev/null); then echo $user; else echo -; fi; "
          "if group=$(id -gn 2>/dev/null); then echo $group; else echo -; fi")

# (case, answers, roles, base entries that must still resolve: (database, key, id))
CASES = [
    ("debian-gid-100-users", dict(run_as_uid=501, run_as_gid=100, run_as_user="c_flintstones", run_as_group="genome"),
     ["app"], [("group", "users", 100)]),
    ("debian-nobody-nogroup-65534", dict(run_as_uid=65534, run_as_gid=65534, run_as_user="c_flintstones",
                                         run_as_group="genome"),
     ["app"], [("passwd", "nobody", 65534), ("group", "nogroup", 65534)]),
    ("debian-group-name-users-as-124", dict(run_as_user="c_flintstones", run_as_group="users"),
     ["app"], [("group", "100", 100)]),
    ("debian-user-name-nobody-as-501", dict(run_as_user="nobody", run_as_group="genome"),
     ["app"], [("passwd", "65534", 65534)]),
    ("debian-group-only-gid-100", dict(run_as_gid=100, run_as_group="genome"), ["app"], [("group", "users", 100)]),
    ("debian-same-name-and-id", dict(run_as_uid=65534, run_as_gid=100, run_as_user="nobody", run_as_group="users"),
     ["app"], []),
    ("alpine-gid-100-uid-65534", dict(app_base_image=ALPINE, run_as_uid=65534, run_as_gid=100,
                                      run_as_user="c_flintstones", run_as_group="genome"),
     ["app"], [("passwd", "nobody", 65534), ("group", "users", 100)]),
    ("alpine-ids-above-256000", dict(app_base_image=ALPINE, run_as_uid=70000001, run_as_gid=2147483647,
                                     run_as_user="c_flintstones", run_as_group="genome"),
     ["app"], []),
    ("alpine-group-name-users-as-124", dict(app_base_image=ALPINE, run_as_user="c_flintstones", run_as_group="users"),
     ["app"], [("group", "100", 100)]),
    ("nginx-uid-gid-101", dict(run_as_uid=101, run_as_gid=101, run_as_user="c_flintstones", run_as_group="genome"),
     ["web"], [("passwd", "nginx", 101), ("group", "nginx", 101)]),
    ("nginx-group-name-nginx-as-124", dict(run_as_user="c_flintstones", run_as_group="nginx"),
     ["web"], [("passwd", "nginx", 101), ("group", "101", 101)]),
    ("nginx-user-name-nginx-as-501", dict(run_as_user="nginx", run_as_group="genome"),
     ["web"], [("passwd", "101", 101), ("group", "nginx", 101)]),
    ("nginx-group-only-gid-101", dict(run_as_gid=101, run_as_group="genome"), ["web"], [("group", "nginx", 101)]),
]


TAKEN_IDS = [100, 101, 35, 405, 1000, 65533, 65534]
TAKEN_NAMES = ["users", "nobody", "nogroup", "nginx", "games", "guest", "daemon", "www-data"]
ids = st.one_of(st.sampled_from(TAKEN_IDS), st.integers(1, 2**31 - 1))
names = st.one_of(st.sampled_from(TAKEN_NAMES),
                  st.from_regex(r"[a-z_][a-z0-9_-]{0,31}", fullmatch=True).filter(lambda name: name != "root"))


@st.composite
def account_answers(draw):
    user = draw(st.one_of(st.just(""), names))
    answers = {"run_as_uid": draw(ids), "run_as_gid": draw(ids), "run_as_user": user,
               "run_as_group": draw(names) if user else draw(st.one_of(st.just(""), names)),
               "app_base_image": draw(st.sampled_from([SLIM, ALPINE]))}
    return answers, draw(st.sampled_from([["app"], ["web"]]))


def render_case(render, answers, roles):
    services = roles + (["app"] if "web" in roles and "app" not in roles else [])
    return render(minimal_answers(stack_name="ids", services=services, **answers))


@pytest.mark.parametrize("case, answers, roles, kept", CASES, ids=[case[0] for case in CASES])
def test_existing_ids_and_names_build_and_run_as_answered(render, image_store, tmp_path, case, answers, roles, kept):
    stack = render_case(render, answers, roles)
    assert_hadolint(stack)
    build_and_check(image_store, stack, answers, roles, kept, case, tmp_path)


def build_and_check(image_store, stack, answers, roles, kept, case, workdir):
    """Build each role's image, run the stack's containers side by side, and check their accounts."""
    images = {}
    for role in roles:
        tag = f"localhost/ids-{case}-{role}:test"
        built = image_store.build(stack, stack / role / "Dockerfile", tag)
        assert built.returncode == 0, f"{answers}: {role}/Dockerfile does not build:\n{built.stdout}{built.stderr}"
        images[role] = tag
    network_roles = roles + (["app"] if "web" in roles else [])
    run = imagekit.StackRun(image_store, stack, images, network_roles, workdir)
    try:
        check_accounts(run, answers, roles, kept)
    finally:
        run.close()


def check_accounts(run, answers, roles, kept):
    """As its service, each role reports the answered ids and, where answered, names;
    answered names and ids resolve to each other; `kept` base entries still resolve."""
    uid, gid = answers.get("run_as_uid", 501), answers.get("run_as_gid", 124)
    user = answers.get("run_as_user", "")
    group = answers.get("run_as_group", user)
    answered = ([("group", group, gid, group), ("group", str(gid), gid, group)] * bool(group)
                + [("passwd", user, uid, user), ("passwd", str(uid), uid, user)] * bool(user))
    for role in roles:
        status, output = run.run(role, ["sh", "-c", REPORT])
        assert status == 0, output
        ids, user_name, group_name = output.splitlines()
        assert ids == f"{uid} {gid}"
        assert (user_name if user else user, group_name if group else group) == (user, group)
        for database, key, number, name in answered + [(*entry, None) for entry in kept]:
            status, entry = run.run(role, ["getent", database, key])
            fields = entry.strip().split(":")
            assert status == 0 and fields[2] == str(number), f"getent {database} {key}: {entry}"
            assert name is None or fields[0] == name, f"getent {database} {key}: {entry}"
        if role == "web":
            status, output = run.run("web", ["nginx", "-t"])
            assert status == 0 and "test is successful" in output, output


@settings(max_examples=int(os.environ.get("IMAGE_EXAMPLES", "5")), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(case=account_answers())
def test_any_account_answers_build_and_run_as_answered(render, image_store, tmp_path_factory, case):
    answers, roles = case
    build_and_check(image_store, render_case(render, answers, roles), answers, roles, [], "drawn",
                    tmp_path_factory.mktemp("drawn"))
