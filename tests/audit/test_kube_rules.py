"""Every Kubernetes rule fires on manifests that break it and stays silent on the corrected ones.

Each case is real YAML: `fires` breaks the rule (often CLEAN_DEPLOYMENT with one change), `clean`
is the same input with the fix; the finding must point at `line` of `path` and say `says`.
`QUIET` lists inputs near a rule's edge that must not trigger it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Optional

import pytest
from kubekit import CLEAN_DEPLOYMENT, CLEAN_INGRESS, CLEAN_SERVICE, audit, line_of, variant, where
from stackkit import write_files
from spin_audit.registry import KUBE, all_rules

D = CLEAN_DEPLOYMENT
M = "manifest.yaml"
AFTER_D = D.count("\n") + 2  # the line of a document appended to D after `---`


@dataclass
class Case:
    rule: str
    fires: Dict[str, str]
    clean: Dict[str, str]
    line: int
    says: str
    path: str = M
    id: str = ""
    named: bool = False  # audit the file itself, not the folder holding it


def one(text: str) -> Dict[str, str]:
    return {M: text}


def case(rule: str, old: str, new: str, says: str, at: Optional[str] = None, base: str = D, id: str = "") -> Case:
    """CLEAN_DEPLOYMENT (or base) with `old` replaced by `new`; the finding on the line holding `at` (or `new`)."""
    broken = variant(base, old, new)
    marker = at if at is not None else new.strip().splitlines()[0]
    return Case(rule, one(broken), one(base), line_of(broken, marker), says, id=id or f"{rule}-{new.strip()[:30]}")


PVC = """\
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: data
spec:
  accessModes: [ReadWriteMany]
  storageClassName: nfs-client-vast
  resources:
    requests: {storage: 1Gi}
"""

LOAD_BALANCER = """\
apiVersion: v1
kind: Service
metadata:
  name: db-external
spec:
  type: LoadBalancer
  selector: {app: db}
  ports:
    - port: 5432
      targetPort: 5432
"""

SECRET = """\
apiVersion: v1
kind: Secret
metadata:
  name: db
type: Opaque
stringData:
  username: postgres
  password: <set with kubectl create secret>
"""

# A Service and an Ingress that route users to CLEAN_DEPLOYMENT's pods.
SERVED = {"service.yaml": CLEAN_SERVICE, "ingress.yaml": CLEAN_INGRESS}

# The same route as CLEAN_INGRESS in the extensions/v1beta1 form, and an Ingress with only a default backend.
OLD_INGRESS = """\
apiVersion: extensions/v1beta1
kind: Ingress
metadata: {name: web, namespace: myns}
spec:
  rules:
    - host: web.myns.development.svc.spin.nersc.org
      http:
        paths:
          - path: /
            backend: {serviceName: web, servicePort: 8080}
"""
DEFAULT_BACKEND = """\
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: myns}
spec:
  ingressClassName: nginx
  defaultBackend:
    service: {name: front, port: {number: 8080}}
"""

# An init container (to go before `      containers:`), as NERSC users chown a volume with busybox.
INIT_CONTAINER = """\
      initContainers:
        - name: chown
          image: {image}
          imagePullPolicy: IfNotPresent
          command: [chown, "12345:6789", /data]
      containers:
"""

# A projected volume of Secret 'db' and a ConfigMap, mounted at /secrets (to replace `      volumes:\n`).
PROJECTED = """\
            - name: all
              mountPath: /secrets
      volumes:
        - name: all
          projected:
            defaultMode: {mode}
            sources:
              - configMap: {{name: settings}}
              - secret: {{name: db}}
"""


def with_secret_volume(mode: str, name: str = "db") -> str:
    """CLEAN_DEPLOYMENT whose container also mounts Secret `name` at /secrets, its volume with `mode` lines."""
    return variant(D, "      volumes:\n", "            - name: secret\n              mountPath: /secrets\n"
                                         f"      volumes:\n        - name: secret\n          secret:\n"
                                         f"            secretName: {name}\n{mode}")


CHART = {
    "chart/Chart.yaml": "apiVersion: v2\nname: web\nversion: 0.1.0\n",
    "chart/values.yaml": "image: nginx\n",
    "chart/templates/deployment.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n"
                                       "  name: {{ .Release.Name }}\n",
}

CASES = [
    # 1xx manifests
    Case("SPINK101", one(D.replace("metadata:\n  name: web", "metadata:\n  name: [web", 1)), one(D), 5,
         "invalid YAML: did not find expected", id="SPINK101-broken-flow"),
    Case("SPINK101", one(D + "  bad: [\n"), one(D), AFTER_D, "invalid YAML", id="SPINK101-at-the-end"),
    Case("SPINK102", {**CHART, "manifests/deployment.yaml": D}, {"manifests/deployment.yaml": D}, 1,
         "a Helm chart, not audited: audit what it renders: `helm template NAME", path="chart/Chart.yaml"),
    Case("SPINK102", {"ns.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {{{name}}}\n", M: D},
         {"ns.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: myns\n", M: D}, 4,
         "a template ('{{{name}}'), not audited: render it, then audit the result", path="ns.yaml",
         id="SPINK102-lone-template"),
    Case("SPINK105", one(variant(D, "  name: web\n", "  name: web\n  name: portal\n")), one(D), 5,
         "duplicate key 'name' (first at line 4): kubectl refuses the document"),
    Case("SPINK105", one(D + "---\n" + variant(PVC, "  name: data\n", "  name: data\n  name: data\n")),
         one(D + "---\n" + PVC), AFTER_D + 4, "duplicate key 'name' (first at line", id="SPINK105-second-document"),
    Case("SPINK103", one(D + "---\n- a list\n"), one(D + "---\n# only a comment\n"), AFTER_D,
         "document is a list, not a Kubernetes object"),
    Case("SPINK103", one(D + "---\nmetadata: {name: x}\n"), one(D), AFTER_D,
         "a mapping without `kind`", id="SPINK103-no-kind"),
    Case("SPINK103", one(D + "---\nkind: ConfigMap\nmetadata: {name: x}\n"),
         one(D + "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"), AFTER_D,
         "a mapping without `apiVersion`", id="SPINK103-no-apiVersion"),
    Case("SPINK103", one("---\n# nothing\n"), one(PVC), 1, "the file holds no Kubernetes object", named=True,
         id="SPINK103-empty"),
    Case("SPINK103", one("replicas: 2\n"), one(PVC), 1, "a mapping without `kind`", named=True,
         id="SPINK103-named-values-file"),
    case("SPINK104", "      containers:\n        - name: web\n", "      containers: []\n      unused:\n        - name: web\n",
         "Deployment 'web' has no containers", at="containers: []"),
    # 2xx security
    case("SPINK201", "drop: [ALL]", "drop: [NET_RAW]", "container 'web' does not drop ALL capabilities"),
    case("SPINK201", "            capabilities:\n              drop: [ALL]\n              add: [NET_BIND_SERVICE]\n",
         "", "Deployment 'web' container 'web' does not drop ALL", at="          securityContext:",
         id="SPINK201-no-block"),
    case("SPINK202", "add: [NET_BIND_SERVICE]", "add: [NET_BIND_SERVICE, SYS_ADMIN]",
         "container 'web' adds capability SYS_ADMIN, outside Spin's list"),
    case("SPINK202", "add: [NET_BIND_SERVICE]", "add: [CAP_NET_ADMIN]", "adds capability NET_ADMIN",
         id="SPINK202-cap-prefix"),
    case("SPINK203", "privileged: false", "privileged: true", "Deployment 'web' container 'web' is privileged"),
    case("SPINK204", "allowPrivilegeEscalation: false", "allowPrivilegeEscalation: true",
         "container 'web' sets allowPrivilegeEscalation: true"),
    case("SPINK204", "            allowPrivilegeEscalation: false\n", "", "does not set allowPrivilegeEscalation: false",
         at="          securityContext:", id="SPINK204-missing"),
    case("SPINK204", "allowPrivilegeEscalation: false", "allowPrivilegeEscalation:", "does not set "
         "allowPrivilegeEscalation: false", id="SPINK204-null"),
    case("SPINK205", "      containers:\n", "      hostNetwork: true\n      containers:\n",
         "Deployment 'web' sets hostNetwork: true", at="hostNetwork"),
    case("SPINK205", "      containers:\n", "      hostPID: yes\n      containers:\n", "sets hostPID: true", at="hostPID",
         id="SPINK205-yes"),
    case("SPINK205", "      containers:\n", "      hostIPC: true\n      containers:\n", "sets hostIPC: true", at="hostIPC",
         id="SPINK205-ipc"),
    # 3xx global file system and storage
    case("SPINK301", "/global/cfs/cdirs/myproj/web", "/var/run/docker.sock",
         "Deployment 'web' mounts host path /var/run/docker.sock from the Spin node"),
    case("SPINK301", "/global/cfs/cdirs/myproj/web", "/global/../etc", "mounts host path /etc",
         id="SPINK301-dotdot"),
    case("SPINK302", "/global/cfs/cdirs/myproj/web", "/global/homes/u/user/data",
         "mounts the home directory path /global/homes/u/user/data (NGF-002)"),
    case("SPINK302", "/global/cfs/cdirs/myproj/web", "//global//homes/u", "mounts the home directory path "
         "/global/homes/u", id="SPINK302-slashes"),
    case("SPINK303", "/global/cfs/cdirs/myproj/web", "/pscratch/sd/u/user",
         "mounts /pscratch/sd/u/user, which Spin nodes do not have"),
    case("SPINK304", "            type: Directory\n", "", "mounts /global/cfs/cdirs/myproj/web with no type",
         at="path: /global"),
    case("SPINK304", "type: Directory", "type: DirectoryOrCreate", "with type DirectoryOrCreate, not Directory",
         id="SPINK304-or-create"),
    Case("SPINK305", {**SERVED, M: variant(D, "              readOnly: true\n", "")}, {**SERVED, M: D},
         line_of(D, "- name: data"), "container 'web' mounts /global/cfs/cdirs/myproj/web read-write and serves "
         "users through Ingress 'web'"),
    Case("SPINK305", {**SERVED, M: variant(D, "readOnly: true", "readOnly: false")}, {**SERVED, M: D},
         line_of(D, "- name: data"), "read-write and serves users", id="SPINK305-false"),
    Case("SPINK305", {"service.yaml": CLEAN_SERVICE, "ingress.yaml": OLD_INGRESS,
                      M: variant(D, "readOnly: true", "readOnly: false")}, {**SERVED, M: D},
         line_of(D, "- name: data"), "serves users through Ingress 'web'", id="SPINK305-v1beta1"),
    Case("SPINK305", {"service.yaml": CLEAN_SERVICE.replace("name: web\n", "name: front\n"),
                      "ingress.yaml": DEFAULT_BACKEND, M: variant(D, "readOnly: true", "readOnly: false")},
         {"service.yaml": CLEAN_SERVICE.replace("name: web\n", "name: front\n"), "ingress.yaml": DEFAULT_BACKEND,
          M: D}, line_of(D, "- name: data"), "through Ingress 'web'", id="SPINK305-default-backend"),
    Case("SPINK305", {"service.yaml": CLEAN_SERVICE.replace("  selector:", "  type: NodePort\n  selector:"),
                      M: variant(D, "readOnly: true", "readOnly: false")},
         {"service.yaml": CLEAN_SERVICE.replace("  selector:", "  type: NodePort\n  selector:"), M: D},
         line_of(D, "- name: data"), "through NodePort Service 'web'", id="SPINK305-node-port"),
    Case("SPINK305", {"lb.yaml": LOAD_BALANCER.replace("app: db", "app: web"),
                      M: variant(D, "readOnly: true", "readOnly: false")}, {"lb.yaml": LOAD_BALANCER, M: D},
         line_of(D, "- name: data"), "serves users through LoadBalancer Service 'db-external'", id="SPINK305-lb"),
    Case("SPINK311", {"stack/.copier-answers.yml": "platform: rancher2\naccess: public\n",
                      "stack/k8s/base/web.yaml": variant(D, "readOnly: true", "readOnly: false")},
         {"stack/.copier-answers.yml": "platform: rancher2\naccess: public\n", "stack/k8s/base/web.yaml": D},
         line_of(D, "- name: data"), "container 'web' mounts /global/cfs/cdirs/myproj/web read-write on a public "
         "stack (access from .copier-answers.yml)", path="stack/k8s/base/web.yaml"),
    case("SPINK306", "        runAsUser: 12345\n", "", "container 'web' sets runAsGroup but no runAsUser; the pod "
         "mounts /global/cfs/cdirs/myproj/web", at="          securityContext:"),
    case("SPINK306", "        runAsUser: 12345\n        runAsGroup: 6789\n", "", "container 'web' sets no runAsUser",
         at="          securityContext:", id="SPINK306-nothing"),
    case("SPINK306", "runAsUser: 12345", "runAsUser: 0", "container 'web' runs as root (runAsUser: 0)",
         id="SPINK306-root"),
    case("SPINK306", "            privileged: false\n", "            privileged: false\n            runAsUser: 0\n",
         "runs as root", at="runAsUser: 0", id="SPINK306-container-overrides-pod"),
    case("SPINK306", "runAsUser: 12345", 'runAsUser: "12345"', "runAsUser '12345' is not a number",
         id="SPINK306-string"),
    case("SPINK307", "runAsNonRoot: true", "runAsNonRoot: false", "does not set runAsNonRoot: true"),
    case("SPINK307", "        runAsNonRoot: true\n", "", "container 'web' does not set runAsNonRoot: true",
         at="          securityContext:", id="SPINK307-missing"),
    case("SPINK308", "        fsGroup: 6789\n", "", "Deployment 'web' sets no fsGroup; it mounts "
         "/global/cfs/cdirs/myproj/web", at="      securityContext:"),
    case("SPINK308", "fsGroup: 6789", "fsGroup: 0", "fsGroup '0' is not a project GID", id="SPINK308-zero"),
    case("SPINK309", "add: [NET_BIND_SERVICE]", "add: [NET_BIND_SERVICE, CHOWN]",
         "container 'web' adds CHOWN; the pod mounts /global/cfs/cdirs/myproj/web"),
    case("SPINK310", "storageClassName: nfs-client-vast", "storageClassName: standard",
         "PersistentVolumeClaim 'data' asks for storage class 'standard'", base=PVC),
    # 4xx images
    case("SPINK401", "image: registry.nersc.gov/myproj/web:1.0", "image: quay.io/myproj/web:1.0",
         "container 'web' pulls from quay.io, a registry Spin is not known to pull from"),
    case("SPINK401", "image: registry.nersc.gov/myproj/web:1.0", "image: registry.spin.nersc.gov/myproj/web:1.0",
         "is in registry.spin.nersc.gov, Rancher 1.6's registry", id="SPINK401-retired"),
    case("SPINK402", "image: registry.nersc.gov/myproj/web:1.0",
         "image: registry.nersc.gov/myproj/web:latest\n          imagePullPolicy: IfNotPresent",
         "image 'registry.nersc.gov/myproj/web:latest' uses :latest with imagePullPolicy IfNotPresent"),
    case("SPINK402", "image: registry.nersc.gov/myproj/web:1.0",
         "image: registry.nersc.gov/myproj/web\n          imagePullPolicy: Never",
         "has no tag (so it is :latest) with imagePullPolicy Never", id="SPINK402-untagged"),
    case("SPINK403", "image: registry.nersc.gov/myproj/web:1.0", "image: nginx",
         "container 'web' image 'nginx' has no tag"),
    case("SPINK403", "image: registry.nersc.gov/myproj/web:1.0",
         "image: nginx:latest\n          imagePullPolicy: Always", "image 'nginx:latest' uses :latest",
         id="SPINK403-always"),
    case("SPINK403", "      containers:\n", INIT_CONTAINER.format(image="busybox"),
         "Deployment 'web' init container 'chown' image 'busybox' has no tag with imagePullPolicy IfNotPresent",
         at="image: busybox", id="SPINK403-init-container"),
    case("SPINK406", "image: registry.nersc.gov/myproj/web:1.0", "image: postgres:17-alpine",
         "image 'postgres:17-alpine' has a tag that moves, with imagePullPolicy IfNotPresent (the default)"),
    case("SPINK406", "image: registry.nersc.gov/myproj/web:1.0",
         "image: mysql:8\n          imagePullPolicy: IfNotPresent", "image 'mysql:8' has a tag that moves, with "
         "imagePullPolicy IfNotPresent", id="SPINK406-written"),
    case("SPINK406", "image: registry.nersc.gov/myproj/web:1.0", "image: registry.nersc.gov/myproj/web:nightly",
         "image 'registry.nersc.gov/myproj/web:nightly' has a tag that moves", id="SPINK406-nightly"),
    case("SPINK406", "image: registry.nersc.gov/myproj/web:1.0", "image: ghcr.io/org/web:3-latest",
         "image 'ghcr.io/org/web:3-latest' has a tag that moves", id="SPINK406-3-latest"),
    case("SPINK407", "      imagePullSecrets:\n        - name: registry-nersc\n", "",
         "container 'web' pulls 'registry.nersc.gov/myproj/web:1.0' but the pod names no pull secret "
         "(registry-nersc)", at="image: registry.nersc.gov"),
    case("SPINK407", "        - name: registry-nersc\n", "        - {}\n", "names no pull secret",
         at="image: registry.nersc.gov", id="SPINK407-nameless"),
    case("SPINK404", "          image: registry.nersc.gov/myproj/web:1.0\n", "",
         "Deployment 'web' container 'web' has no image", at="- name: web"),
    case("SPINK405", "image: registry.nersc.gov/myproj/web:1.0", "image: Registry.NERSC.gov/My Proj/web:1.0",
         "image 'Registry.NERSC.gov/My Proj/web:1.0' is not a valid image reference"),
    case("SPINK405", "image: registry.nersc.gov/myproj/web:1.0", "image: 42", "image is not a string",
         id="SPINK405-number"),
    # 5xx network
    case("SPINK501", "host: web.myns.development.svc.spin.nersc.org", "host: lb.myns.development.svc.spin.nersc.org",
         "Ingress 'web' host lb.myns.development.svc.spin.nersc.org is not "
         "web.myns.development|production.svc.spin.nersc.org (ING-002)", base=CLEAN_INGRESS),
    case("SPINK501", "host: web.myns.development.svc.spin.nersc.org", "host: portal.example.org",
         "Ingress 'web' has no host web.myns.development|production.svc.spin.nersc.org (ING-002)",
         at="  rules:", base=CLEAN_INGRESS, id="SPINK501-public-only"),
    case("SPINK501", "host: web.myns.development.svc.spin.nersc.org", "host: web.other.development.svc.spin.nersc.org",
         "host web.other.development.svc.spin.nersc.org is not web.myns", base=CLEAN_INGRESS,
         id="SPINK501-namespace"),
    case("SPINK501", "host: web.myns.development.svc.spin.nersc.org", "host: web.myns.sandbox.svc.spin.nersc.org",
         "is not web.myns.development|production", base=CLEAN_INGRESS, id="SPINK501-cluster"),
    case("SPINK502", "  ingressClassName: nginx\n", "", "Ingress 'web' names no ingress class", at="spec:",
         base=CLEAN_INGRESS),
    case("SPINK503", "ingressClassName: nginx", "ingressClassName: traefik",
         "Ingress 'web' has ingress class 'traefik', not nginx", base=CLEAN_INGRESS),
    case("SPINK503", "  namespace: myns\n", "  namespace: myns\n  annotations:\n    kubernetes.io/ingress.class: haproxy\n",
         "has ingress class 'haproxy'", at="ingress.class", base=CLEAN_INGRESS, id="SPINK503-annotation"),
    Case("SPINK504", {"k8s/production/ingress.yaml": CLEAN_INGRESS},
         {"k8s/production/ingress.yaml": CLEAN_INGRESS.replace("development", "production")}, 9,
         "Ingress 'web' host names cluster development, but its folder is production",
         path="k8s/production/ingress.yaml"),
    case("SPINK505", "- port: 5432", "- port: 4222", "Service 'db-external' exposes port 4222 on its load balancer, "
         "which Spin refuses", base=LOAD_BALANCER),
    case("SPINK506", "- port: 5432", "- port: 8080", "exposes port 8080 on its load balancer; Spin is not known to "
         "open it", base=LOAD_BALANCER),
    # 6xx secrets
    case("SPINK601", "          volumeMounts:\n",
         "          env:\n            - name: DB_PASS\n              value: s3cr3t-Pa55\n          volumeMounts:\n",
         "container 'web' sets DB_PASS to a literal value", at="value: s3cr3t"),
    case("SPINK601", "          volumeMounts:\n",
         "          env:\n            - name: API_TOKEN\n              value: 'ghp_abc123'\n          volumeMounts:\n",
         "sets API_TOKEN to a literal value", at="value: 'ghp", id="SPINK601-token"),
    case("SPINK602", "password: <set with kubectl create secret>", "password: hunter2-but-longer",
         "Secret 'db' holds a literal value for password in `stringData`", base=SECRET),
    case("SPINK602", "stringData:\n  username: postgres\n  password: <set with kubectl create secret>\n",
         "data:\n  tls.key: c2VjcmV0LWtleS1ieXRlcw==\n", "holds a literal value for tls.key in `data`",
         at="tls.key", base=SECRET, id="SPINK602-base64"),
    case("SPINK602", "  username: postgres\n", "  uri: mongodb://portal:Hunter-22@db:27017/portal\n",
         "Secret 'db' holds a mongodb URL with a password for uri in `stringData`", base=SECRET, id="SPINK602-url"),
    case("SPINK601", "          volumeMounts:\n",
         "          env:\n            - name: DATABASE_URL\n              value: postgresql://user:secret@db/app\n"
         "          volumeMounts:\n", "container 'web' sets DATABASE_URL to a postgresql URL with a password",
         at="value: postgresql", id="SPINK601-url"),
    Case("SPINK603", {M: with_secret_volume("            defaultMode: 0444\n"), "secret.yaml": SECRET},
         {M: with_secret_volume("            defaultMode: 0400\n"), "secret.yaml": SECRET},
         line_of(with_secret_volume("            defaultMode: 0444\n"), "defaultMode"),
         "Deployment 'web' mounts Secret 'db' with mode 0444, readable by every user in the container; it holds a "
         "password (password)"),
    Case("SPINK603", {M: with_secret_volume("", name="db-password")},
         {M: with_secret_volume("            defaultMode: 256\n", name="db-password")},
         line_of(with_secret_volume(""), "secret:"), "mounts Secret 'db-password' with mode 0644 (the default), "
         "readable by every user in the container; it holds a password (its name 'db-password')",
         id="SPINK603-default-mode"),
    Case("SPINK603", {M: variant(D, "      volumes:\n", PROJECTED.format(mode="0444")), "secret.yaml": SECRET},
         {M: variant(D, "      volumes:\n", PROJECTED.format(mode="0400")), "secret.yaml": SECRET},
         line_of(variant(D, "      volumes:\n", PROJECTED.format(mode="0444")), "defaultMode"),
         "Deployment 'web' mounts Secret 'db' with mode 0444", id="SPINK603-projected"),
    Case("SPINK603", {M: variant(with_secret_volume("", name="app"), "          volumeMounts:\n",
                                 "          env:\n            - name: DB_PASSWORD_FILE\n"
                                 "              value: /secrets/db\n          volumeMounts:\n")},
         {M: variant(with_secret_volume("            defaultMode: 0400\n", name="app"), "          volumeMounts:\n",
                     "          env:\n            - name: DB_PASSWORD_FILE\n"
                     "              value: /secrets/db\n          volumeMounts:\n")},
         line_of(with_secret_volume(""), "secret:") + 3, "it holds a password (DB_PASSWORD_FILE)",
         id="SPINK603-password-file"),
    # 7xx metadata
    case("SPINK701", "      labels: {app: web}\n",
         "      labels: {app: web}\n      annotations:\n        nersc.gov/uid: '12345'\n        nersc.gov/username: me\n",
         "Deployment 'web' sets nersc.gov/uid, nersc.gov/username by hand", at="nersc.gov/uid"),
]

# Inputs at a rule's edge that must not trigger it: (rule, files, why).
QUIET = [
    ("SPINK101", {"ok.yaml": D.replace("name: web\n  namespace", "name: web\t\n  namespace")},
     "a trailing tab is whitespace to libyaml and kubectl"),
    ("SPINK101", {"values.yaml": "image: {{ .Values.image }\nport: [\n"}, "a broken non-manifest in a folder"),
    ("SPINK103", {"values.yaml": "replicas: 2\nimage: nginx\n"}, "a values file found in a folder"),
    ("SPINK103", {"a/kustomization.yaml": "resources: [d.yaml]\npatches:\n  - path: p.yaml\n",
                  "a/d.yaml": D, "a/p.yaml": "- op: replace\n  path: /spec/replicas\n  value: 2\n"},
     "a JSON6902 patch is a list"),
    ("SPINK104", {"a/kustomization.yaml": "resources: [d.yaml]\npatches:\n  - path: p.yaml\n", "a/d.yaml": D,
                  "a/p.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {replicas: 2}\n"},
     "a strategic-merge patch need not repeat the containers"),
    ("SPINK201", {M: variant(D, "drop: [ALL]", "drop: [all]")}, "capability names are case-insensitive"),
    ("SPINK201", {"a/kustomization.yaml": "resources: [d.yaml]\n", "a/d.yaml": D,
                  "a/patch-extra.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n"
                                        "  template:\n    spec:\n      containers:\n        - name: web\n"
                                        "          image: nginx:1.27\n"},
     "a file its kustomization does not list is partial"),
    ("SPINK202", {M: variant(D, "add: [NET_BIND_SERVICE]", "add: [cap_net_bind_service]")}, "CAP_ prefix, any case"),
    ("SPINK205", {M: variant(D, "      containers:\n", "      hostNetwork: false\n      containers:\n")}, "false"),
    ("SPINK301", {M: variant(D, "/global/cfs/cdirs/myproj/web", "/global/cfs/cdirs/myproj/./web/")}, "normalised"),
    ("SPINK304", {M: variant(D, "type: Directory", "type: File")}, "a single file must exist too"),
    ("SPINK305", {"stack/.copier-answers.yml": "platform: rancher2\naccess: private\n",
                  "stack/k8s/base/web.yaml": variant(D, "readOnly: true", "readOnly: false")},
     "a private stack may write"),
    ("SPINK311", {"stack/.copier-answers.yml": "platform: rancher2\naccess: authenticated\n",
                  "stack/k8s/base/web.yaml": variant(D, "readOnly: true", "readOnly: false")},
     "an authenticated stack may write"),
    ("SPINK311", {"stack/.copier-answers.yml": "platform: rancher2\naccess: public\n",
                  "stack/k8s/base/web.yaml": variant(D, "readOnly: true", "readOnly: false").replace("name: web", "name: util")},
     "util serves no user"),
    ("SPINK311", {"stack/docker-compose.yml": "version: '2'\n", "stack/.copier-answers.yml": "access: public\n",
                  "stack/k8s/web.yaml": variant(D, "readOnly: true", "readOnly: false")},
     "the answers of a compose stack say nothing about manifests in it"),
    ("SPINK305", {M: variant(D, "readOnly: true", "readOnly: false")}, "no Service reaches it: a shell or a worker"),
    ("SPINK305", {**SERVED, M: variant(D, "readOnly: true", "readOnly: false").replace("app: web", "app: shell")},
     "the Service selects other pods"),
    ("SPINK305", {"service.yaml": CLEAN_SERVICE, M: variant(D, "readOnly: true", "readOnly: false")},
     "a ClusterIP Service no Ingress routes to serves only the namespace"),
    ("SPINK305", {**SERVED, M: variant(D, "readOnly: true", "readOnly: false").replace("namespace: myns",
                                                                                     "namespace: other")},
     "the Service and Ingress of another namespace"),
    ("SPINK305", {"service.yaml": CLEAN_SERVICE.replace("  selector: {app: web}\n", ""), "ingress.yaml": CLEAN_INGRESS,
                  M: variant(D, "readOnly: true", "readOnly: false")}, "a Service without a selector selects no pod"),
    ("SPINK305", {**SERVED, M: variant(D, "readOnly: true", "readOnly: false").replace("name: web\n  namespace",
                                                                                     "name: util\n  namespace")},
     "util writes by design"),
    ("SPINK305", {**SERVED, "stack/.copier-answers.yml": "platform: rancher2\naccess: authenticated\n",
                  "stack/k8s/base/web.yaml": variant(D, "readOnly: true", "readOnly: false")},
     "who can reach it is known"),
    ("SPINK402", {M: variant(D, "      containers:\n", INIT_CONTAINER.format(image="busybox"))},
     "an init container's floating image is SPINK403's warning"),
    ("SPINK401", {M: variant(D, "image: registry.nersc.gov/myproj/web:1.0",
                             "image: registry.services.nersc.gov/myproj/web:1.0")}, "NERSC's other registry"),
    ("SPINK406", {M: variant(D, "image: registry.nersc.gov/myproj/web:1.0", "image: ghcr.io/org/web:main-3f2a1bc")},
     "a branch pinned to its commit"),
    ("SPINK406", {M: variant(D, "image: registry.nersc.gov/myproj/web:1.0", "image: ghcr.io/org/web:nightly-2026-01-15")},
     "a nightly pinned to its date"),
    ("SPINK601", {M: variant(D, "          volumeMounts:\n",
                             "          env:\n            - name: DATABASE_URL\n"
                             "              value: postgresql://portal:$(DB_PASSWORD)@db:5432/portal\n"
                             "            - name: CACHE_URL\n              value: redis://kv:6379/0\n"
                             "            - name: PROXY\n              value: http://proxy.nersc.gov:3128\n"
                             "          volumeMounts:\n")},
     "a URL whose password is a reference, or that has none"),
    ("SPINK603", {M: with_secret_volume("            defaultMode: 0440\n"), "secret.yaml": SECRET},
     "readable by its group (the pod's fsGroup), not by everyone"),
    ("SPINK603", {M: with_secret_volume("", name="web-tls"), "secret.yaml": SECRET},
     "a Secret that holds no password (TLS files)"),
    ("SPINK603", {M: with_secret_volume("            items:\n              - key: password\n"
                                        "                path: pw\n                mode: 0400\n"),
                  "secret.yaml": SECRET}, "the password item is 0400"),
    ("SPINK603", {M: variant(D, "      volumes:\n", "      volumes:\n        - name: secret\n          secret:\n"
                                                   "            secretName: db-password\n"), "secret.yaml": SECRET},
     "no container mounts it"),
    ("SPINK310", {M: variant(PVC, "  storageClassName: nfs-client-vast\n", "")}, "the default class"),
    ("SPINK310", {M: variant(PVC, "nfs-client-vast", "nfs-client")}, "the older class"),
    ("SPINK306", {M: variant(variant(D, "        runAsUser: 12345\n", ""), "            privileged: false\n",
                             "            privileged: false\n            runAsUser: 12345\n")},
     "runAsUser on the container only"),
    ("SPINK306", {M: variant(D, "            type: Directory\n", "            type: Directory\n")
                  .replace("/global/cfs/cdirs/myproj/web", "/global-like/path").replace("        runAsUser: 12345\n", "")},
     "no global mount: any user"),
    ("SPINK401", {M: variant(D, "image: registry.nersc.gov/myproj/web:1.0", "image: ghcr.io/org/web:1.0")}, "ghcr"),
    ("SPINK401", {M: variant(D, "image: registry.nersc.gov/myproj/web:1.0", "image: library/nginx:1.27")}, "hub"),
    ("SPINK401", {M: variant(D, "image: registry.nersc.gov/myproj/web:1.0", "image: docker.io/nginx:1.27")}, "hub"),
    ("SPINK403", {M: variant(D, "image: registry.nersc.gov/myproj/web:1.0", "image: nginx@sha256:" + "a" * 64)},
     "a digest is not floating"),
    ("SPINK406", {M: variant(D, "image: registry.nersc.gov/myproj/web:1.0",
                             "image: mysql:8\n          imagePullPolicy: Always")}, "pulled at every start"),
    ("SPINK406", {M: variant(D, "image: registry.nersc.gov/myproj/web:1.0", "image: mysql:8.4")},
     "a minor version is taken to stay put"),
    ("SPINK405", {M: variant(D, "image: registry.nersc.gov/myproj/web:1.0", "image: $(IMAGE)")}, "filled in later"),
    ("SPINK501", {M: CLEAN_INGRESS.replace("  namespace: myns\n", "")
                  .replace("web.myns.", "web.anything.")}, "no namespace known: any namespace"),
    ("SPINK501", {"a/kustomization.yaml": "namespace: myns\nresources: [i.yaml]\n",
                  "a/i.yaml": CLEAN_INGRESS.replace("  namespace: myns\n", "  namespace: other\n")},
     "kustomize's namespace wins over the manifest's"),
    ("SPINK501", {"a/kustomization.yaml": "namePrefix: dev-\nresources: [i.yaml]\n",
                  "a/i.yaml": CLEAN_INGRESS.replace("host: web.", "host: dev-web.")},
     "kustomize's namePrefix names the Ingress"),
    ("SPINK501", {M: CLEAN_INGRESS.replace("development", "production")}, "either cluster"),
    ("SPINK502", {M: CLEAN_INGRESS.replace("  ingressClassName: nginx\n", "").replace(
        "  namespace: myns\n", "  namespace: myns\n  annotations:\n    kubernetes.io/ingress.class: nginx\n")},
     "the old annotation"),
    ("SPINK505", {M: LOAD_BALANCER.replace("type: LoadBalancer", "type: ClusterIP").replace("5432", "4222")},
     "not a load balancer"),
    ("SPINK506", {M: LOAD_BALANCER.replace("5432", "4222")}, "a refused port is SPINK505 alone"),
    ("SPINK601", {M: variant(D, "          volumeMounts:\n",
                             "          env:\n"
                             "            - name: POSTGRES_PASSWORD_FILE\n              value: /run/secrets/pw\n"
                             "            - name: DB_PASSWORD\n              valueFrom:\n"
                             "                secretKeyRef: {name: db, key: password}\n"
                             "            - name: DATABASE_URL_PASSWORD\n              value: $(DB_PASSWORD)\n"
                             "            - name: SECRET_KEY\n              value: <CHANGE-ME>\n"
                             "            - name: TOKEN_REQUIRED\n              value: 'true'\n"
                             "            - name: PWD\n              value: /app\n"
                             "            - name: MONKEY\n              value: banana\n"
                             "          volumeMounts:\n")},
     "files, references, placeholders, flags, the shell's PWD, words that only contain KEY"),
    ("SPINK602", {M: SECRET.replace("password: <set with kubectl create secret>", "password: ''")}, "empty"),
    ("SPINK602", {M: SECRET.replace("stringData:\n  username: postgres\n  password: <set with kubectl create secret>",
                                    "data:\n  password: PUT THE RIGHT THING HERE\n  tls.key: cmVkYWN0ZWQ=")},
     "not base64 / a placeholder once decoded ('redacted')"),
    ("SPINK602", {M: SECRET.replace("stringData:\n  username: postgres\n  password: <set with kubectl create secret>",
                                    "data:\n  password: CHANGEME")}, "a placeholder that happens to be base64"),
]


def _ids(case: Case) -> str:
    return case.id or case.rule


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_rule_fires_where_it_should(case: Case, tmp_path: Path) -> None:
    root = write_files(tmp_path / "fires", case.fires)
    findings = [f for f in audit(root / case.path if case.named else root) if f.rule.id == case.rule]
    assert findings, f"{case.rule} did not fire"
    found = [(p, line) for p, line, _ in where(findings, root)]
    assert (case.path, case.line) in found, found
    assert any(case.says in f.message for f in findings), [f.message for f in findings]


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_rule_is_silent_on_the_fix(case: Case, tmp_path: Path) -> None:
    root = write_files(tmp_path / "clean", case.clean)
    assert [f.message for f in audit(root / case.path if case.named else root) if f.rule.id == case.rule] == []


@pytest.mark.parametrize("rule, files, why", QUIET, ids=[f"{r}-{i}" for i, (r, _, _) in enumerate(QUIET)])
def test_rule_is_silent_at_its_edge(rule: str, files, why: str, tmp_path: Path) -> None:
    root = write_files(tmp_path / "quiet", files)
    assert [f.message for f in audit(root) if f.rule.id == rule] == [], why


def test_clean_manifests_have_no_findings_at_all(tmp_path: Path) -> None:
    root = write_files(tmp_path, {"deployment.yaml": D, "ingress.yaml": CLEAN_INGRESS, "pvc.yaml": PVC,
                            "lb.yaml": LOAD_BALANCER, "secret.yaml": SECRET})
    assert [(f.rule.id, f.message) for f in audit(root)] == []


def test_every_kubernetes_rule_has_cases() -> None:
    checked = {r.id for r in all_rules(KUBE) if r.check is not None}
    assert checked - {case.rule for case in CASES} == set()


def test_kubernetes_rules_are_filed_under_kubernetes_input() -> None:
    kube = all_rules(KUBE)
    assert kube and all(r.id.startswith("SPINK") and r.kind == KUBE for r in kube)
    assert not any(r.id.startswith("SPINK") for r in all_rules("compose"))
