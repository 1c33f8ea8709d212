"""Spin's rules as data: spin_facts.json, which the template's validators read too, so that
what the template accepts and what the audit accepts cannot drift apart."""

from __future__ import annotations

import json
from importlib import resources
from typing import Tuple

_FACTS = json.loads(resources.files("spin_audit").joinpath("spin_facts.json").read_text(encoding="utf-8"))

Span = Tuple[int, int]

ALLOWED_CAPABILITIES: Tuple[str, ...] = tuple(_FACTS["allowed_capabilities"])
GLOBAL_MOUNT_CAPABILITIES: Tuple[str, ...] = tuple(_FACTS["global_mount_capabilities"])
GLOBAL_ROOT: str = _FACTS["global_prefix"].rstrip("/")  # "/global"
HOME_ROOTS: Tuple[str, ...] = tuple(_FACTS["global_forbidden"])
FILE_SYSTEM_ROOTS = frozenset(_FACTS["global_roots"])
PROXY_PORTS: Tuple[int, ...] = tuple(_FACTS["proxy_ports"])
PUBLIC_PORTS: Tuple[Span, ...] = tuple((low, high) for low, high in _FACTS["host_ports"]["public"])
INTERNAL_PORTS: Tuple[Span, ...] = tuple(
    (low, high) for key, spans in _FACTS["host_ports"].items() if key != "public" for low, high in spans)
SPIN_REGISTRIES: Tuple[str, ...] = tuple(_FACTS["spin_registries"])
DOCKER_HUB_HOSTS: Tuple[str, ...] = tuple(_FACTS["docker_hub_hosts"])
SERVICE_ROLES: Tuple[str, ...] = tuple(_FACTS["service_roles"])


def spans_text(spans: Tuple[Span, ...]) -> str:
    """((8080, 8080), (60000, 60050)) -> '8080, 60000-60050'."""
    return ", ".join(str(low) if low == high else f"{low}-{high}" for low, high in sorted(spans))
