"""The Kubernetes manifests, read statically: nothing is applied (no cluster here).

Each file is parsed and checked for what `kubectl apply -k` relies on and against the rest of
the project (the image's user and port, the settings and their defaults in `.env.example`).
Where kubectl is installed, `kubectl kustomize` renders the manifests too, which needs no
cluster.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from baking import Baked, combination_id, run, supported, uses_redis
from deployfiles import Dockerfile, env_example, read_yaml

KUBERNETES = supported(use_kubernetes=True)
KUBERNETES_QUEUE = supported(use_kubernetes=True, task_queue="arq")
# The longest slug pre_gen accepts (40 characters): every Kubernetes name made from it must fit.
LONGEST_SLUG = "a" * 19 + "-" + "b" * 20

K8S = Path("deploy/k8s")
DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
LABEL_VALUE = re.compile(r"([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?")


@dataclass(frozen=True)
class Manifests:
    """The kustomization and the objects of the files it lists."""

    folder: Path
    kustomization: dict[str, Any]
    objects: list[dict[str, Any]]

    @classmethod
    def read(cls, project: Path) -> Manifests:
        folder = project / K8S
        kustomization = read_yaml(folder / "kustomization.yaml")
        objects = []
        for name in kustomization.get("resources", []):
            with (folder / name).open(encoding="utf-8") as stream:
                objects += [document for document in yaml.safe_load_all(stream) if document]
        return cls(folder, kustomization, objects)

    def all(self, kind: str) -> list[dict[str, Any]]:
        return [o for o in self.objects if o["kind"] == kind]

    def one(self, kind: str) -> dict[str, Any]:
        (found,) = self.all(kind)
        return found

    def pod_specs(self) -> Iterator[dict[str, Any]]:
        for o in self.objects:
            if o["kind"] in ("Deployment", "Job"):
                yield o["spec"]["template"]["spec"]

    def containers(self) -> Iterator[dict[str, Any]]:
        for spec in self.pod_specs():
            yield from spec.get("initContainers", [])
            yield from spec["containers"]

    def deployment(self, component: str = "server") -> dict[str, Any]:
        """The Deployment of the server, or of another component (the worker)."""
        (found,) = [
            o
            for o in self.all("Deployment")
            if o["metadata"]["labels"]["app.kubernetes.io/component"] == component
        ]
        return found

    def server(self) -> dict[str, Any]:
        (container,) = self.deployment()["spec"]["template"]["spec"]["containers"]
        return container

    def settings(self) -> dict[str, str]:
        """The literals of the generated ConfigMap."""
        (generator,) = self.kustomization["configMapGenerator"]
        return dict(literal.split("=", 1) for literal in generator["literals"])


def _port(container: dict[str, Any], port: int | str) -> int:
    """A container port given by number or by name."""
    for declared in container["ports"]:
        if port in (declared["containerPort"], declared.get("name")):
            return declared["containerPort"]
    raise AssertionError(f"port {port!r} is not a port of {container['name']}")


def _selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(key) == value for key, value in selector.items())


@pytest.mark.parametrize("combination", KUBERNETES, ids=combination_id)
class TestKubernetes:
    def test_kustomization_lists_exactly_the_files_present(self, baked: Baked) -> None:
        manifests = Manifests.read(baked.project)
        k = manifests.kustomization
        generated = [
            path
            for generator in (*k.get("configMapGenerator", []), *k.get("secretGenerator", []))
            for path in (*generator.get("files", []), *generator.get("envs", []))
        ]
        present = {path.name for path in manifests.folder.iterdir()} - {"kustomization.yaml"}
        assert sorted(k["resources"] + generated) == sorted(present)
        for path in manifests.folder.iterdir():
            with path.open(encoding="utf-8") as stream:
                list(yaml.safe_load_all(stream))

    def test_names_and_labels_are_valid(self, baked: Baked) -> None:
        manifests = Manifests.read(baked.project)
        names = [o["metadata"]["name"] for o in manifests.objects]
        names += [g["name"] for g in manifests.kustomization["configMapGenerator"]]
        for o in manifests.objects:
            assert o["apiVersion"], o
            assert o["kind"], o
        assert_valid_names(names, manifests)

    def test_server_pods_are_selected_by_deployment_service_and_budget(self, baked: Baked) -> None:
        manifests = Manifests.read(baked.project)
        deployment = manifests.deployment()
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert _selects(deployment["spec"]["selector"]["matchLabels"], labels)
        service = manifests.one("Service")
        assert _selects(service["spec"]["selector"], labels)
        budget = manifests.one("PodDisruptionBudget")
        assert _selects(budget["spec"]["selector"]["matchLabels"], labels)
        for job in manifests.all("Job"):  # a running migration must not receive traffic
            assert not _selects(
                service["spec"]["selector"], job["spec"]["template"]["metadata"]["labels"]
            )

    def test_service_reaches_the_port_the_image_exposes(self, baked: Baked) -> None:
        manifests = Manifests.read(baked.project)
        (exposed,) = (i.args for i in Dockerfile.read(baked).of("EXPOSE"))
        server = manifests.server()
        (port,) = manifests.one("Service")["spec"]["ports"]
        assert _port(server, port["targetPort"]) == int(exposed)
        assert manifests.settings()["PORT"] == exposed
        assert manifests.settings()["HOST"] == "0.0.0.0"
        assert manifests.settings()["LOG_FORMAT"] == "json"

    def test_probes_use_livez_and_readyz(self, baked: Baked) -> None:
        server = Manifests.read(baked.project).server()
        probes = {
            "livenessProbe": "/livez",
            "readinessProbe": "/readyz",
            "startupProbe": "/livez",
        }
        for probe, path in probes.items():
            if probe == "startupProbe" and probe not in server:
                continue
            http = server[probe]["httpGet"]
            assert http["path"] == path, probe
            assert _port(server, http["port"]) == 8080, probe

    def test_every_container_has_requests_and_limits(self, baked: Baked) -> None:
        for container in Manifests.read(baked.project).containers():
            resources = container["resources"]
            for kind in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(resources[kind]), (container["name"], kind)

    def test_pods_run_locked_down_as_the_image_user(self, baked: Baked) -> None:
        manifests = Manifests.read(baked.project)
        uid = int(Dockerfile.read(baked).final_user())
        for spec in manifests.pod_specs():
            pod = spec["securityContext"]
            assert spec.get("automountServiceAccountToken") is False
            tmp = {v["name"] for v in spec["volumes"] if "emptyDir" in v}
            for container in (*spec.get("initContainers", []), *spec["containers"]):
                own = container["securityContext"]
                effective = {**pod, **own}
                assert effective["runAsNonRoot"] is True
                assert effective["runAsUser"] == uid
                assert effective["seccompProfile"]["type"] == "RuntimeDefault"
                assert own["allowPrivilegeEscalation"] is False
                assert own["readOnlyRootFilesystem"] is True
                assert own["capabilities"]["drop"] == ["ALL"]
                mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
                assert mounts.get("/tmp") in tmp, f"{container['name']}: /tmp is no emptyDir"

    def test_grace_period_covers_pre_stop_and_shutdown_timeout(self, baked: Baked) -> None:
        manifests = Manifests.read(baked.project)
        spec = manifests.deployment()["spec"]["template"]["spec"]
        pre_stop = manifests.server().get("lifecycle", {}).get("preStop", {})
        pause = 0.0
        if "exec" in pre_stop:
            command = pre_stop["exec"]["command"]
            assert command[0] == "sleep", command
            pause = float(command[1])
        elif "sleep" in pre_stop:
            pause = float(pre_stop["sleep"]["seconds"])
        default = float(env_example(baked)["SHUTDOWN_TIMEOUT"])
        configured = float(manifests.settings().get("SHUTDOWN_TIMEOUT", default))
        assert spec["terminationGracePeriodSeconds"] > pause + max(default, configured)

    def test_secrets_come_from_the_secret_never_from_the_manifests(
        self, baked: Baked, answers: dict[str, Any]
    ) -> None:
        manifests = Manifests.read(baked.project)
        slug = baked.context["project_slug"]
        secret_names = {"DATABASE_URL", "REDIS_URL", "SENTRY_DSN"}
        assert not manifests.all("Secret")
        assert "secretGenerator" not in manifests.kustomization
        assert not secret_names & set(manifests.settings())
        for container in manifests.containers():
            for variable in container.get("env", []):
                if variable["name"] in secret_names:
                    assert "value" not in variable, variable
                    ref = variable["valueFrom"]["secretKeyRef"]
                    assert (ref["name"], ref["key"]) == (slug, variable["name"])
        env = {variable["name"]: variable for variable in manifests.server().get("env", [])}
        assert ("DATABASE_URL" in env) == (answers["database"] == "postgresql")
        assert ("REDIS_URL" in env) == uses_redis(answers)
        assert ("SENTRY_DSN" in env) == answers["use_sentry"]
        if answers["use_sentry"]:
            # Reporting is optional: the pods must start while the Secret lacks a DSN.
            assert env["SENTRY_DSN"]["valueFrom"]["secretKeyRef"]["optional"] is True

    def test_tracing_has_its_collector_setting(self, baked: Baked, answers: dict[str, Any]) -> None:
        settings = Manifests.read(baked.project).settings()
        assert ("OTEL_EXPORTER_OTLP_ENDPOINT" in settings) == answers["use_tracing"]

    def test_settings_are_settings_of_the_service(self, baked: Baked) -> None:
        documented = set(env_example(baked))
        unknown = set(Manifests.read(baked.project).settings()) - documented
        assert not unknown, f"not settings of the service (see .env.example): {unknown}"

    def test_image_is_the_project_at_its_version(
        self, baked: Baked, answers: dict[str, Any]
    ) -> None:
        manifests = Manifests.read(baked.project)
        slug = baked.context["project_slug"]
        assert {c["image"] for c in manifests.containers()} == {slug}
        (image,) = manifests.kustomization["images"]
        assert (image["name"], image["newTag"]) == (slug, baked.context["version"])

    def test_migrations_run_before_the_server(self, baked: Baked, answers: dict[str, Any]) -> None:
        manifests = Manifests.read(baked.project)
        command = ["python", "-m", baked.package, "migrate"]
        pod = manifests.deployment()["spec"]["template"]["spec"]
        migrating = [
            c
            for c in manifests.containers()
            if [*c.get("command", []), *c.get("args", [])] == command
        ]
        if answers["database"] == "postgresql":
            (job,) = manifests.all("Job")
            assert migrating == job["spec"]["template"]["spec"]["containers"]
            assert job["spec"]["template"]["spec"]["restartPolicy"] in ("Never", "OnFailure")
        elif answers["database"] == "sqlite":
            # The one pod that may open the file migrates it in an init container.
            assert not manifests.all("Job")
            assert migrating == pod["initContainers"]
        else:
            assert not migrating
            assert not manifests.all("Job")

    def test_sqlite_runs_one_pod_on_a_volume_others_autoscale(
        self, baked: Baked, answers: dict[str, Any]
    ) -> None:
        manifests = Manifests.read(baked.project)
        deployment = manifests.deployment()["spec"]
        budget = manifests.one("PodDisruptionBudget")["spec"]
        if answers["database"] == "sqlite":
            assert deployment["replicas"] == 1
            assert deployment["strategy"]["type"] == "Recreate"
            assert not manifests.all("HorizontalPodAutoscaler")
            assert_database_on_the_volume(baked, manifests)
            fewest = 1
        else:
            assert "replicas" not in deployment, "the autoscaler owns the replica count"
            assert deployment["strategy"]["type"] == "RollingUpdate"
            assert not manifests.all("PersistentVolumeClaim")
            hpa = manifests.one("HorizontalPodAutoscaler")
            assert hpa["apiVersion"] == "autoscaling/v2"
            target = hpa["spec"]["scaleTargetRef"]
            assert (target["kind"], target["name"]) == ("Deployment", baked.context["project_slug"])
            assert 2 <= hpa["spec"]["minReplicas"] < hpa["spec"]["maxReplicas"]
            fewest = hpa["spec"]["minReplicas"]
        # The budget must let a drain evict a pod even at the fewest replicas.
        if "minAvailable" in budget:
            assert budget["minAvailable"] < fewest
        else:
            assert budget["maxUnavailable"] >= 1


@pytest.mark.parametrize("combination", KUBERNETES_QUEUE, ids=combination_id)
class TestKubernetesWorker:
    def test_runs_the_worker_and_is_probed_by_its_check(self, baked: Baked) -> None:
        worker = Manifests.read(baked.project).deployment("worker")
        (container,) = worker["spec"]["template"]["spec"]["containers"]
        command = ["python", "-m", baked.package, "worker"]
        assert container["command"] == command
        assert "ports" not in container
        for probe in ("startupProbe", "livenessProbe"):
            assert container[probe]["exec"]["command"] == [*command, "--check"], probe
            # The check starts a Python process: give it time.
            assert container[probe]["timeoutSeconds"] >= 5, probe

    def test_pods_are_apart_from_the_server(self, baked: Baked) -> None:
        manifests = Manifests.read(baked.project)
        worker = manifests.deployment("worker")
        labels = worker["spec"]["template"]["metadata"]["labels"]
        assert _selects(worker["spec"]["selector"]["matchLabels"], labels)
        selectors = {
            "server": manifests.deployment()["spec"]["selector"]["matchLabels"],
            "service": manifests.one("Service")["spec"]["selector"],
            "budget": manifests.one("PodDisruptionBudget")["spec"]["selector"]["matchLabels"],
        }
        for name, selector in selectors.items():
            assert not _selects(selector, labels), f"the {name} selects the worker's pods"
        server_name = manifests.deployment()["metadata"]["name"]
        for hpa in manifests.all("HorizontalPodAutoscaler"):
            assert hpa["spec"]["scaleTargetRef"]["name"] == server_name

    def test_is_locked_down_like_the_server(self, baked: Baked) -> None:
        manifests = Manifests.read(baked.project)
        server = manifests.deployment()["spec"]["template"]["spec"]
        worker = manifests.deployment("worker")["spec"]["template"]["spec"]
        pod = ("runAsNonRoot", "runAsUser", "runAsGroup", "seccompProfile")
        assert {k: worker["securityContext"][k] for k in pod} == {
            k: server["securityContext"][k] for k in pod
        }
        assert worker["containers"][0]["securityContext"] == manifests.server()["securityContext"]
        assert worker["automountServiceAccountToken"] is False
        assert worker["enableServiceLinks"] is False

    def test_grace_period_covers_shutdown_timeout(self, baked: Baked) -> None:
        manifests = Manifests.read(baked.project)
        spec = manifests.deployment("worker")["spec"]["template"]["spec"]
        default = float(env_example(baked)["SHUTDOWN_TIMEOUT"])
        configured = float(manifests.settings().get("SHUTDOWN_TIMEOUT", default))
        assert spec["terminationGracePeriodSeconds"] > max(default, configured)


def assert_valid_names(names: list[str], manifests: Manifests) -> None:
    """Object names are DNS-1123 labels (Services and Jobs need that); label values fit too."""
    for name in names:
        assert len(name) <= 63, f"name too long: {name!r}"
        assert DNS_LABEL.fullmatch(name), f"not a DNS-1123 label: {name!r}"
    for o in manifests.objects:
        templates = [o["metadata"], o.get("spec", {}).get("template", {}).get("metadata", {})]
        for value in (v for meta in templates for v in meta.get("labels", {}).values()):
            assert len(value) <= 63, f"label value too long: {value!r}"
            assert LABEL_VALUE.fullmatch(value), f"invalid label value: {value!r}"


def assert_database_on_the_volume(baked: Baked, manifests: Manifests) -> None:
    """The image's DATABASE_URL points into the folder where the claim is mounted."""
    url = Dockerfile.read(baked).env("DATABASE_URL")
    assert url is not None, "the image sets no DATABASE_URL for SQLite"
    database_file = Path(url.partition(":///")[2])
    claim = manifests.one("PersistentVolumeClaim")
    spec = manifests.deployment()["spec"]["template"]["spec"]
    (volume,) = [
        v["name"]
        for v in spec["volumes"]
        if v.get("persistentVolumeClaim", {}).get("claimName") == claim["metadata"]["name"]
    ]
    for container in (*spec["initContainers"], *spec["containers"]):
        (mount,) = [m["mountPath"] for m in container["volumeMounts"] if m["name"] == volume]
        assert database_file.parent == Path(mount), (container["name"], mount, url)


def test_longest_slug_gives_valid_kubernetes_names(bake_fresh: Any) -> None:
    baked = bake_fresh(
        {"project_slug": LONGEST_SLUG, "use_kubernetes": True, "database": "postgresql",
         "use_redis": True, "task_queue": "arq"}
    )  # fmt: skip
    manifests = Manifests.read(baked.project)
    names = [o["metadata"]["name"] for o in manifests.objects]
    assert f"{LONGEST_SLUG}-migrate" in names
    assert f"{LONGEST_SLUG}-worker" in names
    assert_valid_names(names, manifests)


@pytest.mark.parametrize("combination", KUBERNETES, ids=combination_id)
def test_kustomize_renders_the_manifests(baked: Baked, answers: dict[str, Any]) -> None:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed (its kustomize renders without a cluster)")
    result = run([kubectl, "kustomize", baked.project / K8S], cwd=baked.project)
    assert result.returncode == 0, result.stdout
    objects = [o for o in yaml.safe_load_all(result.stdout) if o]
    (config_map,) = [o for o in objects if o["kind"] == "ConfigMap"]
    rendered = Manifests(baked.project / K8S, {}, objects)
    for container in rendered.containers():
        assert container["image"] == f"{baked.context['project_slug']}:{baked.context['version']}"
        (source,) = container["envFrom"]
        assert source["configMapRef"]["name"] == config_map["metadata"]["name"]
