"""SPINK6xx: secret values written into manifests (in `env`, in committed Secret objects), and Secrets mounted
readable by everyone."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Iterator, List, Optional, Tuple

from spin_audit.credentials import PLACEHOLDER, url_password
from spin_audit.fixes import SAFE, UNSAFE, Fix, Octal, replace, set_key
from spin_audit.kube.model import Bundle, Volume, dig, integer, text_of, under
from spin_audit.kube.rules.common import kube_rule
from spin_audit.loader import YNode
from spin_audit.registry import Hit, Severity

E, W = Severity.ERROR, Severity.WARNING

# Words that make a variable or key name a secret's: DB_PASS, pgpass, API_TOKEN, tls.key, ...
SECRET_NAME = re.compile(r"PASS(?:WORD|WD|PHRASE)?(?![A-Z])|(?<![A-Z])PWD(?![A-Z])|SECRET|TOKEN|CREDENTIAL|"
                         r"PRIVATE_?KEY|API_?KEY|ACCESS_?KEY|AUTH_?KEY|(?<![A-Z])KEY(?![A-Z])|DOCKERCONFIG")
# ... unless the name says the value is where the secret is, or names something public.
NOT_A_SECRET_SUFFIXES = ("_FILE", "_PATH", "_DIR", "_NAME", "_ID", "_URL", "_URI", "_HOST", "_PORT", "_USER",
                         "_USERNAME")
FLAG_WORDS = ("yes", "no", "true", "false", "on", "off", "0", "1", "y", "n")
URL_HINT = ("read the password from a Secret into its own variable (`valueFrom.secretKeyRef`) and write "
            "`$(THAT_VARIABLE)` in the URL, listed after it")
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
           says password, secret, token or key must not carry the value itself, and no variable may carry a
           connection URL with a password in it (`postgresql://user:secret@db/app`, `redis://:pw@kv`): create
           the Secret from a file with kubectl (never committed) and read it with `valueFrom.secretKeyRef`, or
           mount it and point a `*_FILE` variable at it; a URL can take its password from another variable,
           `$(DB_PASSWORD)`. Placeholders, `$(VAR)` references and paths are not reported.""")
def secret_in_env(bundle: Bundle) -> Iterator[Hit]:
    for container in bundle.containers:
        for name, item in container.env():
            value = item.get("value")
            if value is None or not isinstance(value.value, str):
                continue
            if secret_name(name) and literal(value.value):
                yield Hit(container.pod.obj.at(value, key=True), f"{container.label} sets {name} to a literal value")
            elif (scheme := url_password(value.value)) is not None:
                yield Hit(container.pod.obj.at(value, key=True), f"{container.label} sets {name} to a {scheme} URL "
                                                                 "with a password", hint=URL_HINT)


@kube_rule("SPINK602", "k8s-secret-committed", E,
           title="Secret object with a literal secret value",
           hint="delete the value from the manifest (and from git's history); create the Secret with "
                "`kubectl create secret generic NAME --from-file=...`",
           help="""A Secret's `data` is only base64, not encryption: a Secret object with real values in a
           manifest publishes them to everyone who can read the repository. Create Secrets from files with
           kubectl and keep only their names in the manifests. Values under keys that name a secret
           (password, token, key, ...) and connection URLs with a password under any key are reported, unless
           they are placeholders (`<...>`, `CHANGE-ME`, empty, or `data` that is not base64 at all).""")
def secret_committed(bundle: Bundle) -> Iterator[Hit]:
    for obj in bundle.of_kind("Secret"):
        for key in ("data", "stringData"):
            values = dig(obj.node, key)
            for name, node in values.items() if values is not None else ():
                text = _decoded(node) if key == "data" else node.text()
                if text is None:
                    continue
                if secret_name(str(name)) and literal(text):
                    yield Hit(obj.at(node, key=True), f"{obj.label} holds a literal value for {name} in `{key}`")
                elif (scheme := url_password(text)) is not None:
                    yield Hit(obj.at(node, key=True), f"{obj.label} holds a {scheme} URL with a password for "
                                                      f"{name} in `{key}`")


# Names that say a Secret's key or file is a password: DB_PASSWORD, pgpass, MONGO_PASSWD, passphrase.
PASSWORD_NAME = re.compile(r"PASS(?:WORD|WD|PHRASE)?(?![A-Z])|(?<![A-Z])PWD(?![A-Z])", re.IGNORECASE)
DEFAULT_VOLUME_MODE = 0o644  # Kubernetes' defaultMode of secret and projected volumes
OWNER_ONLY = 0o400
WORLD_READABLE = 0o004


class SecretFiles:
    """The files one Secret puts in a volume: a `secret` volume, or one source of a `projected` one."""

    def __init__(self, volume: Volume, name: str, default_mode: Optional[YNode], items: Optional[YNode],
                 at: YNode, holder: YNode):
        self.volume = volume
        self.name = name
        self.default_mode = default_mode  # the volume's defaultMode, if written
        self.items = [item for item in (items.seq() if items is not None else []) if item.is_map]
        self.at = at  # where the volume names the Secret
        self.holder = holder  # the mapping that has (or would have) defaultMode: `secret` or `projected`

    def owner_only(self, key: Optional[str], node: Optional[YNode], kind: str) -> Fix:
        """Mode 0400 for the key's item (its own `mode`), or for every key (defaultMode) when no items are listed."""
        item = next((item for item in self.items if text_of(item.get("key")) == key), None) if key else None
        if node is not None and (item is None or node is item.get("mode")):
            edit = replace(node, Octal(OWNER_ONLY))
        elif item is not None:
            edit = set_key(item, "mode", value=Octal(OWNER_ONLY), after=("path",))
        else:
            edit = set_key(self.holder, "defaultMode", value=Octal(OWNER_ONLY))
        return Fix(kind, "mount it with mode 0400", [edit])

    def modes(self) -> List[Tuple[Optional[str], Optional[YNode]]]:
        """(key, the node that sets its mode, if any) of each item, or (None, defaultMode) for every key."""
        if not self.items:
            return [(None, self.default_mode)]
        return [(text_of(item.get("key")), item.get("mode") or self.default_mode) for item in self.items]


def _secret_files(volume: Volume) -> Iterator[SecretFiles]:
    secret, projected = volume.node.get("secret"), volume.node.get("projected")
    if secret is not None and text_of(secret.get("secretName")):
        yield SecretFiles(volume, text_of(secret.get("secretName")), secret.get("defaultMode"), secret.get("items"),
                          secret, secret)
    sources = projected.get("sources") if projected is not None else None
    for source in sources.seq() if sources is not None else []:
        part = source.get("secret")
        if part is not None and text_of(part.get("name")):
            yield SecretFiles(volume, text_of(part.get("name")), projected.get("defaultMode"), part.get("items"), part,
                              projected)


def _password_evidence(bundle: Bundle, files: SecretFiles, key: Optional[str]) -> List[str]:
    """What says that a Secret's files (or the one of `key`) hold a password: a password-named key of the
    Secret object or of the item, a *PASSWORD*_FILE variable pointing into the volume, or the Secret's name."""
    found = []
    pod = files.volume.pod
    for obj in bundle.of_kind("Secret"):
        if obj.name != files.name or None not in (pod.obj.namespace, obj.namespace) and \
                obj.namespace != pod.obj.namespace:
            continue
        for section in ("data", "stringData"):
            values = dig(obj.node, section)
            names = [str(name) for name, _ in values.items()] if values is not None else []
            found += [name for name in names if key in (None, name) and PASSWORD_NAME.search(name)]
    if key is not None and PASSWORD_NAME.search(key):
        found.append(key)
    for container in pod.containers:
        paths = [text_of(m.node.get("mountPath")) for m in container.mounts if m.volume is files.volume]
        for name, item in container.env():
            value = text_of(item.get("value")) or ""
            if PASSWORD_NAME.search(name) and any(path and under(value, path) for path in paths):
                found.append(name)
    if PASSWORD_NAME.search(files.name):
        found.append(f"its name {files.name!r}")
    return list(dict.fromkeys(found))


def _mode(node: Optional[YNode]) -> Optional[int]:
    """A file mode as Kubernetes reads it (YAML's 0400 is octal, JSON's 256 decimal); None if not a number."""
    return DEFAULT_VOLUME_MODE if node is None else integer(node)


@kube_rule("SPINK603", "k8s-secret-volume-mode", W,
           title="Secret holding a password mounted readable by everyone in the container",
           hint="set the volume's `defaultMode: 0400` (256 in JSON), or `mode: 0400` on the item",
           help="""A `secret` volume (or a secret in a `projected` one) is mounted with mode 0644 unless
           `defaultMode` or an item's `mode` says otherwise, so every user in the container can read it. Where
           the Secret holds a password (a key named so in the Secret object or the volume's `items`, a
           `*PASSWORD*_FILE` variable that points into the volume, or the Secret's own name), mount it 0400, as
           Spin's users do, readable by its owner only (the pod's fsGroup or runAsUser gives the owner).""",
           fix=(SAFE, UNSAFE), fix_help="""writes mode 0400: on the item that holds the password when the volume
           lists items, else the volume's `defaultMode`. Safe when the pod sets `fsGroup` (the kubelet gives its
           group read access); unsafe otherwise, since the files stay root's and a container that runs as
           another user can no longer read them.""")
def secret_volume_mode(bundle: Bundle) -> Iterator[Hit]:
    for pod in bundle.pods:
        for volume in pod.volumes.values():
            if not any(mount.volume is volume for container in pod.containers for mount in container.mounts):
                continue  # no container reads it
            for files in _secret_files(volume):
                for key, node in files.modes():
                    mode = _mode(node)
                    evidence = _password_evidence(bundle, files, key)
                    if mode is None or not mode & WORLD_READABLE or not evidence:
                        continue
                    origin = "" if node is not None else " (the default)"
                    kind = SAFE if integer(pod.setting("fsGroup")) is not None else UNSAFE
                    yield Hit(pod.obj.at(node) if node is not None else pod.obj.at(files.at, key=True),
                              f"{pod.obj.label} mounts Secret '{files.name}' with mode {mode:04o}{origin}, readable "
                              f"by every user in the container; it holds a password ({', '.join(evidence)})",
                              fix=files.owner_only(key, node, kind))

