"""Which daily input files an issue day reads, and which files a day's data job fetches (no I/O).

The as-of rule in day arithmetic: the features of issue day D read only the key days of each
dataset whose complete file is public at D's issue time (:func:`pipeline.asof.required_days`) and
that the source covers at all. Tasks use these lists to require exactly the files they read, so
daily and bulk runs fetch the same files.
"""

from __future__ import annotations

import datetime as dt

from pipeline import asof, ercot_time, publication
from pipeline.catalogue import HORIZON_DAYS
from pipeline.features import FeatureSettings
from pipeline.sources import Source, Sources

#: Canonical datasets the feature step reads (rt_prices is read through its hourly aggregate).
FEATURE_DATASETS = ("dam_prices", "ancillary_prices", "load", "load_forecast", "renewables", "renewables_forecast",
                    "weather", "weather_forecast")
#: The hourly aggregate of the real-time prices, read by the feature step and the labels.
RT_HOURLY = "rt_hourly"


def _lookback(settings: FeatureSettings) -> int:
    return settings.history_days + 1


def input_days(dataset: str, source: Source | None, issue_day: dt.date, settings: FeatureSettings) -> list[dt.date]:
    """Key days of ``dataset`` the features of ``issue_day`` read (public by then and covered)."""
    if source is None:
        return []
    days = asof.required_days(dataset, source.name, issue_day, settings.issue_time, _lookback(settings))
    return [d for d in days if source.covers(dataset, d)]


def missing_days(dataset: str, source: Source | None, issue_days: list[dt.date], settings: FeatureSettings) -> list[dt.date]:
    """Key days of ``dataset`` public for some of ``issue_days`` that the source does not hold (features NaN)."""
    if source is None:
        return []
    public = {d for issue in issue_days
              for d in asof.required_days(dataset, source.name, issue, settings.issue_time, _lookback(settings))}
    return sorted(d for d in public if not source.covers(dataset, d))


def price_days(market: Source, issue_day: dt.date, settings: FeatureSettings) -> list[dt.date]:
    """Days of real-time prices the features of ``issue_day`` read."""
    return input_days("rt_prices", market, issue_day, settings)


def input_day_bounds(dataset: str, source: Source | None, first_issue: dt.date, last_issue: dt.date,
                     settings: FeatureSettings) -> tuple[dt.date, dt.date] | None:
    """First and last key day of ``dataset`` read by the features of issue days in [first, last].

    Ranges cover every key day any of those issue days may read; range tasks skip uncovered days.
    """
    if source is None:
        return None
    days = [d for issue in (first_issue, last_issue)
            for d in asof.required_days(dataset, source.name, issue, settings.issue_time, _lookback(settings))]
    return (min(days), max(days)) if days else None


def needed_days(issue_days: list[dt.date], settings: FeatureSettings, sources: Sources) -> dict[str, list[dt.date]]:
    """Key days of every input the features of ``issue_days`` read (real-time prices as ``rt_hourly``)."""
    needed = {dataset: sorted({d for issue in issue_days
                               for d in input_days(dataset, sources.for_dataset(dataset), issue, settings)})
              for dataset in FEATURE_DATASETS}
    needed[RT_HOURLY] = sorted({d for issue in issue_days for d in price_days(sources.market, issue, settings)})
    return needed


def outcome_days(issue_day: dt.date) -> list[dt.date]:
    """Operating days whose real-time prices realise the forecast of ``issue_day`` (D+1 .. D+3)."""
    return [issue_day + dt.timedelta(days=k) for k in range(1, HORIZON_DAYS + 1)]


def due_fetches(sources: Sources, datasets: list[str], day: dt.date) -> list[tuple[str, dt.date]]:
    """(dataset, key day) of every file published in the 24 hours before 00:00 CPT on ``day``."""
    after, until = ercot_time.day_start(day - dt.timedelta(days=1)), ercot_time.day_start(day)
    due = []
    for dataset in datasets:
        source = sources.for_dataset(dataset)
        if source is None:
            continue
        for key_day in publication.published_between(dataset, source.name, after, until):
            if source.covers(dataset, key_day):
                due.append((dataset, key_day))
    return due
