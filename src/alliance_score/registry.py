"""Finding and loading instrument definitions.

Shipped definitions live in the package (``alliance_score/_instruments`` in a wheel, the
repository's ``instruments/`` folder in a source checkout). User definitions are found
from a path given to :func:`load_instrument`, from folders given as ``search_path``, or
from the folders named in the ``ALLIANCE_SCORE_INSTRUMENTS`` environment variable
(separated by ``os.pathsep``).
"""

from __future__ import annotations

import difflib
import functools
import os
import tomllib
from collections.abc import Callable, Sequence
from importlib import resources
from pathlib import Path
from typing import ParamSpec

from pydantic import BaseModel, ConfigDict, ValidationError

from .errors import InstrumentDefinitionError, UnknownInstrumentError
from .instrument import DefinitionRuleError, Instrument, Verification

__all__ = [
    "ENV_VAR",
    "InstrumentSummary",
    "list_instruments",
    "load_instrument",
    "parse_instrument",
    "shipped_directory",
]

ENV_VAR = "ALLIANCE_SCORE_INSTRUMENTS"


class InstrumentSummary(BaseModel):
    """One line of the catalogue: what :func:`list_instruments` returns per definition."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    version: str
    name: str
    short_name: str
    rater: str
    n_items: int
    scales: dict[str, Verification]
    shipped: bool
    path: str


def shipped_directory() -> Path:
    """The folder holding the definitions shipped with the package."""
    packaged = resources.files("alliance_score").joinpath("_instruments")
    if packaged.is_dir():
        return Path(str(packaged))
    # Source checkout or editable install: the repository's instruments/ folder.
    return Path(__file__).resolve().parents[2] / "instruments"


_FAST_CACHE_SIZE = 256
_fast: dict[tuple[str, tuple[str, ...], str], tuple[Instrument, tuple[tuple[str, int], ...]]] = {}
_P = ParamSpec("_P")


def _stamp(path: str) -> int:
    """A path's modification time in ns, or -1 when it does not exist."""
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return -1


def _fast_cache(load: Callable[_P, Instrument]) -> Callable[_P, Instrument]:
    """The fast path in front of :func:`load_instrument` for a reference given as text.

    Rule for changed definitions: a cached lookup is reused while the file it was read
    from and every folder that was searched (``search_path``,
    ``$ALLIANCE_SCORE_INSTRUMENTS`` and the shipped folder) keep their modification
    times, and ``$ALLIANCE_SCORE_INSTRUMENTS`` is unchanged. Editing the definition file,
    or adding, removing or renaming a definition in a searched folder, is therefore seen
    at the next call (one ``stat`` per file or folder, no reading); a file rewritten
    within the file system's timestamp resolution is not.
    """

    @functools.wraps(load)
    def cached(*args: _P.args, **kwargs: _P.kwargs) -> Instrument:
        ref = args[0] if args else kwargs.get("ref")
        search_path = kwargs.get("search_path")
        if not isinstance(ref, str) or len(args) > 1 or set(kwargs) - {"ref", "search_path"}:
            return load(*args, **kwargs)
        folders = tuple(os.fspath(p) for p in search_path or ())  # type: ignore[attr-defined]
        key = (ref, folders, os.environ.get(ENV_VAR, ""))
        hit = _fast.get(key)
        if hit is not None and all(_stamp(p) == t for p, t in hit[1]):
            return hit[0]
        ins = load(*args, **kwargs)
        _fast_remember(key, ins, search_path)  # type: ignore[arg-type]
        return ins

    return cached


def _fast_remember(
    key: tuple[str, tuple[str, ...], str],
    ins: Instrument,
    search_path: Sequence[str | os.PathLike[str]] | None,
) -> None:
    """Record what a lookup depended on: the folders searched and the file chosen."""
    ref = key[0]
    if ref.endswith(".toml") or os.sep in ref or (os.altsep and os.altsep in ref):
        files = [str(Path(ref).resolve())]
        folders: list[str] = []
    else:
        searched = [folder for folder, _ in _folders(search_path)]
        folders = [str(folder) for folder in searched]
        files = [
            str(file)
            for folder in searched
            if folder.is_dir()
            for file in sorted(folder.glob("*.toml"))
            if _loaded_as(file) is ins
        ]
    if len(files) != 1:  # the same file found through two folders: not worth the risk
        return
    if len(_fast) >= _FAST_CACHE_SIZE:
        _fast.clear()
    _fast[key] = (ins, tuple((p, _stamp(p)) for p in [*folders, *files]))


def _loaded_as(file: Path) -> Instrument | None:
    """The (cached) definition a file holds, or ``None`` if it does not load."""
    try:
        return _load_path(file)
    except InstrumentDefinitionError:
        return None


def parse_instrument(
    text: str, source: str = "<string>", *, origin: str | None = None
) -> Instrument:
    """Parse and validate a TOML definition given as text.

    A leading byte order mark (a UTF-8 file saved by some Windows editors) is ignored.
    The result records its provenance: ``origin`` (``source`` unless given) and
    ``content_hash`` (SHA-256 of the text).

    Raises
    ------
    InstrumentDefinitionError
        With every problem found, each naming the field path, the rule and the value.
    """
    try:
        raw = tomllib.loads(text.removeprefix("\ufeff"))
    except tomllib.TOMLDecodeError as exc:
        raise InstrumentDefinitionError(source, [("", f"not valid TOML: {exc}", None)]) from exc
    try:
        ins = Instrument.model_validate(raw)
    except ValidationError as exc:
        errors: list[tuple[str, str, object]] = []
        for e in exc.errors(include_url=False):
            cause = (e.get("ctx") or {}).get("error")
            prefix = _path(e["loc"], raw)
            if isinstance(cause, DefinitionRuleError):
                errors += [
                    (f"{prefix}.{path}" if prefix else path, msg, value)
                    for path, msg, value in cause.problems
                ]
            else:
                errors.append((prefix, e["msg"].removeprefix("Value error, "), e.get("input")))
        raise InstrumentDefinitionError(source, errors) from exc
    ins._set_provenance(source if origin is None else origin, text.removeprefix("\ufeff"))
    return ins


def _path(loc: Sequence[int | str], raw: object) -> str:
    """Render a pydantic location as a TOML-style path: ``scales[2].items[0]``.

    List positions are followed by the id of the element when it has one, so the path
    reads ``scales[2](task).min_answered``.
    """
    out = ""
    node: object = raw
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
            node = node[part] if isinstance(node, list) and part < len(node) else None
            if isinstance(node, dict) and isinstance(node.get("id"), str):
                out += f"({node['id']})"
        else:
            out += f".{part}" if out else str(part)
            node = node.get(part) if isinstance(node, dict) else None
    return out


@functools.lru_cache(maxsize=256)
def _load_path_cached(path: str, mtime_ns: int) -> Instrument:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InstrumentDefinitionError(path, [("", f"cannot read file: {exc}", None)]) from exc
    shipped = Path(path).parent == shipped_directory().resolve()
    return parse_instrument(text, source=path, origin="shipped" if shipped else path)


def _load_path(path: Path) -> Instrument:
    resolved = path.resolve()
    try:
        mtime = resolved.stat().st_mtime_ns
    except OSError as exc:
        problem = ("", f"cannot read file: {exc}", None)
        raise InstrumentDefinitionError(str(path), [problem]) from exc
    return _load_path_cached(str(resolved), mtime)


def _folders(search_path: Sequence[str | os.PathLike[str]] | None) -> list[tuple[Path, bool]]:
    folders: list[tuple[Path, bool]] = [(Path(p), False) for p in (search_path or ())]
    env = os.environ.get(ENV_VAR, "")
    folders += [(Path(p), False) for p in env.split(os.pathsep) if p]
    folders.append((shipped_directory(), True))
    return folders


def _catalogue(
    search_path: Sequence[str | os.PathLike[str]] | None,
) -> list[tuple[Instrument, Path, bool]]:
    found: list[tuple[Instrument, Path, bool]] = []
    for folder, shipped in _folders(search_path):
        if not folder.is_dir():
            continue
        for file in sorted(folder.glob("*.toml")):
            found.append((_load_path(file), file, shipped))
    return found


def list_instruments(
    search_path: Sequence[str | os.PathLike[str]] | None = None,
) -> list[InstrumentSummary]:
    """Summaries of every instrument that can be loaded by id.

    Examples
    --------
    >>> from alliance_score import list_instruments
    >>> "wai-sr" in [s.id for s in list_instruments()]
    True
    """
    return [
        InstrumentSummary(
            id=ins.id,
            version=ins.version,
            name=ins.name,
            short_name=ins.short_name,
            rater=ins.rater,
            n_items=len(ins.items),
            scales={s.id: s.status for s in ins.scales},
            shipped=shipped,
            path=str(path),
        )
        for ins, path, shipped in _catalogue(search_path)
    ]


@_fast_cache
def load_instrument(
    ref: str | os.PathLike[str] | Instrument,
    *,
    search_path: Sequence[str | os.PathLike[str]] | None = None,
) -> Instrument:
    """Load an instrument by id (``"wai-sr"``), id and version (``"wai-sr@1.0"``) or path.

    User folders (``search_path``, then ``$ALLIANCE_SCORE_INSTRUMENTS``) are searched
    before the shipped definitions. When several versions share an id and none is
    requested, the highest version wins; when the same id and version exist twice, the
    first folder wins. Loaded files are cached (keyed by path and modification time), and
    a lookup by text is answered from memory while the file it chose and the folders it
    searched are unchanged (see ``_fast_cache`` for the exact rule).

    Raises
    ------
    UnknownInstrumentError
        When no definition has that id, listing the closest ids.
    InstrumentDefinitionError
        When the file exists but is not a valid definition.

    Examples
    --------
    >>> from alliance_score import load_instrument
    >>> wai = load_instrument("wai-sr")
    >>> wai.short_name, len(wai.items), wai.scale_ids
    ('WAI-SR', 12, ('task', 'bond', 'goal', 'total'))
    """
    if isinstance(ref, Instrument):
        return ref
    text = os.fspath(ref)
    path = Path(text)
    if text.endswith(".toml") or os.sep in text or (os.altsep and os.altsep in text):
        if not path.is_file():
            why = "it is a folder, not a file" if path.is_dir() else "no such file"
            raise UnknownInstrumentError(text, [], [], missing_file=why)
        return _load_path(path)
    ident, _, version = text.partition("@")
    catalogue = _catalogue(search_path)
    matches = [ins for ins, _, _ in catalogue if ins.id == ident]
    if version:
        matches = [ins for ins in matches if ins.version == version]
    if not matches:
        ids = sorted({ins.ref if version else ins.id for ins, _, _ in catalogue})
        close = difflib.get_close_matches(text, ids, n=3, cutoff=0.5)
        raise UnknownInstrumentError(text, close, ids)
    return max(matches, key=lambda ins: tuple(int(p) for p in ins.version.split(".")))
