"""SPINK7xx: names, labels and annotations."""

from __future__ import annotations

from typing import Iterator

from spin_audit.fixes import SAFE, Fix, delete_key
from spin_audit.kube.facts import SPIN_ANNOTATION_PREFIX
from spin_audit.kube.model import Bundle, dig, pod_specs
from spin_audit.kube.rules.common import kube_rule
from spin_audit.registry import Hit, Severity

INFO = Severity.INFO


@kube_rule("SPINK701", "k8s-spin-annotation", INFO,
           title=f"Annotation Spin sets itself ({SPIN_ANNOTATION_PREFIX}*) written by hand",
           hint=f"remove the {SPIN_ANNOTATION_PREFIX}* annotations; Spin adds them when the object is created",
           help=f"""Spin's admission writes `{SPIN_ANNOTATION_PREFIX}uid`, `gid`, `gids`, `collab_uids`, `roles`,
           `username` (and, on older ingresses, `clustername`, `serveralias`) itself, for whoever applies the
           manifest. Copied from an exported manifest they name the person who exported it and go stale;
           nothing requires them.""",
           fix=(SAFE,), fix_help=f"""deletes the {SPIN_ANNOTATION_PREFIX}* annotations of the object and of its pod
           template.""")
def spin_annotation(bundle: Bundle) -> Iterator[Hit]:
    for obj in bundle.objects:
        found = [(name, node) for name, node in obj.annotations() if name.startswith(SPIN_ANNOTATION_PREFIX)]
        if found:
            names = ", ".join(sorted({name for name, _ in found}))
            edits = [delete_key(annotations, name) for annotations in
                     (dig(meta, "annotations") for meta in (obj.metadata, *(pod.metadata for pod in pod_specs(obj))))
                     if annotations is not None for name, _ in annotations.items()
                     if str(name).startswith(SPIN_ANNOTATION_PREFIX)]
            yield Hit(obj.at(found[0][1], key=True), f"{obj.label} sets {names} by hand",
                      fix=Fix(SAFE, f"delete {names}", edits))
