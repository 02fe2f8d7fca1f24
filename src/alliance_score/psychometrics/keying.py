"""Keying checks: does the data look scored by the key the instrument declares?

Four checks, each a stable code in the ``check`` column:

* ``range``: an item holds numbers outside the response scale, and the message says
  when the answers look shifted (all in 0-4 on a 1-5 scale) or exceed the maximum;
* ``item_total``: an item's corrected item-total correlation is negative;
* ``first_component``: an item loads against the other items of its scale on the first
  principal component of the keyed items (the declared key looks wrong);
* ``alpha_norm``: a scale's alpha falls more than ``norm_margin`` below an alpha the
  instrument's definition cites as a published norm.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any, Final, Literal

import numpy as np
import pandas as pd

from ..instrument import Instrument
from ..sessions._columns import check_number
from ._coefficients import (
    alpha_from_cov,
    first_component,
    item_rest_correlations,
    round_frame,
)
from ._data import Prepared, check_options, prepare
from ._moments import MissingPolicy
from .reliability import dropped_note, kept_items

__all__ = ["KEYING_COLUMNS", "CheckStatus", "check_keying"]

CheckStatus = Literal["pass", "fail", "skipped"]
KEYING_COLUMNS: Final[tuple[str, ...]] = (
    "check",
    "scale",
    "item",
    "status",
    "value",
    "threshold",
    "message",
)
DEFAULT_NORM_MARGIN: Final = 0.10
DEFAULT_MIN_ROWS: Final = 20
"""Fewest rows behind every correlation of a scale for its correlation checks to run."""


def check_keying(
    data: pd.DataFrame,
    instrument: Instrument | str | None = None,
    *,
    scales: Sequence[str] | None = None,
    items: Mapping[str, Hashable] | str | None = None,
    missing: MissingPolicy = "pairwise",
    norm_margin: float = DEFAULT_NORM_MARGIN,
    min_rows: int = DEFAULT_MIN_ROWS,
    missing_codes: Sequence[float | str] = (),
    labels: bool = False,
    allow_provisional: bool = False,
    keys: Mapping[str, Sequence[str]] | None = None,
    min: float | None = None,  # noqa: A002 (psych's name)
    max: float | None = None,  # noqa: A002 (psych's name)
) -> pd.DataFrame:
    """Check that ``data`` agrees with the key ``instrument`` declares.

    Parameters
    ----------
    norm_margin
        How far below a published alpha a scale's alpha may fall before ``alpha_norm``
        fails (default 0.10).
    min_rows
        The correlation checks of a scale (``item_total``, ``first_component``,
        ``alpha_norm``) run only when every pair of its items is answered together in at
        least this many rows (default 20); below it they are ``skipped``, as a negative
        correlation in a handful of rows is as likely chance as a keying error.
    data, instrument, scales, items, missing, missing_codes, labels, allow_provisional
        As for :func:`~alliance_score.psychometrics.reliability`.

    Returns
    -------
    pandas.DataFrame
        One row per check evaluated: ``check`` (``range``, ``item_total``,
        ``first_component``, ``alpha_norm``), ``scale`` (None for ``range``), ``item``
        (None for ``alpha_norm``), ``status`` (``pass``, ``fail`` or ``skipped`` when
        the statistic is undefined or rests on fewer than ``min_rows`` rows), ``value``
        (out-of-range count, ``r_drop``, loading or alpha), ``threshold`` and
        ``message``. The data fail the checks when any ``status`` is ``fail``.

    Notes
    -----
    ``item_total`` uses ``r_drop`` (see :func:`item_analysis`); ``first_component`` the
    first eigenvector ``v`` of the keyed items' correlation matrix, scaled by the root of
    its eigenvalue and signed so that ``sum(v) >= 0``: a correctly keyed scale loads
    positively throughout, and an item with a negative loading was probably reversed
    when it should not have been (or not reversed when it should). This is the test
    behind psych's warning that "some items were negatively correlated with the total
    scale and probably should be reversed" (``psych::alpha``, via ``principal``).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from alliance_score.psychometrics import check_keying
    >>> rng = np.random.default_rng(7)
    >>> trait = rng.normal(size=(200, 1))
    >>> x = np.clip(np.rint(4 + 1.2 * trait + rng.normal(size=(200, 12))), 1, 7)
    >>> x[:, [3, 9]] = 8 - x[:, [3, 9]]          # items 4 and 10 as answered
    >>> x[:, 6] = 8 - x[:, 6]                    # item 7 stored reversed by mistake
    >>> df = pd.DataFrame(x, columns=[f"wai_{i}" for i in range(1, 13)])
    >>> checks = check_keying(df, "wai-s", scales=["total"], allow_provisional=True)
    >>> checks.loc[checks["status"] == "fail", ["check", "scale", "item"]]
                  check  scale item
    18       item_total  total    7
    30  first_component  total    7
    """
    check_options(missing=missing)
    prep = prepare(
        data,
        instrument,
        scales=scales,
        items=items,
        missing_codes=missing_codes,
        labels=labels,
        allow_provisional=allow_provisional,
        keys=keys,
        lo=min,
        hi=max,
    )
    return keying_table(prep, missing=missing, norm_margin=norm_margin, min_rows=min_rows)


def keying_table(
    prep: Prepared,
    *,
    missing: MissingPolicy = "pairwise",
    norm_margin: float = DEFAULT_NORM_MARGIN,
    min_rows: int = DEFAULT_MIN_ROWS,
) -> pd.DataFrame:
    """:func:`check_keying` on already prepared data."""
    check_number("norm_margin", norm_margin, minimum=0.0, below=1.0)
    check_number("min_rows", min_rows, minimum=2, integer=True)
    rows = _range_checks(prep)
    for scale in prep.scales:
        if len(scale.items) < 2:
            message = (
                f"Scale {scale.id!r} has a single item: there are no other items to "
                "correlate it with."
            )
            rows.extend(_skip_scale(prep, scale.id, scale.items, message))
            continue
        kept, dropped, m = kept_items(prep, scale, missing)
        if dropped:
            message = f"Scale {scale.id!r}: {dropped_note(dropped)}."
            rows.extend(
                _row(check, scale.id, item, "skipped", np.nan, 0.0, message)
                for check in ("item_total", "first_component")
                for item in dropped
            )
        if len(kept) < 2:
            message = (
                f"Scale {scale.id!r} has {len(kept)} item(s) with variance: there is "
                "nothing to correlate."
            )
            rows.extend(_skip_scale(prep, scale.id, kept, message))
            continue
        behind = int(m.n_pairs.min()) if m.n_pairs.size else 0
        if behind < min_rows:
            rows.extend(_too_few(prep, scale.id, kept, behind, min_rows))
            continue
        r_drop = item_rest_correlations(m.cov)
        loadings = first_component(m.cor)
        for j, item in enumerate(kept):
            rows.append(_item_total(prep, scale.id, item, float(r_drop[j])))
        for j, item in enumerate(kept):
            rows.append(_component(prep, scale.id, item, float(loadings[j])))
        alpha = alpha_from_cov(m.cov)
        for norm in prep.instrument.norms:
            if norm.scale == scale.id and norm.alpha is not None:
                rows.append(_norm(scale.id, alpha, norm.alpha, norm_margin, norm.population))
    return round_frame(pd.DataFrame.from_records(rows, columns=list(KEYING_COLUMNS)))


def _too_few(
    prep: Prepared, scale: str, items: Sequence[str], behind: int, min_rows: int
) -> list[dict[str, Any]]:
    """Skipped correlation checks of a scale whose correlations rest on too few rows."""
    message = (
        f"Scale {scale!r}: some pair of its items is answered together in only {behind} "
        f"row(s); the correlation checks need {min_rows} (min_rows, --min-rows)."
    )
    return _skip_scale(prep, scale, items, message)


def _skip_scale(
    prep: Prepared, scale: str, items: Sequence[str], message: str
) -> list[dict[str, Any]]:
    """Every correlation check of a scale, skipped for the reason ``message`` gives."""
    rows = [
        _row(check, scale, item, "skipped", np.nan, 0.0, message)
        for check in ("item_total", "first_component")
        for item in items
    ]
    rows += [
        _row("alpha_norm", scale, None, "skipped", np.nan, norm.alpha or 0.0, message)
        for norm in prep.instrument.norms
        if norm.scale == scale and norm.alpha is not None
    ]
    return rows


def _row(
    check: str,
    scale: str | None,
    item: str | None,
    status: CheckStatus,
    value: float,
    threshold: float,
    message: str,
) -> dict[str, Any]:
    return {
        "check": check,
        "scale": scale,
        "item": item,
        "status": status,
        "value": value,
        "threshold": threshold,
        "message": message,
    }


def _key_hint(prep: Prepared, item: str) -> str:
    if any(i.id == item and i.reverse for i in prep.instrument.items):
        return "it is declared reverse-keyed: check whether the export had already reversed it"
    return "it is not declared reverse-keyed: check whether it was stored reversed"


def _item_total(prep: Prepared, scale: str, item: str, r: float) -> dict[str, Any]:
    where = f"Item {item!r} of scale {scale!r}"
    if not np.isfinite(r):
        message = f"{where}: corrected item-total correlation undefined (no variance)."
        return _row("item_total", scale, item, "skipped", r, 0.0, message)
    if r < 0:
        message = (
            f"{where} correlates negatively with the rest of the scale "
            f"(r_drop = {r:.3f}); {_key_hint(prep, item)}."
        )
        return _row("item_total", scale, item, "fail", r, 0.0, message)
    message = f"{where}: corrected item-total correlation {r:.3f}."
    return _row("item_total", scale, item, "pass", r, 0.0, message)


def _component(prep: Prepared, scale: str, item: str, loading: float) -> dict[str, Any]:
    where = f"Item {item!r} of scale {scale!r}"
    if not np.isfinite(loading):
        message = f"{where}: first principal component undefined."
        return _row("first_component", scale, item, "skipped", loading, 0.0, message)
    if loading < 0:
        message = (
            f"{where} loads {loading:.3f} on the scale's first principal component, "
            f"against the other items; {_key_hint(prep, item)}."
        )
        return _row("first_component", scale, item, "fail", loading, 0.0, message)
    message = f"{where} loads {loading:.3f} on the scale's first principal component."
    return _row("first_component", scale, item, "pass", loading, 0.0, message)


def _norm(scale: str, alpha: float, norm: float, margin: float, population: str) -> dict[str, Any]:
    threshold = norm - margin
    published = f"the published alpha {norm:.2f} ({population})"
    if not np.isfinite(alpha):
        message = f"Alpha of scale {scale!r} is undefined; cannot compare with {published}."
        return _row("alpha_norm", scale, None, "skipped", alpha, threshold, message)
    if alpha < threshold:
        message = (
            f"Alpha of scale {scale!r} is {alpha:.3f}, more than {margin:.2f} below "
            f"{published}: check the keying and the column mapping."
        )
        return _row("alpha_norm", scale, None, "fail", alpha, threshold, message)
    message = f"Alpha of scale {scale!r} is {alpha:.3f}; {published}."
    return _row("alpha_norm", scale, None, "pass", alpha, threshold, message)


def _range_checks(prep: Prepared) -> list[dict[str, Any]]:
    lo, hi = prep.instrument.response.min, prep.instrument.response.max
    position = {item: j for j, item in enumerate(prep.instrument.item_ids)}
    rows = []
    for item in prep.used_items:
        found = prep.numbers[:, position[item]]
        found = found[np.isfinite(found)]
        where = f"Item {item!r} (column {str(prep.mapping[item])!r})"
        if found.size == 0:
            message = f"{where} holds no numbers."
            rows.append(_row("range", None, item, "skipped", 0.0, 0.0, message))
            continue
        outside = int(((found < lo) | (found > hi)).sum())
        f_lo, f_hi = float(found.min()), float(found.max())
        if not outside:
            message = f"{where}: values {f_lo:g}-{f_hi:g} lie within {lo:g}-{hi:g}."
            rows.append(_row("range", None, item, "pass", 0.0, 0.0, message))
            continue
        message = (
            f"{where} has {outside} value(s) outside the scale's {lo:g}-{hi:g} "
            f"(found {f_lo:g}-{f_hi:g}); {_shift_hint(f_lo, f_hi, lo, hi, outside, found.size)}."
        )
        rows.append(_row("range", None, item, "fail", float(outside), 0.0, message))
    return rows


def _shift_hint(f_lo: float, f_hi: float, lo: float, hi: float, outside: int, n: int) -> str:
    """Why values fall outside: a shifted coding, or stray codes.

    A shift is suggested only when the values outside are not a stray one or two
    (at least 2, and at least 1% of the numbers) and the other end of the scale is
    empty, as a shift leaves it: one stray 7 among answers 3-5 is a stray code.
    """
    many = outside >= max(2, 0.01 * n)
    if many and f_lo < lo and f_hi <= hi - (lo - f_lo):
        return (
            f"the answers look coded {lo - (lo - f_lo):g}-{hi - (lo - f_lo):g} instead of "
            f"{lo:g}-{hi:g} (shifted down by {lo - f_lo:g})"
        )
    if many and f_hi > hi and f_lo >= lo + (f_hi - hi):
        return (
            f"the answers look coded {lo + (f_hi - hi):g}-{f_hi:g} instead of "
            f"{lo:g}-{hi:g} (shifted up by {f_hi - hi:g})"
        )
    if f_hi > hi:
        return f"the maximum {f_hi:g} is above the scale's maximum {hi:g} (an undeclared code?)"
    return f"the minimum {f_lo:g} is below the scale's minimum {lo:g} (an undeclared code?)"
