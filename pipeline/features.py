"""Features for the 72 target hours of each issue day, strictly from what was known at the issue time.

One function, :func:`build_features`, serves a single issue day (daily production) and hundreds of
them (training windows, backtests) with the same code path, so bulk and daily results are
identical. Inputs are canonical frames carrying ``known_at`` (see :mod:`pipeline.asof`); every value
read for issue time T passes ``known_at <= T``.

Feature groups (each degrades to NaN columns when its data is absent for the configuration):

* calendar of the target hour: CPT hour of day, weekday, holiday, season, horizon;
* real-time price history at the node and system-wide: same-hour spike rates over 7 and 28 days,
  all-hours spike rates, days since the last spike, recent maxima, means and volatility, the
  same hour yesterday (persistence) and a week before the target day;
* day-ahead prices: the latest known DAM day (normally D itself) at the target's hour, its max/mean;
* load: recent actual peaks; ERCOT's forecast for the target hour and day;
* renewables: wind and solar forecasts, forecast net load, its ramp and its level against the
  recent actual peak of net load;
* weather: forecast temperature across the weather zones at the target hour and the target day's
  extremes, degree hours, and yesterday's observed temperature.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipeline import ercot_time
from pipeline.asof import KNOWN_AT

SYSTEM_NODE = "HB_HUBAVG"
SYSTEM_ZONE = "ERCOT"
FEATURE_VERSION = 1
HOURS_PER_DAY = 24


@dataclass(frozen=True)
class FeatureInputs:
    """Canonical frames (each with ``known_at``) covering the window the issue days need."""

    rt_hourly: pd.DataFrame
    dam_prices: pd.DataFrame | None = None
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
    issue_time: str = "06:00"
    lookback_days: int = 28
    horizon_hours: int = 72


def threshold_label(threshold: float) -> str:
    return f"{threshold:g}".replace(".", "p")


def feature_columns(settings: FeatureSettings) -> list[str]:
    """Every feature column, in order (fixed for a configuration, whatever data is present)."""
    calendar = ["hour_of_day", "day_of_week", "is_weekend", "is_holiday", "month", "doy_sin", "doy_cos",
                "horizon_hours", "horizon_day"]
    spikes = []
    for threshold in settings.thresholds:
        t = threshold_label(threshold)
        spikes += [f"spike_rate_{t}_hod_7d", f"spike_rate_{t}_hod_28d", f"spike_rate_{t}_all_7d",
                   f"sys_spike_rate_{t}_hod_7d", f"sys_spike_rate_{t}_all_7d", f"days_since_spike_{t}"]
    prices = ["price_max_hod_d1", "price_max_hod_lastweek", "price_max_hod_max_7d", "price_mean_hod_7d",
              "price_max_1d", "price_mean_1d", "price_max_7d", "log_price_std_7d", "sys_price_max_hod_d1",
              "sys_price_max_1d", "sys_price_mean_hod_7d", "basis_mean_7d"]
    dam = ["dam_hod", "dam_max_day", "dam_mean_day", "dam_hod_vs_mean_7d", "dam_age_days"]
    load = ["load_hod_d1", "load_peak_d1", "load_peak_7d", "load_fc", "load_fc_day_peak", "load_fc_vs_peak_28d"]
    renewables = ["wind_fc", "solar_fc", "net_load_fc", "net_load_fc_day_peak", "net_load_fc_ramp",
                  "net_load_fc_vs_peak_28d", "wind_mean_d1", "net_load_hod_d1", "net_load_peak_7d"]
    weather = ["temp_fc_mean", "temp_fc_max", "temp_fc_min", "temp_fc_day_max", "temp_fc_day_min",
               "cooling_degree_fc", "heating_degree_fc", "wind_speed_fc_mean", "temp_hod_d1"]
    return calendar + spikes + prices + dam + load + renewables + weather


# --- day x hour cubes ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Cube:
    """Values on a (operating day, CPT hour of day, entity) grid, with when each cell became known."""

    first_day: dt.date
    entities: tuple[str, ...]
    values: dict[str, np.ndarray]  # name -> float array [days, 24, entities]
    known_at: np.ndarray  # int64 microseconds since epoch [days, 24, entities]; max = never

    @property
    def n_days(self) -> int:
        return self.known_at.shape[0]

    def window(self, name: str, last_day: dt.date, n_days: int, known_by: np.int64) -> np.ndarray:
        """``n_days`` days ending at ``last_day`` (inclusive), cells unknown at ``known_by`` -> NaN."""
        stop = (last_day - self.first_day).days + 1
        start = stop - n_days
        out = np.full((n_days, HOURS_PER_DAY, len(self.entities)), np.nan)
        lo, hi = max(start, 0), min(stop, self.n_days)
        if hi > lo:
            block = self.values[name][lo:hi]
            known = self.known_at[lo:hi] <= known_by
            out[lo - start : hi - start] = np.where(known, block, np.nan)
        return out


_NEVER = np.iinfo(np.int64).max


def _micros(values: pd.Series | pd.DatetimeIndex) -> np.ndarray:
    """Microseconds since the epoch (the cube's integer time scale)."""
    return pd.DatetimeIndex(values).as_unit("us").asi8


def _micro(timestamp: pd.Timestamp) -> np.int64:
    # Timestamp.value is always nanoseconds, whatever the unit: go through the index form.
    return np.int64(_micros(pd.DatetimeIndex([timestamp]))[0])


def build_cube(
    frame: pd.DataFrame,
    entity_column: str,
    value_columns: dict[str, str],
    entities: Sequence[str],
    first_day: dt.date,
    last_day: dt.date,
) -> Cube:
    """Place hourly records on the day x hour-of-day grid.

    ``value_columns`` maps cube name -> aggregation ("max" or "mean") for the column of that name.
    The fall-back day's repeated hour folds into one cell (max / mean of both copies, known when the
    later one is); the spring-forward day's missing hour stays NaN.
    """
    n_days = (last_day - first_day).days + 1
    shape = (n_days, HOURS_PER_DAY, len(entities))
    known = np.full(shape, _NEVER, dtype=np.int64)
    values = {name: np.full(shape, np.nan) for name in value_columns}
    if frame is None or frame.empty:
        return Cube(first_day, tuple(entities), values, known)
    local = frame["interval_start"].dt.tz_convert(ercot_time.CPT)
    day_index = (local.dt.normalize().dt.tz_localize(None) - pd.Timestamp(first_day)).dt.days.to_numpy()
    hour_index = local.dt.hour.to_numpy()
    lookup = {entity: i for i, entity in enumerate(entities)}
    entity_index = frame[entity_column].map(lookup).to_numpy(dtype=float)
    keep = (day_index >= 0) & (day_index < n_days) & ~np.isnan(entity_index)
    if not keep.any():
        return Cube(first_day, tuple(entities), values, known)
    cells = pd.DataFrame({
        "d": day_index[keep], "h": hour_index[keep], "e": entity_index[keep].astype(int),
        "k": _micros(frame.loc[keep, KNOWN_AT]),
        **{name: frame.loc[keep, name].to_numpy(dtype=float) for name in value_columns},
    })
    grouped = cells.groupby(["d", "h", "e"], sort=False)
    aggregated = grouped.agg({"k": "max", **value_columns})
    d, h, e = (aggregated.index.get_level_values(i).to_numpy() for i in range(3))
    known[d, h, e] = aggregated["k"].to_numpy()
    for name in value_columns:
        values[name][d, h, e] = aggregated[name].to_numpy()
    return Cube(first_day, tuple(entities), values, known)


# --- forecast-vintage lookups ---------------------------------------------------------------------

_HOUR_US = 3_600_000_000


@dataclass(frozen=True)
class Vintages:
    """Forecast publications on the hourly grid: each vintage's values for the hours it covers.

    A vintage is every record that became known at the same instant (one publication).
    """

    entities: tuple[str, ...]
    known_at: np.ndarray  # [vintages] int64 microseconds, ascending
    first_hour: np.ndarray  # [vintages] int64 microseconds: the first hour each block covers
    blocks: tuple[np.ndarray, ...]  # per vintage: float [hours, entities]

    @classmethod
    def build(cls, frame: pd.DataFrame | None, entity_column: str, value_column: str,
              entities: Sequence[str]) -> Vintages:
        if frame is None or frame.empty:
            return cls(tuple(entities), np.empty(0, np.int64), np.empty(0, np.int64), ())
        lookup = {entity: i for i, entity in enumerate(entities)}
        entity_index = frame[entity_column].map(lookup).to_numpy(dtype=float)
        keep = ~np.isnan(entity_index)
        hours = _micros(frame.loc[keep, "interval_start"])
        known = _micros(frame.loc[keep, KNOWN_AT])
        values = frame.loc[keep, value_column].to_numpy(dtype=float)
        entity_codes = entity_index[keep].astype(int)
        stamps, group = np.unique(known, return_inverse=True)
        order = np.argsort(group, kind="stable")
        bounds = np.searchsorted(group[order], np.arange(len(stamps) + 1))
        first_hours, blocks = [], []
        for g in range(len(stamps)):
            rows = order[bounds[g] : bounds[g + 1]]
            h = hours[rows]
            first = h.min()
            block = np.full(((h.max() - first) // _HOUR_US + 1, len(entities)), np.nan)
            block[(h - first) // _HOUR_US, entity_codes[rows]] = values[rows]
            first_hours.append(first)
            blocks.append(block)
        return cls(tuple(entities), stamps, np.asarray(first_hours, dtype=np.int64), tuple(blocks))

    def latest(self, known_by: np.int64, start: pd.Timestamp, n_hours: int) -> np.ndarray:
        """[n_hours, entities] from ``start``: each hour's value in the newest vintage known by ``known_by``."""
        out = np.full((n_hours, len(self.entities)), np.nan)
        start_us = _micro(start)
        oldest_useful = known_by - 10 * 24 * _HOUR_US  # no vintage reaches further than a week ahead
        for v in range(int(np.searchsorted(self.known_at, known_by, side="right")) - 1, -1, -1):
            if self.known_at[v] < oldest_useful:
                break
            block = self.blocks[v]
            offset = int((self.first_hour[v] - start_us) // _HOUR_US)
            lo, hi = max(offset, 0), min(offset + len(block), n_hours)
            if hi <= lo:
                continue
            target = out[lo:hi]
            source = block[lo - offset : hi - offset]
            fill = np.isnan(target) & ~np.isnan(source)
            target[fill] = source[fill]
            if not np.isnan(out).any():
                break
        return out


# --- the feature builder --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Prepared:
    settings: FeatureSettings
    inputs: FeatureInputs
    prices: Cube  # entities: nodes + system node
    dam: Cube
    load: Cube
    net_load: Cube
    weather: Cube
    load_fc: Vintages
    renewables_fc: Vintages
    temp_fc: Vintages
    wind_speed_fc: Vintages


def _prepare(settings: FeatureSettings, inputs: FeatureInputs, first_issue: dt.date, last_issue: dt.date) -> _Prepared:
    first = first_issue - dt.timedelta(days=settings.lookback_days + 1)
    last = last_issue + dt.timedelta(days=4)
    price_entities = (*settings.nodes, SYSTEM_NODE)
    rt = inputs.rt_hourly
    prices = build_cube(rt, "node", {"price_max": "max", "price_mean": "mean"}, price_entities, first, last)
    dam = build_cube(_renamed(inputs.dam_prices, "price", "dam"), "node", {"dam": "mean"}, settings.nodes, first, last)
    load = build_cube(_renamed(_zone(inputs.load, SYSTEM_ZONE), "load_mw", "load"), "zone", {"load": "mean"},
                      (SYSTEM_ZONE,), first, last)
    net = _net_load_actual(inputs.load, inputs.renewables)
    net_load = build_cube(net, "zone", {"net_load": "mean", "wind": "mean"}, (SYSTEM_ZONE,), first, last)
    weather = build_cube(_weather_mean(inputs.weather), "zone", {"temp": "mean"}, (SYSTEM_ZONE,), first, last)
    load_fc = Vintages.build(_zone(inputs.load_forecast, SYSTEM_ZONE), "zone", "load_mw", (SYSTEM_ZONE,))
    renewables_fc = Vintages.build(inputs.renewables_forecast, "fuel", "generation_mw", ("wind", "solar"))
    locations = _locations(inputs.weather_forecast)
    temp_fc = Vintages.build(inputs.weather_forecast, "location", "temperature_c", locations)
    wind_speed_fc = Vintages.build(inputs.weather_forecast, "location", "wind_speed_ms", locations)
    return _Prepared(settings, inputs, prices, dam, load, net_load, weather, load_fc, renewables_fc, temp_fc,
                     wind_speed_fc)


def _locations(frame: pd.DataFrame | None) -> tuple[str, ...]:
    return () if frame is None else tuple(sorted(frame["location"].unique()))


def _renamed(frame: pd.DataFrame | None, column: str, new: str) -> pd.DataFrame | None:
    return None if frame is None else frame.rename(columns={column: new})


def _zone(frame: pd.DataFrame | None, zone: str) -> pd.DataFrame | None:
    return None if frame is None else frame[frame["zone"] == zone]


def _net_load_actual(load: pd.DataFrame | None, renewables: pd.DataFrame | None) -> pd.DataFrame | None:
    """System net load (load - wind - solar) per hour, known when its last input was."""
    if load is None or renewables is None or load.empty or renewables.empty:
        return None
    system = load[load["zone"] == SYSTEM_ZONE].set_index("interval_start")
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
        KNOWN_AT: known_at.to_numpy(),
    })


def _weather_mean(weather: pd.DataFrame | None) -> pd.DataFrame | None:
    """Mean temperature over all weather locations per hour."""
    if weather is None or weather.empty:
        return None
    grouped = weather.groupby("interval_start").agg(temp=("temperature_c", "mean"), known_at=(KNOWN_AT, "max"))
    return grouped.reset_index().assign(zone=SYSTEM_ZONE)


def build_features(settings: FeatureSettings, inputs: FeatureInputs, issue_days: Sequence[dt.date]) -> pd.DataFrame:
    """Feature rows for every (issue day, node, target hour), as of each issue day's issue time.

    Columns: ``issue_day`` (date), ``node``, ``interval_start``, ``horizon_h``, ``issue_time`` and
    :func:`feature_columns`. Rows are ordered by issue day, node, target hour.
    """
    if not issue_days:
        raise ValueError("build_features needs at least one issue day")
    prepared = _prepare(settings, inputs, min(issue_days), max(issue_days))
    frames = [_one_issue_day(prepared, day) for day in issue_days]
    return pd.concat(frames, ignore_index=True)


def _one_issue_day(p: _Prepared, issue_day: dt.date) -> pd.DataFrame:
    s = p.settings
    issue_at = ercot_time.local_time_on(issue_day, s.issue_time)
    known_by = _micro(issue_at)
    targets = ercot_time.forecast_hours(issue_day, s.horizon_hours)
    local = targets.tz_convert(ercot_time.CPT)
    hod = np.asarray(local.hour)
    target_days = np.asarray(local.date)
    n_nodes = len(s.nodes)

    columns: dict[str, np.ndarray] = {}
    _calendar(columns, targets, local, target_days, issue_day, n_nodes)
    _price_history(columns, p, issue_day, known_by, hod, target_days)
    _dam(columns, p, issue_day, known_by, hod, target_days)
    _load_and_net_load(columns, p, issue_day, known_by, targets, hod, target_days, n_nodes)
    _weather(columns, p, issue_day, known_by, targets, hod, target_days, n_nodes)

    rows = len(targets) * n_nodes
    frame = pd.DataFrame({
        "issue_day": [issue_day] * rows,
        "node": np.repeat(np.asarray(s.nodes, dtype=object), len(targets)),
        "interval_start": targets[np.tile(np.arange(len(targets)), n_nodes)],
        "horizon_h": np.tile(np.arange(1, len(targets) + 1), n_nodes),
        "issue_time": pd.DatetimeIndex([issue_at] * rows),
    })
    features = pd.DataFrame({name: columns[name] for name in feature_columns(s)}, dtype="float64")
    return pd.concat([frame, features], axis=1)


def _per_node(values_by_hour: np.ndarray, n_nodes: int) -> np.ndarray:
    """A value per target hour repeated for every node (node-major order)."""
    return np.tile(np.asarray(values_by_hour, dtype=float), n_nodes)


def _by_node_hour(table: np.ndarray, hod: np.ndarray) -> np.ndarray:
    """[24, nodes] -> per (node, target hour), node-major."""
    return table[hod, :].T.reshape(-1)


def _by_node(values: np.ndarray, n_targets: int) -> np.ndarray:
    """[nodes] -> per (node, target hour), node-major."""
    return np.repeat(np.asarray(values, dtype=float), n_targets)


def _calendar(columns: dict, targets: pd.DatetimeIndex, local: pd.DatetimeIndex, target_days: np.ndarray,
              issue_day: dt.date, n_nodes: int) -> None:
    doy = np.asarray(local.day_of_year, dtype=float)
    horizon = np.arange(1, len(targets) + 1)
    horizon_day = np.asarray([(d - issue_day).days for d in target_days], dtype=float)
    weekday = np.asarray(local.day_of_week, dtype=float)
    values = {
        "hour_of_day": np.asarray(local.hour, dtype=float),
        "day_of_week": weekday,
        "is_weekend": (weekday >= 5).astype(float),
        "is_holiday": np.asarray([d in holidays(d.year) for d in target_days], dtype=float),
        "month": np.asarray(local.month, dtype=float),
        "doy_sin": np.sin(2 * np.pi * doy / 365.25),
        "doy_cos": np.cos(2 * np.pi * doy / 365.25),
        "horizon_hours": horizon.astype(float),
        "horizon_day": horizon_day,
    }
    for name, value in values.items():
        columns[name] = _per_node(value, n_nodes)


def _nanmean(a: np.ndarray, axis: int | tuple[int, ...]) -> np.ndarray:
    count = np.sum(~np.isnan(a), axis=axis)
    total = np.nansum(a, axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def _nanmax(a: np.ndarray, axis: int | tuple[int, ...]) -> np.ndarray:
    has = np.any(~np.isnan(a), axis=axis)
    filled = np.where(np.isnan(a), -np.inf, a)
    return np.where(has, np.max(filled, axis=axis), np.nan)


def _exceed_rate(window: np.ndarray, threshold: float, axis: int | tuple[int, ...]) -> np.ndarray:
    """Share of known cells above ``threshold`` (NaN when no cell is known)."""
    exceed = np.where(np.isnan(window), np.nan, (window > threshold).astype(float))
    return _nanmean(exceed, axis)


def _price_history(columns: dict, p: _Prepared, issue_day: dt.date, known_by: np.int64, hod: np.ndarray,
                   target_days: np.ndarray) -> None:
    s = p.settings
    n_nodes, n_targets = len(s.nodes), len(hod)
    yesterday = issue_day - dt.timedelta(days=1)
    lookback = s.lookback_days
    maxes = p.prices.window("price_max", yesterday, lookback, known_by)  # [days, 24, nodes+1]
    means = p.prices.window("price_mean", yesterday, lookback, known_by)
    node_max, sys_max = maxes[:, :, :n_nodes], maxes[:, :, n_nodes]
    node_mean, sys_mean = means[:, :, :n_nodes], means[:, :, n_nodes]
    week = slice(lookback - 7, lookback)

    for threshold in s.thresholds:
        t = threshold_label(threshold)
        columns[f"spike_rate_{t}_hod_7d"] = _by_node_hour(_exceed_rate(node_max[week], threshold, 0), hod)
        columns[f"spike_rate_{t}_hod_28d"] = _by_node_hour(_exceed_rate(node_max, threshold, 0), hod)
        columns[f"spike_rate_{t}_all_7d"] = _by_node(_exceed_rate(node_max[week], threshold, (0, 1)), n_targets)
        sys_hod = _exceed_rate(sys_max[week], threshold, 0)  # [24]
        columns[f"sys_spike_rate_{t}_hod_7d"] = _per_node(sys_hod[hod], n_nodes)
        columns[f"sys_spike_rate_{t}_all_7d"] = _per_node(
            np.full(n_targets, _exceed_rate(sys_max[week], threshold, (0, 1))), n_nodes)
        columns[f"days_since_spike_{t}"] = _by_node(_days_since(node_max, threshold), n_targets)

    columns["price_max_hod_d1"] = _by_node_hour(node_max[-1], hod)
    columns["price_max_hod_max_7d"] = _by_node_hour(_nanmax(node_max[week], 0), hod)
    columns["price_mean_hod_7d"] = _by_node_hour(_nanmean(node_mean[week], 0), hod)
    columns["price_max_1d"] = _by_node(_nanmax(node_max[-1], 0), n_targets)
    columns["price_mean_1d"] = _by_node(_nanmean(node_mean[-1], 0), n_targets)
    columns["price_max_7d"] = _by_node(_nanmax(node_max[week], (0, 1)), n_targets)
    log_prices = np.log1p(np.clip(node_mean[week], 0, None))
    columns["log_price_std_7d"] = _by_node(_nanstd(log_prices.reshape(-1, n_nodes)), n_targets)
    columns["sys_price_max_hod_d1"] = _per_node(sys_max[-1][hod], n_nodes)
    columns["sys_price_max_1d"] = _per_node(np.full(n_targets, _nanmax(sys_max[-1], 0)), n_nodes)
    columns["sys_price_mean_hod_7d"] = _per_node(_nanmean(sys_mean[week], 0)[hod], n_nodes)
    basis = _nanmean(node_mean[week] - sys_mean[week][:, :, None], (0, 1))
    columns["basis_mean_7d"] = _by_node(basis, n_targets)

    # Same hour one week before each target day (known for horizons up to 7 days).
    last_week = np.full((n_nodes, n_targets), np.nan)
    for j, (day, hour) in enumerate(zip(target_days, hod)):
        cell = p.prices.window("price_max", day - dt.timedelta(days=7), 1, known_by)[0, hour, :n_nodes]
        last_week[:, j] = cell
    columns["price_max_hod_lastweek"] = last_week.reshape(-1)


def _nanstd(a: np.ndarray) -> np.ndarray:
    count = np.sum(~np.isnan(a), axis=0)
    mean = _nanmean(a, 0)
    with np.errstate(invalid="ignore"):
        var = np.nansum((a - mean) ** 2, axis=0) / np.maximum(count - 1, 1)
    return np.where(count > 1, np.sqrt(var), np.nan)


def _days_since(node_max: np.ndarray, threshold: float) -> np.ndarray:
    """Days since the last day (within the window) with an hour above ``threshold``; window+1 if none."""
    n_days = node_max.shape[0]
    daily = _nanmax(node_max, 1)  # [days, nodes]
    hit = np.where(np.isnan(daily), False, daily > threshold)
    out = np.full(hit.shape[1], float(n_days + 1))
    for node in range(hit.shape[1]):
        days_with = np.flatnonzero(hit[:, node])
        if len(days_with):
            out[node] = float(n_days - days_with[-1])
    return out


def _dam(columns: dict, p: _Prepared, issue_day: dt.date, known_by: np.int64, hod: np.ndarray,
         target_days: np.ndarray) -> None:
    """Latest known DAM day at or before each target day (normally the issue day itself)."""
    n_nodes, n_targets = len(p.settings.nodes), len(hod)
    names = ["dam_hod", "dam_max_day", "dam_mean_day", "dam_hod_vs_mean_7d", "dam_age_days"]
    out = {name: np.full((n_nodes, n_targets), np.nan) for name in names}
    window_end = max(target_days)
    dam = p.dam.window("dam", window_end, 14, known_by)  # [14, 24, nodes]; last row = window_end
    days_known = ~np.all(np.isnan(dam), axis=(1, 2))
    for day in sorted(set(target_days)):
        row_of_day = 13 - (window_end - day).days
        candidates = np.flatnonzero(days_known[: row_of_day + 1])
        if not len(candidates):
            continue
        row = candidates[-1]
        hit = np.flatnonzero(target_days == day)
        by_hour = dam[row]  # [24, nodes]
        week_mean = _nanmean(dam[max(row - 6, 0) : row + 1], (0, 1))  # [nodes]
        scale = np.where(np.abs(week_mean) < 1, 1.0, week_mean)
        out["dam_hod"][:, hit] = by_hour[hod[hit], :].T
        out["dam_max_day"][:, hit] = _nanmax(by_hour, 0)[:, None]
        out["dam_mean_day"][:, hit] = _nanmean(by_hour, 0)[:, None]
        out["dam_hod_vs_mean_7d"][:, hit] = (by_hour[hod[hit], :] / scale).T
        out["dam_age_days"][:, hit] = float(row_of_day - row)
    for name in names:
        columns[name] = out[name].reshape(-1)


def _load_and_net_load(columns: dict, p: _Prepared, issue_day: dt.date, known_by: np.int64,
                       targets: pd.DatetimeIndex, hod: np.ndarray, target_days: np.ndarray, n_nodes: int) -> None:
    yesterday = issue_day - dt.timedelta(days=1)
    load = p.load.window("load", yesterday, 28, known_by)[:, :, 0]  # [28, 24]
    net = p.net_load.window("net_load", yesterday, 28, known_by)[:, :, 0]
    wind = p.net_load.window("wind", yesterday, 1, known_by)[0, :, 0]
    columns["load_hod_d1"] = _per_node(load[-1][hod], n_nodes)
    columns["load_peak_d1"] = _per_node(np.full(len(hod), _nanmax(load[-1], 0)), n_nodes)
    load_peak_7d = _nanmax(load[-7:], (0, 1))
    columns["load_peak_7d"] = _per_node(np.full(len(hod), load_peak_7d), n_nodes)
    columns["wind_mean_d1"] = _per_node(np.full(len(hod), _nanmean(wind, 0)), n_nodes)
    columns["net_load_hod_d1"] = _per_node(net[-1][hod], n_nodes)
    columns["net_load_peak_7d"] = _per_node(np.full(len(hod), _nanmax(net[-7:], (0, 1))), n_nodes)

    span_start, n_hours, at_targets, span_days = _span(targets, target_days)
    load_fc = p.load_fc.latest(known_by, span_start, n_hours)[:, 0]
    renewables = p.renewables_fc.latest(known_by, span_start, n_hours)
    wind_fc, solar_fc = renewables[:, 0], renewables[:, 1]
    net_fc = load_fc - wind_fc - solar_fc
    load_peak_28 = _nonzero(_nanmax(load, (0, 1)))
    net_peak_28 = _nonzero(_nanmax(net, (0, 1)))
    columns["load_fc"] = _per_node(load_fc[at_targets], n_nodes)
    columns["load_fc_day_peak"] = _per_node(_day_peaks(load_fc, span_days, target_days), n_nodes)
    columns["load_fc_vs_peak_28d"] = _per_node(load_fc[at_targets] / load_peak_28, n_nodes)
    columns["wind_fc"] = _per_node(wind_fc[at_targets], n_nodes)
    columns["solar_fc"] = _per_node(solar_fc[at_targets], n_nodes)
    columns["net_load_fc"] = _per_node(net_fc[at_targets], n_nodes)
    columns["net_load_fc_day_peak"] = _per_node(_day_peaks(net_fc, span_days, target_days), n_nodes)
    columns["net_load_fc_ramp"] = _per_node(net_fc[at_targets] - net_fc[at_targets - 1], n_nodes)
    columns["net_load_fc_vs_peak_28d"] = _per_node(net_fc[at_targets] / net_peak_28, n_nodes)


def _span(targets: pd.DatetimeIndex, target_days: np.ndarray) -> tuple[pd.Timestamp, int, np.ndarray, np.ndarray]:
    """Hourly span covering the target days (and the hour before the first target, for ramps).

    Returns (start, hours, index of each target hour in the span, CPT day of each span hour).
    """
    start = min(targets[0] - ercot_time.HOUR, ercot_time.day_start(min(target_days)))
    end = ercot_time.day_start(max(target_days) + dt.timedelta(days=1))
    hours = pd.date_range(start, end, freq="h", inclusive="left")
    at_targets = np.asarray((targets - start) // ercot_time.HOUR, dtype=int)
    return start, len(hours), at_targets, ercot_time.operating_day_of(hours)


def _nonzero(value: float) -> float:
    return np.nan if np.isnan(value) or value == 0 else float(value)


def _day_peaks(values: np.ndarray, span_days: np.ndarray, target_days: np.ndarray) -> np.ndarray:
    """The max of ``values`` (one per span hour) over each target hour's CPT day."""
    peaks = {day: _nanmax(values[span_days == day], 0) for day in set(target_days)}
    return np.asarray([peaks[day] for day in target_days], dtype=float)


def _weather(columns: dict, p: _Prepared, issue_day: dt.date, known_by: np.int64, targets: pd.DatetimeIndex,
             hod: np.ndarray, target_days: np.ndarray, n_nodes: int) -> None:
    yesterday = issue_day - dt.timedelta(days=1)
    observed = p.weather.window("temp", yesterday, 1, known_by)[0, :, 0]
    columns["temp_hod_d1"] = _per_node(observed[hod], n_nodes)
    span_start, n_hours, at_targets, span_days = _span(targets, target_days)
    temps = p.temp_fc.latest(known_by, span_start, n_hours)
    winds = p.wind_speed_fc.latest(known_by, span_start, n_hours)
    empty = np.full(n_hours, np.nan)
    mean = _nanmean(temps, 1) if temps.shape[1] else empty
    high = _nanmax(temps, 1) if temps.shape[1] else empty
    low = -_nanmax(-temps, 1) if temps.shape[1] else empty
    wind_mean = _nanmean(winds, 1) if winds.shape[1] else empty
    mean_at = mean[at_targets]
    columns["temp_fc_mean"] = _per_node(mean_at, n_nodes)
    columns["temp_fc_max"] = _per_node(high[at_targets], n_nodes)
    columns["temp_fc_min"] = _per_node(low[at_targets], n_nodes)
    columns["temp_fc_day_max"] = _per_node(_day_peaks(mean, span_days, target_days), n_nodes)
    columns["temp_fc_day_min"] = _per_node(-_day_peaks(-mean, span_days, target_days), n_nodes)
    columns["cooling_degree_fc"] = _per_node(np.clip(mean_at - 18.0, 0, None), n_nodes)
    columns["heating_degree_fc"] = _per_node(np.clip(10.0 - mean_at, 0, None), n_nodes)
    columns["wind_speed_fc_mean"] = _per_node(wind_mean[at_targets], n_nodes)


# --- calendar ------------------------------------------------------------------------------------


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> dt.date:
    first = dt.date(year, month, 1)
    offset = (weekday - first.weekday()) % 7
    return first + dt.timedelta(days=offset + 7 * (n - 1))


def _last_weekday(year: int, month: int, weekday: int) -> dt.date:
    last = dt.date(year, month + 1, 1) - dt.timedelta(days=1) if month < 12 else dt.date(year, 12, 31)
    return last - dt.timedelta(days=(last.weekday() - weekday) % 7)


def holidays(year: int) -> frozenset[dt.date]:
    """ERCOT's load-relevant holidays (NERC holidays plus the day after Thanksgiving)."""
    thanksgiving = _nth_weekday(year, 11, 3, 4)
    return frozenset({
        dt.date(year, 1, 1),
        _last_weekday(year, 5, 0),  # Memorial Day
        dt.date(year, 7, 4),
        _nth_weekday(year, 9, 0, 1),  # Labor Day
        thanksgiving,
        thanksgiving + dt.timedelta(days=1),
        dt.date(year, 12, 24),
        dt.date(year, 12, 25),
        dt.date(year, 12, 31),
    })
