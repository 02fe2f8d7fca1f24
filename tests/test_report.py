"""The clinician report: content as data (clients by need, alerts with their rules), the
page (escaped, no scripts, CSP, provenance, text alternatives) and the command."""

from __future__ import annotations

import datetime as dt
import re
import sys
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import alliance_score as als
from alliance_score import DataError, MissingDependencyError
from alliance_score.cli import main
from alliance_score.report import CSP, build_report, render_html, write_report

from .sessions_strategies import long_tables

ROOT = Path(__file__).resolve().parents[1]
HOSTILE = "<img src=x onerror=alert(1)>"
DAY = dt.date(2025, 1, 6)


def srs_scores() -> pd.DataFrame:
    export = pd.read_csv(ROOT / "examples" / "srs-sessions.csv", dtype=str, keep_default_na=False)
    return als.score_frame(export, "srs", keep=["client", "session"], allow_provisional=True)


class Page(HTMLParser):
    """Elements, attributes and text of a page, as a browser's parser sees them."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def all(self, tag: str, **attrs: str) -> list[dict[str, str | None]]:
        return [
            a for t, a in self.tags if t == tag and all(a.get(k) == v for k, v in attrs.items())
        ]


# -- content ----------------------------------------------------------------------------
def test_clients_come_in_order_of_need_with_the_alerts_expected() -> None:
    content = build_report(
        srs_scores(), instrument="srs", allow_provisional=True, sd=4.0, reliability=0.64
    )
    got = [(c.client, [a.kind for a in c.alerts]) for c in content.clients]
    assert got == [
        ("C05", ["below_cutoff", "reliable_deterioration", "drop"]),
        ("C02", ["below_cutoff", "drop"]),
        ("C03", ["open_rupture"]),
        (HOSTILE, ["drop"]),
        ("C01", []),
    ]
    assert content.not_evaluated == ()
    c02 = content.clients[1]
    assert c02.alerts[0].rule == (
        "total 35.2 at session 3 (the last scored) is < 36: cut-off total_below_36 (provisional)"
    )
    assert c02.alerts[0].provisional
    assert c02.alerts[1].rule == (
        "total 35.2 at session 3 is 1.3 points below 36.5 at the scored session before it "
        "(rule: 1 point or more)"
    )
    c05 = content.clients[0]
    assert c05.alerts[1].rule.endswith("RCI -2.65 < -1.96")
    assert "has not come back to 38 (session 6)" in content.clients[2].alerts[0].rule
    assert content.clients[2].ruptures == ((7.0, None),)


def test_unscored_sessions_are_listed_with_their_status_never_as_zero() -> None:
    content = build_report(srs_scores(), instrument="srs")
    section = next(c for c in content.clients if c.client == HOSTILE)
    assert [(s.session, s.score, s.status, s.n_problems) for s in section.sessions] == [
        (1.0, 37.0, "complete", 0),
        (2.0, None, "invalid", 1),
        (3.0, 36.0, "complete", 0),
    ]
    c05 = next(c for c in content.clients if c.client == "C05")
    assert c05.sessions[-1].prorated and c05.sessions[-1].status == "prorated"


def test_sessions_name_their_problems_from_the_problems_table() -> None:
    export = pd.read_csv(ROOT / "examples" / "srs-sessions.csv", dtype=str, keep_default_na=False)
    result = als.score_frame(
        export, "srs", keep=["client", "session"], allow_provisional=True, return_problems=True
    )
    shuffled = result.problems.iloc[::-1]  # matched by row, not by order
    extra = pd.DataFrame({"row": [None, 999], "code": ["ragged_line", "x"], "item": [None, None]})
    content = build_report(result.scores, problems=pd.concat([shuffled, extra]))
    assert content.provenance.instrument == "srs@3.0"  # from the scores' attrs
    problems = {(c.client, s.session): s.problems for c in content.clients for s in c.sessions}
    assert problems[(HOSTILE, 2.0)] == ("out_of_range (item goals)",)
    assert sum(1 for p in problems.values() if p) == 1
    page = render_html(content)
    assert "out_of_range (item goals)" in page and ">12<" not in page  # codes, not answers
    with pytest.raises(DataError, match="'code'"):
        build_report(result.scores, problems=pd.DataFrame({"row": [1]}))


def test_a_client_without_a_scored_session_is_listed_last_without_alerts() -> None:
    scores = pd.DataFrame(
        {
            "client": ["a", "a", "b"],
            "session": [1, 2, 1],
            "total": [None, None, 30.0],
            "status": ["invalid", "insufficient", "complete"],
        }
    )
    content = build_report(scores, cutoff=36.0)
    assert [(c.client, len(c.alerts)) for c in content.clients] == [("b", 1), ("a", 0)]
    assert content.clients[1].last_rated is None
    assert "not scored (invalid)" in render_html(content)


def test_sessions_entered_twice_are_refused_naming_their_rows() -> None:
    scores = pd.DataFrame(
        {"client": ["b", "a", "a", "a"], "session": [1, 1, 2, 2], "total": [30.0, 38, 37, 30]}
    )
    with pytest.raises(DataError, match=r"2 rows .* \(rows 2, 3, 0-based\): a session entered"):
        build_report(scores, instrument="srs")
    assert build_report(scores, clients=["b"]).clients[0].client == "b"


def test_a_provisional_cutoff_is_not_used_without_the_opt_in() -> None:
    content = build_report(srs_scores(), instrument="srs")
    kinds = {a.kind for c in content.clients for a in c.alerts}
    assert "below_cutoff" not in kinds
    assert content.cutoff is None
    assert any("provisional" in r and "--allow-provisional" in r for r in content.not_evaluated)
    assert any(r.startswith("Reliable deterioration") for r in content.not_evaluated)
    # the scores file itself still holds the provisional flag, and the footer says so
    assert content.provenance.provisional == ("cut-off total_below_36 (< 36)",)


def test_own_cutoff_drop_and_client_selection() -> None:
    content = build_report(
        srs_scores(), instrument="srs", cutoff=37.5, drop=3.0, clients=["C03", "C05"]
    )
    got = {c.client: [a.kind for a in c.alerts] for c in content.clients}
    assert got == {"C05": ["below_cutoff", "drop"], "C03": ["below_cutoff", "open_rupture"]}
    assert content.cutoff is not None and not content.cutoff.provisional
    # two alerts each; an open rupture ranks above a drop
    assert [c.client for c in content.clients] == ["C03", "C05"]


def test_default_drop_is_a_share_of_the_scale_range() -> None:
    content = build_report(srs_scores(), instrument="srs")
    assert any("1 point or more" in r for r in content.rules)
    wai = pd.DataFrame({"client": "a", "session": [1, 2], "total": [4.0, 3.85]})
    rules = build_report(wai, instrument="wai-sr").rules
    assert any("0.1 points or more" in r for r in rules)  # 2.5% of 1-5
    alerts = build_report(wai, instrument="wai-sr").clients[0].alerts
    assert [a.kind for a in alerts] == ["drop"]


def test_reliable_change_uses_higher_is_better_and_criterion() -> None:
    scores = pd.DataFrame({"client": "a", "session": [1, 2], "total": [39.0, 30.0]})
    strict = build_report(scores, sd=4.0, reliability=0.64, criterion=2.0)
    assert [a.kind for a in strict.clients[0].alerts] == ["reliable_deterioration", "drop"]
    lenient = build_report(scores, sd=4.0, reliability=0.64, criterion=2.7)  # RCI -2.65
    assert [a.kind for a in lenient.clients[0].alerts] == ["drop"]


@settings(max_examples=25, deadline=None)
@given(table=long_tables())
def test_alerts_follow_their_rules_on_any_caseload(table: pd.DataFrame) -> None:
    content = build_report(table, cutoff=4.0, drop=1.0)
    assert sorted(c.client for c in content.clients) == sorted(table["client"].unique())
    for section in content.clients:
        rated = table.loc[(table["client"] == section.client) & table["total"].notna()]
        rated = rated.sort_values(["session", "total"], kind="mergesort")
        kinds = [a.kind for a in section.alerts]
        last = rated["total"].to_numpy()[-1] if len(rated) else None
        assert ("below_cutoff" in kinds) == (last is not None and last < 4.0)
        fell = len(rated) > 1 and rated["total"].to_numpy()[-2] - last >= 1.0
        assert ("drop" in kinds) == fell
        assert [s.session for s in section.sessions] == sorted(
            table.loc[table["client"] == section.client, "session"].astype(float)
        )
    needs = [c.need for c in content.clients]
    assert needs == sorted(needs)  # in order of need


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"clients": ["nobody"]}, "not in the data"),
        ({"drop": -1.0}, "drop must be"),
        ({"criterion": 0.0}, "criterion"),
        ({"rupture_method": "x"}, "rupture_method"),
        ({"sd": -1.0, "reliability": 0.5}, "sd must be"),
        ({"sd": 4.0, "reliability": 1.0}, "reliability must be"),
        ({"scale": "nope"}, "scale column 'nope'"),
    ],
    ids=["unknown-client", "drop", "criterion", "method", "sd", "reliability", "scale"],
)
def test_bad_options_are_library_errors(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(DataError, match=match):
        build_report(srs_scores(), **kwargs)  # type: ignore[arg-type]


def test_scores_outside_the_instruments_range_are_refused() -> None:
    wai = pd.DataFrame({"client": "a", "session": [1, 2], "total": [4.0, 38.0]})
    with pytest.raises(DataError, match=r"1 score\(s\) .* outside the range of wai-sr@1.0"):
        build_report(wai, instrument="wai-sr")


@pytest.mark.parametrize(
    ("frame", "match"),
    [
        (pd.DataFrame({"client": ["a", None], "session": [1, 2], "total": [1.0, 2.0]}), "blank"),
        (pd.DataFrame({"client": ["a", "a"], "session": [1, None], "total": [1.0, 2.0]}), "blank"),
        (pd.DataFrame({"client": ["a"], "session": ["one"], "total": [1.0]}), "numbers"),
        (pd.DataFrame({"client": [], "session": [], "total": []}), "no rows"),
    ],
    ids=["blank-client", "blank-session", "text-session", "empty"],
)
def test_bad_tables_are_library_errors(frame: pd.DataFrame, match: str) -> None:
    with pytest.raises(DataError, match=match):
        build_report(frame)


# -- the page ---------------------------------------------------------------------------
def test_page_is_self_contained_escaped_and_has_provenance() -> None:
    content = build_report(
        srs_scores(),
        instrument="srs",
        allow_provisional=True,
        sd=4.0,
        reliability=0.64,
        generated=DAY,
    )
    page = render_html(content)
    parsed = Page(page)
    assert parsed.all("meta", **{"http-equiv": "Content-Security-Policy"})[0]["content"] == CSP
    assert "script-src" not in CSP and "default-src 'none'" in CSP  # scripts fall back: none
    assert not parsed.all("script") and not parsed.all("img") and not parsed.all("link")
    handlers = [k for _, attrs in parsed.tags for k in attrs if k.startswith("on")]
    assert handlers == []  # no event-handler attribute anywhere
    assert not re.search(r"(?:src|href)=\"(?:https?:)?//", page)
    assert HOSTILE in "".join(parsed.text)  # shown as text
    # each client section: alerts with their kind, a chart with a text alternative
    sections = parsed.all("section", **{"class": "client"})
    assert len(sections) == 5
    kinds = [a["data-kind"] for a in parsed.all("li", **{"class": "alert"})]
    assert kinds.count("below_cutoff") == 2 and kinds.count("open_rupture") == 1
    figures = parsed.all("figure", **{"class": "chart"})
    assert len(figures) == 5 and all(f["role"] == "img" and f["aria-label"] for f in figures)
    assert figures[0]["aria-label"].startswith("Total by session. session 1: 39; ")  # type: ignore[union-attr]
    assert "session 4: 30 (prorated)" in str(figures[0]["aria-label"])
    ids = [a["id"] for _, a in parsed.tags if a.get("id")]
    assert len(ids) == len(set(ids))  # the SVGs' ids do not collide
    footer = "".join(parsed.text)
    for text in (
        "srs@3.0",
        "Session Rating Scale v3.0",
        content.provenance.definition_hash,
        f"alliance-score {als.__version__}",
        "2025-01-06",
        "cut-off total_below_36 (< 36)",
    ):
        assert text in footer, text
    assert "@page" in page and "size: A4" in page


@settings(max_examples=8, deadline=None)
@given(client=st.text(min_size=1, max_size=30).filter(lambda t: t.strip() != ""))
def test_any_client_id_stays_text(client: str) -> None:
    scores = pd.DataFrame({"client": client, "session": [1, 2], "total": [38.0, 30.0]})
    page = render_html(build_report(scores, instrument="srs", generated=DAY))
    parsed = Page(page)
    assert not parsed.all("script") and not parsed.all("img")
    heading = page.split('<h2 id="client-1-title">', 1)[1].split("</h2>", 1)[0]
    unescaped = Page(heading)
    assert unescaped.tags == []  # the id made no element
    assert "".join(unescaped.text) == "Client " + client


def test_write_report_replaces_the_file_whole(tmp_path: Path) -> None:
    target = tmp_path / "report.html"
    target.write_text("old", encoding="utf-8")
    write_report(srs_scores(), target, instrument="srs", clients=["C01"], generated=DAY)
    assert target.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]
    with pytest.raises(als.UnreadableFileError, match="Cannot write the report"):
        write_report(srs_scores(), tmp_path / "missing" / "r.html")


def test_a_missing_jinja2_gives_the_install_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "jinja2", None)
    with pytest.raises(MissingDependencyError, match=r"alliance-score\[report\]"):
        render_html(build_report(srs_scores()))


# -- the command ------------------------------------------------------------------------
def _scores_file(tmp_path: Path) -> Path:
    path = tmp_path / "scores.csv"
    assert (
        main(
            [
                "score",
                str(ROOT / "examples" / "srs-sessions.csv"),
                "-i",
                "srs",
                "--keep",
                "client",
                "session",
                "--allow-provisional",
                "-o",
                str(path),
                "--problems",
                str(path.with_name("problems.csv")),
                "-q",
            ]
        )
        == 1
    )
    return path


def test_command_writes_the_report_the_library_builds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scores = _scores_file(tmp_path)
    out = tmp_path / "report.html"
    args = [
        "report",
        str(scores),
        "--client",
        "client",
        "--session",
        "session",
        "-i",
        "srs",
        "--allow-provisional",
        "--sd",
        "4",
        "--reliability",
        "0.64",
        "--problems",
        str(tmp_path / "problems.csv"),
        "-o",
        str(out),
    ]
    assert main(args) == 0
    err = capsys.readouterr().err
    assert "5 client(s), 4 with alerts (7 alert(s))" in err
    parsed = Page(out.read_text(encoding="utf-8"))
    rows = parsed.all("tr", **{"class": "client-row"})
    assert [r["data-alerts"] for r in rows] == ["3", "2", "1", "1", "0"]
    assert "out_of_range (item goals)" in "".join(parsed.text)
    assert main([*args[:-2], "--clients", "C01", "C02", "-o", str(out)]) == 0
    assert len(Page(out.read_text(encoding="utf-8")).all("section", **{"class": "client"})) == 2


def test_command_says_which_alerts_were_not_evaluated(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scores = _scores_file(tmp_path)
    out = tmp_path / "r.html"
    code = main(
        [
            "report",
            str(scores),
            "--client",
            "client",
            "--session",
            "session",
            "-i",
            "srs",
            "-o",
            str(out),
        ]
    )
    assert code == 0
    err = capsys.readouterr().err
    assert "not evaluated: Below the cut-off" in err and "--allow-provisional" in err


@pytest.mark.parametrize(
    ("extra", "match"),
    [
        (["--cutoff", "30", "--no-cutoff"], "exclude each other"),
        (["--sd", "4"], "together"),
        (["--drop", "nan"], "finite"),
        (["--clients", "nobody"], "not in the data"),
        (["--score", "nope"], "nope"),
        (["--problems", "-"], "needs a file"),
        (["--problems", "missing.csv"], "missing.csv"),
    ],
    ids=[
        "cutoff-twice",
        "sd-alone",
        "nan-drop",
        "unknown-client",
        "unknown-score",
        "problems-stdin",
        "problems-missing",
    ],
)
def test_command_usage_errors_exit_2_and_write_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], match: str
) -> None:
    scores = _scores_file(tmp_path)
    out = tmp_path / "r.html"
    code = main(
        [
            "report",
            str(scores),
            "--client",
            "client",
            "--session",
            "session",
            "-o",
            str(out),
            *extra,
        ]
    )
    assert code == 2
    assert match in capsys.readouterr().err
    assert not out.exists()


def test_command_refuses_to_overwrite_its_input(tmp_path: Path) -> None:
    scores = _scores_file(tmp_path)
    before = scores.read_bytes()
    code = main(
        ["report", str(scores), "--client", "client", "--session", "session", "-o", str(scores)]
    )
    assert code == 2 and scores.read_bytes() == before
