"""Properties of spin-audit --fix over generated manifests (hypothesis): fixing twice changes nothing the
second time; every value but the settings the fixes are for reads the same (PyYAML); the comments stay; no
finding appears that was not there, and no fixable finding is left.

The manifests are Deployments and Ingresses with drawn images, pull policies, security contexts, pull
secrets, annotations and Ingress classes, written in block or flow style at indent 2 or 4, with comments,
several to a file.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Tuple

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kubekit import leaves
from spin_audit.cli import main

# The settings the Kubernetes fixes write: a changed value must lie under one of them.
FIXED_KEYS = {"imagePullPolicy", "allowPrivilegeEscalation", "drop", "imagePullSecrets", "ingressClassName",
              "readOnly", "runAsNonRoot", "defaultMode"}
SPIN_ANNOTATION = "nersc.gov/"

IMAGES = ["registry.nersc.gov/myproj/web:1.0", "registry.nersc.gov/myproj/web", "nginx", "nginx:latest",
          "postgres:16", "mysql:8.0.36", "busybox", "ghcr.io/org/app:nightly"]
names = st.sampled_from(["web", "app", "api", "db"])


@st.composite
def containers(draw) -> Dict[str, Any]:
    container: Dict[str, Any] = {"name": draw(names), "image": draw(st.sampled_from(IMAGES))}
    policy = draw(st.sampled_from([None, "IfNotPresent", "Always", "Never"]))
    if policy:
        container["imagePullPolicy"] = policy
    if draw(st.booleans()):
        container["env"] = [{"name": "MODE", "value": draw(st.sampled_from(["prod", "1", "yes", "0400"]))}]
    context: Dict[str, Any] = {}
    escalation = draw(st.sampled_from([None, True, False]))
    if escalation is not None:
        context["allowPrivilegeEscalation"] = escalation
    drop = draw(st.sampled_from([None, [], ["ALL"], ["NET_RAW"]]))
    if drop is not None:
        context["capabilities"] = {"drop": drop}
    if context or draw(st.booleans()):
        container["securityContext"] = context
    return container


@st.composite
def deployments(draw, namespace: str) -> Dict[str, Any]:
    name = draw(names)
    metadata: Dict[str, Any] = {"name": name, "namespace": namespace}
    annotations = draw(st.dictionaries(st.sampled_from(["nersc.gov/uid", "nersc.gov/username", "example.org/x"]),
                                       st.sampled_from(["1", "fred", "on"]), max_size=2))
    if annotations:
        metadata["annotations"] = annotations
    pod: Dict[str, Any] = {"containers": draw(st.lists(containers(), min_size=1, max_size=2,
                                                       unique_by=lambda c: c["name"]))}
    if draw(st.booleans()):
        pod["imagePullSecrets"] = [{"name": "registry-nersc"}]
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": metadata,
            "spec": {"selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}}, "spec": pod}}}


@st.composite
def ingresses(draw, namespace: str) -> Dict[str, Any]:
    spec: Dict[str, Any] = {"rules": [{"host": f"web.{namespace}.development.svc.spin.nersc.org", "http": {
        "paths": [{"path": "/", "pathType": "Prefix",
                   "backend": {"service": {"name": "web", "port": {"number": 8080}}}}]}}]}
    if draw(st.booleans()):
        spec = {"ingressClassName": "nginx", **spec}
    return {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
            "metadata": {"name": "web", "namespace": namespace}, "spec": spec}


@st.composite
def manifest_files(draw) -> Tuple[str, List[Any]]:
    """The text of a file of 1-3 documents, and its documents."""
    namespace = draw(st.sampled_from(["myns", "portal-dev"]))
    documents = draw(st.lists(st.one_of(deployments(namespace), ingresses(namespace)), min_size=1, max_size=3))
    flow = draw(st.sampled_from([False, None]))
    indent = draw(st.sampled_from([2, 4]))
    texts = []
    for number, document in enumerate(documents):
        text = yaml.safe_dump(document, default_flow_style=flow, indent=indent, sort_keys=draw(st.booleans()),
                              width=1 << 16)
        lines = text.splitlines(True)
        commented = []
        for line in lines:  # comments beside and above top-level keys, which no flow collection spans
            if line[:1].isalpha() and draw(st.booleans()):
                commented.append(f"# about {line.split(':')[0]} {number}\n")
            commented.append(line)
        texts.append("".join(commented))
    return "---\n".join(texts), documents


def _changes_only_fixed_settings(old: Any, new: Any) -> None:
    old_leaves, new_leaves = leaves(old), leaves(new)
    for leaf in set(old_leaves) | set(new_leaves):
        before, after = old_leaves.get(leaf, KeyError), new_leaves.get(leaf, KeyError)
        if before == after or all(side is KeyError or side in ({}, []) for side in (before, after)):
            continue  # an empty mapping or list that a fix filled or emptied: its items are judged
        if "annotations" in leaf:
            assert str(leaf[leaf.index("annotations") + 1]).startswith(SPIN_ANNOTATION) or leaf[-1] == "annotations", \
                leaf
        else:
            assert FIXED_KEYS & set(leaf), leaf


def _run(*args: str) -> Tuple[int, str, str]:
    import contextlib
    import io

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


def _findings(path: Path) -> List[dict]:
    code, out, err = _run("--format", "json", "--fail-on", "info", str(path))
    assert code in (0, 1), err
    return json.loads(out)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(drawn=manifest_files(), unsafe=st.booleans())
def test_fixing_is_idempotent_and_changes_only_what_it_fixes(drawn: Tuple[str, List[Any]], unsafe: bool) -> None:
    text, documents = drawn
    flags = ["--unsafe-fixes"] if unsafe else []
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "manifest.yaml"
        path.write_text(text)
        before = _findings(path)
        code, _, err = _run("--fix", *flags, str(path))
        assert code in (0, 1) and "not fixed" not in err, err
        fixed = path.read_text()
        _run("--fix", *flags, str(path))
        assert path.read_text() == fixed, "a second run changed the file"

        now = list(yaml.safe_load_all(fixed))
        assert len(now) == len(documents)
        for old, new in zip(documents, now):
            _changes_only_fixed_settings(old, new)
        assert [line for line in text.splitlines() if line.startswith("#")] == \
            [line for line in fixed.splitlines() if line.startswith("#")]

        after = _findings(path)
        known = {(f["rule"], f["message"]) for f in before}
        assert all((f["rule"], f["message"]) in known or f["rule"] == "SPINK403" for f in after), after
        left = [f for f in after if f["fixable"] == "safe" or unsafe and f["fixable"] == "unsafe"]
        assert left == [], left
