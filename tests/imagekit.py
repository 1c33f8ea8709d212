"""Builds and runs a stack's images with real tools, without a registry or a
container engine (the image tests; root only).

buildah (chroot isolation, vfs storage in a temporary directory) builds each
rendered Dockerfile `--from` a local stand-in of its base image. The stand-ins
are Debian roots made by mmdebstrap from Debian packages (tests/standins/ says
what each adds to look like the image it stands for), cached between runs in
$SPIN_TEMPLATE_CACHE or ~/.cache/spin-template, keyed by everything that makes
them. A container runs the way a compose service runs: the image's root file
system as its root, a /proc and a small /dev of its own, the service's user
and group_add groups, its stdout and stderr handed over owned by that user (as
a container runtime does, so that /dev/stderr can be opened), and a network
namespace of its own on the stack's bridge, where /etc/hosts names the other
services."""

import ctypes
import fcntl
import hashlib
import itertools
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

STANDIN_FILES = Path(__file__).resolve().parent / "standins"
CACHE = Path(os.environ.get("SPIN_TEMPLATE_CACHE")
             or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "spin-template") / "standins"
MIRROR = "http://deb.debian.org/debian"
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
APT_PACKAGES = "buildah mmdebstrap iproute2"


def missing():
    """Why the image tests cannot run on this machine, or an empty string."""
    if os.geteuid() != 0:
        return "the image tests build and run containers as root (buildah chroot isolation, namespaces)"
    for tool in ("buildah", "mmdebstrap", "ip"):
        if not shutil.which(tool, path=SYSTEM_PATH):
            return f"{tool} is not installed (apt-get install {APT_PACKAGES})"
    return ""


@dataclass(frozen=True)
class Standin:
    """A local image standing in for the base images in `stands_for`."""
    name: str
    stands_for: str
    packages: tuple
    hook: tuple = ()
    cmd: tuple = ()
    stop_signal: str = ""
    entrypoint: tuple = ()
    workdir: str = ""
    env: tuple = ()
    options: tuple = ()


STANDINS = {standin.name: standin for standin in [
    Standin("python-slim", "python:*-slim (Debian)", ("python3", "passwd"), cmd=("python3",)),
    Standin("python-alpine", "python:*-alpine", ("python3", "busybox"), ("alpine.sh",), cmd=("python3",)),
    Standin("nginx-alpine", "nginx:*-alpine", ("nginx", "busybox"), ("alpine.sh", "nginx"),
            cmd=("nginx", "-g", "daemon off;"), stop_signal="SIGQUIT"),
    Standin("db-tools", "the util job's images: mysql, mongo, alpine",
            ("busybox", "postgresql-client", "mariadb-client"), ("dbtools.sh",), cmd=("sh",)),
    Standin("postgres-alpine", "postgres:*-alpine (server, client tools, busybox)",
            ("postgresql", "busybox", "libnss-wrapper"), ("postgres.sh",),
            options=("--skip=cleanup/run",),  # keeps /run/postgresql, the server's socket directory
            entrypoint=("docker-entrypoint.sh",), cmd=("postgres",), stop_signal="SIGINT",
            env=("PGDATA=/var/lib/postgresql/data",)),
    Standin("mariadb", "mariadb:* (server, client tools; Ubuntu, so Debian's tools)",
            ("mariadb-server-core", "mariadb-client"), ("mariadb.sh",),
            options=("--skip=cleanup/run",),  # keeps /run/mysqld, the server's socket directory
            entrypoint=("docker-entrypoint.sh",), cmd=("mariadbd",)),
    Standin("redis-alpine", "redis:*-alpine", ("redis-server", "busybox"), ("redis.sh",),
            entrypoint=("docker-entrypoint.sh",), cmd=("redis-server",), workdir="/data"),
]}


def standin_for(image):
    """The stand-in of an image the template uses (a FROM line or a compose image)."""
    reference = image.split("@")[0]
    repository, _, tag = reference.rpartition(":") if ":" in reference.rsplit("/", 1)[-1] else (reference, "", "")
    name = repository.rsplit("/", 1)[-1]
    if name == "nginx" and "alpine" in tag:
        return STANDINS["nginx-alpine"]
    if name == "python":
        return STANDINS["python-alpine" if "alpine" in tag else "python-slim"]
    if name == "postgres":
        return STANDINS["postgres-alpine"]
    if name == "mariadb":
        return STANDINS["mariadb"]
    if name == "redis":
        return STANDINS["redis-alpine"]
    if name in ("mysql", "mongo", "alpine"):
        return STANDINS["db-tools"]
    raise LookupError(f"no stand-in for image {image}")


def suite():
    """The Debian release of this machine, which the stand-ins are made from."""
    for line in Path("/etc/os-release").read_text().splitlines():
        if line.startswith("VERSION_CODENAME="):
            return line.split("=", 1)[1].strip('"') or "bookworm"
    return "bookworm"


def mmdebstrap_command(standin, output):
    command = ["mmdebstrap", "--variant=essential", "--mode=root", "--format=tar", "--quiet",
               # merged /usr without the usrmerge package, which would bring all of perl
               "--hook-dir=/usr/share/mmdebstrap/hooks/merged-usr",
               "--include=" + ",".join(standin.packages),
               *(f"--dpkgopt=path-exclude=/usr/share/{folder}/*" for folder in ("doc", "man", "info", "locale")),
               "--dpkgopt=path-include=/usr/share/doc/*/copyright", *standin.options]
    if standin.hook:
        script, *arguments = standin.hook
        command.append(f'--customize-hook={shlex.quote(str(STANDIN_FILES / script))} "$1" {shlex.join(arguments)}')
    return command + [suite(), str(output), MIRROR]


def standin_key(standin):
    """What makes a stand-in: the mmdebstrap command and its version, the hook files."""
    digest = hashlib.sha256()
    version = subprocess.run(["mmdebstrap", "--version"], capture_output=True, text=True).stdout
    digest.update(json.dumps([mmdebstrap_command(standin, "OUT"), version]).encode())
    for path in sorted(STANDIN_FILES.iterdir()):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def standin_tarball(standin):
    """The stand-in's root file system as a tar file, made once and cached (locked
    against a concurrent run making the same one)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    target = CACHE / f"{standin.name}-{standin_key(standin)}.tar"
    with open(CACHE / f"{standin.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if target.exists():
            return target
        partial = target.with_name(target.name.replace(".tar", ".partial.tar"))
        made = subprocess.run(mmdebstrap_command(standin, partial), stdin=subprocess.DEVNULL,
                              capture_output=True, text=True)
        if made.returncode:
            partial.unlink(missing_ok=True)
            raise RuntimeError(f"mmdebstrap could not make the {standin.name} stand-in (for {standin.stands_for}):\n"
                               f"{made.stderr[-3000:]}")
        os.replace(partial, target)
        for old in CACHE.glob(f"{standin.name}-*.tar"):
            if old != target:
                old.unlink()
        return target


class Store:
    """A buildah storage of its own (vfs, under `root`), with the stand-ins in it."""

    def __init__(self, root):
        self.root = Path(root)
        self.storage = ["--root", str(self.root / "storage"), "--runroot", str(self.root / "run"),
                        "--storage-driver", "vfs"]
        self.bases = {}
        self.containers = []
        self.networks = []

    def buildah(self, *args, check=True):
        result = subprocess.run(
            ["buildah", *self.storage, *map(str, args)],
            stdin=subprocess.DEVNULL, capture_output=True, text=True)
        if check and result.returncode:
            raise AssertionError(f"buildah {' '.join(map(str, args))} failed:\n{result.stdout}{result.stderr}")
        return result

    def base(self, standin):
        """The stand-in as an image of this store (imported from the cached tar file)."""
        if standin.name not in self.bases:
            tarball = standin_tarball(standin)
            reference = f"localhost/standin/{standin.name}:{tarball.stem.rsplit('-', 1)[1]}"
            container = self.buildah("from", "scratch").stdout.strip()
            rootfs = self.buildah("mount", container).stdout.strip()
            subprocess.run(["tar", "--numeric-owner", "-xpf", str(tarball), "-C", rootfs], check=True)
            self.buildah("config", "--cmd", json.dumps(list(standin.cmd)),
                         *(["--entrypoint", json.dumps(list(standin.entrypoint))] if standin.entrypoint else []),
                         *(["--workingdir", standin.workdir] if standin.workdir else []),
                         *(["--stop-signal", standin.stop_signal] if standin.stop_signal else []),
                         *(option for variable in standin.env for option in ("--env", variable)),
                         "--env", "PATH=" + SYSTEM_PATH, container)
            self.buildah("commit", "--quiet", "--rm", container, reference)
            self.bases[standin.name] = reference
        return self.bases[standin.name]

    def build(self, context, dockerfile, tag):
        """buildah bud of a rendered Dockerfile from the stand-in of its FROM image;
        the finished process (returncode, stdout with the build's log)."""
        first_from = next(line.split()[1] for line in Path(dockerfile).read_text().splitlines()
                          if line.upper().startswith("FROM "))
        base = self.base(standin_for(first_from))
        for container in self.containers:
            if container.image == tag:
                container.shared = False  # a container of the image the tag named before
        return self.buildah("bud", "--isolation", "chroot", "--pull=never", "--from", base, "--tag", tag,
                            "--file", dockerfile, context, check=False)

    def container(self, image, shared=False):
        """A working container of image; with shared, the one container of that image
        that every caller with shared gets (a working container costs a copy of the
        image in vfs)."""
        if shared:
            for container in self.containers:
                if container.shared and container.image == image:
                    return container
        container = Container(self, image)
        container.shared = shared
        self.containers.append(container)
        return container

    def network(self, roles):
        network = Network(roles)
        self.networks.append(network)
        return network

    def close(self):
        for container in self.containers:
            container.stop()
        for network in self.networks:
            network.close()
        for container in self.containers:
            self.buildah("rm", container.name, check=False)
        shutil.rmtree(self.root, ignore_errors=True)


# Linux's namespace and mount flags (linux/sched.h, linux/mount.h).
CLONE_NEWNS, CLONE_NEWNET = 0x00020000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = (
    1, 2, 4, 8, 32, 4096, 16384, 1 << 18)
DEVICES = ["null", "zero", "full", "random", "urandom"]
LIBC = ctypes.CDLL(None, use_errno=True)


def _sys(result, what):
    if result != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"{what}: {os.strerror(error)}")


def _mount(source, target, fstype=None, flags=0, data=None):
    _sys(LIBC.mount(str(source).encode(), str(target).encode(), fstype and fstype.encode(), flags,
                    data and data.encode()), f"mount {target}")


@dataclass
class Account:
    """Who a process runs as: uid, gid and supplementary group ids."""
    uid: int
    gid: int
    groups: tuple = ()


class Container:
    """A working container of `image`; its processes run in its mounted root file system."""

    def __init__(self, store, image):
        self.store = store
        self.image = image
        self.name = store.buildah("from", "--pull=never", image).stdout.strip()
        self.rootfs = Path(store.buildah("mount", self.name).stdout.strip())
        self.config = json.loads(store.buildah("inspect", "--type", "image", image).stdout)["OCIv1"]["config"]
        self.processes = []
        self.logs = Path(store.root) / "logs" / self.name
        self.logs.mkdir(parents=True, exist_ok=True)

    def path(self, inside):
        return self.rootfs / str(inside).lstrip("/")

    def group_id(self, name):
        """A group_add name as a runtime resolves it: the image's /etc/group, first match
        (a number, like Kubernetes' supplementalGroups, is itself)."""
        if isinstance(name, int):
            return name
        for line in self.path("/etc/group").read_text().splitlines():
            fields = line.split(":")
            if fields[0] == name:
                return int(fields[2])
        raise LookupError(f"group {name} is not in the image's /etc/group")

    def account(self, user, group_add=()):
        """compose's `user: "uid:gid"` plus its group_add names, as numeric ids."""
        uid, _, gid = str(user).partition(":")
        groups = [int(gid)] + [self.group_id(name) for name in group_add]
        return Account(int(uid), int(gid), tuple(dict.fromkeys(groups)))

    def _preexec(self, account, netns, binds, workdir):
        rootfs = str(self.rootfs)

        def enter():
            try:
                if netns:
                    descriptor = os.open(netns, os.O_RDONLY)
                    _sys(LIBC.setns(descriptor, CLONE_NEWNET), "setns")
                    os.close(descriptor)
                _sys(LIBC.unshare(CLONE_NEWNS), "unshare")
                _mount("none", "/", flags=MS_REC | MS_PRIVATE)
                _mount("proc", rootfs + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
                _mount("tmpfs", rootfs + "/dev", "tmpfs", MS_NOSUID, "mode=755")
                for device in DEVICES:
                    open(f"{rootfs}/dev/{device}", "w").close()
                    _mount(f"/dev/{device}", f"{rootfs}/dev/{device}", flags=MS_BIND)
                for name, target in [("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
                                     ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2")]:
                    os.symlink(target, f"{rootfs}/dev/{name}")
                for source, target, read_only in binds:
                    _mount(source, rootfs + target, flags=MS_BIND)
                    if read_only:
                        _mount(source, rootfs + target, flags=MS_BIND | MS_REMOUNT | MS_RDONLY)
                os.chroot(rootfs)
                os.chdir(workdir)
                os.setgroups(list(account.groups))
                os.setgid(account.gid)
                os.setuid(account.uid)
            except OSError as error:
                os.write(2, f"container set-up failed: {error}\n".encode())
                raise
        return enter

    def start(self, argv, account, env=None, netns=None, binds=(), workdir=None, label="process"):
        """Start argv in the container as `account`; stdout and stderr go to a log file
        owned by that account. binds: (host path, container path, read_only)."""
        for source, target, _ in binds:
            inside = self.path(target)
            if Path(source).is_dir():
                inside.mkdir(parents=True, exist_ok=True)
            else:
                inside.parent.mkdir(parents=True, exist_ok=True)
                inside.touch()
        variables = dict(item.split("=", 1) for item in self.config.get("Env") or [])
        variables.update({name: str(value) for name, value in (env or {}).items()})
        log = self.logs / f"{len(self.processes)}-{label}.log"
        with open(log, "wb") as output:
            os.fchown(output.fileno(), account.uid, account.gid)
            process = subprocess.Popen(
                argv, env=variables, stdin=subprocess.DEVNULL, stdout=output, stderr=output,
                start_new_session=True,
                preexec_fn=self._preexec(account, netns, binds, workdir or self.config.get("WorkingDir") or "/"))
        process.log = log
        self.processes.append(process)
        return process

    def run(self, argv, account, timeout=60, **options):
        """Run argv to its end; (returncode, output)."""
        process = self.start(argv, account, **options)
        try:
            process.wait(timeout=timeout)
        finally:
            self._end(process)
        return process.returncode, process.log.read_text(errors="replace")

    def command(self):
        """The image's entrypoint and command."""
        return list(self.config.get("Entrypoint") or []) + list(self.config.get("Cmd") or [])

    def _end(self, process):
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def stop(self):
        for process in self.processes:
            self._end(process)


# (status, body) of a GET of argv[1], or (0, "connected") once a tcp://host:port URL
# accepts a connection, retried until argv[2] seconds have passed; (None, error) then.
FETCH = """
import json, socket, sys, time, urllib.error, urllib.request
deadline = time.monotonic() + float(sys.argv[2])
while True:
    try:
        if sys.argv[1].startswith("tcp://"):
            host, port = sys.argv[1][len("tcp://"):].rsplit(":", 1)
            socket.create_connection((host, int(port)), timeout=2).close()
            print(json.dumps([0, "connected"])); break
        with urllib.request.urlopen(sys.argv[1], timeout=2) as reply:
            print(json.dumps([reply.status, reply.read().decode(errors="replace")])); break
    except urllib.error.HTTPError as error:
        print(json.dumps([error.code, error.read().decode(errors="replace")])); break
    except OSError as error:
        if time.monotonic() > deadline:
            print(json.dumps([None, str(error)])); break
        time.sleep(0.1)
"""


class Network:
    """The stack's network: a bridge in a namespace of its own (where the tests'
    requests come from, 10.42.0.1) and a namespace per service on it, its name
    written in every container's /etc/hosts, like Rancher's managed network."""

    counter = itertools.count()

    def __init__(self, roles):
        self.prefix = f"spin{os.getpid()}x{next(self.counter)}"
        self.hub = f"{self.prefix}-net"
        self.addresses = {role: f"10.42.0.{index}" for index, role in enumerate(roles, start=10)}
        self.namespaces = [self.hub]
        self._ip("netns", "add", self.hub)
        self._ip("-n", self.hub, "link", "add", "br0", "type", "bridge")
        self._ip("-n", self.hub, "addr", "add", "10.42.0.1/24", "dev", "br0")
        self._ip("-n", self.hub, "link", "set", "br0", "up")
        self._ip("-n", self.hub, "link", "set", "lo", "up")
        for index, role in enumerate(roles):
            namespace = f"{self.prefix}-{role}"
            self._ip("netns", "add", namespace)
            self.namespaces.append(namespace)
            self._ip("-n", self.hub, "link", "add", f"v{index}", "type", "veth", "peer", "name", "eth0",
                     "netns", namespace)
            self._ip("-n", self.hub, "link", "set", f"v{index}", "master", "br0", "up")
            self._ip("-n", namespace, "addr", "add", self.addresses[role] + "/24", "dev", "eth0")
            self._ip("-n", namespace, "link", "set", "eth0", "up")
            self._ip("-n", namespace, "link", "set", "lo", "up")

    @staticmethod
    def _ip(*args):
        subprocess.run(["ip", *args], check=True, capture_output=True)

    def netns(self, role):
        return f"/run/netns/{self.prefix}-{role}"

    def hosts(self):
        lines = ["127.0.0.1\tlocalhost", "::1\tlocalhost ip6-localhost ip6-loopback"]
        return "\n".join(lines + [f"{address}\t{role}" for role, address in self.addresses.items()]) + "\n"

    def fetch(self, url, wait=30):
        """(status, body) of a GET from the network's own address; status None when nothing answered."""
        result = subprocess.run(["ip", "netns", "exec", self.hub, sys.executable, "-c", FETCH, url, str(wait)],
                                capture_output=True, text=True, timeout=wait + 30)
        return tuple(json.loads(result.stdout))

    def close(self):
        for namespace in reversed(self.namespaces):
            pids = subprocess.run(["ip", "netns", "pids", namespace], capture_output=True, text=True).stdout.split()
            for pid in pids:
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except ProcessLookupError:
                    pass
            subprocess.run(["ip", "netns", "del", namespace], capture_output=True)


def compose_services(stack):
    """How each service of a stack runs, in compose's words (user, group_add, environment, command,
    volumes, secrets), from docker-compose.yml or, for a rancher2 stack, from its k8s/base pods."""
    stack = Path(stack)
    if (stack / "docker-compose.yml").is_file():
        return yaml.safe_load((stack / "docker-compose.yml").read_text())["services"]
    return kubernetes_services(stack)


def kubernetes_services(stack):
    """Each pod of k8s/base as the compose service that runs the same way: runAsUser:runAsGroup,
    supplementalGroups and fsGroup as extra groups, env, command or args, hostPath and claim mounts,
    and its secret files as the kubelet writes them (root, group fsGroup, defaultMode | 0440)."""
    services = {}
    for path in sorted((Path(stack) / "k8s" / "base").glob("*.yaml")):
        for obj in yaml.safe_load_all(path.read_text()):
            if not obj or obj.get("kind") not in ("Deployment", "CronJob"):
                continue
            spec = obj["spec"]["template"]["spec"] if obj["kind"] == "Deployment" else \
                obj["spec"]["jobTemplate"]["spec"]["template"]["spec"]
            pod = spec.get("securityContext", {})
            (container,) = spec["containers"]
            sources = {volume["name"]: volume for volume in spec.get("volumes", [])}
            volumes, secrets = [], []
            for mount in container.get("volumeMounts", []):
                source = sources[mount["name"]]
                if "emptyDir" in source:
                    continue  # the pod's own scratch (db's /dev/shm): the run's /dev is a tmpfs already
                if "projected" in source:
                    mode = source["projected"]["defaultMode"] | (0o440 if "fsGroup" in pod else 0)
                    for item in (i for s in source["projected"]["sources"] for i in s["secret"]["items"]):
                        secrets.append({"target": item["path"], "uid": "0", "gid": str(pod.get("fsGroup", 0)),
                                        "mode": f"{mode:04o}"})
                else:
                    host = source["hostPath"]["path"] if "hostPath" in source else \
                        source["persistentVolumeClaim"]["claimName"]
                    volumes.append(f"{host}:{mount['mountPath']}" + (":ro" if mount.get("readOnly") else ""))
            service = {"image": container["image"], "user": f"{pod['runAsUser']}:{pod['runAsGroup']}",
                       "group_add": [*pod.get("supplementalGroups", []), *([pod["fsGroup"]] if "fsGroup" in pod else [])],
                       "environment": {e["name"]: e["value"] for e in container.get("env", [])},
                       "volumes": volumes, "secrets": secrets}
            command = container.get("command", []) + container.get("args", [])
            if command:
                service["command"] = command  # Kubernetes turns $$ into $ as compose does
            services[obj["metadata"]["name"]] = service
    return services


def compose_command(argv):
    """A compose `command` as the engine runs it: `$$` is a literal `$`; any other
    `$` would be interpolated from the host's environment, which a stack never wants."""
    out = []
    for word in argv:
        assert "$" not in word.replace("$$", ""), f"compose would interpolate a variable in {word!r}"
        out.append(word.replace("$$", "$"))
    return out



class StackRun:
    """A rendered stack's built services side by side, each run as its compose
    service says: image, user and group_add, environment, command, volumes (host
    directories under `scratch`, owned by the service's account, as the global
    file system's data is) and secrets (files of `secret_values`, owned and moded
    as the compose file says), on one network of all `roles`."""

    def __init__(self, store, stack, images, roles, scratch, secret_values=None):
        self.stack = Path(stack)
        self.services = compose_services(stack)
        self.scratch = Path(scratch)
        self.secret_values = secret_values or {}
        self.network = store.network(roles)
        self.containers = {role: store.container(image, shared=True) for role, image in images.items()}
        self.processes = []
        for container in self.containers.values():
            container.path("/etc/hosts").write_text(self.network.hosts())

    def account(self, role):
        service = self.services[role]
        return self.containers[role].account(service["user"], service.get("group_add", ()))

    def environment(self, role):
        return {name: str(value) for name, value in (self.services[role].get("environment") or {}).items()}

    def binds(self, role):
        service, account = self.services[role], self.account(role)
        binds = []
        for volume in service.get("volumes", []):
            source, target, *mode = volume.split(":")
            host = self.scratch / "volumes" / role / source.strip("/").replace("/", "_")
            host.mkdir(parents=True, exist_ok=True)
            os.chown(host, account.uid, account.gid)
            binds.append((str(host), target, mode == ["ro"]))
        for secret in service.get("secrets", []):
            host = self.scratch / "secrets" / role / secret["target"]
            host.parent.mkdir(parents=True, exist_ok=True)
            host.write_text(self.secret_values.get(secret["target"], f"secret-of-{secret['target']}"))
            os.chown(host, int(secret["uid"]), int(secret["gid"]))
            os.chmod(host, int(secret["mode"], 8))
            binds.append((str(host), "/run/secrets/" + secret["target"], True))
        return binds

    def volume(self, role, target):
        """The host directory behind a volume of the service."""
        for source, inside, _ in self.binds(role):
            if inside == target:
                return Path(source)
        raise LookupError(f"{role} has no volume at {target}")

    def options(self, role):
        return {"env": self.environment(role), "netns": self.network.netns(role), "binds": self.binds(role)}

    def command(self, role):
        command = self.services[role].get("command")
        return compose_command(command) if command else self.containers[role].command()

    def start(self, role, argv=None, label="service"):
        process = self.containers[role].start(argv or self.command(role), self.account(role), label=label,
                                              **self.options(role))
        self.processes.append((role, process))
        return process

    def close(self):
        """Stop what this run started and take its network down."""
        for role, process in self.processes:
            self.containers[role]._end(process)
        self.network.close()

    def run(self, role, argv=None, timeout=60):
        return self.containers[role].run(argv or self.command(role), self.account(role), timeout=timeout,
                                         label="run", **self.options(role))

    def fetch(self, role, port, path="/", wait=30):
        return self.network.fetch(f"http://{self.network.addresses[role]}:{port}{path}", wait=wait)
