"""The small parsers the rules rely on: Dockerfiles, image references, ports, volumes, YAML nodes."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from spin_audit.dockerfile import parse_dockerfile, substitute
from spin_audit.loader import SourceFile
from spin_audit.rules.images import parse_image
from spin_audit.rules.network import parse_port
from spin_audit.rules.secrets import split_secret_name
from spin_audit.stack import normalise_host_path


def _dockerfile(text: str):
    return parse_dockerfile(SourceFile("/x/Dockerfile", "Dockerfile", text))


def test_dockerfile_stages_users_and_continuations() -> None:
    parsed = _dockerfile(
        "# syntax=docker/dockerfile:1\n"
        "ARG PY=3.12\n"
        "ARG BASE\n"
        "from --platform=$BUILDPLATFORM python:${PY}-slim as build\n"
        "RUN apt-get update \\\n"
        "# a comment inside a continuation\n"
        "\n"
        " && apt-get install -y gcc\n"
        "RUN <<EOF\n"
        "FROM evil:latest\n"
        "USER root\n"
        "EOF\n"
        "\n"
        "# the final stage\n"
        "FROM build AS final\n"
        "ARG UID=12345\n"
        "user ${UID}:6789\n"
        "FROM ${BASE}\n"
    )
    images = [(s.image, s.line, s.name) for s in parsed.stages]
    assert images == [("python:3.12-slim", 4, "build"), ("build", 15, "final"), (None, 18, None)]
    assert parsed.stages[1].parent is parsed.stages[0]
    assert parsed.stages[1].final_user() == ("12345:6789", 17, True)
    assert [(i.keyword, i.line) for i in parsed.instructions] == [
        ("ARG", 2), ("ARG", 3), ("FROM", 4), ("RUN", 5), ("RUN", 9), ("FROM", 15), ("ARG", 16), ("USER", 17),
        ("FROM", 18)]
    assert parsed.instructions[3].args == "apt-get update && apt-get install -y gcc"


def test_dockerfile_blank_line_inside_a_continuation_does_not_end_it() -> None:
    parsed = _dockerfile("FROM alpine:3.20\nUSER \\\n\n   root\n")
    assert [(i.keyword, i.args) for i in parsed.instructions] == [("FROM", "alpine:3.20"), ("USER", "root")]
    assert parsed.final.final_user() == ("root", 2, True)


@pytest.mark.parametrize("line, variables", [
    ("ENV A=1 B=2", {"A": "1", "B": "2"}),
    ("ENV NAME web server", {"NAME": "web server"}),
    ("ENV NAME web", {"NAME": "web"}),
    ("ARG UID=501 GID", {"UID": "501", "GID": None}),
    ('ENV DOUBLE="a" SINGLE=\'c\'', {"DOUBLE": "a", "SINGLE": "c"}),
    ('ENV Q="', {"Q": '"'}),
    ("ENV EMPTY=", {"EMPTY": ""}),
    ('ARG QUOTED_EMPTY=""', {"QUOTED_EMPTY": ""}),
])
def test_dockerfile_assignments(line: str, variables: dict) -> None:
    assert _dockerfile(f"FROM alpine:3.20\n{line}\n").stages[0].variables == variables


def test_dockerfile_user_inherited_from_the_parent_stage() -> None:
    parsed = _dockerfile("FROM alpine:3.20 AS base\nUSER 501\nFROM base\nRUN true\n")
    assert parsed.final.final_user() == ("501", 2, True)


def test_dockerfile_escape_directive() -> None:
    parsed = _dockerfile("# escape=`\nFROM mcr.microsoft.com/windows:ltsc2022\nRUN dir `\n  c:\\\nUSER admin\n")
    assert [i.keyword for i in parsed.instructions] == ["FROM", "RUN", "USER"]


def test_substitute() -> None:
    assert substitute("a:${T:-1.0}", {}) == "a:1.0"
    assert substitute("a:$T", {"T": "2"}) == "a:2"
    assert substitute("a:${T}", {}) is None
    assert substitute("a${T:+-x}", {"T": "y"}) == "a-x"


@pytest.mark.parametrize("text, registry, path, tag, floating", [
    ("nginx", None, "nginx", None, True),
    ("nginx:1.27", None, "nginx", "1.27", False),
    ("library/nginx:latest", None, "library/nginx", "latest", True),
    ("user/app:v1", None, "user/app", "v1", False),
    ("docker.io/user/app", "docker.io", "user/app", None, True),
    ("registry.spin.nersc.gov/proj/app:v0.1.0", "registry.spin.nersc.gov", "proj/app", "v0.1.0", False),
    ("localhost:5000/app:1", "localhost:5000", "app", "1", False),
    ("ghcr.io/o/a@sha256:" + "0" * 64, "ghcr.io", "o/a", None, False),
])
def test_parse_image(text, registry, path, tag, floating) -> None:
    ref = parse_image(text)
    assert ref is not None and (ref.registry, ref.path, ref.tag, ref.floating) == (registry, path, tag, floating)


@pytest.mark.parametrize("text", ["Nginx:1", "a b", "nginx:", "/nginx", "nginx:tag with space", ""])
def test_parse_image_rejects(text) -> None:
    assert parse_image(text) is None


@pytest.mark.parametrize("text, parsed", [
    ("8080", (None, (8080, 8080))),
    ("60000:8080", ((60000, 60000), (8080, 8080))),
    ("60000:8080/tcp", ((60000, 60000), (8080, 8080))),
    ("127.0.0.1:60000:8080", ((60000, 60000), (8080, 8080))),
    ("127.0.0.1::8080", (None, (8080, 8080))),
    ("[::1]:60000:8080", ((60000, 60000), (8080, 8080))),
    ("60000-60010:8000-8010", ((60000, 60010), (8000, 8010))),
    ("0:80", None), ("70000:80", None), ("a:b", None), ("1:2:3:4", None), ("80/sctp", None), ("2-1:80", None),
])
def test_parse_port(text, parsed) -> None:
    assert parse_port(text) == parsed


@pytest.mark.parametrize("path, normal", [
    ("/global/cfs/cdirs/", "/global/cfs/cdirs"),
    ("//global//cfs/./cdirs/p/..", "/global/cfs/cdirs"),
    ("/global/cfs/cdirs/p/../../../homes/u", "/global/homes/u"),
    ("/global/../etc", "/etc"),
])
def test_normalise_host_path(path, normal) -> None:
    assert normalise_host_path(path) == normal


def test_only_scalars_have_text() -> None:
    from spin_audit.loader import parse_yaml

    root = parse_yaml(SourceFile("/x/a.yml", "a.yml", "m: {b: c}\nl: [1]\nn: ~\ns: x\ni: 0400\n")).root
    assert [root.get(key).text() for key in "mlnsi"] == [None, None, None, "x", "0400"]


@pytest.mark.parametrize("source, parts", [
    ("mystack.k", (None, "k")),  # a shared secret of a one-letter file
    ("mystack.db_password", (None, "db_password")),
    ("web.mystack.k", ("web", "k")),
    ("web.mystack.db_password", ("web", "db_password")),
    ("db.mystack.mystack.pw", ("db", "mystack.pw")),
    ("mystack.", None),
    ("web.mystack.", None),
    ("other.mystack.pw", None),  # not a service of the stack
    ("web.other.pw", None),
    ("pw", None),
])
def test_split_secret_name(source, parts):
    """Spin's names: <service>.<stack>.<file> for one reader, <stack>.<file> for a shared secret."""
    stack = SimpleNamespace(name="mystack", services={"web": None, "db": None})
    assert split_secret_name(stack, source) == parts
