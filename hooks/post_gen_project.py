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
# The answers as data; the pre-generation hook has refused any yes/no answer that is not a
# boolean, so they compare with the manifest's `keep_when` values as they are.
ANSWERS = json.loads({{ cookiecutter | tojson | literal }})  # noqa: E501  # fmt: skip


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
                remove(Path.cwd() / pattern.format(package=ANSWERS["package_name"]))
    MANIFEST.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())
