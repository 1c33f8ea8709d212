"""Apply the findings' fixes (fixes.py), keeping the file as its author wrote it, and only when the result is right.

ruamel.yaml's round-trip document takes the edits; of what it writes out, only the lines the edits change replace
the same lines of the file, so comments, quoting, indentation, blank lines and document separators elsewhere stay
as they were even where ruamel.yaml would lay them out otherwise. A change is kept only when the fixed files still
parse whole, every value but the ones the fixes name is the same data, and a new audit finds the fixed findings
gone and nothing new. Fixing goes on until nothing more can be fixed, so a second run changes nothing. Imported
only for --fix, --diff and SARIF output: ruamel.yaml's import would cost every other run's start-up.
"""

from __future__ import annotations

import difflib
import io
import os
import re
from collections import Counter
from contextlib import contextmanager
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import ScalarString, SingleQuotedScalarString

from spin_audit.fixes import APPEND, DELETE, REPLACE, SAFE, SET, Edit, Octal, Quoted
from spin_audit.loader import PENDING, InputError, SourceFile, YNode
from spin_audit.registry import Finding
from spin_audit.rules.common import path_text

Path = Tuple[Any, ...]  # keys and list indices from a document's root
YamlFiles = Dict[str, Tuple[SourceFile, List[Optional[YNode]]]]  # display path -> the file and its documents
Audit = Callable[[], Tuple[Any, List[Finding]]]  # loads the input again (PENDING in place of files) and audits it

MAX_ROUNDS = 100
MISSING = object()
WIDTH = 1 << 30  # never fold a long line


class FixError(Exception):
    """Why a fix cannot be made as it must be: the file is left as it is."""


def node_paths(documents: List[Optional[YNode]]) -> Dict[int, Tuple[int, Path]]:
    """id of each node -> (its document, its path): where the round-trip document has it."""
    found: Dict[int, Tuple[int, Path]] = {}

    def walk(node: YNode, document: int, path: Path) -> None:
        found[id(node)] = (document, path)
        for key, child in node.items():
            walk(child, document, path + (key,))
        for index, child in enumerate(node.seq()):
            walk(child, document, path + (index,))

    for index, root in enumerate(documents):
        if root is not None:
            walk(root, index, ())
    return found


# ---- layout

BLOCK_KEY = re.compile(r"^(?P<indent> *)(?P<dashes>(?:- +)*)[^\s#'\"-][^#]*?:\s*(?:#.*)?$")
BLOCK_SCALAR = re.compile(r":\s*[|>][-+0-9]*\s*(?:#.*)?$")


DASH = re.compile(r"^ *(-( +)(?=[^\s#]))")


def guess_indent(lines: List[str]) -> Tuple[int, int, int]:
    """(mapping indent, offset of a block sequence's dash, width of the dash with the spaces after it) the file
    mostly uses, for ruamel.yaml to write alike (`-   name:` under PyYAML's indent 4 is a dash 4 wide)."""
    mapping: Counter = Counter()
    offsets: Counter = Counter()
    dashes: Counter = Counter()
    opener: Optional[int] = None  # column of the key whose block the next line opens
    scalar_above: Optional[int] = None  # inside a block scalar deeper than this column
    for line in lines:
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        column = len(line) - len(line.lstrip(" "))
        if scalar_above is not None:
            if column > scalar_above:
                continue
            scalar_above = None
        dashed = stripped.startswith("- ") or stripped == "-"
        if opener is not None and (column > opener or dashed and column == opener):  # `key:\n- item`: offset 0
            (offsets if dashed else mapping)[column - opener] += 1
        opener = None
        dash = DASH.match(line)
        if dash:
            dashes[len(dash.group(1))] += 1
        match = BLOCK_KEY.match(line.rstrip("\n"))
        if match:
            opener = column + len(match.group("dashes"))
        elif BLOCK_SCALAR.search(line):
            scalar_above = column
    indent = mapping.most_common(1)[0][0] if mapping else 2
    offset = offsets.most_common(1)[0][0] if offsets else 0
    width = dashes.most_common(1)[0][0] if dashes else 2
    return max(indent, 1), max(min(offset, 8), 0), max(min(width, 10), 2)


def _yaml(lines: List[str]) -> YAML:
    mapping, offset, dash = guess_indent(lines)
    handler = YAML()  # round-trip
    handler.preserve_quotes = True
    handler.width = WIDTH
    handler.indent(mapping=mapping, sequence=offset + dash, offset=offset)
    handler.representer.add_representer(Octal, lambda rep, data: rep.represent_scalar(
        "tag:yaml.org,2002:int", f"0{int(data):o}"))
    return handler


def _dump(handler: YAML, documents: List[Any]) -> str:
    out = io.StringIO()
    handler.dump_all(documents, out)
    return out.getvalue()


def _lines(text: str) -> List[str]:
    """The lines of a text that ends with a newline, each with its newline."""
    return [line + "\n" for line in text.split("\n")[:-1]]


def _original_at(alignment: List[Tuple[str, int, int, int, int]], position: int) -> int:
    """Where a line boundary of ruamel.yaml's text of the file falls in the file; FixError when it falls inside
    lines that ruamel.yaml writes otherwise. Lines only the file has (a leading `---`) stay after the boundary."""
    found = []
    for tag, a1, a2, b1, b2 in alignment:
        if tag == "equal" and b1 <= position <= b2:
            found.append(a1 + position - b1)
        elif position == b1:
            found.append(a1)
        elif position == b2:
            found.append(a2)
    if not found:
        raise FixError("the change falls inside lines ruamel.yaml would write otherwise")
    return min(found)


def _comment_or_blank(line: str) -> bool:
    return not line.strip() or line.lstrip().startswith("#")


def merge(original: List[str], base: List[str], edited: List[str], beside: bool = False) -> List[str]:
    """The file's lines with the edits made: `base` is ruamel.yaml's text of the file, `edited` its text after the
    edits. Each change from base to edited replaces the same lines of the file; new lines go above the comments
    that precede the line after them (comments describe what follows)."""
    alignment = difflib.SequenceMatcher(None, original, base, autojunk=False).get_opcodes()
    rewritten = [(b1, b2) for tag, _, _, b1, b2 in alignment if tag != "equal" and b1 < b2]
    changes = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, base, edited, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        low, high = i1, i2
        grown = True
        while grown:  # a change to, or new lines inside (or, with `beside`, next to) lines ruamel.yaml writes
            grown = False  # otherwise take all of them: its indentation of new lines fits its own lines around them
            for b1, b2 in rewritten:
                touches = b1 < high and low < b2 if low < high else b1 <= low <= b2 if beside else b1 < low < b2
                if touches and (b1 < low or b2 > high):
                    low, high, grown = min(low, b1), max(high, b2), True
        if low == high:  # new lines only
            at = _original_at(alignment, low)
            while at > 0 and _comment_or_blank(original[at - 1]) and not any(
                    a1 < at <= a2 and tag != "equal" for tag, a1, a2, _, _ in alignment):
                at -= 1
            changes.append((at, at, edited[j1:j2]))
        else:
            start, end = _original_at(alignment, low), _original_at(alignment, high)
            if end - start < 1:
                raise FixError("the change falls on lines the file does not have")
            lines = edited[j1 - (i1 - low): j2 + (high - i2)]
            kept = [line for line in original[start:end] if (line.strip() and _comment_or_blank(line)
                    or line.rstrip() == "...") and line not in lines]  # ruamel.yaml drops the comments below a
            # key it deletes, and writes no document end marker
            changes.append((start, end, lines + kept))
    result = list(original)
    last = len(original) + 1
    for start, end, lines in sorted(changes, key=lambda change: (change[0], change[1]), reverse=True):
        if end > last:
            raise FixError("two changes overlap")
        result[start:end] = lines
        last = start
    return result


# ---- edits on the round-trip document

def _plain_is_text(text: str) -> bool:
    """Whether YAML 1.1 (PyYAML, Kubernetes, docker-compose) reads the text, unquoted, as a string."""
    return yaml.resolver.Resolver().resolve(yaml.ScalarNode, text, (True, False)) == "tag:yaml.org,2002:str"


def _value(value: Any, old: Any = None) -> Any:
    """A value as ruamel.yaml writes it: a new string in the quotes of the one it replaces, or quoted where YAML
    1.1 would read it as something else; mappings and lists as round-trip ones."""
    if isinstance(value, (CommentedMap, CommentedSeq)):
        return value  # already round-trip (a flow-style list made for APPEND)
    if isinstance(value, Quoted):
        return SingleQuotedScalarString(str(value))
    if isinstance(value, str):
        if isinstance(old, ScalarString) and type(old) is not str:
            return type(old)(value)
        return value if _plain_is_text(value) else SingleQuotedScalarString(value)
    if isinstance(value, dict):
        return CommentedMap((key, _value(item)) for key, item in value.items())
    if isinstance(value, list):
        return CommentedSeq(_value(item) for item in value)
    return value


def _walk(documents: List[Any], document: int, path: Path) -> Any:
    node = documents[document]
    try:
        for step in path:
            node = node[step]
    except (KeyError, IndexError, TypeError):
        raise FixError(f"ruamel.yaml does not find {path_text(path) or 'the document'}") from None
    return node


def _own_keys(mapping: CommentedMap) -> List[Any]:
    """The keys written in the mapping itself, not merged into it with `<<`."""
    return [key for key, _ in mapping.non_merged_items()]


def _put(mapping: CommentedMap, key: Any, value: Any, after: Tuple[str, ...] = ()) -> None:
    """mapping[key] = value: in place when the mapping has the key, else after the first of `after` it has
    (else at its end); a key merged with `<<` gets its own value here, never in what it was merged from."""
    own = _own_keys(mapping)
    if key in own:
        mapping[key] = _value(value, mapping[key])
        return
    position = next((own.index(name) + 1 for name in after if name in own), len(own))
    merges = 1 if mapping.merge and position else 0  # ruamel.yaml counts a leading `<<: *anchor` as a key
    mapping.insert(position + merges, key, _value(value))


def _mapping_at(documents: List[Any], document: int, path: Path, keys: Path, create: bool,
                after: Tuple[str, ...]) -> CommentedMap:
    node = _walk(documents, document, path)
    for key in keys:
        if not isinstance(node, CommentedMap):
            raise FixError(f"{path_text(path) or 'the document'} is not a mapping")
        child = node.get(key, MISSING) if key in node else MISSING
        if child is MISSING or child is None:
            if not create:
                raise FixError(f"{path_text(path + (key,))} is missing")
            _put(node, key, {}, after)
            child = node[key]
        node, path, after = child, path + (key,), ()
    if not isinstance(node, CommentedMap):
        raise FixError(f"{path_text(path) or 'the document'} is not a mapping")
    return node


def apply_edit(documents: List[Any], where: Tuple[int, Path], edit: Edit) -> None:
    document, path = where
    if edit.op == REPLACE:
        if not path:
            raise FixError("a fix cannot replace a whole document")
        parent = _walk(documents, document, path[:-1])
        parent[path[-1]] = _value(edit.value, parent[path[-1]])
        return
    *outer, last = edit.keys
    mapping = _mapping_at(documents, document, path, tuple(outer), edit.op != DELETE, edit.after)
    if edit.op == SET:
        _put(mapping, last, edit.value, edit.after if not outer else ())
    elif edit.op == APPEND:
        listed = mapping.get(last) if last in mapping else None
        if listed is None:
            listed = CommentedSeq([_value(edit.value)])
            listed.fa.set_flow_style()
            _put(mapping, last, listed, edit.after)
        elif isinstance(listed, CommentedSeq):
            listed.append(_value(edit.value))
        else:
            raise FixError(f"{path_text(path + (last,))} is not a list")
    elif edit.op == DELETE:
        if last not in _own_keys(mapping):
            raise FixError(f"{path_text(path + (last,))} is not there")
        del mapping[last]


def _signature(value: Any) -> Any:
    """A value as a hashable key, its type included (Quoted is written otherwise than str)."""
    if isinstance(value, dict):
        return ("dict", tuple((key, _signature(item)) for key, item in value.items()))
    if isinstance(value, list):
        return ("list", tuple(_signature(item) for item in value))
    return (type(value).__name__, value)


# (text, the edits as placed in it) -> apply_edits' result. Rounds and the tries of a round make the same edits on
# the same texts again (every file's, when one fix elsewhere fails), and ruamel.yaml's load and dump are slow.
MADE: Dict[tuple, Tuple[str, List[Tuple[int, Path]]]] = {}


def apply_edits(text: str, documents: List[Optional[YNode]], edits: List[Edit]) -> Tuple[str, List[Tuple[int, Path]]]:
    """The file's text with the edits made, and (document, path) of each value they change."""
    paths = node_paths(documents)
    placed = [paths.get(id(edit.node)) for edit in edits]
    if None in placed:
        raise FixError("the value to fix is not written in this file as read (it is merged from several)")
    key = (text, tuple((where, edit.op, edit.keys, _signature(edit.value), edit.after)
                       for where, edit in zip(placed, edits)))
    if key not in MADE:
        MADE[key] = _make(text, len(documents), list(zip(placed, edits)))
    return MADE[key]


def _make(text: str, documents: int, edits: List[Tuple[Tuple[int, Path], Edit]]) -> Tuple[str, List[Tuple[int, Path]]]:
    crlf = "\r\n" in text
    body = text.replace("\r\n", "\n")
    ends = body.endswith("\n")
    body = body if ends else body + "\n"
    original = _lines(body)
    handler = _yaml(original)
    try:
        loaded = list(handler.load_all(body))
    except Exception as exc:  # ruamel.yaml raises many kinds, all meaning it cannot take the file
        raise FixError(f"ruamel.yaml cannot read the file ({type(exc).__name__})") from None
    if len(loaded) != documents:
        raise FixError("ruamel.yaml reads another number of documents")
    base = _lines(_dump(handler, loaded))
    changed = []
    for where, edit in edits:
        try:
            apply_edit(loaded, where, edit)
        except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:  # the file is not as read
            raise FixError(f"ruamel.yaml's document differs where the fix goes ({type(exc).__name__})") from None
        changed.append((where[0], where[1] + edit.keys))
    edited = _lines(_dump(handler, loaded))
    result = "".join(merge(original, base, edited))
    if not _reads_as(result, edited):  # new lines next to lines ruamel.yaml writes in another column
        result = "".join(merge(original, base, edited, beside=True))
        if not _reads_as(result, edited):
            raise FixError("the fixed lines would not fit the lines around them")
    if not ends and result.endswith("\n") and not original[-1].endswith("\n\n"):
        result = result[:-1]
    return (result.replace("\n", "\r\n") if crlf else result), changed


def _reads_as(text: str, edited: List[str]) -> bool:
    """Whether the merged text is the same data as ruamel.yaml's own text of the edited file."""
    try:
        return list(yaml.safe_load_all(text)) == list(yaml.safe_load_all("".join(edited)))
    except yaml.YAMLError:
        return False


# ---- checking a change

def _same(old: Any, new: Any) -> bool:
    return type(old) is type(new) and (old == new or old != old and new != new)  # NaN is NaN


def changed_paths(old: Any, new: Any, path: Path = ()) -> Iterator[Path]:
    """The paths of the leaves whose values differ (or exist on one side only)."""
    if isinstance(old, dict) or isinstance(new, dict):
        if (old is MISSING or isinstance(old, dict)) and (new is MISSING or isinstance(new, dict)):
            before, after = (old if old is not MISSING else {}), (new if new is not MISSING else {})
            if not before and not after and (old is MISSING) != (new is MISSING):
                yield path  # an empty mapping made or removed
            for key in list(before) + [key for key in after if key not in before]:
                yield from changed_paths(before.get(key, MISSING), after.get(key, MISSING), path + (key,))
            return
    elif isinstance(old, list) or isinstance(new, list):
        if (old is MISSING or isinstance(old, list)) and (new is MISSING or isinstance(new, list)):
            before, after = (old if old is not MISSING else []), (new if new is not MISSING else [])
            if not before and not after and (old is MISSING) != (new is MISSING):
                yield path
            for index in range(max(len(before), len(after))):
                yield from changed_paths(before[index] if index < len(before) else MISSING,
                                         after[index] if index < len(after) else MISSING, path + (index,))
            return
    if not _same(old, new):
        yield path


class Attempt:
    """A set of fixes tried together: the texts they give, and the input and findings after them, or why not."""

    def __init__(self, texts: Dict[str, str], subject: Any = None, findings: Optional[List[Finding]] = None,
                 reason: str = ""):
        self.texts = texts
        self.subject = subject
        self.findings = findings
        self.reason = reason


@contextmanager
def pending(texts: Dict[str, str]) -> Iterator[None]:
    """Read these texts in place of their files while inside."""
    saved = dict(PENDING)
    PENDING.update(texts)
    try:
        yield
    finally:
        PENDING.clear()
        PENDING.update(saved)


def _failed(reason: str) -> Attempt:
    return Attempt({}, reason=reason)


def fixed_texts(files: YamlFiles, fixes: List[Finding]) -> Tuple[Dict[str, str], Dict[Tuple[str, int], List[Path]]]:
    """The new text of each file the fixes change (absolute path -> text) and the paths they change, by
    (file, document); FixError when one cannot be made."""
    edits: Dict[str, List[Edit]] = {}
    for finding in fixes:
        for edit in finding.fix.edits:
            if edit.node.path not in files:
                raise FixError(f"{edit.node.path} is not written by --fix (standard input, a file with a key written "
                               "twice or a document that does not parse, or not a file of this input)")
            edits.setdefault(edit.node.path, []).append(edit)
    texts: Dict[str, str] = {}
    declared: Dict[Tuple[str, int], List[Path]] = {}
    for display, file_edits in edits.items():
        source, documents = files[display]
        text, changed = apply_edits(source.text, documents, file_edits)
        for document, path in changed:
            declared.setdefault((display, document), []).append(path)
        if text != source.text:
            texts[os.path.abspath(source.path)] = text
    return texts, declared


def unexpected_change(files: YamlFiles, after: YamlFiles, declared: Dict[Tuple[str, int], List[Path]]) -> str:
    """Why the fixed files are not the same data but where the fixes say, or "" when they are."""
    for display in {display for display, _ in declared}:
        if display not in after:
            return f"{display} would no longer be read whole"
        before_documents, after_documents = files[display][1], after[display][1]
        if len(before_documents) != len(after_documents):
            return f"{display} would have another number of documents"
        for index, (old, new) in enumerate(zip(before_documents, after_documents)):
            named = declared.get((display, index), [])
            for path in changed_paths(old.plain() if old is not None else None,
                                      new.plain() if new is not None else None):
                if not any(path[:len(fixed)] == fixed for fixed in named):
                    return f"{display} would change {path_text(path) or 'a document'}, which no fix names"
    return ""


def unexpected_findings(before: List[Finding], after: List[Finding], fixes: List[Finding]) -> str:
    """Why the findings after the fixes are not those before less the fixed ones, or "" when they are. A fix
    that leaves a milder rule's finding (Fix.becomes) may leave one each."""
    allowed = Counter(f.identity() for f in before)
    allowed.subtract(Counter(f.identity() for f in fixes))
    milder = Counter(f.fix.becomes for f in fixes if f.fix.becomes)
    for identity, count in Counter(f.identity() for f in after).items():
        extra = count - max(allowed[identity], 0)
        if extra > 0 and milder[identity[0]] >= extra:
            milder[identity[0]] -= extra
        elif extra > 0:
            rule, path, message = identity[:3]
            known = allowed[identity] < count - extra + 1 and any(f.identity() == identity for f in fixes)
            return f"{rule} {'would remain' if known else 'would appear'} in {path}: {message}"
    return ""


def attempt(audit: Audit, subject: Any, findings: List[Finding], fixes: List[Finding]) -> Attempt:
    """Make the fixes on the texts as they stand (PENDING), load and audit the result, and keep it if it is right."""
    files: YamlFiles = subject.yaml_files()
    try:
        texts, declared = fixed_texts(files, fixes)
    except FixError as exc:
        return _failed(str(exc))
    with pending(texts):
        try:
            new_subject, after = audit()
        except InputError as exc:
            return _failed(f"the fixed input would not load: {exc}")
    reason = unexpected_change(files, new_subject.yaml_files(), declared) or unexpected_findings(findings, after,
                                                                                                  fixes)
    return _failed(reason) if reason else Attempt(texts, new_subject, after)


def wanted(finding: Finding, unsafe: bool) -> bool:
    return finding.fix is not None and finding.suppressed_by is None and not finding.omitted and (
        unsafe or finding.fix.kind == SAFE)


class Outcome:
    """What fixing one input did: the findings fixed, those whose fix was refused (and why), and the findings
    left. The new texts are in PENDING, for the caller to write or show."""

    def __init__(self) -> None:
        self.fixed: List[Finding] = []
        self.refused: Dict[tuple, Tuple[Finding, str]] = {}
        self.remaining: List[Finding] = []


def _makeable(files: YamlFiles, candidates: List[Finding], refused: Dict[tuple, Tuple[Finding, str]]) -> List[Finding]:
    """The candidates whose edits can be made on their files' text, file by file (one with a fix that cannot,
    such as in a file ruamel.yaml cannot read, is refused here, without the cost of an audit)."""
    by_files: Dict[Tuple[str, ...], List[Finding]] = {}
    for finding in candidates:
        by_files.setdefault(tuple(sorted({edit.node.path for edit in finding.fix.edits})), []).append(finding)
    makeable = set()
    for group in by_files.values():
        try:
            fixed_texts(files, group)
            makeable.update(id(finding) for finding in group)
            continue
        except FixError:
            pass
        for finding in group:  # one of them cannot be made: which
            try:
                fixed_texts(files, [finding])
                makeable.add(id(finding))
            except FixError as exc:
                refused[finding.identity()] = (finding, str(exc))
    return [finding for finding in candidates if id(finding) in makeable]


def fix_input(audit: Audit, unsafe: bool) -> Outcome:
    """Fix what can be fixed, round after round until nothing more can (so that a second run changes nothing):
    a fix refused in one round is tried again after the next fix is made. The accepted texts go into PENDING."""
    outcome = Outcome()
    subject, findings = audit()
    for _ in range(MAX_ROUNDS):
        candidates = [f for f in findings if wanted(f, unsafe) and f.identity() not in outcome.refused]
        if not candidates:
            break
        tried = attempt(audit, subject, findings, candidates)
        if tried.subject is None:  # leave out first the fixes that cannot be made at all
            candidates = _makeable(subject.yaml_files(), candidates, outcome.refused)
            tried = attempt(audit, subject, findings, candidates) if candidates else tried
        accepted = candidates if tried.subject is not None else []
        for single in candidates if not accepted else []:  # together they fail: one at a time, in order
            tried = attempt(audit, subject, findings, [single])
            if tried.subject is not None:
                accepted = [single]
                break
            outcome.refused[single.identity()] = (single, tried.reason)
        if not accepted:
            break
        PENDING.update(tried.texts)
        outcome.fixed += accepted
        subject, findings = tried.subject, tried.findings
        outcome.refused.clear()  # the texts changed: a fix refused beside others may be made now
    outcome.remaining = findings
    return outcome


def _only_declared_changes(files: YamlFiles, texts: Dict[str, str], declared: Dict[Tuple[str, int], List[Path]]) -> bool:
    """Whether the new texts read (PyYAML) as the same data as before but where the fixes say: the check of a
    fix already made together with the others, cheaper than another audit."""
    for display, (source, _) in files.items():
        new = texts.get(os.path.abspath(source.path))
        if new is None:
            continue
        try:
            before, after = list(yaml.safe_load_all(source.text)), list(yaml.safe_load_all(new))
        except yaml.YAMLError:
            return False
        if len(before) != len(after):
            return False
        for index, (old, now) in enumerate(zip(before, after)):
            named = declared.get((display, index), [])
            if any(not any(path[:len(fixed)] == fixed for fixed in named) for path in changed_paths(old, now)):
                return False
    return True


def offered_changes(audit: Audit) -> Dict[tuple, List[Tuple[SourceFile, str]]]:
    """For SARIF: each finding whose fix (safe or unsafe) checks out when all are made (fix_input), by identity,
    with the text of each file it changes when made alone. Nothing stays in PENDING."""
    with pending({}):
        subject, findings = audit()
        files: YamlFiles = subject.yaml_files()
        kept = {f.identity() for f in fix_input(audit, unsafe=True).fixed}
    sources = {os.path.abspath(source.path): source for source, _ in files.values()}
    changes: Dict[tuple, List[Tuple[SourceFile, str]]] = {}
    for finding in findings:
        if finding.identity() not in kept or not wanted(finding, unsafe=True):
            continue
        try:
            texts, declared = fixed_texts(files, [finding])
        except FixError:
            continue
        if texts and _only_declared_changes(files, texts, declared):
            changes[finding.identity()] = [(sources[path], text) for path, text in sorted(texts.items())]
    return changes


def unified_diff(old: str, new: str, shown: str) -> str:
    """A unified diff as git writes it (a/ and b/ before a relative path), which `git apply` and `patch -p1` take."""
    before, after = (shown, shown) if os.path.isabs(shown) else (f"a/{shown}", f"b/{shown}")
    return "".join(difflib.unified_diff(old.splitlines(True), new.splitlines(True), before, after))


def replacements(old: str, new: str) -> List[Dict[str, Any]]:
    """SARIF replacements (character offsets, code points) that turn `old` into `new`, a line block each."""
    before, after = old.splitlines(True), new.splitlines(True)
    starts = [0]
    for line in before:
        starts.append(starts[-1] + len(line))
    found = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, before, after, autojunk=False).get_opcodes():
        if tag != "equal":
            found.append({"deletedRegion": {"charOffset": starts[i1], "charLength": starts[i2] - starts[i1]},
                          "insertedContent": {"text": "".join(after[j1:j2])}})
    return found


BOM = b"\xef\xbb\xbf"


def finish(write: bool) -> List[Tuple[str, str]]:
    """The changed files as (path as shown, unified diff of the change); with `write`, each is written in place
    (its byte order mark kept)."""
    from spin_audit.loader import display_path

    done = []
    for path, text in sorted(PENDING.items()):
        with open(path, "rb") as handle:
            data = handle.read()
        old = data.decode("utf-8-sig")
        if old == text:
            continue
        shown = display_path(path)
        done.append((shown, unified_diff(old, text, shown)))
        if write:
            with open(path, "wb") as handle:
                handle.write((BOM if data.startswith(BOM) else b"") + text.encode("utf-8"))
    return done
