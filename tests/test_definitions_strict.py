"""Definitions are strict, bounded and immutable; the JSON Schema and the loader agree.

* Every container of every shipped definition refuses mutation (a cached definition is
  shared by every later call in the process).
* Numbers are bounded so that every score of every definition that loads is finite.
* Text is never coerced to numbers or booleans, numbers never to text, and text is not
  trimmed; the JSON Schema generated from the models accepts exactly what the loader
  accepts field by field (cross-field rules are the loader's alone).
* Cut-offs that can never or always fire, and impossible norms, are refused.
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Iterator, Mapping
from typing import Any

import jsonschema
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from alliance_score import InstrumentDefinitionError, list_instruments, load_instrument
from alliance_score.catalogue import schema_text
from alliance_score.instrument import (
    MAX_ABS_VALUE,
    MAX_WEIGHT,
    DefinitionRuleError,
    Instrument,
)
from alliance_score.registry import _consequential, parse_instrument
from alliance_score.scoring import score_matrix

from .strategies import instrument_dicts, small_definition

SETTINGS = settings(max_examples=60, deadline=None)
SHIPPED = [s.id for s in list_instruments() if s.shipped]
VALIDATOR = jsonschema.Draft202012Validator(json.loads(schema_text()))


# -- deep immutability ------------------------------------------------------------------


def _walk(node: object, path: str) -> Iterator[tuple[str, object]]:
    yield path, node
    if isinstance(node, BaseModel):
        for name in type(node).model_fields:
            yield from _walk(getattr(node, name), f"{path}.{name}")
    elif isinstance(node, tuple):
        for k, child in enumerate(node):
            yield from _walk(child, f"{path}[{k}]")
    elif isinstance(node, Mapping):
        for key, child in node.items():
            yield from _walk(child, f"{path}[{key!r}]")


@pytest.mark.parametrize("ref", SHIPPED)
def test_every_container_of_a_shipped_definition_refuses_mutation(ref: str) -> None:
    ins = load_instrument(ref)
    seen = 0
    for path, node in _walk(ins, ref):
        assert not isinstance(node, list | dict | set | bytearray), f"{path} is mutable"
        if isinstance(node, BaseModel):
            for name in type(node).model_fields:
                with pytest.raises(ValidationError, match="frozen"):
                    setattr(node, name, None)
            seen += 1
        elif isinstance(node, Mapping):
            with pytest.raises(TypeError):
                node["x"] = 1  # type: ignore[index]
            with pytest.raises(TypeError):
                del node["x"]  # type: ignore[attr-defined]
            with pytest.raises(AttributeError):
                node.update({})  # type: ignore[attr-defined]
            seen += 1
        elif isinstance(node, tuple):
            with pytest.raises(TypeError):
                node[0] = None  # type: ignore[index]
            seen += 1
    assert seen > 10
    assert load_instrument(ref) == ins


def test_cached_weights_cannot_change_later_scores() -> None:
    wai = load_instrument("wai-sr")
    before = score_matrix(np.full((1, 12), 3.0), wai, scales=None, cutoffs=None, invalid=None)
    with pytest.raises(TypeError):
        load_instrument("wai-sr").scales[0].weights["1"] = 100  # type: ignore[index]
    after = score_matrix(np.full((1, 12), 3.0), wai, scales=None, cutoffs=None, invalid=None)
    assert np.array_equal(before.scores, after.scores)
    assert dict(wai.scales[0].weights) == {}


def test_weighted_definition_round_trips_and_pickles() -> None:
    import pickle

    ins = Instrument.model_validate(small_definition("sum", {"1": 2.0}))
    assert ins.scales[0].weights == {"1": 2.0}
    assert Instrument.model_validate(ins.model_dump()) == ins
    assert json.loads(ins.model_dump_json())["scales"][0]["weights"] == {"1": 2.0}
    assert pickle.loads(pickle.dumps(ins)) == ins  # noqa: S301 - our own bytes
    assert copy.deepcopy(ins) == ins
    assert hash(ins) == hash(Instrument.model_validate(ins.model_dump()))


# -- bounded numbers: every score is finite ----------------------------------------------


@pytest.mark.parametrize(
    ("edit", "path"),
    [
        ({"weights": {"1": 1e308}}, "weights.1"),
        ({"weights": {"1": MAX_WEIGHT * 2}}, "weights.1"),
        ({"response_max": 1e308}, "response.max"),
        ({"response_min": -1e308}, "response.min"),
        ({"response_max": math.inf}, "response.max"),
    ],
    ids=["weight-1e308", "weight-over-cap", "max-1e308", "min-minus-1e308", "max-inf"],
)
def test_numbers_that_could_overflow_are_refused(edit: dict[str, Any], path: str) -> None:
    raw = small_definition("sum", edit.get("weights"))
    if "response_max" in edit:
        raw["response"]["max"] = edit["response_max"]
    if "response_min" in edit:
        raw["response"]["min"] = edit["response_min"]
    with pytest.raises(InstrumentDefinitionError) as info:
        parse_instrument(_toml(raw), source="big.toml")
    assert any(path in p for p, _, _ in info.value.errors), info.value.errors


@SETTINGS
@given(
    st.floats(-MAX_ABS_VALUE, MAX_ABS_VALUE - 1),
    st.floats(1, MAX_ABS_VALUE),
    st.lists(st.floats(1e-3, MAX_WEIGHT), min_size=4, max_size=4),
    st.sampled_from(["mean", "sum", "tcu", "pomp"]),
)
def test_every_score_of_a_loadable_definition_is_finite(
    lo: float, width: float, weights: list[float], method: str
) -> None:
    raw = small_definition(method, {str(i + 1): w for i, w in enumerate(weights)})
    hi = min(lo + width, MAX_ABS_VALUE)
    raw["response"] = {"kind": "vas", "min": lo, "max": hi, "evidence": raw["reversed_evidence"]}
    raw["items"][0]["reverse"] = True
    ins = Instrument.model_validate(raw)
    extremes = np.array([[lo] * 4, [hi] * 4, [lo, hi, np.nan, hi]])
    result = score_matrix(extremes, ins, scales=None, cutoffs=None, invalid=None)
    assert np.isfinite(result.scores).all()


def test_numeric_anchor_label_must_equal_its_value() -> None:
    raw = small_definition()
    raw["response"]["anchors"] = [{"value": 1, "label": "5"}, {"value": 5, "label": "Always"}]
    with pytest.raises(InstrumentDefinitionError, match=r"anchors\[0\].label: is a number other"):
        parse_instrument(_toml(raw))
    raw["response"]["anchors"][0]["label"] = "1"
    assert parse_instrument(_toml(raw)).response.anchors[0].label == "1"
    raw["response"]["anchors"][0]["label"] = "1.0"
    assert parse_instrument(_toml(raw)).response.anchors[0].value == 1


# -- strict types: no coercion from text --------------------------------------------------


def _set(raw: dict[str, Any], path: tuple[str | int, ...], value: object) -> dict[str, Any]:
    out = copy.deepcopy(raw)
    node: Any = out
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return out


COERCED = [
    (("items", 0, "reverse"), "yes"),
    (("items", 0, "reverse"), 1),
    (("licence", "wording_shipped"), "false"),
    (("response", "min"), "1"),
    (("response", "min"), True),
    (("response", "min"), -math.inf),
    (("scales", 0, "min_answered"), "3"),
    (("scales", 0, "min_answered"), True),
    (("format",), True),
    (("id",), " odd "),
    (("id",), "odd\n"),
    (("items", 0, "label"), "   "),
    (("items", 0, "label"), " padded"),
    (("name",), 5),
    (("version",), 1.0),
]


@pytest.mark.parametrize(
    ("path", "value"), COERCED, ids=[f"{'.'.join(map(str, p))}={v!r}" for p, v in COERCED]
)
def test_loader_and_schema_both_refuse_coercible_values(
    path: tuple[str | int, ...], value: object
) -> None:
    raw = _set(_anchored(), path, value)
    with pytest.raises(ValidationError):
        Instrument.model_validate(raw)
    if not (isinstance(value, float) and math.isinf(value)):  # JSON has no infinity
        assert not VALIDATOR.is_valid(raw)


def test_anchor_value_given_as_text_is_refused() -> None:
    raw = _anchored()
    raw["response"]["anchors"][0]["value"] = "1"
    with pytest.raises(ValidationError):
        Instrument.model_validate(raw)
    assert not VALIDATOR.is_valid(raw)


def _anchored() -> dict[str, Any]:
    raw = small_definition()
    raw["response"]["anchors"] = [{"value": 1, "label": "Never"}, {"value": 5, "label": "Always"}]
    return raw


def _verdict(raw: dict[str, Any]) -> str:
    """``"valid"``, ``"field"`` (a field broke its own type or bounds) or ``"rule"`` (only
    cross-field rules were broken, which JSON Schema cannot express)."""
    try:
        Instrument.model_validate(raw)
    except ValidationError as exc:
        errors = [e for e in exc.errors() if not _consequential(e)]
        causes = [(e.get("ctx") or {}).get("error") for e in errors]
        return "rule" if all(isinstance(c, DefinitionRuleError) for c in causes) else "field"
    return "valid"


def _leaves(node: object, path: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    if isinstance(node, dict):
        return [p for k, v in node.items() for p in _leaves(v, (*path, k))]
    if isinstance(node, list):
        return [p for k, v in enumerate(node) for p in _leaves(v, (*path, k))] + [path]
    return [path]


json_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**7), 10**7),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=6),
    st.sampled_from(["1", "yes", " odd ", "", "   ", "likert", "mean", "P", "verified", "1.0"]),
    st.lists(st.sampled_from(["1", "2", " 3", 4]), max_size=3),
)


@settings(max_examples=150, deadline=None)
@given(instrument_dicts(), st.data())
def test_schema_and_loader_agree_on_generated_definitions(
    raw: dict[str, Any], data: st.DataObject
) -> None:
    assert _verdict(raw) == "valid" and VALIDATOR.is_valid(raw)
    path = data.draw(st.sampled_from(_leaves(raw)), label="path")
    mutated = _set(raw, path, data.draw(json_values, label="value")) if path else raw
    verdict = _verdict(mutated)
    schema_ok = VALIDATOR.is_valid(mutated)
    if verdict == "field":
        assert not schema_ok, f"the schema accepts what the loader refuses at {path}"
    else:  # valid, or only cross-field rules broken: every field is valid by the schema
        assert schema_ok, list(VALIDATOR.iter_errors(mutated))[:1]


# -- cut-offs that cannot vary, impossible norms --------------------------------------------


@pytest.mark.parametrize(
    ("comparison", "value", "fires"),
    [("<", 4, "never"), ("<=", 20, "always"), (">", 20, "never"), (">=", 4, "always")],
)
def test_cutoffs_that_fire_always_or_never_are_refused(
    comparison: str, value: float, fires: str
) -> None:
    raw = small_definition("sum")
    raw["cutoffs"] = [_cutoff(comparison, value)]
    with pytest.raises(InstrumentDefinitionError, match=f"{fires} true"):
        parse_instrument(_toml(raw))
    raw["cutoffs"] = [_cutoff(comparison, 12)]
    assert parse_instrument(_toml(raw)).cutoffs[0].value == 12


def _cutoff(comparison: str, value: float) -> dict[str, Any]:
    return {
        "scale": "total",
        "comparison": comparison,
        "value": value,
        "flag": "low",
        "meaning": "A test threshold.",
        "status": "provisional",
        "evidence": {"level": "U"},
    }


@pytest.mark.parametrize(
    ("norm", "path"),
    [
        ({"alpha": -3.0}, "norms[0].alpha"),
        ({"sd": 0.0}, "norms[0].sd"),
        ({"retest_r": -1.0}, "norms[0].retest_r"),
        ({"n": 1}, "norms[0].n"),
        ({"mean": 0.5}, "norms[0].mean"),
        ({"mean": 3.0, "sd": 2.5, "n": 100}, "norms[0].sd"),
    ],
    ids=["alpha-minus-3", "sd-0", "retest-minus-1", "n-1", "mean-below-range", "sd-too-wide"],
)
def test_impossible_norms_are_refused(norm: dict[str, Any], path: str) -> None:
    raw = small_definition()
    raw["norms"] = [{"scale": "total", "population": "Test sample", "source": "m", **norm}]
    with pytest.raises(InstrumentDefinitionError) as info:
        parse_instrument(_toml(raw))
    assert [p for p, _, _ in info.value.errors] == [path]
    raw["norms"] = [
        {"scale": "total", "population": "Test", "source": "m", "mean": 3.9, "sd": 0.6, "n": 50}
    ]
    assert parse_instrument(_toml(raw)).norms[0].sd == 0.6


def _toml(raw: dict[str, Any]) -> str:
    import tomli_w

    return tomli_w.dumps(
        json.loads(json.dumps(raw, allow_nan=True), parse_constant=float),
    )


def test_a_failing_scale_is_reported_once_not_as_a_short_list() -> None:
    raw = small_definition()
    raw["scales"][0]["min_answered"] = 9
    with pytest.raises(InstrumentDefinitionError) as info:
        parse_instrument(_toml(raw), source="s.toml")
    assert [p for p, _, _ in info.value.errors] == ["scales[0](total).min_answered"]
    assert "at least 1 item" not in str(info.value)
