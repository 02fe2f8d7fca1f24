"""Every command the README and the commands' help show runs after the README's install.

The README installs ``.[cli]``; an example that reads or writes Excel, parquet or SPSS
needs that format's package in the extras installed, and the sessions example must run
on the quick start's own output.
"""

from __future__ import annotations

import re
import shlex
import shutil
import tomllib
from pathlib import Path

import pytest

from alliance_score.cli import build_parser, main

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
NEEDS = {".xlsx": "openpyxl", ".parquet": "pyarrow", ".sav": "pyreadstat", ".dta": "pyreadstat"}


def _installed_by(extras: str) -> set[str]:
    """Distribution names pulled in by ``.[a,b]`` (extras of extras followed)."""
    table = PYPROJECT["project"]["optional-dependencies"]
    names: set[str] = set()
    todo = [e.strip() for e in extras.split(",")]
    while todo:
        for requirement in table[todo.pop()]:
            inner = re.fullmatch(r"alliance-score\[(.+)\]", requirement)
            if inner:
                todo += inner[1].split(",")
            else:
                names.add(re.split(r"[<>=\[; ]", requirement)[0].lower())
    return names


def _commands() -> list[str]:
    """``alliance-score ...`` commands in the README and in every command's help."""
    found = re.findall(r"alliance-score [^`\n]+", README)
    parser = build_parser()
    for action in parser._subparsers._group_actions:  # type: ignore[union-attr]
        for sub in action.choices.values():  # type: ignore[union-attr]
            found += re.findall(r"alliance-score [^\n]+", (sub.epilog or "").replace("\\\n", ""))
    return found


def test_every_example_needs_only_what_the_readme_installs() -> None:
    (extras,) = re.findall(r'pip install "\.\[([a-z,]+)\]"', README.replace("'", '"'))[:1]
    installed = _installed_by(extras)
    commands = _commands()
    assert any("-o scores.xlsx" in c for c in commands)
    for command in commands:
        for suffix, module in NEEDS.items():
            if re.search(rf"\S+{re.escape(suffix)}\b", command):
                assert module in installed, (command, module, extras)


def test_readme_sessions_examples_run_as_the_readme_says(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "examples").mkdir()
    for name in ("messy_wai_sr.csv", "wai-sr-clinic.csv"):
        shutil.copy(ROOT / "examples" / name, tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    (quick,) = [c for c in _commands() if "messy_wai_sr.csv" in c and "--problems" in c][:1]
    assert main(shlex.split(quick)[1:]) == 1
    clinic, on_clinic, on_quick = re.findall(
        r"`(alliance-score (?:score examples/wai-sr-clinic|sessions)[^`]+)`", README
    )
    assert main(shlex.split(clinic)[1:]) == 1  # the clinic export has one invalid answer
    capsys.readouterr()
    assert main(shlex.split(on_clinic)[1:]) == 0
    assert Path("summary.csv").is_file()
    # the quick start's output holds its duplicate administration: refused, as the README says
    assert "--client client_id" in on_quick
    assert main(shlex.split(on_quick)[1:]) == 2
    err = capsys.readouterr().err
    assert "repeat the client, session" in err
    assert "validate_long" not in err


def test_score_says_how_to_see_the_problems(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["score", str(ROOT / "examples" / "messy_wai_sr.csv"), "-i", "wai-sr"]
    assert main([*args, "-o", str(tmp_path / "s.csv")]) == 1
    assert "run again with --problems problems.csv" in capsys.readouterr().err
    problems = str(tmp_path / "p.csv")
    assert main([*args, "-o", str(tmp_path / "s2.csv"), "--problems", problems]) == 1
    assert "run again with --problems" not in capsys.readouterr().err


def test_check_explains_a_dash(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(
        ["check", str(ROOT / "examples" / "wai-sr-clinic.csv"), "-i", "wai-sr", "--no-ci"]
    ) in (0, 1)
    out = capsys.readouterr().out
    assert "'-': not computed" in out


def test_sessions_layout_problems_need_no_function_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "scores.csv"
    path.write_text("client,session,total\nA,1,3.5\n,2,3.0\nA,2,4.0\n", encoding="utf-8")
    code = main(["sessions", str(path), "--client", "client", "--session", "session"])
    err = capsys.readouterr().err
    assert code == 1, err
    assert "layout problem(s) found (shown above)" in err
    assert "validate_long" not in err
