"""The conversions of kubeplay.PODMAN_GAPS, without podman: commands expand as the
kubelet expands them (its own test cases, k8s.io/kubernetes
third_party/forked/golang/expansion/expand_test.go), and what podman is given of a
rendered stack holds only what podman plays as a node would."""

import os

import pytest

import kubeplay
from stack_checks import kustomize, tool
from stackkit import EXAMPLES, load_example

ENV = {"VAR_A": "A", "VAR_B": "B", "VAR_C": "C", "VAR_REF": "$(VAR_A)", "VAR_EMPTY": ""}


@pytest.mark.parametrize("text, expanded", [
    ("$(VAR_A)", "A"),
    ("$(VAR_A)-$(VAR_B)-$(VAR_B)-$(VAR_B)-$(VAR_A)", "A-B-B-B-A"),
    ("___$(VAR_B)___", "___B___"),
    ("$$(VAR_B)_$(VAR_A)", "$(VAR_B)_A"),
    ("$$(VAR_A)_$$(VAR_B)", "$(VAR_A)_$(VAR_B)"),
    ("f000-$$VAR_A", "f000-$VAR_A"),
    ("foo\\$(VAR_C)bar", "foo\\Cbar"),
    ("$(VAR_A$(VAR_B))", "$(VAR_A$(VAR_B))"),
    ("$(VAR_A$(VAR_B)", "$(VAR_A$(VAR_B)"),
    ("%%$(VAR_REF)--$(VAR_REF)%%", "%%$(VAR_A)--$(VAR_A)%%"),
    ("foo$(VAR_EMPTY)bar", "foobar"),
    ("foo$(VAR_Awhoops!", "foo$(VAR_Awhoops!"),
    ("$?_boo_$!", "$?_boo_$!"),
    ("$VAR_A", "$VAR_A"),
    ("$(VAR_DNE)", "$(VAR_DNE)"),
    ("$$$$$$(BIG_MONEY)", "$$$(BIG_MONEY)"),
    ("$$$$$$$(GOOD_ODDS)", "$$$$(GOOD_ODDS)"),
    ("$$$$$$$(VAR_A)", "$$$A"),
    ("${VAR_A}", "${VAR_A}"),
    ("$(VAR_B)_______$(A", "B_______$(A"),
    ("$(VAR_A)foobarzab$", "Afoobarzab$"),
    ("--$($($($($--", "--$($($($($--"),
    ("$(foo$$var)", "$(foo$$var)"),
    ("stamp=$$(date -u); cat /backup/db-$${stamp}.sql", "stamp=$(date -u); cat /backup/db-${stamp}.sql"),
])
def test_kube_play_expands_commands_as_the_kubelet_does(text, expanded):
    assert kubeplay.expand(text, ENV) == expanded


RANCHER2_EXAMPLES = [path for path in EXAMPLES if load_example(path).get("platform") == "rancher2"]


@pytest.mark.skipif(os.geteuid() != 0, reason="the secret files are written owned by root and fsGroup, as root")
@pytest.mark.skipif(not tool("kubectl"), reason="kubectl is not installed")
@pytest.mark.parametrize("example", RANCHER2_EXAMPLES, ids=lambda path: path.stem)
def test_kube_play_gives_podman_only_what_it_plays(rendered_examples, tmp_path, example):
    rendered = kustomize(rendered_examples[example.stem], "development")
    workloads = [obj for obj in rendered if obj["kind"] in ("Deployment", "CronJob")]
    images = {container["image"]: f"localhost/{obj['metadata']['name']}:test"
              for obj in workloads for container in kubeplay.pod_spec(obj)["containers"]}
    secret_values = {(source["secret"]["name"], item["key"]): f"value of {item['key']}" for obj in workloads
                     for volume in kubeplay.pod_spec(obj).get("volumes", [])
                     for source in volume.get("projected", {}).get("sources", []) for item in source["secret"]["items"]}
    addresses = {obj["metadata"]["name"]: f"10.0.0.{index}" for index, obj in enumerate(workloads, start=10)}
    play = kubeplay.Play(images, addresses, secret_values, tmp_path)
    converted = kubeplay.for_podman(rendered, play)
    by_name = {obj["metadata"]["name"]: obj for obj in rendered if obj["kind"] in ("Deployment", "CronJob")}
    assert sorted(obj["metadata"]["name"] for obj in converted) == sorted(by_name)
    services = {obj["metadata"]["name"] for obj in rendered if obj["kind"] == "Service"}
    for pod in converted:
        source = by_name[pod["metadata"]["name"]]
        assert pod["kind"] == {"Deployment": "Deployment", "CronJob": "Pod"}[source["kind"]]
        spec, rendered_spec = kubeplay.pod_spec(pod), kubeplay.pod_spec(source)
        named = {name for alias in spec.get("hostAliases", []) for name in alias["hostnames"]}
        assert services <= named
        assert "imagePullSecrets" not in spec
        for volume in spec.get("volumes", []):  # what podman plays: emptyDir, and host paths of the session
            assert set(volume) in ({"name", "emptyDir"}, {"name", "hostPath"}), volume
            assert "emptyDir" in volume or volume["hostPath"]["path"].startswith(str(tmp_path))
        fs_group = rendered_spec.get("securityContext", {}).get("fsGroup")
        if fs_group is not None:
            assert fs_group in spec["securityContext"]["supplementalGroups"]
        for container, original in zip(spec["containers"], rendered_spec["containers"]):
            assert container["image"] == images[original["image"]] and container["imagePullPolicy"] == "Never"
            assert not set(kubeplay.PROBES) & set(container)
            env = kubeplay.container_env(original)
            assert container.get("command") == (
                [kubeplay.expand(word, env) for word in original["command"]] if "command" in original else None)
        for volume in rendered_spec.get("volumes", []):
            for source in volume.get("projected", {}).get("sources", []):
                for item in source["secret"]["items"]:
                    written = tmp_path / "projected" / pod["metadata"]["name"] / volume["name"] / item["path"]
                    assert written.read_text() == f"value of {item['key']}"
                    assert (written.stat().st_uid, written.stat().st_gid) == (0, fs_group or 0)
                    mode = item.get("mode", volume["projected"].get("defaultMode", 0o644))
                    assert written.stat().st_mode & 0o7777 == mode | (0o440 if fs_group is not None else 0)
