"""The deploy files, read statically: Dockerfile, .dockerignore, compose, Kubernetes, GitLab CI.

Nothing is built, started or applied (there is no Docker engine or cluster here): each file is
parsed and checked for what `docker build`, `docker compose`, `kubectl apply -k` and GitLab
rely on, and against the rest of the project (the image's user and port, the settings and their
defaults in `.env.example`). Where kubectl is installed, `kubectl kustomize` renders the
manifests too, which needs no cluster.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from baking import Baked, combination_id, expected_answers, questions, run
from test_bake import SUPPORTED


def _where(**wanted: Any) -> list[dict[str, Any]]:
    """The supported combinations whose answers include `wanted`."""
    return [
        answers
        for answers in SUPPORTED
        if all(expected_answers(answers)[key] == value for key, value in wanted.items())
    ]


DOCKER = _where(use_docker=True)
KUBERNETES = _where(use_kubernetes=True)
GITLAB = _where(ci="gitlab")
DOCKER_QUEUE = _where(use_docker=True, task_queue="arq")
KUBERNETES_QUEUE = _where(use_kubernetes=True, task_queue="arq")
# The longest slug pre_gen accepts (40 characters): every Kubernetes name made from it must fit.
LONGEST_SLUG = "a" * 19 + "-" + "b" * 20

K8S = Path("deploy/k8s")
DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
LABEL_VALUE = re.compile(r"([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?")
# Tools that compile or install: they belong in the build stage, never in the image that runs.
BUILD_TOOLS = re.compile(r"\b(gcc|g\+\+|clang|cc|make|build-essential|pip3? install|uv)\b")


@pytest.fixture
def answers(combination: dict[str, Any]) -> dict[str, Any]:
    return expected_answers(combination)


def _read_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def env_example(baked: Baked) -> dict[str, str]:
    """The settings and their defaults, as `.env.example` lists them."""
    text = (baked.project / ".env.example").read_text(encoding="utf-8")
    lines = [line.strip() for line in text.splitlines()]
    pairs = [line.split("=", 1) for line in lines if line and not line.startswith("#")]
    return dict(pairs)


def seconds(duration: str) -> float:
    """A compose duration such as `30s` or `1m30s`."""
    parts = re.findall(r"(\d+(?:\.\d+)?)(h|ms|m|s)", duration)
    assert parts, f"not a duration: {duration!r}"
    unit = {"h": 3600, "m": 60, "s": 1, "ms": 0.001}
    return sum(float(number) * unit[suffix] for number, suffix in parts)


# --- Dockerfile -------------------------------------------------------------------------


@dataclass(frozen=True)
class Instruction:
    stage: int  # index of the FROM it follows; -1 before the first
    keyword: str
    args: str


def parse_dockerfile(text: str) -> list[Instruction]:
    """The instructions, continuation lines joined, comments and blank lines dropped."""
    logical, pending = [], ""
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):  # Docker skips these inside a continuation
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1].strip() + " "
        else:
            logical.append(pending + stripped)
            pending = ""
    assert not pending, "the Dockerfile ends inside a continuation line"
    instructions, stage = [], -1
    for line in logical:
        keyword, _, args = line.partition(" ")
        stage += keyword.upper() == "FROM"
        instructions.append(Instruction(stage, keyword.upper(), args.strip()))
    return instructions


@dataclass(frozen=True)
class Dockerfile:
    text: str
    instructions: list[Instruction]

    @classmethod
    def read(cls, baked: Baked) -> Dockerfile:
        text = (baked.project / "Dockerfile").read_text(encoding="utf-8")
        return cls(text, parse_dockerfile(text))

    def expand(self, value: str) -> str:
        """Substitute the global ARGs (those before the first FROM) with their defaults."""
        args = dict(
            i.args.partition("=")[::2]
            for i in self.instructions
            if i.keyword == "ARG" and i.stage == -1
        )
        return re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: args.get(m[1] or m[2], m[0]), value)

    def stages(self) -> list[tuple[str, str | None]]:
        """(image, stage name) of each FROM, ARGs expanded."""
        found = []
        for i in self.of("FROM"):
            words = [word for word in i.args.split() if not word.startswith("--")]
            name = words[2] if len(words) == 3 and words[1].lower() == "as" else None
            found.append((self.expand(words[0]), name))
        return found

    def of(self, keyword: str, stage: int | None = None) -> list[Instruction]:
        return [
            i
            for i in self.instructions
            if i.keyword == keyword and (stage is None or i.stage == stage)
        ]

    @property
    def final(self) -> int:
        return self.instructions[-1].stage

    def final_user(self) -> str:
        """The user of the final stage's CMD (the last USER before it)."""
        final = [i for i in self.instructions if i.stage == self.final]
        cmd = max(n for n, i in enumerate(final) if i.keyword == "CMD")
        users = [i.args for i in final[:cmd] if i.keyword == "USER"]
        assert users, "the final stage sets no USER before CMD: the service would run as root"
        return users[-1].split(":")[0]

    def env(self, name: str) -> str | None:
        """The value the final stage's ENV gives `name`, if any."""
        values = [
            match[1]
            for i in self.of("ENV", self.final)
            for match in re.finditer(r"(?:^|\s)(?:" + name + r")=(\S+)", i.args)
        ]
        return values[-1] if values else None


@pytest.mark.parametrize("combination", DOCKER, ids=combination_id)
class TestDockerfile:
    def test_is_multi_stage_with_named_stages(self, baked: Baked) -> None:
        stages = Dockerfile.read(baked).stages()
        assert len(stages) >= 2, stages
        assert all(name for _, name in stages), f"every stage needs a name: {stages}"

    def test_final_stage_is_the_slim_image_of_python_version(
        self, baked: Baked, answers: dict[str, Any]
    ) -> None:
        image, _ = Dockerfile.read(baked).stages()[-1]
        assert image == f"python:{answers['python_version']}-slim"

    def test_base_images_have_a_tag_other_than_latest(self, baked: Baked) -> None:
        dockerfile = Dockerfile.read(baked)
        names = {name for _, name in dockerfile.stages()}
        for image, _ in dockerfile.stages():
            if image in names:
                continue
            tag = image.rsplit("/", 1)[-1].partition(":")[2]
            assert (tag and tag != "latest") or "@sha256:" in image, image
        assert ":latest" not in dockerfile.text

    def test_runs_as_a_numeric_non_root_user(self, baked: Baked) -> None:
        user = Dockerfile.read(baked).final_user()
        assert user not in ("root", "0")
        # Numeric, so that Kubernetes' runAsNonRoot can check it without /etc/passwd.
        assert user.isdigit(), user

    def test_cmd_is_in_exec_form(self, baked: Baked) -> None:
        dockerfile = Dockerfile.read(baked)
        (cmd, *_) = reversed(dockerfile.of("CMD", dockerfile.final))
        command = json.loads(cmd.args)  # shell form would put sh, not the service, at PID 1
        assert isinstance(command, list), cmd.args
        assert all(isinstance(word, str) for word in command)
        for entrypoint in dockerfile.of("ENTRYPOINT", dockerfile.final):
            assert isinstance(json.loads(entrypoint.args), list), entrypoint.args

    def test_healthcheck_probes_livez(self, baked: Baked) -> None:
        dockerfile = Dockerfile.read(baked)
        (check,) = dockerfile.of("HEALTHCHECK", dockerfile.final)
        _, _, command = check.args.partition("CMD ")
        assert "/livez" in command
        assert ":8080/" in command

    def test_exposes_8080(self, baked: Baked) -> None:
        dockerfile = Dockerfile.read(baked)
        ports = [p.split("/")[0] for i in dockerfile.of("EXPOSE") for p in i.args.split()]
        assert ports == ["8080"]

    def test_has_no_add_and_no_sudo(self, baked: Baked) -> None:
        dockerfile = Dockerfile.read(baked)
        assert not dockerfile.of("ADD"), "COPY, not ADD (which fetches URLs and unpacks)"
        assert not [i for i in dockerfile.of("RUN") if re.search(r"\bsudo\b", i.args)]

    def test_final_stage_has_no_build_tools(self, baked: Baked) -> None:
        dockerfile = Dockerfile.read(baked)
        stage_names = {name for _, name in dockerfile.stages()}
        for run_ in dockerfile.of("RUN", dockerfile.final):
            assert not BUILD_TOOLS.search(run_.args), run_.args
        for copy in dockerfile.of("COPY", dockerfile.final):
            source = re.search(r"--from=(\S+)", copy.args)
            assert source is None or source[1] in stage_names, f"copies from an image: {copy}"

    def test_dockerignore_keeps_secrets_and_local_state_out(self, baked: Baked) -> None:
        text = (baked.project / ".dockerignore").read_text(encoding="utf-8")
        entries = {
            line.strip().removeprefix("**/").strip("/")
            for line in text.splitlines()
            if line.strip() and not line.startswith("#")
        }
        assert {".git", ".venv", ".env"} <= entries


# --- compose.yaml -----------------------------------------------------------------------


@pytest.mark.parametrize("combination", DOCKER, ids=combination_id)
def test_compose_services_have_health_checks(baked: Baked, answers: dict[str, Any]) -> None:
    services = _read_yaml(baked.project / "compose.yaml")["services"]
    app = services["app"]
    assert app["healthcheck"]["test"], "the app service has no healthcheck"
    shutdown = float(env_example(baked)["SHUTDOWN_TIMEOUT"])
    assert seconds(app["stop_grace_period"]) > shutdown

    def using(image: str) -> list[str]:
        return [name for name, s in services.items() if str(s.get("image", "")).startswith(image)]

    postgres, redis = using("postgres"), using("redis")
    assert len(postgres) == (answers["database"] == "postgresql"), postgres
    assert len(redis) == answers["use_redis"], redis
    for name in postgres + redis:
        assert services[name]["healthcheck"]["test"], f"{name} has no healthcheck"
        waiting = {
            other: spec["depends_on"][name].get("condition")
            for other, spec in services.items()
            if name in spec.get("depends_on", {})
        }
        assert waiting, f"no service waits for {name}"
        assert set(waiting.values()) == {"service_healthy"}, waiting
    assert ("worker" in services) == (answers["task_queue"] == "arq")


@pytest.mark.parametrize("combination", DOCKER, ids=combination_id)
def test_compose_passes_reporting_and_tracing_settings_from_the_shell(
    baked: Baked, answers: dict[str, Any]
) -> None:
    environment = _read_yaml(baked.project / "compose.yaml")["services"]["app"]["environment"]
    for name, option in (
        ("SENTRY_DSN", "use_sentry"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "use_tracing"),
    ):
        assert (name in environment) == answers[option], name
        if answers[option]:
            assert environment[name] == f"${{{name}:-}}"


@pytest.mark.parametrize("combination", DOCKER_QUEUE, ids=combination_id)
def test_compose_worker_runs_the_jobs_and_is_checked(baked: Baked) -> None:
    services = _read_yaml(baked.project / "compose.yaml")["services"]
    worker = services["worker"]
    command = ["python", "-m", baked.package, "worker"]
    assert worker["command"] == command
    # The image's HEALTHCHECK asks the web server, which a worker does not run.
    assert worker["healthcheck"]["test"] == ["CMD", *command, "--check"]
    assert worker["depends_on"]["redis"]["condition"] == "service_healthy"
    assert worker["environment"]["REDIS_URL"] == services["app"]["environment"]["REDIS_URL"]
    assert "ports" not in worker
    shutdown = float(env_example(baked)["SHUTDOWN_TIMEOUT"])
    assert seconds(worker["stop_grace_period"]) > shutdown


# --- Kubernetes -------------------------------------------------------------------------


@dataclass(frozen=True)
class Manifests:
    """The kustomization and the objects of the files it lists."""

    folder: Path
    kustomization: dict[str, Any]
    objects: list[dict[str, Any]]

    @classmethod
    def read(cls, project: Path) -> Manifests:
        folder = project / K8S
        kustomization = _read_yaml(folder / "kustomization.yaml")
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
        assert ("REDIS_URL" in env) == answers["use_redis"]
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


# --- GitLab CI --------------------------------------------------------------------------

GITLAB_KEYWORDS = {
    "after_script", "before_script", "cache", "default", "image", "include", "services",
    "spec", "stages", "variables", "workflow",
}  # fmt: skip


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """GitLab's `extends`: mappings merge key by key, anything else is replaced."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def gitlab_jobs(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The jobs of a .gitlab-ci.yml with `extends` resolved and `default` applied."""

    def resolve(job: dict[str, Any]) -> dict[str, Any]:
        parents = job.get("extends", [])
        resolved: dict[str, Any] = document.get("default", {})
        for parent in [parents] if isinstance(parents, str) else parents:
            resolved = _merge(resolved, resolve(document[parent]))
        return _merge(resolved, {k: v for k, v in job.items() if k != "extends"})

    return {
        name: resolve(job)
        for name, job in document.items()
        if name not in GITLAB_KEYWORDS and not name.startswith(".")
    }


def _versions_from(minimum: str) -> list[str]:
    version = tuple(map(int, minimum.split(".")))
    return [v for v in questions()["python_version"] if tuple(map(int, v.split("."))) >= version]


@pytest.mark.parametrize("combination", GITLAB, ids=combination_id)
class TestGitLab:
    @staticmethod
    def jobs(baked: Baked) -> dict[str, dict[str, Any]]:
        return gitlab_jobs(_read_yaml(baked.project / ".gitlab-ci.yml"))

    def test_lint_and_test_stages_run_make(self, baked: Baked) -> None:
        document = _read_yaml(baked.project / ".gitlab-ci.yml")
        assert document["stages"] == ["lint", "test"]
        commands = {
            job["stage"]: "\n".join(job["script"]) for job in gitlab_jobs(document).values()
        }
        assert "make lint" in commands["lint"]
        assert "make test" in commands["test"]

    def test_jobs_install_make_and_uv_and_cache_uv(self, baked: Baked) -> None:
        document = _read_yaml(baked.project / ".gitlab-ci.yml")
        cache_dir = document["variables"]["UV_CACHE_DIR"]
        for name, job in gitlab_jobs(document).items():
            setup = "\n".join(job["before_script"])
            assert re.search(r"apt-get install .*\bmake\b", setup), name
            assert re.search(r"pip install .*\buv\b", setup), name
            assert job["cache"]["key"]["files"] == ["pyproject.toml"], name
            assert job["cache"]["paths"] == [cache_dir], name

    def test_python_matrix_starts_at_python_version(
        self, baked: Baked, answers: dict[str, Any]
    ) -> None:
        for name, job in self.jobs(baked).items():
            (row,) = job["parallel"]["matrix"]
            assert row["PYTHON_VERSION"] == _versions_from(answers["python_version"]), name
            assert job["image"] in ("python:${PYTHON_VERSION}-slim", "python:$PYTHON_VERSION-slim")

    def test_services_follow_the_answers(self, baked: Baked, answers: dict[str, Any]) -> None:
        jobs = self.jobs(baked)
        hosts = {
            service["name"].partition(":")[0]: service.get("alias")
            for job in jobs.values()
            for service in job.get("services", [])
        }
        assert ("postgres" in hosts) == (answers["database"] == "postgresql"), hosts
        assert ("redis" in hosts) == answers["use_redis"], hosts
        urls = {"postgres": "TEST_DATABASE_URL", "redis": "TEST_REDIS_URL"}
        test_variables = jobs["test"].get("variables", {})
        for image, variable in urls.items():
            if image in hosts:
                host = urlsplit(test_variables[variable]).hostname
                assert host == (hosts[image] or image), (variable, host)
