"""The benchmark's reference templates are what its table says they are (not timed:
speed is measured by bench/bench.py alone). The shape floor must render the same
file tree as the real template with one-line files, and must drop the validators
only when asked to, or its rows would split a copy's cost wrongly."""

import sys

import jinja2
import pytest
import yaml
from copier import run_copy

from stackkit import EXAMPLES, ROOT, load_example

sys.path.insert(0, str(ROOT / "bench"))
import bench  # noqa: E402  (bench/ is a script folder, not a package)

PORTAL = next(path for path in EXAMPLES if path.stem == "portal")
PORTAL_K8S = next(path for path in EXAMPLES if path.stem == "portal-k8s")


def copy(template, answers, dst):
    run_copy(str(template), dst, data=answers, defaults=True, quiet=True, unsafe=False, vcs_ref="v1.0.0")
    return dst


def tree(stack):
    return sorted(str(path.relative_to(stack)) for path in stack.rglob("*") if path.is_file())


@pytest.fixture(scope="module")
def shapes(template_repo, tmp_path_factory):
    work = tmp_path_factory.mktemp("shapes")
    return {validators: bench.shape_floor(template_repo, work / f"shape-{validators}", validators)
            for validators in (False, True)}


@pytest.mark.parametrize("validators", [False, True])
def test_shape_floor_renders_the_same_files_one_line_each(template_repo, shapes, validators, tmp_path):
    answers = load_example(PORTAL)
    real = copy(template_repo, answers, tmp_path / "real")
    shape = copy(shapes[validators], answers, tmp_path / "shape")
    assert tree(shape) == tree(real)
    stack_name = yaml.safe_load((real / ".copier-answers.yml").read_text())["stack_name"]
    one_line = [name for name in tree(shape) if (shape / name).read_text() == stack_name + "\n"]
    static = [name for name in tree(shape) if (shape / name).read_bytes() == (real / name).read_bytes()]
    assert sorted(one_line + static) == [name for name in tree(shape) if name != ".copier-answers.yml"]
    assert len(one_line) > len(static), "the shape floor still renders the template's own content"


def test_shape_floor_keeps_its_validators_only_when_asked(shapes, tmp_path):
    answers = dict(load_example(PORTAL), image_tag="latest")
    copy(shapes[False], answers, tmp_path / "unvalidated")
    with pytest.raises(ValueError, match="image_tag"):
        copy(shapes[True], answers, tmp_path / "validated")
    assert not (tmp_path / "validated").exists()


def test_floor_template_copies_and_updates(tmp_path):
    floor = bench.floor_template(tmp_path / "floor")
    bench.release(floor, "README.md.jinja", "# {{ name }}", "# {{ name }}!")
    stack = copy(floor, {}, tmp_path / "stack")
    assert (stack / "README.md").read_text() == "# x\n"


def test_one_part_rewrites_only_its_section_of_the_document():
    old = "# Performance\n\n## copier\n\ncopier rows\n\n## spin-audit\n\nold audit rows\n"
    new = bench.replace_section(old, "spin-audit", "## spin-audit\n\nnew audit rows\n")
    assert new == "# Performance\n\n## copier\n\ncopier rows\n\n## spin-audit\n\nnew audit rows\n"
    assert bench.replace_section("# Performance\n", "copier", "## copier\n\nrows\n") == \
        "# Performance\n\n## copier\n\nrows\n"


def test_in_process_copies_count_the_code_the_shape_floor_does_not_compile(template_repo, shapes, tmp_path):
    original = jinja2.Environment.compile
    shape = bench.compiled_in_process(shapes[False], PORTAL_K8S, tmp_path, rounds=1)
    real = bench.compiled_in_process(template_repo, PORTAL_K8S, tmp_path, rounds=1)
    assert jinja2.Environment.compile is original
    assert 0 < shape["nodes"] < real["nodes"]
    assert 0 < shape["compile_ms"] < real["compile_ms"]


def test_compile_budget_says_how_much_less_code_the_kubernetes_target_needs():
    split = {"shape-k8s": 1000.0, "portal-k8s": 1400.0,
             "compiled-shape-k8s": {"compile_ms": 100.0, "nodes": 2000},
             "compiled-portal-k8s": {"compile_ms": 400.0, "nodes": 10000}}
    text = bench.compile_budget(split)
    assert "compiles 8000 nodes of Jinja code more than its shape floor, in 300 ms (38 µs a node)" in text
    assert "compiling is 75% of the 400 ms the copy costs beyond the shape floor" in text
    assert "1.25x, 150 ms less, means about 50% less code to compile (some 4000 nodes)" in text
