"""SPINK2xx: capabilities, privileges and host namespaces (Spin's security context on every container)."""

from __future__ import annotations

from typing import Iterator, Optional

from spin_audit.fixes import SAFE, UNSAFE, Fix, append_item, set_key
from spin_audit.kube.facts import ALLOWED_CAPABILITIES
from spin_audit.kube.model import Bundle, Container
from spin_audit.kube.rules.common import kube_rule
from spin_audit.registry import Hit, Severity

E, W = Severity.ERROR, Severity.WARNING

HOST_NAMESPACES = ("hostNetwork", "hostPID", "hostIPC")


@kube_rule("SPINK201", "k8s-cap-drop-all", W,
           title="Container does not drop all capabilities",
           hint="set `securityContext.capabilities.drop: [ALL]` and add back only what the container needs",
           help=f"""Spin's charts and nearly every Spin workload start each container from no Linux capabilities
           (`drop: [ALL]`) and add back only a few ({', '.join(ALLOWED_CAPABILITIES)}). Root init containers
           without a capabilities block run in production, so admission evidently does not refuse the
           omission: a warning, for containers and init containers alike.""",
           fix=(UNSAFE,), fix_help="""adds ALL to `securityContext.capabilities.drop` (unsafe: an image that needs a
           capability, such as postgres's CHOWN and SETUID, stops starting until it is added back).""")
def cap_drop_all(bundle: Bundle) -> Iterator[Hit]:
    for container in bundle.containers:
        if container.pod.obj.partial:
            continue
        if "ALL" not in [name for name, _ in container.capabilities("drop")]:
            yield Hit(container.where("securityContext", "capabilities", "drop"),
                      f"{container.label} does not drop ALL capabilities",
                      fix=Fix(UNSAFE, "drop ALL capabilities", [
                          append_item(container.node, "securityContext", "capabilities", "drop", value="ALL")]))


@kube_rule("SPINK202", "k8s-capability-not-allowed", E,
           title="Capability added outside Spin's list",
           hint=f"add back only {', '.join(ALLOWED_CAPABILITIES)}",
           help=f"""The capabilities Spin workloads add back are {', '.join(ALLOWED_CAPABILITIES)}
           (NET_BIND_SERVICE for servers on low ports; the other five for images that start as root and
           drop privileges, such as postgres). Nothing else was ever seen to pass Spin's admission; a pod that
           mounts the global file system is limited further (SPINK309).""")
def capability_not_allowed(bundle: Bundle) -> Iterator[Hit]:
    for container in bundle.containers:
        for name, node in container.capabilities("add"):
            if name not in ALLOWED_CAPABILITIES:
                yield Hit(container.pod.obj.at(node), f"{container.label} adds capability {name}, outside "
                                                      "Spin's list")


@kube_rule("SPINK203", "k8s-privileged", E,
           title="Privileged container",
           hint="remove `privileged: true`; add back single allowed capabilities instead",
           help="""A privileged container holds every capability and the node's devices, far beyond the
           add-backs Spin allows; Spin's charts set `privileged: false` on every container.""")
def privileged(bundle: Bundle) -> Iterator[Hit]:
    for container in bundle.containers:
        found = container.setting("privileged")
        if found is not None and found.value is True:
            yield Hit(container.pod.obj.at(found, key=True), f"{container.label} is privileged")


@kube_rule("SPINK204", "k8s-privilege-escalation", W,
           title="allowPrivilegeEscalation is not false",
           hint="set `securityContext.allowPrivilegeEscalation: false`",
           help="""Spin's charts and most Spin workloads set `allowPrivilegeEscalation: false`, so that no
           process in the container gains privileges through setuid binaries. Workloads without it run in
           production, so it is a warning.""",
           fix=(SAFE, UNSAFE), fix_help="""sets `securityContext.allowPrivilegeEscalation: false`: safe where the
           manifest does not say, unsafe where it says `true` (the container may rely on a setuid program such as
           sudo); none for a privileged container or one that adds SYS_ADMIN, which Kubernetes refuses with
           it.""")
def privilege_escalation(bundle: Bundle) -> Iterator[Hit]:
    for container in bundle.containers:
        found = container.setting("allowPrivilegeEscalation")
        if found is not None and found.value is True:
            yield Hit(container.pod.obj.at(found, key=True), f"{container.label} sets allowPrivilegeEscalation: "
                                                             "true", fix=_no_escalation(container, UNSAFE))
        elif (found is None or found.value is not False) and not container.pod.obj.partial:
            yield Hit(container.where("securityContext", "allowPrivilegeEscalation"),
                      f"{container.label} does not set allowPrivilegeEscalation: false",
                      fix=_no_escalation(container, SAFE))


def _no_escalation(container: Container, kind: str) -> Optional[Fix]:
    """allowPrivilegeEscalation: false, unless the container is privileged or adds SYS_ADMIN (the API server
    refuses the pair)."""
    privileged = container.setting("privileged")
    if privileged is not None and privileged.value is True or "SYS_ADMIN" in [n for n, _ in container.capabilities(
            "add")]:
        return None
    return Fix(kind, "set allowPrivilegeEscalation: false", [
        set_key(container.node, "securityContext", "allowPrivilegeEscalation", value=False)])


@kube_rule("SPINK205", "k8s-host-namespace", E,
           title="Pod shares a host namespace",
           hint="remove the setting; reach other pods through Services and the outside through an Ingress",
           help="""`hostNetwork`, `hostPID` and `hostIPC` share the Spin node's network, processes or IPC with
           the pod, across every tenant of the node. Spin never allowed this on Rancher 1.6 and nothing on
           Rancher 2 uses it.""")
def host_namespace(bundle: Bundle) -> Iterator[Hit]:
    for pod in bundle.pods:
        for key in HOST_NAMESPACES:
            found = pod.node.get(key)
            if found is not None and found.value is True:
                yield Hit(pod.obj.at(found, key=True), f"{pod.obj.label} sets {key}: true")
