"""The stack as Rancher sees it: its compose files merged in `rancher up` order.

`rancher up --file A --file B --rancher-file R` reads A, then B over it, then R over both:
per service and key, a later mapping adds to and overrides an earlier one, a later list
extends an earlier one, and a later scalar replaces it (environment and labels merge by
name, volumes and devices by container path, as docker-compose does). This module loads
those files and gives the rules that merged view, each value still carrying its own file
and line, plus the stack's name, access level and Dockerfiles.
"""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Iterator

from spin_audit.dockerfile import Dockerfile, parse_dockerfile
from spin_audit.facts import GLOBAL_ROOT
from spin_audit.interpolation import UNKNOWN, expand, split_outside_variables
from spin_audit.loader import STDIN, STDIN_DISPLAY, InputError, SourceFile, YamlFile, YNode, load_yaml, parse_yaml, read_text
from spin_audit.registry import Location
from spin_audit.targets import ANSWERS_NAME, YAML_SUFFIXES, Target

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing at start-up
if TYPE_CHECKING:
    from typing import Any

ACCESS_LEVELS = ("public", "authenticated", "private")
CATALOG_KEYS = (".catalog", "catalog")  # a catalog entry's metadata in rancher-compose.yml, not a service
MERGED_BY_NAME = ("environment", "labels")
MERGED_BY_TARGET = ("volumes", "devices")
MAX_FOLDER_ENTRIES = 1000  # entries of a stack's folder looked at for compose files it did not name
CRON_LABEL = "cron.schedule"  # Rancher's cron service starts the container on this schedule
START_ONCE_LABEL = "io.rancher.container.start_once"  # runs to completion, not restarted
TRUE_WORDS = ("true", "yes", "on", "1")  # what Rancher takes as true in a string
EXTENSION_PREFIX = "x-"  # compose's extension fields (x-common: &common ...), for other tools and anchors


def is_extension(key: Any) -> bool:
    return isinstance(key, str) and key.startswith(EXTENSION_PREFIX)


class ComposeFile:
    """One compose file as read: a docker-compose file (role "compose") or a rancher-compose one.

    Format 2 has `version: '2'` and the services under `services:`. Format 1, which Rancher 1.6
    still reads, has no `version` and every top-level key is a service.
    """

    __slots__ = ("doc", "role")

    def __init__(self, doc: YamlFile, role: str):
        self.doc = doc
        self.role = role  # "compose" or "rancher"

    @property
    def source(self) -> SourceFile:
        return self.doc.source

    @property
    def display(self) -> str:
        return self.doc.source.display

    @property
    def name(self) -> str:
        """The file's own name, for messages (the finding's location already says where it is)."""
        return os.path.basename(self.doc.source.path)

    @property
    def root(self) -> YNode:
        return self.doc.root

    @property
    def start(self) -> Location:
        """Where a finding about the whole file points: its first key (line 1 may be a comment)."""
        first = next(iter(self.root.value.values()), None)
        return first.at(key=True) if first is not None else Location(self.display, 1)

    @property
    def catalog_only(self) -> bool:
        """A rancher-compose file that holds only a catalog entry's metadata (no Rancher settings)."""
        return self.role == "rancher" and all(key in CATALOG_KEYS for key in self.root.value)

    @property
    def format(self) -> int:
        has = self.root.value
        return 1 if "version" not in has and "services" not in has and not self.catalog_only else 2

    def services(self) -> list[tuple[str, YNode]]:
        """The service mappings (or whatever was written in their place), by name."""
        if self.format == 1:
            return [(str(name), node) for name, node in self.root.items()
                    if not (self.role == "rancher" and name in CATALOG_KEYS) and not is_extension(name)]
        services = self.root.get("services")
        return [(str(name), node) for name, node in services.items()] if services is not None else []


class Field:
    """The effective value of a key (or a top-level section)."""

    __slots__ = ("node",)

    def __init__(self, node: YNode):
        self.node = node

    def at(self, node: YNode | None = None, key: bool = False) -> Location:
        return (node or self.node).at(key)

    @property
    def key_location(self) -> Location:
        return self.node.at(key=True)


class Mount:
    """One entry of a service's `volumes`."""

    __slots__ = ("node", "source", "read_only", "kind", "path", "exact")

    def __init__(self, node: YNode, source: str, read_only: bool, kind: str, path: str = "",
                 exact: bool = True):
        self.node = node  # this entry
        self.source = source  # host path, volume name, or "" for an anonymous volume (variables at their defaults)
        self.read_only = read_only
        self.kind = kind  # "bind", "volume", "anonymous", or "unknown" (a variable without default decides)
        self.path = path  # normalised host path of a bind mount; UNKNOWN stands for a variable's part
        self.exact = exact  # False when a variable without default is part of the host path

    @property
    def is_global(self) -> bool:
        return self.kind == "bind" and (self.path == GLOBAL_ROOT or self.path.startswith(GLOBAL_ROOT + "/"))

    @property
    def is_relative(self) -> bool:
        """A host path Rancher resolves on the Spin node: ./data, ../data, ~/data."""
        return self.kind == "bind" and not self.source.startswith("/")

    @property
    def location(self) -> Location:
        return self.node.at()


def normalise_host_path(path: str) -> str:
    """Collapse `//`, `.` and `..` and a trailing `/`, as the kernel resolves the path."""
    return posixpath.normpath(re.sub("/+", "/", path)) if path.startswith("/") else path


def _mount(node: YNode, written: str | None, read_only: bool, bind: bool | None) -> Mount:
    """A mount from its written source; `bind` None: decide from the source's shape."""
    if not written:
        return Mount(node, "", read_only, "anonymous")
    source = expand(written, UNKNOWN)
    assert source is not None
    if source.startswith(UNKNOWN):
        return Mount(node, written, read_only, "unknown", exact=False)
    if bind or (bind is None and source.startswith(("/", ".", "~"))):
        return Mount(node, source, read_only, "bind", normalise_host_path(source), UNKNOWN not in source)
    return Mount(node, source, read_only, "volume", exact=UNKNOWN not in source)


def parse_volume(node: YNode) -> Mount | None:
    """Read the short form `source:target[:options]` or the long form mapping."""
    if node.is_map:
        kind_node, src, ro = node.get("type"), node.get("source"), node.get("read_only")
        kind = kind_node.text() if kind_node else None
        return _mount(node, src.text() if src else None, bool(ro and ro.value is True),
                      True if kind == "bind" else None if kind is None else False)
    text = node.text()
    if text is None:
        return None
    parts = split_outside_variables(text, ":")
    if len(parts) == 1:
        return Mount(node, "", False, "anonymous")
    options = ",".join(parts[2:]).split(",")  # ro, rw, z, ... : `/a:/b:ro,z`
    return _mount(node, parts[0], "ro" in options, None)


class User:
    """The `user:` a service runs as, split into its parts (variables at their defaults)."""

    __slots__ = ("text", "uid", "gid", "known")

    def __init__(self, text: str, uid: str, gid: str | None, known: bool = True):
        self.text = text
        self.uid = uid
        self.gid = gid
        self.known = known  # False when a variable without default decides it

    @property
    def numeric(self) -> bool:
        return self.known and self.uid.isdigit() and (self.gid is None or self.gid.isdigit())

    @property
    def root(self) -> bool:
        return self.known and (self.uid == "root" or (self.uid.isdigit() and int(self.uid) == 0))


def _named_entries(node: YNode) -> list[tuple[str, YNode]]:
    """Environment or label entries by name, each as a `NAME=value` item of a list."""
    if node.is_map:
        return [(str(key), value.derived(f"{key}={value.text() or ''}" if value.value is not None else str(key),
                                         raw=None)) for key, value in node.items()]
    return [((item.text() or "").partition("=")[0].strip(), item) for item in node.seq()]


def _mount_target(node: YNode) -> str:
    if node.is_map:
        target = node.get("target")
        return (target.text() if target is not None else None) or ""
    parts = split_outside_variables(node.text() or "", ":")
    return parts[1] if len(parts) > 1 else parts[0]


def merge_values(key: str, earlier: YNode, later: YNode) -> YNode:
    """One key's value after a later file sets it again, as docker-compose merges them."""
    if earlier.is_map and later.is_map:
        return later.derived({**earlier.value, **later.value})
    if key in MERGED_BY_NAME and not (earlier.is_scalar or later.is_scalar):
        entries = dict(_named_entries(earlier))
        entries.update(_named_entries(later))
        return later.derived(list(entries.values()))
    if earlier.is_seq and later.is_seq:
        if key in MERGED_BY_TARGET:
            by_target = {_mount_target(item) or str(id(item)): item for item in earlier.value}
            by_target.update({_mount_target(item) or str(id(item)): item for item in later.value})
            return later.derived(list(by_target.values()))
        return later.derived(earlier.value + later.value)
    return later


class Service:
    """One service as Rancher sees it: its mapping in each file, and the merged values."""

    __slots__ = ("name", "parts", "_merged", "_mounts")

    def __init__(self, name: str):
        self.name = name
        self.parts: list[tuple[ComposeFile, YNode]] = []  # its mapping in each file, in merge order
        self._merged: dict[str, Field | None] = {}
        self._mounts: list[Mount] | None = None

    @property
    def compose(self) -> Field | None:
        """The service's mapping in the first docker-compose file that defines it."""
        return next((Field(node) for file, node in self.parts if file.role == "compose"), None)

    @property
    def location(self) -> Location:
        return (self.compose or Field(self.parts[0][1])).key_location

    def get(self, key: str) -> Field | None:
        """The effective value of a key, merged over the stack's files in order."""
        if key not in self._merged:
            value: YNode | None = None
            for _, mapping in self.parts:
                node = mapping.get(key)
                if node is not None:
                    value = node if value is None else merge_values(key, value, node)
                elif value is not None and key in ("image", "build") and mapping.get(
                        "build" if key == "image" else "image") is not None:
                    value = None  # a later `build` drops an earlier `image`, and the other way round
            self._merged[key] = Field(value) if value is not None else None
        return self._merged[key]

    @property
    def mounts(self) -> list[Mount]:
        if self._mounts is None:
            found = self.get("volumes")
            mounts = [parse_volume(n) for n in found.node.seq()] if found else []
            self._mounts = [m for m in mounts if m is not None]
        return self._mounts

    @property
    def global_mounts(self) -> list[Mount]:
        return [m for m in self.mounts if m.is_global]

    @property
    def user(self) -> User | None:
        found = self.get("user")
        if found is None or not found.node.is_scalar or found.node.value is None:
            return None
        written = str(found.node.raw if found.node.is_plain else found.node.value).strip()
        text = expand(written)
        uid, sep, gid = (text if text is not None else written).partition(":")
        return User(written, uid, gid if sep else None, text is not None)

    def labels(self) -> dict[str, str | None]:
        """Label values by name (variables at their defaults), from the mapping or `name=value` list."""
        found = self.get("labels")
        result: dict[str, str | None] = {}
        if found is None:
            return result
        for key, node in found.node.items():
            text = node.text()
            result[str(key)] = expand(text) if text is not None else None
        for node in found.node.seq():
            text = node.text()
            if text is not None:
                name, eq, value = text.partition("=")
                result[name.strip()] = expand(value) if eq else None
        return result

    def environment(self) -> Iterator[tuple[str, str | None, YNode, Field]]:
        """(name, value or None when unset, its node, the `environment` field) of each variable, from the
        mapping or the `NAME=value` list."""
        found = self.get("environment")
        if found is None:
            return
        for key, node in found.node.items():
            value = node.value
            yield str(key), (None if value is None or isinstance(value, (dict, list)) else str(value)), node, found
        for node in found.node.seq():
            text = node.text()
            if text is not None:
                key, eq, value = text.partition("=")
                yield key.strip(), (value if eq else None), node, found

    @property
    def is_job(self) -> bool:
        """A scheduled or one-shot job (Rancher's `cron.schedule` or `io.rancher.container.start_once`)."""
        labels = self.labels()
        return bool(labels.get(CRON_LABEL)) or (labels.get(START_ONCE_LABEL) or "").strip().lower() in TRUE_WORDS

    def capabilities(self, key: str) -> list[tuple[str, YNode, Field]]:
        """cap_add / cap_drop entries, upper-cased and without the CAP_ prefix (unknown ones left out)."""
        found = self.get(key)
        result = []
        if found is None:
            return result
        for node in found.node.seq():
            text = node.text()
            text = expand(text) if text is not None else None
            if text:
                name = text.strip().upper()
                result.append((name[4:] if name.startswith("CAP_") else name, node, found))
        return result

    def build_origin(self) -> tuple[ComposeFile, YNode] | None:
        """The last `build:` written for the service, with its file (contexts are relative to it)."""
        for file, mapping in reversed(self.parts):
            node = mapping.get("build")
            if node is not None:
                return file, node
        return None


class DockerfileUse:
    __slots__ = ("dockerfile", "service")

    def __init__(self, dockerfile: Dockerfile, service: str | None):
        self.dockerfile = dockerfile
        self.service = service  # the compose service built from it, if known


class Stack:
    """A compose stack as the rules read it."""

    __slots__ = ("root", "name", "name_origin", "access", "access_origin", "files", "answers", "dockerfiles",
                 "services", "defined_elsewhere", "cache")

    def __init__(self, root: str, name: str, name_origin: str, access: str | None, access_origin: str,
                 files: list[ComposeFile], answers: YamlFile | None, dockerfiles: list[DockerfileUse],
                 services: dict[str, Service]):
        self.root = root  # absolute directory
        self.name = name
        self.name_origin = name_origin
        self.access = access
        self.access_origin = access_origin
        self.files = files  # docker-compose files, then rancher-compose files, in merge order
        self.answers = answers
        self.dockerfiles = dockerfiles
        self.services = services
        # Services missing from the compose files read but defined in another compose file of the folder
        # (docker-compose.lb.yml), which directory mode does not read: name -> that file as shown.
        self.defined_elsewhere: dict[str, str] = {}
        self.cache: dict[str, Any] = {}  # results shared by rules

    @property
    def compose_files(self) -> list[ComposeFile]:
        return [f for f in self.files if f.role == "compose"]

    @property
    def sources(self) -> list[SourceFile]:
        files = [f.source for f in self.files] + ([self.answers.source] if self.answers is not None else [])
        return files + [use.dockerfile.source for use in self.dockerfiles]

    def yaml_files(self) -> dict[str, tuple[SourceFile, list[YNode | None]]]:
        """The compose files `--fix` may write, by path as shown, each with its one document: not standard input,
        not one with a key written twice (which value is meant is not known)."""
        return {file.display: (file.source, [file.root]) for file in self.files
                if file.source.display != STDIN_DISPLAY and not file.doc.duplicates}

    def top(self, key: str) -> Field | None:
        """A top-level section (volumes, secrets, networks) of the docker-compose files, merged."""
        value: YNode | None = None
        for file in self.compose_files:
            node = file.root.get(key) if file.format == 2 else None
            if node is not None:
                value = node if value is None else merge_values(key, value, node)
        return Field(value) if value is not None else None

    def top_map(self, key: str) -> dict[str, YNode]:
        found = self.top(key)
        return {str(k): v for k, v in found.node.items()} if found else {}


def _build_contexts(services: dict[str, Service]) -> dict[str, str]:
    """Dockerfile path -> service, from each service's `build:` (relative to its compose file)."""
    found: dict[str, str] = {}
    for service in services.values():
        origin = service.build_origin()
        if origin is None:
            continue
        file, build = origin
        context_node = build.get("context") if build.is_map else build
        dockerfile_node = build.get("dockerfile") if build.is_map else None
        context = context_node.text() if context_node else None
        if context is None or "://" in context:
            continue
        dockerfile = (dockerfile_node.text() if dockerfile_node else None) or "Dockerfile"
        base = os.path.dirname(file.source.path)
        found[os.path.normpath(os.path.join(base, context, dockerfile))] = service.name
    return found


def _services(files: list[ComposeFile]) -> dict[str, Service]:
    services: dict[str, Service] = {}
    for file in files:
        for name, node in file.services():
            services.setdefault(name, Service(name)).parts.append((file, node))
    return services


def _stack_facts(root: str, answers: YamlFile | None, access: str | None,
                 stack_name: str | None) -> tuple[str, str, str | None, str]:
    """Name and access level, each with where it came from: option, answers file, or directory."""
    name, name_origin = os.path.basename(root.rstrip(os.sep)) or root, "directory name"
    access_origin = "--access"
    if answers is not None:
        answered = answers.root.get("stack_name")
        if answered is not None and answered.text():
            name, name_origin = str(answered.text()), ANSWERS_NAME
        if access is None:
            answered = answers.root.get("access")
            if answered is not None and answered.text() in ACCESS_LEVELS:
                access, access_origin = answered.text(), ANSWERS_NAME
    if stack_name:
        name, name_origin = stack_name, "--stack"
    if access is None:
        access_origin = "unknown"
    return name, name_origin, access, access_origin


def _dockerfile_uses(target: Target, services: dict[str, Service]) -> Iterator[DockerfileUse]:
    """Each Dockerfile of the target, with the service built from it (by `build:`, else by folder)."""
    contexts = _build_contexts(services)
    for path in target.dockerfile_paths():
        service = contexts.get(os.path.normpath(path))
        if service is None and os.path.dirname(path) != target.root:
            folder = os.path.basename(os.path.dirname(path))
            service = folder if folder in services and services[folder].compose is not None else None
        yield DockerfileUse(parse_dockerfile(read_text(path)), service)


def _defined_elsewhere(target: Target, files: list[ComposeFile], missing: list[str]) -> dict[str, str]:
    """Where the `missing` services are defined among the folder's other compose files (docker-compose.lb.yml,
    lb.compose.yml): read only to say which files to name; one that cannot be read is passed over."""
    read = {os.path.abspath(file.source.path) for file in files}
    found: dict[str, str] = {}
    for entry in sorted(os.scandir(target.root), key=lambda e: e.name)[:MAX_FOLDER_ENTRIES]:
        lower = entry.name.lower()
        if "compose" not in lower or not lower.endswith(YAML_SUFFIXES) or lower.startswith("rancher-compose") or \
                entry.path in read or not entry.is_file():
            continue
        try:
            other = ComposeFile(load_yaml(entry.path), "compose")
        except InputError:
            continue
        for name, _ in other.services():
            if name in missing:
                found.setdefault(name, other.display)
    return found


def load_stack(target: Target, access: str | None = None, stack_name: str | None = None) -> Stack:
    """Read every file of the stack; InputError if one cannot be read or parsed."""
    def read(path: str) -> YamlFile:
        return parse_yaml(target.stdin) if path == STDIN and target.stdin is not None else load_yaml(path)

    files = [ComposeFile(read(path), "compose") for path in target.compose_paths()]
    files += [ComposeFile(read(path), "rancher") for path in target.rancher_paths()]
    answers_path = target.answers_path()
    answers = load_yaml(answers_path) if answers_path else None
    name, name_origin, access, access_origin = _stack_facts(target.root, answers, access, stack_name)
    services = _services(files)
    uses = list(_dockerfile_uses(target, services))
    stack = Stack(target.root, name, name_origin, access, access_origin, files, answers, uses, services)
    missing = [service.name for service in services.values() if service.compose is None]
    if missing and target.directory_mode:
        stack.defined_elsewhere = _defined_elsewhere(target, files, missing)
    return stack
