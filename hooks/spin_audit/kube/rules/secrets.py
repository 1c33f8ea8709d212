"""SPINK6xx: secret values written into manifests, in `env` or in committed Secret objects."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Iterator, Optional

from spin_audit.kube.model import Bundle, dig
from spin_audit.kube.rules.common import kube_rule
from spin_audit.loader import YNode
from spin_audit.registry import Hit, Severity

E = Severity.ERROR

# Words that make a variable or key name a secret's: DB_PASS, pgpass, API_TOKEN, tls.key, ...
SECRET_NAME = re.compile(r"PASS(?:WORD|WD|PHRASE)?(?![A-Z])|(?<![A-Z])PWD(?![A-Z])|SECRET|TOKEN|CREDENTIAL|"
                         r"PRIVATE_?KEY|API_?KEY|ACCESS_?KEY|AUTH_?KEY|(?<![A-Z])KEY(?![A-Z])|DOCKERCONFIG")
# ... unless the name says the value is where the secret is, or names something public.
NOT_A_SECRET_SUFFIXES = ("_FILE", "_PATH", "_DIR", "_NAME", "_ID", "_URL", "_URI", "_HOST", "_PORT", "_USER",
                         "_USERNAME")
FLAG_WORDS = ("yes", "no", "true", "false", "on", "off", "0", "1", "y", "n")
# Values that stand for a secret without being one.
PLACEHOLDER = re.compile(r"^<.*>$|^\$\{.*\}$|REDACTED|CHANGE[-_ ]?ME|REPLACE|PLACEHOLDER|TODO|FIXME|XXX|"
                         r"\bPUT\b.*\bHERE\b|\bYOUR[-_ ]|EXAMPLE", re.IGNORECASE)
DUMMY_WORDS = ("password", "passwd", "secret", "token", "changeme", "dummy", "none", "null", "test")


def secret_name(name: str) -> bool:
    upper = name.upper()
    return not upper.endswith(NOT_A_SECRET_SUFFIXES) and SECRET_NAME.search(upper) is not None


def literal(text: str) -> bool:
    """A value that is the secret itself, not a placeholder, reference, path or flag."""
    text = text.strip()
    if not text or text.lower() in FLAG_WORDS + DUMMY_WORDS or text.startswith("/"):
        return False
    return "$(" not in text and PLACEHOLDER.search(text) is None


def _decoded(node: YNode) -> Optional[str]:
    """The text of a Secret `data` value; None when it is not base64 (kubectl would refuse it: a stand-in)."""
    text = node.text()
    if text is None or PLACEHOLDER.search(text):
        return None
    try:
        raw = base64.b64decode(text.strip().replace("\r", "").replace("\n", ""), validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw.decode("utf-8", "replace")


@kube_rule("SPINK601", "k8s-secret-in-env", E,
           title="Secret value written in `env`",
           hint="keep it in a Secret created with `kubectl create secret`, read through `valueFrom.secretKeyRef` "
                "or a *_FILE variable",
           help="""Manifests end up in git, in `kubectl get -o yaml` and in Rancher's UI. A variable whose name
           says password, secret, token or key must not carry the value itself: create the Secret from a file
           with kubectl (never committed) and read it with `valueFrom.secretKeyRef`, or mount it and point a
           `*_FILE` variable at it. Placeholders, `$(VAR)` references and paths are not reported.""")
def secret_in_env(bundle: Bundle) -> Iterator[Hit]:
    for container in bundle.containers:
        for name, item in container.env():
            value = item.get("value")
            if value is None or not isinstance(value.value, str) or not secret_name(name):
                continue
            if literal(value.value):
                yield Hit(container.pod.obj.at(value, key=True), f"{container.label} sets {name} to a literal value")


@kube_rule("SPINK602", "k8s-secret-committed", E,
           title="Secret object with a literal secret value",
           hint="delete the value from the manifest (and from git's history); create the Secret with "
                "`kubectl create secret generic NAME --from-file=...`",
           help="""A Secret's `data` is only base64, not encryption: a Secret object with real values in a
           manifest publishes them to everyone who can read the repository. Create Secrets from files with
           kubectl and keep only their names in the manifests. Values under keys that name a secret
           (password, token, key, ...) are reported, unless they are placeholders (`<...>`, `CHANGE-ME`, empty,
           or `data` that is not base64 at all).""")
def secret_committed(bundle: Bundle) -> Iterator[Hit]:
    for obj in bundle.of_kind("Secret"):
        for key in ("data", "stringData"):
            values = dig(obj.node, key)
            for name, node in values.items() if values is not None else ():
                if not secret_name(str(name)):
                    continue
                text = _decoded(node) if key == "data" else node.text()
                if text is not None and literal(text):
                    yield Hit(obj.at(node, key=True), f"{obj.label} holds a literal value for {name} in `{key}`")
