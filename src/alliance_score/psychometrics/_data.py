"""From a raw DataFrame to the keyed item matrix the statistics work on.

Columns are matched and cells parsed exactly as :func:`alliance_score.score_frame` does
(:func:`~alliance_score.mapping.resolve_columns`, :class:`~alliance_score.parsing.CellRules`,
:func:`~alliance_score.parsing.parse_column`); invalid cells count as missing here, and
the numbers they held are kept separately so that the range check can see a scale stored
0-4 instead of 1-5.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from ..errors import ArgumentError, ColumnMappingError
from ..instrument import Instrument, Scale
from ..mapping import ColumnMap, resolve_columns
from ..parsing import CellRules, parse_column
from ..registry import resolve_instrument
from ..scoring import select_scales
from ._keys import keys_instrument

__all__ = ["Prepared", "prepare"]


@dataclass(frozen=True, eq=False)
class Prepared:
    """Parsed answers of one instrument, ready for the statistics."""

    instrument: Instrument
    scales: tuple[Scale, ...]
    mapping: ColumnMap
    raw: NDArray[np.float64]
    """``rows x items`` answers as given (not reverse-keyed); NaN = missing or invalid."""
    keyed: NDArray[np.float64]
    """``raw`` with reverse-keyed items recoded ``min + max - x``."""
    invalid: NDArray[np.bool_]
    """``rows x items``: the cell held something that is not a valid answer."""
    numbers: NDArray[np.float64]
    """``rows x items``: every number found in a cell, in range or not (NaN otherwise)."""

    def columns(self, scale: Scale) -> NDArray[np.intp]:
        """Positions of a scale's items in the item matrix."""
        position = {item: j for j, item in enumerate(self.instrument.item_ids)}
        return np.array([position[i] for i in scale.items], dtype=np.intp)

    @property
    def used_items(self) -> tuple[str, ...]:
        """Items of the chosen scales, in instrument order."""
        wanted = {i for s in self.scales for i in s.items}
        return tuple(i for i in self.instrument.item_ids if i in wanted)


def prepare(
    data: pd.DataFrame,
    instrument: Instrument | str | None,
    *,
    scales: Sequence[str] | None = None,
    items: Mapping[str, Hashable] | str | None = None,
    missing_codes: Sequence[float | str] = (),
    labels: bool = False,
    allow_provisional: bool = False,
    keys: Mapping[str, Sequence[str]] | None = None,
    lo: float | None = None,
    hi: float | None = None,
    numbers: bool = True,
) -> Prepared:
    """Map, parse and key ``data`` for ``instrument``, or for psych-style ``keys`` with
    the response range ``lo``..``hi`` (see :func:`item_matrix`).

    ``numbers=False`` leaves out :attr:`Prepared.numbers` (a second parse of every
    column, for the range check only): it is then all NaN."""
    if not isinstance(data, pd.DataFrame):
        raise ArgumentError(f"data must be a pandas DataFrame; got {type(data).__name__}.")
    if keys is not None:
        if instrument is not None or items is not None:
            raise ArgumentError(
                "keys= names the scales and their columns: give it instead of an "
                "instrument and items=, not with them."
            )
        instrument, items = keys_instrument(data, keys, lo, hi)
        allow_provisional = True
    elif instrument is None:
        raise ArgumentError(
            "Give an instrument (an id such as 'wai-sr', a definition or a path), or "
            "psych-style keys= with min= and max=."
        )
    elif lo is not None or hi is not None:
        raise ArgumentError(
            "min= and max= go with keys=; an instrument's definition has its own range."
        )
    for name, flag in (("labels", labels), ("allow_provisional", allow_provisional)):
        if not isinstance(flag, bool | np.bool_):
            raise ArgumentError(f"{name} must be True or False; got {flag!r}.")
    if isinstance(missing_codes, str) or not isinstance(missing_codes, Sequence):
        raise ArgumentError(f"missing_codes must be a list of codes; got {missing_codes!r}.")
    ins = resolve_instrument(instrument)
    check_scales(ins, scales)
    chosen, _ = select_scales(ins, scales, allow_provisional=allow_provisional)
    mapping = resolve_columns(data.columns, ins, items)
    rules = CellRules.build(ins, missing_codes=missing_codes, labels=labels)
    unbounded = dataclasses.replace(rules, lo=-np.inf, hi=np.inf, step=None)
    n, p = len(data), len(ins.items)
    raw = np.empty((n, p))
    found = np.empty((n, p)) if numbers else np.broadcast_to(np.float64(np.nan), (n, p))
    invalid = np.empty((n, p), dtype=bool)
    for j, item in enumerate(ins.item_ids):
        column = _column(data, mapping[item])
        raw[:, j], codes = parse_column(column, rules)
        invalid[:, j] = codes != 0
        if numbers:
            found[:, j], _ = parse_column(column, unbounded)
    reverse = np.array([i.reverse for i in ins.items], dtype=bool)
    keyed = raw.copy()
    keyed[:, reverse] = (ins.response.min + ins.response.max) - keyed[:, reverse]
    return Prepared(ins, chosen, mapping, raw, keyed, invalid, found)


def check_options(*, missing: object = "pairwise", ci: object = None) -> None:
    """The missing-data policy and the confidence level, checked before any work."""
    if not isinstance(missing, str) or missing not in ("pairwise", "listwise"):
        raise ArgumentError(f"missing must be 'pairwise' or 'listwise'; got {missing!r}.")
    if ci is not None and (
        isinstance(ci, bool) or not isinstance(ci, int | float) or not 0 < ci < 1
    ):
        raise ArgumentError(
            f"ci (the confidence level) must be between 0 and 1 or None; got {ci!r}."
        )


def check_scales(ins: Instrument, scales: object) -> None:
    """Every requested scale id is one of the instrument's (``scales=None``: all)."""
    if scales is None:
        return
    wanted = [scales] if isinstance(scales, str) else scales
    if not isinstance(wanted, list | tuple) or not all(isinstance(s, str) for s in wanted):
        raise ArgumentError(f"scales must be a list of scale ids; got {scales!r}.")
    for scale in wanted:
        if scale not in ins.scale_ids:
            close = difflib.get_close_matches(scale, ins.scale_ids, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ArgumentError(
                f"{ins.ref} has no scale {scale!r} (scales=, --scale); its scales are "
                f"{', '.join(ins.scale_ids)}.{hint}"
            )


def _column(data: pd.DataFrame, label: Hashable) -> pd.Series:
    loc = data.columns.get_loc(label)
    if not isinstance(loc, int):
        raise ColumnMappingError(f"Column {label!r} appears more than once in the data.")
    return data.iloc[:, loc]
