"""The Kubernetes stack (platform rancher2): every overlay builds with `kubectl kustomize`, every
object is valid for a pinned Kubernetes API version (kubernetes-validate, strict), and Spin's
Rancher 2 rules hold in what is rendered, for answer sets across the roles, engines and access
levels."""

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from stack_checks import K8S_VERSION, kustomize
from stackkit import EXAMPLES, load_example, minimal_answers

FACTS = json.loads((Path(__file__).resolve().parents[1] / "hooks" / "spin_audit" / "spin_facts.json").read_text())
R2 = FACTS["rancher2"]
KUBECTL = shutil.which("kubectl")
needs_kubectl = pytest.mark.skipif(KUBECTL is None, reason="kubectl (with kustomize) is not installed")

ANSWER_SETS = {
    "portal": load_example(Path(__file__).resolve().parents[1] / "examples" / "portal-k8s.yml"),
    "everything-private": minimal_answers(
        platform="rancher2", stack_name="tracker", namespace="tracker-dev", cluster="production", access="private",
        services=["web", "app", "api", "db", "kv", "util"], db_engine="mysql", group="genome",
        gpfs_mounts=[{"service": "app", "host_path": "/global/cfs/cdirs/genome/tracker/results",
                      "container_path": "/results", "read_only": False},
                     {"service": "util", "host_path": "/global/cfs/cdirs/genome/tracker/dumps",
                      "container_path": "/dumps", "read_only": False},
                     {"service": "web", "host_path": "/global/cfs/cdirs/genome/tracker/www",
                      "container_path": "/www"}],
        secrets={"api_token": ["app", "api"], "web.cert": ["web"]}),
    "api-behind-fqdn": minimal_answers(platform="rancher2", fqdn="api.nersc.gov", services=["api", "kv"],
                                       access="authenticated", app_port=9000),
    "database-only": minimal_answers(platform="rancher2", stack_name="mongo-box", services=["db", "util"],
                                     db_engine="mongodb"),
    "static-site": minimal_answers(platform="rancher2", stack_name="pages", services=["web"], run_as_gid=101,
                                   gpfs_mounts=[{"service": "web", "host_path": "/global/cfs/cdirs/genome/www/pub",
                                                 "container_path": "/srv/www"}]),
    "mariadb-app": minimal_answers(platform="rancher2", stack_name="lims", services=["app", "db", "util"],
                                   db_engine="mariadb", secrets={"lims_key": ["app", "util"]}),
    # Two servers without web (an Ingress each), a kv that keeps its data, a database image of NERSC's registry.
    "two-servers": minimal_answers(platform="rancher2", stack_name="lab", fqdn="lab.lbl.gov", access="authenticated",
                                   services=["app", "api", "db", "kv", "util"], kv_persist=True,
                                   db_image="registry.nersc.gov/genome/postgres:17.2", max_body_mb=512,
                                   proxy_timeout=900),
}


@pytest.fixture(scope="module")
def stacks(render):
    return {name: render(answers) for name, answers in ANSWER_SETS.items()}


def answers_of(stack):
    return yaml.safe_load((stack / ".copier-answers.yml").read_text())




def of_kind(objects, kind):
    return [o for o in objects if o["kind"] == kind]


def pod_specs(objects):
    """(object, pod spec) of every workload."""
    for obj in objects:
        if obj["kind"] == "Deployment":
            yield obj, obj["spec"]["template"]["spec"]
        elif obj["kind"] == "CronJob":
            yield obj, obj["spec"]["jobTemplate"]["spec"]["template"]["spec"]


def containers(spec):
    return spec.get("initContainers", []) + spec["containers"]


CASES = [(name, cluster) for name in ANSWER_SETS for cluster in R2["clusters"]]


@needs_kubectl
@pytest.mark.parametrize("name, cluster", CASES)
def test_overlay_builds_into_valid_objects_in_the_namespace(stacks, name, cluster):
    objects = kustomize(stacks[name], cluster)
    namespace = answers_of(stacks[name])["namespace"]
    assert objects
    for obj in objects:
        kubernetes_validate.validate(obj, K8S_VERSION, strict=True)
        assert obj["metadata"]["namespace"] == namespace, obj["metadata"]["name"]


@needs_kubectl
@pytest.mark.parametrize("name", ANSWER_SETS)
def test_one_workload_per_role(stacks, name):
    objects = kustomize(stacks[name], "development")
    roles = answers_of(stacks[name])["services"]
    deployments = sorted(o["metadata"]["name"] for o in of_kind(objects, "Deployment"))
    assert deployments == sorted(r for r in roles if r != "util")
    assert [o["metadata"]["name"] for o in of_kind(objects, "CronJob")] == (["util"] if "util" in roles else [])
    services = {o["metadata"]["name"]: o for o in of_kind(objects, "Service")}
    assert sorted(services) == deployments
    for deployment in of_kind(objects, "Deployment"):
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        service = services[deployment["metadata"]["name"]]
        assert service["spec"]["selector"].items() <= labels.items()
        assert deployment["spec"]["selector"]["matchLabels"] == service["spec"]["selector"]
        port_names = {p["name"] for c in deployment["spec"]["template"]["spec"]["containers"] for p in c["ports"]}
        assert {p["targetPort"] for p in service["spec"]["ports"]} <= port_names
    assert of_kind(objects, "Secret") == [], "secret values never live in git"
    assert not (stacks[name] / "docker-compose.yml").exists() and not (stacks[name] / "rancher-compose.yml").exists()


@needs_kubectl
@pytest.mark.parametrize("name", ANSWER_SETS)
def test_every_container_has_spins_security_context(stacks, name):
    answers = answers_of(stacks[name])
    for obj, spec in pod_specs(kustomize(stacks[name], "development")):
        pod = spec["securityContext"]
        assert pod["runAsNonRoot"] is True and pod["runAsUser"] == answers["run_as_uid"], obj["metadata"]["name"]
        assert pod["runAsGroup"] == answers["run_as_gid"] and pod["fsGroup"] == answers["run_as_gid"]
        # web joins the nginx image's group (101), as group_add: [nginx] in compose; no other pod does
        assert pod.get("supplementalGroups") == ([101] if obj["metadata"]["name"] == "web" else None)
        assert not any(spec.get(key) for key in ("hostNetwork", "hostPID", "hostIPC"))
        assert spec["automountServiceAccountToken"] is False
        for container in containers(spec):
            security = container["securityContext"]
            assert security["capabilities"] == {"drop": ["ALL"]}, (obj["metadata"]["name"], security)
            assert security["allowPrivilegeEscalation"] is False and security["privileged"] is False
            # The ids on each container too, as every workload that mounts /global on Spin has them.
            assert (security["runAsNonRoot"], security["runAsUser"], security["runAsGroup"]) == (
                True, answers["run_as_uid"], answers["run_as_gid"]), obj["metadata"]["name"]


@needs_kubectl
@pytest.mark.parametrize("name", ANSWER_SETS)
def test_global_file_system_mounts_are_host_directories_as_answered(stacks, name):
    answers = answers_of(stacks[name])
    wanted = {(m["service"], m["host_path"], m["container_path"], m.get("read_only", True) is not False)
              for m in answers["gpfs_mounts"]}
    found = set()
    for obj, spec in pod_specs(kustomize(stacks[name], "development")):
        role = obj["metadata"]["name"]
        host_volumes = {v["name"]: v["hostPath"] for v in spec.get("volumes", []) if "hostPath" in v}
        for container in containers(spec):
            for mount in container.get("volumeMounts", []):
                if mount["name"] in host_volumes:
                    host = host_volumes[mount["name"]]
                    assert host["type"] == "Directory" and host["path"].startswith("/global/")
                    assert not host["path"].startswith("/global/homes")
                    found.add((role, host["path"], mount["mountPath"], mount.get("readOnly", False)))
    assert found == wanted
    if answers["access"] == "public":
        assert all(read_only for *_, read_only in found)


@needs_kubectl
@pytest.mark.parametrize("name, cluster", CASES)
def test_ingress_has_spins_host_for_its_cluster(stacks, name, cluster):
    """Every role a person reaches over HTTP has an Ingress with Spin's host for it (ING-002): web
    alone, which proxies to app and api, or else app and api each; the first also serves the fqdn,
    with TLS. Each passes the answered request size and waits the answered time."""
    answers = answers_of(stacks[name])
    ingresses = of_kind(kustomize(stacks[name], cluster), "Ingress")
    http_roles = [r for r in ("web", "app", "api") if r in answers["services"]]
    fronts = ["web"] if "web" in http_roles else http_roles
    assert sorted(ingress["metadata"]["name"] for ingress in ingresses) == sorted(fronts)  # kustomize sorts by name
    for ingress in ingresses:
        name_, spec = ingress["metadata"]["name"], ingress["spec"]
        fqdn = answers["fqdn"] if name_ == fronts[0] else ""
        assert spec["ingressClassName"] == R2["ingress_class"]
        hosts = [rule["host"] for rule in spec["rules"]]
        assert hosts == [f"{name_}.{answers['namespace']}.{cluster}.{R2['ingress_domain']}"] + ([fqdn] if fqdn else [])
        assert spec.get("tls", []) == ([{"hosts": [fqdn], "secretName": f"{name_}-tls"}] if fqdn else [])
        for rule in spec["rules"]:
            (path,) = rule["http"]["paths"]
            assert path["backend"]["service"] == {"name": name_, "port": {"name": "http"}}
        annotations = ingress["metadata"]["annotations"]
        assert annotations.pop("nginx.ingress.kubernetes.io/proxy-body-size") == f"{answers['max_body_mb']}m"
        assert annotations.pop("nginx.ingress.kubernetes.io/proxy-read-timeout") == str(answers["proxy_timeout"])
        assert annotations.pop("nginx.ingress.kubernetes.io/proxy-send-timeout") == str(answers["proxy_timeout"])
        allowed = annotations.pop("nginx.ingress.kubernetes.io/whitelist-source-range", None)
        assert allowed == (",".join(R2["nersc_networks"]) if answers["access"] == "private" else None)
        assert annotations == {}


@needs_kubectl
@pytest.mark.parametrize("name", ANSWER_SETS)
def test_images_labels_and_annotations(stacks, name):
    answers = answers_of(stacks[name])
    project = answers["registry_project"]
    for obj in kustomize(stacks[name], "production"):
        metadata = obj["metadata"]
        assert not any(key.startswith("nersc.gov/") for key in metadata.get("annotations") or {}), "Spin adds those"
        assert metadata["labels"]["app.kubernetes.io/part-of"] == answers["stack_name"]
    for obj, spec in pod_specs(kustomize(stacks[name], "production")):
        role = obj["metadata"]["name"]
        (container,) = spec["containers"]
        built = role in ("web", "app", "api")
        if built:
            assert container["image"].startswith(f"{R2['registry']}/{project}/")
        # Spin pulls from its registry only with the namespace's pull secret, whichever role the image plays.
        from_nersc = container["image"].startswith(R2["registry"] + "/")
        assert spec.get("imagePullSecrets") == ([{"name": R2["pull_secret"]}] if from_nersc else None), role
        assert container["image"].rsplit(":", 1)[-1] not in ("latest", "")


@needs_kubectl
@pytest.mark.parametrize("name", ANSWER_SETS)
def test_data_lives_on_claims_of_spins_storage_class(stacks, name):
    objects = kustomize(stacks[name], "development")
    claims = {o["metadata"]["name"]: o for o in of_kind(objects, "PersistentVolumeClaim")}
    for claim in claims.values():
        assert claim["spec"]["storageClassName"] == R2["storage_class"]
    answers = answers_of(stacks[name])
    stack_name = answers["stack_name"]
    if "db" in answers["services"]:
        assert f"db.{stack_name}" in claims
        (db,) = [o for o in of_kind(objects, "Deployment") if o["metadata"]["name"] == "db"]
        spec = db["spec"]["template"]["spec"]
        claimed = {v["name"] for v in spec["volumes"] if v.get("persistentVolumeClaim", {}).get("claimName") == f"db.{stack_name}"}
        assert any(m["name"] in claimed for m in spec["containers"][0]["volumeMounts"])
    # A Deployment whose claim no two pods may write at once (db, a kv that keeps its data) is
    # replaced on an upgrade; the others roll.
    for deployment in of_kind(objects, "Deployment"):
        writes_a_claim = any("persistentVolumeClaim" in v for v in deployment["spec"]["template"]["spec"].get("volumes", []))
        expected = {"type": "Recreate"} if writes_a_claim else None
        assert deployment["spec"].get("strategy") == expected, deployment["metadata"]["name"]
    assert (f"kv.{stack_name}" in claims) == ("kv" in answers["services"] and answers.get("kv_persist") is True)
    used = {v["persistentVolumeClaim"]["claimName"] for _, spec in pod_specs(objects)
            for v in spec.get("volumes", []) if "persistentVolumeClaim" in v}
    assert used == set(claims), "every claim is used and every used claim is rendered"


@needs_kubectl
@pytest.mark.parametrize("name", ANSWER_SETS)
def test_secrets_are_mounted_read_only_from_secrets_the_makefile_creates(stacks, name):
    stack = stacks[name]
    makefile = (stack / "Makefile").read_text()
    named = set()
    for _, spec in pod_specs(kustomize(stack, "development")):
        projected = [v for v in spec.get("volumes", []) if "projected" in v]
        for volume in projected:
            for source in volume["projected"]["sources"]:
                named.add(source["secret"]["name"])
                assert f"create secret generic {source['secret']['name']} " in makefile
        mounts = [m for c in containers(spec) for m in c.get("volumeMounts", []) if m["name"] in {v["name"] for v in projected}]
        assert all(m["mountPath"] == "/run/secrets" and m["readOnly"] is True for m in mounts)
    assert makefile.count("create secret generic ") == len(named)
    assert makefile.count("--dry-run=client --output=yaml | $(KUBECTL) apply --filename=-") >= len(named)


def kubelet_secret_mode(default_mode, fs_group):
    """The mode and group the kubelet gives a file of a projected/secret volume: it writes
    defaultMode, then (SetVolumeOwnership, read-only volume) chowns the group to fsGroup and
    adds group read: mode | 0o440."""
    return (default_mode | 0o440, fs_group) if fs_group is not None else (default_mode, 0)


@needs_kubectl
@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("setpriv"), reason="needs root and setpriv to switch users")
@pytest.mark.parametrize("name", ANSWER_SETS)
def test_secret_files_are_readable_by_the_containers_user_only(stacks, name):
    tmp_path = Path(tempfile.mkdtemp(prefix="secrets-"))  # under /tmp: pytest's own tmp is root-only
    tmp_path.chmod(0o755)
    try:
        check_secret_files(kustomize(stacks[name], "development"), tmp_path)
    finally:
        shutil.rmtree(tmp_path)


def check_secret_files(objects, tmp_path):
    """Write each secret file as the kubelet would, then read it as the container's user and as a stranger."""
    for obj, spec in pod_specs(objects):
        pod = spec["securityContext"]
        for volume in (v for v in spec.get("volumes", []) if "projected" in v):
            mode, group = kubelet_secret_mode(volume["projected"]["defaultMode"], pod.get("fsGroup"))
            for source in volume["projected"]["sources"]:
                for item in source["secret"]["items"]:
                    path = tmp_path / item["path"]
                    path.write_text("s3cret\n")
                    os.chown(path, 0, group)
                    os.chmod(path, mode)
                    groups = sorted({pod["runAsGroup"], *pod.get("supplementalGroups", []),
                                     *([pod["fsGroup"]] if "fsGroup" in pod else [])})
                    as_container = ["setpriv", f"--reuid={pod['runAsUser']}", f"--regid={pod['runAsGroup']}",
                                    f"--groups={','.join(map(str, groups))}", "cat", str(path)]
                    result = subprocess.run(as_container, capture_output=True, text=True)
                    assert result.returncode == 0 and result.stdout == "s3cret\n", (obj["metadata"]["name"], result.stderr)
                    stranger = ["setpriv", "--reuid=4242", "--regid=4242", "--clear-groups", "cat", str(path)]
                    assert subprocess.run(stranger, capture_output=True).returncode != 0


@pytest.mark.parametrize("name", ANSWER_SETS)
def test_kustomizations_list_exactly_their_files(stacks, name):
    k8s = stacks[name] / "k8s"
    assert sorted(p.name for p in k8s.iterdir()) == sorted(["base", *R2["clusters"]])
    for folder in k8s.iterdir():
        kustomization = yaml.safe_load((folder / "kustomization.yaml").read_text())
        files = sorted(p.name for p in folder.iterdir() if p.name != "kustomization.yaml")
        listed = sorted(r for r in kustomization["resources"] if not r.startswith(".."))
        assert listed == files, folder.name
        if folder.name != "base":
            assert kustomization["namespace"] == answers_of(stacks[name])["namespace"]
            assert "../base" in kustomization["resources"]


@needs_kubectl
def test_util_is_a_cronjob_that_dumps_the_database(stacks):
    objects = kustomize(stacks["portal"], "development")
    (cronjob,) = of_kind(objects, "CronJob")
    assert cronjob["spec"]["schedule"] == "0 9 * * *" and cronjob["spec"]["timeZone"] == "Etc/UTC"
    assert cronjob["spec"]["concurrencyPolicy"] == "Forbid"
    pod = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert pod["restartPolicy"] == "Never"
    (container,) = pod["containers"]
    assert container["command"][:2] == ["sh", "-c"] and "pg_dumpall --host=db" in container["command"][2]
    # Kubernetes expands $(VAR) in commands and turns $$ into $, as compose does.
    assert "$$(date -u +%Y%m%dT%H%M%SZ)" in container["command"][2]
    assert {m["mountPath"] for m in container["volumeMounts"]} == {"/backup", "/run/secrets"}


@needs_kubectl
def test_postgres_initialises_a_subdirectory_of_its_claim(stacks):
    (db,) = [o for o in of_kind(kustomize(stacks["portal"], "development"), "Deployment") if o["metadata"]["name"] == "db"]
    container = db["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e["value"] for e in container["env"]}
    mount = next(m["mountPath"] for m in container["volumeMounts"] if m["name"].startswith("data"))
    assert env["PGDATA"].startswith(mount + "/") and env["POSTGRES_PASSWORD_FILE"] == "/run/secrets/postgres_password"


def test_rancher2_examples_exist():
    platforms = {load_example(path).get("platform", "rancher1") for path in EXAMPLES}
    assert platforms == {"rancher1", "rancher2"}


def make_n(stack, *args):
    result = subprocess.run(["make", "-n", *args], cwd=stack, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.skipif(not shutil.which("make"), reason="make is not installed")
@pytest.mark.parametrize("target, cluster, expected", [
    ("up", None, "kubectl --context production --namespace tracker-dev apply -k k8s/production"),
    ("up", "development", "kubectl --context development --namespace tracker-dev apply -k k8s/development"),
    ("render", None, "kubectl kustomize k8s/production"),
    ("diff", None, "kubectl --context production --namespace tracker-dev diff -k k8s/production || test $? -eq 1"),
    ("status", None, "kubectl --context production --namespace tracker-dev rollout status deployment/db --timeout=300s"),
    ("run-util", None, "kubectl --context production --namespace tracker-dev create job --from=cronjob/util util-manual-"),
    ("build", None, "docker build --pull --platform linux/amd64 --file api/Dockerfile --tag registry.nersc.gov/genome/tracker-api:v0.1.0 ."),
    ("audit", None, "pre-commit run --config .pre-commit-config.yaml --files"),
])
def test_makefile_speaks_kubectl_to_the_answered_cluster_and_namespace(stacks, target, cluster, expected):
    args = [target] + ([f"CLUSTER={cluster}"] if cluster else [])
    assert expected in make_n(stacks["everything-private"], *args)


@pytest.mark.skipif(not shutil.which("make"), reason="make is not installed")
def test_makefile_creates_each_secret_idempotently_from_its_file(stacks, tmp_path):
    stack = stacks["everything-private"]
    out = make_n(stack, "secrets")
    assert ("kubectl --context production --namespace tracker-dev create secret generic tracker.api-token "
            "--from-file=api_token=secrets/api_token --dry-run=client --output=yaml | "
            "kubectl --context production --namespace tracker-dev apply --filename=-") in out
    assert "create secret generic db.tracker.mysql-root-password --from-file=mysql_root_password=secrets/mysql_root_password" in out
    # A missing file stops before kubectl runs.
    result = subprocess.run(["make", "secrets", "KUBECTL=echo kubectl"], cwd=stack, capture_output=True, text=True)
    assert result.returncode != 0 and "missing secrets/" in result.stderr and "kubectl" not in result.stdout


@pytest.mark.parametrize("name", ANSWER_SETS)
def test_spin_audit_finds_nothing_in_what_is_rendered(stacks, name):
    from stack_checks import assert_audit_clean

    assert_audit_clean(stacks[name], fail_on="info")


@pytest.mark.parametrize("key", ["app_base_image", "db_image", "kv_image"])
def test_images_from_rancher_16s_registry_name_are_refused_on_kubernetes(template_repo, tmp_path, key):
    from copier import run_copy

    answers = minimal_answers(platform="rancher2", services=["app", "db", "kv"], **{key: "registry.spin.nersc.gov/genome/x:1.2.3"})
    with pytest.raises(ValueError, match=rf"question '{key}': rancher2: use registry.nersc.gov"):
        run_copy(str(template_repo), tmp_path / "s", data=answers, defaults=True, quiet=True, unsafe=False)
    assert not (tmp_path / "s").exists()
    answers[key] = "registry.nersc.gov/genome/x:1.2.3"
    run_copy(str(template_repo), tmp_path / "t", data=answers, defaults=True, quiet=True, unsafe=False)


@needs_kubectl
@pytest.mark.parametrize("words", [
    {"stack_name": "y", "namespace": "n", "secrets": {"on": ["app"]}, "owner": "off", "registry_project": "no"},
    {"stack_name": "yes", "namespace": "1e3", "secrets": {"0o17": ["app"], "null": ["app"]}},
    {"stack_name": "true", "namespace": "0x1f", "run_as_user": "y", "run_as_group": "n"},
])
def test_answers_that_yaml_reads_as_booleans_or_numbers_stay_strings(render, words):
    """kubectl and kustomize parse YAML in Go: y, n, on and off are booleans there, 1e3 a number."""
    answers = minimal_answers(platform="rancher2", services=["web", "app", "db", "util"], **words)
    stack = render(answers)
    for cluster in ("development", "production"):
        objects = kustomize(stack, cluster)
        assert {obj["metadata"]["namespace"] for obj in objects} == {answers["namespace"]}
        app = next(o for o in objects if o["kind"] == "Deployment" and o["metadata"]["name"] == "app")
        assert app["metadata"]["labels"]["app.kubernetes.io/part-of"] == answers["stack_name"]
        env = {e["name"]: e.get("value") for e in app["spec"]["template"]["spec"]["containers"][0]["env"]}
        assert env["STACK_NAME"] == answers["stack_name"]
        for obj in objects:
            kubernetes_validate.validate(obj, K8S_VERSION, strict=True)


@needs_kubectl
@pytest.mark.parametrize("name", ANSWER_SETS)
def test_slow_starters_get_a_startup_probe_not_a_liveness_delay(stacks, name):
    """A first start (initdb, migrations) is judged by the startup probe; the liveness probe starts
    after it, with no delay of its own, and checks the same thing."""
    for obj, spec in pod_specs(kustomize(stacks[name], "development")):
        for container in containers(spec):
            if "ports" not in container:
                assert not any(k in container for k in ("startupProbe", "livenessProbe", "readinessProbe"))
                continue
            startup, liveness = container["startupProbe"], container["livenessProbe"]
            check = {k: v for k, v in liveness.items() if k in ("httpGet", "tcpSocket")}
            assert check and {k: v for k, v in startup.items() if k in ("httpGet", "tcpSocket")} == check
            assert "initialDelaySeconds" not in liveness
            budget = startup["periodSeconds"] * startup["failureThreshold"]
            assert budget >= (600 if obj["metadata"]["name"] == "db" else 300), obj["metadata"]["name"]


@needs_kubectl
@pytest.mark.parametrize("name", ANSWER_SETS)
def test_postgres_gets_a_memory_backed_dev_shm(stacks, name):
    answers = answers_of(stacks[name])
    for obj, spec in pod_specs(kustomize(stacks[name], "development")):
        memory = {v["name"] for v in spec.get("volumes", []) if v.get("emptyDir", {}).get("medium") == "Memory"}
        shm = [m for c in containers(spec) for m in c.get("volumeMounts", []) if m["mountPath"] == "/dev/shm"]
        if obj["metadata"]["name"] == "db" and answers.get("db_engine") == "postgres":
            assert [m["name"] for m in shm] == list(memory) and len(memory) == 1
        else:
            assert shm == [] and memory == set()


@pytest.mark.parametrize("name", ANSWER_SETS)
def test_each_file_says_what_the_answers_chose(stacks, name):
    answers = answers_of(stacks[name])
    base = stacks[name] / "k8s" / "base"
    if "kv" in answers["services"]:
        header = (base / "kv.yaml").read_text().splitlines()[0]
        if answers["kv_persist"]:
            assert "persistent volume claim" in header and "cache" not in header
        else:
            assert "cache" in header and "claim" not in header
    if "db" in answers["services"]:
        header = (base / "db.yaml").read_text().splitlines()[0]
        assert header.startswith(f"# db: {answers['db_engine']},") and "replaced, not rolled" in header


FAKE_KUBECTL = """#!/bin/sh
# kubectl as `make rollback` sees it: `rollout history` lists $REVISIONS revisions of every Deployment;
# every call is written to $CALLS; an undo fails when $UNDO_FAILS is set.
echo "$*" >> "$CALLS"
case "$*" in
  *"rollout history"*) echo "deployment.apps/x"; echo "REVISION  CHANGE-CAUSE";
                       i=1; while [ "$i" -le "$REVISIONS" ]; do echo "$i         <none>"; i=$((i + 1)); done;;
  *"rollout undo"*) [ -z "$UNDO_FAILS" ] || { echo "error: undo refused" >&2; exit 1; };;
esac
"""


def run_rollback(stack, tmp_path, revisions, undo_fails=""):
    fake = tmp_path / "kubectl"
    fake.write_text(FAKE_KUBECTL)
    fake.chmod(0o755)
    calls = tmp_path / "calls"
    calls.write_text("")
    env = {**os.environ, "CALLS": str(calls), "REVISIONS": str(revisions), "UNDO_FAILS": undo_fails}
    result = subprocess.run(["make", "rollback", f"KUBECTL={fake}"], cwd=stack, capture_output=True, text=True, env=env)
    return result, calls.read_text().splitlines()


@pytest.mark.skipif(not shutil.which("make"), reason="make is not installed")
@pytest.mark.parametrize("name", ["everything-private", "two-servers", "portal"])
def test_rollback_goes_back_only_where_an_image_runs_again(stacks, tmp_path, name):
    answers = answers_of(stacks[name])
    result, calls = run_rollback(stacks[name], tmp_path, revisions=2)
    assert result.returncode == 0, result.stderr
    undone = [call.split("deployment/")[1] for call in calls if "rollout undo" in call]
    assert undone == [r for r in ("web", "app", "api") if r in answers["services"]]
    keeps_data = ["db"] * ("db" in answers["services"]) + ["kv"] * bool(answers.get("kv_persist"))
    if keeps_data:
        whose = "its" if len(keeps_data) == 1 else "their"
        assert (f"{' and '.join(keeps_data)}: not rolled back, {whose} data may have changed since "
                "(restore a dump instead)") in result.stdout.splitlines()


@pytest.mark.parametrize("name, stores, whose", [("portal", "db is", "its"), ("two-servers", "db and kv are", "their")])
def test_the_readme_says_which_stores_are_replaced_and_never_rolled_back(stacks, name, stores, whose):
    readme = " ".join((stacks[name] / "README.md").read_text().split())
    assert f"{stores} replaced, not rolled, on an upgrade" in readme
    assert f"never rolled back: {whose} data may have changed since" in readme


@pytest.mark.skipif(not shutil.which("make"), reason="make is not installed")
def test_rollback_after_a_first_deploy_says_there_is_nothing_to_go_back_to(stacks, tmp_path):
    result, calls = run_rollback(stacks["portal"], tmp_path, revisions=1)
    assert result.returncode == 0, result.stderr
    assert not [call for call in calls if "rollout undo" in call]
    assert "web: no earlier version deployed" in result.stdout and "app: no earlier version deployed" in result.stdout


@pytest.mark.skipif(not shutil.which("make"), reason="make is not installed")
def test_rollback_fails_when_kubectl_refuses_the_undo(stacks, tmp_path):
    result, _ = run_rollback(stacks["portal"], tmp_path, revisions=3, undo_fails="yes")
    assert result.returncode != 0 and "undo refused" in result.stderr


@pytest.mark.skipif(not shutil.which("make"), reason="make is not installed")
@pytest.mark.parametrize("name", ANSWER_SETS)
def test_make_dumps_reads_the_util_claim_with_the_jobs_security(stacks, name):
    """`make dumps` runs a pod that mounts the claim the util job writes, read-only, as the job
    does (a valid Pod once kubectl run applies the overrides), copies the dump directory off with
    kubectl cp, and deletes the pod."""
    stack = stacks[name]
    answers = answers_of(stack)
    objects = kustomize(stack, "development") if KUBECTL else []
    claims = [o["metadata"]["name"] for o in of_kind(objects, "PersistentVolumeClaim")]
    util_claim = f"util.{answers['stack_name']}"
    if util_claim not in claims:
        assert "\ndumps:" not in (stack / "Makefile").read_text()
        return
    out = make_n(stack, "dumps")
    overrides = json.loads(out.split("--overrides='", 1)[1].split("'", 1)[0])
    image = out.split("--image=", 1)[1].split()[0]
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "dumps-reader"}, **overrides}
    kubernetes_validate.validate(pod, K8S_VERSION, strict=True)
    spec = pod["spec"]
    (container,) = spec["containers"]
    assert container["image"] == image and ":" in image and not image.endswith(":latest")
    (volume,) = spec["volumes"]
    assert volume["persistentVolumeClaim"] == {"claimName": util_claim, "readOnly": True}
    (mount,) = container["volumeMounts"]
    assert mount["readOnly"] is True
    (cronjob,) = of_kind(objects, "CronJob")
    job = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert spec["securityContext"] == job["securityContext"]
    assert container["securityContext"] == job["containers"][0]["securityContext"]
    job_mount = next(m for m in job["containers"][0]["volumeMounts"]
                     if any(v["name"] == m["name"] and v.get("persistentVolumeClaim", {}).get("claimName") == util_claim
                            for v in job["volumes"]))
    assert mount["mountPath"] == job_mount["mountPath"]
    assert f"cp dumps-reader:{mount['mountPath']} dumps" in out
    assert "delete pod dumps-reader" in out.rsplit("cp dumps-reader", 1)[1]
    assert "/dumps/" in (stack / ".gitignore").read_text().splitlines()
