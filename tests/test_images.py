"""Every image an example stack builds, built by buildah from a stand-in of its
base image and run the way its compose service (or, on rancher2, its pod) runs it
(imagekit.py): as the service's user and groups it reports the answered ids and names, app
and api answer /healthz, and web's nginx passes `nginx -t` as that user and
serves /healthz and the proxied services side by side with them. Images
pulled as they are (db, kv) are not built. Needs root, buildah and mmdebstrap;
`pytest -m "not images"` leaves these tests out."""

import pytest

import imagekit
from stackkit import EXAMPLES, load_example

pytestmark = [pytest.mark.images, pytest.mark.skipif(bool(imagekit.missing()), reason=imagekit.missing())]

ANSWERS = {path.stem: load_example(path) for path in EXAMPLES}
BUILT = [(name, role) for name, answers in ANSWERS.items() for role in ("web", "app", "api")
         if role in answers["services"]]
SERVERS = [(name, role) for name, role in BUILT if role != "web"]
WEB = [name for name, role in BUILT if role == "web"]
ID_REPORT = ("echo $(id -u) $(id -g); id -G; "
             "if user=$(id -un 2>/dev/null); then echo $user; else echo -; fi; "
             "if group=$(id -gn 2>/dev/null); then echo $group; else echo -; fi")


@pytest.fixture(scope="module")
def build(rendered_examples, image_store):
    """build(name, role) -> tag of the example's image, built once; fails with buildah's log."""
    results = {}

    def image(name, role):
        if (name, role) not in results:
            stack = rendered_examples[name]
            tag = f"localhost/{name}-{role}:test"
            results[name, role] = tag, image_store.build(stack, stack / role / "Dockerfile", tag)
        tag, result = results[name, role]
        assert result.returncode == 0, f"{name}/{role}/Dockerfile does not build:\n{result.stdout}{result.stderr}"
        return tag

    return image


@pytest.fixture
def run_stack(rendered_examples, image_store, build, tmp_path):
    """run_stack(name, roles) -> the example's built services side by side (imagekit.StackRun)."""
    runs = []

    def start(name, roles):
        images = {role: build(name, role) for role in roles}
        runs.append(imagekit.StackRun(image_store, rendered_examples[name], images, roles, tmp_path))
        return runs[-1]
    yield start
    for run in runs:
        run.close()


def expected_names(answers):
    user = answers.get("run_as_user", "")
    group = answers.get("run_as_group", user)
    return user or "-", group or "-"


def web_roles(name):
    """web and the services it proxies to (whose names its nginx.conf resolves)."""
    return [role for role in ("web", "app", "api") if role in ANSWERS[name]["services"]]


@pytest.mark.parametrize("name, role", BUILT)
def test_example_image_builds_and_defaults_to_the_service_user(build, image_store, rendered_examples, name, role):
    container = image_store.container(build(name, role), shared=True)
    service = imagekit.compose_services(rendered_examples[name])[role]
    assert container.config["User"] == service["user"] == f"{ANSWERS[name]['run_as_uid']}:{ANSWERS[name]['run_as_gid']}"


@pytest.mark.parametrize("name, role", BUILT)
def test_example_image_runs_as_the_answered_account(run_stack, name, role):
    stack = run_stack(name, [role])
    status, output = stack.run(role, ["sh", "-c", ID_REPORT])
    assert status == 0, output
    ids, groups, user, group = output.splitlines()
    answers = ANSWERS[name]
    assert ids == f"{answers['run_as_uid']} {answers['run_as_gid']}"
    assert set(map(int, groups.split())) == set(stack.account(role).groups)
    assert (user, group) == expected_names(answers)


@pytest.mark.parametrize("name, role", SERVERS)
def test_example_service_answers_its_health_check(run_stack, rendered_examples, name, role):
    stack = run_stack(name, [role])
    process = stack.start(role)
    port = ANSWERS[name].get("app_port", 8000)
    status, body = stack.fetch(role, port, "/healthz")
    assert (status, body) == (200, "ok\n"), process.log.read_text()
    status, body = stack.fetch(role, port, "/")
    assert status == 200 and f'"service": "{role}"' in body


@pytest.mark.parametrize("name", WEB)
def test_example_web_config_passes_nginx_t_as_the_service_user(run_stack, name):
    stack = run_stack(name, web_roles(name))
    status, output = stack.run("web", ["nginx", "-t"])
    assert status == 0 and "test is successful" in output, output


@pytest.mark.parametrize("name", WEB)
def test_example_web_serves_health_and_its_site_beside_the_services(run_stack, name):
    services = ANSWERS[name]["services"]
    roles = web_roles(name)
    stack = run_stack(name, roles)
    site = [mount for mount in ANSWERS[name].get("gpfs_mounts", []) if mount["service"] == "web"]
    if site and "app" not in services:
        page = stack.volume("web", site[0]["container_path"]) / "index.html"
        page.write_text("the group's pages\n")
    processes = {role: stack.start(role) for role in roles}
    logs = lambda: "\n".join(f"--- {role}\n{process.log.read_text()}" for role, process in processes.items())  # noqa: E731
    assert stack.fetch("web", 8080, "/healthz") == (200, "ok\n"), logs()
    status, body = stack.fetch("web", 8080, "/")
    if "app" in services:
        assert status == 200 and '"service": "app"' in body, logs()
    elif site:
        assert (status, body) == (200, "the group's pages\n"), logs()
    else:
        assert status == 200 and "web service of the Spin stack" in body, logs()
    if "api" in services:
        status, body = stack.fetch("web", 8080, "/api/")
        assert status == 200 and '"service": "api"' in body, logs()
    assert all(process.poll() is None for process in processes.values()), logs()
