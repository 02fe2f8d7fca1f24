"""Compact HTML views for notebooks (``_repr_html_``), built with the standard library only.

Each model keeps a one-line ``_repr_html_`` that calls the function here, so Jupyter shows
an instrument, a score result, a frame result or a psychometric report as a small table.
Every text is escaped with :func:`html.escape` (definitions and data may come from files
the user did not write); no script, no style sheet, no external resource.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from html import escape
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from .frame import FrameResult
    from .instrument import Instrument
    from .psychometrics import PsychometricReport
    from .response import ScoreResult

__all__ = ["frame_result_html", "instrument_html", "psychometric_report_html", "score_result_html"]

MAX_ROWS = 12
"""Rows shown per table; longer tables say how many were left out."""


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _num(value: object) -> str:
    if value is None:
        return "\u2013"
    if isinstance(value, float):
        return "\u2013" if math.isnan(value) else f"{value:.4g}"
    return _e(value)


def _table(
    header: Sequence[str], rows: Iterable[Sequence[object]], total: int | None = None
) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = []
    shown = 0
    for row in rows:
        if shown == MAX_ROWS:
            break
        body.append("<tr>" + "".join(f"<td>{_num(c)}</td>" for c in row) + "</tr>")
        shown += 1
    more = ""
    if total is not None and total > shown:
        more = f'<tr><td colspan="{len(header)}">\u2026 {total - shown} more</td></tr>'
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}{more}</tbody></table>"


def _box(title: str, *parts: str) -> str:
    return f'<div class="alliance-score"><p><strong>{title}</strong></p>{"".join(parts)}</div>'


def _line(label: str, value: str) -> str:
    return f"<p>{_e(label)}: {value}</p>"


def _frame_rows(frame: pd.DataFrame) -> list[list[Any]]:
    return [list(r) for r in frame.itertuples(index=False, name=None)]


def instrument_html(ins: Instrument) -> str:
    """An instrument: scales with status, response scale, cut-offs, licence, provenance."""
    resp = ins.response
    anchors = ", ".join(f"{a.value:g} {_e(a.label)}" for a in resp.anchors)
    scales = _table(
        ["scale", "name", "items", "method", "range", "status"],
        (
            [
                s.id,
                s.name,
                len(s.items),
                s.method,
                "{:g}\u2013{:g}".format(*s.score_range(resp)),
                s.status,
            ]
            for s in ins.scales
        ),
        len(ins.scales),
    )
    parts = [
        _line(
            "response scale",
            f"{_e(resp.kind)} {resp.min:g}\u2013{resp.max:g}"
            + (f" ({anchors})" if anchors else ""),
        ),
        scales,
    ]
    if ins.cutoffs:
        parts.append(
            _table(
                ["cut-off", "rule", "meaning", "status"],
                (
                    [c.flag, f"{c.scale} {c.comparison} {c.value:g}", c.meaning, c.status]
                    for c in ins.cutoffs
                ),
                len(ins.cutoffs),
            )
        )
    licence = ins.licence.status + (f", {ins.licence.holder}" if ins.licence.holder else "")
    parts += [
        _line("licence", _e(licence)),
        _line("definition", f"{_e(ins.origin)}, <code>{_e(ins.content_hash)}</code>"),
    ]
    title = (
        f"{_e(ins.short_name)} ({_e(ins.ref)}): {_e(ins.name)}, {len(ins.items)} items, "
        f"{_e(ins.rater)}"
    )
    return _box(title, *parts)


def score_result_html(result: ScoreResult) -> str:
    """One administration's scores, flags, problems and provenance."""
    scores = _table(
        ["scale", "score", "answered", "prorated"],
        (
            [s, v, result.n_answered.get(s), result.prorated.get(s)]
            for s, v in result.scores.items()
        ),
        len(result.scores),
    )
    parts = [scores]
    if result.flags:
        parts.append(
            _line("flags", ", ".join(f"{_e(k)}={_num(v)}" for k, v in result.flags.items()))
        )
    if result.provisional:
        parts.append(_line("provisional", _e(", ".join(result.provisional))))
    if result.problems:
        parts.append(
            _table(
                ["code", "item", "message"],
                ([p.code.value, p.item, p.message] for p in result.problems),
                len(result.problems),
            )
        )
    parts.append(
        _line(
            "definition",
            f"{_e(result.definition_origin)}, "
            f"<code>{_e(result.definition_hash)}</code>, library "
            f"{_e(result.library_version)}",
        )
    )
    title = f"{_e(result.instrument_id)}@{_e(result.instrument_version)}: {_e(result.status.value)}"
    return _box(title, *parts)


def frame_result_html(result: FrameResult) -> str:
    """A scored table: rows per status, problems per code, the column mapping."""
    summary = result.summary()
    status = _table(["status", "rows"], summary["status"].items())
    problems = (
        _table(["problem", "count"], summary["problems"].items(), len(summary["problems"]))
        if summary["problems"]
        else "<p>no problems</p>"
    )
    mapping = _table(["item", "column"], summary["mapping"].items(), len(summary["mapping"]))
    parts = [status, problems, mapping]
    if result.provisional:
        parts.append(_line("provisional", _e(", ".join(result.provisional))))
    ins = result.instrument
    parts.append(_line("definition", f"{_e(ins.origin)}, <code>{_e(ins.content_hash)}</code>"))
    return _box(f"{_e(ins.ref)}: {summary['rows']} rows", *parts)


def psychometric_report_html(report: PsychometricReport) -> str:
    """Reliability per scale and the keying checks that failed."""
    rel = report.reliability
    columns = [
        c
        for c in (
            "scale",
            "n_items",
            "n_rows",
            "alpha",
            "alpha_ci_lower",
            "alpha_ci_upper",
            "omega_total",
            "lambda6",
        )
        if c in rel.columns
    ]
    parts = [_table(columns, _frame_rows(rel.loc[:, columns]), len(rel))]
    failed = report.keying.loc[report.keying["status"] == "fail"]
    counts = report.keying["status"].value_counts()
    parts.append(
        _line(
            "keying checks",
            f"{int(counts.get('fail', 0))} failed, "
            f"{int(counts.get('pass', 0))} passed, "
            f"{int(counts.get('skipped', 0))} skipped",
        )
    )
    if len(failed):
        parts.append(
            _table(
                ["check", "message"], _frame_rows(failed.loc[:, ["check", "message"]]), len(failed)
            )
        )
    if report.provisional:
        parts.append(_line("provisional", _e(", ".join(report.provisional))))
    ins = report.instrument
    return _box(f"{_e(ins.ref)}: {report.n_rows} rows, missing data {_e(report.missing)}", *parts)
