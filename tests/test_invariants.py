"""Values that several rendered files state agree everywhere they appear, on both platforms, for
the examples and for answer sets drawn from the whole answer space (the strategies of
test_properties.py): a role's port in its container, its Service, its probes or health check and
every address that reaches it (REDIS_URL, DB_PORT, nginx's proxy_pass, the Ingress, the README);
the health path of the probes, nginx and the starter app; the images `make build` builds, `make
push` pushes, the workloads run and CI publishes; the registry host of those images and of every
`docker login`; a volume claim's access mode against the pods that may mount it at once; the
secrets the Makefile creates, the workloads mount and the README lists; the request limits of
nginx, the Ingresses and the README; the namespace, cluster or environment of the Makefile, the
overlays and the README; the commands the README says a `make` target runs; the objects, targets,
services and files the Makefile's and README's commands name; and the account the images switch to
and the workloads run as. Fixed answer sets with every role and option (FULL_K8S, FULL_RANCHER1) run
besides the drawn ones, so that no catch depends on the draw.

Each file is read with a real parser (rendered.py) and each value is compared with the same value
read from the other files, or with a fact about the world (an official image's port, Spin's
registry), never with the template's own expression for it."""

import json
import re
import shlex
from functools import cache, cached_property
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from hypothesis import example, given, settings

import rendered
from rendered import code_blocks, commands, make_dry_run, option
from stack_checks import load_yaml, merged_services
from stackkit import ROOT
from test_properties import valid_answers

pytestmark = pytest.mark.skipif(not __import__("shutil").which("make"), reason="make is not installed")

FACTS = json.loads((ROOT / "hooks" / "spin_audit" / "spin_facts.json").read_text())
# The port each official image listens on (its documentation); the util job's dump tools assume it.
OFFICIAL_PORTS = {"postgres": 5432, "mysql": 3306, "mariadb": 3306, "mongodb": 27017, "kv": 6379}
# Where each platform pulls the stack's own images from: Spin's registry, under its Kubernetes name
# on Rancher 2 and under the name Rancher 1.6 stacks still use there.
REGISTRY = {True: FACTS["rancher2"]["registry"], False: FACTS["rancher2"]["retired_registries"][0]}
BUILT_ROLES = ("web", "app", "api")
SECRETS_DIR = "/run/secrets/"
# Who writes files of its own that two copies of it would write at once: the servers that lock
# their data files, and the job whose dumps are named by the day.
SINGLE_WRITERS = ("db", "kv", "util")


class Workload:
    """One role as it runs, read from docker-compose.yml + rancher-compose.yml or from k8s/base/."""

    def __init__(self, role, image, env, command, secret_files, claims, container_ports, probes, published,
                 user, host_paths):
        self.role, self.image, self.env, self.command = role, image, env, command
        self.secret_files = secret_files  # path in the container -> the secret's name on the platform
        self.claims = claims  # [(volume or claim name, read-only)]
        self.container_ports = container_ports  # k8s: {port name: containerPort}
        self.probes = probes  # [(HTTP path or None, port number)]
        self.published = published  # {port clients use: the container port it reaches}
        self.user = user  # "UID:GID" the process runs as, or None for the image's own
        self.host_paths = host_paths  # the /global directories it mounts


class Stack:
    """A rendered stack's workloads and files, read once."""

    def __init__(self, path):
        self.path = Path(path)
        self.answers = rendered.answers(path)
        self.k8s = rendered.on_k8s(path)
        self.readme = (self.path / "README.md").read_text()
        self.objects = rendered.k8s_documents(path, "base") if self.k8s else []
        self.workloads = self._k8s_workloads() if self.k8s else self._compose_workloads()

    def _compose_workloads(self):
        _, _, services = merged_services(self.path)
        found = {}
        for role, service in services.items():
            command = service.get("command", [])
            check = service.get("health_check")
            probes = []
            if check:
                request = shlex.split(check["request_line"]) if "request_line" in check else None
                probes.append((request[1] if request else None, check["port"]))
            published = {}
            for mapping in service.get("ports", []):
                host, container = mapping.split(":")
                published[int(host)] = int(container)
            found[role] = Workload(
                role, service["image"], dict(service.get("environment") or {}),
                " ".join(command) if isinstance(command, list) else command,
                {SECRETS_DIR + secret["target"]: secret["source"] for secret in service.get("secrets", [])},
                [(volume.split(":")[0], volume.endswith(":ro")) for volume in service.get("volumes", [])
                 if not volume.startswith("/")],
                {}, probes, published, service.get("user"),
                [volume.split(":")[0] for volume in service.get("volumes", []) if volume.startswith("/")])
        return found

    def _k8s_workloads(self):
        services = {o["metadata"]["name"]: o for o in self.objects if o["kind"] == "Service"}
        found = {}
        for obj in self.objects:
            spec = rendered.pod_spec(obj)
            if spec is None:
                continue
            (container,) = spec["containers"]
            role = obj["metadata"]["name"]
            ports = {port.get("name"): port["containerPort"] for port in container.get("ports", [])}
            resolve = lambda port: ports[port] if isinstance(port, str) else port  # noqa: E731
            probes = []
            for kind in ("startupProbe", "readinessProbe", "livenessProbe"):
                probe = container.get(kind)
                if probe:
                    http = probe.get("httpGet")
                    probes.append((http["path"], resolve(http["port"])) if http
                                  else (None, resolve(probe["tcpSocket"]["port"])))
            volumes = {volume["name"]: volume for volume in spec.get("volumes", [])}
            secret_files, claims = {}, []
            for mount in container.get("volumeMounts", []):
                volume = volumes[mount["name"]]
                for source in volume.get("projected", {}).get("sources", []):
                    for item in source["secret"]["items"]:
                        secret_files[mount["mountPath"] + "/" + item["path"]] = (source["secret"]["name"], item["key"])
                if "persistentVolumeClaim" in volume:
                    claim = volume["persistentVolumeClaim"]
                    claims.append((claim["claimName"], bool(mount.get("readOnly") or claim.get("readOnly"))))
            published = {}
            if role in services:
                for port in services[role]["spec"]["ports"]:
                    published[port["port"]] = resolve(port["targetPort"])
            found[role] = Workload(
                role, container["image"], {e["name"]: e["value"] for e in container.get("env", [])},
                " ".join(container.get("command", []) + container.get("args", [])),
                secret_files, claims, ports, probes, published, run_as(spec, container),
                [volume["hostPath"]["path"] for volume in spec.get("volumes", []) if "hostPath" in volume])
        return found

    def listening_port(self, role):
        """The port the role's process listens on, as its own configuration says: web's nginx.conf,
        app's and api's $PORT (the starter app reads it), the official image's port for db and kv."""
        if role == "web":
            (server,) = self.nginx.one("http").all("server")
            (listen,) = server.all("listen")
            return int(listen.args[0])
        if role in ("app", "api"):
            return int(self.workloads[role].env["PORT"])
        return OFFICIAL_PORTS[self.answers["db_engine"] if role == "db" else role]

    def reach(self, role):
        """The port other roles reach `role` on: its Service's port on Kubernetes, the container's own on Rancher 1.6."""
        if not self.k8s:
            return self.listening_port(role)
        (port,) = [port for port, target in self.workloads[role].published.items()
                   if target == self.listening_port(role)]
        return port

    @cached_property
    def nginx(self):
        return rendered.nginx_conf(self.path / "web" / "nginx.conf")

    @cache  # noqa: B019 -- a Stack lives for one test
    def make(self, *targets):
        return commands(make_dry_run(self.path, *targets))

    @cached_property
    def make_help(self):
        return rendered.make_help(self.path)

    def built_roles(self):
        return [role for role in BUILT_ROLES if role in self.workloads]

    def readme_commands(self):
        return commands(line for block in code_blocks(self.readme) for line in block)


def run_as(spec, container):
    """The container's "UID:GID" (its securityContext over the pod's), or None."""
    context = {**spec.get("securityContext", {}), **container.get("securityContext", {})}
    return f"{context['runAsUser']}:{context['runAsGroup']}" if "runAsUser" in context else None


def words_in_order(wanted, words):
    """True when `wanted` are among `words` in this order (others may come between)."""
    remaining = iter(words)
    return all(any(word == each for each in remaining) for word in wanted)


# ---------------------------------------------------------------------------------------------
# The invariants; each takes a Stack.

def ports_agree(stack):
    """A role's port: its container, probes or health check, Service, every address that names it."""
    for role, workload in stack.workloads.items():
        if role == "util":
            continue
        port = stack.listening_port(role)
        for path, probed in workload.probes:
            assert probed == port, f"{role}: probe or health check on {probed}, the process listens on {port}"
        assert workload.probes, f"{role} has no probe or health check"
        if stack.k8s:
            assert port in workload.container_ports.values(), (role, workload.container_ports, port)
            assert port in workload.published.values(), f"{role}: no Service port reaches {port}"
        else:
            assert all(container == port for container in workload.published.values()), (role, workload.published)
        if role in ("app", "api"):
            env, exposed, _ = rendered.dockerfile_env(rendered.dockerfile(stack.path / role / "Dockerfile"))
            assert int(env["PORT"]) == port and exposed == [port], f"{role}/Dockerfile: {env}, EXPOSE {exposed}"
        if role == "web":
            _, exposed, _ = rendered.dockerfile_env(rendered.dockerfile(stack.path / "web" / "Dockerfile"))
            assert exposed == [port], f"web/Dockerfile exposes {exposed}, nginx listens on {port}"
    for client in ("app", "api"):
        env = stack.workloads[client].env if client in stack.workloads else {}
        if env and ("db" in stack.workloads or "DB_PORT" in env):
            assert env["DB_HOST"] in stack.workloads and int(env["DB_PORT"]) == stack.reach(env["DB_HOST"]), env
        if env and ("kv" in stack.workloads or "REDIS_URL" in env):
            url = urlsplit(env["REDIS_URL"])
            assert url.hostname in stack.workloads and url.port == stack.reach(url.hostname), env["REDIS_URL"]
    if "web" in stack.workloads:
        (server,) = stack.nginx.one("http").all("server")
        for location in server.all("location"):
            for proxy in location.all("proxy_pass"):
                url = urlsplit(proxy.args[0])
                assert url.hostname in stack.workloads and url.port == stack.reach(url.hostname), proxy.args
    if "util" in stack.workloads and "db" in stack.workloads and "--host=db" in stack.workloads["util"].command:
        # The dump tools get no --port: they use the engine's own, which db must be reachable on.
        assert "--port" not in stack.workloads["util"].command
        assert stack.reach("db") == OFFICIAL_PORTS[stack.answers["db_engine"]]
    if stack.k8s:
        services = {o["metadata"]["name"]: o for o in stack.objects if o["kind"] == "Service"}
        for ingress in ingresses(stack):
            for rule in ingress["spec"]["rules"]:
                for path in rule["http"]["paths"]:
                    backend = path["backend"]["service"]
                    (port,) = [p for p in services[backend["name"]]["spec"]["ports"] if p["name"] == backend["port"]["name"]]
                    assert port["port"] == stack.reach(backend["name"]), (ingress["metadata"]["name"], backend)
        for role, port in readme_service_ports(stack):
            assert int(port) == stack.reach(role), f"README: Service {role}:{port}"
    for port in readme_database_ports(stack):
        # On Kubernetes the Service (a LoadBalancer) publishes the database; on Rancher 1.6 a host port.
        published = [stack.reach("db")] if stack.k8s else list(stack.workloads["db"].published)
        assert [port] == published, f"README: the database on port {port}, published on {published}"
    if stack.answers.get("web_port") and "web" in stack.workloads and not stack.k8s:
        assert stack.workloads["web"].published == {stack.answers["web_port"]: stack.listening_port("web")}


def ingresses(stack):
    return [doc for cluster in FACTS["rancher2"]["clusters"] for doc in rendered.k8s_documents(stack.path, cluster)
            if doc.get("kind") == "Ingress"]


def readme_service_ports(stack):
    """The README's `role:port` of a Service reached inside the namespace (its services table)."""
    for header, rows in rendered.tables(stack.readme).items():
        if header[0] == "service" and "reached" in header:
            for row in rows:
                reached = row[header.index("reached")]
                if reached.startswith("Service "):
                    role, _, port = reached.split("`")[1].partition(":")
                    yield role, port


def readme_database_ports(stack):
    """The ports the README's database section gives clients on NERSC networks (the client's --port)."""
    for words in stack.readme_commands():
        if words[0] in ("psql", "mysql", "mariadb", "mongosh"):
            yield int(option(words, "--port"))


def health_path_agrees(stack):
    """The probes' or health checks' path is the one nginx answers itself and the starter app answers."""
    paths = {path for workload in stack.workloads.values() for path, _ in workload.probes if path}
    http_roles = [role for role in BUILT_ROLES if role in stack.workloads]
    assert all(any(path for path, _ in stack.workloads[role].probes) for role in http_roles), "an HTTP role without an HTTP check"
    if not http_roles:
        return
    (path,) = paths
    if "web" in stack.workloads:
        (server,) = stack.nginx.one("http").all("server")
        location = rendered.nginx_location(server, path)
        answered = [each.args for each in location.all("return")]
        proxied = [urlsplit(each.args[0]).hostname for each in location.all("proxy_pass")]
        assert answered and answered[0][0] == "200" or proxied, f"nginx answers {path} with {location}"
    for role in ("app", "api"):
        if role in stack.workloads:
            assert path in rendered.compared_to_request_path(stack.path / role / "main.py"), f"{role}/main.py"


def images_agree(stack):
    """`make build` builds, `make push` pushes and CI publishes exactly the images the workloads run."""
    built = {option(words, "--tag"): option(words, "--file") for words in stack.make("build") if words[:2] == ["docker", "build"]}
    pushed = [words[2] for words in stack.make("push") if words[:2] == ["docker", "push"]]
    run = {workload.image: role for role, workload in stack.workloads.items() if role in BUILT_ROLES}
    assert sorted(built) == sorted(pushed) == sorted(run), (built, pushed, run)
    for tag, dockerfile in built.items():
        assert dockerfile == f"{run[tag]}/Dockerfile" and (stack.path / dockerfile).is_file(), (tag, dockerfile)
        assert tag.rpartition(":")[2] == stack.answers["image_tag"], tag
    readme = [words for words in stack.readme_commands() if words[:2] in (["docker", "build"], ["docker", "push"])]
    if readme:  # Rancher 1.6's README spells out what `make build push` runs
        assert readme == [w for w in stack.make("build", "push") if w[:2] in (["docker", "build"], ["docker", "push"])]
    jobs = rendered.ci_jobs(stack.path)
    publishing = [name for name, lines in jobs.items() if ["make", "build", "push"] in commands(lines)]
    assert len(publishing) == (1 if built and jobs else 0), publishing
    for name in publishing:
        # The job publishes only when the git tag is the Makefile's TAG: its check must match that line.
        (check,) = [words for words in commands(jobs[name]) if words[0] == "grep"]
        wanted = check[2].replace("$CI_COMMIT_TAG", stack.answers["image_tag"]).replace(
            "${GITHUB_REF_NAME}", stack.answers["image_tag"])
        assert check[1] == "-qx" and check[3] == "Makefile", check
        assert wanted in (stack.path / "Makefile").read_text().splitlines(), wanted


def registry_host_agrees(stack):
    """The registry of the built images is the one every `docker login` names, and the platform's."""
    hosts = {words[2].split("/")[0] for words in stack.make("push") if words[:2] == ["docker", "push"]}
    if not hosts:
        return
    logins = {words[-1] for words in stack.readme_commands() if words[:2] == ["docker", "login"]}
    for lines in rendered.ci_jobs(stack.path).values():
        logins |= {words[-1] for words in commands(lines) if words[:2] == ["docker", "login"]}
    push_help = stack.make_help["push"]
    logins |= {words[-1] for words in commands([push_help.split("`")[1]])}
    assert hosts == logins == {REGISTRY[stack.k8s]}, (hosts, logins)


def claims_fit_their_mounters(stack):
    """A volume claim that two pods may mount at once allows many nodes, and no database, kv or util
    job writes it from two pods at once (a rolling upgrade, overlapping runs); every claim mounted exists."""
    if not stack.k8s:
        volumes = {name for name in (load_yaml(stack.path / "docker-compose.yml").get("volumes") or {})}
        used = {name for workload in stack.workloads.values() for name, _ in workload.claims}
        created = {words[-1] for words in stack.make("volumes") if words[-4:-1] == ["create", "--driver", "rancher-nfs"]}
        readme = {words[-1] for words in stack.readme_commands() if "volume" in words and "create" in words}
        assert volumes == used == created == readme, (volumes, used, created, readme)
        return
    claims = {o["metadata"]["name"]: o for o in stack.objects if o["kind"] == "PersistentVolumeClaim"}
    mounters = {name: [] for name in claims}
    for obj in stack.objects:
        spec = rendered.pod_spec(obj)
        if spec is None:
            continue
        (workload,) = [w for w in stack.workloads.values() if w.role == obj["metadata"]["name"]]
        # A Deployment that rolls starts the new pod before the old one stops; a CronJob may overlap itself.
        overlaps = (obj["kind"] == "Deployment" and obj["spec"].get("strategy", {}).get("type") != "Recreate"
                    or obj["kind"] == "CronJob" and obj["spec"].get("concurrencyPolicy") != "Forbid")
        for name, read_only in workload.claims:
            assert name in claims, f"{workload.role} mounts the claim {name}, which is not rendered"
            mounters[name] += [(workload.role, read_only)] * (2 if overlaps else 1)
    for words in stack.make("dumps") if "dumps" in stack.make_help else []:
        overrides = option(words, "--overrides")
        if overrides:
            for volume in json.loads(overrides)["spec"]["volumes"]:
                claim = volume["persistentVolumeClaim"]
                assert claim["claimName"] in claims
                mounters[claim["claimName"]].append(("make dumps", claim.get("readOnly", False)))
    for name, claim in claims.items():
        modes = set(claim["spec"]["accessModes"])
        assert mounters[name], f"the claim {name} is mounted by no pod"
        writers = [role for role, read_only in mounters[name] if role in SINGLE_WRITERS and not read_only]
        assert len(writers) == len(set(writers)), f"{name}: {writers} may write the same files twice at once"
        if len(mounters[name]) > 1:
            writes = not all(read_only for _, read_only in mounters[name])
            assert "ReadWriteMany" in modes or not writes and "ReadOnlyMany" in modes, (name, modes, mounters[name])


def secrets_agree(stack):
    """The secrets `make secrets` creates are the ones the workloads mount and the README lists; a
    file a workload's settings or command read from /run/secrets/ is one it mounts."""
    creates = [words for words in stack.make("secrets") if "create" in words and "secret" in words]
    if stack.k8s:
        made = {}
        for words in creates:
            key, _, source = option(words, "--from-file").partition("=")
            made[(words[words.index("generic") + 1], key)] = source
        mounted = {secret for workload in stack.workloads.values() for secret in workload.secret_files.values()}
        readme_names = {row[0] for header, rows in rendered.tables(stack.readme).items() if header[0] == "secret"
                        for row in rows}
        assert mounted == set(made), (mounted, made)
        assert readme_names == {name for name, _ in made}, readme_names
        for (name, key), source in made.items():
            assert source == f"secrets/{key}", (name, key, source)
    else:
        made = {words[-2]: words[-1] for words in creates}
        mounted = {workload.secret_files[path]: path for workload in stack.workloads.values()
                   for path in workload.secret_files}
        declared = set(load_yaml(stack.path / "docker-compose.yml").get("secrets") or {})
        readme_names = {row[0] for header, rows in rendered.tables(stack.readme).items() if header[0] == "secret"
                        for row in rows}
        assert set(made) == set(mounted) == declared == readme_names, (made, mounted, declared, readme_names)
        for name, source in made.items():
            assert source == "secrets/" + mounted[name].removeprefix(SECRETS_DIR), (name, source)
    readme_creates = [words for words in stack.readme_commands() if "create" in words and "secret" in words and "tls" not in words]
    assert len(readme_creates) == len(creates)
    for shown, run in zip(readme_creates, creates):
        assert words_in_order(shown, run), (shown, run)
    for workload in stack.workloads.values():
        read = {path for text in [workload.command, *workload.env.values()]
                for path in re.findall(re.escape(SECRETS_DIR) + r"[A-Za-z0-9_.-]*[A-Za-z0-9_-]", text)}
        assert read <= set(workload.secret_files), f"{workload.role} reads {read - set(workload.secret_files)}, not mounted"


def request_limits_agree(stack):
    """max_body_mb and proxy_timeout: nginx, every Ingress, the README and the answers say the same."""
    body, timeout = set(), set()
    if "web" in stack.workloads:
        http = stack.nginx.one("http")
        body.add(http.one("client_max_body_size").args[0])
        timeout |= {http.one(name).args[0] for name in ("proxy_read_timeout", "proxy_send_timeout")}
    for ingress in ingresses(stack) if stack.k8s else []:
        annotations = ingress["metadata"]["annotations"]
        body.add(annotations["nginx.ingress.kubernetes.io/proxy-body-size"])
        timeout |= {annotations[f"nginx.ingress.kubernetes.io/proxy-{kind}-timeout"] + "s" for kind in ("read", "send")}
    if not body:
        return
    (size,), (seconds,) = body, timeout
    assert size[-1] == "m" and seconds[-1] == "s", (size, seconds)
    size, seconds = int(size[:-1]), int(seconds[:-1])
    for key, value in (("max_body_mb", size), ("proxy_timeout", seconds)):
        if key in stack.answers:
            assert stack.answers[key] == value, key
    if stack.k8s and ingresses(stack):
        text = " ".join(rendered.prose(stack.readme).split())
        assert f"Requests of up to {size} MB are accepted" in text and f"may take {seconds} s to answer" in text


def placement_agrees(stack):
    """Where the stack runs: the Makefile's namespace and cluster (or Rancher environment) are the
    overlays', the Ingress hosts', and every one the README names."""
    (up,) = stack.make("up")
    spans = rendered.code_spans(stack.readme)
    named = [words for words in stack.readme_commands()]
    if stack.k8s:
        namespace, cluster = option(up, "--namespace"), option(up, "--context")
        assert up[-2:] == ["-k", f"k8s/{cluster}"] and cluster in FACTS["rancher2"]["clusters"], up
        for overlay in FACTS["rancher2"]["clusters"]:
            kustomization = load_yaml(stack.path / "k8s" / overlay / "kustomization.yaml")
            assert kustomization["namespace"] == namespace, overlay
            for doc in rendered.k8s_documents(stack.path, overlay)[1:]:
                for rule in doc["spec"]["rules"][:1]:
                    name, host_namespace, host_cluster, domain = rule["host"].split(".", 3)
                    assert (host_namespace, host_cluster) == (namespace, overlay), rule["host"]
        if "namespace" in stack.answers:
            assert stack.answers["namespace"] == namespace and stack.answers["cluster"] == cluster
        assert f"namespace `{namespace}`" in " ".join(rendered.prose(stack.readme).split())
        assert f"`{cluster}` cluster" in " ".join(rendered.prose(stack.readme).split())
        for words in named + [span.split() for span in spans if span.startswith("kubectl ")]:
            if words[0] == "kubectl" and option(words, "--namespace"):
                assert option(words, "--namespace") == namespace, words
            if words[0] == "kubectl" and option(words, "-k"):
                assert option(words, "-k") == f"k8s/{cluster}", words
    else:
        environment, stack_name = option(up, "--env"), option(up, "--stack")
        assert stack_name == stack.answers["stack_name"] and environment == stack.answers["environment"], up
        assert f"environment `{environment}`" in " ".join(rendered.prose(stack.readme).split())
        for words in named + [span.split() for span in spans if span.startswith("rancher ")]:
            if words[0] == "rancher" and option(words, "--env"):
                assert option(words, "--env") == environment, words
            if words[0] == "rancher" and option(words, "--stack"):
                assert option(words, "--stack") == stack_name, words


def readme_make_comments_agree(stack):
    """Each `make TARGET   # COMMAND ...` line of the README names words the target really runs, in order."""
    checked = 0
    for block in code_blocks(stack.readme):
        for line in block:
            if line.startswith("make ") and "#" in line:
                target, comment = line[5:].split("#", 1)
                shown = comment.split(":")[0].split("...")[0].split(",")[0].split()
                if shown and shown[0] in ("kubectl", "rancher"):
                    run = [word for words in stack.make(target.strip()) for word in words]
                    assert words_in_order(shown, run), (line, run)
                    checked += 1
    assert checked >= 2, "the README's Deploy block names what make runs"


def accounts_agree(stack):
    """The account the answers give (run_as_uid, run_as_gid) is the one each built image's Dockerfile
    switches to, the one its workload runs as, and the one every workload that mounts /global runs as."""
    account = f"{stack.answers['run_as_uid']}:{stack.answers['run_as_gid']}"
    for role in stack.built_roles():
        _, _, user = rendered.dockerfile_env(rendered.dockerfile(stack.path / role / "Dockerfile"))
        assert user == account, f"{role}/Dockerfile: USER {user}, the answers {account}"
        assert stack.workloads[role].user == account, (role, stack.workloads[role].user)
    for workload in stack.workloads.values():
        if workload.host_paths:
            assert workload.user == account, f"{workload.role} mounts {workload.host_paths} as {workload.user}"


OBJECT_KINDS = {"deployment": "Deployment", "cronjob": "CronJob", "service": "Service", "ingress": "Ingress",
                "pvc": "PersistentVolumeClaim", "persistentvolumeclaim": "PersistentVolumeClaim"}
SHELL_KEYWORDS = ("if", "then", "else", "do", "!")
# The rancher commands that take a service as STACK/SERVICE (others take files: secrets/NAME).
RANCHER_SERVICE_VERBS = {"restart", "logs", "exec", "start", "stop", "rm", "inspect", "scale", "upgrade"}


def span_words(span):
    """A code span's words as the shell splits them; prose in it (`logs job/<the job's name>`) by spaces."""
    try:
        return shlex.split(span)
    except ValueError:
        return span.split()


def commands_name_what_exists(stack):
    """What the Makefile's targets and the README's commands act on exists: every `make TARGET` the
    README shows is a target; every KIND/NAME kubectl is given is an object of the stack, `make
    status` waits for every Deployment, `make rollback` undoes those of the built images and `make
    tls` stores the secret the Ingress reads; every STACK/SERVICE rancher is given is a service of
    this stack, and the files it is given exist."""
    targets = set(stack.make_help)
    readme = stack.readme_commands() + [span_words(span) for span in rendered.code_spans(stack.readme)]
    for words in readme:
        if words[0] == "make":
            named = {word for word in words[1:] if "=" not in word and not word.startswith("-") and word != "..."}
            assert named <= targets, f"README: {' '.join(words)}; the Makefile has {sorted(targets)}"
    made = stack.make(*sorted(targets - {"help", "audit", "check-update"}))
    shown = [words for words in made + readme]
    for at, words in enumerate(shown):
        while words and words[0] in SHELL_KEYWORDS:
            shown[at] = words = words[1:]
    loops = {words[1]: words[3:] for words in made if words[0] == "for" and words[2] == "in"}
    if stack.k8s:
        objects = {}
        for obj in stack.objects + [doc for cluster in FACTS["rancher2"]["clusters"]
                                    for doc in rendered.k8s_documents(stack.path, cluster)[1:]]:
            if "metadata" in obj:  # not the kustomization
                objects.setdefault(obj["kind"], set()).add(obj["metadata"]["name"])
        for words in shown:
            if words and words[0] == "kubectl":
                for word in words:
                    kind, slash, name = word.rpartition("=")[2].partition("/")
                    if slash and kind in OBJECT_KINDS and not name.startswith("<"):
                        names = loops.get(name.lstrip("$"), [name])
                        for each in names:
                            assert each in objects.get(OBJECT_KINDS[kind], ()), f"{' '.join(words)}: no {kind} {each}"
        waited = {words[-2].partition("/")[2] for words in stack.make("status") if "rollout" in words}
        assert waited == objects.get("Deployment", set()), waited
        if "rollback" in targets and stack.built_roles():
            (names,) = loops.values() if loops else ([],)
            assert set(names) == set(stack.built_roles()), names
        tls_secrets = {tls["secretName"] for ingress in ingresses(stack) for tls in ingress["spec"].get("tls", [])}
        stored = {words[words.index("tls") + 1] for words in made if words[:1] == ["kubectl"] and "tls" in words
                  and "create" in words}
        assert stored == tls_secrets, (stored, tls_secrets)
    else:
        for words in shown:
            if words and words[0] == "rancher":
                for word in words if set(words) & RANCHER_SERVICE_VERBS else []:
                    if re.fullmatch(r"[a-z0-9-]+/[a-z]+", word):
                        name, _, service = word.partition("/")
                        assert name == stack.answers["stack_name"] and service in stack.workloads, " ".join(words)
                for option_name in ("--file", "--rancher-file"):
                    if option(words, option_name):
                        assert (stack.path / option(words, option_name)).is_file(), " ".join(words)


INVARIANTS = [ports_agree, health_path_agrees, images_agree, registry_host_agrees, claims_fit_their_mounters,
              secrets_agree, request_limits_agree, placement_agrees, readme_make_comments_agree, commands_name_what_exists,
              accounts_agree]


def assert_invariants(stack_path):
    stack = Stack(stack_path)
    for invariant in INVARIANTS:
        try:
            invariant(stack)
        except AssertionError as error:
            raise AssertionError(f"{invariant.__name__}: {error}") from error


@pytest.mark.parametrize("invariant", INVARIANTS, ids=lambda invariant: invariant.__name__)
def test_examples_agree_across_files(rendered_examples, invariant):
    for name, path in sorted(rendered_examples.items()):
        try:
            invariant(Stack(path))
        except AssertionError as error:
            raise AssertionError(f"examples/{name}.yml: {error}") from error


def kubernetes(answers):
    return answers.get("platform") != "rancher1"


# Every role and option that puts a value in more than one file, on each platform, whatever the draw.
FULL = {"owner": "fred", "staff_owner": "wilma", "run_as_uid": 501, "run_as_gid": 124, "stack_name": "everything",
        "services": ["web", "app", "api", "db", "kv", "util"], "access": "private", "kv_persist": True,
        "db_nersc_access": True, "app_port": 8123, "registry_project": "genome", "image_tag": "v2.1",
        "gpfs_mounts": [{"service": "util", "host_path": "/global/cfs/cdirs/genome/dumps", "container_path": "/dumps",
                         "read_only": False}], "secrets": {"api_key": ["app", "api"]}}
# The second keeps the util job's dumps on a volume claim, not on /global.
FULL_K8S = [{**FULL, "platform": "rancher2", "ci": ci, "db_engine": engine, "fqdn": "portal.jgi.doe.gov", **mounts}
            for ci, engine, mounts in (("gitlab", "postgres", {}), ("github", "mongodb", {"gpfs_mounts": []}))]
# A stack with no Deployment at all: what the README says of Deployments must not be there.
JOB_ONLY_K8S = {**{key: FULL[key] for key in ("owner", "staff_owner", "run_as_uid", "run_as_gid")},
                "platform": "rancher2", "services": ["util"]}
FULL_RANCHER1 = [{**FULL, "platform": "rancher1", "ci": ci, "db_engine": engine, **exposure}
                 for ci, engine, exposure in (("gitlab", "mysql", {"web_exposure": "port", "web_port": 50010}),
                                              ("github", "mariadb", {"fqdn": "portal.jgi.doe.gov",
                                                                     "web_exposure": "reverse-proxy"}))]


@settings(max_examples=max(1, settings().max_examples // 2))
@given(answers=valid_answers().filter(kubernetes))
@example(answers=FULL_K8S[0])
@example(answers=FULL_K8S[1])
@example(answers=JOB_ONLY_K8S)
def test_drawn_kubernetes_stacks_agree_across_files(render, tmp_path_factory, answers):
    assert_invariants(render(answers, dst=tmp_path_factory.mktemp("k8s") / "stack"))


@settings(max_examples=max(1, settings().max_examples // 2))
@given(answers=valid_answers().filter(lambda answers: not kubernetes(answers)))
@example(answers=FULL_RANCHER1[0])
@example(answers=FULL_RANCHER1[1])
def test_drawn_rancher1_stacks_agree_across_files(render, tmp_path_factory, answers):
    assert_invariants(render(answers, dst=tmp_path_factory.mktemp("r1") / "stack"))
