"""Helpers shared by the command-line modules: exit codes, messages, common options."""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import signal
import sys
import tempfile
from collections.abc import Callable, Hashable, Iterator
from typing import TYPE_CHECKING, Any, Final

from ..errors import DataError, UnreadableFileError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from ..instrument import Instrument
    from ..io import TableSource

__all__ = [
    "EXIT_OK",
    "EXIT_PROBLEMS",
    "EXIT_USAGE",
    "add_mapping_options",
    "add_sheet_option",
    "error",
    "info",
    "input_path",
    "mapping_options",
    "open_input",
    "reads_labels",
    "safe_text",
    "show_warning",
    "terminate_as_interrupt",
    "value_labels_to_apply",
    "whole_number",
]

EXIT_OK: Final = 0
EXIT_PROBLEMS: Final = 1
EXIT_USAGE: Final = 2


_CONTROL = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]"
)


def safe_text(message: str) -> str:
    r"""``message`` with control characters escaped (``\x1b``, ``\r``, ``\u202e``...),
    so that a column name or a value from a file cannot move the cursor, recolour the
    terminal, hide text or reorder it; line breaks are kept.

    >>> safe_text("col\x1b[31mred\rX\u202eY")
    'col\\x1b[31mred\\rX\\u202eY'
    """
    return _CONTROL.sub(lambda m: m.group(0).encode("unicode_escape").decode("ascii"), message)


def error(message: str) -> None:
    """Print an error to stderr (never stdout, which may carry scores)."""
    print(f"alliance-score: error: {safe_text(message)}", file=sys.stderr)  # noqa: T201


def info(message: str, *, quiet: bool = False) -> None:
    """Print a message to stderr unless ``quiet``."""
    if not quiet:
        print(safe_text(message), file=sys.stderr)  # noqa: T201


def show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: Any = None,
    line: str | None = None,
) -> None:
    """``warnings.showwarning`` for the command line: one ``alliance-score: warning:``
    line on standard error (no source line, no traceback)."""
    print(f"alliance-score: warning: {safe_text(str(message))}", file=sys.stderr)  # noqa: T201


def add_sheet_option(parser: argparse.ArgumentParser) -> None:
    """``--sheet``: the sheet of an Excel input (score, check, sessions)."""
    parser.add_argument(
        "--sheet",
        metavar="NAME",
        help="Excel input: the sheet to read, by name or number from 1 (default: the first)",
    )


def add_mapping_options(parser: argparse.ArgumentParser) -> None:
    """Options that choose the instrument and map columns to items (score, check, ...)."""
    add_sheet_option(parser)
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
        help="column name pattern with {item} (the item id) or {n} (its position from 1), "
        "e.g. 'wai_{item}', 'q{item:02}' or 'SRS_{n}'",
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
        "--decimal",
        choices=(".", ","),
        default=".",
        help="the file's decimal mark: ',' reads 8,5 as 8.5 (European exports); never "
        "guessed (default '.')",
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


def value_labels_to_apply(
    value_labels: Mapping[str, Mapping[Any, str]],
    mapping: Mapping[str, Hashable],
    instrument: Instrument,
    *,
    labels: bool,
    quiet: bool,
) -> dict[str, Mapping[Any, str]]:
    """The SPSS or Stata value labels to score by, after checking them against the anchors.

    With ``--labels`` the item columns' labels that name an anchor are returned, to be
    applied with :func:`alliance_score.io.relabel`; a code whose label names no anchor
    (``-99 = "Refused"``, a label in another language) keeps its code, so that it can be
    declared missing or is checked as a number. Without ``--labels`` the stored codes are
    scored, and a code whose label is an anchor the instrument scores differently stops
    the command with exit code 2: scoring it as its code would be a silent guess.
    """
    from ..io.value_labels import anchor_labels, label_conflicts

    columns = {str(c) for c in mapping.values()}
    labelled = {c: v for c, v in value_labels.items() if c in columns and v}
    if not labelled:
        return {}
    named: dict[str, Mapping[Any, str]] = dict(anchor_labels(labelled, instrument))
    if labels:
        if named:
            info(
                f"value labels of {len(named)} item column(s) are scored as anchor labels "
                "(a code without an anchor label is read as its number).",
                quiet=quiet,
            )
        return named
    if not named:
        info(
            f"value labels of the item columns name none of {instrument.ref}'s anchors, so "
            "their codes cannot be checked against them.",
            quiet=quiet,
        )
        return {}
    conflicts = label_conflicts(labelled, mapping, instrument)
    if conflicts:
        shown = "; ".join(c.describe() for c in conflicts[:4])
        more = f" (and {len(conflicts) - 4} more)" if len(conflicts) > 4 else ""
        raise DataError(
            f"The file's value labels disagree with {instrument.ref}'s anchors: {shown}{more}. "
            "Score by label with --labels, or recode the file."
        )
    info("value labels of the item columns agree with the instrument's anchors.", quiet=quiet)
    return {}


def reads_labels(source: TableSource, labels: bool, *, quiet: bool) -> bool:
    """Whether answers are read as anchor labels: asked for, or a REDCap label export."""
    if source.kind == "redcap-labels" and not labels:
        info(
            "REDCap label export: answers are read as the instrument's anchor labels.", quiet=quiet
        )
        return True
    return labels


def open_input(path: str, sheet: str | None, *, quiet: bool) -> TableSource:
    """Open the input file; for a workbook of several sheets, say which one is read."""
    from ..io import open_table

    source = open_table(path, sheet=sheet)
    if source.format == "xlsx" and sheet is None:
        from ..io.formats import sheet_names

        names = sheet_names(path)
        if len(names) > 1:
            shown = ", ".join(repr(n) for n in names[:10]) + (", ..." if len(names) > 10 else "")
            info(
                f"reading the first of {len(names)} sheets ({shown}); choose another with --sheet",
                quiet=quiet,
            )
    return source


def whole_number(minimum: int) -> Callable[[str], int]:
    """An argparse ``type`` accepting whole numbers of ``minimum`` or more.

    >>> whole_number(2)("20")
    20
    """

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = minimum - 1
        if value < minimum:
            raise argparse.ArgumentTypeError(
                f"expected a whole number of {minimum} or more; got {text!r}"
            )
        return value

    return parse


@contextlib.contextmanager
def input_path(path: str) -> Iterator[str]:
    """``path`` itself, or for ``-`` a private temporary copy of standard input.

    Delimited text piped in is spooled to a file readable only by the user (encoding
    and delimiter are sniffed, and a file may be read twice), which is removed when the
    command ends, however it ends.
    """
    if path != "-":
        yield path
        return
    stdin = sys.stdin
    if stdin is None or stdin.isatty():
        raise DataError("INPUT is '-' but nothing is piped to standard input.")
    from ..io.writers import remove_stale_parts

    prefix = "alliance-score-stdin-"
    remove_stale_parts(tempfile.gettempdir(), "", prefix=prefix, suffix=".csv")  # killed runs
    with terminate_as_interrupt():  # a SIGTERM while input still arrives removes the copy
        fd, name = tempfile.mkstemp(prefix=f"{prefix}{os.getpid()}.", suffix=".csv")
        try:
            with os.fdopen(fd, "wb") as spool:
                shutil.copyfileobj(stdin.buffer, spool, 1 << 20)
            yield name
        except (UnreadableFileError, DataError) as exc:
            text = str(exc).replace(repr(name), "standard input").replace(name, "standard input")
            raise type(exc)(text) from None
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(name)


TERMINATING_SIGNALS: Final = tuple(
    getattr(signal, name) for name in ("SIGTERM", "SIGHUP", "SIGQUIT") if hasattr(signal, name)
)
"""Signals that end a run like Ctrl-C does: temporary files are removed, exit code 130."""


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


@contextlib.contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """Treat SIGTERM, SIGHUP (the terminal closed) and SIGQUIT like Ctrl-C inside the
    block, so that no temporary file (a ``.part`` output, a copy of standard input) is
    left behind. Outside the main thread signals are left alone."""
    previous: list[tuple[int, Any]] = []
    try:
        for number in TERMINATING_SIGNALS:
            previous.append((number, signal.signal(number, _interrupt)))
    except ValueError:  # not the main thread
        for number, handler in previous:
            signal.signal(number, handler)
        yield
        return
    try:
        yield
    finally:
        for number, handler in previous:
            signal.signal(number, handler)
