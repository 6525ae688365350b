"""Where every file lives under the data root. Tasks ask this module for targets; they never build paths.

The date appears exactly once in every dated path, so luigi's range tools can find it. Folders whose
content depends on settings carry a tag (:class:`Tags`), so a changed setting writes new files
instead of reusing stale ones.

    raw/<source>/<dataset>/<D>.parquet          canonical data of one day (see targets.schemas)
    derived/<source>/rt_hourly/<D>.parquet      hourly max/mean real-time price per node
    features/<tag>/<D>.parquet                  features as of the issue time on D
    features/<tag>/cached-inputs/<D>.parquet    the same, built from cached inputs only (fallback)
    models/<D>/<tag>/                           model artifact trained on D (model.pkl + metadata.json)
    models/<D>/<tag>.decision.json              gate decision for that artifact (accepted / rejected)
    models/<D>/<tag>.failed.json                the training run for that artifact failed (retain current model)
    serving/<tag>/<D>.json                      which model serves the forecast of D, and why
    serving/<tag>/cached-inputs/<D>.json        the same for the cached-inputs fallback (gated models only)
    forecasts/<D>/forecast.parquet              the published forecast issued on D, with its twins
      forecast.csv, forecast_wide.csv           (see targets.forecast_files) and forecast.png (chart)
    forecasts/<D>/shards/<tag>.parquet          one shard's part of it (with market.shard_size)
    backtests/<start>_<end>/                    predictions.parquet, metrics.json, report.html, *.png
    backtests/weekly/<D>/                       the weekly backtest run on D: comparison.json, report.html
    status/index.html                           the self-contained status page
    ops/runs.jsonl, ops/alerts.jsonl            history of scheduled job runs and of alerts (JSON lines)
    ops/locks/<job>.lock                        held while a scheduled job runs, so runs never overlap
    cache/windows/<tag>/<kind>.arrow            the last training window read, kept for the next run
                                                (a cache: deleting it costs one slower training)

The root is a local folder or an object-store prefix ``s3://BUCKET/PREFIX`` (:mod:`targets.s3`):
paths are strings built by :func:`targets.store.join`, the same for both.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from targets import schemas
from targets.artifact import ModelArtifactTarget
from targets.files import BytesTarget, JsonLinesTarget, JsonTarget, ParquetTarget, TextTarget
from targets.forecast_files import ForecastShape, ForecastTarget
from targets.store import is_remote, join, store_for


@dataclass(frozen=True)
class Tags:
    """Folder names that follow the settings: the sources' data, the features and the models."""

    market: str  # raw and derived files of the market source (its name plus what changes its data)
    weather: str | None  # raw files of the weather source (None: no weather source)
    features: str  # feature files: the feature settings and the sources they were built from
    model: str  # model artifacts: the model settings and the features they were trained on


class Layout:
    """The data root's files. ``tags`` is needed only for the folders that depend on settings;
    ``forecast_shape`` (the configured nodes, thresholds and horizon of an issue day) makes a
    forecast that does not hold exactly those rows invalid."""

    def __init__(self, root: Path | str, tags: Tags | None = None,
                 forecast_shape: Callable[[dt.date], ForecastShape] | None = None) -> None:
        self.root = str(root)
        self._tags = tags
        self._forecast_shape = forecast_shape

    def _path(self, *parts: str) -> str:
        return join(self.root, *parts)

    def describe_root(self) -> str:
        """The root as people should read it: an absolute folder, or the prefix and its endpoint."""
        return store_for(self.root).describe(self.root)

    @property
    def remote(self) -> bool:
        return is_remote(self.root)

    @property
    def tags(self) -> Tags:
        if self._tags is None:
            raise ValueError("this layout was made without settings tags: it knows only the untagged files")
        return self._tags

    # --- data ---------------------------------------------------------------------------------
    def raw(self, dataset: str, day: dt.date) -> ParquetTarget:
        """The canonical file of ``dataset`` for key day ``day``, in its source's folder."""
        schema = schemas.DATASETS[dataset]
        source = self.tags.market if dataset in schemas.MARKET_DATASETS else self.tags.weather
        if source is None:
            raise ValueError(f"no weather source is configured, so there is no {dataset} file")
        return ParquetTarget(self._path("raw", source, dataset, f"{day.isoformat()}.parquet"), schema)

    def rt_hourly(self, day: dt.date) -> ParquetTarget:
        return ParquetTarget(self._path("derived", self.tags.market, "rt_hourly", f"{day.isoformat()}.parquet"),
                             schemas.RT_HOURLY)

    def features(self, day: dt.date, cached_inputs: bool = False) -> ParquetTarget:
        folder = ("features", self.tags.features, *(("cached-inputs",) if cached_inputs else ()))
        return ParquetTarget(self._path(*folder, f"{day.isoformat()}.parquet"), schemas.FEATURES)

    def window_cache(self) -> str | None:
        """The local folder where training keeps its last window between runs (:mod:`targets.windows`);
        None under an object-store root, whose objects have no cheap identity to check them by."""
        return None if self.remote else self._path("cache", "windows", self.tags.features)

    # --- models -------------------------------------------------------------------------------
    def model(self, train_day: dt.date) -> ModelArtifactTarget:
        return ModelArtifactTarget(self._path("models", train_day.isoformat(), self.tags.model))

    def model_decision(self, train_day: dt.date) -> JsonTarget:
        return JsonTarget(self._path("models", train_day.isoformat(), f"{self.tags.model}.decision.json"))

    def model_failure(self, train_day: dt.date) -> JsonTarget:
        return JsonTarget(self._path("models", train_day.isoformat(), f"{self.tags.model}.failed.json"))

    def serving(self, day: dt.date, cached_inputs: bool = False) -> JsonTarget:
        """The serving record of the forecast issued on ``day`` (which model, which forecaster per threshold, why)."""
        folder = ("serving", self.tags.model, *(("cached-inputs",) if cached_inputs else ()))
        return JsonTarget(self._path(*folder, f"{day.isoformat()}.json"))

    # --- forecasts and backtests ----------------------------------------------------------------
    def forecast(self, day: dt.date) -> ForecastTarget:
        shape = (lambda: self._forecast_shape(day)) if self._forecast_shape is not None else None
        return ForecastTarget(self._path("forecasts", day.isoformat(), "forecast.parquet"), schemas.FORECAST, day,
                              shape)

    def shard_forecast(self, day: dt.date) -> ParquetTarget:
        """One shard's part of the forecast issued on ``day`` (sharded configurations)."""
        return ParquetTarget(self._path("forecasts", day.isoformat(), "shards", f"{self.tags.features}.parquet"),
                             schemas.FORECAST)

    def forecast_chart(self, day: dt.date) -> BytesTarget:
        return BytesTarget(self._path("forecasts", day.isoformat(), "forecast.png"))

    def _backtest(self, start: dt.date, end: dt.date, name: str) -> str:
        return self._path("backtests", f"{start.isoformat()}_{end.isoformat()}", name)

    def backtest_predictions(self, start: dt.date, end: dt.date) -> ParquetTarget:
        return ParquetTarget(self._backtest(start, end, "predictions.parquet"), schemas.PREDICTIONS)

    def backtest_metrics(self, start: dt.date, end: dt.date) -> JsonTarget:
        return JsonTarget(self._backtest(start, end, "metrics.json"))

    def backtest_report(self, start: dt.date, end: dt.date) -> TextTarget:
        return TextTarget(self._backtest(start, end, "report.html"))

    def backtest_figure(self, start: dt.date, end: dt.date, name: str) -> BytesTarget:
        return BytesTarget(self._backtest(start, end, f"{name}.png"))

    def weekly_comparison(self, day: dt.date) -> JsonTarget:
        return JsonTarget(self._path("backtests", "weekly", day.isoformat(), "comparison.json"))

    def weekly_report(self, day: dt.date) -> TextTarget:
        return TextTarget(self._path("backtests", "weekly", day.isoformat(), "report.html"))

    # --- operations ---------------------------------------------------------------------------
    def status_page(self) -> TextTarget:
        return TextTarget(self._path("status", "index.html"))

    def run_log(self) -> JsonLinesTarget:
        return JsonLinesTarget(self._path("ops", "runs.jsonl"))

    def alert_log(self) -> JsonLinesTarget:
        return JsonLinesTarget(self._path("ops", "alerts.jsonl"))

    def job_lock(self, job: str) -> str:
        return self._path("ops", "locks", f"{job}.lock")
