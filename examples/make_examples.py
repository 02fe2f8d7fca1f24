"""Write the small example exports in this folder (run: python examples/make_examples.py).

The files are committed; this script documents exactly what each one holds and makes
them again. The binary formats need the optional extras (``pip install ".[all]"``).
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
ITEMS = [f"wai_sr_{i:02d}" for i in range(1, 13)]
LABELS = {1: "Seldom", 2: "Sometimes", 3: "Fairly often", 4: "Very often", 5: "Always"}


def _answers(base: int, tweak: dict[int, str] | None = None) -> list[str]:
    row = [str(1 + (base + i) % 5) for i in range(12)]
    for item, value in (tweak or {}).items():
        row[item - 1] = value
    return row


# The messy export: one row per case the scorer must handle, each commented.
MESSY: list[tuple[str, str, str, dict[int, str], str]] = [
    # client_id, session, date, {item: raw value}, comment
    ("C001", "1", "2024-01-08", {}, "complete"),
    ("C001", "2", "2024-01-15", {3: " 4 ", 7: "4.0"}, "spaces and 4.0 are fine"),
    ("C002", "1", "2024-01-09", {5: ""}, "one item blank: prorated"),
    ("C002", "2", "2024-01-16", {2: "NA", 9: "."}, "NA and . are missing"),
    ("C003", "1", "2024-01-10", {3: "4.5"}, "4.5 is not an allowed value"),
    ("C003", "2", "2024-01-17", {8: "6"}, "6 is out of range"),
    ("C004", "1", "2024-01-11", {1: "four"}, "text"),
    ("C004", "2", "2024-01-18", {12: "Always"}, "an anchor label without --labels"),
    ("C005", "1", "2024-01-12", {6: "-99"}, "-99 without --missing-code"),
    ("C005", "2", "2024-01-19", {10: "1e999"}, "an infinite number"),
    ("C006", "1", "2024-01-12", {4: "0"}, "0 is out of range"),
    ("C006", "1", "2024-01-12", {}, "same client and session again: duplicate"),
    ('=HYPERLINK("http://example.com","C007")', "1", "2024-01-13", {}, "formula-like id"),
    ("C008", "1", "2024-01-14", dict.fromkeys(range(1, 12), ""), "only one item answered"),
    ("C009", "1", "2024-01-14", {1: "", 2: "", 8: "", 11: ""}, "goal items missing: partial"),
    ("C010", "1", "2024-01-15", {}, "a comment\nover two lines"),
    ("C010", "2", "2024-01-22", {}, "after the two-line comment"),
]


def messy() -> None:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["client_id", "session", "date", *ITEMS, "comment"])
    for k, (client, session, date, tweak, comment) in enumerate(MESSY):
        writer.writerow([client, session, date, *_answers(k, tweak), comment])
        if k == 10:  # a ragged line: a field lost in hand editing
            buffer.write("C011,1,2024-01-16," + ",".join(_answers(3)[:11]) + "\r\n")
    (HERE / "messy_wai_sr.csv").write_bytes(b"\xef\xbb\xbf" + buffer.getvalue().encode())


def _clean_rows(n: int) -> list[list[str]]:
    return [[f"C{k:03d}", str(1 + k % 3), *_answers(k)] for k in range(1, n + 1)]


def simple_formats() -> None:
    header = ["client_id", "session", *ITEMS]
    rows = _clean_rows(6)
    rows[2][5] = ""
    # semicolon-delimited cp1252 CSV, as a European Excel saves it
    text = io.StringIO(newline="")
    w = csv.writer(text, delimiter=";", lineterminator="\r\n")
    w.writerow(["client_id", "thérapeute", *ITEMS])
    for r in rows:
        w.writerow([r[0], "Müller", *r[2:]])
    (HERE / "excel_cp1252_semicolon.csv").write_bytes(text.getvalue().encode("cp1252"))
    # UTF-16 tab-delimited, as Excel's "Unicode text" writes it
    text = io.StringIO(newline="")
    w = csv.writer(text, delimiter="\t", lineterminator="\r\n")
    w.writerow(header)
    w.writerows(rows)
    (HERE / "excel_unicode_text.txt").write_bytes(text.getvalue().encode("utf-16"))
    # TSV
    text = io.StringIO(newline="")
    csv.writer(text, delimiter="\t", lineterminator="\n").writerows([header, *rows])
    (HERE / "wai_sr.tsv").write_text(text.getvalue(), encoding="utf-8")


def redcap() -> None:
    fields = [f"wai_{i}" for i in range(1, 13)]
    raw = io.StringIO(newline="")
    w = csv.writer(raw, lineterminator="\n")
    w.writerow(
        [
            "record_id",
            "redcap_event_name",
            "redcap_repeat_instrument",
            "redcap_repeat_instance",
            *fields,
            "wai_sr_complete",
        ]
    )
    labels = io.StringIO(newline="")
    wl = csv.writer(labels, lineterminator="\n")
    wl.writerow(
        ["Record ID", "Event Name", "Repeat Instrument", "Repeat Instance", *fields, "Complete?"]
    )
    for k in range(1, 7):
        answers = _answers(k)
        if k == 4:
            answers[6] = ""
        event = "baseline_arm_1" if k <= 3 else "week_4_arm_1"
        record = str(1 + (k - 1) % 3)
        w.writerow([record, event, "", "", *answers, "2"])
        wl.writerow(
            [
                record,
                event.replace("_arm_1", "").replace("_", " ").title() + " (Arm 1: Main)",
                "",
                "",
                *[LABELS[int(a)] if a else "" for a in answers],
                "Complete",
            ]
        )
    (HERE / "redcap_raw.csv").write_text(raw.getvalue(), encoding="utf-8")
    (HERE / "redcap_labels.csv").write_text(labels.getvalue(), encoding="utf-8")


def qualtrics() -> None:
    meta = ["StartDate", "EndDate", "Progress", "Finished", "ResponseId"]
    text = io.StringIO(newline="")
    w = csv.writer(text, lineterminator="\r\n")
    w.writerow([*meta, *[f"Q{i}" for i in range(1, 13)]])
    w.writerow(
        [
            "Start Date",
            "End Date",
            "Progress",
            "Finished",
            "Response ID",
            *[f"Working alliance -\nstatement {i}" for i in range(1, 13)],
        ]
    )
    w.writerow(
        [
            json.dumps({"ImportId": m}, separators=(",", ":"))
            for m in ("startDate", "endDate", "progress", "finished", "_recordId")
        ]
        + [json.dumps({"ImportId": f"QID{i}"}, separators=(",", ":")) for i in range(1, 13)]
    )
    for k in range(1, 6):
        w.writerow(
            [
                "2024-03-01 10:00:00",
                "2024-03-01 10:05:00",
                "100",
                "True",
                f"R_{k:04d}abc",
                *_answers(k),
            ]
        )
    (HERE / "qualtrics.csv").write_text(text.getvalue(), encoding="utf-8")


def binary_formats() -> None:
    import datetime

    import pandas as pd

    rows = _clean_rows(6)
    frame = pd.DataFrame(rows, columns=["client_id", "session", *ITEMS])
    numeric = frame.copy()
    for c in ITEMS:
        numeric[c] = pd.to_numeric(numeric[c]).astype("float64")
    numeric["session"] = numeric["session"].astype("int64")
    numeric.loc[2, "wai_sr_05"] = float("nan")
    numeric.to_parquet(HERE / "wai_sr.parquet", index=False)

    import pyreadstat

    labels = {c: {float(v): lab for v, lab in LABELS.items()} for c in ITEMS}
    spss = numeric.copy()
    spss.loc[3, "wai_sr_09"] = -99.0
    pyreadstat.write_sav(
        spss,
        HERE / "wai_sr.sav",
        variable_value_labels=labels,
        missing_ranges={c: [-99.0] for c in ITEMS},
    )
    pyreadstat.write_dta(numeric, HERE / "wai_sr.dta", variable_value_labels=labels)

    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["client_id", "session", *ITEMS])
    for k, row in enumerate(numeric.itertuples(index=False, name=None)):
        cells = [None if isinstance(v, float) and v != v else v for v in row]
        if k == 4:
            cells[2 + 10] = datetime.datetime(2024, 5, 1)  # a date typed into an item
        sheet.append(cells)
    book.save(HERE / "wai_sr.xlsx")


if __name__ == "__main__":
    messy()
    simple_formats()
    redcap()
    qualtrics()
    binary_formats()
