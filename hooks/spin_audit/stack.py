"""The stack as Rancher sees it: docker-compose.yml merged with rancher-compose.yml.

Finding a stack from a path, loading its files, and the per-service view the rules
read (effective user, mounts, labels), each value still carrying its file and line.
"""

from __future__ import annotations

import os
import posixpath
import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from spin_audit.dockerfile import Dockerfile, parse_dockerfile
from spin_audit.facts import GLOBAL_ROOT
from spin_audit.loader import InputError, SourceFile, YamlFile, YNode, display_path, load_yaml, read_text
from spin_audit.registry import Location

COMPOSE_NAMES = ("docker-compose.yml", "docker-compose.yaml")
RANCHER_NAMES = ("rancher-compose.yml", "rancher-compose.yaml")
ANSWERS_NAME = ".copier-answers.yml"
ACCESS_LEVELS = ("public", "authenticated", "private")
TEMPLATE_SUFFIXES = (".jinja", ".j2", ".tmpl", ".template")


def is_dockerfile_name(name: str) -> bool:
    """Dockerfile, Dockerfile.prod, web.dockerfile; not a template that renders one."""
    lower = name.lower()
    if lower.endswith(TEMPLATE_SUFFIXES):
        return False
    return lower == "dockerfile" or lower.startswith("dockerfile.") or lower.endswith(".dockerfile")


@dataclass
class Field:
    """A service key's value and the file it came from."""

    node: YNode
    source: SourceFile

    def at(self, node: Optional[YNode] = None, key: bool = False) -> Location:
        target = node or self.node
        if key:
            return Location(self.source.display, target.key_line, target.key_col)
        return Location(self.source.display, target.line, target.col)

    @property
    def key_location(self) -> Location:
        return self.at(key=True)


@dataclass
class Mount:
    """One entry of a service's `volumes`."""

    volumes: Field  # the service's `volumes` key
    node: YNode  # this entry
    source: str  # host path, volume name, or "" for an anonymous volume
    target: str
    read_only: bool
    kind: str  # "bind", "volume" or "anonymous"
    path: str = ""  # normalised host path of a bind mount

    @property
    def is_global(self) -> bool:
        return self.kind == "bind" and (self.path == GLOBAL_ROOT or self.path.startswith(GLOBAL_ROOT + "/"))

    @property
    def location(self) -> Location:
        return self.volumes.at(self.node)


def normalise_host_path(path: str) -> str:
    """Collapse `//`, `.` and `..` and a trailing `/`, as the kernel resolves the path."""
    return posixpath.normpath(re.sub("/+", "/", path)) if path.startswith("/") else path


def parse_volume(volumes: Field, node: YNode) -> Optional[Mount]:
    """Read the short form `source:target[:options]` or the long form mapping."""
    if node.is_map:
        kind_node, src, tgt, ro = node.get("type"), node.get("source"), node.get("target"), node.get("read_only")
        source = src.text() if src else None
        target = (tgt.text() if tgt else None) or ""
        read_only = bool(ro and ro.value is True)
        if not source:
            return Mount(volumes, node, "", target, read_only, "anonymous")
        kind = kind_node.text() if kind_node else None
        if kind == "bind" or (kind is None and source.startswith(("/", ".", "~"))):
            return Mount(volumes, node, source, target, read_only, "bind", normalise_host_path(source))
        return Mount(volumes, node, source, target, read_only, "volume")
    text = node.text()
    if text is None:
        return None
    parts = text.split(":")
    if len(parts) == 1:
        return Mount(volumes, node, "", parts[0], False, "anonymous")
    source, target, options = parts[0], parts[1], ",".join(parts[2:])
    read_only = "ro" in options.split(",")
    if source.startswith(("/", ".", "~")):
        return Mount(volumes, node, source, target, read_only, "bind", normalise_host_path(source))
    return Mount(volumes, node, source, target, read_only, "volume")


@dataclass
class User:
    """The `user:` a service runs as, split into its parts."""

    text: str
    uid: str
    gid: Optional[str]

    @property
    def numeric(self) -> bool:
        return self.uid.isdigit() and (self.gid is None or self.gid.isdigit())

    @property
    def root(self) -> bool:
        return self.uid == "root" or (self.uid.isdigit() and int(self.uid) == 0)


@dataclass
class Service:
    name: str
    compose: Optional[Field]  # the service mapping in docker-compose.yml
    rancher: Optional[Field]  # the service mapping in rancher-compose.yml
    _mounts: Optional[List[Mount]] = field(default=None, repr=False)

    @property
    def location(self) -> Location:
        source = self.compose or self.rancher
        assert source is not None
        return source.at(key=True)

    def get(self, key: str) -> Optional[Field]:
        """The effective value of a key: rancher-compose.yml overrides docker-compose.yml."""
        for part in (self.rancher, self.compose):
            if part is not None and part.node.is_map:
                node = part.node.get(key)
                if node is not None:
                    return Field(node, part.source)
        return None

    @property
    def mounts(self) -> List[Mount]:
        if self._mounts is None:
            found = self.get("volumes")
            mounts = [parse_volume(found, n) for n in found.node.seq()] if found else []
            self._mounts = [m for m in mounts if m is not None]
        return self._mounts

    @property
    def global_mounts(self) -> List[Mount]:
        return [m for m in self.mounts if m.is_global]

    @property
    def user(self) -> Optional[User]:
        found = self.get("user")
        if found is None or not found.node.is_scalar or found.node.value is None:
            return None
        text = str(found.node.raw if found.node.is_plain else found.node.value).strip()
        uid, sep, gid = text.partition(":")
        return User(text, uid, gid if sep else None)

    def labels(self) -> Dict[str, Optional[str]]:
        """Label values by name, from the mapping or the `name=value` list form."""
        found = self.get("labels")
        result: Dict[str, Optional[str]] = {}
        if found is None:
            return result
        for key, node in found.node.items():
            result[str(key)] = node.text()
        for node in found.node.seq():
            text = node.text()
            if text is not None:
                name, eq, value = text.partition("=")
                result[name.strip()] = value if eq else None
        return result

    def capabilities(self, key: str) -> List[Tuple[str, YNode, Field]]:
        """cap_add / cap_drop entries, upper-cased and without the CAP_ prefix."""
        found = self.get(key)
        result = []
        if found is None:
            return result
        for node in found.node.seq():
            text = node.text()
            if text is not None:
                name = text.strip().upper()
                result.append((name[4:] if name.startswith("CAP_") else name, node, found))
        return result


@dataclass
class DockerfileUse:
    dockerfile: Dockerfile
    service: Optional[str]  # the compose service built from it, if known


@dataclass
class Stack:
    root: str  # absolute directory
    name: str
    name_origin: str
    access: Optional[str]
    access_origin: str
    compose: Optional[YamlFile]
    rancher: Optional[YamlFile]
    answers: Optional[YamlFile]
    dockerfiles: List[DockerfileUse]
    services: Dict[str, Service]
    cache: Dict[str, Any] = field(default_factory=dict, repr=False)  # results shared by rules

    @property
    def sources(self) -> List[SourceFile]:
        files = [f.source for f in (self.compose, self.rancher, self.answers) if f is not None]
        return files + [use.dockerfile.source for use in self.dockerfiles]

    def top(self, key: str) -> Optional[Field]:
        """A top-level key of docker-compose.yml."""
        if self.compose is None:
            return None
        node = self.compose.root.get(key)
        return Field(node, self.compose.source) if node is not None else None

    def top_map(self, key: str) -> Dict[str, YNode]:
        found = self.top(key)
        return {str(k): v for k, v in found.node.items()} if found else {}


@dataclass
class Target:
    """What one PATH argument asks for: a stack root, or a Dockerfile outside any stack."""

    root: str
    has_compose: bool
    extra_files: List[str] = field(default_factory=list)


def _first_existing(directory: str, names: Tuple[str, ...]) -> Optional[str]:
    for name in names:
        candidate = os.path.join(directory, name)
        if os.path.isfile(candidate):
            return candidate
    return None


def find_targets(paths: List[str]) -> List[Target]:
    """Map each PATH to its stack, once per stack, in the order given."""
    targets: Dict[str, Target] = {}
    for raw in paths:
        path = os.path.abspath(raw)
        if not os.path.exists(path):
            raise InputError(display_path(path), "no such file or directory")
        if os.path.isdir(path):
            if _first_existing(path, COMPOSE_NAMES) is None:
                raise InputError(display_path(path), "no docker-compose.yml in this directory")
            targets.setdefault(path, Target(path, True))
            continue
        directory = os.path.dirname(path)
        root = directory
        while _first_existing(root, COMPOSE_NAMES) is None:
            parent = os.path.dirname(root)
            if parent == root:
                root = ""
                break
            root = parent
        if root:
            target = targets.setdefault(root, Target(root, True))
        elif is_dockerfile_name(os.path.basename(path)):
            target = targets.setdefault(path, Target(directory, False))
        else:
            raise InputError(display_path(path), "not part of a stack: no docker-compose.yml in its folder or above")
        if is_dockerfile_name(os.path.basename(path)) and path not in target.extra_files:
            target.extra_files.append(path)
    return list(targets.values())


def _services_of(doc: Optional[YamlFile]) -> List[Tuple[str, YNode, SourceFile]]:
    if doc is None:
        return []
    services = doc.root.get("services")
    if services is None or not services.is_map:
        return []
    return [(str(name), node, doc.source) for name, node in services.items()]


def _build_contexts(compose: Optional[YamlFile], root: str) -> Dict[str, str]:
    """Dockerfile path -> service, from each service's `build:`."""
    found: Dict[str, str] = {}
    for name, node, _ in _services_of(compose):
        build = node.get("build")
        if build is None:
            continue
        context_node = build.get("context") if build.is_map else build
        dockerfile_node = build.get("dockerfile") if build.is_map else None
        context = context_node.text() if context_node else None
        if context is None or "://" in context:
            continue
        dockerfile = (dockerfile_node.text() if dockerfile_node else None) or "Dockerfile"
        found[os.path.normpath(os.path.join(root, context, dockerfile))] = name
    return found


def _discover_dockerfiles(root: str) -> List[str]:
    """Dockerfiles at the stack root and one folder down (web/Dockerfile, app/Dockerfile)."""
    found = []
    try:
        entries = sorted(os.scandir(root), key=lambda e: e.name)
    except OSError as exc:
        raise InputError(display_path(root), exc.strerror or str(exc)) from None
    for entry in entries:
        if entry.name.startswith("."):
            continue
        if entry.is_file() and is_dockerfile_name(entry.name):
            found.append(entry.path)
        elif entry.is_dir(follow_symlinks=False):
            try:
                children = sorted(os.scandir(entry.path), key=lambda e: e.name)
            except OSError:
                continue
            found.extend(c.path for c in children if c.is_file() and is_dockerfile_name(c.name))
    return found


def load_stack(target: Target, access: Optional[str] = None, stack_name: Optional[str] = None) -> Stack:
    """Read every file of the stack; InputError if one cannot be read or parsed."""
    root = target.root
    compose = rancher = answers = None
    if target.has_compose:
        compose_path = _first_existing(root, COMPOSE_NAMES)
        assert compose_path is not None
        compose = load_yaml(compose_path)
        rancher_path = _first_existing(root, RANCHER_NAMES)
        rancher = load_yaml(rancher_path) if rancher_path else None
        answers_path = os.path.join(root, ANSWERS_NAME)
        answers = load_yaml(answers_path) if os.path.isfile(answers_path) else None

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

    services: Dict[str, Service] = {}
    for svc_name, node, source in _services_of(compose):
        services[svc_name] = Service(svc_name, Field(node, source), None)
    for svc_name, node, source in _services_of(rancher):
        field_ = Field(node, source)
        if svc_name in services:
            services[svc_name].rancher = field_
        else:
            services[svc_name] = Service(svc_name, None, field_)

    paths = _discover_dockerfiles(root) if target.has_compose else []
    paths += [p for p in target.extra_files if p not in paths]
    contexts = _build_contexts(compose, root)
    uses = []
    for path in paths:
        service = contexts.get(os.path.normpath(path))
        if service is None and os.path.dirname(path) != root:
            folder = os.path.basename(os.path.dirname(path))
            service = folder if folder in services and services[folder].compose is not None else None
        uses.append(DockerfileUse(parse_dockerfile(read_text(path)), service))
    return Stack(root, name, name_origin, access, access_origin, compose, rancher, answers, uses, services)
