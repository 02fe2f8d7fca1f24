"""``alliance-score report``: the clinician report of a scores file, as one HTML page."""

from __future__ import annotations

import argparse
import math

from ..errors import DataError
from ..io import read_table
from ._common import EXIT_OK, EXIT_USAGE, add_sheet_option, error, info, input_path, open_input

__all__ = ["register", "run"]

EPILOG = """\
example (scores.csv and problems.csv from `alliance-score score answers.csv -i srs
--keep client session --allow-provisional -o scores.csv --problems problems.csv`):
  alliance-score report scores.csv --client client --session session -i srs \\
      --allow-provisional --problems problems.csv -o report.html

One self-contained HTML file (charts inline, no scripts, nothing fetched from any server,
print styles for A4): a first page listing clients in order of need, then one section
per client with the trajectory, the alerts with the rule that fired and a table of
sessions. Alerts: below the cut-off at the last scored session (the instrument's, or
--cutoff), a drop from the previous scored session (--drop, default 2.5%% of the scale's
range: 1 point on the SRS), reliable deterioration (needs --sd and --reliability unless
the definition has a norm) and an open rupture episode. Exit code 0 when the report is
written, 2 when the scores cannot be read or the report cannot be written.
"""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "report",
        help="write the clinician report (HTML): clients in order of need, with alerts",
        description="A self-contained HTML report of session scores for clinicians: clients "
        "in order of need, each with its trajectory, alerts and sessions.",
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
    p.add_argument("--score", default="total", metavar="COL", help="score column (total)")
    p.add_argument(
        "-i",
        "--instrument",
        metavar="ID",
        help="the instrument that scored the file (id, id@version or a .toml): cut-off, "
        "range and provenance",
    )
    p.add_argument(
        "--problems",
        metavar="FILE",
        help="the problems file of the same `score` run: sessions list their problem codes",
    )
    p.add_argument(
        "--clients", nargs="+", metavar="ID", help="only these clients (default: every client)"
    )
    p.add_argument("-o", "--output", required=True, metavar="FILE", help="the HTML file written")
    p.add_argument(
        "--allow-provisional",
        action="store_true",
        help="use the instrument's cut-off even when it is provisional (named so in the report)",
    )
    p.add_argument(
        "--cutoff", type=float, metavar="VALUE", help="your own cut-off: alert below VALUE"
    )
    p.add_argument(
        "--no-cutoff", action="store_true", help="no cut-off alert (and no cut-off line)"
    )
    p.add_argument("--drop", type=float, metavar="POINTS", help="alert on a drop of POINTS or more")
    p.add_argument("--sd", type=float, metavar="SD", help="the scale's SD (reliable change)")
    p.add_argument(
        "--reliability", type=float, metavar="R", help="the scale's reliability (reliable change)"
    )
    p.add_argument("--title", default="Alliance report", help="the report's title")
    p.add_argument("-q", "--quiet", action="store_true", help="no messages on stderr")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Read the scores, write the report; return the exit code."""
    from ..report import write_report

    if args.cutoff is not None and args.no_cutoff:
        error("--cutoff and --no-cutoff exclude each other.")
        return EXIT_USAGE
    if (args.sd is None) != (args.reliability is None):
        error("--sd and --reliability are given together.")
        return EXIT_USAGE
    for flag, value in (("--cutoff", args.cutoff), ("--drop", args.drop), ("--sd", args.sd)):
        if value is not None and not math.isfinite(value):
            error(f"{flag} must be a finite number; got {value}.")
            return EXIT_USAGE
    if args.output == args.scores:
        raise DataError(f"Refusing to overwrite the input file {args.scores!r} (-o).")
    with input_path(args.scores) as path:
        open_input(path, args.sheet, quiet=args.quiet)
        frame = read_table(path, sheet=args.sheet)
    problems = None
    if args.problems is not None:
        if args.problems == "-":
            raise DataError("--problems needs a file (standard input carries the scores).")
        open_input(args.problems, None, quiet=True)
        problems = read_table(args.problems)
    cutoff: bool | float = not args.no_cutoff
    if args.cutoff is not None:
        cutoff = args.cutoff
    content = write_report(
        frame,
        args.output,
        client=args.client,
        session=args.session,
        scale=args.score,
        instrument=args.instrument,
        problems=problems,
        clients=args.clients,
        cutoff=cutoff,
        allow_provisional=args.allow_provisional,
        drop=args.drop,
        sd=args.sd,
        reliability=args.reliability,
        title=args.title,
    )
    with_alerts = sum(1 for c in content.clients if c.alerts)
    info(
        f"{len(content.clients)} client(s), {with_alerts} with alerts "
        f"({content.alerts} alert(s)); report -> {args.output}",
        quiet=args.quiet,
    )
    for reason in content.not_evaluated:
        info(f"  not evaluated: {reason}", quiet=args.quiet)
    for note in content.notes:
        info(f"  note: {note}", quiet=args.quiet)
    return EXIT_OK
