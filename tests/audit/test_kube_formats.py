"""Kubernetes findings in every format, suppressions in manifests, and the registry's view of SPINK rules."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from kubekit import CLEAN_DEPLOYMENT, audit, line_of, variant, where

from stackkit import write_files
from spin_audit.docgen import render
from spin_audit.registry import all_rules, get_rule
from spin_audit.report import group_of, render_json, render_sarif, render_text

BROKEN = variant(variant(CLEAN_DEPLOYMENT, "privileged: false", "privileged: true{comment}"),
                 "add: [NET_BIND_SERVICE]", "add: [NET_BIND_SERVICE, SYS_ADMIN]")


def _manifest(tmp_path: Path, comment: str = "", above: str = "") -> Path:
    text = BROKEN.replace("{comment}", comment)
    if above:
        text = text.replace("            privileged: true", f"            {above}\n            privileged: true")
    return write_files(tmp_path, {"web.yaml": text})


def test_formats_agree_on_file_and_line(tmp_path: Path) -> None:
    root = _manifest(tmp_path)
    findings = audit(root / "web.yaml")
    assert [(f.rule.id, f.location.line) for f in findings] == [
        ("SPINK203", line_of(BROKEN, "privileged: true")), ("SPINK202", line_of(BROKEN, "SYS_ADMIN"))]
    as_json = json.loads(render_json(findings))
    as_text = [line for line in render_text(findings, 1).splitlines() if ": SPINK" in line]
    sarif = json.loads(render_sarif(findings, all_rules()))["runs"][0]["results"]
    assert len(as_json) == len(as_text) == len(sarif) == 2
    for item, text, result in zip(as_json, as_text, sarif):
        assert item["path"].endswith("web.yaml") and Path(item["path"]).resolve() == (root / "web.yaml").resolve()
        assert text.startswith(f"{item['path']}:{item['line']}:{item['column']}: {item['rule']} [error] ")
        region = result["locations"][0]["physicalLocation"]["region"]
        assert (result["ruleId"], region["startLine"], region["startColumn"]) == (
            item["rule"], item["line"], item["column"])
        assert result["level"] == "error" and item["message"] in result["message"]["text"]
    driver = json.loads(render_sarif(findings, all_rules()))["runs"][0]["tool"]["driver"]
    tags = {r["id"]: r["properties"]["tags"] for r in driver["rules"]}
    assert tags["SPINK203"] == ["spin", "security"] and tags["SPINK101"] == ["spin", "manifest"]


def test_trailing_comment_suppresses_its_line(tmp_path: Path) -> None:
    root = _manifest(tmp_path, comment="  # spin-audit: ignore[SPINK203] debugging image, approved by ISG")
    findings = audit(root)
    assert [f.rule.id for f in findings if f.suppressed_by is None] == ["SPINK202"]
    [suppressed] = [f for f in findings if f.suppressed_by is not None]
    assert (suppressed.rule.id, suppressed.suppressed_by) == ("SPINK203", "debugging image, approved by ISG")
    assert render_text(findings, 1).strip().endswith("; 1 suppressed")
    sarif = json.loads(render_sarif(findings, all_rules()))["runs"][0]["results"]
    assert [r["suppressions"] for r in sarif if r["ruleId"] == "SPINK203"] == [
        [{"kind": "inSource", "justification": "debugging image, approved by ISG"}]]


def test_comment_on_the_line_above_suppresses_the_next_line(tmp_path: Path) -> None:
    root = _manifest(tmp_path, above="# spin-audit: ignore[spink203, SPINK202] approved")
    assert [f.rule.id for f in audit(root) if f.suppressed_by is None] == ["SPINK202"]


def test_suppression_problems_are_reported_in_manifests(tmp_path: Path) -> None:
    root = _manifest(tmp_path, comment="  # spin-audit: ignore[SPINK203]")
    assert sorted(rule for _, _, rule in where(audit(root), root)) == ["SPIN901", "SPINK202", "SPINK203"]
    root = _manifest(tmp_path / "b", comment="  # spin-audit: ignore[SPINK999] typo")
    assert "SPIN902" in [rule for _, _, rule in where(audit(root), root)]
    root = _manifest(tmp_path / "c", comment="  # spin-audit: ignore[SPINK401] nothing here")
    assert "SPIN903" in [rule for _, _, rule in where(audit(root), root)]


def test_no_suppress_refuses_every_suppression(tmp_path: Path) -> None:
    root = _manifest(tmp_path, comment="  # spin-audit: ignore[SPINK203] approved")
    line = line_of(BROKEN, "privileged: true")
    found = where(audit(root, allow_suppressions=False), root)
    assert ("web.yaml", line, "SPINK203") in found and ("web.yaml", line, "SPIN904") in found


def test_suppression_in_a_kustomization_file(tmp_path: Path) -> None:
    root = write_files(tmp_path, {"kustomization.yaml": "resources: [web.yaml]\n",
                            "web.yaml": CLEAN_DEPLOYMENT.replace("image: registry.nersc.gov/myproj/web:1.0",
                                                                 "image: nginx  # spin-audit: ignore[SPINK403] "
                                                                 "tracks upstream on purpose")})
    assert [f.rule.id for f in audit(root) if f.suppressed_by is None] == []


def test_rules_know_their_group_and_are_explained(capsys) -> None:
    from spin_audit.cli import main

    assert group_of(get_rule("SPINK302")) == "global-file-system" and group_of(get_rule("spink601")) == "secrets"
    assert group_of(get_rule("SPIN302")) == "global-file-system" and group_of(get_rule("SPINK102")) == "manifest"
    assert main(["--explain", "spink501"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("SPINK501 k8s-ingress-host [error]\n") and "ING-002" in out
    assert main(["--list-rules"]) == 0
    assert "SPINK201  warning  k8s-cap-drop-all" in capsys.readouterr().out


def test_rules_doc_has_a_section_per_kubernetes_group() -> None:
    doc = render()
    for heading in ("## K1xx: manifest (Kubernetes)", "## K2xx: security (Kubernetes)",
                    "## K3xx: global file system (Kubernetes)", "## K5xx: network (Kubernetes)",
                    "## 2xx: security\n"):
        assert heading in doc
    assert "### SPINK501 k8s-ingress-host" in doc


def test_compose_audit_does_not_import_the_kubernetes_package(tmp_path: Path) -> None:
    stack = write_files(tmp_path / "stack", {"docker-compose.yml": "version: '2'\nservices:\n  web:\n"
                                                              "    image: nginx:1.27\n    cap_drop: [ALL]\n"})
    code = ("import sys; from spin_audit.cli import main; code = main(['--format', 'json', sys.argv[1]]); "
            "loaded = [m for m in sys.modules if m.startswith('spin_audit.kube')]; "
            "print(loaded, file=sys.stderr); sys.exit(code)")
    proc = subprocess.run([sys.executable, "-c", code, str(stack)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stderr.strip() == "[]", proc.stderr
    code = "import sys, spin_audit.kube; print(sorted(m for m in sys.modules if m.startswith('yaml')))"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.stdout.strip() == "[]", "asking whether a path is Kubernetes input costs no YAML import"
