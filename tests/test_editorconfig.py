"""Every file of a project follows its `.editorconfig`: LF line ends, a final newline, no
trailing whitespace, tabs only in the Makefile.
"""

from __future__ import annotations

from baking import Baked, files


def test_files_follow_the_editorconfig(baked: Baked) -> None:
    config = (baked.project / ".editorconfig").read_text(encoding="utf-8")
    assert "root = true" in config.splitlines()
    assert "[Makefile]\nindent_style = tab" in config
    problems = []
    for path in files(baked.project):
        data = path.read_bytes()
        if b"\0" in data:
            continue
        rel = path.relative_to(baked.project).as_posix()
        text = data.decode("utf-8")
        if b"\r" in data:
            problems.append(f"{rel}: CR line ends")
        if text and not text.endswith("\n"):
            problems.append(f"{rel}: no newline at the end")
        problems += [
            f"{rel}:{number}: trailing whitespace"
            for number, line in enumerate(text.splitlines(), 1)
            if line != line.rstrip()
        ]
        if path.name != "Makefile":
            problems += [
                f"{rel}:{number}: indented with a tab"
                for number, line in enumerate(text.splitlines(), 1)
                if line.startswith("\t")
            ]
    assert not problems, "\n".join(problems)
