"""Helpers shared by the command-line modules: exit codes, messages, common options."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Hashable
from typing import Any, Final

from ..errors import DataError

__all__ = [
    "EXIT_OK",
    "EXIT_PROBLEMS",
    "EXIT_USAGE",
    "add_mapping_options",
    "error",
    "info",
    "mapping_options",
]

EXIT_OK: Final = 0
EXIT_PROBLEMS: Final = 1
EXIT_USAGE: Final = 2


def error(message: str) -> None:
    """Print an error to stderr (never stdout, which may carry scores)."""
    print(f"alliance-score: error: {message}", file=sys.stderr)  # noqa: T201


def info(message: str, *, quiet: bool = False) -> None:
    """Print a message to stderr unless ``quiet``."""
    if not quiet:
        print(message, file=sys.stderr)  # noqa: T201


def add_mapping_options(parser: argparse.ArgumentParser) -> None:
    """Options that choose the instrument and map columns to items (score, check, ...)."""
    parser.add_argument(
        "--instrument",
        "-i",
        required=True,
        metavar="ID",
        help="instrument id, id@version, or path to a definition (.toml)",
    )
    parser.add_argument(
        "--column",
        action="append",
        default=[],
        metavar="ITEM=COL",
        help="map one item to a column explicitly (repeatable)",
    )
    parser.add_argument(
        "--columns",
        metavar="PATTERN",
        help="column name pattern with {item}, e.g. 'wai_{item}' or 'q{item:02}'",
    )
    parser.add_argument(
        "--missing-code",
        action="append",
        default=[],
        metavar="VALUE",
        help="an extra value meaning 'missing', e.g. -99 (repeatable)",
    )
    parser.add_argument(
        "--labels",
        action="store_true",
        help="accept anchor labels such as 'Always' as their numeric value",
    )
    parser.add_argument(
        "--allow-provisional",
        action="store_true",
        help="also score provisional scales and cut-offs (marked as such)",
    )


def mapping_options(args: argparse.Namespace) -> dict[str, Any]:
    """Keyword arguments for :func:`alliance_score.score_frame` from the parsed options."""
    items: dict[str, Hashable] | str | None = None
    if args.column:
        pairs: dict[str, Hashable] = {}
        for spec in args.column:
            item, sep, col = spec.partition("=")
            if not sep or not item or not col:
                raise DataError(f"--column expects ITEM=COLUMN; got {spec!r}.")
            pairs[item.strip()] = col.strip()
        items = pairs
    elif args.columns:
        items = args.columns
    return {
        "items": items,
        "missing_codes": list(args.missing_code),
        "labels": args.labels,
        "allow_provisional": args.allow_provisional,
    }
