"""SPINK1xx: manifests that kubectl cannot apply, and templates the audit cannot judge."""

from __future__ import annotations

from typing import Iterator

from spin_audit.kube.model import POD_SPEC_PATHS, Bundle, dig
from spin_audit.kube.rules.common import kube_rule
from spin_audit.registry import Hit, Severity

E, INFO = Severity.ERROR, Severity.INFO


def _problems(bundle: Bundle, what: str) -> Iterator[Hit]:
    """The loader's problems of one kind (it reads the input; these rules only report it)."""
    return (Hit(problem.location, problem.message) for problem in bundle.problems if problem.what == what)


@kube_rule("SPINK101", "k8s-manifest-unreadable", E,
           title="Manifest cannot be read or is not valid YAML",
           hint="fix the file at the line shown; `kubectl apply` refuses the whole file",
           help="""A manifest must be UTF-8 YAML that kubectl can parse. The audit reports where parsing
           stopped in each document (between `---` lines) that does not parse, and judges the file's other
           documents; where the slip is plain (`name:web` without its space, a note above `apiVersion`), it
           judges the broken document too, as its author meant it. A folder's YAML files count as manifests
           when they have a top-level `apiVersion:` or `kind:`.""")
def manifest_unreadable(bundle: Bundle) -> Iterator[Hit]:
    return _problems(bundle, "unreadable")


@kube_rule("SPINK102", "k8s-template", INFO,
           title="Template not audited (Helm chart or `{{ }}`)",
           hint="render it (`helm template NAME CHART > rendered.yaml`) and audit the rendered manifests",
           help="""A Helm chart (a folder with Chart.yaml: its templates, values and helpers) or a file with
           `{{ }}` templating that is not YAML yet is not a manifest: what Spin receives is what it renders.
           The audit names it and moves on, instead of calling it broken YAML.""")
def template(bundle: Bundle) -> Iterator[Hit]:
    return _problems(bundle, "template")


@kube_rule("SPINK103", "k8s-not-an-object", E,
           title="YAML document that is not a Kubernetes object",
           hint="give every document `apiVersion`, `kind` and `metadata`, or move non-manifests out of the folder",
           help="""Every document of a manifest (between `---` lines) must be a mapping with `apiVersion` and
           `kind`; kubectl refuses the file otherwise. Files found in a folder that hold no object at all
           (values or configuration files) are not manifests and are not reported; files a kustomization
           lists as patches may be partial.""")
def not_an_object(bundle: Bundle) -> Iterator[Hit]:
    return _problems(bundle, "not-object")


@kube_rule("SPINK105", "k8s-duplicate-key", E,
           title="Key written twice in one mapping",
           hint="keep one of the two; the audit judged the later one, as PyYAML reads it",
           help="""kubectl refuses a document in which one mapping has the same key twice (`yaml: key "image"
           already set in map`). spin-audit reports each repeat where it is written, keeps the later value, and
           goes on judging the rest of the document and the file's other documents.""")
def duplicate_key(bundle: Bundle) -> Iterator[Hit]:
    return _problems(bundle, "duplicate")


@kube_rule("SPINK104", "k8s-pod-without-containers", E,
           title="Workload without containers",
           hint="give the pod template a `containers:` list with at least one container",
           help="""A Pod, or the pod template of a Deployment, StatefulSet, DaemonSet, ReplicaSet, Job or
           CronJob, needs at least one container; the API server refuses it otherwise.""")
def pod_without_containers(bundle: Bundle) -> Iterator[Hit]:
    for obj in bundle.objects:
        path = POD_SPEC_PATHS.get(obj.kind)
        if path is None or obj.partial:
            continue
        containers = dig(obj.node, *path, "containers")
        if containers is None or not containers.seq():
            yield Hit(obj.where(None, *path, "containers"), f"{obj.label} has no containers")
