"""Every validator refuses what it exists for (injection attempts included), names
the question and the rule, leaves nothing written, and accepts good answers."""

import re

import pytest
import yaml
from jinja2 import FileSystemLoader
from jinja2.sandbox import SandboxedEnvironment

from stackkit import ROOT, minimal_answers
from terminal import refusal_fits

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
    assert refusal_fits(str(error.value)), f"cut at 80 columns: {error.value}"
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
    ("fqdn", "localhost", "DNS name"),
    ("fqdn", "portal.jgi.doe.gov.", "DNS name"),
    ("fqdn", "a" * 64 + ".nersc.gov", "DNS name"),
    ("stack_name", "1portal", "DNS label"),
    ("stack_name", "portal-", "DNS label"),
    ("stack_name", "a" * 64, "DNS label"),
    ("stack_name", "Portal", "a-z, 0-9, -"),
    ("environment", "production", "dev-cattle"),
    ("owner", "", "NIM name"),
    ("owner", "Fred", "NIM name: a-z, 0-9, _"),
    ("owner", "1fred", "NIM name"),
    ("registry_project", "Genome", "a-z, 0-9 and . _ -"),
    ("registry_project", "genome_", "a-z, 0-9 and . _ -"),
    ("access", "open", "access"),
    ("web_exposure", "loadbalancer", "web_exposure"),
    ("image_tag", "latest", "not latest"),
    ("image_tag", "LATEST", "not latest"),
    ("image_tag", "", "version tag"),
    ("image_tag", "-v1", "version tag"),
    ("app_base_image", "python", "image:tag"),
    ("app_base_image", "python:latest", "latest tag"),
    ("app_base_image", "ghcr.io/org/python:3.12", "Hub or Spin"),
    ("app_base_image", "quay.io/python:3.12", "Hub or Spin"),
    ("app_base_image", "localhost/python:3.12", "Hub or Spin"),
    ("app_base_image", "registry.example.org:5000/python:3.12", "Hub or Spin"),
    ("db_image", "postgres", "image:tag"),
    ("kv_image", "redis:latest", "latest tag"),
    ("db_engine", "oracle", "db_engine"),
    ("ci", "jenkins", "ci"),
    ("run_as_user", "root", "not root"),
    ("run_as_user", "a" * 33, "account name"),
    ("run_as_group", "", "needed when run_as_user is set"),
])
def test_rule_is_named(render, tmp_path, question, value, rule):
    refused(render, tmp_path, question, rule, **{question: value})


@pytest.mark.parametrize("question, value, rule", [
    ("run_as_uid", 0, "from 1 to 2147483647"),
    ("run_as_uid", -5, "from 1 to 2147483647"),
    ("run_as_uid", 2**31, "from 1 to 2147483647"),
    ("run_as_gid", 0, "from 1 to 2147483647"),
    ("app_port", 80, "from 1025 to 65535"),
    ("app_port", 70000, "from 1025 to 65535"),
    ("web_port", 80, "80 or 443"),
    ("web_port", 443, "80 or 443"),
    ("web_port", 12345, "Spin's open ports"),
    ("web_port", 60051, "Spin's open ports"),
])
def test_numbers_out_of_range(render, tmp_path, question, value, rule):
    refused(render, tmp_path, question, rule, **{question: value})


def test_numbers_that_are_not_numbers(render, tmp_path):
    for value in ["501; rm -rf /", "abc", "1e3x"]:
        with pytest.raises(ValueError):
            render({**CONTEXT, "run_as_uid": value}, dst=tmp_path / "out")
        assert not (tmp_path / "out").exists()


def test_public_stack_needs_a_publicly_open_port(render, tmp_path):
    refused(render, tmp_path, "web_port", "8080, 8443 or 60000-60050", access="public", web_port=50010)
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
    ({"host_path": "/global/homes/f/fred/data"}, "/global/homes"),
    ({"host_path": "/global/homes"}, "/global/homes"),
    ({"host_path": "/global/cfs/cdirs"}, "too shallow"),
    ({"host_path": "/global/cfs/cdirs/"}, "too shallow"),
    ({"host_path": "/global/project/scratch"}, "too shallow"),
    ({"host_path": "/global"}, "too shallow"),
    ({"host_path": "/global/foo"}, "too shallow"),
    ({"host_path": "/etc/passwd"}, "not under /global/"),
    ({"host_path": "/globalx/cfs/cdirs/x/y"}, "not under /global/"),
    ({"host_path": "relative/path"}, "malformed"),
    ({"host_path": "/global/cfs/cdirs/genome/../../../etc"}, "malformed"),
    ({"host_path": "/global/cfs/cdirs/genome//x"}, "malformed"),
    ({"host_path": "/global/cfs/cdirs/genome/x:/etc"}, "malformed"),
    ({"host_path": "/global/cfs/cdirs/genome/x y"}, "malformed"),
    ({"host_path": "/global/cfs/cdirs/genome/x\n- /:/host"}, "malformed"),
    ({"container_path": "/etc"}, "container_path is reserved"),
    ({"container_path": "/run/secrets"}, "container_path is reserved"),
    ({"container_path": "data"}, "malformed"),
    ({"container_path": "/data:rw"}, "malformed"),
    ({"service": "db"}, "only web/app/api/util mount"),
    ({"service": "kv"}, "only web/app/api/util mount"),
    ({"service": "lb"}, "only web/app/api/util mount"),
    ({"read_only": "no"}, "true/false"),
    ({"mode": "rw"}, "unknown key"),
])
def test_gpfs_mount_rules(render, tmp_path, change, rule):
    refused(render, tmp_path, "gpfs_mounts", rule, gpfs_mounts=[{**MOUNT, **change}])


def test_gpfs_mount_read_write_only_off_public(render, tmp_path):
    rw = {**MOUNT, "read_only": False}
    refused(render, tmp_path, "gpfs_mounts", "#1: public: app must be read-only",
            access="public", gpfs_mounts=[rw])
    for access in ("authenticated", "private"):
        assert render({**CONTEXT, "access": access, "gpfs_mounts": [rw]})


def test_gpfs_mount_service_must_be_chosen(render, tmp_path):
    refused(render, tmp_path, "gpfs_mounts", "#1: service app is not chosen",
            services=["web", "db"], gpfs_mounts=[MOUNT])


def test_gpfs_mounts_shape(render, tmp_path):
    for value in ["/global/cfs/cdirs/x/y", {"service": "app"}, [5], [["app"]], [{"service": "app"}]]:
        refused(render, tmp_path, "gpfs_mounts", gpfs_mounts=value)
    refused(render, tmp_path, "gpfs_mounts", "#2: container_path mounted twice", gpfs_mounts=[MOUNT, MOUNT])


@pytest.mark.parametrize("value, rule", [
    ([["app"]], "or a mapping"),
    ({"Bad Name": ["app"]}, "#1: name must be a-z"),
    ({"x;rm": ["app"]}, "name must be"),
    ({"../passwd": ["app"]}, "name must be"),
    ({"token": []}, "#1: list the services that read it"),
    ({"token": None}, "list the services that read it"),
    ({"token": 5}, "list the services that read it"),
    ({"a": ["app"], "token": ["lb"]}, "#2: a reader is not a chosen service"),
])
def test_secret_rules(render, tmp_path, value, rule):
    refused(render, tmp_path, "secrets", rule, secrets=value)


def test_secret_reader_must_be_chosen(render, tmp_path):
    refused(render, tmp_path, "secrets", "a reader is not a chosen service", services=["web"], secrets={"token": ["app"]})


@pytest.mark.parametrize("answers", [
    {"fqdn": "portal.jgi.doe.gov"},
    {"fqdn": "a.b"},
    {"fqdn": "x" * 63 + ".nersc.gov"},
    {"fqdn": "9lives.lab09.example2.org"},
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


K8S_CONTEXT = minimal_answers(platform="rancher2", services=["web", "app"], stack_name="portal")


@pytest.mark.parametrize("namespace", ["a" * 64, "Portal", "-portal", "portal-", "por_tal", "portal.dev"])
def test_namespace_must_be_a_dns_label(render, tmp_path, namespace):
    dst = tmp_path / "out"
    with pytest.raises(ValueError) as error:
        render({**K8S_CONTEXT, "namespace": namespace}, dst=dst)
    assert "namespace" in str(error.value) and "a-z, 0-9, -" in str(error.value), str(error.value)
    assert not dst.exists(), "a refused answer must leave nothing written"


@pytest.mark.parametrize("namespace", ["a" * 63, "0portal", "p"])
def test_namespace_of_up_to_63_characters_is_accepted(render, namespace):
    stack = render({**K8S_CONTEXT, "namespace": namespace})
    for cluster in ("development", "production"):
        kustomization = yaml.safe_load((stack / "k8s" / cluster / "kustomization.yaml").read_text())
        assert kustomization["namespace"] == namespace


@pytest.mark.parametrize("secrets, rule", [
    ({"api_key.txt": ["app"], "api-key.txt": ["app"]}, "#2: same Kubernetes name as #1"),
    ({"token": ["app"], "token_": ["app"]}, "#2: makes no Kubernetes name"),
    ({"a..b": ["app"]}, "#1: makes no Kubernetes name"),
    ({"token.": ["app"]}, "#1: makes no Kubernetes name"),
])
def test_secret_files_must_make_distinct_kubernetes_names(render, tmp_path, secrets, rule):
    dst = tmp_path / "out"
    with pytest.raises(ValueError) as error:
        render({**K8S_CONTEXT, "secrets": secrets}, dst=dst)
    assert "secrets" in str(error.value) and rule in str(error.value), str(error.value)
    assert not dst.exists(), "a refused answer must leave nothing written"


def test_a_secret_file_may_not_take_a_database_passwords_kubernetes_name(render, tmp_path):
    dst = tmp_path / "out"
    answers = {**K8S_CONTEXT, "services": ["app", "db"], "db_engine": "postgres",
               "secrets": {"postgres-password": ["app"]}}
    with pytest.raises(ValueError) as error:
        render(answers, dst=dst)
    assert "#1: same Kubernetes name as db password" in str(error.value), str(error.value)
    assert not dst.exists()


def test_secret_names_that_only_collide_on_kubernetes_are_fine_on_rancher1(render):
    stack = render({**K8S_CONTEXT, "platform": "rancher1", "secrets": {"api_key.txt": ["app"], "api-key.txt": ["app"]}})
    assert (stack / "docker-compose.yml").is_file()


@pytest.mark.parametrize("namespace, advice", [("portal-dev", "answer stack_name=portal-dev as well"),
                                               ("0portal", "leave namespace out"), ("a:b", "leave namespace out")])
def test_a_namespace_on_rancher1_is_refused_with_advice_that_can_be_followed(render, tmp_path, namespace, advice):
    dst = tmp_path / "out"
    with pytest.raises(ValueError) as error:
        render({**K8S_CONTEXT, "platform": "rancher1", "namespace": namespace}, dst=dst)
    message = str(error.value)
    assert "question 'platform'" in message and f"namespace {namespace} would be dropped; {advice}, " in message, message
    assert not dst.exists()


@pytest.mark.parametrize("platform", ["rancher1", "rancher2"])
def test_a_database_password_the_answer_lists_is_that_same_secret(render, platform):
    """The spec's own answers list the engine's password among the secrets; on either platform it is
    the database's secret, created once, read by db and by what the answer adds."""
    stack = render(minimal_answers(platform=platform, stack_name="myportal", services=["web", "app", "db"],
                                   db_engine="mysql", secrets={"mysql_password": ["db", "app"], "api_key": ["app"]}))
    makefile = (stack / "Makefile").read_text()
    name = "db.myportal.mysql_password" if platform == "rancher1" else "db.myportal.mysql-password"
    creates = [line for line in makefile.splitlines() if "secret" in line and "create" in line and f" {name} " in line]
    assert len(creates) == 1, creates
    readme = (stack / "README.md").read_text()
    rows = [line.strip() for line in readme.splitlines() if line.strip().startswith(f"| `{name}` |")]
    assert rows == [f"| `{name}` | `secrets/mysql_password` → `/run/secrets/mysql_password` | app, db |"]


def _validators_that_skip_their_default():
    """(question, default, the validator without its skip) for each validator of the form
    `{% if KEY != 'DEFAULT' %}...{% endif %}`, which copier.yml uses to spare every run the compile
    of a costly validator file for a value the template itself chose."""
    questions = yaml.safe_load((ROOT / "copier.yml").read_text())
    skips = []
    for key, details in questions.items():
        validator = details.get("validator", "") if isinstance(details, dict) else ""
        match = re.fullmatch(r"\{% if (\w+) != '([^']*)' %\}(.*)\{% endif %\}", validator.strip(), re.S)
        if match:
            assert match.group(1) == key, f"{key}: the skip tests another question's answer"
            skips.append(pytest.param(key, match.group(2), match.group(3), details["default"], id=key))
    return skips


@pytest.mark.parametrize("platform", ["rancher1", "rancher2"])
@pytest.mark.parametrize("question, skipped, validator, default", _validators_that_skip_their_default())
def test_a_validator_skips_only_its_own_default_and_that_default_is_valid(question, skipped, validator, default,
                                                                        platform):
    env = SandboxedEnvironment(loader=FileSystemLoader(ROOT),
                               extensions=["jinja2_ansible_filters.AnsibleCoreFiltersExtension"])
    assert skipped == default, f"{question}: skips {skipped!r}, but its default is {default!r}"
    assert env.from_string(validator).render({question: default, "platform": platform}).strip() == ""


def test_the_skipping_validators_still_refuse_other_answers(render, tmp_path):
    assert [param.values[0] for param in _validators_that_skip_their_default()] == \
        ["app_base_image", "kv_image", "backup_schedule"]
    refused(render, tmp_path, "app_base_image", "latest", app_base_image="python:latest")
    refused(render, tmp_path, "kv_image", "latest", kv_image="redis:latest")
    refused(render, tmp_path, "backup_schedule", "6 fields", backup_schedule="0 9 * * *")
