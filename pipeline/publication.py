"""When ERCOT (and the weather services) make each dataset public: the one publication-schedule table.

Used twice: sources whose files carry no publication time (archive files, the simulator) stamp
``published_at`` from it, and the feature step asks it which daily files can be known at the issue
time, so a forecast issued at T reads only files complete by T (and then filters records by
``published_at <= T`` as a second guard).

Rules, in CPT, for the key day ``d`` of each file (delivery day for actuals, publication day for
forecast vintages):

==================== ============================================= ===================================
dataset              ERCOT report                                  public
==================== ============================================= ===================================
rt_prices            NP6-905-CD (15-min SPP) / NP6-788-CD (SCED)   each interval 5 min after it ends
dam_prices           NP4-190-CD DAM SPP                            13:30 on d-1 (after DAM clears)
ancillary_prices     NP4-188-CD DAM clearing prices for capacity   13:30 on d-1 (with the DAM)
load                 NP6-345-CD actual load by weather zone        06:00 on d+1 (posted once, early)
renewables           NP4-732-CD / NP4-737-CD actuals               each hour 2 h after it ends
load_forecast        NP3-565-CD 7-day load forecast                05:30 on d (hourly posts; vintage)
renewables_forecast  NP4-732-CD STWPF / NP4-737-CD STPPF           05:30 on d (vintage)
weather              observations (synthetic, archived sites)      each hour 1 h after it ends
weather_forecast     NP4-722-CD / Open-Meteo forecast run          05:00 on d (vintage)
==================== ============================================= ===================================

Open-Meteo's reanalysis archive (actual weather) lags about five days; that override is keyed by
source name below.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from typing import Literal

import pandas as pd

from pipeline import ercot_time

KeyKind = Literal["delivery", "vintage"]


@dataclass(frozen=True)
class Rule:
    dataset: str
    keyed_by: KeyKind
    # For records: published this long after the interval *ends* (None: at a fixed local time).
    after_interval_end: pd.Timedelta | None = None
    # For whole files: published at this local time, ``day_offset`` days from the key day.
    local_time: str | None = None
    day_offset: int = 0

    def available_at(self, day: dt.date) -> pd.Timestamp:
        """UTC time by which the complete file for key day ``day`` is public (computed once per rule and day)."""
        return _available_at(self, day)

    def _available_at(self, day: dt.date) -> pd.Timestamp:
        if self.local_time is not None:
            return ercot_time.local_time_on(day + dt.timedelta(days=self.day_offset), self.local_time)
        assert self.after_interval_end is not None
        return ercot_time.day_start(day + dt.timedelta(days=1)) + self.after_interval_end

    def stamp(self, interval_start: pd.Series, interval_minutes: int | pd.Series, key_day: dt.date) -> pd.Series:
        """``published_at`` for records of key day ``key_day`` from a source that does not say."""
        if self.local_time is not None:
            return pd.Series(self.available_at(key_day), index=interval_start.index)
        assert self.after_interval_end is not None
        ends = interval_start + pd.to_timedelta(interval_minutes, unit="min")
        return (ends + self.after_interval_end).dt.as_unit(ercot_time.TS_UNIT)


RULES: dict[str, Rule] = {
    rule.dataset: rule
    for rule in (
        Rule("rt_prices", "delivery", after_interval_end=pd.Timedelta(minutes=5)),
        Rule("dam_prices", "delivery", local_time="13:30", day_offset=-1),
        Rule("ancillary_prices", "delivery", local_time="13:30", day_offset=-1),
        Rule("load", "delivery", local_time="06:00", day_offset=1),
        Rule("renewables", "delivery", after_interval_end=pd.Timedelta(hours=2)),
        Rule("load_forecast", "vintage", local_time="05:30"),
        Rule("renewables_forecast", "vintage", local_time="05:30"),
        Rule("weather", "delivery", after_interval_end=pd.Timedelta(hours=1)),
        Rule("weather_forecast", "vintage", local_time="05:00"),
    )
}

# Source-specific exceptions to the table above, keyed by (source name, dataset).
OVERRIDES: dict[tuple[str, str], Rule] = {
    ("open_meteo", "weather"): Rule("weather", "delivery", after_interval_end=pd.Timedelta(days=5)),
}


@functools.lru_cache(maxsize=200_000)
def _available_at(rule: Rule, day: dt.date) -> pd.Timestamp:
    # Thousands of days are asked for again and again (every training window, every feature day).
    return rule._available_at(day)


def rule_for(dataset: str, source: str | None = None) -> Rule:
    if (source, dataset) in OVERRIDES:
        return OVERRIDES[(source, dataset)]
    try:
        return RULES[dataset]
    except KeyError:
        raise KeyError(f"no publication rule for dataset {dataset!r}") from None


def known_days(dataset: str, source: str, issue_time: pd.Timestamp, candidates: list[dt.date]) -> list[dt.date]:
    """The candidate key days whose complete file is public by ``issue_time``."""
    rule = rule_for(dataset, source)
    return [day for day in candidates if rule.available_at(day) <= issue_time]


def published_between(dataset: str, source: str, after: pd.Timestamp, until: pd.Timestamp) -> list[dt.date]:
    """Key days whose complete file became public in (``after``, ``until``].

    Consecutive windows partition the key days, so a daily job over windows ending at each
    midnight fetches every file exactly once (``pipeline.tasks.operations.FetchDaily``).
    """
    rule = rule_for(dataset, source)
    # Every rule above publishes a key day's file between one day before it and a week after it.
    first = ercot_time.operating_day_of(pd.DatetimeIndex([after]))[0] - dt.timedelta(days=14)
    last = ercot_time.operating_day_of(pd.DatetimeIndex([until]))[0] + dt.timedelta(days=2)
    return [day for day in ercot_time.days(first, last) if after < rule.available_at(day) <= until]
