"""The Dockerfile and .dockerignore, read statically: nothing is built (no Docker engine here).

Each is parsed and checked for what `docker build` relies on: named stages, the slim image of
python_version, a numeric non-root user, an exec-form CMD, a health check, no build tools in
the image that runs.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from baking import Baked, combination_id, supported
from deployfiles import Dockerfile

DOCKER = supported(use_docker=True)
# Tools that compile or install: they belong in the build stage, never in the image that runs.
BUILD_TOOLS = re.compile(r"\b(gcc|g\+\+|clang|cc|make|build-essential|pip3? install|uv)\b")


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
