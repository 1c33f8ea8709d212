"""What the rendered stack contains for a given answer set: names that follow
Spin's conventions, defaults that think for the user, capabilities per role."""

import json
import re
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager

import pytest
import yaml

from stackkit import minimal_answers
from stack_checks import assert_stack_ok, load_yaml


def compose(stack):
    return load_yaml(stack / "docker-compose.yml")


@pytest.mark.parametrize("fqdn, expected", [
    ("foo.jgi.doe.gov", "foo-jgi-doe"),
    ("bar.nersc.gov", "bar-nersc"),
    ("a.b", "a"),
    ("1data.nersc.gov", "data-nersc"),
])
def test_stack_name_defaults_to_the_fqdn_labels(render, fqdn, expected):
    stack = render(minimal_answers(fqdn=fqdn))
    assert load_yaml(stack / ".copier-answers.yml")["stack_name"] == expected


@pytest.mark.parametrize("folder, expected", [
    ("mystack", "mystack"),
    ("My Stack_2", "my-stack-2"),
    ("2024-portal", "portal"),
    ("x" * 80, "x" * 63),
])
def test_stack_name_defaults_to_the_folder(render, tmp_path, folder, expected):
    stack = render(minimal_answers(), dst=tmp_path / folder)
    assert load_yaml(stack / ".copier-answers.yml")["stack_name"] == expected


def test_web_port_default_is_stable_and_open(render):
    ports = set()
    for name in ("alpha", "beta", "gamma", "delta", "alpha"):
        stack = render(minimal_answers(stack_name=name, services=["web"]))
        port = load_yaml(stack / ".copier-answers.yml")["web_port"]
        assert 60000 <= port <= 60050
        assert compose(stack)["services"]["web"]["ports"] == [f"{port}:8080"]
        ports.add((name, port))
    assert len({name for name, _ in ports}) == 4 and len(ports) == 4  # same name, same port


def test_reverse_proxy_publishes_no_host_port(render):
    stack = render(minimal_answers(fqdn="portal.nersc.gov", services=["web", "app"]))
    answers = load_yaml(stack / ".copier-answers.yml")
    assert answers["web_exposure"] == "reverse-proxy" and "web_port" not in answers
    assert "ports" not in compose(stack)["services"]["web"]
    readme = (stack / "README.md").read_text()
    assert "lb.reverse-proxy.dev-cattle.stable.spin.nersc.org" in readme


def test_registry_project_defaults_to_group_then_owner(render):
    with_group = render(minimal_answers(group="genome", services=["app"]))
    assert compose(with_group)["services"]["app"]["image"].startswith("registry.spin.nersc.gov/genome/")
    without = render(minimal_answers(services=["app"]))
    assert compose(without)["services"]["app"]["image"].startswith("registry.spin.nersc.gov/fred/")


@pytest.mark.parametrize("group, project", [("genome_isg", "genome_isg"), ("genome__isg", "genome__isg"),
                                             ("genome___isg", "genome__isg"), ("genome_____isg", "genome__isg"),
                                             ("genome_", "genome"), ("genome___", "genome")])
def test_a_group_the_registry_would_refuse_becomes_a_project_it_takes(render, group, project):
    """NIM groups may hold runs of '_' or end in one; a registry project may not (one '_' or '__' between
    characters): the default keeps the group's name as close as the registry allows."""
    stack = render(minimal_answers(group=group, services=["app"]))
    assert compose(stack)["services"]["app"]["image"].startswith(f"registry.spin.nersc.gov/{project}/")


def test_every_role_together(render):
    stack = render(minimal_answers(stack_name="everything", services=["web", "app", "api", "db", "kv", "util"],
                                   access="authenticated", db_engine="postgres",
                                   gpfs_mounts=[{"service": "util", "host_path": "/global/cfs/cdirs/p/dumps",
                                                 "container_path": "/dumps", "read_only": False},
                                                {"service": "web", "host_path": "/global/cfs/cdirs/p/www",
                                                 "container_path": "/www"}],
                                   secrets={"shared_key": ["app", "api"], "web_cert": ["web"]}))
    assert_stack_ok(stack)
    services = compose(stack)["services"]
    assert list(services) == ["web", "app", "api", "db", "kv", "util"]
    assert services["web"]["group_add"] == ["nginx"]
    for role in ("web", "app", "api", "util"):
        assert services[role]["user"] == "501:124" and "cap_add" not in services[role]
    assert services["db"]["cap_add"] == ["CHOWN", "DAC_OVERRIDE", "FOWNER", "SETGID", "SETUID"]
    assert "user" not in services["db"]
    assert services["util"]["labels"] == {"cron.schedule": "0 0 9 * * *", "io.rancher.container.start_once": "true",
                                          "io.rancher.container.pull_image": "always"}  # postgres:17-alpine moves
    assert "/global/cfs/cdirs/p/dumps:/dumps:rw" in services["util"]["volumes"]
    assert "/dumps/everything-" in services["util"]["command"][2]
    assert services["web"]["volumes"] == ["/global/cfs/cdirs/p/www:/www:ro"]
    rancher = load_yaml(stack / "rancher-compose.yml")["services"]
    assert rancher["app"]["retain_ip"] is True and rancher["api"]["retain_ip"] is True
    assert rancher["util"]["start_on_create"] is False and "health_check" not in rancher["util"]
    assert "request_line" in rancher["web"]["health_check"] and "request_line" not in rancher["db"]["health_check"]
    nginx = (stack / "web" / "nginx.conf").read_text()
    assert "proxy_pass http://app:8000;" in nginx and "proxy_pass http://api:8000/;" in nginx
    assert "listen 8080;" in nginx and "pid /var/tmp/nginx.pid;" in nginx


def secret_names(stack):
    return {service: sorted(s["source"] for s in config.get("secrets", []))
            for service, config in compose(stack)["services"].items()}


def test_secret_names_follow_the_convention(render):
    stack = render(minimal_answers(stack_name="myportal", services=["web", "app", "db", "util"], db_engine="mysql",
                                   secrets={"private_key": ["web", "app"], "django_key": ["app"]}))
    names = secret_names(stack)
    assert names["db"] == ["db.myportal.mysql_password", "db.myportal.mysql_root_password"]
    assert names["util"] == ["db.myportal.mysql_root_password"]  # the database's: named after db, whoever reads it
    assert names["app"] == ["app.myportal.django_key", "db.myportal.mysql_password", "myportal.private_key"]
    assert names["web"] == ["myportal.private_key"]
    top = compose(stack)["secrets"]
    assert set(top) == {name for group in names.values() for name in group}
    assert all(value == {"external": True} for value in top.values())


def test_single_reader_secret_carries_the_service(render):
    stack = render(minimal_answers(stack_name="solo", services=["db"], db_engine="postgres"))
    assert secret_names(stack) == {"db": ["db.solo.postgres_password"]}


@pytest.mark.parametrize("engine, image, data, port, owner", [
    ("postgres", "postgres:17-alpine", "/var/lib/postgresql/data", 5432, "70"),
    ("mysql", "mysql:8.4", "/var/lib/mysql", 3306, "999"),
    ("mariadb", "mariadb:11.4", "/var/lib/mysql", 3306, "999"),
    ("mongodb", "mongo:8.0", "/data/db", 27017, "999"),
])
def test_database_engines(render, engine, image, data, port, owner):
    stack = render(minimal_answers(stack_name="dbstack", services=["db", "util"], db_engine=engine))
    db = compose(stack)["services"]["db"]
    assert db["image"] == image
    assert db["volumes"] == [f"db.dbstack:{data}"]
    assert compose(stack)["volumes"]["db.dbstack"] == {"driver": "rancher-nfs", "external": True}
    assert all(secret["uid"] == owner and secret["mode"] == "0400" for secret in db["secrets"])
    assert all(value.startswith("/run/secrets/") for key, value in db["environment"].items() if "PASSWORD" in key)
    assert load_yaml(stack / "rancher-compose.yml")["services"]["db"]["health_check"]["port"] == port
    util = compose(stack)["services"]["util"]
    assert util["volumes"] == ["util.dbstack:/backup"] and util["user"] == "501:124"
    assert_stack_ok(stack)


def test_dockerfile_account_lines(render):
    debian = render(minimal_answers(services=["app"], run_as_user="c_flintstones", run_as_group="genome"))
    assert ("RUN { groupadd -g 124 genome || sed -i '1i genome:x:124:' /etc/group; } && \\\n"
            "    { useradd -l -u 501 -g 124 -c 'Collaboration Account' c_flintstones || \\\n"
            "      sed -i '1i c_flintstones:x:501:124:Collaboration Account:/home/c_flintstones:/bin/sh' /etc/passwd; }\n"
            in (debian / "app" / "Dockerfile").read_text())
    alpine = render(minimal_answers(services=["app", "web"], app_base_image="python:3.13-alpine",
                                    run_as_user="c_flintstones", run_as_group="genome", run_as_comment="Genome Portal"))
    assert ("RUN { addgroup -g 124 genome || sed -i '1i genome:x:124:' /etc/group; } && \\\n"
            "    { adduser -D -u 501 -G genome -g 'Genome Portal' c_flintstones || \\\n"
            "      sed -i '1i c_flintstones:x:501:124:Genome Portal:/home/c_flintstones:/bin/sh' /etc/passwd; }\n"
            in (alpine / "app" / "Dockerfile").read_text())
    assert "{ addgroup -g 124 genome ||" in (alpine / "web" / "Dockerfile").read_text()
    group_only = render(minimal_answers(services=["app"], run_as_group="genome"))
    text = (group_only / "app" / "Dockerfile").read_text()
    assert "RUN { groupadd -g 124 genome || sed -i '1i genome:x:124:' /etc/group; }\n" in text
    assert "useradd" not in text and "/etc/passwd" not in text
    plain = (render(minimal_answers(services=["app"])) / "app" / "Dockerfile").read_text()
    assert "RUN" not in plain and re.search(r"^USER 501:124$", plain, re.M)


def test_stack_readme_has_tags_dns_secrets_and_steps(render):
    stack = render(minimal_answers(fqdn="portal.jgi.doe.gov", group="genome", staff_group="isg",
                                   services=["web", "app", "db"], environment="prod-cattle",
                                   gpfs_mounts=[{"service": "app", "host_path": "/global/cfs/cdirs/genome/ref",
                                                 "container_path": "/ref"}]))
    readme = (stack / "README.md").read_text()
    assert ("owner:fred, staff-owner:wilma, group:genome, staff-group:isg, fqdn:portal.jgi.doe.gov, requires:gpfs"
            in readme)
    assert "portal.jgi.doe.gov.  CNAME  lb.reverse-proxy.prod-cattle.stable.spin.nersc.org." in readme
    assert "rancher --env prod-cattle secret create db.portal-jgi-doe.postgres_password secrets/postgres_password" in readme
    assert "rancher --env prod-cattle volume create --driver rancher-nfs db.portal-jgi-doe" in readme
    assert "namei -m /global/cfs/cdirs/genome/ref" in readme and "o+x" in readme
    for step in ("docker build", "docker push", "up -d --stack portal-jgi-doe", "--confirm-upgrade", "--rollback"):
        assert step in readme
    assert ":latest" not in readme


def test_a_stack_without_the_optional_answers_mentions_none_of_them(render):
    """No fqdn, group or global mount and nothing built: the README's tags, its global file system steps
    and the Makefile's image variables leave out what was not answered instead of rendering it empty."""
    stack = render(minimal_answers(services=["db"]))
    readme = (stack / "README.md").read_text()
    tags = re.search(r"## Stack tags \(for ISG\)\n.*?```\n(.*?)\n```", readme, re.S).group(1)
    assert tags == "owner:fred, staff-owner:wilma"
    assert "### Global file system" not in readme and "namei" not in readme and "o+x" not in readme
    makefile = (stack / "Makefile").read_text()
    assert not re.search(r"^(TAG|IMAGE_\w+) :=", makefile, re.M) and "image_tag=" not in makefile
    assert "build: ## Nothing to build" in makefile and "push: ## Nothing to push" in makefile
    assert "$(DOCKER) build" not in makefile and "$(DOCKER) push" not in makefile


def test_no_secret_values_anywhere(render):
    stack = render(minimal_answers(services=["web", "app", "db", "kv", "util"], db_engine="mariadb",
                                   secrets={"api_token": ["app"]}))
    for service in compose(stack)["services"].values():
        for key, value in (service.get("environment") or {}).items():
            if re.search("PASSWORD|SECRET|TOKEN|KEY", key):
                assert key.endswith("_FILE") and value.startswith("/run/secrets/"), key
    ignored = (stack / ".gitignore").read_text()
    assert "/secrets/" in ignored and "secrets/" in (stack / ".dockerignore").read_text()


def test_answers_file_replays(render):
    stack = render(minimal_answers(services=["app"], secrets={"k": ["app"]}))
    answers = yaml.safe_load((stack / ".copier-answers.yml").read_text())
    assert answers["_src_path"] and answers["_commit"] == "v1.0.0"
    assert answers["secrets"] == {"k": ["app"]} and answers["run_as_uid"] == 501
    config = yaml.safe_load((stack / ".pre-commit-config.yaml").read_text())
    assert len(config["repos"][0]["rev"]) == 40, "the template commit's full hash (tests/test_stack_pre_commit.py)"
    assert [hook["id"] for hook in config["repos"][0]["hooks"]] == ["spin-audit", "hadolint"]


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def starter_service(main_py, port, env):
    """The starter service running from main_py with env; yields its answer to GET /healthz on port."""
    server = subprocess.Popen([sys.executable, str(main_py)], env={"PATH": "/usr/bin:/bin", **env},
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        health = None
        for _ in range(100):
            try:
                health = urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).read()
                break
            except OSError:
                time.sleep(0.05)
        yield health
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_starter_service_answers_its_health_check(render):
    stack = render(minimal_answers(services=["app"], stack_name="healthy"))
    port = free_port()
    env = {"PORT": str(port), "SERVICE_NAME": "app", "STACK_NAME": "healthy"}
    with starter_service(stack / "app" / "main.py", port, env) as health:
        assert health == b"ok\n"
        info = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2).read())
        assert info["service"] == "app" and info["stack"] == "healthy"


@pytest.mark.parametrize("role", ["app", "api"])
def test_starter_service_without_port_listens_on_the_answered_one(render, role):
    """Run outside its image (no PORT), the starter listens on app_port, as the image and the stack say."""
    port = free_port()
    if port <= 1024:
        pytest.skip("the system gave a port below app_port's range")
    stack = render(minimal_answers(services=[role], stack_name="healthy", app_port=port))
    with starter_service(stack / role / "main.py", port, {}) as health:
        assert health == b"ok\n"
        assert f"EXPOSE {port}" in (stack / role / "Dockerfile").read_text()


@pytest.mark.parametrize("engine", ["postgres", "mysql", "mariadb", "mongodb", None])
def test_util_job_is_valid_shell(render, engine):
    services = ["util", "db"] if engine else ["util"]
    stack = render(minimal_answers(services=services, **({"db_engine": engine} if engine else {}),
                                   access="private",
                                   gpfs_mounts=[{"service": "util", "host_path": "/global/cfs/cdirs/p/dumps",
                                                 "container_path": "/dumps", "read_only": False}]))
    command = compose(stack)["services"]["util"]["command"]
    assert command[:2] == ["sh", "-c"]
    script = command[2].replace("$$", "$")  # compose's escape, as Rancher passes it on
    assert subprocess.run(["sh", "-n", "-c", script]).returncode == 0
    assert "/dumps" in script
    if engine:
        assert "/run/secrets/" in script and "-mtime +13 -delete" in script  # backup_keep_days 14
