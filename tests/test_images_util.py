"""The util job's nightly line, exactly as docker-compose.yml's `command` gives
it (compose's `$$` unescaped), run as the util service runs it in a stand-in of
its image (imagekit.py) against a real database server of this machine
(dbservers.py) on the stack's network: it writes a compressed dump of every
database, named as the README says, into the job's volume, and deletes only its
own dumps backup_keep_days old or older. MongoDB's mongodump, which Debian lacks, is a stand-in
that records its arguments. Needs root, buildah, mmdebstrap, postgresql and
mariadb-server."""

import gzip
import secrets

import pytest

import dbservers
import imagekit
from backups import DATABASE_VARIABLE, SUFFIX, assert_retention, new_dump, seed_old_files
from stack_checks import load_yaml
from stackkit import EXAMPLES, load_example, minimal_answers

pytestmark = [pytest.mark.images, pytest.mark.skipif(bool(imagekit.missing()), reason=imagekit.missing())]

EXAMPLE_JOBS = [path.stem for path in EXAMPLES if "util" in load_example(path)["services"]]


@pytest.fixture
def util_stack(image_store, tmp_path):
    """util_stack(stack, password) -> the util service (in the stand-in of its image)
    and db's address on one network, and the compose services."""
    runs = []

    def start(stack, password):
        services = imagekit.compose_services(stack)
        image = image_store.base(imagekit.standin_for(services["util"]["image"]))
        passwords = {secret["target"]: password for secret in services["util"].get("secrets", [])}
        runs.append(imagekit.StackRun(image_store, stack, {"util": image}, ["db", "util"], tmp_path, passwords))
        return runs[-1], services
    yield start
    for run in runs:
        run.close()


def dump_volume(run, services):
    """The host directory behind the job's writable volume, where the dumps go."""
    target = next(volume.split(":")[1] for volume in services["util"]["volumes"] if not volume.endswith(":ro"))
    return run.volume("util", target)


def answered_keep_days(stack):
    return load_yaml(stack / ".copier-answers.yml")["backup_keep_days"]


def start_server(engine, run, services, password):
    environment = services["db"]["environment"]
    netns = run.network.netns("db")
    database = environment[DATABASE_VARIABLE[engine]]
    if engine == "postgres":
        server = dbservers.Postgres(netns, environment["POSTGRES_USER"], database, password)
        server.sql(database, "CREATE TABLE samples (name text); INSERT INTO samples VALUES ('probe-row')")
    else:
        server = dbservers.MariaDB(netns, database, password)
        server.sql("CREATE TABLE samples (name text); INSERT INTO samples VALUES ('probe-row')", database)
    return server


@pytest.mark.parametrize("name", EXAMPLE_JOBS)
def test_example_util_job_dumps_the_database_and_expires_old_dumps(rendered_examples, util_stack, name):
    answers = load_example(next(path for path in EXAMPLES if path.stem == name))
    engine = answers["db_engine"]
    if dbservers.missing(engine):
        pytest.skip(dbservers.missing(engine))
    stack = rendered_examples[name]
    password = secrets.token_hex(12)
    run, services = util_stack(stack, password)
    dbname = services["db"]["environment"][DATABASE_VARIABLE[engine]]
    directory = dump_volume(run, services)
    keep_days = answered_keep_days(stack)
    files = seed_old_files(directory, dbname, SUFFIX[engine], keep_days)
    server = start_server(engine, run, services, password)
    try:
        status, output = run.run("util", timeout=180)
    finally:
        server.stop()
    assert status == 0, output
    dump = new_dump(directory, dbname, SUFFIX[engine], {path.name for path in files.values()})
    assert (dump.stat().st_uid, dump.stat().st_gid) == (answers["run_as_uid"], answers["run_as_gid"])
    text = gzip.decompress(dump.read_bytes()).decode()
    if engine == "postgres":  # pg_dumpall: every database, and the roles
        assert f"CREATE DATABASE {dbname}" in text and "CREATE ROLE app" in text and "probe-row" in text
    else:
        assert f"CREATE DATABASE /*!32312 IF NOT EXISTS*/ `{dbname}`" in text and "probe-row" in text
    assert_retention(files, keep_days)


def test_mongodb_job_calls_mongodump_with_the_root_password_into_the_volume(render, util_stack):
    stack = render(minimal_answers(stack_name="mongo-job", services=["db", "util"], db_engine="mongodb"))
    password = secrets.token_hex(12)
    run, services = util_stack(stack, password)
    directory = dump_volume(run, services)
    keep_days = answered_keep_days(stack)
    files = seed_old_files(directory, "mongo_job", ".archive.gz", keep_days)
    status, output = run.run("util")
    assert status == 0, output
    dump = new_dump(directory, "mongo_job", ".archive.gz", {path.name for path in files.values()})
    assert dump.read_text().splitlines() == [  # the password on standard input, not in the arguments
        "--host=db", "--username=admin", "--authenticationDatabase=admin", "--gzip",
        f"--archive=/backup/{dump.name}", f"stdin: {password}"]
    assert_retention(files, keep_days)


def test_job_without_a_database_reports_its_mounts(render, util_stack):
    stack = render(minimal_answers(stack_name="plain-job", services=["util"], gpfs_mounts=[
        {"service": "util", "host_path": "/global/cfs/cdirs/genome/inbox", "container_path": "/inbox"}]))
    run, services = util_stack(stack, "unused")
    (run.volume("util", "/inbox") / "sample-42.fastq").write_text("@r1\n")
    status, output = run.run("util")
    assert status == 0, output
    assert "sample-42.fastq" in output and "/inbox" in output


def test_kv_job_copies_the_latest_snapshot_and_keeps_the_answered_days(render, util_stack):
    stack = render(minimal_answers(stack_name="cache-job", services=["kv", "util"], kv_persist=True,
                                   backup_keep_days=3))
    run, services = util_stack(stack, "unused")
    directory = dump_volume(run, services)
    snapshot = bytes(range(256)) * 64
    (run.volume("util", "/kv") / "dump.rdb").write_bytes(snapshot)
    files = seed_old_files(directory, "cache_job-kv", ".rdb.gz", 3)
    status, output = run.run("util")
    assert status == 0, output
    dump = new_dump(directory, "cache_job-kv", ".rdb.gz", {path.name for path in files.values()})
    assert gzip.decompress(dump.read_bytes()) == snapshot
    assert_retention(files, 3)
