"""Alliance across sessions: trajectories, early alliance, change, ruptures and agreement.

Every function takes the long table of session scores that
:func:`alliance_score.score_frame` returns when the identifier columns are kept (one row
per client x session x rater), names its columns with the same keywords (``client=``,
``session=``, ``rater=``, ``therapist=``, ``score=``), never modifies it, and returns a
new DataFrame with fixed, documented column names. See ``docs/sessions.md``.
"""

from __future__ import annotations

from .agreement import (
    AGREEMENT_COLUMNS,
    ICC_COLUMNS,
    intraclass_correlations,
    pair_ratings,
    rater_agreement,
    response_surface_terms,
    two_way_icc,
)
from .change import RCI_COLUMNS, clinical_cutoffs, reliable_change
from .events import EVENT_COLUMNS, cutoff_events
from .longformat import LONG_PROBLEM_COLUMNS, LongProblemCode, to_long, to_wide, validate_long
from .nested import NESTED_COLUMNS, nested_icc, one_way_icc
from .ruptures import EPISODE_COLUMNS, RUPTURE_METHODS, detect_ruptures
from .summaries import SUMMARY_COLUMNS, decompose, early_alliance, summarize_clients

__all__ = [
    "AGREEMENT_COLUMNS",
    "EPISODE_COLUMNS",
    "EVENT_COLUMNS",
    "ICC_COLUMNS",
    "LONG_PROBLEM_COLUMNS",
    "NESTED_COLUMNS",
    "RCI_COLUMNS",
    "RUPTURE_METHODS",
    "SUMMARY_COLUMNS",
    "LongProblemCode",
    "clinical_cutoffs",
    "cutoff_events",
    "decompose",
    "detect_ruptures",
    "early_alliance",
    "intraclass_correlations",
    "nested_icc",
    "one_way_icc",
    "pair_ratings",
    "rater_agreement",
    "reliable_change",
    "response_surface_terms",
    "summarize_clients",
    "to_long",
    "to_wide",
    "two_way_icc",
    "validate_long",
]
