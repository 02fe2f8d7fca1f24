"""Finding and loading instrument definitions.

Shipped definitions live in the package (``alliance_score/_instruments`` in a wheel, the
repository's ``instruments/`` folder in a source checkout). User definitions are found
from a path given to :func:`load_instrument`, from folders given as ``search_path``, or
from the folders named in the ``ALLIANCE_SCORE_INSTRUMENTS`` environment variable
(separated by ``os.pathsep``).

User definitions are untrusted input (see ``docs/security.md``):

* only regular files of at most :data:`MAX_DEFINITION_BYTES` are read (a named pipe, a
  device or a link to one is refused without being opened for long);
* a user definition never shadows a shipped id and version: looking that id up is
  refused, naming both files;
* a file that cannot be read or is not a valid definition stops lookups of its own id
  only (the id it declares, else its file name), and is named in the message;
* a definitions folder writable by other users, or owned by another user, is warned
  about (:class:`DefinitionFolderWarning`);
* the values of a file that is not an instrument definition are never echoed.
"""

from __future__ import annotations

import difflib
import functools
import os
import re
import stat
import tomllib
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Final, ParamSpec

from pydantic import BaseModel, ConfigDict, ValidationError

from .errors import AllianceScoreWarning, InstrumentDefinitionError, UnknownInstrumentError
from .instrument import DefinitionRuleError, Instrument, Verification

__all__ = [
    "ENV_VAR",
    "INSTRUMENT_REF",
    "MAX_DEFINITION_BYTES",
    "DefinitionFolderWarning",
    "InstrumentSummary",
    "list_instruments",
    "load_instrument",
    "parse_instrument",
    "resolve_instrument",
    "shipped_directory",
]

ENV_VAR = "ALLIANCE_SCORE_INSTRUMENTS"
MAX_DEFINITION_BYTES: Final = 1 << 20
"""The largest definition file read (the largest shipped one is about 20 KiB)."""
INSTRUMENT_REF: Final = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}(?:@[0-9]{1,9}(?:\.[0-9]{1,9}){0,7})?$"
"""What text naming an instrument in data may be: ``id`` or ``id@version``, never a path."""
_REF = re.compile(INSTRUMENT_REF)


class DefinitionFolderWarning(AllianceScoreWarning):
    """A folder of user definitions can be changed by someone else (it is writable by
    other users, or owned by another user), so the keys read from it may not be yours."""


class _NotShown:
    """Stands in for a value of a file that is not an instrument definition."""

    def __repr__(self) -> str:
        return "<not shown: the file is not an instrument definition>"


_NOT_SHOWN: Final = _NotShown()


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
_Stamps = tuple[tuple[str, tuple[int, int, int, int]], ...]
_fast: dict[tuple[str, tuple[str, ...], str], tuple[Instrument, _Stamps]] = {}
_P = ParamSpec("_P")


def _stamp(path: str) -> tuple[int, int, int, int]:
    """A path's modification and status-change times in ns, size and inode;
    ``(-1, -1, -1, -1)`` when it does not exist. The status-change time moves with any
    change of content, owner or permissions and cannot be set back by a program."""
    try:
        st = os.stat(path)
    except OSError:
        return (-1, -1, -1, -1)
    return (st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino)


def _fast_cache(load: Callable[_P, Instrument]) -> Callable[_P, Instrument]:
    """The fast path in front of :func:`load_instrument` for a reference given as text.

    Rule for changed definitions: a cached lookup is reused while the file it was read
    from and every folder that was searched (``search_path``,
    ``$ALLIANCE_SCORE_INSTRUMENTS`` and the shipped folder) keep their modification
    and status-change times, size and inode, and ``$ALLIANCE_SCORE_INSTRUMENTS`` is
    unchanged. Editing or replacing the definition file, adding, removing or renaming a
    definition in a searched folder, or changing a folder's owner or permissions (which
    the folder warnings look at) is therefore seen at the next call (one ``stat`` per
    file or folder, no reading); only an edit that keeps the file's size, within the
    file system's timestamp resolution, is not.
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
    except RecursionError:
        problem = ("", "not valid TOML: arrays or tables nested too deeply", None)
        raise InstrumentDefinitionError(source, [problem]) from None
    try:
        ins = Instrument.model_validate(raw)
    except RecursionError:
        problem = ("", "values nested too deeply for an instrument definition", None)
        raise InstrumentDefinitionError(source, [problem]) from None
    except ValidationError as exc:
        shown = _looks_like_definition(raw)
        errors: list[tuple[str, str, object]] = []
        for e in exc.errors(include_url=False):
            if _consequential(e):
                continue
            cause = (e.get("ctx") or {}).get("error")
            prefix = _path(e["loc"], raw)
            if isinstance(cause, DefinitionRuleError):
                errors += [
                    (f"{prefix}.{path}" if prefix else path, msg, value if shown else _NOT_SHOWN)
                    for path, msg, value in cause.problems
                ]
            else:
                value = e.get("input") if shown else _NOT_SHOWN
                errors.append((prefix, e["msg"].removeprefix("Value error, "), value))
        raise InstrumentDefinitionError(source, errors) from None
    ins._set_provenance(source if origin is None else origin, text.removeprefix("\ufeff"))
    return ins


def _consequential(error: Any) -> bool:
    """A ``too_short`` error on a list that was long enough: its elements failed (and are
    reported themselves), so the validated list came out short."""
    given = error.get("input")
    needed = (error.get("ctx") or {}).get("min_length")
    return (
        error.get("type") == "too_short"
        and isinstance(given, list | tuple)
        and isinstance(needed, int)
        and len(given) >= needed
    )


def _looks_like_definition(raw: object) -> bool:
    """Whether parsed TOML has the shape of a definition (its values may be shown in
    messages); a secret file given by mistake (``--instrument ~/.netrc.toml``) has not."""
    return isinstance(raw, dict) and "id" in raw and ("items" in raw or "scales" in raw)


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


def _read_definition(path: str) -> str:
    """The text of a definition file: a regular file of at most
    :data:`MAX_DEFINITION_BYTES`, read without blocking on a pipe or a device."""

    def refuse(why: str) -> InstrumentDefinitionError:
        return InstrumentDefinitionError(path, [("", f"cannot read file: {why}", None)])

    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise refuse(exc.strerror or str(exc)) from exc
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise refuse("it is not a regular file (a pipe, a device or a folder)")
        if info.st_size > MAX_DEFINITION_BYTES:
            raise refuse(f"it is larger than {MAX_DEFINITION_BYTES >> 10} KiB")
        data = os.read(fd, MAX_DEFINITION_BYTES + 1)
    except OSError as exc:
        raise refuse(exc.strerror or str(exc)) from exc
    finally:
        os.close(fd)
    if len(data) > MAX_DEFINITION_BYTES:
        raise refuse(f"it is larger than {MAX_DEFINITION_BYTES >> 10} KiB")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise refuse("it is not UTF-8 text") from exc


@functools.lru_cache(maxsize=256)
def _load_path_cached(path: str, mtime_ns: int, size: int) -> Instrument:
    text = _read_definition(path)
    shipped = Path(path).parent == shipped_directory().resolve()
    return parse_instrument(text, source=path, origin="shipped" if shipped else path)


def _load_path(path: Path) -> Instrument:
    resolved = path.resolve()
    try:
        info = resolved.stat()
    except OSError as exc:
        problem = ("", f"cannot read file: {exc.strerror or exc}", None)
        raise InstrumentDefinitionError(str(path), [problem]) from exc
    return _load_path_cached(str(resolved), info.st_mtime_ns, info.st_size)


_WARNED: set[str] = set()


def _check_folder(folder: Path) -> None:
    """Warn (once per folder) when someone else can change the definitions in it."""
    try:
        info = folder.stat()
    except OSError:
        return
    key = str(folder.resolve())
    if key in _WARNED:
        return
    problems = []
    if info.st_mode & stat.S_IWOTH and not info.st_mode & stat.S_ISVTX:
        problems.append("writable by every user")
    elif info.st_mode & stat.S_IWOTH:
        problems.append("writable by every user (sticky: others may add files)")
    uid = os.geteuid() if hasattr(os, "geteuid") else None
    if uid is not None and info.st_uid not in (uid, 0):
        problems.append(f"owned by another user (uid {info.st_uid})")
    if problems:
        _WARNED.add(key)
        warnings.warn(
            f"The definitions folder {str(folder)!r} is {' and '.join(problems)}: anyone "
            "who can write there can change the keys your scores are computed with. "
            "Make it yours and not writable by others (chmod o-w).",
            DefinitionFolderWarning,
            stacklevel=4,
        )


def _folders(search_path: Sequence[str | os.PathLike[str]] | None) -> list[tuple[Path, bool]]:
    folders: list[tuple[Path, bool]] = [(Path(p), False) for p in (search_path or ())]
    env = os.environ.get(ENV_VAR, "")
    folders += [(Path(p), False) for p in env.split(os.pathsep) if p]
    folders.append((shipped_directory(), True))
    return folders


@dataclass(frozen=True)
class _Entry:
    """One ``*.toml`` file of a definitions folder: loaded, or why not."""

    path: Path
    shipped: bool
    instrument: Instrument | None = None
    error: InstrumentDefinitionError | None = None
    claimed_id: str = ""
    """The id a broken file declares (``id = "..."``), else its file name's stem."""


def _claimed_id(path: Path) -> str:
    """The id a file that did not load says it defines (for routing its error)."""
    with_version = path.stem.partition("@")[0]
    try:
        text = _read_definition(str(path))
        match = re.search(r'^\s*id\s*=\s*"([^"\n]{1,64})"', text, re.MULTILINE)
    except InstrumentDefinitionError:
        match = None
    return match.group(1) if match else with_version


def _catalogue(search_path: Sequence[str | os.PathLike[str]] | None) -> list[_Entry]:
    found: list[_Entry] = []
    for folder, shipped in _folders(search_path):
        if not folder.is_dir():
            continue
        if not shipped:
            _check_folder(folder)
        for file in sorted(folder.glob("*.toml")):
            try:
                found.append(_Entry(file, shipped, instrument=_load_path(file)))
            except InstrumentDefinitionError as exc:
                found.append(_Entry(file, shipped, error=exc, claimed_id=_claimed_id(file)))
    return found


def _shadowing(entries: list[_Entry]) -> dict[str, tuple[Path, Path]]:
    """User files that repeat a shipped id and version: ``ref -> (user file, shipped)``."""
    shipped = {e.instrument.ref: e.path for e in entries if e.shipped and e.instrument}
    out: dict[str, tuple[Path, Path]] = {}
    for e in entries:
        if e.instrument is not None and not e.shipped and e.instrument.ref in shipped:
            out.setdefault(e.instrument.ref, (e.path, shipped[e.instrument.ref]))
    return out


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
        for ins, path, shipped in _loaded(search_path)
    ]


def _loaded(
    search_path: Sequence[str | os.PathLike[str]] | None,
) -> list[tuple[Instrument, Path, bool]]:
    """The definitions that load, without user files that shadow a shipped one; a file
    left out is warned about (a lookup of its id says why)."""
    entries = _catalogue(search_path)
    shadow = {user for user, _ in _shadowing(entries).values()}
    out = []
    for e in entries:
        if e.instrument is not None and e.path not in shadow:
            out.append((e.instrument, e.path, e.shipped))
        else:
            warnings.warn(
                f"The definition file {str(e.path)!r} is left out of the catalogue: "
                + (
                    "it repeats a shipped id and version"
                    if e.error is None
                    else f"it is not a valid definition ({len(e.error.errors)} problem(s))"
                )
                + f"; load_instrument({e.claimed_id or e.path.stem!r}) says more.",
                DefinitionFolderWarning,
                stacklevel=3,
            )
    return out


@_fast_cache
def load_instrument(
    ref: str | os.PathLike[str] | Instrument,
    *,
    search_path: Sequence[str | os.PathLike[str]] | None = None,
) -> Instrument:
    """Load an instrument by id (``"wai-sr"``, any case), id and version (``"wai-sr@1.0"``)
    or path.

    User folders (``search_path``, then ``$ALLIANCE_SCORE_INSTRUMENTS``) are searched
    before the shipped definitions. When several versions share an id and none is
    requested, the highest version wins, except that an id the package ships means the
    shipped definition: a user file with a shipped id and another version is used only
    when its version is named (``"wai-sr@1.1"``) or its path is given. When the same id
    and version exist twice, the first folder wins (a user file repeating a shipped id
    and version is refused). Loaded files are cached (keyed by path and modification time), and
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
        if not path.exists():
            raise UnknownInstrumentError(text, [], [], missing_file="no such file")
        if path.is_dir():
            raise UnknownInstrumentError(text, [], [], missing_file="it is a folder, not a file")
        return _load_path(path)
    ident, _, version = text.partition("@")
    ident = ident.strip().casefold()  # ids are case-insensitive: "WAI-SR" is "wai-sr"
    entries = _catalogue(search_path)
    broken = [
        e
        for e in entries
        if e.error is not None
        and isinstance(e.claimed_id, str)
        and e.claimed_id.casefold() == ident
    ]
    if broken:  # a broken file stops lookups of its own id, and only those
        raise broken[0].error  # type: ignore[misc]
    shadow = _shadowing(entries)
    for ref_text, (user, shipped) in shadow.items():
        if ref_text.partition("@")[0].casefold() == ident and (
            not version or ref_text.casefold() == text.strip().casefold()
        ):
            raise InstrumentDefinitionError(
                str(user),
                [("", f"repeats the shipped definition {ref_text} ({shipped})", ref_text)],
                hint="A user definition never replaces a shipped one: give it another id "
                "or version, or load the file by its path to score with it on purpose.",
            )
    loaded = [e.instrument for e in entries if e.instrument is not None]
    found = [e for e in entries if e.instrument is not None and e.instrument.id.casefold() == ident]
    if version:
        found = [e for e in found if e.instrument and e.instrument.version == version.strip()]
    elif any(e.shipped for e in found):
        # a shipped id means its published key: another version from a user folder is
        # scored only when named (``id@version``) or loaded by its path
        found = [e for e in found if e.shipped]
    matches = [e.instrument for e in found if e.instrument is not None]
    if not matches:
        ids = sorted({ins.ref if version else ins.id for ins in loaded})
        folded = {i.casefold(): i for i in ids}
        close = difflib.get_close_matches(text.strip().casefold(), list(folded), n=3, cutoff=0.5)
        raise UnknownInstrumentError(text, [folded[c] for c in close], ids)
    return max(matches, key=lambda ins: _version_key(ins.version))


def _version_key(version: str) -> tuple[tuple[int, str], ...]:
    """Versions compared part by part as numbers, without converting text of any length
    to an int (``"1" * 5000`` would raise).

    >>> sorted(["1.10", "1.9", "10.0"], key=_version_key)
    ['1.9', '1.10', '10.0']
    """
    parts = (p.lstrip("0") or "0" for p in version.split("."))
    return tuple((len(p), p) for p in parts)


def resolve_instrument(ref: str | os.PathLike[str] | Instrument) -> Instrument:
    """The instrument named by ``ref`` where the name may come from data.

    Text is an id or ``id@version`` only (:data:`INSTRUMENT_REF`), never a path, so that
    a name received from a file, a form or a request cannot make the library read a
    file; a program that means a file passes a :class:`pathlib.Path` (or calls
    :func:`load_instrument`). Used by :func:`~alliance_score.score_frame` and
    :func:`~alliance_score.score_response`.

    >>> resolve_instrument("wai-sr@1.0").ref
    'wai-sr@1.0'
    >>> resolve_instrument("../secrets.toml")
    Traceback (most recent call last):
    ...
    alliance_score.errors.UnknownInstrumentError: ... is not an instrument id ...
    """
    if isinstance(ref, str) and not _REF.match(ref):
        shown = ref if len(ref) <= 80 else ref[:77] + "..."
        raise UnknownInstrumentError(
            shown,
            [],
            [],
            missing_file="it is not an instrument id or id@version (a definition file is "
            "given as a pathlib.Path, or loaded with load_instrument(path))",
        )
    return load_instrument(ref)
