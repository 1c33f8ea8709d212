"""What each input on the command line is, and which files each audit reads.

`input_kind` is the one place that tells what a PATH is (a stack directory, a compose
file, a template, a Dockerfile, another file of a stack); `find_targets` groups the
inputs into audits, once per stack. A new kind of input (Kubernetes manifests) is a new
answer of `input_kind` and a new branch of `find_targets`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from spin_audit.helm import chart_file, helm_template
from spin_audit.loader import (
    STDIN,
    STDIN_DISPLAY,
    InputError,
    SourceFile,
    TemplateError,
    display_path,
    first_existing,
    read_stdin,
    template_reason,
)
from spin_audit.registry import COMPOSE, KUBE

COMPOSE_NAMES = ("docker-compose.yml", "docker-compose.yaml")
RANCHER_NAMES = ("rancher-compose.yml", "rancher-compose.yaml")
ANSWERS_NAME = ".copier-answers.yml"
YAML_SUFFIXES = (".yml", ".yaml")
# Suffixes of files that render a stack file rather than being one, and what renders them.
TEMPLATE_ENGINES = {".tpl": "a Rancher catalog template (Go `{{ }}`)", ".jinja": "a Jinja template",
                    ".j2": "a Jinja template", ".tmpl": "a template", ".template": "a template"}

# What a PATH can be (the answers of input_kind).
STACK_DIRECTORY = "stack directory"
COMPOSE_FILE = "compose file"
RANCHER_FILE = "rancher-compose file"
TEMPLATE = "template"
DOCKERFILE = "Dockerfile"
STACK_FILE = "file of a stack"
KUBERNETES = "Kubernetes input"  # a manifest, a folder of them, a rancher2 stack or its answers


def _kubernetes(path: str) -> bool:
    """Whether spin_audit.kube reads PATH. Asked only of what is plainly no compose stack's, so that
    auditing a compose stack never imports the Kubernetes package."""
    from spin_audit.kube import is_kube_path  # standard library only

    return is_kube_path(path)


def is_dockerfile_name(name: str) -> bool:
    """Dockerfile, Dockerfile.prod, web.dockerfile; not a template that renders one."""
    lower = name.lower()
    if template_engine(lower):
        return False
    return lower == "dockerfile" or lower.startswith("dockerfile.") or lower.endswith(".dockerfile")


def template_engine(name: str) -> str | None:
    """What renders a file of this name, if it is a template."""
    return next((engine for suffix, engine in TEMPLATE_ENGINES.items() if name.lower().endswith(suffix)), None)


def _renders_a_compose_file(name: str) -> bool:
    """A catalog template (anything.tpl) or a template of a YAML file (docker-compose.prod.yml.j2);
    a Dockerfile.jinja is just another file of its stack."""
    lower = name.lower()
    suffix = next((suffix for suffix in TEMPLATE_ENGINES if lower.endswith(suffix)), None)
    return suffix == ".tpl" or (suffix is not None and lower[: -len(suffix)].endswith(YAML_SUFFIXES))


def template_error(path: str) -> TemplateError:
    """Why a template PATH (a Helm chart or a file of one, a values file, a *.j2 or *.tpl) is declined."""
    return helm_template(path) or TemplateError(display_path(path), template_reason(
        str(template_engine(os.path.basename(path)))))  # the callers found one


def _template_in(directory: str) -> str | None:
    """A template of docker-compose.yml in a folder without the rendered file (a catalog entry)."""
    for name in sorted(os.listdir(directory)):
        base, _, _ = name.rpartition(".")
        if base in COMPOSE_NAMES and template_engine(name):
            return os.path.join(directory, name)
    return None


def input_kind(path: str) -> str:
    """What an existing PATH is; InputError for a directory that holds no stack."""
    if os.path.isdir(path):
        if first_existing(path, COMPOSE_NAMES):
            return STACK_DIRECTORY  # a stack that also keeps a chart is audited as the stack
        if chart_file(path):
            return TEMPLATE
        if _kubernetes(path):
            return KUBERNETES
        template = _template_in(path)
        if template:
            raise template_error(template)
        raise InputError(display_path(path), "no docker-compose.yml and no Kubernetes manifest in this directory")
    name = os.path.basename(path)
    if _renders_a_compose_file(name) or (name.lower().endswith(YAML_SUFFIXES + (".tpl",)) and
                                         name not in COMPOSE_NAMES + RANCHER_NAMES and helm_template(path)):
        return TEMPLATE
    if is_dockerfile_name(name):
        return DOCKERFILE
    beside_compose = first_existing(os.path.dirname(path), COMPOSE_NAMES) is not None
    if name == ANSWERS_NAME:
        return KUBERNETES if not beside_compose and _kubernetes(path) else STACK_FILE
    if name.lower().endswith(YAML_SUFFIXES):
        if name not in COMPOSE_NAMES + RANCHER_NAMES and _kubernetes(path):
            return KUBERNETES
        return RANCHER_FILE if name.lower().startswith("rancher-compose") else COMPOSE_FILE
    return STACK_FILE


class Target:
    """One audit: a compose stack (its root and files), a Dockerfile outside any stack, or every
    Kubernetes input of the command line (`kube_paths`, read together as one bundle).

    `kind` names the loader and the rules that judge it (registry.RULE_PACKAGES): COMPOSE for a
    stack or a lone Dockerfile (the Dockerfile rules judge it), KUBE for Kubernetes input."""

    def __init__(self, root: str, compose: list[str] | None = None, rancher: list[str] | None = None,
                 has_compose: bool = True, kind: str = COMPOSE, stdin: SourceFile | None = None):
        self.kind = kind
        self.stdin = stdin  # standard input's text, when `-` is one of the inputs: audited alone
        self.kube_paths: list[str] = []
        self.root = root  # absolute directory: the stack's name, answers file and Dockerfiles are here
        self.has_compose = has_compose
        self.compose = compose  # the docker-compose files in merge order; None: the default one
        self.rancher = rancher  # the rancher-compose files in merge order; None: the default one, if any
        self.overlays: list[str] = []  # compose files named on the command line, merged after the default
        self.rancher_overlays: list[str] = []
        self.extra_dockerfiles: list[str] = []

    @property
    def reads_folder(self) -> bool:
        """Whether the stack's folder holds its answers and Dockerfiles (not for standard input)."""
        return self.has_compose and self.stdin is None

    @property
    def directory_mode(self) -> bool:
        """A stack read as its folder's default files, none named on the command line."""
        return self.kind == COMPOSE and self.has_compose and self.stdin is None and self.compose is None and \
            self.rancher is None and not self.overlays and not self.rancher_overlays

    def compose_paths(self) -> list[str]:
        if not self.has_compose:
            return []
        if self.compose is not None:
            return self.compose
        default = first_existing(self.root, COMPOSE_NAMES)
        return ([default] if default else []) + self.overlays

    def rancher_paths(self) -> list[str]:
        if not self.has_compose:
            return []
        if self.rancher is not None:
            return self.rancher
        default = first_existing(self.root, RANCHER_NAMES)
        return ([default] if default else []) + self.rancher_overlays

    def answers_path(self) -> str | None:
        path = os.path.join(self.root, ANSWERS_NAME)
        return path if self.reads_folder and os.path.isfile(path) else None

    def dockerfile_paths(self) -> list[str]:
        found = _discover_dockerfiles(self.root) if self.reads_folder else []
        return found + [p for p in self.extra_dockerfiles if p not in found]


def _discover_dockerfiles(root: str) -> list[str]:
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


def _existing(raw: str, what: str = "") -> str:
    path = os.path.abspath(raw)
    if not os.path.exists(path):
        raise InputError(display_path(path), "no such file or directory")
    if what and not os.path.isfile(path):
        raise InputError(display_path(path), f"not a file (the {what} option names a compose file)")
    if what and (template_engine(os.path.basename(path)) or helm_template(path)):
        raise template_error(path)
    return path


def _enclosing_stack(directory: str) -> str | None:
    """The nearest folder, this one or above, that holds a docker-compose.yml."""
    while first_existing(directory, COMPOSE_NAMES) is None:
        parent = os.path.dirname(directory)
        if parent == directory:
            return None
        directory = parent
    return directory


def _add_stdin(targets: dict[tuple[str, str], Target], source: SourceFile) -> None:
    """Standard input is a stack of one compose file, or manifests audited with the other Kubernetes inputs."""
    if any(target.stdin is not None for target in targets.values()):
        raise InputError(STDIN_DISPLAY, "standard input (`-`) can be named only once")
    from spin_audit.kube import MANIFEST_KEY  # standard library only

    if MANIFEST_KEY.search(source.text):
        target = targets.setdefault(("kube", ""), Target(os.getcwd(), has_compose=False, kind=KUBE))
        target.stdin = source
        target.kube_paths.append(STDIN)
    else:
        targets[("stdin", "")] = Target(os.getcwd(), [STDIN], [], stdin=source)


def find_targets(paths: Sequence[str], files: Sequence[str] = (), rancher_files: Sequence[str] = ()) -> list[Target]:
    """Group the inputs into audits, once per stack, in the order given.

    `files` and `rancher_files` (--file, --rancher-file) make one stack of exactly those files,
    rooted where the first of them is. Each PATH is read as what `input_kind` says it is: a
    compose file of another name than docker-compose.yml is merged over the docker-compose.yml
    beside it (as `rancher up --file docker-compose.yml --file NAME`), or is the stack's only
    compose file when there is none. `-` is standard input: manifests if it has a top-level
    `apiVersion` or `kind`, else a compose file audited on its own.
    """
    targets: dict[tuple[str, str], Target] = {}
    if files or rancher_files:
        compose = [_existing(p, "--file") for p in files]
        rancher = [_existing(p, "--rancher-file") for p in rancher_files]
        root = os.path.dirname((compose or rancher)[0])
        if not compose and first_existing(root, COMPOSE_NAMES) is None:
            raise InputError(display_path(rancher[0]), "no docker-compose.yml beside it (name one with --file)")
        targets[("files", "")] = Target(root, compose or None, rancher or None)
    for raw in paths:
        if raw == STDIN:
            _add_stdin(targets, read_stdin())
            continue
        path = _existing(raw)
        kind = input_kind(path)
        if kind == STACK_DIRECTORY:
            targets.setdefault(("stack", path), Target(path))
        elif kind == KUBERNETES:
            target = targets.setdefault(("kube", ""), Target(os.path.dirname(path), has_compose=False, kind=KUBE))
            if path not in target.kube_paths:
                target.kube_paths.append(path)
        elif kind == TEMPLATE:
            raise template_error(path)
        elif kind in (COMPOSE_FILE, RANCHER_FILE):
            root = os.path.dirname(path)
            default = first_existing(root, COMPOSE_NAMES)
            if default is not None and path in (default, first_existing(root, RANCHER_NAMES)):
                targets.setdefault(("stack", root), Target(root))
            elif default is not None:
                target = targets.setdefault(("stack", root), Target(root))
                overlays = target.rancher_overlays if kind == RANCHER_FILE else target.overlays
                if path not in overlays:
                    overlays.append(path)
            elif kind == COMPOSE_FILE:
                targets.setdefault(("file", path), Target(root, [path]))
            else:
                raise InputError(display_path(path), "no docker-compose.yml beside this rancher-compose file "
                                                     "(name one with --file)")
        else:
            root = _enclosing_stack(os.path.dirname(path))
            if root is not None:
                target = targets.setdefault(("stack", root), Target(root))
            elif kind == DOCKERFILE:
                target = targets.setdefault(("dockerfile", path), Target(os.path.dirname(path), has_compose=False))
            else:
                raise InputError(display_path(path), "not part of a stack: no docker-compose.yml in its folder "
                                                     "or above")
            if kind == DOCKERFILE and path not in target.extra_dockerfiles:
                target.extra_dockerfiles.append(path)
    return list(targets.values())
