"""The rendered nginx.conf with a real nginx in front of the real starter app:
health check, proxying to app and api, static files. Needs an nginx binary
(skipped without one); the addresses are moved to loopback ports."""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from stackkit import minimal_answers

NGINX = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/sbin")
pytestmark = pytest.mark.skipif(not NGINX, reason="nginx is not installed")


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def get(url):
    for _ in range(100):
        try:
            return urllib.request.urlopen(url, timeout=2).read()
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"no answer from {url}")


@pytest.fixture
def serve(tmp_path):
    """serve(stack) starts its web (and app/api, when rendered) on loopback ports; returns web's port."""
    processes = []

    def start(stack):
        ports = {role: free_port() for role in ("web", "app", "api")}
        for role in ("app", "api"):
            if (stack / role).is_dir():
                env = {"PORT": str(ports[role]), "SERVICE_NAME": role, "STACK_NAME": stack.name, "PATH": "/usr/bin:/bin"}
                processes.append(subprocess.Popen([sys.executable, str(stack / role / "main.py")], env=env,
                                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        config = (stack / "web" / "nginx.conf").read_text()
        (tmp_path / "cache").mkdir()
        config = (config.replace("http://app:8000", f"http://127.0.0.1:{ports['app']}")
                  .replace("http://api:8000", f"http://127.0.0.1:{ports['api']}")
                  .replace("listen 8080;", f"listen 127.0.0.1:{ports['web']};")
                  .replace("/var/cache/nginx", str(tmp_path / "cache"))
                  .replace("/var/tmp/nginx.pid", str(tmp_path / "nginx.pid"))
                  .replace("/usr/share/nginx/html", str(stack / "web" / "html")))
        if os.geteuid() == 0:  # nginx started by root hands requests to `nobody`, who cannot read tmp_path
            config = "user root;\n" + config
        (tmp_path / "nginx.conf").write_text(config)
        check = subprocess.run([NGINX, "-t", "-c", str(tmp_path / "nginx.conf")], capture_output=True, text=True)
        assert check.returncode == 0, check.stderr
        processes.append(subprocess.Popen([NGINX, "-c", str(tmp_path / "nginx.conf"), "-g", "daemon off;"],
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        return ports["web"]

    yield start
    for process in processes:
        process.terminate()
        process.wait(timeout=10)


def test_web_answers_health_and_proxies_app_and_api(render, serve):
    port = serve(render(minimal_answers(stack_name="webtest", services=["web", "app", "api"])))
    assert get(f"http://127.0.0.1:{port}/healthz") == b"ok\n"
    assert b'"service": "app"' in get(f"http://127.0.0.1:{port}/")
    assert b'"service": "api"' in get(f"http://127.0.0.1:{port}/api/")


def test_static_site_without_app(render, serve):
    port = serve(render(minimal_answers(stack_name="static", services=["web"])))
    assert get(f"http://127.0.0.1:{port}/healthz") == b"ok\n"
    assert b"web service of the Spin stack static" in get(f"http://127.0.0.1:{port}/")
