"""Write docs/recipes.md: for each of NERSC's Spin recipes, the answers that reproduce it
(docs/recipes/<name>.yml), what the template renders for them on both platforms, read from the
renders themselves, and what differs from the recipe and why (docs/recipes/notes.yml).

    .venv/bin/python docs/recipes.py > docs/recipes.md

tests/test_docs_recipes.py checks that docs/recipes.md is what this prints for the template as it is.
"""

import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
RANCHER1_ONLY = ("environment", "web_exposure", "web_port")  # questions that Kubernetes does not ask
RECIPES = ROOT / "docs" / "recipes"
sys.path.insert(0, str(ROOT / "tests"))
from stackkit import snapshot_template  # noqa: E402  (the tests' own snapshot of the working tree)


def render(template, answers, dst):
    from copier import run_copy

    run_copy(str(template), dst, data=answers, defaults=True, quiet=True, unsafe=False)
    return dst


def code(text):
    return f"`{text}`"


def flow(value):
    """An answer as it is written in YAML, on one line."""
    return yaml.safe_dump(value, default_flow_style=True, width=1000).strip().removesuffix("\n...").strip()


def compose_rows(stack):
    """One line per service of docker-compose.yml: how it runs, what it adds back, what it keeps."""
    compose = yaml.safe_load((stack / "docker-compose.yml").read_text())
    rows = []
    for name, service in compose["services"].items():
        labels = service.get("labels") or {}
        facts = [code(service["image"]),
                 "as " + code(service["user"]) if "user" in service else "as the image's account",
                 "adds " + ", ".join(service.get("cap_add", [])) if service.get("cap_add") else "no capability"]
        facts += ["port " + code(port) for port in service.get("ports", [])]
        facts += ["volume " + code(volume) for volume in service.get("volumes", [])]
        facts += ["secret " + code(secret["source"]) for secret in service.get("secrets", [])]
        if "cron.schedule" in labels:
            facts.append("schedule " + code(labels["cron.schedule"]))
        if labels.get("io.rancher.container.pull_image") == "always":
            facts.append("pulled at every start")
        rows.append(f"{code(name)}: " + "; ".join(facts))
    return rows


def kubernetes_rows(stack):
    """One line per workload of k8s/base: its kind, how it runs, its claims, schedule and Service."""
    objects = [obj for path in sorted((stack / "k8s" / "base").glob("*.yaml"))
               for obj in yaml.safe_load_all(path.read_text()) if obj and obj.get("kind") != "Kustomization"]
    services = {o["metadata"]["name"]: o for o in objects if o["kind"] == "Service"}
    rows = []
    for obj in objects:
        if obj["kind"] not in ("Deployment", "CronJob"):
            continue
        spec = obj["spec"]["template"]["spec"] if obj["kind"] == "Deployment" else \
            obj["spec"]["jobTemplate"]["spec"]["template"]["spec"]
        (container,) = spec["containers"]
        pod = spec["securityContext"]
        added = container["securityContext"]["capabilities"].get("add", [])
        facts = [obj["kind"], code(container["image"]),
                 f"as `{pod['runAsUser']}:{pod['runAsGroup']}`",
                 "adds " + ", ".join(added) if added else "no capability"]
        for volume in spec.get("volumes", []):
            if "persistentVolumeClaim" in volume:
                facts.append("claim " + code(volume["persistentVolumeClaim"]["claimName"]))
            elif "hostPath" in volume:
                facts.append("directory " + code(volume["hostPath"]["path"]))
        if obj["kind"] == "CronJob":
            facts.append("schedule " + code(obj["spec"]["schedule"]) + " UTC")
        if container.get("imagePullPolicy") == "Always":
            facts.append("pulled at every start")
        service = services.get(obj["metadata"]["name"])
        if service and service["spec"].get("type") == "LoadBalancer":
            facts.append("LoadBalancer for " + ", ".join(service["spec"].get("loadBalancerSourceRanges", [])))
        rows.append(f"{code(obj['metadata']['name'])}: " + "; ".join(facts))
    return rows


def page(template, work):
    notes = yaml.safe_load((RECIPES / "notes.yml").read_text())
    lines = ["# NERSC's Spin recipes, rendered",
             "",
             "NERSC publishes compose recipes for common Spin stacks. For each, the answers file below "
             "reproduces it with `copier copy --defaults --data-file docs/recipes/NAME.yml`, and the lists show "
             "what the template renders for those answers on Rancher 1.6 and, with `platform: rancher2` (and "
             "without the Rancher 1.6 questions `web_exposure` and `web_port`), on Kubernetes; then what differs "
             "from the recipe, and why. Written by `docs/recipes.py` from "
             "the renders themselves.",
             ""]
    for name, note in notes.items():
        answers_file = RECIPES / f"{name}.yml"
        answers = yaml.safe_load(answers_file.read_text())
        about = answers_file.read_text().splitlines()[0].lstrip("# ").strip()
        rancher1 = render(template, answers, work / name / "rancher1")
        kubernetes = {key: value for key, value in answers.items() if key not in RANCHER1_ONLY}
        rancher2 = render(template, dict(kubernetes, platform="rancher2"), work / name / "rancher2")
        lines += [f"## {note['recipe']}", "", about, "",
                  f"Answers: [`docs/recipes/{name}.yml`](recipes/{name}.yml): "
                  + ", ".join(f"`{key}: {flow(value)}`" for key, value in answers.items()
                              if key not in ("owner", "staff_owner", "run_as_uid", "run_as_gid", "ci")) + ".",
                  "", "Rancher 1.6:", ""]
        lines += [f"- {row}" for row in compose_rows(rancher1)]
        lines += ["", "Kubernetes:", ""]
        lines += [f"- {row}" for row in kubernetes_rows(rancher2)]
        lines += ["", "What differs from the recipe, and why:", ""]
        lines += [f"- {text}" for text in note["differences"]]
        lines.append("")
    return "\n".join(lines)


def main():
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        template = snapshot_template(work / "template")
        sys.stdout.write(page(template, work))


if __name__ == "__main__":
    main()
