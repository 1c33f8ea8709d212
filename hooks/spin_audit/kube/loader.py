"""Find and read Kubernetes manifests into a Bundle.

- A PATH that is a file is a manifest: every document in it should be a Kubernetes object.
- A folder is searched recursively for *.yaml and *.yml (hidden folders skipped, symlinked
  folders not followed). A file found there with no object in it (a values or config file)
  is not a manifest and is left alone; so is one that does not parse and has no top-level
  `apiVersion:` or `kind:`.
- A rancher2 stack (k8s/ and no docker-compose.yml) is read through its k8s/ folder.
- A kustomization places what it includes: its `namespace`, `namePrefix` and `nameSuffix`
  apply to the objects of its `resources` (followed into other kustomizations, outermost
  namespace winning, as kustomize does), and a folder named after a Spin cluster names the
  cluster. As kustomize does, it reads files only in or below its own folder. Files it lists as patches, and YAML files beside it that it does not list, are
  partial objects: judged for what they set, not for what they leave out.
- A Helm chart (a folder with Chart.yaml) and a file with `{{ }}` that is not YAML are
  templates: each is reported once as not audited, never as broken YAML; when nothing but
  templates was found, the whole input is declined (TemplateError), as a compose template is.
- A key written twice in a document is reported (SPINK105) and the rest is judged as usual.

A file that cannot be read or parsed is a Problem (reported by SPINK101 with its line);
only a PATH that does not exist, or a tree too large to search, raises InputError.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Set

from spin_audit.kube import (
    ANSWERS_NAME,
    KUSTOMIZATION_NAMES,
    MANIFEST_SUFFIXES,
    STACK_DIR,
    is_rancher2_stack,
    looks_like_manifest,
)
from spin_audit.kube.facts import CLUSTERS
from spin_audit.helm import chart_file, chart_of, chart_reason
from spin_audit.kube.model import Bundle, KubeObject, Placement, Problem, text_of, under
from spin_audit.loader import (
    STDIN,
    STDIN_DISPLAY,
    Duplicate,
    InputError,
    SourceFile,
    TemplateError,
    YNode,
    display_path,
    first_existing,
    load_yaml,
    parse_yaml_documents,
    read_text,
)
from spin_audit.registry import Location

ACCESS_LEVELS = ("public", "authenticated", "private")
MAX_FILES = 2000  # YAML files read in one run
MAX_TOTAL_CHARS = 32 * 1024 * 1024  # characters of YAML read in one run
MAX_ENTRIES = 100_000  # directory entries looked at in one run
MAX_KUSTOMIZE_STEPS = 10_000  # (kustomization, resource) pairs followed
MAX_LIST_DEPTH = 4  # `kind: List` inside `kind: List`


@dataclass
class Kustomization:
    source: SourceFile
    folder: str  # absolute
    namespace: Optional[str]
    prefix: str
    suffix: str
    resources: List[str]  # absolute paths of files and folders
    patches: List[str]  # absolute paths of patch files

    @property
    def cluster(self) -> Optional[str]:
        name = os.path.basename(self.folder)
        return name if name in CLUSTERS else None

    def lists(self, path: str) -> bool:
        return path in self.resources or path in self.patches


@dataclass
class _File:
    path: str  # absolute
    source: SourceFile
    documents: List[Optional[YNode]] = field(default_factory=list)
    duplicates: List[Duplicate] = field(default_factory=list)
    broken: bool = False  # some of its documents could not be read (reported by SPINK101)
    explicit: bool = False  # named on the command line or listed by a kustomization
    patch: bool = False


def _is_remote(reference: str) -> bool:
    return "://" in reference or reference.startswith(("github.com/", "git@"))


def _strings(node: Optional[YNode]) -> List[str]:
    return [text for text in (text_of(item) for item in (node.seq() if node is not None else [])) if text]


def stack_access(folder: str) -> Optional[str]:
    """The `access` answer of the rancher2 stack holding a folder, if it has one."""
    while True:
        if is_rancher2_stack(folder) and os.path.isfile(os.path.join(folder, ANSWERS_NAME)):
            try:
                answer = text_of(load_yaml(os.path.join(folder, ANSWERS_NAME)).root.get("access"))
            except InputError:
                return None  # not ours to judge: the answers file is not a manifest
            return answer if answer in ACCESS_LEVELS else None
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent


class _Reader:
    def __init__(self) -> None:
        self.files: Dict[str, _File] = {}
        self.kustomizations: Dict[str, Kustomization] = {}  # by folder
        self.problems: List[Problem] = []
        self.templates: Set[str] = set()
        self.looked_up: Set[str] = set()  # folders whose kustomization was looked for
        self.followed: Set[str] = set()  # folders whose kustomization's resources were read
        self.entries = 0
        self.steps = 0
        self.size = 0

    # ---- templates and unreadable input

    def template(self, path: str, message: str, line: int = 1) -> None:
        if path not in self.templates:
            self.templates.add(path)
            self.problems.append(Problem("template", Location(display_path(path), line), message))

    def chart(self, folder: str) -> None:
        self.template(chart_file(folder) or folder, chart_reason(folder))

    def unreadable(self, error: InputError) -> None:
        self.problems.append(Problem("unreadable", Location(error.path, error.line or 1), error.reason))

    # ---- files

    def add_file(self, path: str, explicit: bool = False, patch: bool = False) -> None:
        known = self.files.get(path)
        if known is not None:
            known.explicit |= explicit
            known.patch |= patch
            return
        chart = chart_of(path)
        if chart is not None:
            self.chart(chart)
            return
        if len(self.files) >= MAX_FILES:
            raise InputError(display_path(path), f"more than {MAX_FILES} YAML files to read in one run")
        try:
            source = self.read(path)
        except InputError as exc:
            if self.size > MAX_TOTAL_CHARS:
                raise
            if explicit or patch or looks_like_manifest(path):
                self.unreadable(exc)
            return
        self.add_source(path, source, explicit, patch)

    def add_source(self, path: str, source: SourceFile, explicit: bool = True, patch: bool = False) -> None:
        """Parse a file's text into its documents (standard input comes here already read)."""
        entry = _File(path, source, explicit=explicit, patch=patch)
        try:
            stream = parse_yaml_documents(source, recover=True)
        except TemplateError as exc:
            self.template(path, exc.reason, exc.line or 1)
            return
        except InputError as exc:
            if explicit or patch or looks_like_manifest(path):
                self.unreadable(exc)
            return
        if stream.errors and not (explicit or patch or looks_like_manifest(path)):
            return  # a broken YAML file that is no manifest: not ours to judge
        for error in stream.errors:  # one broken document: the file's other documents are still judged
            self.unreadable(error)
        entry.documents, entry.duplicates, entry.broken = stream.documents, stream.duplicates, bool(stream.errors)
        self.files[path] = entry

    # ---- kustomizations

    def add_kustomization(self, folder: str, follow: bool) -> None:
        """Read the kustomization of a folder; with `follow`, read what it includes too."""
        kustomization = self.kustomizations.get(folder)
        if kustomization is None and folder not in self.looked_up:
            kustomization = self.read_kustomization(folder)
        if kustomization is None or not follow or folder in self.followed:
            return
        self.followed.add(folder)
        for resource in kustomization.resources:
            self.step(kustomization.source)
            if os.path.isfile(resource) and under(resource, folder):
                self.add_file(resource, explicit=True)
            elif os.path.isdir(resource):
                self.add_kustomization(resource, follow=True)
        for patch in kustomization.patches:
            if os.path.isfile(patch) and under(patch, folder):
                self.add_file(patch, patch=True)

    def read_kustomization(self, folder: str) -> Optional[Kustomization]:
        self.looked_up.add(folder)
        path = first_existing(folder, KUSTOMIZATION_NAMES)
        if path is None:
            return None
        try:
            source = self.read(path)
            documents = parse_yaml_documents(source).documents
        except InputError as exc:
            if self.size > MAX_TOTAL_CHARS:
                raise
            self.unreadable(exc)
            return None
        root = next((d for d in documents if d is not None), None)
        if root is None or not root.is_map:
            self.problems.append(Problem("not-object", Location(source.display, root.line if root else 1),
                                         "not a kustomization: the file is not a mapping of keys"))
            return None
        resources = [os.path.normpath(os.path.join(folder, r))
                     for r in _strings(root.get("resources")) + _strings(root.get("bases"))
                     + _strings(root.get("components")) if not _is_remote(r)]
        patch_refs = _strings(root.get("patchesStrategicMerge"))
        for key in ("patches", "patchesJson6902"):
            listed = root.get(key)
            patch_refs += [text for text in (text_of(item.get("path")) for item in (listed.seq() if listed else [])
                                             if item.is_map) if text]
        patches = [os.path.normpath(os.path.join(folder, p)) for p in patch_refs if "\n" not in p]
        kustomization = Kustomization(source, folder, text_of(root.get("namespace")) or None,
                                      text_of(root.get("namePrefix")) or "", text_of(root.get("nameSuffix")) or "",
                                      resources, patches)
        self.kustomizations[folder] = kustomization
        return kustomization

    def read(self, path: str) -> SourceFile:
        """read_text, within the run's budget of bytes."""
        source = read_text(path)
        self.size += len(source.text)
        if self.size > MAX_TOTAL_CHARS:
            raise InputError(source.display, f"more than {MAX_TOTAL_CHARS} characters of YAML to read in one run")
        return source

    def step(self, source: SourceFile) -> None:
        self.steps += 1
        if self.steps > MAX_KUSTOMIZE_STEPS:
            raise InputError(source.display, f"kustomizations include more than {MAX_KUSTOMIZE_STEPS} resources")

    # ---- folders

    def walk(self, top: str) -> None:
        if chart_file(top):
            self.chart(top)
            return
        for folder, dirs, files in os.walk(top):
            self.entries += len(dirs) + len(files)
            if self.entries > MAX_ENTRIES:
                raise InputError(display_path(top), f"more than {MAX_ENTRIES} entries to search below this folder")
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for name in list(dirs):
                if chart_file(os.path.join(folder, name)):
                    self.chart(os.path.join(folder, name))
                    dirs.remove(name)
            if any(name in files for name in KUSTOMIZATION_NAMES):
                self.add_kustomization(folder, follow=True)
            for name in sorted(files):
                if name.endswith(MANIFEST_SUFFIXES) and name not in KUSTOMIZATION_NAMES and not name.startswith("."):
                    self.add_file(os.path.join(folder, name))

    def add_path(self, raw: str) -> None:
        path = os.path.abspath(raw)
        if not os.path.exists(path):
            raise InputError(display_path(path), "no such file or directory")
        if os.path.basename(path) == ANSWERS_NAME and is_rancher2_stack(os.path.dirname(path)):
            path = os.path.dirname(path)  # the answers stand for their stack
        if os.path.isdir(path):
            self.walk(os.path.join(path, STACK_DIR) if is_rancher2_stack(path) else path)
        elif os.path.basename(path) in KUSTOMIZATION_NAMES:
            self.add_kustomization(os.path.dirname(path), follow=True)
        else:
            self.add_kustomization(os.path.dirname(path), follow=False)  # for its namespace and patches
            self.add_file(path, explicit=True)

    # ---- the bundle

    def placements(self) -> Dict[str, List[tuple]]:
        """(namespace, prefix, suffix, cluster) of each file some kustomization includes, from every root."""
        included = {r for k in self.kustomizations.values() for r in k.resources if r in self.kustomizations}
        found: Dict[str, List[tuple]] = {}

        def visit(k: Kustomization, namespace, prefix, suffix, cluster, path: Set[str]) -> None:
            namespace = namespace or k.namespace
            prefix, suffix, cluster = prefix + k.prefix, k.suffix + suffix, cluster or k.cluster
            for target in k.resources + k.patches:
                self.step(k.source)
                child = self.kustomizations.get(target)
                if child is not None and target not in path:
                    visit(child, namespace, prefix, suffix, cluster, path | {target})
                elif target in self.files:
                    found.setdefault(target, []).append((namespace, prefix, suffix, cluster))

        for folder, k in sorted(self.kustomizations.items()):
            if folder not in included:
                visit(k, None, "", "", None, {folder})
        return found

    def objects_of(self, entry: _File, node: YNode, placements, partial: bool, depth: int = 0) -> List[KubeObject]:
        kind = text_of(node.get("kind")) if node.is_map else None
        items = node.get("items") if node.is_map else None
        if kind and kind.endswith("List") and items is not None and items.is_seq and depth < MAX_LIST_DEPTH:
            found = []
            for item in items.seq():
                found += self.objects_of(entry, item, placements, partial, depth + 1)
            return found
        if not (node.is_map and kind and text_of(node.get("apiVersion"))):
            if not entry.patch:
                what = "a list" if node.is_seq else "a single value" if not node.is_map else (
                    "a mapping without `kind`" if not kind else "a mapping without `apiVersion`")
                self.problems.append(Problem("not-object", Location(entry.source.display, node.line, node.col),
                                             f"document is {what}, not a Kubernetes object"))
            return []
        obj = KubeObject(entry.source, node, partial)
        name, own_namespace = obj.name, obj.namespace
        if placements:
            obj.placements = [Placement(namespace or own_namespace, name and prefix + name + suffix, cluster)
                              for namespace, prefix, suffix, cluster in placements]
        else:
            folder = os.path.basename(os.path.dirname(entry.path))
            obj.placements = [Placement(own_namespace, name, folder if folder in CLUSTERS else None)]
        return [obj]

    def bundle(self, access: Optional[str]) -> Bundle:
        placements = self.placements()
        answered: Dict[str, Optional[str]] = {}  # by folder
        objects: List[KubeObject] = []
        whole: Dict[str, tuple] = {}
        sources = [k.source for k in self.kustomizations.values()]
        for path, entry in self.files.items():
            documents = [d for d in entry.documents if d is not None]
            kustomization = self.kustomizations.get(os.path.dirname(path))
            partial = entry.patch or (kustomization is not None and not kustomization.lists(path))
            before = len(self.problems)
            self.problems += [Problem("duplicate", d.location, f"{d.message}: kubectl refuses the document")
                              for d in entry.duplicates]
            found = []
            for document in documents:
                found += self.objects_of(entry, document, placements.get(path), partial)
            if not found and not (entry.explicit or entry.patch):
                del self.problems[before:]  # a YAML file that is no manifest: not ours to judge
                continue
            if not documents and entry.explicit and not entry.broken:
                self.problems.append(Problem("not-object", Location(entry.source.display, 1),
                                             "the file holds no Kubernetes object"))
            folder = os.path.dirname(path)  # "" for standard input, which belongs to no stack
            if access is None and folder not in answered:
                answered[folder] = stack_access(folder) if folder else None
            for obj in found:
                obj.access = access or answered.get(folder)
                obj.access_origin = "--access" if access else ANSWERS_NAME
            objects += found
            sources.append(entry.source)
            if not entry.broken and not entry.duplicates and entry.source.display != STDIN_DISPLAY:
                whole[entry.source.display] = (entry.source, entry.documents)
        return Bundle(objects, sources, self.problems, whole_files=whole)


def load_bundle(paths: List[str], access: Optional[str] = None, stdin: Optional[SourceFile] = None) -> Bundle:
    """The bundle of every PATH (`-`: the text of `stdin`); TemplateError when all they hold is templates
    (Helm charts, `{{ }}` files), which are declined like any template rather than passed with nothing judged."""
    reader = _Reader()
    for path in paths:
        if path == STDIN and stdin is not None:
            reader.add_source(stdin.path, stdin)
        else:
            reader.add_path(path)
    bundle = reader.bundle(access)
    if not bundle.objects and bundle.problems and all(p.what == "template" for p in bundle.problems):
        first = bundle.problems[0]
        raise TemplateError(first.location.path, first.message, first.location.line)
    return bundle
