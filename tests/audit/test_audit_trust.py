"""Findings a person can trust on repositories written elsewhere, each case written here: secrets in
connection URLs, tags that move, NERSC's registries, jobs that write by design, one finding per problem
where it is fixed, and hints that name what to do."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from kubekit import CLEAN_DEPLOYMENT, CLEAN_INGRESS, CLEAN_SERVICE, audit, line_of, variant, where

from stackkit import write_files
from spin_audit.credentials import url_password
from spin_audit.facts import MOVING_TAG
from spin_audit.rules.images import parse_image

DC = "docker-compose.yml"
RC = "rancher-compose.yml"
D = CLEAN_DEPLOYMENT


def compose(body: str, name: str = "app", top: str = "") -> str:
    """A docker-compose.yml with one clean service and `body` (indented keys) added to it."""
    return f"version: '2'\nservices:\n  {name}:\n    image: nginx:1.27.3\n    cap_drop: [ALL]\n{body}{top}"


# --- passwords in connection URLs ------------------------------------------------------------------

URLS_WITH_PASSWORDS = ["postgresql://user:secret@db/app", "redis://:pw@kv:6379/0", "mongodb://u:p@db1,db2/portal",
                       "mysql://root:hunter2@db:3306/app?ssl=1", "amqp://guest:guest@mq//",
                       "postgres://portal:p@ss@db/app", "https://oauth2:glpat-abc123@gitlab.example.org/x.git"]
URLS_WITHOUT = ["postgresql://user@db/app", "postgresql://user:${DB_PASSWORD}@db/app",
                "postgresql://user:$(DB_PASSWORD)@db/app", "postgresql://user:$DB_PASSWORD@db/app",
                "redis://kv:6379/0", "http://proxy.nersc.gov:3128", "postgresql://user:<password>@db/app",
                "postgresql://user:CHANGE-ME@db/app", "postgresql://user:***@db/app", "mailto:a@b.org",
                "/run/secrets/db_url"]


@pytest.mark.parametrize("url", URLS_WITH_PASSWORDS)
def test_a_password_in_a_url_is_found_whatever_the_variable_is_called(audit_json, make_stack, url):
    stack = make_stack({DC: compose(f"    environment:\n      DATABASE_URL: '{url}'\n")})
    findings = [f for f in audit_json(stack).findings if f["rule"] == "SPIN601"]
    assert [(f["line"], f["severity"]) for f in findings] == [(7, "error")]
    assert re.fullmatch(r"service 'app' sets DATABASE_URL to a [a-z0-9+.-]+ URL with a password in `environment`",
                        findings[0]["message"])
    assert "${VAR}" in findings[0]["hint"]


@pytest.mark.parametrize("url", URLS_WITHOUT)
def test_a_url_without_a_literal_password_is_not_a_secret(audit_json, make_stack, url):
    stack = make_stack({DC: compose(f"    environment:\n      - DATABASE_URL={url}\n")})
    assert "SPIN601" not in audit_json(stack).rules


def test_a_password_in_the_default_of_a_variable_is_found(audit_json, make_stack):
    stack = make_stack({DC: compose("    environment:\n      - CACHE=redis://:${KV_PW:-hunter2}@kv:6379\n"
                                    "      - CACHE2=redis://:${KV_PW}@kv:6379\n")})
    assert [f["line"] for f in audit_json(stack).findings if f["rule"] == "SPIN601"] == [7]


@pytest.mark.parametrize("url", URLS_WITH_PASSWORDS)
def test_a_password_in_a_url_in_a_manifest(tmp_path, url):
    broken = variant(D, "          volumeMounts:\n", "          env:\n            - name: MONGO_URI\n"
                                                   f"              value: '{url}'\n          volumeMounts:\n")
    root = write_files(tmp_path, {"m.yaml": broken})
    assert where(audit(root), root) == [("m.yaml", line_of(broken, "value: '"), "SPINK601")]


@given(scheme=st.sampled_from(["postgresql", "redis", "mongodb+srv", "mysql", "amqps"]),
       user=st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True),
       password=st.from_regex(r"[A-Za-z0-9!%&*+,;=_~-]{1,24}", fullmatch=True),
       host=st.from_regex(r"[a-z][a-z0-9-]{0,10}(\.[a-z]{2,5})?", fullmatch=True))
def test_any_literal_password_in_a_url_is_found_and_a_reference_is_not(scheme, user, password, host):
    literal = not re.search(r"^(.)\1{2,}$|REDACTED|CHANGE[-_ ]?ME|REPLACE|PLACEHOLDER|TODO|FIXME|XXX|EXAMPLE",
                            password, re.IGNORECASE)
    assert (url_password(f"{scheme}://{user}:{password}@{host}/db") == scheme) is literal
    assert url_password(f"{scheme}://{user}:${{DB_{user.upper()}}}@{host}/db") is None
    assert url_password(f"{scheme}://{user}@{host}/db") is None


# --- tags that move -------------------------------------------------------------------------------

MOVING = ["8", "17-alpine", "v2", "alpine", "stable", "stable-alpine", "edge", "beta", "alpha", "nightly", "dev",
          "develop", "main", "master", "3-latest", "latest-alpine", "5.7-latest", "bookworm-slim", "canary",
          "17-alpine3.20"]
PINNED = ["8.4", "8.4.3", "16.4-alpine", "v20260115", "2026-01-15", "main-3f2a1bc", "dev-20260115",
          "nightly-2026-01-15", "1.2.3-beta", "beta2", "sha-4e5f6a7b", "ou2024-20260701", "v1.4.2", "release", "prod"]


@pytest.mark.parametrize("tag", MOVING)
def test_a_tag_that_moves(tag):
    ref = parse_image(f"registry.nersc.gov/m9999/app:{tag}")
    assert ref is not None and ref.moving and not ref.floating


@pytest.mark.parametrize("tag", PINNED)
def test_a_tag_that_stays_put(tag):
    ref = parse_image(f"registry.nersc.gov/m9999/app:{tag}")
    assert ref is not None and not ref.moving


@given(channel=st.sampled_from(["main", "dev", "nightly", "edge", "beta", "master"]),
       commit=st.from_regex(r"[0-9a-f]{7,12}", fullmatch=True).filter(lambda c: re.search("[a-f]", c)
                                                                      and re.search("[0-9]", c)))
def test_a_channel_pinned_to_a_commit_stays_put(channel, commit):
    assert re.fullmatch(MOVING_TAG, f"{channel}-{commit}") is None
    assert re.fullmatch(MOVING_TAG, channel) is not None


@pytest.mark.parametrize("tag", ["beta", "nightly", "main", "3-latest"])
def test_a_moving_tag_in_compose_asks_to_pull_always(audit_json, make_stack, tag):
    stack = make_stack({DC: compose("").replace("nginx:1.27.3", f"nginx:{tag}")})
    assert audit_json(stack).rules == ["SPIN406"]
    pulled = compose("    labels:\n      io.rancher.container.pull_image: always\n").replace("nginx:1.27.3",
                                                                                           f"nginx:{tag}")
    assert audit_json(make_stack({DC: pulled}, "pulled")).rules == []


# --- NERSC's registries ---------------------------------------------------------------------------

@pytest.mark.parametrize("registry", ["registry.nersc.gov", "registry.services.nersc.gov", "registry.spin.nersc.gov"])
def test_nersc_registries_are_not_unknown_to_compose(audit_json, make_stack, registry):
    stack = make_stack({DC: compose("").replace("nginx:1.27.3", f"{registry}/m9999/app:1.0.2")})
    assert audit_json(stack).rules == []


def test_nersc_registries_are_not_unknown_to_kubernetes(tmp_path):
    for registry in ("registry.nersc.gov", "registry.services.nersc.gov"):
        root = write_files(tmp_path / registry, {"m.yaml": variant(D, "registry.nersc.gov", registry)})
        assert audit(root) == []


# --- init containers ------------------------------------------------------------------------------

def test_an_untagged_init_container_is_a_warning_whatever_its_pull_policy(cli, tmp_path):
    for policy in ("IfNotPresent", "Never", "Always"):
        text = variant(D, "      containers:\n", "      initContainers:\n        - name: chown\n          image: busybox\n"
                                                f"          imagePullPolicy: {policy}\n      containers:\n")
        root = write_files(tmp_path / policy, {"m.yaml": text})
        result = cli("--format", "json", root)
        assert result.code == 0, result.out  # warnings only: the default --fail-on error passes
        assert [(f["rule"], f["severity"]) for f in result.findings if f["rule"].startswith("SPINK40")] == [
            ("SPINK403", "warning")]


def test_an_untagged_main_container_with_a_caching_policy_is_still_an_error(tmp_path):
    root = write_files(tmp_path, {"m.yaml": variant(D, "image: registry.nersc.gov/myproj/web:1.0",
                                                   "image: busybox\n          imagePullPolicy: IfNotPresent")})
    assert [rule for _, _, rule in where(audit(root), root)] == ["SPINK402"]


# --- jobs that write to the global file system -----------------------------------------------------

DUMP_JOB = """\
version: '2'
services:
  backup:
    image: registry.nersc.gov/library/spin/postgres-pg_dump:16.4
    user: "60123:60456"
    cap_drop: [ALL]
    volumes:
      - /global/cfs/cdirs/m9999/portal/dumps:/dumps
    labels:
      cron.schedule: '0 0 9 * * *'
"""


@pytest.mark.parametrize("access", [(), ("--access", "public")])
def test_a_backup_job_is_never_told_to_mount_its_dump_folder_read_only(audit_json, make_stack, access):
    findings = audit_json(make_stack({DC: DUMP_JOB}), "--fail-on", "info", *access).findings
    assert [f for f in findings if "read" in f["message"] or ":ro" in f["hint"]] == []


def test_a_service_that_serves_users_is_asked_and_told_what_is_safe(audit_json, make_stack):
    stack = make_stack({DC: DUMP_JOB.replace("backup:", "web:").replace("    labels:\n      cron.schedule: "
                                                                        "'0 0 9 * * *'\n", "")})
    [finding] = audit_json(stack).findings
    assert finding["rule"] == "SPIN304"
    assert "append `:ro`" in finding["hint"] and "its own subdirectory, as the collaboration account" in finding["hint"]


DUMP_CRONJOB = """\
apiVersion: batch/v1
kind: CronJob
metadata:
  name: dump
  namespace: myns
spec:
  schedule: '0 9 * * *'
  jobTemplate:
    spec:
      template:
        metadata:
          labels: {app: web}
        spec:
          restartPolicy: OnFailure
          securityContext: {runAsUser: 60123, runAsGroup: 60456, runAsNonRoot: true, fsGroup: 60456}
          imagePullSecrets: [{name: registry-nersc}]
          containers:
            - name: dump
              image: registry.nersc.gov/library/spin/postgres-pg_dump:16.4
              securityContext:
                allowPrivilegeEscalation: false
                capabilities: {drop: [ALL]}
              volumeMounts:
                - {name: dumps, mountPath: /dumps}
          volumes:
            - name: dumps
              hostPath: {path: /global/cfs/cdirs/m9999/portal/dumps, type: Directory}
"""


def test_a_kubernetes_dump_cronjob_is_quiet_and_a_served_web_pod_is_asked(tmp_path):
    job = write_files(tmp_path / "job", {"job.yaml": DUMP_CRONJOB, "service.yaml": CLEAN_SERVICE,
                                         "ingress.yaml": CLEAN_INGRESS})
    assert [f.rule.id for f in audit(job)] == [], "its pods carry the label the Service selects, and still write"
    assert [f.rule.id for f in audit(job, access="public")] == []
    served = write_files(tmp_path / "web", {"web.yaml": variant(D, "readOnly: true", "readOnly: false"),
                                            "service.yaml": CLEAN_SERVICE, "ingress.yaml": CLEAN_INGRESS})
    [finding] = audit(served)
    assert finding.rule.id == "SPINK305" and "its own subdirectory, as the collaboration account" in finding.hint


# --- one finding per problem, at the line where it is fixed ----------------------------------------

SHARED_SECRET = """\
version: '2'
services:
  db:
    image: postgres:16.4
    cap_drop: [ALL]
    secrets:
      - source: db.Portal.postgres_password
        target: postgres_password
        mode: '0400'
  db-dump:
    image: postgres:16.4
    cap_drop: [ALL]
    secrets:
      - source: db.Portal.postgres_password
        target: postgres_password
        mode: '0400'
"""


def test_a_misnamed_secret_used_twice_is_one_finding_naming_both_users(audit_json, make_stack):
    findings = audit_json(make_stack({DC: SHARED_SECRET}, "portal")).findings
    assert [(f["rule"], f["line"]) for f in findings if f["rule"] in ("SPIN602", "SPIN606")] == [
        ("SPIN602", 7), ("SPIN606", 7)]
    assert "services 'db', 'db-dump' use secret 'db.Portal.postgres_password'" in findings[0]["message"]


@pytest.mark.parametrize("port, rules", [('"80:80"', ["SPIN501"]), ('"443:443"', ["SPIN501"]),
                                         ('"79-81:79-81"', ["SPIN501"]), ('"60040:80"', ["SPIN504"]),
                                         ('"8080:80"', ["SPIN504"])])
def test_one_port_mapping_is_one_finding(audit_json, make_stack, port, rules):
    findings = audit_json(make_stack({DC: compose(f"    ports:\n      - {port}\n", name="web")})).findings
    assert [f["rule"] for f in findings] == rules


PROXIED = """\
version: '2'
services:
  web-tls:
    image: registry.nersc.gov/m9999/tls-proxy:2.1.0
    cap_drop: [ALL]
    cap_add: [NET_BIND_SERVICE]
    environment:
      UPSTREAM: web-app:80
      CACHE_URL: redis://kv:6379/0
  web-app:
    image: nginx:1.27.3
    cap_drop: [ALL]
  kv:
    image: redis:7.2.5
    cap_drop: [ALL]
"""


def test_a_port_below_1024_that_a_neighbour_reaches_is_found_where_it_is_written(audit_json, make_stack):
    findings = audit_json(make_stack({DC: PROXIED})).findings
    assert [(f["rule"], f["line"], f["service"], f["message"]) for f in findings] == [
        ("SPIN504", 8, "web-app", "service 'web-app' listens on container port 80 (service 'web-tls' reaches it at "
                                  "web-app:80), below 1024")]
    exposed = PROXIED.replace("  web-app:\n    image: nginx:1.27.3\n",
                              "  web-app:\n    image: nginx:1.27.3\n    expose: ['80']\n")
    findings = audit_json(make_stack({DC: exposed}, "exposed")).findings
    assert [(f["rule"], f["line"]) for f in findings] == [("SPIN504", 12)], "one finding, where `expose` says it"
    high = PROXIED.replace("web-app:80", "web-app:8080")
    assert audit_json(make_stack({DC: high}, "high")).findings == []


# --- where findings point, and what their hints say ------------------------------------------------

def test_a_service_defined_in_an_overlay_tells_which_files_to_name(cli, make_stack):
    stack = make_stack({DC: compose("", name="web"),
                        "docker-compose.lb.yml": "version: '2'\nservices:\n  lb:\n    image: rancher/lb-service-haproxy:"
                                                 "v0.9.14\n    cap_drop: [ALL]\n",
                        RC: "version: '2'\nservices:\n  lb:\n    scale: 2\n"})
    result = cli("--format", "json", stack)
    [finding] = [f for f in result.findings if f["rule"] == "SPIN108"]
    assert finding["message"] == "service 'lb' is not defined in docker-compose.yml but in docker-compose.lb.yml, " \
                                 "which a stack directory does not bring in"
    assert finding["hint"].endswith(f"`spin-audit --file {stack / DC} --file {stack / 'docker-compose.lb.yml'}`")
    named = cli("--format", "json", "--file", stack / DC, "--file", stack / "docker-compose.lb.yml")
    assert "SPIN108" not in named.rules


@pytest.mark.parametrize("rancher, rules", [("version: '2'\nservices:\n  wbe:\n    scale: 2\n", ["SPIN108"]),
                                            ("version: '2'\nservices:\n  wbe: 2\n", ["SPIN104", "SPIN108"])])
def test_a_service_only_rancher_compose_names_is_judged_for_that_alone(audit_json, make_stack, rancher, rules):
    stack = make_stack({DC: compose("", name="web"), RC: rancher})
    assert audit_json(stack, "--fail-on", "info").rules == rules, "no image, capability or naming finding too"


def test_a_service_defined_nowhere_keeps_the_plain_finding(cli, make_stack):
    stack = make_stack({DC: compose("", name="web"), RC: "version: '2'\nservices:\n  wbe:\n    scale: 2\n"})
    [finding] = [f for f in cli("--format", "json", stack).findings if f["rule"] == "SPIN108"]
    assert finding["message"] == "service 'wbe' is not defined in docker-compose.yml"
    assert finding["hint"] == "fix the name, or define the service in docker-compose.yml"


@pytest.mark.parametrize("before", ["", "# portal stack\n", "---\n# portal\n\n# stack\n"])
def test_a_stack_name_finding_points_at_the_first_key(audit_json, make_stack, before):
    stack = make_stack({DC: before + compose("", name="web")}, "My_Portal")
    [finding] = [f for f in audit_json(stack).findings if f["rule"] == "SPIN702"]
    assert (finding["line"], finding["column"]) == (before.count("\n") + 1, 1)
    assert Path(finding["path"]).name == DC
