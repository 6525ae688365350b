"""The fallbacks of the seed's ``error_recovery`` section, each explicit, logged and visible in the output.

* data fetching fails (``use_cached_data``): nothing to publish at 00:00; the forecast falls back to
  the files on disk (``DailyInference --cached-inputs``, status ``fallback_cached_inputs``) if its
  inputs are still missing at 06:00;
* inference fails (``use_previous_forecast``): the previous forecast re-labelled
  ``fallback_previous`` (``PublishPreviousForecast``);
* retraining fails (``retain_current_model``): a failure record is left for the candidate of every
  shard, so the morning's forecast is served by the current model (the rule of
  :mod:`pipeline.registry`, applied by :class:`~pipeline.model_records.ModelRecords`) instead of
  training again.

A forecast that exists but is invalid (wrong schema, wrong rows, impossible probabilities) counts
as missing here: it is first made again by ``DailyInference`` (its inputs and model are there), and
if that fails too the fallback is published over it (the invalid file set aside).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence

from pipeline.forecast import STATUS_CACHED_INPUTS, STATUS_PREVIOUS, overall_status
from pipeline.ops.base import Operations

log = logging.getLogger("pipeline.jobs")


def fallback_steps(ops: Operations, day: dt.date) -> list[tuple[str, list[str]]]:
    """The luigi tasks that publish the configured fallbacks of ``day``, in the order they are tried."""
    steps: list[tuple[str, list[str]]] = []
    recovery = ops.config.error_recovery
    forecast = ops.tagged_layout.forecast(day)
    if forecast.store.exists(forecast.path) and forecast.problem() is not None:
        # It was published and then damaged (a full disk, a bad copy): making it again is quicker
        # and better than any fallback, its inputs and model being there.
        steps.append(("rebuild", ["DailyInference", "--date", day.isoformat()]))
    if recovery.data_fetching.fallback == "use_cached_data":
        if all(part.layout.features(day).exists() for part in ops.configured.shards()):
            log.info("the features of %s were built, so its inputs were fetched: no cached-inputs fallback", day)
        else:
            steps.append((STATUS_CACHED_INPUTS, ["DailyInference", "--date", day.isoformat(), "--cached-inputs"]))
    if recovery.inference.fallback == "use_previous_forecast":
        steps.append((STATUS_PREVIOUS, ["PublishPreviousForecast", "--date", day.isoformat()]))
    return steps


def publish_fallback(ops: Operations, day: dt.date, luigi_binary: str, central: bool, timeout_s: float,
                     keep_open: Sequence[int] = ()) -> str | None:
    """Publish the configured fallback forecast for ``day``; the status it carries, or None if none could be."""
    forecast = ops.tagged_layout.forecast(day)
    for status, task in fallback_steps(ops, day):
        if forecast.exists():
            break
        if ops.stop.is_set():
            log.warning("stop requested: not trying the %s fallback for %s", status, day)
            break
        log.warning("forecast for %s missing: trying the %s fallback", day, status)
        command = [luigi_binary, "--module", "pipeline", *task] + ([] if central else ["--local-scheduler"])
        outcome = ops.runner(command, timeout_s, ops.stop, keep_open)
        if not forecast.exists():
            log.error("the %s fallback for %s failed (exit code %d)", status, day, outcome.retcode)
    if not forecast.exists():
        return None
    forecast.repair_twins()
    return overall_status(forecast.read())


def retain_current_model(ops: Operations, today: dt.date) -> str | None:
    """Mark the candidate of the newest cadence date failed in every shard (unless gated); the models that serve.

    The serving models are named by the same rule inference applies, so an alert never names
    another model than the one forecasts actually use.
    """
    if ops.config.error_recovery.model_retraining.fallback != "retain_current_model":
        return None
    newest = ops.settings.cadence.newest(today)
    serving = []
    for part in ops.configured.shards():
        records = part.records
        if records.decision(newest) is None:
            records.record_failure(newest, "failed", "the retraining job failed")
        current = records.current_serving(today)
        serving.append(current.model_id if current is not None else "none on disk yet")
    return ", ".join(dict.fromkeys(serving))
