"""SPIN7xx: Spin's naming conventions for services, stacks and Rancher NFS volumes."""

from __future__ import annotations

import re
from collections.abc import Iterator

from spin_audit.facts import SERVICE_ROLES
from spin_audit.registry import Hit, Location, Severity, rule
from spin_audit.stack import ANSWERS_NAME, Stack

W, INFO = Severity.WARNING, Severity.INFO

SERVICE_NAME = re.compile(rf"^({'|'.join(map(re.escape, SERVICE_ROLES))})(-[a-z0-9]+)*$")
STACK_NAME = re.compile(r"^[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$")


@rule("SPIN701", "service-name", W,
      title="Service name is not a Spin role",
      hint=f"name services by role: {', '.join(SERVICE_ROLES)}, optionally with -suffix (web-nginx)",
      help=f"""Spin names services by what they do, not by the software: {', '.join(SERVICE_ROLES)},
      optionally followed by a suffix (web-nginx, db-dump). The name becomes part of the DNS name
      <service>.<stack>.<environment>.stable.spin.nersc.org.""")
def service_name(stack: Stack) -> Iterator[Hit]:
    for service in stack.services.values():
        if service.compose is not None and not SERVICE_NAME.match(service.name):
            yield Hit(service.location, f"service '{service.name}' is not named after a role", service.name)


@rule("SPIN702", "stack-name", W,
      title="Stack name is not a DNS label",
      hint="use lower-case letters, digits and '-', starting with a letter (foo-jgi-doe for foo.jgi.doe.gov)",
      help="""The stack name is part of DNS names and of secret and volume names: lower-case letters,
      digits and '-', starting with a letter, at most 63 characters; by convention the public name's
      labels without the TLD (foo.jgi.doe.gov -> foo-jgi-doe). `rancher up` takes the directory name
      unless `--stack` is given.""")
def stack_name(stack: Stack) -> Iterator[Hit]:
    if not stack.compose_files or STACK_NAME.match(stack.name):
        return
    where = stack.compose_files[0].start
    if stack.name_origin == ANSWERS_NAME and stack.answers is not None:
        node = stack.answers.root.get("stack_name")
        if node is not None:
            where = Location(stack.answers.source.display, node.line, node.col)
    yield Hit(where, f"stack name '{stack.name}' (from {stack.name_origin}) is not a lower-case DNS label")


@rule("SPIN703", "volume-name", INFO,
      title="Rancher NFS volume not named <service>.<stack>",
      hint="name the volume <service>.<stack>, e.g. db.myportal",
      help="""Rancher NFS volumes are named after the service and stack that own them (db.myportal) and
      created beforehand with `rancher volume create --driver rancher-nfs db.myportal`.""")
def volume_name(stack: Stack) -> Iterator[Hit]:
    found = stack.top("volumes")
    if found is None:
        return
    wanted = {f"{name}.{stack.name}" for name in stack.services}
    for name, node in found.node.items():
        driver = node.get("driver")
        if driver is not None and driver.text() == "rancher-nfs" and str(name) not in wanted:
            yield Hit(found.at(node, key=True), f"volume '{name}' is not named <service>.{stack.name}")
