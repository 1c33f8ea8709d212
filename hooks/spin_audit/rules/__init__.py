"""The rules of compose stacks, one module per group of ids; importing this package registers
them (registry.RULE_PACKAGES), which happens only when a compose stack is audited."""

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
