"""The executed example in docs/sessions.md stays true."""

from __future__ import annotations

import doctest
from pathlib import Path

import pandas as pd

DOC = Path(__file__).resolve().parent.parent / "docs" / "sessions.md"


def test_sessions_doc_examples_run_and_match() -> None:
    with pd.option_context("display.width", 100):
        result = doctest.testfile(
            str(DOC),
            module_relative=False,
            optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS,
            verbose=False,
        )
    assert result.attempted >= 10
    assert result.failed == 0
