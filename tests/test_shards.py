"""Sharded work (``market.shard_size``) and ``market.nodes: all``, on the simulator.

A shard is a pooled model over its nodes: its forecast equals, bit for bit, the forecast of a
configuration that lists only those nodes. The day's forecast stays one file, assembled from the
shards.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import luigi
import pandas as pd
import pytest

from pipeline.config import ALL_NODES, load_config
from pipeline.sources import Sources, resolve_nodes
from pipeline.sources.synthetic import universe_names
from pipeline.settings import Settings
from pipeline.tasks.base import current_layout, current_settings, shard_layout
from pipeline.tasks.inference import DailyInference
from pipeline.tasks.operations import RetrainModel

from tests.conftest import reset_caches, small_config

SEED = 20240101
ISSUE_DAY = dt.date(2024, 7, 16)
RESOURCE_NODES = list(universe_names(SEED)[:2])
NODES = ["HB_NORTH", "HB_WEST", *RESOURCE_NODES]


def config_text(nodes: list[str], shard_size: int | None = None) -> str:
    return small_config(nodes, market=f"  shard_size: {shard_size}\n" if shard_size else "")


def build(*tasks: luigi.Task) -> None:
    result = luigi.build(list(tasks), local_scheduler=True, detailed_summary=True, workers=1)
    assert result.status.name in {"SUCCESS", "SUCCESS_WITH_RETRY"}, result.summary_text


def test_shards_split_the_nodes_in_order(write_config) -> None:
    write_config(config_text(NODES, shard_size=3))
    settings = current_settings()
    assert settings.shards == (tuple(NODES[:3]), tuple(NODES[3:]))
    first, second = settings.for_shard(0), settings.for_shard(1)
    assert first.features.nodes == tuple(NODES[:3]) and second.features.nodes == tuple(NODES[3:])
    assert len({settings.tags.features, first.tags.features, second.tags.features}) == 3
    assert first.tags.model != second.tags.model
    with pytest.raises(ValueError, match="shard 2 does not exist: 2 shard"):
        settings.for_shard(2)


def test_one_shard_keeps_the_unsharded_folders(write_config) -> None:
    write_config(config_text(NODES))
    unsharded = current_settings()
    write_config(config_text(NODES, shard_size=len(NODES)))
    one = current_settings()
    assert one.for_shard(0).tags == unsharded.tags and not one.sharded


def test_a_sharded_forecast_is_one_file_assembled_from_the_shards(write_config, data_root: Path) -> None:
    write_config(config_text(NODES, shard_size=2))
    build(DailyInference(date=ISSUE_DAY))
    reset_caches()
    forecast = current_layout().forecast(ISSUE_DAY).read()
    assert len(forecast) == len(NODES) * 2 * 72
    assert set(forecast["node"]) == set(NODES)
    parts = [shard_layout(k).shard_forecast(ISSUE_DAY).read() for k in (0, 1)]
    pd.testing.assert_frame_equal(forecast, pd.concat(parts, ignore_index=True))
    artifacts = list((data_root / "models").glob("*/*/metadata.json"))
    assert len(artifacts) == 2 * 2, "two cadence dates (candidate and incumbent) x two shards"
    assert len({p.parent.name for p in artifacts}) == 2, "one model folder tag per shard"
    assert (data_root / "forecasts" / ISSUE_DAY.isoformat() / "forecast.csv").is_file()


def test_a_shard_forecasts_as_a_configuration_of_only_its_nodes(write_config, tmp_path: Path, use_root) -> None:
    write_config(config_text(NODES, shard_size=2))
    use_root(tmp_path / "sharded")
    build(DailyInference(date=ISSUE_DAY))
    reset_caches()
    second_shard = shard_layout(1).shard_forecast(ISSUE_DAY).read()
    write_config(config_text(NODES[2:]))
    use_root(tmp_path / "alone")
    build(DailyInference(date=ISSUE_DAY))
    alone = current_layout().forecast(ISSUE_DAY).read()
    columns = ["node", "threshold", "interval_start", "horizon_h", "probability", "status"]
    pd.testing.assert_frame_equal(second_shard[columns], alone[columns])


def test_retraining_gates_every_shard(write_config, data_root: Path) -> None:
    write_config(config_text(NODES, shard_size=2))
    cadence_day = current_settings().cadence.newest(ISSUE_DAY)
    build(RetrainModel(date=cadence_day))
    reset_caches()
    for shard in (0, 1):
        assert shard_layout(shard).model_decision(cadence_day).exists()


def test_nodes_all_is_the_simulator_universe_in_hub_and_zone_order(write_config) -> None:
    config = write_config("market:\n  nodes: all\n  shard_size: 200\n")
    assert config.market.nodes == ALL_NODES
    settings = current_settings()
    nodes = settings.features.nodes
    assert len(nodes) > 1000 and len(set(nodes)) == len(nodes)
    assert {"HB_NORTH", "HB_WEST", "LZ_HOUSTON"} <= set(nodes)
    assert set(universe_names(SEED)) <= set(nodes)
    assert not {"HB_BUSAVG", "HB_HUBAVG"} & set(nodes), "hub averages are not forecast"
    points = Sources.from_config(config).market.settlement_points(ISSUE_DAY).set_index("name")
    hubs = [points.loc[node, "hub"] for node in nodes]
    assert hubs == sorted(hubs), "shards hold neighbours: nodes are ordered by hub (then load zone)"
    assert all(len(shard) <= 200 for shard in settings.shards) and sum(map(len, settings.shards)) == len(nodes)


def test_nodes_all_with_a_live_source_says_to_list_them(write_config) -> None:
    config = write_config("market:\n  nodes: all\nsources:\n  market: ercot_mis\n")
    with pytest.raises(ValueError, match="with ercot_mis, list the points in market.nodes"):
        Sources.from_config(config)


def test_a_shard_size_above_the_model_limit_is_refused(write_config) -> None:
    with pytest.raises(Exception, match="market.shard_size"):
        write_config("market:\n  shard_size: 400\n")


@pytest.mark.parametrize("market, expected", [("ercot_api", {"ercot_api": 1}), ("ercot_mis", {"ercot_mis": 1}),
                                              ("synthetic", {})])
def test_fetch_tasks_of_network_sources_draw_on_the_shared_resource(write_config, market: str, expected) -> None:
    from pipeline.tasks.fetch import FetchRange, FetchRtPrices

    write_config(f"sources:\n  market: {market}\n")
    assert FetchRtPrices(date=ISSUE_DAY).resources == expected
    ranged = FetchRange(dataset="dam_prices", start=ISSUE_DAY, end=ISSUE_DAY).resources
    assert {k: v for k, v in ranged.items() if not k.startswith("fill:")} == expected


def _first_runnable(tasks: list[luigi.Task]) -> list[str]:
    """What luigi's scheduler hands out to as many workers as there are tasks, all pending and ready."""
    scheduler, workers = luigi.scheduler.Scheduler(), [f"worker{n}" for n in range(len(tasks))]
    for task in tasks:
        for worker in workers:  # every worker found every task (as the workers of one run do)
            scheduler.add_task(worker=worker, task_id=task.task_id, status=luigi.scheduler.PENDING,
                               runnable=True, resources=task.process_resources(), family=task.task_family)
    handed = [scheduler.get_work(worker=worker)["task_id"] for worker in workers]
    return [task_id for task_id in handed if task_id is not None]


def test_overlapping_ranges_fill_their_files_one_at_a_time(write_config) -> None:
    """Two trainings' year-long windows two days apart: side by side, both ranges would build the
    same ~360 days; one after the other, the second builds two. Other shards and datasets go on."""
    from pipeline.tasks.features import FeatureRange
    from pipeline.tasks.fetch import FetchRange, HourlyPricesRange

    write_config("market:\n  shard_size: 2\n")
    day, later = ISSUE_DAY - dt.timedelta(days=365), ISSUE_DAY + dt.timedelta(days=2)
    overlapping = [
        [FeatureRange(start=day, end=ISSUE_DAY, shard=1), FeatureRange(start=day + dt.timedelta(days=2), end=later, shard=1)],
        [FetchRange(dataset="rt_prices", start=day, end=ISSUE_DAY), FetchRange(dataset="rt_prices", start=day, end=later)],
        [HourlyPricesRange(start=day, end=ISSUE_DAY), HourlyPricesRange(start=day, end=later)],
    ]
    for pair in overlapping:
        assert len(_first_runnable(pair)) == 1, [t.task_id for t in pair]
    apart = [FeatureRange(start=day, end=ISSUE_DAY, shard=0), FeatureRange(start=day, end=ISSUE_DAY, shard=1),
             FetchRange(dataset="rt_prices", start=day, end=ISSUE_DAY), FetchRange(dataset="load", start=day, end=ISSUE_DAY),
             HourlyPricesRange(start=day, end=ISSUE_DAY)]
    assert len(_first_runnable(apart)) == len(apart)


def test_ranges_of_another_data_root_are_not_held_back(write_config, tmp_path: Path, monkeypatch) -> None:
    from pipeline.tasks.features import FeatureRange

    write_config("")
    here = FeatureRange(start=ISSUE_DAY, end=ISSUE_DAY)
    held_here = here.process_resources()
    monkeypatch.setenv("RTLMP_DATA_ROOT", str(tmp_path / "elsewhere"))
    reset_caches()
    there = FeatureRange(start=ISSUE_DAY, end=ISSUE_DAY)
    assert here.config_id != there.config_id
    assert held_here and held_here.keys().isdisjoint(there.process_resources().keys())


def test_luigid_and_local_runs_share_the_same_api_budget() -> None:
    import configparser

    from tests.conftest import REPO

    for name in ("luigi.cfg", "infrastructure/luigid.cfg"):
        parser = configparser.ConfigParser(interpolation=None)
        parser.read(REPO / name)
        assert parser.getint("resources", "ercot_api") == 1, name
