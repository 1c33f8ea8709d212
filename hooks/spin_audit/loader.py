"""Read stack files safely: bounded size, strict UTF-8, and YAML with line numbers.

Everything here raises InputError with a one-line reason; the CLI turns it into exit 2.
The YAML loader keeps every scalar's raw text, style and resolved tag, because several
rules are about what YAML 1.1 did to a value (`user: 1000:50` becomes 60050), and it
refuses what a linter should not try to digest: alias bombs, cycles, deep nesting,
several documents, unknown tags, and templates (`{{ }}`) that are not YAML yet. A key
written twice is not refused: it is recorded (YamlFile.duplicates), the later value is
kept as PyYAML keeps it, and the rules judge the rest of the file.
"""

from __future__ import annotations

import os
import re
import stat
import sys
from collections.abc import Iterator, Sequence

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.parser import Parser
from yaml.reader import Reader, ReaderError
from yaml.resolver import Resolver
from yaml.scanner import Scanner

from spin_audit.registry import Location

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing at start-up
if TYPE_CHECKING:
    from typing import Any

MAX_FILE_BYTES = 1024 * 1024
STDIN = "-"  # the PATH that stands for standard input
STDIN_DISPLAY = "<stdin>"  # how findings name it
MAX_DEPTH = 64
MAX_ALIASES = 10_000
MAX_NODES = 100_000

MERGE_TAG = "tag:yaml.org,2002:merge"
STR_TAG = "tag:yaml.org,2002:str"
MAP_TAG = "tag:yaml.org,2002:map"
NULL_TAG = "tag:yaml.org,2002:null"
SEQ_TAG = "tag:yaml.org,2002:seq"


class InputError(Exception):
    """A file that cannot be read or parsed; str() is the one-line reason.

    `line` and `column` (1-based) say where in the file, when that is known."""

    def __init__(self, path: str, reason: str, line: int = 0, column: int = 0):
        where = f"line {line}, column {column}: " if line and column else f"line {line}: " if line else ""
        super().__init__(f"{path}: {where}{reason}")
        self.path = path
        self.reason = reason
        self.line = line
        self.column = column


class RefusedError(InputError):
    """Input beyond the audit's limits (aliases, nodes, depth): refused whole, never read in parts."""


class TemplateError(InputError):
    """A template of a stack file or manifest, which the audit cannot judge before it is rendered."""


RENDER_THEN_AUDIT = "render it, then audit the result"


def template_reason(what: str, how: str = RENDER_THEN_AUDIT) -> str:
    """The one wording of every template spin-audit declines: what it is, and how to audit what it renders."""
    return f"{what}, not audited: {how}"


# A template's action: `{{ .Values.x }}`, `{{appname}}`, `{%- if x %}`. Where it stands before any quote or
# comment on its line, it is where YAML would have a key or a value: the file is a template (a quoted
# "{{.Names}}" is a string that some tool formats later). Compiled (by re's cache) only when a file does not
# parse or a key holds `{{`: compiling costs start-up time.
TEMPLATE_ACTION = r"\{\{.*?\}\}|\{%.*?%\}"
TEMPLATE_SYNTAX = rf"^[^'\"#\n]*?({TEMPLATE_ACTION})"
# A Go template action, as in a Rancher catalog's docker-compose.yml.tpl or a Helm chart: {{ .Values.X }}, {{- if }}.
GO_ACTION = r"\{\{-?\s*(?:\.|\$|/\*|(?:if|else|end|range|with|define|template|block|include)\b)"


class SourceFile:
    """A text file of the stack: its path as shown to the user, and its lines."""

    __slots__ = ("path", "display", "text", "lines")

    def __init__(self, path: str, display: str, text: str):
        self.path = path  # absolute
        self.display = display  # relative to the working directory when below it
        self.text = text
        self.lines = text.splitlines()


def first_existing(directory: str, names: Sequence[str]) -> str | None:
    """The first of `names` that is a file in `directory`."""
    for name in names:
        candidate = os.path.join(directory, name)
        if os.path.isfile(candidate):
            return candidate
    return None


def display_path(path: str) -> str:
    """Show paths below the working directory relative to it, others absolute."""
    rel = os.path.relpath(path)
    return path if rel == ".." or rel.startswith(".." + os.sep) else rel


# Absolute path -> the text `--fix` would write there: read in place of the file while fixes are checked
# (fixer.py fills it; empty on every other run).
PENDING: dict[str, str] = {}


def read_text(path: str) -> SourceFile:
    """Read a regular file of at most MAX_FILE_BYTES as strict UTF-8 text (or the text a fix would write)."""
    shown = display_path(path)
    if PENDING and os.path.abspath(path) in PENDING:
        return SourceFile(path, shown, PENDING[os.path.abspath(path)])
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            raise InputError(shown, "not a regular file")
        if info.st_size > MAX_FILE_BYTES:
            raise InputError(shown, f"file too large ({info.st_size} bytes, limit {MAX_FILE_BYTES})")
        with open(path, "rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except InputError:
        raise
    except OSError as exc:
        raise InputError(shown, exc.strerror or str(exc)) from None
    return SourceFile(path, shown, _text(data, shown))


def read_stdin() -> SourceFile:
    """Standard input (the PATH `-`, as `helm template ... | spin-audit -`), with the limits of a file."""
    try:
        data = sys.stdin.buffer.read(MAX_FILE_BYTES + 1)
    except (OSError, AttributeError, ValueError) as exc:  # closed, or not a byte stream
        raise InputError(STDIN_DISPLAY, f"cannot read standard input ({exc})") from None
    return SourceFile(STDIN_DISPLAY, STDIN_DISPLAY, _text(data, STDIN_DISPLAY))


def _text(data: bytes, shown: str) -> str:
    """Bytes of at most MAX_FILE_BYTES, without NUL, as strict UTF-8 (a BOM dropped)."""
    if len(data) > MAX_FILE_BYTES:
        raise InputError(shown, f"file too large (limit {MAX_FILE_BYTES} bytes)")
    nul = data.find(b"\x00")
    if nul >= 0:
        raise InputError(shown, f"binary file (NUL byte at offset {nul})")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(shown, f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})") from None


class YNode:
    """One YAML value where it was written.

    `value` is a dict (key -> YNode) for a mapping, a list of YNode for a sequence, or
    the Python value PyYAML's safe loader gives a scalar. `path` is the file as shown to
    the user; lines and columns are 1-based; `key_line`/`key_col` locate the key this
    value belongs to (or the value itself). Every node knows its own file, so a value
    merged from several compose files still points at the file each part came from.
    """

    __slots__ = ("value", "path", "line", "col", "key_line", "key_col", "tag", "style", "raw")

    def __init__(self, value: Any, path: str, node: Node, key: Node | None):
        self.value = value
        self.path = path
        self.line = node.start_mark.line + 1
        self.col = node.start_mark.column + 1
        anchor = key if key is not None else node
        self.key_line = anchor.start_mark.line + 1
        self.key_col = anchor.start_mark.column + 1
        self.tag = node.tag
        self.style = getattr(node, "style", None) or None  # libyaml says "" for plain
        self.raw = node.value if isinstance(node, ScalarNode) else None

    def derived(self, value: Any, raw: str | None = None) -> "YNode":
        """A value computed from this one (a merge of several files, a `K=V` pair): written here."""
        node = YNode.__new__(YNode)
        for name in YNode.__slots__:
            setattr(node, name, getattr(self, name))
        node.value = value
        node.raw = raw
        node.style = "derived" if raw is None else None
        return node

    def at(self, key: bool = False) -> Location:
        """Where the value (or, with `key`, its key) was written."""
        if key:
            return Location(self.path, self.key_line, self.key_col)
        return Location(self.path, self.line, self.col)

    @property
    def is_map(self) -> bool:
        return isinstance(self.value, dict)

    @property
    def is_seq(self) -> bool:
        return isinstance(self.value, list)

    @property
    def is_scalar(self) -> bool:
        return not isinstance(self.value, (dict, list))

    @property
    def is_plain(self) -> bool:
        """An unquoted scalar: the kind YAML 1.1 may turn into a number, bool or date."""
        return self.is_scalar and self.style is None and self.raw is not None

    def get(self, key: Any) -> "YNode" | None:
        return self.value.get(key) if isinstance(self.value, dict) else None

    def items(self) -> Iterator[tuple[Any, "YNode"]]:
        return iter(self.value.items()) if isinstance(self.value, dict) else iter(())

    def seq(self) -> list["YNode"]:
        return self.value if isinstance(self.value, list) else []

    def text(self) -> str | None:
        """The scalar as a string (None for collections and null)."""
        if not self.is_scalar or self.value is None:
            return None
        return self.value if isinstance(self.value, str) else str(self.raw if self.raw is not None else self.value)

    def plain(self) -> Any:
        """The value as plain Python data, without positions."""
        if isinstance(self.value, dict):
            return {k: v.plain() for k, v in self.value.items()}
        if isinstance(self.value, list):
            return [v.plain() for v in self.value]
        return self.value


class Duplicate:
    """A key written a second time in one mapping: where, which key, and where it was first."""

    __slots__ = ("location", "key", "first_line")

    def __init__(self, location: Location, key: str, first_line: int):
        self.location = location
        self.key = key
        self.first_line = first_line

    @property
    def message(self) -> str:
        return f"duplicate key {self.key!r} (first at line {self.first_line})"


class YamlFile:
    """A YAML file: its text, its top-level mapping with every value's file and line, and the keys
    written twice in it."""

    __slots__ = ("source", "root", "duplicates")

    def __init__(self, source: SourceFile, root: YNode, duplicates: list[Duplicate] | None = None):
        self.source = source
        self.root = root
        self.duplicates = duplicates or []


class YamlStream:
    """Every document of a YAML stream (None for an empty one), the keys written twice in them, and why the
    documents that could not be read were not (when read document by document)."""

    __slots__ = ("documents", "duplicates", "errors")

    def __init__(self, documents: list[YNode | None], duplicates: list[Duplicate],
                 errors: list[InputError] | None = None):
        self.documents = documents
        self.duplicates = duplicates
        self.errors = errors or []


class _Limit(Exception):
    pass


class _BoundedComposer(Composer):
    """PyYAML's composer with limits on depth, aliases and nodes, over some event parser."""

    def __init__(self, text: str):
        self._events_init(text)
        Composer.__init__(self)
        Resolver.__init__(self)
        self._depth = 0
        self._aliases = 0
        self._nodes = 0

    def _events_init(self, text: str) -> None:
        raise NotImplementedError

    def compose_node(self, parent, index):  # PyYAML hook
        if self.check_event(AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                raise _Limit(f"more than {MAX_ALIASES} aliases")
        self._nodes += 1
        if self._nodes > MAX_NODES:
            raise _Limit(f"more than {MAX_NODES} YAML nodes")
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise _Limit(f"nested deeper than {MAX_DEPTH} levels")
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


class PythonLoader(_BoundedComposer, Reader, Scanner, Parser, Resolver):
    """Pure-Python events: used when PyYAML was built without libyaml."""

    def _events_init(self, text: str) -> None:
        Reader.__init__(self, text)
        Scanner.__init__(self)
        Parser.__init__(self)


try:
    from yaml._yaml import CParser

    class LibyamlLoader(_BoundedComposer, CParser, Resolver):
        """libyaml's fast event parser, composed in Python so that the limits hold."""

        def _events_init(self, text: str) -> None:
            CParser.__init__(self, text)

    DEFAULT_LOADER: type = LibyamlLoader
except ImportError:  # PyYAML built without libyaml
    DEFAULT_LOADER = PythonLoader


_CONSTRUCTOR = SafeConstructor()


class _Builder:
    """Turn composed nodes into YNodes, expanding aliases and `<<` merges within bounds."""

    def __init__(self, shown: str):
        self.shown = shown
        self.count = 0
        self.duplicates: list[Duplicate] = []

    def fail(self, node: Node, reason: str) -> InputError:
        return InputError(self.shown, reason, node.start_mark.line + 1)

    def build(self, node: Node, key: Node | None = None, depth: int = 0) -> YNode:
        self.count += 1
        if self.count > MAX_NODES:
            raise RefusedError(self.shown, f"aliases expand to more than {MAX_NODES} YAML nodes")
        if depth > MAX_DEPTH:
            raise RefusedError(self.shown, f"nested deeper than {MAX_DEPTH} levels (or a recursive alias)",
                               node.start_mark.line + 1)
        if isinstance(node, MappingNode):
            if node.tag != MAP_TAG:
                raise self.fail(node, f"unsupported YAML tag {node.tag!r}")
            return YNode(self.mapping(node, depth), self.shown, node, key)
        if isinstance(node, SequenceNode):
            if node.tag != SEQ_TAG:
                raise self.fail(node, f"unsupported YAML tag {node.tag!r}")
            return YNode([self.build(item, None, depth + 1) for item in node.value], self.shown, node, key)
        value = self.scalar(node)
        if isinstance(value, str) and not node.style and "{" in value:
            action = re.search(TEMPLATE_ACTION, value)  # unquoted `{{ x }}` in a value: a template's placeholder
            if action:
                raise _template_error(self.shown, action.group(0), node.start_mark.line + 1)
        return YNode(value, self.shown, node, key)

    def scalar(self, node: Node) -> Any:
        if node.tag == STR_TAG:
            return node.value  # what SafeConstructor would return, without the call
        constructor = _CONSTRUCTOR.yaml_constructors.get(node.tag)
        if constructor is None or node.tag == MERGE_TAG:
            raise self.fail(node, f"unsupported YAML tag {node.tag!r}")
        try:
            value = constructor(_CONSTRUCTOR, node)
        except (yaml.YAMLError, ValueError, TypeError) as exc:
            raise self.fail(node, f"cannot read value: {str(exc).splitlines()[0]}") from None
        if not isinstance(value, (str, int, float, bool, type(None))) and hasattr(value, "__next__"):
            raise self.fail(node, f"tag {node.tag!r} is not allowed on a scalar")
        return value

    def mapping(self, node: MappingNode, depth: int) -> dict[Any, YNode]:
        explicit: dict[Any, YNode] = {}
        seen: dict[tuple[str, Any], int] = {}
        merged: dict[Any, YNode] = {}
        for key_node, value_node in node.value:
            if key_node.tag == MERGE_TAG:
                for source in self.merge_sources(value_node, depth):
                    for k, v in source.items():
                        merged.setdefault(k, v)
                continue
            if not isinstance(key_node, ScalarNode):
                raise self.fail(key_node, "a mapping key must be a plain value, not a list or mapping")
            key = self.scalar(key_node)
            if isinstance(key, str) and "{" in key and re.search(TEMPLATE_ACTION, key):  # quoted or not
                raise _template_error(self.shown, key, key_node.start_mark.line + 1, "key ")
            try:
                ident = (type(key).__name__, key)
                first = seen.get(ident)
            except TypeError:
                raise self.fail(key_node, "unsupported mapping key") from None
            if first is not None:
                where = Location(self.shown, key_node.start_mark.line + 1, key_node.start_mark.column + 1)
                self.duplicates.append(Duplicate(where, str(key_node.value), first))
            else:
                seen[ident] = key_node.start_mark.line + 1
            explicit[key] = self.build(value_node, key_node, depth + 1)
        for k, v in merged.items():
            explicit.setdefault(k, v)
        return explicit

    def merge_sources(self, node: Node, depth: int) -> list[dict[Any, YNode]]:
        items = node.value if isinstance(node, SequenceNode) else [node]
        sources = []
        for item in items:
            if not isinstance(item, MappingNode):
                raise self.fail(item, "'<<' merges only mappings")
            sources.append(self.mapping(item, depth + 1))
        return sources


def load_yaml(path: str) -> YamlFile:
    """Load one YAML file whose top level must be a mapping."""
    source = read_text(path)
    return parse_yaml(source)


def _compose(source: SourceFile, loader: type | None, documents: bool) -> list[Node | None]:
    """The nodes of the text (one, or every document of a stream) within the run's limits."""
    loader = loader or DEFAULT_LOADER
    events = None
    try:
        events = loader(source.text)
        if not documents:
            return [events.get_single_node()]
        nodes: list[Node | None] = []
        while events.check_node():
            nodes.append(events.get_node())
        return nodes
    except _Limit as exc:
        raise RefusedError(source.display, f"refused: {exc}") from None
    except yaml.YAMLError as exc:
        raise _yaml_error(source, exc, loader is not PythonLoader) from None
    finally:
        dispose = getattr(events, "dispose", None)
        if dispose:
            dispose()


def _root_of(source: SourceFile, loader: type | None) -> tuple[YNode, list[Duplicate]]:
    shown = source.display
    if not source.text.strip():
        raise InputError(shown, "empty file")
    (node,) = _compose(source, loader, False)
    if node is None:
        raise InputError(shown, "empty file (no YAML document)")
    if not isinstance(node, MappingNode):
        kind = "a list" if isinstance(node, SequenceNode) else "a single value"
        raise InputError(shown, f"top level is {kind}, expected a mapping of keys")
    builder = _Builder(shown)
    return builder.build(node), builder.duplicates


def parse_yaml(source: SourceFile, loader: type | None = None) -> YamlFile:
    """A YAML file whose top level is a mapping; TemplateError when template syntax is why it is not one."""
    try:
        root, duplicates = _root_of(source, loader)
    except TemplateError:
        raise
    except InputError as exc:
        raise _as_template(source) or exc from None
    return YamlFile(source, root, duplicates)


def parse_yaml_documents(source: SourceFile, loader: type | None = None, recover: bool = False) -> YamlStream:
    """Every document of a stream (`---`), in order, None for an empty one; the limits hold for the
    whole file. For Kubernetes manifests, which may hold several objects.

    With `recover`, a stream that is not YAML as a whole (but no template, and within the limits) is read
    document by document: the broken ones are the stream's `errors`, and the others are read."""
    try:
        nodes = _compose(source, loader, True)
        builder = _Builder(source.display)
        documents = [None if node.tag == NULL_TAG else builder.build(node) for node in nodes]
    except (TemplateError, RefusedError):
        raise
    except InputError as exc:
        template = _as_template(source)
        if template is not None:
            raise template from None
        if not recover:
            raise
        return _documents_apart(source, loader)
    return YamlStream(documents, builder.duplicates)


DOCUMENT_START = r"^---(?=[ \t\r\n]|$)"


def _documents_apart(source: SourceFile, loader: type | None) -> YamlStream:
    """Each document of the stream parsed on its own (its lines kept), with one budget of nodes for all."""
    text = source.text
    bounds = sorted({0, *(match.start() for match in re.finditer(DOCUMENT_START, text, re.MULTILINE)), len(text)})
    builder = _Builder(source.display)
    documents: list[YNode | None] = []
    errors: list[InputError] = []
    for begin, end in zip(bounds, bounds[1:]):
        padded = "\n" * text.count("\n", 0, begin) + text[begin:end]  # lines numbered as in the whole file
        try:
            nodes = _compose(SourceFile(source.path, source.display, padded), loader, True)
            documents += [None if node.tag == NULL_TAG else builder.build(node) for node in nodes]
        except RefusedError:
            raise
        except InputError as exc:
            errors.append(exc)
            documents += _read_mended(source, padded, exc, loader, builder, MAX_MENDS)
    return YamlStream(documents, builder.duplicates, errors)


MAX_MENDS = 3  # slips mended, one after another, in one broken document before it is given up
# `name:web`, `- image:nginx:1.27`: a key whose value lacks the space YAML needs after the colon.
KEY_WITHOUT_SPACE = r"^([ \t]*(?:-[ \t]+)?[A-Za-z_][A-Za-z0-9_.-]*:)(?=[^\s:/\[\]{},'\"#&*!|>%@`])"
# A manifest's first top-level line: text above it that is not YAML (a note to self) is no part of it.
MANIFEST_START = r"^(?:apiVersion|kind)[ \t]*:"


def _mended(text: str, line: int) -> Iterator[str]:
    """The text with one slip near `line` mended, each way in turn (line numbers kept): the space after a
    key's colon on that line or the two above it, or prose above the manifest's first line blanked."""
    lines = text.split("\n")
    for index in range(min(line, len(lines)) - 1, max(line - 4, -1), -1):
        fixed = re.sub(KEY_WITHOUT_SPACE, r"\1 ", lines[index], count=1)
        if fixed != lines[index]:
            yield "\n".join(lines[:index] + [fixed] + lines[index + 1:])
    start = re.search(MANIFEST_START, text, re.MULTILINE)
    if start is not None:
        above = text[:start.start()].split("\n")
        kept = [row if not row.strip() or row.lstrip().startswith(("#", "---")) else "" for row in above]
        if kept != above:
            yield "\n".join(kept) + text[start.start():]


def _read_mended(source: SourceFile, text: str, error: InputError, loader: type | None, builder: _Builder,
                 rounds: int) -> list[YNode | None]:
    """A broken document read as its author evidently meant it, its slips mended (the error is reported all the
    same, and the rest of it judged), or nothing when no mending within `rounds` makes it YAML."""
    if rounds == 0 or not error.line:
        return []
    for candidate in _mended(text, error.line):
        try:
            nodes = _compose(SourceFile(source.path, source.display, candidate), loader, True)
            return [None if node.tag == NULL_TAG else builder.build(node) for node in nodes]
        except RefusedError:
            raise
        except InputError as later:
            if later.line > error.line:  # the slip is mended and the next one is further down
                found = _read_mended(source, candidate, later, loader, builder, rounds - 1)
                if found:
                    return found
    return []


def _as_template(source: SourceFile) -> TemplateError | None:
    """A template, when `{{ }}` or `{% %}` stands where YAML has a key or a value (what broke the YAML)."""
    match = re.search(TEMPLATE_SYNTAX, source.text, re.MULTILINE)
    if match is None:
        return None
    return _template_error(source.display, match.group(1), source.text.count("\n", 0, match.start(1)) + 1)


def _template_error(shown: str, written: str, line: int, what: str = "") -> TemplateError:
    """A template named by what gave it away: `written`, a placeholder (or the `what` that holds one)."""
    kind = "a Go template" if re.search(GO_ACTION, written) else "a template"
    return TemplateError(shown, template_reason(f"{kind} ({what}{written[:40]!r})"), line)


def _yaml_error(source: SourceFile, exc: yaml.YAMLError, byte_offsets: bool) -> InputError:
    """The one-line reason, with the line and column where PyYAML or libyaml says."""
    shown = source.display
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        problem = (exc.problem or exc.context or "invalid YAML").strip()
        if exc.problem and exc.context:
            problem = f"{problem} ({exc.context.strip()})"
        line, column = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        return InputError(shown, f"invalid YAML: {problem}", line, column)
    line = column = 0
    if isinstance(exc, ReaderError):  # a character YAML refuses: its offset (libyaml counts UTF-8 bytes)
        before = source.text.encode()[:exc.position].decode(errors="ignore") if byte_offsets else \
            source.text[:exc.position]
        line, column = before.count("\n") + 1, len(before) - before.rfind("\n")
    return InputError(shown, f"invalid YAML: {str(exc).splitlines()[0] if str(exc) else 'unreadable'}",
                      line, column)
