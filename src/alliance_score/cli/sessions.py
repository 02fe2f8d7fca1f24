"""``alliance-score sessions``: per-client summaries (and ruptures, events) from a scores file."""

from __future__ import annotations

import argparse
import os

import numpy as np
import pandas as pd

from ..errors import DataError
from ..io import read_table, write_table
from ..mapping import missing_columns_message
from ..sessions import (
    RUPTURE_METHODS,
    LongProblemCode,
    cutoff_events,
    detect_ruptures,
    summarize_clients,
    validate_long,
)
from ._common import (
    EXIT_OK,
    EXIT_PROBLEMS,
    EXIT_USAGE,
    add_sheet_option,
    error,
    info,
    input_path,
    open_input,
    whole_number,
)

__all__ = ["register", "run"]

EPILOG = """\
example (scores.csv: one row per client x session, e.g. from
score_frame(df, "wai-sr", keep=["client", "session"]).to_csv("scores.csv")):
  alliance-score sessions scores.csv --client client --session session \\
      -o summary.csv --ruptures ruptures.csv --events events.csv --cutoff 3.5 --drop 1

The summary has one row per client (and rater): n_sessions, first and last session,
first, last, mean, min, max, OLS slope and its SE, early alliance (session 3 unless
--early-session/--early-window say otherwise) and change from early to last. Exit code 1
when the table has layout problems (reported on stderr; outputs are still written,
without the rows that lack a client, session or rater), 2 when it cannot be read, when a
session is entered twice (the duplicates are listed; nothing is written) or when a column
is named like an output column.
"""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "sessions",
        help="summarise scores across sessions (trajectories, ruptures, cut-off events)",
        description="Per-client summaries of a long scores table (one row per client x "
        "session x rater), with optional rupture-repair episodes and cut-off events.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "scores",
        metavar="SCORES",
        help="scores file (CSV, TSV, Excel, parquet; - reads CSV or TSV piped in), long layout",
    )
    add_sheet_option(p)
    p.add_argument("--client", required=True, metavar="COL", help="client id column")
    p.add_argument("--session", required=True, metavar="COL", help="session number column")
    p.add_argument("--rater", metavar="COL", help="rater column (summaries per rater)")
    p.add_argument("--score", default="total", metavar="COL", help="score column (total)")
    p.add_argument("--date", metavar="COL", help="session date column, checked to increase")
    p.add_argument(
        "--date-format",
        metavar="FMT",
        help="how --date is written, e.g. %%d/%%m/%%Y (day first); needed when the dates can "
        "be read day first and month first",
    )
    p.add_argument("-o", "--output", default="-", metavar="OUT", help="summary CSV (stdout)")
    early = p.add_mutually_exclusive_group()
    early.add_argument(
        "--early-session", type=int, metavar="N", help="early alliance = score at session N (3)"
    )
    early.add_argument(
        "--early-window", type=int, metavar="K", help="early alliance = mean of sessions 1..K"
    )
    p.add_argument("--ruptures", metavar="FILE", help="write rupture-repair episodes (CSV)")
    p.add_argument(
        "--rupture-method",
        choices=sorted(RUPTURE_METHODS),
        default="stiles2004",
        help="named rupture criterion, this library's approximation of the papers "
        "(stiles2004: 2 SD; strauss2006: 1 SD); the options below override its choices",
    )
    p.add_argument(
        "--rupture-sd",
        choices=("within", "sample", "larger"),
        help="SD the criterion counts in: the client's own, all ratings', or the larger",
    )
    p.add_argument(
        "--rupture-window",
        type=whole_number(1),
        metavar="N",
        help="repair must come within N sessions (default: any later session)",
    )
    p.add_argument(
        "--rupture-exclude-session",
        action="store_true",
        help="compare each session with its client's other sessions (leave-one-out)",
    )
    p.add_argument("--events", metavar="FILE", help="write cut-off and drop events (CSV)")
    p.add_argument("--cutoff", type=float, metavar="VALUE", help="flag scores below VALUE")
    p.add_argument(
        "--cutoff-comparison",
        choices=["<", "<=", ">", ">="],
        default="<",
        help="how a score is compared with --cutoff (<)",
    )
    p.add_argument("--drop", type=float, metavar="POINTS", help="flag drops of POINTS or more")
    p.add_argument(
        "--drop-from",
        choices=["previous", "running_mean"],
        default="previous",
        help="reference for --drop (previous)",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no messages on stderr")
    p.set_defaults(handler=run)


def _empty(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """The cells as stripped text, and which of them are blank or a missing-value code."""
    raw = values.astype(object).astype("string").str.strip().fillna("")
    return raw, raw.eq("") | raw.str.upper().isin(["NA", "NAN", "N/A", "NULL", "."])


def _require_columns(frame: pd.DataFrame, args: argparse.Namespace) -> None:
    """Every named column is in the file; a raw export (no scores yet) is told so."""
    roles = {"client": args.client, "session": args.session, "score": args.score}
    absent = {role: col for role, col in roles.items() if col not in frame.columns}
    if not absent:
        return
    shown = ", ".join(f"--{role} {col!r}" for role, col in absent.items())
    message = f"Columns not in the file: {shown}." + missing_columns_message(
        list(absent.values()), frame.columns
    )
    if "score" in absent and "status" not in frame.columns:
        message += (
            " The file holds no scores (no 'status' column): run 'alliance-score score' on "
            "the export first and give its output to sessions, e.g. alliance-score score "
            "export.csv -i wai-sr -o scores.csv, then alliance-score sessions scores.csv."
        )
    raise DataError(message)


def _numeric(frame: pd.DataFrame, column: str, role: str) -> pd.Series:
    if column not in frame.columns:
        raise DataError(f"The {role} column {column!r} is not in the file.")
    raw, empty = _empty(frame[column])
    values = pd.to_numeric(raw.astype(object).where(~empty, np.nan), errors="coerce")
    bad = values.isna() & ~empty
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(
            f"The {role} column {column!r} must hold numbers; row {row} holds "
            f"{str(frame[column].iloc[row])[:20]!r} ({int(bad.sum())} such row(s))."
        )
    return values


def _write(table: pd.DataFrame, target: str) -> None:
    """Write CSV atomically and injection-safe (:func:`alliance_score.io.write_table`)."""
    write_table(table, None if target == "-" else target, "csv")


def _check_outputs(args: argparse.Namespace) -> None:
    """Refuse outputs that would overwrite the input or each other."""
    targets = [(f, t) for f, t in _outputs(args) if t != "-"]
    for flag, target in targets:
        if _same_file(target, args.scores):
            raise DataError(f"Refusing to overwrite the input file {args.scores!r} ({flag}).")
    for i, (flag, target) in enumerate(targets):
        for other, path in targets[:i]:
            if _same_file(target, path):
                raise DataError(f"{other} and {flag} need different files; both are {target!r}.")


def _outputs(args: argparse.Namespace) -> list[tuple[str, str]]:
    pairs = [("-o", args.output), ("--ruptures", args.ruptures), ("--events", args.events)]
    return [(flag, target) for flag, target in pairs if target]


def _same_file(a: str, b: str) -> bool:
    if os.path.exists(a) and os.path.exists(b):
        return os.path.samefile(a, b)
    return os.path.realpath(a) == os.path.realpath(b)


def run(args: argparse.Namespace) -> int:
    """Read the scores, write the summary (and optional tables); return the exit code."""
    if args.events and args.cutoff is None and args.drop is None:
        error("--events needs --cutoff VALUE and/or --drop POINTS.")
        return EXIT_USAGE
    for name in ("early_session", "early_window"):
        value = getattr(args, name)
        if value is not None and value < 1:
            error(f"--{name.replace('_', '-')} must be 1 or more; got {value}.")
            return EXIT_USAGE
    _check_outputs(args)
    with input_path(args.scores) as path:
        open_input(path, args.sheet, quiet=args.quiet)
        frame = read_table(path, sheet=args.sheet)
    _require_columns(frame, args)
    frame[args.session] = _numeric(frame, args.session, "session")
    frame[args.score] = _numeric(frame, args.score, "score")
    for column in (args.client, args.rater):
        if column is not None and column in frame.columns:  # a blank cell names no one
            blank = frame[column].astype("string").str.strip().eq("").fillna(value=False)
            frame[column] = frame[column].mask(blank.to_numpy(dtype=bool))
    if args.date is not None and args.date in frame.columns:  # a date not recorded
        frame[args.date] = frame[args.date].mask(_empty(frame[args.date])[1].to_numpy(dtype=bool))
    cols = {"client": args.client, "session": args.session, "rater": args.rater}
    problems = validate_long(frame, date=args.date, date_format=args.date_format, **cols)
    # rows without a client, session or rater are reported above and cannot be placed
    frame = frame.loc[frame[[c for c in cols.values() if c is not None]].notna().all(axis=1)]
    early = (
        {"early": "window", "early_session": args.early_window}
        if args.early_window is not None
        else {"early": "session", "early_session": args.early_session or 3}
    )
    duplicates = problems.loc[problems["code"] == LongProblemCode.DUPLICATE_ROW.value]
    if len(duplicates):
        for message in duplicates["message"].head(20):
            info(f"  {message}", quiet=args.quiet)
        error(
            f"{len(duplicates)} row(s) repeat the client, session (and rater) of an earlier "
            "row: a session entered twice has no single score. Remove or merge the "
            "duplicates; nothing was written."
        )
        return EXIT_USAGE
    # every table is computed before any is written, so a refusal leaves no file behind
    summary = summarize_clients(frame, score=args.score, **cols, **early)
    episodes = (
        detect_ruptures(
            frame,
            score=args.score,
            method=args.rupture_method,
            sd_basis=args.rupture_sd,
            window=args.rupture_window,
            exclude_session=True if args.rupture_exclude_session else None,
            **cols,
        )
        if args.ruptures
        else None
    )
    events = (
        cutoff_events(
            frame,
            score=args.score,
            cutoff=args.cutoff,
            comparison=args.cutoff_comparison,
            drop=args.drop,
            drop_from=args.drop_from,
            **cols,
        )
        if args.events
        else None
    )
    _write(summary, args.output)
    if episodes is not None:
        _write(episodes, args.ruptures)
        info(f"{len(episodes)} rupture episode(s) written to {args.ruptures}", quiet=args.quiet)
    if events is not None:
        _write(events, args.events)
        info(f"{len(events)} event(s) written to {args.events}", quiet=args.quiet)
    info(f"Summarised {len(summary)} client trajectories.", quiet=args.quiet)
    if len(problems):
        for message in problems["message"].head(20):
            info(f"  {message}", quiet=args.quiet)
        more = " (the first 20 are shown above)" if len(problems) > 20 else " (shown above)"
        info(
            f"{len(problems)} layout problem(s) found{more}: duplicate sessions, missing "
            "identifiers or dates out of order; the summaries use the rows that can be placed.",
            quiet=args.quiet,
        )
        return EXIT_PROBLEMS
    return EXIT_OK
