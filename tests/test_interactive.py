"""The whole `copier copy` session at a real terminal (a pty driven by pexpect), as
a person would go through it: help text, defaults shown, wrong answers refused on
the spot and asked again, the services multiselect driven by the keyboard."""

import os
import re
import sys
from pathlib import Path

import pexpect
import pytest
import yaml

COPIER = str(Path(sys.executable).parent / "copier")
DOWN, ENTER, SPACE, CLEAR_LINE = "\x1b[B", "\r", " ", "\x15"


class Session:
    """A copier session in a pty; remembers which questions it was asked, in order."""

    def __init__(self, template, dst):
        env = dict(os.environ, PROMPT_TOOLKIT_NO_CPR="1", TERM="xterm-256color", NO_COLOR="1")
        self.child = pexpect.spawn(COPIER, ["copy", str(template), str(dst)], encoding="utf-8",
                                   timeout=20, dimensions=(24, 80), env=env)
        self.asked = []

    def question(self, key):
        """Wait for the question whose help text starts with `key:`."""
        self.child.expect(rf"🎤(?:\x1b\[[0-9;]*m)* {key}: ")
        self.asked.append(key)
        self.child.expect(r"\n")  # the rest of the help line
        return self

    def shows(self, text):
        self.child.expect(re.escape(text))
        return self

    def type(self, text):
        self.child.send(text + ENTER)
        return self

    def settled(self, quiet=0.3):
        """Wait until the program has drawn its prompt (no output for `quiet` seconds): keys sent
        while prompt_toolkit starts its first prompt are lost."""
        while True:
            try:
                self.child.read_nonblocking(65536, timeout=quiet)
            except pexpect.TIMEOUT:
                return self

    def keys(self, *keys):
        for key in keys:
            self.child.send(key)
        return self

    def refused(self, rule, retry):
        """The answer is refused with `rule` shown; the line is cleared and `retry` typed."""
        self.child.expect(re.escape(rule))
        self.child.send(CLEAR_LINE + retry + ENTER)
        return self


def test_a_person_renders_a_portal(template_repo, tmp_path):
    dst = tmp_path / "portal"
    s = Session(template_repo, dst)
    s.question("platform").shows("rancher1 - Rancher 1.6").settled().keys(DOWN, ENTER)  # -> rancher1, the retired platform
    s.question("fqdn").type("portal.jgi.doe.gov")
    s.question("stack_name").shows("portal-jgi-doe").type("")  # the 2018 naming rule, as default
    s.question("environment").shows("dev-cattle").keys(DOWN, ENTER)  # -> prod-cattle
    s.question("owner").type("Fred").refused("must be a NIM name: a-z, 0-9, _", "fred")
    s.question("staff_owner").type("wilma")
    s.question("group").type("genome")
    s.question("staff_group").type("")
    s.question("registry_project").shows("genome").type("")  # defaults to the group
    s.question("access").keys(ENTER)  # public
    s.question("services").shows("web - nginx").keys(DOWN, DOWN, DOWN, SPACE, ENTER)  # add db
    s.question("web_exposure").shows("reverse-proxy").keys(ENTER)
    s.question("app_port").shows("8000").type("")
    s.question("app_base_image").type("")
    s.question("image_tag").shows("v0.1.0").keys(CLEAR_LINE).type("latest").refused("must be a version tag, not latest", "v0.1.0")
    s.question("max_body_mb").shows("64").keys(CLEAR_LINE).type("0").refused("must be from 1 to 10240", "256")
    s.question("proxy_timeout").shows("300").type("")
    s.question("db_engine").keys(ENTER)
    s.question("db_image").shows("postgres:17-alpine").type("")
    s.question("run_as_uid").type("0").refused("must be from 1 to 2147483647", "501")
    s.question("run_as_gid").type("124")
    s.question("run_as_user").type("c_flintstones")
    s.question("run_as_group").shows("c_flintstones").keys(CLEAR_LINE).type("").refused("is needed when run_as_user is set", "genome")
    s.question("run_as_comment").shows("Collaboration Account").type("")
    s.question("gpfs_mounts").type(
        "[{service: app, host_path: /global/homes/f/fred, container_path: /data}]"
    ).refused("#1: host_path in /global/homes", "app:/global/cfs/cdirs/genome/portal:/data")
    s.question("secrets").type("")
    s.question("ci").keys(ENTER)
    s.shows("Spin stack portal-jgi-doe is ready in")
    s.shows("for Rancher 1.6, environment prod-cattle.")
    s.shows("Ask ISG to tag the stack (owner:fred, staff-owner:wilma, group:genome,")
    s.child.expect(pexpect.EOF, timeout=60)
    s.child.close()
    assert s.child.exitstatus == 0

    assert s.asked == ["platform", "fqdn", "stack_name", "environment", "owner", "staff_owner", "group", "staff_group",
                       "registry_project", "access", "services", "web_exposure", "app_port", "app_base_image",
                       "image_tag", "max_body_mb", "proxy_timeout", "db_engine", "db_image", "run_as_uid", "run_as_gid", "run_as_user",
                       "run_as_group", "run_as_comment", "gpfs_mounts", "secrets", "ci"]
    answers = yaml.safe_load((dst / ".copier-answers.yml").read_text())
    assert answers["services"] == ["web", "app", "db"]
    assert answers["environment"] == "prod-cattle" and answers["owner"] == "fred" and answers["run_as_uid"] == 501
    assert answers["platform"] == "rancher1" and answers["max_body_mb"] == 256
    assert "client_max_body_size 256m;" in (dst / "web" / "nginx.conf").read_text()
    assert answers["gpfs_mounts"][0]["host_path"] == "/global/cfs/cdirs/genome/portal"
    compose = yaml.safe_load((dst / "docker-compose.yml").read_text())
    assert list(compose["services"]) == ["web", "app", "db"]
    assert compose["services"]["app"]["volumes"] == ["/global/cfs/cdirs/genome/portal:/data:ro"]


def test_questions_that_do_not_apply_are_not_asked(template_repo, tmp_path):
    s = Session(template_repo, tmp_path / "dbonly")
    s.question("platform").shows("rancher1 - Rancher 1.6").settled().keys(DOWN, ENTER)  # rancher1
    s.question("fqdn").type("")
    s.question("stack_name").shows("dbonly").type("")  # the folder's name
    s.question("environment").keys(ENTER)
    s.question("owner").type("fred")
    s.question("staff_owner").type("wilma")
    s.question("group").type("")
    s.question("staff_group").type("")
    s.question("registry_project").shows("fred").type("")
    s.question("access").keys(DOWN, DOWN, ENTER)  # private
    s.question("services").keys(SPACE, DOWN, SPACE, DOWN, DOWN, SPACE, ENTER)  # web, app off; db on
    s.question("db_engine").keys(DOWN, DOWN, DOWN, ENTER)  # mongodb
    s.question("db_image").shows("mongo:8.0").type("")
    s.question("db_nersc_access").shows("(y/N)").type("y")  # a private stack may open its database
    s.question("run_as_uid").type("501")
    s.question("run_as_gid").type("124")
    s.question("gpfs_mounts").type("")
    s.question("secrets").type("")
    s.question("ci").keys(DOWN, DOWN, ENTER)  # none
    s.child.expect(pexpect.EOF, timeout=60)
    s.child.close()
    assert s.child.exitstatus == 0
    assert not {"web_exposure", "app_port", "kv_image", "max_body_mb", "proxy_timeout"} & set(s.asked)
    answers = yaml.safe_load((tmp_path / "dbonly" / ".copier-answers.yml").read_text())
    assert answers["services"] == ["db"] and answers["db_engine"] == "mongodb" and answers["ci"] == "none"
    assert answers["db_nersc_access"] is True
    assert not (tmp_path / "dbonly" / "web").exists()


@pytest.mark.parametrize("question", ["owner"])
def test_interrupting_writes_nothing(template_repo, tmp_path, question):
    dst = tmp_path / "stopped"
    s = Session(template_repo, dst)
    s.question("platform").keys(ENTER)
    s.question("fqdn").type("")
    s.question("stack_name").type("")
    s.question("cluster").keys(ENTER)
    s.question("namespace").type("")
    s.question(question).keys("\x03")  # Ctrl-C
    s.child.expect(pexpect.EOF)
    s.child.close()
    assert s.child.exitstatus != 0
    assert not dst.exists()


def test_a_person_renders_a_kubernetes_stack(template_repo, tmp_path):
    dst = tmp_path / "lims"
    s = Session(template_repo, dst)
    s.question("platform").shows("rancher2").keys(ENTER)  # the default: Spin as it runs today
    s.question("fqdn").type("lims.jgi.doe.gov")
    s.question("stack_name").shows("lims-jgi-doe").type("")
    s.question("cluster").shows("development").keys(ENTER)
    s.question("namespace").shows("lims-jgi-doe").keys(CLEAR_LINE).type("LIMS").refused("must be a namespace: a-z, 0-9, -", "lims")
    s.question("owner").type("fred")
    s.question("staff_owner").type("wilma")
    s.question("group").type("")
    s.question("staff_group").type("")
    s.question("registry_project").type("")
    s.question("access").keys(DOWN, DOWN, ENTER)  # private
    s.question("services").keys(ENTER)  # web and app
    s.question("app_port").type("")
    s.question("app_base_image").type("")
    s.question("image_tag").type("")
    s.question("max_body_mb").shows("64").type("")
    s.question("proxy_timeout").shows("300").type("")
    s.question("run_as_uid").type("501")
    s.question("run_as_gid").type("124")
    s.question("run_as_user").type("")
    s.question("run_as_group").type("")
    s.question("gpfs_mounts").type("")
    s.question("secrets").type("")
    s.question("ci").keys(ENTER)
    s.shows("Spin stack lims-jgi-doe is ready in")
    s.shows("for Spin on Kubernetes: namespace lims, cluster development.")
    s.shows("http://web.lims.development.svc.spin.nersc.org/")
    s.child.expect(pexpect.EOF, timeout=60)
    s.child.close()
    assert s.child.exitstatus == 0
    assert not {"environment", "web_exposure", "web_port"} & set(s.asked)
    answers = yaml.safe_load((dst / ".copier-answers.yml").read_text())
    assert answers["platform"] == "rancher2" and answers["namespace"] == "lims" and answers["cluster"] == "development"
    assert (dst / "k8s" / "development" / "ingress.yaml").is_file() and not (dst / "docker-compose.yml").exists()
