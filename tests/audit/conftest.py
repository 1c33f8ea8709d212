"""Fixtures for the spin-audit tests: write stacks to a temporary directory, render one from
the current template, and run the CLI."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Optional, Union

import pytest
from spin_audit.cli import main

from stackkit import minimal_answers, write_files

# Every role, a global file system mount and a shared secret, on a public stack: the most the
# template renders, and what the audit must find clean.
EVERY_ROLE = minimal_answers(
    stack_name="demo-nersc", fqdn="demo.nersc.gov", access="public", db_engine="postgres",
    services=["web", "app", "api", "db", "kv", "util"],
    gpfs_mounts=[{"service": "web", "host_path": "/global/cfs/cdirs/demo/static", "container_path": "/srv/static"}],
    secrets={"api_key": ["app", "api"]})


@pytest.fixture(scope="session")
def rendered_stack(render) -> Path:
    """A stack rendered by copier from the current template (not a copy that could go stale)."""
    return render(EVERY_ROLE)


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def findings(self) -> List[dict]:
        return json.loads(self.out)

    @property
    def rules(self) -> List[str]:
        return [f["rule"] for f in self.findings]


Files = Dict[str, Union[str, bytes]]


@pytest.fixture
def make_stack(tmp_path: Path) -> Callable[..., Path]:
    """make_stack({"docker-compose.yml": "..."}, name="mystack") -> the stack directory."""

    def make(files: Files, name: str = "mystack") -> Path:
        return write_files(tmp_path / name, files)

    return make


@pytest.fixture
def cli(capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    """Run spin-audit in-process: cli(*args, cwd=None) -> Result."""

    def run(*args: object, cwd: Optional[Path] = None) -> Result:
        if cwd is not None:
            monkeypatch.chdir(cwd)
        capsys.readouterr()
        code = main([str(a) for a in args])
        out, err = capsys.readouterr()
        return Result(code, out, err)

    return run


@pytest.fixture
def audit_json(cli: Callable[..., Result]) -> Callable[..., Result]:
    """audit_json(stack_dir, *options) -> Result of `spin-audit --format json` (exit 0 or 1 expected)."""

    def run(path: Path, *args: object) -> Result:
        result = cli("--format", "json", *args, path)
        assert result.code in (0, 1), result.err
        return result

    return run
