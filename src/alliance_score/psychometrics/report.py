"""All psychometric tables for one data set at once, as text or JSON."""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from .._version import __version__
from ..instrument import Instrument
from ._data import check_options, prepare
from ._moments import MissingPolicy
from .items import frequency_table, item_table
from .keying import DEFAULT_MIN_ROWS, DEFAULT_NORM_MARGIN, keying_table
from .reliability import reliability_table

__all__ = ["PsychometricReport", "psychometric_report"]


@dataclass(frozen=True, eq=False, repr=False)
class PsychometricReport:
    """Reliability, item analysis, frequencies and keying checks of one data set."""

    instrument: Instrument
    n_rows: int
    missing: MissingPolicy
    mapping: dict[str, str]
    reliability: pd.DataFrame
    """See :func:`~alliance_score.psychometrics.reliability`."""
    items: pd.DataFrame
    """See :func:`~alliance_score.psychometrics.item_analysis`."""
    frequencies: pd.DataFrame
    """See :func:`~alliance_score.psychometrics.item_frequencies`."""
    keying: pd.DataFrame
    """See :func:`~alliance_score.psychometrics.check_keying`."""
    provisional: tuple[str, ...] = ()

    def __repr__(self) -> str:
        """One line: instrument, rows, scales and the keying result (not the tables)."""
        counts = self.keying["status"].value_counts()
        return (
            f"<PsychometricReport {self.instrument.ref}: {self.n_rows} rows, "
            f"{len(self.reliability)} scale(s), keying checks {int(counts.get('fail', 0))} "
            f"failed / {int(counts.get('pass', 0))} passed / "
            f"{int(counts.get('skipped', 0))} skipped>"
        )

    @property
    def failed(self) -> bool:
        """True when any keying check failed."""
        return bool((self.keying["status"] == "fail").any())

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary (NaN becomes ``None``)."""
        return {
            "instrument": {"id": self.instrument.id, "version": self.instrument.version},
            "library_version": __version__,
            "rows": self.n_rows,
            "missing": self.missing,
            "mapping": dict(self.mapping),
            "provisional": list(self.provisional),
            "failed": self.failed,
            "reliability": _records(self.reliability),
            "items": _records(self.items),
            "frequencies": _records(self.frequencies),
            "keying": _records(self.keying),
        }

    def to_text(self) -> str:
        """A readable report: reliability, item analysis, then the keying checks."""
        ins = self.instrument
        lines = [
            f"{ins.short_name} ({ins.ref}): {self.n_rows} rows, missing data {self.missing}",
        ]
        if self.provisional:
            lines.append(f"Provisional scales: {', '.join(self.provisional)}")
        rel = self.reliability.drop(columns=["missing", "ci_level", "dropped_items", "note"])
        level = self.reliability["ci_level"].dropna()
        title = "Reliability"
        if len(level):
            title += f" (alpha_ci: Feldt {float(level.iloc[0]):.0%} interval)"
        lines += ["", title, _table(rel)]
        if rel.isna().any(axis=None):
            lines.append(
                "'-': not computed (omega when its one-factor model does not converge, an "
                "interval without scipy, or too few rows or items)"
            )
        lines += [
            f"  {scale}: {note}"
            for scale, note in zip(self.reliability["scale"], self.reliability["note"], strict=True)
            if note
        ]
        lines += ["", "Item analysis (after reverse keying)", _table(self.items)]
        counts = self.keying["status"].value_counts()
        lines += [
            "",
            f"Keying checks: {int(counts.get('fail', 0))} failed, "
            f"{int(counts.get('pass', 0))} passed, {int(counts.get('skipped', 0))} skipped",
        ]
        for row in self.keying.itertuples(index=False):
            if row.status == "fail":
                lines.append(f"  FAIL [{row.check}] {row.message}")
        skipped = self.keying.loc[self.keying["status"] == "skipped", "message"]
        lines += [
            f"  skipped ({n} check{'' if n == 1 else 's'}): {message}"
            for message, n in skipped.value_counts(sort=False).items()
        ]
        lines.append(
            "Result: " + ("keying problems found" if self.failed else "no keying problems")
        )
        return "\n".join(lines) + "\n"

    def _repr_html_(self) -> str:
        """A compact table for notebooks (see ``alliance_score._html``)."""
        from .._html import psychometric_report_html

        return psychometric_report_html(self)


def psychometric_report(
    data: pd.DataFrame,
    instrument: Instrument | str | None = None,
    *,
    scales: Sequence[str] | None = None,
    items: Mapping[str, Hashable] | str | None = None,
    missing: MissingPolicy = "pairwise",
    ci: float | None = 0.95,
    norm_margin: float = DEFAULT_NORM_MARGIN,
    min_rows: int = DEFAULT_MIN_ROWS,
    missing_codes: Sequence[float | str] = (),
    labels: bool = False,
    allow_provisional: bool = False,
    keys: Mapping[str, Sequence[str]] | None = None,
    min: float | None = None,  # noqa: A002 (psych's name)
    max: float | None = None,  # noqa: A002 (psych's name)
) -> PsychometricReport:
    """Parse ``data`` once and compute every psychometric table.

    Parameters are those of :func:`~alliance_score.psychometrics.reliability` and
    :func:`~alliance_score.psychometrics.check_keying`. The command ``alliance-score
    check`` prints this report (``--json`` prints :meth:`PsychometricReport.to_dict`).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from alliance_score.psychometrics import psychometric_report
    >>> rng = np.random.default_rng(3)
    >>> x = np.clip(np.rint(3.5 + rng.normal(size=(150, 1)) + rng.normal(size=(150, 12))), 1, 5)
    >>> report = psychometric_report(pd.DataFrame(x, columns=[f"q{i}" for i in range(1, 13)]),
    ...                              "wai-sr", scales=["total"])
    >>> report.failed
    False
    >>> print(report.to_text().splitlines()[-1])
    Result: no keying problems
    """
    check_options(missing=missing, ci=ci)
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
    return PsychometricReport(
        instrument=prep.instrument,
        n_rows=len(data),
        missing=missing,
        mapping={item: str(col) for item, col in prep.mapping.items()},
        reliability=reliability_table(prep, missing=missing, ci=ci),
        items=item_table(prep, missing=missing),
        frequencies=frequency_table(prep),
        keying=keying_table(prep, missing=missing, norm_margin=norm_margin, min_rows=min_rows),
        provisional=tuple(s.id for s in prep.scales if s.status == "provisional"),
    )


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    for record in frame.to_dict(orient="records"):
        out.append({str(k): _plain(v) for k, v in record.items()})
    return out


def _plain(value: object) -> object:
    if hasattr(value, "item"):  # numpy scalar
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _table(frame: pd.DataFrame) -> str:
    return frame.to_string(index=False, float_format=lambda v: f"{v:.3f}", na_rep="-")
