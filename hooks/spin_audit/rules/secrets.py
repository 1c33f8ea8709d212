"""SPIN6xx: secrets: never in environment values, and Rancher secrets by the convention."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator

from spin_audit.credentials import url_password
from spin_audit.fixes import SAFE, UNSAFE, Fix, Quoted, replace, set_key
from spin_audit.interpolation import expand
from spin_audit.loader import YNode
from spin_audit.registry import Hit, Location, Severity, rule
from spin_audit.stack import Field, Service, Stack

E, W = Severity.ERROR, Severity.WARNING

SECRET_NAME = re.compile(r"PASSW(?:OR)?D|PASSPHRASE|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|CREDENTIAL", re.I)
NOT_A_VALUE_SUFFIXES = ("_FILE", "_PATH", "_DIR")
FLAG_WORDS = ("yes", "no", "true", "false", "on", "off", "0", "1", "y", "n")
DEFAULT_MODE = 0o444
URL_HINT = ("keep the URL in a Rancher secret and read it from /run/secrets/<filename>, or write `${VAR}` in place "
            "of the password so that it stays out of the file")


class SecretUse:
    __slots__ = ("service", "field", "node", "source")

    def __init__(self, service: Service, field: Field, node: YNode, source: str | None):
        self.service = service
        self.field = field
        self.node = node  # the list item
        self.source = source

    def part(self, key: str) -> YNode | None:
        return self.node.get(key) if self.node.is_map else None

    @property
    def location(self) -> Location:
        return self.field.at(self.part("source") or self.node)


def secret_uses(stack: Stack) -> list[SecretUse]:
    if "secret_uses" not in stack.cache:
        uses = []
        for service in stack.services.values():
            found = service.get("secrets")
            for node in found.node.seq() if found else []:
                if not (node.is_map or isinstance(node.value, str)):
                    continue  # malformed: SPIN103
                source_node = node.get("source") if node.is_map else node
                source = source_node.text() if source_node is not None else None
                uses.append(SecretUse(service, found, node, source.strip() if source else None))
        stack.cache["secret_uses"] = uses
    return stack.cache["secret_uses"]


def _users(stack: Stack) -> dict[str, list[str]]:
    users: dict[str, list[str]] = {}
    for use in secret_uses(stack):
        if use.source and use.service.name not in users.setdefault(use.source, []):
            users[use.source].append(use.service.name)
    return users


def _who_uses(services: list[str]) -> str:
    """"service 'db' uses" or "services 'db', 'db-dump' use"."""
    if len(services) == 1:
        return f"service '{services[0]}' uses"
    return f"services {', '.join(repr(name) for name in services)} use"


def _first_uses(stack: Stack) -> Iterator[SecretUse]:
    """The first use of each named secret: a secret's name is fixed once for all its users."""
    seen = set()
    for use in secret_uses(stack):
        if use.source and use.source not in seen:
            seen.add(use.source)
            yield use


def split_secret_name(stack: Stack, source: str) -> tuple[str | None, str] | None:
    """'<service>.<stack>.<file>' -> (service, file); '<stack>.<file>' -> (None, file); else None."""
    middle = f".{stack.name}."
    if source.startswith(middle[1:]) and len(source) > len(middle) - 1:
        return None, source[len(middle) - 1:]
    at = source.find(middle)
    while at > 0:
        if source[:at] in stack.services and len(source) > at + len(middle):
            return source[:at], source[at + len(middle):]
        at = source.find(middle, at + 1)
    return None


@rule("SPIN601", "secret-in-environment", E,
      title="Secret value written in `environment`",
      hint="store it as a Rancher secret and point the *_FILE variable at /run/secrets/<filename>",
      help="""Environment values end up in the repository, in `rancher export` and in the container's
      inspect output. Keep passwords, tokens and keys in Rancher secrets, mounted at
      /run/secrets/<filename>; official images read `*_FILE` variables such as
      `POSTGRES_PASSWORD_FILE=/run/secrets/postgres_password`. A connection URL with a password in it
      (`postgresql://user:secret@db/app`, `redis://:pw@kv`) is one too, whatever the variable is called;
      `${VAR}` in its place is filled in by `rancher up` and not reported.""")
def secret_in_environment(stack: Stack) -> Iterator[Hit]:
    for service in stack.services.values():
        for key, value, node, found in service.environment():
            if value is None:
                continue
            where = found.at(node, key=node.is_scalar and found.node.is_map)
            text = expand(value.strip())
            if SECRET_NAME.search(key) and not key.upper().endswith(NOT_A_VALUE_SUFFIXES) and text and \
                    not text.startswith("/run/secrets/") and text.lower() not in FLAG_WORDS:
                what = "a literal default" if "${" in value else "a literal value"
                yield Hit(where, f"service '{service.name}' sets {key} to {what} in `environment`", service.name)
            elif (scheme := url_password(text if text is not None else value)) is not None:  # defaults too
                yield Hit(where, f"service '{service.name}' sets {key} to a {scheme} URL with a password in "
                                 "`environment`", service.name, URL_HINT)


@rule("SPIN602", "secret-name", W,
      title="Secret name does not follow the Spin convention",
      hint="name it <service>.<stack>.<filename> (one service) or <stack>.<filename> (shared)",
      help="""Spin names secrets `<service>.<stack>.<filename>` when one service uses them
      (db.myportal.mysql_password) and `<stack>.<filename>` when several do (myportal.private_key). The
      stack name is `--stack`, `stack_name` in .copier-answers.yml, or the directory name as
      `rancher up` uses it. A misnamed secret is reported once, at its first use, with every service
      that uses it.""")
def secret_name(stack: Stack) -> Iterator[Hit]:
    users = _users(stack)
    for use in _first_uses(stack):
        parts = split_secret_name(stack, use.source)
        names = users[use.source]
        if parts is None:
            yield Hit(use.location, f"{_who_uses(names)} secret '{use.source}', not named "
                                    f"<service>.{stack.name}.<filename> or {stack.name}.<filename> (stack name "
                                    f"from {stack.name_origin})", use.service.name)
        elif parts[0] is not None and parts[0] not in names:
            yield Hit(use.location, f"secret '{use.source}' is named for service '{parts[0]}', which does not "
                                    "use it", use.service.name)


@rule("SPIN603", "secret-target", W,
      title="Secret target is not its filename",
      hint="use the long form with `target: <filename>` (the last part of the secret's name)",
      help="""A secret is mounted at /run/secrets/<target>; the target (the "As Name") should be the
      filename part of the secret's name, so that db.myportal.mysql_password appears as
      /run/secrets/mysql_password. Without a target the whole name is used.""")
def secret_target(stack: Stack) -> Iterator[Hit]:
    for use in secret_uses(stack):
        parts = split_secret_name(stack, use.source) if use.source else None
        if parts is None:
            continue
        target = use.part("target")
        if target is None:
            yield Hit(use.location, f"service '{use.service.name}' mounts secret '{use.source}' at "
                                    f"/run/secrets/{use.source}; set target: {parts[1]}", use.service.name)
        elif target.text() != parts[1]:
            yield Hit(use.field.at(target), f"service '{use.service.name}' mounts secret '{use.source}' as "
                                            f"'{target.text()}', not '{parts[1]}'", use.service.name)


def _mode(node: YNode | None) -> int | None:
    if node is None:
        return DEFAULT_MODE
    if isinstance(node.value, int) and not isinstance(node.value, bool):
        return node.value
    text = (node.text() or "").strip().lower().replace("0o", "")
    return int(text, 8) if re.fullmatch(r"[0-7]{1,4}", text) else None


@rule("SPIN604", "secret-mode", W,
      title="Secret readable beyond its owner",
      hint="set `mode: '0400'` (quoted) and `uid` to the user that reads it: the service's `user:`, or the user "
           "its image drops to (postgres: '70' on alpine, '999' on debian)",
      help="""Secret files should be readable by their owner only: mode '0400', owned by the user the
      service reads them as. Without `mode` Rancher uses 0444, readable by every user in the container.
      An image that starts as root and drops to its own user (postgres, mysql) reads its password file
      as that user: a root-owned 0400 file would be unreadable, so give the secret that user's uid.""",
      fix=(SAFE, UNSAFE), fix_help="""writes `mode: '0400'` (a short-form secret becomes the long form). Safe
      when the service runs as a numeric non-root `user:`: the secret's `uid` becomes that user's, who reads it.
      Unsafe otherwise: without a `user:` the image decides who reads the file, and one that drops from root to
      its own user (postgres, mysql) can no longer read it.""")
def secret_mode(stack: Stack) -> Iterator[Hit]:
    for use in secret_uses(stack):
        node = use.part("mode")
        mode = _mode(node)
        where = use.field.at(node) if node is not None else use.location
        name = use.source or "?"
        if mode is None:
            yield Hit(where, f"service '{use.service.name}': secret '{name}' mode {node.text()!r} is not an octal "
                             "file mode", use.service.name)
        elif mode & 0o077 or not mode & 0o400:
            origin = "" if node is not None else " (the default)"
            yield Hit(where, f"service '{use.service.name}': secret '{name}' has mode {mode:04o}{origin}",
                      use.service.name, fix=_owner_only(use))


def _owner_only(use: SecretUse) -> Fix | None:
    """mode '0400', and for a service that runs as a numeric non-root user, that user's uid (else it cannot read)."""
    if use.source is None:
        return None
    user = use.service.user
    owner = user.uid if user is not None and user.numeric and not user.root else None
    settings = {"mode": Quoted("0400"), **({"uid": Quoted(str(int(owner)))} if owner is not None else {})}
    kind = SAFE if owner is not None else UNSAFE
    if not use.node.is_map:  # `- db.stack.pw`: the long form, with the same source
        return Fix(kind, "mount it with mode 0400", [replace(use.node, {"source": use.source, **settings})])
    return Fix(kind, "mount it with mode 0400", [set_key(use.node, key, value=value, after=("target", "source"))
                                                 for key, value in settings.items()])


@rule("SPIN605", "secret-owner", W,
      title="Secret not owned by the user the service runs as",
      hint='set uid/gid to the numbers in the service\'s `user: "UID:GID"`, as strings',
      help="""A secret with mode 0400 can be read only by its owner, so `uid` (and `gid`) should be the
      numeric ids the service runs as ('0' for services running as root). uid and gid are strings in
      Rancher's schema.""")
def secret_owner(stack: Stack) -> Iterator[Hit]:
    for use in secret_uses(stack):
        user = use.service.user
        for key, wanted in (("uid", user.uid if user else None), ("gid", user.gid if user else None)):
            node = use.part(key)
            value = (node.text() or "").strip() if node is not None else None
            if value is not None and not value.isdigit():
                yield Hit(use.field.at(node), f"service '{use.service.name}': secret {key} {value!r} is not a "
                                              "numeric id", use.service.name)
                continue
            if user is None or not user.numeric or wanted is None:
                continue  # the image decides who runs it; nothing to compare with
            if node is None and key == "gid":
                continue  # with mode 0400 the group does not matter
            effective = value if value is not None else "0"
            if int(effective) != int(wanted):
                where = use.field.at(node) if node is not None else use.location
                yield Hit(where, f"service '{use.service.name}' runs as {key} {wanted} but secret "
                                 f"'{use.source}' is owned by {key} {effective}", use.service.name)


@rule("SPIN606", "secret-undeclared", E,
      title="Secret used but not declared",
      hint="declare it under top-level `secrets:` as `<name>: {external: true}` after `rancher secret create`",
      help="""Every secret a service uses must be declared in the top-level `secrets` mapping, normally
      as `external: true` for a secret created beforehand with `rancher secret create`. An undeclared
      secret is reported once, at its first use, with every service that uses it.""")
def secret_undeclared(stack: Stack) -> Iterator[Hit]:
    declared = stack.top_map("secrets")
    users = _users(stack)
    for use in _first_uses(stack):
        if use.source not in declared:
            yield Hit(use.location, f"{_who_uses(users[use.source])} secret '{use.source}', which is not "
                                    "declared under top-level `secrets`", use.service.name)


@rule("SPIN607", "secret-file", W,
      title="Secret created from a file in the repository",
      hint="create it with `rancher secret create NAME FILE` and declare it `external: true`",
      help="""A top-level secret with `file:` is created from a local file at `rancher up`. A file inside
      the stack's directory is one `git add` away from being committed; keep secret files out of the
      repository and declare the secret as external.""")
def secret_file(stack: Stack) -> Iterator[Hit]:
    found = stack.top("secrets")
    if found is None:
        return
    for name, node in found.node.items():
        file_node = node.get("file")
        path = file_node.text() if file_node is not None else None
        if not path:
            continue
        resolved = os.path.normpath(os.path.join(stack.root, os.path.expanduser(path)))
        if resolved == stack.root or resolved.startswith(stack.root.rstrip(os.sep) + os.sep):
            yield Hit(found.at(file_node), f"secret '{name}' is created from {path}, inside the stack's directory")
