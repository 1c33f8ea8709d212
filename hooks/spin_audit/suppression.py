"""Inline suppressions: `# spin-audit: ignore[SPIN201] reason`.

A trailing comment applies to its own line; a comment on a line of its own applies to
the next line that is not blank or a comment. In Dockerfiles only whole-line comments
exist, so there it always applies to the next instruction line.
"""

from __future__ import annotations

import re

from spin_audit.loader import SourceFile

_COMMENT = re.compile(r"(?:^|\s)#\s*spin-audit:\s*ignore\[([^\]]*)\](.*)$", re.IGNORECASE)


class Suppression:
    __slots__ = ("path", "line", "target_line", "rules", "reason", "used")

    def __init__(self, path: str, line: int, target_line: int | None, rules: tuple[str, ...], reason: str):
        self.path = path  # as displayed
        self.line = line  # where the comment is
        self.target_line = target_line  # the line it applies to
        self.rules = rules
        self.reason = reason
        self.used = False


def _next_code_line(lines: list[str], index: int) -> int | None:
    for later in range(index + 1, len(lines)):
        stripped = lines[later].strip()
        if stripped and not stripped.startswith("#"):
            return later + 1
    return None


def find_suppressions(source: SourceFile, yaml_comments: bool) -> list[Suppression]:
    found = []
    for index, line in enumerate(source.lines):
        if "spin-audit" not in line:
            continue
        match = _COMMENT.search(line)
        if not match:
            continue
        before = line[: match.start()].strip()
        if before and not yaml_comments:
            continue  # a Dockerfile has no trailing comments: this is an argument
        rules = tuple(part.strip().upper() for part in match.group(1).split(",") if part.strip())
        reason = match.group(2).strip().lstrip("-:—").strip()
        target = index + 1 if before else _next_code_line(source.lines, index)
        found.append(Suppression(source.display, index + 1, target, rules, reason))
    return found
