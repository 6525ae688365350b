"""A local stand-in for Open-Meteo's Previous Runs API (``previous-runs-api.open-meteo.com/v1/forecast``).

The answer has the documented shape: per location ``hourly.time`` (UTC with ``timezone=UTC``) and,
for N = 1..7, ``temperature_2m_previous_dayN`` / ``wind_speed_10m_previous_dayN`` -- the value the model
run N x 24 hours before each hour forecast for it, null where that run did not reach or was not kept.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from tests.http_server import Handler, Recorded, Reply, json_reply

PREVIOUS = "/previous/v1/forecast"
#: value(N, hour index) -> temperature (None: not kept)
RunValue = Callable[[int, int], float | None]


def previous_runs_location(latitude: float, longitude: float, start: pd.Timestamp, hours: int, value: RunValue,
                           wind: bool = True) -> dict[str, Any]:
    times = [(start + pd.Timedelta(hours=i)).strftime("%Y-%m-%dT%H:%M") for i in range(hours)]
    hourly: dict[str, list[Any]] = {"time": times}
    units = {"time": "iso8601"}
    for n in range(1, 8):
        hourly[f"temperature_2m_previous_day{n}"] = [value(n, i) for i in range(hours)]
        units[f"temperature_2m_previous_day{n}"] = "°C"
        if wind:
            winds = [None if value(n, i) is None else 4.0 + n for i in range(hours)]
            hourly[f"wind_speed_10m_previous_day{n}"] = winds
            units[f"wind_speed_10m_previous_day{n}"] = "m/s"
    return {"latitude": round(latitude, 4), "longitude": round(longitude, 4), "generationtime_ms": 0.4,
            "utc_offset_seconds": 0, "timezone": "UTC", "timezone_abbreviation": "UTC", "elevation": 50.0,
            "hourly_units": units, "hourly": hourly}


def previous_runs_handler(value: RunValue, wind: bool = True) -> Handler:
    """Answers ``start_date``..``end_date`` (whole UTC days) for any comma-separated list of points."""

    def handler(request: Recorded) -> Reply:
        latitudes = [float(v) for v in (request.param("latitude") or "").split(",") if v]
        longitudes = [float(v) for v in (request.param("longitude") or "").split(",") if v]
        start = pd.Timestamp(request.param("start_date"), tz="UTC")
        end = pd.Timestamp(request.param("end_date"), tz="UTC") + pd.Timedelta(days=1)
        hours = int((end - start) / pd.Timedelta(hours=1))
        locations = [previous_runs_location(lat, lon, start, hours, value, wind)
                     for lat, lon in zip(latitudes, longitudes)]
        return json_reply(locations if len(locations) > 1 else locations[0])

    return handler
