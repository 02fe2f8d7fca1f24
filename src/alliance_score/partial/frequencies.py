"""Item response frequencies from partial counts."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Literal, Self

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, model_validator

from ..instrument import Instrument
from ..psychometrics._data import prepare
from ..psychometrics.items import FREQUENCY_COLUMNS
from ._base import Partial

__all__ = ["ItemCounts", "PartialFrequencies"]


class ItemCounts(BaseModel):
    """How often each answer of one item occurred, and how many cells were invalid."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    item: str
    values: tuple[float, ...]
    """Distinct answers, ascending (as given, before reverse keying)."""
    counts: tuple[int, ...]
    n_invalid: int

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if len(self.values) != len(self.counts):
            raise ValueError("values and counts must have the same length")
        if list(self.values) != sorted(set(self.values)):
            raise ValueError("values must be distinct and ascending")
        if any(c < 0 for c in self.counts) or self.n_invalid < 0:
            raise ValueError("counts must not be negative")
        return self

    @property
    def n_answered(self) -> int:
        return sum(self.counts)


class PartialFrequencies(Partial):
    """Sufficient statistics for :func:`alliance_score.psychometrics.item_frequencies`.

    Counts per answer value, invalid cells and rows; :meth:`merge` adds them and
    :meth:`finish` gives the frequency table of all rows together.

    Examples
    --------
    >>> import pandas as pd
    >>> from alliance_score.partial import PartialFrequencies
    >>> df = pd.DataFrame({"relationship": ["9", "9", "", "12"], "goals": ["8"] * 4,
    ...                    "approach": ["7"] * 4, "overall": ["9"] * 4})
    >>> a = PartialFrequencies.from_frame(df.iloc[:2], "srs")
    >>> b = PartialFrequencies.from_frame(df.iloc[2:], "srs")
    >>> a.merge(b).finish().query("item == 'relationship'")
               item     kind  value  n  proportion
    0  relationship   answer    9.0  2        1.00
    1  relationship  missing    NaN  1        0.25
    2  relationship  invalid    NaN  1        0.25
    """

    kind: Literal["alliance-score/partial-frequencies"] = "alliance-score/partial-frequencies"
    format_version: Literal[1] = 1
    instrument: str
    definition_hash: str
    missing_codes: tuple[float | str, ...] = ()
    labels: bool = False
    n_rows: int
    items: tuple[ItemCounts, ...]

    @classmethod
    def from_frame(
        cls,
        data: pd.DataFrame,
        instrument: Instrument | str,
        *,
        scales: Sequence[str] | None = None,
        items: Mapping[str, Hashable] | str | None = None,
        missing_codes: Sequence[float | str] = (),
        labels: bool = False,
        allow_provisional: bool = False,
    ) -> PartialFrequencies:
        """The counts of ``data`` (arguments as for ``item_frequencies``)."""
        prep = prepare(
            data,
            instrument,
            scales=scales,
            items=items,
            missing_codes=missing_codes,
            labels=labels,
            allow_provisional=allow_provisional,
        )
        position = {item: j for j, item in enumerate(prep.instrument.item_ids)}
        counted = []
        for item in prep.used_items:
            column = prep.raw[:, position[item]]
            values, counts = np.unique(column[~np.isnan(column)], return_counts=True)
            counted.append(
                ItemCounts(
                    item=item,
                    values=tuple(values.tolist()),
                    counts=tuple(counts.tolist()),
                    n_invalid=int(prep.invalid[:, position[item]].sum()),
                )
            )
        return cls(
            instrument=prep.instrument.ref,
            definition_hash=prep.instrument.content_hash,
            missing_codes=tuple(missing_codes),
            labels=labels,
            n_rows=int(prep.raw.shape[0]),
            items=tuple(counted),
        )

    def merge(self, other: PartialFrequencies) -> PartialFrequencies:
        """The counts of the rows of ``self`` and ``other`` together."""
        self._check_same(other, ("instrument", "definition_hash", "missing_codes", "labels"))
        if [i.item for i in self.items] != [i.item for i in other.items]:
            from ._base import PartialMismatchError

            raise PartialMismatchError(
                "Cannot merge PartialFrequencies objects with different items: "
                f"{[i.item for i in self.items]} and {[i.item for i in other.items]}."
            )
        merged = []
        for a, b in zip(self.items, other.items, strict=True):
            total: dict[float, int] = dict(zip(a.values, a.counts, strict=True))
            for value, count in zip(b.values, b.counts, strict=True):
                total[value] = total.get(value, 0) + count
            values = sorted(total)
            merged.append(
                ItemCounts(
                    item=a.item,
                    values=tuple(values),
                    counts=tuple(total[v] for v in values),
                    n_invalid=a.n_invalid + b.n_invalid,
                )
            )
        return self.model_copy(
            update={"n_rows": self.n_rows + other.n_rows, "items": tuple(merged)}
        )

    def finish(self) -> pd.DataFrame:
        """The table :func:`~alliance_score.psychometrics.item_frequencies` gives."""
        rows: list[tuple[str, str, float, int, float]] = []
        for counts in self.items:
            answered = counts.n_answered
            for value, count in zip(counts.values, counts.counts, strict=True):
                rows.append((counts.item, "answer", value, count, count / answered))
            n_missing = self.n_rows - answered - counts.n_invalid
            share = 1.0 / self.n_rows if self.n_rows else float("nan")
            rows.append((counts.item, "missing", float("nan"), n_missing, n_missing * share))
            rows.append(
                (counts.item, "invalid", float("nan"), counts.n_invalid, counts.n_invalid * share)
            )
        return pd.DataFrame.from_records(rows, columns=list(FREQUENCY_COLUMNS))
