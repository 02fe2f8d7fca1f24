"""Column and argument checks shared by the session functions (not public).

Every public function takes the same keyword names for the columns of the long table:
``client``, ``session``, ``rater``, ``therapist`` and ``score``. This module checks that
the named columns exist and hold usable values, that no output column would overwrite
an input column, that no (client, rater, session) is entered twice, and returns a
narrowed, sorted copy so that no function ever touches the caller's DataFrame.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Sequence
from numbers import Real
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ArgumentError, DataError
from ..mapping import missing_columns_message

__all__ = [
    "check_choice",
    "check_names",
    "check_number",
    "group_keys",
    "prepare",
    "refuse_clash",
    "refuse_duplicates",
    "require_columns",
    "require_frame",
]


def require_frame(data: object, name: str = "data") -> pd.DataFrame:
    """``data`` itself when it is a DataFrame, else an :class:`ArgumentError` naming it."""
    if not isinstance(data, pd.DataFrame):
        raise ArgumentError(f"{name} must be a pandas DataFrame; got {type(data).__name__}.")
    return data


def check_names(named: dict[str, object], required: Iterable[str] = ()) -> None:
    """Column-name arguments are names (text or a whole number); ``required`` ones are given."""
    needed = set(required)
    for role, col in named.items():
        if col is None:
            if role in needed:
                raise ArgumentError(f"{role}= must name a column; got None.")
            continue
        if isinstance(col, bool) or not isinstance(col, str | int | np.integer):
            raise ArgumentError(f"{role}= must be a column name; got {col!r}.")


def require_columns(
    data: object, named: dict[str, Hashable | None], required: Iterable[str] = ()
) -> pd.DataFrame:
    """Check that ``data`` is a DataFrame holding every named column (``None`` = unused,
    unless the role is ``required``).

    Two roles may not name the same column (``client="id", session="id"``).
    """
    frame = require_frame(data)
    check_names(dict(named), required)
    seen: dict[Hashable, str] = {}
    for role, col in named.items():
        if col is None:
            continue
        if col not in frame.columns:
            raise DataError(
                f"The {role} column {col!r} (given as {role}=) is not in the data."
                + missing_columns_message([col], frame.columns)
            )
        if col in seen and seen[col] != role:
            raise ArgumentError(
                f"{seen[col]}= and {role}= both name the column {col!r}; each role needs "
                "its own column."
            )
        seen[col] = role
    return frame


def refuse_clash(inputs: Iterable[Hashable | None], outputs: Iterable[str], what: str) -> None:
    """Refuse input columns named like an output column of ``what``, which would overwrite
    them (or be overwritten) in the result."""
    out = set(outputs)
    clash = [c for c in inputs if c is not None and isinstance(c, str) and c in out]
    if clash:
        raise DataError(
            f"The column(s) {sorted(set(clash))} of the data are named like output columns "
            f"of {what} ({', '.join(sorted(out))}); the result would mix them up. Rename "
            f"them first, e.g. data.rename(columns={{{clash[0]!r}: {clash[0] + '_id'!r}}})."
        )


def refuse_duplicates(frame: pd.DataFrame, keys: Sequence[Hashable]) -> None:
    """Refuse rows that share every one of ``keys`` (the same session entered twice).

    The one duplicate rule of :mod:`alliance_score.sessions`: a (client, rater, session)
    entered twice has no single score, and choosing one (first, lower, mean) would give
    a number that depends on the choice, so every function refuses it; only
    :func:`~alliance_score.sessions.validate_long` reports each duplicate row.
    """
    dup = frame.duplicated(subset=list(keys), keep=False).to_numpy()
    if dup.any():
        rows = np.flatnonzero(dup)
        shown = ", ".join(str(r) for r in rows[:6].tolist()) + (", ..." if len(rows) > 6 else "")
        raise DataError(
            f"{len(rows)} rows share their {[str(k) for k in keys]} with another row "
            f"(rows {shown}, 0-based): a session entered twice has no single score. "
            "Remove or merge the duplicates first; validate_long (the sessions command) "
            "lists them."
        )


def check_choice(name: str, value: object, allowed: Sequence[Any]) -> Any:
    """``value`` when it is one of ``allowed``, else an :class:`ArgumentError` naming it."""
    try:
        ok = isinstance(value, Hashable) and value in allowed
    except TypeError:
        ok = False
    if not ok or isinstance(value, bool):
        raise ArgumentError(
            f"{name} must be one of {', '.join(repr(a) for a in allowed)}; got {value!r}."
        )
    return value


def check_number(
    name: str,
    value: object,
    *,
    positive: bool = False,
    minimum: float | None = None,
    below: float | None = None,
    integer: bool = False,
) -> float:
    """``value`` as a finite float within bounds, else an :class:`ArgumentError` naming it."""
    if isinstance(value, bool) or not isinstance(value, Real | np.integer | np.floating):
        raise ArgumentError(f"{name} must be a number; got {value!r}.")
    number = float(value)
    rule = ""
    if not math.isfinite(number):
        rule = "a positive number" if positive else "a finite number"
    elif positive and not number > 0:
        rule = "a positive number"
    elif minimum is not None and number < minimum:
        rule = f"{minimum:g} or more"
    elif below is not None and not number < below:
        rule = f"below {below:g}"
    elif integer and number != int(number):
        rule = "a whole number"
    if rule:
        raise ArgumentError(f"{name} must be {rule}; got {value!r}.")
    return number


def group_keys(client: str, rater: str | None) -> list[str]:
    """The columns that identify one trajectory: the client, and the rater when given."""
    return [client] if rater is None else [client, rater]


def _numeric(data: pd.DataFrame, col: str, role: str, *, allow_nan: bool) -> pd.Series:
    values = data[col]
    if not (pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)):
        raise DataError(
            f"The {role} column {col!r} must be numeric; got dtype {values.dtype}. "
            "Convert it first, e.g. with pandas.to_numeric."
        )
    out = values.astype(np.float64)
    if not allow_nan and out.isna().any():
        raise DataError(
            f"The {role} column {col!r} must not be missing; "
            f"{int(out.isna().sum())} row(s) have no value."
        )
    if np.isinf(out.to_numpy()).any():
        raise DataError(f"The {role} column {col!r} must be finite; it holds an infinite value.")
    return out


def check_identifiers(frame: pd.DataFrame, named: dict[str, str | None]) -> None:
    """Identifier columns must be complete and hold one kind of value (orderable)."""
    for role, col in named.items():
        if col is None:
            continue
        if frame[col].isna().any():
            raise DataError(f"The {role} column {col!r} must not be missing.")
        if pd.api.types.infer_dtype(frame[col], skipna=True) in ("mixed", "mixed-integer"):
            kinds = sorted({type(v).__name__ for v in frame[col]})
            raise DataError(
                f"The {role} column {col!r} mixes kinds of values ({', '.join(kinds)}), as a "
                "spreadsheet can give (101 next to '103b'); they cannot be ordered. Convert "
                f"it to one kind first, e.g. data[{col!r}] = data[{col!r}].astype(str)."
            )


def prepare(
    data: object,
    *,
    client: str,
    session: str,
    rater: str | None,
    score: str,
    extra: Sequence[str] = (),
    dropna: bool = True,
    reset_index: bool = True,
    outputs: Iterable[str] = (),
    what: str = "this function",
) -> pd.DataFrame:
    """A sorted copy with the identifier columns, a numeric ``session`` and a float ``score``.

    Rows whose identifiers are missing raise :class:`DataError`, and so do two rows of
    the same client (and rater) and session (:func:`refuse_duplicates`) and identifier
    columns named like one of ``outputs``; rows whose score is missing are dropped when
    ``dropna`` (a missed session is simply not observed). The result is sorted by client
    (and rater) and session, with a fresh ``RangeIndex``, or, with
    ``reset_index=False``, indexed by each row's 0-based position in ``data``.
    """
    frame = require_columns(
        data,
        {"client": client, "session": session, "rater": rater, "score": score},
        required=("client", "session", "score"),
    )
    for col in extra:
        require_columns(frame, {"extra": col})
    keys = group_keys(client, rater)
    refuse_clash([*keys, session], outputs, what)
    check_identifiers(frame, {"client": client, "rater": rater})
    columns = list(dict.fromkeys([*keys, session, score, *extra]))
    out = frame.loc[:, columns].copy()
    out.index = pd.RangeIndex(len(out))
    _numeric(frame, session, "session", allow_nan=False)  # checked, kept as given
    refuse_duplicates(out, [*keys, session])
    out[score] = _numeric(frame, score, "score", allow_nan=True).to_numpy()
    if dropna:
        out = out.loc[out[score].notna()]
    out = out.sort_values([*keys, session], kind="mergesort")
    return out.reset_index(drop=True) if reset_index else out
