"""The instrument catalogue: Markdown pages and the JSON Schema, generated from definitions.

Every shipped definition gets a page ``docs/instruments/<id>.md`` that shows what the
library knows about its key and how well each element is confirmed: name, rater,
citations with DOIs, licence and what may be shipped, response scale and anchors, the
item table (short paraphrase labels and reverse flags, never licensed wording), scales
with their method, ``min_answered`` and derived verification status, cut-offs and norms
with their sources, and the verification ledger. ``docs/instruments/index.md`` lists every
page. ``alliance-score show ID`` prints the same text as the page.

A scale's status is *derived* from its ledger: it is verified only when every element it
depends on (response scale, reversed-item set, item list, scoring formula) is confirmed
at ``P`` or ``S2``; a cut-off additionally needs its own evidence at ``P`` or ``S2`` and a
verified scale. A definition may declare a scale provisional although its ledger would
allow more (caution is allowed), never the reverse (the model refuses to load it).

Pages and the schema are written by :func:`write_catalogue` and :func:`write_schema`;
the test suite fails when a committed page is stale (see :func:`stale_files`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from .instrument import Cutoff, Evidence, Instrument, Scale, Verification
from .registry import load_instrument, shipped_directory

__all__ = [
    "catalogue_files",
    "cutoff_status",
    "derived_status",
    "index_page",
    "instrument_page",
    "ledger",
    "method_formula",
    "schema_text",
    "shipped_instruments",
    "stale_files",
    "write_catalogue",
    "write_schema",
]

_GENERATED = (
    "<!-- Generated from the instrument definition by alliance_score.catalogue; "
    "do not edit by hand. Regenerate with: python -m alliance_score.catalogue docs -->"
)

_LEVELS = {
    "P": "primary or official text",
    "S2": "two independent secondary sources agree",
    "S": "one secondary source, or inferred",
    "U": "unconfirmed",
}


def derived_status(instrument: Instrument, scale_id: str) -> Verification:
    """The status a scale's ledger supports: verified only when every element is P or S2.

    Parameters
    ----------
    instrument
        A loaded definition.
    scale_id
        One of ``instrument.scale_ids``.

    Returns
    -------
    {"verified", "provisional"}
        What the evidence supports, whatever the definition declares.

    Notes
    -----
    ``verified`` iff ``level(e) in {P, S2}`` for every element ``e`` the scale depends on:
    the response scale, the reversed-item set, the scale's item list and its formula
    (:meth:`~alliance_score.instrument.Instrument.scale_evidence`).

    References
    ----------
    The evidence levels are the project's (``docs/authoring-instruments.md``, section 3).

    Examples
    --------
    >>> from alliance_score import load_instrument
    >>> from alliance_score.catalogue import derived_status
    >>> wai_s = load_instrument("wai-s")
    >>> derived_status(wai_s, "total"), derived_status(wai_s, "task")
    ('provisional', 'provisional')
    >>> srs = load_instrument("srs")
    >>> derived_status(srs, "total")
    'verified'
    """
    evidence = instrument.scale_evidence(scale_id).values()
    return "verified" if all(ev.verified for ev in evidence) else "provisional"


def cutoff_status(instrument: Instrument, cutoff: Cutoff) -> Verification:
    """The status a cut-off's ledger supports (its evidence and its scale's)."""
    if cutoff.evidence.verified and derived_status(instrument, cutoff.scale) == "verified":
        return "verified"
    return "provisional"


def method_formula(scale: Scale, instrument: Instrument) -> str:
    """A one-line formula for how a scale is computed from its (reversed) items.

    Examples
    --------
    >>> from alliance_score import load_instrument
    >>> from alliance_score.catalogue import method_formula
    >>> tps = load_instrument("tps")
    >>> method_formula(tps.scale("total_0_100"), tps)
    '(mean - 1) / (5 - 1) x 100 of answered items (0-100)'
    """
    lo, hi = (_num(v) for v in (instrument.response.min, instrument.response.max))
    mean = "weighted mean" if scale.weights else "mean"
    n = _num(sum(scale.weight(i) for i in scale.items))
    lo_s, hi_s = (_num(v) for v in scale.score_range(instrument.response))
    rng = f"({lo_s}-{hi_s})"
    if scale.method == "mean":
        return f"{mean} of answered items {rng}"
    if scale.method == "sum":
        total = "weighted sum" if scale.weights else "sum"
        return f"{total} of items; with items missing, {mean} x {n} (prorated) {rng}"
    if scale.method == "tcu":
        return f"{mean} of answered items x 10 {rng}"
    return f"({mean} - {lo}) / ({hi} - {lo}) x 100 of answered items {rng}"


def ledger(instrument: Instrument) -> list[tuple[str, Evidence]]:
    """Every element of the key with its evidence, in page order."""
    rows: list[tuple[str, Evidence]] = [
        ("Response scale and anchors", instrument.response.evidence),
        ("Reversed-item set", instrument.reversed_evidence),
    ]
    for s in instrument.scales:
        rows.append((f"Scale `{s.id}`: item list", s.items_evidence))
        rows.append((f"Scale `{s.id}`: scoring formula ({s.method})", s.formula_evidence))
    rows.extend((f"Cut-off `{c.flag}`", c.evidence) for c in instrument.cutoffs)
    return rows


def instrument_page(instrument: Instrument) -> str:
    """The Markdown catalogue page of one instrument (also printed by ``show``).

    Parameters
    ----------
    instrument
        A loaded definition (shipped or user-written).

    Returns
    -------
    str
        Markdown: a provisional banner when any scale is provisional, the identity table,
        sources with DOIs, licence, response scale and anchors, items with reverse flags,
        scales (method, formula, ``min_answered``, declared and derived status),
        cut-offs, norms and the verification ledger. The text depends only on the
        definition, so committed pages can be checked for staleness.

    Examples
    --------
    >>> from alliance_score import load_instrument
    >>> from alliance_score.catalogue import instrument_page
    >>> page = instrument_page(load_instrument("arm-5"))
    >>> page.splitlines()[0]
    '# ARM-5: Agnew Relationship Measure, 5-item (client)'
    >>> "## Verification ledger" in page
    True
    """
    ins = instrument
    out: list[str] = [f"# {ins.short_name}: {ins.name}", "", _GENERATED, ""]
    provisional = [s.id for s in ins.scales if s.status == "provisional"]
    if provisional:
        every = len(provisional) == len(ins.scales)
        which = "Every scale" if every else "Scales " + ", ".join(f"`{p}`" for p in provisional)
        out += [
            f"> **Provisional.** {which} of this definition "
            f"{'is' if every else 'are'} provisional: some element of the key is not "
            "confirmed at P or S2 (see the ledger below). Provisional scales are scored "
            "only with `allow_provisional=True` (`--allow-provisional`), and every output "
            "marks them.",
            "",
        ]
    out += [
        "| | |",
        "|---|---|",
        f"| Id | `{ins.id}` (definition version {ins.version}; scores cite `{ins.ref}`) |",
        f"| Short name | {_cell(ins.short_name)} |",
        f"| Rater | {ins.rater} |",
        f"| Language | {ins.language} |",
        f"| Items | {len(ins.items)} |",
        f"| Scales | {', '.join(f'`{s.id}` ({s.status})' for s in ins.scales)} |",
        "",
    ]
    if ins.description:
        out += [" ".join(ins.description.split()), ""]
    out += _sources(ins) + _licence(ins) + _response(ins) + _items(ins) + _scales(ins)
    out += _cutoffs(ins) + _norms(ins) + _ledger(ins)
    return "\n".join(out).rstrip() + "\n"


def index_page(instruments: Iterable[Instrument]) -> str:
    """The Markdown index of the catalogue: one row per instrument, status per scale."""
    out = [
        "# Instrument catalogue",
        "",
        _GENERATED,
        "",
        "Every instrument shipped with alliance-score, with the verification status of each "
        "scale. A scale is **verified** only when every element of its key (response scale, "
        "reversed items, item list, scoring formula) is confirmed from primary text (P) or "
        "by two independent secondary sources (S2); otherwise it is **provisional** and is "
        "scored only with `allow_provisional=True` (`--allow-provisional`). To score an "
        "instrument that is not listed, write your own definition: see "
        "[authoring instruments](../authoring-instruments.md).",
        "",
        "| Id | Instrument | Rater | Items | Scales (status) |",
        "|---|---|---|---|---|",
    ]
    for ins in sorted(instruments, key=lambda i: i.id):
        scales = ", ".join(f"`{s.id}` {s.status}" for s in ins.scales)
        out.append(
            f"| [`{ins.id}`]({ins.id}.md) | {_cell(ins.name)} | {ins.rater} | "
            f"{len(ins.items)} | {scales} |"
        )
    out += ["", "Evidence levels: " + "; ".join(f"**{k}** {v}" for k, v in _LEVELS.items())]
    return "\n".join(out) + ".\n"


def shipped_instruments() -> list[Instrument]:
    """Every definition shipped with the package, sorted by id (user folders ignored)."""
    found = [load_instrument(p) for p in sorted(shipped_directory().glob("*.toml"))]
    return sorted(found, key=lambda i: (i.id, i.version))


def catalogue_files(instruments: Sequence[Instrument] | None = None) -> dict[str, str]:
    """The catalogue as ``{path relative to docs/: text}``: one page each plus the index."""
    chosen = shipped_instruments() if instruments is None else list(instruments)
    files = {f"instruments/{ins.id}.md": instrument_page(ins) for ins in chosen}
    files["instruments/index.md"] = index_page(chosen)
    return files


def schema_text() -> str:
    """The JSON Schema of the definition format, as written to ``docs/instrument.schema.json``.

    Examples
    --------
    >>> import json
    >>> from alliance_score.catalogue import schema_text
    >>> schema = json.loads(schema_text())
    >>> schema["title"], "scales" in schema["required"]
    ('Instrument', True)
    """
    schema = Instrument.model_json_schema()
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def write_catalogue(
    docs_dir: str | os.PathLike[str], instruments: Sequence[Instrument] | None = None
) -> list[Path]:
    """Write every catalogue page under ``docs_dir``; returns the files that changed."""
    return _write(Path(docs_dir), catalogue_files(instruments))


def write_schema(docs_dir: str | os.PathLike[str]) -> list[Path]:
    """Write ``instrument.schema.json`` under ``docs_dir``; returns it if it changed."""
    return _write(Path(docs_dir), {"instrument.schema.json": schema_text()})


def stale_files(docs_dir: str | os.PathLike[str]) -> list[str]:
    """Generated files under ``docs_dir`` that are missing, out of date or orphaned.

    Parameters
    ----------
    docs_dir
        The documentation folder (``docs/`` in the repository).

    Returns
    -------
    list of str
        Paths relative to ``docs_dir``, sorted; empty when every page, the index and
        ``instrument.schema.json`` equal what :func:`catalogue_files` and
        :func:`schema_text` generate now, and no page is left for a removed instrument.

    Examples
    --------
    >>> import tempfile
    >>> from alliance_score.catalogue import stale_files, write_catalogue, write_schema
    >>> with tempfile.TemporaryDirectory() as docs:
    ...     before = len(stale_files(docs))
    ...     _ = write_catalogue(docs), write_schema(docs)
    ...     before > 0, stale_files(docs)
    (True, [])
    """
    root = Path(docs_dir)
    expected = {**catalogue_files(), "instrument.schema.json": schema_text()}
    stale = [
        rel
        for rel, text in expected.items()
        if not (root / rel).is_file() or (root / rel).read_text(encoding="utf-8") != text
    ]
    pages = root / "instruments"
    if pages.is_dir():
        stale += [
            f"instruments/{p.name}"
            for p in sorted(pages.glob("*.md"))
            if f"instruments/{p.name}" not in expected
        ]
    return sorted(stale)


def _write(root: Path, files: dict[str, str]) -> list[Path]:
    changed: list[Path] = []
    for rel, text in files.items():
        path = root / rel
        if path.is_file() and path.read_text(encoding="utf-8") == text:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="\n")
        changed.append(path)
    return changed


# -- page sections ---------------------------------------------------------------------


def _sources(ins: Instrument) -> list[str]:
    out = [
        "## Sources",
        "",
        "Primary: the instrument's authors', manual's or distributor's own text; secondary: "
        "anyone else's. An element is S2 only when two secondary sources agree, and P only "
        "when a primary source was read.",
        "",
    ]
    for s in ins.sources:
        line = f"- **{s.key}** ({s.kind}): {_cell(s.citation)}"
        if s.doi:
            line += f" DOI: [{s.doi}](https://doi.org/{s.doi})."
        else:
            line += " No DOI recorded."
        if s.url:
            line += f" <{s.url}>"
        line += f" Supports: {s.supports}."
        if "identity" in s.incomplete:
            line += " **Incomplete: this source cannot be identified by name.**"
        elif s.incomplete:
            line += f" **Citation incomplete: lacks {', '.join(s.incomplete)}.**"
        out.append(line)
    return [*out, ""]


def _licence(ins: Instrument) -> list[str]:
    lic = ins.licence
    shipped = (
        "item wording is shipped"
        if lic.wording_shipped
        else "item wording is **not** shipped (items carry short paraphrase labels only)"
    )
    out = [
        "## Licence",
        "",
        f"- Status: **{lic.status}**",
        f"- Holder: {lic.holder or 'not recorded'}",
        f"- What may be shipped: {shipped}",
    ]
    if lic.note:
        out.append(f"- Note: {_cell(lic.note)}")
    if lic.url:
        out.append(f"- Terms: <{lic.url}>")
    return [*out, ""]


def _response(ins: Instrument) -> list[str]:
    r = ins.response
    step = r.effective_step
    grid = f"step {_num(step)}" if step is not None else "any real value"
    unit = f" {r.unit}" if r.unit else ""
    kind = "Likert" if r.kind == "likert" else "visual analogue (VAS)"
    out = [
        "## Response scale",
        "",
        f"{kind}, {_num(r.min)} to {_num(r.max)}{unit} ({grid}). "
        f"Reverse-keyed items are recoded {_num(r.min + r.max)} - x.",
        "",
    ]
    if r.anchors:
        out += ["| Value | Anchor |", "|---|---|"]
        out += [f"| {_num(a.value)} | {_cell(a.label)} |" for a in r.anchors]
        out.append("")
    return out


def _items(ins: Instrument) -> list[str]:
    out = ["## Items", "", "| Item | Label (paraphrase) | Reversed |", "|---|---|---|"]
    out += [f"| {i.id} | {_cell(i.label)} | {'yes' if i.reverse else 'no'} |" for i in ins.items]
    return [*out, ""]


def _scales(ins: Instrument) -> list[str]:
    out = [
        "## Scales",
        "",
        "| Scale | Name | Items | Method | Formula | min_answered | Declared | Derived |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for s in ins.scales:
        items = ", ".join(f"{i} (x{_num(s.weight(i))})" if s.weights else i for i in s.items)
        out.append(
            f"| `{s.id}` | {_cell(s.name)} | {items} | {s.method} | "
            f"{method_formula(s, ins)} | {s.min_answered} of {len(s.items)} | {s.status} | "
            f"{derived_status(ins, s.id)} |"
        )
    out.append("")
    out += [
        f"- `{s.id}`: "
        + (f"{_cell(s.description)} " if s.description else "")
        + f"{s.min_answered_note or 'min_answered is a library convention.'}"
        + ("" if s.higher_is_better else " Higher scores mean a worse alliance.")
        for s in ins.scales
    ]
    return [*out, ""]


def _cutoffs(ins: Instrument) -> list[str]:
    out = ["## Cut-offs", ""]
    if not ins.cutoffs:
        return [*out, "No published cut-off is recorded for this instrument.", ""]
    out += [
        "| Flag | Rule | Meaning | Declared | Derived | Evidence |",
        "|---|---|---|---|---|---|",
    ]
    out += [
        f"| `{c.flag}` | `{c.scale}` {c.comparison} {_num(c.value)} | {_cell(c.meaning)} | "
        f"{c.status} | {cutoff_status(ins, c)} | {_evidence_cell(c.evidence)} |"
        for c in ins.cutoffs
    ]
    if any(c.status == "provisional" for c in ins.cutoffs):
        out += [
            "",
            "A provisional cut-off is evaluated only with `allow_provisional=True` "
            "(`--allow-provisional`). Where sources disagree on the rule, the flag follows "
            "the rule shown; to apply another one, compare the scale's score column "
            "yourself (for example `scores['total'] <= 36` instead of `< 36`), or write "
            "your own definition with that cut-off (see the authoring guide).",
        ]
    return [*out, ""]


def _norms(ins: Instrument) -> list[str]:
    out = ["## Norms", ""]
    if not ins.norms:
        return [*out, "No norms are recorded for this instrument.", ""]
    out += [
        "| Scale | Population | n | Mean | SD | Alpha | Retest r | Source |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for n in ins.norms:
        cells = [n.n, n.mean, n.sd, n.alpha, n.retest_r]
        shown = " | ".join("" if v is None else _num(float(v)) for v in cells)
        out.append(f"| `{n.scale}` | {_cell(n.population)} | {shown} | {n.source} |")
    return [*out, ""]


def _ledger(ins: Instrument) -> list[str]:
    out = [
        "## Verification ledger",
        "",
        "Levels: " + "; ".join(f"**{k}** {v}" for k, v in _LEVELS.items()) + ". An element "
        "counts as verified only at P or S2.",
        "",
        "| Element | Level | Verified | Sources | Note |",
        "|---|---|---|---|---|",
    ]
    incomplete = {s.key for s in ins.sources if s.incomplete}
    out += [
        f"| {name} | {ev.level} | {'yes' if ev.verified else 'no'} | "
        f"{', '.join(k + ('*' if k in incomplete else '') for k in ev.sources) or '-'} | "
        f"{_cell(ev.note or '')} |"
        for name, ev in ledger(ins)
    ]
    if incomplete:
        out += ["", "\\* The citation of this source is incomplete (see Sources)."]
    return [*out, ""]


def _evidence_cell(ev: Evidence) -> str:
    text = f"{ev.level} ({', '.join(ev.sources) or 'no source'})"
    return f"{text}: {_cell(ev.note)}" if ev.note else text


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell (one line, escaped pipes)."""
    return " ".join(text.split()).replace("|", "\\|")


def _num(value: float) -> str:
    """A number without a spurious ``.0``: 5.0 -> '5', 0.1 -> '0.1'."""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


if __name__ == "__main__":  # pragma: no cover
    # python -m alliance_score.catalogue [DOCS_DIR]   (default: ./docs)
    import sys

    _docs = Path(sys.argv[1] if len(sys.argv) > 1 else "docs")
    for _path in [*write_catalogue(_docs), *write_schema(_docs)]:
        print(f"wrote {_path}")  # noqa: T201
