"""SPIN4xx: where images come from and how they are tagged."""

from __future__ import annotations

import re
from collections.abc import Iterator

from spin_audit.facts import DOCKER_HUB_HOSTS, MOVING_TAG, NERSC_REGISTRIES
from spin_audit.fixes import SAFE, Fix, append_item, replace, set_key
from spin_audit.interpolation import UNKNOWN, expand
from spin_audit.registry import Hit, Severity, rule
from spin_audit.stack import Service, Stack

E, W = Severity.ERROR, Severity.WARNING

PULL_LABEL = "io.rancher.container.pull_image"

_COMPONENT = r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*"
_HOST = r"(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?"
_REFERENCE = re.compile(
    rf"^(?:(?P<host>{_HOST})/)?(?P<path>{_COMPONENT}(?:/{_COMPONENT})*)"
    rf"(?::(?P<tag>[\w][\w.-]{{0,127}}))?(?:@(?P<digest>[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{{32,}}))?$"
)


class ImageRef:
    __slots__ = ("registry", "path", "tag", "digest")

    def __init__(self, registry: str | None, path: str, tag: str | None, digest: str | None):
        self.registry = registry  # None: Docker Hub
        self.path = path
        self.tag = tag
        self.digest = digest

    @property
    def floating(self) -> bool:
        """No digest and no tag or `latest`: whatever was pushed last."""
        return self.digest is None and self.tag in (None, "latest")

    @property
    def moving(self) -> bool:
        """A tag that is not latest but moves all the same: a bare major version, a channel or a branch
        (8, 17-alpine, alpine, beta, nightly, main, 3-latest: spin_facts.json's moving_tag)."""
        return self.digest is None and self.tag not in (None, "latest") and re.fullmatch(MOVING_TAG, self.tag) is not None

    @property
    def registry_known(self) -> bool:
        """False when a variable without default decides the registry (`${REGISTRY}/app`)."""
        return UNKNOWN not in (self.registry or self.path.split("/")[0])

    @property
    def tag_known(self) -> bool:
        """False when a variable without default decides the tag (`app:${TAG}`, `${IMAGE}`)."""
        return UNKNOWN not in (self.tag or "") + self.path.rsplit("/", 1)[-1]


def parse_image(text: str) -> ImageRef | None:
    """Split a Docker image reference; None if it is not one."""
    match = _REFERENCE.match(text)
    if not match:
        return None
    host = match.group("host")
    if host is not None and not ("." in host or ":" in host or host == "localhost"):
        # `user/image`: the first component is a Docker Hub namespace, not a registry
        if not re.fullmatch(_COMPONENT, host):
            return None
        return ImageRef(None, f"{host}/{match.group('path')}", match.group("tag"), match.group("digest"))
    return ImageRef(host.lower() if host else None, match.group("path"), match.group("tag"), match.group("digest"))


def _image(service: Service):
    """The image's field and reference, variables at their defaults (see ImageRef.*_known)."""
    found = service.get("image")
    if found is None or not found.node.is_scalar or not isinstance(found.node.value, str):
        return None, None
    text = expand(found.node.value.strip(), UNKNOWN)
    return found, parse_image(text) if text is not None else None


def _pulls_always(service: Service) -> bool:
    return (service.labels().get(PULL_LABEL) or "").strip().lower() == "always"


def _pull_always(service: Service, becomes: str | None = None) -> Fix | None:
    """The label `io.rancher.container.pull_image: always` in the mapping that sets the image: a key of its
    `labels` mapping, an item of its `labels` list (in place of another value of that label), or a new mapping."""
    image = service.get("image")
    mapping = next((node for _, node in service.parts if image is not None and node.get("image") is image.node), None)
    if mapping is None:
        return None
    labels = mapping.get("labels")
    if labels is not None and labels.is_seq:
        item = f"{PULL_LABEL}=always"
        written = next((node for node in labels.seq() if (node.text() or "").partition("=")[0].strip() == PULL_LABEL),
                       None)
        edit = replace(written, item) if written is not None else append_item(mapping, "labels", value=item)
    else:
        edit = set_key(mapping, "labels", PULL_LABEL, value="always", after=("image",))
    return Fix(SAFE, f"add label {PULL_LABEL}: always", [edit], becomes)


@rule("SPIN401", "image-registry", E,
      title="Image from a registry Spin does not allow",
      hint="push the image to registry.spin.nersc.gov/<project>/<image>:<tag>, or use a Docker Hub image",
      help=f"""Spin pulls images only from NERSC's registries ({', '.join(NERSC_REGISTRIES)}: Spin's
      registry.spin.nersc.gov was renamed registry.nersc.gov) or from Docker Hub, preferably official
      images. Any other registry host is refused.""")
def image_registry(stack: Stack) -> Iterator[Hit]:
    for service in stack.services.values():
        found, ref = _image(service)
        if ref is None or ref.registry is None or not ref.registry_known:
            continue
        if ref.registry.split(":")[0] not in DOCKER_HUB_HOSTS + NERSC_REGISTRIES:
            yield Hit(found.at(), f"service '{service.name}' pulls from registry {ref.registry}, which Spin does "
                                  "not allow", service.name)


@rule("SPIN402", "image-latest-not-pulled", E,
      title="`:latest` or untagged image without pull_image: always",
      hint="pin a version tag (`:v1.2.3`); if you must float, add label `io.rancher.container.pull_image: always`",
      help="""An image without a tag is `:latest`, and a Spin node runs whatever `:latest` it cached,
      possibly months old, differing from node to node. Use explicit version tags; a floating tag needs
      the label `io.rancher.container.pull_image: always` so that Rancher pulls on every start.""",
      fix=(SAFE,), fix_help=f"""adds the label `{PULL_LABEL}: always` where the image is set; the floating tag
      stays, so the finding becomes SPIN403.""")
def image_latest_not_pulled(stack: Stack) -> Iterator[Hit]:
    for service in stack.services.values():
        found, ref = _image(service)
        if ref is not None and ref.tag_known and ref.floating and not _pulls_always(service):
            what = "has no tag (so it is :latest)" if ref.tag is None else "uses :latest"
            yield Hit(found.at(), f"service '{service.name}' image {found.node.value!r} {what} without label "
                                  f"{PULL_LABEL}: always", service.name, fix=_pull_always(service, "SPIN403"))


@rule("SPIN403", "image-latest", W,
      title="`:latest` or untagged image",
      hint="use an explicit version tag (`:v1.2.3`, `:v20180809`) and change it with every release",
      help="""With `io.rancher.container.pull_image: always` a floating tag works, but every restart may
      bring a different image and upgrades cannot be rolled back to a known version. Prefer explicit
      version tags.""")
def image_latest(stack: Stack) -> Iterator[Hit]:
    for service in stack.services.values():
        found, ref = _image(service)
        if ref is not None and ref.tag_known and ref.floating and _pulls_always(service):
            what = "has no tag" if ref.tag is None else "uses :latest"
            yield Hit(found.at(), f"service '{service.name}' image {found.node.value!r} {what}", service.name)


@rule("SPIN406", "image-moving-tag-not-pulled", W,
      title="Image tag that moves, without pull_image: always",
      hint="add label `io.rancher.container.pull_image: always`, or pin the full version (`:8.4.3`)",
      help="""A tag that names only a major version (`mysql:8`, `postgres:17-alpine`), a channel or a
      branch (`alpine`, `stable`, `beta`, `edge`, `nightly`, `dev`, `main`) or latest with more to it
      (`3-latest`, `latest-alpine`) is moved by every release or push; a date or a commit in the tag
      (`main-3f2a1bc`) pins it. A Spin node runs whatever it pulled first, so nodes drift apart
      and an upgrade brings nothing new: NERSC's recipes pair such tags with the label
      `io.rancher.container.pull_image: always`. (This is how an image changes under a running stack.)""",
      fix=(SAFE,), fix_help=f"adds the label `{PULL_LABEL}: always` where the image is set.")
def image_moving_tag_not_pulled(stack: Stack) -> Iterator[Hit]:
    for service in stack.services.values():
        found, ref = _image(service)
        if ref is not None and ref.tag_known and ref.moving and not _pulls_always(service):
            yield Hit(found.at(), f"service '{service.name}' image {found.node.value!r} has a tag that moves, "
                                  f"without label {PULL_LABEL}: always", service.name, fix=_pull_always(service))


@rule("SPIN404", "image-missing", E,
      title="Service has no image",
      hint="set `image:` to a registry image with a version tag",
      help="""Every service needs an `image:` that Spin can pull.""")
def image_missing(stack: Stack) -> Iterator[Hit]:
    for service in stack.services.values():
        if service.compose is None or not service.compose.node.is_map:
            continue  # SPIN108 / SPIN104
        if service.get("image") is None and service.get("build") is None:
            yield Hit(service.location, f"service '{service.name}' has no `image`", service.name)


@rule("SPIN405", "image-invalid", E,
      title="Image reference is not valid",
      hint="write [registry/]name[:tag] in lower case, e.g. registry.spin.nersc.gov/myproj/web:v1.0",
      help="""Docker image names are lower case path components separated by `/`, with an optional
      registry host first and an optional `:tag` or `@digest` last. Rancher cannot pull anything else.""")
def image_invalid(stack: Stack) -> Iterator[Hit]:
    for service in stack.services.values():
        found = service.get("image")
        if found is None:
            continue
        node = found.node
        if not isinstance(node.value, str):
            continue  # wrong type: SPIN103/SPIN110
        _, ref = _image(service)
        if ref is None and UNKNOWN not in (expand(node.value.strip(), UNKNOWN) or ""):  # unknown parts: unjudged
            yield Hit(found.at(), f"service '{service.name}' image {node.value!r} is not a valid image reference",
                      service.name)
