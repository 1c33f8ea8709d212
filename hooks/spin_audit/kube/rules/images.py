"""SPINK4xx: where a container's image comes from and how it is tagged."""

from __future__ import annotations

from typing import Iterator, List, Optional, Tuple

from spin_audit.kube.facts import PULLABLE_REGISTRIES, REGISTRY, RETIRED_REGISTRIES
from spin_audit.kube.model import Bundle, Container, text_of
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
           image (busybox that prepares a volume) is SPINK403's warning instead: any copy of it does the job.""")
def image_floating_not_pulled(bundle: Bundle) -> Iterator[Hit]:
    for container, node, text, ref in _images(bundle):
        if ref is not None and ref.floating and _runs_stale(container):
            what = "has no tag (so it is :latest)" if ref.tag is None else "uses :latest"
            yield Hit(container.pod.obj.at(node), f"{container.label} image {text!r} {what} with "
                                                  f"imagePullPolicy {_policy(container)}")


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
           first.""")
def image_moving_tag_not_pulled(bundle: Bundle) -> Iterator[Hit]:
    for container, node, text, ref in _images(bundle):
        policy = _policy(container)
        if ref is not None and ref.moving and policy != "Always":
            yield Hit(container.pod.obj.at(node), f"{container.label} image {text!r} has a tag that moves, with "
                                                  f"imagePullPolicy {policy or 'IfNotPresent (the default)'}")


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
