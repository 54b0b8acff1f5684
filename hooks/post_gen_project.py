"""Remove the files of the components that were not chosen.

The table of components is `.components.json` at the top of the generated tree (shared with
the template tests); the hook reads it from the new project, where it always is, whatever
path the template was given by, then deletes it. The hook only deletes: it is offline,
tolerates paths that are already gone, and running it twice gives the same tree.
"""

import json
import shutil
import sys
from pathlib import Path

MANIFEST = Path(".components.json")
PACKAGE = {{ cookiecutter.package_name | literal }}
# Every answer a manifest row may name; booleans arrive as "True"/"False".
ANSWERS = {
    "python_version": {{ cookiecutter.python_version | literal }},
    "database": {{ cookiecutter.database | literal }},
    "task_queue": {{ cookiecutter.task_queue | literal }},
    "ci": {{ cookiecutter.ci | literal }},
    "license": {{ cookiecutter.license | literal }},
    "use_redis": {{ cookiecutter.use_redis | literal }} == "True",
    "use_metrics": {{ cookiecutter.use_metrics | literal }} == "True",
    "use_tracing": {{ cookiecutter.use_tracing | literal }} == "True",
    "use_sentry": {{ cookiecutter.use_sentry | literal }} == "True",
    "use_websocket": {{ cookiecutter.use_websocket | literal }} == "True",
    "use_docker": {{ cookiecutter.use_docker | literal }} == "True",
    "use_kubernetes": {{ cookiecutter.use_kubernetes | literal }} == "True",
    "use_precommit": {{ cookiecutter.use_precommit | literal }} == "True",
}


def remove(path: Path) -> None:
    """Delete a file or folder; a missing one is already removed."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def main() -> int:
    if not MANIFEST.exists():
        return 0
    components = json.loads(MANIFEST.read_text(encoding="utf-8"))["components"]
    for component in components:
        if ANSWERS[component["key"]] not in component["keep_when"]:
            for pattern in component["paths"]:
                remove(Path.cwd() / pattern.format(package=PACKAGE))
    MANIFEST.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())
