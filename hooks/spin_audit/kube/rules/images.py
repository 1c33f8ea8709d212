"""SPINK4xx: where a container's image comes from and how it is tagged."""

from __future__ import annotations

from typing import Iterator, List, Optional, Tuple

from spin_audit.fixes import SAFE, Fix, set_key
from spin_audit.kube.facts import PULL_SECRET, PULLABLE_REGISTRIES, REGISTRY, RETIRED_REGISTRIES
from spin_audit.kube.model import Bundle, Container, PodSpec, text_of
from spin_audit.kube.rules.common import kube_rule
from spin_audit.loader import YNode
from spin_audit.registry import Hit, Severity
from spin_audit.rules.images import ImageRef, parse_image

E, W = Severity.ERROR, Severity.WARNING

CACHING_POLICIES = ("IfNotPresent", "Never")


def _images(bundle: Bundle) -> List[Tuple[Container, YNode, str, Optional[ImageRef]]]:
    """(container, image node, text, parsed reference) of every image that is written out literally."""
    if "images" not in bundle.cache:
        found = []
        for container in bundle.containers:
            node = container.image
            text = text_of(node) if node is not None and isinstance(node.value, str) else None
            if node is not None and text and "$" not in text:  # $(VAR) and ${VAR} are filled in elsewhere
                found.append((container, node, text, parse_image(text)))
        bundle.cache["images"] = found
    return bundle.cache["images"]


@kube_rule("SPINK401", "k8s-image-registry", W,
           title="Image from a registry Spin is not known to pull from",
           hint=f"push the image to {REGISTRY}/<project>/<image>:<tag>, or use a Docker Hub or ghcr.io image",
           help=f"""Spin workloads pull from NERSC's registries ({REGISTRY}, with the pull secret every namespace
           has, and {', '.join(r for r in PULLABLE_REGISTRIES if r.endswith('.nersc.gov') and r != REGISTRY)}),
           Docker Hub and ghcr.io. {', '.join(RETIRED_REGISTRIES)} was Rancher 1.6's registry. Other registries
           were not seen on Spin, so this is a warning: check that the image is public or give the pod a pull
           secret for it.""")
def image_registry(bundle: Bundle) -> Iterator[Hit]:
    for container, node, text, ref in _images(bundle):
        if ref is None or ref.registry is None:
            continue
        host = ref.registry.split(":")[0]
        if host in RETIRED_REGISTRIES:
            yield Hit(container.pod.obj.at(node), f"{container.label} image {text!r} is in {host}, Rancher 1.6's "
                                                  f"registry; push it to {REGISTRY}")
        elif host not in PULLABLE_REGISTRIES:
            yield Hit(container.pod.obj.at(node), f"{container.label} pulls from {host}, a registry Spin is not "
                                                  "known to pull from")


def _policy(container: Container) -> Optional[str]:
    return text_of(container.node.get("imagePullPolicy"))


def _pull_always(container: Container, becomes: Optional[str] = None) -> Fix:
    return Fix(SAFE, "set imagePullPolicy: Always", [set_key(container.node, "imagePullPolicy", value="Always",
                                                             after=("image",))], becomes)


def _runs_stale(container: Container) -> bool:
    """A floating tag that each node may run from its own stale copy: the policy caches it, and the container
    is one that serves (an init container that chowns a volume with busybox does the same with any busybox)."""
    return _policy(container) in CACHING_POLICIES and container.role != "init container"


@kube_rule("SPINK402", "k8s-image-floating-not-pulled", E,
           title="`:latest` or untagged image with imagePullPolicy IfNotPresent or Never",
           hint="pin a version tag (`:v1.2.3`); if you must float, set `imagePullPolicy: Always`",
           help="""An image without a tag is `:latest`. With `imagePullPolicy: IfNotPresent` (or `Never`) each
           Spin node runs whatever `:latest` it cached, possibly months old and different from node to node,
           and a rollout does not bring the new image. Kubernetes pulls a floating tag on every start only
           with `Always` (its default for such tags when no policy is written). An init container's floating
           image (busybox that prepares a volume) is SPINK403's warning instead: any copy of it does the job.""",
           fix=(SAFE,), fix_help="""sets `imagePullPolicy: Always`, what Kubernetes does for such a tag when no
           policy is written; the floating tag stays, so the finding becomes SPINK403.""")
def image_floating_not_pulled(bundle: Bundle) -> Iterator[Hit]:
    for container, node, text, ref in _images(bundle):
        if ref is not None and ref.floating and _runs_stale(container):
            what = "has no tag (so it is :latest)" if ref.tag is None else "uses :latest"
            yield Hit(container.pod.obj.at(node), f"{container.label} image {text!r} {what} with "
                                                  f"imagePullPolicy {_policy(container)}",
                      fix=_pull_always(container, becomes="SPINK403"))


@kube_rule("SPINK403", "k8s-image-floating", W,
           title="`:latest` or untagged image",
           hint="use an explicit version tag (`:v1.2.3`) and change it with every release",
           help="""With `imagePullPolicy: Always` (Kubernetes' default for `:latest` and untagged images) a
           floating tag is pulled on every start: each restart may bring a different image, and `kubectl
           rollout undo` cannot go back to a known version. Prefer explicit version tags. Init containers with a
           floating tag are reported here whatever their pull policy.""")
def image_floating(bundle: Bundle) -> Iterator[Hit]:
    for container, node, text, ref in _images(bundle):
        if ref is not None and ref.floating and not _runs_stale(container):
            what = "has no tag" if ref.tag is None else "uses :latest"
            policy = _policy(container)
            cached = f" with imagePullPolicy {policy}" if policy in CACHING_POLICIES else ""
            yield Hit(container.pod.obj.at(node), f"{container.label} image {text!r} {what}{cached}")


@kube_rule("SPINK406", "k8s-image-moving-tag-not-pulled", W,
           title="Image tag that moves, without imagePullPolicy Always",
           hint="set `imagePullPolicy: Always`, or pin the full version (`:8.4.3`)",
           help="""A tag that names only a major version (`mysql:8`, `postgres:17-alpine`) or a channel
           (`alpine`) is moved by every release, but Kubernetes pulls it again only with `imagePullPolicy:
           Always` (its default is IfNotPresent for any tag but latest): each node keeps the image it pulled
           first.""",
           fix=(SAFE,), fix_help="sets the container's `imagePullPolicy: Always`.")
def image_moving_tag_not_pulled(bundle: Bundle) -> Iterator[Hit]:
    for container, node, text, ref in _images(bundle):
        policy = _policy(container)
        if ref is not None and ref.moving and policy != "Always":
            yield Hit(container.pod.obj.at(node), f"{container.label} image {text!r} has a tag that moves, with "
                                                  f"imagePullPolicy {policy or 'IfNotPresent (the default)'}",
                      fix=_pull_always(container))


@kube_rule("SPINK404", "k8s-image-missing", E,
           title="Container without an image",
           hint="set `image:` to a registry image with a version tag",
           help="""Every container needs an `image`; the API server refuses a pod without one.""")
def image_missing(bundle: Bundle) -> Iterator[Hit]:
    for container in bundle.containers:
        found = container.image
        if not container.pod.obj.partial and (found is None or not text_of(found)):
            yield Hit(container.where("image"), f"{container.label} has no image")


@kube_rule("SPINK405", "k8s-image-invalid", E,
           title="Image reference is not valid",
           hint=f"write [registry/]name[:tag] in lower case, e.g. {REGISTRY}/myproject/web:v1.0",
           help="""Image names are lower case path components separated by `/`, with an optional registry
           host first and an optional `:tag` or `@digest` last; the kubelet cannot pull anything else.""")
def image_invalid(bundle: Bundle) -> Iterator[Hit]:
    for container, node, text, ref in _images(bundle):
        if ref is None:
            yield Hit(container.pod.obj.at(node), f"{container.label} image {text!r} is not a valid image "
                                                  "reference")
    for container in bundle.containers:
        found = container.image
        if found is not None and found.value is not None and not isinstance(found.value, str):
            yield Hit(container.pod.obj.at(found), f"{container.label} image is not a string")


def _pull_secrets(node: Optional[YNode]) -> List[str]:
    """The names an `imagePullSecrets` list gives."""
    names = (text_of(item.get("name")) for item in (node.seq() if node is not None else []) if item.is_map)
    return [name for name in names if name]


def _account_secrets(bundle: Bundle, pod: PodSpec) -> List[str]:
    """The pull secrets the pod's service account in the bundle gives it (`default` when it names none)."""
    account = text_of(pod.node.get("serviceAccountName")) or text_of(pod.node.get("serviceAccount")) or "default"
    found = []
    for obj in bundle.of_kind("ServiceAccount"):
        if obj.name == account and (None in (obj.namespace, pod.obj.namespace) or obj.namespace == pod.obj.namespace):
            found += _pull_secrets(obj.node.get("imagePullSecrets"))
    return found


@kube_rule("SPINK407", "k8s-image-pull-secret", W,
           title=f"{REGISTRY} image in a pod without the {PULL_SECRET} pull secret",
           hint=f"add `imagePullSecrets: [{{name: {PULL_SECRET}}}]` to the pod spec",
           help=f"""{REGISTRY} asks for NERSC credentials for a private project; Spin keeps them in the pull secret
           `{PULL_SECRET}`, which every namespace has, but a pod uses it only when its spec (or its service
           account) names it under `imagePullSecrets`. Without it the kubelet cannot pull a private project's image
           (ErrImagePull, ImagePullBackOff): the commonest reason a hand-written manifest does not start on Spin.
           A warning, not an error, because a public project pulls without credentials. A pod that names other
           pull secrets is taken to bring its own credentials and is not reported, nor is a kustomize patch, nor
           a pod that a patch of the bundle gives pull secrets.""",
           fix=(SAFE,), fix_help=f"""adds `{PULL_SECRET}` to the pod spec's `imagePullSecrets` (the list is created
           when missing): a secret every Spin namespace has, used only to pull.""")
def image_pull_secret(bundle: Bundle) -> Iterator[Hit]:
    pods = {}
    for container, node, text, ref in _images(bundle):
        if ref is not None and ref.registry is not None and ref.registry.split(":")[0] == REGISTRY:
            pods.setdefault(id(container.pod), (container, node, text))
    patched = {(pod.obj.kind, pod.obj.name) for pod in bundle.pods
               if pod.obj.partial and _pull_secrets(pod.node.get("imagePullSecrets"))}
    for pod in bundle.pods:
        if id(pod) not in pods or pod.obj.partial:
            continue
        if _pull_secrets(pod.node.get("imagePullSecrets")) or _account_secrets(bundle, pod) or (
                pod.obj.kind, pod.obj.name) in patched:
            continue  # the pod's own pull secrets, its service account's, or a patch's
        container, node, text = pods[id(pod)]
        yield Hit(pod.obj.at(node), f"{container.label} pulls {text!r} but the pod names no pull secret "
                                    f"({PULL_SECRET})",
                  fix=Fix(SAFE, f"add the pull secret {PULL_SECRET}", [
                      set_key(pod.node, "imagePullSecrets", value=[{"name": PULL_SECRET}])]))
