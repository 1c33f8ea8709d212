"""Every validator refuses what it exists for (injection attempts included), names
the question and the rule, leaves nothing written, and accepts good answers."""

import pytest

from stackkit import minimal_answers

ALL_ROLES = ["web", "app", "api", "db", "kv", "util"]
# Answers under which every question is asked.
CONTEXT = minimal_answers(services=ALL_ROLES, access="private", web_exposure="port",
                          run_as_user="c_flintstones", run_as_group="genome")

HOSTILE = ["x; rm -rf /", "$(id)", "`id`", "a\nb: c", 'x"y', "x'y", "a b", "../etc", "x\\y", "{{ 7*7 }}",
           "é", "x\x00y", "-rf", " "]

TEXT_QUESTIONS = ["fqdn", "stack_name", "owner", "staff_owner", "group", "staff_group", "registry_project",
                  "app_base_image", "image_tag", "db_image", "kv_image", "run_as_user", "run_as_group"]


def refused(render, tmp_path, question, message_part="", **answers):
    dst = tmp_path / "out"
    with pytest.raises(ValueError) as error:
        render({**CONTEXT, **answers}, dst=dst)
    assert question in str(error.value), str(error.value)
    assert message_part in str(error.value), str(error.value)
    assert not dst.exists(), "a refused answer must leave nothing written"
    return str(error.value)


@pytest.mark.parametrize("question", TEXT_QUESTIONS)
@pytest.mark.parametrize("value", HOSTILE)
def test_text_answers_cannot_break_out(render, tmp_path, question, value):
    refused(render, tmp_path, question, **{question: value})


def test_comment_refuses_quotes_and_shell(render, tmp_path):
    for value in ["x' && rm -rf / #", "$(id)", "a\nb", "x" * 65]:
        refused(render, tmp_path, "run_as_comment", "letters, digits", run_as_comment=value)


@pytest.mark.parametrize("question, value, rule", [
    ("fqdn", "Portal.JGI.doe.gov", "lowercase DNS name"),
    ("fqdn", "localhost", "two labels"),
    ("fqdn", "portal.jgi.doe.gov.", "DNS name"),
    ("fqdn", "a" * 64 + ".nersc.gov", "DNS name"),
    ("stack_name", "1portal", "starting with a letter"),
    ("stack_name", "portal-", "not ending with '-'"),
    ("stack_name", "a" * 64, "at most 63"),
    ("stack_name", "Portal", "lowercase"),
    ("environment", "production", "dev-cattle"),
    ("owner", "", "NERSC (NIM)"),
    ("owner", "Fred", "NERSC (NIM)"),
    ("owner", "1fred", "starting with a letter"),
    ("registry_project", "Genome", "registry namespace"),
    ("registry_project", "genome_", "registry namespace"),
    ("access", "open", "access"),
    ("web_exposure", "loadbalancer", "web_exposure"),
    ("image_tag", "latest", "never latest"),
    ("image_tag", "LATEST", "never latest"),
    ("image_tag", "", "explicit version"),
    ("image_tag", "-v1", "explicit version"),
    ("app_base_image", "python", "explicit version tag"),
    ("app_base_image", "python:latest", "never latest"),
    ("app_base_image", "ghcr.io/org/python:3.12", "Docker Hub"),
    ("app_base_image", "quay.io/python:3.12", "Docker Hub"),
    ("app_base_image", "localhost/python:3.12", "Docker Hub"),
    ("app_base_image", "registry.example.org:5000/python:3.12", "Docker Hub"),
    ("db_image", "postgres", "explicit version tag"),
    ("kv_image", "redis:latest", "never latest"),
    ("db_engine", "oracle", "db_engine"),
    ("ci", "jenkins", "ci"),
    ("run_as_user", "root", "not root"),
    ("run_as_user", "a" * 33, "at most 32"),
    ("run_as_group", "", "needed when run_as_user is set"),
])
def test_rule_is_named(render, tmp_path, question, value, rule):
    refused(render, tmp_path, question, rule, **{question: value})


@pytest.mark.parametrize("question, value, rule", [
    ("run_as_uid", 0, "between 1 and 2147483647"),
    ("run_as_uid", -5, "between 1 and 2147483647"),
    ("run_as_uid", 2**31, "between 1 and 2147483647"),
    ("run_as_gid", 0, "between 1 and 2147483647"),
    ("app_port", 80, "between 1025 and 65535"),
    ("app_port", 70000, "between 1025 and 65535"),
    ("web_port", 80, "80 or 443"),
    ("web_port", 443, "80 or 443"),
    ("web_port", 12345, "Spin's open host ports"),
    ("web_port", 60051, "Spin's open host ports"),
])
def test_numbers_out_of_range(render, tmp_path, question, value, rule):
    refused(render, tmp_path, question, rule, **{question: value})


def test_numbers_that_are_not_numbers(render, tmp_path):
    for value in ["501; rm -rf /", "abc", "1e3x"]:
        with pytest.raises(ValueError):
            render({**CONTEXT, "run_as_uid": value}, dst=tmp_path / "out")
        assert not (tmp_path / "out").exists()


def test_public_stack_needs_a_publicly_open_port(render, tmp_path):
    refused(render, tmp_path, "web_port", "open to everyone", access="public", web_port=50010)
    assert render({**CONTEXT, "access": "private", "web_port": 50010})


def test_services_must_be_known_and_present(render, tmp_path):
    for value in [[], ["web", "bogus"]]:
        refused(render, tmp_path, "services", services=value)
    # A bare string is refused by copier itself, before any validator runs.
    with pytest.raises(TypeError, match="Not a YAML list"):
        render({**CONTEXT, "services": "web"}, dst=tmp_path / "out")
    assert not (tmp_path / "out").exists()


MOUNT = {"service": "app", "host_path": "/global/cfs/cdirs/genome/portal/data", "container_path": "/data"}


@pytest.mark.parametrize("change, rule", [
    ({"host_path": "/global/homes/f/fred/data"}, "home directory"),
    ({"host_path": "/global/homes"}, "home directory"),
    ({"host_path": "/global/cfs/cdirs"}, "file-system root"),
    ({"host_path": "/global/cfs/cdirs/"}, "file-system root"),
    ({"host_path": "/global/project/scratch"}, "file-system root"),
    ({"host_path": "/global"}, "file-system root"),
    ({"host_path": "/global/foo"}, "file-system root"),
    ({"host_path": "/etc/passwd"}, "under /global/"),
    ({"host_path": "/globalx/cfs/cdirs/x/y"}, "under /global/"),
    ({"host_path": "relative/path"}, "absolute path"),
    ({"host_path": "/global/cfs/cdirs/genome/../../../etc"}, "absolute path"),
    ({"host_path": "/global/cfs/cdirs/genome//x"}, "absolute path"),
    ({"host_path": "/global/cfs/cdirs/genome/x:/etc"}, "absolute path"),
    ({"host_path": "/global/cfs/cdirs/genome/x y"}, "absolute path"),
    ({"host_path": "/global/cfs/cdirs/genome/x\n- /:/host"}, "absolute path"),
    ({"container_path": "/etc"}, "system directory"),
    ({"container_path": "/run/secrets"}, "system directory"),
    ({"container_path": "data"}, "absolute path"),
    ({"container_path": "/data:rw"}, "absolute path"),
    ({"service": "db"}, "web, app, api, util"),
    ({"service": "kv"}, "web, app, api, util"),
    ({"service": "lb"}, "web, app, api, util"),
    ({"read_only": "no"}, "true or false"),
    ({"mode": "rw"}, "unknown key"),
])
def test_gpfs_mount_rules(render, tmp_path, change, rule):
    refused(render, tmp_path, "gpfs_mounts", rule, gpfs_mounts=[{**MOUNT, **change}])


def test_gpfs_mount_read_write_only_off_public(render, tmp_path):
    rw = {**MOUNT, "read_only": False}
    refused(render, tmp_path, "gpfs_mounts", "public services mount the global file system read-only",
            access="public", gpfs_mounts=[rw])
    for access in ("authenticated", "private"):
        assert render({**CONTEXT, "access": access, "gpfs_mounts": [rw]})


def test_gpfs_mount_service_must_be_chosen(render, tmp_path):
    refused(render, tmp_path, "gpfs_mounts", "not among the chosen services",
            services=["web", "db"], gpfs_mounts=[MOUNT])


def test_gpfs_mounts_shape(render, tmp_path):
    for value in ["/global/cfs/cdirs/x/y", {"service": "app"}, [5], [["app"]], [{"service": "app"}]]:
        refused(render, tmp_path, "gpfs_mounts", gpfs_mounts=value)
    refused(render, tmp_path, "gpfs_mounts", "already mounts", gpfs_mounts=[MOUNT, MOUNT])


@pytest.mark.parametrize("value, rule", [
    ([["app"]], "mapping"),
    ({"Bad Name": ["app"]}, "file name"),
    ({"x;rm": ["app"]}, "file name"),
    ({"../passwd": ["app"]}, "file name"),
    ({"token": []}, "must list the services"),
    ({"token": "app"}, "must list the services"),
    ({"token": ["lb"]}, "not among the chosen services"),
])
def test_secret_rules(render, tmp_path, value, rule):
    refused(render, tmp_path, "secrets", rule, secrets=value)


def test_secret_reader_must_be_chosen(render, tmp_path):
    refused(render, tmp_path, "secrets", "not among the chosen services", services=["web"], secrets={"token": ["app"]})


@pytest.mark.parametrize("answers", [
    {"fqdn": "portal.jgi.doe.gov"},
    {"fqdn": "a.b"},
    {"fqdn": "x" * 63 + ".nersc.gov"},
    {"stack_name": "a"},
    {"stack_name": "a" * 63},
    {"owner": "f" * 64, "staff_owner": "w_2"},
    {"group": "", "staff_group": ""},
    {"registry_project": "my-team.tools"},
    {"image_tag": "v20260115", "app_base_image": "library/python:3.13-slim"},
    {"app_base_image": "registry.spin.nersc.gov/genome/python:3.13"},
    {"app_base_image": "docker.io/library/python:3.13-alpine"},
    {"app_base_image": "python:3.13-slim@sha256:" + "a" * 64},
    {"db_image": "registry.nersc.gov/library/spin/postgres:16"},
    {"run_as_uid": 2**31 - 1, "run_as_gid": 1},
    {"run_as_user": "", "run_as_group": ""},
    {"run_as_user": "", "run_as_group": "genome"},
    {"run_as_comment": "Genome Portal Account 2.0_x-y"},
    {"web_port": 8080}, {"web_port": 8443}, {"web_port": 60000}, {"web_port": 60050},
    {"web_port": 50000, "access": "private"}, {"web_port": 5432, "access": "private"},
    {"app_port": 1025}, {"app_port": 65535},
    {"gpfs_mounts": [{**MOUNT, "host_path": "/global/cfs/cdirs/genome/portal/data/"}]},
    {"gpfs_mounts": [MOUNT, {**MOUNT, "service": "util", "read_only": False}]},
    {"secrets": {"api.key": ["app", "api"], "0token": ["util"]}},
])
def test_good_answers_are_accepted(render, answers):
    stack = render({**CONTEXT, **answers})
    assert (stack / "docker-compose.yml").is_file()
