"""Start-up: the package and the light commands load no heavy dependency."""

from __future__ import annotations

import subprocess
import sys

import pytest

import alliance_score
from alliance_score.cli import build_parser

HEAVY = ("numpy", "pandas", "pyarrow", "scipy", "numba")
PROBE = """
import sys
from alliance_score.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
heavy = [m for m in {heavy!r} if m in sys.modules]
print("loaded:", ",".join(heavy), "exit:", code, file=sys.stderr)
"""


def _loaded(*argv: str) -> tuple[list[str], str]:
    done = subprocess.run(  # noqa: S603 - this interpreter, fixed arguments
        [sys.executable, "-c", PROBE.format(heavy=HEAVY), *argv],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("loaded:"), done.stderr
    names = last.split()[1]
    return ([n for n in names.split(",") if n] if names != "exit:" else []), last


@pytest.mark.parametrize(
    "argv",
    [["--help"], ["--version"], ["instruments"], ["show", "wai-sr"], ["nonsense"]],
    ids=["help", "version", "instruments", "show", "usage-error"],
)
def test_light_commands_import_no_heavy_dependency(argv: list[str]) -> None:
    loaded, line = _loaded(*argv)
    assert loaded == [], line


def test_a_scoring_command_loads_what_it_needs() -> None:
    loaded, line = _loaded("score", "--help")
    assert "pandas" in loaded, line


def test_importing_the_package_loads_no_heavy_dependency() -> None:
    code = f"import sys, alliance_score; print([m for m in {HEAVY!r} if m in sys.modules])"
    done = subprocess.run(  # noqa: S603 - this interpreter, fixed arguments
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.strip() == "[]"


def test_every_public_name_resolves_and_unknown_names_fail() -> None:
    for name in alliance_score.__all__:
        assert getattr(alliance_score, name) is not None, name
    assert set(alliance_score.__all__) <= set(dir(alliance_score))
    assert alliance_score.sessions.__name__ == "alliance_score.sessions"
    with pytest.raises(AttributeError, match="no attribute 'score_everything'"):
        alliance_score.score_everything  # noqa: B018


def test_the_lazy_listing_matches_the_registered_commands() -> None:
    """The help listing read from the command modules' source equals what the modules
    register when imported."""

    def listing(parser: object) -> list[tuple[str, str | None]]:
        sub = next(a for a in parser._actions if a.dest == "command")  # type: ignore[attr-defined]
        return [(c.dest, c.help) for c in sub._choices_actions]

    assert listing(build_parser("")) == listing(build_parser())


def test_each_command_builds_beside_the_others_sub_commands() -> None:
    """A command's own sub-commands (``fhir score``) are not read as top-level commands
    when the parser is built for another command."""
    from alliance_score.cli import COMMANDS, build_parser

    for command in ("score", "instruments", "fhir", "serve", "report"):
        parser = build_parser(command)
        assert parser.prog == "alliance-score"
    assert "fhir" in COMMANDS
