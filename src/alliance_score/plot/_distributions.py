"""Distributions: early alliance across clients, and item response frequencies."""

from __future__ import annotations

from collections.abc import Hashable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..errors import DataError
from ..instrument import Instrument
from ..registry import load_instrument
from ._common import axes_or_current, numeric_column, require_columns

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from ..psychometrics import PsychometricReport

__all__ = ["early_alliance", "items"]


def early_alliance(
    summary: pd.DataFrame,
    *,
    column: Hashable = "early",
    bins: int | str = "auto",
    ax: Axes | None = None,
) -> Axes:
    """Histogram of the early alliance across clients, with the rule in the title.

    Parameters
    ----------
    summary
        One row per client, from :func:`~alliance_score.sessions.early_alliance` or
        :func:`~alliance_score.sessions.summarize_clients` (columns ``early``,
        ``early_rule``).
    column
        The column drawn (``early``).
    bins
        Bins, as :func:`numpy.histogram_bin_edges` takes them.
    ax
        The Axes to draw on (default: the current Axes).

    Returns
    -------
    matplotlib.axes.Axes
        Bars (``gid`` ``"early"`` on each patch), and the median as a vertical line
        (``gid`` ``"median"``); clients without an early rating are counted in the title.

    Examples
    --------
    >>> import pandas as pd
    >>> from matplotlib.figure import Figure
    >>> from alliance_score.plot import early_alliance
    >>> s = pd.DataFrame({"client": list("abcd"), "early": [3.5, 4.0, 4.5, None],
    ...                   "early_rule": "session 3"})
    >>> early_alliance(s, ax=Figure().subplots()).get_title()
    'Early alliance (session 3): 3 clients, 1 without a rating'
    """
    require_columns(summary, {"column": column})
    values = numeric_column(summary, column, "column")
    rated = values.dropna().to_numpy(dtype=np.float64)
    ax = axes_or_current(ax)
    edges = np.histogram_bin_edges(rated, bins=bins) if len(rated) else np.array([0.0, 1.0])
    counts, edges = np.histogram(rated, bins=edges)
    bars = ax.bar(
        edges[:-1],
        counts,
        width=np.diff(edges),
        align="edge",
        color="#1f4e79",
        alpha=0.8,
        edgecolor="white",
    )
    for bar in bars:
        bar.set_gid("early")
    if len(rated):
        ax.axvline(
            float(np.median(rated)),
            color="#b03a2e",
            linestyle="--",
            gid="median",
            label=f"median {float(np.median(rated)):.2f}",
        )
        ax.legend(loc="upper left", fontsize="small", frameon=False)
    rules: list[str] = []
    if "early_rule" in summary.columns:
        rules = [str(r) for r in summary["early_rule"].dropna().unique()]
    rule = f" ({'; '.join(rules)})" if len(rules) else ""
    title = f"Early alliance{rule}: {len(rated)} clients"
    missing = int(values.isna().sum())
    if missing:
        title += f", {missing} without a rating"
    ax.set_title(title, parse_math=False)
    ax.set_xlabel(str(column))
    ax.set_ylabel("clients")
    return ax


def items(
    result: PsychometricReport | pd.DataFrame,
    *,
    instrument: Instrument | str | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Item response frequencies as diverging stacked bars (Likert items).

    Answers below the scale's midpoint extend to the left of zero, those above it to the
    right, and an answer at the midpoint is split across zero, so agreement and
    disagreement can be compared at a glance (Robbins & Heiberger, 2011).

    Parameters
    ----------
    result
        A :class:`~alliance_score.PsychometricReport`, or the table of
        :func:`~alliance_score.item_frequencies` together with ``instrument=``.
    instrument
        The instrument (needed with a table).
    ax
        The Axes to draw on (default: the current Axes).

    Returns
    -------
    matplotlib.axes.Axes
        One horizontal bar per item and answer (``gid`` ``"<item>=<value>"``), widths
        the proportions of the item's valid answers, first item at the top.

    References
    ----------
    .. [1] Robbins, N. B., & Heiberger, R. M. (2011). Plotting Likert and other rating
       scales. *Proceedings of the 2011 Joint Statistical Meeting*, 1058-1066.

    Examples
    --------
    >>> import pandas as pd
    >>> from alliance_score import item_frequencies
    >>> from matplotlib.figure import Figure
    >>> from alliance_score.plot import items
    >>> df = pd.DataFrame({f"wai_sr_{i:02d}": ["4", "5", "3", "2"] for i in range(1, 13)})
    >>> ax = items(item_frequencies(df, "wai-sr"), instrument="wai-sr", ax=Figure().subplots())
    >>> len(ax.patches)  # 12 items x 5 answers (1 to 5)
    60
    >>> [round(float(b.get_width()), 2) for b in ax.patches if b.get_gid().startswith("1=")]
    [0.0, 0.25, 0.25, 0.25, 0.25]
    """
    if isinstance(result, pd.DataFrame):
        if instrument is None:
            raise DataError("items() needs instrument= with a frequency table.")
        ins = load_instrument(instrument)
        table = result
    else:
        ins = result.instrument if instrument is None else load_instrument(instrument)
        table = result.frequencies
    if ins.response.kind != "likert":
        raise DataError(
            f"items() draws Likert items; {ins.ref} has a {ins.response.kind} response scale."
        )
    require_columns(table, {"item": "item", "kind": "kind", "value": "value", "n": "n"})
    lo, hi = ins.response.min, ins.response.max
    step = ins.response.effective_step or 1.0
    values = np.arange(lo, hi + step / 2.0, step)
    mid = (lo + hi) / 2.0
    answers = table.loc[table["kind"] == "answer"]
    order = [i for i in ins.item_ids if i in set(answers["item"])]
    counts = (
        answers.pivot_table(index="item", columns="value", values="n", aggfunc="sum")
        .reindex(index=order, columns=values)
        .fillna(0.0)
    )
    share = counts.div(counts.sum(axis=1).replace(0.0, np.nan), axis=0).fillna(0.0)
    ax = axes_or_current(ax)
    import matplotlib as mpl

    colours = mpl.colormaps["RdBu"](np.linspace(0.1, 0.9, len(values)))
    colours[np.isclose(values, mid)] = (0.78, 0.78, 0.78, 1.0)  # the midpoint: neutral grey
    anchor = {a.value: a.label for a in ins.response.anchors}
    ypos = np.arange(len(order))[::-1]
    left_edge = -(share.loc[:, values < mid].sum(axis=1) + share.get(mid, 0.0) / 2.0)
    start = left_edge.to_numpy(dtype=np.float64)
    for k, value in enumerate(values):
        width = share[value].to_numpy(dtype=np.float64)
        label = f"{value:g} {anchor.get(value, '')}".strip()
        bars = ax.barh(
            ypos, width, left=start, color=colours[k], edgecolor="white", linewidth=0.5, label=label
        )
        for item, bar in zip(order, bars, strict=True):
            bar.set_gid(f"{item}={value:g}")
        start = start + width
    labels = {i.id: i.label for i in ins.items}
    ax.set_yticks(ypos, [f"{i}  {labels[i]}" for i in order], fontsize="small")
    ax.axvline(0.0, color="0.3", linewidth=0.8)
    ax.set_xlim(-1.0, 1.0)
    ax.set_xticks([-1.0, -0.5, 0.0, 0.5, 1.0], ["100%", "50%", "0", "50%", "100%"])
    ax.set_xlabel("share of valid answers")
    ax.set_title(f"{ins.short_name}: item responses", parse_math=False)
    ax.legend(
        loc="upper center",
        bbox_to_anchor=(0.5, -0.15),
        ncols=min(len(values), 4),
        fontsize="small",
        frameon=False,
    )
    return ax
