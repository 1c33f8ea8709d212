"""`spin-audit PATH` for Kubernetes input: manifests, folders, rancher2 stacks, beside compose stacks."""

from __future__ import annotations

import json
from pathlib import Path

from kubekit import CLEAN_DEPLOYMENT, CLEAN_INGRESS, CLEAN_SERVICE, line_of, variant

from stackkit import write_files

D = CLEAN_DEPLOYMENT
RW = variant(D, "readOnly: true", "readOnly: false")


def test_clean_manifest_exits_0_and_a_breach_exits_1(cli, tmp_path: Path) -> None:
    root = write_files(tmp_path, {"clean/web.yaml": D, "broken/web.yaml": variant(D, "privileged: false", "privileged: true")})
    assert cli(root / "clean").code == 0
    result = cli("--format", "json", root / "broken" / "web.yaml")
    assert result.code == 1 and result.err == ""
    [finding] = result.findings
    assert (finding["rule"], finding["line"]) == ("SPINK203", line_of(D, "privileged: false"))


def test_fail_on_and_access(cli, tmp_path: Path) -> None:
    stack = write_files(tmp_path / "stack", {"k8s/base/web.yaml": RW, "k8s/base/service.yaml": CLEAN_SERVICE,
                                             "k8s/base/ingress.yaml": CLEAN_INGRESS,
                                             ".copier-answers.yml": "platform: rancher2\n"})
    assert cli(stack).code == 0 and cli("--fail-on", "info", stack).code == 1  # SPINK305: access unknown
    assert cli("--fail-on", "info", "--access", "private", stack).code == 0
    result = cli("--format", "json", "--fail-on", "warning", "--access", "public", stack)
    assert result.code == 1 and result.rules == ["SPINK311"] and "(access from --access)" in result.findings[0]["message"]


def test_rancher2_stack_is_the_default_path(cli, tmp_path: Path) -> None:
    stack = write_files(tmp_path / "stack", {"k8s/base/web.yaml": variant(D, "drop: [ALL]", "drop: []")})
    result = cli("--format", "json", cwd=stack)
    assert result.code == 0 and result.rules == ["SPINK201"]  # a warning
    assert result.findings[0]["path"] == "k8s/base/web.yaml", "shown relative to the working directory"


def test_a_rancher2_stacks_answers_file_stands_for_the_stack(cli, tmp_path: Path) -> None:
    stack = write_files(tmp_path / "stack", {"k8s/base/web.yaml": variant(D, "drop: [ALL]", "drop: []"),
                                       ".copier-answers.yml": "platform: rancher2\n"})
    result = cli("--format", "json", stack / ".copier-answers.yml")
    assert result.code == 0 and result.rules == ["SPINK201"], result.err


def test_compose_stack_and_manifests_in_one_run(cli, tmp_path: Path) -> None:
    root = write_files(tmp_path, {"compose/docker-compose.yml": "version: '2'\nservices:\n  web:\n    image: nginx:1.27\n",
                            "spin/web.yaml": variant(D, "add: [NET_BIND_SERVICE]", "add: [SYS_ADMIN]")})
    result = cli("--format", "json", root / "compose", root / "spin")
    assert result.code == 1 and sorted(result.rules) == ["SPIN201", "SPINK202"]
    text = cli(root / "compose", root / "spin")
    assert text.out.splitlines()[-1] == "spin-audit: 2 findings (2 errors, 0 warnings, 0 info) in 2 stacks"
    sarif = json.loads(cli("--format", "sarif", root / "spin").out)
    assert [r["ruleId"] for r in sarif["runs"][0]["results"]] == ["SPINK202"]


def test_unreadable_paths_still_exit_2(cli, tmp_path: Path) -> None:
    result = cli(tmp_path / "missing.yaml")
    assert result.code == 2 and result.err.startswith("spin-audit: error: ") and "no such file" in result.err
    empty = write_files(tmp_path / "empty", {"notes.txt": "nothing\n"})
    assert cli(empty).code == 2, "a folder without a stack or a manifest"


def test_broken_manifest_is_a_finding_with_its_line(cli, tmp_path: Path) -> None:
    root = write_files(tmp_path, {"web.yaml": D + "  extra: [\n"})
    result = cli("--format", "json", root / "web.yaml")
    assert result.code == 1 and result.rules == ["SPINK101"] and result.findings[0]["line"] == D.count("\n") + 2
