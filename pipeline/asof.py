"""As-of bookkeeping: when each record became knowable, and which daily files an issue time may read.

A record is usable for a forecast issued at T only if both hold:

* its own ``published_at <= T``, and
* the complete daily file it came from was public by T (``publication.Rule.available_at``).

The second condition is what makes a backtest replay production exactly: at 06:00 on D production
cannot have fetched the real-time prices of D (the file for D is complete only after midnight), so
a backtest must not use the early hours of D either, even though they sit on disk by then. Both
conditions are folded into one column, ``known_at`` = max(published_at, file available_at).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from pipeline import ercot_time, publication

KNOWN_AT = "known_at"


def with_known_at(frame: pd.DataFrame, dataset: str, source: str) -> pd.DataFrame:
    """``frame`` (rows of any number of daily files of ``dataset``) plus the ``known_at`` column.

    A row's file key day is the CPT operating day of its interval (actuals) or of its publication
    (forecast vintages), which is how the daily files are keyed.
    """
    rule = publication.rule_for(dataset, source)
    stamp = frame["interval_start"] if rule.keyed_by == "delivery" else frame["published_at"]
    key_days = ercot_time.operating_day_of(stamp)
    unique, inverse = np.unique(key_days, return_inverse=True)
    available = pd.DatetimeIndex([rule.available_at(day) for day in unique]).as_unit(ercot_time.TS_UNIT)
    file_known = pd.Series(available[inverse], index=frame.index)
    known = frame["published_at"].where(frame["published_at"] > file_known, file_known)
    return frame.assign(**{KNOWN_AT: known.dt.as_unit(ercot_time.TS_UNIT)})


def required_days(
    dataset: str, source: str, issue_day: dt.date, issue_time: str, lookback_days: int
) -> list[dt.date]:
    """Key days of ``dataset`` whose files can be read for the forecast issued on ``issue_day``.

    Actuals: the lookback window up to the issue day; forecast vintages: the last three days
    (the newest vintage wins per target hour; older ones fill hours a newer one lacks). Only days
    whose complete file is public at the issue time are returned.
    """
    rule = publication.rule_for(dataset, source)
    if rule.keyed_by == "vintage":
        first = issue_day - dt.timedelta(days=2)
        last = issue_day
    else:
        first = issue_day - dt.timedelta(days=lookback_days)
        # DAM prices of future delivery days can be public before they happen.
        last = issue_day + dt.timedelta(days=3)
    issue_at = ercot_time.local_time_on(issue_day, issue_time)
    return publication.known_days(dataset, source, issue_at, ercot_time.days(first, last))
