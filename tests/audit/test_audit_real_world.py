"""Shapes of real Rancher 1.6 stacks, each written here: compose format 1, catalog entries,
several compose files merged as `rancher up --file A --file B` merges them, `${VAR}`
interpolation, catalog templates, and relative bind mounts."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

DC = "docker-compose.yml"
RC = "rancher-compose.yml"


def _at(findings, rule):
    """(path name, line) of each finding of one rule."""
    return sorted((Path(f["path"]).name, f["line"]) for f in findings if f["rule"] == rule)


@pytest.fixture
def audit_options(cli):
    """audit_options(*args) -> findings of `spin-audit --format json ARGS` (exit 0 or 1 expected)."""

    def run(*args):
        result = cli("--format", "json", *args)
        assert result.code in (0, 1), result.err
        return json.loads(result.out)

    return run


# --- compose format 1 ---------------------------------------------------------------------

FORMAT_1 = {
    DC: """\
        # format 1: no version, every top-level key is a service
        web-shop:
          image: nginx:1.27
          cap_drop: [ALL]
          ports:
            - "80:8080"
        db:
          image: postgres
          net: host
          cap_drop:
            - ALL
          log_driver: json-file
        """,
    RC: """\
        .catalog:
          name: shop
          version: v1.0
        web-shop:
          scale: 2
        db:
          scael: 1
        """,
}


def test_format_1_services_are_judged_one_by_one(make_stack, audit_json) -> None:
    findings = audit_json(make_stack(FORMAT_1)).findings
    assert _at(findings, "SPIN113") == [(DC, 2), (RC, 1)]  # each file's first key, not the comment above it
    assert _at(findings, "SPIN501") == [(DC, 6)]  # web-shop's 80:8080
    assert _at(findings, "SPIN402") == [(DC, 8)]  # db's untagged postgres
    assert _at(findings, "SPIN204") == [(DC, 9)]  # format 1's `net: host`
    assert _at(findings, "SPIN102") == [(RC, 7)]  # the typo in rancher-compose.yml, not `net` or `log_driver`
    for absent in ("SPIN101", "SPIN104", "SPIN105", "SPIN108"):
        assert absent not in [f["rule"] for f in findings], absent
    services = {f.get("service") for f in findings if f["rule"] != "SPIN113"}
    assert services == {"web-shop", "db"}


@pytest.mark.parametrize("key", ["net: bridge", "log_driver: json-file", "log_opt: {max-size: 1m}",
                                 "dockerfile: Dockerfile.prod"])
def test_format_1_keys_that_rancher_converts_are_not_unknown(make_stack, audit_json, key: str) -> None:
    compose = f"web:\n  image: nginx:1.27\n  cap_drop: [ALL]\n  {key}\n"
    assert "SPIN102" not in audit_json(make_stack({DC: compose})).rules


def test_format_1_finding_names_the_services(make_stack, audit_json) -> None:
    findings = audit_json(make_stack({DC: FORMAT_1[DC]})).findings
    (finding,) = [f for f in findings if f["rule"] == "SPIN113"]
    assert finding["severity"] == "warning"
    assert finding["message"] == "docker-compose.yml is compose format 1 (no `version`, services at the top level: " \
                                 "web-shop, db)"


@pytest.mark.parametrize("count, listed", [(1, "s0"), (3, "s0, s1, s2"), (4, "s0, s1, s2, ...")])
def test_format_1_finding_lists_at_most_three_services(make_stack, audit_json, count: int, listed: str) -> None:
    compose = "".join(f"s{i}:\n  image: nginx:1.27\n" for i in range(count))
    (finding,) = [f for f in audit_json(make_stack({DC: compose})).findings if f["rule"] == "SPIN113"]
    assert finding["message"].endswith(f"services at the top level: {listed})")


def test_format_1_named_volumes_need_no_declaration(make_stack, audit_json) -> None:
    compose = "db:\n  image: postgres:16\n  cap_drop: [ALL]\n  volume_driver: rancher-nfs\n  volumes:\n" \
              "    - db.shop:/var/lib/postgresql/data\n"
    assert "SPIN308" not in audit_json(make_stack({DC: compose})).rules


def test_a_rancher_compose_file_with_only_catalog_metadata_is_accepted(make_stack, audit_json) -> None:
    findings = audit_json(make_stack({DC: BASE, RC: ".catalog:\n  name: shop\n  version: v1.0\n"})).findings
    assert [f for f in findings if f["path"].endswith(RC)] == []


def test_a_version_without_services_is_not_format_1(make_stack, audit_json) -> None:
    findings = audit_json(make_stack({DC: "version: '2'\nweb:\n  image: nginx:1.27\n"})).findings
    assert "SPIN113" not in [f["rule"] for f in findings]
    assert _at(findings, "SPIN104") == [(DC, 1)] and _at(findings, "SPIN105") == [(DC, 2)]


# --- catalog entries ------------------------------------------------------------------------

BASE = textwrap.dedent("""\
    version: '2'
    services:
      web:
        image: nginx:1.27
        cap_drop: [ALL]
    """)


@pytest.mark.parametrize("key", ["catalog", ".catalog"])
def test_catalog_metadata_in_rancher_compose_is_accepted(make_stack, audit_json, key: str) -> None:
    rancher = f"version: '2'\n{key}:\n  name: shop\n  version: v1.0\n  questions:\n    - variable: PORT\n" \
              "services:\n  web:\n    scale: 1\n"
    findings = audit_json(make_stack({DC: BASE, RC: rancher})).findings
    assert [f for f in findings if f["path"].endswith(RC)] == []


def test_a_misspelt_catalog_key_is_still_unknown(make_stack, audit_json) -> None:
    rancher = "version: '2'\ncatalogue:\n  name: shop\nservices:\n  web:\n    scale: 1\n"
    assert _at(audit_json(make_stack({DC: BASE, RC: rancher})).findings, "SPIN105") == [(RC, 2)]


# --- several compose files --------------------------------------------------------------------

MERGED = {
    DC: """\
        version: '2'
        services:
          web:
            image: registry.spin.nersc.gov/shop/web:latest
            build: ./web
            cap_drop: [ALL]
            environment:
              - MODE=dev
              - API_TOKEN=${API_TOKEN}
            volumes:
              - /global/cfs/cdirs/shop/www:/www
              - /global/cfs/cdirs/shop/logs:/logs:ro
        """,
    "docker-compose.rancher.yml": """\
        version: '2'
        services:
          web:
            image: registry.spin.nersc.gov/shop/web:v1.2
            user: "501:124"
            cap_add:
              - SYS_ADMIN
            environment:
              API_TOKEN: abc123
            volumes:
              - /global/cfs/cdirs/shop/www:/www:ro
            secrets:
              - source: web.shop.key
                target: key
                uid: '501'
                mode: '0400'
        secrets:
          web.shop.key:
            external: true
        """,
    RC: "version: '2'\nservices:\n  web:\n    scael: 1\n",
    "rancher-prod.yml": "version: '2'\nservices:\n  web:\n    retain_ip: true\n",
    "rancher-upgrade.yml": "version: '2'\nservices:\n  web:\n    upgrade_strategy:\n      start_first: true\n",
    "rancher-compose.prod.yml": "version: '2'\nservices:\n  web:\n    retain_ip: true\n    upgrade_strategy:\n"
                                "      start_first: true\n",
}


@pytest.fixture
def merged(make_stack) -> Path:
    return make_stack(MERGED, "shop")


def test_files_merge_in_the_order_given(merged: Path, audit_options) -> None:
    """`rancher up --file docker-compose.yml --file docker-compose.rancher.yml`: the overlay's
    scalars replace, its lists extend, environment merges by name and volumes by target."""
    findings = audit_options("--access", "public", "--file", merged / DC,
                          "--file", merged / "docker-compose.rancher.yml")
    overlay = "docker-compose.rancher.yml"
    assert _at(findings, "SPIN202") == [(overlay, 7)]  # added by the overlay
    assert _at(findings, "SPIN601") == [(overlay, 9)]  # its literal API_TOKEN replaces ${API_TOKEN}
    assert _at(findings, "SPIN102") == [(RC, 4)]  # the default rancher-compose.yml beside the first file
    for absent in ("SPIN301", "SPIN303", "SPIN402", "SPIN106", "SPIN606"):
        # user set by the overlay; /www remounted read-only; tag replaced; build dropped by the
        # overlay's image; the secret declared at the overlay's top level
        assert absent not in [f["rule"] for f in findings], absent


def test_reversed_order_gives_the_other_result(merged: Path, audit_options) -> None:
    findings = audit_options("--access", "public", "--file", merged / "docker-compose.rancher.yml",
                          "--file", merged / DC)
    assert _at(findings, "SPIN303") == [(DC, 11)]  # the base's read-write /www is the last word
    assert _at(findings, "SPIN402") == [(DC, 4)]  # and so is its :latest
    assert "SPIN601" not in [f["rule"] for f in findings]  # API_TOKEN=${API_TOKEN} replaces the literal
    assert _at(findings, "SPIN106") == [(DC, 5)]  # the base sets build (and image) last


def test_a_compose_file_named_on_the_command_line_is_merged_over_the_default(merged: Path, audit_json,
                                                                           audit_options) -> None:
    by_name = audit_json(merged / "docker-compose.rancher.yml", "--access", "public").findings
    by_files = audit_options("--access", "public", "--file", merged / DC,
                          "--file", merged / "docker-compose.rancher.yml")
    assert by_name == by_files and _at(by_name, "SPIN202") == [("docker-compose.rancher.yml", 7)]


def test_the_default_files_alone_miss_the_overlay(merged: Path, audit_json) -> None:
    rules = [f["rule"] for f in audit_json(merged, "--access", "public").findings]
    assert "SPIN202" not in rules and {"SPIN301", "SPIN303", "SPIN402"} <= set(rules)


def test_rancher_files_replace_the_default_and_merge_in_order(merged: Path, audit_options) -> None:
    one = audit_options("--rancher-file", merged / "rancher-prod.yml")
    assert "SPIN102" not in [f["rule"] for f in one] and "SPIN507" not in [f["rule"] for f in one]
    both = audit_options("-r", merged / "rancher-prod.yml", "-r", merged / "rancher-upgrade.yml")
    assert _at(both, "SPIN507") == [("rancher-upgrade.yml", 5)]


def test_a_rancher_file_named_on_the_command_line_is_merged_after_the_default(merged: Path, audit_json) -> None:
    findings = audit_json(merged / "rancher-compose.prod.yml").findings
    assert _at(findings, "SPIN102") == [(RC, 4)]
    assert _at(findings, "SPIN507") == [("rancher-compose.prod.yml", 6)]


def test_file_options_and_paths_make_separate_stacks(merged: Path, cli) -> None:
    result = cli("--file", merged / DC, merged)
    assert result.out.splitlines()[-1].endswith("in 2 stacks")


def test_a_compose_file_alone_in_its_folder_is_the_stack(make_stack, audit_json) -> None:
    stack = make_stack({"spin.yml": BASE.replace("nginx:1.27", "nginx")})
    assert _at(audit_json(stack / "spin.yml").findings, "SPIN402") == [("spin.yml", 4)]


@pytest.mark.parametrize("option", ["--file", "--rancher-file"])
def test_a_missing_file_option_is_an_input_error(tmp_path: Path, cli, option: str) -> None:
    result = cli(option, tmp_path / "nope.yml")
    assert result.code == 2 and "nope.yml: no such file or directory" in result.err


def test_a_rancher_file_without_any_compose_file_is_an_input_error(make_stack, cli) -> None:
    stack = make_stack({"rancher-prod.yml": "version: '2'\nservices: {}\n"})
    result = cli("--rancher-file", stack / "rancher-prod.yml")
    assert result.code == 2 and "no docker-compose.yml beside it" in result.err


# --- ${VAR} interpolation ---------------------------------------------------------------------

INTERPOLATED = """\
    version: '2'
    services:
      web:
        image: registry.spin.nersc.gov/shop/web:${TAG}
        cap_drop: [ALL]
        ports:
          - "${NEXTCLOUD_PORT}:80"
          - "${HTTP_PORT:-80}:8080"
          - "${HOST_PORT:-60040}:${PORT:-8080}/tcp"
          - 127.0.0.1:${ADMIN_PORT}:9000
        environment:
          DB_PASSWORD: ${DB_PASSWORD}
          API_TOKEN: ${API_TOKEN:-changeme}
          SECRET_KEY: "${SECRET_KEY-}"
      app:
        image: ${REGISTRY}/shop/app:v1
        cap_drop: [ALL]
        user: "${UID}:${GID}"
        volumes:
          - /global/cfs/cdirs/${PROJECT}:/project:ro
          - ${DATA_DIR}:/data
          - ${CONF_DIR:-../conf}:/conf
          - ${VOLUME:-data}:/cache
      api:
        image: nginx:${NGINX_TAG:-latest}
        cap_drop: [ALL]
        cap_add:
          - ${EXTRA_CAP}
          - ${CAP:-SYS_ADMIN}
    """


def test_variables_are_judged_by_their_literal_parts_and_defaults(make_stack, audit_json) -> None:
    findings = audit_json(make_stack({DC: INTERPOLATED})).findings
    assert _at(findings, "SPIN504") == [(DC, 7)]  # the literal container port 80 of ${NEXTCLOUD_PORT}:80
    assert _at(findings, "SPIN501") == [(DC, 8)]  # host port 80 by default
    assert _at(findings, "SPIN601") == [(DC, 13)]  # a literal default is a literal secret
    assert _at(findings, "SPIN309") == [(DC, 22)]  # ../conf by default
    assert _at(findings, "SPIN308") == [(DC, 23)]  # the volume `data` by default, undeclared
    assert _at(findings, "SPIN402") == [(DC, 25)]  # :latest by default
    assert _at(findings, "SPIN202") == [(DC, 29)]  # SYS_ADMIN by default, not ${EXTRA_CAP}
    for unknown in ("SPIN401", "SPIN405", "SPIN506", "SPIN502", "SPIN503", "SPIN301", "SPIN306"):
        # registry, tag, ports, user and the project directory that only `rancher up` knows
        assert unknown not in [f["rule"] for f in findings], (unknown, _at(findings, unknown))


def test_a_default_with_a_colon_stays_one_part(make_stack, audit_json) -> None:
    compose = BASE + "    volumes:\n      - ${DATA:-/global/cfs/cdirs/shop}:/data\n"
    findings = audit_json(make_stack({DC: compose})).findings
    assert _at(findings, "SPIN301") == [(DC, 7)]  # a global mount by default, and no user
    assert "SPIN306" not in [f["rule"] for f in findings]


def test_an_escaped_dollar_is_literal(make_stack, audit_json) -> None:
    compose = BASE + "    environment:\n      DB_PASSWORD: pa$$word\n"
    (finding,) = [f for f in audit_json(make_stack({DC: compose})).findings if f["rule"] == "SPIN601"]
    assert "a literal value" in finding["message"]


# --- templates --------------------------------------------------------------------------------

CATALOG_TEMPLATE = """\
    version: '2'
    services:
      web:
        image: nginx:{{ .Values.NGINX_TAG }}
    {{- if eq .Values.DB "true" }}
      db:
        image: postgres:16
    {{- end }}
    """


@pytest.mark.parametrize("files, argument, named", [
    ({"docker-compose.yml.tpl": CATALOG_TEMPLATE, RC: "version: '2'\nservices: {}\n"}, "", "docker-compose.yml.tpl"),
    ({"docker-compose.yml.tpl": CATALOG_TEMPLATE}, "docker-compose.yml.tpl", "docker-compose.yml.tpl"),
    ({DC: CATALOG_TEMPLATE}, "", DC),
    ({"docker-compose.yml.jinja": "services:\n  {{ role }}: {}\n"}, "", "docker-compose.yml.jinja"),
    ({DC: BASE}, "docker-compose.prod.yml.j2", "docker-compose.prod.yml.j2"),
], ids=["catalog-folder", "catalog-file", "template-named-docker-compose", "jinja-folder", "jinja-file"])
def test_templates_are_named_as_templates_with_exit_2(make_stack, cli, files, argument, named) -> None:
    stack = make_stack({**files, **({argument: CATALOG_TEMPLATE} if argument and argument not in files else {})})
    for fmt in ("text", "json", "sarif"):
        result = cli("--format", fmt, stack / argument if argument else stack)
        assert result.code == 2, (fmt, result.out, result.err)
        assert result.err.count("\n") == 1 and named in result.err and "template" in result.err, result.err
        assert "no docker-compose.yml" not in result.err and "invalid YAML" not in result.err
        if fmt == "json":
            assert [(f["rule"], f["name"], Path(f["path"]).name) for f in json.loads(result.out)] == [
                ("SPIN002", "input-template", named)]


@pytest.mark.parametrize("before", ["", "\n", "# a catalog entry\n\n"])
def test_a_template_error_points_at_the_first_go_action(make_stack, cli, before: str) -> None:
    stack = make_stack({DC: (before + textwrap.dedent(CATALOG_TEMPLATE)).encode()})  # bytes: written as they are
    (finding,) = json.loads(cli("--format", "json", stack).out)
    assert finding["line"] == 4 + before.count("\n")
    assert "{{ .Values.NGINX_TAG }}" in finding["message"]


def test_go_braces_inside_a_valid_compose_file_are_just_text(make_stack, audit_json) -> None:
    compose = BASE + "    command: [\"sh\", \"-c\", \"docker inspect -f '{{ .State.Status }}' x\"]\n"
    assert audit_json(make_stack({DC: compose})).code == 0


def test_a_catalog_template_of_any_name_is_refused_as_a_template(make_stack, cli) -> None:
    stack = make_stack({DC: BASE, "catalog.tpl": CATALOG_TEMPLATE})
    result = cli(stack / "catalog.tpl")
    assert result.code == 2 and result.err.endswith(
        "catalog.tpl: a Rancher catalog template (Go `{{ }}`), not audited: render it, then audit the result\n")


def test_a_template_file_option_is_refused_as_a_template(make_stack, cli) -> None:
    stack = make_stack({"docker-compose.yml.tpl": CATALOG_TEMPLATE})
    result = cli("--file", stack / "docker-compose.yml.tpl")
    assert result.code == 2 and "catalog template" in result.err


# --- relative bind mounts ---------------------------------------------------------------------

@pytest.mark.parametrize("volume", ["../data:/app", "./conf/nginx.conf:/etc/nginx/nginx.conf:ro", "~/cache:/cache",
                                    "{type: bind, source: ./data, target: /data}"])
def test_relative_bind_mounts_say_where_rancher_resolves_them(make_stack, audit_json, volume: str) -> None:
    findings = audit_json(make_stack({DC: BASE + f"    volumes:\n      - {volume}\n"})).findings
    (finding,) = [f for f in findings if f["rule"] == "SPIN309"]
    assert finding["line"] == 7 and finding["severity"] == "error"
    assert "resolves it on the Spin node, not next to the compose file" in finding["message"]


@pytest.mark.parametrize("volume", ["/srv/data:/app", "data.shop:/app", "/app"])
def test_absolute_paths_and_volumes_are_not_relative(make_stack, audit_json, volume: str) -> None:
    compose = BASE + f"    volumes:\n      - {volume}\nvolumes:\n  data.shop:\n    external: true\n"
    assert "SPIN309" not in audit_json(make_stack({DC: compose})).rules


@pytest.mark.parametrize("name", ["notes.txt.j2", "docker-compose.yml.orig", "docker-compose.yml.bak"])
def test_a_folder_without_a_compose_template_is_not_called_a_template(make_stack, cli, name: str) -> None:
    result = cli("--format", "json", make_stack({name: "services: {}\n"}))
    assert result.code == 2 and "no docker-compose.yml and no Kubernetes manifest in this directory" in result.err
    assert [f["rule"] for f in json.loads(result.out)] == ["SPIN001"]


def test_a_directory_given_as_file_is_an_input_error(make_stack, cli) -> None:
    stack = make_stack({DC: BASE})
    result = cli("--file", stack)
    assert result.code == 2 and result.err.endswith("not a file (the --file option names a compose file)\n")


@pytest.mark.parametrize("name, engine", [("docker-compose.yml.tmpl", "a template"),
                                          ("docker-compose.yml.template", "a template"),
                                          ("docker-compose.yaml.j2", "a Jinja template")])
def test_each_template_is_named_by_what_renders_it(make_stack, cli, name: str, engine: str) -> None:
    result = cli(make_stack({name: "services: {}\n"}))
    assert result.code == 2 and result.err.endswith(f"{name}: {engine}, not audited: render it, then audit the "
                                                    "result\n")


def test_a_rancher_compose_file_alone_names_what_is_missing(make_stack, cli) -> None:
    stack = make_stack({"rancher-compose.prod.yml": "version: '2'\nservices: {}\n"})
    result = cli(stack / "rancher-compose.prod.yml")
    assert result.code == 2 and result.err.endswith(
        "rancher-compose.prod.yml: no docker-compose.yml beside this rancher-compose file (name one with --file)\n")


def test_a_stack_and_its_overlay_named_together_are_one_stack(merged: Path, cli) -> None:
    result = cli("--format", "json", "--access", "public", merged, merged / "docker-compose.rancher.yml")
    findings = json.loads(result.out)
    assert _at(findings, "SPIN202") == [("docker-compose.rancher.yml", 7)]
    assert len(findings) == len({(f["path"], f["line"], f["rule"], f["message"]) for f in findings})
    assert cli(merged, merged / "docker-compose.rancher.yml").out.splitlines()[-1].endswith("in 1 stack")


@pytest.mark.parametrize("image, floating", [("myorg/${APP}", False), ("myorg/app", True), ("${IMAGE}", False),
                                             ("nginx:${TAG:-latest}", True)])
def test_an_unknown_image_name_may_hold_its_tag(make_stack, audit_json, image: str, floating: bool) -> None:
    rules = audit_json(make_stack({DC: BASE.replace("nginx:1.27", image)})).rules
    assert ("SPIN402" in rules) == floating
