"""Nested ICCs from per-client sums: count, mean and sum of squares of each client's scores."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any, Literal, Self

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, model_validator

from ..errors import DataError
from ..psychometrics._coefficients import round_frame
from ..sessions._columns import prepare, require_columns
from ..sessions.nested import GroupSize, anova_from_groups, icc_note
from ._base import Partial, PartialMismatchError

__all__ = ["ClientMoments", "PartialNestedICC"]

Scalar = str | int | float | bool | None


class ClientMoments(BaseModel):
    """Per (rater, client): the rated sessions' count, mean and sum of squared deviations.

    Columnar (one list per field, one position per client) so that large registries
    stay compact. Clients and therapists are stored as keyed digests, never as given.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    rater: list[Scalar]
    client: list[str]
    therapist: list[str | None]
    conflict: list[bool]
    """The client was seen with more than one therapist."""
    n: list[int]
    mean: list[float]
    m2: list[float]

    @model_validator(mode="after")
    def _aligned(self) -> Self:
        size = len(self.client)
        for name in ("rater", "therapist", "conflict", "n", "mean", "m2"):
            if len(getattr(self, name)) != size:
                raise ValueError(f"{name} must have one entry per client ({size})")
        if any(v < 1 for v in self.n) or any(v < 0 for v in self.m2):
            raise ValueError("each client needs n >= 1 and m2 >= 0")
        return self

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "rater": pd.Series(self.rater, dtype=object),
                "client": pd.Series(self.client, dtype=object),
                "therapist": pd.Series(self.therapist, dtype=object),
                "conflict": np.array(self.conflict, dtype=bool),
                "n": np.array(self.n, dtype=np.float64),
                "mean": np.array(self.mean, dtype=np.float64),
                "m2": np.array(self.m2, dtype=np.float64),
            }
        )

    @classmethod
    def of(cls, frame: pd.DataFrame) -> ClientMoments:
        return cls(
            rater=[_plain(v) for v in frame["rater"].tolist()],
            client=frame["client"].tolist(),
            therapist=[None if pd.isna(t) else str(t) for t in frame["therapist"].tolist()],
            conflict=frame["conflict"].astype(bool).tolist(),
            n=np.rint(frame["n"].to_numpy(dtype=np.float64)).astype(np.int64).tolist(),
            mean=frame["mean"].astype(np.float64).tolist(),
            m2=frame["m2"].astype(np.float64).tolist(),
        )


def _plain(value: Any) -> Scalar:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, str | int | float | bool):
        return value
    raise DataError(
        f"A rater value of type {type(value).__name__} cannot be stored in a partial "
        "statistic; convert the rater column to text or numbers."
    )


def _identity(value: Any) -> str:
    """A canonical text for an identifier: ``101`` and ``101.0`` are the same client."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool):
        return f"b:{value}"
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        return f"n:{int(value)}"
    if isinstance(value, float):
        return f"n:{value!r}"
    return f"s:{value}"


def _digest(value: Any, key: bytes) -> str:
    return hmac.new(key, _identity(value).encode("utf-8"), hashlib.sha256).hexdigest()[:32]


def _key_check(key: bytes) -> str:
    return _digest("alliance-score partial statistics", key)


def _pool(frame: pd.DataFrame) -> pd.DataFrame:
    """Combine rows of the same (rater, client): the multi-way form of Chan et al.'s update.

    The pooled mean is the count-weighted mean of the parts and the pooled sum of squares
    ``sum(m2_i + n_i (mean_i - mean)^2)``, deviations about the pooled mean (no raw sums).
    """
    f = frame.assign(rater_key=frame["rater"].map(repr))
    keys = [f["rater_key"], f["client"]]
    n = f["n"].groupby(keys, sort=False).transform("sum")
    mean = (f["n"] * f["mean"]).groupby(keys, sort=False).transform("sum") / n
    f = f.assign(spread=f["m2"] + f["n"] * (f["mean"] - mean) ** 2, pooled=mean)
    out = f.groupby(["rater_key", "client"], sort=False).agg(
        rater=("rater", "first"),
        n=("n", "sum"),
        mean=("pooled", "first"),
        m2=("spread", "sum"),
        therapists=("therapist", "nunique"),
        therapist=("therapist", "first"),
        conflict=("conflict", "any"),
    )
    out["conflict"] = out["conflict"] | (out["therapists"] > 1)
    return out.reset_index()[list(_FIELDS)]


_FIELDS = ("rater", "client", "therapist", "conflict", "n", "mean", "m2")


class PartialNestedICC(Partial):
    """Sufficient statistics for :func:`alliance_score.sessions.nested_icc`.

    Per client (and rater): the number of rated sessions, their mean and the sum of
    squared deviations from it; with a therapist column, each client's therapist. Clients
    and therapists are stored as keyed SHA-256 digests (HMAC) of their identifiers, so the
    JSON carries no identifier as given; sites that pass the same secret ``key`` recognise
    a client seen at both. Identifiers from a small, guessable set (1..10000) can be found
    again by anyone who knows the key, so keep it secret between the sites.

    Examples
    --------
    >>> import pandas as pd
    >>> from alliance_score.partial import PartialNestedICC
    >>> df = pd.DataFrame({"client": list("aaabb"), "session": [1, 2, 3, 1, 2],
    ...                    "total": [1.0, 2, 3, 4, 6]})
    >>> a = PartialNestedICC.from_frame(df.iloc[:2])
    >>> b = PartialNestedICC.from_frame(df.iloc[2:])
    >>> a.merge(b).finish()[["level", "n_groups", "icc1", "icc2"]]
        level  n_groups      icc1      icc2
    0  client         2  0.739583  0.876543
    """

    kind: Literal["alliance-score/partial-nested-icc"] = "alliance-score/partial-nested-icc"
    format_version: Literal[1] = 1
    client_column: str
    session_column: str
    rater_column: str | None
    therapist_column: str | None
    score_column: str
    key_check: str
    """A digest of a fixed text under the key: statistics made with different keys (whose
    client digests cannot match) are refused by :meth:`merge`."""
    clients: ClientMoments

    @classmethod
    def from_frame(
        cls,
        data: pd.DataFrame,
        *,
        client: str = "client",
        session: str = "session",
        rater: str | None = None,
        therapist: str | None = None,
        score: str = "total",
        key: str | bytes = b"",
    ) -> PartialNestedICC:
        """The per-client sums of ``data`` (columns as for ``nested_icc``)."""
        require_columns(data, {"therapist": therapist})
        secret = key.encode("utf-8") if isinstance(key, str) else bytes(key)
        extra = [therapist] if therapist is not None else []
        d = prepare(data, client=client, session=session, rater=rater, score=score, extra=extra)
        frame = pd.DataFrame(
            {
                "rater": d[rater] if rater is not None else pd.Series(None, index=d.index),
                "client": d[client].map(lambda v: _digest(v, secret)),
                "therapist": (
                    d[therapist].map(lambda v: None if pd.isna(v) else _digest(v, secret))
                    if therapist is not None
                    else pd.Series(None, index=d.index, dtype=object)
                ),
                "conflict": False,
                "n": 1.0,
                "mean": d[score].to_numpy(dtype=np.float64),
                "m2": 0.0,
            }
        )
        return cls(
            client_column=client,
            session_column=session,
            rater_column=rater,
            therapist_column=therapist,
            score_column=score,
            key_check=_key_check(secret),
            clients=ClientMoments.of(_pool(frame) if len(frame) else frame),
        )

    def merge(self, other: PartialNestedICC) -> PartialNestedICC:
        """The sums of the rows of ``self`` and ``other`` together."""
        self._check_same(
            other,
            (
                "client_column",
                "session_column",
                "rater_column",
                "therapist_column",
                "score_column",
            ),
        )
        if self.key_check != other.key_check:
            raise PartialMismatchError(
                "Cannot merge PartialNestedICC objects made with different keys: their "
                "client digests cannot be matched."
            )
        both = pd.concat([self.clients.frame(), other.clients.frame()], ignore_index=True)
        pooled = _pool(both) if len(both) else both
        return self.model_copy(update={"clients": ClientMoments.of(pooled)})

    def finish(self, *, group_size: GroupSize = "mean") -> pd.DataFrame:
        """The table :func:`~alliance_score.sessions.nested_icc` gives on all rows."""
        if group_size not in ("mean", "n0"):
            raise ValueError(f"group_size must be 'mean' or 'n0'; got {group_size!r}")
        f = self.clients.frame()
        rater = self.rater_column
        if rater is None:
            parts: list[tuple[Any, pd.DataFrame]] = [(None, f)]
        else:
            values = sorted({v for v in self.clients.rater if v is not None}, key=_order)
            shown = f["rater"].map(repr)
            parts = [(v, f.loc[shown == repr(v)]) for v in values]
        rows: list[dict[str, object]] = []
        for value, sub in parts:
            head: dict[str, object] = {} if rater is None else {str(rater): value}
            icc = _icc(sub["n"], sub["mean"], sub["m2"], group_size)
            rows.append({**head, "level": "client", **icc})
            if self.therapist_column is not None:
                if sub["conflict"].any():
                    raise DataError(
                        f"Every client must have one therapist in column "
                        f"{self.therapist_column!r}; {int(sub['conflict'].sum())} client(s) "
                        "have more."
                    )
                seen = sub.loc[sub["therapist"].notna()]
                by = seen.groupby("therapist", sort=False)["mean"]
                means = by.mean()
                spread = (
                    ((seen["mean"] - by.transform("mean")) ** 2)
                    .groupby(seen["therapist"], sort=False)
                    .sum()
                )
                icc = _icc(by.size(), means, spread.reindex(means.index), group_size)
                rows.append({**head, "level": "therapist", **icc})
        out = pd.DataFrame(rows)
        out["n_groups"] = out["n_groups"].astype(np.int64)
        out["n_obs"] = out["n_obs"].astype(np.int64)
        return round_frame(out, keep=[] if rater is None else [str(rater)])


def _order(value: Scalar) -> tuple[int, Any]:
    return (0, value) if isinstance(value, int | float) else (1, str(value))


def _icc(
    sizes: pd.Series, means: pd.Series, m2: pd.Series, group_size: GroupSize
) -> dict[str, object]:
    """:func:`alliance_score.sessions.one_way_icc` from each group's size, mean and m2,
    with the same ``note`` as :func:`alliance_score.sessions.nested_icc`."""
    result, reason = anova_from_groups(
        sizes.to_numpy(dtype=np.float64),
        means.to_numpy(dtype=np.float64),
        float(m2.to_numpy(dtype=np.float64).sum()),
        group_size,
    )
    return {**result, "note": icc_note(result, reason)}
