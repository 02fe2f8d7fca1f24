"""The user docs are executable: every command and example on the pages runs as shown."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from alliance_score import load_instrument, score_response

from .catalogue_docs_runner import blocks, run_page

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


@pytest.mark.parametrize(
    ("trust_answers", "trust", "flag"),
    [
        # item 3 is reverse-keyed (6 - x); the example flags trust < 3
        pytest.param(("3", "3", "3", "3"), 3.0, False, id="exactly-3-not-flagged"),
        pytest.param(("3", "3", "4", "3"), 2.75, True, id="just-below-flagged"),
        pytest.param(("4", "3", "3", "3"), 3.25, False, id="just-above"),
        pytest.param(("2", "3", "", "4"), 3.0, False, id="prorated-exactly-3"),
        pytest.param(("2", "", "", "4"), None, None, id="too-few-unknown"),
    ],
)
def test_example_cutoff_boundary(
    trust_answers: tuple[str, ...], trust: float | None, flag: bool | None
) -> None:
    answers = {str(i + 1): a for i, a in enumerate(trust_answers)}
    answers |= {"5": "4", "6": "4", "7": "4", "8": "4"}
    result = score_response(
        load_instrument(ROOT / "examples" / "recovery-alliance.toml"),
        answers,
        allow_provisional=True,
    )
    assert result.scores["trust"] == trust
    assert result.flags["trust_low"] is flag
