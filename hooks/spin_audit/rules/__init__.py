"""The rules, one module per group of ids; importing this package registers them all."""

from spin_audit.rules import (  # noqa: F401
    compose,
    dockerfile,
    globalfs,
    images,
    meta,
    naming,
    network,
    secrets,
    security,
)
