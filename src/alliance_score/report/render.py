"""Lay the report out as one self-contained HTML file (Jinja2, autoescaped; inline SVG).

The page needs nothing from any server and runs no script: its Content-Security-Policy
forbids scripts, connections, frames, forms and every fetch except the inline styles and
``data:`` images it carries. Every text from the data is escaped by the template engine;
charts are matplotlib SVG drawn from the report's own numbers, each with a text
alternative.
"""

from __future__ import annotations

import importlib
import io
import re
from typing import Any, cast

import pandas as pd

from ..errors import AllianceScoreError, MissingDependencyError
from .model import ClientSection, ReportContent

__all__ = ["CSP", "render_html"]

CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"
"""The page's Content-Security-Policy: no scripts, no requests, inline styles only."""

_STYLE: dict[str, Any] = {
    "font.family": "DejaVu Sans",
    "font.size": 9.0,
    "svg.fonttype": "none",
    "svg.hashsalt": "alliance-score",
    "figure.dpi": 100.0,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
_ID = re.compile(r'(\bid="|url\(#|href="#)([^")]+)')


def _jinja() -> Any:
    try:
        return importlib.import_module("jinja2")
    except ImportError as exc:
        raise MissingDependencyError("The clinician report", "jinja2", "report") from exc


def render_html(content: ReportContent) -> str:
    """The report as one HTML document (text), ready to write to a ``.html`` file.

    Examples
    --------
    >>> import datetime as dt, pandas as pd
    >>> from alliance_score.report import build_report, render_html
    >>> scores = pd.DataFrame({"client": ["<b>a</b>"] * 2, "session": [1, 2],
    ...                        "total": [38.0, 35.0]})
    >>> page = render_html(build_report(scores, instrument="srs", generated=dt.date(2025, 1, 6)))
    >>> "&lt;b&gt;a&lt;/b&gt;" in page and "<b>a</b>" not in page and "<script" not in page
    True
    """
    jinja2 = _jinja()
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("alliance_score.report", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["num"] = _number
    template = env.get_template("report.html.j2")
    markup = importlib.import_module("markupsafe").Markup
    charts = {
        k: markup(_chart_svg(content, section, k)) for k, section in enumerate(content.clients)
    }
    return str(template.render(report=content, charts=charts, csp=CSP, alt=_alt_text))


def _number(value: float | None) -> str:
    if value is None:
        return "\u2013"
    return f"{value:.6g}"


def _alt_text(content: ReportContent, section: ClientSection) -> str:
    """The chart in words: every session's score or status, and the cut-off."""
    parts = [
        f"session {_number(s.session)}: "
        + (
            _number(s.score) + (" (prorated)" if s.prorated else "")
            if s.score is not None
            else f"not scored ({s.status})"
        )
        for s in section.sessions
    ]
    text = f"{content.scale_name} by session. " + "; ".join(parts) + "."
    if content.cutoff is not None:
        text += f" Horizontal line: {content.cutoff.label}."
    if section.ruptures:
        text += f" Shaded: {len(section.ruptures)} rupture episode(s)."
    return text


def _chart_svg(content: ReportContent, section: ClientSection, number: int) -> str:
    """The client's trajectory as inline SVG, with ids made unique within the page."""
    import matplotlib as mpl

    from ..plot._common import new_figure
    from ..plot._trajectory import trajectory

    frame = pd.DataFrame(
        {
            "client": section.client,
            "session": [s.session for s in section.sessions],
            "score": [float("nan") if s.score is None else s.score for s in section.sessions],
            "score_prorated": [s.prorated for s in section.sessions],
            "status": [s.status for s in section.sessions],
        }
    )
    episodes = pd.DataFrame(
        {
            "rupture_session": [a for a, _ in section.ruptures],
            "repair_session": [float("nan") if b is None else b for _, b in section.ruptures],
        }
    )
    with mpl.rc_context(cast(Any, _STYLE)):
        fig = new_figure(figsize=(6.4, 2.6))
        fig.subplots_adjust(left=0.09, right=0.985, top=0.96, bottom=0.18)  # fixed: fast
        ax = fig.subplots()
        trajectory(
            frame,
            scale="score",
            cutoff=False,
            ruptures=episodes if len(episodes) else None,
            ax=ax,
        )
        ax.get_lines()[0].set_label(content.scale_name)
        if content.cutoff is not None:
            line = content.cutoff
            ax.axhline(
                line.value,
                color="#b03a2e",
                linestyle=":" if line.provisional else "--",
                linewidth=1.2,
                label=line.label,
                gid="cutoff",
            )
        if content.scale_range is not None:
            lo, hi = content.scale_range
            pad = (hi - lo) * 0.04
            ax.set_ylim(lo - pad, hi + pad)
        ax.set_ylabel(content.scale_name)
        ax.legend(loc="lower left", fontsize="small", frameon=False)
        buffer = io.StringIO()
        fig.savefig(buffer, format="svg", metadata={"Date": None})
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg") :]
    svg = _ID.sub(lambda m: f"{m.group(1)}c{number}-{m.group(2)}", svg)
    svg = svg.replace("<svg ", '<svg aria-hidden="true" focusable="false" ', 1)
    if "<script" in svg.lower():  # matplotlib never writes one; refuse rather than embed
        raise AllianceScoreError("A chart's SVG holds a script element; it is not embedded.")
    return svg
