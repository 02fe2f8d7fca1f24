"""``alliance-score score``: score an export file, row by row, accounting for every row.

The command is a thin loop over :func:`alliance_score.score_frame`: the file is read in
chunks (:func:`alliance_score.io.open_table`), each chunk is scored with
``return_problems=True``, and the scores and problems are appended to their files. The
command adds what only a file has: each problem's input ``line``, ragged lines
(``ragged_line``) and duplicate administrations (``duplicate_row``, rows with the same
identifiers; reported, never dropped).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
import sys
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from ..coding import AnswerRange, coding_notes
from ..errors import DataError
from ..frame import score_frame
from ..io import CHUNK_BYTES, Chunk, RestartRequired, TableSource, TableWriter
from ..io.accounting import PROBLEM_FILE_COLUMNS, DuplicateFinder, account
from ..io.value_labels import relabel
from ..io.writers import output_format, writing
from ..mapping import ColumnMap, missing_columns_message, resolve_columns
from ..registry import load_instrument
from ..scoring import STATUS_ORDER
from . import _dask_score
from ._common import (
    EXIT_OK,
    EXIT_PROBLEMS,
    add_mapping_options,
    info,
    input_path,
    mapping_options,
    open_input,
    reads_labels,
    terminate_as_interrupt,
    value_labels_to_apply,
    whole_number,
)

__all__ = ["PROBLEM_FILE_COLUMNS", "register", "run"]


EPILOG = """\
examples:
  alliance-score score examples/messy_wai_sr.csv --instrument wai-sr \\
      -o scores.csv --problems problems.csv
  alliance-score score redcap_export.csv -i wai-sr --columns 'wai_{item}' --json -o s.csv
  alliance-score score survey.xlsx -i srs --keep client_id session -o scores.xlsx

exit codes: 0 every row valid; 1 some rows have problems (all outputs written);
            2 usage error, unknown instrument, unreadable or unmappable input.
"""


def register(subparsers: Any) -> None:
    """Add the ``score`` command."""
    parser = subparsers.add_parser(
        "score",
        help="score an export file (CSV, TSV, REDCap, Qualtrics, Excel, SPSS, Stata, parquet)",
        description=(
            "Score every row of INPUT as one administration of an instrument. Scores go to "
            "OUT (standard output by default, as CSV); messages, progress and the summary "
            "go to standard error."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "input", metavar="INPUT", help="the export file to score (- reads CSV or TSV piped in)"
    )
    add_mapping_options(parser)
    parser.add_argument("-o", "--output", metavar="OUT", help="scores file (default: stdout)")
    parser.add_argument("--problems", metavar="FILE", help="write every problem found to FILE")
    parser.add_argument(
        "--keep",
        nargs="+",
        action="extend",
        metavar="COL",
        help="identifier columns to copy into the scores and to detect duplicates by "
        "(default: detected, e.g. record_id, client_id, session)",
    )
    parser.add_argument(
        "--on-invalid",
        choices=("reject", "missing"),
        default="reject",
        help="reject (default): a row with an invalid value is not scored; missing: "
        "invalid values count as missing",
    )
    parser.add_argument(
        "--format",
        choices=("csv", "tsv", "parquet", "xlsx"),
        help="output format (default: from OUT's suffix, else csv)",
    )
    parser.add_argument(
        "--json", action="store_true", help="print the run's report as JSON on stdout (needs -o)"
    )
    parser.add_argument(
        "--any-resolution",
        action="store_true",
        help="accept visual analogue values recorded finer than the definition's step "
        "(e.g. 7.25 from a digital slider), scored as recorded, never rounded",
    )
    parser.add_argument("--quiet", "-q", action="store_true", help="no messages but errors")
    parser.add_argument(
        "--chunk-bytes",
        type=whole_number(1),
        default=CHUNK_BYTES,
        metavar="N",
        help=f"read delimited text in chunks of about N bytes (default {CHUNK_BYTES})",
    )
    _dask_score.add_options(parser)
    parser.set_defaults(handler=run)


def _usage_error(message: str) -> DataError:
    return DataError(message)


def _same_file(a: str, b: str) -> bool:
    if os.path.exists(a) and os.path.exists(b):
        return os.path.samefile(a, b)
    return os.path.realpath(a) == os.path.realpath(b)


def _check_outputs(args: argparse.Namespace) -> None:
    outputs = [p for p in (args.output, args.problems) if p not in (None, "-")]
    for path in outputs:
        if _same_file(path, args.input):
            raise _usage_error(f"Refusing to overwrite the input file {args.input!r}.")
    if len(outputs) == 2 and _same_file(outputs[0], outputs[1]):
        raise _usage_error("The scores (-o) and the problems (--problems) need different files.")
    if args.problems == "-":
        raise _usage_error("--problems needs a file name (standard output carries the scores).")
    if args.json and args.output in (None, "-"):
        raise _usage_error("--json prints the report on stdout; give -o OUT for the scores.")


def run(args: argparse.Namespace) -> int:
    """Run ``score`` for parsed arguments; returns the exit code."""
    if getattr(args, "engine", "local") == "dask":
        return _dask_score.run(args)
    with terminate_as_interrupt(), input_path(args.input) as path:
        return _run(args, path)


def _run(args: argparse.Namespace, path: str) -> int:
    started = time.perf_counter()
    quiet = args.quiet
    _check_outputs(args)
    options = mapping_options(args)
    instrument = load_instrument(args.instrument)
    source = open_input(path, args.sheet, quiet=quiet)
    mapping = resolve_columns(source.columns, instrument, options["items"])
    labels = reads_labels(source, bool(options["labels"]), quiet=quiet)
    if source.kind == "qualtrics" and source.layout is not None:
        first = source.layout.header_lines - source.layout.extra_header_rows + 1
        last = source.layout.header_lines
        lines = f"line {last}" if first == last else f"lines {first}-{last}"
        info(
            f"Qualtrics export: {lines} (question text and ImportId header rows) skipped as "
            "header rows.",
            quiet=quiet,
        )
    value_labels = value_labels_to_apply(
        source.value_labels, mapping, instrument, labels=labels, quiet=quiet
    )
    keep, identity = _keep_columns(args.keep, source, mapping, quiet)
    info(
        f"{instrument.ref}: items -> columns: "
        + ", ".join(f"{item}={col}" for item, col in mapping.items()),
        quiet=quiet,
    )
    settings = _Settings(
        source=source,
        mapping=mapping,
        keep=keep,
        identity=identity,
        score_options={
            "missing_codes": options["missing_codes"],
            "labels": labels,
            "on_invalid": args.on_invalid,
            "allow_provisional": options["allow_provisional"],
            "decimal": args.decimal,
            "any_resolution": args.any_resolution,
        },
        value_labels=value_labels,
        chunk_bytes=args.chunk_bytes,
        output=args.output,
        problems=args.problems,
        format=output_format(args.output, args.format),
        quiet=quiet,
    )
    engine: Any = "python" if args.output in (None, "-") else "auto"
    try:
        report = _score_file(settings, instrument, engine, None)
    except RestartRequired as restart:
        info(f"Reading again with the exact reader: {restart.reason}.", quiet=quiet)
        report = _score_file(settings, instrument, "python", restart.encoding)
    elapsed = time.perf_counter() - started
    report["elapsed_seconds"] = round(elapsed, 3)
    if args.any_resolution:
        report["any_resolution"] = True
    _print_summary(report, args, quiet)
    if args.json:
        import json

        print(json.dumps(report, indent=2))  # noqa: T201 - the report is the command's output
    return EXIT_PROBLEMS if sum(report["problems"].values()) else EXIT_OK


def _keep_columns(
    requested: Sequence[str] | None,
    source: TableSource,
    mapping: ColumnMap,
    quiet: bool,
) -> tuple[list[str], list[str]]:
    """(columns copied into the scores, columns that identify an administration)."""
    if requested is not None:
        absent = [c for c in requested if c not in source.columns]
        if absent:
            raise DataError(
                f"--keep names columns that are not in the file: {absent}."
                + missing_columns_message(absent, source.columns)
            )
        keep = list(dict.fromkeys(requested))
        return keep, keep
    items = {str(c) for c in mapping.values()}
    identity = list(dict.fromkeys(c for c in source.identifiers if c not in items))
    status = list(source.layout.status_columns) if source.layout is not None else []
    keep = list(dict.fromkeys(identity + status))
    if keep:
        info(
            f"keeping columns {keep} (detected; choose others with --keep); "
            f"duplicates are checked on {identity}",
            quiet=quiet,
        )
    else:
        info(
            "no identifier column detected: duplicates are not checked; name the "
            "identifiers with --keep COL ...",
            quiet=quiet,
        )
    return keep, identity


@dataclasses.dataclass(frozen=True)
class _Settings:
    source: TableSource
    mapping: ColumnMap
    keep: list[str]
    identity: list[str]
    score_options: dict[str, Any]
    value_labels: dict[str, Any]
    chunk_bytes: int
    output: str | None
    problems: str | None
    format: Any
    quiet: bool


def _score_file(s: _Settings, instrument: Any, engine: Any, encoding: str | None) -> dict[str, Any]:
    items = list(dict.fromkeys(str(c) for c in s.mapping.values()))
    columns = list(dict.fromkeys(s.keep + items))
    duplicates = DuplicateFinder(s.identity)
    total = _Totals(instrument)
    progress = _Progress(s.quiet)
    writers = [TableWriter(s.output, s.format)]
    if s.problems:
        writers.append(TableWriter(s.problems, None))
    answers = [c for c in items if c not in s.keep]
    chunks = s.source.chunks(
        columns,
        categorical=answers,
        integers=answers,  # one-digit answers come as numbers, without a text pass
        arrow_text=s.format in ("csv", "tsv"),  # kept columns go to the writer as they are
        chunk_bytes=s.chunk_bytes,
        engine=engine,
        encoding=encoding,
    )
    last_line = None
    chunks = _with_duplicates(chunks, duplicates)  # found as each chunk is read, in order
    with writing(*writers), _Behind() as behind, _ahead(chunks) as read_ahead:
        scores_out = writers[0]
        problems_out = writers[1] if s.problems else None
        slicer = _Slicer()
        for chunk in slicer.slices(read_ahead):
            if len(chunk.lines):
                last_line = int(chunk.lines[-1])
            frame = relabel(chunk.frame, s.value_labels) if s.value_labels else chunk.frame
            result = score_frame(
                frame,
                instrument,
                items=s.mapping,
                keep=s.keep,
                first_row=int(chunk.frame.index[0]) if len(chunk.frame) else 0,
                return_problems=True,
                **s.score_options,
            )
            result = account(
                result, chunk, duplicates, s.score_options["on_invalid"], len(s.source.columns)
            )
            slicer.observe(len(result.scores), len(result.problems))
            total.add(result.summary())
            behind.run(_write_result, scores_out, problems_out, result)
            progress.update(chunk.progress, total.rows)
    progress.close()
    report = total.report()
    layout = s.source.layout
    report["input"] = {
        "format": s.source.format,
        "kind": s.source.kind,
        "encoding": layout.encoding if layout else None,
        "delimiter": layout.delimiter if layout else None,
        "header_lines": layout.header_lines if layout else None,
        "skipped_header_lines": (
            list(range(layout.header_lines - layout.extra_header_rows + 1, layout.header_lines + 1))
            if layout
            else []
        ),
        "last_row_line": last_line,
        "value_labels": "scored as anchor labels" if s.value_labels else None,
    }
    report["keep"] = list(s.keep)
    report["definition"] = {
        "id": instrument.id,
        "version": instrument.version,
        "origin": instrument.origin,
        "hash": instrument.content_hash,
    }
    return report


def _write_result(scores: TableWriter, problems: TableWriter | None, result: Any) -> None:
    scores.write(result.scores)
    if problems is not None:
        problems.write(result.problems)


def _with_duplicates(chunks: Iterator[Chunk], finder: DuplicateFinder) -> Iterator[Chunk]:
    """The chunks with the rows that repeat earlier identifiers found (in file order)."""
    for chunk in chunks:
        yield dataclasses.replace(chunk, duplicates=finder.find(chunk.frame, chunk.lines))


@contextlib.contextmanager
def _ahead(chunks: Iterator[Chunk]) -> Iterator[Iterator[Chunk]]:
    """The chunks, each read on a thread of its own while the one before is scored.

    pyarrow parses a block without the GIL, so reading overlaps with scoring. At most
    one chunk is read ahead; whatever the reading raises (such as
    :class:`RestartRequired`) is raised here, in order. On leaving, the read under way is
    waited for before the reader is closed.
    """
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="alliance-score-read")
    end = object()
    pending: list[Any] = []

    def following() -> Iterator[Chunk]:
        pending.append(pool.submit(next, chunks, end))
        while True:
            chunk = pending[0].result()
            pending.clear()
            if chunk is end:
                return
            pending.append(pool.submit(next, chunks, end))
            yield chunk

    try:
        yield following()
    finally:
        for future in pending:
            future.exception()  # wait; what it raised no longer matters
        pool.shutdown(wait=True)
        close = getattr(chunks, "close", None)
        if close is not None:
            close()


class _Behind:
    """Runs one task at a time on a thread of its own, one step behind the caller.

    Writing a chunk's results (formatting the CSV text in pyarrow and the file's own
    writes, which release the GIL) overlaps with reading and scoring the next chunk.
    At most one task waits or runs, so at most one chunk's results are held for it;
    its exception is raised in the caller at the next task or at the end, and the end
    (also on an exception or an interrupt) waits for the task, so that no file is closed
    while it is written to.
    """

    def __init__(self) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="alliance-score-write")
        self._pending: Any = None

    def __enter__(self) -> _Behind:
        return self

    def run(self, task: Any, *args: Any) -> None:
        self._wait()
        self._pending = self._pool.submit(task, *args)

    def _wait(self) -> None:
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        try:
            if exc_type is None:
                self._wait()
            elif self._pending is not None:  # finish writing before the files are dropped
                import concurrent.futures

                concurrent.futures.wait([self._pending])
        finally:
            self._pool.shutdown(wait=True)


SLICE_ROWS = 16_384
"""Rows scored first in each chunk, and at least at a time, while problems are many."""
PROBLEM_BUDGET = 200_000
"""About how many problem records a slice may produce: a chunk is scored in slices sized
from the problems per row seen so far, so that memory stays bounded when every cell is
invalid (a problem record is about 100 times the size of its cell), while valid input is
scored a whole chunk at a time."""


class _Slicer:
    """Cuts chunks into slices whose size follows the problems per row seen so far."""

    def __init__(self) -> None:
        self.rate: float | None = None

    def observe(self, rows: int, problems: int) -> None:
        if rows:
            self.rate = problems / rows

    def slices(self, chunks: Iterator[Chunk]) -> Iterator[Chunk]:
        for chunk in chunks:
            n = len(chunk.frame)
            if not n:
                yield chunk
                continue
            start = 0
            while start < n:
                if self.rate is None:
                    size = SLICE_ROWS
                elif self.rate * (n - start) <= PROBLEM_BUDGET:
                    size = n - start
                else:
                    size = max(SLICE_ROWS, int(PROBLEM_BUDGET / self.rate))
                stop = min(start + size, n)
                yield chunk if (start, stop) == (0, n) else _piece(chunk, start, stop)
                start = stop


def _piece(chunk: Chunk, start: int, stop: int) -> Chunk:
    ragged = (chunk.ragged >= start) & (chunk.ragged < stop)
    return Chunk(
        chunk.frame.iloc[start:stop],
        chunk.lines[start:stop],
        chunk.ragged[ragged] - start,
        chunk.ragged_fields[ragged],
        progress=chunk.progress,
        undecodable=tuple(
            (pos - start, col) for pos, col in chunk.undecodable if start <= pos < stop
        ),
        duplicates=_rows_between(chunk.duplicates, start, stop),
    )


def _rows_between(pairs: Any, start: int, stop: int) -> Any:
    """(position, line) pairs of the rows from ``start`` to ``stop``, counted from it."""
    if pairs is None:
        return None
    inside = (pairs[:, 0] >= start) & (pairs[:, 0] < stop)
    return pairs[inside] - np.array([start, 0], dtype=np.int64)


class _Totals:
    """Adds up the chunks' :meth:`FrameResult.summary` reports."""

    def __init__(self, instrument: Any) -> None:
        self.instrument = instrument
        self.answers = AnswerRange(float("nan"), float("nan"), 0)
        self.first: dict[str, Any] | None = None
        self.rows = 0
        self.status: Counter[str] = Counter()
        self.problems: Counter[str] = Counter()

    def add(self, summary: dict[str, Any]) -> None:
        if self.first is None:
            self.first = summary
        self.rows += summary["rows"]
        self.status.update(summary["status"])
        self.problems.update(summary["problems"])
        seen = summary["answers"]
        if seen["rows"]:
            self.answers = self.answers.merge(AnswerRange(seen["min"], seen["max"], seen["rows"]))

    def report(self) -> dict[str, Any]:
        if self.first is None:  # pragma: no cover - every source yields a chunk
            raise DataError("The input yielded no rows.")
        report = dict(self.first)
        report["rows"] = self.rows
        report["status"] = {s.value: int(self.status[s.value]) for s in STATUS_ORDER}
        report["problems"] = dict(sorted((k, int(v)) for k, v in self.problems.items() if v))
        report["answers"] = self.answers.to_dict()
        report["coding"] = coding_notes(self.instrument, self.answers)
        return report


class _Progress:
    """A one-line progress display on a terminal, for runs longer than two seconds."""

    def __init__(self, quiet: bool, delay: float = 2.0) -> None:
        self.enabled = not quiet and sys.stderr.isatty()
        self.start = time.perf_counter()
        self.delay = delay
        self.shown = False

    def update(self, fraction: float, rows: int) -> None:
        if not self.enabled or time.perf_counter() - self.start < self.delay:
            return
        bar = "#" * int(30 * fraction)
        sys.stderr.write(f"\r[{bar:<30}] {100 * fraction:5.1f}%  {rows:,} rows")
        sys.stderr.flush()
        self.shown = True

    def close(self) -> None:
        if self.shown:
            sys.stderr.write("\r" + " " * 60 + "\r")
            sys.stderr.flush()


def _print_summary(report: dict[str, Any], args: argparse.Namespace, quiet: bool) -> None:
    name = "standard input" if args.input == "-" else args.input
    status = ", ".join(f"{k} {v:,}" for k, v in report["status"].items())
    problems = report["problems"]
    lines = [
        f"{report['rows']:,} rows read from {name} in {report['elapsed_seconds']:.2f} s",
        f"  {status}",
    ]
    if problems:
        detail = ", ".join(f"{k} {v:,}" for k, v in problems.items())
        lines.append(f"  problems: {sum(problems.values()):,} ({detail})")
        if not args.problems:
            lines.append(
                "  to see each problem (line, column, value, rule), run again with "
                "--problems problems.csv"
            )
    else:
        lines.append("  problems: none")
    definition = report.get("definition")
    if definition:
        where = definition["origin"]
        if where != "shipped":  # a user file: which one, and which text of it
            where += f", {definition['hash'][:19]}"
        lines.append(f"  definition: {definition['id']}@{definition['version']} ({where})")
    if report["provisional"]:
        lines.append(f"  provisional (marked): {', '.join(report['provisional'])}")
    if report.get("any_resolution"):
        lines.append("  visual analogue values scored as recorded (--any-resolution)")
    lines += [f"  coding: {note}" for note in report["coding"]]
    target = args.output or "standard output"
    lines.append(
        f"  scores -> {target}" + (f"; problems -> {args.problems}" if args.problems else "")
    )
    info("\n".join(lines), quiet=quiet)
