"""spin-audit on the Kubernetes manifests Spin runs in production (kept outside the project, in shared/).

Every file and folder is audited without a crash, and the findings on the whole collection are pinned:
rule ids and counts per file. Errors appear only where a reviewer would object:

- SPINK101 (5): tom_desc documents that are not YAML (a prose line before `apiVersion`, `image:registry...`
  without a space, `name:ppdb-postgres` in two documents of one file, a container list item at the wrong
  indent): kubectl refuses them. The other documents of those files are judged (fastdbdev-app's Ingress
  has no ING-002 host, SPINK501), and so are the broken ones where the slip is plain (the note, the missing
  spaces): fastdbdev-mongodb's `:latest` with IfNotPresent (SPINK402), diagnosticupdate's DB_PASS.
- SPINK601 (47): tom_desc's containers carry the database password (`DB_PASS`, `PGPASSWORD`) and
  Cassandra's (`CASSANDRA_PASSWORD`) as literal values, published in a public repository.
- SPINK602 (1): IPS-portal's example Secret holds a usable Flask secret key (`flask`, base64); the other
  values are marked CHANGE-ME or are placeholders.

Every pod there that mounts /global runs as a numeric user with runAsNonRoot and fsGroup, and adds
only NET_BIND_SERVICE: SPINK306-309 stay silent. Root busybox init containers without a capabilities
block (SPINK201/204), floating tags (SPINK403), Ingresses without a class (SPINK502) are warnings, and so
are Secrets holding a password mounted 0444 or 0644 (SPINK603: IPS-portal's mongo-secrets, snappl's and
liuserver's pgpasswd). Read-write /global mounts are info only where an Ingress brings users to the pod
(SPINK305: tom_desc's tom-app, IPS-portal's portal), not on shells, workers and dump jobs; copied nersc.gov/*
annotations (SPINK701) are info. Six tom_desc pods (dump and cron jobs, fastdbdev-mongodb) pull from
registry.nersc.gov without the registry-nersc pull secret their siblings name (SPINK407, a warning: a public
project pulls without it). Helm charts and the mustache template are named once each (SPINK102)
beside the manifests; a folder of nothing but charts, or a chart's file named alone, is declined as a
template. The nats kustomize patches are partial.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from kubekit import audit
from spin_audit.helm import helm_template
from spin_audit.kube import is_kube_path
from spin_audit.loader import TemplateError
from spin_audit.registry import Severity, all_rules
from spin_audit.report import render_json, render_sarif, render_text

REAL_K8S = Path(__file__).resolve().parents[3] / "shared" / "reference" / "real-k8s"
pytestmark = pytest.mark.skipif(not REAL_K8S.is_dir(), reason=f"reference manifests not available at {REAL_K8S}")

FOLDERS = sorted(p.name for p in REAL_K8S.iterdir() if p.is_dir()) if REAL_K8S.is_dir() else []
YAML_FILES = sorted(p.relative_to(REAL_K8S).as_posix() for p in REAL_K8S.rglob("*") if p.suffix in (".yaml", ".yml")) \
    if REAL_K8S.is_dir() else []

PINNED = {
    "HPC-SimTools__IPS-portal/ipsportal-secrets-example.yaml": {"SPINK602": 1},
    "HPC-SimTools__IPS-portal/ipsportal.yaml":  # mongo:6 moves; mongo-secrets' passwords mounted 0444 and 0644
        {"SPINK204": 9, "SPINK305": 1, "SPINK403": 6, "SPINK406": 1, "SPINK502": 2, "SPINK603": 4},
    "LSSTDESC__tom_desc/spin_admin/buckley-dev/fakebroker.yaml": {"SPINK403": 1, "SPINK701": 1},
    "LSSTDESC__tom_desc/spin_admin/buckley-dev/fastdbdev-app.yaml":  # the Ingress after the broken Deployment
        {"SPINK101": 1, "SPINK501": 1, "SPINK701": 1},
    "LSSTDESC__tom_desc/spin_admin/buckley-dev/fastdbdev-mongodb.yaml":  # `image:registry...` read as meant
        {"SPINK101": 1, "SPINK201": 1, "SPINK204": 1, "SPINK402": 1, "SPINK407": 1, "SPINK701": 1},
    "LSSTDESC__tom_desc/spin_admin/buckley-dev/fastdbdev-shell.yaml": {"SPINK601": 1},
    "LSSTDESC__tom_desc/spin_admin/buckley-dev/kafka-server.yaml": {"SPINK403": 1, "SPINK701": 1},
    "LSSTDESC__tom_desc/spin_admin/buckley-dev/ppdb-postgres.yaml":  # `name:x` in two documents, read as meant
        {"SPINK101": 2, "SPINK201": 1, "SPINK204": 1, "SPINK403": 1, "SPINK701": 1},
    "LSSTDESC__tom_desc/spin_admin/buckley-dev/tom-app-backup.yaml": {"SPINK305": 2, "SPINK601": 2, "SPINK701": 2},
    "LSSTDESC__tom_desc/spin_admin/buckley-dev/tom-app.yaml":
        {"SPINK305": 5, "SPINK403": 1, "SPINK502": 1, "SPINK601": 1},
    "LSSTDESC__tom_desc/spin_admin/buckley-dev/tom-brokerpoll.yaml": {"SPINK601": 1, "SPINK701": 1},
    "LSSTDESC__tom_desc/spin_admin/buckley-dev/tom-pgdump.yaml": {"SPINK407": 1, "SPINK601": 1},
    "LSSTDESC__tom_desc/spin_admin/buckley-dev/tom-postgres.yaml":
        {"SPINK201": 1, "SPINK204": 1, "SPINK403": 1, "SPINK701": 1},
    "LSSTDESC__tom_desc/spin_admin/buckley-dev/tom-query-pruner.yaml": {"SPINK403": 1, "SPINK601": 1, "SPINK701": 1},
    "LSSTDESC__tom_desc/spin_admin/buckley-dev/tom-query-runner.yaml": {"SPINK403": 1, "SPINK601": 1, "SPINK701": 1},
    "LSSTDESC__tom_desc/spin_admin/buckley-dev/tom-shell.yaml": {"SPINK403": 1, "SPINK601": 2},
    "LSSTDESC__tom_desc/spin_admin/buckley-dev/zookeeper.yaml": {"SPINK403": 1, "SPINK701": 1},
    "LSSTDESC__tom_desc/spin_admin/rknop-dev/tom-app.yaml":
        {"SPINK305": 4, "SPINK403": 1, "SPINK601": 1, "SPINK701": 2},
    "LSSTDESC__tom_desc/spin_admin/rknop-dev/tom-brokerpoll.yaml": {"SPINK403": 1, "SPINK601": 2, "SPINK701": 1},
    "LSSTDESC__tom_desc/spin_admin/rknop-dev/tom-mongodb.yaml":
        {"SPINK201": 1, "SPINK204": 1, "SPINK403": 2, "SPINK701": 1},
    "LSSTDESC__tom_desc/spin_admin/rknop-dev/tom-pgdump.yaml": {"SPINK403": 1, "SPINK407": 1, "SPINK601": 1},
    "LSSTDESC__tom_desc/spin_admin/rknop-dev/tom-postgres.yaml":
        {"SPINK201": 1, "SPINK204": 1, "SPINK403": 2, "SPINK701": 1},
    "LSSTDESC__tom_desc/spin_admin/rknop-dev/tom-query-pruner.yaml": {"SPINK403": 1, "SPINK601": 1, "SPINK701": 1},
    "LSSTDESC__tom_desc/spin_admin/rknop-dev/tom-query-runner.yaml": {"SPINK403": 1, "SPINK601": 1, "SPINK701": 1},
    "LSSTDESC__tom_desc/spin_admin/rknop-dev/tom-send-alerts-cron.yaml": {"SPINK403": 1, "SPINK601": 2, "SPINK701": 1},
    "LSSTDESC__tom_desc/spin_admin/rknop-dev/tom-shell.yaml": {"SPINK403": 1, "SPINK601": 2},
    "LSSTDESC__tom_desc/spin_admin/rknop-dev/tom-update-metrics-cron.yaml":
        {"SPINK403": 1, "SPINK601": 2, "SPINK701": 1},
    "LSSTDESC__tom_desc/spin_admin/tom-2/fakebroker.yaml": {"SPINK403": 1, "SPINK701": 1},
    "LSSTDESC__tom_desc/spin_admin/tom-2/kafka-server.yaml": {"SPINK403": 1, "SPINK701": 1},
    "LSSTDESC__tom_desc/spin_admin/tom-2/tom-2-app-shell.yaml": {"SPINK403": 1, "SPINK601": 2},
    "LSSTDESC__tom_desc/spin_admin/tom-2/tom-2-app.yaml":
        {"SPINK305": 3, "SPINK403": 1, "SPINK502": 1, "SPINK601": 2, "SPINK701": 2},
    "LSSTDESC__tom_desc/spin_admin/tom-2/tom-2-brokerpoll.yaml": {"SPINK403": 1, "SPINK601": 2, "SPINK701": 1},
    "LSSTDESC__tom_desc/spin_admin/tom-2/tom-2-cassandra.yaml": {"SPINK403": 1, "SPINK701": 1},
    "LSSTDESC__tom_desc/spin_admin/tom-2/tom-2-postgres.yaml":
        {"SPINK201": 1, "SPINK204": 1, "SPINK403": 2, "SPINK701": 1},
    "LSSTDESC__tom_desc/spin_admin/tom-2/tom-2-query-pruner.yaml": {"SPINK403": 1, "SPINK601": 1, "SPINK701": 1},
    "LSSTDESC__tom_desc/spin_admin/tom-2/tom-2-query-runner.yaml": {"SPINK403": 1, "SPINK601": 1, "SPINK701": 1},
    "LSSTDESC__tom_desc/spin_admin/tom-2/tom-2-send-alerts-cron.yaml": {"SPINK403": 1, "SPINK601": 2, "SPINK701": 1},
    "LSSTDESC__tom_desc/spin_admin/tom-2/tom-2-update-alerts-sent-cron.yaml":
        {"SPINK403": 1, "SPINK407": 1, "SPINK601": 1, "SPINK701": 1},
    "LSSTDESC__tom_desc/spin_admin/tom-2/zookeeper.yaml": {"SPINK403": 1, "SPINK701": 1},
    "LSSTDESC__tom_desc/spin_admin/tom-app.yaml": {"SPINK305": 4, "SPINK403": 1, "SPINK601": 2, "SPINK701": 2},
    "LSSTDESC__tom_desc/spin_admin/tom-brokerpoll.yaml": {"SPINK403": 1, "SPINK601": 2, "SPINK701": 1},
    "LSSTDESC__tom_desc/spin_admin/tom-cassandra.yaml": {"SPINK403": 1, "SPINK701": 1},
    "LSSTDESC__tom_desc/spin_admin/tom-diagnosticupdate.yaml":  # a note above apiVersion: the rest read as meant
        {"SPINK101": 1, "SPINK403": 1, "SPINK407": 1, "SPINK601": 1, "SPINK701": 1},
    "LSSTDESC__tom_desc/spin_admin/tom-mongodb.yaml": {"SPINK201": 1, "SPINK204": 1, "SPINK403": 2, "SPINK701": 1},
    "LSSTDESC__tom_desc/spin_admin/tom-pgdump.yaml": {"SPINK403": 1, "SPINK407": 1, "SPINK601": 1},
    "LSSTDESC__tom_desc/spin_admin/tom-postgres.yaml": {"SPINK201": 1, "SPINK204": 1, "SPINK403": 2, "SPINK701": 1},
    "LSSTDESC__tom_desc/spin_admin/tom-query-pruner.yaml": {"SPINK403": 1, "SPINK601": 1, "SPINK701": 1},
    "LSSTDESC__tom_desc/spin_admin/tom-query-runner.yaml": {"SPINK403": 1, "SPINK601": 1, "SPINK701": 1},
    "LSSTDESC__tom_desc/spin_admin/tom-send-alerts-cron.yaml": {"SPINK403": 1, "SPINK601": 2, "SPINK701": 1},
    "LSSTDESC__tom_desc/spin_admin/tom-shell.yaml": {"SPINK403": 1, "SPINK601": 2},
    "LSSTDESC__tom_desc/spin_admin/tom-update-metrics-cron.yaml": {"SPINK403": 1, "SPINK601": 2, "SPINK701": 1},
    "NERSC__NESAP-k8s/mysql/template/Chart.yaml": {"SPINK102": 1},
    "NERSC__NESAP-k8s/namespace/template.yaml": {"SPINK102": 1},
    "NERSC__NESAP-k8s/postgresql/template/Chart.yaml": {"SPINK102": 1},
    "NERSC__NESAP-k8s/tls-acme/Chart.yaml": {"SPINK102": 1},
    "NERSC__spin-helm/adminer/Chart.yaml": {"SPINK102": 1},
    "NERSC__spin-helm/postgresql/Chart.yaml": {"SPINK102": 1},
    "NERSC__spin-helm/tls-acme/Chart.yaml": {"SPINK102": 1},
    "Roman-Supernova-PIT__snappl/spin/ou2024/postgres.yaml":
        {"SPINK201": 1, "SPINK403": 1, "SPINK603": 1, "SPINK701": 1},
    "Roman-Supernova-PIT__snappl/spin/ou2024/shell.yaml": {"SPINK603": 1, "SPINK701": 1},
    "Roman-Supernova-PIT__snappl/spin/ou2024/webserver.yaml": {"SPINK502": 1, "SPINK603": 1, "SPINK701": 1},
    "Roman-Supernova-PIT__snappl/spin/ou2024_smdc/postgres.yaml":
        {"SPINK201": 1, "SPINK403": 1, "SPINK603": 1, "SPINK701": 1},
    "Roman-Supernova-PIT__snappl/spin/ou2024_smdc/shell.yaml": {"SPINK603": 1, "SPINK701": 1},
    "Roman-Supernova-PIT__snappl/spin/ou2024_smdc/webserver.yaml": {"SPINK502": 1, "SPINK603": 1, "SPINK701": 1},
    "Roman-Supernova-PIT__snappl/spin/ricksim_smdc/postgres.yaml":
        {"SPINK201": 1, "SPINK403": 1, "SPINK603": 1, "SPINK701": 1},
    "Roman-Supernova-PIT__snappl/spin/ricksim_smdc/shell.yaml": {"SPINK603": 1, "SPINK701": 1},
    "Roman-Supernova-PIT__snappl/spin/ricksim_smdc/webserver.yaml": {"SPINK502": 1, "SPINK603": 1, "SPINK701": 1},
    "Roman-Supernova-PIT__snappl/spin/rknop_dev/postgres.yaml":
        {"SPINK201": 1, "SPINK403": 1, "SPINK603": 1, "SPINK701": 1},
    "Roman-Supernova-PIT__snappl/spin/rknop_dev/shell.yaml": {"SPINK603": 1, "SPINK701": 1},
    "Roman-Supernova-PIT__snappl/spin/rknop_dev/webserver.yaml": {"SPINK502": 1, "SPINK603": 1, "SPINK701": 1},
    "Roman-Supernova-PIT__snappl/spin/rknop_dev_smdc/postgres.yaml":
        {"SPINK201": 1, "SPINK403": 1, "SPINK603": 1, "SPINK701": 1},
    "Roman-Supernova-PIT__snappl/spin/rknop_dev_smdc/shell.yaml": {"SPINK603": 1, "SPINK701": 1},
    "Roman-Supernova-PIT__snappl/spin/rknop_dev_smdc/webserver.yaml": {"SPINK502": 1, "SPINK603": 1, "SPINK701": 1},
    "bl1231__bilbomd/infra/helm/Chart.yaml": {"SPINK102": 1},
    "c3-time-domain__liuserver/spin/postgres.yaml": {"SPINK201": 1, "SPINK403": 2, "SPINK701": 1},
    "c3-time-domain__liuserver/spin/shell.yaml": {"SPINK403": 1, "SPINK603": 1, "SPINK701": 1},
    "c3-time-domain__liuserver/spin/webserver.yaml": {"SPINK403": 1, "SPINK502": 1, "SPINK701": 2},
}


# Folders that hold nothing but Helm charts and templates: declined as a whole.
TEMPLATES_ONLY = ("NERSC__NESAP-k8s", "bl1231__bilbomd")


def _relative(finding) -> str:
    return Path(finding.location.path).resolve().relative_to(REAL_K8S).as_posix()


def _per_file(findings):
    counts = defaultdict(Counter)
    for finding in findings:
        counts[_relative(finding)][finding.rule.id] += 1
    return {path: dict(rules) for path, rules in counts.items()}


def test_findings_on_the_whole_collection_are_pinned() -> None:
    assert _per_file(audit(REAL_K8S)) == PINNED


def test_errors_are_the_ones_a_reviewer_objects_to() -> None:
    errors = [f for f in audit(REAL_K8S) if f.severity == Severity.ERROR]
    assert Counter(f.rule.id for f in errors) == {"SPINK101": 5, "SPINK402": 1, "SPINK501": 1, "SPINK601": 47,
                                                  "SPINK602": 1}
    variables = Counter(f.message.split(" sets ")[1] for f in errors if f.rule.id == "SPINK601")
    assert variables == {"DB_PASS to a literal value": 29, "CASSANDRA_PASSWORD to a literal value": 15,
                         "PGPASSWORD to a literal value": 3}
    assert all(_relative(f).startswith("LSSTDESC__tom_desc/") for f in errors
               if f.rule.id in ("SPINK101", "SPINK501", "SPINK601"))


@pytest.mark.parametrize("folder", FOLDERS)
def test_each_folder_alone_gives_its_share(folder: str) -> None:
    mine = {path: rules for path, rules in PINNED.items() if path.startswith(folder + "/")}
    if folder in TEMPLATES_ONLY:
        with pytest.raises(TemplateError):
            audit(REAL_K8S / folder)
        return
    assert _per_file(audit(REAL_K8S / folder)) == mine


# Rules that read other objects too (the Secret a volume mounts; the Service and Ingress that reach a pod):
# a file alone gives them less to go on than the folder it came from.
READS_OTHER_OBJECTS = ("SPINK305", "SPINK603")


@pytest.mark.parametrize("name", YAML_FILES)
def test_each_file_alone_audits_in_every_format(cli, name: str) -> None:
    path = REAL_K8S / name
    pinned = PINNED.get(name, {})
    if helm_template(str(path)) is not None or set(pinned) == {"SPINK102"}:  # a chart's file, values, a template
        result = cli("--format", "json", path)
        assert result.code == 2 and result.err.count("\n") == 1 and "not audited" in result.err
        assert [f["rule"] for f in result.findings] == ["SPIN002"]
        return
    findings = audit(path)
    for finding in findings:
        assert finding.location.line >= 1 and "\n" not in finding.message
    json.loads(render_json(findings))
    json.loads(render_sarif(findings, all_rules()))
    assert render_text(findings, 1).endswith("\n")
    assert is_kube_path(str(path))
    alone = _per_file(findings).get(name, {})
    for rule in set(alone) | set(pinned):
        if rule in READS_OTHER_OBJECTS:
            assert alone.get(rule, 0) <= pinned.get(rule, 0), rule
        else:
            assert alone.get(rule, 0) == pinned.get(rule, 0), ("alone as in the collection", rule)
