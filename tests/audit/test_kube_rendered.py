"""What the template renders for rancher2 is what spin-audit accepts: every rancher2 example's k8s/ tree,
and each overlay as `kubectl kustomize` builds it, has no finding at any severity."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from kubekit import audit
from spin_audit.kube import is_kube_path
from stackkit import EXAMPLES, load_example, write_files

RANCHER2 = [path.stem for path in EXAMPLES if load_example(path).get("platform") == "rancher2"]
KUBECTL = shutil.which("kubectl")


def test_there_is_a_rancher2_example() -> None:
    assert RANCHER2


@pytest.mark.parametrize("name", RANCHER2)
def test_rendered_tree_audits_clean(rendered_examples, name: str) -> None:
    stack = rendered_examples[name]
    assert is_kube_path(str(stack))
    assert [(f.rule.id, f.location.path, f.message) for f in audit(stack)] == []


@pytest.mark.skipif(KUBECTL is None, reason="kubectl (with kustomize) is not installed")
@pytest.mark.parametrize("cluster", ["development", "production"])
@pytest.mark.parametrize("name", RANCHER2)
def test_built_overlay_audits_clean(rendered_examples, name: str, cluster: str, tmp_path: Path) -> None:
    overlay = rendered_examples[name] / "k8s" / cluster
    built = subprocess.run([KUBECTL, "kustomize", str(overlay)], capture_output=True, text=True, timeout=120)
    assert built.returncode == 0, built.stderr
    output = write_files(tmp_path, {"built.yaml": built.stdout}) / "built.yaml"
    access = load_example(next(p for p in EXAMPLES if p.stem == name)).get("access")
    assert [(f.rule.id, f.message) for f in audit(output, access=access)] == [], "as `--access` says"
