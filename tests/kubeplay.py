"""Runs a rendered stack's Kubernetes objects under a real container runtime
that reads them: Debian's podman (`podman kube play`, 4.3) with runc (the kube
play tests; root only).

podman shares the image tests' buildah storage (imagekit.Store: vfs, in the
session's temporary directory), so the images buildah builds from the stack's
Dockerfiles and the stand-ins of the images it pulls are podman's too; its own
state (libpod database, volumes, networks, events) stays in that directory
and in a scratch directory of the session. Where podman does not do what a
Kubernetes node does with a field, PODMAN_GAPS below says which and why, and
its conversion is the only change made to the rendered objects."""

import copy
import ipaddress
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

import yaml

import imagekit

APT_PACKAGES = "podman runc catatonit"
CATATONIT = "/usr/libexec/podman/catatonit"

# podman 4.3's default runtime crun cannot run here ("cgroups in hybrid mode not
# supported", and setrlimit RLIMIT_NPROC/RLIMIT_NOFILE refused): runc, cgroupfs
# and the limits the machine grants. Events go to a file of the session.
CONTAINERS_CONF = """\
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1000:1000"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "{scratch}/events.log"

[network]
network_config_dir = "{scratch}/networks"
"""


def missing():
    """Why the kube play tests cannot run on this machine, or an empty string."""
    reason = imagekit.missing()
    if reason:
        return reason
    for tool in ("podman", "runc", "nsenter"):
        if not shutil.which(tool, path=imagekit.SYSTEM_PATH):
            return f"{tool} is not installed (apt-get install {APT_PACKAGES})"
    if not Path(CATATONIT).is_file():
        return f"{CATATONIT}, which podman puts in its pods' infra image, is not installed (apt-get install catatonit)"
    return ""


# Linux's capabilities in bit order (linux/capability.h), to read /proc/PID/status.
CAPABILITIES = (
    "CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID KILL SETGID SETUID SETPCAP LINUX_IMMUTABLE "
    "NET_BIND_SERVICE NET_BROADCAST NET_ADMIN NET_RAW IPC_LOCK IPC_OWNER SYS_MODULE SYS_RAWIO SYS_CHROOT "
    "SYS_PTRACE SYS_PACCT SYS_ADMIN SYS_BOOT SYS_NICE SYS_RESOURCE SYS_TIME SYS_TTY_CONFIG MKNOD LEASE "
    "AUDIT_WRITE AUDIT_CONTROL SETFCAP MAC_OVERRIDE MAC_ADMIN SYSLOG WAKE_ALARM BLOCK_SUSPEND AUDIT_READ "
    "PERFMON BPF CHECKPOINT_RESTORE").split()


def capability_names(mask):
    """The capabilities of a hexadecimal mask of /proc/PID/status (CapEff: ...)."""
    bits = int(mask, 16)
    return {name for bit, name in enumerate(CAPABILITIES) if bits >> bit & 1} | \
        {f"bit {bit}" for bit in range(len(CAPABILITIES), 64) if bits >> bit & 1}


def expand(text, env):
    """A command, argument or env value as the kubelet runs it: $(NAME) is NAME's value
    when the container defines it (else left as it is), $$ is $, any other $ stays
    (k8s.io/kubernetes third_party/forked/golang/expansion)."""
    def replace(match):
        if match.group(1):
            return "$"
        return env.get(match.group(2), match.group(0))
    return re.sub(r"\$(?:(\$)|\(([^)]*)\))", replace, text)


def pod_template(obj):
    """The pod a workload makes ({metadata, spec}): a Deployment's template, a CronJob's
    job's template, a Pod itself."""
    if obj["kind"] == "CronJob":
        return obj["spec"]["jobTemplate"]["spec"]["template"]
    if obj["kind"] == "Pod":
        return obj
    return obj["spec"]["template"]


def pod_spec(obj):
    return pod_template(obj)["spec"]


def pod_labels(obj):
    return pod_template(obj)["metadata"].get("labels", {})


def container_env(container):
    """The container's env as the kubelet sets it: each value expanded against the ones before it."""
    env = {}
    for variable in container.get("env", []):
        assert "valueFrom" not in variable, f"{variable['name']}: valueFrom is not played here (see PODMAN_GAPS)"
        env[variable["name"]] = expand(variable.get("value", ""), env)
    return env


def effective(container, spec, field):
    """A security field as it applies to the container: its own, else the pod's."""
    own = container.get("securityContext", {})
    return own[field] if field in own else spec.get("securityContext", {}).get(field)


def named_port(container, port):
    """A probe's or Service's port, by name or number, as the container's port number."""
    if isinstance(port, int):
        return port
    for declared in container.get("ports", []):
        if declared.get("name") == port:
            return declared["containerPort"]
    raise LookupError(f"container {container['name']} has no port named {port}")


@dataclass
class Play:
    """What the conversions need to know about the run: the local image of each image,
    the address of each workload's pod, the values of the Secrets, a directory of the
    session for what the node would provide (the global file system, secret files)."""
    images: dict
    addresses: dict
    secret_values: dict
    host: Path


def workload_of(selector, workloads):
    """The workload whose pods a Service's selector picks."""
    picked = [obj for obj in workloads
              if selector and all(pod_labels(obj).get(key) == value for key, value in selector.items())]
    assert len(picked) == 1, f"a Service selector {selector} picks {len(picked)} workloads"
    return picked[0]


def service_aliases(objects, play):
    """hostAliases that name each Service, as cluster DNS would (short and namespaced names),
    at the address of the pod it selects; a Service's port must be the container's, as
    nothing here forwards one port to another."""
    workloads = [obj for obj in objects if obj["kind"] in ("Deployment", "CronJob")]
    aliases = {}
    for service in (obj for obj in objects if obj["kind"] == "Service"):
        target = workload_of(service["spec"].get("selector", {}), workloads)
        (container,) = pod_spec(target)["containers"]
        for port in service["spec"]["ports"]:
            number = named_port(container, port.get("targetPort", port["port"]))
            assert number == port["port"], (f"Service {service['metadata']['name']} maps port {port['port']} "
                                            f"to {number}: podman has no Service to do it")
        name, namespace = service["metadata"]["name"], service["metadata"].get("namespace", "default")
        address = play.addresses[target["metadata"]["name"]]
        aliases.setdefault(address, []).extend(
            [name, f"{name}.{namespace}", f"{name}.{namespace}.svc", f"{name}.{namespace}.svc.cluster.local"])
    return [{"ip": address, "hostnames": names} for address, names in sorted(aliases.items())]


# --- What podman kube play (4.3) does not do as a Kubernetes node does ----------------
# Each gap names the field and why, and its conversion (a function of one object of
# a kind in `kinds`, all the rendered objects and the Play) returns the object podman
# is given, or None when podman is given nothing for it. Fields not listed here are
# podman's to honour: runAsUser, runAsGroup, supplementalGroups, capabilities,
# allowPrivilegeEscalation, readOnlyRootFilesystem, env, ports, volumeMounts
# (readOnly), emptyDir, hostAliases, restartPolicy.

def cronjob_as_pod(obj, objects, play):
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": obj["metadata"]["name"], "namespace": obj["metadata"].get("namespace"),
                         "labels": pod_labels(obj)},
            "spec": pod_spec(obj)}


def service_names(obj, objects, play):
    if obj["kind"] == "Service":
        return None
    spec = pod_spec(obj)
    spec["hostAliases"] = spec.get("hostAliases", []) + service_aliases(objects, play)
    return obj


def drop(obj, objects, play):
    return None


def containers(spec):
    return spec["containers"] + spec.get("initContainers", [])


def local_images(obj, objects, play):
    for container in containers(pod_spec(obj)):
        container["image"] = play.images[container["image"]]
        container["imagePullPolicy"] = "Never"
    return obj


def no_pull_secrets(obj, objects, play):
    pod_spec(obj).pop("imagePullSecrets", None)
    return obj


def projected_secret_files(obj, objects, play):
    spec = pod_spec(obj)
    fs_group = spec.get("securityContext", {}).get("fsGroup")
    for volume in spec.get("volumes", []):
        if "projected" not in volume:
            continue
        projected = volume.pop("projected")
        directory = play.host / "projected" / obj["metadata"]["name"] / volume["name"]
        directory.mkdir(parents=True, exist_ok=True)
        for source in projected["sources"]:
            assert set(source) == {"secret"}, f"only Secrets are projected here, not {sorted(source)}"
            for item in source["secret"]["items"]:
                path = directory / item["path"]
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(play.secret_values[source["secret"]["name"], item["key"]])
                mode = item.get("mode", projected.get("defaultMode", 0o644))
                os.chown(path, 0, fs_group or 0)
                os.chmod(path, mode | (0o440 if fs_group is not None else 0))
        volume["hostPath"] = {"path": str(directory), "type": "Directory"}
    return obj


def claim_directories(obj, objects, play):
    if obj["kind"] == "PersistentVolumeClaim":
        return None
    spec = pod_spec(obj)
    fs_group = spec.get("securityContext", {}).get("fsGroup")
    for volume in spec.get("volumes", []):
        if "persistentVolumeClaim" in volume:
            directory = play.host / "claims" / volume.pop("persistentVolumeClaim")["claimName"]
            directory.mkdir(parents=True, exist_ok=True)
            if fs_group is not None:
                os.chown(directory, -1, fs_group)
                os.chmod(directory, directory.stat().st_mode | 0o2770)
            volume["hostPath"] = {"path": str(directory), "type": "Directory"}
    return obj


def host_directories(obj, objects, play):
    spec = pod_spec(obj)
    context = spec.get("securityContext", {})
    for volume in spec.get("volumes", []):
        if "hostPath" in volume and not Path(volume["hostPath"]["path"]).is_relative_to(play.host):
            directory = play.host / "hostpath" / volume["hostPath"]["path"].strip("/")
            directory.mkdir(parents=True, exist_ok=True)
            os.chown(directory, context.get("runAsUser", 0), context.get("runAsGroup", 0))
            volume["hostPath"]["path"] = str(directory)
    return obj


def fs_group_as_group(obj, objects, play):
    context = pod_spec(obj).get("securityContext", {})
    if "fsGroup" in context and context["fsGroup"] not in context.get("supplementalGroups", []):
        context["supplementalGroups"] = context.get("supplementalGroups", []) + [context["fsGroup"]]
    return obj


def expanded_commands(obj, objects, play):
    for container in containers(pod_spec(obj)):
        env = container_env(container)
        for variable in container.get("env", []):
            variable["value"] = env[variable["name"]]
        for field in ("command", "args"):
            if field in container:
                container[field] = [expand(word, env) for word in container[field]]
    return obj


def no_probes(obj, objects, play):
    for container in pod_spec(obj)["containers"]:
        for probe in PROBES:
            container.pop(probe, None)
    return obj


def one_replica(obj, objects, play):
    obj["spec"]["replicas"] = 1
    return obj


PROBES = ("startupProbe", "livenessProbe", "readinessProbe")
PODS = ("Deployment", "Pod")


@dataclass(frozen=True)
class Gap:
    field: str
    why: str
    convert: Optional[Callable] = None
    kinds: tuple = PODS


PODMAN_GAPS = [
    Gap("kind: CronJob", "podman plays Pod and Deployment only, not Job or CronJob (schedule, "
        "concurrencyPolicy, backoffLimit, history limits are the cluster's): the job template's pod is "
        "played as a Pod (restartPolicy Never) when a test runs the job", cronjob_as_pod, ("CronJob",)),
    Gap("kind: Service", "podman has no Services and no cluster DNS. Pods are on one podman network "
        "(internal: no firewall rules on the machine, no DNS server) at fixed addresses, and every pod gets "
        "hostAliases naming each Service (name, name.namespace, .svc, .svc.cluster.local) at the address of "
        "the pod its selector picks; a Service's port must be the container's port", service_names,
        ("Service",) + PODS),
    Gap("kind: Ingress", "no ingress controller: the tests reach web from a probe pod on the same "
        "network, at web's Service port, as the controller would; the Ingress's hosts and annotations are "
        "not exercised", drop, ("Ingress",)),
    Gap("image, imagePullPolicy", "no registry: each image is the local one built from the stack's "
        "Dockerfile or the stand-in of the image it names (KubeStack.local_image), never pulled",
        local_images),
    Gap("imagePullSecrets", "nothing is pulled; the registry-nersc Secret does not exist here",
        no_pull_secrets),
    Gap("volumes[].projected", "podman 4.3 has no projected volumes: a hostPath directory holds each "
        "Secret item as the kubelet writes it (owner root, group fsGroup, mode defaultMode | 0440), mounted "
        "read-only as rendered; the Secrets' values are the test's", projected_secret_files),
    Gap("kind: PersistentVolumeClaim, volumes[].persistentVolumeClaim", "podman makes a named volume and, "
        "on first use, copies into it what the image has at the mount path (Docker's way, which would hide a "
        "volume the pod's user cannot write); a node mounts the provisioned volume as it is. Each claim is a "
        "directory of the session (new: root's, 0755), shared by the pods that mount it and given to the "
        "pod's fsGroup as the kubelet does (group fsGroup, g+rwx, setgid); whether nfs-client-vast's "
        "volumes honour fsGroup so is Spin's", claim_directories, ("PersistentVolumeClaim",) + PODS),
    Gap("volumes[].hostPath", "the global file system is not here: a directory of the session, owned by "
        "the pod's runAsUser and runAsGroup as the group's data is", host_directories),
    Gap("securityContext.fsGroup", "podman ignores it: it becomes one of supplementalGroups, as the "
        "kubelet adds it to every container's groups (claims: see above)", fs_group_as_group),
    Gap("command, args, env values: $(VAR) and $$", "podman 4.3 passes them as they are; the kubelet "
        "expands $(VAR) from the container's env and turns $$ into $ (the util job's shell line has $$)",
        expanded_commands),
    Gap("livenessProbe, readinessProbe, startupProbe", "podman ignores readiness and startup probes and "
        "turns a liveness probe into a curl or nc healthcheck (tools the images lack; named ports read as "
        "0) that restarts the container: removed. The tests run each probe from the probe pod as the "
        "kubelet would, and wait for readiness before using a pod", no_probes),
    Gap("spec.replicas", "one pod per Deployment: a Service's name has one address here", one_replica,
        ("Deployment",)),
    Gap("securityContext.runAsNonRoot", "podman does not check it: the tests assert that the "
        "process's uid is not 0"),
    Gap("securityContext.seccompProfile: RuntimeDefault", "podman takes seccomp profiles from "
        "annotations, not from this field, and applies its default profile, which is what RuntimeDefault "
        "asks: the tests assert that the process is filtered (Seccomp: 2)"),
    Gap("automountServiceAccountToken: false, enableServiceLinks: false", "podman never mounts a "
        "service account token nor sets Service variables: as rendered"),
    Gap("strategy: Recreate", "a Deployment is played once; a test that recreates a pod removes the "
        "old one before playing it again, as Recreate does"),
    Gap("emptyDir medium: Memory, sizeLimit", "podman 4.3 makes an anonymous volume on disk, not a tmpfs, "
        "of no set size, and gives it to the container's user where the kubelet's tmpfs is open to all (1777)"),
    Gap("metadata.namespace", "podman has no namespaces; its pods are named after their workload"),
]


def for_podman(objects, play):
    """The rendered objects as podman is given them: each gap's conversion, in order."""
    converted = []
    for obj in objects:
        obj = copy.deepcopy(obj)
        for gap in PODMAN_GAPS:
            if obj is not None and gap.convert and obj["kind"] in gap.kinds:
                obj = gap.convert(obj, objects, play)
        if obj is not None:
            converted.append(obj)
    return converted


KINDS = {"Deployment", "CronJob", "Service", "PersistentVolumeClaim", "Ingress"}


class Podman:
    """podman on the image store's storage, with its state, one internal network and a
    probe pod (where requests come from, as from a node or an ingress controller) in
    `scratch`; close() removes what it made."""

    def __init__(self, store, scratch):
        self.scratch = Path(scratch)
        self.scratch.mkdir(parents=True, exist_ok=True)
        conf = self.scratch / "containers.conf"
        conf.write_text(CONTAINERS_CONF.format(scratch=self.scratch))
        self.environment = {**os.environ, "CONTAINERS_CONF": str(conf)}
        self.flags = [*store.storage, "--tmpdir", str(self.scratch / "libpod")]
        self.subnet = free_subnet()
        self.addresses = (str(address) for address in list(self.subnet.hosts())[9:])
        self.network = f"kube-play-{os.getpid()}"
        self("network", "create", "--internal", "--disable-dns", "--subnet", self.subnet, self.network)
        self("pod", "create", "--name", "probe", "--network", self.network, "--ip", list(self.subnet.hosts())[1])
        self("pod", "start", "probe")
        infra = self("pod", "inspect", "--format", "{{.InfraContainerID}}", "probe").stdout.strip()
        self.probe_netns = f"/proc/{self.inspect(infra)['State']['Pid']}/ns/net"

    def __call__(self, *args, check=True, timeout=300):
        result = subprocess.run(["podman", *self.flags, *map(str, args)], env=self.environment,
                                stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)
        if check and result.returncode:
            raise AssertionError(f"podman {' '.join(map(str, args))} failed:\n{result.stdout}{result.stderr}")
        return result

    def inspect(self, name):
        return json.loads(self("inspect", "--type", "container", name).stdout)[0]

    def reach(self, url, wait=30):
        """(status, body) of a GET from the probe pod, or (0, "connected") for tcp://host:port."""
        result = subprocess.run(["nsenter", f"--net={self.probe_netns}", sys.executable, "-c", imagekit.FETCH,
                                 url, str(wait)], capture_output=True, text=True, timeout=wait + 30)
        assert result.returncode == 0, result.stderr
        return tuple(json.loads(result.stdout))

    def close(self):
        self("pod", "rm", "--all", "--force", "--time", "0", check=False)
        self("volume", "rm", "--all", "--force", check=False)  # the anonymous ones of emptyDir
        self("network", "rm", "--force", self.network, check=False)


def free_subnet():
    """A /24 in 10.128.0.0/9, picked by process id, that no address or route of the
    machine overlaps (the network is internal: the machine has no address on it)."""
    used = []
    for command in (["ip", "-4", "-o", "addr"], ["ip", "-4", "route"]):
        for word in subprocess.run(command, capture_output=True, text=True).stdout.split():
            try:
                used.append(ipaddress.ip_network(word, strict=False))
            except ValueError:
                pass
    pool = list(ipaddress.ip_network("10.128.0.0/9").subnets(new_prefix=24))
    start = os.getpid() % len(pool)
    for subnet in pool[start:] + pool[:start]:
        if not any(subnet.overlaps(other) for other in used):
            return subnet
    raise RuntimeError("no free /24 in 10.128.0.0/9")


class KubeStack:
    """A rendered stack's development overlay under podman: its objects converted
    (for_podman), its images built or stood in for, played workload by workload."""

    def __init__(self, podman, store, stack, scratch, objects):
        self.podman = podman
        self.stack = Path(stack)
        self.rendered = objects
        unknown = {obj["kind"] for obj in objects} - KINDS
        assert not unknown, f"the kube play tests do not know kinds {unknown}: say in PODMAN_GAPS what podman does"
        self.workloads = {obj["metadata"]["name"]: obj for obj in objects if obj["kind"] in ("Deployment", "CronJob")}
        images = {container["image"]: self.local_image(store, name, container["image"])
                  for name, obj in self.workloads.items() for container in containers(pod_spec(obj))}
        secret_values = {(source["secret"]["name"], item["key"]): secrets.token_hex(12)
                         for obj in self.workloads.values() for volume in pod_spec(obj).get("volumes", [])
                         for source in volume.get("projected", {}).get("sources", [])
                         for item in source["secret"]["items"]}
        self.play = Play(images, {name: next(podman.addresses) for name in self.workloads}, secret_values,
                         Path(scratch))
        self.objects = {obj["metadata"]["name"]: obj for obj in for_podman(objects, self.play)}
        self.pods = {}
        self.beside = {}

    def local_image(self, store, workload, image):
        """The image a container runs here: built from the stack's <workload>/Dockerfile
        when the stack has one (web, app, api), else the stand-in of the image it names."""
        dockerfile = self.stack / workload / "Dockerfile"
        if dockerfile.is_file():
            tag = f"localhost/kube-play/{self.stack.name}-{workload}:rendered"
            built = store.build(self.stack, dockerfile, tag)
            assert built.returncode == 0, f"{dockerfile} does not build:\n{built.stdout}{built.stderr}"
            return tag
        return store.base(imagekit.standin_for(image))

    def kube_play(self, obj, *options):
        """`podman kube play` of one object on the session's network (without one, podman
        would make a network of its own)."""
        path = self.play.host / "played" / f"{obj['kind']}-{obj['metadata']['name']}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(obj, sort_keys=False))
        return self.podman("kube", "play", "--network", self.podman.network, *options, path).stdout

    def start(self):
        """Every Deployment, each ready as its probes say."""
        deployments = [name for name, obj in self.workloads.items() if obj["kind"] == "Deployment"]
        for name in deployments:
            self.start_pod(name)
        for name in deployments:
            self.wait_ready(name)

    def start_pod(self, name):
        """Play one workload's pod at its address (a CronJob's job pod runs once), with a MAC
        address of its own, the same when it is played again, so that its neighbours' ARP
        caches stay right, as behind a Service that stays."""
        address = ipaddress.ip_address(self.play.addresses[name])
        mac = ":".join(f"{byte:02x}" for byte in b"\x02\x00" + address.packed)
        report = self.kube_play(self.objects[name], "--ip", address, "--mac-address", mac)
        pod_id = report.split("Pod:\n", 1)[1].split()[0]
        pod = json.loads(self.podman("pod", "inspect", pod_id).stdout)
        self.pods[name] = pod["Name"]

    def container(self, name, container=None):
        """The podman name of a workload's container (its only one unless named)."""
        spec = pod_spec(self.workloads[name])
        (rendered,) = [c for c in spec["containers"] if container in (None, c["name"])]
        return f"{self.pods[name]}-{rendered['name']}"

    def logs(self, name):
        result = self.podman("logs", self.container(name), check=False)
        return result.stdout + result.stderr

    def probe(self, name, probe, wait):
        """Run a rendered probe as the kubelet does, from the probe pod: httpGet succeeds on
        200-399, tcpSocket on a connection; (succeeded, what answered)."""
        (container,) = pod_spec(self.workloads[name])["containers"]
        address = self.play.addresses[name]
        if "httpGet" in probe:
            get = probe["httpGet"]
            url = (f"{get.get('scheme', 'HTTP').lower()}://{address}:{named_port(container, get['port'])}"
                   f"{get.get('path', '/')}")
            status, body = self.podman.reach(url, wait)
            return status is not None and 200 <= status < 400, (url, status, body)
        if "tcpSocket" in probe:
            url = f"tcp://{address}:{named_port(container, probe['tcpSocket']['port'])}"
            status, body = self.podman.reach(url, wait)
            return status == 0, (url, body)
        if "exec" in probe:
            result = self.podman("exec", self.container(name), *probe["exec"]["command"], check=False)
            return result.returncode == 0, result.stdout + result.stderr
        raise NotImplementedError(f"probe {probe}")

    def wait_ready(self, name, timeout=120):
        """Wait as the kubelet does: the startup probe first, then the readiness probe; fail
        with the container's log when it stops or the time is up."""
        (container,) = pod_spec(self.workloads[name])["containers"]
        deadline = time.monotonic() + timeout
        for kind in ("startupProbe", "readinessProbe"):
            if kind not in container:
                continue
            while True:
                state = self.podman.inspect(self.container(name))["State"]
                assert state["Running"], \
                    f"{name} stopped ({state['Status']}, exit {state['ExitCode']}):\n{self.logs(name)}"
                succeeded, answer = self.probe(name, container[kind], wait=2)
                if succeeded:
                    break
                assert time.monotonic() < deadline, f"{name}'s {kind} fails: {answer}\n{self.logs(name)}"
                time.sleep(0.5)

    def process_status(self, name):
        """/proc/PID/status of the container's first process, as {field: value}."""
        pid = self.podman.inspect(self.container(name))["State"]["Pid"]
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
        return dict(line.split(":\t", 1) for line in lines if ":\t" in line)

    def root_mount_options(self, name):
        pid = self.podman.inspect(self.container(name))["State"]["Pid"]
        for line in Path(f"/proc/{pid}/mountinfo").read_text().splitlines():
            fields = line.split()
            if fields[4] == "/":
                root = fields[5].split(",")
        return root

    def exec(self, name, *argv):
        return self.podman("exec", self.container(name), *argv, check=False)

    def run_beside(self, name, image, script):
        """Run `sh -c script` in `image` inside the workload's pod (its network and /etc/hosts),
        as its container's user and groups, with its container's env and volumes (read-only):
        in one container of that image kept in the pod (each new one costs a copy of the image)."""
        if (name, image) not in self.beside:
            spec = pod_spec(self.objects[name])
            (container,) = spec["containers"]
            user = f"{effective(container, spec, 'runAsUser')}:{effective(container, spec, 'runAsGroup')}"
            groups = spec.get("securityContext", {}).get("supplementalGroups", [])
            beside = f"{self.pods[name]}-beside-{len(self.beside)}"
            self.podman("run", "--detach", "--name", beside, "--pod", self.pods[name], "--user", user,
                        *(f"--group-add={group}" for group in groups),
                        "--volumes-from", f"{self.container(name)}:ro",
                        *(f"--env={key}={value}" for key, value in container_env(container).items()),
                        "--entrypoint", "sleep", image, "1000000")
            self.beside[name, image] = beside
        return self.podman("exec", self.beside[name, image], "sh", "-c", script, check=False)

    def run_job(self, name, timeout=180):
        """Play a CronJob's job pod, wait for its end; (exit code, log)."""
        self.start_pod(name)
        container = self.container(name)
        self.podman("wait", container, timeout=timeout)
        return self.podman.inspect(container)["State"]["ExitCode"], self.logs(name)

    def recreate(self, name):
        """Remove the workload's pod, then play it again (a Recreate rollout)."""
        self.podman("pod", "rm", "--force", "--time", "30", self.pods.pop(name))
        self.beside = {key: beside for key, beside in self.beside.items() if key[0] != name}
        self.start_pod(name)
        self.wait_ready(name)

    def volume(self, claim):
        """The directory standing in for a claim's volume."""
        return self.play.host / "claims" / claim

    def host_path(self, path):
        """The directory standing in for a rendered hostPath."""
        return self.play.host / "hostpath" / path.strip("/")

    def close(self):
        for pod in self.pods.values():
            self.podman("pod", "rm", "--force", "--time", "0", pod, check=False)
