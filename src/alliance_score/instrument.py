"""What an instrument is: strict, frozen pydantic models of a questionnaire's scoring key.

An instrument definition is data (a TOML file, see ``docs/authoring-instruments.md``),
loaded into these models. Every model forbids unknown fields, so a typo such as
``revers = true`` fails on load with the path to the bad field, and cross-field rules
(unique ids, scale items that exist, ``min < max``, cut-offs inside the scale's range,
declared verification supported by the evidence) are model validators.

Evidence levels follow the project's ledger: ``P`` (primary or official text), ``S2``
(two independent secondary sources agree), ``S`` (one secondary source or inferred) and
``U`` (unconfirmed). An element counts as verified only at ``P`` or ``S2``.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

__all__ = [
    "Anchor",
    "Cutoff",
    "Evidence",
    "EvidenceLevel",
    "Instrument",
    "Item",
    "Licence",
    "Norm",
    "ResponseScale",
    "Scale",
    "ScoringMethod",
    "Source",
    "Verification",
]

EvidenceLevel = Literal["P", "S2", "S", "U"]
Verification = Literal["verified", "provisional"]
ScoringMethod = Literal["mean", "sum", "tcu", "pomp"]
Comparison = Literal["<", "<=", ">", ">="]
Rater = Literal["client", "therapist", "observer", "parent", "patient", "physician"]

VERIFIED_LEVELS: frozenset[str] = frozenset({"P", "S2"})

CROSS_FIELD_HEADER = "cross-field rules broken:"
CROSS_FIELD_BULLET = "\n    - "
"""A broken cross-field rule is reported as one line ``<bullet><field path>: <message>``
after the header, so that tools can recover each problem with its path."""

Id = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=64)]
Text = Annotated[str, StringConstraints(min_length=1, strip_whitespace=True)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Source(_Model):
    """A publication (or manual) that supports some element of the key."""

    key: Id = Field(description="Short key used to cite this source elsewhere in the file.")
    citation: Text
    doi: str | None = None
    url: str | None = None
    supports: Text = Field(description="What this source confirms, in a few words.")


class Evidence(_Model):
    """How well one element of the key is confirmed, and by which sources."""

    level: EvidenceLevel
    sources: tuple[Id, ...] = ()
    note: str | None = None

    @property
    def verified(self) -> bool:
        return self.level in VERIFIED_LEVELS


class Licence(_Model):
    """Who holds the instrument and what may be shipped."""

    status: Literal["public-domain", "open", "free-noncommercial", "copyrighted", "user-supplied"]
    holder: str | None = None
    wording_shipped: bool = Field(
        default=False, description="True only when the licence allows shipping item wording."
    )
    note: str | None = None
    url: str | None = None


class Anchor(_Model):
    """A labelled point of the response scale."""

    value: float
    label: Text


class ResponseScale(_Model):
    """The answer format shared by every item."""

    kind: Literal["likert", "vas"]
    min: float
    max: float
    step: float | None = Field(
        default=None,
        description="Resolution of allowed values; Likert defaults to 1, VAS to any real.",
    )
    unit: str | None = None
    anchors: tuple[Anchor, ...] = ()
    evidence: Evidence

    @model_validator(mode="after")
    def _check(self) -> Self:
        if not self.min < self.max:
            raise ValueError(f"min must be less than max; got min={self.min}, max={self.max}")
        if self.step is not None:
            if self.step <= 0:
                raise ValueError(f"step must be positive; got {self.step}")
            n = (self.max - self.min) / self.step
            if abs(n - round(n)) > 1e-9:
                raise ValueError(
                    f"max - min must be a whole number of steps; got {self.max} - "
                    f"{self.min} with step {self.step}"
                )
        if self.kind == "likert":
            for name in ("min", "max"):
                if not float(getattr(self, name)).is_integer():
                    raise ValueError(f"a likert {name} must be a whole number")
        for a in self.anchors:
            if not self.min <= a.value <= self.max:
                raise ValueError(
                    f"anchor {a.label!r} has value {a.value} outside {self.min}..{self.max}"
                )
        _unique((a.value for a in self.anchors), "anchor value")
        _unique((a.label.casefold() for a in self.anchors), "anchor label")
        return self

    @property
    def effective_step(self) -> float | None:
        """The grid of allowed values: the declared step, 1 for Likert, none for VAS."""
        if self.step is not None:
            return self.step
        return 1.0 if self.kind == "likert" else None


class Item(_Model):
    """One questionnaire item. ``label`` is a short paraphrase, never licensed wording."""

    id: Id
    label: Text
    wording: str | None = Field(
        default=None, description="Verbatim wording, only where the licence allows it."
    )
    reverse: bool = False


class Scale(_Model):
    """A score computed from a set of items (a subscale or a total)."""

    id: Id
    name: Text
    items: tuple[Id, ...] = Field(min_length=1)
    method: ScoringMethod
    min_answered: int = Field(
        ge=1,
        description="Fewest answered items for a score (a library convention unless cited).",
    )
    min_answered_note: str | None = None
    status: Verification
    items_evidence: Evidence
    formula_evidence: Evidence
    weights: dict[Id, float] = Field(
        default_factory=dict,
        description=(
            "Optional positive weight per item id (default 1). With weights the item mean "
            "is the weighted mean sum(w x) / sum(w) over answered items, and a sum is "
            "sum(w x)."
        ),
    )
    higher_is_better: bool = True
    description: str | None = None

    @model_validator(mode="after")
    def _check(self) -> Self:
        _unique(self.items, f"item in scale {self.id!r}")
        if self.min_answered > len(self.items):
            raise ValueError(
                f"min_answered must be from 1 to the number of items ({len(self.items)}); "
                f"got {self.min_answered}"
            )
        stray = [k for k in self.weights if k not in self.items]
        if stray:
            raise ValueError(
                f"weights of scale {self.id!r} name items that are not in the scale: {stray}"
            )
        bad = {k: w for k, w in self.weights.items() if not (math.isfinite(w) and w > 0)}
        if bad:
            raise ValueError(
                f"weights of scale {self.id!r} must be positive finite numbers; got {bad}"
            )
        return self

    def weight(self, item_id: str) -> float:
        """The weight of one item in this scale (1 unless the definition gives one)."""
        return self.weights.get(item_id, 1.0)

    def score_range(self, response: ResponseScale) -> tuple[float, float]:
        """The lowest and highest score this scale can take."""
        lo, hi = response.min, response.max
        if self.method == "sum":
            n = sum(self.weight(i) for i in self.items)
            return lo * n, hi * n
        if self.method == "tcu":
            return lo * 10, hi * 10
        if self.method == "pomp":
            return 0.0, 100.0
        return lo, hi


class Cutoff(_Model):
    """A published threshold on a scale score that raises a named flag."""

    scale: Id
    comparison: Comparison
    value: float
    flag: Id = Field(description="Output column name of the flag, e.g. 'srs_concern'.")
    meaning: Text
    status: Verification
    evidence: Evidence


class Norm(_Model):
    """Published descriptive statistics for a scale in a named population."""

    scale: Id
    population: Text
    n: int | None = Field(default=None, ge=1)
    mean: float | None = None
    sd: float | None = Field(default=None, ge=0)
    alpha: float | None = Field(default=None, le=1)
    retest_r: float | None = Field(default=None, ge=-1, le=1)
    source: Id


class Instrument(_Model):
    """A complete, validated instrument definition (one version of one questionnaire)."""

    format: Literal[1] = Field(default=1, description="Version of the definition format.")
    id: Id
    version: Annotated[str, StringConstraints(pattern=r"^\d+(\.\d+)*$")]
    name: Text
    short_name: Text
    rater: Rater
    language: Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]+)*$")]
    description: str | None = None
    sources: tuple[Source, ...] = Field(min_length=1)
    licence: Licence
    response: ResponseScale
    reversed_evidence: Evidence = Field(
        description="Evidence for the set of reverse-keyed items (also when it is empty)."
    )
    items: tuple[Item, ...] = Field(min_length=1)
    scales: tuple[Scale, ...] = Field(min_length=1)
    cutoffs: tuple[Cutoff, ...] = ()
    norms: tuple[Norm, ...] = ()

    @model_validator(mode="after")
    def _check(self) -> Self:
        problems = list(self.cross_field_problems())
        if problems:
            raise ValueError(
                CROSS_FIELD_HEADER
                + "".join(f"{CROSS_FIELD_BULLET}{path}: {msg}" for path, msg in problems)
            )
        return self

    def cross_field_problems(self) -> Iterator[tuple[str, str]]:
        """Every broken cross-field rule as ``(field path, message)``, in file order."""
        yield from _duplicates("items", [i.id for i in self.items], "item id")
        yield from _duplicates("scales", [s.id for s in self.scales], "scale id")
        yield from _duplicates("sources", [s.key for s in self.sources], "source key")
        yield from _duplicates("cutoffs", [c.flag for c in self.cutoffs], "cut-off flag")
        item_ids = {i.id for i in self.items}
        scale_ids = {s.id for s in self.scales}
        source_keys = {s.key for s in self.sources}
        for k, s in enumerate(self.scales):
            where = f"scales[{k}]({s.id})"
            missing = [i for i in s.items if i not in item_ids]
            if missing:
                yield (
                    f"{where}.items",
                    f"scale {s.id!r} lists items that do not exist: {missing}",
                )
            if s.status == "verified":
                weak = [
                    name
                    for name, ev in self._scale_evidence(s).items()
                    if ev.level not in VERIFIED_LEVELS
                ]
                if weak:
                    yield (
                        f"{where}.status",
                        f"scale {s.id!r} is declared verified but its evidence for "
                        f"{', '.join(weak)} is below P or S2; declare it provisional",
                    )
        for k, c in enumerate(self.cutoffs):
            where = f"cutoffs[{k}]({c.flag})"
            if c.flag in scale_ids:
                yield f"{where}.flag", f"cut-off flags must not reuse scale ids: {[c.flag]}"
            if c.scale not in scale_ids:
                yield (
                    f"{where}.scale",
                    f"cut-off {c.flag!r} refers to unknown scale {c.scale!r}",
                )
                continue
            lo, hi = self.scale(c.scale).score_range(self.response)
            if not (math.isfinite(c.value) and lo <= c.value <= hi):
                yield (
                    f"{where}.value",
                    f"cut-off {c.flag!r} value {c.value} is outside the range of scale "
                    f"{c.scale!r} ({lo}..{hi})",
                )
            if c.status == "verified" and not (
                c.evidence.verified and self.scale(c.scale).status == "verified"
            ):
                yield (
                    f"{where}.status",
                    f"cut-off {c.flag!r} is declared verified but its evidence is "
                    f"{c.evidence.level} or its scale is provisional; declare it provisional",
                )
        for k, n in enumerate(self.norms):
            if n.scale not in scale_ids:
                yield (
                    f"norms[{k}].scale",
                    f"norm for {n.population!r} refers to unknown scale {n.scale!r}",
                )
        for path, key in self._cited_sources():
            if key not in source_keys:
                yield path, f"evidence cites source key {key!r}, not listed in [[sources]]"
        if self.licence.status == "copyrighted" and not self.licence.wording_shipped:
            for k, item in enumerate(self.items):
                if item.wording:
                    yield (
                        f"items[{k}]({item.id}).wording",
                        "item wording is given for a copyrighted instrument whose licence "
                        "does not allow shipping it; use a short paraphrase label",
                    )

    # -- lookups -------------------------------------------------------------------------
    @property
    def item_ids(self) -> tuple[str, ...]:
        return tuple(i.id for i in self.items)

    @property
    def scale_ids(self) -> tuple[str, ...]:
        return tuple(s.id for s in self.scales)

    def scale(self, scale_id: str) -> Scale:
        """The scale with this id; ``KeyError`` naming the known ids otherwise."""
        for s in self.scales:
            if s.id == scale_id:
                return s
        raise KeyError(f"Instrument {self.id!r} has no scale {scale_id!r}; has {self.scale_ids}")

    @property
    def reversed_items(self) -> tuple[str, ...]:
        return tuple(i.id for i in self.items if i.reverse)

    @property
    def provisional_scales(self) -> tuple[str, ...]:
        return tuple(s.id for s in self.scales if s.status == "provisional")

    def scale_evidence(self, scale_id: str) -> dict[str, Evidence]:
        """Every element a scale's score depends on, with its evidence."""
        return self._scale_evidence(self.scale(scale_id))

    def _scale_evidence(self, s: Scale) -> dict[str, Evidence]:
        return {
            "response scale": self.response.evidence,
            "reversed items": self.reversed_evidence,
            "item list": s.items_evidence,
            "scoring formula": s.formula_evidence,
        }

    def _cited_sources(self) -> Iterator[tuple[str, str]]:
        """Every cited source key with the field path that cites it."""
        cites: list[tuple[str, Evidence]] = [
            ("response.evidence", self.response.evidence),
            ("reversed_evidence", self.reversed_evidence),
        ]
        for k, s in enumerate(self.scales):
            cites.append((f"scales[{k}]({s.id}).items_evidence", s.items_evidence))
            cites.append((f"scales[{k}]({s.id}).formula_evidence", s.formula_evidence))
        cites += [
            (f"cutoffs[{k}]({c.flag}).evidence", c.evidence) for k, c in enumerate(self.cutoffs)
        ]
        for path, ev in cites:
            for j, key in enumerate(ev.sources):
                yield f"{path}.sources[{j}]", key
        for k, n in enumerate(self.norms):
            yield f"norms[{k}].source", n.source

    @property
    def ref(self) -> str:
        """``id@version``, the exact reference recorded with every score."""
        return f"{self.id}@{self.version}"


def _duplicates(path: str, values: list[str], what: str) -> Iterator[tuple[str, str]]:
    dup = [v for v, n in Counter(values).items() if n > 1]
    if dup:
        yield path, f"each {what} must be unique; repeated: {dup}"


def _unique(values: Iterable[object], what: str) -> None:
    dup = [v for v, n in Counter(values).items() if n > 1]
    if dup:
        raise ValueError(f"each {what} must be unique; repeated: {dup}")
