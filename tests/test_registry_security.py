"""Definitions and instrument names as untrusted input: no shadowing of shipped keys, no
hang or crash on odd files, no path read from data, no secret echoed, warnings about
folders others can write to, and terminal-safe messages."""

from __future__ import annotations

import os
import threading
import warnings
from pathlib import Path

import pytest
from pydantic import ValidationError

from alliance_score import (
    InstrumentDefinitionError,
    Response,
    UnknownInstrumentError,
    list_instruments,
    load_instrument,
    score_frame,
    score_response,
)
from alliance_score.cli import main
from alliance_score.registry import (
    ENV_VAR,
    MAX_DEFINITION_BYTES,
    DefinitionFolderWarning,
    parse_instrument,
    shipped_directory,
)

WAI_SR = (shipped_directory() / "wai-sr.toml").read_text(encoding="utf-8")
ITEMS = [f"wai_{i}" for i in range(1, 13)]
ANSWERS: dict[str, int | float | str | None] = {str(i): 3 for i in range(1, 13)}


def _private(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    return folder


# -- item 10: a user folder never replaces the shipped key ---------------------------------


def test_user_copy_with_the_shipped_id_and_version_is_refused_naming_both(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _private(tmp_path / "defs")
    tampered = folder / "wai-sr.toml"
    tampered.write_text(WAI_SR.replace("reverse = false", "reverse = true", 1), encoding="utf-8")
    monkeypatch.setenv(ENV_VAR, str(folder))
    for ref in ("wai-sr", "wai-sr@1.0"):
        with pytest.raises(InstrumentDefinitionError) as info:
            load_instrument(ref)
        message = str(info.value)
        assert str(tampered) in message
        assert str(shipped_directory() / "wai-sr.toml") in message
    assert load_instrument("srs").origin == "shipped"  # other lookups are unaffected
    with pytest.warns(DefinitionFolderWarning, match="repeats a shipped"):
        listed = [s for s in list_instruments() if s.id == "wai-sr"]
    assert [s.shipped for s in listed] == [True]


def test_cli_refuses_the_shadowing_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _private(tmp_path / "defs")
    (folder / "wai-sr.toml").write_text(WAI_SR, encoding="utf-8")
    monkeypatch.setenv(ENV_VAR, str(folder))
    data = tmp_path / "in.csv"
    data.write_text(",".join(ITEMS) + "\n" + ",".join(["3"] * 12) + "\n", encoding="utf-8")
    assert main(["score", str(data), "-i", "wai-sr", "-o", str(tmp_path / "s.csv")]) == 2
    err = capsys.readouterr().err
    assert "repeats the shipped definition wai-sr@1.0" in err
    assert not (tmp_path / "s.csv").exists()


def test_world_writable_folder_is_warned_about(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "shared"
    folder.mkdir()
    folder.chmod(0o777)
    (folder / "agency.toml").write_text(
        WAI_SR.replace('id = "wai-sr"', 'id = "agency"', 1), encoding="utf-8"
    )
    with pytest.warns(DefinitionFolderWarning, match="writable by every user"):
        assert load_instrument("agency", search_path=[folder]).id == "agency"
    other = tmp_path / "shared-too"
    other.mkdir()
    other.chmod(0o777)
    (other / "agency.toml").write_bytes((folder / "agency.toml").read_bytes())
    monkeypatch.setenv(ENV_VAR, str(other))
    assert main(["show", "agency"]) == 0
    err = capsys.readouterr().err
    assert "alliance-score: warning: The definitions folder" in err
    assert "Traceback" not in err


def test_folder_owned_by_another_user_is_warned_about(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("changing a folder's owner needs root")
    folder = _private(tmp_path / "theirs")
    os.chown(folder, 12345, -1)
    with pytest.warns(DefinitionFolderWarning, match="owned by another user"):
        load_instrument("srs", search_path=[folder])


# -- item 11: one bad file breaks only its own id; nothing hangs or crashes -----------------


def test_broken_file_stops_only_its_own_id(tmp_path: Path) -> None:
    folder = _private(tmp_path / "defs")
    (folder / "agency.toml").write_text("id = 'agency'\n[[[broken", encoding="utf-8")
    assert load_instrument("wai-sr", search_path=[folder]).origin == "shipped"
    with pytest.raises(InstrumentDefinitionError, match=r"agency\.toml"):
        load_instrument("agency", search_path=[folder])
    with pytest.warns(DefinitionFolderWarning, match=r"agency\.toml"):
        assert "srs" in {s.id for s in list_instruments(search_path=[folder])}


def test_deeply_nested_arrays_are_a_definition_error(tmp_path: Path) -> None:
    with pytest.raises(InstrumentDefinitionError, match="nested too deeply"):
        parse_instrument("x = " + "[" * 5000 + "]" * 5000)


def test_fifo_named_toml_does_not_hang(tmp_path: Path) -> None:
    folder = _private(tmp_path / "defs")
    os.mkfifo(folder / "x.toml")
    outcome: list[object] = []

    def look() -> None:
        try:
            outcome.append(load_instrument("x", search_path=[folder]))
        except InstrumentDefinitionError as exc:
            outcome.append(exc)

    worker = threading.Thread(target=look, daemon=True)
    worker.start()
    worker.join(timeout=20)
    assert not worker.is_alive(), "looking up a FIFO hung"
    assert isinstance(outcome[0], InstrumentDefinitionError)
    assert "not a regular file" in str(outcome[0])
    assert load_instrument("srs", search_path=[folder]).id == "srs"


def test_link_to_dev_zero_and_oversized_files_are_refused(tmp_path: Path) -> None:
    folder = _private(tmp_path / "defs")
    (folder / "zero.toml").symlink_to("/dev/zero")
    big = folder / "big.toml"
    big.write_text("# " + "x" * MAX_DEFINITION_BYTES + "\n", encoding="utf-8")
    with pytest.raises(InstrumentDefinitionError, match="not a regular file"):
        load_instrument(folder / "zero.toml")
    with pytest.raises(InstrumentDefinitionError, match="larger than"):
        load_instrument(big)
    assert load_instrument("wai", search_path=[folder]).id == "wai"


def test_a_version_of_5000_digits_does_not_break_lookups(tmp_path: Path) -> None:
    folder = _private(tmp_path / "defs")
    for version in ("9" * 5000, "10"):
        text = WAI_SR.replace('version = "1.0"', f'version = "{version}"', 1)
        (folder / f"wai-sr-{version[:5]}.toml").write_text(text, encoding="utf-8")
    try:
        found = load_instrument("wai-sr", search_path=[folder])
    except InstrumentDefinitionError:
        return  # refused by the definition rules: fine, as long as nothing else breaks
    assert found.version == "9" * 5000


# -- item 12: names from data are ids, never paths; no secret is echoed ---------------------


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    path = tmp_path / "dir" / "x.toml"
    path.parent.mkdir()
    path.write_text('password = "hunter2"\n', encoding="utf-8")
    return path


def test_score_response_does_not_read_a_path_given_as_text(secret: Path) -> None:
    with pytest.raises(UnknownInstrumentError, match="not an instrument id") as info:
        score_response(str(secret), ANSWERS)
    assert "hunter2" not in str(info.value)
    relative = os.path.relpath(secret)
    with pytest.raises(UnknownInstrumentError, match="not an instrument id"):
        score_response(relative, ANSWERS)


def test_score_frame_does_not_read_a_path_given_as_text(secret: Path) -> None:
    import pandas as pd

    frame = pd.DataFrame([ANSWERS])
    with pytest.raises(UnknownInstrumentError, match="not an instrument id"):
        score_frame(frame, str(secret), items={i: i for i in ANSWERS})


@pytest.mark.parametrize("ref", ["/some/file.toml", "dir/x.toml", "..", "wai-sr@1.0/../x", ""])
def test_response_instrument_is_an_id_or_id_at_version(ref: str) -> None:
    with pytest.raises(ValidationError):
        Response(instrument=ref, answers=ANSWERS)
    assert Response(instrument="wai-sr@1.0", answers=ANSWERS).instrument == "wai-sr@1.0"


def test_a_file_that_is_not_a_definition_is_never_echoed(secret: Path) -> None:
    with pytest.raises(InstrumentDefinitionError) as info:
        load_instrument(secret)
    assert "hunter2" not in str(info.value)
    assert "not shown" in str(info.value)
    assert str(secret) in str(info.value)


def test_a_definition_with_a_mistake_still_shows_the_value() -> None:
    with pytest.raises(InstrumentDefinitionError, match="slider"):
        parse_instrument(WAI_SR.replace('kind = "likert"', 'kind = "slider"', 1))


def test_a_path_object_is_still_a_file_for_the_program() -> None:
    path = shipped_directory() / "srs.toml"
    answers = {"relationship": 9, "goals": 9, "approach": 9, "overall": 9}
    assert score_response(load_instrument(path), answers).status.value == "complete"
    assert score_response(path, answers).status.value == "complete"  # type: ignore[arg-type]


# -- item 16: control characters from files are escaped in terminal messages ---------------


def test_control_characters_in_column_names_are_escaped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "in.csv"
    header = ["client_id", "wai_1\x9b2J\u202e", *ITEMS[1:]]
    data.write_text(",".join(header) + "\n" + ",".join(["3"] * 13) + "\n", encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        argv = ["score", str(data), "-i", "wai-sr", "-o", str(tmp_path / "s.csv")]
        mapping = [f"--column={i}=wai_{i}" for i in range(2, 13)]
        assert main([*argv, "--column", "1=wai_1\x9b2J\u202e", *mapping]) == 0
    err = capsys.readouterr().err
    assert "\x9b" not in err
    assert "\u202e" not in err
    assert "1=wai_1\\x9b2J\\u202e" in err


def test_a_user_version_of_a_shipped_id_is_used_only_when_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file giving a shipped id a higher version does not change what the plain id
    scores; naming its version (or its path) uses it, with its origin recorded."""
    folder = _private(tmp_path / "defs")
    newer = folder / "wai-sr-1.1.toml"
    newer.write_text(
        WAI_SR.replace('version = "1.0"', 'version = "1.1"', 1).replace(
            "reverse = false", "reverse = true", 1
        ),
        encoding="utf-8",
    )
    monkeypatch.setenv(ENV_VAR, str(folder))
    plain = load_instrument("wai-sr")
    assert (plain.version, plain.origin) == ("1.0", "shipped")
    assert score_response("wai-sr", ANSWERS).definition_origin == "shipped"
    named = load_instrument("wai-sr@1.1")
    assert (named.version, named.origin) == ("1.1", str(newer))
    assert score_response("wai-sr@1.1", ANSWERS).definition_origin == str(newer)
    assert load_instrument(newer).version == "1.1"


def test_a_folder_made_writable_after_a_cached_lookup_is_warned_about(tmp_path: Path) -> None:
    """The cached lookup notices a change of permissions (not only of content), so the
    folder warning is not lost to the cache."""
    folder = _private(tmp_path / "defs")
    (folder / "agency.toml").write_text(
        WAI_SR.replace('id = "wai-sr"', 'id = "agency"', 1), encoding="utf-8"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert load_instrument("agency", search_path=[folder]).id == "agency"
        assert load_instrument("agency", search_path=[folder]).id == "agency"  # cached
    folder.chmod(0o777)
    with pytest.warns(DefinitionFolderWarning, match="writable by every user"):
        load_instrument("agency", search_path=[folder])
