"""Inline suppressions: `# spin-audit: ignore[SPIN201] reason`.

A trailing comment applies to its own line; a comment on a line of its own applies to
the next line that is not blank or a comment. In Dockerfiles only whole-line comments
exist, so there it always applies to the next instruction line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import List, Optional, Tuple

from spin_audit.loader import SourceFile

_COMMENT = re.compile(r"(?:^|\s)#\s*spin-audit:\s*ignore\[([^\]]*)\](.*)$", re.IGNORECASE)


@dataclass
class Suppression:
    path: str  # as displayed
    line: int  # where the comment is
    target_line: Optional[int]  # the line it applies to
    rules: Tuple[str, ...]
    reason: str
    used: bool = False


def _next_code_line(lines: List[str], index: int) -> Optional[int]:
    for later in range(index + 1, len(lines)):
        stripped = lines[later].strip()
        if stripped and not stripped.startswith("#"):
            return later + 1
    return None


def find_suppressions(source: SourceFile, yaml_comments: bool) -> List[Suppression]:
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
