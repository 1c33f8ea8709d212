"""The command line: exit codes, thresholds, formats, paths, and the clean fixtures."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from spin_audit.cli import build_parser
from spin_audit.registry import all_rules

FIXTURES = Path(__file__).resolve().parent / "fixtures"

BAD = """\
version: '2'
services:
  web:
    image: nginx:1.27
    cap_drop: [ALL]
    cap_add:
      - SYS_ADMIN
"""
WARN_ONLY = """\
version: '2'
services:
  frontend:
    image: nginx:1.27
    cap_drop: [ALL]
"""
INFO_ONLY = """\
version: '2'
services:
  web:
    image: nginx:1.27
    cap_drop: [ALL]
volumes:
  pgdata:
    driver: rancher-nfs
    external: true
"""


def test_hand_written_fixture_audits_clean(cli) -> None:
    result = cli("--fail-on", "info", "--access", "authenticated", FIXTURES / "myportal")
    assert (result.code, result.out, result.err) == (0, "spin-audit: no findings in 1 stack\n", "")


def test_stack_rendered_from_the_current_template_audits_clean(cli, rendered_stack: Path) -> None:
    result = cli("--fail-on", "info", rendered_stack)
    assert (result.code, result.out, result.err) == (0, "spin-audit: no findings in 1 stack\n", ""), result.out
    answers = (rendered_stack / ".copier-answers.yml").read_text()
    assert "access: public" in answers and "/global/cfs/cdirs/demo/static" in answers


def test_hand_written_fixture_does_not_ask_its_dump_job_to_mount_read_only(cli) -> None:
    """db-dump writes the nightly dump to /global by design: without --access nothing is asked of it."""
    result = cli("--format", "json", "--fail-on", "info", FIXTURES / "myportal")
    assert (result.code, json.loads(result.out)) == (0, [])


def test_exit_codes_follow_the_threshold(cli, make_stack) -> None:
    bad, warn, info = make_stack({"docker-compose.yml": BAD}, "bad"), make_stack(
        {"docker-compose.yml": WARN_ONLY}, "warn"), make_stack({"docker-compose.yml": INFO_ONLY}, "info")
    assert cli(bad).code == 1
    assert cli(warn).code == 0
    assert cli("--fail-on", "warning", warn).code == 1
    assert cli("--fail-on", "warning", info).code == 0
    assert cli("--fail-on", "info", info).code == 1
    assert cli("--fail-on", "error", info).code == 0


def test_text_output_reads_at_a_glance(cli, make_stack) -> None:
    stack = make_stack({"docker-compose.yml": BAD})
    result = cli(cwd=stack)
    lines = result.out.splitlines()
    assert lines[0] == ("docker-compose.yml:7:9: SPIN202 [error] service 'web' adds capability SYS_ADMIN, "
                        "outside Spin's allowed list")
    assert lines[1].startswith("    hint: Spin allows only CHOWN")
    assert lines[-1] == "spin-audit: 1 finding (1 error, 0 warnings, 0 info) in 1 stack"


def test_json_findings_have_the_documented_fields(cli, make_stack) -> None:
    result = cli("--format", "json", make_stack({"docker-compose.yml": BAD}))
    findings = json.loads(result.out)
    assert isinstance(findings, list) and findings
    assert result.out.startswith('[\n  {\n    "rule": ') and result.out.endswith("\n  }\n]\n")  # indented by 2
    for finding in findings:
        assert {"rule", "severity", "path", "line", "message", "hint", "column"} <= set(finding)
        assert finding["severity"] in ("error", "warning", "info")
        assert isinstance(finding["line"], int) and finding["line"] >= 1


def test_sarif_has_rule_metadata_and_results(cli, make_stack) -> None:
    stack = make_stack({"docker-compose.yml": BAD + "    ports:\n      - 80:8080\n"})
    result = cli("--format", "sarif", cwd=stack)
    assert result.code == 1
    log = json.loads(result.out)
    assert log["version"] == "2.1.0" and "sarif-2.1.0" in log["$schema"]
    assert result.out.startswith('{\n  "$schema": ')  # indented by 2, like the JSON findings
    run = log["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "spin-audit"
    rules = driver["rules"]
    assert [r["id"] for r in rules] == [r.id for r in all_rules()]
    assert run["originalUriBaseIds"] == {"%SRCROOT%": {"uri": stack.as_uri() + "/"}}
    for rule in rules:
        assert rule["properties"]["precision"] == "high"
        assert rule["shortDescription"]["text"] and rule["fullDescription"]["text"]
        assert rule["help"]["text"] and rule["help"]["markdown"]
        assert rule["defaultConfiguration"]["level"] in ("error", "warning", "note")
    assert {r["ruleId"] for r in run["results"]} == {"SPIN202", "SPIN501"}
    for res in run["results"]:
        assert rules[res["ruleIndex"]]["id"] == res["ruleId"]
        assert res["level"] in ("error", "warning", "note") and res["message"]["text"]
        assert res["properties"] == {"service": "web"}
        location = res["locations"][0]["physicalLocation"]
        assert location["artifactLocation"] == {"uri": "docker-compose.yml", "uriBaseId": "%SRCROOT%"}
        assert location["region"]["startLine"] >= 1 and location["region"]["startColumn"] >= 1


def test_sarif_validates_against_a_minimal_sarif_schema(cli, make_stack) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    minimal = {
        "type": "object",
        "required": ["version", "runs"],
        "properties": {
            "version": {"const": "2.1.0"},
            "runs": {"type": "array", "minItems": 1, "items": {
                "type": "object", "required": ["tool", "results"],
                "properties": {
                    "tool": {"type": "object", "required": ["driver"], "properties": {"driver": {
                        "type": "object", "required": ["name", "rules"],
                        "properties": {"rules": {"type": "array", "items": {
                            "type": "object", "required": ["id", "shortDescription", "help"]}}}}}},
                    "results": {"type": "array", "items": {
                        "type": "object", "required": ["ruleId", "message", "locations"],
                        "properties": {"level": {"enum": ["none", "note", "warning", "error"]}}}},
                },
            }},
        },
    }
    result = cli("--format", "sarif", make_stack({"docker-compose.yml": BAD}))
    jsonschema.validate(json.loads(result.out), minimal)


def test_a_file_path_audits_its_stack_once(cli, make_stack) -> None:
    stack = make_stack({"docker-compose.yml": BAD, "web/Dockerfile": "FROM nginx\n"})
    result = cli("--format", "json", stack / "docker-compose.yml", stack / "web" / "Dockerfile", stack)
    rules = [f["rule"] for f in json.loads(result.out)]
    assert sorted(rules) == ["SPIN202", "SPIN801"]


def test_no_path_means_the_current_directory(cli, make_stack) -> None:
    stack = make_stack({"docker-compose.yml": BAD})
    assert cli(cwd=stack).code == 1


def test_several_stacks_in_one_run(cli, make_stack) -> None:
    bad = make_stack({"docker-compose.yml": BAD}, "bad")
    result = cli(bad, FIXTURES / "myportal")
    assert result.code == 1
    assert result.out.splitlines()[-1].endswith("in 2 stacks")


def test_dockerfile_outside_any_stack_is_checked_alone(cli, tmp_path: Path) -> None:
    (tmp_path / "tool").mkdir()
    dockerfile = tmp_path / "tool" / "Dockerfile"
    dockerfile.write_text("FROM alpine:latest\n")
    result = cli("--format", "json", "--fail-on", "warning", dockerfile)
    assert [f["rule"] for f in json.loads(result.out)] == ["SPIN801"]
    assert result.code == 1


def test_stack_name_comes_from_option_then_answers_then_directory(cli, make_stack) -> None:
    compose = BAD.replace("    cap_add:\n      - SYS_ADMIN\n", "    secrets:\n      - source: shop.pw\n"
                                                                 "        target: pw\n        mode: '0400'\n")
    compose += "secrets:\n  shop.pw:\n    external: true\n"
    by_dir = make_stack({"docker-compose.yml": compose}, "shop")
    assert "SPIN602" not in cli("--format", "json", by_dir).out
    assert "SPIN602" in cli("--format", "json", "--stack", "other", by_dir).out
    by_answers = make_stack({"docker-compose.yml": compose, ".copier-answers.yml": "stack_name: shop\n"}, "x")
    assert "SPIN602" not in cli("--format", "json", by_answers).out
    assert "SPIN602" in cli("--format", "json", "--stack", "x", by_answers).out


def test_access_option_overrides_the_answers(cli, make_stack) -> None:
    compose = ("version: '2'\nservices:\n  web:\n    image: nginx:1.27\n    cap_drop: [ALL]\n"
               "    user: '501:502'\n    volumes:\n      - /global/cfs/cdirs/p/app:/d\n")
    stack = make_stack({"docker-compose.yml": compose, ".copier-answers.yml": "access: public\n"})
    assert cli(stack).code == 1
    assert cli("--access", "private", stack).code == 0
    assert cli("--access", "authenticated", stack).code == 0


def test_list_rules_and_explain(cli) -> None:
    listed = cli("--list-rules")
    assert listed.code == 0
    ids = [line.split()[0] for line in listed.out.splitlines()]
    assert ids == [r.id for r in all_rules()]
    listed_json = cli("--list-rules", "--format", "json").out
    assert listed_json.startswith('[\n  {\n    "id": ')
    as_json = json.loads(listed_json)
    assert {"id", "name", "severity", "title", "hint", "help", "group"} <= set(as_json[0])
    assert {r["group"] for r in as_json} >= {"input", "compose", "security", "global-file-system", "suppressions"}
    explained = cli("--explain", "spin201")
    assert explained.code == 0 and "cap_drop" in explained.out
    unknown = cli("--explain", "SPIN999")
    assert (unknown.code, unknown.err) == (2, "spin-audit: error: unknown rule 'SPIN999' (see --list-rules)\n")


@pytest.mark.parametrize("args", [["--format", "xml"], ["--fail-on", "never"], ["--access"], ["--bogus"]])
def test_usage_errors_are_one_line_with_exit_2(cli, capsys, args) -> None:
    with pytest.raises(SystemExit) as exc:
        cli(*args)
    out, err = capsys.readouterr()
    assert exc.value.code == 2 and out == ""
    assert err.startswith("spin-audit: error: ") and err.endswith(" (see --help)\n") and err.count("\n") == 1, err


def _help(monkeypatch: pytest.MonkeyPatch) -> str:
    """--help as one line: wide enough that argparse breaks no word at a hyphen."""
    monkeypatch.setenv("COLUMNS", "1000")
    return " ".join(build_parser().format_help().split())


def test_help_says_what_a_path_can_be(monkeypatch) -> None:
    shown = _help(monkeypatch)
    assert "PATH stack directory, or a file in it (docker-compose.yml, rancher-compose.yml, a Dockerfile, " \
           ".copier-answers.yml); a compose file of another name is merged over the docker-compose.yml beside " \
           "it; or Kubernetes manifests: a file, a folder of them, a rancher2 stack; - for standard input " \
           "(`helm template NAME CHART | spin-audit -`); default: . (unless --file is given)" in shown


def test_help_names_the_value_of_the_stack_option(monkeypatch) -> None:
    shown = _help(monkeypatch)
    assert "--stack NAME stack name for the naming rules" in shown


def test_module_entry_point_runs_in_a_subprocess(make_stack) -> None:
    stack = make_stack({"docker-compose.yml": BAD})
    proc = subprocess.run([sys.executable, "-m", "spin_audit", "--format", "json", str(stack)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1 and json.loads(proc.stdout)[0]["rule"] == "SPIN202"


SCRIPT = shutil.which("spin-audit", path=str(Path(sys.executable).parent)) or shutil.which("spin-audit")


@pytest.mark.skipif(SCRIPT is None, reason="spin-audit is not installed (pip install .)")
def test_installed_console_script(make_stack) -> None:
    proc = subprocess.run([str(SCRIPT), str(make_stack({"docker-compose.yml": BAD}))],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1 and "SPIN202" in proc.stdout


EVERYWHERE = {
    "docker-compose.yml": """\
        version: '2'
        services:
          web:
            image: nginx
            cap_drop: [ALL]
            cap_add:
              - SYS_ADMIN
            ports:
              - "80:8080"
          app:
            image: nginx:1.27
        """,
    "rancher-compose.yml": "version: '2'\nservices:\n  web:\n    scael: 2\n",
    "web/Dockerfile": "FROM python\nUSER 1000\n",
    ".copier-answers.yml": "stack_name: Bad_Name\n",
}
# The text a finding's line must hold from its column on, for the rules above.
COLUMN_HOLDS = {"SPIN402": "nginx", "SPIN202": "SYS_ADMIN", "SPIN501": '"80:8080"', "SPIN201": "app:",
                "SPIN102": "scael", "SPIN801": "FROM python", "SPIN702": "Bad_Name"}


def test_every_format_points_at_the_same_file_line_and_column(cli, make_stack) -> None:
    stack = make_stack(EVERYWHERE)
    text = cli("--fail-on", "info", cwd=stack).out.splitlines()[:-1:2]
    found = json.loads(cli("--format", "json", cwd=stack).out)
    sarif = json.loads(cli("--format", "sarif", cwd=stack).out)["runs"][0]["results"]
    in_json = [(f["path"], f["line"], f["column"], f["rule"]) for f in found]
    in_text = [(path, int(line), int(column), rest.split()[0])
               for path, line, column, rest in (entry.split(":", 3) for entry in text)]
    in_sarif = [(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
                 r["locations"][0]["physicalLocation"]["region"]["startLine"],
                 r["locations"][0]["physicalLocation"]["region"]["startColumn"], r["ruleId"]) for r in sarif]
    assert in_json == in_text == in_sarif
    assert set(COLUMN_HOLDS) <= {rule for *_, rule in in_json}
    for path, line, column, rule in in_json:
        written = (stack / path).read_text().splitlines()[line - 1]
        assert written[column - 1:].startswith(COLUMN_HOLDS.get(rule, "")), (rule, line, column, written)


@pytest.mark.parametrize("files, argument, rule", [
    ({}, "missing", "SPIN001"),
    ({"docker-compose.yml": "version: '2'\nservices: {{{\n"}, "", "SPIN001"),
    ({"docker-compose.yml": b"image: caf\xe9\n"}, "", "SPIN001"),
    ({"rancher-compose.yml": "version: '2'\n"}, "", "SPIN001"),  # a folder without docker-compose.yml
    ({"docker-compose.yml.tpl": "services:\n  web:\n    image: {{ .Values.IMAGE }}\n"}, "", "SPIN002"),
], ids=["missing", "broken-yaml", "not-utf8", "no-compose", "template"])
@pytest.mark.parametrize("fmt", ["json", "sarif"])
def test_unreadable_input_still_gives_a_document(cli, make_stack, files, argument, rule, fmt) -> None:
    stack = make_stack(files)
    result = cli("--format", fmt, stack / argument if argument else stack)
    assert result.code == 2
    assert result.err.startswith("spin-audit: error: ") and result.err.count("\n") == 1
    reason = result.err[len("spin-audit: error: "):].strip()
    document = json.loads(result.out)
    if fmt == "json":
        (finding,) = document
        assert (finding["rule"], finding["severity"]) == (rule, "error")
        assert finding["name"] in ("input-error", "input-template") and finding["line"] >= 1
        if argument == "missing":
            assert (finding["line"], finding["column"]) == (1, 1)  # no line known: the file's start
        assert reason.startswith(finding["path"] + ": ") and reason.endswith(finding["message"])
    else:
        run = document["runs"][0]
        (result_,) = run["results"]
        rules = run["tool"]["driver"]["rules"]
        assert result_["ruleId"] == rule and rules[result_["ruleIndex"]]["id"] == rule
        assert run["invocations"] == [{"executionSuccessful": False, "toolExecutionNotifications": [
            {"level": "error", "message": {"text": reason}}]}]


def test_a_clean_run_is_a_successful_sarif_invocation(cli, make_stack) -> None:
    log = json.loads(cli("--format", "sarif", make_stack({"docker-compose.yml": WARN_ONLY})).out)
    assert log["runs"][0]["invocations"] == [{"executionSuccessful": True}]


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_a_bug_still_ends_in_one_line_and_a_document(cli, make_stack, monkeypatch, fmt) -> None:
    from spin_audit import registry

    def broken(stack):
        raise KeyError("boom")

    rule = registry.get_rule("SPIN201")
    monkeypatch.setattr(rule, "check", broken)
    result = cli("--format", fmt, make_stack({"docker-compose.yml": BAD}))
    assert result.code == 2
    assert result.err.endswith("internal error: KeyError: 'boom' (please report this)\n")
    assert result.err.count("\n") == 1
    if fmt == "json":
        assert [f["rule"] for f in json.loads(result.out)] == ["SPIN001"]
    else:
        assert result.out == ""


def test_a_lone_dockerfile_is_audited_alone(cli, tmp_path: Path) -> None:
    (tmp_path / "tool" / "sub").mkdir(parents=True)
    (tmp_path / "tool" / "Dockerfile").write_text("FROM alpine:3.20\n")
    (tmp_path / "tool" / "Dockerfile.dev").write_text("FROM alpine\n")
    (tmp_path / "tool" / "sub" / "Dockerfile").write_text("FROM alpine\n")
    result = cli("--format", "json", "--fail-on", "info", tmp_path / "tool" / "Dockerfile")
    assert (result.code, json.loads(result.out)) == (0, [])


def test_a_file_named_twice_is_read_once(cli, make_stack) -> None:
    stack = make_stack({"docker-compose.yml": BAD})
    once = json.loads(cli("--format", "json", "--file", stack / "docker-compose.yml").out)
    compose = stack / "docker-compose.yml"
    twice = json.loads(cli("--format", "json", "-f", compose, "-f", compose).out)
    assert twice == once and [f["rule"] for f in once] == ["SPIN202"]


def test_paths_outside_the_working_directory_are_absolute(cli, make_stack, tmp_path: Path) -> None:
    stack = make_stack({"docker-compose.yml": BAD})
    (tmp_path / "elsewhere").mkdir()
    inside = json.loads(cli("--format", "json", stack, cwd=stack.parent).out)[0]["path"]
    outside = json.loads(cli("--format", "json", stack, cwd=tmp_path / "elsewhere").out)[0]["path"]
    assert inside == str(Path(stack.name) / "docker-compose.yml") and outside == str(stack / "docker-compose.yml")
