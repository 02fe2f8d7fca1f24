"""The canonical long layout of session scores, its validator and wide/long reshaping.

The long layout is what :func:`alliance_score.score_frame` returns when the caller keeps
the identifier columns: **one row per client x session x rater**, with

* ``client``: the client (case) identifier, any hashable values;
* ``session``: the session number (1, 2, ...; numeric, larger is later);
* ``rater`` (optional): who rated the session (``"client"``, ``"therapist"``, ...);
* ``therapist`` (optional): the therapist identifier, for nested analyses;
* ``date`` (optional): the session date, checked to increase with the session number;
* one or more score columns (``total``, ``bond``, ...).

Every function in :mod:`alliance_score.sessions` takes the column names as the keyword
arguments ``client=``, ``session=``, ``rater=``, ``therapist=`` and ``score=``.
"""

from __future__ import annotations

import warnings
from enum import StrEnum
from typing import Any

import numpy as np
import pandas as pd
from pandas.tseries.api import guess_datetime_format

from ..errors import ArgumentError, DataError
from ._columns import (
    check_identifiers,
    check_names,
    group_keys,
    refuse_duplicates,
    require_columns,
    require_frame,
)
from ._renamed import renamed_keywords

__all__ = ["LONG_PROBLEM_COLUMNS", "LongProblemCode", "to_long", "to_wide", "validate_long"]

LONG_PROBLEM_COLUMNS: tuple[str, ...] = ("code", "row", "column", "message")


class LongProblemCode(StrEnum):
    """Stable codes for problems found by :func:`validate_long`."""

    DUPLICATE_ROW = "duplicate_row"
    """Two rows share client, session (and rater)."""
    MISSING_IDENTIFIER = "missing_identifier"
    """A row has no client, session or rater."""
    NOT_A_DATE = "not_a_date"
    """A session date cannot be read as a date."""
    NON_MONOTONE_DATE = "non_monotone_date"
    """A session's date is not later than the date of the client's previous session."""
    MIXED_INSTRUMENTS = "mixed_instruments"
    """Rows of one rater were scored with different instruments."""


@renamed_keywords(instrument="instrument_column")
def validate_long(
    data: pd.DataFrame,
    *,
    client: str = "client",
    session: str = "session",
    rater: str | None = None,
    date: str | None = None,
    instrument_column: str | None = None,
    date_format: str | None = None,
) -> pd.DataFrame:
    """Check a long table of session scores and report every problem found.

    Parameters
    ----------
    data
        Long table, one row per client x session (x rater).
    client, session, rater
        Column names of the client id, the session number and (optionally) the rater.
    date
        Optional column of session dates; within each client (and rater), dates must
        increase strictly with the session number.
    date_format
        How the dates in ``date`` are written, as a ``strftime`` format such as
        ``"%d/%m/%Y"`` (day first) or ``"%m/%d/%Y"`` (month first). Without it, a column
        of datetimes is used as it is, ISO 8601 text (``2020-01-13``) is read as such, and
        other text is read with the one format that reads the most of its values;
        when two formats read them equally well but give different dates (``10/01/2020``
        is 10 January or 1 October), the column is ambiguous and :class:`DataError`
        asks for ``date_format``. One format is used for the whole column, never one
        per row.
    instrument_column
        Optional column naming the instrument (e.g. ``"wai-sr@1.0"``) each row was scored
        with; within each rater (or overall when there is no rater column) all rows must
        share one instrument. When omitted, ``data.attrs["alliance_score"]["instrument"]``
        (set by :func:`~alliance_score.score_frame`) is a single instrument by construction.

    Returns
    -------
    pandas.DataFrame
        One row per problem with columns ``code`` (a :class:`LongProblemCode` value),
        ``row`` (0-based position of the offending row), ``column`` and ``message``.
        Empty when the table is valid. Messages name row positions, never identifiers.

    Notes
    -----
    A duplicate is reported on every repeated row after the first, pointing to the first.
    A non-monotone date is reported on the later session. For mixed instruments, the most
    frequent instrument of the rater is taken as the intended one (ties: the first in
    sort order) and every other row is reported. Problems are ordered by row.

    Examples
    --------
    >>> import pandas as pd
    >>> from alliance_score.sessions import validate_long
    >>> df = pd.DataFrame({"client": ["a", "a", "a"], "session": [1, 2, 2],
    ...                    "total": [4.0, 4.5, 4.2]})
    >>> validate_long(df)[["code", "row"]]
                code  row
    0  duplicate_row    2
    """
    frame = require_columns(
        data,
        {"client": client, "session": session, "rater": rater, "date": date},
        required=("client", "session"),
    )
    require_columns(frame, {"instrument_column": instrument_column})
    keys = [*group_keys(client, rater), session]
    pos = pd.Series(np.arange(len(frame)), index=frame.index)
    records: list[dict[str, Any]] = []

    ident = frame.loc[:, keys]
    missing = ident.isna()
    for col in keys:
        for r in pos[missing[col].to_numpy()].tolist():
            records.append(_problem("missing_identifier", r, col, f"has no {col!r} value"))
    complete = ~missing.any(axis=1).to_numpy()

    sub = ident.loc[complete]
    dup = sub.duplicated(keep=False).to_numpy()
    if dup.any():
        firsts = (
            pos.loc[complete][dup]
            .groupby([sub[c][dup] for c in keys], sort=False, observed=True)
            .transform("min")
        )
        for r, first in zip(pos.loc[complete][dup].tolist(), firsts.tolist(), strict=True):
            if r != first:
                records.append(
                    _problem(
                        "duplicate_row",
                        r,
                        session,
                        f"repeats the identifiers {[str(k) for k in keys]} of row {first}",
                    )
                )

    if date is not None:
        records.extend(_date_problems(frame, pos, complete, keys, date, date_format))
    if instrument_column is not None:
        records.extend(_instrument_problems(frame, pos, rater, instrument_column))

    problems = pd.DataFrame.from_records(records, columns=list(LONG_PROBLEM_COLUMNS))
    problems = problems.sort_values(["row", "code"], kind="mergesort").reset_index(drop=True)
    return problems.astype({"row": np.int64})


def _problem(code: str, row: int, column: str, what: str) -> dict[str, Any]:
    return {
        "code": LongProblemCode(code).value,
        "row": row,
        "column": str(column),
        "message": f"Row {row} {what}.",
    }


def _date_problems(
    frame: pd.DataFrame,
    pos: pd.Series,
    complete: np.ndarray[Any, np.dtype[np.bool_]],
    keys: list[str],
    date: str,
    date_format: str | None,
) -> list[dict[str, Any]]:
    raw = frame[date]
    parsed = parse_dates(raw, date, date_format)
    out: list[dict[str, Any]] = []
    bad = parsed.isna() & raw.notna()
    for r in pos[bad.to_numpy()].tolist():
        out.append(_problem("not_a_date", r, date, f"has a {date!r} value that is not a date"))
    usable = complete & parsed.notna().to_numpy()
    sub = frame.loc[usable, keys].assign(_date=parsed[usable], _pos=pos[usable])
    sub = sub.sort_values(keys, kind="mergesort")
    grouped = sub.groupby(keys[:-1], sort=False, observed=True)
    prev_date = grouped["_date"].shift(1)
    prev_pos = grouped["_pos"].shift(1)
    later = sub[keys[-1]].to_numpy()
    not_later = (sub["_date"] <= prev_date).to_numpy()
    for r, p, s in zip(
        sub["_pos"][not_later].tolist(),
        prev_pos[not_later].tolist(),
        later[not_later].tolist(),
        strict=True,
    ):
        out.append(
            _problem(
                "non_monotone_date",
                r,
                date,
                f"(session {s}) is dated no later than the previous session (row {int(p)})",
            )
        )
    return out


def parse_dates(raw: pd.Series, column: str, date_format: str | None) -> pd.Series:
    """The dates of ``raw``, read with one format for the whole column (see
    :func:`validate_long`); unreadable cells are ``NaT``."""
    if date_format is not None and not isinstance(date_format, str):
        raise ArgumentError(f"date_format must be a strftime format; got {date_format!r}.")
    if pd.api.types.is_datetime64_any_dtype(raw) and date_format is None:
        return raw
    text = raw.astype("string").str.strip()
    text = text.mask(text.eq("")).astype(object).where(text.notna(), None)
    if date_format is not None:
        return _read(text, date_format)
    iso = _read(text, "ISO8601")
    if int(iso.notna().sum()) == int(text.notna().sum()):
        return iso
    readings: dict[str, pd.Series] = {}
    for value in pd.unique(text.dropna())[:200]:
        for dayfirst in (False, True):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fmt = guess_datetime_format(str(value), dayfirst=dayfirst)
            if fmt is not None and fmt not in readings and not _year_day_month(fmt):
                readings[fmt] = _read(text, fmt)
    if not readings:
        return iso
    most = max(int(r.notna().sum()) for r in readings.values())
    best = {f: r for f, r in readings.items() if int(r.notna().sum()) == most}
    first = next(iter(best.values()))
    if any(not r.equals(first) for r in best.values()):
        raise DataError(
            f"The dates in column {column!r} can be read in more than one way ("
            + " or ".join(repr(f) for f in sorted(best))
            + ", e.g. day first or month first); say which with date_format= "
            "(--date-format), such as date_format='%d/%m/%Y'."
        )
    return first


def _year_day_month(fmt: str) -> bool:
    """A year-first format with the day before the month: no one writes dates so."""
    return (
        fmt.startswith("%Y") and "%d" in fmt and "%m" in fmt and fmt.index("%d") < fmt.index("%m")
    )


def _read(text: pd.Series, fmt: str) -> pd.Series:
    return pd.to_datetime(text, format=fmt, errors="coerce")


def _instrument_problems(
    frame: pd.DataFrame, pos: pd.Series, rater: str | None, instrument: str
) -> list[dict[str, Any]]:
    values = frame[instrument].astype("string")
    groups = frame[rater] if rater is not None else pd.Series(0, index=frame.index)

    def modal(s: pd.Series) -> Any:
        counts = s.value_counts(dropna=True)
        if counts.empty:
            return pd.NA
        top = counts[counts == counts.max()].index
        return sorted(top)[0]

    intended = values.groupby(groups, sort=False, observed=True).transform(modal)
    bad = (values != intended).fillna(value=False).to_numpy(dtype=bool)
    return [
        _problem(
            "mixed_instruments",
            r,
            instrument,
            f"was scored with {v!r} while the other rows of its rater use {i!r}",
        )
        for r, v, i in zip(
            pos[bad].tolist(), values[bad].tolist(), intended[bad].tolist(), strict=True
        )
    ]


def to_wide(
    data: pd.DataFrame,
    *,
    client: str = "client",
    session: str = "session",
    rater: str | None = None,
    score: str = "total",
) -> pd.DataFrame:
    """Reshape a long table to one row per client (and rater), one column per session.

    Parameters
    ----------
    data
        Long table (see :mod:`alliance_score.sessions.longformat`).
    client, session, rater, score
        Column names; ``score`` is the one score column to spread.

    Returns
    -------
    pandas.DataFrame
        Index: the client (a ``MultiIndex`` of client and rater when ``rater`` is given),
        sorted. Columns: the session values, sorted, with the column index named after
        ``session``. Cells: the score, ``NaN`` where a session was not rated.

    Raises
    ------
    DataError
        When two rows share client, session (and rater); run :func:`validate_long`.

    Examples
    --------
    >>> import pandas as pd
    >>> from alliance_score.sessions import to_wide
    >>> df = pd.DataFrame({"client": ["a", "a", "b"], "session": [1, 2, 1],
    ...                    "total": [4.0, 4.5, 3.0]})
    >>> to_wide(df)
    session    1    2
    client
    a        4.0  4.5
    b        3.0  NaN
    """
    frame = require_columns(
        data,
        {"client": client, "session": session, "rater": rater, "score": score},
        required=("client", "session", "score"),
    )
    keys = group_keys(client, rater)
    check_identifiers(frame, {"client": client, "rater": rater, "session": session})
    refuse_duplicates(frame, [*keys, session])
    # pivot (not pivot_table): duplicates were ruled out above and nothing is aggregated
    wide = frame.pivot(index=keys, columns=session, values=score)  # noqa: PD010
    wide = wide.sort_index(axis=0).sort_index(axis=1)
    wide.columns.name = session
    return wide


def to_long(
    wide: pd.DataFrame,
    *,
    client: str = "client",
    session: str = "session",
    rater: str | None = None,
    score: str = "total",
    dropna: bool = True,
) -> pd.DataFrame:
    """Reshape a wide table (as made by :func:`to_wide`) back to the long layout.

    Parameters
    ----------
    wide
        One row per client (index; or client and rater as a ``MultiIndex``), one column
        per session.
    client, session, rater, score
        Names given to the output columns.
    dropna
        Drop cells without a score (sessions not rated). With ``dropna=False`` every cell
        becomes a row, so ``to_wide(to_long(w, dropna=False))`` equals ``w`` exactly.

    Returns
    -------
    pandas.DataFrame
        Columns ``client``, (``rater``), ``session``, ``score``; sorted by client, rater
        and session; fresh ``RangeIndex``.

    Examples
    --------
    >>> import pandas as pd
    >>> from alliance_score.sessions import to_long, to_wide
    >>> df = pd.DataFrame({"client": ["a", "a", "b"], "session": [1, 2, 1],
    ...                    "total": [4.0, 4.5, 3.0]})
    >>> to_long(to_wide(df))
      client  session  total
    0      a        1    4.0
    1      a        2    4.5
    2      b        1    3.0
    """
    require_frame(wide, "wide")
    check_names(
        {"client": client, "session": session, "rater": rater, "score": score},
        required=("client", "session", "score"),
    )
    keys = group_keys(client, rater)
    names = [*keys, session, score]
    if len(set(names)) != len(names):
        raise ArgumentError(f"client, rater, session and score need different names; got {names}.")
    if wide.index.nlevels != len(keys):
        raise DataError(
            f"The wide table's index has {wide.index.nlevels} level(s); expected "
            f"{len(keys)} ({[str(k) for k in keys]})."
        )
    if not (wide.index.is_unique and wide.columns.is_unique):
        raise DataError(
            "The wide table has a client (or session) twice in its index (or columns): "
            "a session entered twice has no single score."
        )
    # stack (not melt) keeps the dtype of the session labels and the index levels
    stacked = wide.rename_axis(index=keys, columns=session).stack(future_stack=True)  # noqa: PD013
    long = pd.Series(stacked, name=score).reset_index()
    if dropna:
        long = long.loc[long[score].notna()]
    return long.sort_values([*keys, session], kind="mergesort").reset_index(drop=True)
