"""The Kubernetes rules (SPINK + three digits), one module per group; importing this package registers them."""

from spin_audit.kube.rules import (  # noqa: F401
    images,
    manifest,
    metadata,
    network,
    secrets,
    security,
    storage,
)
