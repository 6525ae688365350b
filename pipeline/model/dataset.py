"""Labelled training sets: feature rows joined to their realised outcomes, split by date.

A year of issue days for a shard of 100 nodes is 2.6 million rows (nodes x 72 target hours x days),
about 100 feature columns each: materialised whole, a training set alone takes gigabytes. Spikes are
rare (a few per cent of hours at the lowest threshold), and the model already fits its boosters on
every spike and a fifth of the calm hours. So a fit window larger than :data:`FIT_ROW_BUDGET` rows
is *compacted while it is read* (:class:`Compaction`): every row whose target hour spiked, a seeded
share of the calm target hours, and only the columns the model and its baselines read. Each fit then
weights the sampled calm rows by the inverse of the share (the boosters undo it as a logit offset),
so it estimates what it would on every row. Smaller windows -- four hubs over a year is 105,000 rows
-- are never compacted and fit exactly as before.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from pipeline.labels import spike_outcomes

#: Fit rows kept in memory at most (in expectation, beyond the spikes): larger fit windows are compacted.
FIT_ROW_BUDGET = 300_000


@dataclass(frozen=True)
class TrainingSet:
    """Feature rows and their outcomes: ``outcomes[i, k]`` = spike above ``thresholds[k]`` (0/1).

    A compacted set (``sampled`` not None) holds every spike and the calm target hours drawn into
    its sample (``sampled``), each standing for 1 / ``calm_share`` calm hours (:meth:`rows_for`).
    """

    features: pd.DataFrame
    outcomes: np.ndarray
    thresholds: tuple[float, ...]
    calm_share: float = 1.0
    sampled: np.ndarray | None = None

    def __post_init__(self) -> None:
        if len(self.features) != len(self.outcomes):
            raise ValueError("features and outcomes differ in length")
        if np.isnan(self.outcomes).any():
            raise ValueError("training outcomes must be complete (drop unlabelled hours first)")
        if self.sampled is not None and len(self.sampled) != len(self.outcomes):
            raise ValueError("sampled and outcomes differ in length")

    @property
    def compacted(self) -> bool:
        return self.sampled is not None

    def rows_for(self, k: int) -> tuple[np.ndarray | None, np.ndarray | None]:
        """The rows a fit for threshold ``k`` uses and their weights (None, None: every row, unweighted).

        Compacted: every spike above the threshold (weight 1) and the sampled target hours that did
        not spike above it (weight 1 / share) -- a uniform sample of them, since a target hour is
        sampled whatever its price. Rows kept only for spiking above a lower threshold are left out.
        """
        if self.sampled is None:
            return None, None
        spiked = self.outcomes[:, k] == 1
        rows = spiked | self.sampled
        return rows, np.where(spiked[rows], 1.0, 1.0 / self.calm_share)

    def take(self, rows: np.ndarray) -> TrainingSet:
        """The rows selected by the boolean mask ``rows``.

        A contiguous block (the days of a window are in order) is taken as a slice, which shares
        the rows instead of copying them: a fit and a validation window then add no second copy of
        a large training set.
        """
        where = np.flatnonzero(rows)
        if len(where) and where[-1] - where[0] + 1 == len(where):
            block = slice(int(where[0]), int(where[-1]) + 1)
            features = self.features.iloc[block].reset_index(drop=True)
        else:
            block = rows
            features = self.features.loc[rows].reset_index(drop=True)
        sampled = None if self.sampled is None else self.sampled[block]
        return TrainingSet(features, self.outcomes[block], self.thresholds, self.calm_share, sampled)


def join_outcomes(features: pd.DataFrame, outcomes: pd.DataFrame, thresholds: Sequence[float]) -> TrainingSet:
    """Attach outcomes (long: node, interval_start, threshold, outcome) to feature rows; drop unlabelled rows."""
    wide = outcomes.pivot_table(index=["node", "interval_start"], columns="threshold", values="outcome",
                                aggfunc="max")
    wide = wide.reindex(columns=[float(t) for t in thresholds])
    keys = pd.MultiIndex.from_frame(features[["node", "interval_start"]])
    matrix = wide.reindex(keys).to_numpy(dtype=float)
    labelled = ~np.isnan(matrix).any(axis=1)
    return TrainingSet(features.loc[labelled].reset_index(drop=True), matrix[labelled], tuple(thresholds))


def labelled_set(features: pd.DataFrame, rt_hourly: pd.DataFrame, thresholds: tuple[float, ...],
                 compaction: Compaction | None = None) -> TrainingSet:
    """Feature rows (with ``issue_day``) joined to their realised spike outcomes.

    With ``compaction`` (the features read through :meth:`Compaction.reduce`), the rows of its fit
    days form a compacted set: :func:`select_days` of the fit days gives it, of other days a plain one.
    """
    data = _with_outcomes(features, rt_hourly, thresholds)
    if compaction is None:
        return data
    fit_days = compaction.is_fit_day(data.features["issue_day"])
    if not fit_days.any():  # e.g. the gate's validation window: read whole
        return data
    # Rows outside the fit days were read whole: "sampled" marks them all, as every row of them is kept.
    sampled = ~fit_days | (target_uniforms(data.features, compaction.seed) < compaction.calm_share)
    return TrainingSet(data.features, data.outcomes, data.thresholds, compaction.calm_share, sampled)


def _with_outcomes(features: pd.DataFrame, rt_hourly: pd.DataFrame, thresholds: Sequence[float]) -> TrainingSet:
    """:func:`join_outcomes` of :func:`~pipeline.labels.spike_outcomes`, without the long frame of one row per
    threshold: each complete hour's highest price compared with every threshold at once."""
    complete = rt_hourly.loc[rt_hourly["n_intervals"] >= rt_hourly["expected_intervals"]]
    index = pd.MultiIndex.from_frame(complete[["node", "interval_start"]])
    position = index.get_indexer(pd.MultiIndex.from_frame(features[["node", "interval_start"]]))
    labelled = position >= 0
    price_max = complete["price_max"].to_numpy(dtype=float)[position[labelled]]
    matrix = np.column_stack([(price_max > t).astype(float) for t in thresholds])
    rows = features.loc[labelled].reset_index(drop=True) if not labelled.all() else features.reset_index(drop=True)
    return TrainingSet(rows, matrix.reshape(len(price_max), len(thresholds)), tuple(thresholds))


def weight_matrix(data: TrainingSet) -> np.ndarray | None:
    """[rows, thresholds]: each row's weight in each threshold's fit (0: not among its rows); None when
    the set is not compacted (every row counts once)."""
    if not data.compacted:
        return None
    out = np.zeros(data.outcomes.shape)
    for k in range(len(data.thresholds)):
        rows, weights = data.rows_for(k)
        out[rows, k] = weights
    return out


def select_days(data: TrainingSet, first: dt.date, last: dt.date) -> TrainingSet:
    """The rows of issue days [first, last] (a plain set when none of them was compacted)."""
    days = data.features["issue_day"]
    keep = ((days >= first) & (days <= last)).to_numpy()
    selected = data.take(keep)
    if selected.sampled is not None and selected.sampled.all():
        return TrainingSet(selected.features, selected.outcomes, selected.thresholds)
    return selected


# --- compaction while reading ---------------------------------------------------------------------------


def target_uniforms(features: pd.DataFrame, seed: int) -> np.ndarray:
    """A uniform number in [0, 1) per row, fixed by its (node, target hour) and the seed.

    The same target hour draws the same number at every horizon, in every window and in any chunk
    of files, so a sample is the same however the window is read, and rows kept for one cadence
    window serve the next.
    """
    node_hash = pd.util.hash_array(features["node"].to_numpy(dtype=object), hash_key="rtlmp-calm-hours")
    hours = pd.DatetimeIndex(features["interval_start"]).as_unit("s").asi8.astype(np.uint64)
    with np.errstate(over="ignore"):
        z = node_hash ^ (hours * np.uint64(0x9E3779B97F4A7C15)) ^ np.uint64(seed)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)  # splitmix64's finaliser
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) / float(1 << 53)


@dataclass(frozen=True)
class Compaction:
    """How a training window's feature files are kept small while they are read.

    Rows of the fit days [``fit_first``, ``fit_last``] are kept when their target hour spiked above
    the lowest threshold, or was drawn into the seeded sample of ``calm_share`` of all target hours;
    rows of other days (the validation window) are kept whole. Only ``columns`` (and the keys) are
    kept, in single precision. :meth:`key` names what is kept of a day, so a reader caching rows between windows reuses a
    day only when it was reduced the same way.
    """

    fit_first: dt.date
    fit_last: dt.date
    calm_share: float
    seed: int
    thresholds: tuple[float, ...]
    columns: tuple[str, ...]

    def is_fit_day(self, days: pd.Series) -> np.ndarray:
        return ((days >= self.fit_first) & (days <= self.fit_last)).to_numpy()

    def key(self, day: dt.date) -> str:
        digest = hashlib.sha256(",".join(self.columns).encode()).hexdigest()[:12]
        if self.fit_first <= day <= self.fit_last:
            return f"calm{self.calm_share!r}-seed{self.seed}-{digest}"
        return f"whole-{digest}"

    def reduce(self, features: pd.DataFrame, rt_hourly: pd.DataFrame | pd.MultiIndex, day_column: str) -> pd.DataFrame:
        """The rows and columns of ``features`` (files of issue days in ``day_column``) that are kept.

        ``rt_hourly``: the hourly prices labelling them, or their :func:`spike_hours` above the lowest
        threshold (what a reader reducing many chunks computes once).
        """
        keys = [c for c in ("node", "interval_start", "horizon_h", "issue_time", day_column) if c in features]
        values = [c for c in self.columns if c in features and c not in keys]
        # Single precision halves what a large window holds; the model reads it back as doubles.
        frame = features[keys + values].astype({c: "float32" for c in values})
        fit_day = self.is_fit_day(frame[day_column])
        if not fit_day.any():
            return frame
        spikes = rt_hourly if isinstance(rt_hourly, pd.MultiIndex) else spike_hours(rt_hourly, self.thresholds[0])
        spiked = spikes.get_indexer(pd.MultiIndex.from_frame(frame[["node", "interval_start"]])) >= 0
        drawn = target_uniforms(frame, self.seed) < self.calm_share
        return frame.loc[~fit_day | spiked | drawn].reset_index(drop=True)


def spike_hours(rt_hourly: pd.DataFrame, threshold: float) -> pd.MultiIndex:
    """The (node, interval_start) of the complete hours whose highest price exceeded ``threshold``."""
    outcomes = spike_outcomes(rt_hourly, (threshold,))
    return pd.MultiIndex.from_frame(outcomes.loc[outcomes["outcome"] == 1, ["node", "interval_start"]])


def compaction_for(fit_first: dt.date, fit_last: dt.date, nodes: int, horizon_hours: int, seed: int,
                   thresholds: tuple[float, ...], columns: Sequence[str]) -> Compaction | None:
    """The compaction of a fit window of ``nodes`` nodes, or None when it fits :data:`FIT_ROW_BUDGET` whole."""
    rows = ((fit_last - fit_first).days + 1) * nodes * horizon_hours
    if rows <= FIT_ROW_BUDGET:
        return None
    return Compaction(fit_first, fit_last, FIT_ROW_BUDGET / rows, seed, tuple(thresholds), tuple(columns))


@dataclass(frozen=True, eq=False)
class CompactingReads:
    """A :class:`Compaction` in the form a window reader applies it (``targets.windows.Reduction``):
    frames of whole issue days, their day in ``day_column``, labelled by ``rt_hourly``."""

    compaction: Compaction
    rt_hourly: pd.DataFrame
    day_column: str = "_day"

    @cached_property
    def spikes(self) -> pd.MultiIndex:
        """The window's spike hours, found once for every chunk of files the reader reduces."""
        return spike_hours(self.rt_hourly, self.compaction.thresholds[0])

    def key(self, day: dt.date) -> str:
        return self.compaction.key(day)

    def __call__(self, frame: pd.DataFrame) -> pd.DataFrame:
        return self.compaction.reduce(frame, self.spikes, self.day_column)
