"""Every limit of the answers, on both sides of its edge, generated from the files that state it so
that a new rule is tested without anyone writing its test:

- each pattern of includes/answer-rules.json, through every question whose validator applies it
  (copier.yml and the includes its validators import): its longest accepted answer and one a character longer,
  and each bounded quantifier at its maximum and one past it, at its minimum and one below (patterns.py
  builds them from the pattern's parse tree); the longest accepted length is the one the question's
  help promises ("at most N");
- each `int_error(question, LOW, HIGH)` of copier.yml: LOW and HIGH accepted, LOW-1 and HIGH+1
  refused, the help naming both;
- each access level against each question whose validator or `when` depends on access: web_port's
  open ranges (spin_facts.json) at both edges of every range, read-write mounts, db_nersc_access.

Answers go through copier's own questionnaire code (Question.parse_answer, validate_answer and
get_when, with the Jinja environment copier builds for the template), one questionnaire for the
module: a full render per case would take a second each, this takes milliseconds. test_validators.py
renders refusals end to end."""

import json
import re
import shutil
import warnings

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

import patterns
from stackkit import ROOT, minimal_answers, project_files

RULES = {key: rule for key, rule in json.loads((ROOT / "includes" / "answer-rules.json").read_text()).items()
         if not key.startswith("_")}
QUESTIONS = {key: spec for key, spec in yaml.safe_load((ROOT / "copier.yml").read_text()).items()
             if not key.startswith("_")}


def validator_sources():
    """The text of every file copier.yml's validators import from, and of those they import from."""
    imports = re.compile(r"from '([^']+)' import")
    pending = {path for spec in QUESTIONS.values() for path in imports.findall(spec.get("validator", ""))}
    texts = {}
    while pending:
        path = pending.pop()
        texts[path] = (ROOT / path).read_text()
        pending |= set(imports.findall(texts[path])) - set(texts)
    return "\n".join(texts.values())


VALIDATORS_JINJA = validator_sources()
FACTS = json.loads((ROOT / "hooks" / "spin_audit" / "spin_facts.json").read_text())
ACCESS_LEVELS = list(QUESTIONS["access"]["choices"].values())
ROLES = list(QUESTIONS["services"]["choices"].values())
# Answers under which every question is asked (Rancher 1.6: web_exposure and web_port exist only there).
CONTEXT = minimal_answers(services=ROLES, access="private", web_exposure="port",
                          run_as_user="c_flintstones", run_as_group="genome")
# Only these roles mount the global file system: db and kv would need capabilities Spin forbids
# with /global mounts (spin-best-practices); util serves no one, so it may write even in a public stack.
MOUNTING_ROLES = ["web", "app", "api", "util"]
A_MOUNT = {"service": "app", "host_path": "/global/cfs/cdirs/genome/portal/data", "container_path": "/data"}

# How a value checked by a pattern reaches the validator of each macro that applies the pattern
# to a part of an answer, and what else that macro refuses. A macro not listed here fails
# test_every_rule_is_applied_where_this_test_can_reach_it, so that its rules get a test.
PLACES = {
    "text_error": (lambda value: value, None),
    "run_as_group_error": (lambda value: value, None),
    "image_error": (lambda value: "python:" + value, None),
    "secrets_error": (lambda value: {value: ["app"]}, None),
    "gpfs_mounts_error": (lambda value: [{**A_MOUNT, "container_path": value}],
                          lambda value: value.endswith("/")),  # a trailing '/' only on host_path
    "platform_error": None,  # applies stack_name's rule to choose its advice, refuses nothing by it
}


@pytest.fixture(scope="module")
def questionnaire(tmp_path_factory):
    """validate(question, answer, **other_answers) -> copier's refusal or None; asked(question, ...)
    -> whether copier asks it. Copier's own Worker and Question over a copy of the template."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from copier._main import Worker
        from copier._types import Phase
        from copier._user_data import Question

    template = tmp_path_factory.mktemp("template")
    for name in project_files():
        (template / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, template / name)
    worker = Worker(src_path=str(template), dst_path=tmp_path_factory.mktemp("stack") / "stack", data=CONTEXT,
                    defaults=True, quiet=True, unsafe=False)
    with Phase.use(Phase.PROMPT):
        worker._ask()

    def question(key, others):
        return Question(answers=worker.answers, context={**worker._render_context(), **others},
                        jinja_env=worker.jinja_env, settings=worker.settings, var_name=key,
                        **worker.template.questions_data[key])

    class Questionnaire:
        @staticmethod
        def validate(key, answer, **others):
            asked = question(key, others)
            try:
                asked.validate_answer(asked.parse_answer(answer))
            except ValueError as error:
                return str(error)
            return None

        @staticmethod
        def asked(key, **others):
            return question(key, others).get_when()

        @staticmethod
        def default(key, **others):
            return question(key, others).get_default()

    return Questionnaire


def macro_rules():
    """{macro of the validators' files: the rules of answer-rules.json it applies}, through the macros and
    variables it uses (image_error's IMAGE is built from image_tag's pattern)."""
    definitions = dict(re.findall(r"\{%-? macro (\w+)\(.*?%\}(.*?)\{%-? endmacro", VALIDATORS_JINJA, re.S))
    definitions.update(re.findall(r"\{%-? set (\w+) = (.*?)-?%\}", VALIDATORS_JINJA, re.S))
    rules = {name: set(re.findall(r"RULES\.(\w+)", body)) | set(re.findall(r"text_error\('(\w+)'", body))
             for name, body in definitions.items()}
    changed = True
    while changed:
        changed = False
        for name, body in definitions.items():
            used = set().union(*(rules[other] for other in definitions if other != name
                                 and re.search(rf"\b{other}\b", body)))
            if not used <= rules[name]:
                rules[name] |= used
                changed = True
    return rules


def rule_places():
    """[(rule, question, macro)]: every question whose validator applies a rule, and through which macro."""
    macros = macro_rules()
    found = []
    for key, spec in QUESTIONS.items():
        validator = spec.get("validator", "")
        for rule in re.findall(r"text_error\('(\w+)',", validator):
            found.append((rule, key, "text_error"))
        for macro in re.findall(r"\b(\w+_error)\(", validator):
            if macro != "text_error" and PLACES.get(macro, ...) is not None:
                found += [(rule, key, macro) for rule in sorted(macros.get(macro, ()))]
    return found


def rule_cases(rule):
    """(answer, what it exercises) pairs at both sides of every edge of the rule's pattern."""
    pattern = RULES[rule]["pattern"]
    cases = []
    edge = patterns.length_edge(pattern)
    if edge:
        longest, past = edge
        assert patterns.matches(pattern, longest) and not patterns.matches(pattern, past)
        cases += [(longest, f"the longest ({len(longest)})"), (past, f"one longer ({len(past)})")]
    for path, low, high in patterns.quantifiers(pattern):
        counts = ([high, high + 1] if high != patterns.sre.MAXREPEAT else []) + ([low, low - 1] if low else [])
        for count in counts:
            builder = patterns.Builder(pattern, pinned={path: count})
            text = patterns.shortest(pattern, builder, longest=300)
            if text is None:  # nothing matches with this count: the shortest string built with it
                text = next(found for length in range(301) if (found := builder.build(length)) is not None)
            cases.append((text, f"quantifier {path} {{{low},{high}}} taken {count} times"))
    return cases


def accepted_by_rule(rule, text):
    return RULES[rule].get("optional") and text == "" or patterns.matches(RULES[rule]["pattern"], text)


def test_every_rule_is_applied_where_this_test_can_reach_it():
    places = rule_places()
    assert {rule for rule, _, _ in places} == set(RULES), "a rule that no question's validator applies"
    assert {macro for _, _, macro in places} <= set(PLACES), "a macro applies a rule; say in PLACES how to reach it"


@pytest.mark.parametrize("rule", sorted(RULES))
def test_each_rule_is_held_on_both_sides_of_each_edge(questionnaire, rule):
    cases = rule_cases(rule)
    assert any(not accepted_by_rule(rule, text) for text, _ in cases) or not cases, "no edge is refused"
    for _, key, macro in [place for place in rule_places() if place[0] == rule]:
        place, also_refused = PLACES[macro]
        for text, what in cases:
            expected = accepted_by_rule(rule, text) and not (also_refused and also_refused(text))
            refusal = questionnaire.validate(key, place(text))
            assert (refusal is None) == expected, f"{key} ({rule}), {what}: {text!r} -> {refusal}"


@pytest.mark.parametrize("rule", sorted(RULES))
def test_the_help_promises_the_longest_answer_the_rule_accepts(rule):
    edge = patterns.length_edge(RULES[rule]["pattern"])
    for _, key, _ in [place for place in rule_places() if place[0] == rule]:
        promised = re.findall(r"at most (\d+)", QUESTIONS[key]["help"])
        if promised:
            assert edge and {int(n) for n in promised} == {len(edge[0])}, (key, promised, edge and len(edge[0]))


def test_an_empty_answer_is_accepted_where_the_help_offers_it(questionnaire):
    """Whether a rule is optional is the question's promise: its help says when it may be empty."""
    for rule, key, macro in rule_places():
        if macro == "text_error" and not patterns.matches(RULES[rule]["pattern"], ""):
            offered = re.search(r"\bempty\b", QUESTIONS[key]["help"]) is not None
            assert (questionnaire.validate(key, "") is None) == offered, (key, rule)


INT_RANGES = [(key, int(low), int(high)) for key, spec in QUESTIONS.items()
              for low, high in re.findall(rf"int_error\({key}, (-?\d+), (-?\d+)\)", spec.get("validator", ""))]


def test_the_integer_questions_are_found():
    typed = {key for key, spec in QUESTIONS.items() if spec.get("type") == "int"}
    assert {key for key, _, _ in INT_RANGES} | {"web_port"} == typed


@pytest.mark.parametrize("key, low, high", INT_RANGES, ids=[key for key, _, _ in INT_RANGES])
def test_each_number_is_held_on_both_sides_of_its_range(questionnaire, key, low, high):
    for inside in (low, high):
        assert questionnaire.validate(key, inside) is None, (key, inside)
    for outside in (low - 1, high + 1):
        refusal = questionnaire.validate(key, outside)
        assert refusal and f"must be from {low} to {high}" in refusal, (key, outside, refusal)
    assert re.search(rf"\b{low} to {high}\b", QUESTIONS[key]["help"]), f"{key}'s help names another range"


# ---------------------------------------------------------------------------------------------
# Access: the outcome each access level must have, from Spin's facts.

def web_port_allowed(port, access):
    ranges = FACTS["host_ports"]["public"] if access == "public" else sum(FACTS["host_ports"].values(), [])
    return port not in FACTS["proxy_ports"] and any(low <= port <= high for low, high in ranges)


def web_port_cases():
    edges = {0, 1, 65535, 65536, *FACTS["proxy_ports"]}
    for low, high in sum(FACTS["host_ports"].values(), []):
        edges |= {low - 1, low, high, high + 1}
    return sorted(edges)


def mount_allowed(service, read_only, access):
    return service in MOUNTING_ROLES and (read_only or access != "public" or service in FACTS["internal_roles"])


ACCESS_RULES = {
    "web_port": lambda check, access: [
        (port, check("web_port", port, access=access) is None, web_port_allowed(port, access))
        for port in web_port_cases()],
    "gpfs_mounts": lambda check, access: [
        ((service, read_only), check("gpfs_mounts", [{**A_MOUNT, "service": service, "read_only": read_only}],
                                     access=access) is None, mount_allowed(service, read_only, access))
        for service in ROLES for read_only in (True, False)],
    "db_nersc_access": lambda check, access: [
        (value, check("db_nersc_access", value, access=access) is None, not (value and access == "public"))
        for value in (True, False)],
}


def ranges_in(text):
    return sorted([int(low), int(high or low)] for low, high in re.findall(r"\b(\d+)(?:-(\d+))?\b", text))


def test_the_web_port_help_and_refusal_name_spins_open_ports(questionnaire):
    """The ranges the user reads (the help, the refusal of a public stack's port) are Spin's."""
    text = " ".join(QUESTIONS["web_port"]["help"].split())
    public, nersc_lbl, nersc = re.fullmatch(r".*Open to anyone[^:]*:(.*)NERSC and LBL:(.*)NERSC only:(.*?)\. The default.*",
                                            text).groups()
    for said, kind in ((public, "public"), (nersc_lbl, "nersc_lbl"), (nersc, "nersc")):
        assert ranges_in(said) == sorted(FACTS["host_ports"][kind]), kind
    refusal = questionnaire.validate("web_port", 1025, access="public")
    assert ranges_in(refusal.partition(": must be ")[2]) == sorted(FACTS["host_ports"]["public"]), refusal


@pytest.mark.parametrize("access", ACCESS_LEVELS)
def test_a_web_port_that_is_no_port_at_all_is_refused_as_such(questionnaire, access):
    """0 and 65536 are not closed ports but no ports: the refusal says the range of a port."""
    for outside in (0, 65536):
        refusal = questionnaire.validate("web_port", outside, access=access)
        assert refusal and "must be from 1 to 65535" in refusal, (outside, refusal)


def test_every_access_dependent_question_is_tried():
    dependent = {key for key, spec in QUESTIONS.items()
                 if key != "access" and re.search(r"\baccess\b", spec.get("validator", "") + spec.get("when", ""))}
    assert dependent == set(ACCESS_RULES)


@pytest.mark.parametrize("access", ACCESS_LEVELS)
@pytest.mark.parametrize("key", sorted(ACCESS_RULES))
def test_each_access_level_against_each_access_rule(questionnaire, key, access):
    wrong = [(value, got) for value, got, expected in ACCESS_RULES[key](questionnaire.validate, access) if got != expected]
    assert not wrong, f"{key} with access={access}: (answer, accepted) wrong for {wrong}"
    if key == "db_nersc_access":  # never asked where it could only be refused
        assert questionnaire.asked(key, access=access) == (access != "public")


@settings(max_examples=50)
@given(stack_name=st.from_regex(RULES["stack_name"]["pattern"], fullmatch=True),
       access=st.sampled_from(ACCESS_LEVELS))
def test_the_default_web_port_is_open_for_any_stack_name(questionnaire, stack_name, access):
    """Not only the examples' names: the port the name hashes to is one the validator and Spin accept."""
    port = int(questionnaire.default("web_port", stack_name=stack_name, access=access))
    assert web_port_allowed(port, "public"), (stack_name, port)
    assert questionnaire.validate("web_port", port, stack_name=stack_name, access=access) is None
