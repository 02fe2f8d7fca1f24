"""Registry: shipped definitions, user definitions, versions, unknown ids."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from alliance_score import (
    InstrumentDefinitionError,
    UnknownInstrumentError,
    list_instruments,
    load_instrument,
)
from alliance_score.authoring import check_definition
from alliance_score.registry import ENV_VAR, shipped_directory

SHIPPED = {"srs", "wai", "wai-s", "wai-sr"}


def _user_copy(folder: Path, version: str, name: str = "Agency copy") -> Path:
    text = (shipped_directory() / "wai-sr.toml").read_text(encoding="utf-8")
    text = text.replace('version = "1.0"', f'version = "{version}"', 1)
    text = text.replace(
        'name = "Working Alliance Inventory, Short Revised (client)"', f'name = "{name}"', 1
    )
    path = folder / f"wai-sr-{version}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_instruments_are_listed() -> None:
    listed = {s.id: s for s in list_instruments()}
    assert set(listed) >= SHIPPED
    assert listed["wai-s"].scales == {
        "task": "provisional",
        "goal": "provisional",
        "bond": "provisional",
        "total": "provisional",
    }
    assert set(listed["wai-sr"].scales.values()) == {"verified"}
    assert listed["wai"].n_items == 36
    assert all(listed[i].shipped for i in SHIPPED)


@pytest.mark.parametrize("ref", ["wai-sr", "wai-sr@1.0"])
def test_load_by_id_and_version(ref: str) -> None:
    ins = load_instrument(ref)
    assert ins.ref == "wai-sr@1.0"
    assert load_instrument(ref) is ins  # cached


def test_load_by_path_and_instrument_passthrough() -> None:
    path = shipped_directory() / "srs.toml"
    ins = load_instrument(path)
    assert ins.id == "srs"
    assert load_instrument(ins) is ins
    assert load_instrument(str(path)).id == "srs"


@pytest.mark.parametrize(
    ("ref", "suggestion"),
    [("wai_sr", "wai-sr"), ("waisr", "wai-sr"), ("ssr", "srs"), ("wai-sr@9.9", "wai-sr@1.0")],
)
def test_unknown_id_lists_close_matches(ref: str, suggestion: str) -> None:
    with pytest.raises(UnknownInstrumentError) as info:
        load_instrument(ref)
    assert suggestion in info.value.suggestions
    assert repr(suggestion) in str(info.value)


def test_missing_path_is_unknown(tmp_path: Path) -> None:
    with pytest.raises(UnknownInstrumentError):
        load_instrument(tmp_path / "nope.toml")


def test_user_folder_from_argument_and_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _user_copy(tmp_path, "2.0")
    assert load_instrument("wai-sr").version == "1.0"
    # a shipped id without a version is the shipped key; the user's version when named
    assert load_instrument("wai-sr", search_path=[tmp_path]).version == "1.0"
    assert load_instrument("wai-sr@2.0", search_path=[tmp_path]).version == "2.0"
    assert load_instrument("wai-sr@1.0", search_path=[tmp_path]).version == "1.0"
    monkeypatch.setenv(ENV_VAR, os.pathsep.join([str(tmp_path), str(tmp_path / "absent")]))
    assert load_instrument("wai-sr@2.0").version == "2.0"
    assert load_instrument("wai-sr").origin == "shipped"
    listed = [s for s in list_instruments() if s.id == "wai-sr"]
    assert [(s.version, s.shipped) for s in listed] == [("2.0", False), ("1.0", True)]


def test_same_id_and_version_first_folder_wins(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    _user_copy(tmp_path / "a", "2.0", name="Agency copy")
    _user_copy(tmp_path / "b", "2.0", name="Other copy")
    found = load_instrument("wai-sr@2.0", search_path=[tmp_path / "a", tmp_path / "b"])
    assert found.name == "Agency copy"


def test_edited_file_is_reloaded(tmp_path: Path) -> None:
    path = _user_copy(tmp_path, "3.0", name="First")
    assert load_instrument(path).name == "First"
    path.write_text(path.read_text().replace('name = "First"', 'name = "Second"'))
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert load_instrument(path).name == "Second"


def test_definition_saved_with_a_byte_order_mark_loads(tmp_path: Path) -> None:
    # Windows editors may save UTF-8 with a byte order mark
    path = tmp_path / "agency.toml"
    text = (shipped_directory() / "wai-sr.toml").read_text(encoding="utf-8")
    path.write_text(text, encoding="utf-8-sig")
    assert load_instrument(path).ref == "wai-sr@1.0"
    assert check_definition(path).valid


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (("reverse = false", "revers = true"), "revers"),
        (('items = ["3", "5", "7", "9"]', 'items = ["3", "5", "7", "99"]'), "scales"),
        (("max = 5", "max = 1"), "response"),
        (("min_answered = 3", "min_answered = 5"), "scales[1](bond)"),
        (('kind = "likert"', 'kind = "slider"'), "response.kind"),
        (("[licence]", "[licence\n"), "not valid TOML"),
    ],
    ids=["typo", "unknown-item", "min-ge-max", "min-answered", "bad-kind", "bad-toml"],
)
def test_bad_definitions_name_the_file_and_field(
    tmp_path: Path, edit: tuple[str, str], field: str
) -> None:
    text = (shipped_directory() / "wai-sr.toml").read_text(encoding="utf-8")
    if edit[0] == "reverse = false":
        text = text.replace(
            'label = "Therapist likes me"', 'label = "Therapist likes me"\n' + edit[1]
        )
    else:
        assert edit[0] in text
        marker = 'name = "Bond"' if "min_answered" in edit[0] else ""
        if marker:
            head, tail = text.split(marker, 1)
            text = head + marker + tail.replace(edit[0], edit[1], 1)
        else:
            text = text.replace(edit[0], edit[1], 1)
    path = tmp_path / "broken.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InstrumentDefinitionError) as info:
        load_instrument(path)
    message = str(info.value)
    assert str(path) in message
    assert field in message
