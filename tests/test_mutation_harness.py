"""The mutation harness (bench/mutate.py) on small inputs: each operator makes a different text
that still parses, prose is left alone, and a seed draws the same sample again. The harness's
run over the whole tree is a benchmark, not a test."""

import json
import sys

import pytest

from stackkit import ROOT

sys.path.insert(0, str(ROOT / "bench"))
import mutate  # noqa: E402  (bench/ is a script folder, not a package)

JINJA = """\
{#- a comment: 1 == 2 and true -#}
{%- set port = 8080 if web_exposure == 'port' else 80 -%}
{%- for role in roles if role not in ['db', 'kv'] %}
{{ role ~ '-' ~ (port + 1) }}: {{ role in services and port >= 1024 }}
{%- endfor %}
{% if mount.read_only is not sameas false or x < 2 %}readOnly: true{% endif %}
{%- raw %}
run: ${{ secrets.TOKEN }} 3
{% endraw %}
"""
PYTHON = '''\
"""Module docstring 1 == 2."""
import re


def check(value, limit=64):
    """Docstring of check."""
    # a comment: 3 != 4
    if value is None or len(value) > limit:
        return False
    found = [part for part in value.split(".") if part not in ("", "x")]
    return bool(found) and re.fullmatch(r"[a-z]{1,5}", value) is not None
'''
JSON = """\
{
  "_about": "prose 12",
  "ports": [8080, 8443],
  "pattern": "[a-z]{0,61}",
  "strict": true,
  "last": "value"
}
"""
YAML = """\
# comment 1
port:
  type: int
  default: 8000
  help: |-
    port: prose 80 that is not mutated
    and neither is this line
  validator: "{% if port < 1024 %}too low{% endif %}"
flag:
  type: bool
  default: false
"""
SNIPPETS = {"snippet.jinja": JINJA, "snippet.py": PYTHON, "snippet.json": JSON, "copier.yml": YAML}


def mutants(name):
    return mutate.mutants_of(name, SNIPPETS[name])


@pytest.mark.parametrize("name", sorted(SNIPPETS))
def test_every_mutant_changes_the_text_at_its_site(name):
    text = SNIPPETS[name]
    found = mutants(name)
    assert found
    for mutant in found:
        mutated = mutant.apply(text)
        assert mutated != text, mutant
        assert mutant.line == text.count("\n", 0, mutant.start) + 1


@pytest.mark.parametrize("name, expected", [
    ("snippet.jinja", {("operators", "==", "!="), ("operators", "+", "-"), ("operators", ">=", ">"),
                       ("operators", "<", "<="), ("operators", "and", "or"), ("operators", "or", "and"),
                       ("operators", "in", "not in"), ("operators", "not in", "in"),
                       ("operators", "is not", "is"), ("numbers", "8080", "8081"), ("numbers", "80", "79"),
                       ("booleans", "true", "false"), ("booleans", "false", "true"), ("strings", "'port'", "'xport'"),
                       ("conditions", "web_exposure == 'port'", "not (web_exposure == 'port')"),
                       ("conditions", "role not in ['db', 'kv']", "false"),
                       ("conditions", "mount.read_only is not sameas false or x < 2", "true")}),
    ("snippet.py", {("operators", ">", ">="), ("operators", "or", "and"), ("operators", "and", "or"),
                    ("operators", "not in", "in"), ("operators", "is not", "is"), ("operators", "is", "is not"),
                    ("numbers", "64", "65"), ("numbers", "5", "4"), ("strings", '"."', '"x."'),
                    ("booleans", "False", "True"),
                    ("conditions", "value is None or len(value) > limit", "not (value is None or len(value) > limit)"),
                    ("conditions", 'part not in ("", "x")', "False"), ("drops", "return False", "pass")}),
    ("snippet.json", {("numbers", "8080", "8079"), ("numbers", "61", "62"), ("booleans", "true", "false"),
                      ("strings", '"value"', '"xvalue"')}),
    ("copier.yml", {("strings", "int", "xint"), ("numbers", "8000", "8001"), ("booleans", "false", "true"),
                    ("operators", "<", "<="), ("numbers", "1024", "1023"), ("drops", "  type: int\n", "")}),
])
def test_each_operator_makes_the_mutation_it_names(name, expected):
    made = {(m.operator, m.original, m.replacement) for m in mutants(name)}
    assert expected <= made, expected - made


@pytest.mark.parametrize("name", sorted(SNIPPETS))
def test_mutants_other_than_dropped_lines_still_parse(name):
    """Operators, numbers, strings, booleans and conditions keep the syntax whole (the snippets
    have no construct they break); a dropped line may not, and the harness then draws another."""
    for mutant in mutants(name):
        if mutant.operator != "drops":
            assert mutate.parses(name, mutant.apply(SNIPPETS[name])), mutant


def test_a_mutant_that_breaks_the_syntax_is_invalid():
    assert not mutate.parses("x.jinja", "{% if a %}")
    assert not mutate.parses("x.py", "if x\n")
    assert not mutate.parses("x.json", '{"a": 1,}')
    assert not mutate.parses("copier.yml", 'a:\n  validator: "{% if a %}"\n')
    assert mutate.parses("copier.yml", 'a:\n  validator: "{% if a %}b{% endif %}"\n')


def test_dropping_the_last_member_of_a_json_object_mends_the_comma():
    dropped = [m for m in mutants("snippet.json") if m.operator == "drops" and '"last"' in m.original]
    assert len(dropped) == 1
    assert json.loads(dropped[0].apply(JSON)) == {"_about": "prose 12", "ports": [8080, 8443],
                                                  "pattern": "[a-z]{0,61}", "strict": True}


@pytest.mark.parametrize("name, prose", [
    ("snippet.jinja", ["a comment", "1 == 2"]), ("snippet.py", ["docstring", "Docstring of check", "a comment"]),
    ("snippet.json", ["prose 12", '"_about"']), ("copier.yml", ["comment 1", "prose 80", "neither is this"]),
])
def test_comments_docstrings_and_help_texts_are_not_mutated(name, prose):
    text = SNIPPETS[name]
    for mutant in mutants(name):
        for words in prose:
            at = text.index(words)
            assert mutant.end <= at or mutant.start >= at + len(words), (mutant, words)


def test_the_first_in_of_a_for_tag_is_not_negated():
    fors = [m for m in mutants("snippet.jinja") if m.original == "in" and m.line == 3]
    assert fors == []


def test_a_seed_draws_the_same_valid_sample_again_split_between_the_areas():
    first = mutate.draw(ROOT, mutate.AREAS, 9, seed=12)
    assert first == mutate.draw(ROOT, mutate.AREAS, 9, seed=12)
    assert first != mutate.draw(ROOT, mutate.AREAS, 9, seed=13)
    assert [area for area, _ in first] == ["template"] * 5 + ["audit"] * 4
    for area, mutant in first:
        assert mutant.path in mutate.area_files(ROOT, area)
        text = (ROOT / mutant.path).read_text()
        assert mutate.parses(mutant.path, mutant.apply(text)), mutant


def test_the_areas_hold_the_template_and_spin_audit():
    template, audit = (mutate.area_files(ROOT, area) for area in mutate.AREAS)
    assert {"copier.yml", "includes/stack.jinja", "includes/answer-rules.json", "hooks/spin_audit/spin_facts.json",
            "template/Makefile.jinja"} <= set(template)
    assert {"hooks/spin_audit/cli.py", "hooks/spin_audit/kube/loader.py"} <= set(audit)
    assert not set(template) & set(audit)
    assert all(mutate.language(name) for name in template + audit)


def test_a_mutant_runs_the_tests_of_its_file_first_and_its_area_after():
    k8s = mutate.tests_for(ROOT, "includes/k8s.jinja", "template")
    assert k8s[0] == "tests/test_k8s.py" and "tests/test_rendering.py" in k8s
    assert not any("images" in name or "bench" in name for name in k8s)
    assert len(k8s) == len(set(k8s))
    audit = mutate.tests_for(ROOT, "hooks/spin_audit/kube/loader.py", "audit")
    assert audit[0] == "tests/audit/test_kube_loader.py"
    assert all(name.startswith("tests/audit/") for name in audit)


LIMIT = '''\
def limit(size):
    """Whether size fits."""
    return size <= 64


def unused(size):
    return size + 1
'''
LIMIT_TEST = '''\
from limit import limit


def test_the_limit_is_64():
    assert limit(64) and not limit(65)
'''


def site(text, operator, original, replacement):
    """The one mutant of `text` that makes original into replacement."""
    found = [m for m in mutate.mutants_of("limit.py", text)
             if (m.operator, m.original, m.replacement) == (operator, original, replacement)]
    assert len(found) == 1, found
    return found[0]


@pytest.mark.parametrize("operator, original, replacement, status", [
    ("operators", "<=", "<", "caught"), ("numbers", "64", "65", "caught"),
    ("operators", "+", "-", "survived"), ("drops", "return size + 1", "pass", "survived"),
])
def test_a_mutant_is_caught_when_its_tests_fail_and_survives_when_they_pass(tmp_path, operator, original,
                                                                            replacement, status):
    """run_mutant writes the mutant into the tree, runs the given tests there (a tiny test file
    here) and puts the file back, its compiled copy gone."""
    (tmp_path / "limit.py").write_text(LIMIT)
    (tmp_path / "test_limit.py").write_text(LIMIT_TEST)
    mutant = site(LIMIT, operator, original, replacement)
    result = mutate.run_mutant(tmp_path, "audit", mutant, ["test_limit.py"], hypothesis_seed=1, timeout=120)
    assert result["status"] == status, result
    assert result["caught_by"] == (["test_limit.py::test_the_limit_is_64"] if status == "caught" else [])
    assert (tmp_path / "limit.py").read_text() == LIMIT
    assert not list((tmp_path / "__pycache__").glob("limit.*.pyc"))


def test_a_mutant_whose_tests_outlast_the_timeout_is_killed_and_not_caught(tmp_path):
    (tmp_path / "limit.py").write_text(LIMIT)
    (tmp_path / "test_limit.py").write_text("import time\n\n\ndef test_slow():\n    time.sleep(60)\n")
    mutant = site(LIMIT, "numbers", "64", "65")
    result = mutate.run_mutant(tmp_path, "audit", mutant, ["test_limit.py"], hypothesis_seed=1, timeout=5)
    assert result["status"] == "timeout" and result["seconds"] < 30, result
    assert (tmp_path / "limit.py").read_text() == LIMIT
    assert mutate.score([result, dict(result, status="caught")]) == (1, 2)


def test_related_only_runs_a_template_files_related_tests_alone_and_every_audit_test_for_the_audit():
    assert mutate.tests_for(ROOT, "includes/k8s.jinja", "template", related_only=True) == [
        "tests/test_k8s.py", "tests/audit/test_kube_rendered.py"]
    assert mutate.tests_for(ROOT, "includes/main.py", "template", related_only=True) == [
        name for name in mutate.TEMPLATE_CORE if (ROOT / name).is_file()]
    assert mutate.tests_for(ROOT, "hooks/spin_audit/report.py", "audit", related_only=True) == \
        mutate.tests_for(ROOT, "hooks/spin_audit/report.py", "audit")


def test_each_area_draws_its_sample_on_its_own():
    """An edit of the template (more or fewer sites) leaves the audit's sample as it was."""
    both = mutate.draw(ROOT, mutate.AREAS, 9, seed=12)
    assert [mutant for area, mutant in both if area == "audit"] == [
        mutant for _, mutant in mutate.draw(ROOT, ("audit",), 4, seed=12)]


@pytest.mark.parametrize("path", ["includes/validators.jinja", "includes/cron-validator.jinja",
                                  "includes/list-validators.jinja", "copier.yml"])
def test_a_validator_runs_the_validators_and_boundary_tests(path):
    related = mutate.tests_for(ROOT, path, "template", related_only=True)
    assert "tests/test_validators.py" in related and "tests/test_boundaries.py" in related


@pytest.mark.parametrize("path", ["includes/readme-move.md.jinja", "includes/template-updates.jinja", "includes/messages.jinja",
                                  "includes/k8s-makefile.jinja", "template/README.md.jinja"])
def test_the_files_of_a_stacks_later_life_run_the_lifecycle_tests(path):
    """check-update and the move from Rancher 1.6 are tested in test_lifecycle.py alone."""
    assert "tests/test_lifecycle.py" in mutate.tests_for(ROOT, path, "template", related_only=True)


def test_every_template_mutant_runs_the_cross_file_invariants():
    assert "tests/test_invariants.py" in mutate.TEMPLATE_CORE
