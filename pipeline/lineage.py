"""What every output of one configuration should be made from: its expected :class:`~targets.Stamp`.

An output is complete only when the stamp it carries equals the one computed here from the
settings and inputs in force (see :mod:`targets.stamp`). The identities are computed top-down,
without reading the inputs, from:

* the **sources** at the leaves: a raw file's identity is its source's fingerprint for that
  dataset and day (an archive file's size and modification time, the simulator's version;
  network sources cannot tell cheaply and count as unchanged) and the plausibility bounds that
  filtered it;
* the **settings** of each stage: the folder tags (:class:`targets.Tags`) that fingerprint the
  feature and model settings, and a summary of the settings a forecast is made under;
* the identities of the files each output reads, exactly the files its task requires.

So changing a setting or fixing a source file changes the identity of everything made from it,
and each such output is remade when next asked for, while everything else stays.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

from pipeline import ercot_time
from pipeline.catalogue import HORIZON_DAYS
from pipeline.config import flat_settings
from pipeline.inputs import RT_HOURLY, needed_days
from pipeline.settings import Settings
from pipeline.sources import Sources
from targets.stamp import Stamp, combined, digest

# Bump when what a stage computes from the same inputs and settings changes without a tag changing.
RAW_VERSION = 1
RT_HOURLY_VERSION = 1
FORECAST_VERSION = 1
BACKTEST_VERSION = 1

# The configuration sections a published forecast (and a backtest of forecasts) depends on.
FORECAST_SECTIONS = ("market", "sources", "features", "model", "integrity")


class Lineage:
    """Expected stamps of one configuration's (or one shard's) outputs, memoised per process."""

    def __init__(self, settings: Settings, sources: Sources) -> None:
        self.settings, self.sources = settings, sources
        self._memo: dict[tuple[object, ...], Stamp] = {}

    def _remember(self, key: tuple[object, ...], make: object) -> Stamp:
        if key not in self._memo:
            self._memo[key] = make()  # type: ignore[operator]
        return self._memo[key]

    # --- data --------------------------------------------------------------------------------------
    def raw(self, dataset: str, day: dt.date) -> Stamp:
        """A raw file: its source's fingerprint for (dataset, day) and the bounds that filtered it."""
        def make() -> Stamp:
            source = self.sources.require(dataset)
            bounds = self.settings.config.integrity.bounds.model_dump(mode="json")
            return Stamp(digest("raw", RAW_VERSION, source.storage_key, bounds),
                         digest(dataset, day, source.fingerprint(dataset, day)))
        return self._remember(("raw", dataset, day), make)

    def rt_hourly(self, day: dt.date) -> Stamp:
        def make() -> Stamp:
            return Stamp(digest("rt_hourly", RT_HOURLY_VERSION, self.settings.tags.market),
                         self.raw("rt_prices", day).made_from)
        return self._remember(("rt_hourly", day), make)

    def input_file(self, name: str, day: dt.date) -> Stamp:
        """A file the feature step reads: ``rt_hourly`` or a raw dataset."""
        return self.rt_hourly(day) if name == RT_HOURLY else self.raw(name, day)

    def features(self, day: dt.date, reads: Mapping[str, Iterable[dt.date]] | None = None) -> Stamp:
        """The features of issue day ``day``, made from ``reads`` (default: every file the day needs)."""
        if reads is not None:
            return self._features(day, {name: sorted(days) for name, days in reads.items()})
        return self._remember(("features", day), lambda: self._features(
            day, needed_days([day], self.settings.features, self.sources)))

    def _features(self, day: dt.date, reads: Mapping[str, list[dt.date]]) -> Stamp:
        inputs = combined(f"{name}:{d}:{self.input_file(name, d).made_from}"
                          for name in sorted(reads) for d in reads[name])
        return Stamp(digest("features", self.settings.tags.features, day), inputs)

    # --- models ------------------------------------------------------------------------------------
    def _window_inputs(self, first_issue: dt.date, last_issue: dt.date, last_label: dt.date) -> list[str]:
        """Identities of the feature files of [first_issue, last_issue] and the prices labelling them."""
        market = self.sources.market
        features = [f"f:{d}:{self.features(d).made_from}" for d in ercot_time.days(first_issue, last_issue)]
        prices = [f"p:{d}:{self.rt_hourly(d).made_from}"
                  for d in ercot_time.days(first_issue + dt.timedelta(days=1), last_label)
                  if market.covers("rt_prices", d)]
        return features + prices

    def model(self, train_date: dt.date) -> Stamp:
        """The candidate trained on ``train_date``: its window's features and labels."""
        def make() -> Stamp:
            window = self.settings.window(train_date)
            return Stamp(self.settings.tags.model,
                         combined(self._window_inputs(window.fit_first, window.validation_last, window.label_days[1])))
        return self._remember(("model", train_date), make)

    def decision(self, train_date: dt.date) -> Stamp:
        """The gate record of ``train_date``: candidate, incumbent and the validation window."""
        def make() -> Stamp:
            window = self.settings.window(train_date)
            incumbent = self.settings.cadence.previous(train_date)
            parts = [self.model(train_date).made_from, self.model(incumbent).made_from,
                     *self._window_inputs(window.validation_first, window.validation_last, window.label_days[1])]
            return Stamp(digest("decision", self.settings.tags.model, self.settings.config.model.gate.model_dump()),
                         combined(parts))
        return self._remember(("decision", train_date), make)

    # --- forecasts ---------------------------------------------------------------------------------
    def forecast_settings(self) -> tuple[str, dict[str, object]]:
        """The fingerprint and readable summary of the settings a published forecast is made under."""
        config = self.settings.config
        summary = flat_settings(config, *FORECAST_SECTIONS)
        return digest("forecast", FORECAST_VERSION, summary), summary

    def forecast(self, inputs: Iterable[str], **notes: object) -> Stamp:
        """A published forecast (or a shard's part) made from ``inputs`` (identities) under these settings."""
        fingerprint, summary = self.forecast_settings()
        shard = self.settings.shard
        settings = fingerprint if shard is None else digest(fingerprint, "shard", self.settings.tags.model)
        return Stamp(settings, combined(inputs), {"settings": summary, **notes})

    def backtest(self, days: Iterable[dt.date], forecasts: Iterable[str]) -> Stamp:
        """A backtest's predictions and metrics: the forecasts replayed and the prices that realised them."""
        days = list(days)
        outcome_days = [d + dt.timedelta(days=k) for d in days for k in range(1, HORIZON_DAYS + 1)]
        prices = [f"{d}:{self.rt_hourly(d).made_from}" for d in sorted(set(outcome_days))
                  if self.sources.market.covers("rt_prices", d)]
        fingerprint, summary = self.forecast_settings()
        return Stamp(digest("backtest", BACKTEST_VERSION, fingerprint), combined([*forecasts, *prices]),
                     {"settings": summary})
