"""How much a backtest window can say: the spike events behind its scores, and when they are enough.

A score counts node-hour-forecast rows, but spikes are not independent rows. When prices spike in
a heat wave, every hub spikes in the same hours, and each of those hours is scored by three
forecasts (horizon days 1-3): one afternoon of four hubs can make 40 "spike rows". A week of such
afternoons looks like plenty of spikes, yet it is one weather event, and the model's skill on it
says little about the next one. So the trust in a window's scores is judged on distinct events:

* a **spike hour** is a target hour in which at least one scored node spiked above the threshold,
  counted once however many nodes spiked and however many forecasts covered it;
* a **spike day** is an operating day (CPT) with at least one spike hour.

:func:`is_reliable` states the rule: at least :data:`MIN_SPIKE_HOURS` spike hours spread over at
least :data:`MIN_SPIKE_DAYS` days. A one-week window can never pass it (its forecasts cover nine
days): a week is one weather regime. Pure: frames and records in, numbers and sentences out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from pipeline import ercot_time
from pipeline.evaluation import group_key

MIN_SPIKE_HOURS = 30
MIN_SPIKE_DAYS = 10
RULE = (f"scores count as reliable only with at least {MIN_SPIKE_HOURS} spike hours on at least {MIN_SPIKE_DAYS} "
        "different days (an hour counts once however many nodes spiked in it and however many forecasts "
        "covered it): spikes come in clusters, and one heat wave or cold snap is one event, not many")


def spike_evidence(predictions: pd.DataFrame) -> dict[str, dict[str, int]]:
    """Per threshold key ('100'): spike hours, spike days and spike rows of scored predictions."""
    out: dict[str, dict[str, int]] = {}
    for threshold, rows in predictions.groupby("threshold", sort=True):
        spiked = rows.loc[rows["outcome"] == 1, "interval_start"]
        days = spiked.drop_duplicates().dt.tz_convert(ercot_time.CPT).dt.date
        out[group_key(threshold)] = {"spike_hours": int(spiked.nunique()), "spike_days": int(days.nunique()),
                                     "spike_rows": int(len(spiked))}
    return out


def is_reliable(evidence: Mapping[str, Any] | None) -> bool:
    """The rule: enough distinct spike hours, spread over enough days (False when the counts are unknown)."""
    if not evidence:
        return False
    return evidence["spike_hours"] >= MIN_SPIKE_HOURS and evidence["spike_days"] >= MIN_SPIKE_DAYS


def of_threshold(metrics: Mapping[str, Any], key: str) -> dict[str, int] | None:
    """The evidence of one threshold in a backtest's ``metrics.json`` (None in files from before it was counted)."""
    return metrics.get("evidence", {}).get(key)


def describe(evidence: Mapping[str, Any] | None) -> str:
    """'12 spike hours on 3 days', 'no spike hour', or 'an unknown number ...' for files without the count."""
    if evidence is None:
        return "an unknown number of spike hours (metrics.json from before they were counted)"
    hours, days = evidence["spike_hours"], evidence["spike_days"]
    if not hours:
        return "no spike hour"
    return f"{hours:,} spike hour{'s' if hours != 1 else ''} on {days:,} day{'s' if days != 1 else ''}"
