"""docs/recipes.md is what docs/recipes.py writes from the template as it is, and every recipe's
answers render a stack on both platforms that spin-audit accepts."""

import sys

import pytest
import yaml

from stackkit import ROOT
from stack_checks import assert_audit_clean

sys.path.insert(0, str(ROOT / "docs"))
import recipes  # noqa: E402  (docs/recipes.py, a script)

NAMES = sorted(path.stem for path in (ROOT / "docs" / "recipes").glob("*.yml") if path.stem != "notes")


def test_every_recipe_has_notes_and_answers():
    notes = yaml.safe_load((ROOT / "docs" / "recipes" / "notes.yml").read_text())
    assert sorted(notes) == NAMES
    assert all(note["differences"] for note in notes.values())


def test_recipes_page_is_current(template_repo, tmp_path):
    assert (ROOT / "docs" / "recipes.md").read_text() == recipes.page(template_repo, tmp_path), \
        "run: .venv/bin/python docs/recipes.py > docs/recipes.md"


@pytest.mark.parametrize("platform", ["rancher1", "rancher2"])
@pytest.mark.parametrize("name", NAMES)
def test_recipe_answers_render_a_stack_spin_audit_accepts(render, name, platform):
    answers = yaml.safe_load((ROOT / "docs" / "recipes" / f"{name}.yml").read_text())
    if platform == "rancher2":
        answers = {key: value for key, value in answers.items() if key not in recipes.RANCHER1_ONLY}
    assert_audit_clean(render(dict(answers, platform=platform)), fail_on="warning")
