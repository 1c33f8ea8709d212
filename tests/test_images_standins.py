"""The stand-ins look like the images they stand for where the Dockerfiles
depend on it: their account files, the tools they have and lack, and above all
busybox's addgroup/adduser (tests/standins/busybox-accounts.sh), which must
refuse what busybox refuses, with busybox's messages (loginutils/addgroup.c,
adduser.c, libbb's xatou_range and die_if_bad_username)."""

import shutil

import pytest

import imagekit

pytestmark = [pytest.mark.images, pytest.mark.skipif(bool(imagekit.missing()), reason=imagekit.missing())]

ROOT = imagekit.Account(0, 0, (0,))


ACCOUNT_FILES = ["/etc/passwd", "/etc/group", "/etc/shadow", "/etc/gshadow"]


@pytest.fixture(scope="module")
def shell(image_store):
    """shell(standin, script) -> (status, output) of `sh -c script` as root in the
    stand-in's container, its account files and /home as the image has them."""
    pristine = {}

    def run(standin, script):
        container = image_store.container(image_store.base(imagekit.STANDINS[standin]), shared=True)
        if container.name not in pristine:
            pristine[container.name] = {path: container.path(path).read_bytes() for path in ACCOUNT_FILES
                                        if container.path(path).exists()}
        for path, content in pristine[container.name].items():
            container.path(path).write_bytes(content)
        shutil.rmtree(container.path("/home"), ignore_errors=True)
        container.path("/home").mkdir()
        return container.run(["sh", "-c", script], ROOT)
    return run


def test_nginx_standin_has_the_nginx_account_and_cache_of_nginx_alpine(shell):
    status, output = shell("nginx-alpine", "id nginx; grep '^nginx:' /etc/passwd; stat -c '%u:%g %a' /var/cache/nginx;"
                           " readlink /var/log/nginx/error.log; command -v groupadd useradd || echo no-shadow-tools")
    assert status == 0, output
    assert output.splitlines() == ["uid=101(nginx) gid=101(nginx) groups=101(nginx)",
                                   "nginx:x:101:101:nginx:/var/cache/nginx:/sbin/nologin",
                                   "0:0 755", "/dev/stderr", "no-shadow-tools"]


@pytest.mark.parametrize("standin", ["python-alpine", "nginx-alpine", "db-tools"])
def test_alpine_standins_run_busybox_and_alpine_accounts(shell, standin):
    status, output = shell(standin, "readlink -f /bin/sh; grep -E '^(users|nogroup|nobody):' /etc/group")
    assert status == 0, output
    assert output.splitlines() == ["/usr/bin/busybox", "users:x:100:games", "nogroup:x:65533:", "nobody:x:65534:"]


def test_debian_standin_refuses_an_existing_gid_as_groupadd_does(shell):
    status, output = shell("python-slim", "grep -E '^(users|nogroup):' /etc/group; groupadd -g 100 genome")
    assert status != 0
    assert output.splitlines() == ["users:x:100:", "nogroup:x:65534:", "groupadd: GID '100' already exists"]


@pytest.mark.parametrize("command, message", [
    ("addgroup -g 101 genome", "addgroup: gid '101' in use"),
    ("addgroup -g 124 nginx", "addgroup: group 'nginx' in use"),
    ("addgroup -g 256001 genome", "addgroup: number 256001 is not in 0..256000 range"),
    ("addgroup -g 12x genome", "addgroup: invalid number '12x'"),
    ("addgroup -g 124 'gen ome'", "addgroup: illegal character with code 32 at position 3"),
    ("addgroup -g 124 -- -genome", "addgroup: illegal character with code 45 at position 0"),
    ("addgroup nobody nosuchgroup", "addgroup: unknown group nosuchgroup"),
    ("addgroup nosuchuser nginx", "addgroup: unknown user nosuchuser"),
    ("adduser -D -u 101 -G nginx c_flintstones", "adduser: uid '101' in use"),
    ("adduser -D -u 65534 c_flintstones", "adduser: uid '65534' in use"),
    ("adduser -D -u 501 nginx", "adduser: user 'nginx' in use"),
    ("adduser -D -u 501 -G genome c_flintstones", "adduser: unknown group genome"),
    ("adduser -D -u 300000 c_flintstones", "adduser: number 300000 is not in 0..256000 range"),
    ("adduser -D -u 501 users", "adduser: group 'users' in use"),
])
def test_busybox_accounts_refuse_what_busybox_refuses(shell, command, message):
    status, output = shell("nginx-alpine", f"cp /etc/passwd /etc/group /tmp/; {command}; echo status=$?;"
                                           " cmp -s /etc/passwd /tmp/passwd && cmp -s /etc/group /tmp/group && echo unchanged")
    assert output.splitlines() == [message, "status=1", "unchanged"]


def test_busybox_accounts_add_a_group_and_a_user_in_it_as_busybox_does(shell):
    status, output = shell("nginx-alpine", "addgroup -g 124 genome && adduser -D -u 501 -G genome -g 'Genome Portal'"
                           " c_flintstones && tail -n 1 /etc/group && tail -n 1 /etc/passwd &&"
                           " stat -c '%u:%g %a' /home/c_flintstones && addgroup c_flintstones nginx &&"
                           " addgroup c_flintstones nginx && grep '^nginx:' /etc/group && id c_flintstones")
    assert status == 0, output
    assert output.splitlines() == [
        "genome:x:124:c_flintstones", "c_flintstones:x:501:124:Genome Portal:/home/c_flintstones:/bin/sh",
        "501:124 2755", "nginx:x:101:nginx,c_flintstones", "uid=501(c_flintstones) gid=124(genome) groups=124(genome),101(nginx)"]


def test_busybox_adduser_without_a_group_makes_its_own_and_picks_free_ids(shell):
    status, output = shell("python-alpine", "adduser -D -H c_flintstones && adduser -D -S -H svc &&"
                           " grep -E '^(c_flintstones|svc):' /etc/passwd /etc/group")
    assert status == 0, output
    assert output.splitlines() == [
        "/etc/passwd:c_flintstones:x:1000:1000:Linux User,,,:/home/c_flintstones:/bin/sh",
        "/etc/passwd:svc:x:100:65533:Linux User,,,:/home/svc:/sbin/nologin",
        "/etc/group:c_flintstones:x:1000:"]
