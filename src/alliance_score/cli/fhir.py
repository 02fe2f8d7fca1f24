"""``alliance-score fhir``: a Questionnaire per instrument, and QuestionnaireResponses
(NDJSON bulk data or a Bundle) scored into NDJSON Observations.

A thin layer over :mod:`alliance_score.fhir`: ``fhir score`` writes one Observation per
response that could be scored, in input order, and one problem record per problem
(responses that could not be read or scored have at least one), with the exit codes and
the report of ``score``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from typing import IO, Any

from ..errors import OutputError, UnreadableFileError
from ..scoring import STATUS_ORDER, Status
from ._common import EXIT_OK, EXIT_PROBLEMS, info, terminate_as_interrupt

__all__ = ["register"]

EPILOG = """\
examples:
  alliance-score fhir questionnaire wai-sr -o wai-sr.Questionnaire.json
  alliance-score fhir score responses.ndjson -o observations.ndjson --problems problems.csv
  alliance-score fhir score bundle.json -o observations.ndjson --allow-provisional

exit codes: 0 every response valid; 1 some responses have problems (all outputs written);
            2 usage error, unknown instrument, unreadable input or a failure to write.
"""


def register(subparsers: Any) -> None:
    """Add the ``fhir`` command and its subcommands."""
    parser = subparsers.add_parser(
        "fhir",
        help="FHIR R4: write a Questionnaire, score QuestionnaireResponses into Observations",
        description="FHIR R4 in and out (see docs/fhir.md).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="fhir_command", metavar="SUBCOMMAND", required=True)

    q = commands.add_parser(
        "questionnaire",
        help="write the FHIR Questionnaire of an instrument (JSON)",
        description="Write the FHIR R4 Questionnaire of an instrument as JSON.",
    )
    q.add_argument("instrument", metavar="ID", help="instrument id, id@version or .toml path")
    q.add_argument("-o", "--output", metavar="FILE", help="output file (default: stdout)")
    q.set_defaults(handler=run_questionnaire)

    s = commands.add_parser(
        "score",
        help="score QuestionnaireResponses (NDJSON or a Bundle) into NDJSON Observations",
        description=(
            "Score every QuestionnaireResponse in INPUT (FHIR bulk data NDJSON, one resource "
            "per line, or a Bundle) and write one Observation per scored response to OUT as "
            "NDJSON. Each response's instrument comes from its 'questionnaire' canonical "
            "unless --instrument is given."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    s.add_argument("input", metavar="INPUT", help="NDJSON or Bundle file (- reads stdin)")
    s.add_argument("-o", "--output", metavar="OUT", help="Observations, NDJSON (default: stdout)")
    s.add_argument("--problems", metavar="FILE", help="write every problem found to FILE (CSV)")
    s.add_argument(
        "--instrument",
        "-i",
        metavar="ID",
        help="score every response as this instrument (it must agree with 'questionnaire')",
    )
    s.add_argument(
        "--missing-code",
        action="append",
        default=[],
        metavar="VALUE",
        help="an extra value meaning 'missing', e.g. -99 (repeatable)",
    )
    s.add_argument(
        "--labels",
        action="store_true",
        help="read valueString answers and codings by their display as anchor labels",
    )
    s.add_argument(
        "--allow-provisional",
        action="store_true",
        help="also score provisional scales and cut-offs (Observations marked preliminary)",
    )
    s.add_argument(
        "--on-invalid",
        choices=("reject", "missing"),
        default="reject",
        help="reject (default): a response with a problem is not scored; missing: the "
        "answers with problems count as missing",
    )
    s.add_argument(
        "--bundle",
        choices=("collection", "transaction", "batch"),
        help="write one Bundle of this type (JSON) instead of NDJSON; transaction and "
        "batch Bundles POST each Observation",
    )
    s.add_argument(
        "--json", action="store_true", help="print the run's report as JSON on stdout (needs -o)"
    )
    s.add_argument("--quiet", "-q", action="store_true", help="no messages but errors")
    s.set_defaults(handler=run_score)


def run_questionnaire(args: argparse.Namespace) -> int:
    """Write the Questionnaire of one instrument."""
    from ..fhir import questionnaire

    resource = questionnaire(args.instrument)
    with _output(args.output) as out:
        out.write(json.dumps(resource, indent=2, ensure_ascii=False) + "\n")
    return EXIT_OK


def run_score(args: argparse.Namespace) -> int:
    """Score an NDJSON or Bundle file of QuestionnaireResponses."""
    from ..fhir import bundle
    from ..fhir.bulk import score_bulk
    from ..io.accounting import PROBLEM_FILE_COLUMNS
    from ..io.writers import TableWriter
    from ..registry import load_instrument
    from .score import _check_outputs

    started = time.perf_counter()
    _check_outputs(args)
    instrument = load_instrument(args.instrument) if args.instrument else None
    skipped: list[str] = []
    status: Counter[str] = Counter()
    codes: Counter[str] = Counter()
    rows = observations = 0
    collected: list[dict[str, Any]] = []
    problems_writer: Any = (
        TableWriter(args.problems, None) if args.problems else contextlib.nullcontext()
    )
    with (
        terminate_as_interrupt(),  # no partial output is left
        _input(args.input) as stream,
        _output(args.output) as out,
        problems_writer as bad,
    ):
        items = score_bulk(
            stream,
            instrument=instrument,
            missing_codes=list(args.missing_code),
            labels=args.labels,
            on_invalid=args.on_invalid,
            allow_provisional=args.allow_provisional,
            skipped=skipped,
        )
        for item in items:
            rows += 1
            status[item.result.status.value if item.result else Status.INVALID.value] += 1
            codes.update(p.code.value for p in item.problems)
            if item.observation is not None:
                if args.bundle:
                    collected.append(item.observation)
                else:
                    out.write(json.dumps(item.observation, ensure_ascii=False) + "\n")
                observations += 1
            if bad is not None and item.problems:
                bad.write(_problem_frame(item, PROBLEM_FILE_COLUMNS))
        if args.bundle:
            document = bundle(collected, type=args.bundle)
            out.write(json.dumps(document, ensure_ascii=False) + "\n")
    report = {
        "instrument": None if instrument is None else instrument.ref,
        "rows": rows,
        "status": {s.value: int(status[s.value]) for s in STATUS_ORDER},
        "problems": dict(sorted(codes.items())),
        "observations": observations,
        "refused": rows - observations,
        "skipped": dict(sorted(Counter(skipped).items())),
        "elapsed_seconds": round(time.perf_counter() - started, 3),
    }
    _summary(report, args)
    if args.json:
        print(json.dumps(report, indent=2))  # noqa: T201 - the report is the command's output
    return EXIT_PROBLEMS if codes else EXIT_OK


def _problem_frame(item: Any, columns: tuple[str, ...]) -> Any:
    import pandas as pd

    records = [{"line": item.line, **p.model_dump(mode="json")} for p in item.problems]
    frame = pd.DataFrame.from_records(records, columns=list(columns))
    return frame.astype({"line": "Int64", "row": "Int64"})


def _summary(report: dict[str, Any], args: argparse.Namespace) -> None:
    name = "standard input" if args.input == "-" else args.input
    lines = [
        f"{report['rows']:,} QuestionnaireResponses read from {name} in "
        f"{report['elapsed_seconds']:.2f} s",
        "  " + ", ".join(f"{k} {v:,}" for k, v in report["status"].items()),
    ]
    problems = report["problems"]
    if problems:
        detail = ", ".join(f"{k} {v:,}" for k, v in problems.items())
        lines.append(f"  problems: {sum(problems.values()):,} ({detail})")
    else:
        lines.append("  problems: none")
    if report["skipped"]:
        shown = ", ".join(f"{k} {v:,}" for k, v in report["skipped"].items())
        lines.append(f"  other resources skipped: {shown}")
    target = args.output or "standard output"
    lines.append(
        f"  {report['observations']:,} Observations -> {target}"
        + (f"; problems -> {args.problems}" if args.problems else "")
    )
    info("\n".join(lines), quiet=args.quiet)


@contextlib.contextmanager
def _input(path: str) -> Iterator[IO[bytes]]:
    if path == "-":
        stdin = sys.stdin
        if stdin is None or stdin.isatty():
            raise UnreadableFileError("INPUT is '-' but nothing is piped to standard input.")
        yield stdin.buffer
        return
    try:
        stream = open(path, "rb")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise UnreadableFileError(f"Cannot read {path!r}: {exc.strerror or exc}.") from exc
    with stream:
        yield stream


@contextlib.contextmanager
def _output(path: str | None) -> Iterator[IO[str]]:
    """Standard output, or a file that appears under its name only when complete."""
    if path is None or path == "-":
        yield sys.stdout
        sys.stdout.flush()
        return
    if os.path.isdir(path):
        raise OutputError(f"Cannot write {path!r}: it names a folder; give a file name.")
    folder = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".part", dir=folder)
    except OSError as exc:
        raise OutputError(f"Cannot write {path!r}: {exc.strerror or exc}.") from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as out:
            yield out
        os.replace(tmp, path)
    except OSError as exc:
        raise OutputError(f"Cannot write {path!r}: {exc.strerror or exc}.") from exc
    finally:
        with contextlib.suppress(OSError):
            os.remove(tmp)
