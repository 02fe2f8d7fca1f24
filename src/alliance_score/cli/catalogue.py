"""Catalogue and authoring commands: ``instruments``, ``show``, ``template``,
``validate-definition``.

Anywhere an instrument id is accepted, a path to a definition file (``.toml``) is too;
``--search-path DIR`` (repeatable) and the ``ALLIANCE_SCORE_INSTRUMENTS`` environment
variable add folders of user definitions.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

from ..authoring import check_definition
from ..catalogue import instrument_page
from ..errors import UnreadableFileError
from ..registry import ENV_VAR, list_instruments, load_instrument
from ._common import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, error, info
from ._template import parse_item_list, starter_definition

__all__ = ["register"]

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def register(subparsers: Any) -> None:
    """Add the catalogue and authoring commands to the ``alliance-score`` parser."""
    fmt = argparse.RawDescriptionHelpFormatter

    p = subparsers.add_parser(
        "instruments",
        help="list instruments with the verification status of each scale",
        description="List every instrument that can be loaded by id (shipped ones and "
        f"those in --search-path folders or ${ENV_VAR}), with each scale's status.",
        epilog="examples:\n  alliance-score instruments\n"
        "  alliance-score instruments --search-path my_definitions --json",
        formatter_class=fmt,
    )
    _search_path_option(p)
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(handler=_instruments)

    p = subparsers.add_parser(
        "show",
        help="print an instrument's catalogue page (key, sources, ledger)",
        description="Print the catalogue page of one instrument: the same Markdown as "
        "docs/instruments/<id>.md.",
        epilog="examples:\n  alliance-score show wai-sr\n  alliance-score show ./my-scale.toml",
        formatter_class=fmt,
    )
    p.add_argument("instrument", metavar="ID", help="id, id@version or path to a .toml file")
    _search_path_option(p)
    p.set_defaults(handler=_show)

    p = subparsers.add_parser(
        "template",
        help="write a commented starter definition that loads as is",
        description="Write a commented starter instrument definition (TOML) from a few "
        "options. Every element is marked unconfirmed (U) and every scale provisional "
        "until you record its evidence.",
        epilog="example:\n  alliance-score template --id recovery-alliance --items 8 "
        "--min 1 --max 5 \\\n    --scale trust=1-4 --scale bond=5-8 --reverse 3 "
        "-o recovery-alliance.toml",
        formatter_class=fmt,
    )
    p.add_argument("--id", dest="instrument_id", default="my-instrument", help="instrument id")
    p.add_argument("--name", help="full name (default: from the id)")
    p.add_argument("--items", type=int, default=10, metavar="N", help="number of items")
    p.add_argument("--min", type=int, default=1, dest="low", help="lowest answer (default 1)")
    p.add_argument("--max", type=int, default=5, dest="high", help="highest answer (default 5)")
    p.add_argument(
        "--scale",
        action="append",
        default=[],
        metavar="NAME=ITEMS",
        help="a scale and its items, e.g. trust=1-4 or bond=5,6,8 (repeatable; "
        "default: one scale 'total' with every item)",
    )
    p.add_argument("--reverse", default="", metavar="ITEMS", help="reverse-keyed items, e.g. 3,7")
    p.add_argument(
        "--method", choices=("mean", "sum", "tcu", "pomp"), default="mean", help="scoring method"
    )
    p.add_argument(
        "--rater",
        choices=("client", "therapist", "observer", "parent", "patient", "physician"),
        default="client",
        help="who answers the questionnaire (default client)",
    )
    p.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout")
    p.add_argument("--force", action="store_true", help="overwrite an existing --output file")
    p.set_defaults(handler=_template)

    p = subparsers.add_parser(
        "validate-definition",
        help="check definition files and print every problem with its field path",
        description="Check instrument definition files. Prints every problem with its "
        "field path; exit 0 when all are valid, 1 when any is invalid, 2 when a file "
        "cannot be read.",
        epilog="examples:\n  alliance-score validate-definition my-scale.toml\n"
        "  alliance-score validate-definition defs/*.toml --json",
        formatter_class=fmt,
    )
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--json", action="store_true", help="print a JSON report")
    p.set_defaults(handler=_validate)


def _search_path_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--search-path",
        action="append",
        default=[],
        metavar="DIR",
        help=f"folder of user definitions, searched before ${ENV_VAR} (repeatable)",
    )


def _instruments(args: argparse.Namespace) -> int:
    summaries = list_instruments(search_path=args.search_path)
    if args.json:
        rows = [s.model_dump(exclude={"path"}) for s in summaries]
        print(json.dumps(rows, indent=2))  # noqa: T201
        return EXIT_OK
    header = ("ID", "VERSION", "NAME", "RATER", "ITEMS", "SCALES (STATUS)")
    table = [
        (
            s.id,
            s.version,
            s.name,
            s.rater,
            str(s.n_items),
            ", ".join(f"{k} ({v})" for k, v in s.scales.items()),
        )
        for s in summaries
    ]
    widths = [max(len(r[i]) for r in [header, *table]) for i in range(len(header) - 1)]
    for row in [header, *table]:
        cells = [c.ljust(w) for c, w in zip(row, widths, strict=False)]
        print("  ".join([*cells, row[-1]]))  # noqa: T201
    return EXIT_OK


def _show(args: argparse.Namespace) -> int:
    ins = load_instrument(args.instrument, search_path=args.search_path)
    sys.stdout.write(instrument_page(ins))
    return EXIT_OK


def _template(args: argparse.Namespace) -> int:
    if not _ID.fullmatch(args.instrument_id):
        error(
            f"--id must start with a letter or digit and hold only letters, digits, '.', "
            f"'_' or '-'; got {args.instrument_id!r}"
        )
        return EXIT_USAGE
    if not 1 <= args.items <= 500:
        error(f"--items must be from 1 to 500; got {args.items}")
        return EXIT_USAGE
    full_name: str = args.name or ""
    if any(ch in full_name for ch in "\r\n\t\x00"):
        error("--name must be one line of text (no line breaks or tabs); got " + repr(full_name))
        return EXIT_USAGE
    if not args.low < args.high:
        error(f"--min must be less than --max; got --min {args.low} --max {args.high}")
        return EXIT_USAGE
    try:
        scales: dict[str, list[str]] = {}
        for spec in args.scale or [f"total=1-{args.items}"]:
            name, sep, items = spec.partition("=")
            name = name.strip()
            if not sep or not _ID.fullmatch(name):
                raise ValueError(f"--scale expects NAME=ITEMS such as trust=1-4; got {spec!r}")
            if name in scales:
                raise ValueError(f"--scale {name!r} is given twice")
            scales[name] = parse_item_list(items, args.items)
        reverse = parse_item_list(args.reverse, args.items) if args.reverse.strip() else []
    except ValueError as exc:
        error(str(exc))
        return EXIT_USAGE
    text = starter_definition(
        instrument_id=args.instrument_id,
        name=full_name.strip() or args.instrument_id.replace("-", " ").capitalize(),
        n_items=args.items,
        low=args.low,
        high=args.high,
        scales=scales,
        reverse=reverse,
        method=args.method,
        rater=args.rater,
    )
    if not args.output:
        sys.stdout.write(text)
        return EXIT_OK
    out = Path(args.output)
    if out.exists() and not args.force:
        error(f"{out} exists; pass --force to overwrite it")
        return EXIT_USAGE
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        error(f"Cannot write {str(out)!r}: {exc.strerror or exc}.")
        return EXIT_USAGE
    info(f"Wrote {out}. Next: alliance-score validate-definition {out}")
    return EXIT_OK


def _validate(args: argparse.Namespace) -> int:
    reports: list[Any] = []
    unreadable: dict[str, str] = {}
    for f in args.files:
        if Path(f).is_dir():
            unreadable[f] = (
                f"{f} is a folder, not a definition file; give its files, e.g. {Path(f) / '*.toml'}"
            )
            continue
        try:
            reports.append(check_definition(f))
        except UnreadableFileError as exc:
            unreadable[f] = str(exc)
    if args.json:
        payload: Any = [r.to_dict() for r in reports] + [
            {"file": f, "valid": False, "unreadable": why} for f, why in unreadable.items()
        ]
        print(json.dumps(payload if len(payload) > 1 else payload[0], indent=2))  # noqa: T201
    else:
        for r in reports:
            if r.valid and r.instrument is not None:
                scales = ", ".join(f"{s.id} ({s.status})" for s in r.instrument.scales)
                print(f"{r.source}: valid definition of {r.instrument.ref}; scales: {scales}")  # noqa: T201
            else:
                print(f"{r.source}: invalid, {len(r.problems)} problem(s)")  # noqa: T201
            for p in r.problems:
                got = f" (got {p.value})" if p.value is not None else ""
                print(f"  {p.path or '<file>'}: {p.message}{got}")  # noqa: T201
            for note in r.notes:
                print(f"  note: {note}")  # noqa: T201
    for why in unreadable.values():
        error(why)
    if unreadable:
        return EXIT_USAGE
    return EXIT_OK if all(r.valid for r in reports) else EXIT_PROBLEMS
