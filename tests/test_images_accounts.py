"""Ids and names that the base image already has build and run as answered
(buildah, imagekit.py): Debian's users 100 and nobody/nogroup 65534, nginx 101
of nginx:alpine, an answered group or user name that exists with another id,
and ids above busybox's 256000. In each case the container, run as its compose
service, reports the answered ids and names, the answered names and ids
resolve to each other, and the base image's own entry is still there under
its other name or id (Dockerfile comment: the answered entry goes first)."""

import pytest

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


def render_case(render, answers, roles):
    services = roles + (["app"] if "web" in roles and "app" not in roles else [])
    return render(minimal_answers(stack_name="ids", services=services, **answers))


@pytest.mark.parametrize("case, answers, roles, kept", CASES, ids=[case[0] for case in CASES])
def test_existing_ids_and_names_build_and_run_as_answered(render, image_store, tmp_path, case, answers, roles, kept):
    stack = render_case(render, answers, roles)
    assert_hadolint(stack)
    images = {}
    for role in roles:
        tag = f"localhost/ids-{case}-{role}:test"
        built = image_store.build(stack, stack / role / "Dockerfile", tag)
        assert built.returncode == 0, f"{role}/Dockerfile does not build:\n{built.stdout}{built.stderr}"
        images[role] = tag
    network_roles = roles + (["app"] if "web" in roles else [])
    run = imagekit.StackRun(image_store, stack, images, network_roles, tmp_path)
    uid, gid = answers.get("run_as_uid", 501), answers.get("run_as_gid", 124)
    user = answers.get("run_as_user", "")
    group = answers.get("run_as_group", user)
    for role in roles:
        status, output = run.run(role, ["sh", "-c", REPORT])
        assert status == 0, output
        ids, user_name, group_name = output.splitlines()
        assert ids == f"{uid} {gid}"
        assert group_name == group
        if user:
            assert user_name == user
        lookups = [("group", group, gid), ("group", str(gid), gid)] + [("passwd", user, uid), ("passwd", str(uid), uid)] * bool(user)
        for database, key, number in lookups + kept:
            status, entry = run.run(role, ["getent", database, key])
            assert status == 0 and entry.split(":")[2] == str(number), f"getent {database} {key}: {entry}"
            if key.isdigit() and (database, key, number) not in kept:
                assert entry.split(":")[0] == (group if database == "group" else user)
        if role == "web":
            status, output = run.run("web", ["nginx", "-t"])
            assert status == 0 and "test is successful" in output, output
