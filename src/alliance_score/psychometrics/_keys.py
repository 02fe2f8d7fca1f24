"""Scales given as psych-style keys instead of a definition file (not public).

``keys={"agree": ["-A1", "A2", "A3"]}`` names the item columns of each scale, a leading
``-`` marking a reverse-keyed item, as R's ``psych::scoreItems`` and
``psych::make.keys`` take them. They become an ad hoc definition (a visual-analogue
response from ``min`` to ``max``, one provisional scale per key) so that parsing, keying
and every statistic are those of a shipped instrument.
"""

from __future__ import annotations

import math
import re
from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ArgumentError, DataError
from ..instrument import Instrument
from ..registry import load_instrument

__all__ = ["keys_instrument"]

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def keys_instrument(
    data: pd.DataFrame,
    keys: object,
    lo: object,
    hi: object,
) -> tuple[Instrument, dict[str, Hashable]]:
    """An ad hoc definition for ``keys`` and the mapping of its items to the columns.

    ``lo`` and ``hi`` (the ``min=`` and ``max=`` arguments) are the response range used
    for reverse keying (``min + max - x``) and for the range check; when omitted they are
    the smallest and largest number in the keyed columns, as ``psych::alpha`` takes them.
    """
    scales = _scales(keys)
    reverse: dict[str, bool] = {}
    for scale, entries in scales.items():
        for item, reversed_ in entries:
            if reverse.setdefault(item, reversed_) != reversed_:
                raise ArgumentError(
                    f"Item {item!r} is reverse-keyed in one scale of keys= and not in another "
                    f"(scale {scale!r}); give it one direction."
                )
    columns = {str(c): c for c in data.columns}
    absent = [item for item in reverse if item not in columns]
    if absent:
        raise DataError(
            f"The keys name columns that are not in the data: {absent}; columns are "
            f"{list(columns)}."
        )
    low, high = _range(data, [columns[i] for i in reverse], lo, hi)
    template = load_instrument("srs").model_dump()
    item = template["items"][0]
    scale = template["scales"][0]
    definition: dict[str, Any] = {
        **template,
        "id": "keys",
        "version": "1",
        "name": "Scales given as keys",
        "short_name": "keys",
        "description": "Ad hoc definition built from psych-style keys.",
        "response": {**template["response"], "min": low, "max": high, "step": None, "unit": None},
        "items": [
            {**item, "id": name, "label": name, "wording": None, "reverse": rev}
            for name, rev in reverse.items()
        ],
        "scales": [
            {
                **scale,
                "id": name,
                "name": name,
                "items": [i for i, _ in entries],
                "method": "mean",
                "min_answered": 1,
                "min_answered_note": None,
                "status": "provisional",
                "weights": {},
                "description": None,
            }
            for name, entries in scales.items()
        ],
        "cutoffs": [],
        "norms": [],
    }
    try:
        instrument = Instrument.model_validate(definition)
    except ValueError as exc:  # a scale named like an output column, say
        raise ArgumentError(f"keys= cannot be used as scales: {exc}") from exc
    return instrument, {name: columns[name] for name in reverse}


def _scales(keys: object) -> dict[str, list[tuple[str, bool]]]:
    if not isinstance(keys, Mapping) or not keys:
        raise ArgumentError(
            "keys must map scale names to lists of item columns, e.g. "
            "keys={'agree': ['-A1', 'A2', 'A3']}; got " + repr(keys)[:80] + "."
        )
    scales: dict[str, list[tuple[str, bool]]] = {}
    for name, items in keys.items():
        if not isinstance(name, str) or not _ID.match(name) or name in ("status", "provisional"):
            raise ArgumentError(
                f"Scale names in keys= are letters, digits, '_', '.' or '-'; got {name!r}."
            )
        if isinstance(items, str) or not isinstance(items, Sequence) or not items:
            raise ArgumentError(
                f"keys[{name!r}] must be a list of item columns (a leading '-' reverses one); "
                f"got {items!r}."
            )
        entries: list[tuple[str, bool]] = []
        for entry in items:
            if not isinstance(entry, str) or not entry.strip("-"):
                raise ArgumentError(f"keys[{name!r}] holds {entry!r}, not a column name.")
            reversed_ = entry.startswith("-")
            column = entry[1:] if reversed_ else entry
            if not _ID.match(column):
                raise ArgumentError(
                    f"keys[{name!r}] names the column {column!r}; key columns must be named "
                    "with letters, digits, '_', '.' or '-' (rename it first)."
                )
            entries.append((column, reversed_))
        if len({c for c, _ in entries}) != len(entries):
            raise ArgumentError(f"keys[{name!r}] names an item twice.")
        scales[name] = entries
    return scales


def _range(
    data: pd.DataFrame, columns: list[Hashable], lo: object, hi: object
) -> tuple[float, float]:
    given: list[float | None] = []
    for name, value in (("min", lo), ("max", hi)):
        if value is None:
            given.append(None)
            continue
        if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
            raise ArgumentError(f"{name} must be a number; got {value!r}.")
        if not math.isfinite(float(value)):
            raise ArgumentError(f"{name} must be finite; got {value!r}.")
        given.append(float(value))
    low, high = given
    if low is None or high is None:
        numbers = pd.concat(
            [pd.to_numeric(data[c].astype("string"), errors="coerce") for c in columns]
        ).astype(np.float64)
        numbers = numbers[np.isfinite(numbers)]
        if numbers.empty:
            raise DataError("The key columns hold no numbers; min and max cannot be taken.")
        low = float(numbers.min()) if low is None else low
        high = float(numbers.max()) if high is None else high
    if not low < high:
        raise ArgumentError(f"min must be below max; got min={low:g}, max={high:g}.")
    return low, high
