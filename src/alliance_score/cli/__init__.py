"""The ``alliance-score`` command line: a thin layer over the public API.

Each command lives in its own module exposing ``register(subparsers)``; this module only
assembles them and maps exceptions to exit codes:

* 0: every row valid (or the command succeeded);
* 1: the command ran and wrote its outputs, but found problems (invalid rows, a failed
  keying check);
* 2: usage error, unknown instrument, unreadable or unmappable input;
* 130: interrupted (Ctrl-C or SIGTERM); no partial output file is left;
* 141: standard output was closed by its reader (``alliance-score score x.csv | head``).
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import importlib
import importlib.util
import os
import sys
import warnings
from collections.abc import Sequence

from .._version import __version__

EXIT_BROKEN_PIPE = 141
"""Exit code when standard output is closed by its reader (128 + SIGPIPE, as a shell
reports a pipeline member that died of a broken pipe)."""

__all__ = ["main"]

COMMANDS: tuple[str, ...] = (
    "score",
    "check",
    "sessions",
    "catalogue",
    "report",
    "fhir",
    "serve",
)
"""Modules under ``alliance_score.cli`` that register a subcommand, in help order."""


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The ``alliance-score`` parser.

    With ``command=None`` every command module is imported and registers its command.
    With a command name, only the module that provides it is imported; the others'
    commands are listed from their source (name and help line, read without importing
    them), so ``--help`` and the light commands start without pandas, pyarrow or scipy.
    """
    parser = argparse.ArgumentParser(
        prog="alliance-score",
        description="Score validated therapeutic-alliance questionnaires.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"alliance-score {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        listed = None if command is None else _declared_commands(name)
        if listed is None or command in dict(listed):
            module = importlib.import_module(f"{__name__}.{name}")
            module.register(subparsers)
        else:
            for sub, help_line in listed:
                subparsers.add_parser(sub, help=help_line, add_help=False)
    return parser


def _declared_commands(module: str) -> list[tuple[str, str]] | None:
    """``(command, help line)`` for each command a module's ``register(subparsers)``
    adds (``subparsers.add_parser(NAME, help=TEXT)``), read from its source; None when
    they are not all plain text (then the module is imported)."""
    spec = importlib.util.find_spec(f"{__name__}.{module}")
    # a loader without get_source (an import hook such as pytest's) lists nothing
    get_source = getattr(getattr(spec, "loader", None), "get_source", None)
    try:
        source = get_source(spec.name) if get_source is not None and spec else None
    except (ImportError, OSError):  # pragma: no cover - a module without source
        source = None
    if source is None:  # pragma: no cover - compiled-only installs
        return None
    register = next(
        (
            node
            for node in ast.parse(source).body
            if isinstance(node, ast.FunctionDef) and node.name == "register" and node.args.args
        ),
        None,
    )
    if register is None:
        return None
    receiver = register.args.args[0].arg  # the top-level parser's subparsers
    found: list[tuple[str, str]] = []
    for node in ast.walk(register):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "add_parser"
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == receiver
        ):
            continue
        name = node.args[0] if node.args else None
        help_text = next((k.value for k in node.keywords if k.arg == "help"), None)
        if not (
            isinstance(name, ast.Constant)
            and isinstance(name.value, str)
            and isinstance(help_text, ast.Constant)
            and isinstance(help_text.value, str)
        ):
            return None
        found.append((name.value, help_text.value))
    return found or None


def _command_word(argv: Sequence[str]) -> str:
    """The command named on the command line ("" when none is)."""
    return next((word for word in argv if not word.startswith("-")), "")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    words = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(_command_word(words))
    args = parser.parse_args(words)
    # imported only now, so that ``--help`` and usage errors never load them
    from ..errors import AllianceScoreError, AllianceScoreWarning
    from . import _common

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("default", AllianceScoreWarning)  # shown, once each
            warnings.showwarning = _common.show_warning
            code: int = args.handler(args)
    except AllianceScoreError as exc:
        _common.error(str(exc))
        return _common.EXIT_USAGE
    except KeyboardInterrupt:
        _common.error("Interrupted.")
        return 130
    except BrokenPipeError:
        # the reader of standard output went away (``... | head``): stop quietly, as
        # command-line tools do, and keep Python from complaining when it flushes at exit
        with contextlib.suppress(OSError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
