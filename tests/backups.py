"""The util job's dumps as the README names them (<database>-<UTC stamp><suffix>, kv's
snapshot as <database>-kv-<stamp>.rdb.gz) and the retention it keeps (its dumps
backup_keep_days days old or older go), shared by the image and kube play tests."""

import os
import re
import time

DAY = 86400
SUFFIX = {"postgres": ".sql.gz", "mysql": ".sql.gz", "mariadb": ".sql.gz", "mongodb": ".archive.gz"}
DATABASE_VARIABLE = {"postgres": "POSTGRES_DB", "mysql": "MYSQL_DATABASE", "mariadb": "MARIADB_DATABASE",
                     "mongodb": "MONGO_INITDB_DATABASE"}


def age(path, days):
    stamp = time.time() - days * DAY
    os.utime(path, (stamp, stamp))


def seed_old_files(directory, prefix, suffix, keep_days, owner=None):
    """Half a day either side of the limit: an expired dump, a recent one, and a file that
    is not the job's (only the first may go); owned by `owner` (uid, gid) when given."""
    files = {"expired": directory / f"{prefix}-20000101T000000Z{suffix}",
             "recent": directory / f"{prefix}-20000102T000000Z{suffix}",
             "foreign": directory / "notes.txt"}
    for name, path in files.items():
        path.write_text(name)
        if owner:
            os.chown(path, *owner)
        age(path, keep_days - 0.5 if name == "recent" else keep_days + 0.5)
    return files


def assert_retention(files, keep_days):
    """The job deleted the expired dump (unless keep_days is 0, which keeps every dump) and nothing else."""
    assert files["expired"].exists() == (keep_days == 0), "dumps backup_keep_days old or older go"
    assert files["recent"].exists() and files["foreign"].exists(), "younger dumps and other files stay"


def new_dump(directory, prefix, suffix, before):
    """The one dump the job wrote (a name it did not have before)."""
    pattern = re.compile(re.escape(prefix) + r"-\d{8}T\d{6}Z" + re.escape(suffix) + r"\Z")
    made = [path for path in directory.iterdir() if pattern.match(path.name) and path.name not in before]
    assert len(made) == 1, sorted(path.name for path in directory.iterdir())
    return made[0]
