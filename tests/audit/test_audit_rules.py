"""Every rule fires on a stack that breaks it and stays silent on the corrected stack.

Each case is real YAML (or Dockerfile) text: `fires` breaks the rule, `clean` is the same
stack with the fix. `line` is where the finding must point.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Optional, Tuple

import pytest
from spin_audit.facts import FILE_SYSTEM_ROOTS, HOME_ROOTS
from spin_audit.registry import COMPOSE, all_rules

DC = "docker-compose.yml"
RC = "rancher-compose.yml"


@dataclass
class Case:
    rule: str
    fires: Dict[str, str]
    clean: Dict[str, str]
    line: Optional[int] = None
    path: str = DC
    args: Tuple[str, ...] = ()
    id: str = ""
    extra: dict = field(default_factory=dict)


def svc(body: str, top: str = "", name: str = "web") -> Dict[str, str]:
    """A docker-compose.yml with one service (`body` is its indented keys) and optional top-level text."""
    return {DC: f"version: '2'\nservices:\n  {name}:\n{body}{top}"}


BASE = "    image: nginx:1.27\n    cap_drop:\n      - ALL\n"

CASES = [
    # 1xx compose structure, keys and types
    Case("SPIN101", {DC: "version: '3'\nservices:\n  web:\n    image: nginx:1.27\n"},
         {DC: "version: '2'\nservices:\n  web:\n    image: nginx:1.27\n"}, line=1),
    Case("SPIN101", {DC: "services:\n  web:\n    image: nginx:1.27\n"},
         {DC: "version: '2'\nservices:\n  web:\n    image: nginx:1.27\n"}, line=1, id="missing"),
    Case("SPIN101", {**svc(BASE), RC: "version: '3'\nservices:\n  web:\n    scale: 1\n"},
         {**svc(BASE), RC: "version: '2'\nservices:\n  web:\n    scale: 1\n"}, line=1, path=RC, id="rancher"),
    Case("SPIN102", svc(BASE + "    healthcheck:\n      test: [CMD, 'true']\n"), svc(BASE), line=7),
    Case("SPIN102", svc(BASE + "    deploy:\n      replicas: 2\n"), svc(BASE), line=7, id="deploy"),
    Case("SPIN102", svc(BASE + "    logging:\n      driver: json-file\n      opts: {}\n"),
         svc(BASE + "    logging:\n      driver: json-file\n      options: {}\n"), line=9, id="nested"),
    Case("SPIN102", {**svc(BASE), RC: "version: '2'\nservices:\n  web:\n    scael: 2\n"},
         {**svc(BASE), RC: "version: '2'\nservices:\n  web:\n    scale: 2\n"}, line=4, path=RC, id="rancher"),
    Case("SPIN103", {**svc(BASE), RC: "version: '2'\nservices:\n  web:\n    retain_ip: 'true'\n"},
         {**svc(BASE), RC: "version: '2'\nservices:\n  web:\n    retain_ip: true\n"}, line=4, path=RC),
    Case("SPIN103", svc(BASE + "    volumes:\n      - type: bind\n        source: /srv\n        target: /srv\n"),
         svc(BASE + "    volumes:\n      - /srv:/srv:ro\n"), line=8, id="long-volume"),
    Case("SPIN103", svc(BASE + "    secrets:\n      - target: x\n"),
         svc(BASE + "    secrets:\n      - source: x\n"), line=8, id="secret-without-source"),
    Case("SPIN103", svc(BASE + "    cap_add:\n      - CHOWN\n      - CHOWN\n"),
         svc(BASE + "    cap_add:\n      - CHOWN\n"), line=9, id="duplicate-item"),
    Case("SPIN104", {DC: "version: '2'\nservices:\n  - web\n"},
         {DC: "version: '2'\nservices:\n  web:\n    image: nginx:1.27\n"}, line=3),
    Case("SPIN104", {DC: "version: '2'\nservices:\n  web:\n"},
         {DC: "version: '2'\nservices:\n  web:\n    image: nginx:1.27\n"}, line=3, id="null-service"),
    Case("SPIN104", {DC: "version: '2'\nvolumes: []\nservices:\n  web:\n    image: nginx:1.27\n"},
         {DC: "version: '2'\nvolumes: {}\nservices:\n  web:\n    image: nginx:1.27\n"}, line=2, id="top-volumes"),
    Case("SPIN105", svc(BASE, "configs:\n  a: {file: ./a}\n"), svc(BASE, "x-defaults:\n  a: 1\n"), line=7),
    Case("SPIN106", svc(BASE + "    build: ./web\n"), svc(BASE), line=7),
    Case("SPIN107", svc(BASE + "    restart: always\n"), svc(BASE), line=7),
    Case("SPIN108", {**svc(BASE), RC: "version: '2'\nservices:\n  wbe:\n    scale: 1\n"},
         {**svc(BASE), RC: "version: '2'\nservices:\n  web:\n    scale: 1\n"}, line=3, path=RC),
    Case("SPIN109", {**svc(BASE), RC: "version: '2'\nservices:\n  web:\n    health_check:\n      port: 8080\n"
                                      "      interval: 2\n"},
         {**svc(BASE), RC: "version: '2'\nservices:\n  web:\n    health_check:\n      port: 8080\n"
                           "      interval: 2000\n"}, line=6, path=RC),
    Case("SPIN110", svc(BASE + "    user: 1000:50\n"), svc(BASE + '    user: "1000:50"\n'), line=7),
    Case("SPIN110", svc(BASE + "    ports:\n      - 22:22\n"), svc(BASE + '    ports:\n      - "50022:22"\n'),
         line=8, id="port"),
    Case("SPIN110", svc(BASE + "    secrets:\n      - source: web.mystack.pw\n        target: pw\n        mode: 0400\n",
                        "secrets:\n  web.mystack.pw:\n    external: true\n"),
         svc(BASE + "    secrets:\n      - source: web.mystack.pw\n        target: pw\n        mode: '0400'\n",
             "secrets:\n  web.mystack.pw:\n    external: true\n"), line=10, id="mode"),
    Case("SPIN110", svc(BASE + "    secrets:\n      - source: web.mystack.pw\n        target: pw\n        uid: 0\n",
                        "secrets:\n  web.mystack.pw:\n    external: true\n"),
         svc(BASE + "    secrets:\n      - source: web.mystack.pw\n        target: pw\n        uid: '0'\n",
             "secrets:\n  web.mystack.pw:\n    external: true\n"), line=10, id="uid"),
    Case("SPIN110", {DC: "version: 2\nservices:\n  web:\n    image: nginx:1.27\n"},
         {DC: "version: '2'\nservices:\n  web:\n    image: nginx:1.27\n"}, line=1, id="version"),
    Case("SPIN110", svc(BASE + "    user: 1000\n"), svc(BASE + "    user: '1000'\n"), line=7, id="number"),
    Case("SPIN111", {**svc(BASE), RC: "version: '2'\nservices:\n  web:\n    health_check:\n      port: 8080\n"
                                      "      request_line: /healthz\n"},
         {**svc(BASE), RC: "version: '2'\nservices:\n  web:\n    health_check:\n      port: 8080\n"
                           "      request_line: GET \"/healthz\" \"HTTP/1.0\"\n"}, line=6, path=RC),
    Case("SPIN113", {DC: "web:\n  image: nginx:1.27\n  cap_drop: [ALL]\n"},
         {DC: "version: '2'\nservices:\n  web:\n    image: nginx:1.27\n    cap_drop: [ALL]\n"}, line=1),
    Case("SPIN113", {**svc(BASE), RC: ".catalog:\n  name: x\nweb:\n  scale: 1\n"},
         {**svc(BASE), RC: "version: '2'\ncatalog:\n  name: x\nservices:\n  web:\n    scale: 1\n"},
         line=1, path=RC, id="rancher"),
    Case("SPIN112", {**svc(BASE), RC: "version: '2'\nservices:\n  web:\n    health_check:\n      port: 8080\n"
                                      "      strategy: restart\n"},
         {**svc(BASE), RC: "version: '2'\nservices:\n  web:\n    health_check:\n      port: 8080\n"
                           "      strategy: recreate\n"}, line=6, path=RC),
    Case("SPIN114", svc(BASE + "    image: nginx:1.28\n"), svc(BASE), line=7),
    Case("SPIN114", {**svc(BASE), RC: "version: '2'\nservices:\n  web:\n    scale: 1\n  web:\n    scale: 2\n"},
         {**svc(BASE), RC: "version: '2'\nservices:\n  web:\n    scale: 2\n"}, line=5, path=RC, id="rancher"),
    # 2xx security
    Case("SPIN201", svc("    image: nginx:1.27\n"), svc(BASE), line=3),
    Case("SPIN201", svc("    image: nginx:1.27\n    cap_drop:\n      - CHOWN\n"),
         svc("    image: nginx:1.27\n    cap_drop:\n      - all\n"), line=5, id="partial"),
    Case("SPIN202", svc(BASE + "    cap_add:\n      - SYS_ADMIN\n"), svc(BASE + "    cap_add:\n      - cap_kill\n"),
         line=8),
    Case("SPIN203", svc(BASE + "    privileged: true\n"), svc(BASE + "    privileged: false\n"), line=7),
    Case("SPIN204", svc(BASE + "    network_mode: host\n"), svc(BASE + "    network_mode: bridge\n"), line=7),
    Case("SPIN204", svc(BASE + "    pid: host\n"), svc(BASE), line=7, id="pid"),
    Case("SPIN205", svc(BASE + "    devices:\n      - /dev/fuse\n"), svc(BASE), line=8),
    # 3xx global file system
    Case("SPIN301", svc(BASE + "    volumes:\n      - /global/cfs/cdirs/proj/app:/data:ro\n"),
         svc(BASE + '    user: "12345:6789"\n    volumes:\n      - /global/cfs/cdirs/proj/app:/data:ro\n'), line=8),
    Case("SPIN301", svc(BASE + "    user: www-data\n    volumes:\n      - /global/cfs/cdirs/proj/app:/data:ro\n"),
         svc(BASE + "    user: www-data\n    volumes:\n      - db.mystack:/data\n", "volumes:\n  db.mystack: {}\n"),
         line=7, id="name"),
    Case("SPIN301", svc(BASE + '    user: "0:6789"\n    volumes:\n      - /global/cfs/cdirs/proj/app:/data:ro\n'),
         svc(BASE + '    user: "501"\n    volumes:\n      - /global/cfs/cdirs/proj/app:/data:ro\n'), line=7, id="root"),
    Case("SPIN302", svc(BASE + '    user: "12345:6789"\n    cap_add:\n      - CHOWN\n'
                               '    volumes:\n      - /global/cfs/cdirs/proj/app:/data:ro\n'),
         svc(BASE + '    user: "12345:6789"\n    cap_add:\n      - NET_BIND_SERVICE\n'
                    '    volumes:\n      - /global/cfs/cdirs/proj/app:/data:ro\n'), line=9),
    Case("SPIN303", svc(BASE + '    user: "12345:6789"\n    volumes:\n      - /global/cfs/cdirs/proj/app:/data\n'),
         svc(BASE + '    user: "12345:6789"\n    volumes:\n      - /global/cfs/cdirs/proj/app:/data:ro\n'),
         line=9, args=("--access", "public")),
    Case("SPIN303", {**svc(BASE + '    user: "12345:6789"\n    volumes:\n      - /global/cfs/cdirs/proj/app:/data:rw\n'),
                     ".copier-answers.yml": "access: public\n"},
         {**svc(BASE + '    user: "12345:6789"\n    volumes:\n      - /global/cfs/cdirs/proj/app:/data:rw\n'),
          ".copier-answers.yml": "access: authenticated\n"}, line=9, id="answers"),
    Case("SPIN303", {"docker-compose.yml": "version: '2'\nservices:\n  web-dump:\n    image: nginx:1.27\n"
                                           "    cap_drop: [ALL]\n    user: \"12345:6789\"\n    volumes:\n"
                                           "      - /global/cfs/cdirs/proj/dumps:/dumps:rw\n",
                     ".copier-answers.yml": "access: public\n"},
         {"docker-compose.yml": "version: '2'\nservices:\n  db-dump:\n    image: nginx:1.27\n"
                                "    cap_drop: [ALL]\n    user: \"12345:6789\"\n    volumes:\n"
                                "      - /global/cfs/cdirs/proj/dumps:/dumps:rw\n",
          ".copier-answers.yml": "access: public\n"}, line=8, id="serving-role"),
    Case("SPIN304", svc(BASE + '    user: "12345:6789"\n    volumes:\n      - /global/cfs/cdirs/proj/app:/data\n'),
         svc(BASE + '    user: "12345:6789"\n    volumes:\n      - /global/cfs/cdirs/proj/app:/data\n'),
         line=9, extra={"clean_args": ("--access", "private")}),
    Case("SPIN304", svc(BASE + '    user: "12345:6789"\n    volumes:\n      - /global/cfs/cdirs/proj/dumps:/dumps\n',
                        name="app-dump"),
         svc(BASE + '    user: "12345:6789"\n    volumes:\n      - /global/cfs/cdirs/proj/dumps:/dumps\n',
             name="db-dump"), line=9, id="dump-role"),
    Case("SPIN304", svc(BASE + '    user: "12345:6789"\n    volumes:\n      - /global/cfs/cdirs/proj/dumps:/dumps\n',
                        name="app-sync"),
         svc(BASE + '    user: "12345:6789"\n    volumes:\n      - /global/cfs/cdirs/proj/dumps:/dumps\n'
                    "    labels:\n      cron.schedule: '0 0 11 * * *'\n", name="app-sync"), line=9, id="cron-job"),
    Case("SPIN304", svc(BASE + '    user: "12345:6789"\n    volumes:\n      - /global/cfs/cdirs/proj/out:/out\n'
                               "    labels:\n      io.rancher.container.start_once: 'false'\n", name="app-run"),
         svc(BASE + '    user: "12345:6789"\n    volumes:\n      - /global/cfs/cdirs/proj/out:/out\n'
                    "    labels:\n      io.rancher.container.start_once: 'true'\n", name="app-run"), line=9,
         id="one-shot-job"),
    Case("SPIN305", svc(BASE + '    user: "12345:6789"\n    volumes:\n      - /global/homes/f/fred/app:/data:ro\n'),
         svc(BASE + '    user: "12345:6789"\n    volumes:\n      - /global/cfs/cdirs/proj/fred:/data:ro\n'), line=9),
    Case("SPIN306", svc(BASE + '    user: "12345:6789"\n    volumes:\n      - /global/cfs/cdirs/:/data:ro\n'),
         svc(BASE + '    user: "12345:6789"\n    volumes:\n      - /global/cfs/cdirs/proj:/data:ro\n'), line=9),
    Case("SPIN306", svc(BASE + '    user: "12345:6789"\n    volumes:\n      - //global/project//projectdirs/x/..:/d:ro\n'),
         svc(BASE + '    user: "12345:6789"\n    volumes:\n      - /global/project/projectdirs/x:/d:ro\n'),
         line=9, id="normalised"),
    Case("SPIN307", svc(BASE + '    user: "12345:6789"\n    volumes:\n      - /global/cfs/cdirs/a/../b/c:/d:ro\n'),
         svc(BASE + '    user: "12345:6789"\n    volumes:\n      - /global/cfs/cdirs/b/c:/d:ro\n'), line=9),
    Case("SPIN309", svc(BASE + "    volumes:\n      - ../data:/data\n"),
         svc(BASE + "    volumes:\n      - /srv/data:/data\n"), line=8),
    Case("SPIN308", svc(BASE + "    volumes:\n      - web.mystack:/data\n"),
         svc(BASE + "    volumes:\n      - web.mystack:/data\n",
             "volumes:\n  web.mystack:\n    driver: rancher-nfs\n    external: true\n"), line=8),
    # 4xx images
    Case("SPIN401", svc("    image: ghcr.io/org/app:1.0\n    cap_drop: [ALL]\n"),
         svc("    image: registry.spin.nersc.gov/org/app:1.0\n    cap_drop: [ALL]\n"), line=4),
    Case("SPIN401", svc("    image: localhost:5000/app:1.0\n    cap_drop: [ALL]\n"),
         svc("    image: docker.io/org/app:1.0\n    cap_drop: [ALL]\n"), line=4, id="localhost"),
    Case("SPIN401", svc("    image: registry.example.org:443/app:1.0\n    cap_drop: [ALL]\n"),
         svc("    image: registry.spin.nersc.gov:443/proj/app:1.0\n    cap_drop: [ALL]\n"), line=4, id="port"),
    Case("SPIN402", svc("    image: nginx\n    cap_drop: [ALL]\n"),
         svc("    image: nginx\n    cap_drop: [ALL]\n    labels:\n      io.rancher.container.pull_image: always\n"),
         line=4),
    Case("SPIN402", svc("    image: registry.nersc.gov/p/app:latest\n    cap_drop: [ALL]\n"),
         svc("    image: registry.nersc.gov/p/app@sha256:" + "a" * 64 + "\n    cap_drop: [ALL]\n"), line=4, id="latest"),
    Case("SPIN403", svc("    image: nginx:latest\n    cap_drop: [ALL]\n    labels:\n"
                        "      - io.rancher.container.pull_image=always\n"),
         svc("    image: nginx:1.27\n    cap_drop: [ALL]\n"), line=4),
    Case("SPIN404", svc("    cap_drop: [ALL]\n"), svc(BASE), line=3),
    Case("SPIN406", svc("    image: mysql:8\n    cap_drop: [ALL]\n"),
         svc("    image: mysql:8\n    cap_drop: [ALL]\n    labels:\n      io.rancher.container.pull_image: always\n"),
         line=4),
    Case("SPIN406", svc("    image: postgres:17-alpine\n    cap_drop: [ALL]\n"),
         svc("    image: postgres:17.2-alpine\n    cap_drop: [ALL]\n"), line=4, id="minor"),
    Case("SPIN406", svc("    image: registry.nersc.gov/p/app:stable\n    cap_drop: [ALL]\n"),
         svc("    image: registry.nersc.gov/p/app:v20260115\n    cap_drop: [ALL]\n"), line=4, id="channel"),
    Case("SPIN405", svc("    image: My/Image:1.0\n    cap_drop: [ALL]\n"),
         svc("    image: my/image:1.0\n    cap_drop: [ALL]\n"), line=4),
    # 5xx network
    Case("SPIN501", svc(BASE + "    ports:\n      - 80:8080\n"), svc(BASE + '    ports:\n      - "60040:8080"\n'),
         line=8),
    Case("SPIN501", svc(BASE + '    ports:\n      - "0.0.0.0:443:8443/tcp"\n'),
         svc(BASE + '    ports:\n      - "0.0.0.0:8443:8443/tcp"\n'), line=8, id="ip-443"),
    Case("SPIN502", svc(BASE + '    ports:\n      - "9000:9000"\n'), svc(BASE + '    ports:\n      - "50000:9000"\n'),
         line=8),
    Case("SPIN502", svc(BASE + '    ports:\n      - "60040-60060:8080"\n'),
         svc(BASE + '    ports:\n      - "60000-60050:8080"\n'), line=8, id="range"),
    Case("SPIN503", svc(BASE + '    ports:\n      - "8080"\n'), svc(BASE + '    ports:\n      - "8080:8080"\n'), line=8),
    Case("SPIN504", svc(BASE + '    ports:\n      - "60040:80"\n'), svc(BASE + '    ports:\n      - "60040:8080"\n'),
         line=8),
    Case("SPIN504", svc(BASE + '    expose:\n      - "443"\n'), svc(BASE + '    expose:\n      - "8443"\n'),
         line=8, id="expose"),
    Case("SPIN505", svc(BASE + '    ports:\n      - "5432:5432"\n'), svc(BASE + '    ports:\n      - "5432:5432"\n'),
         line=8, args=("--access", "public"), extra={"clean_args": ("--access", "private")}),
    Case("SPIN506", svc(BASE + '    ports:\n      - "60040:70000"\n'), svc(BASE + '    ports:\n      - "60040:7000"\n'),
         line=8),
    Case("SPIN507", {**svc(BASE), RC: "version: '2'\nservices:\n  web:\n    retain_ip: true\n    upgrade_strategy:\n"
                                      "      start_first: true\n"},
         {**svc(BASE), RC: "version: '2'\nservices:\n  web:\n    retain_ip: true\n    upgrade_strategy:\n"
                           "      start_first: false\n"}, line=6, path=RC),
    Case("SPIN507", svc(BASE + "    retain_ip: true\n", name="app") | {
        RC: "version: '2'\nservices:\n  app:\n    upgrade_strategy:\n      start_first: true\n"},
         svc(BASE, name="app") | {
        RC: "version: '2'\nservices:\n  app:\n    upgrade_strategy:\n      start_first: true\n"},
         line=5, path=RC, id="merged"),
    # 6xx secrets
    Case("SPIN601", svc(BASE + "    environment:\n      DB_PASSWORD: hunter2\n"),
         svc(BASE + "    environment:\n      DB_PASSWORD_FILE: /run/secrets/db_password\n"), line=8),
    Case("SPIN601", svc(BASE + "    environment:\n      - API_TOKEN=abc123\n"),
         svc(BASE + "    environment:\n      - API_TOKEN=${API_TOKEN}\n      - MYSQL_ALLOW_EMPTY_PASSWORD=yes\n"),
         line=8, id="list"),
    Case("SPIN602", svc(BASE + "    secrets:\n      - source: db_password\n        target: db_password\n",
                        "secrets:\n  db_password:\n    external: true\n"),
         svc(BASE + "    secrets:\n      - source: web.mystack.db_password\n        target: db_password\n",
             "secrets:\n  web.mystack.db_password:\n    external: true\n"), line=8),
    Case("SPIN602", svc(BASE + "    secrets:\n      - source: web.other.pw\n        target: pw\n",
                        "secrets:\n  web.other.pw:\n    external: true\n"),
         svc(BASE + "    secrets:\n      - source: web.other.pw\n        target: pw\n",
             "secrets:\n  web.other.pw:\n    external: true\n"), line=8, args=("--stack", "mystack"),
         extra={"clean_args": ("--stack", "other")}, id="stack-option"),
    Case("SPIN603", svc(BASE + "    secrets:\n      - web.mystack.db_password\n",
                        "secrets:\n  web.mystack.db_password:\n    external: true\n"),
         svc(BASE + "    secrets:\n      - source: web.mystack.db_password\n        target: db_password\n",
             "secrets:\n  web.mystack.db_password:\n    external: true\n"), line=8),
    Case("SPIN603", svc(BASE + "    secrets:\n      - source: web.mystack.db_password\n        target: password\n",
                        "secrets:\n  web.mystack.db_password:\n    external: true\n"),
         svc(BASE + "    secrets:\n      - source: web.mystack.db_password\n        target: db_password\n",
             "secrets:\n  web.mystack.db_password:\n    external: true\n"), line=9, id="wrong-target"),
    Case("SPIN604", svc(BASE + "    secrets:\n      - source: mystack.pw\n        target: pw\n        mode: '0444'\n",
                        "secrets:\n  mystack.pw:\n    external: true\n"),
         svc(BASE + "    secrets:\n      - source: mystack.pw\n        target: pw\n        mode: '0400'\n",
             "secrets:\n  mystack.pw:\n    external: true\n"), line=10),
    Case("SPIN605", svc(BASE + '    user: "12345:6789"\n    secrets:\n      - source: mystack.pw\n        target: pw\n'
                               "        uid: '0'\n        mode: '0400'\n", "secrets:\n  mystack.pw:\n    external: true\n"),
         svc(BASE + '    user: "12345:6789"\n    secrets:\n      - source: mystack.pw\n        target: pw\n'
                    "        uid: '12345'\n        mode: '0400'\n", "secrets:\n  mystack.pw:\n    external: true\n"),
         line=11),
    Case("SPIN605", svc(BASE + "    secrets:\n      - source: mystack.pw\n        target: pw\n        uid: UserID\n",
                        "secrets:\n  mystack.pw:\n    external: true\n"),
         svc(BASE + "    secrets:\n      - source: mystack.pw\n        target: pw\n        uid: '999'\n",
             "secrets:\n  mystack.pw:\n    external: true\n"), line=10, id="placeholder"),
    Case("SPIN606", svc(BASE + "    secrets:\n      - source: mystack.pw\n        target: pw\n"),
         svc(BASE + "    secrets:\n      - source: mystack.pw\n        target: pw\n",
             "secrets:\n  mystack.pw:\n    external: true\n"), line=8),
    Case("SPIN607", svc(BASE, "secrets:\n  mystack.pw:\n    file: ./secrets/pw.txt\n"),
         svc(BASE, "secrets:\n  mystack.pw:\n    external: true\n"), line=9),
    # 7xx naming
    Case("SPIN701", svc(BASE, name="nginx"), svc(BASE, name="web-nginx"), line=3),
    Case("SPIN702", svc(BASE), svc(BASE), line=1, args=("--stack", "My_Stack"),
         extra={"clean_args": ("--stack", "my-stack")}),
    Case("SPIN702", {**svc(BASE), ".copier-answers.yml": "access: public\nstack_name: Bad.Name\n"},
         {**svc(BASE), ".copier-answers.yml": "access: public\nstack_name: good-name\n"},
         line=2, path=".copier-answers.yml", id="answers"),
    Case("SPIN703", svc(BASE, "volumes:\n  pgdata:\n    driver: rancher-nfs\n    external: true\n"),
         svc(BASE, "volumes:\n  web.mystack:\n    driver: rancher-nfs\n    external: true\n"), line=8),
    # 8xx Dockerfiles
    Case("SPIN801", {**svc(BASE), "web/Dockerfile": "FROM python\n"},
         {**svc(BASE), "web/Dockerfile": "FROM python:3.12-slim\n"}, line=1, path="web/Dockerfile"),
    Case("SPIN801", {**svc(BASE), "Dockerfile": "ARG BASE=latest\nFROM --platform=linux/amd64 nginx:${BASE} AS web\n"},
         {**svc(BASE), "Dockerfile": "ARG BASE=1.27\nFROM --platform=linux/amd64 nginx:${BASE} AS web\n"},
         line=2, path="Dockerfile", id="arg"),
    Case("SPIN802",
         {**svc(BASE + '    user: "12345:6789"\n    volumes:\n      - /global/cfs/cdirs/p/app:/d:ro\n'),
          "web/Dockerfile": "FROM nginx:1.27\nUSER nginx\nRUN true\nUSER root\n"},
         {**svc(BASE + '    user: "12345:6789"\n    volumes:\n      - /global/cfs/cdirs/p/app:/d:ro\n'),
          "web/Dockerfile": "FROM nginx:1.27\nUSER root\nRUN true\nUSER 12345:6789\n"}, line=4, path="web/Dockerfile"),
    Case("SPIN802",
         {**svc(BASE + '    user: "12345:6789"\n    volumes:\n      - /global/cfs/cdirs/p/app:/d:ro\n'),
          "web/Dockerfile": "FROM nginx:1.27 AS base\nUSER 101\nFROM python:3.12\nCOPY --from=base /a /a\n"},
         {**svc(BASE + '    user: "12345:6789"\n    volumes:\n      - /global/cfs/cdirs/p/app:/d:ro\n'),
          "web/Dockerfile": "FROM python:3.12 AS base\nUSER 101\nFROM base\nRUN true\n"},
         line=3, path="web/Dockerfile", id="multistage"),
    Case("SPIN802",
         {**svc(BASE + '    user: "12345:6789"\n    volumes:\n      - /global/cfs/cdirs/p/app:/d:ro\n'),
          "web/Dockerfile": "FROM nginx:1.27\nUSER 0:0\n"},
         {**svc(BASE + '    user: "12345:6789"\n    volumes:\n      - /global/cfs/cdirs/p/app:/d:ro\n'),
          "web/Dockerfile": "FROM nginx:1.27\nUSER 1:1\n"}, line=2, path="web/Dockerfile", id="uid-0"),
    Case("SPIN803", {**svc(BASE), "web/Dockerfile": "# nothing yet\nRUN true\n"},
         {**svc(BASE), "web/Dockerfile": "from nginx:1.27\nrun true\n"}, line=1, path="web/Dockerfile"),
]


def _case_id(case: Case) -> str:
    return f"{case.rule}-{case.id}" if case.id else case.rule


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_rule_fires(case: Case, make_stack, audit_json) -> None:
    result = audit_json(make_stack(case.fires), *case.args)
    hits = [f for f in result.findings if f["rule"] == case.rule]
    assert hits, f"{case.rule} did not fire; got {result.rules}"
    if case.line is not None:
        assert any(f["line"] == case.line and f["path"].endswith(case.path) for f in hits), hits
    rule = next(r for r in all_rules() if r.id == case.rule)
    assert all(f["severity"] == rule.severity.label and f["message"] and f["hint"] for f in hits)


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_rule_stays_silent_when_fixed(case: Case, make_stack, audit_json) -> None:
    args = case.extra.get("clean_args", case.args)
    result = audit_json(make_stack(case.clean), *args)
    assert case.rule not in result.rules, [f for f in result.findings if f["rule"] == case.rule]


def test_every_rule_with_a_check_has_cases() -> None:
    covered = {case.rule for case in CASES}
    checked = {r.id for r in all_rules(COMPOSE) if r.check is not None}  # Kubernetes rules: test_kube_rules.py
    assert checked - covered == set()


def _global_mount(path: str) -> Dict[str, str]:
    return svc(BASE + f'    user: "12345:6789"\n    volumes:\n      - {path}:/data:ro\n')


@pytest.mark.parametrize("root", sorted(FILE_SYSTEM_ROOTS))
def test_every_file_system_root_in_the_facts_is_too_shallow(root: str, make_stack, audit_json) -> None:
    """spin_facts.json is shared with the template's validators; the audit must refuse the same roots."""
    shallow = audit_json(make_stack(_global_mount(root + "/"), "shallow")).rules
    deeper = audit_json(make_stack(_global_mount(root + "/myproject/app"), "deeper")).rules
    forbidden = any(root == home or root.startswith(home + "/") for home in HOME_ROOTS)
    assert ("SPIN305" if forbidden else "SPIN306") in shallow
    assert "SPIN306" not in deeper and ("SPIN305" in deeper) == forbidden


SECRET = svc(BASE + '    user: "501:124"\n    secrets:\n      - source: mystack.pw\n        target: pw\n'
                    "        uid: '501'\n{mode}", "secrets:\n  mystack.pw:\n    external: true\n")[DC]


@pytest.mark.parametrize("mode, message", [
    ("", "service 'web': secret 'mystack.pw' has mode 0444 (the default)"),
    ("        mode: '0444'\n", "service 'web': secret 'mystack.pw' has mode 0444"),
    ("        mode: '0440'\n", "service 'web': secret 'mystack.pw' has mode 0440"),
    ("        mode: '0404'\n", "service 'web': secret 'mystack.pw' has mode 0404"),
    ("        mode: '0200'\n", "service 'web': secret 'mystack.pw' has mode 0200"),
    ("        mode: '0o644'\n", "service 'web': secret 'mystack.pw' has mode 0644"),
    ("        mode: 'rw'\n", "service 'web': secret 'mystack.pw' mode 'rw' is not an octal file mode"),
    ("        mode: '0400'\n", None),
    ("        mode: '400'\n", None),
    ("        mode: '0600'\n", None),
    ("        mode: '0700'\n", None),
    ("        mode: '0777'\n", "service 'web': secret 'mystack.pw' has mode 0777"),
    ("        mode: 0400\n", None),  # YAML's octal 256 is still 0400 (SPIN110 asks to quote it)
], ids=lambda value: repr(value))
def test_every_secret_mode(make_stack, audit_json, mode: str, message) -> None:
    """Rancher's default mode is 0444; only the owner may read a secret."""
    findings = audit_json(make_stack({DC: SECRET.format(mode=mode)})).findings
    hits = [(f["message"], f["line"]) for f in findings if f["rule"] == "SPIN604"]
    assert hits == ([(message, 12 if mode else 9)] if message else [])


@pytest.mark.parametrize("port, rules", [
    ('"80:8080"', {"SPIN501"}),
    ('"443:8443"', {"SPIN501"}),
    ('"79-81:8080"', {"SPIN501"}),  # a host range covering 80
    ('"440-450:8440-8450"', {"SPIN501"}),
    ('"1-100:8000-8099"', {"SPIN501"}),
    ('"81-442:8081-8442"', {"SPIN502"}),  # between 80 and 443: closed, not the proxy's
    ('"60000-60050:8000-8050"', set()),
    ('"60040-60051:8040-8051"', {"SPIN502"}),  # one port past the open range
    ('"50000:8080"', set()),
    ('"8080:8080"', set()),
    ('"5432:5432"', set()),
    ('"9000:9000"', {"SPIN502"}),
    ('"60040:80"', {"SPIN504"}),
    ('"60040:1023"', {"SPIN504"}),
    ('"60040:1024"', set()),
    ('"60040-60041:1023-1024"', {"SPIN504"}),
    ('"8080"', {"SPIN503"}),
    ('"127.0.0.1::8080"', {"SPIN503"}),
    ('"0:8080"', {"SPIN506"}),
    ('"60040:65536"', {"SPIN506"}),
    ('"60041-60040:8080"', {"SPIN506"}),
    ('"60040:8080/sctp"', {"SPIN506"}),
    ('"60040:8080/udp"', set()),
    ('"[::1]:60040:8080"', set()),
    ('"[::1]:80:8080"', {"SPIN501"}),
    ('"a:b:c:d"', {"SPIN506"}),
])
def test_every_port_shape(make_stack, audit_json, port: str, rules: set) -> None:
    findings = audit_json(make_stack(svc(BASE + f"    ports:\n      - {port}\n"))).findings
    assert {f["rule"] for f in findings if f["rule"].startswith("SPIN5")} == rules
    assert all(f["line"] == 8 for f in findings if f["rule"].startswith("SPIN5"))


@pytest.mark.parametrize("access, port, rules", [
    ("public", '"5432:5432"', {"SPIN505"}),
    ("public", '"50000-50010:8000-8010"', {"SPIN505"}),
    ("public", '"8080:8080"', set()),
    ("public", '"60040:8080"', set()),
    ("authenticated", '"5432:5432"', set()),
    ("private", '"50000:8080"', set()),
])
def test_internal_ports_on_public_stacks(make_stack, audit_json, access: str, port: str, rules: set) -> None:
    findings = audit_json(make_stack(svc(BASE + f"    ports:\n      - {port}\n")), "--access", access).findings
    assert {f["rule"] for f in findings if f["rule"].startswith("SPIN5")} == rules


@pytest.mark.parametrize("path, rules", [
    ("/global", {"SPIN306"}),
    ("/global/x", {"SPIN306"}),  # one level below /global
    ("/global/x/y", set()),
    ("/global/cfs", {"SPIN306"}),
    ("/global/cfs/cdirs", {"SPIN306"}),
    ("/global/cfs/cdirs/proj", set()),
    ("/global/cfs/cdirs/proj/app", set()),
    ("/global/homes/f/fred", {"SPIN305"}),
    ("/global/homes", {"SPIN305"}),
    ("/global/cfs/cdirs/proj/../../../homes/f", {"SPIN305", "SPIN307"}),
    ("/globalx/data", set()),
    ("/srv/global/x", set()),
])
def test_global_mount_depth(make_stack, audit_json, path: str, rules: set) -> None:
    findings = audit_json(make_stack(_global_mount(path))).findings
    assert {f["rule"] for f in findings if f["rule"].startswith("SPIN3")} == rules


def test_stack_name_finding_points_where_the_name_came_from(make_stack, audit_json) -> None:
    files = {**svc(BASE), ".copier-answers.yml": "access: public\nstack_name: also_bad\n"}
    by_option = [f for f in audit_json(make_stack(files), "--stack", "Bad_Name").findings if f["rule"] == "SPIN702"]
    assert [(Path(f["path"]).name, f["line"]) for f in by_option] == [(DC, 1)]
    assert "(from --stack)" in by_option[0]["message"]


@pytest.mark.parametrize("key, hint", [
    ("healthcheck", "Docker's healthcheck is compose 2.1+; Rancher 1.6 uses `health_check:`"),
    ("deploy", "`deploy` is compose v3 (swarm) only"),
    ("imagee", "did you mean `image`?"),
    ("zzzz", "remove the key, or use the Rancher 1.6 equivalent"),
])
def test_unknown_key_hints(make_stack, audit_json, key: str, hint: str) -> None:
    findings = audit_json(make_stack(svc(BASE + f"    {key}: x\n"))).findings
    (finding,) = [f for f in findings if f["rule"] == "SPIN102"]
    assert finding["hint"].startswith(hint)


@pytest.mark.parametrize("dockerfile", [
    "ARG BASE\nFROM ${BASE}\n",
    "FROM python:3.12 AS build\nRUN true\nFROM build\n",
    "FROM golang:1.23 AS build\nFROM scratch\nCOPY --from=build /app /app\n",
])
def test_base_images_that_cannot_float(make_stack, audit_json, dockerfile: str) -> None:
    """A build argument without default, an earlier stage and scratch are not unpinned images."""
    result = audit_json(make_stack({**svc(BASE), "Dockerfile": dockerfile}), "--fail-on", "info")
    assert result.findings == [] and result.code == 0


@pytest.mark.parametrize("devices", ["", " []", " ~", " {}"])
def test_no_devices_is_no_device(make_stack, audit_json, devices: str) -> None:
    assert "SPIN205" not in audit_json(make_stack(svc(BASE + f"    devices:{devices}\n"))).rules


def test_malformed_secret_entries_are_only_type_errors(make_stack, audit_json) -> None:
    findings = audit_json(make_stack(svc(BASE + "    secrets:\n      - [a]\n      - 3\n      - ~\n"))).findings
    assert {f["rule"] for f in findings} == {"SPIN103", "SPIN110"}  # no secret rule judges them


@pytest.mark.parametrize("source, fires", [
    ("mystack.", True), ("mystack.pw", False), ("web.mystack.", True), ("web.mystack.pw", False),
    ("mystack", True), ("other.mystack.pw", True)])
def test_secret_names_need_a_file_name(make_stack, audit_json, source: str, fires: bool) -> None:
    compose = svc(BASE + f"    secrets:\n      - source: {source}\n        target: pw\n        mode: '0400'\n",
                  f"secrets:\n  {source}:\n    external: true\n")
    assert ("SPIN602" in audit_json(make_stack(compose)).rules) == fires


@pytest.mark.parametrize("volume", ["{source: ../data, target: /data}", "{source: /global/x, target: /d}"])
def test_long_form_volumes_without_a_type_are_judged_by_their_source(make_stack, audit_json, volume: str) -> None:
    rules = audit_json(make_stack(svc(BASE + f"    volumes:\n      - {volume}\n"))).rules
    assert ("SPIN309" if "../" in volume else "SPIN306") in rules


def test_a_boolean_secret_mode_is_read_as_a_boolean_not_a_number(make_stack, audit_json) -> None:
    compose = svc(BASE + "    secrets:\n      - source: mystack.pw\n        target: pw\n        mode: true\n",
                  "secrets:\n  mystack.pw:\n    external: true\n")
    findings = audit_json(make_stack(compose)).findings
    assert [(f["rule"], f["message"]) for f in findings] == [
        ("SPIN110", "service 'web': `secrets[0].mode: true` is read as a boolean; Rancher expects a string"),
        ("SPIN604", "service 'web': secret 'mystack.pw' mode 'true' is not an octal file mode")]


def test_a_nested_unknown_key_names_where_it_sits(make_stack, audit_json) -> None:
    findings = audit_json(make_stack(svc(BASE + "    logging:\n      driver: json-file\n      opts: {}\n"))).findings
    (finding,) = [f for f in findings if f["rule"] == "SPIN102"]
    assert finding["message"] == "service 'web': key `opts` is not accepted in `logging`"


def test_a_placeholder_secret_owner_beside_a_numeric_user(make_stack, audit_json) -> None:
    compose = svc(BASE + '    user: "501:124"\n    secrets:\n      - source: mystack.pw\n        target: pw\n'
                         "        uid: UserID\n        gid: '124'\n        mode: '0400'\n",
                  "secrets:\n  mystack.pw:\n    external: true\n")
    findings = [f for f in audit_json(make_stack(compose)).findings if f["rule"] == "SPIN605"]
    assert [f["message"] for f in findings] == ["service 'web': secret uid 'UserID' is not a numeric id"]


def test_a_global_mount_below_an_unknown_variable_is_not_called_shallow(make_stack, audit_json) -> None:
    rules = audit_json(make_stack(_global_mount("/global/${PROJECT_DIR}"))).rules
    assert "SPIN306" not in rules and "SPIN301" not in rules  # global, with a numeric user
    assert "SPIN306" in audit_json(make_stack(_global_mount("/global/${PROJECT_DIR:-x}"))).rules


@pytest.mark.parametrize("args, answers, origin", [
    (("--access", "public"), None, "--access"), ((), "access: public\n", ".copier-answers.yml")])
def test_read_write_public_mount_says_where_access_came_from(make_stack, audit_json, args, answers, origin) -> None:
    files = svc(BASE + '    user: "12345:6789"\n    volumes:\n      - /global/cfs/cdirs/proj/app:/data\n')
    if answers:
        files[".copier-answers.yml"] = answers
    (finding,) = [f for f in audit_json(make_stack(files), *args).findings if f["rule"] == "SPIN303"]
    assert finding["message"].endswith(f"read-write on a public stack (access from {origin})")


@pytest.mark.parametrize("interval, fires", [(0, True), (99, True), (100, False), (2000, False)])
def test_health_check_times_below_100_look_like_seconds(make_stack, audit_json, interval, fires) -> None:
    files = {**svc(BASE), RC: f"version: '2'\nservices:\n  web:\n    health_check:\n      port: 8080\n"
                              f"      interval: {interval}\n"}
    assert ("SPIN109" in audit_json(make_stack(files)).rules) == fires


@pytest.mark.parametrize("value, hint", [
    ("retain_ip: 5", "write a boolean"), ("retain_ip: 'true'", "write true or false without quotes"),
    ("cap_add: CHOWN", "write a YAML list (one `- item` per line)")])
def test_type_hints_say_what_to_write(make_stack, audit_json, value: str, hint: str) -> None:
    files = {**svc(BASE), RC: f"version: '2'\nservices:\n  web:\n    {value}\n"}
    (finding,) = [f for f in audit_json(make_stack(files)).findings if f["rule"] == "SPIN103"]
    assert finding["hint"] == hint


GALLERY = Path(__file__).resolve().parent / "fixtures" / "gallery.json"


def _shown(finding: dict) -> str:
    """A finding as the text report shows it (the file by its name), hint included."""
    return (f"{Path(finding['path']).name}:{finding['line']}:{finding['column']}: {finding['rule']} "
            f"[{finding['severity']}] {finding['message']} | hint: {finding['hint']}")


def test_every_case_reads_exactly_as_the_gallery(make_stack, audit_json) -> None:
    """What a user reads for each case that breaks a rule: every finding of that rule, message and
    hint included. After changing a message on purpose, rewrite the gallery with
    `SPIN_AUDIT_WRITE_GALLERY=1 pytest tests/audit/test_audit_rules.py -k gallery` and review its diff."""
    import json
    import os

    seen = {}
    for case in CASES:
        result = audit_json(make_stack(case.fires, f"case{len(seen)}/mystack"), *case.args)
        seen[_case_id(case)] = [_shown(f) for f in result.findings if f["rule"] == case.rule]
    if os.environ.get("SPIN_AUDIT_WRITE_GALLERY"):
        GALLERY.write_text(json.dumps(seen, indent=1, ensure_ascii=False) + "\n")
    assert seen == json.loads(GALLERY.read_text())


@pytest.mark.parametrize("value, fires", [
    ("true", True), ("'yes'", True), ("'on'", True), ("'1'", True), ("'True'", True),
    ("false", False), ("'no'", False), ("'off'", False), ("'0'", False)])
def test_what_rancher_takes_as_privileged(make_stack, audit_json, value: str, fires: bool) -> None:
    assert ("SPIN203" in audit_json(make_stack(svc(BASE + f"    privileged: {value}\n"))).rules) == fires


@pytest.mark.parametrize("key", ["network_mode", "net", "pid", "ipc", "uts"])
def test_every_host_namespace_key(make_stack, audit_json, key: str) -> None:
    assert "SPIN204" in audit_json(make_stack(svc(BASE + f"    {key}: host\n"))).rules


def test_top_level_networks_volumes_and_secrets_are_format_2(make_stack, audit_json) -> None:
    top = "networks:\n  front: {}\nvolumes:\n  web.mystack: {}\nsecrets:\n  mystack.pw:\n    external: true\n"
    assert "SPIN105" not in audit_json(make_stack(svc(BASE, top))).rules


def test_a_secret_without_uid_is_owned_by_root(make_stack, audit_json) -> None:
    compose = svc(BASE + '    user: "501:124"\n    secrets:\n      - source: mystack.pw\n        target: pw\n'
                         "        mode: '0400'\n", "secrets:\n  mystack.pw:\n    external: true\n")
    messages = [f["message"] for f in audit_json(make_stack(compose)).findings if f["rule"] == "SPIN605"]
    assert messages == ["service 'web' runs as uid 501 but secret 'mystack.pw' is owned by uid 0"]


@pytest.mark.parametrize("image, rules", [
    ("localhost/app:1.0", {"SPIN401"}), ("registry.spin.nersc.gov/p/app:1.0", set()),
    ("myorg/app:1.0", set()), ("docker.io/myorg/app:1.0", set())])
def test_registry_hosts(make_stack, audit_json, image: str, rules: set) -> None:
    findings = audit_json(make_stack(svc(f"    image: {image}\n    cap_drop: [ALL]\n"))).findings
    assert {f["rule"] for f in findings if f["rule"].startswith("SPIN4")} == rules


def test_a_date_where_a_string_belongs(make_stack, audit_json) -> None:
    findings = audit_json(make_stack(svc(BASE + "    hostname: 2018-01-01\n"))).findings
    assert [f["message"] for f in findings if f["rule"] == "SPIN110"] == [
        "service 'web': `hostname: 2018-01-01` is read as a date; Rancher expects a string"]


@pytest.mark.parametrize("value, kind", [("3.14", "a number"), ("8080", "a number"), ("yes", "a boolean")])
def test_what_yaml_reads_where_a_string_belongs(make_stack, audit_json, value: str, kind: str) -> None:
    findings = audit_json(make_stack(svc(BASE + f"    hostname: {value}\n"))).findings
    assert [f["message"] for f in findings if f["rule"] == "SPIN110"] == [
        f"service 'web': `hostname: {value}` is read as {kind}; Rancher expects a string"]


@pytest.mark.parametrize("setting, message", [
    ("cap_add: CHOWN", "`cap_add` must be a list, found 'CHOWN'"),
    ("privileged: [true]", "`privileged` must be a boolean, found a list"),
    ("cpu_shares: {a: 1}", "`cpu_shares` must be a number or a string, found a mapping"),
])
def test_a_value_of_another_type_names_the_types_rancher_accepts(make_stack, audit_json, setting: str,
                                                                  message: str) -> None:
    findings = audit_json(make_stack(svc(BASE + f"    {setting}\n"))).findings
    assert [f["message"] for f in findings if f["rule"] == "SPIN103"] == [f"service 'web': {message}"]


def test_a_dockerfile_template_is_not_a_dockerfile(make_stack, audit_json) -> None:
    stack = make_stack({**svc(BASE), "web/Dockerfile.jinja": "FROM {{ base }}\nUSER root\n"})
    assert audit_json(stack, "--fail-on", "info").findings == []


def test_a_dockerfile_in_a_hidden_folder_is_not_the_stacks(make_stack, audit_json) -> None:
    stack = make_stack({**svc(BASE), ".devcontainer/Dockerfile": "FROM python\n", ".Dockerfile": "FROM python\n"})
    assert audit_json(stack, "--fail-on", "info").findings == []


def test_a_secret_name_that_starts_with_a_dot_names_no_service(make_stack, audit_json) -> None:
    compose = svc(BASE + "    secrets:\n      - .mystack.pw\n", "secrets:\n  .mystack.pw:\n    external: true\n",
                  name='""')
    findings = audit_json(make_stack(compose)).findings
    assert [f["message"] for f in findings if f["rule"] == "SPIN602"] == [
        "service '' uses secret '.mystack.pw', not named <service>.mystack.<filename> or mystack.<filename> "
        "(stack name from directory name)"]


def test_a_long_form_named_volume_is_not_a_bind_mount(make_stack, audit_json) -> None:
    compose = svc(BASE + "    volumes:\n      - {type: volume, source: data, target: /data}\n",
                  "volumes:\n  data:\n    driver: rancher-nfs\n")
    rules = audit_json(make_stack(compose)).rules
    assert "SPIN309" not in rules and "SPIN308" not in rules


def test_internal_port_ranges_reaching_into_an_open_set(make_stack, audit_json) -> None:
    findings = audit_json(make_stack(svc(BASE + '    ports:\n      - "50040-50060:8040-8060"\n')),
                          "--access", "public").findings
    assert {f["rule"] for f in findings} == {"SPIN502", "SPIN505"}


@pytest.mark.parametrize("expose, fires", [('"1000-2000"', True), ('"1024-2000"', False), ("80", True)])
def test_exposed_ranges_below_1024(make_stack, audit_json, expose: str, fires: bool) -> None:
    assert ("SPIN504" in audit_json(make_stack(svc(BASE + f"    expose:\n      - {expose}\n"))).rules) == fires


@pytest.mark.parametrize("value", ["yes", "no", "true", "false", "on", "off", "0", "1", "y", "n", "Yes", "TRUE"])
def test_a_flag_is_not_a_secret(make_stack, audit_json, value: str) -> None:
    compose = svc(BASE + f"    environment:\n      - MYSQL_ALLOW_EMPTY_PASSWORD={value}\n")
    assert "SPIN601" not in audit_json(make_stack(compose)).rules


@pytest.mark.parametrize("key", ["volumes", "secrets", "networks"])
def test_top_level_sections_must_be_mappings(make_stack, audit_json, key: str) -> None:
    findings = audit_json(make_stack(svc(BASE, f"{key}: [a]\n"))).findings
    assert [f["message"] for f in findings if f["rule"] == "SPIN104"] == [f"top-level `{key}` must be a mapping"]


@pytest.mark.parametrize("key, hint", [
    ("configs", "`configs` is compose v3 only; put the file in a Rancher secret or bake it into the image"),
    ("credential_spec", "compose v3 only; remove it"), ("userns_mode", "Rancher 1.6 does not accept it; remove it"),
    ("pids_limit", "not a Rancher 1.6 key; remove it"),
    ("cpus", "not a Rancher 1.6 key; use `cpu_quota`/`cpu_period` or `milli_cpu_reservation`")])
def test_every_docker_only_key_has_its_hint(make_stack, audit_json, key: str, hint: str) -> None:
    (finding,) = [f for f in audit_json(make_stack(svc(BASE + f"    {key}: x\n"))).findings if f["rule"] == "SPIN102"]
    assert finding["hint"] == hint


@pytest.mark.parametrize("port, shown", [('"79-81:8080"', "79-81"), ('"443:8443"', "443")])
def test_a_proxy_port_finding_shows_the_host_ports(make_stack, audit_json, port: str, shown: str) -> None:
    (finding,) = [f for f in audit_json(make_stack(svc(BASE + f"    ports:\n      - {port}\n"))).findings
                  if f["rule"] == "SPIN501"]
    assert finding["message"] == f"service 'web' publishes host port {shown} ({port.strip(chr(34))!r}): 80 and 443 " \
                                 "belong to the reverse proxy"


def test_a_dockerfile_belongs_to_the_service_that_builds_it(make_stack, audit_json) -> None:
    compose = svc('    image: registry.spin.nersc.gov/p/web:v1\n    build: ./frontend\n    cap_drop: [ALL]\n'
                  '    user: "501:124"\n    volumes:\n      - /global/cfs/cdirs/p/web:/www:ro\n')
    findings = audit_json(make_stack({**compose, "frontend/Dockerfile": "FROM nginx:1.27\nUSER root\n"})).findings
    assert [(f["rule"], f.get("service")) for f in findings if f["rule"] == "SPIN802"] == [("SPIN802", "web")]


@pytest.mark.parametrize("read_only, fires", [("    read_only: true\n", False), ("    read_only: false\n", True),
                                              ("", True)])
def test_a_long_form_mount_can_be_read_only(make_stack, audit_json, read_only: str, fires: bool) -> None:
    mount = "      - type: bind\n        source: /global/cfs/cdirs/p/app\n        target: /d\n" + \
            read_only.replace("    read_only", "        read_only")
    stack = make_stack(svc(BASE + '    user: "501:124"\n    volumes:\n' + mount))
    rules = audit_json(stack, "--access", "public").rules
    assert ("SPIN303" in rules) == fires


def test_a_finding_shows_the_value_as_written(make_stack, audit_json) -> None:
    findings = audit_json(make_stack({DC: "version: 1.10\nservices:\n  web:\n    image: nginx:1.27\n"})).findings
    assert "compose version '1.10' is not supported by Rancher 1.6 (only '2')" in [f["message"] for f in findings]


def test_a_long_value_is_shown_cut_to_60_characters(make_stack, audit_json) -> None:
    written = "2.0-" + "abcdefghij" * 7
    findings = audit_json(make_stack({DC: f"version: {written}\nservices:\n  web:\n    image: nginx:1.27\n"})).findings
    shown = repr(written[:57] + "...")
    assert f"compose version {shown} is not supported by Rancher 1.6 (only '2')" in [f["message"] for f in findings]


def test_an_untagged_image_that_is_always_pulled(make_stack, audit_json) -> None:
    compose = svc("    image: nginx\n    cap_drop: [ALL]\n    labels:\n      io.rancher.container.pull_image: always\n")
    assert [f["message"] for f in audit_json(make_stack(compose)).findings if f["rule"] == "SPIN403"] == [
        "service 'web' image 'nginx' has no tag"]


@pytest.mark.parametrize("options, fires", [(":ro,z", False), (":z,ro", False), (":rw,z", True), ("", True)])
def test_read_only_among_other_mount_options(make_stack, audit_json, options: str, fires: bool) -> None:
    stack = make_stack(svc(BASE + f'    user: "501:124"\n    volumes:\n      - /global/cfs/cdirs/p/app:/d{options}\n'))
    assert ("SPIN303" in audit_json(stack, "--access", "public").rules) == fires


def test_a_service_built_from_a_dockerfile_is_not_told_it_has_no_image(make_stack, audit_json) -> None:
    """`build:` without `image:` is a service rancher builds itself (SPIN404 is about a service with neither)."""
    result = audit_json(make_stack(svc("    build: .\n    cap_drop:\n      - ALL\n")))
    assert "SPIN404" not in result.rules, result.findings
