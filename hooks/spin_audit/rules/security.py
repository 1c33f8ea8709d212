"""SPIN2xx: capabilities and privileges Spin's API refuses."""

from __future__ import annotations

from collections.abc import Iterator

from spin_audit.facts import ALLOWED_CAPABILITIES
from spin_audit.fixes import UNSAFE, Fix, append_item
from spin_audit.interpolation import expand
from spin_audit.registry import Hit, Severity, rule
from spin_audit.rules.common import shown, truthy
from spin_audit.stack import Stack

E = Severity.ERROR

HOST_NAMESPACE_KEYS = ("network_mode", "net", "pid", "ipc", "uts")  # `net` is format 1's network_mode


@rule("SPIN201", "cap-drop-all", E,
      title="Service does not drop all capabilities",
      hint="add `cap_drop: [ALL]` and add back only what the service needs with `cap_add`",
      help="""Spin requires every service to start from no Linux capabilities (`cap_drop: [ALL]`) and
      add back only the few it needs from the allowed list.""",
      fix=(UNSAFE,), fix_help="""adds ALL to the service's `cap_drop` in docker-compose.yml (unsafe: an image
      that needs a capability, such as postgres's CHOWN and SETUID, stops starting until `cap_add` gives it
      back).""")
def cap_drop_all(stack: Stack) -> Iterator[Hit]:
    for service in stack.services.values():
        if service.compose is None or not service.compose.node.is_map:
            continue
        dropped = [name for name, _, _ in service.capabilities("cap_drop")]
        if "ALL" in dropped:
            continue
        found = service.get("cap_drop")
        where = found.key_location if found else service.location
        yield Hit(where, f"service '{service.name}' does not drop all capabilities (`cap_drop: [ALL]`)",
                  service.name, fix=Fix(UNSAFE, "drop ALL capabilities", [
                      append_item(service.compose.node, "cap_drop", value="ALL")]))


@rule("SPIN202", "capability-not-allowed", E,
      title="Capability outside Spin's allowed list",
      hint=f"Spin allows only {', '.join(ALLOWED_CAPABILITIES)}",
      help=f"""Spin's API refuses any added capability outside {', '.join(ALLOWED_CAPABILITIES)} (with or
      without the CAP_ prefix). Services that mount the global file system are limited further (SPIN302).""")
def capability_not_allowed(stack: Stack) -> Iterator[Hit]:
    for service in stack.services.values():
        for name, node, found in service.capabilities("cap_add"):
            if name not in ALLOWED_CAPABILITIES:
                yield Hit(found.at(node), f"service '{service.name}' adds capability {name}, outside Spin's "
                                          "allowed list", service.name)


@rule("SPIN203", "privileged", E,
      title="Privileged container",
      hint="remove `privileged`; add back single allowed capabilities instead",
      help="""A privileged container has every capability and all host devices; Spin never allows it.""")
def privileged(stack: Stack) -> Iterator[Hit]:
    for service in stack.services.values():
        found = service.get("privileged")
        if found is not None and truthy(found.node):
            yield Hit(found.at(), f"service '{service.name}' is privileged", service.name)


@rule("SPIN204", "host-namespace", E,
      title="Service shares a host namespace",
      hint="remove the setting; publish ports with `ports:` instead of host networking",
      help="""`network_mode: host` (`net: host` in compose format 1), `pid: host`, `ipc: host` and
      `uts: host` share the Spin node's namespaces with the container; Spin refuses them.""")
def host_namespace(stack: Stack) -> Iterator[Hit]:
    for service in stack.services.values():
        for key in HOST_NAMESPACE_KEYS:
            found = service.get(key)
            if found is not None and (expand(found.node.text() or "") or "").strip().lower() == "host":
                yield Hit(found.at(), f"service '{service.name}' uses the host's namespace: `{key}: host`",
                          service.name)


@rule("SPIN205", "devices", E,
      title="Service maps host devices",
      hint="remove `devices:`; Spin containers get no host devices",
      help="""Mapping host devices into a container bypasses the isolation Spin relies on; Spin refuses
      `devices`.""")
def devices(stack: Stack) -> Iterator[Hit]:
    for service in stack.services.values():
        found = service.get("devices")
        if found is not None and (found.node.seq() or (found.node.is_scalar and found.node.value)):
            first = found.node.seq()[0] if found.node.seq() else found.node
            yield Hit(found.at(first), f"service '{service.name}' maps host device {shown(first)}", service.name)
