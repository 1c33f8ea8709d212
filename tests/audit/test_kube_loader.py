"""Reading Kubernetes input: documents and lines, folders, kustomizations, charts, hostile files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kubekit import CLEAN_DEPLOYMENT, CLEAN_INGRESS, audit, where
from stackkit import write_files
from spin_audit.kube import is_kube_path, load
from spin_audit.kube import loader as kube_loader
from spin_audit.loader import (
    MAX_FILE_BYTES,
    InputError,
    PythonLoader,
    SourceFile,
    TemplateError,
    parse_yaml,
    parse_yaml_documents,
)

D = CLEAN_DEPLOYMENT


def _source(text: str) -> SourceFile:
    return SourceFile("/x/m.yaml", "m.yaml", text)


# ---- parse_yaml_documents


@pytest.mark.parametrize("loader", [None, PythonLoader], ids=["libyaml", "python"])
def test_documents_keep_their_lines(loader) -> None:
    text = "a: 1\n---\n# comment\n\n---\nb:\n  c: [x, y]\n---\n"
    docs = parse_yaml_documents(_source(text), loader).documents
    assert [d is None for d in docs] == [False, True, False, True]
    assert docs[0].get("a").line == 1
    assert docs[2].get("b").key_line == 6 and docs[2].get("b").get("c").seq()[1].line == 7


def test_no_documents_at_all() -> None:
    assert parse_yaml_documents(_source("# only a comment\n")).documents == []
    assert parse_yaml_documents(_source("")).documents == []


def test_document_errors_name_their_line() -> None:
    with pytest.raises(InputError) as caught:
        parse_yaml_documents(_source("a: 1\n---\nb: [\n"))
    assert caught.value.line == 4 and caught.value.reason.startswith("invalid YAML: ")
    assert str(caught.value).startswith("m.yaml: line 4, column 1: invalid YAML")


@pytest.mark.parametrize("loader", [None, PythonLoader], ids=["libyaml", "python"])
def test_a_duplicate_key_is_recorded_and_the_stream_read_on(loader) -> None:
    stream = parse_yaml_documents(_source("a: 1\n---\nb: 1\nc: {d: 1, d: 2}\nb: 2\n---\ne: 3\n"), loader)
    assert [d.plain() for d in stream.documents] == [{"a": 1}, {"b": 2, "c": {"d": 2}}, {"e": 3}]
    assert [(d.location.line, d.location.column, d.message) for d in stream.duplicates] == [
        (4, 11, "duplicate key 'd' (first at line 4)"), (5, 1, "duplicate key 'b' (first at line 3)")]


def test_limits_hold_across_documents() -> None:
    doc = "a: &a [x]\nb: [" + ", ".join(["*a"] * 2000) + "]\n"
    with pytest.raises(InputError, match="refused: more than 10000 aliases"):
        parse_yaml_documents(_source("---\n".join([doc] * 6)))


def test_single_document_parser_is_unchanged() -> None:
    with pytest.raises(InputError, match="expected a single document"):
        parse_yaml(_source("a: 1\n---\nb: 2\n"))
    with pytest.raises(InputError) as caught:
        parse_yaml(_source("a: [\n"))
    assert caught.value.line == 2 and caught.value.column == 1 and caught.value.reason.startswith("invalid YAML: ")


# ---- what is Kubernetes input


def test_is_kube_path(tmp_path: Path) -> None:
    write_files(tmp_path, {
        "compose/docker-compose.yml": "version: '2'\nservices: {}\n",
        "compose/k8s/d.yaml": D,
        "stack/k8s/base/kustomization.yaml": "resources: []\n",
        "stack/.copier-answers.yml": "platform: rancher2\n",
        "spin/deeper/web.yml": D,
        "values/values.yaml": "image: nginx\n",
        "list.yaml": "apiVersion: v1\nkind: List\nitems: []\n",
        "kustomization.yaml": "resources: []\n",
        ".pre-commit-config.yaml": "repos: []\n",
        "odd/rancher-compose.yml": "version: '2'\nkind: not-kubernetes\n",
    })
    assert is_kube_path(str(tmp_path / "stack")) and is_kube_path(str(tmp_path / "spin"))
    assert is_kube_path(str(tmp_path / "spin/deeper/web.yml")) and is_kube_path(str(tmp_path / "list.yaml"))
    assert is_kube_path(str(tmp_path / "kustomization.yaml"))
    assert not is_kube_path(str(tmp_path / "compose")), "a compose stack stays a compose stack"
    assert not is_kube_path(str(tmp_path / "compose/docker-compose.yml"))
    assert not is_kube_path(str(tmp_path / "values")) and not is_kube_path(str(tmp_path / "values/values.yaml"))
    assert not is_kube_path(str(tmp_path / ".pre-commit-config.yaml"))
    assert is_kube_path(str(tmp_path / "stack/.copier-answers.yml")), "the answers of a rancher2 stack stand for it"
    write_files(tmp_path, {"compose/.copier-answers.yml": "platform: rancher1\n"})
    assert not is_kube_path(str(tmp_path / "compose/.copier-answers.yml"))
    assert not is_kube_path(str(tmp_path / "odd/rancher-compose.yml")), "a compose stack's file, whatever it holds"
    assert not is_kube_path(str(tmp_path / "missing"))


def test_the_search_for_a_manifest_looks_at_a_bounded_number_of_files(tmp_path: Path, monkeypatch) -> None:
    import spin_audit.kube as kube

    root = write_files(tmp_path, {**{f"notes/{i:02}.txt": "x\n" for i in range(12)}, "z/web.yaml": D})
    assert is_kube_path(str(root))
    monkeypatch.setattr(kube, "SEARCH_LIMIT", 12)  # the manifest is the 13th file looked at
    assert not is_kube_path(str(root))


def test_a_manifest_is_recognised_by_its_first_64_kib_only(tmp_path: Path) -> None:
    padding = "# a long comment line\n" * (64 * 1024 // 22)
    padding += "#" * (64 * 1024 - len(padding) - 1) + "\n"  # exactly 64 KiB of comments
    write_files(tmp_path, {"late.yaml": padding + "apiVersion: v1\nkind: ConfigMap\n",
                     "early.yaml": padding[:-100] + "\napiVersion: v1\nkind: ConfigMap\n"})
    assert len(padding.encode()) == 64 * 1024
    assert is_kube_path(str(tmp_path / "early.yaml"))
    assert not is_kube_path(str(tmp_path / "late.yaml")), "a key after the first 64 KiB is not looked for"


def test_a_folder_of_other_files_is_not_kubernetes_input(tmp_path: Path) -> None:
    write_files(tmp_path, {"notes/README.txt": "kind: a note\napiVersion: none\n", "notes/web.json": "{}\n"})
    assert not is_kube_path(str(tmp_path / "notes")), "only YAML files and kustomizations are looked into"


def test_missing_path_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file or directory"):
        load([str(tmp_path / "nope.yaml")])


# ---- objects


def test_every_document_and_list_item_is_an_object_with_its_line(tmp_path: Path) -> None:
    items = ("apiVersion: v1\nkind: List\nitems:\n"
             "  - apiVersion: v1\n    kind: Service\n    metadata: {name: a}\n"
             "  - apiVersion: v1\n    kind: Service\n    metadata: {name: b}\n")
    path = write_files(tmp_path, {"m.yaml": D + "---\n" + items + "---\n"}) / "m.yaml"
    bundle = load([str(path)])
    assert [(o.kind, o.name, o.node.line) for o in bundle.objects] == [
        ("Deployment", "web", 1), ("Service", "a", D.count("\n") + 5), ("Service", "b", D.count("\n") + 8)]
    assert bundle.problems == [] and [s.path for s in bundle.sources] == [str(path)]


def test_pod_specs_of_every_workload_kind(tmp_path: Path) -> None:
    pod = "containers:\n  - name: c\n    image: nginx:1.27\n"

    def indent(text: str, by: int) -> str:
        return "".join(" " * by + line + "\n" for line in text.splitlines())

    docs = ["apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n" + indent(pod, 2)]
    for kind in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"):
        docs.append(f"apiVersion: apps/v1\nkind: {kind}\nmetadata: {{name: {kind.lower()}}}\nspec:\n"
                    f"  template:\n    spec:\n" + indent(pod, 6))
    docs.append("apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: cron}\nspec:\n  jobTemplate:\n"
                "    spec:\n      template:\n        spec:\n" + indent(pod, 10))
    docs.append("apiVersion: v1\nkind: Service\nmetadata: {name: svc}\nspec:\n  ports: [{port: 80}]\n")
    bundle = load([str(write_files(tmp_path, {"all.yaml": "---\n".join(docs)}) / "all.yaml")])
    assert [c.label for c in bundle.containers] == [
        "Pod 'p' container 'c'", "Deployment 'deployment' container 'c'", "StatefulSet 'statefulset' container 'c'",
        "DaemonSet 'daemonset' container 'c'", "ReplicaSet 'replicaset' container 'c'", "Job 'job' container 'c'",
        "CronJob 'cron' container 'c'"]


def test_containers_of_every_role_resolve_the_pod_security_context(tmp_path: Path) -> None:
    text = ("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n"
            "  securityContext: {runAsUser: 1000, runAsNonRoot: true, fsGroup: 50}\n"
            "  initContainers:\n    - {name: init, image: busybox:1, securityContext: {runAsUser: 0}}\n"
            "  containers:\n    - {name: main, image: nginx:1}\n"
            "  ephemeralContainers:\n    - {name: debug, image: busybox:1, securityContext: {runAsNonRoot: false}}\n")
    bundle = load([str(write_files(tmp_path, {"p.yaml": text}) / "p.yaml")])
    seen = [(c.role, c.name, c.resolved("runAsUser")[0].value, c.resolved("runAsUser")[1],
             c.resolved("runAsNonRoot")[0].value, c.resolved("fsGroup")[0]) for c in bundle.containers]
    assert seen == [("init container", "init", 0, "container", True, None),
                    ("container", "main", 1000, "pod", True, None),
                    ("ephemeral container", "debug", 1000, "pod", False, None)]


# ---- folders


def test_folder_search_skips_hidden_folders_and_symlinked_folders(tmp_path: Path) -> None:
    root = write_files(tmp_path / "spin", {"a/web.yaml": D, ".git/x.yaml": D, ".hidden.yaml": D, "b/notes.txt": "x"})
    os.symlink(root, root / "a" / "loop")
    bundle = load([str(root)])
    assert [Path(s.path).relative_to(root).as_posix() for s in bundle.sources] == ["a/web.yaml"]


def test_special_files_are_never_opened(tmp_path: Path) -> None:
    root = write_files(tmp_path, {"web.yaml": D})
    os.mkfifo(root / "pipe.yaml")
    assert [o.name for o in load([str(root)]).objects] == ["web"]
    assert [(f.rule.id, f.message) for f in audit(root / "pipe.yaml")] == [("SPINK101", "not a regular file")]
    assert not is_kube_path(str(root / "pipe.yaml"))


def test_rancher2_stack_is_read_through_k8s(tmp_path: Path) -> None:
    stack = write_files(tmp_path / "stack", {"k8s/base/web.yaml": D, "app/config.yaml": D, ".copier-answers.yml": "x: 1\n"})
    for target in (stack, stack / ".copier-answers.yml"):
        assert [Path(s.path).relative_to(stack).as_posix() for s in load([str(target)]).sources] == [
            "k8s/base/web.yaml"]


def test_access_comes_from_the_stack_answers_or_the_option(tmp_path: Path) -> None:
    stack = write_files(tmp_path / "stack", {"k8s/base/web.yaml": D, ".copier-answers.yml": "platform: rancher2\n"
                                                                                       "access: private\n"})
    for target in (stack, stack / "k8s", stack / "k8s/base/web.yaml"):
        assert [(o.access, o.access_origin) for o in load([str(target)]).objects] == [
            ("private", ".copier-answers.yml")], target
    assert [(o.access, o.access_origin) for o in load([str(stack)], "public").objects] == [("public", "--access")]
    write_files(stack, {".copier-answers.yml": "platform: rancher2\naccess: [\n"})
    assert [o.access for o in load([str(stack)]).objects] == [None], "a broken answers file says nothing"


def test_too_many_files_is_an_input_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kube_loader, "MAX_FILES", 3)
    root = write_files(tmp_path, {f"m{i}.yaml": D for i in range(4)})
    with pytest.raises(InputError, match="more than 3 YAML files"):
        load([str(root)])


def test_too_much_yaml_is_an_input_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kube_loader, "MAX_TOTAL_CHARS", len(D) * 2 + 10)
    root = write_files(tmp_path, {"kustomization.yaml": "resources: [a.yaml, b.yaml, c.yaml]\n", "a.yaml": D,
                            "b.yaml": D, "c.yaml": D})
    with pytest.raises(InputError, match="characters of YAML to read in one run"):
        load([str(root)])


def test_a_run_reads_at_most_32_mib_of_yaml(tmp_path: Path) -> None:
    comment = "# " + "x" * 1_039_997 + "\n"  # 1,040,000 characters: 32 files fit in 32 MiB, 33 do not
    root = write_files(tmp_path, {"web.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web}\n",
                            **{f"notes/n{i:02}.yaml": comment for i in range(32)}})
    assert [o.kind for o in load([str(root)]).objects] == ["ConfigMap"]
    write_files(root, {"notes/n32.yaml": comment})
    with pytest.raises(InputError) as caught:
        load([str(root)])
    assert caught.value.reason == "more than 33554432 characters of YAML to read in one run"


# ---- kustomizations

OVERLAY = "namespace: {ns}\nresources:\n  - ../base\n  - ingress.yaml\n"


def _tree(tmp_path: Path, ingress_ns: str = "dev-ns") -> Path:
    return write_files(tmp_path / "k8s", {
        "base/kustomization.yaml": "resources: [web.yaml]\n",
        "base/web.yaml": D.replace("  namespace: myns\n", ""),
        "development/kustomization.yaml": OVERLAY.format(ns="dev-ns"),
        "development/ingress.yaml": CLEAN_INGRESS.replace("  namespace: myns\n", "").replace("myns", ingress_ns),
        "production/kustomization.yaml": OVERLAY.format(ns="prod-ns"),
        "production/ingress.yaml": CLEAN_INGRESS.replace("  namespace: myns\n", "")
        .replace("myns.development", "prod-ns.production"),
    })


def test_overlays_place_the_base_in_each_namespace_and_cluster(tmp_path: Path) -> None:
    bundle = load([str(_tree(tmp_path))])
    places = {(o.kind, p.namespace, p.name, p.cluster) for o in bundle.objects for p in o.placements}
    assert places == {("Deployment", "dev-ns", "web", "development"), ("Deployment", "prod-ns", "web", "production"),
                      ("Ingress", "dev-ns", "web", "development"), ("Ingress", "prod-ns", "web", "production")}
    assert not any(o.partial for o in bundle.objects)
    assert audit(tmp_path / "k8s") == []


def test_an_overlay_alone_brings_its_base(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    bundle = load([str(root / "development")])
    assert sorted(Path(s.path).relative_to(root).as_posix() for s in bundle.sources) == [
        "base/kustomization.yaml", "base/web.yaml", "development/ingress.yaml", "development/kustomization.yaml"]


def test_overlay_namespace_judges_the_ingress_host(tmp_path: Path) -> None:
    root = _tree(tmp_path, ingress_ns="wrong-ns")
    assert where(audit(root), root) == [("development/ingress.yaml", 8, "SPINK501")]


def test_outermost_namespace_and_all_name_prefixes_win(tmp_path: Path) -> None:
    root = write_files(tmp_path, {
        "inner/kustomization.yaml": "namespace: inner\nnamePrefix: a-\nnameSuffix: -z\nresources: [web.yaml]\n",
        "inner/web.yaml": D,
        "outer/kustomization.yaml": "namespace: outer\nnamePrefix: b-\nresources: [../inner]\n",
    })
    [obj] = load([str(root / "outer")]).objects
    assert [(p.namespace, p.name) for p in obj.placements] == [("outer", "b-a-web-z")]


def test_kustomization_reads_files_only_below_its_folder(tmp_path: Path) -> None:
    root = write_files(tmp_path, {"outside.yaml": D.replace("name: web", "name: outside", 1),
                            "k/kustomization.yaml": "resources: [../outside.yaml, web.yaml, /etc/hostname]\n",
                            "k/web.yaml": D})
    bundle = load([str(root / "k")])
    assert [o.name for o in bundle.objects] == ["web"] and bundle.problems == []


def test_kustomization_cycles_end(tmp_path: Path) -> None:
    root = write_files(tmp_path, {"a/kustomization.yaml": "resources: [../b, web.yaml]\n", "a/web.yaml": D,
                            "b/kustomization.yaml": "resources: [../a]\n"})
    assert [o.name for o in load([str(root)]).objects] == ["web"]


def test_patches_and_unlisted_files_are_partial(tmp_path: Path) -> None:
    root = write_files(tmp_path, {
        "kustomization.yaml": "resources: [web.yaml]\npatchesStrategicMerge: [p1.yaml]\npatches:\n  - path: p2.yaml\n",
        "web.yaml": D, "p1.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n",
        "p2.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n",
        "leftover.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: old}\n",
    })
    partial = {Path(o.source.path).name: o.partial for o in load([str(root)]).objects}
    assert partial == {"web.yaml": False, "p1.yaml": True, "p2.yaml": True, "leftover.yaml": True}
    named = load([str(root / "leftover.yaml")]).objects
    assert [o.partial for o in named] == [True], "a named file is judged with its folder's kustomization"


def test_a_patch_named_before_its_folder_is_still_a_patch(tmp_path: Path) -> None:
    root = write_files(tmp_path, {"kustomization.yaml": "resources: [web.yaml]\npatches:\n  - path: p.yaml\n",
                                  "web.yaml": D, "p.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n"})
    for order in ([root / "p.yaml", root], [root, root / "p.yaml"]):
        partial = {Path(o.source.path).name: o.partial for o in load([str(p) for p in order]).objects}
        assert partial == {"web.yaml": False, "p.yaml": True}, order
        assert audit(*order) == [], "a patch need not repeat the containers"


def test_patches_are_still_judged_for_what_they_set(tmp_path: Path) -> None:
    patch = ("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n    spec:\n"
             "      containers:\n        - name: web\n          securityContext: {privileged: true}\n")
    root = write_files(tmp_path, {"kustomization.yaml": "resources: [web.yaml]\npatches:\n  - path: p.yaml\n",
                            "web.yaml": D, "p.yaml": patch})
    assert where(audit(root), root) == [("p.yaml", 9, "SPINK203")]


def test_broken_kustomization_is_reported(tmp_path: Path) -> None:
    root = write_files(tmp_path, {"kustomization.yaml": "resources: [\n", "web.yaml": D})
    assert where(audit(root), root) == [("kustomization.yaml", 2, "SPINK101")]


# ---- templates


CHART_FILES = {
    "chart/Chart.yaml": "apiVersion: v2\nname: x\n",
    "chart/values.yaml": "a: {{ b }}\n",
    "chart/templates/_helpers.tpl": "{{- define \"x\" -}}{{- end -}}\n",
    "chart/templates/broken.yaml": "kind: Deployment\nmetadata:\n  name: {{ .Release.Name }\n",
    "chart/templates/parses.yaml": "apiVersion: v1\nkind: Service\nmetadata:\n  name: '{{ .Release.Name }}'\n",
    "chart/templates/tests/t.yaml": "kind: Pod\n  {{ x }}\n",
}


def test_helm_chart_beside_manifests_is_named_once_and_never_broken_yaml(tmp_path: Path) -> None:
    root = write_files(tmp_path, {**CHART_FILES, "web.yaml": D})
    assert where(audit(root), root) == [("chart/Chart.yaml", 1, "SPINK102")]
    [finding] = audit(root)
    assert finding.message == "a Helm chart, not audited: audit what it renders: `helm template NAME " \
                              f"{finding.location.path[:-len('/Chart.yaml')]} | spin-audit -`, or the folder it renders to"


@pytest.mark.parametrize("name", ["", "Chart.yaml", "values.yaml", "templates/broken.yaml", "templates/parses.yaml",
                                  "templates/tests/t.yaml"])
def test_helm_chart_alone_is_declined_as_a_template(tmp_path: Path, name: str) -> None:
    root = write_files(tmp_path, CHART_FILES)
    with pytest.raises(TemplateError) as caught:
        audit(root / "chart" / name if name else root)
    assert caught.value.line == 1 and Path(caught.value.path).name == "Chart.yaml"
    assert "a Helm chart, not audited: audit what it renders: `helm template NAME " in caught.value.reason


def test_template_outside_a_chart_is_named_at_its_first_braces(tmp_path: Path) -> None:
    text = "# namespace\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: {{{n}}}\n"
    root = write_files(tmp_path, {"ns.yaml": text, "web.yaml": D})
    assert where(audit(root), root) == [("ns.yaml", 5, "SPINK102")]
    with pytest.raises(TemplateError) as caught:
        audit(root / "ns.yaml")
    assert (caught.value.line, caught.value.reason) == (5, "a template ('{{{n}}'), not audited: render it, then "
                                                           "audit the result")


# ---- hostile input: a finding with the file and line, or InputError; never anything else

HOSTILE = {
    "binary": b"kind: Pod\n\x00\x01\x02",
    "not-utf8": b"apiVersion: v1\nkind: Pod\nmetadata: {name: caf\xe9}\n",
    "huge": b"apiVersion: v1\nkind: Pod\n#" + b"x" * (MAX_FILE_BYTES + 10) + b"\n",
    "alias-bomb": ("apiVersion: v1\nkind: ConfigMap\na: &a ['lol','lol','lol','lol','lol','lol','lol','lol','lol']\n"
                   + "".join(f"{c}: &{c} [" + ",".join([f"*{p}"] * 9) + "]\n" for p, c in zip("abcdefgh", "bcdefghi"))
                   ).encode(),
    "recursive-alias": b"apiVersion: v1\nkind: ConfigMap\na: &a [*a]\n",
    "deep": b"apiVersion: v1\nkind: ConfigMap\ndata: " + b"[" * 5000 + b"]" * 5000 + b"\n",
    "python-tag": b"apiVersion: v1\nkind: !!python/object/apply:os.system ['true']\n",
    "tab-indent": b"apiVersion: v1\nkind: Pod\nspec:\n\tcontainers: []\n",
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_manifest_is_one_finding_with_its_line(name: str, tmp_path: Path) -> None:
    root = write_files(tmp_path, {"m.yaml": HOSTILE[name]})
    for target in (root, root / "m.yaml"):
        found = where(audit(target), root)
        assert [(path, rule) for path, _, rule in found] == [("m.yaml", "SPINK101")], (name, found)


@pytest.mark.parametrize("text", ["- a\n- b\n", "just text\n", "42\n", "[]\n", "{}\n"])
def test_non_mapping_documents_of_a_named_file(text: str, tmp_path: Path) -> None:
    root = write_files(tmp_path, {"m.yaml": text})
    assert [rule for _, _, rule in where(audit(root / "m.yaml"), root)] == ["SPINK103"]
    assert audit(root) == [], "found in a folder, a file without objects is not a manifest"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(st.binary(max_size=400), st.text(max_size=400),
                 st.lists(st.sampled_from(["apiVersion: v1", "kind: Pod", "kind: List", "items:", "- kind: Secret",
                                           "spec:", "  containers:", "  - name: x", "    image: {{ y }}", "---",
                                           "    securityContext: {capabilities: {add: [X]}}", "  hostPath:",
                                           "    path: /global/homes/x", "data: {k: v}", "&a x: *a", "metadata: 3"]),
                          max_size=20).map("\n".join)))
def test_any_input_gives_findings_not_crashes(tmp_path: Path, content) -> None:
    """Findings, or a template declined in one line: nothing else."""
    path = tmp_path / "m.yaml"
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8", "surrogatepass"))
    for target in (tmp_path, path):
        try:
            findings = audit(target)
        except TemplateError as declined:
            assert declined.line >= 1 and "\n" not in str(declined)
            continue
        for finding in findings:
            assert finding.location.line >= 1 and "\n" not in finding.message
