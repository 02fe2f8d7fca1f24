"""Every Python and shell example in the README and docs/ runs as written.

Fenced ``python`` blocks of a page run in order in one namespace (as a reader pasting
them into one notebook would); ``alliance-score`` commands in ``bash`` blocks run
in-process, in order, and must exit 0 or 1 (1: the example's data have problems, as
documented), or the code a trailing ``# exit N`` comment states. ``console`` and
``pycon`` blocks are checked with their output elsewhere (``test_catalogue_docs.py``,
``test_sessions_docs.py``, ``test_readme.py``).
"""

from __future__ import annotations

import contextlib
import io
import re
import shlex
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

import pytest

from alliance_score.cli import main

from .catalogue_docs_runner import blocks

ROOT = Path(__file__).resolve().parents[1]
PAGES = ["README.md", *sorted(f"docs/{p.name}" for p in (ROOT / "docs").glob("*.md"))]
EXIT = re.compile(r"#\s*exit\s+(\d+)")
SETUP = {
    # the page starts from the scores a reader made with `alliance-score score`
    "docs/sessions.md": [
        "alliance-score score examples/wai-sr-clinic.csv -i wai-sr --keep client session "
        "-o scores.csv"
    ],
}


def _commands(body: str) -> list[tuple[str, int | None]]:
    """The ``alliance-score`` commands of a bash block, with a stated exit code if any."""
    found = []
    for line in body.replace("\\\n", " ").splitlines():
        stated = EXIT.search(line)
        for part in line.split("&&"):
            part = part.strip()
            if part.startswith("alliance-score "):
                found.append((part, int(stated.group(1)) if stated else None))
    return found


class _Pipe(io.TextIOWrapper):
    def isatty(self) -> bool:
        return False


def _run(command: str) -> int:
    """Run a command, or a pipeline of them (``a | b``: a's output is b's input)."""
    piped: bytes | None = None
    code = 0
    for stage in command.split("|"):
        argv = shlex.split(stage, comments=True)[1:]
        out = io.StringIO()
        stdin = _Pipe(io.BytesIO(piped), encoding="utf-8") if piped is not None else sys.stdin
        with (
            contextlib.redirect_stdout(out),
            contextlib.redirect_stderr(io.StringIO()),
            _stdin(stdin),
        ):
            code = main(argv)
        piped = out.getvalue().encode("utf-8")
    return code


@contextlib.contextmanager
def _stdin(stream: TextIO) -> Iterator[None]:
    saved = sys.stdin
    sys.stdin = stream
    try:
        yield
    finally:
        sys.stdin = saved


@pytest.mark.parametrize("page", PAGES)
def test_page_examples_run(page: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ALLIANCE_SCORE_INSTRUMENTS", raising=False)
    for command in SETUP.get(page, []):
        assert _run(command) in (0, 1), command
    namespace: dict[str, object] = {"__name__": "__docs__"}
    ran = 0
    for block in blocks(ROOT / page):
        if block.lang == "python" and not block.body.lstrip().startswith(">>>"):
            program = compile(block.body, f"{page}:{block.line}", "exec")
            with contextlib.redirect_stdout(io.StringIO()):
                exec(program, namespace)  # noqa: S102 - the page's own example
            ran += 1
        elif block.lang == "bash":
            for command, stated in _commands(block.body):
                code = _run(command)
                assert code == stated if stated is not None else code in (0, 1), (
                    f"{page}:{block.line}: {command} exited {code}"
                )
                ran += 1
    if page == "README.md":
        assert ran >= 5
