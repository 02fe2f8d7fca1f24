"""``alliance-score check``: reliability and keying checks of an export."""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from typing import Any

from ..coding import coding_notes
from ..io import read_table
from ..io.value_labels import relabel
from ..mapping import resolve_columns
from ..psychometrics import psychometric_report
from ..registry import load_instrument
from . import _common

__all__ = ["register"]

EPILOG = """\
examples:
  alliance-score check export.csv --instrument wai-sr
  alliance-score check export.csv -i wai-s --columns 'wai_{item}' --missing-code -99 --json
  alliance-score check export.csv -i wai-s --allow-provisional --missing listwise

exit codes: 0 no keying problem, 1 a keying check failed (the report names the items),
2 usage error or unreadable input. The Feldt interval for alpha needs scipy
(pip install 'alliance-score[stats]'); without it the interval is left out.
"""


def register(subparsers: Any) -> None:
    """Add the ``check`` command."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "check",
        help="reliability (alpha, omega) and keying checks of an export",
        description=(
            "Compute each scale's reliability (Cronbach's alpha with its Feldt interval, "
            "standardised alpha, omega total, average inter-item correlation), an item "
            "analysis, and check that the data agree with the instrument's key: item "
            "ranges, negative corrected item-total correlations, items loading against "
            "the first principal component, alpha far below published norms."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "input",
        metavar="INPUT",
        help="the export file, one row per form (- reads CSV or TSV piped in)",
    )
    _common.add_mapping_options(parser)
    parser.add_argument(
        "--scale",
        action="append",
        default=None,
        metavar="ID",
        help="scale to analyse (repeatable); default every verified scale",
    )
    parser.add_argument(
        "--missing",
        choices=("pairwise", "listwise"),
        default="pairwise",
        help="missing-data policy (default pairwise, as R's psych)",
    )
    ci = parser.add_mutually_exclusive_group()
    ci.add_argument(
        "--ci",
        type=_level,
        default=None,
        metavar="LEVEL",
        help="level of the Feldt interval for alpha (default 0.95 when scipy is installed)",
    )
    ci.add_argument("--no-ci", action="store_true", help="leave out the Feldt interval")
    parser.add_argument(
        "--norm-margin",
        type=_margin,
        default=0.10,
        metavar="D",
        help="fail when alpha is more than D below a published alpha (default 0.10)",
    )
    parser.add_argument(
        "--min-rows",
        type=_common.whole_number(2),
        default=20,
        metavar="N",
        help="skip a scale's correlation checks when fewer than N rows answer every pair of "
        "its items (default 20)",
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.set_defaults(handler=run)


def _level(text: str) -> float:
    try:
        value = float(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected a number such as 0.95; got {text!r}") from exc
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"the level must be between 0 and 1; got {text!r}")
    return value


def _margin(text: str) -> float:
    try:
        value = float(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected a number such as 0.1; got {text!r}") from exc
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"the margin must be from 0 to below 1; got {text!r}")
    return value


def run(args: argparse.Namespace) -> int:
    """Run ``check``: exit 0 when every keying check passes, 1 otherwise."""
    with _common.input_path(args.input) as path:
        return _run(args, path)


def _run(args: argparse.Namespace, path: str) -> int:
    options = _common.mapping_options(args)
    level: float | None = args.ci
    if args.no_ci:
        level = None
    elif level is None:
        if importlib.util.find_spec("scipy") is None:
            _common.info(
                "Feldt interval left out: it needs scipy (pip install 'alliance-score[stats]')."
            )
        else:
            level = 0.95
    instrument = load_instrument(args.instrument)
    source = _common.open_input(path, args.sheet, quiet=False)
    data = read_table(path, sheet=args.sheet, decimal=args.decimal)
    options["labels"] = _common.reads_labels(source, bool(options["labels"]), quiet=False)
    value_labels = source.value_labels
    if value_labels:
        mapping = resolve_columns(data.columns, instrument, options["items"])
        apply = _common.value_labels_to_apply(
            value_labels, mapping, instrument, labels=bool(options["labels"]), quiet=False
        )
        if apply:
            data = relabel(data, apply)
    report = psychometric_report(
        data,
        instrument,
        scales=args.scale,
        missing=args.missing,
        ci=level,
        norm_margin=args.norm_margin,
        min_rows=args.min_rows,
        **options,
    )
    notes = _coding_notes(data, instrument, options)
    if args.json:
        json.dump({**report.to_dict(), "coding": notes}, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(report.to_text())
        sys.stdout.write("".join(f"Coding: {note}\n" for note in notes))
    return _common.EXIT_PROBLEMS if report.failed else _common.EXIT_OK


def _coding_notes(data: Any, instrument: Any, options: dict[str, Any]) -> list[str]:
    """The data set's coding notes (:mod:`alliance_score.coding`), as ``score`` gives them."""
    from ..frame import score_frame

    result = score_frame(
        data,
        instrument,
        items=options["items"],
        scales=[instrument.scales[0].id],
        missing_codes=options["missing_codes"],
        labels=options["labels"],
        on_invalid="missing",
        allow_provisional=True,
        return_problems=True,
    )
    return coding_notes(instrument, result.answers)
