"""SPIN1xx: compose structure, the keys Rancher 1.6 accepts, and value types."""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Iterator

from spin_audit.fixes import SAFE, Fix, Quoted, delete_key, replace
from spin_audit.loader import YNode
from spin_audit.registry import Hit, Severity, rule
from spin_audit.rules.common import path_text, shown, walk_scalars
from spin_audit.schema import Problem, json_type, service_keys, validate_service
from spin_audit.stack import CATALOG_KEYS, Field, Stack, is_extension

E, W = Severity.ERROR, Severity.WARNING

COMPOSE_TOP_KEYS = ("version", "services", "volumes", "networks", "secrets")
RANCHER_TOP_KEYS = ("version", "services") + CATALOG_KEYS
# Format 1 service keys that Rancher converts to their format 2 form (net: network_mode, ...).
FORMAT_1_KEYS = ("net", "log_driver", "log_opt", "dockerfile")
KEY_HINTS = {
    "healthcheck": "Docker's healthcheck is compose 2.1+; Rancher 1.6 uses `health_check:` in rancher-compose.yml "
    "(port, interval, response_timeout in milliseconds)",
    "deploy": "`deploy` is compose v3 (swarm) only; set `scale` in rancher-compose.yml and schedule with labels",
    "configs": "`configs` is compose v3 only; put the file in a Rancher secret or bake it into the image",
    "credential_spec": "compose v3 only; remove it",
    "userns_mode": "Rancher 1.6 does not accept it; remove it",
    "pids_limit": "not a Rancher 1.6 key; remove it",
    "cpus": "not a Rancher 1.6 key; use `cpu_quota`/`cpu_period` or `milli_cpu_reservation`",
}
MS_KEYS = ("interval", "response_timeout", "initializing_timeout", "reinitializing_timeout")
REQUEST_LINE = re.compile(
    r'^(GET|HEAD|POST|PUT|OPTIONS|DELETE) +("/[^"]*"|/\S*)( +("HTTP/1\.[01]"|HTTP/1\.[01]))?$'
)
STRATEGIES = ("none", "recreate", "recreateOnQuorum")


def _schema_problems(stack: Stack) -> list[tuple[str, Field, Problem]]:
    """Schema problems of every service mapping in every file, computed once per stack."""
    if "schema" not in stack.cache:
        found = []
        for service in stack.services.values():
            for file, node in service.parts:
                if node.is_map:
                    found += [(service.name, Field(node), p) for p in validate_service(node)
                              if not (file.format == 1 and p.kind == "unknown-key" and p.path == (p.key,)
                                      and p.key in FORMAT_1_KEYS)]
        stack.cache["schema"] = found
    return stack.cache["schema"]


def _is_yaml_retyped(problem: Problem) -> bool:
    """A plain scalar that YAML 1.1 turned into a number, bool or date where a string belongs."""
    node = problem.node
    return problem.kind == "type" and node.is_plain and node.value is not None and "string" in problem.expected


@rule("SPIN101", "compose-version", E,
      title="Compose file version is not '2'",
      hint="start both docker-compose.yml and rancher-compose.yml with `version: '2'`",
      help="""Rancher 1.6 reads compose format 1 and 2 only and rejects `version: "3"`. A file without
      `version` is read as the old v1 format, in which `services:` is taken as a service name.""")
def compose_version(stack: Stack) -> Iterator[Hit]:
    for file in stack.files:
        node = file.root.get("version")
        if node is None:
            if file.format == 2 and not file.catalog_only:
                yield Hit(file.start, f"{file.name} has no `version`: Rancher reads it as compose format 1, "
                                      "where `services` would be a service")
        elif not node.is_scalar or node.value is None:
            yield Hit(node.at(), "`version` must be the string '2'")
        elif str(node.value).strip() != "2" and not (node.is_plain and str(node.raw).strip() == "2"):
            yield Hit(node.at(), f"compose version {shown(node)} is not supported by Rancher 1.6 (only '2')")


@rule("SPIN102", "unknown-key", E,
      title="Key not accepted by Rancher 1.6",
      hint="remove the key, or use the Rancher 1.6 equivalent",
      help="""Rancher 1.6 validates every service (docker-compose.yml merged with rancher-compose.yml)
      against a schema that refuses unknown keys, so `rancher up` fails. Docker's `healthcheck`, `deploy`
      and `configs` are the usual suspects: they belong to later compose formats.""")
def unknown_key(stack: Stack) -> Iterator[Hit]:
    known = service_keys()
    for service, part, problem in _schema_problems(stack):
        if problem.kind != "unknown-key":
            continue
        key = str(problem.key)
        where = part.at(problem.node, key=True)
        if len(problem.path) == 1:
            import difflib  # only for a misspelt key: not worth its import time on every run

            close = difflib.get_close_matches(key, known, n=1, cutoff=0.75)
            hint = KEY_HINTS.get(key) or (f"did you mean `{close[0]}`?" if close else None)
            yield Hit(where, f"service '{service}': key `{key}` is not accepted by Rancher 1.6", service, hint)
        else:
            yield Hit(where, f"service '{service}': key `{key}` is not accepted in "
                             f"`{path_text(problem.path[:-1])}`", service)


TYPE_WORDS = {"string": "a string", "integer": "an integer", "number": "a number", "boolean": "a boolean",
              "object": "a mapping", "array": "a list", "null": "null"}


def _types(problem: Problem) -> str:
    return " or ".join(TYPE_WORDS.get(t, t) for t in problem.expected)


def _type_hint(problem: Problem) -> str:
    actual_is_string = isinstance(problem.node.value, str)
    if problem.expected == ("boolean",) and actual_is_string:
        return "write true or false without quotes"
    if problem.path and problem.path[0] == "volumes" and problem.node.is_map:
        return "Rancher 1.6 takes volumes as strings: 'host_path:container_path[:ro]'"
    if "array" in problem.expected and not problem.node.is_seq:
        return "write a YAML list (one `- item` per line)"
    return f"write {_types(problem)}"


@rule("SPIN103", "value-type", E,
      title="Value of the wrong type",
      hint="write the value with the type the key takes",
      help="""Rancher 1.6 checks value types too: `retain_ip: "true"` is a string where a boolean is
      needed, a volume written as a mapping is the compose v3 long form, a list item given twice is
      refused, and a secret in long form needs `source`.""")
def value_type(stack: Stack) -> Iterator[Hit]:
    for service, part, problem in _schema_problems(stack):
        where = part.at(problem.node)
        what = path_text(problem.path)
        if problem.kind == "type" and not _is_yaml_retyped(problem):
            yield Hit(where, f"service '{service}': `{what}` must be {_types(problem)}, "
                             f"found {shown(problem.node)}", service, _type_hint(problem))
        elif problem.kind == "required":
            yield Hit(where, f"service '{service}': `{what}` needs `{problem.expected[0]}`", service)
        elif problem.kind == "duplicate":
            yield Hit(where, f"service '{service}': `{what}` repeats {shown(problem.node)}", service,
                      "list each item once")


@rule("SPIN104", "compose-structure", E,
      title="Compose file structure is broken",
      hint="`services:` maps each service name to a mapping of its keys",
      help="""docker-compose.yml needs a `services` mapping of service names to mappings; top-level
      `volumes`, `secrets` and `networks` are mappings of names too. rancher-compose.yml has the same
      `services` shape, where a service with nothing to add may be written with an empty value
      (`web:`).""")
def compose_structure(stack: Stack) -> Iterator[Hit]:
    for file in stack.files:
        root = file.root
        if file.format == 2:
            services = root.get("services")
            if services is None:
                if file.role == "compose":
                    yield Hit(file.start, f"{file.name} has no `services`")
                continue
            if not services.is_map or not services.value:
                yield Hit(services.at(), "`services` must be a mapping of service names" + (
                    "" if services.is_map else f", found {shown(services)}"))
                continue
        for name, node in file.services():
            if not node.is_map and not (file.role == "rancher" and node.value is None):  # `web:` adds nothing
                yield Hit(node.at(key=True), f"service '{name}' must be a mapping of keys, found {shown(node)}", name)
        if file.role == "compose" and file.format == 2:
            for key in ("volumes", "secrets", "networks"):
                node = root.get(key)
                if node is not None and not node.is_map and node.value is not None:
                    yield Hit(node.at(), f"top-level `{key}` must be a mapping")


@rule("SPIN105", "unknown-top-level-key", W,
      title="Unknown top-level key",
      hint="docker-compose.yml takes version, services, volumes, networks, secrets at the top",
      help="""Compose format 2 as Rancher 1.6 reads it has only `version`, `services`, `volumes`,
      `networks` and `secrets` (a Rancher extension) at the top of docker-compose.yml, and `version`,
      `services` and a catalog entry's `catalog` (or `.catalog`) in rancher-compose.yml, besides
      extension fields (`x-...`, often the anchors that services merge with `<<`). Anything else is
      ignored at best; often it is a service indented one level too little.""")
def unknown_top_level_key(stack: Stack) -> Iterator[Hit]:
    for file in stack.files:
        if file.format == 1:
            continue  # every top-level key is a service (SPIN113)
        allowed = COMPOSE_TOP_KEYS if file.role == "compose" else RANCHER_TOP_KEYS
        for key, node in file.root.items():
            if str(key) not in allowed and not is_extension(key):
                yield Hit(node.at(key=True), f"top-level key `{key}` is not part of compose format 2 for Rancher")


@rule("SPIN106", "build-not-image", E,
      title="Service builds instead of pulling a registry image",
      hint="build and push the image (registry.spin.nersc.gov/<project>/<image>:<tag>), then use `image:`",
      help="""Spin runs images pulled from a registry; it does not build them. `build:` passes Rancher's
      schema, but the stack only works once the image is pushed to registry.spin.nersc.gov (or is on
      Docker Hub) and named in `image:`.""")
def build_not_image(stack: Stack) -> Iterator[Hit]:
    for service in stack.services.values():
        build = service.get("build")
        if build is None:
            continue
        message = f"service '{service.name}' uses `build:`; Spin cannot build images"
        if service.get("image") is not None:
            message += ", remove `build:` and keep `image:`"
        yield Hit(build.key_location, message, service.name)


@rule("SPIN107", "restart-policy", E,
      title="`restart` is not supported by Rancher",
      hint="remove `restart:`; Rancher restarts failed containers itself (use health_check to tune it)",
      help="""Rancher manages container restarts; NERSC removed `restart: always` from its recipes as not
      supported by Rancher. Use `io.rancher.container.start_once: 'true'` for one-shot jobs.""",
      fix=(SAFE,), fix_help="deletes `restart:` from each file of the stack that sets it.")
def restart_policy(stack: Stack) -> Iterator[Hit]:
    for service in stack.services.values():
        found = service.get("restart")
        if found is not None:
            edits = [delete_key(node, "restart") for _, node in service.parts if node.get("restart") is not None]
            yield Hit(found.key_location, f"service '{service.name}' sets `restart`", service.name,
                      fix=Fix(SAFE, "delete `restart`", edits))


@rule("SPIN108", "rancher-only-service", E,
      title="rancher-compose.yml names a service missing from docker-compose.yml",
      hint="fix the name, or define the service in docker-compose.yml",
      help="""rancher-compose.yml only adds Rancher settings (scale, health_check, ...) to services
      defined in docker-compose.yml; a service that exists only there has no image and is usually a
      typo or a renamed service. When it is defined in another compose file of the folder
      (docker-compose.lb.yml, say), which a stack directory alone does not bring in, the finding names
      the files to give: `--file docker-compose.yml --file docker-compose.lb.yml`, as `rancher up` takes
      them.""")
def rancher_only_service(stack: Stack) -> Iterator[Hit]:
    read = [f.display for f in stack.compose_files]
    for service in stack.services.values():
        if service.compose is None:
            where = " or ".join(f.name for f in stack.compose_files) or "a docker-compose file"
            elsewhere = stack.defined_elsewhere.get(service.name)
            if elsewhere is None:
                yield Hit(service.location, f"service '{service.name}' is not defined in {where}", service.name)
                continue
            files = " ".join(f"--file {shlex.quote(path)}" for path in read + [elsewhere])
            yield Hit(service.location, f"service '{service.name}' is not defined in {where} but in "
                                        f"{os.path.basename(elsewhere)}, which a stack directory does not bring in",
                      service.name, f"name the compose files, as `rancher up` takes them: `spin-audit {files}`")


def _health_checks(stack: Stack) -> Iterator[tuple[str, Field]]:
    for service in stack.services.values():
        found = service.get("health_check")
        if found is not None and found.node.is_map:
            yield service.name, found


@rule("SPIN109", "health-check-units", W,
      title="Health check time looks like seconds",
      hint="Rancher health check times are milliseconds: write 2000 for two seconds",
      help="""`interval`, `response_timeout`, `initializing_timeout` and `reinitializing_timeout` in
      rancher-compose.yml's health_check are milliseconds. A value below 100 is almost certainly meant
      as seconds and makes the check fire continuously.""")
def health_check_units(stack: Stack) -> Iterator[Hit]:
    for name, found in _health_checks(stack):
        for key in MS_KEYS:
            node = found.node.get(key)
            value = node.value if node is not None else None
            if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value < 100:
                yield Hit(found.at(node), f"service '{name}': health_check {key} {value} is in milliseconds", name)


@rule("SPIN110", "yaml-retyped-value", E,
      title="YAML turned the value into another type",
      hint="quote the value",
      help="""YAML 1.1 readers (PyYAML, docker-compose) take some unquoted values as numbers, booleans
      or dates: `user: 1000:50` is the base-60 number 60050, a port `22:22` is 1342, `mode: 0400` is 256,
      `uid: 0` is a number where Rancher wants a string, `version: 2` is not the string '2'. Quote
      such values.""",
      fix=(SAFE,), fix_help="""quotes the value as written (`'22:22'`, `'0400'`, `'2'`): the string its author
      meant, which is what Rancher reads.""")
def yaml_retyped_value(stack: Stack) -> Iterator[Hit]:
    reported = set()

    def hit(part: Field, node: YNode, message: str, service: str | None = None) -> Iterator[Hit]:
        if id(node) not in reported:
            reported.add(id(node))
            yield Hit(part.at(node), message, service, f"quote it: '{node.raw}'",
                      Fix(SAFE, f"quote it: '{node.raw}'", [replace(node, Quoted(node.raw))]))

    for file in stack.files:
        version = file.root.get("version")
        if version is not None and version.is_plain and isinstance(version.value, (int, float)):
            yield from hit(Field(version), version,
                           f"`version: {version.raw}` is read as a number; Rancher wants the string '2'")
    for service in stack.services.values():
        for _, mapping in service.parts:
            part = Field(mapping)
            for path, node in walk_scalars(mapping):
                if not node.is_plain or isinstance(node.value, (str, bool)) or node.value is None:
                    continue
                if ":" in str(node.raw) and isinstance(node.value, (int, float)):
                    yield from hit(part, node, f"service '{service.name}': `{path_text(path)}: {node.raw}` is read "
                                               f"as the base-60 number {node.value}", service.name)
                elif path and path[-1] == "mode" and path[0] == "secrets" and isinstance(node.value, int):
                    yield from hit(part, node, f"service '{service.name}': secret mode {node.raw} is read as the "
                                               f"number {node.value} (octal {node.value:o})", service.name)
    for service, part, problem in _schema_problems(stack):
        if _is_yaml_retyped(problem):
            node = problem.node
            kind = {"integer": "a number", "number": "a number", "boolean": "a boolean", "null": "null",
                    "timestamp": "a date", "binary": "binary data"}.get(json_type(node.value), "another type")
            yield from hit(part, node, f"service '{service}': `{path_text(problem.path)}: {node.raw}` is read as "
                                       f"{kind}; Rancher expects a string", service)


@rule("SPIN111", "health-check-request-line", W,
      title="Health check request_line is malformed",
      hint='write it as METHOD "path" "HTTP/1.0", e.g. GET "/" "HTTP/1.0"; omit it for a TCP check',
      help="""Rancher's HTTP health check sends `request_line` verbatim through HAProxy's httpchk:
      a method, the path and the HTTP version, e.g. `GET "/healthz" "HTTP/1.0"`.""")
def health_check_request_line(stack: Stack) -> Iterator[Hit]:
    for name, found in _health_checks(stack):
        node = found.node.get("request_line")
        if node is None or node.value is None:
            continue
        text = node.text() or ""
        if not REQUEST_LINE.match(text.strip()):
            yield Hit(found.at(node), f"service '{name}': health_check request_line {shown(node)} is not "
                                      f"'METHOD \"/path\" \"HTTP/1.x\"'", name)


@rule("SPIN112", "health-check-strategy", W,
      title="Unknown health check strategy",
      hint="use `none`, `recreate` or `recreateOnQuorum`",
      help="""The health_check `strategy` says what Rancher does with an unhealthy container: `none`,
      `recreate` or `recreateOnQuorum`.""")
def health_check_strategy(stack: Stack) -> Iterator[Hit]:
    for name, found in _health_checks(stack):
        node = found.node.get("strategy")
        if node is not None and node.text() not in STRATEGIES:
            yield Hit(found.at(node), f"service '{name}': health_check strategy {shown(node)} is unknown", name)



@rule("SPIN113", "compose-format-1", W,
      title="Compose file in format 1",
      hint="add `version: '2'` at the top and indent the services under `services:`",
      help="""A compose file without `version` and without `services` is format 1: every top-level key
      is a service. Rancher 1.6 still reads it, and spin-audit judges each of those services, but format 1
      has no top-level `secrets` or `volumes`, so Rancher secrets and Rancher NFS volumes cannot be
      declared in it, and Spin's recipes and this template use format 2.""")
def compose_format_1(stack: Stack) -> Iterator[Hit]:
    for file in stack.files:
        if file.format == 1:
            names = [name for name, _ in file.services()]
            listed = ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")
            yield Hit(file.start, f"{file.name} is compose format 1 (no `version`, services at the top level: "
                                  f"{listed or 'none'})")


@rule("SPIN114", "duplicate-key", E,
      title="Key written twice in one mapping",
      hint="keep one of the two; the audit judged the later one, as PyYAML reads it",
      help="""A mapping that has the same key twice (two `image:` lines in one service, one service name
      twice under `services`) is refused by strict YAML readers and silently cut to one value by others,
      so what Rancher runs is not what the file seems to say. spin-audit reports each repeat, keeps the
      later value as PyYAML does, and goes on judging the rest of the file.""")
def duplicate_key(stack: Stack) -> Iterator[Hit]:
    for yaml_file in [file.doc for file in stack.files] + ([stack.answers] if stack.answers is not None else []):
        for duplicate in yaml_file.duplicates:
            yield Hit(duplicate.location, duplicate.message)

