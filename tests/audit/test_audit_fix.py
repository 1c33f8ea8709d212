"""spin-audit --fix and --diff: each fixable rule's fix on compose files and Kubernetes manifests written for
these tests (comments, anchors, flow style, several documents), judged from the outside: the files' data read
back with PyYAML, the lines that changed, and a new audit.

A case names the files, the rule whose finding it fixes, whether the fix is unsafe, the values the fix must
leave (`want`: (file, document, path) -> value, ABSENT for a deleted key) and the exact lines of the file that
go (`removed`). Every other value of every document must read the same, every other line stay, the fixed
finding go with nothing new in its place, and a second run change nothing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import jsonschema
import pytest
import yaml
from kubekit import CLEAN_DEPLOYMENT, CLEAN_INGRESS, CLEAN_SERVICE, leaves, variant
from stackkit import write_files

D = CLEAN_DEPLOYMENT
DC = "docker-compose.yml"
M = "manifest.yaml"
ABSENT = object()
PULL = "io.rancher.container.pull_image"


@dataclass
class Case:
    rule: str
    files: Dict[str, str]
    want: Dict[Tuple[Any, ...], Any]  # (file, document, *path) -> the value after the fix
    removed: List[str] = field(default_factory=list)  # the original lines (stripped) the fix takes away
    unsafe: bool = False
    args: Tuple[str, ...] = ()
    id: str = ""


# ---- compose: one service per case, with the comments, anchors and flow style people write

COMPOSE = """\
version: '2'
# shared by every service
x-defaults: &defaults
  cap_drop: [ALL]   # Spin's rule
services:
  web:
    <<: *defaults
    image: registry.nersc.gov/myproj/web:1.2.3  # pinned
    # the ports Spin's load balancer reaches
    ports:
      - "60040:8080"
"""


def compose(old: str, new: str, files: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    return {DC: variant(COMPOSE, old, new), **(files or {})}


IMAGE = "    image: registry.nersc.gov/myproj/web:1.2.3  # pinned\n"
ANSWERS = ".copier-answers.yml"
GLOBAL = "    volumes:\n      - /global/cfs/cdirs/myproj/web:/srv/web{options}\n"

COMPOSE_CASES = [
    Case("SPIN107", compose(IMAGE, IMAGE + "    restart: always   # as in docker\n"),
         {(DC, 0, "services", "web", "restart"): ABSENT}, removed=["restart: always   # as in docker"]),
    Case("SPIN110", compose('      - "60040:8080"\n', '      - "60040:8080"\n      - 22:22\n'),
         {(DC, 0, "services", "web", "ports", 1): "22:22"}, removed=["- 22:22"], id="SPIN110-port"),
    Case("SPIN110", compose("version: '2'", "version: 2"), {(DC, 0, "version"): "2"}, removed=["version: 2"],
         id="SPIN110-version"),
    Case("SPIN201", compose("    <<: *defaults\n", ""), {(DC, 0, "services", "web", "cap_drop"): ["ALL"]},
         unsafe=True),
    Case("SPIN201", compose("    <<: *defaults\n", "    cap_drop: [NET_RAW]  # only this\n"),
         {(DC, 0, "services", "web", "cap_drop"): ["NET_RAW", "ALL"]}, removed=["cap_drop: [NET_RAW]  # only this"],
         unsafe=True, id="SPIN201-flow-list"),
    Case("SPIN301", compose(IMAGE, IMAGE + GLOBAL.format(options=":ro"),
                            {ANSWERS: "run_as_uid: 60123\nrun_as_gid: 60456\naccess: public\n"}),
         {(DC, 0, "services", "web", "user"): "60123:60456"}, unsafe=True),
    Case("SPIN303", compose(IMAGE, IMAGE + '    user: "60123:60456"\n' + GLOBAL.format(options=""),
                            {ANSWERS: "access: public\n"}),
         {(DC, 0, "services", "web", "volumes", 0): "/global/cfs/cdirs/myproj/web:/srv/web:ro"},
         removed=["- /global/cfs/cdirs/myproj/web:/srv/web"], unsafe=True),
    Case("SPIN304", compose(IMAGE, IMAGE + '    user: "60123:60456"\n' + GLOBAL.format(options=":rw,z")),
         {(DC, 0, "services", "web", "volumes", 0): "/global/cfs/cdirs/myproj/web:/srv/web:ro,z"},
         removed=["- /global/cfs/cdirs/myproj/web:/srv/web:rw,z"], unsafe=True),
    Case("SPIN304", compose(IMAGE, IMAGE + '    user: "60123:60456"\n    volumes:\n      - type: bind\n'
                                           "        source: /global/cfs/cdirs/myproj/web\n        target: /srv\n"),
         {(DC, 0, "services", "web", "volumes", 0, "read_only"): True}, unsafe=True, id="SPIN304-long-form"),
    Case("SPIN402", compose(IMAGE, "    image: nginx:latest  # floats\n"),
         {(DC, 0, "services", "web", "labels", PULL): "always"}),
    Case("SPIN402", compose(IMAGE, "    image: nginx\n    labels:\n      - app=web\n"),
         {(DC, 0, "services", "web", "labels", 1): f"{PULL}=always"}, id="SPIN402-label-list"),
    Case("SPIN406", compose(IMAGE, "    image: postgres:16\n    labels: {app: db}\n"),
         {(DC, 0, "services", "web", "labels"): {"app": "db", PULL: "always"}}, removed=["labels: {app: db}"]),
    Case("SPIN406", compose(IMAGE, "    image: postgres:16\n    labels:\n      - app=db\n      - "
                                   f"{PULL}=never\n"),
         {(DC, 0, "services", "web", "labels", 1): f"{PULL}=always"}, removed=[f"- {PULL}=never"],
         id="SPIN406-label-replaced"),
    Case("SPIN604", compose(IMAGE, IMAGE + '    user: "60123:60456"\n    secrets:\n      - web.mystack.pw\n',
                            {ANSWERS: "stack_name: mystack\n"}),
         {(DC, 0, "services", "web", "secrets", 0): {"source": "web.mystack.pw", "mode": "0400", "uid": "60123"}},
         removed=["- web.mystack.pw"], id="SPIN604-safe"),
    Case("SPIN604", compose(IMAGE, IMAGE + "    secrets:\n      - source: web.mystack.pw\n        target: pw\n"
                                           "        mode: '0444'\n",
                            {ANSWERS: "stack_name: mystack\n"}),
         {(DC, 0, "services", "web", "secrets", 0, "mode"): "0400"}, removed=["mode: '0444'"], unsafe=True,
         id="SPIN604-unsafe"),
]


# ---- Kubernetes: CLEAN_DEPLOYMENT and its neighbours, in several documents of one file

def manifest(old: str, new: str, *more: str, base: str = D) -> Dict[str, str]:
    """One file: the variant of `base` first, then the other documents, with a comment between them."""
    return {M: "\n".join([variant(base, old, new).rstrip("\n"), *("# next\n---\n" + doc.rstrip("\n")
                                                                   for doc in more)]) + "\n"}


POD = (M, 0, "spec", "template", "spec")
CONTAINER = POD + ("containers", 0)
SECRET_VOLUME = ("      volumes:\n", "      volumes:\n        - name: secrets\n          secret:\n"
                                     "            secretName: db\n")
SECRET_MOUNT = ("          volumeMounts:\n", "          env:\n            - name: DB_PASSWORD_FILE\n"
                                            "              value: /secrets/db_password\n"
                                            "          volumeMounts:\n            - {name: secrets, mountPath: "
                                            "/secrets}\n")


def with_secret(text: str, volume: str = SECRET_VOLUME[1]) -> str:
    return variant(variant(text, SECRET_VOLUME[0], volume), *SECRET_MOUNT)


KUBE_CASES = [
    Case("SPINK201", manifest("              drop: [ALL]\n", ""),
         {CONTAINER + ("securityContext", "capabilities", "drop"): ["ALL"]}, unsafe=True),
    Case("SPINK204", manifest("            allowPrivilegeEscalation: false\n", "", CLEAN_SERVICE),
         {CONTAINER + ("securityContext", "allowPrivilegeEscalation"): False}),
    Case("SPINK204", manifest("allowPrivilegeEscalation: false", "allowPrivilegeEscalation: true  # sudo"),
         {CONTAINER + ("securityContext", "allowPrivilegeEscalation"): False},
         removed=["allowPrivilegeEscalation: true  # sudo"], unsafe=True, id="SPINK204-true"),
    Case("SPINK305", manifest("readOnly: true", "readOnly: false", CLEAN_SERVICE, CLEAN_INGRESS),
         {CONTAINER + ("volumeMounts", 0, "readOnly"): True}, removed=["readOnly: false"], unsafe=True),
    Case("SPINK307", manifest("runAsNonRoot: true", "runAsNonRoot: false"),
         {POD + ("securityContext", "runAsNonRoot"): True}, removed=["runAsNonRoot: false"], unsafe=True),
    Case("SPINK307", manifest("        runAsNonRoot: true\n", ""),
         {POD + ("securityContext", "runAsNonRoot"): True}, unsafe=True, id="SPINK307-missing"),
    Case("SPINK311", manifest("readOnly: true", "readOnly: false"),
         {CONTAINER + ("volumeMounts", 0, "readOnly"): True}, removed=["readOnly: false"], unsafe=True,
         args=("--access", "public")),
    Case("SPINK402", manifest("image: registry.nersc.gov/myproj/web:1.0",
                              "image: registry.nersc.gov/myproj/web:latest\n          imagePullPolicy: IfNotPresent"),
         {CONTAINER + ("imagePullPolicy",): "Always"}, removed=["imagePullPolicy: IfNotPresent"]),
    Case("SPINK406", manifest("image: registry.nersc.gov/myproj/web:1.0", "image: postgres:17-alpine"),
         {CONTAINER + ("imagePullPolicy",): "Always"}),
    Case("SPINK407", manifest("      imagePullSecrets:\n        - name: registry-nersc\n", "", CLEAN_SERVICE),
         {POD + ("imagePullSecrets",): [{"name": "registry-nersc"}]}),
    Case("SPINK407", manifest("        - name: registry-nersc\n", "        - {}\n"),
         {POD + ("imagePullSecrets",): [{"name": "registry-nersc"}]}, removed=["- {}"], id="SPINK407-nameless"),
    Case("SPINK501", {"k8s/base/web.yaml": variant(CLEAN_INGRESS.replace("  namespace: myns\n", ""),
                                                   "host: web.myns.development.svc.spin.nersc.org",
                                                   "host: portal.example.org  # our CNAME"),
                      "k8s/base/kustomization.yaml": "resources: [web.yaml]\n",
                      "k8s/development/kustomization.yaml": "namespace: myns\nresources: [../base]\n"},
         {("k8s/base/web.yaml", 0, "spec", "rules", 1): {
             "host": "web.myns.development.svc.spin.nersc.org",
             "http": {"paths": [{"path": "/", "pathType": "Prefix",
                                 "backend": {"service": {"name": "web", "port": {"number": 8080}}}}]}}},
         id="SPINK501-public-name-only"),
    Case("SPINK501", {"k8s/base/web.yaml": variant(CLEAN_INGRESS.replace("  namespace: myns\n", ""),
                                                   "host: web.myns.development.svc.spin.nersc.org",
                                                   "host: old.myns.production.svc.spin.nersc.org  # was"),
                      "k8s/base/kustomization.yaml": "resources: [web.yaml]\n",
                      "k8s/development/kustomization.yaml": "namespace: myns\nresources: [../base]\n"},
         {("k8s/base/web.yaml", 0, "spec", "rules", 0, "host"): "web.myns.development.svc.spin.nersc.org"},
         removed=["- host: old.myns.production.svc.spin.nersc.org  # was"]),
    Case("SPINK502", manifest("  ingressClassName: nginx\n", "", base=CLEAN_INGRESS),
         {(M, 0, "spec", "ingressClassName"): "nginx"}),
    Case("SPINK603", {M: with_secret(D)}, {POD + ("volumes", 0, "secret", "defaultMode"): 0o400}),
    Case("SPINK603", {M: with_secret(D.replace("        fsGroup: 6789\n", ""), SECRET_VOLUME[1] +
                                     "            defaultMode: 0644  # rw-r--r--\n")},
         {POD + ("volumes", 0, "secret", "defaultMode"): 0o400}, removed=["defaultMode: 0644  # rw-r--r--"],
         unsafe=True, id="SPINK603-unsafe"),
    Case("SPINK701", manifest("  namespace: myns\n", "  namespace: myns\n  annotations:\n    nersc.gov/uid: '1'\n"
                                                     "    keep.example.org/x: y\n"),
         {(M, 0, "metadata", "annotations"): {"keep.example.org/x": "y"}}, removed=["nersc.gov/uid: '1'"]),
]

CASES = COMPOSE_CASES + KUBE_CASES


def _ids(case: Case) -> str:
    return case.id or case.rule


# the kind (if any) is what the case's rule's finding says in JSON
FIXABLE_RULES = {case.rule for case in CASES}


def _documents(path: Path) -> List[Any]:
    return list(yaml.safe_load_all(path.read_text(encoding="utf-8")))


def _at(data: Any, path: Tuple[Any, ...]) -> Any:
    for step in path:
        if isinstance(data, dict) and step in data or isinstance(data, list) and isinstance(step, int) and \
                step < len(data):
            data = data[step]
        else:
            return ABSENT
    return data


def _snapshot(root: Path) -> Dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _findings(cli, root: Path, *args: str) -> List[dict]:
    result = cli("--format", "json", "--fail-on", "info", *args, root)
    assert result.code in (0, 1), result.err
    return result.findings


def _keys(findings: List[dict]) -> List[Tuple[str, str]]:
    return sorted((f["rule"], f["message"]) for f in findings)


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_the_fix_makes_the_finding_go_and_changes_nothing_else(cli, tmp_path: Path, case: Case) -> None:
    root = write_files(tmp_path / "stack", case.files)
    before_files = {name: _documents(root / name) for name in case.files if name.endswith((".yml", ".yaml"))}
    before_text = {name: (root / name).read_text() for name in case.files}
    before = _findings(cli, root, *case.args)
    fired = [f for f in before if f["rule"] == case.rule]
    assert fired and {f["fixable"] for f in fired} == {"unsafe" if case.unsafe else "safe"}

    flags = ("--unsafe-fixes",) if case.unsafe else ()
    fixed = cli("--fix", *flags, *case.args, root)
    assert fixed.code in (0, 1) and "fixed" in fixed.err and "not fixed" not in fixed.err, fixed.err
    after = _findings(cli, root, *case.args)
    assert case.rule not in [f["rule"] for f in after]
    gone = [f for f in before if f not in after]
    assert set(_keys(after)) <= set(_keys(before)) | {("SPIN403", m) for _, m in _keys(after)} | {
        ("SPINK403", m) for _, m in _keys(after)}, "a new finding"
    assert gone, "nothing was fixed"

    for (name, document, *path), value in case.want.items():
        assert _at(_documents(root / name)[document], tuple(path)) == value, (name, path)
    for name, documents in before_files.items():
        now = _documents(root / name)
        assert len(now) == len(documents)
        for index, (old, new) in enumerate(zip(documents, now)):
            named = [tuple(path) for (file, doc, *path) in case.want if (file, doc) == (name, index)]
            old_leaves, new_leaves = leaves(old), leaves(new)
            for leaf in set(old_leaves) | set(new_leaves):
                if old_leaves.get(leaf, ABSENT) != new_leaves.get(leaf, ABSENT):
                    assert any(leaf[:len(p)] == p or p[:len(leaf)] == leaf for p in named), (name, leaf)
    removed = []
    for name, text in before_text.items():
        old_lines, new_lines = text.splitlines(), (root / name).read_text().splitlines()
        for tag, i1, i2, _, _ in SequenceMatcher(None, old_lines, new_lines, autojunk=False).get_opcodes():
            if tag in ("replace", "delete"):
                removed += [line.strip() for line in old_lines[i1:i2]]
    assert sorted(removed) == sorted(case.removed)

    settled = _snapshot(root)
    again = cli("--fix", *flags, *case.args, root)
    assert _snapshot(root) == settled and "fixed 0 findings in 0 files" in again.err


@pytest.mark.parametrize("case", [c for c in CASES if c.unsafe], ids=_ids)
def test_an_unsafe_fix_waits_for_unsafe_fixes(cli, tmp_path: Path, case: Case) -> None:
    root = write_files(tmp_path / "stack", case.files)
    cli("--fix", *case.args, root)
    assert case.rule in [f["rule"] for f in _findings(cli, root, *case.args)]
    result = cli("--diff", *case.args, root)
    assert "more with --unsafe-fixes" in result.err


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_diff_writes_nothing_and_applies_to_what_fix_writes(cli, tmp_path: Path, case: Case) -> None:
    root = write_files(tmp_path / "stack", case.files)
    flags = ("--unsafe-fixes",) if case.unsafe else ()
    untouched = _snapshot(root)
    shown = cli("--diff", *flags, *case.args, ".", cwd=root)
    assert _snapshot(root) == untouched and shown.out.startswith("--- a/")
    copy = shutil.copytree(root, tmp_path / "copy")
    subprocess.run(["git", "apply", "--unsafe-paths", "-"], input=shown.out, text=True, cwd=copy, check=True)
    fixed = cli("--fix", *flags, *case.args, ".", cwd=root)
    assert _snapshot(copy) == _snapshot(root)
    assert shown.code == fixed.code == (1 if any(f["severity"] == "error" for f in _findings(cli, root, *case.args))
                                        else 0)


def test_every_fixable_rule_has_cases() -> None:
    from spin_audit.registry import all_rules
    import spin_audit.kube.rules  # noqa: F401  (registers the Kubernetes rules)
    import spin_audit.rules  # noqa: F401

    fixable = {rule.id for rule in all_rules() if rule.fix}
    assert fixable == FIXABLE_RULES
    for case in CASES:
        [rule] = [r for r in all_rules() if r.id == case.rule]
        assert ("unsafe" if case.unsafe else "safe") in rule.fix


# ---- layout kept: several fixes in one file of several documents, anchors, flow style, CRLF, BOM

LAYOUT = """\
# portal manifests  (kept)
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: myns}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata:
      labels: &labels {app: web}
    spec:
      containers:
        - name: web
          image: "nginx:latest"   # floats on purpose
          imagePullPolicy: IfNotPresent
          securityContext: {capabilities: {drop: [ALL]}}
...
---
# the Ingress
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
  namespace: myns
  labels: {app: web}
spec:
  rules:
    - host: web.myns.development.svc.spin.nersc.org
      http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service: {name: web, port: {number: 8080}}
"""

LAYOUT_FIXED = """\
# portal manifests  (kept)
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: myns}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata:
      labels: &labels {app: web}
    spec:
      containers:
        - name: web
          image: "nginx:latest"   # floats on purpose
          imagePullPolicy: Always
          securityContext: {capabilities: {drop: [ALL]}, allowPrivilegeEscalation: false}
...
---
# the Ingress
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
  namespace: myns
  labels: {app: web}
spec:
  rules:
    - host: web.myns.development.svc.spin.nersc.org
      http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service: {name: web, port: {number: 8080}}
  ingressClassName: nginx
"""


def test_a_file_of_several_documents_keeps_its_layout(cli, tmp_path: Path) -> None:
    root = write_files(tmp_path, {M: LAYOUT})
    cli("--fix", root / M)
    assert (root / M).read_text() == LAYOUT_FIXED


@pytest.mark.parametrize("bom,newline", [(b"", "\r\n"), (b"\xef\xbb\xbf", "\n")], ids=["crlf", "bom"])
def test_line_ends_and_byte_order_mark_stay(cli, tmp_path: Path, bom: bytes, newline: str) -> None:
    path = tmp_path / M
    path.write_bytes(bom + LAYOUT.replace("\n", newline).encode())
    cli("--fix", path)
    assert path.read_bytes() == bom + LAYOUT_FIXED.replace("\n", newline).encode()


ANCHORED = """\
version: '2'
x-web: &web
  image: nginx:latest
  cap_drop: [ALL]
services:
  web: *web
  web2:
    <<: *web
    cap_drop: [ALL]
"""


def test_a_value_shared_through_an_alias_is_fixed_where_it_is_written_or_not_at_all(cli, tmp_path: Path) -> None:
    """web2 merges the anchored mapping and gets its own label; web IS the anchored mapping (`*web`), whose
    change would change x-web too: it is left as it is, and the refusal says why."""
    root = write_files(tmp_path, {DC: ANCHORED})
    result = cli("--fix", root)
    text = (root / DC).read_text()
    assert text == ANCHORED + "    labels:\n      io.rancher.container.pull_image: always\n"
    assert "not fixed" in result.err and "x-web.labels" in result.err
    assert [(f["rule"], f["service"]) for f in _findings(cli, root) if f["rule"] == "SPIN402"] == [("SPIN402", "web")]


KUBECTL_STYLE = """\
apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
  - name: web
    image: nginx:1.27
    securityContext:
      allowPrivilegeEscalation: false
      capabilities:
        drop:
        - ALL
"""


def test_lists_written_without_indent_keep_it(cli, tmp_path: Path) -> None:
    root = write_files(tmp_path, {M: KUBECTL_STYLE.replace("nginx:1.27", "nginx:1")})
    cli("--fix", root)
    assert (root / M).read_text() == KUBECTL_STYLE.replace("nginx:1.27", "nginx:1").replace(
        "    image: nginx:1\n", "    image: nginx:1\n    imagePullPolicy: Always\n")


# ---- files never written

NEVER = {
    "template": {M: variant(D, "name: web\n  namespace", "name: {{ .Values.name }}\n  namespace")},
    "chart": {"chart/Chart.yaml": "apiVersion: v2\nname: portal\nversion: 0.1.0\n",
              "chart/templates/web.yaml": variant(D, "allowPrivilegeEscalation: false", "allowPrivilegeEscalation: x")},
    "broken-document": {M: variant(D, "            allowPrivilegeEscalation: false\n", "") + "---\nkind: [\n"},
    "duplicate-key": {M: variant(D, "  namespace: myns\n", "  namespace: myns\n  namespace: other\n").replace(
        "            allowPrivilegeEscalation: false\n", "")},
    "broken-compose": {DC: "version: '2'\nservices:\n  web:\n    image: nginx:latest\n    ports: [\n"},
    "duplicate-compose": {DC: "version: '2'\nservices:\n  web:\n    image: nginx:latest\n    image: nginx:latest\n"},
}


@pytest.mark.parametrize("name", sorted(NEVER))
def test_templates_charts_and_files_that_do_not_parse_whole_are_never_written(cli, tmp_path: Path, name: str) -> None:
    root = write_files(tmp_path / name, NEVER[name])
    untouched = _snapshot(root)
    result = cli("--fix", "--unsafe-fixes", root)
    assert _snapshot(root) == untouched, result.err
    assert result.code in (1, 2)


def test_standard_input_is_never_written_and_gives_no_diff(cli, tmp_path: Path, monkeypatch) -> None:
    import io
    import sys

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(variant(
        D, "            allowPrivilegeEscalation: false\n", "").encode())))
    result = cli("--diff", "--file", "-", cwd=tmp_path)
    assert result.out == "" and list(tmp_path.iterdir()) == []


def test_unsafe_fixes_alone_is_refused(cli, tmp_path: Path) -> None:
    root = write_files(tmp_path, {M: D})
    result = cli("--unsafe-fixes", root)
    assert result.code == 2 and "--unsafe-fixes applies only with --fix or --diff" in result.err


# ---- SARIF carries the fixes

# SARIF 2.1.0's fix, artifactChange, replacement and region objects (sarif-schema-2.1.0.json), as far as they go
REGION = {"type": "object", "required": ["charOffset", "charLength"],
          "properties": {"charOffset": {"type": "integer", "minimum": 0},
                         "charLength": {"type": "integer", "minimum": 0}}}
SARIF_FIXES = {"type": "array", "items": {
    "type": "object", "required": ["artifactChanges"], "additionalProperties": False,
    "properties": {
        "description": {"type": "object", "required": ["text"]},
        "artifactChanges": {"type": "array", "minItems": 1, "items": {
            "type": "object", "required": ["artifactLocation", "replacements"], "additionalProperties": False,
            "properties": {
                "artifactLocation": {"type": "object", "required": ["uri"]},
                "replacements": {"type": "array", "minItems": 1, "items": {
                    "type": "object", "required": ["deletedRegion"], "additionalProperties": False,
                    "properties": {"deletedRegion": REGION,
                                   "insertedContent": {"type": "object", "required": ["text"]}}}}}}}}}}


def _apply(text: str, replacements: List[dict]) -> str:
    for change in sorted(replacements, key=lambda r: r["deletedRegion"]["charOffset"], reverse=True):
        start = change["deletedRegion"]["charOffset"]
        text = text[:start] + change["insertedContent"]["text"] + text[start + change["deletedRegion"]["charLength"]:]
    return text


def test_sarif_offers_each_checked_fix_as_artifact_changes(cli, tmp_path: Path) -> None:
    import json

    root = write_files(tmp_path, {M: LAYOUT})
    log = json.loads(cli("--format", "sarif", ".", cwd=root).out)
    results = {r["ruleId"]: r for r in log["runs"][0]["results"]}
    assert set(results) == {"SPINK402", "SPINK204", "SPINK502"}
    for rule, (old, new) in {"SPINK402": ("IfNotPresent", "Always"),
                             "SPINK502": (None, "  ingressClassName: nginx\n")}.items():
        [fix] = results[rule]["fixes"]
        assert fix["description"]["text"].endswith("(safe fix)")
        [change] = fix["artifactChanges"]
        assert change["artifactLocation"]["uri"] == M
        changed = _apply(LAYOUT, change["replacements"])
        assert new in changed and (old is None or changed == LAYOUT.replace(old, new))
    assert results["SPINK204"]["properties"]["fixable"] == "safe"
    jsonschema.validate([fix for r in results.values() for fix in r.get("fixes", [])], SARIF_FIXES)
    rules = {r["id"]: r for r in log["runs"][0]["tool"]["driver"]["rules"]}
    assert rules["SPINK201"]["properties"]["fix"] == "unsafe" and rules["SPINK101"]["properties"]["fix"] == "none"


def test_lists_mostly_written_without_indent_get_new_lists_alike(cli, tmp_path: Path) -> None:
    """As Rancher's exports write them: `key:` then `- item` in the same column, bar one list indented by hand."""
    text = KUBECTL_STYLE.replace("nginx:1.27", "registry.nersc.gov/myproj/web:1.27") + (
        "  volumes:\n    - name: data\n      emptyDir: {}\n")
    root = write_files(tmp_path, {M: text})
    cli("--fix", root)
    assert (root / M).read_text() == text + "  imagePullSecrets:\n  - name: registry-nersc\n"


def test_two_fixes_of_one_key_are_made_one_after_the_other(cli, tmp_path: Path) -> None:
    """`restart: no` is both SPIN107 (delete it) and SPIN110 (quote it): made together they collide, so the
    first is made and the second has nothing left to fix; neither crashes nor is reported as refused."""
    text = "version: '2'\nservices:\n  web:\n    image: nginx:1.27\n    cap_drop: [ALL]\n    restart: no\n"
    root = write_files(tmp_path, {DC: text})
    before = {f["rule"] for f in _findings(cli, root)}
    assert {"SPIN107", "SPIN110"} <= before
    result = cli("--fix", root)
    assert "not fixed" not in result.err and "internal error" not in result.err, result.err
    assert (root / DC).read_text() == text.replace("    restart: no\n", "")
    assert {f["rule"] for f in _findings(cli, root)} == before - {"SPIN107", "SPIN110"}


MIXED_DASHES = """apiVersion: v1
kind: Pod
metadata:
    name: web
spec:
    containers:
    -   name: web
        image: nginx:1.27
        env:
        - {name: MODE, value: '1'}
        - {name: LEVEL, value: '2'}
        securityContext:
            capabilities:
                drop: [ALL]
"""


def test_a_key_added_beside_lines_ruamel_writes_otherwise_lands_in_their_column(cli, tmp_path: Path) -> None:
    """PyYAML's `indent=4` writes `-   name:` and `- {flow}` in one file: ruamel.yaml writes the container with
    another dash, so a key added to it must come with the lines around it, not alone in ruamel.yaml's column."""
    root = write_files(tmp_path, {M: MIXED_DASHES})
    result = cli("--fix", root)
    assert "not fixed" not in result.err, result.err
    fixed = (root / M).read_text()
    assert yaml.safe_load(fixed)["spec"]["containers"][0]["securityContext"] == {
        "allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}
    assert "SPINK204" not in {f["rule"] for f in _findings(cli, root)}
    assert fixed.startswith(MIXED_DASHES.split("    containers:")[0])


@pytest.mark.parametrize("case_id, says", [
    ("SPINK501-public-name-only", "add a rule for Spin's host web.myns.development.svc.spin.nersc.org"),
    ("", "write Spin's host web.myns.development.svc.spin.nersc.org"),
])
def test_the_ingress_host_fix_says_what_it_does_in_sarif(cli, tmp_path: Path, case_id: str, says: str) -> None:
    """A code-scanning UI shows this description on the button that applies the fix."""
    import json

    [case] = [case for case in CASES if case.rule == "SPINK501" and case.id == case_id]
    root = write_files(tmp_path, case.files)
    log = json.loads(cli("--format", "sarif", ".", cwd=root).out)
    [result] = [r for r in log["runs"][0]["results"] if r["ruleId"] == "SPINK501"]
    [fix] = result["fixes"]
    assert fix["description"]["text"] == f"{says} (safe fix)"
