"""Column checks shared by the session functions (not public).

Every public function takes the same keyword names for the columns of the long table:
``client``, ``session``, ``rater``, ``therapist`` and ``score``. This module checks that
the named columns exist and hold usable values, and returns a narrowed, sorted copy so
that no function ever touches the caller's DataFrame.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..errors import DataError
from ..mapping import missing_columns_message

__all__ = ["group_keys", "prepare", "require_columns"]


def require_columns(data: object, named: dict[str, str | None]) -> pd.DataFrame:
    """Check that ``data`` is a DataFrame holding every named column (``None`` = unused)."""
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data must be a pandas DataFrame; got {type(data).__name__}")
    for role, col in named.items():
        if col is not None and col not in data.columns:
            raise DataError(
                f"The {role} column {col!r} (given as {role}=) is not in the data."
                + missing_columns_message([col], data.columns)
            )
    return data


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
) -> pd.DataFrame:
    """A sorted copy with the identifier columns, a numeric ``session`` and a float ``score``.

    Rows whose identifiers are missing raise :class:`DataError`; rows whose score is
    missing are dropped when ``dropna`` (a missed session is simply not observed). The
    result is sorted by client (and rater), session and score (rows of a session entered
    twice come in the same order however the data is ordered), with a fresh
    ``RangeIndex``, or,
    with ``reset_index=False``, indexed by each row's 0-based position in ``data``.
    """
    frame = require_columns(data, {"client": client, "session": session, "rater": rater})
    require_columns(frame, {"score": score})
    for col in extra:
        require_columns(frame, {"extra": col})
    keys = group_keys(client, rater)
    for role, col in zip(("client", "rater"), keys, strict=False):
        if frame[col].isna().any():
            raise DataError(f"The {role} column {col!r} must not be missing.")
        if pd.api.types.infer_dtype(frame[col], skipna=True) in ("mixed", "mixed-integer"):
            kinds = sorted({type(v).__name__ for v in frame[col]})
            raise DataError(
                f"The {role} column {col!r} mixes kinds of values ({', '.join(kinds)}), as a "
                "spreadsheet can give (101 next to '103b'); they cannot be ordered. Convert "
                f"it to one kind first, e.g. data[{col!r}] = data[{col!r}].astype(str)."
            )
    columns = list(dict.fromkeys([*keys, session, score, *extra]))
    out = frame.loc[:, columns].copy()
    out.index = pd.RangeIndex(len(out))
    _numeric(frame, session, "session", allow_nan=False)  # checked, kept as given
    out[score] = _numeric(frame, score, "score", allow_nan=True).to_numpy()
    if dropna:
        out = out.loc[out[score].notna()]
    # the score breaks ties, so that a session entered twice does not make results
    # depend on the order of the rows
    out = out.sort_values(list(dict.fromkeys([*keys, session, score])), kind="mergesort")
    return out.reset_index(drop=True) if reset_index else out
