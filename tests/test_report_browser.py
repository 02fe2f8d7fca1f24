"""The clinician report in a real browser: headless Chromium renders it to a screenshot and
an A4 PDF, with no network request and no console error, and shows the alerts expected on
the example caseload. Skipped without Chromium, except in CI (CI=true), where it fails."""

from __future__ import annotations

import datetime as dt
import io
import os
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib import image

import alliance_score as als
from alliance_score.report import CSP, write_report

from .browser import Browser, browser, chromium

ROOT = Path(__file__).resolve().parents[1]
HOSTILE = "<img src=x onerror=alert(1)>"
EXPECTED = [
    ("Client C05", ["below_cutoff", "reliable_deterioration", "drop"]),
    ("Client C02", ["below_cutoff", "drop"]),
    ("Client C03", ["open_rupture"]),
    (f"Client {HOSTILE}", ["drop"]),
    ("Client C01", []),
]


@pytest.fixture(scope="module")
def chrome() -> Iterator[Browser]:
    executable = chromium()
    if executable is None:
        if os.environ.get("CI") == "true":
            pytest.fail("Chromium is required in CI (apt-get install chromium)")
        pytest.skip("Chromium is not installed")
    with browser(executable) as b:
        yield b


@pytest.fixture(scope="module")
def report_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    export = pd.read_csv(ROOT / "examples" / "srs-sessions.csv", dtype=str, keep_default_na=False)
    result = als.score_frame(
        export, "srs", keep=["client", "session"], allow_provisional=True, return_problems=True
    )
    path = tmp_path_factory.mktemp("report") / "report.html"
    write_report(
        result.scores,
        path,
        problems=result.problems,
        instrument="srs",
        allow_provisional=True,
        sd=4.0,
        reliability=0.64,
        generated=dt.date(2025, 1, 6),
    )
    return path


def test_report_renders_offline_without_errors_and_shows_the_alerts(
    chrome: Browser, report_file: Path
) -> None:
    url = report_file.as_uri()
    log = chrome.open(url)
    assert log.requests == [url]  # the page itself, nothing else
    assert log.blocked == []
    assert log.errors == []
    assert log.console == []
    sections = chrome.evaluate(
        "[...document.querySelectorAll('section.client')].map(s => ["
        "s.querySelector('h2').textContent,"
        "[...s.querySelectorAll('li.alert')].map(e => e.dataset.kind)])"
    )
    assert [tuple(s) for s in sections] == [(h, k) for h, k in EXPECTED]
    assert chrome.evaluate("document.querySelectorAll('img, script, iframe').length") == 0
    rules = chrome.evaluate(
        "[...document.querySelectorAll('section.client li.alert .rule')].map(e => e.textContent)"
    )
    assert "total 35.2 at session 3 (the last scored) is < 36" in " ".join(rules)
    charts = chrome.evaluate(
        "[...document.querySelectorAll('figure.chart')].map(f => "
        "[f.getAttribute('aria-label'), f.querySelector('svg').getBoundingClientRect().height])"
    )
    assert len(charts) == 5 and all(label and height > 100 for label, height in charts)
    sessions = chrome.evaluate(
        "[...document.querySelectorAll('section.client')[3].querySelectorAll('table.sessions"
        " tbody tr')].map(r => [...r.cells].map(c => c.textContent))"
    )
    assert [row[:4] for row in sessions] == [
        ["1", "37", "complete", "none"],
        ["2", "\u2013", "invalid", "out_of_range (item goals)"],
        ["3", "36", "complete", "none"],
    ]
    footer = chrome.evaluate("document.querySelector('#provenance').textContent")
    assert "sha256:" in footer and "cut-off total_below_36 (< 36)" in footer


def test_report_screenshot_is_not_blank(chrome: Browser, report_file: Path) -> None:
    chrome.open(report_file.as_uri())
    png = chrome.screenshot()
    pixels = image.imread(io.BytesIO(png), format="png")[..., :3]
    assert pixels.shape[0] > 1400 and pixels.shape[1] >= 900  # the whole page
    ink = (pixels.mean(axis=2) < 0.9).mean()
    assert 0.02 < ink < 0.6, ink  # text and charts, not an empty or black page
    assert float(np.std(pixels)) > 0.05


def test_report_prints_to_a4_with_one_page_per_client(chrome: Browser, report_file: Path) -> None:
    chrome.open(report_file.as_uri())
    pdf = chrome.pdf()
    assert pdf.startswith(b"%PDF-")
    pages = re.findall(rb"/Type\s*/Page\b", pdf)
    assert len(pages) == 1 + len(EXPECTED)  # the overview, then one page per client
    box = re.search(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", pdf)
    assert box is not None
    assert (float(box.group(1)), float(box.group(2))) == pytest.approx((595.3, 841.9), abs=1.0)


def test_the_policy_blocks_scripts_and_requests(chrome: Browser, tmp_path: Path) -> None:
    """The checks above can see a request or a script: a page with the report's policy and
    an injected script and remote image makes neither run nor load."""
    page = tmp_path / "injected.html"
    page.write_text(
        f'<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" '
        f'content="{CSP}"><title>t</title></head><body><p>x</p>'
        '<img src="http://127.0.0.1:9/x.png"><script>document.title = "ran"</script>'
        "</body></html>",
        encoding="utf-8",
    )
    log = chrome.open(page.as_uri())
    assert chrome.evaluate("document.title") == "t"
    remote = [u for u in log.requests if u.startswith("http")]
    assert remote == ["http://127.0.0.1:9/x.png"]  # asked for, and seen by the checks ...
    assert (remote[0], "csp") in log.blocked  # ... but blocked by the policy
    assert [u for u in log.responses if u.startswith("http")] == []
    assert any("Content Security Policy" in text for _, text in log.console)
