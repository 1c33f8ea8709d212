"""Rendered rancher2 stacks run for real: the development overlay's objects, built by
`kubectl kustomize`, played by podman (`podman kube play`, kubeplay.py; what podman
does not do as a node does is converted in one place, kubeplay.PODMAN_GAPS) with the
images the image tests build and stand-ins of the ones a stack pulls (postgres,
mariadb, redis). The pods run with the rendered security context and answer their
probes, web serves and proxies to the app, the app reads and writes its global file
system paths as mounted, the database takes the app's password from its secret
file, a persistent kv keeps its data through a Recreate, and the util job's pod
writes a dump and keeps the retention. Every expectation is read from the rendered
objects or the recorded answers. Needs root, buildah, mmdebstrap, podman, runc."""

import gzip
import json
import secrets
import shlex
from dataclasses import dataclass

import pytest

import kubeplay
from backups import DATABASE_VARIABLE, SUFFIX, assert_retention, new_dump, seed_old_files
from kubeplay import container_env, effective, pod_spec
from stack_checks import kustomize, load_yaml
from stackkit import ROOT, load_example, minimal_answers

pytestmark = [pytest.mark.images, pytest.mark.skipif(bool(kubeplay.missing()), reason=kubeplay.missing())]

ANSWER_SETS = {
    # nginx, a Python app reading the global file system, PostgreSQL, the nightly dump
    "portal-k8s": load_example(ROOT / "examples" / "portal-k8s.yml"),
    # the same with a persistent redis, which the job backs up too, behind NERSC's login
    "notes-kv-authenticated": minimal_answers(
        platform="rancher2", stack_name="lab-notes", services=["web", "app", "db", "kv", "util"],
        kv_persist=True, access="authenticated", backup_keep_days=3, secrets={"notes_api_token": ["app"]}),
    # an app without web writing to the global file system, MariaDB, dumps into the group's directory
    "private-writer-k8s": load_example(ROOT / "examples" / "private-writer-k8s.yml"),
}


def sets_with(*roles, kv_persist=None):
    return [name for name, answers in ANSWER_SETS.items() if set(roles) <= set(answers["services"])
            and kv_persist in (None, answers.get("kv_persist", False))]


@pytest.fixture(scope="module")
def kube(request, render, image_store, podman, tmp_path_factory):
    """The answer set's stack, every Deployment of its development overlay running and ready."""
    stack = render(ANSWER_SETS[request.param])
    run = kubeplay.KubeStack(podman, image_store, stack, tmp_path_factory.mktemp(f"kube-{request.param}"),
                             kustomize(stack, "development"))
    try:
        run.start()
    except BaseException:
        run.close()
        raise
    yield run
    run.close()


def deployments(kube):
    return [name for name, obj in kube.workloads.items() if obj["kind"] == "Deployment"]


def only_container(kube, name):
    spec = pod_spec(kube.workloads[name])
    (container,) = spec["containers"]
    return container, spec


def mounted_volume(kube, name, mount_path):
    """The directory on this machine behind a container's mount (a claim's volume or a host path)."""
    container, spec = only_container(kube, name)
    (mount,) = [mount for mount in container["volumeMounts"] if mount["mountPath"] == mount_path]
    (volume,) = [volume for volume in spec["volumes"] if volume["name"] == mount["name"]]
    if "persistentVolumeClaim" in volume:
        return kube.volume(volume["persistentVolumeClaim"]["claimName"])
    return kube.host_path(volume["hostPath"]["path"])


@pytest.mark.parametrize("kube", list(ANSWER_SETS), indirect=True)
def test_kube_play_pods_run_with_the_rendered_security_context(kube):
    answers = load_yaml(kube.stack / ".copier-answers.yml")
    for name in deployments(kube):
        container, spec = only_container(kube, name)
        status = kube.process_status(name)
        uid, gid = effective(container, spec, "runAsUser"), effective(container, spec, "runAsGroup")
        assert (uid, gid) == (answers["run_as_uid"], answers["run_as_gid"]), f"{name} runs as the stack's account"
        pod = spec.get("securityContext", {})
        assert status["Uid"].split() == [str(uid)] * 4 and status["Gid"].split() == [str(gid)] * 4, name
        groups = {gid, *pod.get("supplementalGroups", []), *([pod["fsGroup"]] if "fsGroup" in pod else [])}
        assert set(map(int, status["Groups"].split())) == groups, name
        if effective(container, spec, "runAsNonRoot"):
            assert uid != 0, name
        capabilities = container.get("securityContext", {}).get("capabilities", {})
        dropped, added = set(capabilities.get("drop", [])), set(capabilities.get("add", []))
        assert "ALL" in dropped, f"{name} drops every capability (Spin's rule)"
        assert kubeplay.capability_names(status["CapBnd"]) == added, (name, status["CapBnd"])
        for field in ("CapEff", "CapPrm", "CapInh", "CapAmb"):
            assert kubeplay.capability_names(status[field]) <= added, (name, field, status[field])
        assert container["securityContext"]["allowPrivilegeEscalation"] is False, name
        assert status["NoNewPrivs"] == "1", name
        if (effective(container, spec, "seccompProfile") or {}).get("type") == "RuntimeDefault":
            assert status["Seccomp"] == "2", name
        read_only = container.get("securityContext", {}).get("readOnlyRootFilesystem", False)
        assert ("ro" in kube.root_mount_options(name)) == read_only, name


@pytest.mark.parametrize("kube", list(ANSWER_SETS), indirect=True)
def test_kube_play_pods_answer_their_probes_without_a_restart(kube):
    for name in deployments(kube):
        container, _ = only_container(kube, name)
        probes = [kind for kind in kubeplay.PROBES if kind in container]
        assert "readinessProbe" in probes and "livenessProbe" in probes, name
        for kind in probes:
            succeeded, answer = kube.probe(name, container[kind], wait=10)
            assert succeeded, (name, kind, answer)
        assert kube.podman.inspect(kube.container(name))["RestartCount"] == 0, (name, kube.logs(name))


@pytest.mark.parametrize("kube", sets_with("web", "app"), indirect=True)
def test_kube_play_web_answers_and_proxies_to_the_app(kube):
    web, _ = only_container(kube, "web")
    health = web["readinessProbe"]["httpGet"]
    port = kubeplay.named_port(web, health["port"])
    web_url = f"http://{kube.play.addresses['web']}:{port}"
    assert kube.podman.reach(web_url + health["path"]) == (200, "ok\n")
    status, body = kube.podman.reach(web_url + "/")
    app, _ = only_container(kube, "app")
    app_url = f"http://{kube.play.addresses['app']}:{kubeplay.named_port(app, 'http')}"
    assert (status, body) == kube.podman.reach(app_url + "/"), "web passes / to the app"
    assert kube.podman.reach(app_url + app["readinessProbe"]["httpGet"]["path"]) == (200, "ok\n")
    reply = json.loads(body)
    env = container_env(app)
    assert reply["service"] == "app" and reply["stack"] == env["STACK_NAME"]
    projected = [item["path"] for volume in pod_spec(kube.workloads["app"]).get("volumes", [])
                 for source in volume.get("projected", {}).get("sources", []) for item in source["secret"]["items"]]
    assert reply["secrets"] == sorted(projected)
    if "DB_PASSWORD_FILE" in env:
        assert reply["database"]["password_file_readable"] is True


@pytest.mark.parametrize("kube", sets_with("app"), indirect=True)
def test_kube_play_app_reads_and_writes_its_host_paths_as_rendered(kube):
    app, spec = only_container(kube, "app")
    host_paths = {volume["name"] for volume in spec.get("volumes", []) if "hostPath" in volume}
    for mount in (mount for mount in app.get("volumeMounts", []) if mount["name"] in host_paths):
        (mounted_volume(kube, "app", mount["mountPath"]) / "probe.txt").write_text("on the global file system\n")
        read = kube.exec("app", "cat", f"{mount['mountPath']}/probe.txt")
        assert read.stdout == "on the global file system\n", read.stderr
        write = kube.exec("app", "touch", f"{mount['mountPath']}/written")
        assert (write.returncode == 0) == (not mount.get("readOnly", False)), write.stderr


@dataclass(frozen=True)
class Client:
    """How the app's connection is made, per db_engine: the client of the db's image, run
    in the app's pod with the app's env and the password in $password."""
    connect: str  # a shell command that runs the SQL that follows it
    user_variable: str  # the db image's variable that names the app's user
    who: str  # SQL that prints "<user> <database>"
    refusal: str  # what the server says to a wrong password
    dump_has: tuple  # what the job's dump holds besides the app's rows


CLIENTS = {
    "postgres": Client(
        'PGPASSWORD="$password" psql --host="$DB_HOST" --port="$DB_PORT" --username="$DB_USER" --dbname="$DB_NAME"'
        ' -X -A -t -v ON_ERROR_STOP=1 -c', "POSTGRES_USER", "SELECT current_user || ' ' || current_database()",
        'password authentication failed for user "{user}"',
        ("CREATE DATABASE {database}", "CREATE ROLE {user}")),  # pg_dumpall: every database, and the roles
    "mariadb": Client(
        'MYSQL_PWD="$password" mariadb --host="$DB_HOST" --port="$DB_PORT" --user="$DB_USER" --database="$DB_NAME"'
        ' --batch --skip-column-names -e', "MARIADB_USER",
        "SELECT CONCAT(SUBSTRING_INDEX(CURRENT_USER(), '@', 1), ' ', DATABASE())",
        "Access denied for user '{user}'@",
        ("CREATE DATABASE /*!32312 IF NOT EXISTS*/ `{database}`",)),  # mariadb-dump --all-databases
}


def engine_of(kube):
    return load_yaml(kube.stack / ".copier-answers.yml")["db_engine"]


def sql_as_the_app(kube, statement, password='"$(cat "$DB_PASSWORD_FILE")"'):
    """Run SQL as the app connects (its pod, env and password file, unless told another password)."""
    db, _ = only_container(kube, "db")
    script = f"password={password}; {CLIENTS[engine_of(kube)].connect} {shlex.quote(statement)}"
    return kube.run_beside("app", kube.play.images[db["image"]], script)


@pytest.mark.parametrize("kube", sets_with("app", "db"), indirect=True)
def test_kube_play_database_takes_the_app_password_from_its_secret_file(kube):
    client = CLIENTS[engine_of(kube)]
    app_env = container_env(only_container(kube, "app")[0])
    db_env = container_env(only_container(kube, "db")[0])
    assert (app_env["DB_USER"], app_env["DB_NAME"]) == \
        (db_env[client.user_variable], db_env[DATABASE_VARIABLE[engine_of(kube)]])
    connected = sql_as_the_app(kube, client.who)
    assert connected.stdout.strip() == f"{app_env['DB_USER']} {app_env['DB_NAME']}", connected.stderr
    refused = sql_as_the_app(kube, "SELECT 1", password="not-the-password")
    assert refused.returncode != 0 and client.refusal.format(user=app_env["DB_USER"]) in refused.stderr


def redis_as_the_app(kube, *command):
    kv, _ = only_container(kube, "kv")
    result = kube.run_beside("app", kube.play.images[kv["image"]],
                             'redis-cli -u "$REDIS_URL" ' + shlex.join(command))
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout.strip()


@pytest.mark.parametrize("kube", sets_with("app", "kv", kv_persist=True), indirect=True)
def test_kube_play_persistent_kv_keeps_the_app_data_through_a_recreate(kube):
    value = secrets.token_hex(8)
    assert redis_as_the_app(kube, "SET", "kube-play-probe", value) == "OK"
    kube.recreate("kv")
    assert redis_as_the_app(kube, "GET", "kube-play-probe") == value


@pytest.mark.parametrize("kube", sets_with("db", "util"), indirect=True)
def test_kube_play_util_job_writes_a_dump_and_keeps_the_retention(kube):
    util, spec = only_container(kube, "util")
    (backup,) = [mount for mount in util["volumeMounts"]
                 if not mount.get("readOnly") and not mount["mountPath"].startswith("/run/secrets")]
    directory = mounted_volume(kube, "util", backup["mountPath"])
    db_env = container_env(only_container(kube, "db")[0])
    engine = engine_of(kube)
    client = CLIENTS[engine]
    dbname = db_env[DATABASE_VARIABLE[engine]]
    keep_days = load_yaml(kube.stack / ".copier-answers.yml")["backup_keep_days"]
    owner = (effective(util, spec, "runAsUser"), effective(util, spec, "runAsGroup"))
    files = seed_old_files(directory, dbname, SUFFIX[engine], keep_days, owner)
    row = f"probe-row-{secrets.token_hex(4)}"
    inserted = sql_as_the_app(kube, f"CREATE TABLE kube_play (name text); INSERT INTO kube_play VALUES ('{row}')")
    assert inserted.returncode == 0, inserted.stdout + inserted.stderr
    kv_persists = "kv" in kube.workloads and any(mount["mountPath"] == "/kv" for mount in util["volumeMounts"])
    if kv_persists:
        assert redis_as_the_app(kube, "SAVE") == "OK"
    status, log = kube.run_job("util")
    assert status == 0, log
    before = {path.name for path in files.values()}
    dump = new_dump(directory, dbname, SUFFIX[engine], before)
    assert (dump.stat().st_uid, dump.stat().st_gid) == owner
    text = gzip.decompress(dump.read_bytes()).decode()
    for expected in client.dump_has:
        assert expected.format(database=dbname, user=db_env[client.user_variable]) in text, expected
    assert row in text
    if kv_persists:
        snapshot = new_dump(directory, f"{dbname}-kv", ".rdb.gz", before)
        assert gzip.decompress(snapshot.read_bytes()) == (mounted_volume(kube, "util", "/kv") / "dump.rdb").read_bytes()
    assert_retention(files, keep_days)
