"""Sniffing a delimited export: encoding, delimiter, header rows and the export's kind.

Only the first :data:`SAMPLE_BYTES` of the file are read. The result, a
:class:`TextLayout`, tells the chunked readers how to decode and split the rest.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import os
import re
from dataclasses import dataclass
from typing import Final, Literal

from ..errors import UnreadableFileError

__all__ = ["SAMPLE_BYTES", "ExportKind", "TextLayout", "detect_identifiers", "sniff_layout"]

SAMPLE_BYTES: Final = 1 << 20
ExportKind = Literal["csv", "qualtrics", "redcap", "redcap-labels"]

_DELIMITERS: Final = (",", ";", "\t")
_REDCAP_RAW: Final = (
    "record_id",
    "redcap_event_name",
    "redcap_repeat_instrument",
    "redcap_repeat_instance",
)
_REDCAP_LABELS: Final = ("Record ID", "Event Name", "Repeat Instrument", "Repeat Instance")
_UNDECODED = re.compile("[\udc80-\udcff]")
_MULTIBYTE = re.compile("[\u0080-\udbff\ue000-\U0010ffff]")
SAMPLE_LIMIT: Final = 64 << 20
"""The longest header row read (a longer one is refused rather than cut)."""


@dataclass(frozen=True)
class TextLayout:
    """How a delimited text export is laid out."""

    encoding: str
    """Python codec name (``utf-8``, ``utf-8-sig``, ``utf-16``, ``cp1252``)."""
    delimiter: str
    header: tuple[str, ...]
    """Column names, as written in the header row."""
    header_lines: int
    """Physical lines taken by the header row and any extra header rows (Qualtrics)."""
    extra_header_rows: int
    """Rows after the header that are not data (Qualtrics question text and ImportId)."""
    kind: ExportKind
    identifiers: tuple[str, ...]
    """Columns that identify an administration in this kind of export."""
    status_columns: tuple[str, ...]
    """Columns kept in the output as they are, but not part of the identity (REDCap's
    ``<form>_complete``)."""


def _detect_encoding(head: bytes) -> str:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if len(head) >= 4 and head[1::2][:64].count(0) > len(head[1::2][:64]) // 2:
        return "utf-16-le"
    if len(head) >= 4 and head[0::2][:64].count(0) > len(head[0::2][:64]) // 2:
        return "utf-16-be"
    # an incomplete multi-byte character at the end of the sample is not an error
    text = codecs.getincrementaldecoder("utf-8")("surrogateescape").decode(head, final=False)
    invalid = len(_UNDECODED.findall(text))
    if not invalid:
        return "utf-8"
    # a few stray bytes in text that is otherwise UTF-8 (valid multi-byte characters
    # outnumber them) are odd cells of a UTF-8 file, not a sign of another encoding:
    # reading the whole file as cp1252 would turn every "ë" into "Ã«"
    multibyte = len(_MULTIBYTE.findall(text))
    return "utf-8" if multibyte > invalid else "cp1252"


_MAGIC: Final = (
    (b"\x89PNG", "a PNG image"),
    (b"\x1f\x8b", "a gzip-compressed file"),
    (b"PK\x03\x04", "a zip archive (an .xlsx workbook is one: rename it to .xlsx)"),
    (b"\xd0\xcf\x11\xe0", "an old Excel (.xls) or other Office file"),
    (b"%PDF", "a PDF document"),
    (b"PAR1", "a parquet file (rename it to .parquet)"),
    (b"$FL2", "an SPSS file (rename it to .sav)"),
    (b"BZh", "a bzip2-compressed file"),
    (b"\xff\xd8\xff", "a JPEG image"),
)


def _refuse_binary(head: bytes, name: str, encoding: str) -> None:
    """Raise when the file is plainly not delimited text (a known binary signature, or
    control bytes in its first line that UTF-16 does not explain)."""
    for magic, what in _MAGIC:
        if head.startswith(magic):
            raise UnreadableFileError(
                f"Cannot read {name!r} as delimited text: it looks like {what}."
            )
    if encoding.startswith("utf-16"):
        return  # every other byte of ASCII text in UTF-16 is zero
    first = head.split(b"\n", 1)[0][:4096]
    control = sorted({b for b in first if b < 32 and b not in (9, 10, 13)})
    if control:
        raise UnreadableFileError(
            f"Cannot read {name!r} as delimited text: its first line holds control "
            f"byte 0x{control[0]:02x}, so it is binary data, not a CSV or TSV export."
        )


def _decode_sample(head: bytes, encoding: str) -> str:
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    return decoder.decode(head, final=False)


def _first_record(sample: str) -> str:
    """The text of the header record (which may span lines inside quotes)."""
    in_quotes = False
    for pos, char in enumerate(sample):
        if char == '"':
            in_quotes = not in_quotes
        elif char in "\r\n" and not in_quotes:
            return sample[:pos]
    return sample


def _sniff_delimiter(sample: str, path: str) -> str:
    if path.lower().endswith((".tsv", ".tab")):
        return "\t"
    record = _first_record(sample)
    unquoted = re.sub(r'"[^"]*"', "", record)
    counts = {d: unquoted.count(d) for d in _DELIMITERS}
    best = max(_DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def detect_identifiers(header: tuple[str, ...], kind: ExportKind = "csv") -> tuple[str, ...]:
    """Columns that identify an administration in an export of ``kind``.

    >>> detect_identifiers(("client_id", "session", "wai_1", "notes"))
    ('client_id', 'session')
    >>> detect_identifiers(("client", "therapist", "session", "q1"))
    ('client', 'therapist', 'session')
    >>> detect_identifiers((" client_id ", "Session ", "q1"))  # spaces around names
    (' client_id ', 'Session ')
    >>> detect_identifiers(("pid", "ParticipantID", "participant_id", "paid", "q1"))
    ('pid', 'ParticipantID', 'participant_id')
    """
    if kind == "redcap":
        ids = [c for c in header if c in _REDCAP_RAW]
        if "record_id" not in ids and header:
            ids.insert(0, header[0])  # REDCap's first column is always the record id field
        return tuple(ids)
    if kind == "redcap-labels":
        return tuple(c for c in header if c in _REDCAP_LABELS)
    if kind == "qualtrics":
        return tuple(c for c in header if c == "ResponseId")
    pattern = re.compile(
        r"(?:^|[_ .])(?:id|session|visit|wave|timepoint|occasion|client|patient|participant"
        r"|subject|respondent|therapist|clinician|rater)$|^id[_ .]",
        re.IGNORECASE,
    )
    short = {"id", "pid", "sid", "uid", "ptid", "subjid", "subid"}  # common bare id names
    camel = re.compile(r"[a-z](?:ID|Id)$")  # ParticipantID, ClientId
    return tuple(
        c
        for c in header
        if c.strip().casefold() in short or pattern.search(c.strip()) or camel.search(c.strip())
    )


def _is_import_id_row(header: tuple[str, ...], row: list[str]) -> bool:
    """Qualtrics' third header row: one ``{"ImportId":...}`` object per column, for every
    column of the header. A single cell of that form is data, never a header."""
    return len(row) == len(header) and all(_is_import_id(cell) for cell in row)


def _is_import_id(cell: str) -> bool:
    """``{"ImportId":"QID1"}`` (Qualtrics may add text fields such as ``timeZone``).

    >>> _is_import_id('{"ImportId":"startDate","timeZone":"UTC"}'), _is_import_id('{"x":1}')
    (True, False)
    """
    text = cell.strip()
    if not text.startswith('{"ImportId":'):
        return False
    try:
        value = json.loads(text)
    except ValueError:
        return False
    return isinstance(value, dict) and all(isinstance(v, str) for v in value.values())


def _kind(header: tuple[str, ...], rows: list[list[str]]) -> tuple[ExportKind, int]:
    for n, row in enumerate(rows[:2], start=1):
        if _is_import_id_row(header, row):
            return "qualtrics", n
    names = set(header)
    if "redcap_event_name" in names or "redcap_repeat_instrument" in names:
        return "redcap", 0
    if "record_id" in names and any(c.endswith("_complete") for c in header):
        return "redcap", 0
    if "Record ID" in names and ("Complete?" in names or "Event Name" in names):
        return "redcap-labels", 0
    return "csv", 0


def sniff_layout(path: str | os.PathLike[str]) -> TextLayout:
    """Read the start of a delimited export and work out how it is laid out.

    Parameters
    ----------
    path
        A CSV or TSV file.

    Returns
    -------
    TextLayout
        Encoding (UTF-8 with or without a byte-order mark, UTF-16 as Excel writes it,
        otherwise cp1252), delimiter (``,``, ``;`` or tab, whichever the header row uses
        most), header, export kind and identifier columns.

    Raises
    ------
    UnreadableFileError
        When the file cannot be opened or has no header row.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> tmp = pathlib.Path(tempfile.mkdtemp()) / "export.csv"
    >>> _ = tmp.write_bytes("client_id;wai_1\\r\\nA;4\\r\\n".encode("utf-8-sig"))
    >>> layout = sniff_layout(tmp)
    >>> layout.encoding, layout.delimiter, layout.header, layout.identifiers
    ('utf-8-sig', ';', ('client_id', 'wai_1'), ('client_id',))
    """
    name = os.fspath(path)
    try:
        with open(name, "rb") as fh:
            head = fh.read(SAMPLE_BYTES)
            encoding = _detect_encoding(head)
            _refuse_binary(head, name, encoding)
            sample = _decode_sample(head, encoding)
            # a header row longer than the sample is read whole, never cut
            while len(head) < SAMPLE_LIMIT and _first_record(sample) == sample:
                more = fh.read(len(head))
                if not more:
                    break
                head += more
                sample = _decode_sample(head, encoding)
    except OSError as exc:
        raise UnreadableFileError(f"Cannot read {name!r}: {exc.strerror or exc}.") from exc
    if _first_record(sample) == sample and len(head) >= SAMPLE_LIMIT:
        raise UnreadableFileError(
            f"Cannot read {name!r}: its header row is longer than {SAMPLE_LIMIT >> 20} MiB."
        )
    if sample.startswith("\ufeff"):
        sample = sample[1:]
    delimiter = _sniff_delimiter(sample, name)
    reader = csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter)
    try:
        header = tuple(next(reader))
    except (StopIteration, csv.Error) as exc:
        raise UnreadableFileError(f"Cannot read {name!r}: it has no header row.") from exc
    if not any(c.strip() for c in header):
        raise UnreadableFileError(f"Cannot read {name!r}: its first line is empty.")
    header_lines = reader.line_num
    peek: list[list[str]] = []
    lines_after: list[int] = []
    try:
        for _ in range(2):
            peek.append(next(reader))
            lines_after.append(reader.line_num)
    except (StopIteration, csv.Error):
        pass
    kind, extra = _kind(header, peek)
    if extra:
        header_lines = lines_after[extra - 1]
    status = tuple(c for c in header if c.endswith("_complete") or c == "Complete?")
    if kind not in ("redcap", "redcap-labels"):
        status = ()
    return TextLayout(
        encoding=encoding,
        delimiter=delimiter,
        header=header,
        header_lines=header_lines,
        extra_header_rows=extra,
        kind=kind,
        identifiers=detect_identifiers(header, kind),
        status_columns=status,
    )
