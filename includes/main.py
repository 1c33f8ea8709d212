"""Starter service of a Spin stack: a small HTTP server with no dependencies.

It listens on $PORT (above 1024, so it needs no capability), answers Spin's
health check on {{ stack.health_path }} and logs to stdout, where Spin collects logs. Replace
it with your application; keep {{ stack.health_path }}, or change the checks that call it
(the probes in k8s/base/, or rancher-compose.yml on Rancher 1.6).
"""

import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT = int(os.environ.get("PORT", "{{ stack.ports.app }}"))  # the image sets PORT; outside it, the answered app_port
SERVICE = os.environ.get("SERVICE_NAME", "app")
STACK = os.environ.get("STACK_NAME", "")
HEALTH_PATH = "{{ stack.health_path }}"  # where the probes ask (k8s/base/, rancher-compose.yml)


def describe():
    """What this service knows about its stack, without any secret value."""
    return {
        "service": SERVICE,
        "stack": STACK,
        "database": os.environ.get("DB_HOST") and {
            "engine": os.environ.get("DB_ENGINE"),
            "host": os.environ.get("DB_HOST"),
            "name": os.environ.get("DB_NAME"),
            "password_file_readable": os.access(os.environ.get("DB_PASSWORD_FILE", ""), os.R_OK),
        },
        "secrets": sorted(os.listdir("/run/secrets")) if os.path.isdir("/run/secrets") else [],
    }


class Handler(BaseHTTPRequestHandler):
    server_version = "spin-starter"

    def do_GET(self):
        if self.path == HEALTH_PATH:
            self.reply(200, "text/plain", b"ok\n")
        else:
            self.reply(200, "application/json", json.dumps(describe(), indent=2).encode() + b"\n")

    def reply(self, status, content_type, body):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):  # noqa: A002 (the base class's name)
        sys.stdout.write("%s %s\n" % (self.address_string(), format % args))


if __name__ == "__main__":
    print(f"{SERVICE} of stack {STACK or '?'} listening on port {PORT}", flush=True)
    ThreadingHTTPServer(("0.0.0.0", PORT), Handler).serve_forever()
