"""SPINK5xx: Ingresses (Spin's ING-002 host, the nginx class) and LoadBalancer ports."""

from __future__ import annotations

import re
from typing import Iterator, List, Optional, Tuple

from spin_audit.fixes import SAFE, Fix, append_item, replace, set_key
from spin_audit.kube.facts import CLUSTERS, INGRESS_CLASS, INGRESS_DOMAIN, REFUSED_LB_PORTS, SEEN_LB_PORTS
from spin_audit.kube.model import Bundle, KubeObject, Placement, dig, integer, text_of
from spin_audit.kube.rules.common import kube_rule
from spin_audit.loader import YNode
from spin_audit.registry import Hit, Severity

E, W = Severity.ERROR, Severity.WARNING

CLASS_ANNOTATION = "kubernetes.io/ingress.class"
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
CLUSTER_CHOICE = "|".join(CLUSTERS)


def _hosts(obj: KubeObject) -> List[Tuple[str, YNode]]:
    """(host, node) of each rule of the Ingress, lower-cased."""
    rules = dig(obj.node, "spec", "rules")
    found = []
    for item in rules.seq() if rules is not None else []:
        host = item.get("host") if item.is_map else None
        if text_of(host):
            found.append((text_of(host).lower(), host))
    return found


def _spin_parts(host: str) -> Optional[List[str]]:
    """'web.ns.development.svc.spin.nersc.org' -> ['web', 'ns', 'development']; None for other hosts."""
    suffix = "." + INGRESS_DOMAIN
    return host[: -len(suffix)].split(".") if host.endswith(suffix) else None


def _expected(placement: Placement) -> str:
    return f"{placement.name}.{placement.namespace or '<namespace>'}.{placement.cluster or CLUSTER_CHOICE}." \
           f"{INGRESS_DOMAIN}"


def _matches(parts: List[str], placement: Placement, check_cluster: bool) -> bool:
    if len(parts) != 3 or parts[0] != placement.name or parts[2] not in CLUSTERS:
        return False
    if placement.namespace is not None and parts[1] != placement.namespace:
        return False
    if check_cluster and placement.cluster is not None and parts[2] != placement.cluster:
        return False
    return DNS_LABEL.match(parts[1]) is not None


def _ingresses(bundle: Bundle):
    for obj in bundle.of_kind("Ingress"):
        if not obj.partial:
            yield obj, _hosts(obj), [p for p in obj.placements if p.name]


@kube_rule("SPINK501", "k8s-ingress-host", E,
           title="Ingress without Spin's host <ingress>.<namespace>.<cluster>.svc.spin.nersc.org (ING-002)",
           hint=f"add a rule for host <ingress-name>.<namespace>.<{CLUSTER_CHOICE}>.{INGRESS_DOMAIN}",
           help=f"""Spin's admission policy ING-002 refuses an Ingress unless one of its hosts is
           `<ingress-name>.<namespace>.<cluster>.{INGRESS_DOMAIN}`, with the Ingress's own name, its
           namespace and the cluster ({', '.join(CLUSTERS)}); a public name is a DNS CNAME to that host, added
           as another rule. The namespace is the manifest's or the one its kustomization sets; where neither
           says, any namespace is accepted. Quoted refusal: `ingress must have one host with the name
           ingress.<ns>.development.{INGRESS_DOMAIN}`.""",
           fix=(SAFE,), fix_help="""where the namespace and the cluster are known (the manifest's or its
           kustomization's namespace, an overlay folder named after the cluster) and the same for every overlay
           that applies the Ingress: writes Spin's host in place of the wrong one under the Spin domain (and in
           `spec.tls` hosts), or, when it has none, adds a rule for it that routes as the first rule does.""")
def ingress_host(bundle: Bundle) -> Iterator[Hit]:
    for obj, hosts, placements in _ingresses(bundle):
        for placement in placements:
            if any(_matches(parts, placement, check_cluster=False)
                   for parts in (_spin_parts(host) for host, _ in hosts) if parts is not None):
                continue
            wrong = [(host, node) for host, node in hosts if _spin_parts(host) is not None]
            if wrong:
                host, node = wrong[0]
                yield Hit(obj.at(node), f"{obj.label} host {host} is not {_expected(placement)} (ING-002)",
                          fix=_spin_host(obj, placements, node))
            else:
                yield Hit(obj.where(None, "spec", "rules"), f"{obj.label} has no host {_expected(placement)} "
                                                            "(ING-002)", fix=_spin_host(obj, placements, None))


def _spin_host(obj: KubeObject, placements: List[Placement], wrong: Optional[YNode]) -> Optional[Fix]:
    """Spin's host for the Ingress, written over the `wrong` one (and its TLS entries) or added as a rule routed
    as the first one; None unless every placement knows its namespace and cluster and they agree."""
    expected = {_expected(p) for p in placements if p.namespace is not None and p.cluster is not None}
    if len(expected) != 1 or any(p.namespace is None or p.cluster is None for p in placements):
        return None
    host = expected.pop()
    if wrong is not None:
        old = text_of(wrong)
        tls = dig(obj.node, "spec", "tls")
        edits = [replace(wrong, host)] + [replace(item, host) for entry in (tls.seq() if tls is not None else [])
                                          for item in (dig(entry, "hosts").seq() if dig(entry, "hosts") else [])
                                          if text_of(item) == old]
        return Fix(SAFE, f"write Spin's host {host}", edits)
    rules = dig(obj.node, "spec", "rules")
    first = rules.seq()[0] if rules is not None and rules.seq() else None
    http = first.get("http") if first is not None and first.is_map else None
    if http is None or not http.is_map:
        return None
    return Fix(SAFE, f"add a rule for Spin's host {host}", [
        append_item(obj.node, "spec", "rules", value={"host": host, "http": http.plain()})])


@kube_rule("SPINK502", "k8s-ingress-class-missing", W,
           title="Ingress without ingressClassName: nginx",
           hint=f"set `spec.ingressClassName: {INGRESS_CLASS}`",
           help=f"""Spin's ingress controller is ingress-nginx, class `{INGRESS_CLASS}`. An Ingress that names no
           class relies on the cluster's default class; NERSC's charts always name it.""",
           fix=(SAFE,), fix_help=f"sets `spec.ingressClassName: {INGRESS_CLASS}`, Spin's only class.")
def ingress_class_missing(bundle: Bundle) -> Iterator[Hit]:
    for obj, _, _ in _ingresses(bundle):
        if dig(obj.node, "spec", "ingressClassName") is None and dig(obj.node, "metadata", "annotations",
                                                                     CLASS_ANNOTATION) is None:
            yield Hit(obj.where(None, "spec"), f"{obj.label} names no ingress class",
                      fix=Fix(SAFE, f"set ingressClassName: {INGRESS_CLASS}", [
                          set_key(obj.node, "spec", "ingressClassName", value=INGRESS_CLASS)]))


@kube_rule("SPINK503", "k8s-ingress-class", E,
           title="Ingress of a class other than nginx",
           hint=f"set `spec.ingressClassName: {INGRESS_CLASS}`",
           help=f"""Spin's only ingress controller is ingress-nginx, class `{INGRESS_CLASS}`: an Ingress of another
           class (in `spec.ingressClassName` or the older annotation `{CLASS_ANNOTATION}`) is served by
           nobody.""")
def ingress_class(bundle: Bundle) -> Iterator[Hit]:
    for obj in bundle.of_kind("Ingress"):
        for found in (dig(obj.node, "spec", "ingressClassName"),
                      dig(obj.node, "metadata", "annotations", CLASS_ANNOTATION)):
            if found is not None and text_of(found) != INGRESS_CLASS:
                yield Hit(obj.at(found), f"{obj.label} has ingress class {text_of(found)!r}, not {INGRESS_CLASS}")


@kube_rule("SPINK504", "k8s-ingress-host-cluster", W,
           title="Ingress host names a cluster other than its overlay folder's",
           hint="name the cluster the overlay is applied to in the host, or move the Ingress",
           help=f"""An Ingress in a folder named after a Spin cluster ({', '.join(CLUSTERS)}, as the overlays
           k8s/development and k8s/production are) is applied to that cluster, so its ING-002 host should name
           it. The cluster is only inferred from the folder, so this is a warning.""")
def ingress_host_cluster(bundle: Bundle) -> Iterator[Hit]:
    for obj, hosts, placements in _ingresses(bundle):
        for placement in placements:
            if placement.cluster is None:
                continue
            spin_hosts = [(parts, node) for parts, node in ((_spin_parts(h), n) for h, n in hosts) if parts]
            if any(_matches(parts, placement, check_cluster=True) for parts, _ in spin_hosts):
                continue
            for parts, node in spin_hosts:
                if _matches(parts, placement, check_cluster=False):
                    yield Hit(obj.at(node), f"{obj.label} host names cluster {parts[2]}, but its folder is "
                                            f"{placement.cluster}")


def _load_balancer_ports(bundle: Bundle) -> Iterator[Tuple[KubeObject, YNode, int]]:
    for obj in bundle.of_kind("Service"):
        if text_of(dig(obj.node, "spec", "type")) != "LoadBalancer":
            continue
        ports = dig(obj.node, "spec", "ports")
        for item in ports.seq() if ports is not None else []:
            port = item.get("port") if item.is_map else None
            if integer(port) is not None:
                yield obj, port, integer(port)


@kube_rule("SPINK505", "k8s-loadbalancer-port-refused", E,
           title="LoadBalancer port that Spin refuses",
           hint="expose another port (`port: 5672`, `targetPort: <the container's port>`)",
           help=f"""A Service of type LoadBalancer is reachable at
           `<service>.<namespace>.<cluster>.{INGRESS_DOMAIN}:<port>`, but not every port is open: NERSC documents that
           {', '.join(map(str, REFUSED_LB_PORTS))} is not allowed on Spin (its NATS chart maps 5672 to 4222
           instead).""")
def loadbalancer_port_refused(bundle: Bundle) -> Iterator[Hit]:
    for obj, node, port in _load_balancer_ports(bundle):
        if port in REFUSED_LB_PORTS:
            yield Hit(obj.at(node), f"{obj.label} exposes port {port} on its load balancer, which Spin refuses")


@kube_rule("SPINK506", "k8s-loadbalancer-port-unverified", W,
           title="LoadBalancer port not known to be open on Spin",
           hint=f"prefer a port seen to work on Spin ({', '.join(map(str, SEEN_LB_PORTS))}) or check with NERSC",
           help=f"""Spin opens only some ports on its load balancers, and the full list is not published. Ports
           {', '.join(map(str, SEEN_LB_PORTS))} are used by Spin workloads; any other port may be closed, so
           the audit asks you to check.""")
def loadbalancer_port_unverified(bundle: Bundle) -> Iterator[Hit]:
    for obj, node, port in _load_balancer_ports(bundle):
        if port not in REFUSED_LB_PORTS and port not in SEEN_LB_PORTS:
            yield Hit(obj.at(node), f"{obj.label} exposes port {port} on its load balancer; Spin is not known "
                                    "to open it")
