"""Inputs shaped as Spin users' repositories have them, each written here: Helm charts and values files,
compose files that are templates, keys written twice, extension fields, standard input."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kubekit import CLEAN_DEPLOYMENT, line_of, variant

from stackkit import write_files

DC = "docker-compose.yml"
RC = "rancher-compose.yml"
D = CLEAN_DEPLOYMENT
CLEAN_SERVICE_BODY = "    image: nginx:1.27.3\n    cap_drop: [ALL]\n"
CLEAN_COMPOSE = f"version: '2'\nservices:\n  web:\n{CLEAN_SERVICE_BODY}"

CHART = {
    "portal/Chart.yaml": "apiVersion: v2\nname: portal\nversion: 0.3.1\n",
    "portal/values.yaml": "replicaCount: 1\nimage:\n  repository: registry.nersc.gov/m9999/portal\n  tag: ''\n"
                          "service:\n  type: ClusterIP\n  port: 8080\ningress:\n  enabled: true\n",
    "portal/values-production.yaml": "replicaCount: 2\ningress:\n  host: portal.example.org\n",
    "portal/templates/deployment.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n"
                                        "  name: {{ include \"portal.fullname\" . }}\n",
    "portal/templates/_helpers.tpl": "{{- define \"portal.fullname\" -}}{{ .Release.Name }}{{- end }}\n",
}


def _declined(result, named: str) -> str:
    """The one line of a template declined with exit 2, in text; checks the JSON document too."""
    assert result.code == 2 and result.err.count("\n") == 1 and result.err.startswith("spin-audit: error: ")
    assert named in result.err and "not audited" in result.err
    return result.err


# --- Helm charts ---------------------------------------------------------------------------------

@pytest.mark.parametrize("named", ["portal", "portal/Chart.yaml", "portal/values.yaml", "portal/values-production.yaml",
                                   "portal/templates/deployment.yaml", "portal/templates/_helpers.tpl"])
@pytest.mark.parametrize("fmt", ["text", "json", "sarif"])
def test_a_helm_chart_or_any_file_of_it_is_declined_with_the_command_that_audits_it(cli, tmp_path, named, fmt):
    root = write_files(tmp_path, CHART)
    result = cli("--format", fmt, root / named)
    err = _declined(result, named)
    assert "Helm chart" in err and f"`helm template NAME {root / 'portal'} | spin-audit -`" in err
    if fmt == "json":
        assert [f["rule"] for f in json.loads(result.out)] == ["SPIN002"]  # not hundreds of compose errors
    elif fmt == "sarif":
        run = json.loads(result.out)["runs"][0]
        assert [r["ruleId"] for r in run["results"]] == ["SPIN002"]
        assert run["invocations"][0]["executionSuccessful"] is False


@pytest.mark.parametrize("inside", ["charts/db/templates/statefulset.yaml", "charts/db/values.yaml",
                                    "crds/backup.yaml", "templates/tests/connection.yaml"])
def test_any_file_deep_in_a_chart_is_declined(cli, tmp_path, inside):
    root = write_files(tmp_path, {**CHART, f"portal/{inside}": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"})
    err = _declined(cli(root / "portal" / inside), inside)
    assert f"a file of the Helm chart {root / 'portal'}, not audited" in err


@pytest.mark.parametrize("name", ["values.yaml", "values-dev.yaml", "values.prod.yml", "values_template.yaml",
                                  "prod-values.yaml", "tls-acme-values.yaml"])
def test_a_values_file_outside_a_chart_is_declined_too(cli, tmp_path, name):
    root = write_files(tmp_path, {name: CHART["portal/values.yaml"]})
    err = _declined(cli(root / name), name)
    assert "Helm values file" in err and f"helm template NAME CHART -f {root / name} | spin-audit -" in err


@pytest.mark.parametrize("option", ["--file", "--rancher-file"])
def test_a_values_file_given_as_a_compose_file_is_declined(cli, tmp_path, option):
    root = write_files(tmp_path, {**CHART, DC: CLEAN_COMPOSE})
    _declined(cli(option, root / "portal" / "values.yaml"), "values.yaml")


@pytest.mark.parametrize("name", ["myvalues.yaml", "docker-compose.values-free.yml", "docker-compose.prod.yml"])
def test_names_that_only_look_like_values_are_read_as_compose(cli, tmp_path, name):
    root = write_files(tmp_path, {name: CLEAN_COMPOSE})
    result = cli("--format", "json", root / name)
    assert result.code in (0, 1) and "SPIN002" not in result.out


def test_a_compose_stack_that_also_keeps_a_chart_is_audited_as_the_stack(cli, tmp_path):
    root = write_files(tmp_path / "portal", {"Chart.yaml": CHART["portal/Chart.yaml"],
                                             DC: CLEAN_COMPOSE.replace(":1.27.3", ""),
                                             RC: "version: '2'\nservices:\n  web:\n    scale: 1\n"})
    for named in (root, root / DC, root / RC):
        result = cli("--format", "json", named)
        assert (result.code, result.rules) == (1, ["SPIN402"]), named
    _declined(cli(root / "Chart.yaml"), "Chart.yaml")


def test_a_chart_beside_manifests_is_named_once_and_the_manifests_judged(cli, tmp_path):
    root = write_files(tmp_path, {**CHART, "manifests/web.yaml": variant(D, "privileged: false", "privileged: true")})
    result = cli("--format", "json", "--fail-on", "info", root)
    assert result.code == 1 and sorted(result.rules) == ["SPINK102", "SPINK203"]


# --- compose files that are templates --------------------------------------------------------------

@pytest.mark.parametrize("text, line, shown", [
    ("version: '2'\nservices:\n  {{appname}}:\n    image: nginx:1.27.3\n", 3, "'{{appname}}'"),
    ("version: '2'\nservices:\n  '{{ appname }}-web':\n    image: nginx:1.27.3\n", 3, "key '{{ appname }}-web'"),
    ("version: '2'\nservices:\n  web:\n    image: {{ .Values.image }}\n", 4, "a Go template ('{{ .Values.image }}')"),
    ("version: '2'\nservices:\n{% for name in services %}\n  {{ name }}:\n    image: x:1\n{% endfor %}\n", 3,
     "'{% for name in services %}'"),
    ("# rendered by our deploy script\nversion: '2'\nservices:\n  web:\n    image: nginx:{{tag}}\n"
     "    environment:\n      A: '{{ not the first }}'\n", 5, "'{{tag}}'"),
], ids=["jinja-key", "quoted-key", "go-value", "jinja-block", "first-unquoted"])
@pytest.mark.parametrize("as_file", [DC, "docker-compose.prod.yml", RC])
def test_a_compose_file_of_placeholders_is_declined_as_a_template(cli, make_stack, text, line, shown, as_file):
    files = {DC: CLEAN_COMPOSE, as_file: text}
    stack = make_stack(files)
    result = cli("--format", "json", stack / as_file if as_file != RC else stack)
    err = _declined(result, as_file)
    assert f"line {line}: " in err and shown in err and err.endswith("not audited: render it, then audit the result\n")
    [finding] = json.loads(result.out)
    assert (finding["rule"], finding["line"]) == ("SPIN002", line)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.from_regex(r"[A-Za-z_][A-Za-z0-9_.]{0,12}", fullmatch=True),
       spaces=st.sampled_from(["", " "]), quote=st.sampled_from(["", "'", '"']))
def test_any_placeholder_service_name_is_a_template(cli, tmp_path, name, spaces, quote):
    key = f"{quote}{{{{{spaces}{name}{spaces}}}}}{quote}"
    write_files(tmp_path / "s", {DC: f"version: '2'\nservices:\n  {key}:\n{CLEAN_SERVICE_BODY}"})
    result = cli(tmp_path / "s")
    assert result.code == 2 and "template" in result.err and "invalid YAML" not in result.err, result.err


def test_every_template_is_declined_in_the_same_words(cli, tmp_path):
    root = write_files(tmp_path, {**CHART, "catalog/docker-compose.yml.tpl": "services: {}\n",
                                  "jinja/docker-compose.yml.j2": "services: {}\n",
                                  "keys/docker-compose.yml": "services:\n  {{app}}:\n    image: x\n"})
    reasons = [cli(root / p).err.split(": ", 2)[-1] for p in
               ("portal", "portal/values.yaml", "catalog/docker-compose.yml.tpl", "jinja/docker-compose.yml.j2",
                "keys/docker-compose.yml")]
    assert all(", not audited: " in reason for reason in reasons), reasons


# --- a key written twice -------------------------------------------------------------------------

def test_a_duplicate_key_is_one_finding_and_the_rest_of_the_stack_is_judged(audit_json, make_stack):
    compose = ("version: '2'\nservices:\n  web:\n    image: nginx:1.27.3\n    cap_drop: [ALL]\n"
               "    image: nginx:1.27.4\n  db:\n    image: postgres\n    privileged: true\n")
    answers = "stack_name: mystack\naccess: private\naccess: public\n"
    findings = audit_json(make_stack({DC: compose, ".copier-answers.yml": answers}, "mystack")).findings
    at = sorted((Path(f["path"]).name, f["line"], f["rule"]) for f in findings)
    assert (DC, 6, "SPIN114") in at and (".copier-answers.yml", 3, "SPIN114") in at
    assert {(DC, 8, "SPIN402"), (DC, 9, "SPIN203"), (DC, 7, "SPIN201")} <= set(at), at  # db, after the repeat
    assert "SPIN001" not in [rule for _, _, rule in at]


def test_a_duplicate_key_in_a_manifest_leaves_the_rest_of_it_and_the_other_documents_judged(cli, tmp_path):
    first = variant(variant(D, "  name: web\n", "  name: web\n  name: portal\n"), "privileged: false",
                    "privileged: true")
    second = variant(D, "drop: [ALL]", "drop: []").replace("name: web\n  namespace", "name: api\n  namespace")
    root = write_files(tmp_path, {"web.yaml": first + "---\n" + second})
    result = cli("--format", "json", root / "web.yaml")
    at = sorted((f["line"], f["rule"]) for f in result.findings)
    assert (5, "SPINK105") in at and (line_of(first, "privileged: true"), "SPINK203") in at
    assert any(rule == "SPINK201" and line > first.count("\n") for line, rule in at), at
    assert "kubectl refuses the document" in next(f["message"] for f in result.findings if f["rule"] == "SPINK105")


def test_a_broken_document_leaves_the_files_other_documents_judged(cli, tmp_path):
    broken = variant(D, "  name: web\n", "  name:web\n  labels: {a: b}\n")  # `name:web` is no key
    second = variant(D, "privileged: false", "privileged: true").replace("name: web\n  namespace", "name: api\n"
                                                                                             "  namespace")
    root = write_files(tmp_path, {"m.yaml": broken + "---\n" + second + "---\n" + "kind: [\n"})
    result = cli("--format", "json", root / "m.yaml")
    at = [(f["line"], f["rule"]) for f in result.findings]
    offset = broken.count("\n") + 1
    assert at == [(5, "SPINK101"), (offset + line_of(second, "privileged: true"), "SPINK203"),
                  (offset + second.count("\n") + 3, "SPINK101")], at  # where `kind: [` runs out


@pytest.mark.parametrize("slip, line", [
    (("  name: web\n", "  name:web\n"), 5),  # YAML stops on the line after the slip
    (("        - name: web\n          image: registry", "        - name:web\n          image: registry"), 20),
    (("apiVersion: apps/v1\n", "THIS IS WRONG, FIX IT BEFORE APPLYING\n\napiVersion: apps/v1\n"), 3),
], ids=["key-without-space", "list-item-without-space", "note-above"])
def test_a_plain_slip_is_reported_and_the_document_read_as_meant(cli, tmp_path, slip, line):
    broken = variant(variant(D, *slip), "privileged: false", "privileged: true")
    root = write_files(tmp_path, {"m.yaml": broken})
    result = cli("--format", "json", root / "m.yaml")
    assert [(f["rule"], f["line"]) for f in result.findings] == [
        ("SPINK101", line), ("SPINK203", line_of(broken, "privileged: true"))], result.findings


@pytest.mark.parametrize("slips, read", [(3, True), (4, False)])
def test_at_most_three_slips_are_mended_in_one_document(cli, tmp_path, slips, read):
    keys = ["  name: web\n", "  namespace: myns\n", "        - name: web\n", "          image: registry"]
    broken = variant(D, "privileged: false", "privileged: true")
    for key in keys[:slips]:
        broken = variant(broken, key, key.replace(": ", ":", 1))
    root = write_files(tmp_path, {"m.yaml": broken})
    assert cli("--format", "json", root / "m.yaml").rules == (["SPINK101", "SPINK203"] if read else ["SPINK101"])


def test_mending_stops_where_the_meaning_is_not_plain(cli, tmp_path):
    broken = variant(D, "      containers:\n        - name: web\n",
                     "      containers:\n      command: [sleep, '60']\n        - name: web\n")
    root = write_files(tmp_path, {"m.yaml": variant(broken, "privileged: false", "privileged: true")})
    assert cli("--format", "json", root / "m.yaml").rules == ["SPINK101"]


def test_a_broken_yaml_file_that_is_no_manifest_is_still_left_alone(cli, tmp_path):
    root = write_files(tmp_path, {"m.yaml": D, "notes.yaml": "a: 1\n---\nb: [\n"})
    assert cli("--format", "json", "--fail-on", "info", root).findings == []


def test_limits_hold_for_the_whole_file_even_when_one_document_is_broken(cli, tmp_path):
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [" + ", ".join([f"*{p}"] * 10) + "]\n" for p, c in zip("abcde", "bcdef"))
    root = write_files(tmp_path, {"m.yaml": "kind: [\n---\n" + ("apiVersion: v1\nkind: ConfigMap\n" + bomb + "---\n") * 3})
    result = cli("--format", "json", root / "m.yaml")
    assert [(f["rule"], f["message"]) for f in result.findings] == [
        ("SPINK101", "aliases expand to more than 100000 YAML nodes")]


# --- extension fields and empty rancher-compose entries ---------------------------------------------

EXTENDED = """\
version: '2'
x-defaults: &defaults
  cap_drop: [ALL]
  labels:
    io.rancher.container.pull_image: always
x-owner: web team
services:
  web:
    <<: *defaults
    image: nginx:1.27.3
    x-notes: {reviewed: true}
"""


def test_extension_fields_are_legal_and_what_they_merge_is_judged(audit_json, make_stack):
    rancher = "version: '2'\nx-meta: 1\nservices:\n  web:\n    scale: 2\n"
    findings = audit_json(make_stack({DC: EXTENDED, RC: rancher}), "--fail-on", "info").findings
    assert findings == []  # no SPIN105, SPIN102, and cap_drop from the anchor counts
    format_1 = "x-defaults: &d\n  cap_drop: [ALL]\nweb:\n  <<: *d\n  image: nginx:1.27.3\n"
    rules = audit_json(make_stack({DC: format_1}, "f1")).rules
    assert rules == ["SPIN113"], "x-defaults is not a format-1 service"


def test_an_empty_service_entry_is_legal_in_rancher_compose_only(audit_json, make_stack):
    rancher = "version: '2'\nservices:\n  web:\n  db:\n"
    compose = CLEAN_COMPOSE + "  db:\n    image: postgres:16.4\n    cap_drop: [ALL]\n"
    assert "SPIN104" not in audit_json(make_stack({DC: compose, RC: rancher})).rules
    broken = make_stack({DC: compose + "  kv:\n"}, "broken")
    assert [(f["rule"], f["line"]) for f in audit_json(broken).findings if f["rule"] == "SPIN104"] == [("SPIN104", 9)]


# --- standard input --------------------------------------------------------------------------------

@pytest.fixture
def stdin(monkeypatch):
    """stdin(bytes): what `spin-audit -` reads."""

    def feed(data: bytes) -> None:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))

    return feed


def test_compose_on_standard_input(cli, stdin, tmp_path):
    stdin(b"version: '2'\nservices:\n  web:\n    image: nginx\n    cap_drop: [ALL]\n")
    result = cli("--format", "json", "--stack", "mystack", "-", cwd=tmp_path)
    assert result.code == 1 and [(f["path"], f["line"], f["rule"]) for f in result.findings] == [
        ("<stdin>", 4, "SPIN402")]


def test_rendered_manifests_on_standard_input_as_helm_template_gives_them(cli, stdin, tmp_path):
    rendered = ("---\n# Source: portal/templates/deployment.yaml\n" + variant(D, "privileged: false", "privileged: true")
                + "---\n# Source: portal/templates/service.yaml\napiVersion: v1\nkind: Service\n"
                  "metadata: {name: web}\nspec: {selector: {app: web}, ports: [{port: 8080}]}\n")
    stdin(rendered.encode())
    result = cli("--format", "json", "-", cwd=tmp_path)
    assert result.code == 1 and [(f["path"], f["rule"]) for f in result.findings] == [("<stdin>", "SPINK203")]
    assert result.findings[0]["line"] == line_of(rendered, "privileged: true")


def test_standard_input_beside_manifest_paths_is_one_bundle(cli, stdin, tmp_path):
    root = write_files(tmp_path, {"ingress.yaml": "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n"
                                                  "  name: web\n  namespace: myns\nspec:\n  ingressClassName: nginx\n"
                                                  "  rules:\n    - host: web.myns.development.svc.spin.nersc.org\n"
                                                  "      http:\n        paths:\n          - path: /\n"
                                                  "            pathType: Prefix\n            backend:\n"
                                                  "              service: {name: web, port: {number: 8080}}\n"})
    stdin((variant(D, "readOnly: true", "readOnly: false") + "---\napiVersion: v1\nkind: Service\nmetadata:\n"
           "  name: web\n  namespace: myns\nspec: {selector: {app: web}, ports: [{port: 8080}]}\n").encode())
    result = cli("--format", "json", "--fail-on", "info", root / "ingress.yaml", "-")
    assert [f["rule"] for f in result.findings] == ["SPINK305"], "the Ingress in a file reaches the pod on stdin"


@pytest.mark.parametrize("data, says", [
    (b"apiVersion: v1\nkind: Service\nmetadata:\n  name: {{ .Release.Name }}\n", "a Go template"),
    (b"", "empty file"),
    (b"\xff\xfe", "not UTF-8"),
    (b"version: '2'\nservices: [\n", "invalid YAML"),
])
def test_unusable_standard_input_is_one_line_with_exit_2(cli, stdin, tmp_path, data, says):
    stdin(data)
    result = cli("-", cwd=tmp_path)
    assert result.code == 2 and result.err.startswith("spin-audit: error: <stdin>: ") and says in result.err


def test_standard_input_is_read_once(cli, stdin, tmp_path):
    stdin(CLEAN_COMPOSE.encode())
    result = cli("-", "-", cwd=tmp_path)
    assert result.code == 2 and "standard input (`-`) can be named only once" in result.err


def test_a_real_pipe_into_the_command(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "spin_audit", "--format", "json", "-"], cwd=tmp_path,
                          input=variant(D, "drop: [ALL]", "drop: []").encode(), capture_output=True, timeout=60)
    assert proc.returncode == 0 and [f["rule"] for f in json.loads(proc.stdout)] == ["SPINK201"]
