"""The clinician report: one offline HTML page of a caseload's alliance, clients by need.

Install with ``pip install 'alliance-score[report]'`` (Jinja2 and matplotlib).
:func:`build_report` decides the content (clients in order of need, each alert with the
rule that fired) as plain data; :func:`render_html` lays it out as one self-contained
HTML file (inline SVG charts, print styles for A4, no scripts, a Content-Security-Policy
that forbids every request); :func:`write_report` does both and writes the file. The
command line is ``alliance-score report``.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import UnreadableFileError
from .content import DROP_SHARE, build_report, default_drop
from .model import ALERT_KINDS, Alert, ClientSection, Provenance, ReportContent, SessionRow
from .render import CSP, render_html

__all__ = [
    "ALERT_KINDS",
    "CSP",
    "DROP_SHARE",
    "Alert",
    "ClientSection",
    "Provenance",
    "ReportContent",
    "SessionRow",
    "build_report",
    "default_drop",
    "render_html",
    "write_report",
]


def write_report(
    scores: pd.DataFrame, path: str | os.PathLike[str], **options: Any
) -> ReportContent:
    """Build the report (options of :func:`build_report`), render it and write ``path``.

    The file is written to a temporary file beside it and renamed into place, so a
    failure never leaves half a report. Returns the content, for checks in code.
    """
    content = build_report(scores, **options)
    page = render_html(content)
    target = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=".report-", suffix=".html", dir=target.parent or ".")
    except OSError as exc:
        raise UnreadableFileError(
            f"Cannot write the report to {str(target)!r}: {exc.strerror}."
        ) from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(page)
        os.replace(tmp, target)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise UnreadableFileError(
            f"Cannot write the report to {str(target)!r}: {exc.strerror}."
        ) from exc
    return content
