"""Reliability, item analysis and keying checks on the user's own data.

Every function takes the raw DataFrame and the instrument, maps and parses the item
columns as :func:`~alliance_score.score_frame` does, applies the declared reverse keys
(``min + max - x``) and works on the item covariance matrix, accumulated in one pass.
Statistics are checked against R's psych package (``tests/reference/psych_reliability.R``);
see ``docs/psychometrics.md`` for the formulas and references.

>>> from alliance_score.psychometrics import reliability, item_analysis, check_keying
"""

from ._moments import MissingPolicy
from .items import (
    FREQUENCY_COLUMNS,
    ITEM_COLUMNS,
    item_analysis,
    item_frequencies,
    item_matrix,
)
from .keying import KEYING_COLUMNS, CheckStatus, check_keying
from .reliability import RELIABILITY_COLUMNS, reliability
from .report import PsychometricReport, psychometric_report

__all__ = [
    "FREQUENCY_COLUMNS",
    "ITEM_COLUMNS",
    "KEYING_COLUMNS",
    "RELIABILITY_COLUMNS",
    "CheckStatus",
    "MissingPolicy",
    "PsychometricReport",
    "check_keying",
    "item_analysis",
    "item_frequencies",
    "item_matrix",
    "psychometric_report",
    "reliability",
]
