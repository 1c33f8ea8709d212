"""Inline suppression comments, and CI's --no-suppress."""

from __future__ import annotations

import json

STACK = """\
version: '2'
services:
  web:
    image: nginx:1.27
    cap_drop: [ALL]
    cap_add:
      - SYS_ADMIN{comment}
"""


def _stack(make_stack, comment: str = "", above: str = ""):
    text = STACK.format(comment=comment)
    if above:
        text = text.replace("      - SYS_ADMIN", f"      {above}\n      - SYS_ADMIN")
    return make_stack({"docker-compose.yml": text})


def test_trailing_comment_suppresses_its_line(cli, make_stack) -> None:
    stack = _stack(make_stack, "  # spin-audit: ignore[SPIN202] FUSE mount approved by ISG, ticket 1234")
    result = cli(stack)
    assert result.code == 0
    assert "SPIN202" not in result.out
    assert result.out.strip().endswith("no findings in 1 stack; 1 suppressed")
    assert json.loads(cli("--format", "json", stack).out) == []


def test_comment_on_the_line_above_suppresses_the_next_line(cli, make_stack) -> None:
    stack = _stack(make_stack, above="# spin-audit: ignore[spin202, SPIN302] - approved by ISG")
    assert cli(stack).code == 0


def test_suppression_is_for_one_rule_only(cli, make_stack) -> None:
    stack = _stack(make_stack, "  # spin-audit: ignore[SPIN201] wrong rule")
    result = cli("--format", "json", stack)
    assert result.code == 1
    assert sorted(f["rule"] for f in json.loads(result.out)) == ["SPIN202", "SPIN903"]


def test_an_unused_suppression_names_its_rules_on_its_line(cli, make_stack) -> None:
    stack = _stack(make_stack, "  # spin-audit: ignore[SPIN201, SPIN302] not needed any more")
    findings = json.loads(cli("--format", "json", stack).out)
    unused = [(f["line"], f["message"]) for f in findings if f["rule"] == "SPIN903"]
    assert unused == [(7, "suppression of SPIN201, SPIN302 matches no finding")]


def test_suppression_without_reason_is_not_honoured(cli, make_stack) -> None:
    result = cli("--format", "json", _stack(make_stack, "  # spin-audit: ignore[SPIN202]"))
    assert result.code == 1
    assert sorted(f["rule"] for f in json.loads(result.out)) == ["SPIN202", "SPIN901"]


def test_unknown_rule_in_suppression(cli, make_stack) -> None:
    result = cli("--format", "json", _stack(make_stack, "  # spin-audit: ignore[SPIN999] typo"))
    assert "SPIN902" in [f["rule"] for f in json.loads(result.out)]


def test_no_suppress_reports_every_suppression(cli, make_stack) -> None:
    stack = _stack(make_stack, "  # spin-audit: ignore[SPIN202] approved")
    result = cli("--format", "json", "--no-suppress", stack)
    assert result.code == 1
    findings = json.loads(result.out)
    assert sorted(f["rule"] for f in findings) == ["SPIN202", "SPIN904"]
    refused = next(f for f in findings if f["rule"] == "SPIN904")
    assert refused["line"] == 7 and refused["severity"] == "error"


def test_sarif_keeps_suppressed_results_with_their_justification(cli, make_stack) -> None:
    stack = _stack(make_stack, "  # spin-audit: ignore[SPIN202] approved by ISG")
    log = json.loads(cli("--format", "sarif", stack).out)
    [result] = log["runs"][0]["results"]
    assert result["ruleId"] == "SPIN202"
    assert result["suppressions"] == [{"kind": "inSource", "justification": "approved by ISG"}]


def test_dockerfile_suppression_applies_to_the_next_instruction(cli, make_stack) -> None:
    stack = make_stack({
        "docker-compose.yml": "version: '2'\nservices:\n  web:\n    image: nginx:1.27\n    cap_drop: [ALL]\n",
        "web/Dockerfile": "# spin-audit: ignore[SPIN801] rebuilt nightly on purpose\nFROM alpine\n",
    })
    assert cli("--fail-on", "info", stack).code == 0


def test_comment_text_inside_a_value_is_not_a_suppression(cli, make_stack) -> None:
    stack = _stack(make_stack)
    text = (stack / "docker-compose.yml").read_text().replace(
        "    image: nginx:1.27", "    image: nginx:1.27\n    labels:\n      note: 'a#spin-audit: ignore[SPIN202] x'")
    (stack / "docker-compose.yml").write_text(text)
    assert cli(stack).code == 1


def test_a_dockerfile_argument_that_looks_like_a_comment_suppresses_nothing(cli, make_stack) -> None:
    stack = make_stack({"docker-compose.yml": STACK.format(comment=""),
                        "web/Dockerfile": "FROM alpine\nRUN echo x  # spin-audit: ignore[SPIN801] not a comment\n"})
    findings = json.loads(cli("--format", "json", "--fail-on", "info", stack).out)
    assert "SPIN801" in [f["rule"] for f in findings] and "SPIN903" not in [f["rule"] for f in findings]


def test_a_trailing_comment_suppresses_a_kubernetes_finding(cli, tmp_path) -> None:
    from kubekit import CLEAN_DEPLOYMENT, variant
    from stackkit import write_files

    broken = variant(CLEAN_DEPLOYMENT, "privileged: false", "privileged: true")
    root = write_files(tmp_path, {"bad/web.yaml": broken,
                            "ok/web.yaml": variant(broken, "privileged: true",
                                                   "privileged: true  # spin-audit: ignore[SPINK203] a test")})
    assert [f["rule"] for f in json.loads(cli("--format", "json", root / "bad").out)] == ["SPINK203"]
    result = cli("--format", "json", root / "ok")
    assert (result.code, json.loads(result.out)) == (0, [])
