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
import contextlib
import os
import sys
import warnings
from collections.abc import Sequence

from .._version import __version__
from ..errors import AllianceScoreError, AllianceScoreWarning
from . import _common
from ._common import EXIT_USAGE

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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="alliance-score",
        description="Score validated therapeutic-alliance questionnaires.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"alliance-score {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        module = __import__(f"{__name__}.{name}", fromlist=["register"])
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("default", AllianceScoreWarning)  # shown, once each
            warnings.showwarning = _common.show_warning
            code: int = args.handler(args)
    except AllianceScoreError as exc:
        _common.error(str(exc))
        return EXIT_USAGE
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
