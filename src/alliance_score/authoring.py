"""Checking a user's instrument definition: every problem, each with its field path.

Used by ``alliance-score validate-definition``. Field-level problems (an unknown field
such as ``revers``, a wrong type, ``min >= max``) come from the models' field validation
and are all reported at once; cross-field rules (scale items that exist, cut-offs inside
the scale's range, a declared status the ledger supports) are checked once the fields
are valid, and are then all reported too.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .catalogue import derived_status
from .errors import InstrumentDefinitionError, UnreadableFileError
from .instrument import Instrument
from .registry import parse_instrument

__all__ = ["DefinitionCheck", "DefinitionProblem", "check_definition"]


@dataclass(frozen=True)
class DefinitionProblem:
    """One broken rule in a definition file: where (field path), what, and the value."""

    path: str
    """TOML-style field path, e.g. ``scales[1](bond).items``; empty for the whole file."""
    message: str
    value: str | None = None
    """The offending value as text, when it is a single value."""


@dataclass(frozen=True)
class DefinitionCheck:
    """The result of :func:`check_definition`: every problem, or the loaded instrument."""

    source: str
    instrument: Instrument | None
    problems: tuple[DefinitionProblem, ...]
    notes: tuple[str, ...]
    """Advice that does not make the file invalid (e.g. a cautious provisional status)."""

    @property
    def valid(self) -> bool:
        return self.instrument is not None and not self.problems

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready report (what ``validate-definition --json`` prints)."""
        ins = self.instrument
        return {
            "file": self.source,
            "valid": self.valid,
            "instrument": None if ins is None else ins.ref,
            "scales": None if ins is None else {s.id: s.status for s in ins.scales},
            "problems": [
                {"path": p.path, "message": p.message, "value": p.value} for p in self.problems
            ],
            "notes": list(self.notes),
        }


def check_definition(path: str | os.PathLike[str]) -> DefinitionCheck:
    """Check a definition file and report every problem with its field path.

    Field-level problems (an unknown field such as ``revers``, a wrong type, ``min >=
    max``) are all reported at once; cross-field rules (scale items that exist, cut-offs
    inside the scale's range, a declared status the ledger supports) are checked once the
    fields themselves are valid, and are then all reported too.

    Raises
    ------
    UnreadableFileError
        When the file cannot be read (a missing file is not a definition problem).

    Examples
    --------
    >>> from alliance_score.authoring import check_definition
    >>> from alliance_score.registry import shipped_directory
    >>> report = check_definition(shipped_directory() / "wai-sr.toml")
    >>> report.valid, report.problems
    (True, ())
    """
    name = os.fspath(path)
    try:
        text = Path(name).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UnreadableFileError(f"Cannot read definition {name!r}: {exc}") from exc
    try:
        ins = parse_instrument(text, source=name)
    except InstrumentDefinitionError as exc:
        return DefinitionCheck(name, None, tuple(_expand(exc)), ())
    notes = tuple(
        f"scale {s.id!r} is declared provisional although its ledger supports verified"
        for s in ins.scales
        if s.status == "provisional" and derived_status(ins, s.id) == "verified"
    )
    return DefinitionCheck(name, ins, (), notes)


def _expand(exc: InstrumentDefinitionError) -> list[DefinitionProblem]:
    out: list[DefinitionProblem] = []
    for path, message, value in exc.errors:
        shown = None if isinstance(value, dict) or value is None else repr(value)
        out.append(DefinitionProblem(path, message, shown))
    return out
