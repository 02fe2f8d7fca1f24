"""Readers (files to DataFrames of raw cells) and writers (scores to files).

Readers never score: they return the cells as found, so that parsing and its problem
reports happen in one place (:mod:`alliance_score.parsing`).
"""

from __future__ import annotations

__all__: list[str] = []
