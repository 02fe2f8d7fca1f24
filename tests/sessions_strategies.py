"""Hypothesis strategies for long tables of session scores (shared by the session tests)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import strategies as st

scores = st.floats(min_value=1.0, max_value=7.0, allow_nan=False).map(lambda x: round(x, 3))


@st.composite
def long_tables(
    draw: st.DrawFn, *, with_missing: bool = True, min_sessions: int = 1
) -> pd.DataFrame:
    """One row per client x session: 1-5 clients, each with distinct session numbers 1..12."""
    n_clients = draw(st.integers(min_value=1, max_value=5))
    rows: list[tuple[str, int, float]] = []
    for i in range(n_clients):
        sessions = draw(
            st.lists(
                st.integers(min_value=1, max_value=12),
                min_size=min_sessions,
                max_size=10,
                unique=True,
            )
        )
        for s in sessions:
            value = draw(scores)
            if with_missing and draw(st.integers(0, 9)) == 0:
                value = float("nan")
            rows.append((f"c{i}", s, value))
    return pd.DataFrame(rows, columns=["client", "session", "total"])


@st.composite
def wide_tables(draw: st.DrawFn) -> pd.DataFrame:
    """One row per client, one column per session (sorted), some cells missing."""
    n_clients = draw(st.integers(min_value=1, max_value=5))
    sessions = sorted(draw(st.lists(st.integers(1, 12), min_size=1, max_size=6, unique=True)))
    cells = draw(
        st.lists(
            st.one_of(scores, st.just(float("nan"))),
            min_size=n_clients * len(sessions),
            max_size=n_clients * len(sessions),
        )
    )
    values = np.array(cells, dtype=np.float64).reshape(n_clients, len(sessions))
    index = pd.Index([f"c{i}" for i in range(n_clients)], name="client")
    columns = pd.Index(np.array(sessions, dtype=np.int64), name="session")
    return pd.DataFrame(values, index=index, columns=columns)
