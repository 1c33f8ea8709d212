"""What a user of NERSC's recipes keeps (issue "Parity with NERSC's own recipes"), on both
platforms: a persistent Redis backed up with the database, a dump job whose schedule and
retention are answers, every dump compressed and no password on a command line, secret names
that do not move when a service starts or stops reading them, the database reachable from NERSC
networks on request, util free to write in a public stack, and moving image tags pulled at every
start."""

import re
import shlex

import pytest
import yaml
from copier import run_copy

from stackkit import minimal_answers, section
from terminal import refusal_fits

PLATFORMS = ["rancher1", "rancher2"]


def compose(stack):
    return yaml.safe_load((stack / "docker-compose.yml").read_text())["services"]


def objects(stack):
    return [obj for path in sorted((stack / "k8s" / "base").glob("*.yaml"))
            for obj in yaml.safe_load_all(path.read_text()) if obj and obj["kind"] != "Kustomization"]


def workload(stack, name):
    (obj,) = [o for o in objects(stack) if o["metadata"]["name"] == name and o["kind"] in ("Deployment", "CronJob")]
    spec = obj["spec"]["template"]["spec"] if obj["kind"] == "Deployment" else \
        obj["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return obj, spec, spec["containers"][0]


def util_script(stack):
    if (stack / "docker-compose.yml").exists():
        return compose(stack)["util"]["command"][2]
    return workload(stack, "util")[2]["command"][2]


def refused(template_repo, tmp_path, answers, question):
    dst = tmp_path / "refused"
    with pytest.raises(ValueError, match=rf"question '{question}'") as error:
        run_copy(str(template_repo), dst, data=answers, defaults=True, quiet=True, unsafe=False)
    assert not dst.exists()
    assert refusal_fits(str(error.value)), str(error.value)
    return str(error.value)


# kv_persist


def test_a_cache_has_no_volume_and_a_persistent_kv_keeps_its_data(render):
    cache = compose(render(minimal_answers(services=["kv"])))["kv"]
    assert cache["command"] == ["redis-server", "--save", "", "--appendonly", "no"] and "volumes" not in cache
    assert cache["cap_add"] == ["SETGID", "SETUID"]
    stack = render(minimal_answers(stack_name="lims", services=["kv", "util"], kv_persist=True))
    kv = compose(stack)["kv"]
    assert "command" not in kv and kv["volumes"] == ["kv.lims:/data"] and kv["cap_add"] == ["CHOWN", "SETGID", "SETUID"]
    assert "kv.lims" in yaml.safe_load((stack / "docker-compose.yml").read_text())["volumes"]
    assert compose(stack)["util"]["volumes"] == ["util.lims:/backup", "kv.lims:/kv:ro"]
    assert "gzip -c /kv/dump.rdb > /backup/lims-kv-$${stamp}.rdb.gz" in util_script(stack)


def test_a_persistent_kv_on_kubernetes_keeps_its_data_on_a_claim_util_reads(render):
    stack = render(minimal_answers(platform="rancher2", stack_name="lims", services=["kv", "util"], kv_persist=True))
    claims = {o["metadata"]["name"] for o in objects(stack) if o["kind"] == "PersistentVolumeClaim"}
    assert claims == {"kv.lims", "util.lims"}
    _, spec, container = workload(stack, "kv")
    assert "args" not in container
    assert {v["persistentVolumeClaim"]["claimName"] for v in spec["volumes"]} == {"kv.lims"}
    _, spec, container = workload(stack, "util")
    mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
    assert mounts["/kv"].get("readOnly") is True and mounts["/backup"].get("readOnly") is None
    cache = workload(render(minimal_answers(platform="rancher2", services=["kv"])), "kv")[2]
    assert cache["args"] == ["redis-server", "--save", "", "--appendonly", "no"]


# backup_schedule and backup_keep_days


@pytest.mark.parametrize("schedule, five", [("0 0 9 * * *", "0 9 * * *"), ("0 30 2 * * MON-FRI", "30 2 * * MON-FRI"),
                                            ("15 */10 * 1,15 JAN-JUN ?", "*/10 * 1,15 JAN-JUN ?"),
                                            ("59 59 23 31 12 6", "59 23 31 12 6"), ("0 0 0 1 DEC SAT", "0 0 1 DEC SAT")])
def test_the_schedule_reaches_rancher_as_six_fields_and_kubernetes_as_five(render, schedule, five):
    answers = minimal_answers(services=["db", "util"], backup_schedule=schedule)
    assert compose(render(answers))["util"]["labels"]["cron.schedule"] == schedule
    cronjob = workload(render(dict(answers, platform="rancher2")), "util")[0]
    assert cronjob["spec"]["schedule"] == five and cronjob["spec"]["timeZone"] == "Etc/UTC"


@pytest.mark.parametrize("schedule", ["0 0 9 * *", "* 0 9 * * *", "0 0 25 * * *", "0 60 9 * * *", "0 0 9 0 * *",
                                      "0 0 9 * 13 *", "0 0 9 * * 7", "0 0 9-5 * * *", "0 0 */0 * * *", "0 0 9 * * FOO",
                                      "0 0 9 * * *; rm -rf /", "0 0 9 * * $(id)", "@daily", "", "0 0 9 * * *\n0",
                                      "60 0 9 * * *", "0 0 24 * * *", "0 0 9 32 * *", "0 0 9 * 0 *"])
def test_a_schedule_rancher_would_refuse_is_refused(template_repo, tmp_path, schedule):
    refused(template_repo, tmp_path, minimal_answers(services=["util"], backup_schedule=schedule), "backup_schedule")


@pytest.mark.parametrize("schedule, rule", [
    ("0 0 9 * *", "6 fields, e.g. 0 0 9 * * *"), ("60 0 9 * * *", "seconds: one number, 0-59"),
    ("*/5 0 9 * * *", "seconds: one number, 0-59"), ("0 60 9 * * *", "minute: must be 0-59"),
    ("0 0 24 * * *", "hour: must be 0-23"), ("0 0 9 32 * *", "day: must be 1-31"),
    ("0 0 9 * 13 *", "month: must be 1-12 or JAN-DEC"), ("0 0 9 * * 7", "weekday: must be 0-6 or SUN-SAT"),
    ("0 0 9-5 * * *", "hour: range runs backwards"), ("0 0 */0 * * *", "hour: bad step, use /N"),
    ("0 0 9 * * FOO", "weekday: use *, N, A-B, lists"),
])
def test_a_refused_schedule_says_which_field_breaks_which_rule(template_repo, tmp_path, schedule, rule):
    message = refused(template_repo, tmp_path, minimal_answers(services=["util"], backup_schedule=schedule),
                      "backup_schedule")
    assert message.endswith(": " + rule), message


@pytest.mark.parametrize("days, pruned", [(14, "-mtime +13"), (1, "-mtime +0"), (36500, "-mtime +36499")])
def test_dumps_are_pruned_after_the_answered_days(render, days, pruned):
    script = util_script(render(minimal_answers(stack_name="s", services=["db", "util"], backup_keep_days=days)))
    assert script.endswith(f"find /backup -name 's-*' {pruned} -delete")


def test_zero_days_keeps_every_dump(render):
    for platform in PLATFORMS:
        stack = render(minimal_answers(platform=platform, services=["db", "util"], backup_keep_days=0))
        assert "find" not in util_script(stack) and "keeps every dump" in (stack / "README.md").read_text()


@pytest.mark.parametrize("days", [-1, 36501, "two", "14; rm -rf /"])
def test_bad_retention_is_refused(template_repo, tmp_path, days):
    with pytest.raises(ValueError, match="backup_keep_days|invalid literal"):
        run_copy(str(template_repo), tmp_path / "x", data=minimal_answers(services=["util"], backup_keep_days=days),
                 defaults=True, quiet=True, unsafe=False)
    assert not (tmp_path / "x").exists()


# Every store backed up, compressed, no password on a command line


ENGINES = {"postgres": ("pg_dumpall", ".sql.gz"), "mysql": ("mysqldump", ".sql.gz"),
           "mariadb": ("mariadb-dump", ".sql.gz"), "mongodb": ("mongodump", ".archive.gz")}


def commands(script):
    """The simple commands of the job's one line, as the shell splits them (after $$ -> $)."""
    return [shlex.split(part) for part in script.replace("$$", "$").split("; ") if part]


@pytest.mark.parametrize("platform", PLATFORMS)
@pytest.mark.parametrize("engine", ENGINES)
def test_every_database_is_dumped_compressed_without_a_password_in_argv(render, platform, engine):
    stack = render(minimal_answers(platform=platform, stack_name="lims", services=["db", "kv", "util"],
                                   db_engine=engine, kv_persist=True))
    tool, suffix = ENGINES[engine]
    script = util_script(stack)
    assert f"lims-${{stamp}}{suffix}" in script.replace("$$", "$") or "lims-${stamp}.sql" in script.replace("$$", "$")
    for words in commands(script):
        for position, word in enumerate(words):
            if "/run/secrets/" in word and "$(cat" in word:
                # a secret is read only into an environment variable set for that one command
                assert all("=" in w for w in words[:position + 1]) and word.split("=", 1)[0].isupper(), words
            assert not word.startswith(("--password", "-p")), words
    (dump,) = [words for words in commands(script) if words and (tool in words or any(w.endswith(tool) for w in words))]
    if engine == "mongodb":
        assert "--gzip" in dump and dump[-2:] == ["<", "/run/secrets/mongo_root_password"]
    else:
        assert ["gzip", "/backup/lims-${stamp}.sql"] in commands(script)
    if engine in ("mysql", "mariadb"):
        assert "--all-databases" in dump
    assert "rdb.gz" in script, "kv, persistent, is backed up too"


@pytest.mark.parametrize("platform", PLATFORMS)
@pytest.mark.parametrize("engine", ENGINES)
def test_the_readme_names_every_file_the_util_job_leaves(render, platform, engine):
    """The README's "Scheduled job" names the database dump and the kv snapshot as the job writes them
    (gzip adds .gz to a .sql it compresses), and the dump's line the tool that makes it and how to restore it."""
    stack = render(minimal_answers(platform=platform, stack_name="lims", services=["db", "kv", "util"],
                                   db_engine=engine, kv_persist=True))
    script = util_script(stack).replace("$$", "$")
    left = {(name, ext if ext.endswith(".gz") else ext + ".gz")
            for name, ext in re.findall(r"/backup/([\w.-]+)-\$\{stamp\}((?:\.\w+)+)", script)}
    assert left == {("lims", ENGINES[engine][1]), ("lims-kv", ".rdb.gz")}, left
    readme = (stack / "README.md").read_text()
    for name, ext in left:
        assert f"`{name}-<time>{ext}`" in readme, (name, ext)
    dump = next(line for line in readme.splitlines() if "`lims-<time>." in line)
    tool = next(tool for tool in ("pg_dumpall", "mysqldump", "mariadb-dump", "mongodump") if tool in script)
    assert re.search(rf"`{tool}[ `]", dump) and "restore with `" in dump, (tool, dump)


def dumps_paragraph(stack):
    """The paragraph of the README's "Scheduled job" that says where the dumps sit."""
    job = section((stack / "README.md").read_text(), "## Scheduled job")
    return next(block for block in job.split("\n\n") if "The dumps " in block).replace("\n", " ")


def test_a_rancher1_readme_says_the_dumps_share_the_datas_storage_and_how_to_keep_them_elsewhere(render):
    """On Rancher NFS the dumps go where the data is; the README gives the answer that moves them to the
    global file system, and that answer, with a project's directory, is one the template takes."""
    answers = minimal_answers(stack_name="lims", services=["app", "db", "util"], db_engine="postgres")
    paragraph = dumps_paragraph(render(answers))
    assert "The dumps sit on Rancher NFS, like the database's own volume" in paragraph
    (advice,) = re.findall(r"To keep copies elsewhere, give util a writable global file system directory "
                           r"\(`gpfs_mounts: (util:[^`]+)`\), which it then writes into instead\.", paragraph)
    moved = render(dict(answers, gpfs_mounts=advice.replace("PROJECT", "genome")))
    assert "rsync -a /global/cfs/cdirs/genome/dumps/ DEST/" in dumps_paragraph(moved)
    assert "Rancher NFS" not in dumps_paragraph(moved)


def test_a_rancher2_readme_says_the_dumps_share_the_datas_storage_and_how_to_copy_them_off(render):
    stack = render(minimal_answers(platform="rancher2", stack_name="lims", services=["app", "db", "util"],
                                   db_engine="postgres"))
    paragraph = dumps_paragraph(stack)
    assert "same storage as the data they protect" in paragraph and "`make dumps`" in paragraph
    assert "kubectl --namespace lims cp dumps-reader:/backup dumps" in paragraph


@pytest.mark.parametrize("platform", PLATFORMS)
@pytest.mark.parametrize("engine", ENGINES)
def test_only_postgres_on_kubernetes_keeps_its_data_in_a_subdirectory_of_the_volume(render, platform, engine):
    """On a claim, postgres (as non-root) initialises a fresh subdirectory: it may not chmod the claim's root.
    Elsewhere the data stays at the volume's root, where a Rancher 1.6 stack's data already is."""
    stack = render(minimal_answers(platform=platform, stack_name="lims", services=["db"], db_engine=engine))
    if platform == "rancher1":
        environment = compose(stack)["db"].get("environment", {})
    else:
        environment = {item["name"]: item["value"] for item in workload(stack, "db")[2].get("env", [])}
    if platform == "rancher2" and engine == "postgres":
        assert environment["PGDATA"] == "/var/lib/postgresql/data/pgdata"
    else:
        assert "PGDATA" not in environment


def test_postgres_dumps_every_database(render):
    script = util_script(render(minimal_answers(services=["db", "util"], db_engine="postgres")))
    assert "pg_dumpall --host=db --username=app" in script and "pg_dump " not in script


# Stable secret names


@pytest.mark.parametrize("platform", PLATFORMS)
@pytest.mark.parametrize("engine", ENGINES)
def test_database_passwords_keep_their_names_whoever_reads_them(render, platform, engine):
    names = []
    for services in (["db"], ["db", "app"], ["db", "app", "api", "util"]):
        stack = render(minimal_answers(platform=platform, stack_name="myportal", services=services, db_engine=engine))
        if platform == "rancher1":
            declared = yaml.safe_load((stack / "docker-compose.yml").read_text())["secrets"]
            names.append(sorted(declared))
        else:
            makefile = (stack / "Makefile").read_text()
            names.append(sorted(word for line in makefile.splitlines() if "create secret generic" in line
                                for word in line.split() if word.startswith("db.myportal.")))
    assert names[0] == names[1] == names[2] and names[0]
    assert all(name.startswith("db.myportal.") for name in names[0])


# The database from NERSC networks


@pytest.mark.parametrize("engine, port", [("postgres", 5432), ("mysql", 3306), ("mariadb", 3306), ("mongodb", 27017)])
def test_the_database_opens_its_port_to_nersc_on_request(render, engine, port):
    answers = minimal_answers(stack_name="lims", services=["db"], db_engine=engine, access="private")
    assert "ports" not in compose(render(answers))["db"]
    stack = render(dict(answers, db_nersc_access=True))
    assert compose(stack)["db"]["ports"] == [f"{port}:{port}"]
    assert f"db.lims.dev-cattle.stable.spin.nersc.org:{port}" in (stack / "README.md").read_text()
    k8s = render(dict(answers, db_nersc_access=True, platform="rancher2"))
    (service,) = [o for o in objects(k8s) if o["kind"] == "Service" and o["metadata"]["name"] == "db"]
    assert service["spec"]["type"] == "LoadBalancer" and service["spec"]["ports"][0]["port"] == port
    assert service["spec"]["loadBalancerSourceRanges"] == ["128.55.206.0/24", "128.55.205.0/24", "128.55.64.0/18"]
    assert f"db.lims.development.svc.spin.nersc.org:{port}" in (k8s / "README.md").read_text()


def test_a_public_stack_does_not_open_its_database(template_repo, tmp_path):
    refused(template_repo, tmp_path, minimal_answers(services=["db"], access="public", db_nersc_access=True),
            "db_nersc_access")


# Public access covers the public services


@pytest.mark.parametrize("platform", PLATFORMS)
def test_util_may_write_to_the_global_file_system_in_a_public_stack(render, platform):
    stack = render(minimal_answers(platform=platform, access="public", services=["db", "util"],
                                   gpfs_mounts="util:/global/cfs/cdirs/m1234/dumps:/dumps:rw"))
    assert "/dumps/" in util_script(stack)


@pytest.mark.parametrize("role", ["web", "app", "api"])
def test_public_services_may_not_write_in_a_public_stack(template_repo, tmp_path, role):
    message = refused(template_repo, tmp_path, minimal_answers(
        access="public", services=[role], gpfs_mounts=f"{role}:/global/cfs/cdirs/m1234/data:/data:rw"), "gpfs_mounts")
    assert role in message


# Moving tags


@pytest.mark.parametrize("image, moves", [("postgres:17-alpine", True), ("postgres:17", True), ("postgres:17.2", False),
                                          ("postgres:17.2.1-alpine", False), ("postgres:latest", None),
                                          ("registry.nersc.gov/m1234/postgres:v20260115", False),
                                          ("postgres:alpine", True)])
def test_a_moving_tag_is_pulled_at_every_start(render, template_repo, tmp_path, image, moves):
    answers = minimal_answers(services=["db"], db_engine="postgres", db_image=image)
    if moves is None:
        refused(template_repo, tmp_path, answers, "db_image")
        return
    labels = compose(render(answers))["db"].get("labels") or {}
    assert (labels.get("io.rancher.container.pull_image") == "always") is moves
    policy = workload(render(dict(answers, platform="rancher2")), "db")[2]["imagePullPolicy"]
    assert policy == ("Always" if moves else "IfNotPresent")


def test_the_stacks_own_images_have_explicit_tags_and_are_not_pulled_again(render):
    services = compose(render(minimal_answers(services=["web", "app"], image_tag="v1.2.3")))
    assert not any("labels" in services[role] for role in ("web", "app"))
