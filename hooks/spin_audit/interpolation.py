"""Rancher's `${VAR}` interpolation, as far as an audit can know it.

`rancher up` replaces `$VAR`, `${VAR}`, `${VAR:-default}` and `${VAR-default}` with the
environment of the machine it runs on, and `$$` with `$`. The audit does not know that
environment, so a value is judged by what is certain: its literal text, and the default
where one is written. A variable without a default leaves its part of the value unknown.
"""

from __future__ import annotations

import re

_VARIABLE = re.compile(r"\$(?:(\$)|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))")

# Stands for a value only `rancher up` knows. It is a valid registry host label, image path
# component and tag, so that an image reference keeps its shape around it.
UNKNOWN = "spinauditunknownvalue"


def expand(text: str, unknown: str | None = None) -> str | None:
    """The value `rancher up` would see when every variable takes its default.

    A variable without a default makes the result None, or is replaced by `unknown`
    when that is given (for callers that can judge the literal parts around it)."""
    if "$" not in text:
        return text
    missing = False

    def value(match: re.Match) -> str:
        nonlocal missing
        if match.group(1):
            return "$"
        operator, default = match.group(3), match.group(4)
        if operator in (":-", "-"):
            return default
        missing = True
        return unknown or ""

    result = _VARIABLE.sub(value, text)
    return None if missing and unknown is None else result


def split_outside_variables(text: str, separator: str) -> list[str]:
    """Split at `separator`, except inside `${...}` (whose default may hold one)."""
    parts, current, depth, index = [], "", 0, 0
    while index < len(text):
        char = text[index]
        if text.startswith("${", index):
            depth += 1
            current += "${"
            index += 2
            continue
        if char == "}" and depth:
            depth -= 1
        elif char == separator and not depth:
            parts.append(current)
            current = ""
            index += 1
            continue
        current += char
        index += 1
    parts.append(current)
    return parts
