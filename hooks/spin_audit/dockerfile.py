"""A small Dockerfile reader: instructions with line numbers, and build stages.

Only what the rules need: each stage's base image (with ARG defaults substituted) and
the USER it ends with. It follows Docker's syntax for the escape directive, line
continuations, comments inside continuations, heredocs, lowercase keywords,
`FROM --platform=... image AS name`, and ARG before the first FROM.
"""

from __future__ import annotations

import re

from spin_audit.loader import SourceFile

_DIRECTIVE = re.compile(r"^#\s*([a-zA-Z][a-zA-Z0-9_-]*)\s*=\s*(.*?)\s*$")
_HEREDOC = re.compile(r"<<(-?)\s*([\"']?)([A-Za-z_][A-Za-z0-9_]*)\2")
_VAR = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?::([-+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))")


class Instruction:
    __slots__ = ("keyword", "args", "line")

    def __init__(self, keyword: str, args: str, line: int):
        self.keyword = keyword  # upper case
        self.args = args
        self.line = line  # first line of the instruction, 1-based


class Stage:
    """One FROM ... up to the next FROM."""

    __slots__ = ("image", "line", "name", "parent", "user", "user_line", "user_known", "variables")

    def __init__(self, image: str | None, line: int, name: str | None, parent: Stage | None):
        self.image = image  # None when a build argument leaves it unknown
        self.line = line
        self.name = name
        self.parent = parent  # the earlier stage this one builds on, if any
        self.user: str | None = None  # None: no USER in this stage
        self.user_line = 0
        self.user_known = True  # False when USER uses an argument without a value
        self.variables: dict[str, str | None] = {}

    def final_user(self) -> "tuple[str | None, int, bool]":
        """The USER in effect at the end of this stage: value, line, known."""
        stage: Stage | None = self
        while stage is not None:
            if stage.user is not None or not stage.user_known:
                return stage.user, stage.user_line, stage.user_known
            stage = stage.parent
        return None, 0, True


class Dockerfile:
    __slots__ = ("source", "instructions", "stages")

    def __init__(self, source: SourceFile, instructions: list[Instruction], stages: list[Stage]):
        self.source = source
        self.instructions = instructions
        self.stages = stages

    @property
    def final(self) -> Stage | None:
        return self.stages[-1] if self.stages else None


def _logical_lines(lines: list[str]) -> list[Instruction]:
    escape = "\\"
    start = 0
    while start < len(lines):  # parser directives come first, if at all
        match = _DIRECTIVE.match(lines[start].strip())
        if not match:
            break
        if match.group(1).lower() == "escape" and match.group(2) in ("`", "\\"):
            escape = match.group(2)
        start += 1

    result: list[Instruction] = []
    parts: list[str] = []
    first = 0
    heredocs: list[tuple] = []
    for number in range(start, len(lines)):
        raw = lines[number]
        if heredocs:  # body of a heredoc: not instructions
            strip_tabs, word = heredocs[0]
            if (raw.lstrip("\t") if strip_tabs else raw) == word:
                heredocs.pop(0)
            continue
        stripped = raw.strip()
        if not parts and (not stripped or stripped.startswith("#")):
            continue
        if parts and (not stripped or stripped.startswith("#")):
            continue  # comments and blank lines inside a continuation are dropped
        if not parts:
            first = number + 1
        text = raw.rstrip()
        if text.endswith(escape):
            parts.append(text[: -len(escape)])
            continue
        parts.append(text)
        joined = " ".join(p.strip() for p in parts if p.strip())
        parts = []
        keyword, _, args = joined.partition(" ")
        instruction = Instruction(keyword.upper(), args.strip(), first)
        result.append(instruction)
        heredocs = [(dash == "-", word) for dash, _, word in _HEREDOC.findall(args)] if "<<" in args else []
    if parts:
        joined = " ".join(p.strip() for p in parts if p.strip())
        keyword, _, args = joined.partition(" ")
        result.append(Instruction(keyword.upper(), args.strip(), first))
    return result


def substitute(text: str, variables: dict[str, str | None]) -> str | None:
    """Expand $VAR, ${VAR}, ${VAR:-word}, ${VAR:+word}; None if a value is unknown."""
    unknown = False

    def repl(match: "re.Match[str]") -> str:
        nonlocal unknown
        name = match.group(1) or match.group(4)
        value = variables.get(name)
        op, word = match.group(2), match.group(3)
        if op == "-":
            return value if value else word
        if op == "+":
            return word if value else ""
        if value is None:
            unknown = True
            return ""
        return value

    result = _VAR.sub(repl, text)
    return None if unknown else result


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def _assignments(args: str) -> dict[str, str | None]:
    """`ARG A=1 B` or `ENV A=1 B=2` or the legacy `ENV A 1`."""
    tokens = args.split()
    if tokens and "=" not in tokens[0] and len(tokens) > 1:
        return {tokens[0]: _unquote(args.split(None, 1)[1].strip())}
    found: dict[str, str | None] = {}
    for token in tokens:
        name, eq, value = token.partition("=")
        found[name] = _unquote(value) if eq else None
    return found


def parse_dockerfile(source: SourceFile) -> Dockerfile:
    instructions = _logical_lines(source.lines)
    global_args: dict[str, str | None] = {}
    stages: list[Stage] = []
    for ins in instructions:
        if ins.keyword == "FROM":
            tokens = [t for t in ins.args.split() if not t.startswith("--")]
            written = tokens[0] if tokens else ""
            name = tokens[2] if len(tokens) >= 3 and tokens[1].lower() == "as" else None
            image = substitute(written, global_args)
            parent = None
            if image:
                parent = next((s for s in reversed(stages) if s.name and s.name.lower() == image.lower()), None)
            stages.append(Stage(image, ins.line, name, parent))
        elif ins.keyword == "ARG":
            values = _assignments(ins.args)
            if not stages:
                global_args.update(values)
            else:
                for key, value in values.items():
                    stages[-1].variables[key] = value if value is not None else global_args.get(key)
        elif ins.keyword == "ENV" and stages:
            stages[-1].variables.update(_assignments(ins.args))
        elif ins.keyword == "USER" and stages:
            stage = stages[-1]
            value = substitute(ins.args.strip(), stage.variables)
            stage.user, stage.user_line, stage.user_known = value, ins.line, value is not None
    return Dockerfile(source, instructions, stages)
