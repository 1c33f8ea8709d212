"""Every example answers file renders into a stack that Rancher 1.6, hadolint and
spin-audit accept, with the files a stack repository needs."""

import shutil
import subprocess
import sys

import pytest
import yaml

from stackkit import EXAMPLES, SHARED, load_example
from stack_checks import assert_audit_clean, assert_hadolint, assert_schema, assert_types, assert_valid_overlay, dockerfiles

NAMES = [path.stem for path in EXAMPLES]
RANCHER1 = [path.stem for path in EXAMPLES if load_example(path).get("platform", "rancher1") == "rancher1"]
RANCHER2 = [name for name in NAMES if name not in RANCHER1]


def test_there_are_examples_of_each_kind():
    kinds = {tuple(sorted(load_example(path)["services"])) for path in EXAMPLES}
    assert RANCHER1 and RANCHER2
    assert ("app", "db", "util", "web") in kinds  # the web+app+db portal
    assert ("web",) in kinds  # a static site
    assert len(EXAMPLES) >= 4


@pytest.mark.parametrize("name", NAMES)
def test_example_renders_the_stack_files(rendered_examples, name):
    stack = rendered_examples[name]
    answers = yaml.safe_load((stack / ".copier-answers.yml").read_text())
    platform_files = (["docker-compose.yml", "rancher-compose.yml"] if name in RANCHER1 else
                      ["k8s/base/kustomization.yaml", "k8s/development/kustomization.yaml",
                       "k8s/production/kustomization.yaml"])
    for path in platform_files + ["README.md", ".copier-answers.yml", ".gitignore", ".dockerignore",
                                  ".pre-commit-config.yaml", "Makefile"]:
        assert (stack / path).is_file(), path
    assert answers["platform"] == ("rancher1" if name in RANCHER1 else "rancher2")
    built = {role for role in answers["services"] if role in ("web", "app", "api")}
    assert {path.parent.name for path in dockerfiles(stack)} == built
    assert (stack / ".gitlab-ci.yml").exists() == (answers["ci"] == "gitlab")
    assert (stack / ".github" / "workflows" / "spin.yml").exists() == (answers["ci"] == "github")


@pytest.mark.parametrize("name", RANCHER1)
def test_example_types(rendered_examples, name):
    services = assert_types(rendered_examples[name])
    assert sorted(services) == sorted(load_example(f"examples/{name}.yml")["services"])


@pytest.mark.parametrize("name", RANCHER1)
def test_example_passes_the_projects_rancher_schema(rendered_examples, name):
    assert_schema(rendered_examples[name])


@pytest.mark.parametrize("name", NAMES)
def test_example_dockerfiles_pass_hadolint(rendered_examples, name):
    assert_hadolint(rendered_examples[name])


@pytest.mark.parametrize("name", NAMES)
def test_example_audits_clean(rendered_examples, name):
    assert_audit_clean(rendered_examples[name], fail_on="info")  # not even an info finding


@pytest.mark.skipif(not (SHARED / "tools" / "rancher-schema-check").exists(), reason="../shared is not here")
@pytest.mark.parametrize("name", RANCHER1)
def test_example_passes_rancher_16s_own_schema(rendered_examples, name):
    result = subprocess.run([sys.executable, str(SHARED / "tools" / "rancher-schema-check"), str(rendered_examples[name])],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("name", NAMES)
def test_example_files_are_valid(rendered_examples, name):
    stack = rendered_examples[name]
    for path in stack.rglob("*.yml"):
        yaml.safe_load(path.read_text())
    yaml.safe_load((stack / ".pre-commit-config.yaml").read_text())
    for script in stack.glob("*/main.py"):
        compile(script.read_text(), str(script), "exec")


@pytest.mark.skipif(not shutil.which("kubectl"), reason="kubectl (with kustomize) is not installed")
@pytest.mark.parametrize("cluster", ["development", "production"])
@pytest.mark.parametrize("name", RANCHER2)
def test_example_overlays_build_into_valid_kubernetes_objects(rendered_examples, name, cluster):
    assert_valid_overlay(rendered_examples[name], cluster)
