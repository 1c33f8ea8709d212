"""Each official image that starts as root on Rancher 1.6 (db, kv) gets exactly the capabilities
its entrypoint's root phase needs: the steps of that phase (from the images' docker-entrypoint.sh)
run as root with the capabilities the rendered docker-compose.yml adds back, on files laid out as
a restarted service finds them, and fail when any one of them is taken away.

The steps, by image (what docker-entrypoint.sh does before `exec gosu <account>`):
- postgres: reads the *_FILE secrets (file_env), `chmod 700 "$PGDATA"` (postgres refuses a data
  directory of another mode, e.g. one restored by hand), `find "$PGDATA" \\! -user postgres -exec
  chown postgres`, then gosu.
- mysql, mariadb: read the *_FILE secrets, `find "$DATADIR" \\! -user mysql -exec chown mysql`
  through the server's own 0750 directories, then gosu.
- mongo: `find /data/db \\! -user mongodb -exec chown mongodb`, then gosu; it reads its *_FILE
  secret after the switch, as mongodb.
- redis: with a data volume, `find . \\! -user redis -exec chown redis`, then gosu; as a cache only gosu.
"""

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
import yaml

from stackkit import minimal_answers

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("setpriv"),
                                reason="needs root and setpriv (util-linux) to run steps with chosen capabilities")

GOSU = "setpriv --reuid={uid} --regid={uid} --clear-groups true"
CHOWN_ALL = "find {data} ! -user {uid} -exec chown {uid} {{}} +"
STEPS = {
    "postgres": ["cat {secret} >/dev/null", "chmod 700 {data}", CHOWN_ALL, GOSU],
    "mysql": ["cat {secret} >/dev/null", CHOWN_ALL, GOSU],
    "mariadb": ["cat {secret} >/dev/null", CHOWN_ALL, GOSU],
    "mongodb": [CHOWN_ALL, GOSU, "setpriv --reuid={uid} --regid={uid} --clear-groups cat {secret} >/dev/null"],
    "kv-persist": [CHOWN_ALL, GOSU],
    "kv-cache": [GOSU],
}
# How the server leaves its data directory: (mode of the directory, of its subdirectories).
DATA_MODES = {"postgres": (0o755, 0o700), "mysql": (0o750, 0o750), "mariadb": (0o750, 0o750),
              "mongodb": (0o755, 0o755), "kv-persist": (0o755, 0o755), "kv-cache": (0o755, 0o755)}

CASES = {
    "postgres": (dict(services=["db"], db_engine="postgres"), "db"),
    "mysql": (dict(services=["db"], db_engine="mysql"), "db"),
    "mariadb": (dict(services=["db"], db_engine="mariadb"), "db"),
    "mongodb": (dict(services=["db"], db_engine="mongodb"), "db"),
    "kv-persist": (dict(services=["kv"], kv_persist=True), "kv"),
    "kv-cache": (dict(services=["kv"], kv_persist=False), "kv"),
}


@pytest.fixture(scope="module")
def services(render):
    found = {}
    for case, (answers, role) in CASES.items():
        stack = render(minimal_answers(**answers))
        found[case] = yaml.safe_load((stack / "docker-compose.yml").read_text())["services"][role]
    return found


def lay_out(case, service, root):
    """A restarted service's files: data owned by the image's account (with one new file of
    root's), its secret as the compose file mounts it."""
    uid = 999
    data = root / "data"
    sub = data / "base"
    sub.mkdir(parents=True)
    (sub / "table").write_text("rows\n")
    (data / "fresh").write_text("written by root\n")
    for path in (sub / "table",):
        os.chown(path, uid, uid)
    os.chown(sub, uid, uid)
    os.chown(data, uid, uid)
    os.chown(data / "fresh", 0, 0)
    data_mode, sub_mode = DATA_MODES[case]
    sub.chmod(sub_mode)
    data.chmod(data_mode)
    secret = root / "secret"
    secret.write_text("s3cret\n")
    mounted = (service.get("secrets") or [{"uid": "0", "gid": "0", "mode": "0400"}])[0]
    os.chown(secret, int(mounted["uid"]), int(mounted["gid"]))
    secret.chmod(int(mounted["mode"], 8))
    root.chmod(0o755)
    return {"data": data, "secret": secret, "uid": uid}


def run_steps(case, service, capabilities):
    """The entrypoint's root phase, as root holding only `capabilities`; its exit status."""
    root = Path(tempfile.mkdtemp(prefix=f"entrypoint-{case}-"))
    try:
        places = lay_out(case, service, root)
        script = " && ".join(step.format(**places) for step in STEPS[case])
        bounding = ",".join(["-all"] + [f"+{cap.lower()}" for cap in capabilities])
        result = subprocess.run(["setpriv", f"--bounding-set={bounding}", "--inh-caps=-all", "--", "sh", "-c", script],
                                capture_output=True, text=True)
        return result.returncode, result.stderr
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.mark.parametrize("case", CASES)
def test_the_root_phase_runs_with_the_rendered_capabilities(services, case):
    service = services[case]
    assert service["cap_drop"] == ["ALL"]
    code, err = run_steps(case, service, service.get("cap_add", []))
    assert code == 0, err


@pytest.mark.parametrize("case", CASES)
def test_each_rendered_capability_is_needed(services, case):
    added = services[case].get("cap_add", [])
    assert added, "every image that starts as root needs some capability"
    for capability in added:
        code, _ = run_steps(case, services[case], [cap for cap in added if cap != capability])
        assert code != 0, f"{case} runs without {capability}: it should not be added"


def test_mongodb_needs_less_than_the_sql_engines(services):
    assert services["mongodb"]["cap_add"] == ["CHOWN", "SETGID", "SETUID"]
    assert services["postgres"]["cap_add"] == ["CHOWN", "DAC_OVERRIDE", "FOWNER", "SETGID", "SETUID"]
    assert services["mysql"]["cap_add"] == services["mariadb"]["cap_add"] == ["CHOWN", "DAC_OVERRIDE", "SETGID", "SETUID"]
