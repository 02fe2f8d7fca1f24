"""Run the commands of a Markdown page in order, as a reader following it would.

Blocks fenced as ``console`` hold ``$ alliance-score ...`` commands followed by the
output they print (a last line ``...`` means "the output starts with these lines"); a
trailing ``# exit N`` comment gives the expected exit code (default 0); leading
``NAME=value`` words set environment variables. Blocks fenced as ``python`` are doctests
and share one namespace. Commands run in-process through :func:`alliance_score.cli.main`.
"""

from __future__ import annotations

import contextlib
import doctest
import io
import os
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from alliance_score.cli import COMMANDS, build_parser, main

FENCE = re.compile(r"^```(?P<lang>[a-z]+)\n(?P<body>.*?)^```$", re.MULTILINE | re.DOTALL)
EXIT = re.compile(r"#\s*exit\s+(?P<code>\d+)\s*$")
ASSIGN = re.compile(r"^[A-Z_][A-Z0-9_]*=")


@dataclass(frozen=True)
class Block:
    lang: str
    body: str
    line: int


def blocks(page: Path) -> list[Block]:
    text = page.read_text(encoding="utf-8")
    return [
        Block(m["lang"], m["body"], text.count("\n", 0, m.start()) + 1)
        for m in FENCE.finditer(text)
    ]


@dataclass(frozen=True)
class Command:
    argv: list[str]
    env: dict[str, str]
    exit_code: int
    expected: list[str]
    line: int


def commands(block: Block) -> Iterator[Command]:
    current: list[str] = []
    lines = block.body.splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("$ ")]
    for n, start in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(lines)
        cmd = lines[start][2:]
        match = EXIT.search(cmd)
        code = int(match["code"]) if match else 0
        words = shlex.split(cmd, comments=True)
        env: dict[str, str] = {}
        while words and ASSIGN.match(words[0]):
            key, _, value = words.pop(0).partition("=")
            env[key] = value
        current = lines[start + 1 : end]
        yield Command(words, env, code, current, block.line + start + 1)


def available() -> set[str]:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    return set(sub.choices or {})


def run_command(cmd: Command) -> tuple[int, str]:
    assert cmd.argv[0] == "alliance-score", f"line {cmd.line}: not an alliance-score command"
    out, err = io.StringIO(), io.StringIO()
    old = {k: os.environ.get(k) for k in cmd.env}
    os.environ.update(cmd.env)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(cmd.argv[1:])
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return code, out.getvalue()


def check_output(cmd: Command, stdout: str) -> None:
    got = stdout.rstrip("\n").splitlines()
    want = list(cmd.expected)
    while want and not want[-1].strip():
        want.pop()
    if want and want[-1] == "...":
        want = want[:-1]
        got = got[: len(want)]
    # A line ending in "..." stands for any line that starts with the text before it.
    got = [
        w if w.endswith("...") and g.startswith(w[:-3].rstrip()) else g
        for g, w in zip(got, want, strict=False)
    ] + got[len(want) :]
    assert got == want, f"line {cmd.line}: {' '.join(cmd.argv)}\n--- got\n" + "\n".join(got)


def run_page(page: Path, other_commands: frozenset[str] = frozenset({"score"})) -> int:
    """Run every block of ``page``; returns the number of commands and examples run."""
    globs: dict[str, object] = {}
    ran = 0
    registered = available()
    for block in blocks(page):
        if block.lang == "console":
            for cmd in commands(block):
                sub = cmd.argv[1]
                if sub not in registered:
                    # A command documented here but provided by another part of the
                    # package that this build does not register.
                    assert sub in other_commands, f"line {cmd.line}: unknown command {sub!r}"
                    assert not COMMANDS or sub not in COMMANDS
                    continue
                code, stdout = run_command(cmd)
                assert code == cmd.exit_code, f"line {cmd.line}: exit {code}\n{stdout}"
                check_output(cmd, stdout)
                ran += 1
        elif block.lang == "python":
            report = io.StringIO()
            test = doctest.DocTestParser().get_doctest(
                block.body, globs, f"{page.name}:{block.line}", str(page), block.line
            )
            runner = doctest.DocTestRunner(
                optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
            )
            result = runner.run(test, out=report.write, clear_globs=False)
            assert result.failed == 0, report.getvalue()
            globs = test.globs
            ran += result.attempted
    return ran
