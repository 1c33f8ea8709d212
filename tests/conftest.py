"""Fixtures: the template snapshot and a `render` helper that runs copier's own
run_copy against it (helpers live in stackkit.py); the seed of the property tests."""

import os
import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from stackkit import EXAMPLES, load_example, snapshot_template

# The property tests draw from one seed per run: --hypothesis-seed=N, else a random one, printed in
# the header and the summary so that a failure replays. Never derandomized, not even in CI (where
# hypothesis's own "ci" profile would fix each test's seed for good). No deadline: a render takes
# seconds, more on a busy machine. max_examples is for the tests that do not set their own (the
# render-and-check properties of test_properties.py); HYPOTHESIS_PROFILE=deep tries many more.
PROPERTY_SETTINGS = dict(derandomize=False, deadline=None,
                         suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
settings.register_profile("default", max_examples=30, **PROPERTY_SETTINGS)
settings.register_profile("deep", max_examples=400, **PROPERTY_SETTINGS)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    """Pick the seed before hypothesis's own plugin reads --hypothesis-seed."""
    if config.getoption("hypothesis_seed") is None:
        config.option.hypothesis_seed = str(random.randrange(2**32))


def _replay(config):
    seed = config.getoption("hypothesis_seed")
    return f"hypothesis seed {seed} (replay a failure with --hypothesis-seed={seed})"


def pytest_report_header(config):
    return _replay(config)


def pytest_terminal_summary(terminalreporter, config):
    terminalreporter.write_line(_replay(config))


@pytest.fixture(scope="session")
def template_repo(tmp_path_factory):
    return snapshot_template(tmp_path_factory.mktemp("template"))


@pytest.fixture(scope="session")
def render(template_repo, tmp_path_factory):
    """render(answers) -> the rendered stack's directory, through copier.run_copy."""
    from copier import run_copy

    counter = iter(range(10**9))

    def _render(answers, dst=None, **options):
        dst = Path(dst) if dst else tmp_path_factory.mktemp("stack") / f"stack{next(counter)}"
        run_copy(str(template_repo), dst, data=answers, defaults=True, quiet=True,
                 unsafe=False, **options)
        return dst

    return _render


@pytest.fixture(scope="session")
def rendered_examples(render):
    """Every example answers file, rendered once for the whole session."""
    return {path.stem: render(load_example(path)) for path in EXAMPLES}



@pytest.fixture(scope="session")
def image_store(tmp_path_factory):
    """A buildah storage of the session for the image tests (imagekit.py), removed at the end."""
    import imagekit

    store = imagekit.Store(tmp_path_factory.mktemp("buildah"))
    yield store
    store.close()


@pytest.fixture(scope="session")
def podman(image_store, tmp_path_factory):
    """podman on the image store's storage for the kube play tests (kubeplay.py); what it
    made goes before the store does."""
    import kubeplay

    engine = kubeplay.Podman(image_store, tmp_path_factory.mktemp("podman"))
    yield engine
    engine.close()
