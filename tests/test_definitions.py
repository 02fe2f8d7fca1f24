"""Bad definitions fail on load with the file name, the field path and the rule.

Each case edits the fictional example definition (``examples/recovery-alliance.toml``)
in one way and names the field path and message the error must carry.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from alliance_score import InstrumentDefinitionError, load_instrument
from alliance_score.authoring import check_definition

ROOT = Path(__file__).resolve().parents[1]
BASE = (ROOT / "examples" / "recovery-alliance.toml").read_text(encoding="utf-8")

CUTOFF_STATUS = 'status = "provisional"\nevidence = { level = "U"'

CASES = [
    pytest.param(
        [("reverse = true", "revers = true")],
        "items[2](3).revers",
        "Extra inputs are not permitted",
        id="typo-field",
    ),
    pytest.param(
        [('items = ["5", "6", "7", "8"]', 'items = ["5", "6", "7", "9"]')],
        "scales[1](bond).items",
        "lists items that do not exist (got ['9'])",
        id="scale-item-missing",
    ),
    pytest.param(
        [("min = 1\nmax = 5", "min = 5\nmax = 5")],
        "response.max",
        "must be greater than min (5) (got 5.0)",
        id="min-equals-max",
    ),
    pytest.param(
        [("min = 1\nmax = 5", "min = 6\nmax = 5")],
        "response.max",
        "must be greater than min (6)",
        id="min-above-max",
    ),
    pytest.param(
        [("min = 1\nmax = 5", "min = 1\nmax = 5\nstep = 0")],
        "response.step",
        "greater than or equal to 0.0001 (got 0)",
        id="step-zero",
    ),
    pytest.param(
        [
            ('kind = "likert"', 'kind = "vas"'),
            ("min = 1\nmax = 5", "min = 0\nmax = 10\nstep = nan"),
        ],
        "response.step",
        "Input should be a finite number",
        id="step-nan",
    ),
    pytest.param(
        [('kind = "likert"', 'kind = "vas"'), ("min = 1\nmax = 5", "min = 0\nmax = inf")],
        "response.max",
        "Input should be a finite number",
        id="max-infinite",
    ),
    pytest.param(
        [("value = 3\nflag", "value = 7\nflag")],
        "cutoffs[0](trust_low).value",
        "must lie inside the range of scale 'trust' (1 to 5) (got 7.0)",
        id="cutoff-outside-range",
    ),
    pytest.param(
        [('status = "provisional"', 'status = "verified"')],
        "scales[0](trust).status",
        "declared verified but its evidence for response scale, reversed items, item list, "
        "scoring formula is below P or S2",
        id="verified-unsupported",
    ),
    pytest.param(
        [('flag = "trust_low"', 'flag = "status"')],
        "cutoffs[0](status).flag",
        "must not be the name of another output column (got 'status')",
        id="flag-is-status",
    ),
    pytest.param(
        [('flag = "trust_low"', 'flag = "trust_prorated"')],
        "cutoffs[0](trust_prorated).flag",
        "must not be the name of another output column (got 'trust_prorated')",
        id="flag-is-prorated-column",
    ),
    pytest.param(
        [('id = "bond"', 'id = "n_answered"')],
        "scales[1](n_answered).id",
        "must not be the name of another output column (got 'n_answered')",
        id="scale-is-n-answered",
    ),
    pytest.param(
        [(CUTOFF_STATUS, CUTOFF_STATUS.replace("provisional", "verified"))],
        "cutoffs[0](trust_low).status",
        "is declared verified but its evidence is below P or S2",
        id="verified-cutoff-unsupported",
    ),
    pytest.param(
        [('sources = ["agency-manual"]\nnote = "Item 3', 'sources = ["manual"]\nnote = "Item 3')],
        "reversed_evidence.sources",
        "cites source keys not listed in [[sources]] (got ['manual'])",
        id="unknown-source",
    ),
    pytest.param(
        [('id = "8"', 'id = "7"'), ('"7", "8"]', '"7"]')],
        "items",
        "each item id must be unique; repeated (got ['7'])",
        id="duplicate-item",
    ),
    pytest.param(
        [("min_answered = 3", "min_answered = 5")],
        "scales[0](trust).min_answered",
        "must be from 1 to the number of items (4) (got 5)",
        id="min-answered-above-items",
    ),
    pytest.param(
        [('method = "mean"', 'method = "median"')],
        "scales[0](trust).method",
        "Input should be 'mean', 'sum', 'tcu' or 'pomp'",
        id="unknown-method",
    ),
    pytest.param(
        [('level = "U", sources = ["agency-manual"], note = "Fictional', 'level = "X", note = "F')],
        "response.evidence.level",
        "Input should be 'P', 'S2', 'S' or 'U'",
        id="unknown-level",
    ),
    pytest.param(
        [
            ('status = "user-supplied"', 'status = "copyrighted"'),
            ('label = "We get on well"', 'label = "We get on well"\nwording = "..."'),
        ],
        "items[5](6).wording",
        "must be empty: the instrument is copyrighted",
        id="wording-of-copyrighted",
    ),
    pytest.param(
        [("[licence]", "[licence")],
        "",
        "not valid TOML",
        id="not-toml",
    ),
]


def _write(tmp_path: Path, edits: list[tuple[str, str]]) -> Path:
    text = BASE
    for old, new in edits:
        assert old in text, f"test edit does not apply: {old!r}"
        text = text.replace(old, new, 1)
    path = tmp_path / "agency.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_base_definition_is_valid() -> None:
    assert check_definition(ROOT / "examples" / "recovery-alliance.toml").valid


@pytest.mark.parametrize(("edits", "path", "message"), CASES)
def test_bad_definition_names_file_and_field_path(
    tmp_path: Path, edits: list[tuple[str, str]], path: str, message: str
) -> None:
    file = _write(tmp_path, edits)
    with pytest.raises(InstrumentDefinitionError) as info:
        load_instrument(file)
    text = str(info.value)
    assert str(file) in text
    assert path in text
    assert message in text
    assert info.value.source == str(file)


@pytest.mark.parametrize(("edits", "path", "message"), CASES)
def test_check_definition_reports_the_problem_at_its_path(
    tmp_path: Path, edits: list[tuple[str, str]], path: str, message: str
) -> None:
    report = check_definition(_write(tmp_path, edits))
    assert not report.valid
    assert report.instrument is None
    shown = [
        (p.path, p.message + ("" if p.value is None else f" (got {p.value})"))
        for p in report.problems
    ]
    assert any(where == path and message in text for where, text in shown), shown


def test_every_field_problem_is_reported_at_once(tmp_path: Path) -> None:
    file = _write(
        tmp_path,
        [
            ("reverse = true", "revers = true"),
            ('method = "mean"', 'method = "median"'),
            ("min_answered = 3", "min_answered = 0"),
        ],
    )
    paths = [p.path for p in check_definition(file).problems]
    assert paths == [
        "items[2](3).revers",
        "scales[0](trust).method",
        "scales[0](trust).min_answered",
    ]


def test_every_cross_field_problem_is_reported_at_once(tmp_path: Path) -> None:
    file = _write(
        tmp_path,
        [
            ('items = ["5", "6", "7", "8"]', 'items = ["5", "6", "7", "9"]'),
            ("value = 3\nflag", "value = 7\nflag"),
            ('status = "provisional"', 'status = "verified"'),
        ],
    )
    paths = [p.path for p in check_definition(file).problems]
    assert paths == [
        "scales[0](trust).status",
        "scales[1](bond).items",
        "cutoffs[0](trust_low).value",
    ]


def test_cautious_provisional_status_is_a_note_not_a_problem(tmp_path: Path) -> None:
    file = _write(tmp_path, [])
    text = file.read_text().replace('level = "U"', 'level = "P"')
    file.write_text(text)
    report = check_definition(file)
    assert report.valid
    assert report.notes == (
        "scale 'trust' is declared provisional although its ledger supports verified",
        "scale 'bond' is declared provisional although its ledger supports verified",
    )
