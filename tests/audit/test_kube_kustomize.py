"""A kustomize tree shaped like the template's k8s/ (base + development/production overlays) audits clean,
and the audit of the tree agrees with the audit of what `kubectl kustomize` builds from it."""

from __future__ import annotations

import shutil
import subprocess
from collections import Counter
from pathlib import Path

import kubernetes_validate
import pytest
import yaml
from kubekit import audit, variant, where
from stackkit import write_files

KUBECTL = shutil.which("kubectl")
needs_kubectl = pytest.mark.skipif(KUBECTL is None, reason="kubectl (with kustomize) is not installed")



def secure(indent: int) -> str:
    """Spin's security context for a container whose keys are indented by `indent` spaces."""
    lines = ["securityContext:", "  allowPrivilegeEscalation: false", "  privileged: false", "  capabilities:",
             "    drop: [ALL]"]
    return "".join(" " * indent + line + "\n" for line in lines)


WEB = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app.kubernetes.io/name: web}
spec:
  selector:
    matchLabels: {app.kubernetes.io/name: web}
  template:
    metadata:
      labels: {app.kubernetes.io/name: web}
    spec:
      imagePullSecrets: [{name: registry-nersc}]
      containers:
        - name: web
          image: registry.nersc.gov/myproj/web:1.0.0
          ports: [{containerPort: 8080}]
""" + secure(10) + """\
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app.kubernetes.io/name: web}
  ports: [{port: 8080, targetPort: 8080}]
"""

APP = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
spec:
  selector:
    matchLabels: {app.kubernetes.io/name: app}
  template:
    metadata:
      labels: {app.kubernetes.io/name: app}
    spec:
      securityContext: {runAsUser: 12345, runAsGroup: 6789, runAsNonRoot: true, fsGroup: 6789}
      imagePullSecrets: [{name: registry-nersc}]
      volumes:
        - name: data
          hostPath: {path: /global/cfs/cdirs/myproj/app, type: Directory}
        - name: secrets
          secret: {secretName: app-secrets, defaultMode: 0400}
      containers:
        - name: app
          image: registry.nersc.gov/myproj/app:1.0.0
          env:
            - {name: DB_PASSWORD_FILE, value: /secrets/db_password}
          volumeMounts:
            - {name: data, mountPath: /data, readOnly: true}
            - {name: secrets, mountPath: /secrets, readOnly: true}
""" + secure(10)

DB = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: db
spec:
  selector:
    matchLabels: {app.kubernetes.io/name: db}
  strategy: {type: Recreate}
  template:
    metadata:
      labels: {app.kubernetes.io/name: db}
    spec:
      containers:
        - name: db
          image: postgres:17.2
          env:
            - {name: POSTGRES_PASSWORD_FILE, value: /secrets/postgres_password}
          volumeMounts:
            - {name: data, mountPath: /var/lib/postgresql/data}
          securityContext:
            allowPrivilegeEscalation: false
            capabilities:
              drop: [ALL]
              add: [CHOWN, DAC_OVERRIDE, FOWNER, SETGID, SETUID]
      volumes:
        - name: data
          persistentVolumeClaim: {claimName: db-data}
---
apiVersion: v1
kind: Service
metadata:
  name: db
spec:
  selector: {app.kubernetes.io/name: db}
  ports: [{port: 5432}]
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: db-data
spec:
  accessModes: [ReadWriteMany]
  storageClassName: nfs-client-vast
  resources:
    requests: {storage: 1Gi}
"""

UTIL = """\
apiVersion: batch/v1
kind: CronJob
metadata:
  name: util
spec:
  schedule: "0 9 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          volumes:
            - name: backup
              persistentVolumeClaim: {claimName: db-data}
          containers:
            - name: util
              image: postgres:17.2
              args: [pg_dump, --file=/backup/db.sql]
              volumeMounts:
                - {name: backup, mountPath: /backup}
""" + secure(14)

OVERLAY = """\
namespace: {namespace}
labels:
  - pairs: {{app.kubernetes.io/part-of: mystack}}
resources: [../base, ingress.yaml]
"""

INGRESS = """\
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
spec:
  ingressClassName: nginx
  tls:
    - hosts: [portal.example.org]
      secretName: web-tls
  rules:
    - host: web.{namespace}.{cluster}.svc.spin.nersc.org
      http: &paths
        paths:
          - path: /
            pathType: Prefix
            backend:
              service: {{name: web, port: {{number: 8080}}}}
    - host: portal.example.org
      http: *paths
"""

TREE = {
    "k8s/base/kustomization.yaml": "resources: [web.yaml, app.yaml, db.yaml, util.yaml]\n",
    "k8s/base/web.yaml": WEB,
    "k8s/base/app.yaml": APP,
    "k8s/base/db.yaml": DB,
    "k8s/base/util.yaml": UTIL,
}
for cluster, namespace in (("development", "mystack-dev"), ("production", "mystack")):
    TREE[f"k8s/{cluster}/kustomization.yaml"] = OVERLAY.format(namespace=namespace)
    TREE[f"k8s/{cluster}/ingress.yaml"] = INGRESS.format(namespace=namespace, cluster=cluster)


def _built(overlay: Path) -> str:
    assert KUBECTL is not None
    proc = subprocess.run([KUBECTL, "kustomize", str(overlay)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def _by_object(findings) -> Counter:
    """(rule, object) counts: independent of files and lines, which building changes (and of the cluster,
    which only the tree's folder names)."""
    return Counter((f.rule.id, " ".join(f.message.split()[:2])) for f in findings if f.suppressed_by is None)


def test_tree_audits_clean_at_every_severity(tmp_path: Path) -> None:
    root = write_files(tmp_path, TREE)
    assert [(f.rule.id, f.location.path, f.message) for f in audit(root / "k8s")] == []
    for overlay in ("development", "production"):
        assert audit(root / "k8s" / overlay) == [], overlay


@needs_kubectl
@pytest.mark.parametrize("overlay", ["development", "production"])
def test_built_overlay_is_valid_and_audits_clean(tmp_path: Path, overlay: str) -> None:
    root = write_files(tmp_path / "tree", TREE)
    built = _built(root / "k8s" / overlay)
    objects = [doc for doc in yaml.safe_load_all(built) if doc]
    assert {o["kind"] for o in objects} == {"Deployment", "Service", "PersistentVolumeClaim", "CronJob", "Ingress"}
    for obj in objects:
        kubernetes_validate.validate(obj, "1.31.0", strict=True)
    output = write_files(tmp_path / "out", {"built.yaml": built})
    assert audit(output / "built.yaml") == []


BREAKAGE = [
    ("k8s/development/ingress.yaml", "host: web.mystack-dev.", "host: web.mystack."),  # ING-002: namespace
    ("k8s/base/web.yaml", "drop: [ALL]", "drop: [NET_RAW]"),
    ("k8s/base/app.yaml", "runAsNonRoot: true", "runAsNonRoot: false"),
    ("k8s/base/util.yaml", "image: postgres:17.2", "image: postgres"),
]


@needs_kubectl
@pytest.mark.parametrize("path, old, new", BREAKAGE, ids=[b[2].strip()[:24] for b in BREAKAGE])
def test_tree_and_built_output_agree(tmp_path: Path, path: str, old: str, new: str) -> None:
    tree = dict(TREE)
    tree[path] = variant(tree[path], old, new)
    root = write_files(tmp_path / "tree", tree)
    overlay = root / "k8s" / "development"
    from_tree = _by_object(audit(overlay))
    from_build = _by_object(audit(write_files(tmp_path / "out", {"built.yaml": _built(overlay)}) / "built.yaml"))
    assert from_tree and from_tree == from_build


@pytest.mark.parametrize("key", ["resources", "bases", "components"])
def test_an_overlay_audits_the_base_it_names_under_any_key_kustomize_reads(tmp_path: Path, key: str) -> None:
    """`bases:` (kustomize before v5) and `components:` bring in objects as `resources:` does: an overlay that
    names its base under either is audited with the base's objects."""
    tree = dict(TREE)
    tree["k8s/base/web.yaml"] = variant(WEB, "drop: [ALL]", "drop: [NET_RAW]")
    tree["k8s/development/kustomization.yaml"] = f"namespace: mystack-dev\n{key}: [../base]\n"
    root = write_files(tmp_path, tree)
    found = where(audit(root / "k8s" / "development"), root)
    assert any(path == "k8s/base/web.yaml" for path, _, _ in found), found
