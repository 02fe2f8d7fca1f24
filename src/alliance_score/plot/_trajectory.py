"""Alliance by session: one client's trajectory, and small multiples per subscale."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from statistics import NormalDist
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..errors import DataError
from ..instrument import Cutoff, Instrument
from ._common import (
    axes_or_current,
    cutoff_line,
    instrument_or_none,
    new_figure,
    numeric_column,
    one_client,
    require_columns,
    status_text,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["subscales", "trajectory"]

LINE_COLOUR = "#1f4e79"
CUTOFF_COLOUR = "#b03a2e"
RUPTURE_COLOUR = "#f0b27a"


def _sorted_client(
    scores: pd.DataFrame, client: Hashable, session: Hashable, client_id: Hashable | None
) -> tuple[pd.DataFrame, Hashable]:
    rows, chosen = one_client(scores, client, client_id)
    rows = rows.assign(_session=numeric_column(rows, session, "session"))
    if rows["_session"].isna().any():
        raise DataError(f"The session column {session!r} must not be missing.")
    return rows.sort_values("_session", kind="mergesort"), chosen


def trajectory(
    scores: pd.DataFrame,
    *,
    client: Hashable = "client",
    session: Hashable = "session",
    scale: str = "total",
    client_id: Hashable | None = None,
    instrument: Instrument | str | None = None,
    cutoff: bool | float | Cutoff = True,
    ruptures: pd.DataFrame | bool | None = None,
    ax: Axes | None = None,
) -> Axes:
    """One client's scores by session, against the instrument's cut-off.

    Parameters
    ----------
    scores
        Long table of session scores, as :func:`~alliance_score.score_frame` returns with
        the identifier columns kept (one row per client x session).
    client, session, scale
        Column names: the client id, the session number and the score drawn.
    client_id
        The client to draw; may be left out when the data hold a single client.
    instrument
        The instrument that scored the data (id, path or model), for the scale's range,
        name and cut-off; taken from ``scores.attrs`` when the table comes straight from
        ``score_frame``.
    cutoff
        ``True``: the instrument's cut-off on ``scale``, if it has one (a provisional
        cut-off is drawn dotted and named provisional in the legend); a number: your own
        threshold (drawn as ``< value``); a :class:`~alliance_score.Cutoff`; ``False``:
        none.
    ruptures
        Rupture-repair episodes to shade: the table of
        :func:`~alliance_score.sessions.detect_ruptures`, or ``True`` to detect them with
        its defaults (Stiles et al.'s 2 SD criterion).
    ax
        The Axes to draw on (default: the current Axes).

    Returns
    -------
    matplotlib.axes.Axes
        Lines carry a ``gid``: ``"scores"`` (one point per session, NaN where the session
        could not be scored, so the line has a gap there), ``"prorated"`` (sessions scored
        from fewer items), ``"cutoff"``; each unscored session is labelled with its status
        (``gid`` ``"unscored"``); rupture episodes are shaded (``gid`` ``"rupture"``).

    Examples
    --------
    >>> import pandas as pd
    >>> from matplotlib.figure import Figure
    >>> from alliance_score.plot import trajectory
    >>> df = pd.DataFrame({"client": "a", "session": [1, 2, 3, 4],
    ...                    "total": [38.0, 35.0, None, 37.5],
    ...                    "status": ["complete", "complete", "invalid", "complete"]})
    >>> ax = trajectory(df, instrument="srs", ax=Figure().subplots())
    >>> ax.get_lines()[0].get_ydata().tolist()
    [38.0, 35.0, nan, 37.5]
    >>> [t.get_text() for t in ax.get_legend().get_texts()]
    ['Total', 'cut-off < 36 (provisional)']
    """
    require_columns(scores, {"client": client, "session": session, "scale": scale})
    ins = instrument_or_none(instrument, scores)
    rows, chosen = _sorted_client(scores, client, session, client_id)
    ax = axes_or_current(ax)
    x = rows["_session"].to_numpy(dtype=np.float64)
    y = numeric_column(rows, scale, "scale").to_numpy(dtype=np.float64)
    name = ins.scale(scale).name if ins is not None and scale in ins.scale_ids else scale
    label = str(name).lstrip("_") or "score"  # matplotlib hides labels starting with _
    ax.plot(x, y, marker="o", color=LINE_COLOUR, label=label, gid="scores", zorder=3)
    prorated_col = f"{scale}_prorated"
    if prorated_col in rows.columns:
        text = rows[prorated_col].astype("string").str.strip().str.lower()
        flag = text.isin(["true", "1"]).to_numpy(dtype=bool) & ~np.isnan(y)
        if flag.any():
            ax.plot(
                x[flag],
                y[flag],
                linestyle="none",
                marker="o",
                markerfacecolor="white",
                markeredgecolor=LINE_COLOUR,
                label="prorated (fewer items)",
                gid="prorated",
                zorder=4,
            )
    status = rows["status"] if "status" in rows.columns else pd.Series("", index=rows.index)
    for xs, st in zip(x[np.isnan(y)], status.to_numpy()[np.isnan(y)], strict=True):
        ax.axvline(xs, color="0.9", linewidth=8, zorder=0)
        ax.text(
            xs,
            0.03,
            status_text(st),
            transform=ax.get_xaxis_transform(),
            rotation=90,
            ha="center",
            va="bottom",
            fontsize="small",
            color="0.35",
            gid="unscored",
            parse_math=False,
        )
    line = cutoff_line(cutoff, ins, scale)
    if line is not None:
        ax.axhline(
            line.value,
            color=CUTOFF_COLOUR,
            linestyle=":" if line.provisional else "--",
            linewidth=1.2,
            label=line.label,
            gid="cutoff",
            zorder=2,
        )
    _shade_ruptures(ax, scores, rows, ruptures, client, session, scale, chosen, x)
    if ins is not None and scale in ins.scale_ids:
        lo, hi = ins.scale(scale).score_range(ins.response)
        pad = (hi - lo) * 0.04
        ax.set_ylim(lo - pad, hi + pad)
    _integer_sessions(ax)
    ax.set_xlabel("session")
    ax.set_ylabel(name)
    ax.legend(loc="lower left", fontsize="small", frameon=False)
    return ax


def _integer_sessions(ax: Axes) -> None:
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def _shade_ruptures(
    ax: Axes,
    scores: pd.DataFrame,
    rows: pd.DataFrame,
    ruptures: pd.DataFrame | bool | None,
    client: Hashable,
    session: Hashable,
    scale: str,
    chosen: Hashable,
    x: np.ndarray,
) -> None:
    if ruptures is None or ruptures is False:
        return
    if ruptures is True:
        from ..sessions import detect_ruptures

        data = rows.loc[:, [client, session, scale]].copy()
        data[session] = rows["_session"]
        data[scale] = numeric_column(rows, scale, "scale")
        episodes = detect_ruptures(data, client=str(client), session=str(session), score=scale)
    else:
        episodes = ruptures
        require_columns(episodes, {"rupture_session": "rupture_session"})
        if client in episodes.columns:
            episodes = episodes.loc[episodes[client] == chosen]
    last = float(np.nanmax(x)) if len(x) else 0.0
    starts = pd.to_numeric(episodes["rupture_session"]).astype(np.float64).to_numpy()
    if "repair_session" in episodes.columns:
        repairs = pd.to_numeric(episodes["repair_session"]).astype(np.float64).to_numpy()
    else:
        repairs = np.full(len(starts), np.nan)
    for k, (start, repair) in enumerate(zip(starts, repairs, strict=True)):
        end = last if np.isnan(repair) else float(repair)
        ax.axvspan(
            float(start) - 0.4,
            end + 0.4,
            color=RUPTURE_COLOUR,
            alpha=0.35,
            linewidth=0,
            zorder=1,
            gid="rupture",
            label=None if k else "rupture episode",
        )


def subscales(
    scores: pd.DataFrame,
    *,
    client: Hashable = "client",
    session: Hashable = "session",
    scales: Sequence[str] | None = None,
    client_id: Hashable | None = None,
    instrument: Instrument | str | None = None,
    interval: float = 0.95,
    ax: Sequence[Axes] | None = None,
) -> Figure:
    """Small multiples: one panel per scale, for one client or the group mean.

    Parameters
    ----------
    scores
        Long table of session scores (one row per client x session).
    client, session
        Column names.
    scales
        The scales drawn (default: the instrument's scales other than the total that are
        columns of ``scores``, such as task, bond and goal).
    client_id
        Draw this client's scores; ``None`` draws the mean across clients per session
        with a normal-approximation interval (mean +/- z SE, SE = SD / sqrt(n); sessions
        with one rating have no interval).
    instrument
        The instrument (id, path or model) for scale names and ranges; taken from
        ``scores.attrs`` when the table comes straight from ``score_frame``.
    interval
        Coverage of the group interval (0.95).
    ax
        One Axes per scale (default: a new figure with a row of panels).

    Returns
    -------
    matplotlib.figure.Figure
        Each panel's first line (``gid`` ``"scores"`` or ``"mean"``) holds the values drawn.

    Examples
    --------
    >>> import pandas as pd
    >>> from alliance_score.plot import subscales
    >>> df = pd.DataFrame({"client": ["a", "a", "b", "b"], "session": [1, 2, 1, 2],
    ...                    "task": [3.0, 4.0, 4.0, 5.0], "bond": [4.0, 4.0, 5.0, 4.0]})
    >>> fig = subscales(df, scales=["task", "bond"])
    >>> fig.axes[0].get_lines()[0].get_ydata().tolist()
    [3.5, 4.5]
    """
    ins = instrument_or_none(instrument, scores)
    if scales is None:
        if ins is None:
            raise DataError("Name the scales to draw (scales=) or give the instrument.")
        scales = [s for s in ins.scale_ids if s != "total" and s in scores.columns]
        if not scales:
            raise DataError("The data hold none of the instrument's subscales; pass scales=.")
    scales = list(scales)
    require_columns(scores, {"client": client, "session": session})
    require_columns(scores, {f"scale {s!r}": s for s in scales})
    if not 0 < interval < 1:
        raise DataError(f"interval must be between 0 and 1; got {interval!r}")
    if ax is None:
        fig = new_figure(figsize=(3.2 * len(scales), 3.0), layout="constrained")
        panels = list(fig.subplots(1, len(scales), sharey=True, squeeze=False)[0])
    else:
        panels = list(ax)
        if len(panels) != len(scales):
            raise DataError(f"ax= needs one Axes per scale ({len(scales)}); got {len(panels)}.")
        fig = panels[0].get_figure(root=True)
    if client_id is not None:
        rows, _ = _sorted_client(scores, client, session, client_id)
    else:
        rows = scores.assign(_session=numeric_column(scores, session, "session"))
    z = NormalDist().inv_cdf(0.5 + interval / 2.0)
    for panel, scale in zip(panels, scales, strict=True):
        values = numeric_column(rows, scale, "scale")
        if client_id is not None:
            x = rows["_session"].to_numpy(dtype=np.float64)
            panel.plot(x, values.to_numpy(), marker="o", color=LINE_COLOUR, gid="scores")
        else:
            stats = values.groupby(rows["_session"]).agg(["mean", "std", "count"])
            x = stats.index.to_numpy(dtype=np.float64)
            mean = stats["mean"].to_numpy(dtype=np.float64)
            half = z * stats["std"].to_numpy(dtype=np.float64) / np.sqrt(stats["count"])
            panel.plot(x, mean, marker="o", color=LINE_COLOUR, gid="mean", label="mean")
            panel.fill_between(
                x,
                mean - half,
                mean + half,
                color=LINE_COLOUR,
                alpha=0.2,
                linewidth=0,
                label=f"{interval:.0%} interval",
            )
        name = ins.scale(scale).name if ins is not None and scale in ins.scale_ids else scale
        panel.set_title(name, parse_math=False)
        panel.set_xlabel("session")
        if ins is not None and scale in ins.scale_ids:
            lo, hi = ins.scale(scale).score_range(ins.response)
            pad = (hi - lo) * 0.04
            panel.set_ylim(lo - pad, hi + pad)
        _integer_sessions(panel)
    if client_id is None:
        panels[0].legend(loc="lower left", fontsize="small", frameon=False)
    return fig
