"""SPIN5xx: published ports and Rancher's networking settings."""

from __future__ import annotations

import re
from collections.abc import Iterator

from spin_audit.facts import INTERNAL_PORTS, PROXY_PORTS, PUBLIC_PORTS, spans_text
from spin_audit.interpolation import expand, split_outside_variables
from spin_audit.loader import YNode
from spin_audit.registry import Hit, Severity, rule
from spin_audit.rules.common import shown, truthy
from spin_audit.stack import Field, Service, Stack

E, W, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO

_RANGE = re.compile(r"^(\d{1,5})(?:-(\d{1,5}))?$")
Span = tuple[int, int]
VARIABLE = "variable"  # a port part that a variable without default decides
# A port part is a Span, VARIABLE, or (host only) None: no host port written.


class PortSpec:
    __slots__ = ("node", "text", "host", "container")

    def __init__(self, node: YNode, text: str, host: Span | str | None, container: Span | str):
        self.node = node
        self.text = text
        self.host = host  # None: Docker picks a random host port
        self.container = container

    @property
    def host_span(self) -> Span | None:
        return self.host if isinstance(self.host, tuple) else None

    @property
    def container_span(self) -> Span | None:
        return self.container if isinstance(self.container, tuple) else None


def _range(text: str) -> Span | None:
    match = _RANGE.match(text.strip())
    if not match:
        return None
    low = int(match.group(1))
    high = int(match.group(2) or low)
    return (low, high) if 1 <= low <= high <= 65535 else None


def _part(text: str) -> Span | str | None:
    """One port or range, its variables at their defaults; VARIABLE if one has none; None if invalid."""
    value = expand(text)
    return VARIABLE if value is None else _range(value)


def parse_port(text: str) -> tuple[Span | str | None, Span | str] | None:
    """`[ip:][host:]container[/proto]` with single ports, ranges or `${VAR}`s -> (host, container)."""
    pieces = split_outside_variables(text.strip(), "/")
    spec, proto = pieces[0], "/".join(pieces[1:])
    if len(pieces) > 2 or (proto and (expand(proto) or "tcp").lower() not in ("tcp", "udp")):
        return None
    if spec.startswith("["):  # [ipv6]:host:container
        end = spec.find("]")
        if end < 0 or spec[end + 1: end + 2] != ":":
            return None
        parts = [""] + split_outside_variables(spec[end + 2:], ":")
    else:
        parts = split_outside_variables(spec, ":")
    if len(parts) > 3 or not parts[-1]:
        return None
    container = _part(parts[-1])
    if container is None:
        return None
    host_text = parts[-2] if len(parts) >= 2 else ""
    if not host_text:
        return None, container
    host = _part(host_text)
    return (host, container) if host is not None else None


def _port_text(node: YNode) -> str | None:
    if node.is_plain and node.raw is not None:
        return node.raw  # what was meant, even if YAML read `22:22` as a number
    if isinstance(node.value, (str, int)) and not isinstance(node.value, bool):
        return str(node.value)
    return None


def _ports(service: Service) -> Iterator[tuple[Field, YNode, PortSpec | None]]:
    found = service.get("ports")
    if found is None:
        return
    for node in found.node.seq():
        text = _port_text(node)
        if text is None:
            continue
        parsed = parse_port(text)
        spec = PortSpec(node, text, parsed[0], parsed[1]) if parsed else None
        yield found, node, spec


def _overlaps(span: tuple[int, int], sets: tuple[tuple[int, int], ...]) -> bool:
    return any(low <= span[1] and span[0] <= high for low, high in sets)


def _outside(span: tuple[int, int], sets: tuple[tuple[int, int], ...]) -> list[int]:
    """The first ports of `span` not covered by `sets` (at most a few, for the message)."""
    missing = []
    port = span[0]
    while port <= span[1] and len(missing) < 3:
        if not any(low <= port <= high for low, high in sets):
            missing.append(port)
        port += 1
    return missing


def _publishes_proxy_port(spec: PortSpec | None) -> bool:
    """A host port range that takes in 80 or 443: SPIN501's, and the only finding for that mapping."""
    host = spec.host_span if spec else None
    return host is not None and any(host[0] <= p <= host[1] for p in PROXY_PORTS)


def _span(span: tuple[int, int]) -> str:
    return str(span[0]) if span[0] == span[1] else f"{span[0]}-{span[1]}"


@rule("SPIN501", "host-port-80-443", E,
      title="Host port 80 or 443 published",
      hint="remove the mapping; ISG points the reverse proxy at your web service (listening on 8080)",
      help="""All traffic to ports 80 and 443 goes through Spin's central reverse proxy, which terminates
      TLS and forwards to your web service (listening on 8080). A stack never maps host port 80 or 443
      itself; such a mapping is reported here only, whatever its container port.""")
def host_port_80_443(stack: Stack) -> Iterator[Hit]:
    for service in stack.services.values():
        for found, node, spec in _ports(service):
            if _publishes_proxy_port(spec):
                yield Hit(found.at(node), f"service '{service.name}' publishes host port {_span(spec.host_span)} "
                                          f"('{spec.text}'): 80 and 443 belong to the reverse proxy", service.name)


@rule("SPIN502", "host-port-closed", W,
      title="Host port outside Spin's open ports",
      hint="pick a free port in 60000-60050 (public) or 50000-50050 (NERSC), or request a firewall change",
      help=f"""Spin's firewall opens only some host ports: {spans_text(PUBLIC_PORTS)} from anywhere;
      {spans_text(INTERNAL_PORTS)} from NERSC (some also from LBL) networks. A port outside these is
      unreachable unless the Spin working group opens it.""")
def host_port_closed(stack: Stack) -> Iterator[Hit]:
    for service in stack.services.values():
        for found, node, spec in _ports(service):
            host = spec.host_span if spec else None
            if host is None or _publishes_proxy_port(spec):
                continue  # SPIN501
            missing = _outside(host, PUBLIC_PORTS + INTERNAL_PORTS)
            if missing:
                yield Hit(found.at(node), f"service '{service.name}' publishes host port "
                                          f"{', '.join(map(str, missing))}, which Spin's firewall does not open",
                          service.name)


@rule("SPIN503", "host-port-random", W,
      title="Port published on a random host port",
      hint='name the host port: "60040:8080" (public) or "50040:8080" (NERSC only)',
      help="""A port without a host part (`"8080"`) is published on a random host port, which Spin's
      firewall does not open and which changes on every upgrade. Inside the stack, services reach each
      other on all ports without publishing them.""")
def host_port_random(stack: Stack) -> Iterator[Hit]:
    for service in stack.services.values():
        for found, node, spec in _ports(service):
            if spec is not None and spec.host is None:
                container = _span(spec.container_span) if spec.container_span else repr(spec.text)
                yield Hit(found.at(node), f"service '{service.name}' publishes container port "
                                          f"{container} on a random host port", service.name)


def _reached_ports(stack: Stack) -> Iterator[tuple[str, int, Service, YNode, Field]]:
    """(service, port, the service whose environment names it, the entry, its field) for each `name:port` of
    another service in an environment value (`PROXY: web-app:80`, `DB_URL: postgres://db:5432/x`): the port
    that service listens on inside the stack, as its neighbours reach it."""
    names = "|".join(re.escape(name) for name in sorted(stack.services, key=len, reverse=True))
    if not names:
        return
    reference = re.compile(rf"(?:^|[\s,;=/@])({names}):(\d{{1,5}})(?![\d.])")
    for service in stack.services.values():
        for _, value, node, found in service.environment():
            text = expand(value) if value is not None else None
            for match in reference.finditer(text or ""):
                yield match.group(1), int(match.group(2)), service, node, found


@rule("SPIN504", "container-port-privileged", W,
      title="Container listens below port 1024",
      hint="make the service listen above 1024 (e.g. 8080) so NET_BIND_SERVICE can be dropped",
      help="""Binding a port below 1024 inside the container needs NET_BIND_SERVICE. Listen on a high port
      (web servers on 8080) and map it; then no capability is needed. The container port is read from
      `ports` and `expose`, and from another service's environment that reaches it (`PROXY: web-app:80`)
      when neither names it. A mapping of host port 80 or 443 is SPIN501's alone: removing it is the fix.""")
def container_port_privileged(stack: Stack) -> Iterator[Hit]:
    written: dict[str, set[int]] = {}  # container ports each service names in `ports` or `expose`
    for service in stack.services.values():
        mine = written.setdefault(service.name, set())
        for found, node, spec in _ports(service):
            container = spec.container_span if spec else None
            if container is not None:
                mine.update(range(container[0], min(container[1], 1023) + 1))
            if container is not None and container[0] < 1024 and not _publishes_proxy_port(spec):
                yield Hit(found.at(node), f"service '{service.name}' listens on container port "
                                          f"{_span(container)}, below 1024", service.name)
        exposed = service.get("expose")
        for node in exposed.node.seq() if exposed else []:
            text = expand(str(node.value)) if isinstance(node.value, (str, int)) else None
            span = _range(text) if text is not None else None
            if span is not None:
                mine.update(range(span[0], min(span[1], 1023) + 1))
            if span is not None and span[0] < 1024:
                yield Hit(exposed.at(node), f"service '{service.name}' exposes container port {_span(span)}, "
                                            "below 1024", service.name)
    for name, port, neighbour, node, found in _reached_ports(stack):
        if 1 <= port < 1024 and port not in written.get(name, ()):
            written[name].add(port)  # one finding per service and port
            yield Hit(found.at(node), f"service '{name}' listens on container port {port} (service "
                                      f"'{neighbour.name}' reaches it at {name}:{port}), below 1024", name)


@rule("SPIN505", "host-port-internal-on-public", INFO,
      title="Public stack publishes a port open only inside NERSC",
      hint="use 8080, 8443 or 60000-60050 if the port must be reachable from anywhere",
      help="""Ports such as 3306, 5432 or 50000-50050 are reachable only from NERSC (and some LBL)
      networks. On a public stack that may be intended (a database for NERSC users) or a surprise.""")
def host_port_internal_on_public(stack: Stack) -> Iterator[Hit]:
    if stack.access != "public":
        return
    for service in stack.services.values():
        for found, node, spec in _ports(service):
            host = spec.host_span if spec else None
            if host and _overlaps(host, INTERNAL_PORTS) and not _overlaps(host, PUBLIC_PORTS):
                yield Hit(found.at(node), f"service '{service.name}' publishes host port {_span(host)}, "
                                          "reachable only inside NERSC", service.name)


@rule("SPIN506", "port-invalid", E,
      title="Port mapping is not valid",
      hint='write ports as "HOST:CONTAINER" strings, e.g. "60040:8080" or "60040:8080/tcp"',
      help="""A port mapping is `[ip:]host:container[/tcp|/udp]` with ports 1-65535 (or ranges
      `a-b`). Rancher refuses anything else at `rancher up`.""")
def port_invalid(stack: Stack) -> Iterator[Hit]:
    for service in stack.services.values():
        for found, node, spec in _ports(service):
            if spec is None:
                yield Hit(found.at(node), f"service '{service.name}' has an invalid port mapping {shown(node)}",
                          service.name)


@rule("SPIN507", "retain-ip-start-first", E,
      title="retain_ip together with start_first upgrades",
      hint="drop `start_first: true` from upgrade_strategy (or drop retain_ip)",
      help="""`retain_ip: true` keeps a container's IP across upgrades; `upgrade_strategy.start_first`
      starts the new container while the old one still holds that IP. Rancher cannot do both.""")
def retain_ip_start_first(stack: Stack) -> Iterator[Hit]:
    for service in stack.services.values():
        retain, strategy = service.get("retain_ip"), service.get("upgrade_strategy")
        if retain is None or strategy is None or not truthy(retain.node):
            continue
        start_first = strategy.node.get("start_first")
        if start_first is not None and truthy(start_first):
            yield Hit(strategy.at(start_first), f"service '{service.name}' sets retain_ip with "
                                                "upgrade_strategy.start_first", service.name)
