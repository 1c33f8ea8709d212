"""Spin's rules as data: spin_facts.json, which the template's validators read too, so that
what the template accepts and what the audit accepts cannot drift apart."""

from __future__ import annotations

import json
import os


def package_json(name: str):
    """A JSON file shipped in this package (read beside this module: importlib.resources would add
    a sizeable share to the start-up of every run)."""
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), name), encoding="utf-8") as handle:
        return json.load(handle)


_FACTS = package_json("spin_facts.json")

Span = tuple[int, int]

ALLOWED_CAPABILITIES: tuple[str, ...] = tuple(_FACTS["allowed_capabilities"])
GLOBAL_MOUNT_CAPABILITIES: tuple[str, ...] = tuple(_FACTS["global_mount_capabilities"])
GLOBAL_ROOT: str = _FACTS["global_prefix"].rstrip("/")  # "/global"
HOME_ROOTS: tuple[str, ...] = tuple(_FACTS["global_forbidden"])
FILE_SYSTEM_ROOTS = frozenset(_FACTS["global_roots"])
PROXY_PORTS: tuple[int, ...] = tuple(_FACTS["proxy_ports"])
PUBLIC_PORTS: tuple[Span, ...] = tuple((low, high) for low, high in _FACTS["host_ports"]["public"])
INTERNAL_PORTS: tuple[Span, ...] = tuple(
    (low, high) for key, spans in _FACTS["host_ports"].items() if key != "public" for low, high in spans)
SPIN_REGISTRIES: tuple[str, ...] = tuple(_FACTS["spin_registries"])
NERSC_REGISTRIES: tuple[str, ...] = SPIN_REGISTRIES + tuple(_FACTS["other_nersc_registries"])
DOCKER_HUB_HOSTS: tuple[str, ...] = tuple(_FACTS["docker_hub_hosts"])
SERVICE_ROLES: tuple[str, ...] = tuple(_FACTS["service_roles"])
INTERNAL_ROLES: tuple[str, ...] = tuple(_FACTS["internal_roles"])
MOVING_TAG: str = _FACTS["moving_tag"]  # a regular expression, matched in full


def serves_users(name: str) -> bool:
    """Whether a service (or workload) of this name serves users: all but db, kv and util, or
    their `-suffix` forms (db-dump, kv-dump), which Spin's naming gives the internal roles."""
    return name.split("-")[0] not in INTERNAL_ROLES


def spans_text(spans: tuple[Span, ...]) -> str:
    """((8080, 8080), (60000, 60050)) -> '8080, 60000-60050'."""
    return ", ".join(str(low) if low == high else f"{low}-{high}" for low, high in sorted(spans))
