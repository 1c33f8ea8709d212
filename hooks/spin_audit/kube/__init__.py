"""spin-audit for Kubernetes manifests: Spin on Rancher 2.

Reading files (loader.py), the object model the rules read (model.py) and the rules
(rules/, ids SPINK + three digits) are kept apart, as for compose stacks. This module
stays cheap to import (standard library only), so that the CLI can ask `is_kube_path`
without paying for the rest; `load` imports the reader on first use.

    bundle = spin_audit.kube.load(["k8s/"])
    findings = spin_audit.engine.audit_kube(bundle)
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING, Iterable, Optional

if TYPE_CHECKING:
    from spin_audit.kube.model import Bundle
    from spin_audit.loader import SourceFile

MANIFEST_SUFFIXES = (".yaml", ".yml")
ANSWERS_NAME = ".copier-answers.yml"
KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
COMPOSE_NAMES = ("docker-compose.yml", "docker-compose.yaml")
# Files of a compose stack, never manifests whatever they hold.
COMPOSE_FILE_NAMES = COMPOSE_NAMES + ("rancher-compose.yml", "rancher-compose.yaml", ANSWERS_NAME)
STACK_DIR = "k8s"  # a rancher2 stack keeps its manifests here
SNIFF_BYTES = 64 * 1024
SEARCH_LIMIT = 10_000  # directory entries looked at before giving up on finding a manifest

# A top-level `apiVersion:` or `kind:` key (or one of a `kind: List`'s items): the mark of a manifest.
MANIFEST_KEY = re.compile(r"^(?:- )?(?:apiVersion|kind)[ \t]*:", re.MULTILINE)


def is_manifest_name(name: str) -> bool:
    return name.endswith(MANIFEST_SUFFIXES) or name in KUSTOMIZATION_NAMES


def looks_like_manifest(path: str) -> bool:
    """A regular YAML file with a top-level apiVersion or kind, judged from its beginning."""
    if not os.path.isfile(path):  # never open a FIFO or a device
        return False
    try:
        with open(path, "rb") as handle:
            head = handle.read(SNIFF_BYTES)
    except OSError:
        return False
    return MANIFEST_KEY.search(head.decode("utf-8", "replace")) is not None


def has_compose_file(directory: str) -> bool:
    return any(os.path.isfile(os.path.join(directory, name)) for name in COMPOSE_NAMES)


def is_rancher2_stack(directory: str) -> bool:
    """A stack rendered for Rancher 2: a k8s/ folder and no docker-compose.yml."""
    return os.path.isdir(os.path.join(directory, STACK_DIR)) and not has_compose_file(directory)


def is_kube_path(path: str) -> bool:
    """Whether spin-audit should read PATH as Kubernetes input (and not as a compose stack).

    A file: a YAML file (not a compose file) with a top-level `kind` or `apiVersion`, a
    kustomization, or the copier answers of a rancher2 stack (which stand for the stack, as
    they do for a compose stack). A directory: a rancher2 stack, or a folder without
    docker-compose.yml that holds such a file somewhere below it.
    """
    if os.path.isfile(path):
        name = os.path.basename(path)
        if name == ANSWERS_NAME:
            return is_rancher2_stack(os.path.dirname(path) or ".")  # the answers of a rancher2 stack: that stack
        if name in COMPOSE_FILE_NAMES:
            return False
        return name in KUSTOMIZATION_NAMES or (name.endswith(MANIFEST_SUFFIXES) and looks_like_manifest(path))
    if not os.path.isdir(path) or has_compose_file(path):
        return False
    if is_rancher2_stack(path):
        return True
    seen = 0
    for folder, dirs, files in os.walk(path):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            seen += 1
            if seen > SEARCH_LIMIT:
                return False
            if is_manifest_name(name) and name not in COMPOSE_FILE_NAMES and (
                    name in KUSTOMIZATION_NAMES or looks_like_manifest(os.path.join(folder, name))):
                return True
    return False


def load(paths: Iterable[str], access: Optional[str] = None, stdin: Optional["SourceFile"] = None) -> "Bundle":
    """Read the manifests at PATHs (files, folders, rancher2 stacks; `-` for `stdin`, already read);
    InputError if a PATH cannot be read.

    `access` (public, authenticated, private: who can reach the stack, as `--access` says) overrides
    the `access` answer of the rancher2 stack a manifest belongs to."""
    from spin_audit.kube.loader import load_bundle

    return load_bundle(list(paths), access, stdin)
