"""Does the data's coding fit the definition's response scale? A check of a whole data set.

A single cell can be valid and the data set still be on another coding: WAI-SR answers
(1-5) scored as the WAI-S (1-7) are all in range, and so are 1-based answers on a 0-4
scale except the top one. Over enough rows, a response scale whose top categories are
never used, or a 0-based scale whose 0 is never used, says that the data look like
another coding. The finding is a note about the data set (in the run's summary, the
``--json`` report and ``check``), never a problem of a row: no single row is wrong.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import NDArray

from .instrument import Instrument

__all__ = ["CODING_MIN_ROWS", "AnswerRange", "coding_notes"]

CODING_MIN_ROWS: Final = 20
"""Rows with at least one valid answer needed before the coding is judged."""


@dataclass(frozen=True)
class AnswerRange:
    """The lowest and highest valid answer in a data set, and how many rows answered.

    Mergeable, so that a file scored in chunks is judged as a whole.

    >>> a = AnswerRange.of(np.array([[1.0, 3.0], [np.nan, 2.0]]))
    >>> a.merge(AnswerRange.of(np.array([[5.0, np.nan]])))
    AnswerRange(lo=1.0, hi=5.0, rows=3)
    """

    lo: float
    hi: float
    rows: int

    @classmethod
    def of(cls, matrix: NDArray[np.float64], rows: int | None = None) -> AnswerRange:
        """The range of a ``rows x items`` matrix of valid answers (NaN elsewhere).

        ``rows``, the number of rows with at least one answer, may be passed when the
        caller has counted them already (the kernel's ``items_answered``).
        """
        if rows is None:
            rows = int((~np.isnan(matrix)).any(axis=1).sum()) if matrix.ndim == 2 else 0
        if not rows:
            return cls(math.nan, math.nan, 0)
        lo = float(np.fmin.reduce(matrix, axis=None))
        hi = float(np.fmax.reduce(matrix, axis=None))
        return cls(lo, hi, rows)

    def merge(self, other: AnswerRange) -> AnswerRange:
        """The range of both data sets together."""
        if not other.rows:
            return self
        if not self.rows:
            return other
        return AnswerRange(min(self.lo, other.lo), max(self.hi, other.hi), self.rows + other.rows)

    def to_dict(self) -> dict[str, float | int | None]:
        """JSON-ready: ``{"min": ..., "max": ..., "rows": ...}`` (None when no answer)."""
        if not self.rows:
            return {"min": None, "max": None, "rows": 0}
        return {"min": self.lo, "max": self.hi, "rows": self.rows}


def coding_notes(instrument: Instrument, answers: AnswerRange) -> list[str]:
    """Notes when a Likert scale is wider than the answers use over enough rows.

    Two patterns are reported, each a sign of another coding rather than of a few shy
    respondents: the top two categories never used (nothing above 5 on a 1-7 scale),
    and the 0 of a 0-based scale never used (nothing below 1 on a 0-4 scale). Visual
    analogue scales are not judged. Nothing is said below :data:`CODING_MIN_ROWS` rows.

    >>> from alliance_score import load_instrument
    >>> wai_s = load_instrument("wai-s")
    >>> coding_notes(wai_s, AnswerRange(1.0, 5.0, 16))
    []
    >>> print(coding_notes(wai_s, AnswerRange(1.0, 5.0, 40))[0])  # doctest: +NORMALIZE_WHITESPACE
    Over 40 rows the answers use only 1 to 5 of wai-s@1.0's 1-7 scale: nothing above 5.
    The data look like another coding (a 1-5 scale?); check that this is the right
    instrument.
    """
    r = instrument.response
    if r.kind != "likert" or answers.rows < CODING_MIN_ROWS:
        return []
    step = r.effective_step or 1.0
    seen = f"Over {answers.rows} rows the answers use only {answers.lo:g} to {answers.hi:g} of "
    seen += f"{instrument.ref}'s {r.min:g}-{r.max:g} scale"
    advice = "check that this is the right instrument."
    notes: list[str] = []
    if answers.hi <= r.max - 2 * step:
        notes.append(
            f"{seen}: nothing above {answers.hi:g}. The data look like another coding "
            f"(a {r.min:g}-{answers.hi:g} scale?); {advice}"
        )
    if r.min == 0 and answers.lo >= r.min + step:
        notes.append(
            f"{seen}: nothing below {answers.lo:g}. The data look like another coding "
            f"(a {r.min + step:g}-{r.max + step:g} scale?); check the instrument and "
            "whether its answers were exported from 1."
        )
    return notes
