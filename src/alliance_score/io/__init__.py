"""Readers (files to DataFrames of raw cells) and writers (scores to files).

Readers never score: they return the cells as found, as text, so that parsing and its
problem reports happen in one place (:mod:`alliance_score.parsing`).
"""

from __future__ import annotations

import os

import pandas as pd

from ..errors import UnreadableFileError

__all__ = ["read_table"]


def read_table(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a delimited text file into a DataFrame of raw text cells (no scoring).

    Every cell is kept as text exactly as written (no missing-value guessing), so that
    the parser sees what the respondent's record holds.
    """
    name = os.fspath(path)
    sep = "\t" if name.lower().endswith((".tsv", ".tab")) else ","
    try:
        return pd.read_csv(name, sep=sep, dtype=str, keep_default_na=False)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise UnreadableFileError(f"Cannot read {name!r}: {exc}") from exc
