"""Client against therapist ratings: a scatter with the identity line, and Bland-Altman."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TYPE_CHECKING

import pandas as pd

from ..errors import DataError
from ._common import new_figure, numeric_column, require_columns

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["agreement"]


def agreement(
    pairs: pd.DataFrame,
    *,
    x: Hashable | None = None,
    y: Hashable | None = None,
    ax: Sequence[Axes] | None = None,
) -> Figure:
    """Two raters' scores of the same sessions: scatter with identity line, and Bland-Altman.

    Parameters
    ----------
    pairs
        One row per session rated by both, such as
        :func:`~alliance_score.sessions.pair_ratings` returns.
    x, y
        The two raters' score columns (default: the last two columns, e.g.
        ``total_client`` and ``total_therapist``).
    ax
        Two Axes: the scatter and the Bland-Altman panel (default: a new figure).

    Returns
    -------
    matplotlib.figure.Figure
        Left: ``y`` against ``x`` (points ``gid`` ``"pairs"``) and the identity line
        (``"identity"``). Right: the difference ``y - x`` against the mean of the two
        (``"differences"``), the mean difference (``"bias"``) and the limits of agreement
        ``bias +/- 1.96 SD`` of the differences (``"limits"``), after Bland & Altman (1986).

    References
    ----------
    .. [1] Bland, J. M., & Altman, D. G. (1986). Statistical methods for assessing
       agreement between two methods of clinical measurement. *The Lancet, 327*(8476),
       307-310.

    Examples
    --------
    >>> import pandas as pd
    >>> from alliance_score.plot import agreement
    >>> pairs = pd.DataFrame({"total_client": [5.0, 6.0, 4.0], "total_therapist": [4.0, 6.0, 5.0]})
    >>> fig = agreement(pairs)
    >>> fig.axes[1].get_lines()[1].get_ydata().tolist()  # the bias: mean of y - x
    [0.0, 0.0]
    """
    if not isinstance(pairs, pd.DataFrame):
        raise TypeError(f"pairs must be a pandas DataFrame; got {type(pairs).__name__}")
    if x is None or y is None:
        if pairs.shape[1] < 2:
            raise DataError("pairs needs two score columns; name them with x= and y=.")
        x = pairs.columns[-2] if x is None else x
        y = pairs.columns[-1] if y is None else y
    require_columns(pairs, {"x": x, "y": y})
    first = numeric_column(pairs, x, "x")
    second = numeric_column(pairs, y, "y")
    both = first.notna() & second.notna()
    a, b = first[both].to_numpy(), second[both].to_numpy()
    if ax is None:
        fig = new_figure(figsize=(7.0, 3.3), layout="constrained")
        left, right = fig.subplots(1, 2)
    else:
        left, right = ax
        fig = left.get_figure(root=True)  # type: ignore[assignment]
    left.plot(a, b, linestyle="none", marker="o", alpha=0.7, color="#1f4e79", gid="pairs")
    if len(a):
        lo = float(min(a.min(), b.min()))
        hi = float(max(a.max(), b.max()))
        left.plot([lo, hi], [lo, hi], color="0.4", linestyle="--", gid="identity", label="identity")
        left.legend(loc="upper left", fontsize="small", frameon=False)
    left.set_xlabel(str(x))
    left.set_ylabel(str(y))
    left.set_aspect("equal", adjustable="datalim")
    mean = (a + b) / 2.0
    diff = b - a
    right.plot(
        mean, diff, linestyle="none", marker="o", alpha=0.7, color="#1f4e79", gid="differences"
    )
    if len(diff):
        bias = float(diff.mean())
        span = [float(mean.min()), float(mean.max())]
        right.plot(span, [bias, bias], color="#b03a2e", gid="bias", label=f"bias {bias:.2f}")
        if len(diff) > 1:
            sd = float(diff.std(ddof=1))
            for k, limit in enumerate((bias - 1.96 * sd, bias + 1.96 * sd)):
                right.plot(
                    span,
                    [limit, limit],
                    color="#b03a2e",
                    linestyle=":",
                    gid="limits",
                    label=None if k else "bias \u00b1 1.96 SD",
                )
        right.legend(loc="upper left", fontsize="small", frameon=False)
    right.axhline(0.0, color="0.8", linewidth=0.8, zorder=0)
    right.set_xlabel("mean of the two ratings")
    right.set_ylabel(f"{y} \u2212 {x}")
    right.set_title("Bland-Altman", fontsize="medium")
    return fig
