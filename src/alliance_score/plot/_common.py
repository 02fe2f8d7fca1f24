"""Shared helpers of the plots: the lazy matplotlib import and column checks (not public)."""

from __future__ import annotations

import importlib
import math
from collections.abc import Hashable, Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..errors import AllianceScoreError, DataError, MissingDependencyError
from ..instrument import Cutoff, Instrument
from ..registry import load_instrument
from ..scoring import Status

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "CutoffLine",
    "axes_or_current",
    "cutoff_line",
    "instrument_or_none",
    "numeric_column",
    "one_client",
    "pyplot",
    "require_columns",
    "status_text",
]

SCORED = frozenset({Status.COMPLETE.value, Status.PRORATED.value, Status.PARTIAL.value})


def pyplot() -> ModuleType:
    """``matplotlib.pyplot``, or the install hint when matplotlib is missing."""
    try:
        return importlib.import_module("matplotlib.pyplot")
    except ImportError as exc:
        raise MissingDependencyError("Plots", "matplotlib", "plot") from exc


def new_figure(**kwargs: Any) -> Figure:
    """A figure that belongs to no GUI (drawn and saved, never shown)."""
    try:
        figure: Any = importlib.import_module("matplotlib.figure")
    except ImportError as exc:
        raise MissingDependencyError("Plots", "matplotlib", "plot") from exc
    fig: Figure = figure.Figure(**kwargs)
    return fig


def axes_or_current(ax: Axes | None) -> Axes:
    """The Axes given, or the current Axes of pyplot (as seaborn's axes-level functions)."""
    if ax is not None:
        return ax
    current: Axes = pyplot().gca()
    return current


def require_columns(data: object, named: dict[str, Hashable]) -> pd.DataFrame:
    """Check that ``data`` is a DataFrame with every named column."""
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data must be a pandas DataFrame; got {type(data).__name__}")
    for role, col in named.items():
        if col not in data.columns:
            raise DataError(
                f"The {role} column {col!r} (given as {role}=) is not in the data; "
                f"columns are {[str(c) for c in data.columns]}."
            )
    return data


def numeric_column(data: pd.DataFrame, col: Hashable, role: str) -> pd.Series:
    """A column as float64: numbers, blanks and missing values only (text is refused)."""
    values = data[col]
    if pd.api.types.is_bool_dtype(values):
        raise DataError(f"The {role} column {col!r} must hold numbers; it holds booleans.")
    if values.dtype == object or pd.api.types.is_string_dtype(values):
        # a blank cell (as a scores file writes a score that could not be computed)
        text = values.astype("string").str.strip()
        values = values.mask(text.eq("").fillna(False).to_numpy(dtype=bool))
    out = pd.to_numeric(values, errors="coerce").astype(np.float64)
    bad = out.isna() & values.notna()
    if bad.any():
        raise DataError(
            f"The {role} column {col!r} must hold numbers; {int(bad.sum())} row(s) hold text."
        )
    if np.isinf(out.to_numpy()).any():
        raise DataError(f"The {role} column {col!r} must be finite; it holds an infinite value.")
    return out


def one_client(
    data: pd.DataFrame, client: Hashable, client_id: Hashable | None
) -> tuple[pd.DataFrame, Hashable]:
    """The rows of one client: ``client_id``'s, or the only client's."""
    ids = pd.unique(data[client].dropna())
    if client_id is None:
        if len(ids) != 1:
            raise DataError(
                f"The data hold {len(ids)} clients in column {client!r}; "
                "pass client_id= to choose one."
            )
        client_id = ids[0]
    rows = data.loc[data[client] == client_id]
    if rows.empty:
        raise DataError(f"No rows for the chosen client in column {client!r}.")
    return rows, client_id


def instrument_or_none(
    instrument: Instrument | str | None, data: pd.DataFrame
) -> Instrument | None:
    """The instrument given, or the one recorded in ``score_frame``'s attrs, or none."""
    if instrument is not None:
        return load_instrument(instrument)
    meta = data.attrs.get("alliance_score")
    if not (isinstance(meta, dict) and isinstance(meta.get("instrument"), str)):
        return None
    try:
        found = load_instrument(meta["instrument"])
    except AllianceScoreError:  # a definition no longer on the search path
        return None
    # the definition that scored the data, not another one with the same id
    return found if found.content_hash == meta.get("definition_hash") else None


def status_text(value: object) -> str:
    """A row's status as drawn: a known status, or ``"not scored"``."""
    text = str(value)
    return text if text in {s.value for s in Status} else "not scored"


class CutoffLine:
    """A cut-off as drawn: its value, comparison, and whether it is provisional."""

    def __init__(self, value: float, comparison: str, provisional: bool, flag: str) -> None:
        self.value = value
        self.comparison = comparison
        self.provisional = provisional
        self.flag = flag

    @property
    def label(self) -> str:
        text = f"cut-off {self.comparison} {self.value:g}"
        return text + " (provisional)" if self.provisional else text

    def fires(self, score: float) -> bool:
        """Whether a score meets the cut-off's condition (e.g. is below 36)."""
        if math.isnan(score):
            return False
        ops = {
            "<": score < self.value,
            "<=": score <= self.value,
            ">": score > self.value,
            ">=": score >= self.value,
        }
        return ops[self.comparison]


def cutoff_line(
    cutoff: bool | float | Cutoff | None, instrument: Instrument | None, scale: str
) -> CutoffLine | None:
    """Resolve ``cutoff=``: ``True`` takes the instrument's cut-off on ``scale``."""
    if cutoff is None or cutoff is False:
        return None
    if isinstance(cutoff, Cutoff):
        return CutoffLine(
            cutoff.value, cutoff.comparison, cutoff.status == "provisional", cutoff.flag
        )
    if cutoff is True:
        if instrument is None:
            return None
        found: Sequence[Cutoff] = [c for c in instrument.cutoffs if c.scale == scale]
        return cutoff_line(found[0], instrument, scale) if found else None
    value = float(cutoff)
    if not math.isfinite(value):
        raise DataError(f"cutoff must be a finite number; got {cutoff!r}")
    return CutoffLine(value, "<", False, "cutoff")
