"""Broken or hostile input ends with exit 2 and one line on stderr: never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from spin_audit.loader import DEFAULT_LOADER, MAX_FILE_BYTES, InputError, PythonLoader, SourceFile, parse_yaml

VALID = b"version: '2'\nservices:\n  web:\n    image: nginx:1.27\n    cap_drop: [ALL]\n"


def _billion_laughs() -> bytes:
    text = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    previous = "a"
    for letter in "bcdefghij":
        text += f"{letter}: &{letter} [" + ",".join([f"*{previous}"] * 9) + "]\n"
        previous = letter
    return text.encode()


def _merge_chain() -> bytes:
    """Each mapping merges the one before it: shallow text, deep once merged."""
    lines = ["a0: &a0 {k: v}"] + [f"a{i}: &a{i} {{<<: *a{i - 1}, k{i}: v}}" for i in range(1, 3000)]
    return ("\n".join(lines) + "\n").encode()


HOSTILE = {
    "binary": b"\x7fELF\x02\x01\x01\x00\x00\x00" + bytes(range(256)),
    "not-utf8": b"version: '2'\nservices:\n  web:\n    image: caf\xe9:1\n",
    "not-yaml": b"version: '2'\nservices: {{{\n",
    "tab-indent": b"version: '2'\nservices:\n\tweb: {}\n",
    "list-at-top": b"- version: '2'\n- services: {}\n",
    "scalar-at-top": b"just a string\n",
    "empty": b"",
    "only-comments": b"# nothing here\n",
    "billion-laughs": _billion_laughs(),
    "recursive-alias": b"a: &a [*a]\n",
    "merge-chain": _merge_chain(),
    "deep-nesting": b"a: " + b"[" * 50000 + b"]" * 50000 + b"\n",
    "deep-block-nesting": b"".join(b"  " * i + b"k:\n" for i in range(200)) + b"  " * 200 + b"v\n",
    "huge": b"version: '2'\n#" + b"x" * (MAX_FILE_BYTES + 10) + b"\n",
    "two-documents": VALID + b"---\n" + VALID,
    "python-tag": b"version: !!python/object/apply:os.system ['true']\n",
    "unknown-tag": b"version: !vault abc\n",
    "control-char": b"version: '2'\x07\n",
    "complex-key": b"? [a, b]\n: c\n",
    "bad-merge": b"a: {<<: 3}\n",
    "undefined-alias": b"a: *nope\n",
}


def _assert_one_line_error(proc_or_result, name: str) -> None:
    err = proc_or_result.err if hasattr(proc_or_result, "err") else proc_or_result.stderr
    out = proc_or_result.out if hasattr(proc_or_result, "out") else proc_or_result.stdout
    code = proc_or_result.code if hasattr(proc_or_result, "code") else proc_or_result.returncode
    assert code == 2, (name, out, err)
    assert err.startswith("spin-audit: error: ") and err.endswith("\n") and err.count("\n") == 1, err
    assert "Traceback" not in err and "internal error" not in err, err
    assert out == ""


@pytest.mark.parametrize("name", sorted(HOSTILE))
@pytest.mark.parametrize("target", ["docker-compose.yml", "rancher-compose.yml", ".copier-answers.yml"])
def test_hostile_yaml_ends_with_exit_2(cli, make_stack, name: str, target: str) -> None:
    files = {"docker-compose.yml": VALID, target: HOSTILE[name]}
    result = cli(make_stack(files))
    _assert_one_line_error(result, name)
    assert target in result.err


@pytest.mark.parametrize("name", sorted(HOSTILE))
@pytest.mark.parametrize("fmt", ["json", "sarif"])
def test_hostile_yaml_still_gives_a_document(cli, make_stack, name: str, fmt: str) -> None:
    result = cli("--format", fmt, make_stack({"docker-compose.yml": HOSTILE[name]}))
    assert result.code == 2 and result.err.count("\n") == 1
    document = json.loads(result.out)
    findings = document if fmt == "json" else document["runs"][0]["results"]
    assert [f["rule" if fmt == "json" else "ruleId"] for f in findings] == ["SPIN001"]


@pytest.mark.parametrize("content", [b"\x00\x01FROM x", b"FROM caf\xe9\n", b"FROM x\n" * 200_000])
def test_hostile_dockerfile_ends_with_exit_2(cli, make_stack, content: bytes) -> None:
    result = cli(make_stack({"docker-compose.yml": VALID, "web/Dockerfile": content}))
    _assert_one_line_error(result, "dockerfile")


def test_missing_path(cli, tmp_path: Path) -> None:
    _assert_one_line_error(cli(tmp_path / "nope"), "missing")


def test_directory_without_docker_compose(cli, tmp_path: Path) -> None:
    result = cli(tmp_path)
    _assert_one_line_error(result, "no-compose")
    assert "no docker-compose.yml" in result.err


def test_file_outside_any_stack(cli, tmp_path: Path) -> None:
    stray = tmp_path / "rancher-compose.yml"
    stray.write_bytes(VALID)
    _assert_one_line_error(cli(stray), "stray")


def test_docker_compose_that_is_a_directory(cli, tmp_path: Path) -> None:
    (tmp_path / "docker-compose.yml").mkdir()
    (tmp_path / "docker-compose.yaml").write_text("[")
    _assert_one_line_error(cli(tmp_path), "directory")


def test_unreadable_file(cli, make_stack) -> None:
    stack = make_stack({"docker-compose.yml": VALID, "rancher-compose.yml": VALID})
    (stack / "rancher-compose.yml").chmod(0)
    try:
        with open(stack / "rancher-compose.yml", "rb"):
            pytest.skip("running as a user who can read mode-000 files")
    except PermissionError:
        _assert_one_line_error(cli(stack), "unreadable")


@pytest.mark.parametrize("name", ["binary", "billion-laughs", "deep-nesting", "list-at-top"])
def test_hostile_input_in_a_subprocess(tmp_path: Path, name: str) -> None:
    (tmp_path / "docker-compose.yml").write_bytes(HOSTILE[name])
    proc = subprocess.run([sys.executable, "-m", "spin_audit", str(tmp_path)], capture_output=True, text=True,
                          timeout=60)
    _assert_one_line_error(proc, name)


def test_odd_but_valid_yaml_gives_findings_not_crashes(cli, make_stack) -> None:
    text = """\
    version: '2'
    x-base: &base
      image: nginx:1.27
      cap_drop: [ALL]
    services:
      web:
        <<: *base
        user: *base
        ports: {a: 1}
        volumes: 5
        environment: [1, {a: b}, null]
        secrets: [[1], 3, null, {source: [x]}]
        labels: "x"
        cap_add: {a: b}
        expose: [{a: 1}]
        devices: yes
        upgrade_strategy: 3
        health_check: []
        retain_ip: [1]
        1: 2
        image: !!binary aGVsbG8=
      app:
        image: 2018-01-01
        ports: [.inf, -1, 0, 65536, "1-2-3", "a:b:c:d", "[::1]:8080:80", "60000-60001:80-81/udp", "x/sctp"]
        volumes: [{type: bind}, {source: /global/homes/x}, ":", "::", "/global:", null]
        user: ~
      db: []
      kv: ~
    volumes: [a]
    secrets: 3
    networks: "x"
    """
    result = cli("--format", "json", make_stack({"docker-compose.yml": text}))
    assert result.code == 1, result.err
    assert result.err == ""


def _texts():
    for name, data in sorted(HOSTILE.items()):
        if b"\x00" in data or len(data) > MAX_FILE_BYTES:
            continue
        try:
            yield name, data.decode("utf-8")
        except UnicodeDecodeError:
            continue


@pytest.mark.parametrize("loader", [PythonLoader, DEFAULT_LOADER], ids=["python", "default"])
@pytest.mark.parametrize("name, text", list(_texts()), ids=[n for n, _ in _texts()])
def test_both_yaml_parsers_refuse_hostile_text(loader, name: str, text: str) -> None:
    with pytest.raises(InputError) as exc:
        parse_yaml(SourceFile("/s/docker-compose.yml", "docker-compose.yml", text), loader)
    assert "\n" not in str(exc.value)


def test_both_yaml_parsers_agree(rendered_stack: Path) -> None:
    fixtures = Path(__file__).resolve().parent / "fixtures"
    for path in sorted(fixtures.glob("*/*.yml")) + sorted(rendered_stack.glob("*.yml")):
        source = SourceFile(str(path), path.name, path.read_text())
        fast, slow = parse_yaml(source, DEFAULT_LOADER).root, parse_yaml(source, PythonLoader).root
        assert fast.plain() == slow.plain()
        assert [(k, v.line, v.col, v.style, v.tag) for k, v in fast.items()] == [
            (k, v.line, v.col, v.style, v.tag) for k, v in slow.items()]


def test_a_file_of_exactly_the_size_limit_is_read(cli, make_stack) -> None:
    padding = b"#" * (MAX_FILE_BYTES - len(VALID) - 1) + b"\n"
    at_limit = make_stack({"docker-compose.yml": VALID + padding}, "at-limit")
    assert (at_limit / "docker-compose.yml").stat().st_size == MAX_FILE_BYTES
    assert cli(at_limit).code == 0
    over = make_stack({"docker-compose.yml": VALID + b"#" + padding}, "over")
    result = cli(over)
    assert result.code == 2 and f"file too large ({MAX_FILE_BYTES + 1} bytes" in result.err


def test_a_file_that_grows_past_the_limit_while_read_is_refused(cli, make_stack, monkeypatch) -> None:
    import spin_audit.loader as loader

    stack = make_stack({"docker-compose.yml": VALID})
    monkeypatch.setattr(loader, "MAX_FILE_BYTES", len(VALID) - 1)
    real_stat = loader.os.stat
    monkeypatch.setattr(loader.os, "stat", lambda path: os.stat_result((*real_stat(path)[:6], 0, 0, 0, 0)))
    result = cli(stack)
    assert result.code == 2 and result.err.endswith(f"file too large (limit {len(VALID) - 1} bytes)\n")


def test_an_os_error_while_reading_is_named_in_its_own_words(cli, make_stack, monkeypatch) -> None:
    import spin_audit.loader as loader

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied", args[0])

    stack = make_stack({"docker-compose.yml": VALID})
    monkeypatch.setattr(loader, "open", refuse, raising=False)
    result = cli(stack)
    assert result.code == 2 and result.err.endswith("docker-compose.yml: Permission denied\n"), result.err


def _parses(text: str, loader=None):
    try:
        parse_yaml(SourceFile("/s/docker-compose.yml", "docker-compose.yml", text), loader)
    except InputError as exc:
        return str(exc)
    return True


@pytest.mark.parametrize("loader", [PythonLoader, DEFAULT_LOADER], ids=["python", "default"])
def test_limits_hold_exactly_at_their_bounds(loader) -> None:
    from spin_audit.loader import MAX_ALIASES, MAX_DEPTH

    lists = MAX_DEPTH - 1  # under the top-level mapping
    assert _parses("a: " + "[" * lists + "]" * lists + "\n", loader) is True
    assert _parses("a: " + "[" * (lists + 1) + "]" * (lists + 1) + "\n", loader) == \
        f"docker-compose.yml: refused: nested deeper than {MAX_DEPTH} levels"
    aliases = "a: &a x\nb: [" + ", ".join(["*a"] * MAX_ALIASES) + "]\n"
    assert _parses(aliases, loader) is True
    assert _parses(aliases.replace("[*a", "[*a, *a"), loader) == \
        f"docker-compose.yml: refused: more than {MAX_ALIASES} aliases"
    # an alias that expands below its use: the levels add up
    # aliases expanded: exactly MAX_NODES values built from few written ones
    from spin_audit.loader import MAX_NODES

    flat = MAX_NODES - 3  # written nodes: the mapping, its key, the list and its items
    assert _parses("a: [" + ", ".join(["x"] * flat) + "]\n", loader) is True
    assert _parses("a: [" + ", ".join(["x"] * (flat + 1)) + "]\n", loader) == \
        f"docker-compose.yml: refused: more than {MAX_NODES} YAML nodes"

    items, references = 99, (MAX_NODES - 3 - 99) // 100
    padding = MAX_NODES - (3 + items + references * (items + 1))
    many = ("a: &a [" + ", ".join(["x"] * items) + "]\nb: [" + ", ".join(["*a"] * references) + "]\n"
            + "".join(f"p{i}: x\n" for i in range(padding)))
    assert _parses(many, loader) is True
    assert _parses(many + "extra: x\n", loader) == \
        f"docker-compose.yml: aliases expand to more than {MAX_NODES} YAML nodes"

    def deep(under: int) -> str:
        return "a: &a " + "[" * 33 + "]" * 33 + "\nb: " + "[" * under + "*a" + "]" * under + "\n"

    assert _parses(deep(MAX_DEPTH - 33), loader) is True
    assert _parses(deep(MAX_DEPTH - 32), loader) == \
        f"docker-compose.yml: line 1: nested deeper than {MAX_DEPTH} levels (or a recursive alias)"


def test_a_file_of_more_than_100000_yaml_nodes_is_refused() -> None:
    items = 100_000 - 3  # with the mapping, its key and the list: exactly 100000 nodes
    assert _parses("a: [" + ", ".join(["x"] * items) + "]\n") is True
    assert _parses("a: [" + ", ".join(["x"] * (items + 1)) + "]\n") == \
        "docker-compose.yml: refused: more than 100000 YAML nodes"


@pytest.mark.parametrize("loader", [PythonLoader, DEFAULT_LOADER], ids=["python", "default"])
def test_a_refused_character_is_located(loader) -> None:
    reason = _parses("a: \u00e9\u00e9\nb: x\x07\n", loader)
    assert reason.startswith("docker-compose.yml: line 2, column 5: invalid YAML: unacceptable character #x0007: ")


def test_a_chain_of_merges_is_refused_for_its_depth() -> None:
    assert _parses(_merge_chain().decode()) == \
        "docker-compose.yml: line 1: nested deeper than 64 levels (or a recursive alias)"


@pytest.mark.parametrize("text, reason", [
    ("- version: '2'\n- services: {}\n", "docker-compose.yml: top level is a list, expected a mapping of keys"),
    ("just a string\n", "docker-compose.yml: top level is a single value, expected a mapping of keys"),
    ("# nothing here\n", "docker-compose.yml: empty file (no YAML document)"),
    ("  \n\n", "docker-compose.yml: empty file"),
])
def test_a_file_that_is_no_mapping_says_what_it_is(text: str, reason: str) -> None:
    assert _parses(text) == reason


@pytest.mark.parametrize("text, reason", [
    ("version: '2'\nport: !!int eighty\n",
     "docker-compose.yml: line 2: cannot read value: invalid literal for int() with base 10: 'eighty'"),
    ("version: '2'\nservices: [a, b\n", "docker-compose.yml: line 3, column 1: invalid YAML: "),
    ("version: '2'\nsecret: !vault abc\n", "docker-compose.yml: line 2: unsupported YAML tag '!vault'"),
    ("a: !!merge x\n", "docker-compose.yml: line 1: unsupported YAML tag 'tag:yaml.org,2002:merge'"),
    ("a: !!python/name:os.system x\n", "docker-compose.yml: line 1: unsupported YAML tag "
                                        "'tag:yaml.org,2002:python/name:os.system'"),
])
def test_input_errors_say_where_and_why(text: str, reason: str) -> None:
    assert _parses(text).startswith(reason)


def test_names_a_terminal_cannot_encode_are_escaped_not_a_crash(make_stack) -> None:
    """Under an ASCII locale (LANG=C, cron, some CI runners) a finding that quotes a non-ASCII name is
    printed with backslash escapes instead of ending in UnicodeEncodeError."""
    stack = make_stack({"docker-compose.yml": "version: '2'\nservices:\n  wéb:\n    image: nginx\n"})
    env = {**os.environ, "PYTHONIOENCODING": "ascii", "LC_ALL": "C", "LANG": "C"}
    proc = subprocess.run([sys.executable, "-m", "spin_audit", str(stack)], capture_output=True, env=env, timeout=60)
    assert proc.returncode == 1, proc.stderr.decode(errors="replace")
    assert b"Traceback" not in proc.stderr
    assert b"w\\xe9b" in proc.stdout, proc.stdout
