"""Building the feature frame: the inputs placed on grids once, then every issue day read from them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipeline import catalogue, ercot_time
from pipeline.asof import KNOWN_AT
from pipeline.features import ancillary, calendar, dam, load, prices, weather
from pipeline.features.grid import Cube, Targets, Vintages, build_cube, micro

SYSTEM_ZONE = catalogue.SYSTEM_ZONE


@dataclass(frozen=True)
class FeatureInputs:
    """Canonical frames (each with ``known_at``) covering the window the issue days need."""

    rt_hourly: pd.DataFrame
    dam_prices: pd.DataFrame | None = None
    ancillary_prices: pd.DataFrame | None = None
    load: pd.DataFrame | None = None
    load_forecast: pd.DataFrame | None = None
    renewables: pd.DataFrame | None = None
    renewables_forecast: pd.DataFrame | None = None
    weather: pd.DataFrame | None = None
    weather_forecast: pd.DataFrame | None = None


@dataclass(frozen=True)
class FeatureSettings:
    nodes: tuple[str, ...]
    thresholds: tuple[float, ...]
    issue_time: str
    lookback_days: int
    horizon_hours: int = catalogue.HORIZON_HOURS

    @property
    def history_days(self) -> int:
        """Days before the issue day the features read: the lookback, and at least what the DAM group needs.

        The same span decides which input files an issue day reads (:mod:`pipeline.inputs`), so a
        feature never depends on whether it was built alone or in a run of many issue days.
        """
        return max(self.lookback_days, dam.HISTORY_DAYS)


def feature_columns(settings: FeatureSettings) -> list[str]:
    """Every feature column, in order (fixed for a configuration, whatever data is present)."""
    return [*calendar.columns(), *prices.spike_columns(settings.thresholds), *prices.PRICE_COLUMNS,
            *dam.columns(), *ancillary.columns(), *load.columns(), *weather.columns()]


@dataclass(frozen=True)
class _Grids:
    """Every input on its grid, built once for a run of issue days."""

    prices: Cube  # entities: nodes + system node
    dam: Cube  # entities: nodes + system node
    reserves: Cube  # entities: ancillary services
    load: Cube
    net_load: Cube
    weather: Cube
    load_fc: Vintages
    renewables_fc: Vintages
    temp_fc: Vintages
    wind_speed_fc: Vintages


def build_features(settings: FeatureSettings, inputs: FeatureInputs, issue_days: Sequence[dt.date]) -> pd.DataFrame:
    """Feature rows for every (issue day, node, target hour), as of each issue day's issue time.

    Columns: ``issue_day`` (date), ``node``, ``interval_start``, ``horizon_h``, ``issue_time`` and
    :func:`feature_columns`. Rows are ordered by issue day, node, target hour.
    """
    if not issue_days:
        raise ValueError("build_features needs at least one issue day")
    grids = _grids(settings, inputs, min(issue_days), max(issue_days))
    return pd.concat([_one_issue_day(settings, grids, day) for day in issue_days], ignore_index=True)


def _grids(settings: FeatureSettings, inputs: FeatureInputs, first_issue: dt.date, last_issue: dt.date) -> _Grids:
    first = first_issue - dt.timedelta(days=settings.history_days + 1)
    last = last_issue + dt.timedelta(days=4)
    price_entities = (*settings.nodes, catalogue.SYSTEM_NODE)
    system = (SYSTEM_ZONE,)
    locations = _locations(inputs.weather_forecast)
    return _Grids(
        prices=build_cube(inputs.rt_hourly, "node", {"price_max": "max", "price_mean": "mean"}, price_entities,
                          first, last),
        dam=build_cube(_renamed(inputs.dam_prices, "price", "dam"), "node", {"dam": "mean"}, price_entities,
                       first, last),
        reserves=build_cube(inputs.ancillary_prices, "service", {"price": "mean"}, catalogue.ANCILLARY_SERVICES,
                            first, last),
        load=build_cube(_renamed(_zone(inputs.load), "load_mw", "load"), "zone", {"load": "mean"}, system,
                        first, last),
        net_load=build_cube(_net_load_actual(inputs.load, inputs.renewables), "zone",
                            {"net_load": "mean", "wind": "mean", "solar": "mean"}, system, first, last),
        weather=build_cube(_weather_mean(inputs.weather), "zone", {"temp": "mean"}, system, first, last),
        load_fc=Vintages.build(_zone(inputs.load_forecast), "zone", "load_mw", system),
        renewables_fc=Vintages.build(inputs.renewables_forecast, "fuel", "generation_mw", catalogue.FUELS),
        temp_fc=Vintages.build(inputs.weather_forecast, "location", "temperature_c", locations),
        wind_speed_fc=Vintages.build(inputs.weather_forecast, "location", "wind_speed_ms", locations),
    )


def _one_issue_day(settings: FeatureSettings, grids: _Grids, issue_day: dt.date) -> pd.DataFrame:
    issue_at = ercot_time.local_time_on(issue_day, settings.issue_time)
    hours = ercot_time.forecast_hours(issue_day, settings.horizon_hours)
    local = hours.tz_convert(ercot_time.CPT)
    n_nodes = len(settings.nodes)
    targets = Targets(issue_day, micro(issue_at), hours, np.asarray(local.hour), np.asarray(local.date), n_nodes)
    columns = (calendar.compute(targets)
               | prices.compute_spikes(grids.prices, targets, settings.thresholds, settings.lookback_days)
               | prices.compute_prices(grids.prices, targets, settings.lookback_days)
               | dam.compute(grids.dam, grids.prices, targets, settings.lookback_days)
               | ancillary.compute(grids.reserves, targets)
               | load.compute(grids.load, grids.net_load, grids.load_fc, grids.renewables_fc, targets,
                              settings.lookback_days)
               | weather.compute(grids.weather, grids.temp_fc, grids.wind_speed_fc, targets))
    rows = len(hours) * n_nodes
    keys = pd.DataFrame({
        "issue_day": [issue_day] * rows,
        "node": np.repeat(np.asarray(settings.nodes, dtype=object), len(hours)),
        "interval_start": hours[np.tile(np.arange(len(hours)), n_nodes)],
        "horizon_h": np.tile(np.arange(1, len(hours) + 1), n_nodes),
        "issue_time": pd.DatetimeIndex([issue_at] * rows),
    })
    names = feature_columns(settings)
    if set(columns) != set(names):
        raise AssertionError(f"feature groups computed {sorted(set(columns) ^ set(names))} differently from "
                             "their declared columns")
    features = pd.DataFrame({name: columns[name] for name in names}, dtype="float64")
    return pd.concat([keys, features], axis=1)


# --- inputs on the system grid ---------------------------------------------------------------------


def _locations(frame: pd.DataFrame | None) -> tuple[str, ...]:
    return () if frame is None else tuple(sorted(frame["location"].unique()))


def _renamed(frame: pd.DataFrame | None, column: str, new: str) -> pd.DataFrame | None:
    return None if frame is None else frame.rename(columns={column: new})


def _zone(frame: pd.DataFrame | None, zone: str = SYSTEM_ZONE) -> pd.DataFrame | None:
    return None if frame is None else frame[frame["zone"] == zone]


def _net_load_actual(load_frame: pd.DataFrame | None, renewables: pd.DataFrame | None) -> pd.DataFrame | None:
    """System net load (load - wind - solar), wind and solar per hour, known when its last input was."""
    if load_frame is None or renewables is None or load_frame.empty or renewables.empty:
        return None
    system = load_frame[load_frame["zone"] == SYSTEM_ZONE].set_index("interval_start")
    wide = renewables.pivot_table(index="interval_start", columns="fuel", values="generation_mw", aggfunc="mean")
    known = renewables.groupby("interval_start")[KNOWN_AT].max()
    joined = system.join(wide, how="inner").join(known.rename("ren_known"), how="inner")
    if joined.empty or "wind" not in joined or "solar" not in joined:
        return None
    known_at = pd.concat([joined[KNOWN_AT], joined["ren_known"]], axis=1).max(axis=1)
    return pd.DataFrame({
        "interval_start": joined.index,
        "zone": SYSTEM_ZONE,
        "net_load": (joined["load_mw"] - joined["wind"] - joined["solar"]).to_numpy(),
        "wind": joined["wind"].to_numpy(),
        "solar": joined["solar"].to_numpy(),
        KNOWN_AT: known_at.to_numpy(),
    })


def _weather_mean(frame: pd.DataFrame | None) -> pd.DataFrame | None:
    """Mean temperature over all weather locations per hour."""
    if frame is None or frame.empty:
        return None
    grouped = frame.groupby("interval_start").agg(temp=("temperature_c", "mean"), known_at=(KNOWN_AT, "max"))
    return grouped.reset_index().assign(zone=SYSTEM_ZONE)


def features_by_day(settings: FeatureSettings, inputs: FeatureInputs,
                    issue_days: Sequence[dt.date]) -> dict[dt.date, pd.DataFrame]:
    """The feature frame of each issue day, as the daily feature files hold it (no ``issue_day`` column).

    The rows of :func:`build_features`, built day by day from the same grids rather than cut out of
    one frame of all the days: a quarter of a shard of 100 nodes is then held once, not twice.
    """
    if not issue_days:
        raise ValueError("features_by_day needs at least one issue day")
    grids = _grids(settings, inputs, min(issue_days), max(issue_days))
    return {day: _one_issue_day(settings, grids, day).drop(columns="issue_day") for day in sorted(set(issue_days))}
