"""The schema of every file the pipeline writes.

Canonical raw datasets are long-format frames with a UTC ``interval_start`` and the UTC time the
value became public (``published_at``). Actual-type datasets are keyed (one file per day) by the CPT
operating day of ``interval_start``; forecast-type datasets by the CPT day they were published
(their *vintage*), since one publication covers several future days.
"""

from __future__ import annotations

from targets.schema import Schema

RT_PRICES = Schema(
    "rt_prices",
    {
        "interval_start": "utc",
        "node": "str",
        "price": "float",
        "interval_minutes": "int",
        "published_at": "utc",
    },
    key=("node", "interval_start"),
)

DAM_PRICES = Schema(
    "dam_prices",
    {"interval_start": "utc", "node": "str", "price": "float", "published_at": "utc"},
    key=("node", "interval_start"),
)

# Day-ahead ancillary service clearing prices (NP4-188-CD / NP4-181-ER), $/MW per hour.
ANCILLARY_PRICES = Schema(
    "ancillary_prices",
    {"interval_start": "utc", "service": "str", "price": "float", "published_at": "utc"},
    key=("service", "interval_start"),
)

LOAD = Schema(
    "load",
    {"interval_start": "utc", "zone": "str", "load_mw": "float", "published_at": "utc"},
    key=("zone", "interval_start"),
)

LOAD_FORECAST = Schema(
    "load_forecast",
    {"interval_start": "utc", "zone": "str", "load_mw": "float", "published_at": "utc"},
    key=("zone", "interval_start", "published_at"),
)

RENEWABLES = Schema(
    "renewables",
    {"interval_start": "utc", "fuel": "str", "generation_mw": "float", "published_at": "utc"},
    key=("fuel", "interval_start"),
)

RENEWABLES_FORECAST = Schema(
    "renewables_forecast",
    {"interval_start": "utc", "fuel": "str", "generation_mw": "float", "published_at": "utc"},
    key=("fuel", "interval_start", "published_at"),
)

_WEATHER_COLUMNS = {
    "interval_start": "utc",
    "location": "str",
    "temperature_c": "float",
    "wind_speed_ms": "float",
    "published_at": "utc",
}

WEATHER = Schema(
    "weather",
    dict(_WEATHER_COLUMNS),
    key=("location", "interval_start"),
    nullable=frozenset({"wind_speed_ms"}),
)

WEATHER_FORECAST = Schema(
    "weather_forecast",
    dict(_WEATHER_COLUMNS),
    key=("location", "interval_start", "published_at"),
    nullable=frozenset({"wind_speed_ms"}),
)

# Canonical datasets a source can provide, by name.
DATASETS: dict[str, Schema] = {
    schema.name: schema
    for schema in (
        RT_PRICES,
        DAM_PRICES,
        ANCILLARY_PRICES,
        LOAD,
        LOAD_FORECAST,
        RENEWABLES,
        RENEWABLES_FORECAST,
        WEATHER,
        WEATHER_FORECAST,
    )
}
# The settlement points a source has prices for: ERCOT's type (HU, SH, AH, LZ, LZEW, RN, PCCRN, ...)
# and, where the source knows them, the load zone and hub the point settles in.
SETTLEMENT_POINTS = Schema(
    "settlement_points",
    {"name": "str", "type": "str", "load_zone": "str", "hub": "str"},
    key=("name",),
    nullable=frozenset({"load_zone", "hub"}),
)

MARKET_DATASETS = ("rt_prices", "dam_prices", "ancillary_prices", "load", "load_forecast", "renewables",
                   "renewables_forecast")
WEATHER_DATASETS = ("weather", "weather_forecast")
FORECAST_DATASETS = frozenset({"load_forecast", "renewables_forecast", "weather_forecast"})

# --- derived -------------------------------------------------------------------------------------

RT_HOURLY = Schema(
    "rt_hourly",
    {
        "interval_start": "utc",
        "node": "str",
        "price_max": "float",
        "price_mean": "float",
        "n_intervals": "int",
        "expected_intervals": "int",
        "published_at": "utc",
    },
    key=("node", "interval_start"),
)

FEATURES = Schema(
    "features",
    {"node": "str", "interval_start": "utc", "horizon_h": "int", "issue_time": "utc"},
    key=("node", "interval_start"),
    extra="float",
)

FORECAST = Schema(
    "forecast",
    {
        "forecast_date": "date",
        "issued_at": "utc",
        "node": "str",
        "threshold": "float",
        "interval_start": "utc",
        "horizon_h": "int",
        "probability": "float",
        "model_id": "str",
        "status": "str",
        # For bidding: the CPT operating day, ERCOT's hour ending (1..24) and DSTFlag (True on the
        # second, standard-time copy of the repeated hour of a fall-back day).
        "delivery_date": "date",
        "hour_ending": "int",
        "dst_flag": "bool",
    },
    key=("node", "threshold", "interval_start"),
)

BASELINE_COLUMNS = ("p_climatology", "p_persistence_yesterday", "p_persistence_last_week", "p_logistic",
                    "p_dam_asof")

PREDICTIONS = Schema(
    "predictions",
    {
        **FORECAST.columns,
        "outcome": "int",
        "price_max": "float",
        "price_mean": "float",
        "dam_asof": "float",
        **{column: "float" for column in BASELINE_COLUMNS},
    },
    key=("forecast_date", "node", "threshold", "interval_start"),
    # The issue day's DAM price at the target hour: absent where the source has no DAM prices.
    nullable=frozenset({"dam_asof"}),
)
