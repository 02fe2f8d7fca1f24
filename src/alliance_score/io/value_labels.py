"""Value labels of SPSS and Stata files, checked against the instrument's anchors.

An SPSS or Stata export stores each answer as a code with a label (``5 = "Always"``).
The codes are what is scored, so they must be the instrument's values. When a label
names one of the instrument's anchors, its code can be checked: a file that stores
``"Always"`` as 4 (a 0-4 coding), or with the codes in reverse order, would be scored
wrongly without any value falling out of range. Such a file is never scored silently:
:func:`label_conflicts` lists every disagreement, and the caller either scores by
label (:func:`relabel`, then ``labels=True``) or recodes the file.

Examples
--------
>>> from alliance_score import load_instrument
>>> wai = load_instrument("wai-sr")
>>> shifted = {"q1": {0: "Seldom", 1: "Sometimes", 4: "Always"}}
>>> for conflict in label_conflicts(shifted, {"1": "q1"}, wai):
...     print(conflict.describe())
column 'q1': code 0 is labelled 'Seldom', which wai-sr@1.0 scores 1
column 'q1': code 1 is labelled 'Sometimes', which wai-sr@1.0 scores 2
column 'q1': code 4 is labelled 'Always', which wai-sr@1.0 scores 5
>>> import pandas as pd
>>> relabel(pd.DataFrame({"q1": [0.0, 4.0, None, 9.0]}), shifted)["q1"].tolist()
['Seldom', 'Always', nan, 9.0]
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ..instrument import Instrument

__all__ = ["LabelConflict", "anchor_labels", "label_conflicts", "relabel"]


@dataclass(frozen=True)
class LabelConflict:
    """A stored code whose value label is an anchor the instrument scores differently."""

    column: str
    code: float
    label: str
    anchor_value: float
    instrument: str

    def describe(self) -> str:
        """One line naming the column, the code, its label and the anchor's value."""
        return (
            f"column {self.column!r}: code {_number(self.code)} is labelled {self.label!r}, "
            f"which {self.instrument} scores {_number(self.anchor_value)}"
        )


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _code(value: Any) -> float | None:
    """A value label's code as a float, or None when it is not a number."""
    if isinstance(value, bool):
        return None
    try:
        code = float(value)
    except (TypeError, ValueError):
        return None
    return code if math.isfinite(code) else None


def _folded(label: object) -> str:
    return str(label).strip().casefold()


def _anchor_values(instrument: Instrument) -> dict[str, float]:
    """Anchor value by label, compared ignoring case and surrounding spaces."""
    return {_folded(a.label): a.value for a in instrument.response.anchors}


def anchor_labels(
    value_labels: Mapping[str, Mapping[Any, str]], instrument: Instrument
) -> dict[str, dict[Any, str]]:
    """Per column, only the value labels that name one of the instrument's anchors.

    A code labelled ``"Refused"`` or in another language names no anchor and is left
    out, so that relabelling keeps its code (to be declared missing, or checked as a
    number); a column left with no label is left out.

    >>> from alliance_score import load_instrument
    >>> anchor_labels({"q1": {1: "Seldom", -99: "Refused"}, "q2": {9: "Nunca"}},
    ...               load_instrument("wai-sr"))
    {'q1': {1: 'Seldom'}}
    """
    anchors = _anchor_values(instrument)
    named = {
        column: {code: text for code, text in labels.items() if _folded(text) in anchors}
        for column, labels in value_labels.items()
    }
    return {column: labels for column, labels in named.items() if labels}


def label_conflicts(
    value_labels: Mapping[str, Mapping[Any, str]],
    columns: Mapping[str, Hashable],
    instrument: Instrument,
) -> list[LabelConflict]:
    """Every coded answer whose label is an anchor with a different value.

    ``value_labels`` maps a column to its labels (code to text), as
    :attr:`~alliance_score.io.TableSource.value_labels` holds them; ``columns`` maps item
    ids to columns (the mapping used for scoring). Labels are compared with the anchors
    ignoring case and surrounding spaces; a label that names no anchor (``"Refused"``)
    cannot be checked and is not a conflict.
    """
    anchors = _anchor_values(instrument)
    conflicts = []
    for column in dict.fromkeys(str(c) for c in columns.values()):
        for raw, label in value_labels.get(column, {}).items():
            code = _code(raw)
            value = anchors.get(_folded(label))
            if code is not None and value is not None and code != value:
                conflicts.append(
                    LabelConflict(column, code, str(label), float(value), instrument.ref)
                )
    return conflicts


def relabel(frame: pd.DataFrame, value_labels: Mapping[str, Mapping[Any, str]]) -> pd.DataFrame:
    """A copy of ``frame`` whose coded cells are replaced by their value labels.

    Only the columns in ``value_labels`` change; a code without a label, and a missing
    cell, stay as they are, so scoring with ``labels=True`` reads labels as anchors and
    still reports an unlabelled code that is out of range. A numeric code matches the
    cell's number (``"1"`` and ``1.0`` alike), a text code (``"A"``, in an SPSS string
    variable) the cell's text without surrounding spaces. ``frame`` is not changed.
    """
    out = frame.copy()
    for column, labels in value_labels.items():
        if column not in out.columns:
            continue
        by_code = {
            code: str(text) for raw, text in labels.items() if (code := _code(raw)) is not None
        }
        by_text = {
            raw.strip(): str(text)
            for raw, text in labels.items()
            if isinstance(raw, str) and raw.strip() and _code(raw) is None
        }
        col = out[column]
        if pd.api.types.is_numeric_dtype(col.dtype) and not pd.api.types.is_bool_dtype(col.dtype):
            mapped = col.astype("float64").map(by_code)
            values = col.astype(object).where(mapped.isna(), mapped).to_numpy(dtype=object)
        else:
            values = col.to_numpy(dtype=object, copy=True)
            for i, cell in enumerate(values):
                code = _code(cell)
                if code is not None and code in by_code:
                    values[i] = by_code[code]
                elif code is None and isinstance(cell, str) and cell.strip() in by_text:
                    values[i] = by_text[cell.strip()]
        out[column] = pd.Series(values, index=out.index, dtype=object)
    return out
