"""Readers of a rendered stack's files, each through a real parser: PyYAML for the YAML files,
Python's ast for the starter app, GNU make's own dry run (`make -n`) for the Makefile, and small
readers for what those do not cover: nginx.conf (directives and blocks, as nginx tokenises them),
Dockerfiles (instructions with their continuation lines) and Markdown's code (fenced blocks,
tables and code spans). The cross-file tests (test_invariants.py) compare what they return."""

import ast
import re
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path

import yaml

from stack_checks import load_yaml


def answers(stack):
    return load_yaml(Path(stack) / ".copier-answers.yml")


def on_k8s(stack):
    return (Path(stack) / "k8s").is_dir()


# ---------------------------------------------------------------------------------------------
# make

def make_dry_run(stack, *targets, **variables):
    """The command lines `make -n TARGETS` prints (make expands every variable); fails on make's errors."""
    result = subprocess.run(["make", "-n", *targets, *(f"{k}={v}" for k, v in variables.items())],
                            cwd=stack, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    return [line for line in result.stdout.splitlines() if line.strip() and not re.match(r"make(\[\d+\])?: ", line)]


def make_help(stack):
    """`make help`: {target: its text}."""
    result = subprocess.run(["make", "help"], cwd=stack, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return dict(re.fullmatch(r"\s*(\S+)\s+(.*)", line).groups() for line in result.stdout.splitlines() if line.strip())


def commands(lines):
    """Each simple command of shell lines, as its words: pipelines and `||`/`&&`/`;` lists split,
    lines that end in a backslash joined to the next."""
    found = []
    for line in "\n".join(lines).replace("\\\n", " ").splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|")
        lexer.whitespace_split = True
        words = []
        for word in lexer:
            if word in ("|", "||", "&&", ";", "&"):
                found.append(words)
                words = []
            else:
                words.append(word)
        found.append(words)
    return [words for words in found if words]


def option(words, name):
    """The value of `--name VALUE` or `--name=VALUE` among a command's words, or None."""
    for at, word in enumerate(words):
        if word == name and at + 1 < len(words):
            return words[at + 1]
        if word.startswith(name + "="):
            return word[len(name) + 1:]
    return None


# ---------------------------------------------------------------------------------------------
# nginx.conf

@dataclass
class Directive:
    name: str
    args: list
    block: list = None

    def all(self, name):
        return [each for each in self.block or [] if each.name == name]

    def one(self, name):
        (found,) = self.all(name)
        return found


NGINX_TOKEN = re.compile(r"""(?P<space>\s+)|(?P<comment>\#[^\n]*)|"(?P<dq>(?:[^"\\]|\\.)*)"|'(?P<sq>(?:[^'\\]|\\.)*)'"""
                         r"""|(?P<punct>[{};])|(?P<word>[^\s{};"']+)""")


def nginx_conf(path):
    """nginx.conf as a tree of Directives (the file's top level is the block of a Directive named '')."""
    text = Path(path).read_text()
    tokens, at = [], 0
    while at < len(text):
        match = NGINX_TOKEN.match(text, at)
        assert match, f"{path}: cannot read from {text[at:at + 30]!r}"
        at = match.end()
        if match.lastgroup in ("dq", "sq"):
            tokens.append(("word", match.group(match.lastgroup)))
        elif match.lastgroup in ("punct", "word"):
            tokens.append((match.lastgroup, match.group()))
    stack = [Directive("", [], [])]
    words = []
    for kind, token in tokens:
        if kind == "word":
            words.append(token)
        elif token == ";":
            stack[-1].block.append(Directive(words[0], words[1:]))
            words = []
        elif token == "{":
            directive = Directive(words[0], words[1:], [])
            stack[-1].block.append(directive)
            stack.append(directive)
            words = []
        else:
            assert not words and len(stack) > 1, f"{path}: unbalanced '}}'"
            stack.pop()
    assert len(stack) == 1 and not words, f"{path}: unclosed block"
    return stack[0]


def nginx_location(server, path):
    """The location block nginx chooses for a request of `path`: an exact (`=`) match, else the
    longest prefix. The rendered files have no regular-expression locations; one would fail here."""
    exact, prefixes = None, []
    for location in server.all("location"):
        assert location.args[0] not in ("~", "~*", "^~"), "regex locations are not read here"
        if location.args[0] == "=":
            exact = location if location.args[1] == path else exact
        elif path.startswith(location.args[0]):
            prefixes.append(location)
    return exact or max(prefixes, key=lambda location: len(location.args[0]), default=None)


# ---------------------------------------------------------------------------------------------
# Dockerfile

def dockerfile(path):
    """The instructions of a Dockerfile: [(INSTRUCTION, arguments)], continuation lines joined,
    comments left out."""
    instructions, pending = [], ""
    for line in Path(path).read_text().splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        full = pending + line
        pending = ""
        keyword, _, rest = full.strip().partition(" ")
        instructions.append((keyword.upper(), rest.strip()))
    return instructions


def dockerfile_env(instructions):
    """ENV's variables (KEY=VALUE form) and EXPOSE's ports, and the last USER."""
    env, exposed, user = {}, [], None
    for keyword, rest in instructions:
        if keyword == "ENV":
            env.update(word.split("=", 1) for word in shlex.split(rest))
        elif keyword == "EXPOSE":
            exposed += [int(word.split("/")[0]) for word in rest.split()]
        elif keyword == "USER":
            user = rest
    return env, exposed, user


# ---------------------------------------------------------------------------------------------
# Markdown

def code_blocks(text):
    """The fenced code blocks of a Markdown text, each as its lines (the fence's indent removed)."""
    blocks, current, indent = [], None, 0
    for line in text.splitlines():
        stripped = line.lstrip()
        if stripped.startswith("```"):
            if current is None:
                current, indent = [], len(line) - len(stripped)
            else:
                blocks.append(current)
                current = None
        elif current is not None:
            current.append(line[indent:] if line[:indent].strip() == "" else line)
    assert current is None, "unclosed code block"
    return blocks


def prose(text):
    """A Markdown text without its fenced code blocks."""
    return re.sub(r"^[ \t]*```.*?^[ \t]*```[^\n]*$", "", text, flags=re.S | re.M)


def code_spans(text):
    """The `code spans` of a Markdown text's prose."""
    return re.findall(r"`([^`\n]+)`", prose(text))


def tables(text):
    """The pipe tables of a Markdown text: {header cells: [rows of cells]}, cells without their `code` marks."""
    found, header, rows = {}, None, None
    for line in prose(text).splitlines() + [""]:
        stripped = line.strip()
        if stripped.startswith("|") and stripped.endswith("|"):
            cells = [cell.strip().strip("`") for cell in stripped[1:-1].split("|")]
            if header is None:
                header, rows = tuple(cells), []
            elif not set("".join(cells)) <= set("-: "):
                rows.append(cells)
        elif header is not None:
            found[header] = rows
            header = None
    return found


# ---------------------------------------------------------------------------------------------
# The starter app

def compared_to_request_path(path):
    """The strings the starter app compares its request's path with (`self.path == ...`), names
    resolved through the module's constants."""
    tree = ast.parse(Path(path).read_text())
    constants = {target.id: node.value.value for node in tree.body if isinstance(node, ast.Assign)
                 for target in node.targets if isinstance(target, ast.Name) and isinstance(node.value, ast.Constant)}
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare) and isinstance(node.left, ast.Attribute) and node.left.attr == "path":
            for other in node.comparators:
                if isinstance(other, ast.Constant):
                    found.add(other.value)
                elif isinstance(other, ast.Name):
                    found.add(constants[other.id])
    return found


# ---------------------------------------------------------------------------------------------
# CI

def ci_jobs(stack):
    """{job: its shell lines} of the stack's CI file (GitLab's scripts, GitHub's `run` steps), or {}."""
    stack = Path(stack)
    if (stack / ".gitlab-ci.yml").is_file():
        config = load_yaml(stack / ".gitlab-ci.yml")
        return {name: list(job["script"]) for name, job in config.items() if isinstance(job, dict) and "script" in job}
    if (stack / ".github" / "workflows" / "spin.yml").is_file():
        config = load_yaml(stack / ".github" / "workflows" / "spin.yml")
        return {name: [line for step in job["steps"] if "run" in step for line in step["run"].splitlines()]
                for name, job in config["jobs"].items()}
    return {}


# ---------------------------------------------------------------------------------------------
# Kubernetes

def k8s_documents(stack, folder):
    """The objects of the YAML files k8s/<folder>/ lists in its kustomization.yaml (besides ../base)."""
    root = Path(stack) / "k8s" / folder
    kustomization = load_yaml(root / "kustomization.yaml")
    docs = [kustomization]
    for resource in kustomization["resources"]:
        if not resource.startswith(".."):
            docs += [doc for doc in yaml.safe_load_all((root / resource).read_text()) if doc]
    return docs


def pod_spec(obj):
    if obj["kind"] == "Deployment":
        return obj["spec"]["template"]["spec"]
    if obj["kind"] == "CronJob":
        return obj["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return None
