"""Stable matplotlib settings and baseline-image comparison for the plot tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import matplotlib as mpl

mpl.use("Agg")

from matplotlib.figure import Figure
from matplotlib.testing import (
    set_font_settings_for_testing,
    set_reproducibility_for_testing,
)
from matplotlib.testing.compare import compare_images

BASELINES = Path(__file__).parent / "baseline"
UPDATE = os.environ.get("ALLIANCE_SCORE_UPDATE_BASELINES") == "1"
"""Set to 1 to rewrite the baseline images (then look at them before committing)."""
TOLERANCE = 2.0
"""RMS difference allowed between a figure and its baseline (0-255 grey levels)."""


@contextmanager
def stable_style() -> Iterator[None]:
    """matplotlib's defaults with the test font settings (DejaVu Sans, no hinting), 100 dpi."""
    with mpl.rc_context():
        mpl.rcdefaults()
        set_font_settings_for_testing()
        set_reproducibility_for_testing()
        mpl.rcParams.update({"figure.dpi": 100, "savefig.dpi": 100})
        yield


def matches_baseline(fig: Figure, name: str, tmp_path: Path) -> str | None:
    """``None`` when ``fig`` matches ``baseline/<name>.png``; else the difference report."""
    expected = BASELINES / f"{name}.png"
    actual = tmp_path / f"{name}.png"
    fig.savefig(actual, dpi=100)
    if UPDATE:
        BASELINES.mkdir(exist_ok=True)
        expected.write_bytes(actual.read_bytes())
    if not expected.exists():
        return f"no baseline {expected}; run with ALLIANCE_SCORE_UPDATE_BASELINES=1"
    result = compare_images(str(expected), str(actual), tol=TOLERANCE)
    return None if result is None else str(result)
