"""SPIN3xx: mounts of the NERSC global file system (host paths under /global/), and volumes."""

from __future__ import annotations

from collections.abc import Iterator

from spin_audit.facts import FILE_SYSTEM_ROOTS, GLOBAL_MOUNT_CAPABILITIES, HOME_ROOTS, serves_users
from spin_audit.fixes import UNSAFE, Fix, Quoted, replace, set_key
from spin_audit.interpolation import split_outside_variables
from spin_audit.registry import Hit, Severity, rule
from spin_audit.stack import Mount, Service, Stack

E, W = Severity.ERROR, Severity.WARNING


def _under(path: str, root: str) -> bool:
    return path == root or path.startswith(root + "/")


READ_ONLY_FIX = """mounts the volume read-only: `:ro` on the short form (in place of `:rw`), `read_only: true` on the
long one (unsafe: a service that writes there fails)."""


def _read_only(mount: Mount) -> Fix | None:
    if mount.node.is_map:
        return Fix(UNSAFE, "mount it read-only", [set_key(mount.node, "read_only", value=True)])
    text = mount.node.text()
    parts = split_outside_variables(text or "", ":")
    if text is None or len(parts) not in (2, 3):
        return None
    options = [option for option in (parts[2].split(",") if len(parts) == 3 else []) if option and option != "rw"]
    return Fix(UNSAFE, "mount it read-only", [replace(mount.node, ":".join(parts[:2] + [",".join(["ro"] + options)]))])


def _run_as(stack: Stack) -> str | None:
    """`UID[:GID]` from the stack's answers (run_as_uid, run_as_gid), the account its author named for the global
    file system."""
    answers = stack.answers.root if stack.answers is not None else None
    uid, gid = (answers.get(key) if answers is not None else None for key in ("run_as_uid", "run_as_gid"))
    if uid is None or not isinstance(uid.value, int) or isinstance(uid.value, bool) or uid.value <= 0:
        return None
    ok_gid = gid is not None and isinstance(gid.value, int) and not isinstance(gid.value, bool) and gid.value > 0
    return f"{uid.value}:{gid.value}" if ok_gid else str(uid.value)


def _writes_by_design(service: Service) -> bool:
    """A service that serves no user and exists to write (db, kv, util or db-dump and the like, or a
    scheduled or one-shot job): its read-write mount is the point, not an oversight."""
    return not serves_users(service.name) or service.is_job


@rule("SPIN301", "global-mount-user", E,
      title="Global file system mount without a numeric non-root user",
      hint='run the service as your NERSC or collaboration account: `user: "UID:GID"` with numbers',
      help="""A service that mounts the global file system must run as a numeric, non-root NERSC user or
      collaboration account (`user: "UID:GID"`), so that the file system's ownership and permissions
      hold inside Spin. Root maps to nobody there, and a user name cannot be checked by Spin.""",
      fix=(UNSAFE,), fix_help="""where the stack's .copier-answers.yml names the account (`run_as_uid`,
      `run_as_gid`), writes `user: "UID:GID"` in docker-compose.yml (unsafe: an image that must start as root
      no longer starts).""")
def global_mount_user(stack: Stack) -> Iterator[Hit]:
    account = _run_as(stack)
    for service in stack.services.values():
        mounts = service.global_mounts
        if not mounts:
            continue
        user, found = service.user, service.get("user")
        fix = Fix(UNSAFE, f"run as {account}", [set_key(service.compose.node, "user", value=Quoted(account),
                                                        after=("image",))]) \
            if account is not None and service.compose is not None and service.compose.node.is_map else None
        if user is None:
            yield Hit(mounts[0].location, f"service '{service.name}' mounts {mounts[0].path} but sets no `user`",
                      service.name, fix=fix)
        elif not user.known:
            continue  # `${UID}` without a default: only `rancher up` knows
        elif not user.numeric:
            assert found is not None
            yield Hit(found.at(), f"service '{service.name}' mounts the global file system as user "
                                  f"'{user.text}', which is not numeric UID:GID", service.name, fix=fix)
        elif user.root:
            assert found is not None
            yield Hit(found.at(), f"service '{service.name}' mounts the global file system as root", service.name,
                      fix=fix)


@rule("SPIN302", "global-mount-capability", E,
      title=f"Global file system mount with a capability other than {', '.join(GLOBAL_MOUNT_CAPABILITIES)}",
      hint=f"drop the capability; a service on the global file system may add back only "
           f"{', '.join(GLOBAL_MOUNT_CAPABILITIES)}",
      help=f"""Services that mount the global file system may add back only {', '.join(GLOBAL_MOUNT_CAPABILITIES)}:
      CHOWN, DAC_OVERRIDE, FOWNER, SETUID and the others would let the container bypass file ownership.""")
def global_mount_capability(stack: Stack) -> Iterator[Hit]:
    for service in stack.services.values():
        if not service.global_mounts:
            continue
        for name, node, found in service.capabilities("cap_add"):
            if name not in GLOBAL_MOUNT_CAPABILITIES:
                yield Hit(found.at(node), f"service '{service.name}' mounts the global file system and adds "
                                          f"capability {name}", service.name)


@rule("SPIN303", "global-mount-read-write-public", E,
      title="Public service mounts the global file system read-write",
      hint="append `:ro` to the volume; only authenticated or private services may write",
      help="""Public (unauthenticated) services must mount the global file system read-only. Writing is
      allowed only to authenticated services whose writes are traceable to a user, or to private ones.
      The rule is about the services that serve the public: db, kv and util (and their -suffix forms,
      such as db-dump) and scheduled or one-shot jobs (`cron.schedule`, `io.rancher.container.start_once`)
      serve no user and may write, as NERSC's own dump jobs do. Access comes from `--access` or `access`
      in .copier-answers.yml.""",
      fix=(UNSAFE,), fix_help=READ_ONLY_FIX)
def global_mount_read_write_public(stack: Stack) -> Iterator[Hit]:
    if stack.access != "public":
        return
    for service in stack.services.values():
        if _writes_by_design(service):
            continue
        for mount in service.global_mounts:
            if not mount.read_only:
                yield Hit(mount.location, f"service '{service.name}' mounts {mount.path} read-write on a public "
                                          f"stack (access from {stack.access_origin})", service.name,
                          fix=_read_only(mount))


@rule("SPIN304", "global-mount-read-write-unconfirmed", W,
      title="Global file system mounted read-write; access level unknown",
      hint="if the service only reads there, append `:ro`; if it writes, say `--access authenticated` or "
           "`--access private`, and let it write only its own subdirectory, as the collaboration account",
      help="""Only authenticated or private services may write to the global file system. Without
      `--access` or an `access` answer in .copier-answers.yml the audit cannot tell, so it asks you to
      confirm for each service that serves users. Services that exist to write (db, kv, util and their
      -suffix forms such as db-dump, and scheduled or one-shot jobs) are not asked: a dump job must write,
      and is safe when it writes only its own subdirectory as the collaboration account.""",
      fix=(UNSAFE,), fix_help=READ_ONLY_FIX)
def global_mount_read_write_unconfirmed(stack: Stack) -> Iterator[Hit]:
    if stack.access is not None:
        return
    for service in stack.services.values():
        if _writes_by_design(service):
            continue
        for mount in service.global_mounts:
            if not mount.read_only:
                yield Hit(mount.location, f"service '{service.name}' mounts {mount.path} read-write: allowed only "
                                          "if the service is authenticated or private", service.name,
                          fix=_read_only(mount))


@rule("SPIN305", "global-mount-home", E,
      title="Home directory mounted",
      hint="mount a project or collaboration directory (/global/cfs/cdirs/<project>/...) instead",
      help=f"""Spin does not mount home directories ({', '.join(HOME_ROOTS)}) into containers.""")
def global_mount_home(stack: Stack) -> Iterator[Hit]:
    for service in stack.services.values():
        for mount in service.global_mounts:
            if any(_under(mount.path, root) for root in HOME_ROOTS):
                yield Hit(mount.location, f"service '{service.name}' mounts the home directory path {mount.path}",
                          service.name)


@rule("SPIN306", "global-mount-too-shallow", E,
      title="Global file system mounted at a file-system root",
      hint="mount the deepest directory the service needs, e.g. /global/cfs/cdirs/<project>/<app>",
      help=f"""Mount points on the global file system must be as deep as possible: never a file system or
      its top directories ({', '.join(sorted(FILE_SYSTEM_ROOTS))}), nor anything directly under /global;
      always at least one level below.""")
def global_mount_too_shallow(stack: Stack) -> Iterator[Hit]:
    for service in stack.services.values():
        for mount in service.global_mounts:
            if any(_under(mount.path, root) for root in HOME_ROOTS):
                continue  # SPIN305 says it better
            if not mount.exact:
                continue  # a variable without default may make the path deeper
            if mount.path in FILE_SYSTEM_ROOTS or mount.path.count("/") <= 2:
                yield Hit(mount.location, f"service '{service.name}' mounts {mount.path}, a file-system root",
                          service.name)


@rule("SPIN307", "global-mount-dotdot", W,
      title="Host path contains '..'",
      hint="write the resolved path without '..'",
      help="""A host path with `..` components hides which directory is really mounted, and can leave
      /global/ altogether; the audit resolves it before checking the global file system rules. Write
      the path you mean.""")
def global_mount_dotdot(stack: Stack) -> Iterator[Hit]:
    for service in stack.services.values():
        for mount in service.mounts:
            if mount.kind == "bind" and ".." in mount.source.split("/") and mount.source.startswith("/"):
                yield Hit(mount.location, f"service '{service.name}' mounts {mount.source!r}, which resolves to "
                                          f"{mount.path}", service.name)


@rule("SPIN308", "volume-undeclared", W,
      title="Named volume not declared at the top level",
      hint="declare it under top-level `volumes:` (Rancher NFS: `driver: rancher-nfs`, `external: true`)",
      help="""A named volume used by a service must be declared in the top-level `volumes` mapping;
      for persistent data on Spin that is a Rancher NFS volume created beforehand with
      `rancher volume create --driver rancher-nfs <service>.<stack>`.""")
def volume_undeclared(stack: Stack) -> Iterator[Hit]:
    declared = stack.top_map("volumes")
    format_1 = {file.display for file in stack.files if file.format == 1}  # no top-level volumes to declare in
    for service in stack.services.values():
        for mount in service.mounts:
            if mount.kind == "volume" and mount.exact and mount.source not in declared and \
                    mount.node.path not in format_1:
                yield Hit(mount.location, f"service '{service.name}' uses volume '{mount.source}', which is not "
                                          "declared under top-level `volumes`", service.name)


@rule("SPIN309", "bind-mount-relative", E,
      title="Relative host path mounted",
      hint="bake the files into the image, or use a Rancher secret, a Rancher NFS volume or an absolute "
           "/global/cfs/... path",
      help="""docker-compose resolves `./data` or `../data` next to the compose file on your machine, but
      `rancher up` sends the compose file to Rancher, which resolves the path on the Spin node that runs
      the container (and `~` to that node's home). The files beside your compose file are not there, so
      the container sees an empty directory that Docker creates on the node, and a different one on each
      node.""")
def bind_mount_relative(stack: Stack) -> Iterator[Hit]:
    for service in stack.services.values():
        for mount in service.mounts:
            if mount.is_relative:
                yield Hit(mount.location, f"service '{service.name}' mounts the relative path '{mount.source}': "
                                          "Rancher resolves it on the Spin node, not next to the compose file",
                          service.name)
