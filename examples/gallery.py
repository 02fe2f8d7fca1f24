"""The plot gallery: each function draws one figure from the example data.

The documentation site shows every figure with the code that drew it (the build runs
these functions, see ``docs/hooks/site.py``); running this file writes the pictures shown
in the README to ``docs/images/`` (``python examples/gallery.py``), including a screenshot
of the example clinician report taken with headless Chromium.
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import tempfile
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

import alliance_score as als
from alliance_score.plot import agreement, early_alliance, items, subscales, trajectory
from alliance_score.sessions import early_alliance as early_table
from alliance_score.sessions import pair_ratings

HERE = Path(__file__).resolve().parent


def _read(name: str) -> pd.DataFrame:
    return pd.read_csv(HERE / name, dtype=str, keep_default_na=False)


def srs_scores() -> pd.DataFrame:
    """The SRS caseload scored session by session (the provisional cut-off on request)."""
    scores = als.score_frame(
        _read("srs-sessions.csv"), "srs", keep=["client", "session"], allow_provisional=True
    )
    scores["session"] = pd.to_numeric(scores["session"])
    return scores


def wai_scores() -> pd.DataFrame:
    scores = als.score_frame(_read("wai-sr-clinic.csv"), "wai-sr", keep=["client", "session"])
    scores["session"] = pd.to_numeric(scores["session"])
    return scores


def trajectory_with_rupture() -> Figure:
    """One client's SRS total by session against the cut-off of 36 (provisional, so drawn
    dotted and named so); the fall at session 7 has not come back to the level before it,
    and the open rupture episode is shaded."""
    fig = Figure(figsize=(6.4, 3.2), layout="constrained")
    trajectory(srs_scores(), client_id="C03", ruptures=True, ax=fig.subplots())
    return fig


def trajectory_with_gaps() -> Figure:
    """A session that could not be scored (a value out of range) is a gap labelled with its
    status, never a zero; a prorated session (one item blank) is drawn hollow."""
    scores = srs_scores()
    fig = Figure(figsize=(9.0, 3.0), layout="constrained")
    left, right = fig.subplots(1, 2, sharey=True)
    trajectory(scores, client_id="<img src=x onerror=alert(1)>", ax=left)
    trajectory(scores, client_id="C05", ax=right)
    return fig


def subscales_group_mean() -> Figure:
    """WAI-SR task, bond and goal: the mean across clients per session with a 95% interval."""
    return subscales(wai_scores())


def client_therapist_agreement() -> Figure:
    """Client against therapist ratings of the same sessions: scatter with the identity line,
    and the Bland-Altman panel (bias and limits of agreement)."""
    long = pd.DataFrame(
        {
            "client": [c for c in "abcdefgh" for _ in (0, 1)],
            "session": 1,
            "rater": ["client", "therapist"] * 8,
            "total": [
                4.5,
                4.0,
                3.8,
                3.9,
                4.2,
                3.5,
                3.0,
                3.4,
                4.8,
                4.1,
                3.6,
                3.6,
                4.0,
                3.2,
                2.9,
                3.3,
            ],
        }
    )
    return agreement(pair_ratings(long))


def early_alliance_distribution() -> Figure:
    """The early alliance (mean of sessions 1-2) across the WAI-SR clients."""
    fig = Figure(figsize=(5.0, 3.2), layout="constrained")
    summary = early_table(wai_scores(), early="window", early_session=2)
    early_alliance(summary, ax=fig.subplots())
    return fig


def item_responses() -> Figure:
    """WAI-SR item responses as diverging stacked bars: answers below the midpoint to the
    left, above it to the right."""
    fig = Figure(figsize=(7.0, 5.0), layout="constrained")
    items(als.psychometric_report(_read("wai-sr-clinic.csv"), "wai-sr"), ax=fig.subplots())
    return fig


GALLERY = (
    trajectory_with_rupture,
    trajectory_with_gaps,
    subscales_group_mean,
    client_therapist_agreement,
    early_alliance_distribution,
    item_responses,
)


def report_screenshot(target: Path) -> None:
    """A screenshot of the example clinician report (headless Chromium)."""
    from alliance_score.report import write_report

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise SystemExit("chromium is needed for the report screenshot")
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "report.html"
        result = als.score_frame(
            _read("srs-sessions.csv"),
            "srs",
            keep=["client", "session"],
            allow_provisional=True,
            return_problems=True,
        )
        write_report(
            result.scores,
            page,
            instrument="srs",
            problems=result.problems,
            allow_provisional=True,
            sd=4.0,
            reliability=0.64,
            generated=dt.date(2025, 1, 6),
        )
        subprocess.run(  # noqa: S603 - fixed arguments
            [
                chromium,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-sync",
                "--disable-component-update",
                f"--user-data-dir={tmp}/profile",
                "--window-size=860,1500",
                f"--screenshot={target}",
                page.as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )


if __name__ == "__main__":
    images = HERE.parent / "docs" / "images"
    images.mkdir(exist_ok=True)
    trajectory_with_rupture().savefig(images / "trajectory.png", dpi=100)
    report_screenshot(images / "report.png")
