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

import difflib
import hashlib
import math
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from typing import Annotated, Any, Final, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    PrivateAttr,
    Strict,
    StrictBool,
    StrictStr,
    StringConstraints,
    model_validator,
)
from pydantic_core import PydanticCustomError

from .errors import UnknownScaleError

__all__ = [
    "Anchor",
    "Cutoff",
    "Evidence",
    "EvidenceLevel",
    "FrozenMap",
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
OUTPUT_COLUMNS: frozenset[str] = frozenset({"n_answered", "n_problems", "provisional", "status"})
"""Columns of every score table besides each scale's own (``<scale>``,
``<scale>_n_answered``, ``<scale>_prorated``) and the cut-off flags: no scale id or flag
may take one of these names, or it would overwrite or be overwritten in the output."""

MAX_ABS_VALUE: Final = 1e6
"""Largest magnitude of any number in a definition (answer values, cut-offs, norms)."""
MAX_WEIGHT: Final = 1e3
"""Largest item weight; with :data:`MAX_ABS_VALUE` every score stays finite."""
MIN_STEP: Final = 1e-4
"""Finest resolution a response scale may declare."""

# Definitions are read strictly: text is never coerced to a number or a boolean (``min =
# "1"``, ``reverse = "yes"``), numbers never to text, and text is not trimmed (an id
# " odd " is refused, as the JSON Schema generated from these models refuses it).
Id = Annotated[
    StrictStr, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$(?!\n)", max_length=64)
]
Text = Annotated[StrictStr, StringConstraints(pattern=r"^\S(?:[\s\S]*\S)?$(?!\n)")]
"""Non-empty text without leading or trailing white space."""
Number = Annotated[float, Strict(), Field(allow_inf_nan=False, ge=-MAX_ABS_VALUE, le=MAX_ABS_VALUE)]
"""A finite number of at most :data:`MAX_ABS_VALUE` in magnitude (an integer is fine)."""
Weight = Annotated[float, Strict(), Field(allow_inf_nan=False, gt=0, le=MAX_WEIGHT)]


def _whole_number_only(value: object) -> object:
    """Refuse text and booleans where a whole number belongs (``min_answered = "3"``,
    ``format = true``); ``3`` and ``3.0`` are both 3, as in JSON Schema."""
    if isinstance(value, str | bool):
        raise PydanticCustomError("int_type", "Input should be a valid integer")
    return value


Integer = Annotated[int, BeforeValidator(_whole_number_only)]

_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


class FrozenMap(Mapping[str, float]):
    """A read-only, hashable, picklable mapping (a scale's item weights).

    >>> w = FrozenMap({"3": 2.0})
    >>> w["3"], dict(w), hash(w) == hash(FrozenMap({"3": 2.0}))
    (2.0, {'3': 2.0}, True)
    >>> w["3"] = 100
    Traceback (most recent call last):
    TypeError: 'FrozenMap' object does not support item assignment
    """

    __slots__ = ("_data",)

    def __init__(self, data: Mapping[str, float] | None = None) -> None:
        self._data: dict[str, float] = dict(data or {})

    def __getitem__(self, key: str) -> float:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __hash__(self) -> int:
        return hash(frozenset(self._data.items()))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Mapping):
            return dict(self._data) == dict(other)
        return NotImplemented

    def __repr__(self) -> str:
        return f"FrozenMap({self._data!r})"

    def __reduce__(self) -> tuple[type[FrozenMap], tuple[dict[str, float]]]:
        return (FrozenMap, (self._data,))


Weights = Annotated[
    Mapping[Id, Weight],
    AfterValidator(FrozenMap),
    PlainSerializer(dict, return_type=dict[str, float]),
]


class _Model(BaseModel):
    # Python's regular expressions, as JSON Schema validators in Python use them, so that
    # the generated schema and the loader read every pattern alike; each pattern ends in
    # ``$(?!\n)`` so that a trailing line break is refused by both (and by ECMA engines).
    model_config = ConfigDict(extra="forbid", frozen=True, regex_engine="python-re")


SourceKind = Literal["primary", "secondary"]
CitationPart = Literal["authors", "title", "journal", "year", "volume", "pages", "doi", "identity"]


class Source(_Model):
    """A publication (or manual) that supports some element of the key.

    ``kind`` says whose text it is: ``primary`` for the instrument's authors, manual or
    distributor (official text); ``secondary`` for anyone else's (a validation study by
    others, a clinical template, a measures database, an independent implementation).
    The ledger rule follows it: evidence at ``S2`` must cite two secondary sources, and
    evidence at ``P`` must cite a primary one.
    """

    key: Id = Field(description="Short key used to cite this source elsewhere in the file.")
    kind: SourceKind = Field(
        default="primary",
        description="primary (default: your own manual): the authors', manual's or "
        "distributor's text; secondary: anyone else's.",
    )
    citation: Text
    doi: StrictStr | None = None
    url: StrictStr | None = None
    supports: Text = Field(description="What this source confirms, in a few words.")
    incomplete: tuple[CitationPart, ...] = Field(
        default=(),
        description="Parts of the citation that could not be confirmed (shown on the "
        "instrument page); 'identity' when the source itself cannot be named.",
    )


class Evidence(_Model):
    """How well one element of the key is confirmed, and by which sources."""

    level: EvidenceLevel
    sources: tuple[Id, ...] = ()
    note: StrictStr | None = None

    @property
    def verified(self) -> bool:
        return self.level in VERIFIED_LEVELS


class Licence(_Model):
    """Who holds the instrument and what may be shipped."""

    status: Literal["public-domain", "open", "free-noncommercial", "copyrighted", "user-supplied"]
    holder: StrictStr | None = None
    wording_shipped: StrictBool = Field(
        default=False, description="True only when the licence allows shipping item wording."
    )
    note: StrictStr | None = None
    url: StrictStr | None = None


class Anchor(_Model):
    """A labelled point of the response scale."""

    value: Number
    label: Text


class ResponseScale(_Model):
    """The answer format shared by every item."""

    kind: Literal["likert", "vas"]
    min: Number
    max: Number
    step: Annotated[float, Strict()] | None = Field(
        default=None,
        allow_inf_nan=False,
        ge=MIN_STEP,
        le=2 * MAX_ABS_VALUE,
        description="Resolution of allowed values; Likert defaults to 1, VAS to any real.",
    )
    unit: StrictStr | None = None
    anchors: tuple[Anchor, ...] = ()
    evidence: Evidence

    @model_validator(mode="after")
    def _check(self) -> Self:
        rules = _Rules()
        if not self.min < self.max:
            rules.add("max", f"must be greater than min ({self.min:g})", self.max)
        if self.step is not None:
            n = (self.max - self.min) / self.step
            if abs(n - round(n)) > 1e-9:
                rules.add("step", f"must divide max - min ({self.max - self.min:g})", self.step)
        if self.kind == "likert":
            for name in ("min", "max"):
                if not float(getattr(self, name)).is_integer():
                    rules.add(name, "must be a whole number on a likert scale", getattr(self, name))
        for k, a in enumerate(self.anchors):
            if not self.min <= a.value <= self.max:
                rules.add(
                    f"anchors[{k}].value",
                    f"must lie from min to max ({self.min:g} to {self.max:g})",
                    a.value,
                )
            if _NUMBER.fullmatch(a.label) and float(a.label) != a.value:
                rules.add(
                    f"anchors[{k}].label",
                    f"is a number other than the anchor's value ({a.value:g}); a numeric "
                    "label must equal its value",
                    a.label,
                )
        rules.unique("anchors", (a.value for a in self.anchors), "anchor value")
        rules.unique("anchors", (a.label.casefold() for a in self.anchors), "anchor label")
        rules.raise_if_any()
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
    wording: StrictStr | None = Field(
        default=None, description="Verbatim wording, only where the licence allows it."
    )
    reverse: StrictBool = False


class Scale(_Model):
    """A score computed from a set of items (a subscale or a total)."""

    id: Id
    name: Text
    items: tuple[Id, ...] = Field(min_length=1)
    method: ScoringMethod
    min_answered: Integer = Field(
        ge=1,
        description="Fewest answered items for a score (a library convention unless cited).",
    )
    min_answered_note: StrictStr | None = None
    status: Verification
    items_evidence: Evidence
    formula_evidence: Evidence
    weights: Weights = Field(
        default_factory=FrozenMap,
        description=(
            "Optional positive weight per item id (default 1, at most 1000). With weights "
            "the item mean is the weighted mean sum(w x) / sum(w) over answered items, and "
            "a sum is sum(w x). Read-only once loaded."
        ),
    )
    higher_is_better: StrictBool = True
    description: StrictStr | None = None

    @model_validator(mode="after")
    def _check(self) -> Self:
        rules = _Rules()
        rules.unique("items", self.items, "item in a scale")
        if self.min_answered > len(self.items):
            rules.add(
                "min_answered",
                f"must be from 1 to the number of items ({len(self.items)})",
                self.min_answered,
            )
        stray = [k for k in self.weights if k not in self.items]
        if stray:
            rules.add("weights", "names items that are not in the scale", stray)
        rules.raise_if_any()
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
    value: Number
    flag: Id = Field(description="Output column name of the flag, e.g. 'srs_concern'.")
    meaning: Text
    status: Verification
    evidence: Evidence


class Norm(_Model):
    """Published descriptive statistics for a scale in a named population."""

    scale: Id
    population: Text
    n: Integer | None = Field(default=None, ge=2)
    mean: Number | None = None
    sd: Annotated[float, Strict()] | None = Field(
        default=None, gt=0, le=2 * MAX_ABS_VALUE, allow_inf_nan=False
    )
    alpha: Annotated[float, Strict()] | None = Field(
        default=None, ge=0, le=1, description="Cronbach's alpha from 0 to 1."
    )
    retest_r: Annotated[float, Strict()] | None = Field(
        default=None, gt=-1, le=1, description="Test-retest correlation above -1, at most 1."
    )
    source: Id


class Instrument(_Model):
    """A complete, validated instrument definition (one version of one questionnaire)."""

    format: Annotated[Literal[1], BeforeValidator(_whole_number_only)] = Field(
        default=1, description="Version of the definition format."
    )
    id: Id
    version: Annotated[
        StrictStr, StringConstraints(pattern=r"^[0-9]{1,9}(\.[0-9]{1,9}){0,5}$(?!\n)")
    ]
    name: Text
    short_name: Text
    rater: Rater
    language: Annotated[
        StrictStr, StringConstraints(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{1,8})*$(?!\n)")
    ]
    description: StrictStr | None = None
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

    _origin: str = PrivateAttr(default="<model>")
    _content_hash: str | None = PrivateAttr(default=None)

    @property
    def origin(self) -> str:
        """Where this definition came from: ``"shipped"``, the file it was read from, or
        ``"<string>"``/``"<model>"`` for text or a model built by the program."""
        return self._origin

    @property
    def content_hash(self) -> str:
        """``sha256:<hex>`` of the definition text that was parsed; for a model built in
        code, of its canonical JSON. Two definitions with the same hash score alike."""
        if self._content_hash is None:
            digest = hashlib.sha256(self.model_dump_json().encode("utf-8")).hexdigest()
            self._content_hash = f"sha256:{digest}"
        return self._content_hash

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """A copy; a copy with changed fields is a new definition, so it no longer claims
        the original's origin and content hash (they are recomputed from its content)."""
        copy = super().model_copy(update=update, deep=deep)
        if update:
            copy._origin = "<model>"
            copy._content_hash = None
        return copy

    def __eq__(self, other: object) -> bool:
        """Definitions are equal when their content is; where they were read from is not
        part of it."""
        if isinstance(other, Instrument):
            return self.__dict__ == other.__dict__
        return NotImplemented

    __hash__ = _Model.__hash__

    def __repr__(self) -> str:
        """One line: reference, size, scales with their status, origin.

        >>> from alliance_score import load_instrument
        >>> load_instrument("wai-s")  # doctest: +NORMALIZE_WHITESPACE
        Instrument(wai-s@1.0 'WAI-S', 12 items likert 1-7, scales: task (provisional),
        goal (provisional), bond (provisional), total (provisional), origin: shipped)
        """
        r = self.response
        scales = ", ".join(f"{s.id} ({s.status})" for s in self.scales)
        text = (
            f"{self.ref} {self.short_name!r}, {len(self.items)} items {r.kind} "
            f"{r.min:g}-{r.max:g}, scales: {scales}"
        )
        if self.cutoffs:
            text += ", cut-offs: " + ", ".join(f"{c.flag} ({c.status})" for c in self.cutoffs)
        return f"Instrument({text}, origin: {self.origin})"

    __str__ = __repr__

    def _set_provenance(self, origin: str, text: str) -> None:
        """Record where the definition was read from (called by the registry only)."""
        self._origin = origin
        self._content_hash = "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()

    @model_validator(mode="after")
    def _check(self) -> Self:
        rules = _Rules()
        rules.unique("items", (i.id for i in self.items), "item id")
        rules.unique("scales", (s.id for s in self.scales), "scale id")
        rules.unique("sources", (s.key for s in self.sources), "source key")
        rules.unique("cutoffs", (c.flag for c in self.cutoffs), "cut-off flag")
        item_ids = {i.id for i in self.items}
        scale_ids = {s.id for s in self.scales}
        taken = OUTPUT_COLUMNS | {
            f"{s.id}{suffix}" for s in self.scales for suffix in ("_n_answered", "_prorated")
        }
        for k, s in enumerate(self.scales):
            where = f"scales[{k}]({s.id})"
            if s.id in taken:
                rules.add(f"{where}.id", "must not be the name of another output column", s.id)
            missing = [i for i in s.items if i not in item_ids]
            if missing:
                rules.add(f"{where}.items", "lists items that do not exist", missing)
            if s.status == "verified":
                weak = {
                    name: ev.level
                    for name, ev in self._scale_evidence(s).items()
                    if ev.level not in VERIFIED_LEVELS
                }
                if weak:
                    rules.add(
                        f"{where}.status",
                        "is declared verified but its evidence for "
                        f"{', '.join(weak)} is below P or S2; declare it provisional",
                        weak,
                    )
        for k, c in enumerate(self.cutoffs):
            where = f"cutoffs[{k}]({c.flag})"
            if c.flag in scale_ids:
                rules.add(f"{where}.flag", "must not reuse a scale id", c.flag)
            elif c.flag in taken:
                rules.add(f"{where}.flag", "must not be the name of another output column", c.flag)
            if c.scale not in scale_ids:
                rules.add(f"{where}.scale", "refers to an unknown scale", c.scale)
                continue
            scale = self.scale(c.scale)
            lo, hi = scale.score_range(self.response)
            if not (math.isfinite(c.value) and lo <= c.value <= hi):
                rules.add(
                    f"{where}.value",
                    f"must lie inside the range of scale {c.scale!r} ({lo:g} to {hi:g})",
                    c.value,
                )
            elif (fires := _fires_always_or_never(c.comparison, c.value, lo, hi)) is not None:
                rules.add(
                    f"{where}.value",
                    f"makes 'score {c.comparison} {c.value:g}' {fires} true on scale "
                    f"{c.scale!r} ({lo:g} to {hi:g}); such a cut-off flags nothing",
                    c.value,
                )
            if c.status == "verified" and not (c.evidence.verified and scale.status == "verified"):
                rules.add(
                    f"{where}.status",
                    "is declared verified but its evidence is below P or S2 or its scale "
                    "is provisional; declare it provisional",
                    c.evidence.level,
                )
        for k, n in enumerate(self.norms):
            if n.scale not in scale_ids:
                rules.add(f"norms[{k}].scale", "refers to an unknown scale", n.scale)
            else:
                self._check_norm(rules, k, n)
        source_keys = {s.key for s in self.sources}
        for where, keys in self._cited_sources():
            unknown = [key for key in keys if key not in source_keys]
            if unknown:
                rules.add(where, "cites source keys not listed in [[sources]]", unknown)
        self._check_ledger(rules)
        if self.licence.status == "copyrighted" and not self.licence.wording_shipped:
            for k, item in enumerate(self.items):
                if item.wording:
                    rules.add(
                        f"items[{k}]({item.id}).wording",
                        "must be empty: the instrument is copyrighted and its licence does "
                        "not allow shipping wording; use a short paraphrase label",
                        item.wording,
                    )
        rules.raise_if_any()
        return self

    def _check_ledger(self, rules: _Rules) -> None:
        """S2 names two secondary sources; P names a primary one."""
        kinds = {s.key: s.kind for s in self.sources}
        for where, ev in self._evidence():
            cited = [kinds[k] for k in ev.sources if k in kinds]
            if ev.level == "S2" and cited.count("secondary") < 2:
                rules.add(
                    f"{where}.level",
                    "is S2 (two independent secondary sources agree) but cites "
                    f"{cited.count('secondary')} source(s) of kind secondary; cite two or "
                    "lower the level",
                    ev.level,
                )
            elif ev.level == "P" and "primary" not in cited:
                rules.add(
                    f"{where}.level",
                    "is P (primary or official text) but cites no source of kind primary",
                    ev.level,
                )

    def _evidence(self) -> Iterable[tuple[str, Evidence]]:
        yield "response.evidence", self.response.evidence
        yield "reversed_evidence", self.reversed_evidence
        for k, s in enumerate(self.scales):
            yield f"scales[{k}]({s.id}).items_evidence", s.items_evidence
            yield f"scales[{k}]({s.id}).formula_evidence", s.formula_evidence
        for k, c in enumerate(self.cutoffs):
            yield f"cutoffs[{k}]({c.flag}).evidence", c.evidence

    def _check_norm(self, rules: _Rules, k: int, n: Norm) -> None:
        """A norm's mean inside its scale's range, its SD no more than a bounded score
        can have (half the range, times sqrt(n / (n - 1)) for a sample SD)."""
        lo, hi = self.scale(n.scale).score_range(self.response)
        if n.mean is not None and not lo <= n.mean <= hi:
            rules.add(
                f"norms[{k}].mean",
                f"must lie inside the range of scale {n.scale!r} ({lo:g} to {hi:g})",
                n.mean,
            )
        if n.sd is not None:
            largest = (hi - lo) / 2 * (math.sqrt(n.n / (n.n - 1)) if n.n else math.sqrt(2))
            if n.sd > largest:
                rules.add(
                    f"norms[{k}].sd",
                    f"is larger than any SD on scale {n.scale!r} can be ({largest:g})",
                    n.sd,
                )

    # -- lookups -------------------------------------------------------------------------
    @property
    def item_ids(self) -> tuple[str, ...]:
        return tuple(i.id for i in self.items)

    @property
    def scale_ids(self) -> tuple[str, ...]:
        return tuple(s.id for s in self.scales)

    def scale(self, scale_id: str) -> Scale:
        """The scale with this id.

        Raises
        ------
        UnknownScaleError
            (a ``KeyError`` and an ``AllianceScoreError``) naming the closest ids.
        """
        for s in self.scales:
            if s.id == scale_id:
                return s
        close = difflib.get_close_matches(str(scale_id), self.scale_ids, n=1, cutoff=0.5)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise UnknownScaleError(
            f"{self.ref} has no scale {scale_id!r}.{hint} Its scales are "
            f"{', '.join(self.scale_ids)}."
        )

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

    def _cited_sources(self) -> Iterable[tuple[str, tuple[str, ...]]]:
        yield "response.evidence.sources", self.response.evidence.sources
        yield "reversed_evidence.sources", self.reversed_evidence.sources
        for k, s in enumerate(self.scales):
            yield f"scales[{k}]({s.id}).items_evidence.sources", s.items_evidence.sources
            yield f"scales[{k}]({s.id}).formula_evidence.sources", s.formula_evidence.sources
        for k, c in enumerate(self.cutoffs):
            yield f"cutoffs[{k}]({c.flag}).evidence.sources", c.evidence.sources
        for k, n in enumerate(self.norms):
            yield f"norms[{k}].source", (n.source,)

    @property
    def ref(self) -> str:
        """``id@version``, the exact reference recorded with every score."""
        return f"{self.id}@{self.version}"

    def _repr_html_(self) -> str:
        """A compact table for notebooks (see ``alliance_score._html``)."""
        from ._html import instrument_html

        return instrument_html(self)


def _fires_always_or_never(comparison: str, value: float, lo: float, hi: float) -> str | None:
    """``"always"`` or ``"never"`` when ``score <comparison> value`` cannot vary over
    scores from ``lo`` to ``hi``; None when it can be both true and false."""
    if (comparison == "<" and value <= lo) or (comparison == ">" and value >= hi):
        return "never"
    if (comparison == "<=" and value >= hi) or (comparison == ">=" and value <= lo):
        return "always"
    return None


class DefinitionRuleError(ValueError):
    """Cross-field rules broken by a definition, each with its field path and value."""

    def __init__(self, problems: list[tuple[str, str, object]]) -> None:
        self.problems = problems
        super().__init__(
            "; ".join(f"{path}: {msg} (got {value!r})" for path, msg, value in problems)
        )


class _Rules:
    """Collects every broken cross-field rule so that one load reports them all."""

    def __init__(self) -> None:
        self.problems: list[tuple[str, str, object]] = []

    def add(self, path: str, message: str, value: object) -> None:
        self.problems.append((path, message, value))

    def unique(self, path: str, values: Iterable[object], what: str) -> None:
        dup = [v for v, n in Counter(values).items() if n > 1]
        if dup:
            self.add(path, f"each {what} must be unique; repeated", dup)

    def raise_if_any(self) -> None:
        if self.problems:
            raise DefinitionRuleError(self.problems)
