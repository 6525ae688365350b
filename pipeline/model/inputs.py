"""What the spike model may read: its inputs, grouped by where their data comes from.

The feature files hold more columns than the model reads; :data:`INPUT_GROUPS` names the ones it
reads, per group of data, in a fixed order (``{t}``: one per threshold; ``{lowest}``: the lowest
threshold's only). A group whose data the fit window lacks is left out: every column of it NaN
(reserve prices before 2022, any forecast on the real archive), or -- for the groups built from
forecast vintages -- fewer than :data:`MIN_VINTAGE_DAYS` fit issue days holding it.

Why a minimum for vintages: a model that saw a forecast on a handful of days learns its effect
from one weather spell, and serves it on every later day. The pipeline starts capturing live
vintages the day it starts running (and backfills what the sources keep), so for a while the fit
window holds a few; until it holds :data:`MIN_VINTAGE_DAYS` days of them the model does without,
exactly as a model on the archive does. The gate then compares the candidate with forecasts
against the incumbent without, as any two candidates: forecast inputs serve only once they win.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from pipeline.labels import threshold_label

#: The model's inputs by group, in order. The order is the model's column order.
INPUT_GROUPS: dict[str, tuple[str, ...]] = {
    "dam": ("dam_hod", "dam_hod_max3", "dam_hod_max7", "dam_hod_mean7", "dam_hod_max14", "dam_hod_d1",
            "dam_hod_lastweek", "dam_max_day", "dam_mean_day_lookback", "dam_hod_ratio", "dam_hod_rank",
            "sys_dam_hod"),
    "rt_prices": ("price_max_hod_d1", "price_max_1d", "price_max_hod_max_7d", "price_mean_hod_7d",
                  "spike_rate_{t}_hod_7d", "spike_rate_{t}_hod_28d", "spike_rate_{lowest}_all_7d",
                  "spike_rate_{lowest}_all_28d", "sys_spike_rate_{lowest}_hod_7d",
                  "rtx_hod_7d", "rtx_hod_lookback", "rtx_all_7d", "rtx_max_hod_lookback"),
    "ancillary": ("as_sum_hod", "as_RRS_daymax", "as_NSPIN_hod", "as_ECRS_hod"),
    "weather_observed": ("temp_max_d1", "temp_min_d1", "cdh_d1", "hdh_d1"),
    "load_actual": ("load_peak_vs_recent", "net_load_peak_vs_recent"),
    # Forecast vintages (ERCOT's load, wind and solar forecasts, the temperature forecast), as of the
    # issue time, with yesterday's errors against the actuals.
    "load_forecast": ("load_fc", "load_fc_day_peak", "load_fc_vs_recent_peak", "load_fc_err_d1"),
    "renewables_forecast": ("wind_fc", "solar_fc", "net_load_fc", "net_load_fc_day_peak", "net_load_fc_ramp",
                            "net_load_fc_vs_recent_peak", "wind_fc_err_d1", "solar_fc_err_d1",
                            "net_load_fc_err_d1"),
    "weather_forecast": ("temp_fc_mean", "temp_fc_day_max", "temp_fc_day_min", "cooling_degree_fc",
                         "heating_degree_fc", "temp_fc_err_d1"),
    "calendar": ("is_weekend", "hour_of_day", "horizon_day"),
}
#: Groups read from forecast vintages, and the column that says a vintage was there on an issue day.
VINTAGE_GROUPS: dict[str, str] = {"load_forecast": "load_fc", "renewables_forecast": "wind_fc",
                                  "weather_forecast": "temp_fc_mean"}
#: Fit issue days with vintages a forecast group needs before the model reads it (see the module doc).
MIN_VINTAGE_DAYS = 60

# Inputs whose effect can only raise the spike probability: prices, reserve prices, spike rates.
INCREASING_PREFIXES = ("dam_", "sys_dam_", "price_", "spike_rate_", "sys_spike_rate_", "as_")
NOT_MONOTONE = frozenset({"dam_hod_rank", "dam_hod_ratio", "dam_age_days"})
# Forecast tightness: more load or net load forecast (or more cooling / heating) can only raise the
# probability, more wind or solar forecast only lower it. (Yesterday's errors may act either way.)
INCREASING_FORECASTS = frozenset({"load_fc", "load_fc_day_peak", "load_fc_vs_recent_peak", "net_load_fc",
                                  "net_load_fc_day_peak", "net_load_fc_vs_recent_peak", "cooling_degree_fc",
                                  "heating_degree_fc"})
DECREASING_FORECASTS = frozenset({"wind_fc", "solar_fc"})
# The logistic component's inputs (log prices; sin/cos of the hour are added), and the forecast
# tightness it reads where the model reads forecasts.
LINEAR_INPUTS = ("dam_hod", "dam_hod_max7", "price_mean_hod_7d")
LINEAR_FORECAST_INPUTS = ("net_load_fc_vs_recent_peak", "load_fc_vs_recent_peak", "temp_fc_mean")


def _expand(template: str, labels: Sequence[str]) -> list[str]:
    if "{t}" in template:
        return [template.format(t=label) for label in labels]
    return [template.format(lowest=labels[0])]


def group_inputs(thresholds: Sequence[float]) -> dict[str, list[str]]:
    """Every group's inputs for these thresholds."""
    labels = [threshold_label(t) for t in thresholds]
    return {group: list(dict.fromkeys(n for template in templates for n in _expand(template, labels)))
            for group, templates in INPUT_GROUPS.items()}


def model_inputs(feature_names: Sequence[str], thresholds: Sequence[float]) -> list[str]:
    """The inputs for these thresholds that the features provide, in the model's order."""
    available = set(feature_names)
    return [name for names in group_inputs(thresholds).values() for name in names if name in available]


def group_of(name: str, thresholds: Sequence[float]) -> str:
    for group, names in group_inputs(thresholds).items():
        if name in names:
            return group
    raise KeyError(f"{name} is not a model input")


def groups_used(columns: Sequence[str], thresholds: Sequence[float]) -> list[str]:
    """The input groups of which the model reads at least one column, in :data:`INPUT_GROUPS` order."""
    chosen = set(columns)
    return [group for group, names in group_inputs(thresholds).items() if chosen.intersection(names)]


def vintage_days(features: pd.DataFrame) -> dict[str, int]:
    """Per forecast group, the issue days of ``features`` on which its vintage column holds a value."""
    out = {}
    for group, column in VINTAGE_GROUPS.items():
        if column not in features:
            out[group] = 0
            continue
        known = features[column].notna().to_numpy()
        out[group] = int(features.loc[known, "issue_day"].nunique()) if known.any() else 0
    return out


def usable_inputs(features: pd.DataFrame, offered: Sequence[str], thresholds: Sequence[float],
                  days_with_vintages: Mapping[str, int] | None = None) -> tuple[str, ...]:
    """The offered inputs the fit window supports: holding any data, and for a forecast group,
    :data:`MIN_VINTAGE_DAYS` issue days of vintages (``days_with_vintages``, else counted here)."""
    present = [name for name in offered if name in features and features[name].notna().any()]
    counts = vintage_days(features) if days_with_vintages is None else days_with_vintages
    short = {group for group in VINTAGE_GROUPS if counts.get(group, 0) < MIN_VINTAGE_DAYS}
    return tuple(name for name in present if group_of(name, thresholds) not in short)


def is_increasing(name: str) -> bool:
    return (name.startswith(INCREASING_PREFIXES) and name not in NOT_MONOTONE) or name in INCREASING_FORECASTS


def monotone_sign(name: str) -> int:
    """The booster's monotonic constraint for an input: 1 increasing, -1 decreasing, 0 free."""
    if is_increasing(name):
        return 1
    return -1 if name in DECREASING_FORECASTS else 0
