"""The user docs are executable: every command and example on the pages runs as shown."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from catalogue_docs_runner import blocks, run_page

ROOT = Path(__file__).resolve().parents[1]
PAGES = ["authoring-instruments.md", "recovery-alliance-example.md"]


@pytest.mark.parametrize("page", PAGES)
def test_page_commands_run_as_shown(
    page: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ALLIANCE_SCORE_INSTRUMENTS", raising=False)
    ran = run_page(ROOT / "docs" / page)
    assert ran >= 5, f"{page}: only {ran} commands and examples ran"


def test_example_definition_shown_in_full_matches_the_file() -> None:
    page = ROOT / "docs" / "recovery-alliance-example.md"
    shown = [b.body for b in blocks(page) if b.lang == "toml"]
    text = (ROOT / "examples" / "recovery-alliance.toml").read_text(encoding="utf-8")
    assert shown == [text]
