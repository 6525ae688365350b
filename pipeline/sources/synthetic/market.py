"""The ``synthetic`` source: the simulated market behind the pipeline's :class:`Source` interface.

Responsibility: answer ``fetch`` / ``fetch_many`` for every canonical dataset by running the
simulator for the requested key days in one vectorised pass and laying the results out as
canonical frames. Its output is simulated and labelled so (``simulated = True``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from pipeline import ercot_time
from pipeline.catalogue import FUELS, HUBS_AND_ZONES, SYSTEM_ZONE, WEATHER_ZONES
from pipeline.sources.base import Source
from pipeline.sources.synthetic.day_ahead import dam_local_term, dam_system_price
from pipeline.sources.synthetic.era import market_rules
from pipeline.sources.synthetic.events import make_events
from pipeline.sources.synthetic.forecasts import FORECAST_DAYS_AHEAD, forecast_state
from pipeline.sources.synthetic.frames import IntervalGrid, interval_grid, long_frame, split_by_day
from pipeline.sources.synthetic.grid import GridState, actual_state
from pipeline.sources.synthetic.noise import smooth_noise, stream_key
from pipeline.sources.synthetic.prices import node_prices, resource_node
from pipeline.sources.synthetic.realtime import five_minute_steps, rt_local_term, rt_system_and_drivers
from pipeline.sources.synthetic.time_axis import make_time_axis
from pipeline.sources.synthetic.weather import HUB_TO_10M, Weather, actual_weather
from targets.schemas import DATASETS


class SyntheticMarket(Source):
    """A seeded, deterministic ERCOT-like market producing every canonical dataset offline.

    ``extra_nodes`` adds settlement points beyond ERCOT's hubs and load zones
    (:data:`pipeline.catalogue.HUBS_AND_ZONES`), e.g. resource nodes; each one's character (hub it
    tracks, basis, congestion exposure) comes from a stable hash of its name.
    """

    name = "synthetic"
    simulated = True

    def __init__(self, seed: int, extra_nodes: Sequence[str] = ()) -> None:
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"synthetic market seed must be a non-negative integer, got {seed!r}")
        self.seed = int(seed)
        extras = []
        for node in extra_nodes:
            if not isinstance(node, str) or not node.strip():
                raise ValueError(f"extra node names must be non-empty strings, got {node!r}")
            if node not in HUBS_AND_ZONES and node not in extras:
                extras.append(node)
        self._extra = tuple(resource_node(node) for node in extras)
        self.nodes: tuple[str, ...] = HUBS_AND_ZONES + tuple(extras)

    def __repr__(self) -> str:
        return f"SyntheticMarket(seed={self.seed}, extra_nodes={[n.name for n in self._extra]})"

    @property
    def datasets(self) -> tuple[str, ...]:
        return tuple(DATASETS)

    def fetch(self, dataset: str, day: dt.date) -> pd.DataFrame:
        return self.fetch_many(dataset, [day])[day]

    def fetch_many(self, dataset: str, days: Iterable[dt.date]) -> dict[dt.date, pd.DataFrame]:
        """Every key day in one vectorised pass; each day's frame is identical to fetching it alone."""
        if dataset not in DATASETS:
            raise ValueError(f"unknown dataset {dataset!r}; the synthetic market provides {sorted(DATASETS)}")
        unique = list(dict.fromkeys(ercot_time.to_date(day) for day in days))
        if not unique:
            return {}
        build = getattr(self, f"_{dataset}")
        frames = build(unique)
        return {day: frames[day] for day in unique}

    # Each builder returns {key day: canonical frame} for a list of key days.

    def _rt_prices(self, days: list[dt.date]) -> dict[dt.date, pd.DataFrame]:
        grid = interval_grid(days, 5)
        starts_h = grid.hours
        system, drivers = rt_system_and_drivers(self.seed, starts_h)
        local = rt_local_term(self.seed, five_minute_steps(starts_h), system, drivers)
        prices = node_prices(system, drivers, local, self._extra)
        matrix = np.column_stack([prices[node] for node in self.nodes])
        frame = long_frame("rt_prices", grid, matrix, self.nodes, 5, {"interval_minutes": np.int64(5)})
        return split_by_day(frame, grid, len(self.nodes))

    def _dam_prices(self, days: list[dt.date]) -> dict[dt.date, pd.DataFrame]:
        grid = interval_grid(days, 60)
        t = grid.hours + 0.5
        # The DAM for operating day d clears on d-1, so it bids on the forecasts published that day.
        vintage = np.array([day.toordinal() - 1 for day in grid.days], dtype=np.int64)[grid.day_of_row]
        state = forecast_state(self.seed, vintage, t)
        bidding_noise = np.exp(0.03 * smooth_noise(stream_key(self.seed, "dam.noise"), t, 3.0))
        system = np.minimum(dam_system_price(state) * bidding_noise, market_rules(t).hcap)
        prices = node_prices(system, state.drivers, dam_local_term(self.seed, t), self._extra)
        matrix = np.column_stack([prices[node] for node in self.nodes])
        frame = long_frame("dam_prices", grid, matrix, self.nodes, 60)
        return split_by_day(frame, grid, len(self.nodes))

    def _load(self, days: list[dt.date]) -> dict[dt.date, pd.DataFrame]:
        grid = interval_grid(days, 60)
        state = actual_state(self.seed, grid.hours + 0.5)
        return self._load_frames("load", grid, state)

    def _load_forecast(self, days: list[dt.date]) -> dict[dt.date, pd.DataFrame]:
        grid, state = self._forecast(days)
        return self._load_frames("load_forecast", grid, state)

    def _renewables(self, days: list[dt.date]) -> dict[dt.date, pd.DataFrame]:
        grid = interval_grid(days, 60)
        state = actual_state(self.seed, grid.hours + 0.5)
        return self._renewable_frames("renewables", grid, state)

    def _renewables_forecast(self, days: list[dt.date]) -> dict[dt.date, pd.DataFrame]:
        grid, state = self._forecast(days)
        return self._renewable_frames("renewables_forecast", grid, state)

    def _weather(self, days: list[dt.date]) -> dict[dt.date, pd.DataFrame]:
        grid = interval_grid(days, 60)
        t = grid.hours + 0.5
        axis = make_time_axis(t)
        weather = actual_weather(self.seed, axis, make_events(self.seed, t))
        return self._weather_frames("weather", grid, weather)

    def _weather_forecast(self, days: list[dt.date]) -> dict[dt.date, pd.DataFrame]:
        grid, state = self._forecast(days)
        return self._weather_frames("weather_forecast", grid, state.weather)

    def _forecast(self, days: list[dt.date]) -> tuple[IntervalGrid, GridState]:
        """The forecast system of each key day's vintage over the days it covers (d .. d+7)."""
        grid = interval_grid(days, 60, span_days=FORECAST_DAYS_AHEAD + 1)
        vintage = np.array([day.toordinal() for day in grid.days], dtype=np.int64)[grid.day_of_row]
        return grid, forecast_state(self.seed, vintage, grid.hours + 0.5)

    def _load_frames(self, dataset: str, grid: IntervalGrid, state: GridState) -> dict[dt.date, pd.DataFrame]:
        matrix = np.column_stack([*state.load_by_zone, state.load])
        labels = (*WEATHER_ZONES, SYSTEM_ZONE)
        return split_by_day(long_frame(dataset, grid, matrix, labels, 60), grid, len(labels))

    def _renewable_frames(self, dataset: str, grid: IntervalGrid, state: GridState) -> dict[dt.date, pd.DataFrame]:
        matrix = np.column_stack([state.wind_mw, state.solar_mw])
        return split_by_day(long_frame(dataset, grid, matrix, FUELS, 60), grid, len(FUELS))

    def _weather_frames(self, dataset: str, grid: IntervalGrid, weather: Weather) -> dict[dt.date, pd.DataFrame]:
        wind_10m = (weather.hub_wind / HUB_TO_10M).T.reshape(-1)
        frame = long_frame(dataset, grid, weather.temperature.T, WEATHER_ZONES, 60, {"wind_speed_ms": wind_10m})
        return split_by_day(frame, grid, len(WEATHER_ZONES))

