"""Spin's Rancher 2 rules as data: the `rancher2` section of spin_facts.json, which the template reads too."""

from __future__ import annotations

from typing import Tuple

from spin_audit.facts import GLOBAL_ROOT  # noqa: F401 - for the rules
from spin_audit.facts import _FACTS, DOCKER_HUB_HOSTS, NERSC_REGISTRIES

_RANCHER2 = _FACTS["rancher2"]

CLUSTERS: Tuple[str, ...] = tuple(_RANCHER2["clusters"])
INGRESS_DOMAIN: str = _RANCHER2["ingress_domain"]
INGRESS_CLASS: str = _RANCHER2["ingress_class"]
REGISTRY: str = _RANCHER2["registry"]
PULL_SECRET: str = _RANCHER2["pull_secret"]  # every Spin namespace has it, for REGISTRY
RETIRED_REGISTRIES: Tuple[str, ...] = tuple(_RANCHER2["retired_registries"])
PULLABLE_REGISTRIES: Tuple[str, ...] = tuple(_RANCHER2["pullable_registries"]) + DOCKER_HUB_HOSTS + tuple(
    r for r in NERSC_REGISTRIES if r not in RETIRED_REGISTRIES)
STORAGE_CLASS: str = _RANCHER2["storage_class"]
OLDER_STORAGE_CLASSES: Tuple[str, ...] = tuple(_RANCHER2["older_storage_classes"])
ALLOWED_CAPABILITIES: Tuple[str, ...] = tuple(_RANCHER2["allowed_capabilities"])
GLOBAL_MOUNT_CAPABILITIES: Tuple[str, ...] = tuple(_RANCHER2["global_mount_capabilities"])
HOME_ROOTS: Tuple[str, ...] = tuple(_RANCHER2["global_forbidden"])
UNMOUNTABLE_ROOTS: Tuple[str, ...] = tuple(_RANCHER2["unmountable_prefixes"])
REFUSED_LB_PORTS: Tuple[int, ...] = tuple(_RANCHER2["loadbalancer_ports"]["refused"])
SEEN_LB_PORTS: Tuple[int, ...] = tuple(_RANCHER2["loadbalancer_ports"]["seen"])
SPIN_ANNOTATION_PREFIX: str = _RANCHER2["spin_annotation_prefix"]
