"""A stack of 500 services is audited correctly (speed is measured by a benchmark, not here)."""

from __future__ import annotations

import json

ROLES = ("web", "app", "api", "db", "kv", "util")


def _stack(count: int, broken: int = -1) -> str:
    lines = ["version: '2'", "services:"]
    for i in range(count):
        name = f"{ROLES[i % len(ROLES)]}-s{i}"
        lines += [
            f"  {name}:",
            f"    image: registry.spin.nersc.gov/proj/img{i}:v1.0.{i}",
            '    user: "12345:6789"',
            "    cap_drop:",
            "      - ALL",
            "    ports:",
            f'      - "{60000 + i % 51}:8080"',
            "    volumes:",
            f"      - /global/cfs/cdirs/proj/s{i}:/data:ro",
            "    environment:",
            "      DB_PASSWORD_FILE: /run/secrets/pw",
            "    secrets:",
            "      - source: big.pw",
            "        target: pw",
            "        uid: '12345'",
            "        gid: '6789'",
            "        mode: '0400'",
        ]
        if i == broken:
            lines += ["    cap_add:", "      - SYS_ADMIN"]
    lines += ["secrets:", "  big.pw:", "    external: true"]
    return "\n".join(lines) + "\n"


def test_500_clean_services(cli, make_stack) -> None:
    result = cli("--format", "json", "--fail-on", "info", make_stack({"docker-compose.yml": _stack(500)}, "big"))
    assert result.code == 0 and json.loads(result.out) == []


def test_500_services_with_one_breach(cli, make_stack) -> None:
    stack = make_stack({"docker-compose.yml": _stack(500, broken=377)}, "big")
    result = cli("--format", "json", stack)
    findings = json.loads(result.out)
    assert result.code == 1
    assert sorted(f["rule"] for f in findings) == ["SPIN202", "SPIN302"]
    assert {f["service"] for f in findings} == {"util-s377"}
    first_line = 3 + 377 * 17  # each service above takes 17 lines
    assert all(f["line"] == first_line + 18 for f in findings)  # the SYS_ADMIN item


def test_findings_of_one_rule_are_capped_and_counted(cli, make_stack) -> None:
    from spin_audit.engine import MAX_FINDINGS_PER_RULE

    extra = MAX_FINDINGS_PER_RULE + 250
    caps = "".join(f"      - CAP{i}  # spin-audit: ignore[SPIN202] hostile\n" if i % 2 else f"      - CAP{i}\n"
                   for i in range(extra))
    compose = f"version: '2'\nservices:\n  web:\n    image: nginx:1.27\n    cap_drop: [ALL]\n    cap_add:\n{caps}"
    stack = make_stack({"docker-compose.yml": compose})
    findings = json.loads(cli("--format", "json", stack).out)
    assert {f["rule"] for f in findings} == {"SPIN202"}, "suppressions past the cap still count as used"
    listed = MAX_FINDINGS_PER_RULE // 2
    assert len(findings) == listed + 1 and not any("omitted" in f for f in findings[:-1])
    assert findings[-1]["omitted"] == extra // 2 - listed
    assert findings[-1]["message"] == f"{extra // 2 - listed} more SPIN202 findings in this stack are not listed " \
                                      f"(at most {MAX_FINDINGS_PER_RULE} per rule)"
    summary = cli(stack).out.splitlines()[-1]
    assert summary == (f"spin-audit: {extra // 2} findings ({extra // 2} errors, 0 warnings, 0 info) in 1 stack, "
                       f"{extra // 2 - listed} of them not listed; {extra // 2} suppressed")


def _breaches(count: int) -> str:
    caps = "".join(f"      - CAP{i}\n" for i in range(count))
    return f"version: '2'\nservices:\n  web:\n    image: nginx:1.27\n    cap_drop: [ALL]\n    cap_add:\n{caps}"


def test_3000_findings_are_counted_as_3000_in_every_format(cli, make_stack) -> None:
    stack = make_stack({"docker-compose.yml": _breaches(3000)})
    text = cli(stack)
    assert text.code == 1
    assert text.out.splitlines()[-1] == ("spin-audit: 3000 findings (3000 errors, 0 warnings, 0 info) in 1 stack, "
                                         "2000 of them not listed")
    assert text.out.count(": SPIN202 [error] ") == 1001
    findings = json.loads(cli("--format", "json", stack).out)
    assert sum(f.get("omitted", 1) for f in findings) == 3000
    results = json.loads(cli("--format", "sarif", stack).out)["runs"][0]["results"]
    assert sum(r.get("properties", {}).get("omitted", 1) for r in results) == 3000


def test_a_breach_just_under_the_cap_is_listed_in_full(cli, make_stack) -> None:
    from spin_audit.engine import MAX_FINDINGS_PER_RULE

    findings = json.loads(cli("--format", "json", make_stack({"docker-compose.yml": _breaches(
        MAX_FINDINGS_PER_RULE)})).out)
    assert len(findings) == MAX_FINDINGS_PER_RULE and not any("omitted" in f for f in findings)
