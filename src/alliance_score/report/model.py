"""What the clinician report says, as plain data (built by :func:`.build_report`)."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Literal

from ..plot._common import CutoffLine

__all__ = [
    "ALERT_KINDS",
    "ALERT_TITLES",
    "Alert",
    "AlertKind",
    "ClientSection",
    "Provenance",
    "ReportContent",
    "SessionRow",
]

AlertKind = Literal["below_cutoff", "reliable_deterioration", "open_rupture", "drop"]
ALERT_KINDS: tuple[AlertKind, ...] = (
    "below_cutoff",
    "reliable_deterioration",
    "open_rupture",
    "drop",
)
"""Alert kinds, most urgent first (the order clients with as many alerts are ranked by)."""

ALERT_TITLES: dict[str, str] = {
    "below_cutoff": "Below the cut-off",
    "reliable_deterioration": "Reliable deterioration",
    "open_rupture": "Open rupture episode",
    "drop": "Drop from the previous session",
}


@dataclass(frozen=True)
class Alert:
    """One alert for one client, with the rule that fired in words."""

    kind: AlertKind
    session: float | None
    rule: str
    provisional: bool = False

    @property
    def title(self) -> str:
        return ALERT_TITLES[self.kind]


@dataclass(frozen=True)
class SessionRow:
    """One session of one client as the report shows it."""

    session: float
    score: float | None
    status: str
    prorated: bool
    n_problems: int | None
    alerts: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()
    """The problems found in the session's answers, as ``code (item)`` (no values)."""


@dataclass(frozen=True)
class ClientSection:
    """Everything the report says about one client."""

    client: str
    alerts: tuple[Alert, ...]
    sessions: tuple[SessionRow, ...]
    ruptures: tuple[tuple[float, float | None], ...] = ()
    """Rupture episodes as (rupture session, repair session or ``None`` when open)."""

    @property
    def last_rated(self) -> SessionRow | None:
        rated = [s for s in self.sessions if s.score is not None]
        return rated[-1] if rated else None

    @property
    def need(self) -> tuple[float, ...]:
        """Sort key, most need first: more alerts, then more urgent kinds, then lower score."""
        kinds = {a.kind for a in self.alerts}
        last = self.last_rated
        score = last.score if last is not None and last.score is not None else math.inf
        return (-len(kinds), *(0.0 if k in kinds else 1.0 for k in ALERT_KINDS), score)


@dataclass(frozen=True)
class Provenance:
    """Where the scores and the rules of the report come from."""

    instrument: str
    instrument_name: str
    definition_version: str
    definition_hash: str
    definition_origin: str
    library_version: str
    generated: dt.date
    provisional: tuple[str, ...]
    """Every provisional element used (scales scored, cut-offs applied), named."""


@dataclass(frozen=True)
class ReportContent:
    """The whole report, as data."""

    title: str
    scale: str
    scale_name: str
    scale_range: tuple[float, float] | None
    cutoff: CutoffLine | None
    clients: tuple[ClientSection, ...]
    """In order of need (see :attr:`ClientSection.need`)."""
    rules: tuple[str, ...]
    """Each alert rule applied, in words."""
    not_evaluated: tuple[str, ...]
    """Alert rules that could not be applied, with the reason and the option that enables them."""
    provenance: Provenance
    notes: tuple[str, ...] = field(default=())

    @property
    def alerts(self) -> int:
        return sum(len(c.alerts) for c in self.clients)
