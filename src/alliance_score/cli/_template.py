"""The commented starter definition written by ``alliance-score template``.

The text is built from the command's options and parsed before it is returned, so a
template that does not load is never written.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from ..instrument import Rater, ScoringMethod
from ..registry import parse_instrument

__all__ = ["parse_item_list", "starter_definition"]


def parse_item_list(spec: str, n_items: int) -> list[str]:
    """Item ids from ``"1,2,5"`` or ``"1-4,7"``; every id must be from 1 to ``n_items``."""
    out: list[str] = []
    for part in (p.strip() for p in spec.split(",")):
        if not part:
            continue
        lo_s, sep, hi_s = part.partition("-")
        try:
            lo, hi = (int(lo_s), int(hi_s)) if sep else (int(part), int(part))
        except ValueError:
            raise ValueError(
                f"item list {spec!r} must hold item numbers or ranges such as 1-4; got {part!r}"
            ) from None
        if lo > hi:
            raise ValueError(
                f"item list {spec!r}: the range {part!r} runs backwards; write {hi}-{lo}"
            )
        if not 1 <= lo <= hi <= n_items:
            raise ValueError(
                f"item list {spec!r} must use item numbers from 1 to {n_items}; got {part!r}"
            )
        out += [str(i) for i in range(lo, hi + 1) if str(i) not in out]
    if not out:
        raise ValueError(f"item list {spec!r} names no item")
    return out


def starter_definition(
    *,
    instrument_id: str,
    name: str,
    n_items: int,
    low: int,
    high: int,
    scales: Mapping[str, Sequence[str]],
    reverse: Sequence[str] = (),
    method: ScoringMethod = "mean",
    rater: Rater = "client",
) -> str:
    """A commented TOML definition that loads as is (every element marked unconfirmed)."""
    q = json.dumps  # a JSON string is a valid TOML basic string
    lines = [
        f"# Starter definition for {name}, written by `alliance-score template`.",
        "# It loads as is. Replace the placeholders, then check the file with",
        "#     alliance-score validate-definition THIS_FILE",
        "# and score an export with",
        "#     alliance-score score EXPORT.csv --instrument THIS_FILE --allow-provisional",
        "# Field reference: docs/authoring-instruments.md; JSON Schema:",
        "# docs/instrument.schema.json. Unknown fields are errors, so typos are caught.",
        "format = 1",
        "# Unique id (letters, digits, '.', '_' or '-'); scores cite id@version.",
        f"id = {q(instrument_id)}",
        'version = "1.0"',
        f"name = {q(name)}",
        f"short_name = {q(instrument_id.upper())}",
        "# Who answers: client, therapist, observer, parent, patient or physician.",
        f"rater = {q(rater)}",
        'language = "en"',
        'description = "What the questionnaire measures, for whom, and when it is given."',
        "",
        "# Where the key comes from. Every evidence entry below cites one of these keys.",
        "[[sources]]",
        'key = "manual"',
        "# primary: the authors', manual's or distributor's own text; secondary: anyone",
        "# else's. Evidence at P cites a primary source, at S2 two secondary sources.",
        'kind = "primary"',
        'citation = "The manual or publication that defines this questionnaire."',
        'supports = "the items, the response scale and the scoring key"',
        "",
        "# Who holds the questionnaire. Set wording_shipped = true only if you may",
        '# distribute the wording; items may then carry wording = "...".',
        "[licence]",
        'status = "user-supplied"',
        "wording_shipped = false",
        "",
        '# The answer format of every item: kind = "likert" (whole numbers) or "vas".',
        "[response]",
        'kind = "likert"',
        f"min = {low}",
        f"max = {high}",
        "# Optional labels, accepted in data with --labels, e.g.",
        f'# anchors = [{{ value = {low}, label = "Strongly disagree" }}, '
        f'{{ value = {high}, label = "Strongly agree" }}]',
        "anchors = []",
        "# Evidence levels: P (primary or official text), S2 (two independent secondary",
        "# sources agree), S (one secondary source, or inferred), U (unconfirmed). A scale",
        "# is verified only when every element it depends on is P or S2.",
        'evidence = { level = "U", sources = ["manual"], '
        'note = "Say where the response scale is documented." }',
        "",
        "# Evidence for the set of reverse-keyed items (recorded even when there is none).",
        "[reversed_evidence]",
        'level = "U"',
        'sources = ["manual"]',
        'note = "Say where the reverse-keyed items are documented."',
        "",
        "# One [[items]] table per item; label is a short paraphrase. reverse = true",
        f"# recodes an answer x as {low + high} - x.",
    ]
    for i in range(1, n_items + 1):
        lines += ["[[items]]", f'id = "{i}"', f'label = "Item {i}"']
        if str(i) in reverse:
            lines.append("reverse = true")
    lines += [
        "",
        "# One [[scales]] table per score. method: mean, sum (prorated as mean x number",
        "# of items when some are missing), tcu (mean x 10) or pomp (0-100 rescale).",
        "# min_answered: fewest answered items for a score; a library convention unless",
        '# your manual gives one. Optional per-item weights: weights = { "3" = 2.0 }.',
        '# status: "provisional" until every element it depends on is P or S2.',
    ]
    for scale_id, items in scales.items():
        need = max(1, -(-3 * len(items) // 4))
        lines += [
            "[[scales]]",
            f"id = {q(scale_id)}",
            f"name = {q(scale_id.replace('_', ' ').capitalize())}",
            "items = [" + ", ".join(q(i) for i in items) + "]",
            f"method = {q(method)}",
            f"min_answered = {need}",
            f'min_answered_note = "Convention: {need} of {len(items)} items."',
            'status = "provisional"',
            'items_evidence = { level = "U", sources = ["manual"] }',
            'formula_evidence = { level = "U", sources = ["manual"] }',
        ]
    text = "\n".join(lines) + "\n"
    parse_instrument(text, source="<template>")
    return text
