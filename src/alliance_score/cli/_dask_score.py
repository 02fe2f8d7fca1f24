"""``alliance-score score --engine dask``: score a parquet dataset on a Dask cluster.

The input is a set of parquet files (a glob pattern such as ``'exports/*.parquet'``, or
a folder). Each row group of each file is one partition; the row counts in the files'
footers place every partition in the whole table before anything is scored, so problem
rows count from the start of the table (files in name order), as when the files are read
one after another by the single-process command. Each partition is scored by one task
with :func:`alliance_score.score_frame` and written by that task as its own file, under
a temporary name renamed when complete (no half-written file is ever visible):

* ``OUT/part-00000.parquet``, ...: the scores, one file per partition;
* ``PROBLEMS/part-00000.parquet``, ... (with ``--problems PROBLEMS``): the problems,
  with the columns of the single-process problems file and the input ``file``.

Duplicate administrations (rows with the same identifiers) are found across the whole
table, as the single-process command does: the tasks hash the identifier cells, the
hashes (16 bytes per row) are compared on the client, and each task reports its rows'
duplicates. The run's report (rows per status, problems per code) adds up the tasks'.

Without ``--scheduler`` a local cluster with one single-threaded worker process per core
runs the tasks; with ``--scheduler ADDRESS`` an existing cluster does, and ``OUT`` and
``PROBLEMS`` must then be folders that every worker can write (a shared file system).
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import pandas as pd

from ..errors import DataError, ProblemCode, UnreadableFileError
from ..frame import score_frame
from ..io.accounting import PROBLEM_FILE_COLUMNS
from ..io.source import TableSource, require
from ..io.writers import TableWriter, plain_cell, write_table
from ..io.writers import _prepare as plain_columns
from ..mapping import ColumnMap, resolve_columns
from ..registry import load_instrument
from ..scoring import STATUS_ORDER
from ._common import EXIT_OK, EXIT_PROBLEMS, info, mapping_options

__all__ = ["add_options", "run"]


def add_options(parser: argparse.ArgumentParser) -> None:
    """``--engine``, ``--scheduler`` and ``--workers`` for the ``score`` command."""
    parser.add_argument(
        "--engine",
        choices=("local", "dask"),
        default="local",
        help="local (default): this process; dask: a parquet dataset (INPUT a glob pattern "
        "or folder) on a Dask cluster, written to the folder OUT, one file per partition",
    )
    parser.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="with --engine dask: the scheduler of an existing cluster, e.g. "
        "tcp://10.0.0.5:8786 (default: a local cluster on this machine's cores)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="with --engine dask and no --scheduler: worker processes of the local cluster "
        "(default: one per core)",
    )


@dataclass(frozen=True)
class Part:
    """One partition: a row group of one file, and its place in the whole table."""

    number: int
    path: str
    row_group: int
    first_row: int
    rows: int


@dataclass(frozen=True)
class Job:
    """What every task needs (sent once per task; small)."""

    columns: list[str]
    keep: list[str]
    identity: list[str]
    mapping: dict[str, Any]
    score_options: dict[str, Any]
    instrument: Any
    output: str
    problems: str | None
    identity_kinds: dict[str, str] = field(default_factory=dict)


def input_files(pattern: str) -> list[str]:
    """The parquet files of a glob pattern or a folder, in name order."""
    if os.path.isdir(pattern):
        found = [os.path.join(pattern, n) for n in os.listdir(pattern)]
        files = sorted(f for f in found if f.endswith((".parquet", ".pq")) and os.path.isfile(f))
    else:
        files = sorted(f for f in glob.glob(pattern) if os.path.isfile(f))
    if not files:
        raise DataError(f"No parquet files match {pattern!r}.")
    other = [f for f in files if not f.endswith((".parquet", ".pq"))]
    if other:
        raise DataError(
            f"--engine dask reads parquet files only; {os.path.basename(other[0])!r} is not "
            "one (convert the exports to parquet, or score them with the local engine)."
        )
    return files


def plan(files: list[str]) -> tuple[list[str], list[Part]]:
    """The common columns of the files and one :class:`Part` per row group."""
    pq = require("pyarrow.parquet", "Reading parquet files", "parquet")
    columns: list[str] | None = None
    parts: list[Part] = []
    first = 0
    for path in files:
        try:
            meta = pq.ParquetFile(path).metadata
        except Exception as exc:  # pyarrow raises several types for a damaged file
            raise DataError(f"Cannot read {path!r} as parquet: {exc}.") from exc
        names = list(meta.schema.to_arrow_schema().names)
        if columns is None:
            columns = names
        elif names != columns:
            raise DataError(
                f"The parquet files must have the same columns; {os.path.basename(path)!r} "
                f"differs from {os.path.basename(files[0])!r}."
            )
        for group in range(max(meta.num_row_groups, 1)):
            rows = meta.row_group(group).num_rows if meta.num_row_groups else 0
            parts.append(Part(len(parts), path, group, first, rows))
            first += rows
    return columns or [], parts


def _empty_folder(path: str, option: str) -> bool:
    """Check that ``path`` is a new or empty folder and create it; True if it was new."""
    if os.path.exists(path) and (not os.path.isdir(path) or os.listdir(path)):
        raise DataError(
            f"{option} {path!r} must be a new or empty folder (the dataset is written as "
            "one file per partition; old files would mix with the new ones)."
        )
    new = not os.path.exists(path)
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as exc:
        raise UnreadableFileError(f"Cannot create {path!r}: {exc.strerror or exc}.") from exc
    return new


def _remove_parts(path: str, created: bool) -> None:
    """Undo a run that did not finish: its part files, and the folder if it made it."""
    for name in os.listdir(path):
        if name.startswith("part-") and name.endswith(".parquet"):
            os.remove(os.path.join(path, name))
    if created and not os.listdir(path):
        os.rmdir(path)


def _read(part: Part, columns: list[str]) -> pd.DataFrame:
    """The partition's raw cells, converted as the single-process parquet reader does."""
    pq = require("pyarrow.parquet", "Reading parquet files", "parquet")
    try:
        file = pq.ParquetFile(part.path)
        if file.metadata.num_row_groups:
            table = file.read_row_group(part.row_group, columns=columns)
        else:
            table = file.schema_arrow.empty_table().select(columns)
    except Exception as exc:  # pyarrow raises several types for a damaged file
        raise UnreadableFileError(
            f"Cannot read row group {part.row_group} of {part.path!r}: {exc}."
        ) from exc
    pa = require("pyarrow", "Reading parquet files", "parquet")
    index = pd.RangeIndex(part.first_row, part.first_row + table.num_rows)
    cells: dict[int, Any] = {}
    for i, name in enumerate(columns):
        column = table.column(name)
        if pa.types.is_integer(column.type) or pa.types.is_floating(column.type):
            # what to_pandas gives (the type, or float64 with NaN for nulls), without the
            # Series it builds per column
            cells[i] = column.to_numpy(zero_copy_only=False)
        else:
            cells[i] = column.to_pandas().array
    frame = pd.DataFrame(cells, index=index, copy=False)
    frame.columns = pd.Index(columns, dtype=object)
    return frame


def identity_kinds(files: list[str], identity: list[str]) -> dict[str, str]:
    """How each identifier column is hashed: ``"integer"`` or ``"text"`` when it has that
    parquet type in every file, ``"object"`` otherwise.

    Every partition of a column must hash its cells the same way, so the kind is chosen
    once for the whole table. Integer ids are hashed as numbers; a partition where the
    column has nulls holds them as float64 (as the single-process reader does), whose
    cells differ from the integers of other partitions there too (``5.0`` is not ``5``).
    """
    pa = require("pyarrow", "Reading parquet files", "parquet")
    pq = require("pyarrow.parquet", "Reading parquet files", "parquet")
    kinds = dict.fromkeys(identity, "")
    for path in files:
        schema = pq.read_schema(path)
        for name in identity:
            t = schema.field(name).type
            kind = (
                "integer"
                if pa.types.is_integer(t)
                else "text"
                if pa.types.is_string(t) or pa.types.is_large_string(t)
                else "object"
            )
            kinds[name] = kind if kinds[name] in ("", kind) else "object"
    return {name: kind or "object" for name, kind in kinds.items()}


def _identity_hashes(
    frame: pd.DataFrame, identity: list[str], kinds: dict[str, str] | None = None
) -> tuple[Any, Any]:
    """(hash, row) of the rows whose identifiers are not all empty (as DuplicateFinder).

    Rows are compared as the single-process command compares them (cells equal as text,
    blank or missing identifiers not compared); integer and text columns (``kinds``)
    take vectorised paths instead of one Python object per cell.
    """
    kinds = kinds or {}
    cells: list[Any] = []
    blank = np.ones(len(frame), dtype=bool)
    for name in identity:
        column = frame[name]
        kind = kinds.get(name, "object")
        if kind == "integer" and column.dtype.kind in "iuf":
            empty = column.isna()  # a number is never blank text
            # 0.0 and 0 hash alike as numbers, but as text (the single-process command)
            # they differ: a marker column tells a partition's floats from integers
            cells.append(np.full(len(frame), column.dtype.kind == "f"))
        elif kind == "text" and column.dtype != object and pd.api.types.is_string_dtype(column):
            empty = column.isna() | column.str.strip().eq("")
        else:
            column = column.astype(object)
            if pd.api.types.infer_dtype(column, skipna=True) == "mixed":
                column = column.map(plain_cell)  # list, dict or array cells, as text
            empty = column.isna() | column.astype(str).str.strip().eq("")
        blank &= empty.to_numpy(dtype=bool)
        cells.append(column.array)
    usable = ~blank
    ids = pd.DataFrame(dict(enumerate(cells)), copy=False).loc[usable]
    hashes = pd.util.hash_pandas_object(ids, index=False).to_numpy()
    return hashes, frame.index.to_numpy()[usable]


def hash_task(part: Part, job: Job) -> tuple[Any, Any]:
    """Task: the identifier hashes of one partition (its identifier columns alone)."""
    return _identity_hashes(_read(part, job.identity), job.identity, job.identity_kinds)


def find_duplicates(pieces: list[tuple[Any, Any]]) -> tuple[Any, Any]:
    """(rows that repeat an earlier row's identifiers, the row each repeats), sorted.

    The hashes that occur more than once are found by sorting the hashes alone; only the
    rows that hold one of them (a few in a registry) are then ordered and paired.
    """
    none = (np.empty(0, np.int64), np.empty(0, np.int64))
    if not pieces:
        return none
    hashes = np.concatenate([h for h, _ in pieces])
    rows = np.concatenate([r for _, r in pieces]).astype(np.int64, copy=False)
    ordered = np.sort(hashes)
    again = np.unique(ordered[1:][ordered[1:] == ordered[:-1]])
    if not len(again):
        return none
    pick = pd.Series(hashes, copy=False).isin(again).to_numpy()
    hashes, rows = hashes[pick], rows[pick]
    order = np.lexsort((rows, hashes))
    hashes, rows = hashes[order], rows[order]
    starts = np.r_[True, hashes[1:] != hashes[:-1]]
    first = rows[np.flatnonzero(starts)][np.cumsum(starts) - 1]
    repeated = ~starts
    dup_rows, dup_first = rows[repeated], first[repeated]
    back = np.argsort(dup_rows, kind="stable")
    return dup_rows[back], dup_first[back]


def score_part(part: Part, job: Job) -> Any:
    """Read and score one partition: its :class:`~alliance_score.frame.FrameResult`."""
    return score_frame(
        _read(part, job.columns),
        job.instrument,
        items=job.mapping,
        keep=job.keep,
        first_row=part.first_row,
        return_problems=True,
        **job.score_options,
    )


def problems_table(
    result: Any, part: Part, job: Job, dup_rows: Any, dup_first: Any
) -> pd.DataFrame:
    """The partition's problems as the problems file holds them, duplicates included."""
    problems = result.problems.copy()
    problems.insert(0, "line", problems["row"].to_numpy(dtype=np.int64) + 1)
    if len(dup_rows):
        extra = pd.DataFrame.from_records(
            [
                (
                    int(row) + 1,
                    int(row),
                    str(int(row)),
                    None,
                    None,
                    None,
                    ProblemCode.DUPLICATE_ROW.value,
                    f"Row {int(row)} (line {int(row) + 1}) has the same identifiers "
                    f"({', '.join(job.identity)}) as the row on line {int(first) + 1}; both "
                    "are kept and scored.",
                )
                for row, first in zip(dup_rows.tolist(), dup_first.tolist(), strict=True)
            ],
            columns=list(PROBLEM_FILE_COLUMNS),
        )
        problems = pd.concat([extra, problems], ignore_index=True)
        problems = problems.sort_values("row", kind="stable", ignore_index=True)
    table: pd.DataFrame = problems.astype({"line": np.int64, "row": np.int64})
    table = table[list(PROBLEM_FILE_COLUMNS)]
    table.insert(0, "file", os.path.basename(part.path))
    return table


def write_scores(scores: pd.DataFrame, path: str, keep: list[str]) -> None:
    """Write the scores as :func:`write_table` does (same file), atomically."""
    with TableWriter(path, "parquet") as writer:
        writer.write_arrow(scores_table(scores, keep), attrs=scores.attrs["alliance_score"])


def score_task(part: Part, job: Job, dup_rows: Any, dup_first: Any) -> dict[str, Any]:
    """Task: score one partition, write its files, and return its accounting."""
    result = score_part(part, job)
    problems = problems_table(result, part, job, dup_rows, dup_first)
    name = f"part-{part.number:05d}.parquet"
    write_scores(result.scores, os.path.join(job.output, name), job.keep)
    if job.problems is not None:
        write_table(problems, os.path.join(job.problems, name), "parquet")
    summary = result.summary()
    return {
        "rows": summary["rows"],
        "status": summary["status"],
        "problems": dict(Counter(problems["code"])),
        "first": summary,
    }


def scores_table(scores: pd.DataFrame, keep: list[str]) -> Any:
    """The scores as the ``pyarrow.Table`` that :func:`write_table` writes to parquet.

    The kept input columns are made plain as the writer makes them. The computed columns
    are plain already except the categorical ones (``status``, ``provisional``), which
    the writer turns into text cell by cell: here their codes index their categories in
    pyarrow, and the column's pandas metadata is the one a column of text gets. The
    numeric columns go to pyarrow without the copy of the whole frame that the writer
    makes.
    """
    pa = require("pyarrow", "Writing parquet files", "parquet")
    kept = plain_columns(scores[keep], "parquet") if keep else None
    columns: dict[int, Any] = {}
    categorical: dict[int, Any] = {}
    for j, name in enumerate(scores.columns):
        column = scores.iloc[:, j]
        if kept is not None and name in keep:
            columns[j] = kept[name]
        elif isinstance(column.dtype, pd.CategoricalDtype):
            codes = column.cat.codes.to_numpy()
            labels = column.cat.categories
            if len(codes) and (codes >= 0).all() and all(isinstance(v, str) for v in labels):
                text = pa.array(list(labels), type=pa.string())
                categorical[j] = pa.DictionaryArray.from_arrays(pa.array(codes), text)
            else:  # the writer's cell by cell path (no rows, missing cells)
                text_of = np.empty(len(labels) + 1, dtype=object)  # code -1: missing
                text_of[:-1] = labels.to_numpy(dtype=object)
                values = text_of[codes]
                columns[j] = pd.Series(values, index=scores.index, dtype=object)
        else:
            columns[j] = column
    frame = pd.DataFrame(columns, index=scores.index, copy=False)
    frame.columns = pd.Index([scores.columns[j] for j in columns], dtype=object)
    frame.attrs = scores.attrs  # pyarrow keeps them in the pandas metadata, as the writer's
    table = pa.Table.from_pandas(frame, preserve_index=False)
    if not categorical:
        return table
    meta = json.loads(table.schema.metadata[b"pandas"])
    for j, array in categorical.items():  # in column order, so each lands at its place
        name = str(scores.columns[j])
        table = table.add_column(j, pa.field(name, pa.string()), array.cast(pa.string()))
        meta["columns"].insert(j, _text_column_metadata(name))
    return table.replace_schema_metadata(
        {**table.schema.metadata, b"pandas": json.dumps(meta).encode("utf-8")}
    )


def _text_column_metadata(name: str) -> Any:
    """The pandas metadata pyarrow writes for a column of text (Python objects)."""
    pa = require("pyarrow", "Writing parquet files", "parquet")
    sample = pd.DataFrame({name: pd.Series(["text"], dtype=object)})
    meta = pa.Table.from_pandas(sample, preserve_index=False).schema.metadata[b"pandas"]
    return json.loads(meta)["columns"][0]


@contextmanager
def connect(scheduler: str | None, workers: int | None, quiet: bool) -> Iterator[Any]:
    """A ``distributed.Client`` for ``scheduler``, or for a new local cluster."""
    distributed = require("distributed", "--engine dask", "dask")
    Client = distributed.Client  # noqa: N806
    if scheduler is not None:
        info(f"connecting to the Dask scheduler at {scheduler}", quiet=quiet)
        with Client(scheduler, timeout="30s") as client:
            yield client
        return
    n = workers or os.cpu_count() or 1
    info(f"starting a local Dask cluster of {n} worker process(es)", quiet=quiet)
    with local_cluster(n) as cluster, Client(cluster) as client:
        yield client


MALLOC_ENVIRON: Final = {
    "MALLOC_MMAP_THRESHOLD_": str(32 << 20),
    "MALLOC_TRIM_THRESHOLD_": str(128 << 20),
}
"""glibc's allocator settings for the local cluster's workers. Dask sets a trim threshold
of 64 KiB, which also fixes the mmap threshold at 128 KiB: every column of a partition
(8 MB per 10^6 rows) is then mapped fresh from the system and its pages faulted in one
by one, task after task. With columns up to 32 MiB taken from the heap and up to
128 MiB of freed heap kept for the next task, a task spends about a tenth less CPU time
(``bench/RESULTS.md``); a worker holds at most that much more memory."""


def local_cluster(workers: int, **options: Any) -> Any:
    """The ``distributed.LocalCluster`` of ``--engine dask`` without ``--scheduler``: one
    single-threaded worker process per core (``workers``), on the loopback only."""
    dask = require("dask", "--engine dask", "dask")
    distributed = require("distributed", "--engine dask", "dask")
    environ = dict(dask.config.get("distributed.nanny.pre-spawn-environ", {}))
    environ.update(MALLOC_ENVIRON)
    # the nanny takes a variable from this process's environment before its configuration
    # (and leaves its own there): set them for the spawn, then restore
    before = {k: os.environ.get(k) for k in MALLOC_ENVIRON}
    os.environ.update(MALLOC_ENVIRON)
    try:
        with dask.config.set({"distributed.nanny.pre-spawn-environ": environ}):
            return distributed.LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
                **options,
            )
    finally:
        for key, value in before.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def run(args: argparse.Namespace) -> int:
    """``score --engine dask`` for parsed arguments; returns the exit code."""
    started = time.perf_counter()
    quiet = args.quiet
    if args.sheet is not None:
        raise DataError("--sheet chooses an Excel sheet; --engine dask reads parquet files.")
    if args.output in (None, "-"):
        raise DataError("--engine dask writes a dataset: give -o FOLDER for the scores.")
    if args.format not in (None, "parquet"):
        raise DataError("--engine dask writes parquet datasets; leave out --format.")
    if args.workers is not None and args.workers < 1:
        raise DataError(f"--workers must be 1 or more; got {args.workers}.")
    options = mapping_options(args)
    instrument = load_instrument(args.instrument)
    files = input_files(args.input)
    columns, parts = plan(files)
    mapping: ColumnMap = resolve_columns(columns, instrument, options["items"])
    keep, identity = _keep(args.keep, files[0], columns, mapping, quiet)
    outputs = [os.path.abspath(p) for p in (args.output, args.problems) if p]
    if len(set(outputs)) < len(outputs):
        raise DataError("The scores (-o) and the problems (--problems) need different folders.")
    made = {args.output: _empty_folder(args.output, "-o")}
    if args.problems:
        made[args.problems] = _empty_folder(args.problems, "--problems")
    items = list(dict.fromkeys(str(c) for c in mapping.values()))
    job = Job(
        columns=list(dict.fromkeys(keep + items)),
        keep=keep,
        identity=identity,
        mapping=dict(mapping),
        score_options={
            "missing_codes": options["missing_codes"],
            "labels": options["labels"],
            "on_invalid": args.on_invalid,
            "allow_provisional": options["allow_provisional"],
        },
        instrument=instrument,
        output=os.path.abspath(args.output),
        problems=os.path.abspath(args.problems) if args.problems else None,
        identity_kinds=identity_kinds(files, identity),
    )
    info(
        f"{instrument.ref}: {len(files)} file(s), {len(parts)} partition(s), "
        f"{sum(p.rows for p in parts):,} rows",
        quiet=quiet,
    )
    try:
        with connect(args.scheduler, args.workers, quiet) as client:
            summaries = score_parts(client, parts, job)
    except BaseException:
        # a dataset with some partitions missing must not look like a result
        for folder, created in made.items():
            _remove_parts(folder, created)
        raise
    report = _report(summaries, sum(p.rows for p in parts))
    report["elapsed_seconds"] = round(time.perf_counter() - started, 3)
    report["input"] = {"format": "parquet", "files": len(files), "partitions": len(parts)}
    report["keep"] = keep
    report["engine"] = "dask"
    from .score import _print_summary

    _print_summary(report, args, quiet)
    if args.json:
        print(json.dumps(report, indent=2))  # noqa: T201 - the report is the command's output
    return EXIT_PROBLEMS if sum(report["problems"].values()) else EXIT_OK


def score_parts(client: Any, parts: list[Part], job: Job) -> list[dict[str, Any]]:
    """Score every partition on the cluster behind ``client``; their accounting, in order."""
    [job_future] = client.scatter([job], broadcast=True)
    dup_rows = np.empty(0, np.int64)
    dup_first = np.empty(0, np.int64)
    if job.identity:
        hashed = client.gather(client.map(hash_task, parts, job=job_future, pure=False))
        dup_rows, dup_first = find_duplicates(hashed)
    ends = [p.first_row for p in parts] + [parts[-1].first_row + parts[-1].rows]
    bounds = np.searchsorted(dup_rows, ends).tolist()
    futures = [
        client.submit(
            score_task,
            part,
            job_future,
            dup_rows[bounds[i] : bounds[i + 1]],
            dup_first[bounds[i] : bounds[i + 1]],
            pure=False,
        )
        for i, part in enumerate(parts)
    ]
    return list(client.gather(futures))


def _report(summaries: list[dict[str, Any]], rows: int) -> dict[str, Any]:
    if not summaries:  # pragma: no cover - plan() yields a part per file at least
        raise DataError("The input has no partitions.")
    report = dict(summaries[0]["first"])
    status: Counter[str] = Counter()
    problems: Counter[str] = Counter()
    for s in summaries:
        status.update(s["status"])
        problems.update(s["problems"])
    report["rows"] = rows
    report["status"] = {s.value: int(status[s.value]) for s in STATUS_ORDER}
    report["problems"] = dict(sorted((k, int(v)) for k, v in problems.items() if v))
    return report


def _keep(
    requested: list[str] | None,
    first_file: str,
    columns: list[str],
    mapping: ColumnMap,
    quiet: bool,
) -> tuple[list[str], list[str]]:
    from .score import _keep_columns

    source = TableSource(first_file, "parquet", tuple(columns), None)
    return _keep_columns(requested, source, mapping, quiet)
