"""Database servers of this machine (Debian's postgresql and mariadb-server)
standing in for a stack's db service, so that the util job's dump line runs
against a real server: each is set up the way the official image's entrypoint
sets it up from the compose environment (database, user, password file), and
listens on the db service's address of the stack's network (imagekit.Network).
MongoDB has no Debian package; its job runs a recording mongodump instead."""

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import imagekit

POSTGRES_BIN = (sorted(glob.glob("/usr/lib/postgresql/*/bin")) or [""])[-1]
MARIADB = shutil.which("mariadbd", path=imagekit.SYSTEM_PATH)
APT_PACKAGES = "postgresql mariadb-server-core mariadb-client-core"


def missing(engine):
    """Why no server can stand in for `engine` here, or an empty string."""
    if engine == "postgres" and not POSTGRES_BIN:
        return f"PostgreSQL is not installed (apt-get install {APT_PACKAGES})"
    if engine in ("mysql", "mariadb") and not MARIADB:
        return f"MariaDB is not installed (apt-get install {APT_PACKAGES})"
    return ""


def as_user(name, netns=None):
    """preexec_fn: join the network namespace, then become the machine's account `name`."""
    entry = pwd.getpwnam(name)

    def enter():
        if netns:
            descriptor = os.open(netns, os.O_RDONLY)
            imagekit._sys(imagekit.LIBC.setns(descriptor, imagekit.CLONE_NEWNET), "setns")
            os.close(descriptor)
        os.setgroups([])
        os.setgid(entry.pw_gid)
        os.setuid(entry.pw_uid)
    return enter


class Server:
    """A server process started in the db service's namespace, as the machine's
    account of that server, in a directory of its own; stop() removes both."""

    def __init__(self, account):
        self.scratch = Path(tempfile.mkdtemp(prefix=f"spin-test-{account}-"))
        self.account = account
        self.process = None
        self.log = self.scratch / "server.log"
        entry = pwd.getpwnam(account)
        os.chown(self.scratch, entry.pw_uid, entry.pw_gid)

    def run(self, *argv, input=None):
        result = subprocess.run(argv, preexec_fn=as_user(self.account), input=input, capture_output=True,
                                text=True, cwd=self.scratch)
        assert result.returncode == 0, f"{argv[0]} failed: {result.stdout}{result.stderr}"
        return result.stdout

    def start(self, argv, netns, ready):
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(argv, preexec_fn=as_user(self.account, netns), stdout=log,
                                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                            start_new_session=True, cwd=self.scratch)
        deadline = time.monotonic() + 60
        while not ready():
            assert self.process.poll() is None and time.monotonic() < deadline, self.log.read_text()
            time.sleep(0.2)

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.scratch, ignore_errors=True)


class Postgres(Server):
    """PostgreSQL with POSTGRES_USER, POSTGRES_DB and the password file, open to the network."""

    def __init__(self, netns, user, database, password):
        super().__init__("postgres")
        scratch = self.scratch
        data, self.socket = scratch / "data", scratch / "socket"
        self.socket.mkdir()
        os.chown(self.socket, pwd.getpwnam("postgres").pw_uid, pwd.getpwnam("postgres").pw_gid)
        (scratch / "password").write_text(password)
        os.chown(scratch / "password", pwd.getpwnam("postgres").pw_uid, 0)
        self.run(f"{POSTGRES_BIN}/initdb", "--pgdata", str(data), "--username", user,
                 "--pwfile", str(scratch / "password"), "--auth-local", "trust", "--auth-host", "scram-sha-256")
        with open(data / "pg_hba.conf", "a") as hba:
            hba.write("host all all 0.0.0.0/0 scram-sha-256\n")
        self.user = user
        self.start([f"{POSTGRES_BIN}/postgres", "-D", str(data), "-c", "listen_addresses=*", "-p", "5432",
                    "-c", f"unix_socket_directories={self.socket}"], netns,
                   lambda: (self.socket / ".s.PGSQL.5432").exists())
        self.sql("postgres", f'CREATE DATABASE "{database}"')

    def sql(self, database, statement):
        return self.run(f"{POSTGRES_BIN}/psql", "--host", str(self.socket), "--username", self.user,
                        "--dbname", database, "--no-psqlrc", "--tuples-only", "--set", "ON_ERROR_STOP=1",
                        "--command", statement)


class MariaDB(Server):
    """MariaDB with its database and a root password, root reachable from the network;
    run as nobody (mariadb-server-core, which CI installs, creates no mysql account)."""

    def __init__(self, netns, database, root_password):
        super().__init__("nobody")
        scratch = self.scratch
        data, self.socket = scratch / "data", scratch / "mysqld.sock"
        self.run("mariadb-install-db", f"--datadir={data}", "--user=nobody", "--skip-test-db",
                 "--auth-root-authentication-method=normal")
        self.start([MARIADB, "--no-defaults", f"--datadir={data}", f"--socket={self.socket}", "--port=3306",
                    "--bind-address=0.0.0.0", f"--pid-file={scratch / 'mysqld.pid'}", "--skip-log-bin"], netns,
                   lambda: self.socket.exists())
        self.sql(f"CREATE USER 'root'@'%' IDENTIFIED BY '{root_password}'; "
                 "GRANT ALL PRIVILEGES ON *.* TO 'root'@'%' WITH GRANT OPTION; "
                 f"CREATE DATABASE `{database}`")

    def sql(self, statement, database=""):
        return self.run("mariadb", "--no-defaults", f"--socket={self.socket}", "--user=root", "--batch",
                        *([database] if database else []), "--execute", statement)
