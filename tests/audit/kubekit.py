"""Helpers for the Kubernetes audit tests: clean manifests and variants of them, audit them, read the
findings back (stackkit.write_files writes them)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from spin_audit.engine import audit_kube
from spin_audit.kube import load
from spin_audit.registry import Finding

# A Deployment that breaks no rule: the form the template renders, on the global file system.
CLEAN_DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: myns
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      securityContext:
        runAsUser: 12345
        runAsGroup: 6789
        runAsNonRoot: true
        fsGroup: 6789
      containers:
        - name: web
          image: registry.nersc.gov/myproj/web:1.0
          securityContext:
            allowPrivilegeEscalation: false
            privileged: false
            capabilities:
              drop: [ALL]
              add: [NET_BIND_SERVICE]
          volumeMounts:
            - name: data
              mountPath: /data
              readOnly: true
      volumes:
        - name: data
          hostPath:
            path: /global/cfs/cdirs/myproj/web
            type: Directory
      imagePullSecrets:
        - name: registry-nersc
"""

CLEAN_INGRESS = """\
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
  namespace: myns
spec:
  ingressClassName: nginx
  rules:
    - host: web.myns.development.svc.spin.nersc.org
      http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service: {name: web, port: {number: 8080}}
"""


# The Service CLEAN_INGRESS routes to, selecting CLEAN_DEPLOYMENT's pods: users reach them through both.
CLEAN_SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: myns
spec:
  selector: {app: web}
  ports:
    - port: 8080
      targetPort: 8080
"""


def variant(base: str, old: str, new: str) -> str:
    """base with `old` replaced by `new` once (a test error if `old` is not there exactly once)."""
    assert base.count(old) == 1, f"{old!r} occurs {base.count(old)} times"
    return base.replace(old, new)


def line_of(text: str, fragment: str) -> int:
    """1-based line of the first line containing `fragment`."""
    for number, line in enumerate(text.splitlines(), 1):
        if fragment in line:
            return number
    raise AssertionError(f"{fragment!r} not in the text")


def audit(*paths: Path, allow_suppressions: bool = True, access: Optional[str] = None) -> List[Finding]:
    return audit_kube(load([str(p) for p in paths], access), allow_suppressions)


def where(findings: List[Finding], root: Path) -> List[Tuple[str, int, str]]:
    """(path relative to root, line, rule id) of each unsuppressed finding."""
    return [(Path(f.location.path).resolve().relative_to(root.resolve()).as_posix(), f.location.line, f.rule.id)
            for f in findings if f.suppressed_by is None]


def leaves(data: Any, path: Tuple[Any, ...] = ()) -> Dict[Tuple[Any, ...], Any]:
    """Every scalar (and empty mapping or list) of parsed YAML by its path of keys and indexes, so that two
    documents can be compared value by value (what a fix may and may not change)."""
    if isinstance(data, dict) and data:
        return {leaf: value for key, item in data.items() for leaf, value in leaves(item, path + (key,)).items()}
    if isinstance(data, list) and data:
        return {leaf: value for index, item in enumerate(data) for leaf, value in leaves(item, path + (index,)).items()}
    return {path: data}
