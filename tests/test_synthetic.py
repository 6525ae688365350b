"""The embedded market simulator: canonical frames, determinism, DST, publication times, and the
market behaviour a spike model must be able to learn from it (frequencies, mechanism, forecasts)."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import make_column_transformer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from pipeline import ercot_time
from pipeline.catalogue import (
    FUELS, HUB_AVERAGES, HUBS, HUBS_AND_ZONES, LOAD_ZONES, MAIN_HUBS, SYSTEM_ZONE, WEATHER_ZONES,
)
from pipeline.sources.synthetic import SyntheticMarket, universe_names
from pipeline.sources.synthetic import market as market_module
from pipeline.sources.synthetic.era import era
from pipeline.sources.synthetic.prices import resource_node
from pipeline.sources.synthetic.universe import NAME_PATTERN, universe
from targets.schemas import DATASETS, FORECAST_DATASETS, SETTLEMENT_POINTS
from tests.helpers import assert_canonical

SEED = 20240101
CPT = "America/Chicago"
SUMMER_DAY = dt.date(2023, 8, 10)
SPRING_FORWARD = dt.date(2024, 3, 10)
FALL_BACK = dt.date(2024, 11, 3)
YEAR = [dt.date(2023, 1, 1) + dt.timedelta(days=i) for i in range(365)]


@pytest.fixture(scope="module")
def market() -> SyntheticMarket:
    return SyntheticMarket(SEED)


@pytest.fixture(scope="module")
def hourly_2023(market: SyntheticMarket) -> pd.DataFrame:
    """One row per hour of 2023: max 5-minute price per main hub, actual and day-ahead drivers."""
    rt = pd.concat(market.fetch_many("rt_prices", YEAR).values())
    rt = rt[rt["node"].isin(MAIN_HUBS)]
    hours = rt["interval_start"].dt.floor("h")
    frame = rt.groupby([hours, rt["node"]])["price"].max().unstack("node")
    frame.index.name = "interval_start"

    load = _series(market.fetch_many("load", YEAR), "zone", SYSTEM_ZONE, "load_mw")
    renewables = pd.concat(market.fetch_many("renewables", YEAR).values())
    frame["net_load"] = load - _pivot_renewables(renewables).sum(axis=1)

    vintages = [day - dt.timedelta(days=1) for day in YEAR]  # what is known the morning before
    load_fc = _day_ahead(market.fetch_many("load_forecast", vintages))
    renewables_fc = _pivot_renewables(_day_ahead(market.fetch_many("renewables_forecast", vintages)))
    weather_fc = _day_ahead(market.fetch_many("weather_forecast", vintages))
    system_fc = load_fc[load_fc["zone"] == SYSTEM_ZONE].set_index("interval_start")["load_mw"]
    frame["net_load_fc"] = system_fc - renewables_fc.sum(axis=1)
    frame["temperature_fc"] = weather_fc.groupby("interval_start")["temperature_c"].mean()
    frame["hour"] = frame.index.tz_convert(CPT).hour
    return frame.dropna()


def _series(frames: dict[dt.date, pd.DataFrame], label: str, value: str, column: str) -> pd.Series:
    frame = pd.concat(frames.values())
    return frame[frame[label] == value].set_index("interval_start")[column]


def _pivot_renewables(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.pivot(index="interval_start", columns="fuel", values="generation_mw")


def _day_ahead(frames: dict[dt.date, pd.DataFrame]) -> pd.DataFrame:
    """Rows of each vintage that fall on the next operating day (the DAM's delivery day)."""
    frame = pd.concat(frames.values())
    vintage_day = ercot_time.operating_day_of(frame["published_at"])
    target_day = ercot_time.operating_day_of(frame["interval_start"])
    return frame[target_day == vintage_day + dt.timedelta(days=1)]


def _local(stamps: pd.Series) -> pd.Series:
    return stamps.dt.tz_convert(CPT)


# --- the frames -------------------------------------------------------------------------------------


def test_source_declares_every_canonical_dataset_and_is_labelled_simulated(market: SyntheticMarket) -> None:
    assert market.name == "synthetic"
    assert market.simulated is True
    assert set(market.datasets) == set(DATASETS)
    assert len(HUBS_AND_ZONES) == 15 and len(set(HUBS_AND_ZONES)) == 15
    assert WEATHER_ZONES == ("COAST", "EAST", "FAR_WEST", "NORTH", "NORTH_C", "SOUTHERN", "SOUTH_C", "WEST")
    assert FUELS == ("wind", "solar")


@pytest.mark.parametrize("dataset", sorted(DATASETS))
@pytest.mark.parametrize("day", [SUMMER_DAY, SPRING_FORWARD, FALL_BACK], ids=str)
def test_every_dataset_conforms_to_its_schema(market: SyntheticMarket, dataset: str, day: dt.date) -> None:
    frame = market.fetch(dataset, day)
    conformed = assert_canonical(frame, DATASETS[dataset])
    assert list(frame.columns) == list(DATASETS[dataset].columns)
    pd.testing.assert_frame_equal(conformed, frame)  # already canonical: conform changes nothing


@pytest.mark.parametrize("dataset", sorted(set(DATASETS) - FORECAST_DATASETS))
def test_actual_datasets_are_keyed_by_the_operating_day_of_interval_start(
    market: SyntheticMarket, dataset: str
) -> None:
    frame = market.fetch(dataset, SUMMER_DAY)
    assert set(ercot_time.operating_day_of(frame["interval_start"])) == {SUMMER_DAY}


@pytest.mark.parametrize("dataset", sorted(FORECAST_DATASETS))
@pytest.mark.parametrize("vintage", [SUMMER_DAY, dt.date(2024, 3, 5), dt.date(2024, 10, 30)], ids=str)
def test_a_forecast_vintage_covers_its_day_through_the_end_of_the_seventh_day_after(
    market: SyntheticMarket, dataset: str, vintage: dt.date
) -> None:
    frame = market.fetch(dataset, vintage)
    starts = frame["interval_start"].drop_duplicates().sort_values()
    expected = pd.date_range(
        ercot_time.day_start(vintage), ercot_time.day_start(vintage + dt.timedelta(days=8)), freq="h", inclusive="left"
    )
    assert list(starts) == list(expected)  # 192 hours, or 191/193 across a DST change


def test_every_label_appears_once_per_interval(market: SyntheticMarket) -> None:
    rt = market.fetch("rt_prices", SUMMER_DAY)
    assert (rt.groupby("interval_start")["node"].apply(tuple) == pd.Series([HUBS_AND_ZONES] * 288).values).all()
    load = market.fetch("load", SUMMER_DAY)
    assert tuple(load["zone"].unique()) == (*WEATHER_ZONES, SYSTEM_ZONE)
    assert set(market.fetch("weather", SUMMER_DAY)["location"]) == set(WEATHER_ZONES)
    assert tuple(market.fetch("renewables", SUMMER_DAY)["fuel"].unique()) == FUELS


@pytest.mark.parametrize(
    ("day", "hours"),
    [(SUMMER_DAY, 24), (SPRING_FORWARD, 23), (FALL_BACK, 25), (dt.date(2021, 3, 14), 23), (dt.date(2021, 11, 7), 25)],
    ids=str,
)
def test_operating_days_have_their_dst_length(market: SyntheticMarket, day: dt.date, hours: int) -> None:
    rt = market.fetch("rt_prices", day)
    assert (rt.groupby("node").size() == hours * 12).all()  # 276 on 2024-03-10, 300 on 2024-11-03
    assert (rt["interval_minutes"] == 5).all()
    assert rt["interval_start"].diff().dropna().isin([pd.Timedelta(0), pd.Timedelta(minutes=5)]).all()
    for dataset, label in [("dam_prices", "node"), ("load", "zone"), ("renewables", "fuel"), ("weather", "location")]:
        assert (market.fetch(dataset, day).groupby(label).size() == hours).all(), dataset


# --- publication times -------------------------------------------------------------------------------


def test_dam_prices_for_a_day_are_public_at_1330_cpt_the_day_before(market: SyntheticMarket) -> None:
    for day in (SUMMER_DAY, SPRING_FORWARD, FALL_BACK):
        published = _local(market.fetch("dam_prices", day)["published_at"]).unique()
        assert len(published) == 1
        assert published[0].date() == day - dt.timedelta(days=1)
        assert (published[0].hour, published[0].minute) == (13, 30)


@pytest.mark.parametrize(("dataset", "hhmm"), [("load_forecast", (5, 30)), ("renewables_forecast", (5, 30)),
                                                ("weather_forecast", (5, 0))])  # fmt: skip
def test_forecast_vintages_are_public_early_on_their_own_day(
    market: SyntheticMarket, dataset: str, hhmm: tuple[int, int]
) -> None:
    published = _local(market.fetch(dataset, SUMMER_DAY)["published_at"]).unique()
    assert len(published) == 1
    assert published[0].date() == SUMMER_DAY
    assert (published[0].hour, published[0].minute) == hhmm


def test_actuals_are_published_after_their_intervals(market: SyntheticMarket) -> None:
    rt = market.fetch("rt_prices", SUMMER_DAY)
    assert (rt["published_at"] - rt["interval_start"] == pd.Timedelta(minutes=10)).all()  # 5 min after it ends
    load = market.fetch("load", SUMMER_DAY)
    published = _local(load["published_at"]).unique()
    assert len(published) == 1 and published[0].date() == SUMMER_DAY + dt.timedelta(days=1)
    assert published[0].hour == 6
    renewables = market.fetch("renewables", SUMMER_DAY)
    assert (renewables["published_at"] - renewables["interval_start"] == pd.Timedelta(hours=3)).all()


# --- determinism --------------------------------------------------------------------------------------


@pytest.mark.parametrize("dataset", sorted(DATASETS))
def test_a_day_is_identical_alone_in_a_range_and_in_reverse_order(dataset: str) -> None:
    days = [dt.date(2024, 3, 4) + dt.timedelta(days=i) for i in range(10)]  # spans the spring-forward day
    target = days[6]
    busy = SyntheticMarket(SEED)
    busy.fetch_many("load_forecast", days[::-1])  # other work first must not matter
    in_range = busy.fetch_many(dataset, days)[target]
    reversed_ = busy.fetch_many(dataset, days[::-1])[target]
    scattered = busy.fetch_many(dataset, [dt.date(2020, 2, 1), target, dt.date(2019, 7, 4)])[target]
    alone = SyntheticMarket(SEED).fetch(dataset, target)
    for other in (in_range, reversed_, scattered):
        pd.testing.assert_frame_equal(alone, other, check_exact=True)


def test_same_seed_gives_the_same_market_and_another_seed_another(market: SyntheticMarket) -> None:
    for dataset, value in (("rt_prices", "price"), ("load_forecast", "load_mw"), ("weather", "temperature_c")):
        ours = market.fetch(dataset, SUMMER_DAY)
        pd.testing.assert_frame_equal(ours, SyntheticMarket(SEED).fetch(dataset, SUMMER_DAY), check_exact=True)
        assert not np.allclose(SyntheticMarket(SEED + 1).fetch(dataset, SUMMER_DAY)[value], ours[value])


def test_data_is_identical_in_another_process_with_another_hash_seed(market: SyntheticMarket) -> None:
    code = (
        "import datetime as dt, pandas as pd\n"
        "from pipeline.sources.synthetic import SyntheticMarket\n"
        f"frame = SyntheticMarket({SEED}, extra_nodes=['RN_FOO_UNIT1']).fetch('rt_prices', dt.date(2023, 8, 10))\n"
        "print(int(pd.util.hash_pandas_object(frame, index=False).sum() % 2**61))\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    here = SyntheticMarket(SEED, extra_nodes=["RN_FOO_UNIT1"]).fetch("rt_prices", SUMMER_DAY)
    assert int(out.stdout.strip()) == int(pd.util.hash_pandas_object(here, index=False).sum() % 2**61)


def test_extra_resource_nodes_are_deterministic_and_leave_the_hubs_alone(market: SyntheticMarket) -> None:
    with_nodes = SyntheticMarket(SEED, extra_nodes=["RN_FOO_UNIT1", "RN_BAR_ALL", "HB_NORTH"])
    reordered = SyntheticMarket(SEED, extra_nodes=["RN_BAR_ALL", "RN_FOO_UNIT1"])
    assert with_nodes.nodes == (*HUBS_AND_ZONES, "RN_FOO_UNIT1", "RN_BAR_ALL")  # known names are not duplicated
    for dataset in ("rt_prices", "dam_prices"):
        frame = with_nodes.fetch(dataset, SUMMER_DAY)
        assert_canonical(frame, DATASETS[dataset])
        prices = frame.pivot(index="interval_start", columns="node", values="price")
        other = reordered.fetch(dataset, SUMMER_DAY).pivot(index="interval_start", columns="node", values="price")
        pd.testing.assert_frame_equal(prices[["RN_FOO_UNIT1", "RN_BAR_ALL"]], other[["RN_FOO_UNIT1", "RN_BAR_ALL"]])
        base = market.fetch(dataset, SUMMER_DAY).pivot(index="interval_start", columns="node", values="price")
        pd.testing.assert_frame_equal(prices[list(HUBS_AND_ZONES)], base[list(HUBS_AND_ZONES)])
        assert not np.allclose(prices["RN_FOO_UNIT1"], prices["RN_BAR_ALL"])


def test_bad_arguments_are_rejected(market: SyntheticMarket) -> None:
    with pytest.raises(ValueError, match="unknown dataset"):
        market.fetch("fuel_mix", SUMMER_DAY)
    with pytest.raises(ValueError, match="seed"):
        SyntheticMarket(-1)
    with pytest.raises(ValueError, match="extra node"):
        SyntheticMarket(SEED, extra_nodes=[""])


# --- physical sanity ---------------------------------------------------------------------------------


def test_zones_sum_to_the_system_and_values_stay_in_texas_ranges(market: SyntheticMarket) -> None:
    days = [dt.date(2023, 1, 10) + dt.timedelta(days=30 * i) for i in range(12)]
    load = pd.concat(market.fetch_many("load", days).values())
    load = load.pivot(index="interval_start", columns="zone", values="load_mw")
    np.testing.assert_allclose(load[list(WEATHER_ZONES)].sum(axis=1), load[SYSTEM_ZONE])
    assert load[SYSTEM_ZONE].between(28_000, 100_000).all()
    weather = pd.concat(market.fetch_many("weather", days).values())
    assert weather["temperature_c"].between(-25, 47).all()
    assert (weather["wind_speed_ms"] >= 0).all()
    renewables = _pivot_renewables(pd.concat(market.fetch_many("renewables", days).values()))
    assert (renewables >= 0).all().all() and renewables["wind"].max() < 40_000
    night = renewables.index.tz_convert(CPT).hour.isin([0, 1, 2, 3, 4])
    assert (renewables.loc[night, "solar"] == 0).all()


def test_hub_average_is_the_mean_of_the_four_hubs(market: SyntheticMarket) -> None:
    prices = market.fetch("rt_prices", SUMMER_DAY).pivot(index="interval_start", columns="node", values="price")
    np.testing.assert_allclose(prices["HB_HUBAVG"], prices[list(MAIN_HUBS)].mean(axis=1))


# --- market behaviour over a year ---------------------------------------------------------------------


@pytest.mark.parametrize("hub", MAIN_HUBS)
def test_spike_frequencies_over_a_year_are_ercot_like(hourly_2023: pd.DataFrame, hub: str) -> None:
    max_price = hourly_2023[hub]
    above_100, above_250, above_1000 = ((max_price > t).mean() for t in (100, 250, 1000))
    assert 0.01 <= above_100 <= 0.06
    assert 0.0005 <= above_1000 <= 0.01
    assert above_1000 < above_250 < above_100
    assert (max_price < 0).mean() > 0.005  # negative prices happen too


def test_spikes_come_from_tight_supply(hourly_2023: pd.DataFrame) -> None:
    spike = hourly_2023["HB_NORTH"] > 100
    tight = hourly_2023["net_load"] >= hourly_2023["net_load"].quantile(0.9)
    assert spike[tight].mean() > 5 * spike[~tight].mean()
    evening = hourly_2023["hour"].between(14, 22)
    assert spike[evening].sum() > 0.8 * spike.sum()  # summer afternoons/evenings dominate


def test_spikes_are_learnable_from_day_ahead_drivers_but_not_trivially(hourly_2023: pd.DataFrame) -> None:
    """A plain logistic regression on forecast net load, temperature and hour, split by week."""
    spike = (hourly_2023["HB_NORTH"] > 100).astype(int)
    week = hourly_2023.index.tz_convert(CPT).isocalendar().week.to_numpy()
    train, test = week % 2 == 0, week % 2 == 1
    model = make_pipeline(
        make_column_transformer(
            (StandardScaler(), ["net_load_fc", "temperature_fc"]), (OneHotEncoder(handle_unknown="ignore"), ["hour"])
        ),
        LogisticRegression(max_iter=2000),
    )
    model.fit(hourly_2023[train], spike[train])
    auc = roc_auc_score(spike[test], model.predict_proba(hourly_2023[test])[:, 1])
    assert 0.85 < auc < 0.99


def test_dam_prices_are_smoother_than_real_time_and_carry_a_premium(market: SyntheticMarket) -> None:
    days = [dt.date(2023, 7, 1) + dt.timedelta(days=i) for i in range(62)]
    dam = _series(market.fetch_many("dam_prices", days), "node", "HB_NORTH", "price")
    rt = _series(market.fetch_many("rt_prices", days), "node", "HB_NORTH", "price")
    rt_hourly = rt.groupby(rt.index.floor("h")).mean()
    assert dam.diff().abs().median() < rt_hourly.diff().abs().median()
    assert dam.mean() > rt.mean()  # buyers pay for certainty
    assert dam.max() < 5_100.0  # the 2022+ cap applies in the DAM too (hubs add a little basis)
    assert 0.5 < dam.corr(rt_hourly) < 0.99  # related, not a copy


def test_forecast_errors_grow_with_lead_time(market: SyntheticMarket) -> None:
    vintages = [dt.date(2023, 1, 1) + dt.timedelta(days=i) for i in range(0, 364, 4)]
    actual_days = [dt.date(2023, 1, 1) + dt.timedelta(days=i) for i in range(373)]
    actual = _series(market.fetch_many("load", actual_days), "zone", SYSTEM_ZONE, "load_mw")
    forecast = pd.concat(market.fetch_many("load_forecast", vintages).values())
    forecast = forecast[forecast["zone"] == SYSTEM_ZONE]
    lead_days = ((forecast["interval_start"] - forecast["published_at"]) / pd.Timedelta(days=1)).astype(int)
    realised = forecast["interval_start"].map(actual)
    error = (forecast["load_mw"] - realised).abs() / realised
    mape = error.groupby(lead_days.to_numpy()).mean()
    assert 0.02 < mape[1] < 0.04  # day ahead: about 3 %, as ERCOT's published day-ahead MAPE
    assert mape[6] > 1.5 * mape[1]  # a week out: much worse
    assert mape.loc[1:6].is_monotonic_increasing

    wind = pd.concat(market.fetch_many("renewables_forecast", vintages).values())
    wind = wind[wind["fuel"] == "wind"]
    actual_wind = _series(market.fetch_many("renewables", actual_days), "fuel", "wind", "generation_mw")
    wind_lead = ((wind["interval_start"] - wind["published_at"]) / pd.Timedelta(days=1)).astype(int).to_numpy()
    wind_error = (wind["generation_mw"] - wind["interval_start"].map(actual_wind)).abs().groupby(wind_lead).mean()
    assert wind_error[6] > 1.5 * wind_error[1]
    # day ahead, about 7 % of the installed fleet (ERCOT's STWPF); a fleet of its 2023 size
    assert 0.05 < wind_error[1] / era("wind_mw", np.array([2023.5]))[0] < 0.09


def test_consecutive_vintages_agree_more_than_distant_ones(market: SyntheticMarket) -> None:
    """Forecast news arrives day by day: yesterday's vintage is closer to today's than last week's."""
    vintages = [dt.date(2023, 6, 1) + dt.timedelta(days=i) for i in range(40)]
    frames = market.fetch_many("load_forecast", vintages)
    system = pd.concat(frames.values())
    system = system[system["zone"] == SYSTEM_ZONE]
    system = system.pivot(index="interval_start", columns="published_at", values="load_mw")
    vintage_columns = list(system.columns)
    near, far = [], []
    for i in range(7, len(vintage_columns)):
        newest = system[vintage_columns[i]]
        near.append((newest - system[vintage_columns[i - 1]]).abs().mean())
        far.append((newest - system[vintage_columns[i - 6]]).abs().mean())
    assert np.mean(near) < 0.8 * np.mean(far)


# --- the universe of resource nodes -------------------------------------------------------------------

AUGUST_2023 = [dt.date(2023, 8, 1) + dt.timedelta(days=i) for i in range(31)]


@pytest.fixture(scope="module")
def nodes() -> pd.DataFrame:
    """The universe of SEED with every node's attributes."""
    return universe(SEED).frame()


def _prices(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.pivot(index="interval_start", columns="node", values="price")


def test_the_universe_has_over_a_thousand_unique_valid_nodes_and_depends_only_on_the_seed(nodes: pd.DataFrame) -> None:
    assert len(nodes) >= 1_000
    assert nodes["name"].is_unique
    assert all(NAME_PATTERN.match(name) for name in nodes["name"])
    assert not set(nodes["name"]) & set(HUBS_AND_ZONES)
    assert not nodes["name"].str.startswith(("HB_", "LZ_")).any()
    assert nodes["name"].str.contains("_").all()  # <PLANT>_<UNIT>
    fresh = universe.__wrapped__(SEED)  # rebuilt, not the cached object
    assert fresh == universe(SEED) and universe_names(SEED) == tuple(nodes["name"])
    assert len(set(universe_names(SEED + 1)) & set(nodes["name"])) < 50  # another seed, another universe


def test_settlement_points_list_hubs_zones_and_the_universe_the_same_every_day(market: SyntheticMarket) -> None:
    points = market.settlement_points(SUMMER_DAY)
    conformed = SETTLEMENT_POINTS.conform(points)
    assert list(conformed["name"][: len(HUBS_AND_ZONES)]) == list(HUBS_AND_ZONES)
    types = dict(zip(points["name"], points["type"]))
    assert {types[hub] for hub in HUBS} == {"HU"} and {types[zone] for zone in LOAD_ZONES} == {"LZ"}
    assert sorted(types[average] for average in HUB_AVERAGES) == ["AH", "SH"]
    nodes = points.iloc[len(HUBS_AND_ZONES) :]
    assert len(nodes) >= 1_000 and tuple(nodes["name"]) == universe_names(SEED)
    counts = nodes["type"].value_counts()
    assert set(counts.index) == {"RN", "LCCRN", "PCCRN", "PUN"}
    assert counts["RN"] > 0.6 * len(nodes) and counts["PCCRN"] > counts["LCCRN"] > 20
    assert nodes["load_zone"].isin(LOAD_ZONES).all() and nodes["hub"].isin(HUBS).all()
    zones = points[points["type"] == "LZ"]
    assert (zones["load_zone"] == zones["name"]).all() and zones["hub"].isin(HUBS).all()
    for day in (dt.date(2019, 1, 1), FALL_BACK):
        pd.testing.assert_frame_equal(SyntheticMarket(SEED).settlement_points(day), points)


def test_universe_geography_is_consistent(nodes: pd.DataFrame) -> None:
    by_region = nodes.groupby("region")
    assert set(by_region.get_group("FAR_WEST")["load_zone"]) == {"LZ_WEST"}
    assert set(by_region.get_group("FAR_WEST")["hub"]) == set(by_region.get_group("WEST")["hub"]) == {"HB_WEST"}
    assert set(by_region.get_group("PANHANDLE")["hub"]) == {"HB_PAN"}
    coast = by_region.get_group("COAST")
    assert set(coast["load_zone"]) == {"LZ_HOUSTON"} and set(coast["hub"]) == {"HB_HOUSTON"}
    # every node in a load zone tracks a hub of that part of Texas
    allowed = {"LZ_WEST": {"HB_WEST", "HB_PAN"}, "LZ_HOUSTON": {"HB_HOUSTON"}, "LZ_NORTH": {"HB_NORTH", "HB_PAN"},
               "LZ_RAYBN": {"HB_NORTH"}, "LZ_CPS": {"HB_SOUTH"}, "LZ_AEN": {"HB_SOUTH"}, "LZ_SOUTH": {"HB_SOUTH"},
               "LZ_LCRA": {"HB_SOUTH", "HB_WEST"}}
    for zone, group in nodes.groupby("load_zone"):
        assert set(group["hub"]) <= allowed[zone], zone
    # technology follows geography: wind out West and on the southern coast, cogeneration in Houston
    wind = nodes[nodes["technology"] == "wind"]
    assert wind["region"].isin(["PANHANDLE", "WEST", "FAR_WEST", "NORTH", "COASTAL_BEND", "SOUTHERN"]).mean() > 0.85
    assert (nodes[nodes["type"] == "PUN"]["region"] == "COAST").mean() > 0.7
    west = nodes[nodes["load_zone"] == "LZ_WEST"]
    assert west["technology"].isin(["wind", "solar", "storage"]).mean() > 0.5
    assert set(nodes["technology"]) >= {"wind", "solar", "storage", "gas", "load"}
    assert nodes.groupby("plant")["region"].nunique().max() == 1  # a plant's units are in one place


def test_universe_names_get_their_universe_character_and_other_names_the_hashed_one(nodes: pd.DataFrame) -> None:
    panhandle = nodes[(nodes["region"] == "PANHANDLE") & (nodes["technology"] == "wind")]["name"].iloc[0]
    with_both = SyntheticMarket(SEED, extra_nodes=[panhandle, "RN_FOO_UNIT1"])
    assert with_both.nodes == (*HUBS_AND_ZONES, panhandle, "RN_FOO_UNIT1")
    days = [dt.date(2023, 4, 1) + dt.timedelta(days=i) for i in range(7)]
    prices = _prices(pd.concat(with_both.fetch_many("rt_prices", days).values()))
    # a universe node tracks its own hub (HB_PAN, which the name-hashed nodes never track)
    hashed_hub = resource_node(panhandle).hub
    own, hashed = ((prices[panhandle] - prices[hub]).abs().median() for hub in ("HB_PAN", hashed_hub))
    assert own < hashed
    # a name outside the universe is priced exactly as before, whatever else is requested
    alone = SyntheticMarket(SEED, extra_nodes=["RN_FOO_UNIT1"]).fetch_many("rt_prices", days)
    alone = _prices(pd.concat(alone.values()))
    pd.testing.assert_series_equal(prices["RN_FOO_UNIT1"], alone["RN_FOO_UNIT1"], check_exact=True)


@pytest.mark.parametrize("dataset", ["rt_prices", "dam_prices"])
def test_a_subset_of_the_universe_equals_the_same_nodes_of_a_whole_universe_request(
    market: SyntheticMarket, dataset: str
) -> None:
    names = universe_names(SEED)
    whole = SyntheticMarket(SEED, extra_nodes=names).fetch(dataset, SUMMER_DAY)
    assert set(whole["node"]) == set(HUBS_AND_ZONES) | set(names)
    subset = list(names[::11][:100])[::-1] + ["RN_FOO_UNIT1"]
    part = SyntheticMarket(SEED, extra_nodes=subset).fetch(dataset, SUMMER_DAY)
    assert_canonical(part, DATASETS[dataset])
    for frame in (whole, part):  # hubs and zones unchanged by the universe nodes requested with them
        base = market.fetch(dataset, SUMMER_DAY)
        pd.testing.assert_frame_equal(
            frame[frame["node"].isin(HUBS_AND_ZONES)].reset_index(drop=True), base, check_exact=True
        )
    wanted = subset[:-1]
    pd.testing.assert_frame_equal(
        whole[whole["node"].isin(wanted)].sort_values(["interval_start", "node"]).reset_index(drop=True),
        part[part["node"].isin(wanted)].sort_values(["interval_start", "node"]).reset_index(drop=True),
        check_exact=True,
    )


@pytest.mark.parametrize("dataset", ["rt_prices", "dam_prices"])
def test_universe_prices_do_not_depend_on_days_requested_with_them_or_on_chunking(
    dataset: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    days = [dt.date(2024, 3, 8) + dt.timedelta(days=i) for i in range(5)]  # spans the spring-forward day
    subset = list(universe_names(SEED)[:30])
    in_range = SyntheticMarket(SEED, extra_nodes=subset).fetch_many(dataset, days)
    monkeypatch.setattr(market_module, "_CHUNK_VALUES", 1)  # one key day per chunk
    chunked = SyntheticMarket(SEED, extra_nodes=subset).fetch_many(dataset, days[::-1])
    for day in (days[0], days[2], days[4]):
        alone = SyntheticMarket(SEED, extra_nodes=subset).fetch(dataset, day)
        pd.testing.assert_frame_equal(in_range[day], alone, check_exact=True)
        pd.testing.assert_frame_equal(chunked[day], alone, check_exact=True)


@pytest.fixture(scope="module")
def august_west_and_coast(nodes: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    """Five-minute prices of August 2023 at hubs and 60 West Texas and coast nodes."""
    groups = {
        "far_west": list(nodes[nodes["region"] == "FAR_WEST"]["name"][:25]),
        "west_wind": list(nodes[(nodes["region"] == "WEST") & (nodes["technology"] == "wind")]["name"][:20]),
        "coast": list(nodes[nodes["region"] == "COAST"]["name"][:15]),
    }
    wanted = [name for names in groups.values() for name in names]
    frames = SyntheticMarket(SEED, extra_nodes=wanted).fetch_many("rt_prices", AUGUST_2023)
    return _prices(pd.concat(frames.values())), groups


def test_west_nodes_spike_when_the_hubs_do_not(august_west_and_coast: tuple[pd.DataFrame, dict]) -> None:
    """Permian import limits bind on hot evenings: Far West nodes spike while North and Houston stay calm."""
    prices, groups = august_west_and_coast
    hourly = prices.groupby(prices.index.floor("h")).max()
    calm = ((hourly["HB_NORTH"] < 100) & (hourly["HB_HOUSTON"] < 100)).to_numpy()[:, None]
    far_west = hourly[groups["far_west"]]
    local_spikes = ((far_west > 250) & calm).sum()
    assert (local_spikes > 0).mean() > 0.8  # most Far West nodes
    assert ((far_west > 250) & calm).any(axis=1).sum() >= 10  # hours of the month
    assert ((hourly["HB_WEST"] > 250) & calm[:, 0]).sum() < 0.2 * ((far_west > 250) & calm).any(axis=1).sum()
    # and they differ from their hub every day, not only when spiking
    spread = prices[groups["far_west"]].sub(prices["HB_WEST"], axis=0).abs().mean()
    assert (spread > 3.0).all()


def test_west_wind_goes_negative_more_often_than_its_hub_and_coast_nodes_see_import_spikes(
    august_west_and_coast: tuple[pd.DataFrame, dict],
) -> None:
    prices, groups = august_west_and_coast
    negative = (prices < 0).mean()
    assert (negative[groups["west_wind"]] > 1.5 * negative["HB_WEST"]).all()
    assert (negative[groups["west_wind"]] > 5 * negative["HB_NORTH"]).all()
    assert prices[groups["west_wind"]].min().min() < -100
    above_houston = prices[groups["coast"]].sub(prices["HB_HOUSTON"], axis=0)
    assert (above_houston.max() > 100).mean() > 0.8  # Houston import constraints bind at coast nodes
    assert above_houston.median().median() > 0  # load pocket: coast nodes price above their hub


def test_universe_dam_prices_carry_expected_congestion_without_real_time_surprises(nodes: pd.DataFrame) -> None:
    far_west = list(nodes[nodes["region"] == "FAR_WEST"]["name"][:10])
    days = AUGUST_2023[:10]
    market = SyntheticMarket(SEED, extra_nodes=far_west)
    dam = _prices(pd.concat(market.fetch_many("dam_prices", days).values()))
    rt = _prices(pd.concat(market.fetch_many("rt_prices", days).values()))
    rt_hourly = rt.groupby(rt.index.floor("h")).mean()
    dam_spread = dam[far_west].sub(dam["HB_WEST"], axis=0)
    assert dam_spread.abs().mean().min() > 1.0  # the DAM prices the expected Permian congestion
    assert (dam[far_west].max() < rt[far_west].max()).all()  # ... but not the surprises
    assert dam[far_west].diff().abs().median().median() < rt_hourly[far_west].diff().abs().median().median()


def test_files_of_an_earlier_simulator_version_are_simulated_again() -> None:
    """Version 2 sized its forecast errors anew: its fingerprint differs from version 1's raw stamps."""
    assert SyntheticMarket(7).fingerprint("load_forecast", dt.date(2024, 7, 1)) == "synthetic:v2"
