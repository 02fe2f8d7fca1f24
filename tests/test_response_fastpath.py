"""The single-response fast path agrees with score_frame; the cached instrument lookup
sees changed definitions."""

from __future__ import annotations

import math
import os
import shutil
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alliance_score import (
    Instrument,
    ProblemCode,
    ScoreResult,
    load_instrument,
    registry,
    score_frame,
    score_response,
)
from alliance_score.errors import UnknownInstrumentError
from alliance_score.registry import ENV_VAR, shipped_directory

from .strategies import instruments

SETTINGS = settings(max_examples=60, deadline=None)
SHIPPED = ("wai-sr", "srs", "wai-s", "tps")


@st.composite
def raw_answers(draw: st.DrawFn, ins: Instrument) -> dict[Any, Any]:
    """Answers of every kind a caller may pass: valid and invalid numbers, numeric text,
    labels, missing tokens and codes, junk text, booleans, None, NaN, unknown items."""
    r = ins.response
    labels = [a.label for a in r.anchors]
    number = st.one_of(
        st.integers(int(r.min) - 2, int(r.max) + 2),
        st.floats(r.min - 1, r.max + 1, allow_nan=False),
        st.sampled_from([math.inf, -math.inf, math.nan, 4.5, 0.1, -99]),
    )
    text = st.one_of(
        number.map(str),
        st.sampled_from(["", " ", "NA", "n/a", ".", "null", "x", "4,5", " 3 ", "-99", "9e0"]),
        st.sampled_from(labels or ["Always"]).map(lambda s: draw(st.sampled_from([s, s.upper()]))),
        st.text(max_size=5),
    )
    cell = st.one_of(st.none(), number, text, st.booleans())
    out: dict[Any, Any] = {}
    for item in ins.item_ids:
        if draw(st.booleans()) or draw(st.booleans()):
            out[item] = draw(cell)
    if draw(st.integers(0, 5)) == 0:
        out[draw(st.sampled_from(["zz", "13", "Q1"]))] = draw(cell)
    return out


def _via_frame(ins: Instrument, given: dict[Any, Any], **options: Any) -> dict[str, Any]:
    """What score_frame says about the same answers as a one-row table."""
    row = {item: given.get(item) for item in ins.item_ids}
    frame = pd.DataFrame([row], columns=list(ins.item_ids), dtype=object)
    res = score_frame(
        frame, ins, items={i: i for i in ins.item_ids}, return_problems=True, **options
    )
    out = res.scores.iloc[0]
    scales = res.scores.attrs["alliance_score"]["scales"]
    return {
        "status": str(out["status"]),
        "scores": {s: None if pd.isna(out[s]) else float(out[s]) for s in scales},
        "n_answered": {s: int(out[f"{s}_n_answered"]) for s in scales},
        "problems": [(p.item, p.value, p.code, p.message) for p in res.problem_records()],
    }


def _compare(fast: ScoreResult, frame: dict[str, Any], has_unknown: bool) -> None:
    cell_problems = [
        (p.item, p.value, p.code, p.message)
        for p in fast.problems
        if p.code is not ProblemCode.UNKNOWN_ITEM
    ]
    assert cell_problems == frame["problems"]
    assert fast.n_answered == frame["n_answered"]
    if has_unknown and fast.status.value == "invalid" and frame["status"] != "invalid":
        return  # unknown items invalidate the response after scoring (checked below)
    assert fast.status.value == frame["status"]
    if fast.status.value != "invalid":
        assert fast.scores == frame["scores"]


OPTIONS = st.fixed_dictionaries(
    {
        "labels": st.booleans(),
        "missing_codes": st.sampled_from([(), (-99,), ("x", 9), ("-99",)]),
        "on_invalid": st.sampled_from(["reject", "missing"]),
        "allow_provisional": st.booleans(),
    }
)


@SETTINGS
@given(st.data())
def test_fast_path_equals_score_frame_on_shipped(data: st.DataObject) -> None:
    ins = load_instrument(data.draw(st.sampled_from(SHIPPED)))
    given_ = data.draw(raw_answers(ins))
    options: dict[str, Any] = data.draw(OPTIONS)
    if not any(s.status == "verified" for s in ins.scales):
        options["allow_provisional"] = True  # every scale is provisional (tps)
    fast = score_response(ins, given_, **options)
    frame = _via_frame(ins, given_, **options)
    unknown = [k for k in given_ if k not in ins.item_ids]
    _compare(fast, frame, bool(unknown))
    assert [p.item for p in fast.problems if p.code is ProblemCode.UNKNOWN_ITEM] == [
        str(k) for k in unknown
    ]
    if unknown and options["on_invalid"] == "reject":
        assert fast.status.value == "invalid"
        assert set(fast.scores.values()) <= {None}


@SETTINGS
@given(st.data())
def test_fast_path_equals_score_frame_on_generated(data: st.DataObject) -> None:
    ins = data.draw(instruments())
    given_ = data.draw(raw_answers(ins))
    options: dict[str, Any] = data.draw(OPTIONS)
    options["allow_provisional"] = True
    fast = score_response(ins, given_, **options)
    frame = _via_frame(ins, given_, **options)
    _compare(fast, frame, any(k not in ins.item_ids for k in given_))
    assert fast.flags.keys() == {c.flag for c in ins.cutoffs}


@pytest.mark.parametrize(
    "cell",
    [pd.NA, pd.Timestamp("2024-01-01"), complex(1, 0), b"4"],
    ids=["NA", "timestamp", "complex", "bytes"],
)
def test_cells_the_fast_path_leaves_to_score_frame(cell: object) -> None:
    """Any other kind of value is scored exactly as score_frame scores it."""
    ins = load_instrument("wai-sr")
    given_: dict[str, Any] = {str(i): 4 for i in range(1, 13)} | {"3": cell}
    frame = _via_frame(ins, given_)
    fast = score_response(ins, given_)
    _compare(fast, frame, False)


def test_problem_message_is_score_frames() -> None:
    r = score_response("wai-sr", {"3": "4.5"})
    assert r.problems[0].message == (
        "Item '3' (column '3') in row 0 must be an integer from 1 to 5; got '4.5'."
    )
    r = score_response("wai-sr", {"3": "Always"})
    assert r.problems[0].message.endswith("pass labels=True (--labels) to accept labels.")


def test_rules_are_rebuilt_for_another_definition_with_the_same_id() -> None:
    a = load_instrument("wai-sr")
    b = a.model_copy(update={"response": a.response.model_copy(update={"max": 7.0})})
    assert score_response(a, {"1": 7}).status.value == "invalid"
    assert score_response(b, {"1": 7}).status.value != "invalid"


# -- the cached lookup -----------------------------------------------------------------


def _copy_definition(folder: Path, version: str = "1.0", name: str = "wai-sr.toml") -> Path:
    text = (shipped_directory() / "wai-sr.toml").read_text(encoding="utf-8")
    text = text.replace('id = "wai-sr"', 'id = "local-wai"').replace(
        'version = "1.0"', f'version = "{version}"'
    )
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def _touch_later(path: Path) -> None:
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10_000_000))


def test_cached_lookup_is_the_same_object() -> None:
    assert load_instrument("wai-sr") is load_instrument("wai-sr")


def test_cached_lookup_sees_an_edited_file(tmp_path: Path) -> None:
    path = _copy_definition(tmp_path)
    first = load_instrument("local-wai", search_path=[tmp_path])
    assert load_instrument("local-wai", search_path=[tmp_path]) is first
    path.write_text(path.read_text().replace("Seldom", "Rarely"), encoding="utf-8")
    _touch_later(path)
    second = load_instrument("local-wai", search_path=[tmp_path])
    assert second.response.anchors[0].label == "Rarely"
    assert second.content_hash != first.content_hash


def test_cached_lookup_sees_a_new_version_in_the_folder(tmp_path: Path) -> None:
    _copy_definition(tmp_path)
    assert load_instrument("local-wai", search_path=[tmp_path]).version == "1.0"
    time.sleep(0.01)
    _copy_definition(tmp_path, version="2.0", name="wai-sr-2.toml")
    _touch_later(tmp_path)
    assert load_instrument("local-wai", search_path=[tmp_path]).version == "2.0"


def test_cached_lookup_sees_a_removed_file(tmp_path: Path) -> None:
    path = _copy_definition(tmp_path)
    load_instrument("local-wai", search_path=[tmp_path])
    path.unlink()
    _touch_later(tmp_path)
    with pytest.raises(UnknownInstrumentError):
        load_instrument("local-wai", search_path=[tmp_path])


def test_cached_lookup_follows_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(UnknownInstrumentError):
        load_instrument("local-wai")
    _copy_definition(tmp_path)
    monkeypatch.setenv(ENV_VAR, str(tmp_path))
    assert load_instrument("local-wai").id == "local-wai"
    monkeypatch.delenv(ENV_VAR)
    with pytest.raises(UnknownInstrumentError):
        load_instrument("local-wai")


def test_cached_lookup_of_a_path(tmp_path: Path) -> None:
    path = _copy_definition(tmp_path)
    first = load_instrument(str(path))
    assert load_instrument(str(path)) is first
    shutil.copy(path, tmp_path / "copy.toml")
    path.write_text(path.read_text().replace('version = "1.0"', 'version = "1.1"'))
    _touch_later(path)
    assert load_instrument(str(path)).version == "1.1"


def test_cache_is_bounded(tmp_path: Path) -> None:
    for k in range(registry._FAST_CACHE_SIZE + 5):
        load_instrument("wai-sr", search_path=[tmp_path / str(k)])
    assert 0 < len(registry._fast) <= registry._FAST_CACHE_SIZE
    assert len(registry._fast) <= registry._FAST_CACHE_SIZE


def test_cached_lookup_sees_a_file_replaced_with_the_same_time(tmp_path: Path) -> None:
    """A copy that keeps the old modification time (cp -p, an unpacked archive) differs
    in size or inode, and is seen."""
    path = _copy_definition(tmp_path)
    first = load_instrument("local-wai", search_path=[tmp_path])
    stat = path.stat()
    folder = tmp_path.stat()
    replacement = tmp_path / "new.part"
    replacement.write_text(path.read_text().replace("Seldom", "Hardly ever"), encoding="utf-8")
    replacement.replace(path)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    os.utime(tmp_path, ns=(folder.st_atime_ns, folder.st_mtime_ns))
    second = load_instrument("local-wai", search_path=[tmp_path])
    assert second is not first and second.response.anchors[0].label == "Hardly ever"
