"""Mutation testing of the template and spin-audit: change one thing at random, run the tests
that cover it, and see whether they notice.

    .venv/bin/python bench/mutate.py --seed 1 --count 60 [--jobs 1] [--areas template,audit]
        [--timeout 1800] [--all-tests | --related-only | --tests tests/test_k8s.py ...] [--only 3,17]
        [--json report.json] [--list]

What is mutated (comments, docstrings, `help` texts and `_`-prefixed JSON notes are prose and left
alone):
- area `template`: copier.yml (its values as YAML, its Jinja strings as Jinja), includes/*.jinja,
  template/**/*.jinja (their Jinja and the literal text around it), includes/*.json and
  hooks/spin_audit/spin_facts.json (read by the validators too), includes/main.py (the starter app);
- area `audit`: hooks/spin_audit/**/*.py.
The examples are answer files the tests feed in, not the product, and are not mutated.

Operators: `==`/`!=`, `<`/`<=`, `>`/`>=`, `and`/`or`, `in`/`not in`, `is`/`is not`, `+`/`-`
(`operators`); a number one up or one down, also a number inside a string such as a pattern's
`{0,61}` (`numbers`); a string changed (`strings`); true/false swapped (`booleans`); a condition
negated, made true or made false, `if` and `elif` tags, inline ifs and Python's if/elif/while/
ternaries (`conditions`); a line dropped (Jinja, YAML, JSON; a JSON comma is mended so the file
still parses) or a Python statement replaced by `pass` (`drops`). Sites are enumerated over every
file of an area and drawn uniformly, the count split evenly between the areas. A mutant that does
not parse (Jinja, YAML, JSON, Python) is invalid: not counted, another is drawn.

Each mutant is written into a scratch copy of the working tree (the files git would ship, in a
temporary directory, one per job; the real tree is never written), with PYTHONPATH pointing at
the copy's hooks/ so the tests and every `spin-audit` they start import the mutated package. The
copy has no ../shared beside it and the image tests are left out, as on a plain clone in CI.
Its tests run as `python -m pytest -x -q -p no:cacheprovider -m "not images"
--hypothesis-seed=SEED` on a subset chosen per file (TEMPLATE_CORE and RELATED below), the
related files first so that a caught mutant stops early (-x):
- a template file: the test files that look at it (validators and copier.yml: test_validators,
  the terminal sessions, the updates and the answer-space properties; k8s: test_k8s; the
  pre-commit config: test_stack_pre_commit; ...), then the core that every rendered file shows
  up in (examples, rendering, schema, roles, README, Makefile, engines, nginx, k8s, the recipes
  page and the recipe parity tests). The slowest files (test_validators alone takes minutes)
  run only for the files they look at;
- a spin-audit module: the audit tests named after it, then every audit test but the two that
  pip-install the hook with pre-commit.
`--all-tests` runs every test file of the area instead (to confirm a survivor), `--related-only`
runs a template mutant against its related files alone where it has any (not the core: faster on
a busy machine, its score a lower bound; audit mutants still run every audit test), `--tests` the
given files. Before any mutant, the unmutated copy must pass all the files the sample will run
(a baseline; `--no-baseline` skips it). A mutant is `caught` (the tests fail), `survived`, or
`timeout` (killed after `--timeout` seconds; counted as not caught). The score is
caught / (caught + survived + timeout).

The machine is shared: one job by default, `--jobs N` runs N mutants at once (each pytest also
starts renders and linters of its own). `--seed` and `--count` draw the same sample again,
`--list` prints it without running anything.
"""

import argparse
import ast
import io
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import tokenize
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import jinja2
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from stackkit import git, project_files  # noqa: E402  (the tests' own list of shipped files)

AREAS = ("template", "audit")


@dataclass(frozen=True)
class Mutant:
    """One change of one file: text[start:end] (== original) becomes replacement."""
    path: str
    line: int
    operator: str
    start: int
    end: int
    original: str
    replacement: str

    def apply(self, text):
        assert text[self.start:self.end] == self.original, (self, text[self.start:self.end])
        return text[:self.start] + self.replacement + text[self.end:]

    def describe(self):
        return f"{self.path}:{self.line}: {self.operator}: {self.original.strip()!r} -> {self.replacement.strip()!r}"


def line_of(text, offset):
    return text.count("\n", 0, offset) + 1


# ---------------------------------------------------------------------------------------------
# Sites: where each operator applies, as (operator, start, end, replacement) over a file's text.

SWAPS = {"==": "!=", "!=": "==", "<": "<=", "<=": "<", ">": ">=", ">=": ">", "+": "-", "-": "+",
         "and": "or", "or": "and"}
BOOLEANS = {"true": "false", "false": "true", "True": "False", "False": "True"}
DIGITS = re.compile(r"(?<![A-Za-z0-9_.])[0-9]+(?![A-Za-z0-9_])")


def number_sites(text, start, end):
    """Each whole number in text[start:end], one up and one down."""
    for match in DIGITS.finditer(text, start, end):
        digits = match.group()
        for changed in sorted({int(digits) + 1, int(digits) - 1} - {-1}):
            yield "numbers", match.start(), match.end(), str(changed).zfill(len(digits) if digits[0] == "0" else 0)


def string_site(text, start, end, opening=1):
    """A string literal (its opening quote `opening` characters long) whose content gets an 'x'
    in front: 'web' -> 'xweb', '' -> 'x'."""
    return "strings", start, end, text[start:start + opening] + "x" + text[start + opening:end]


JINJA_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
  | (?P<number>[0-9]+(?:\.[0-9]+)?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>==|!=|<=|>=|//|\*\*|[-+*/%<>~|=()\[\]{}.,:])
""", re.X)
BLOCK_END = {"{{": re.compile(r"-?}}"), "{%": re.compile(r"[-+]?%}")}
RAW_END = re.compile(r"{%[-+]?\s*endraw\s*[-+]?%}")


def jinja_blocks(text):
    """(kind, start, end, tokens) of each part of a Jinja text: 'data' for literal text, 'code'
    for the body of a {{ }} or {% %} (tokens: (type, value, start, end)), 'comment' for {# #}."""
    position = 0
    starts = re.compile(r"{{|{%|{#")
    while position < len(text):
        found = starts.search(text, position)
        if not found:
            yield "data", position, len(text), []
            return
        if found.start() > position:
            yield "data", position, found.start(), []
        opener = found.group()
        if opener == "{#":
            close = text.find("#}", found.end())
            position = len(text) if close < 0 else close + 2
            yield "comment", found.start(), position, []
            continue
        cursor = found.end() + (1 if text[found.end():found.end() + 1] in ("-", "+") else 0)
        tokens, depth = [], 0
        while cursor < len(text):
            if depth == 0 and BLOCK_END[opener].match(text, cursor):
                break
            token = JINJA_TOKEN.match(text, cursor)
            if not token:
                raise ValueError(f"cannot read Jinja at offset {cursor}")
            kind = token.lastgroup
            if kind != "ws":
                tokens.append((kind, token.group(), token.start(), token.end()))
                if kind == "op" and token.group() in "([{":
                    depth += 1
                elif kind == "op" and token.group() in ")]}":
                    depth -= 1
            cursor = token.end()
        yield "code", found.end(), cursor, tokens
        position = BLOCK_END[opener].match(text, cursor).end() if cursor < len(text) else len(text)
        if opener == "{%" and [value for _, value, _, _ in tokens] == ["raw"]:
            close = RAW_END.search(text, position)
            end = close.start() if close else len(text)
            yield "data", position, end, []
            position = end


def condition_end(tokens, index, block_end):
    """Where the condition that follows tokens[index] (an `if`) ends: at its `else`, at the
    bracket that closes around it, or at the end of the block."""
    depth = 0
    for kind, value, start, _ in tokens[index + 1:]:
        if kind == "op" and value in "([{":
            depth += 1
        elif kind == "op" and value in ")]}":
            if depth == 0:
                return start
            depth -= 1
        elif depth == 0 and kind == "name" and value in ("else", "if") or depth == 0 and value == ",":
            return start
    return block_end


def condition_sites(text, start, end, true, false):
    """Negated, always true, always false."""
    condition = text[start:end].rstrip()
    end = start + len(condition)
    yield "conditions", start, end, f"not ({condition})"
    yield "conditions", start, end, true
    yield "conditions", start, end, false


def jinja_code_sites(text, tokens, block_end):
    for index, (kind, value, start, end) in enumerate(tokens):
        following = tokens[index + 1] if index + 1 < len(tokens) else None
        previous = tokens[index - 1] if index else None
        if kind == "op" and value in SWAPS:
            yield "operators", start, end, SWAPS[value]
        elif kind == "name" and value in ("and", "or"):
            yield "operators", start, end, SWAPS[value]
        elif kind == "name" and value == "in" and not (previous and previous[1] == "not"):
            if tokens[0][1] != "for" or any(t[1] == "in" for t in tokens[:index]):
                yield "operators", start, end, "not in"
        elif kind == "name" and value == "not" and following and following[1] == "in":
            yield "operators", start, following[3], "in"
        elif kind == "name" and value == "is":
            if following and following[1] == "not":
                yield "operators", start, following[3], "is"
            else:
                yield "operators", start, end, "is not"
        elif kind == "name" and value in BOOLEANS:
            yield "booleans", start, end, BOOLEANS[value]
        elif kind == "number" and "." not in value:
            yield from number_sites(text, start, end)
        elif kind == "string":
            yield string_site(text, start, end)
            yield from number_sites(text, start + 1, end - 1)
        elif kind == "name" and value in ("if", "elif") and following:
            yield from condition_sites(text, following[2], condition_end(tokens, index, block_end), "true", "false")


def is_prose_line(line):
    return line.lstrip().startswith("#")


def data_sites(text, start, end, skip_lines=frozenset()):
    """Numbers and true/false in the literal text of a template (comments left out: a line that
    starts with #, the rest of a line after ' #')."""
    for match in re.finditer(r"[^\n]*", text[start:end]):
        line_start = start + match.start()
        if is_prose_line(match.group()) or line_of(text, line_start) in skip_lines:
            continue
        code = match.group().split(" #")[0]
        yield from number_sites(text, line_start, line_start + len(code))
        for word in re.finditer(r"\b(?:true|false)\b", code):
            yield "booleans", line_start + word.start(), line_start + word.end(), BOOLEANS[word.group()]


def line_spans(text):
    """(start, end) of each line, its newline included."""
    position = 0
    for line in text.splitlines(keepends=True):
        yield position, position + len(line)
        position += len(line)


def drop_line_sites(text, skip_lines=frozenset(), comments=()):
    """Each line that holds something besides whitespace, # comments and the (start, end) spans
    of `comments`, dropped."""
    for number, (start, end) in enumerate(line_spans(text), 1):
        kept = [index for index in range(start, end) if not text[index].isspace()
                and not any(first <= index < last for first, last in comments)]
        if kept and number not in skip_lines and not is_prose_line(text[start:end]):
            yield "drops", start, end, ""


def jinja_sites(text, skip_lines=frozenset()):
    comments = []
    for kind, start, end, tokens in jinja_blocks(text):
        if kind == "data":
            yield from data_sites(text, start, end, skip_lines)
        elif kind == "comment":
            comments.append((start, end))
        elif line_of(text, start) not in skip_lines:
            yield from jinja_code_sites(text, tokens, end)
    yield from drop_line_sites(text, skip_lines, comments)


def block_scalar_lines(text, key="help"):
    """Line numbers of the `key:` block scalars of a YAML file (prose, not mutated)."""
    lines = text.splitlines()
    skipped = set()
    for number, line in enumerate(lines, 1):
        found = re.match(rf"(\s*){key}:\s*[|>]", line)
        if found:
            skipped.add(number)
            indent = len(found.group(1))
            for later in range(number, len(lines)):
                body = lines[later]
                if body.strip() and len(body) - len(body.lstrip()) <= indent:
                    break
                skipped.add(later + 1)
    return frozenset(skipped)


def yaml_sites(text):
    """copier.yml: plain scalar values changed, lines dropped, and its Jinja as Jinja."""
    prose = block_scalar_lines(text)
    yield from jinja_sites(text, prose)
    for number, (start, end) in enumerate(line_spans(text), 1):
        value = re.match(r"\s*(?:- |[A-Za-z_][A-Za-z0-9_]*: )([A-Za-z][A-Za-z0-9_.-]*)\s*$", text[start:end])
        if value and number not in prose and value.group(1) not in BOOLEANS and value.group(1) not in ("null",):
            yield string_site(text, start + value.start(1), start + value.end(1), 0)


def json_sites(text):
    """Values of a JSON file (not keys, not `_`-prefixed notes): strings changed, numbers in and
    out of strings one up or down, true/false swapped; lines dropped (see json_drop_sites)."""
    token = re.compile(r'"(?:[^"\\]|\\.)*"|-?[0-9]+|true|false|null|[{}\[\]:,]|\s+')
    tokens = [match for match in token.finditer(text)]
    key = None
    for index, match in enumerate(tokens):
        value = match.group()
        after = next((t.group() for t in tokens[index + 1:] if not t.group().isspace()), "")
        if value.startswith('"') and after == ":":
            key = value[1:-1]
            continue
        if key is not None and key.startswith("_"):
            continue
        if value.startswith('"'):
            yield string_site(text, match.start(), match.end())
            yield from number_sites(text, match.start() + 1, match.end() - 1)
        elif value.lstrip("-").isdigit():
            yield from number_sites(text, match.start(), match.end())
        elif value in BOOLEANS:
            yield "booleans", match.start(), match.end(), BOOLEANS[value]
    yield from json_drop_sites(text)


def json_drop_sites(text):
    """A line dropped; when it was the last of its object or list, the comma before it goes too."""
    spans = list(line_spans(text))
    for index, (start, end) in enumerate(spans):
        line = text[start:end].strip()
        if not line or line in "{}[]" or re.match(r'"_', line):
            continue
        following = next((text[s:e].strip() for s, e in spans[index + 1:] if text[s:e].strip()), "")
        if following[:1] in "}]" and not line.endswith(",") and index > 0:
            previous_start, previous_end = spans[index - 1]
            previous = text[previous_start:previous_end].rstrip()
            if previous.endswith(","):
                yield "drops", previous_start + len(previous) - 1, end, "\n"
                continue
        yield "drops", start, end, ""


# Simple statements (an import dropped only fails every import of the module: not a test of tests).
DROPPED_STATEMENTS = (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Expr, ast.Return, ast.Raise, ast.Assert,
                      ast.Delete, ast.Continue, ast.Break)


def python_sites(text):
    """Operators, numbers, strings and booleans from Python's tokens; conditions and dropped
    statements from its syntax tree. Docstrings and comments are left alone."""
    lines = text.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))

    def offset(row, column):
        """A token's (row, column in characters) as an offset into text."""
        return offsets[row - 1] + column

    def node_offset(row, column):
        """A syntax node's (row, column in UTF-8 bytes) as an offset into text."""
        return offsets[row - 1] + len(lines[row - 1].encode()[:column].decode())

    tree = ast.parse(text)
    docstrings = {(node.body[0].value.lineno, node.body[0].value.col_offset)
                  for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                  and node.body and isinstance(node.body[0], ast.Expr)
                  and isinstance(node.body[0].value, ast.Constant) and isinstance(node.body[0].value.value, str)}
    tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    depth, loops = 0, []  # bracket depth; the depths of the `for`s whose `in` is still to come
    for index, token in enumerate(tokens):
        start, end = offset(*token.start), offset(*token.end)
        following = tokens[index + 1] if index + 1 < len(tokens) else None
        previous = tokens[index - 1] if index else None
        if token.type == tokenize.OP and token.string in "([{":
            depth += 1
        elif token.type == tokenize.OP and token.string in ")]}":
            depth -= 1
        elif token.type == tokenize.NAME and token.string == "for":
            loops.append(depth)
        elif token.type == tokenize.NAME and token.string == "in" and loops and loops[-1] == depth:
            loops.pop()  # the `in` of a for loop or comprehension: `not in` would not parse
            continue
        if token.type == tokenize.OP and token.string in SWAPS:
            yield "operators", start, end, SWAPS[token.string]
        elif token.type == tokenize.NAME and token.string in ("and", "or"):
            yield "operators", start, end, SWAPS[token.string]
        elif token.type == tokenize.NAME and token.string == "in" and previous.string != "not":
            yield "operators", start, end, "not in"
        elif token.type == tokenize.NAME and token.string == "not" and following.string == "in":
            yield "operators", start, offset(*following.end), "in"
        elif token.type == tokenize.NAME and token.string == "is":
            if following.string == "not":
                yield "operators", start, offset(*following.end), "is"
            else:
                yield "operators", start, end, "is not"
        elif token.type == tokenize.NAME and token.string in BOOLEANS:
            yield "booleans", start, end, BOOLEANS[token.string]
        elif token.type == tokenize.NUMBER and token.string.isdigit():
            yield from number_sites(text, start, end)
        elif token.type == tokenize.STRING and token.start not in docstrings:
            prefix = re.match(r"[A-Za-z]*", token.string).group()
            quote = 3 if token.string[len(prefix):len(prefix) + 3] in ('"""', "'''") else 1
            yield string_site(text, start, end, len(prefix) + quote)
            yield from number_sites(text, start + len(prefix) + quote, end - quote)
    for node in ast.walk(tree):
        tests = []
        if isinstance(node, (ast.If, ast.While, ast.IfExp)):
            tests.append(node.test)
        elif isinstance(node, ast.comprehension):
            tests.extend(node.ifs)
        for test in tests:
            start, end = node_offset(test.lineno, test.col_offset), node_offset(test.end_lineno, test.end_col_offset)
            yield from condition_sites(text, start, end, "True", "False")
        if isinstance(node, DROPPED_STATEMENTS) and (node.lineno, node.col_offset) not in docstrings:
            start, end = node_offset(node.lineno, node.col_offset), node_offset(node.end_lineno, node.end_col_offset)
            yield "drops", start, end, "pass"


# ---------------------------------------------------------------------------------------------
# Files, languages, validity.

def language(path):
    if path == "copier.yml":
        return "yaml"
    return {".jinja": "jinja", ".json": "json", ".py": "python"}.get(Path(path).suffix)


def area_files(root, area):
    """The files of an area (module docstring), relative to root, sorted."""
    names = []
    for name in project_files_of(root):
        if area == "template" and (
                name == "copier.yml" or name == "hooks/spin_audit/spin_facts.json" or name == "includes/main.py"
                or name.startswith(("includes/", "template/")) and name.endswith((".jinja", ".json"))):
            names.append(name)
        if area == "audit" and name.startswith("hooks/spin_audit/") and name.endswith(".py"):
            names.append(name)
    return sorted(names)


def project_files_of(root):
    if Path(root).resolve() == ROOT:
        return project_files()
    listed = git(root, "ls-files", "--cached", "--others", "--exclude-standard", "-z")
    return [name for name in listed.split("\0") if name and (Path(root) / name).is_file()]


SITE_FINDERS = {"jinja": jinja_sites, "yaml": yaml_sites, "json": json_sites, "python": python_sites}


def mutants_of(path, text):
    """Every mutant the operators make of one file (not yet checked to parse)."""
    found = []
    for operator, start, end, replacement in SITE_FINDERS[language(path)](text):
        if text[start:end] != replacement:
            found.append(Mutant(path, line_of(text, start), operator, start, end, text[start:end], replacement))
    return found


JINJA = jinja2.Environment(keep_trailing_newline=True)


def jinja_strings(value):
    if isinstance(value, str):
        if "{{" in value or "{%" in value:
            yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from jinja_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from jinja_strings(item)


def parses(path, text):
    """Whether the mutated text still parses in its language (else the mutant is invalid)."""
    try:
        kind = language(path)
        if kind == "jinja":
            JINJA.parse(text)
        elif kind == "yaml":
            for value in jinja_strings(yaml.safe_load(text)):
                JINJA.parse(value)
        elif kind == "json":
            json.loads(text)
        elif kind == "python":
            compile(text, path, "exec")
        return True
    except (jinja2.TemplateSyntaxError, yaml.YAMLError, ValueError, SyntaxError):
        return False


def draw(root, areas, count, seed):
    """`count` valid mutants, split evenly between `areas`, each area's drawn uniformly from all of
    its mutants with a generator of its own (seeded with seed and the area's name, so that an edit
    of one area leaves the other's sample alone), invalid ones skipped: the same arguments and
    files, the same list."""
    sample = []
    for index, area in enumerate(areas):
        rng = random.Random(f"{seed}:{area}")
        wanted = count // len(areas) + (1 if index < count % len(areas) else 0)
        texts = {name: (Path(root) / name).read_text() for name in area_files(root, area)}
        candidates = [mutant for name, text in texts.items() for mutant in mutants_of(name, text)]
        rng.shuffle(candidates)
        taken = 0
        for mutant in candidates:
            if taken == wanted:
                break
            if parses(mutant.path, mutant.apply(texts[mutant.path])):
                sample.append((area, mutant))
                taken += 1
    return sample


# ---------------------------------------------------------------------------------------------
# Tests per file, scratch copies, runs.

# Measured one by one on the shared 2-core machine (seconds, busy): test_validators 411, test_properties
# 288, test_recipe_parity 179, test_stack_pre_commit 179, test_update_platform 104, test_list_answers 88,
# test_k8s 85, test_terminal 67, test_docs_recipes 63, test_update 50, test_examples 39, test_interactive
# 26, test_makefile 25, test_rendering 24, tests/audit altogether about 250. Every template mutant runs
# the core (about 4 minutes busy), the slow files only where they look at the mutated file.
TEMPLATE_CORE = [  # what every rendered file shows up in; fast and broad first (-x stops at a failure)
    "tests/test_examples.py", "tests/test_rendering.py", "tests/test_schema.py", "tests/test_roles.py",
    "tests/test_readme.py", "tests/test_makefile.py", "tests/test_engine_capabilities.py",
    "tests/test_web_nginx.py", "tests/test_k8s.py", "tests/test_invariants.py", "tests/test_rendered_text.py",
    "tests/test_docs_recipes.py",
    "tests/test_recipe_parity.py",
]
RELATED = {"template": [  # (pattern of a mutated file's path, the test files that look at it most closely)
    (r"validator|answer-rules|copier\.yml", ["tests/test_boundaries.py"]),  # every limit on both sides
    (r"validator|answer-rules|messages|copier\.yml|spin_facts|list-answers",
     ["tests/test_validators.py", "tests/test_terminal.py", "tests/test_interactive.py"]),
    (r"list-answers|validator", ["tests/test_list_answers.py"]),  # the refusals of the short list forms
    (r"copier\.yml|answers_file|validator", ["tests/test_update.py", "tests/test_update_platform.py"]),
    (r"k8s", ["tests/test_k8s.py", "tests/audit/test_kube_rendered.py"]),
    (r"[Mm]akefile|make-checks", ["tests/test_makefile.py"]),
    (r"README|readme", ["tests/test_readme.py", "tests/test_docs_recipes.py"]),
    (r"readme-move|template-updates|messages|[Mm]akefile|make-checks|README|gitlab|github|copier\.yml",
     ["tests/test_lifecycle.py"]),  # check-update and the move from Rancher 1.6
    (r"nginx|index\.html", ["tests/test_web_nginx.py"]),
    (r"engines|util-job|dockerfiles", ["tests/test_engine_capabilities.py", "tests/test_recipe_parity.py"]),
    (r"compose|stack\.jinja|yaml\.jinja", ["tests/test_rendering.py", "tests/test_schema.py"]),
    (r"pre-commit|hook-repo|make-checks|readme-checks", ["tests/test_stack_pre_commit.py"]),
    (r"stack\.jinja|validator|answer-rules|copier\.yml|spin_facts", ["tests/test_properties.py"]),
    (r"spin_facts", ["tests/audit/test_audit_rules.py", "tests/audit/test_kube_rules.py"]),
], "audit": [  # besides the audit tests named after the mutated module
    (r"kube", ["tests/audit/test_kube_.*"]),
    (r"spin_audit/rules/", ["tests/audit/test_audit_rules.py"]),
    (r"report|cli", ["tests/audit/test_audit_cli.py", "tests/audit/test_kube_formats.py"]),
]}


def area_tests(root, area):
    """Every test file of an area: for the template the tests/test_*.py that render it (not the
    image tests, not the benchmark's) and the audit tests of rendered stacks; for the audit
    tests/audit/ but the pre-commit installs (they test the hook's manifest, not the package)."""
    names = [name for name in project_files_of(root) if re.fullmatch(r"tests/(audit/)?test_.*\.py", name)]
    if area == "audit":
        return sorted(name for name in names if name.startswith("tests/audit/") and "pre_commit" not in name)
    return sorted(name for name in names if not re.search(r"test_(images|bench|mutation)", name)
                  and (not name.startswith("tests/audit/") or "rendered" in name))


def tests_for(root, mutant_path, area, every=False, related_only=False):
    """The test files a mutant of mutant_path runs against, the related ones first: for the template
    the related ones and the core, for the audit every audit test; `every`: the area's every test;
    `related_only`: for the template the related ones alone (the core when none is related); the
    audit's tests are fast and its modules' names say little of which tests cover them: all run."""
    pool = area_tests(root, area)
    every_test = sorted(set(area_tests(root, "template") + area_tests(root, "audit")))
    stem = Path(mutant_path).stem
    related = [name for name in pool if area == "audit" and stem in Path(name).stem]
    related += [name for pattern, tests in RELATED[area] if re.search(pattern, mutant_path)
                for test in tests for name in every_test if re.fullmatch(test, name)]
    rest = pool if every or area == "audit" else [name for name in TEMPLATE_CORE if name in pool]
    if related_only and related and area == "template" and not every:
        rest = []
    return list(dict.fromkeys(related + rest))


def scratch_copy(dest):
    """The files git would ship, copied into dest and made a git repository (the tests list
    the tree's files with git)."""
    for name in project_files():
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
    git(dest, "init", "-q")
    return dest


def pytest_command(tests, hypothesis_seed):
    return [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-m", "not images",
            f"--hypothesis-seed={hypothesis_seed}", *tests]


RUNNING = set()  # the process groups of the pytest runs under way, killed when the harness is stopped
STOPPING = []  # not empty once the harness is stopped: start no more mutants


def kill(process):
    """The pytest run and everything it started (renders, linters, servers)."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def run_tests(tree, tests, hypothesis_seed, timeout):
    """'passed', 'failed' or 'timeout' of the tests in tree; the whole process group is killed on
    timeout."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tree / "hooks"), os.environ.get("PYTHONPATH", "")]))
    process = subprocess.Popen(pytest_command(tests, hypothesis_seed), cwd=tree, env=env, start_new_session=True,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    RUNNING.add(process)
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill(process)
        process.communicate()
        return "timeout", ""
    finally:
        RUNNING.discard(process)
    return ("passed" if process.returncode == 0 else "failed"), output


def stop(*_):
    """Ctrl-C or SIGTERM: kill the runs under way, start no more, report what was done."""
    STOPPING.append(True)
    for process in list(RUNNING):
        kill(process)


def run_mutant(tree, area, mutant, tests, hypothesis_seed, timeout):
    """Write the mutant into the scratch tree, run its tests, put the file back."""
    path = tree / mutant.path
    original = path.read_text()
    path.write_text(mutant.apply(original))
    started = time.monotonic()
    try:
        outcome, output = run_tests(tree, tests, hypothesis_seed, timeout)
    finally:
        path.write_text(original)
        for cached in (path.parent / "__pycache__").glob(f"{path.stem}.*.pyc"):
            cached.unlink()
    status = {"failed": "caught", "passed": "survived", "timeout": "timeout"}[outcome]
    failed = re.findall(r"^FAILED (\S+)", output, re.M) or re.findall(r"^ERROR (\S+)", output, re.M)
    return {"area": area, **asdict(mutant), "status": status, "seconds": round(time.monotonic() - started, 1),
            "caught_by": failed[:1]}


# ---------------------------------------------------------------------------------------------

def score(results):
    counted = [r for r in results if r["status"] in ("caught", "survived", "timeout")]
    caught = sum(r["status"] == "caught" for r in counted)
    return caught, len(counted)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=None, help="seed of the sample (default: a random one, printed)")
    parser.add_argument("--count", type=int, default=60, help="mutants to draw (default 60)")
    parser.add_argument("--areas", default=",".join(AREAS), help="template, audit or both (default)")
    parser.add_argument("--jobs", type=int, default=1, help="mutants run at once (default 1: the machine is shared)")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per mutant before it is killed")
    parser.add_argument("--tests", nargs="+", help="run these test files for every mutant instead of the subset")
    parser.add_argument("--all-tests", action="store_true", help="run every test file of the mutant's area")
    parser.add_argument("--related-only", action="store_true", help="template mutants: run only the test files "
                        "related to the mutated file, not the core (faster, a lower bound of the score)")
    parser.add_argument("--only", help="run only these mutants of the sample, by number: 3,17 (e.g. to re-check "
                                       "survivors with --all-tests)")
    parser.add_argument("--json", type=Path, help="write the report (every mutant and its status) here")
    parser.add_argument("--list", action="store_true", help="print the sample and stop")
    parser.add_argument("--no-baseline", action="store_true", help="do not first check that the unmutated tree passes")
    options = parser.parse_args(argv)
    seed = random.randrange(2**32) if options.seed is None else options.seed
    areas = [area for area in options.areas.split(",") if area]
    if set(areas) - set(AREAS):
        parser.error(f"--areas: {', '.join(AREAS)}")
    replay = f"{sys.executable} bench/mutate.py --seed {seed} --count {options.count} --areas {','.join(areas)}"
    replay += " --all-tests" * options.all_tests + " --related-only" * options.related_only
    replay += f" --only {options.only}" if options.only else ""
    if options.tests:
        replay += " --tests " + " ".join(options.tests)
    print(f"sample: {replay}", flush=True)
    sample = list(enumerate(draw(ROOT, areas, options.count, seed), 1))
    if options.only:
        chosen = {int(number) for number in options.only.split(",")}
        sample = [(number, drawn) for number, drawn in sample if number in chosen]
    if options.list:
        for number, (area, mutant) in sample:
            print(f"{number:3} [{area}] {mutant.describe()}")
        return 0

    work = Path(tempfile.mkdtemp(prefix="spin-mutate-"))
    jobs = max(1, options.jobs)
    trees = [scratch_copy(work / f"tree{index}") for index in range(jobs)]
    plans = [(number, area, mutant,
              options.tests or tests_for(trees[0], mutant.path, area, options.all_tests, options.related_only))
             for number, (area, mutant) in sample]
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        if not options.no_baseline:
            union = sorted({test for *_, tests in plans for test in tests})
            outcome, output = run_tests(trees[0], union, seed, options.timeout * 2)
            if STOPPING:
                return 1
            if outcome != "passed":
                print(f"baseline: the unmutated tree does not pass {' '.join(union)}:\n{output[-4000:]}")
                return 2
            print(f"baseline: the unmutated tree passes {' '.join(union)}", flush=True)
        results = []
        free = list(trees)

        def run(plan):
            number, area, mutant, tests = plan
            if STOPPING:
                return
            tree = free.pop()
            try:
                result = run_mutant(tree, area, mutant, tests, seed, options.timeout)
            finally:
                free.append(tree)
            if STOPPING:  # its tests were killed, not failed
                return
            results.append(dict(result, number=number))
            print(f"{number:3}/{options.count} {result['status']:8} {result['seconds']:5.0f}s  [{area}] "
                  f"{mutant.describe()}  {' '.join(result['caught_by'])}", flush=True)

        with ThreadPoolExecutor(jobs) as pool:
            list(pool.map(run, plans))
        if STOPPING:
            print(f"stopped: {len(results)} of {len(plans)} mutants run", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    results.sort(key=lambda result: result["number"])

    caught, counted = score(results)
    print(f"\nscore: {caught} of {counted} caught ({100 * caught / max(counted, 1):.0f}%)")
    for area in areas:
        area_caught, area_counted = score([r for r in results if r["area"] == area])
        print(f"  {area}: {area_caught} of {area_counted}")
    missed = [r for r in results if r["status"] != "caught"]
    if missed:
        print("not caught:")
        for r in missed:
            print(f"  {r['number']:3} {r['status']:8} {r['path']}:{r['line']}: {r['operator']}: "
                  f"{r['original'].strip()!r} -> {r['replacement'].strip()!r}")
    print(f"replay: {replay}")
    if options.json:
        options.json.write_text(json.dumps({"seed": seed, "count": options.count, "areas": areas, "replay": replay,
                                            "caught": caught, "counted": counted, "mutants": results}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
