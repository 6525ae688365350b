"""The ``synthetic`` source: the simulated market behind the pipeline's :class:`Source` interface.

Responsibility: answer ``fetch`` / ``fetch_many`` for every canonical dataset by running the
simulator for the requested key days in one vectorised pass and laying the results out as
canonical frames, and list the market's settlement points (hubs, hub averages, load zones and the
universe of 1,000+ resource nodes of :mod:`.universe`). Its output is simulated and labelled so
(``simulated = True``).

Price requests are built in chunks of key days so that a request for the whole universe over many
days holds (nodes x intervals) arrays of a bounded size at a time; the values do not depend on
the chunking.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from pipeline import ercot_time
from pipeline.catalogue import (
    ANCILLARY_SERVICE_START,
    ANCILLARY_SERVICES,
    FUELS,
    HUBS,
    HUBS_AND_ZONES,
    SYSTEM_ZONE,
    WEATHER_ZONES,
)
from pipeline.sources.base import Source
from pipeline.sources.synthetic.congestion import DayAhead, RealTime, node_arrays
from pipeline.sources.synthetic.day_ahead import dam_local_term, dam_system_price, reserve_prices
from pipeline.sources.synthetic.era import market_rules
from pipeline.sources.synthetic.events import make_events
from pipeline.sources.synthetic.forecasts import FORECAST_DAYS_AHEAD, forecast_state
from pipeline.sources.synthetic.frames import IntervalGrid, interval_grid, long_frame, split_by_day
from pipeline.sources.synthetic.grid import GridState, actual_state
from pipeline.sources.synthetic.noise import smooth_noise, stream_key
from pipeline.sources.synthetic.prices import node_prices, resource_node
from pipeline.sources.synthetic.realtime import five_minute_steps, rt_local_term, rt_system_and_drivers
from pipeline.sources.synthetic.time_axis import make_time_axis
from pipeline.sources.synthetic.universe import Universe, settlement_points, universe
from pipeline.sources.synthetic.weather import HUB_TO_10M, Weather, actual_weather
from targets.schemas import DATASETS

# Price values (intervals x settlement points) built at a time; about 12 days of the whole universe.
_CHUNK_VALUES = 4_000_000


class SyntheticMarket(Source):
    """A seeded, deterministic ERCOT-like market producing every canonical dataset offline.

    ``extra_nodes`` adds settlement points beyond ERCOT's hubs and load zones
    (:data:`pipeline.catalogue.HUBS_AND_ZONES`), in the order given. A name of the seed's universe
    (:meth:`settlement_points`, :func:`.universe.universe_names`) is priced as that node -- its
    load zone, hub, region and technology (:mod:`.congestion`); any other name gets a character
    (hub it tracks, basis, congestion exposure) from a stable hash of its name. A node's prices do
    not depend on which other nodes are requested, so shards of the universe can be fetched by
    separate markets and equal the same nodes of one whole-universe fetch bit for bit.
    """

    name = "synthetic"
    simulated = True
    verifiable = True  # any day can be simulated again
    #: Bumped whenever the simulator's output changes (2: forecast errors sized as ERCOT's published
    #: forecast performance), so raw files of an earlier version are simulated again and everything
    #: made from them remade (the source's fingerprint, :mod:`pipeline.lineage`).
    data_version = "2"

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
        known = universe(self.seed) if extras else None
        members = [node for node in extras if known is not None and node in known]
        self._extra = tuple(resource_node(node) for node in extras if node not in members)
        self._universe = node_arrays(self.seed, [known.by_name[node] for node in members] if known else [])
        self.nodes: tuple[str, ...] = HUBS_AND_ZONES + tuple(extras)
        column = {node: j for j, node in enumerate(self.nodes)}
        self._universe_columns = np.array([column[node] for node in members], dtype=np.int64)

    def __repr__(self) -> str:
        return f"SyntheticMarket(seed={self.seed}, extra_nodes={list(self.nodes[len(HUBS_AND_ZONES):])})"

    @property
    def universe(self) -> Universe:
        """The resource nodes this market simulates beyond hubs and load zones (the same every day)."""
        return universe(self.seed)

    def settlement_points(self, day: dt.date) -> pd.DataFrame:
        """Hubs (HU), hub averages (SH, AH), load zones (LZ) and the universe's 1,000+ resource nodes
        (RN, LCCRN, PCCRN, PUN), with each one's load zone and hub: the same list on every day."""
        ercot_time.to_date(day)
        return settlement_points(self.seed)

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
        step = five_minute_steps(starts_h)
        local = rt_local_term(self.seed, step, system, drivers)
        prices = node_prices(system, drivers, local, self._extra)
        spreads = RealTime.build(self.seed, starts_h, step, system, drivers) if len(self._universe) else None
        return self._price_frames("rt_prices", grid, prices, spreads, 5, {"interval_minutes": np.int64(5)})

    def _dam_prices(self, days: list[dt.date]) -> dict[dt.date, pd.DataFrame]:
        grid = interval_grid(days, 60)
        t = grid.hours + 0.5
        # The DAM for operating day d clears on d-1, so it bids on the forecasts published that day.
        vintage = np.array([day.toordinal() - 1 for day in grid.days], dtype=np.int64)[grid.day_of_row]
        state = forecast_state(self.seed, vintage, t)
        bidding_noise = np.exp(0.03 * smooth_noise(stream_key(self.seed, "dam.noise"), t, 3.0))
        system = np.minimum(dam_system_price(state) * bidding_noise, market_rules(t).hcap)
        prices = node_prices(system, state.drivers, dam_local_term(self.seed, t), self._extra)
        spreads = DayAhead.build(self.seed, t, state.drivers) if len(self._universe) else None
        return self._price_frames("dam_prices", grid, prices, spreads, 60)

    def _ancillary_prices(self, days: list[dt.date]) -> dict[dt.date, pd.DataFrame]:
        grid = interval_grid(days, 60)
        t = grid.hours + 0.5
        vintage = np.array([day.toordinal() - 1 for day in grid.days], dtype=np.int64)[grid.day_of_row]
        state = forecast_state(self.seed, vintage, t)
        prices = reserve_prices(self.seed, state, dam_system_price(state), t)
        matrix = np.column_stack([prices[service] for service in ANCILLARY_SERVICES])
        frames = split_by_day(long_frame("ancillary_prices", grid, matrix, ANCILLARY_SERVICES, 60), grid,
                              len(ANCILLARY_SERVICES))
        return {day: _launched(frame, day) for day, frame in frames.items()}

    def _price_frames(
        self,
        dataset: str,
        grid: IntervalGrid,
        prices: dict[str, np.ndarray],
        spreads: RealTime | DayAhead | None,
        minutes: int,
        extra: dict[str, object] | None = None,
    ) -> dict[dt.date, pd.DataFrame]:
        """Price frames of every requested node, built a chunk of key days at a time.

        ``prices`` holds the hubs, load zones and hash-named nodes over the whole grid; universe
        nodes are priced per chunk from the hub prices by ``spreads``.
        """
        hubs = np.stack([prices[hub] for hub in HUBS])
        columns = len(self.nodes)
        per_day = -(-len(grid.starts_us) // len(grid.days))
        days_per_chunk = max(1, _CHUNK_VALUES // (columns * per_day))
        frames: dict[dt.date, pd.DataFrame] = {}
        for first in range(0, len(grid.days), days_per_chunk):
            sub, rows = _sub_grid(grid, first, first + days_per_chunk)
            matrix = np.empty((rows.stop - rows.start, columns))
            for j, node in enumerate(self.nodes):
                if node in prices:
                    matrix[:, j] = prices[node][rows]
            if spreads is not None:
                matrix[:, self._universe_columns] = spreads.prices(self._universe, hubs[:, rows], rows).T
            frame = long_frame(dataset, sub, matrix, self.nodes, minutes, extra)
            frames.update(split_by_day(frame, sub, columns))
        return frames

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


def _launched(frame: pd.DataFrame, day: dt.date) -> pd.DataFrame:
    """The rows of services that existed on ``day`` (ECRS began in June 2023)."""
    gone = [service for service, start in ANCILLARY_SERVICE_START.items() if day < start]
    return frame[~frame["service"].isin(gone)].reset_index(drop=True) if gone else frame


def _sub_grid(grid: IntervalGrid, first: int, stop: int) -> tuple[IntervalGrid, slice]:
    """The key days ``first`` .. ``stop - 1`` of ``grid`` (their rows are contiguous) and their rows."""
    stop = min(stop, len(grid.days))
    rows = slice(int(np.searchsorted(grid.day_of_row, first)), int(np.searchsorted(grid.day_of_row, stop)))
    return IntervalGrid(grid.starts_us[rows], grid.day_of_row[rows] - first, grid.days[first:stop]), rows
