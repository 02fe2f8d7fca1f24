"""Matching a table's columns to an instrument's items.

Three ways, tried in this order:

1. an explicit mapping ``{item id: column}``;
2. a pattern such as ``"wai_{item}"`` (``{item}`` is the item id; ``{item:02}`` pads a
   numeric id with zeros; ``{n}`` is the item's position from 1, so ``"SRS_{n}"`` maps
   ``SRS_1`` .. ``SRS_4`` to the SRS's items in order);
3. auto-detection: columns named exactly like the item ids, or one prefix followed by the
   item id, where a numeric id may be zero-padded (``wai_sr_01``, ``WAI.1``, ``q1``,
   ``srs_goals``). Matching is case-insensitive.

Auto-detection never guesses: when no prefix covers every item, or more than one does,
or one item matches two columns, or the matched columns' prefix names another known
instrument (``wai_sr_`` for ``wai-s``), or item-like columns with the same prefix are
left over (``wai_sr_06`` .. ``wai_sr_12`` for a 5-item instrument),
:class:`~alliance_score.errors.ColumnMappingError` says what was found and how to map
the columns explicitly. An explicit mapping or pattern is the caller's decision and is
followed.
"""

from __future__ import annotations

import difflib
import re
from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping

from .errors import AllianceScoreError, ColumnMappingError
from .instrument import Instrument

__all__ = ["ColumnMap", "missing_columns_message", "resolve_columns"]

ColumnMap = dict[str, Hashable]
"""Item id -> column label in the data."""

_TRAILING_NUMBER = re.compile(r"^(?P<prefix>.*?)(?P<number>\d+)$")


def resolve_columns(
    columns: Iterable[Hashable],
    instrument: Instrument,
    items: Mapping[str, Hashable] | str | None = None,
) -> ColumnMap:
    """Map every item of ``instrument`` to one column of ``columns``.

    Examples
    --------
    >>> from alliance_score import load_instrument
    >>> from alliance_score.mapping import resolve_columns
    >>> srs = load_instrument("srs")
    >>> cols = ["id", "SRS_Relationship", "SRS_Goals", "SRS_Approach", "SRS_Overall"]
    >>> resolve_columns(cols, srs)["goals"]
    'SRS_Goals'
    >>> wai = load_instrument("wai-sr")
    >>> resolve_columns([f"wai_sr_{i:02d}" for i in range(1, 13)], wai)["7"]
    'wai_sr_07'
    """
    cols = list(columns)
    if isinstance(items, Mapping):
        return _explicit(cols, instrument, items)
    if isinstance(items, str):
        return _pattern(cols, instrument, items)
    return _detect(cols, instrument)


def _lookup(cols: list[Hashable]) -> dict[str, list[Hashable]]:
    by_name: dict[str, list[Hashable]] = defaultdict(list)
    for c in cols:
        by_name[str(c).strip().casefold()].append(c)
    return by_name


def _explicit(
    cols: list[Hashable], instrument: Instrument, items: Mapping[str, Hashable]
) -> ColumnMap:
    unknown = sorted(set(items) - set(instrument.item_ids))
    if unknown:
        close = {
            u: m[0]
            for u in unknown
            if (m := difflib.get_close_matches(str(u), instrument.item_ids, n=1, cutoff=0.6))
        }
        hint = "".join(f" Did you mean {m!r} for {u!r}?" for u, m in close.items())
        raise ColumnMappingError(
            f"The column mapping names items that {instrument.ref} does not have: {unknown};"
            f"{hint} its items are {list(instrument.item_ids)}."
        )
    absent = [i for i in instrument.item_ids if i not in items]
    if absent:
        raise ColumnMappingError(
            f"The column mapping leaves items {absent} of {instrument.ref} unmapped; map "
            "every item (add an empty column for an item that was not asked)."
        )
    colset = set(cols)
    missing = {i: c for i, c in items.items() if c not in colset}
    if missing:
        raise ColumnMappingError(
            f"The column mapping names columns that are not in the data: {missing}."
            + missing_columns_message(list(missing.values()), cols)
        )
    _no_shared_columns(dict(items), instrument)
    return {i: items[i] for i in instrument.item_ids}


def _pattern(cols: list[Hashable], instrument: Instrument, pattern: str) -> ColumnMap:
    if "{item" not in pattern and "{n" not in pattern:
        raise ColumnMappingError(
            f"The column pattern {pattern!r} must contain '{{item}}' (the item id, e.g. "
            "'wai_{item}') or '{n}' (the item's position from 1, e.g. 'SRS_{n}')."
        )
    by_name = _lookup(cols)
    mapping: ColumnMap = {}
    missing: list[str] = []
    for n, item in enumerate(instrument.item_ids, start=1):
        try:
            name = pattern.format(item=int(item) if item.isdigit() else item, n=n)
        except (ValueError, IndexError, KeyError, AttributeError, TypeError) as exc:
            raise ColumnMappingError(
                f"The column pattern {pattern!r} cannot be filled with item {item!r}: {exc}."
            ) from exc
        found = by_name.get(name.strip().casefold(), [])
        if len(found) == 1:
            mapping[item] = found[0]
        elif found:
            raise ColumnMappingError(
                f"Item {item!r} matches several columns {found} through pattern {pattern!r}."
            )
        else:
            missing.append(f"{item}->{name}")
    if missing:
        hint = ""
        padded = pattern.replace("{item}", "{item:02}")
        if padded != pattern and _fills(cols, instrument, padded):
            hint = f" The columns are zero-padded: use {padded!r}."
        raise ColumnMappingError(
            f"The column pattern {pattern!r} finds no column for items: {', '.join(missing)}."
            + hint
        )
    return mapping


def _fills(cols: list[Hashable], instrument: Instrument, pattern: str) -> bool:
    """Whether ``pattern`` finds a column for every item."""
    try:
        _pattern(cols, instrument, pattern)
    except ColumnMappingError:
        return False
    return True


def _positional_hint(cols: list[Hashable], instrument: Instrument) -> str:
    """A ``{n}`` pattern when the columns are numbered by position (``SRS_1`` ..
    ``SRS_4`` for items named ``relationship`` .. ``overall``), else ``""``."""
    if all(i.isdigit() for i in instrument.item_ids):
        return ""
    k = len(instrument.item_ids)
    numbered: dict[str, dict[int, str]] = defaultdict(dict)
    for c in cols:
        m = _TRAILING_NUMBER.match(str(c).strip())
        if m:
            numbered[m["prefix"]][int(m["number"])] = str(c)
    for prefix, found in numbered.items():
        if set(found) >= set(range(1, k + 1)):
            padded = all(found[i] == f"{prefix}{i:02d}" for i in range(1, k + 1))
            pattern = prefix + ("{n:02}" if padded else "{n}")
            return (
                f" The columns {found[1]!r} .. {found[k]!r} look numbered by position: if "
                f"they hold the items in the order {list(instrument.item_ids)}, map them "
                f"with --columns {pattern!r} (items={pattern!r} in the library)."
            )
    return ""


def _candidates(
    cols: list[Hashable], instrument: Instrument
) -> dict[str, dict[str, list[Hashable]]]:
    """prefix -> item id -> matching columns (as labels)."""
    numeric = {str(int(i)): i for i in instrument.item_ids if i.isdigit()}
    words = {i.casefold(): i for i in instrument.item_ids if not i.isdigit()}
    found: dict[str, dict[str, list[Hashable]]] = defaultdict(lambda: defaultdict(list))
    for c in cols:
        name = str(c).strip().casefold()
        m = _TRAILING_NUMBER.match(name)
        if m and str(int(m["number"])) in numeric:
            found[m["prefix"]][numeric[str(int(m["number"]))]].append(c)
        for word, item in words.items():
            if name.endswith(word):
                found[name[: -len(word)]][item].append(c)
    return found


def _detect(cols: list[Hashable], instrument: Instrument) -> ColumnMap:
    ids = instrument.item_ids
    found = _candidates(cols, instrument)
    complete = {p: m for p, m in found.items() if all(i in m for i in ids)}
    if "" in complete:  # exact item ids win over any prefix
        complete = {"": complete[""]}
    if len(complete) > 1:
        raise ColumnMappingError(
            f"The columns match the items of {instrument.ref} in more than one way "
            f"(prefixes {sorted(complete)}); choose one with a pattern such as "
            f"'{sorted(complete)[0]}{{item}}' (--columns) or an explicit mapping (--column)."
        )
    if not complete:
        best = max(found.items(), key=lambda kv: len(kv[1]), default=None)
        if best is None:
            detail = "no column looks like one of its items"
        else:
            missing = [i for i in ids if i not in best[1]]
            detail = (
                f"the best match, prefix {best[0]!r}, covers {len(best[1])} of {len(ids)} "
                f"items and lacks {missing}"
            )
        raise ColumnMappingError(
            f"Cannot match the columns to the items of {instrument.ref}: {detail}. Columns "
            f"seen: {_preview(cols)}. Map them with a pattern (--columns 'prefix{{item}}') or "
            "explicitly (--column ITEM=COLUMN)." + _positional_hint(cols, instrument)
        )
    prefix, match = next(iter(complete.items()))
    doubled = {i: c for i, c in match.items() if i in ids and len(c) > 1}
    if doubled:
        raise ColumnMappingError(
            f"Items of {instrument.ref} match several columns with prefix {prefix!r}: "
            f"{doubled}; map them explicitly (--column ITEM=COLUMN)."
        )
    mapping: ColumnMap = {i: match[i][0] for i in ids}
    _no_shared_columns(mapping, instrument)
    _refuse_other_instrument(prefix, mapping, instrument)
    _refuse_leftovers(cols, prefix, mapping, instrument)
    return mapping


def _canonical(name: str) -> str:
    """``"WAI-SR"``, ``"wai_sr_"`` and ``"Wai.SR"`` all become ``"wai_sr"``."""
    return re.sub(r"[^0-9a-z]+", "_", name.casefold()).strip("_")


def _names_prefix(name: str, prefix: str) -> bool:
    """Whether the canonical ``prefix`` is ``name`` or starts with it at a separator
    (``wai_sr`` names ``wai`` and ``wai_sr``, not ``wai_s``); ``waisr`` names ``wai_sr``."""
    return (
        prefix == name
        or prefix.startswith(name + "_")
        or prefix.replace("_", "") == name.replace("_", "")
    )


def _known_names() -> dict[str, str]:
    """Canonical id and short name of every loadable instrument -> its id."""
    from .registry import list_instruments

    try:
        summaries = list_instruments()
    except AllianceScoreError:  # a broken user folder must not stop a mapping
        return {}
    names: dict[str, str] = {}
    for s in summaries:
        for name in (s.id, s.short_name):
            names.setdefault(_canonical(name), s.id)
    return names


def _refuse_other_instrument(prefix: str, mapping: ColumnMap, instrument: Instrument) -> None:
    """Refuse a prefix that names another known instrument (``wai_sr_`` for ``wai-s``).

    The most specific known name the prefix starts with decides whose columns these are;
    a name that is only a family prefix of the instrument's own (``wai_`` for
    ``wai-sr``) does not count against it.
    """
    p = _canonical(prefix)
    if not p:
        return
    own = {_canonical(instrument.id), _canonical(instrument.short_name)}
    names = {n: i for n, i in _known_names().items() if i != instrument.id}
    names.update(dict.fromkeys(own, instrument.id))
    matched = [n for n in names if n and _names_prefix(n, p)]
    if not matched:
        return
    best = max(matched, key=len)
    owner = names[best]
    if owner == instrument.id or any(o.startswith(best + "_") for o in own):
        return
    raise ColumnMappingError(
        f"Auto-detection matched the items of {instrument.ref} to columns {_span(mapping)}, "
        f"but their prefix {prefix!r} names another instrument, {owner!r}: scoring them as "
        f"{instrument.id!r} would be a guess. If they hold {owner} answers, choose "
        f"--instrument {owner}; if they really are {instrument.id} answers, map them "
        f"explicitly with --columns {_suggest_pattern(prefix, mapping)!r} or --column "
        "ITEM=COLUMN (items= in the library)."
    )


def _refuse_leftovers(
    cols: list[Hashable], prefix: str, mapping: ColumnMap, instrument: Instrument
) -> None:
    """Refuse when item-like columns with the matched prefix are left unmapped."""
    used = set(mapping.values())
    left: list[Hashable] = []
    for c in cols:
        if c in used:
            continue
        m = _TRAILING_NUMBER.match(str(c).strip().casefold())
        if m and m["prefix"] == prefix:
            left.append(c)
    if not left:
        return
    raise ColumnMappingError(
        f"Auto-detection matched the {len(instrument.items)} items of {instrument.ref} to "
        f"columns {_span(mapping)}, but {len(left)} more column(s) with the same prefix "
        f"{prefix!r} are left over ({_preview(left, 6)}): the data may hold another, "
        "longer questionnaire. Check the instrument (--instrument); to score these columns "
        f"as {instrument.id} all the same, map them explicitly with --columns "
        f"{_suggest_pattern(prefix, mapping)!r} or --column ITEM=COLUMN (items= in the "
        "library)."
    )


def _span(mapping: ColumnMap) -> str:
    cols = [str(c) for c in mapping.values()]
    return f"{cols[0]!r} .. {cols[-1]!r}" if len(cols) > 2 else ", ".join(map(repr, cols))


def _suggest_pattern(prefix: str, mapping: ColumnMap) -> str:
    """A ``--columns`` pattern that reproduces ``mapping``: ``wai_sr_{item:02}``."""
    for pattern in ("{item}", "{item:02}", "{item:03}"):
        if all(
            str(col).strip().casefold()
            == (prefix + pattern.format(item=int(i) if i.isdigit() else i)).casefold()
            for i, col in mapping.items()
        ):
            first = str(next(iter(mapping.values()))).strip()
            return first[: len(prefix)] + pattern
    return prefix + "{item}"


def _no_shared_columns(mapping: dict[str, Hashable], instrument: Instrument) -> None:
    seen: dict[Hashable, str] = {}
    for item, col in mapping.items():
        if col in seen:
            raise ColumnMappingError(
                f"Items {seen[col]!r} and {item!r} of {instrument.ref} are both mapped to "
                f"column {col!r}; each item needs its own column."
            )
        seen[col] = item


def missing_columns_message(missing: Iterable[Hashable], columns: Iterable[Hashable]) -> str:
    """`` Did you mean ...? Columns: ...``: the closest column to each missing name, and
    the columns there are (for every "column not found" message).

    >>> missing_columns_message(["client"], ["client_id", "session", "wai_1"])
    " Did you mean 'client_id' for 'client'? The columns are: 'client_id', 'session', 'wai_1'."
    """
    cols = [str(c) for c in columns]
    folded = {c.casefold(): c for c in cols}
    hints = []
    for name in missing:
        close = difflib.get_close_matches(str(name).casefold(), list(folded), n=1, cutoff=0.6)
        if not close:
            close = [f for f in folded if str(name).casefold() in f or f in str(name).casefold()]
        if close:
            hints.append(f"{folded[close[0]]!r} for {str(name)!r}")
    text = f" Did you mean {', '.join(hints)}?" if hints else ""
    return f"{text} The columns are: {_preview(list(cols))}."


def _preview(cols: list[Hashable], limit: int = 15) -> str:
    shown = ", ".join(repr(str(c)) for c in cols[:limit])
    return shown + (f", ... ({len(cols)} in all)" if len(cols) > limit else "")
