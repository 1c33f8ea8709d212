"""What the Kubernetes rule modules share: the decorator that files a rule under Kubernetes input."""

from __future__ import annotations

from functools import partial

from spin_audit.registry import KUBE, rule

kube_rule = partial(rule, kind=KUBE)
