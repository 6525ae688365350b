"""Training windows by date: which issue days a model trained on date t fits and validates on.

A model trained on date t may use only what was known at t's issue time. The newest issue day whose
72 target hours are all realised and published by then is L; the validation window is the
``validation_days`` issue days ending at L; the fit window is the ``history_days`` issue days ending
``HORIZON_DAYS`` days before the validation window starts, so that no target hour is both fitted
and validated on. Splits are by date, never by row fraction.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from pipeline import ercot_time, publication
from pipeline.catalogue import HORIZON_DAYS


@dataclass(frozen=True)
class TrainingWindow:
    train_date: dt.date
    fit_first: dt.date
    fit_last: dt.date
    validation_first: dt.date
    validation_last: dt.date

    @property
    def label_days(self) -> tuple[dt.date, dt.date]:
        """Operating days whose realised prices label the window's target hours."""
        return self.fit_first + dt.timedelta(days=1), self.validation_last + dt.timedelta(days=HORIZON_DAYS)

    @property
    def validation_label_days(self) -> tuple[dt.date, dt.date]:
        """Operating days whose realised prices label the validation window's target hours."""
        return self.validation_first + dt.timedelta(days=1), self.validation_last + dt.timedelta(days=HORIZON_DAYS)

    def as_dict(self) -> dict[str, str]:
        return {name: getattr(self, name).isoformat() for name in
                ("train_date", "fit_first", "fit_last", "validation_first", "validation_last")}


def last_labelled_issue_day(train_date: dt.date, issue_time: str, price_source: str) -> dt.date:
    """The newest issue day whose target hours' prices are all public at ``train_date``'s issue time."""
    issue_at = ercot_time.local_time_on(train_date, issue_time)
    rule = publication.rule_for("rt_prices", price_source)
    candidate = train_date - dt.timedelta(days=HORIZON_DAYS)
    while rule.available_at(candidate + dt.timedelta(days=HORIZON_DAYS)) > issue_at:
        candidate -= dt.timedelta(days=1)
    return candidate


def training_window(
    train_date: dt.date, history_days: int, validation_days: int, issue_time: str, price_source: str
) -> TrainingWindow:
    last = last_labelled_issue_day(train_date, issue_time, price_source)
    validation_first = last - dt.timedelta(days=validation_days - 1)
    fit_last = validation_first - dt.timedelta(days=HORIZON_DAYS + 1)
    fit_first = fit_last - dt.timedelta(days=history_days - 1)
    return TrainingWindow(train_date, fit_first, fit_last, validation_first, last)
