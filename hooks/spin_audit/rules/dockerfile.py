"""SPIN8xx: Dockerfiles of the stack's own images."""

from __future__ import annotations

from collections.abc import Iterator

from spin_audit.registry import Hit, Location, Severity, rule
from spin_audit.rules.images import parse_image
from spin_audit.stack import Stack

E, W = Severity.ERROR, Severity.WARNING


def _is_root(user: str) -> bool:
    name = user.strip().split(":", 1)[0]
    return name == "root" or (name.isdigit() and int(name) == 0)


@rule("SPIN801", "dockerfile-from-unpinned", W,
      title="Base image without a pinned tag",
      hint="pin the base image to a version: FROM python:3.12-slim, not FROM python or python:latest",
      help="""A base image without a tag (or `:latest`) changes under you: the next build gets another
      operating system or language version. Pin a version tag (or a digest) so builds repeat.""")
def dockerfile_from_unpinned(stack: Stack) -> Iterator[Hit]:
    for use in stack.dockerfiles:
        source = use.dockerfile.source
        for stage in use.dockerfile.stages:
            if stage.image is None or stage.parent is not None or stage.image.lower() == "scratch":
                continue
            ref = parse_image(stage.image)
            if ref is not None and ref.floating:
                what = "has no tag" if ref.tag is None else "uses :latest"
                yield Hit(Location(source.display, stage.line), f"base image {stage.image!r} {what}", use.service)


@rule("SPIN802", "dockerfile-root-user", E,
      title="Image runs as root but its service mounts the global file system",
      hint="end the final stage with `USER <uid>:<gid>` (numeric, the account the service runs as)",
      help="""A service that mounts the global file system must not run as root. Its image should end
      with a numeric non-root `USER`, so it is safe even where the compose `user:` is missing or
      overridden. The Dockerfile is matched to a service by its folder (web/Dockerfile -> web) or by the
      service's `build:`.""")
def dockerfile_root_user(stack: Stack) -> Iterator[Hit]:
    for use in stack.dockerfiles:
        final = use.dockerfile.final
        service = stack.services.get(use.service) if use.service else None
        if final is None or service is None or not service.global_mounts:
            continue
        user, line, known = final.final_user()
        if not known:
            continue  # USER comes from a build argument without a default
        source = use.dockerfile.source.display
        if user is None:
            yield Hit(Location(source, final.line), f"image of service '{service.name}' sets no USER (runs as the "
                                                    "base image's user, usually root)", service.name)
        elif _is_root(user):
            yield Hit(Location(source, line), f"image of service '{service.name}' ends with USER {user}",
                      service.name)


@rule("SPIN803", "dockerfile-no-from", E,
      title="Dockerfile has no FROM",
      hint="start the Dockerfile with FROM <image>:<tag>",
      help="""A Dockerfile must start (after ARGs and parser directives) with a FROM instruction.""")
def dockerfile_no_from(stack: Stack) -> Iterator[Hit]:
    for use in stack.dockerfiles:
        if not use.dockerfile.stages:
            yield Hit(Location(use.dockerfile.source.display, 1), "Dockerfile has no FROM instruction", use.service)
