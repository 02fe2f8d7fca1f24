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
from collections.abc import Iterable
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
        _unique((i.id for i in self.items), "item id")
        _unique((s.id for s in self.scales), "scale id")
        _unique((s.key for s in self.sources), "source key")
        _unique((c.flag for c in self.cutoffs), "cut-off flag")
        item_ids = {i.id for i in self.items}
        scale_ids = {s.id for s in self.scales}
        source_keys = {s.key for s in self.sources}
        for s in self.scales:
            missing = [i for i in s.items if i not in item_ids]
            if missing:
                raise ValueError(f"scale {s.id!r} lists items that do not exist: {missing}")
            if s.status == "verified":
                weak = [
                    name
                    for name, ev in self._scale_evidence(s).items()
                    if ev.level not in VERIFIED_LEVELS
                ]
                if weak:
                    raise ValueError(
                        f"scale {s.id!r} is declared verified but its evidence for "
                        f"{', '.join(weak)} is below P or S2; declare it provisional"
                    )
        clash = sorted(scale_ids & {c.flag for c in self.cutoffs})
        if clash:
            raise ValueError(f"cut-off flags must not reuse scale ids: {clash}")
        for c in self.cutoffs:
            if c.scale not in scale_ids:
                raise ValueError(f"cut-off {c.flag!r} refers to unknown scale {c.scale!r}")
            lo, hi = self.scale(c.scale).score_range(self.response)
            if not (math.isfinite(c.value) and lo <= c.value <= hi):
                raise ValueError(
                    f"cut-off {c.flag!r} value {c.value} is outside the range of scale "
                    f"{c.scale!r} ({lo}..{hi})"
                )
            if c.status == "verified" and not (
                c.evidence.verified and self.scale(c.scale).status == "verified"
            ):
                raise ValueError(
                    f"cut-off {c.flag!r} is declared verified but its evidence is "
                    f"{c.evidence.level} or its scale is provisional; declare it provisional"
                )
        for n in self.norms:
            if n.scale not in scale_ids:
                raise ValueError(f"norm for {n.population!r} refers to unknown scale {n.scale!r}")
        cited = [*self._all_evidence_sources(), *(n.source for n in self.norms)]
        unknown = sorted({k for k in cited if k not in source_keys})
        if unknown:
            raise ValueError(f"evidence cites source keys not listed in [[sources]]: {unknown}")
        if self.licence.status == "copyrighted" and not self.licence.wording_shipped:
            worded = [i.id for i in self.items if i.wording]
            if worded:
                raise ValueError(
                    "item wording is given for a copyrighted instrument whose licence does "
                    f"not allow shipping it (items {worded}); use a short paraphrase label"
                )
        return self

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

    def _all_evidence_sources(self) -> Iterable[str]:
        yield from self.response.evidence.sources
        yield from self.reversed_evidence.sources
        for s in self.scales:
            yield from s.items_evidence.sources
            yield from s.formula_evidence.sources
        for c in self.cutoffs:
            yield from c.evidence.sources

    @property
    def ref(self) -> str:
        """``id@version``, the exact reference recorded with every score."""
        return f"{self.id}@{self.version}"


def _unique(values: Iterable[object], what: str) -> None:
    dup = [v for v, n in Counter(values).items() if n > 1]
    if dup:
        raise ValueError(f"each {what} must be unique; repeated: {dup}")
