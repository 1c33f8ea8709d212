"""Fixtures: the template snapshot and a `render` helper that runs copier's own
run_copy against it (helpers live in stackkit.py)."""

from pathlib import Path

import pytest

from stackkit import EXAMPLES, load_example, snapshot_template


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
