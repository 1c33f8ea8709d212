"""The Kubernetes objects the rules read, each value still carrying its file and line.

A Bundle holds every object read from the PATHs, where kustomize puts it (namespace,
name, cluster), and the input the rules cannot judge as objects (unreadable files,
templates, documents that are not objects). PodSpec and Container give the view Spin's
policies take of a workload: every pod template, every container with its security
context resolved as Kubernetes resolves it, every volume and mount.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Dict, Iterator, List, Optional, Tuple

from spin_audit.kube.facts import GLOBAL_ROOT
from spin_audit.loader import SourceFile, YNode
from spin_audit.registry import Location

# Where each workload kind keeps its pod spec.
POD_SPEC_PATHS: Dict[str, Tuple[str, ...]] = {
    "Pod": ("spec",),
    "PodTemplate": ("template", "spec"),
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "ReplicationController": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}
CONTAINER_LISTS = (("initContainers", "init container"), ("containers", "container"),
                   ("ephemeralContainers", "ephemeral container"))
# Settings a container's securityContext takes over from the pod's when it does not set them.
POD_LEVEL_SETTINGS = ("runAsUser", "runAsGroup", "runAsNonRoot", "seLinuxOptions", "seccompProfile")


def dig(node: Optional[YNode], *keys: str) -> Optional[YNode]:
    """node[k1][k2]...; None where a step is missing or not a mapping."""
    for key in keys:
        if node is None:
            return None
        node = node.get(key)
    return node


def text_of(node: Optional[YNode]) -> Optional[str]:
    """A scalar's text, stripped; None for a collection, null or a missing node."""
    text = node.text() if node is not None else None
    return text.strip() if text is not None else None


def integer(node: Optional[YNode]) -> Optional[int]:
    """An integer as YAML wrote it (Kubernetes refuses `"1000"` where it wants a number)."""
    if node is None or isinstance(node.value, bool) or not isinstance(node.value, int):
        return None
    return node.value


def normalise_path(path: str) -> str:
    """Collapse `//`, `.` and `..` and a trailing `/`, as the kernel resolves the path."""
    return posixpath.normpath(re.sub("/+", "/", path)) if path.startswith("/") else path


def under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


@dataclass
class Placement:
    """Where an object lands when applied: after kustomize, or as the manifest says."""

    namespace: Optional[str]  # None: kubectl's current namespace, not knowable here
    name: Optional[str]  # with kustomize's namePrefix and nameSuffix
    cluster: Optional[str]  # development or production, when a folder on the way is named so


@dataclass
class Problem:
    """Input the rules cannot judge as objects; `what` is "unreadable", "template", "not-object" or
    "duplicate" (a key written twice: the object is judged all the same)."""

    what: str
    location: Location
    message: str


@dataclass
class KubeObject:
    """One Kubernetes object (a document, or an item of a `kind: List`)."""

    source: SourceFile
    node: YNode
    partial: bool = False  # a kustomize patch (or a file its kustomization leaves out): judged for what it sets
    placements: List[Placement] = field(default_factory=list)
    access: Optional[str] = None  # who can reach the stack (public, authenticated, private), when known
    access_origin: str = ""  # where that came from: --access or the stack's .copier-answers.yml

    @property
    def kind(self) -> str:
        return text_of(self.node.get("kind")) or ""

    @property
    def metadata(self) -> Optional[YNode]:
        return self.node.get("metadata")

    @property
    def name(self) -> Optional[str]:
        return text_of(dig(self.node, "metadata", "name"))

    @property
    def namespace(self) -> Optional[str]:
        return text_of(dig(self.node, "metadata", "namespace"))

    @property
    def label(self) -> str:
        return f"{self.kind or 'object'} '{self.name or '?'}'"

    def at(self, node: Optional[YNode] = None, key: bool = False) -> Location:
        target = node or self.node
        if key:
            return Location(self.source.display, target.key_line, target.key_col)
        return Location(self.source.display, target.line, target.col)

    def where(self, start: Optional[YNode], *keys: str) -> Location:
        """The key line of start[k1][k2]..., or of the deepest part of it that exists."""
        node = start or self.node
        for key in keys:
            child = node.get(key)
            if child is None:
                break
            node = child
        return self.at(node, key=node is not self.node)

    def annotations(self) -> List[Tuple[str, YNode]]:
        """(name, value) of metadata.annotations, here and on a pod template."""
        found = []
        for meta in (self.metadata, *(pod.metadata for pod in pod_specs(self))):
            annotations = dig(meta, "annotations")
            if annotations is not None:
                found += [(str(name), value) for name, value in annotations.items()]
        return found


@dataclass
class Volume:
    pod: "PodSpec"
    node: YNode  # the entry of spec.volumes
    name: Optional[str]

    @property
    def host_path(self) -> Optional[YNode]:
        return dig(self.node, "hostPath", "path")

    @property
    def path(self) -> Optional[str]:
        """The host path, normalised; None for other volume types or a path not written as text."""
        raw = text_of(self.host_path)
        return normalise_path(raw) if raw else None

    @property
    def is_global(self) -> bool:
        return self.path is not None and under(self.path, GLOBAL_ROOT)

    @property
    def location(self) -> Location:
        return self.pod.obj.at(self.host_path or self.node)


@dataclass
class Mount:
    container: "Container"
    node: YNode  # the entry of volumeMounts
    volume: Optional[Volume]  # None when the pod declares no volume of that name

    @property
    def read_only(self) -> bool:
        return self.node.get("readOnly") is not None and self.node.get("readOnly").value is True

    @property
    def location(self) -> Location:
        return self.container.pod.obj.at(self.node)


@dataclass
class Container:
    pod: "PodSpec"
    node: YNode
    role: str  # "container", "init container" or "ephemeral container"

    @property
    def name(self) -> str:
        return text_of(self.node.get("name")) or "?"

    @property
    def label(self) -> str:
        return f"{self.pod.obj.label} {self.role} '{self.name}'"

    @property
    def location(self) -> Location:
        """The container's `name:` line, else its first line."""
        name = self.node.get("name")
        return self.pod.obj.at(name, key=True) if name is not None else self.pod.obj.at(self.node)

    def where(self, *keys: str) -> Location:
        """Where a setting is, or would go: the deepest of `keys` the container has, else its name."""
        node, found = self.node, False
        for key in keys:
            child = node.get(key)
            if child is None:
                break
            node, found = child, True
        return self.pod.obj.at(node, key=True) if found else self.location

    def setting(self, key: str) -> Optional[YNode]:
        """securityContext[key] of this container."""
        return dig(self.node, "securityContext", key)

    def resolved(self, key: str) -> Tuple[Optional[YNode], str]:
        """A setting as Kubernetes resolves it: the container's, else the pod's; and which it was."""
        own = self.setting(key)
        if own is not None and own.value is not None:
            return own, "container"
        pod = self.pod.setting(key) if key in POD_LEVEL_SETTINGS else None
        if pod is not None and pod.value is not None:
            return pod, "pod"
        return None, ""

    def capabilities(self, which: str) -> List[Tuple[str, YNode]]:
        """capabilities.add or .drop, upper-cased and without a CAP_ prefix, with their nodes."""
        found = []
        listed = dig(self.node, "securityContext", "capabilities", which)
        for item in listed.seq() if listed is not None else []:
            text = text_of(item)
            if text:
                name = text.upper()
                found.append((name[4:] if name.startswith("CAP_") else name, item))
        return found

    @cached_property
    def mounts(self) -> List[Mount]:
        listed = self.node.get("volumeMounts")
        result = []
        for item in listed.seq() if listed is not None else []:
            if item.is_map:
                result.append(Mount(self, item, self.pod.volumes.get(text_of(item.get("name")) or "")))
        return result

    @property
    def image(self) -> Optional[YNode]:
        return self.node.get("image")

    def env(self) -> Iterator[Tuple[str, YNode]]:
        """(name, entry) of each `env` entry that names a variable."""
        listed = self.node.get("env")
        for item in listed.seq() if listed is not None else []:
            name = text_of(item.get("name")) if item.is_map else None
            if name:
                yield name, item


@dataclass
class PodSpec:
    obj: KubeObject
    node: YNode  # the pod spec mapping
    metadata: Optional[YNode]  # the pod template's metadata (None for a Pod, whose metadata is the object's)

    def setting(self, key: str) -> Optional[YNode]:
        """securityContext[key] of the pod."""
        return dig(self.node, "securityContext", key)

    @cached_property
    def containers(self) -> List[Container]:
        """Every container, init and ephemeral ones included."""
        found = []
        for key, role in CONTAINER_LISTS:
            listed = self.node.get(key)
            for item in listed.seq() if listed is not None else []:
                if item.is_map:
                    found.append(Container(self, item, role))
        return found

    @cached_property
    def volumes(self) -> Dict[str, Volume]:
        listed = self.node.get("volumes")
        found: Dict[str, Volume] = {}
        for item in listed.seq() if listed is not None else []:
            if item.is_map:
                name = text_of(item.get("name"))
                found.setdefault(name or "", Volume(self, item, name))
        return found

    @property
    def labels(self) -> Dict[str, str]:
        """The labels of the pods (the template's, or a Pod's own), which Services select."""
        meta = self.metadata if self.metadata is not None else self.obj.metadata
        found = dig(meta, "labels")
        return {str(k): text_of(v) or "" for k, v in found.items()} if found is not None else {}

    @property
    def host_volumes(self) -> List[Volume]:
        return [v for v in self.volumes.values() if v.host_path is not None]

    @property
    def global_volumes(self) -> List[Volume]:
        return [v for v in self.volumes.values() if v.is_global]


def pod_specs(obj: KubeObject) -> List[PodSpec]:
    """The pod spec of a workload (empty for other kinds, or when the spec is not a mapping)."""
    path = POD_SPEC_PATHS.get(obj.kind)
    if path is None:
        return []
    spec = dig(obj.node, *path)
    if spec is None or not spec.is_map:
        return []
    metadata = None if obj.kind == "Pod" else dig(obj.node, *path[:-1], "metadata")
    return [PodSpec(obj, spec, metadata)]


@dataclass
class Bundle:
    """Everything read from the PATHs: objects, the files they came from, and what could not be judged."""

    objects: List[KubeObject]
    sources: List[SourceFile]
    problems: List[Problem]
    cache: Dict[str, Any] = field(default_factory=dict, repr=False)
    # The manifests `--fix` may write, by path as shown, with their documents: read whole, every document
    # parsed and no key written twice; never standard input, a template or a file of a Helm chart.
    whole_files: Dict[str, Tuple[SourceFile, List[Optional[YNode]]]] = field(default_factory=dict, repr=False)

    def yaml_files(self) -> Dict[str, Tuple[SourceFile, List[Optional[YNode]]]]:
        return self.whole_files

    def of_kind(self, *kinds: str) -> List[KubeObject]:
        return [obj for obj in self.objects if obj.kind in kinds]

    @property
    def pods(self) -> List[PodSpec]:
        if "pods" not in self.cache:
            self.cache["pods"] = [pod for obj in self.objects for pod in pod_specs(obj)]
        return self.cache["pods"]

    @property
    def containers(self) -> List[Container]:
        if "containers" not in self.cache:
            self.cache["containers"] = [c for pod in self.pods for c in pod.containers]
        return self.cache["containers"]


def _same_namespace(a: KubeObject, b: KubeObject) -> bool:
    return a.namespace is None or b.namespace is None or a.namespace == b.namespace


def _backend_names(ingress: KubeObject) -> List[str]:
    """The Services an Ingress sends traffic to (networking.k8s.io/v1 and the older v1beta1 forms)."""
    spec = ingress.node.get("spec")
    backends = [dig(spec, "defaultBackend"), dig(spec, "backend")]
    rules = dig(spec, "rules")
    for rule in rules.seq() if rules is not None else []:
        paths = dig(rule, "http", "paths")
        backends += [dig(path, "backend") for path in (paths.seq() if paths is not None else [])]
    names = [text_of(dig(b, "service", "name")) or text_of(dig(b, "serviceName")) for b in backends if b is not None]
    return [name for name in names if name]


def entrances(bundle: Bundle) -> Dict[int, str]:
    """How users reach each pod that serves them, by id of its PodSpec: "Ingress 'web'" or "LoadBalancer Service
    'db'", from the Services in the bundle whose selector matches the pod's labels."""
    if "entrances" in bundle.cache:
        return bundle.cache["entrances"]
    ingresses = bundle.of_kind("Ingress")
    found: Dict[int, str] = {}
    for service in bundle.of_kind("Service"):
        kind = text_of(dig(service.node, "spec", "type"))
        via = next((f"Ingress '{i.name}'" for i in ingresses
                    if _same_namespace(i, service) and service.name in _backend_names(i)), None)
        if via is None and kind in ("LoadBalancer", "NodePort"):
            via = f"{kind} Service '{service.name}'"
        selector = dig(service.node, "spec", "selector")
        wanted = {str(k): text_of(v) or "" for k, v in selector.items()} if selector is not None else {}
        if via is None or not wanted:
            continue
        for pod in bundle.pods:
            if _same_namespace(pod.obj, service) and wanted.items() <= pod.labels.items():
                found.setdefault(id(pod), via)
    bundle.cache["entrances"] = found
    return found

