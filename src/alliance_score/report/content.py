"""The clinician report as data: clients in order of need, each alert with its rule.

:func:`build_report` decides *what* the report says; :mod:`.render` only lays it out.
Alerts come from the session functions (:func:`~alliance_score.sessions.cutoff_events`,
:func:`~alliance_score.sessions.reliable_change`,
:func:`~alliance_score.sessions.detect_ruptures`), so the report and a researcher's
analysis cannot disagree.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Hashable, Sequence

import pandas as pd

from .._version import __version__
from ..errors import DataError
from ..instrument import Cutoff, Instrument
from ..plot._common import CutoffLine, cutoff_line, instrument_or_none, require_columns
from ..sessions import RUPTURE_METHODS, cutoff_events, detect_ruptures, reliable_change
from ._table import check_range, long_table, provisional_column, provisional_name, records
from .model import ALERT_KINDS, Alert, ClientSection, Provenance, ReportContent, SessionRow

__all__ = ["DROP_SHARE", "build_report", "default_drop"]

DROP_SHARE = 0.025
"""Default drop alert: 2.5% of the scale's range (1 point on the SRS total, 0-40); a
library convention, not a published rule."""


def default_drop(instrument: Instrument | None, scale: str) -> float:
    """The default drop alert: :data:`DROP_SHARE` of the scale's range, else 1 point."""
    if instrument is None or scale not in instrument.scale_ids:
        return 1.0
    lo, hi = instrument.scale(scale).score_range(instrument.response)
    return round((hi - lo) * DROP_SHARE, 6)


def _points(value: float) -> str:
    return f"{_fmt(value)} point" + ("" if value == 1 else "s")


def _fmt(value: float) -> str:
    return f"{value:.6g}" if abs(value) >= 1 else f"{value:.3g}"


def build_report(
    scores: pd.DataFrame,
    *,
    client: Hashable = "client",
    session: Hashable = "session",
    scale: str = "total",
    instrument: Instrument | str | None = None,
    problems: pd.DataFrame | None = None,
    clients: Sequence[object] | None = None,
    cutoff: bool | float | Cutoff = True,
    allow_provisional: bool = False,
    drop: float | None = None,
    sd: float | None = None,
    reliability: float | None = None,
    criterion: float = 1.96,
    rupture_method: str = "stiles2004",
    generated: dt.date | None = None,
    title: str = "Alliance report",
) -> ReportContent:
    """Decide what the clinician report says: clients in order of need, with alerts.

    Parameters
    ----------
    scores
        Long table of session scores (one row per client x session), as
        :func:`~alliance_score.score_frame` returns with the identifier columns kept, or
        as ``alliance-score score --keep client session`` writes it.
    client, session, scale
        Column names: client id, session number, and the score the alerts look at.
    instrument
        The instrument that scored the table (id, path or model): its cut-off, range,
        scale name and provenance; taken from ``scores.attrs`` when the table comes
        straight from ``score_frame``. Without it there is no cut-off unless ``cutoff``
        is a number.
    problems
        The problems table of the same scoring run (``score_frame(...,
        return_problems=True).problems``, or the file ``alliance-score score --problems``
        writes): each session's table then names its problems by code and item. Rows
        are matched by position (``row``), as both tables keep the input's order.
    clients
        Only these clients (ids compared as text), in the order of need.
    cutoff
        ``True``: the instrument's cut-off on ``scale`` (a provisional cut-off only with
        ``allow_provisional``); a number: your own threshold (scores below it alert);
        ``False``: no cut-off alert.
    allow_provisional
        Use a provisional cut-off (it is then named provisional in each alert and in the
        footer).
    drop
        Alert when the last scored session is at least this many points below the scored
        session before it (default: :func:`default_drop`, 1 point on the SRS).
    sd, reliability, criterion
        The scale's SD and reliability in your population, for Jacobson & Truax's
        reliable change from the first to the last scored session (see
        :func:`~alliance_score.sessions.reliable_change`); taken from the instrument's
        norms when it has one, otherwise this alert is not evaluated (and the report
        says so).
    rupture_method
        The rupture criterion of :func:`~alliance_score.sessions.detect_ruptures`; an
        episode not yet repaired is an alert.
    generated
        The date printed in the footer (today).
    title
        The report's title.

    Returns
    -------
    ReportContent
        Render it with :func:`~alliance_score.report.render_html`.

    Notes
    -----
    The four alerts, most urgent first:

    1. **below the cut-off**: the last scored session meets the cut-off's condition
       (on the SRS, a total below 36);
    2. **reliable deterioration**: the reliable change index from the first to the last
       scored session is below ``-criterion``;
    3. **open rupture episode**: a rupture-repair episode without repair yet;
    4. **drop**: the last scored session is ``drop`` points or more below the scored
       session before it.

    Clients are ordered by the number of alerts, then by the most urgent kind, then by
    the lower last score. Sessions that could not be scored are listed with their status
    and never count as a score of zero.

    Examples
    --------
    >>> import pandas as pd
    >>> from alliance_score.report import build_report
    >>> scores = pd.DataFrame({"client": ["a", "a", "b", "b"], "session": [1, 2, 1, 2],
    ...                        "total": [38.0, 35.0, 37.0, 38.0]})
    >>> content = build_report(scores, instrument="srs", allow_provisional=True)
    >>> [(c.client, [a.kind for a in c.alerts]) for c in content.clients]
    [('a', ['below_cutoff', 'drop']), ('b', [])]
    >>> print(content.clients[0].alerts[0].rule)
    total 35 at session 2 (the last scored) is < 36: cut-off total_below_36 (provisional)
    """
    require_columns(scores, {"client": client, "session": session, "scale": scale})
    ins = instrument_or_none(instrument, scores)
    if rupture_method not in RUPTURE_METHODS:
        raise DataError(
            f"rupture_method must be one of {sorted(RUPTURE_METHODS)}; got {rupture_method!r}"
        )
    if drop is not None and not (math.isfinite(drop) and drop > 0):
        raise DataError(f"drop must be a positive number of points; got {drop!r}")
    if not (math.isfinite(criterion) and criterion > 0):
        raise DataError(f"criterion must be a positive number; got {criterion!r}")
    data = long_table(scores, client, session, scale, problems)
    if clients is not None:
        wanted = [str(c) for c in clients]
        unknown = sorted(set(wanted) - set(data["client"]))
        if unknown:
            raise DataError(
                f"{len(unknown)} of the clients asked for are not in the data (column {client!r})."
            )
        data = data.loc[data["client"].isin(wanted)]
    if data.empty:
        raise DataError("The scores table has no rows to report on.")
    check_range(data, ins, scale)
    _refuse_duplicates(data)

    provisional: list[str] = []
    notes: list[str] = []
    rules: list[str] = []
    not_evaluated: list[str] = []
    scale_obj = ins.scale(scale) if ins is not None and scale in ins.scale_ids else None
    if scale_obj is not None and scale_obj.status == "provisional":
        provisional.append(f"scale {scale} ({scale_obj.name})")
    for name in provisional_column(scores):
        provisional.append(provisional_name(ins, name))

    line = cutoff_line(cutoff, ins, scale)
    if line is not None and line.provisional and not allow_provisional:
        not_evaluated.append(
            f"Below the cut-off: the cut-off {line.flag} ({line.comparison} {line.value:g}) "
            "is provisional; use it with allow_provisional=True (--allow-provisional)."
        )
        line = None
    if line is None and not_evaluated == [] and cutoff is not False:
        not_evaluated.append(
            "Below the cut-off: no cut-off for this scale; give your own threshold "
            "(cutoff=, --cutoff)."
        )
    if line is not None:
        rules.append(
            f"Below the cut-off: {scale} {line.comparison} {line.value:g} at the last scored "
            "session" + (" (provisional cut-off)" if line.provisional else "")
        )
        if line.provisional:
            provisional.append(f"cut-off {line.flag} ({line.comparison} {line.value:g})")
    provisional = list(dict.fromkeys(provisional))
    drop_points = default_drop(ins, scale) if drop is None else float(drop)
    rules.append(
        f"Drop: the last scored session {_points(drop_points)} or more below the "
        "scored session before it"
    )

    rated = data.loc[data["score"].notna()]
    alerts: dict[str, list[Alert]] = {c: [] for c in pd.unique(data["client"])}
    spans: dict[str, list[tuple[float, float | None]]] = {c: [] for c in alerts}
    last = rated.groupby("client", sort=False).tail(1).set_index("client")["session"]
    if line is not None:
        _cutoff_alerts(alerts, rated, last, line, scale)
    terms = _change_terms(ins, scale, sd, reliability)
    if terms is None:
        not_evaluated.append(
            "Reliable deterioration: needs the scale's SD and reliability in your "
            "population (sd= and reliability=, --sd and --reliability); no norm of the "
            "instrument gives them."
        )
    else:
        rules.append(
            f"Reliable deterioration: reliable change index from the first to the last "
            f"scored session below -{criterion:g} (SD {terms[0]:g}, reliability {terms[1]:g})"
        )
        better = scale_obj.higher_is_better if scale_obj is not None else True
        _change_alerts(alerts, rated, terms, criterion, better, scale)
    rules.append(
        f"Open rupture episode: a rupture-repair episode ({rupture_method}: "
        f"{RUPTURE_METHODS[rupture_method]['threshold']:g} SD below the client's mean) "
        "not yet repaired"
    )
    _rupture_alerts(alerts, spans, rated, rupture_method, scale)
    _drop_alerts(alerts, rated, last, drop_points, scale)
    sections = [_section(c, data.loc[data["client"] == c], alerts[c], spans[c]) for c in alerts]
    sections.sort(key=lambda s: (s.need, s.client))
    provenance = Provenance(
        instrument=ins.ref if ins is not None else "not given",
        instrument_name=ins.name if ins is not None else "",
        definition_version=ins.version if ins is not None else "",
        definition_hash=ins.content_hash if ins is not None else "",
        definition_origin=ins.origin if ins is not None else "",
        library_version=__version__,
        generated=generated or dt.date.today(),
        provisional=tuple(provisional),
    )
    if ins is None:
        notes.append("No instrument was given: no definition is recorded for these scores.")
    return ReportContent(
        title=title,
        scale=scale,
        scale_name=scale_obj.name if scale_obj is not None else scale,
        scale_range=scale_obj.score_range(ins.response) if scale_obj and ins else None,
        cutoff=line,
        clients=tuple(sections),
        rules=tuple(rules),
        not_evaluated=tuple(not_evaluated),
        provenance=provenance,
        notes=tuple(notes),
    )


def _refuse_duplicates(data: pd.DataFrame) -> None:
    """A session entered twice (or rated by several raters) has no single score: refused,
    as by every function of :mod:`alliance_score.sessions`."""
    dup = data.duplicated(["client", "session"], keep=False)
    if dup.any():
        rows = sorted(int(r) for r in data.loc[dup, "row"])
        shown = ", ".join(str(r) for r in rows[:6]) + (", ..." if len(rows) > 6 else "")
        raise DataError(
            f"{len(rows)} rows of the scores share their client and session with another "
            f"row (rows {shown}, 0-based): a session entered twice, or rated by several "
            "raters, has no single score. Remove or merge the duplicates, or report one "
            "rater at a time; the sessions command lists them."
        )


def _cutoff_alerts(
    alerts: dict[str, list[Alert]],
    rated: pd.DataFrame,
    last: pd.Series,
    line: CutoffLine,
    scale: str,
) -> None:
    """Below the cut-off at the client's last scored session."""
    if rated.empty:
        return
    events = cutoff_events(
        rated,
        score="score",
        cutoff=line.value,
        comparison=line.comparison,  # type: ignore[arg-type]
    )
    tag = " (provisional)" if line.provisional else ""
    for ev in records(events):
        session = float(ev["session"])
        if session != float(last[ev["client"]]):
            continue
        alerts[str(ev["client"])].append(
            Alert(
                "below_cutoff",
                session,
                f"{scale} {_fmt(float(ev['value']))} at session {_fmt(session)} "
                f"(the last scored) is {line.comparison} {line.value:g}: "
                f"cut-off {line.flag}{tag}",
                provisional=line.provisional,
            )
        )


def _change_alerts(
    alerts: dict[str, list[Alert]],
    rated: pd.DataFrame,
    terms: tuple[float, float],
    criterion: float,
    higher_is_better: bool,
    scale: str,
) -> None:
    """Reliable deterioration from the first to the last scored session."""
    if rated.empty:
        return
    change = reliable_change(
        rated,
        score="score",
        sd=terms[0],
        reliability=terms[1],
        criterion=criterion,
        higher_is_better=higher_is_better,
    )
    for row in records(change.loc[change["change"].eq("deteriorated").fillna(False)]):
        alerts[str(row["client"])].append(
            Alert(
                "reliable_deterioration",
                float(row["post_session"]),
                f"{scale} fell from {_fmt(float(row['pre']))} (session "
                f"{_fmt(float(row['pre_session']))}) to {_fmt(float(row['post']))} (session "
                f"{_fmt(float(row['post_session']))}): RCI {float(row['rci']):.2f} < "
                f"-{criterion:g}",
            )
        )


def _rupture_alerts(
    alerts: dict[str, list[Alert]],
    spans: dict[str, list[tuple[float, float | None]]],
    rated: pd.DataFrame,
    method: str,
    scale: str,
) -> None:
    """Every rupture episode is shaded in the chart; an episode not yet repaired alerts."""
    if rated.empty:
        return
    episodes = detect_ruptures(rated, score="score", method=method)  # type: ignore[arg-type]
    for ep in records(episodes):
        repaired = bool(ep["repaired"])
        client = str(ep["client"])
        start = float(ep["rupture_session"])
        spans[client].append((start, float(ep["repair_session"]) if repaired else None))
        if not repaired:
            alerts[client].append(
                Alert(
                    "open_rupture",
                    start,
                    f"{scale} fell to {_fmt(float(ep['trough']))} at session {_fmt(start)}, "
                    f"{float(ep['depth_sd']):.1f} SD below the client's mean "
                    f"{_fmt(float(ep['reference']))}, and has not come back to "
                    f"{_fmt(float(ep['pre_level']))} (session {_fmt(float(ep['pre_session']))})",
                )
            )


def _drop_alerts(
    alerts: dict[str, list[Alert]],
    rated: pd.DataFrame,
    last: pd.Series,
    drop: float,
    scale: str,
) -> None:
    """A drop of ``drop`` points or more at the last scored session from the one before."""
    if rated.empty:
        return
    for ev in records(cutoff_events(rated, score="score", drop=drop)):
        session = float(ev["session"])
        if session != float(last[ev["client"]]):
            continue
        fall = float(ev["reference"]) - float(ev["value"])
        alerts[str(ev["client"])].append(
            Alert(
                "drop",
                session,
                f"{scale} {_fmt(float(ev['value']))} at session {_fmt(session)} is "
                f"{_points(fall)} below {_fmt(float(ev['reference']))} at the scored session "
                f"before it (rule: {_points(drop)} or more)",
            )
        )


def _change_terms(
    ins: Instrument | None, scale: str, sd: float | None, reliability: float | None
) -> tuple[float, float] | None:
    if sd is not None and reliability is not None:
        if not (math.isfinite(sd) and sd > 0):
            raise DataError(f"sd must be a positive number; got {sd!r}")
        if not (math.isfinite(reliability) and 0 <= reliability < 1):
            raise DataError(f"reliability must be in [0, 1); got {reliability!r}")
        return float(sd), float(reliability)
    if ins is None:
        return None
    for norm in ins.norms:
        if norm.scale == scale and norm.sd is not None and norm.retest_r is not None:
            return float(sd if sd is not None else norm.sd), float(
                reliability if reliability is not None else norm.retest_r
            )
    return None


def _section(
    client: str,
    rows: pd.DataFrame,
    alerts: list[Alert],
    spans: list[tuple[float, float | None]],
) -> ClientSection:
    fired: dict[float, list[str]] = {}
    for alert in alerts:
        if alert.session is not None:
            fired.setdefault(alert.session, []).append(alert.title)
    sessions = tuple(
        SessionRow(
            session=float(r["session"]),
            score=None if math.isnan(r["score"]) else float(r["score"]),
            status=str(r["status"]),
            prorated=bool(r["prorated"]),
            n_problems=None if math.isnan(r["n_problems"]) else int(r["n_problems"]),
            alerts=tuple(fired.get(float(r["session"]), ())),
            problems=tuple(r["problems"]),
        )
        for r in records(rows)
    )
    order = {k: i for i, k in enumerate(ALERT_KINDS)}
    return ClientSection(
        client=client,
        alerts=tuple(sorted(alerts, key=lambda a: order[a.kind])),
        sessions=sessions,
        ruptures=tuple(spans),
    )
