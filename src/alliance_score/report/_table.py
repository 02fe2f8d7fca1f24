"""Reading the scores (and problems) table the report is built from (not public)."""

from __future__ import annotations

import math
from collections.abc import Hashable
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError
from ..instrument import Instrument
from ..plot._common import numeric_column, require_columns, status_text

__all__ = [
    "check_range",
    "long_table",
    "provisional_column",
    "provisional_name",
    "records",
]


def check_range(data: pd.DataFrame, ins: Instrument | None, scale: str) -> None:
    """Scores outside the scale's range mean another instrument scored them (or another
    scoring of it): its cut-off and range would be wrong, so the report is refused."""
    if ins is None or scale not in ins.scale_ids:
        return
    lo, hi = ins.scale(scale).score_range(ins.response)
    outside = data["score"].notna() & ~data["score"].between(lo, hi)
    if outside.any():
        raise DataError(
            f"{int(outside.sum())} score(s) in column {scale!r} lie outside the range of "
            f"{ins.ref} {scale} ({lo:g} to {hi:g}); were they scored with another "
            "instrument? Give the instrument that scored them (instrument=, -i)."
        )


def records(frame: pd.DataFrame) -> list[dict[Hashable, Any]]:
    return frame.to_dict(orient="records")


def long_table(
    scores: pd.DataFrame,
    client: Hashable,
    session: Hashable,
    scale: str,
    problems: pd.DataFrame | None,
) -> pd.DataFrame:
    """The columns the report reads, with fixed names: client (text), session, score, ..."""
    ids = scores[client]
    if ids.isna().any() or ids.astype("string").str.strip().eq("").any():
        raise DataError(f"The client column {client!r} must not be blank.")
    out = pd.DataFrame(
        {
            "client": ids.astype(str).to_numpy(),
            "session": numeric_column(scores, session, "session").to_numpy(),
            "score": numeric_column(scores, scale, "scale").to_numpy(),
        }
    )
    if out["session"].isna().any():
        raise DataError(f"The session column {session!r} must not be blank.")
    status = scores["status"] if "status" in scores.columns else None
    out["status"] = (
        [status_text(v) for v in status]
        if status is not None
        else np.where(out["score"].isna(), "not scored", "scored")
    )
    prorated_col = f"{scale}_prorated"
    if prorated_col in scores.columns:
        text = scores[prorated_col].astype("string").str.strip().str.lower()
        out["prorated"] = text.isin(["true", "1"]).to_numpy()
    else:
        out["prorated"] = False
    if "n_problems" in scores.columns:
        out["n_problems"] = numeric_column(scores, "n_problems", "n_problems").to_numpy()
    else:
        out["n_problems"] = np.nan
    out["problems"] = _problems_by_row(problems, len(scores))
    out["row"] = np.arange(len(scores))
    return out.sort_values(["client", "session"], kind="mergesort").reset_index(drop=True)


def _problems_by_row(problems: pd.DataFrame | None, n_rows: int) -> list[tuple[str, ...]]:
    """Per row of the scores, its problems as ``code (item)``: codes and item ids only."""
    found: list[list[str]] = [[] for _ in range(n_rows)]
    if problems is None:
        return [()] * n_rows
    require_columns(problems, {"row": "row", "code": "code"})
    rows = numeric_column(problems, "row", "row")
    items = problems["item"] if "item" in problems.columns else pd.Series("", index=problems.index)
    for row, code, item in zip(rows, problems["code"], items, strict=True):
        if math.isnan(row) or not 0 <= row < n_rows or row != int(row):
            continue  # a problem of no row (a file-level one) or of another table
        text = str(code) + (f" (item {item})" if isinstance(item, str) and item.strip() else "")
        found[int(row)].append(text)
    return [tuple(dict.fromkeys(p)) for p in found]


def provisional_column(scores: pd.DataFrame) -> list[str]:
    """Provisional elements named in the table's ``provisional`` column (from scoring)."""
    if "provisional" not in scores.columns:
        return []
    names: dict[str, None] = {}
    for cell in scores["provisional"].dropna().astype(str):
        for name in cell.split(";"):
            if name.strip():
                names[name.strip()] = None
    return list(names)


def provisional_name(ins: Instrument | None, name: str) -> str:
    """A provisional scale or cut-off flag named as the footer names it."""
    if ins is not None:
        for c in ins.cutoffs:
            if c.flag == name:
                return f"cut-off {c.flag} ({c.comparison} {c.value:g})"
        if name in ins.scale_ids:
            return f"scale {name} ({ins.scale(name).name})"
    return name
