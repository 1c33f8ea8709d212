"""Random and mutated stacks: the exit status is 0, 1 or 2 and nothing escapes as a traceback."""

from __future__ import annotations

import contextlib
import io
import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from spin_audit.cli import main
from spin_audit.schema import service_keys

KEYS = list(service_keys()) + ["healthcheck", "deploy", "x", "<<", "source", "target", "uid", "gid", "mode"]
WORDS = ["ALL", "SYS_ADMIN", "host", "/global/cfs/cdirs/p/x:/d:ro", "/global:/g", "80:8080", "22:22", "1000:50",
         "nginx", "nginx:latest", "quay.io/a/b:1", "UserID:GroupID", "0400", "0", "yes", "GET / HTTP/1.0",
         "db.s.pw", "${X}", "a=b", "", " ", "\u00e9", ":", "::", "[", "-"]

scalars = st.one_of(st.none(), st.booleans(), st.integers(-70000, 70000), st.floats(allow_nan=True),
                    st.sampled_from(WORDS), st.text(max_size=12))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(KEYS), inner, max_size=4)), max_leaves=12)
services = st.dictionaries(st.sampled_from(["web", "app", "db", "x y", "Web", "1"]),
                           st.one_of(st.dictionaries(st.sampled_from(KEYS), values, max_size=8), values), max_size=3)
documents = st.fixed_dictionaries({"services": services}, optional={
    "version": st.sampled_from(["2", 2, "3", None]), "volumes": values, "secrets": values, "x": values})


def _run(files: dict) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        stack = Path(tmp) / "stack"
        stack.mkdir()
        for name, data in files.items():
            path = stack / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        out, err = io.StringIO(), io.StringIO()
        for args in ([], ["--format", "sarif", "--access", "public"]):
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                code = main(args + [str(stack)])
            assert code in (0, 1, 2)
            assert "internal error" not in err.getvalue(), err.getvalue()
            assert (code == 2) == bool(err.getvalue())


def _dump(data) -> bytes:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False).encode()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(compose=documents, rancher=st.one_of(st.none(), documents), dockerfile=st.text(max_size=80))
def test_generated_stacks(compose, rancher, dockerfile) -> None:
    files = {"docker-compose.yml": _dump(compose), "web/Dockerfile": dockerfile.encode()}
    if rancher is not None:
        files["rancher-compose.yml"] = _dump(rancher)
    _run(files)


BASE = (Path(__file__).resolve().parent / "fixtures" / "myportal" / "docker-compose.yml").read_bytes()


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(BASE)), st.integers(0, 8), st.binary(max_size=6)), max_size=4))
def test_mutated_stack_text(edits) -> None:
    data = bytearray(BASE)
    for position, cut, insert in edits:
        data[position:position + cut] = insert
    _run({"docker-compose.yml": bytes(data)})
