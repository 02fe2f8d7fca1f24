"""Notebook display: compact, escaped HTML for instruments, results and reports."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

import alliance_score as als

ROOT = Path(__file__).resolve().parents[1]
ALLOWED = {"div", "p", "strong", "table", "thead", "tbody", "tr", "th", "td", "code"}
HOSTILE = "<script>alert(1)</script>"


class Tags(HTMLParser):
    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attrs: list[str] = []
        self.text: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs += [k for k, _ in attrs]

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _safe(html: str) -> str:
    parsed = Tags(html)
    assert set(parsed.tags) <= ALLOWED, set(parsed.tags) - ALLOWED
    assert set(parsed.attrs) <= {"class", "colspan"}
    return "".join(parsed.text)


def test_instrument_shows_scales_with_status_licence_and_response_scale() -> None:
    ins = als.load_instrument("wai-s")
    text = _safe(ins._repr_html_())
    for fact in (
        "WAI-S",
        "wai-s@",
        "likert 1\u20137",
        "1 Never",
        "provisional",
        "copyrighted",
        "shipped",
        ins.content_hash,
    ):
        assert fact in text, fact
    srs = _safe(als.load_instrument("srs")._repr_html_())
    assert "total_below_36" in srs and "total < 36" in srs
    assert "verified" in srs  # the SRS total is verified, every WAI-S scale provisional


@settings(max_examples=30, deadline=None)
@given(name=st.text(min_size=1, max_size=40))
def test_instrument_text_is_escaped(name: str) -> None:
    ins = als.load_instrument("srs").model_copy(update={"name": name, "short_name": HOSTILE})
    text = _safe(ins._repr_html_())
    assert name in text and HOSTILE in text


def test_score_result_shows_scores_flags_problems_and_provenance() -> None:
    result = als.score_response(
        "srs", {"relationship": 9.1, "goals": 8.9, "approach": 9.0}, allow_provisional=True
    )
    text = _safe(result._repr_html_())
    for fact in (
        "srs@3.0: prorated",
        "total",
        "36",
        "True",
        "total_below_36=False",
        "provisional",
        result.definition_hash,
    ):
        assert fact in text, fact
    bad = als.score_response("srs", {"relationship": HOSTILE})
    bad_text = _safe(bad._repr_html_())
    assert "not_a_number" in bad_text and HOSTILE in bad_text


def test_frame_result_shows_status_counts_problems_and_mapping() -> None:
    export = pd.read_csv(
        ROOT / "examples" / "messy_wai_sr.csv",
        dtype=str,
        keep_default_na=False,
        encoding="utf-8-sig",
    )
    result = als.score_frame(export, "wai-sr", return_problems=True)
    text = _safe(result._repr_html_())
    for fact in ("wai-sr@1.0: 18 rows", "complete", "invalid", "out_of_range", "wai_sr_01"):
        assert fact in text, fact
    assert "\u2026 " not in text  # 12 items: the mapping fits


def test_long_tables_are_cut_and_say_how_many_rows_are_left_out() -> None:
    columns = {str(i): f"{HOSTILE}{i}" for i in range(1, 37)}
    data = pd.DataFrame(np.full((2, 36), "4"), columns=list(columns.values()))
    result = als.score_frame(
        data, "wai", items=columns, allow_provisional=True, return_problems=True
    )
    text = _safe(result._repr_html_())
    assert "\u2026 24 more" in text and f"{HOSTILE}1" in text


def test_psychometric_report_shows_reliability_and_failed_checks() -> None:
    export = pd.read_csv(ROOT / "examples" / "wai-sr-clinic.csv", dtype=str, keep_default_na=False)
    report = als.psychometric_report(export, "wai-sr")
    text = _safe(report._repr_html_())
    assert "wai-sr@1.0" in text and "alpha" in text and "omega_total" in text
    assert "lambda6" in text
    counts = report.keying["status"].value_counts()
    assert f"keying checks: {int(counts.get('fail', 0))} failed, " in text
    for message in report.keying.loc[report.keying["status"] == "fail", "message"].head(12):
        assert message in text
