"""Write the session-by-session SRS example (run: python examples/make_session_examples.py).

``srs-sessions.csv`` holds one row per client x session of Session Rating Scale answers
(four visual analogue items, 0-10 cm), made up to show each alert of the clinician
report (``alliance-score report``) on a small caseload:

* ``C01``: a steady, good alliance: no alert;
* ``C02``: falls below the cut-off (36) at the last session, by 1.3 points from the one
  before: below the cut-off and a drop;
* ``C03``: eight sessions with a deep fall at session 7 that has not come back to the
  level before it: an open rupture episode;
* ``<img src=x onerror=alert(1)>``: an identifier that is HTML (the report must show it
  as text); session 2 has a value out of range (not scored), session 3 is a point below
  session 1: a drop from the previous scored session;
* ``C05``: a falling course with one item left blank at session 4 (prorated): reliable
  deterioration when the report is given an SD and a reliability.

The file is committed; this script documents what it holds and makes it again.
"""

from __future__ import annotations

import csv
from pathlib import Path

HERE = Path(__file__).resolve().parent
ITEMS = ["relationship", "goals", "approach", "overall"]

# client, session, four answers (blank = not answered)
ROWS: list[tuple[str, int, tuple[str, str, str, str]]] = [
    ("C01", 1, ("9.6", "9.4", "9.5", "9.5")),
    ("C01", 2, ("9.8", "9.6", "9.5", "9.7")),
    ("C01", 3, ("9.7", "9.5", "9.6", "9.7")),
    ("C02", 1, ("9.4", "9.2", "9.1", "9.3")),
    ("C02", 2, ("9.2", "9.0", "9.1", "9.2")),
    ("C02", 3, ("8.9", "8.7", "8.8", "8.8")),
    ("C03", 1, ("9.5", "9.5", "9.5", "9.5")),
    ("C03", 2, ("9.7", "9.6", "9.6", "9.6")),
    ("C03", 3, ("9.5", "9.5", "9.5", "9.5")),
    ("C03", 4, ("9.8", "9.7", "9.8", "9.7")),
    ("C03", 5, ("9.7", "9.6", "9.6", "9.6")),
    ("C03", 6, ("9.5", "9.5", "9.5", "9.5")),
    ("C03", 7, ("7.4", "7.1", "7.3", "7.2")),
    ("C03", 8, ("9.3", "9.2", "9.3", "9.2")),
    ("<img src=x onerror=alert(1)>", 1, ("9.3", "9.2", "9.3", "9.2")),
    ("<img src=x onerror=alert(1)>", 2, ("9.5", "12", "9.4", "9.4")),
    ("<img src=x onerror=alert(1)>", 3, ("9.1", "9.0", "8.9", "9.0")),
    ("C05", 1, ("9.8", "9.7", "9.8", "9.7")),
    ("C05", 2, ("9.0", "8.8", "8.9", "8.9")),
    ("C05", 3, ("8.4", "8.2", "8.3", "8.3")),
    ("C05", 4, ("7.6", "", "7.4", "7.5")),
]


def srs_sessions() -> None:
    with (HERE / "srs-sessions.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["client", "session", *ITEMS])
        for client, session, answers in ROWS:
            writer.writerow([client, session, *answers])


if __name__ == "__main__":
    srs_sessions()
