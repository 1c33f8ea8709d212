"""SPINK3xx: host paths, the NERSC global file system, and persistent volume claims."""

from __future__ import annotations

from typing import Iterator, Optional

from spin_audit.kube.facts import (
    ALLOWED_CAPABILITIES,
    GLOBAL_MOUNT_CAPABILITIES,
    GLOBAL_ROOT,
    HOME_ROOTS,
    OLDER_STORAGE_CLASSES,
    STORAGE_CLASS,
    UNMOUNTABLE_ROOTS,
)
from spin_audit.facts import serves_users
from spin_audit.fixes import UNSAFE, Fix, replace, set_key
from spin_audit.kube.model import Bundle, Container, KubeObject, Mount, entrances, integer, text_of, under
from spin_audit.kube.rules.common import kube_rule
from spin_audit.loader import YNode
from spin_audit.registry import Hit, Severity

E, W, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO

SAFE_HOST_PATH_TYPES = ("Directory", "File")  # the path must exist; nothing is created on the node
GLOBAL_CAPABILITIES = ", ".join(GLOBAL_MOUNT_CAPABILITIES)


@kube_rule("SPINK301", "k8s-host-path", E,
           title="hostPath outside the global file system",
           hint=f"keep data in a PersistentVolumeClaim; mount only NERSC global file systems ({GLOBAL_ROOT}/...)",
           help=f"""On Spin a `hostPath` volume is how a pod mounts a NERSC global file system, under
           {GLOBAL_ROOT}/ (CFS: {GLOBAL_ROOT}/cfs/cdirs/<project>/...). Any other host path is the Spin node's
           own file system, shared with every tenant of the node and lost when the pod moves: keep data in a
           PersistentVolumeClaim. ({', '.join(UNMOUNTABLE_ROOTS)} is SPINK303.)""")
def host_path(bundle: Bundle) -> Iterator[Hit]:
    for pod in bundle.pods:
        for volume in pod.host_volumes:
            path = volume.path
            if path is not None and any(under(path, root) for root in UNMOUNTABLE_ROOTS):
                continue
            if path is None or not under(path, GLOBAL_ROOT):
                shown = path if path is not None else "(not a path)"
                yield Hit(volume.location, f"{pod.obj.label} mounts host path {shown} from the Spin node")


@kube_rule("SPINK302", "k8s-global-mount-home", E,
           title="Home directory mounted (NGF-002)",
           hint="mount a project or collaboration directory (/global/cfs/cdirs/<project>/...) instead",
           help=f"""Spin's admission refuses home directories ({', '.join(HOME_ROOTS)}) as host paths: policy
           NGF-002, quoted by users it refused.""")
def global_mount_home(bundle: Bundle) -> Iterator[Hit]:
    for pod in bundle.pods:
        for volume in pod.host_volumes:
            if volume.path is not None and any(under(volume.path, root) for root in HOME_ROOTS):
                yield Hit(volume.location, f"{pod.obj.label} mounts the home directory path {volume.path} "
                                           "(NGF-002)")


@kube_rule("SPINK303", "k8s-host-path-pscratch", W,
           title=f"{', '.join(UNMOUNTABLE_ROOTS)} mounted",
           hint="stage the data to CFS (/global/cfs/cdirs/<project>/...) and mount that",
           help=f"""Perlmutter's scratch file system ({', '.join(UNMOUNTABLE_ROOTS)}) is not mounted on Spin's
           nodes: Spin users report that it cannot be mounted. Only what was seen to fail is known, so this is
           a warning.""")
def host_path_pscratch(bundle: Bundle) -> Iterator[Hit]:
    for pod in bundle.pods:
        for volume in pod.host_volumes:
            if volume.path is not None and any(under(volume.path, root) for root in UNMOUNTABLE_ROOTS):
                yield Hit(volume.location, f"{pod.obj.label} mounts {volume.path}, which Spin nodes do not have")


@kube_rule("SPINK304", "k8s-global-mount-type", W,
           title="Global file system hostPath without `type: Directory`",
           hint="add `type: Directory` to the hostPath",
           help="""With `type: Directory` the kubelet checks that the path exists on the node and refuses to
           start the pod otherwise. Without a type (or with DirectoryOrCreate) a mistyped or unmounted path is
           silently created as an empty, root-owned directory on the node's local disk, and the pod writes
           there instead of the global file system. NERSC documents `type: Directory`.""")
def global_mount_type(bundle: Bundle) -> Iterator[Hit]:
    for pod in bundle.pods:
        for volume in pod.global_volumes:
            found = volume.node.get("hostPath").get("type")
            kind = text_of(found)
            if kind in SAFE_HOST_PATH_TYPES or (found is None and pod.obj.partial):
                continue
            what = f"type {kind}" if kind else "no type"
            yield Hit(pod.obj.at(found) if found is not None else volume.location,
                      f"{pod.obj.label} mounts {volume.path} with {what}, not Directory")


READ_ONLY_FIX = """sets the volumeMount's `readOnly: true` (unsafe: a container that writes there fails)."""


def _read_only(mount: Mount) -> Fix:
    return Fix(UNSAFE, "mount it read-only", [set_key(mount.node, "readOnly", value=True)])


def _read_write_global_mounts(bundle: Bundle):
    for container in bundle.containers:
        for mount in container.mounts:
            if mount.volume is not None and mount.volume.is_global and not mount.read_only:
                yield container, mount


def _writes_by_design(obj: KubeObject) -> bool:
    """A CronJob or Job, or a workload named db, kv or util (db-dump and the like): it serves no user and exists
    to write, as NERSC's dump jobs do."""
    return obj.kind in ("CronJob", "Job") or not serves_users(obj.name or "")


@kube_rule("SPINK305", "k8s-global-mount-read-write", INFO,
           title="Workload that serves users mounts the global file system read-write; who can reach it is unknown",
           hint="add `readOnly: true` to the volumeMount unless the container writes there; if it does, let it "
                "write only its own subdirectory, as the collaboration account, and say `--access authenticated` "
                "or `--access private`",
           help="""NERSC asks for global file system mounts to be read-only wherever the service only reads,
           and always for a public stack: a read-write mount lets a compromised or buggy service change project
           data. The finding is for workloads that users reach (a Service an Ingress routes to, or a LoadBalancer
           or NodePort Service, that selects the pod) when who can reach the stack is unknown, from neither
           `--access` nor the `access` answer of a rancher2 stack's .copier-answers.yml. Jobs, CronJobs and
           workloads named db, kv or util write by design, and a shell or worker that no Service exposes is
           not asked: there a read-write mount is what the workload is for.""",
           fix=(UNSAFE,), fix_help=READ_ONLY_FIX)
def global_mount_read_write(bundle: Bundle) -> Iterator[Hit]:
    served = entrances(bundle)
    for container, mount in _read_write_global_mounts(bundle):
        obj = container.pod.obj
        via = served.get(id(container.pod))
        if obj.access is None and via is not None and not _writes_by_design(obj):
            yield Hit(mount.location, f"{container.label} mounts {mount.volume.path} read-write and serves users "
                                      f"through {via}", fix=_read_only(mount))


@kube_rule("SPINK311", "k8s-global-mount-read-write-public", W,
           title="Public service mounts the global file system read-write",
           hint="add `readOnly: true` to the volumeMount; only authenticated or private services may write",
           help="""On Rancher 1.6 Spin required a public (unauthenticated) service to mount the global file
           system read-only, writes being allowed only where they are traceable to a user; NERSC's advice
           for Rancher 2 is to mount read-only wherever possible, but no refusal is documented, so this is a
           warning. The rule is about what serves the public: a CronJob or Job, and a workload named db, kv
           or util (or db-dump and the like), serves no user and may write, as NERSC's dump jobs do. Access
           comes from `--access` or the `access` answer of a rancher2 stack.""",
           fix=(UNSAFE,), fix_help=READ_ONLY_FIX)
def global_mount_read_write_public(bundle: Bundle) -> Iterator[Hit]:
    for container, mount in _read_write_global_mounts(bundle):
        obj = container.pod.obj
        if obj.access == "public" and not _writes_by_design(obj):
            yield Hit(mount.location, f"{container.label} mounts {mount.volume.path} read-write on a public "
                                      f"stack (access from {obj.access_origin})", fix=_read_only(mount))


def _global_pods(bundle: Bundle):
    return [pod for pod in bundle.pods if pod.global_volumes]


@kube_rule("SPINK306", "k8s-global-mount-user", E,
           title="Pod on the global file system without a numeric non-root runAsUser",
           hint="set `securityContext.runAsUser` (pod or container) to your NERSC or collaboration UID",
           help="""A pod that mounts a NERSC global file system must run as the user who owns the files: a
           numeric `runAsUser` other than 0, on the pod or on each container (containers inherit the pod's);
           if `runAsGroup` is set, `runAsUser` must be too (NERSC's Spin storage documentation). Every
           container counts, init containers included.""")
def global_mount_user(bundle: Bundle) -> Iterator[Hit]:
    for pod in _global_pods(bundle):
        path = pod.global_volumes[0].path
        for container in pod.containers:
            found, _ = container.resolved("runAsUser")
            if found is None:
                if pod.obj.partial:
                    continue
                group, _ = container.resolved("runAsGroup")
                what = "sets runAsGroup but no runAsUser" if group is not None else "sets no runAsUser"
                yield Hit(container.where("securityContext", "runAsUser"), f"{container.label} {what}; the pod "
                                                                           f"mounts {path}")
            elif integer(found) is None:
                yield Hit(pod.obj.at(found), f"{container.label} runAsUser {text_of(found)!r} is not a number; the "
                                             f"pod mounts {path}")
            elif integer(found) == 0:
                yield Hit(pod.obj.at(found), f"{container.label} runs as root (runAsUser: 0); the pod mounts {path}")


@kube_rule("SPINK307", "k8s-global-mount-non-root", E,
           title="Pod on the global file system without runAsNonRoot: true",
           hint="set `securityContext.runAsNonRoot: true` on the pod (or on each container)",
           help="""A pod that mounts a NERSC global file system must set `runAsNonRoot: true` beside its numeric
           runAsUser, so that the kubelet refuses to start any of its containers as root (NERSC's Spin storage
           documentation; NERSC's charts; every such pod seen on Spin).""",
           fix=(UNSAFE,), fix_help="""sets `runAsNonRoot: true` where the container's setting comes from (its own
           securityContext, else the pod's, which it creates); unsafe: an image that starts as root no longer
           starts.""")
def global_mount_non_root(bundle: Bundle) -> Iterator[Hit]:
    for pod in _global_pods(bundle):
        if pod.obj.partial:
            continue
        for container in pod.containers:
            found, _ = container.resolved("runAsNonRoot")
            if found is None or found.value is not True:
                yield Hit(pod.obj.at(found, key=True) if found is not None
                          else container.where("securityContext", "runAsNonRoot"),
                          f"{container.label} does not set runAsNonRoot: true; the pod mounts "
                          f"{pod.global_volumes[0].path}", fix=_non_root(container, found))


def _non_root(container: Container, found: Optional[YNode]) -> Fix:
    """runAsNonRoot: true where the container's value is written, else on the pod, for all its containers."""
    edit = replace(found, True) if found is not None else set_key(container.pod.node, "securityContext",
                                                                  "runAsNonRoot", value=True)
    return Fix(UNSAFE, "set runAsNonRoot: true", [edit])


@kube_rule("SPINK308", "k8s-global-mount-fsgroup", E,
           title="Pod on the global file system without fsGroup",
           hint="set the pod's `securityContext.fsGroup` to the project's numeric GID",
           help="""A pod that mounts a NERSC global file system must set the pod's `fsGroup` to the project's
           numeric GID, so that its processes carry the group the project's files are shared with (NERSC's
           Spin storage documentation; NERSC's charts; every such pod seen on Spin).""")
def global_mount_fsgroup(bundle: Bundle) -> Iterator[Hit]:
    for pod in _global_pods(bundle):
        found = pod.setting("fsGroup")
        if found is None or found.value is None:
            if not pod.obj.partial:
                where = pod.obj.where(pod.node, "securityContext") if pod.node.get("securityContext") is not None \
                    else pod.obj.at(pod.node, key=True)
                yield Hit(where, f"{pod.obj.label} sets no fsGroup; it mounts {pod.global_volumes[0].path}")
        elif integer(found) is None or integer(found) <= 0:
            yield Hit(pod.obj.at(found), f"{pod.obj.label} fsGroup {text_of(found)!r} is not a project GID")


@kube_rule("SPINK309", "k8s-global-mount-capability", W,
           title=f"Pod on the global file system adds a capability other than {GLOBAL_CAPABILITIES}",
           hint=f"drop the capability; a pod on the global file system should add back only {GLOBAL_CAPABILITIES}",
           help=f"""CHOWN, DAC_OVERRIDE, FOWNER, SETUID and SETGID let a process bypass or change file ownership,
           which is what protects project data on the global file system. Rancher 1.6 refused them next to a
           global mount; for Rancher 2 only "keep capabilities minimal" is documented, so this is a
           warning. (A capability outside Spin's list is SPINK202.)""")
def global_mount_capability(bundle: Bundle) -> Iterator[Hit]:
    for pod in _global_pods(bundle):
        for container in pod.containers:
            for name, node in container.capabilities("add"):
                if name not in GLOBAL_MOUNT_CAPABILITIES and name in ALLOWED_CAPABILITIES:  # else SPINK202
                    yield Hit(pod.obj.at(node), f"{container.label} adds {name}; the pod mounts "
                                                f"{pod.global_volumes[0].path}")


@kube_rule("SPINK310", "k8s-storage-class", W,
           title="PersistentVolumeClaim of a storage class Spin does not have",
           hint=f"use `storageClassName: {STORAGE_CLASS}`",
           help=f"""Spin's persistent volumes come from the class {STORAGE_CLASS} (older claims use
           {', '.join(OLDER_STORAGE_CLASSES)}). A claim naming another class stays Pending.""")
def storage_class(bundle: Bundle) -> Iterator[Hit]:
    known = (STORAGE_CLASS, *OLDER_STORAGE_CLASSES)
    for obj in bundle.of_kind("PersistentVolumeClaim"):
        found = obj.node.get("spec").get("storageClassName") if obj.node.get("spec") is not None else None
        name = text_of(found)
        if found is not None and name not in known:
            yield Hit(obj.at(found), f"{obj.label} asks for storage class {name!r}, which Spin does not have")
