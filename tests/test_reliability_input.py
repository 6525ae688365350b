"""Bad input refused before anything runs: one line naming the key or option and its value, exit 2.

Each probe of issue 19's table that concerns the configuration or the command line, tried as
written: in process (``load_config``, :func:`pipeline.preflight.check`) and through the commands
an operator types (``python -m pipeline.show_config``, ``luigi --module pipeline ...``,
``python -m pipeline.scheduler``, ``python -m pipeline.jobs``, ``python -m pipeline.deadline``).
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline import preflight
from pipeline.config import ConfigError, load_config
from tests.conftest import REPO, SHARED_DATA, small_config
from tests.test_e2e import run_luigi

TODAY = dt.date(2026, 11, 30)


def one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line, got {len(lines)}:\n" + "\n".join(lines[:20])
    return lines[0]


def alias_bomb(levels: int = 9) -> str:
    """The "billion laughs": each level lists the previous one nine times (9**9 strings when expanded)."""
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, levels):
        lines.append(f"a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * 9) + "]")
    lines.append(f"market:\n  nodes: *a{levels - 1}")
    return "\n".join(lines) + "\n"


def _python_m(module: str, *args: str, config: Path, data_root: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RTLMP_") or k.startswith("RTLMP_ARTIFACT_KEY")}
    env.update({"RTLMP_CONFIG": str(config), "RTLMP_DATA_ROOT": str(data_root),
                "LUIGI_CONFIG_PATH": str(REPO / "luigi.cfg")})
    return subprocess.run([sys.executable, "-m", module, *args], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)


# --- the configuration: each probe, in process -----------------------------------------------------

CONFIG_PROBES = {
    "cron": ('scheduler:\n  inference:\n    cron_expression: "99 99 * * *"\n',
             "key 'scheduler.inference.cron_expression'", "'99 99 * * *'"),
    "cron_never_fires": ('scheduler:\n  backtesting:\n    cron_expression: "0 2 31 2 *"\n',
                         "key 'scheduler.backtesting.cron_expression'", "'0 2 31 2 *'"),
    "threshold_nan": ("market:\n  thresholds: [100, .nan]\n", "key 'market.thresholds'", "nan"),
    "threshold_huge": ("market:\n  thresholds: [100, 1e308]\n", "key 'market.thresholds'", "1e+308"),
    "threshold_infinite": ("market:\n  thresholds: [100, .inf]\n", "key 'market.thresholds'", "inf"),
    "archive_dir": ("sources:\n  market: ercot_archive\n  archive_dir: {tmp}/no-such-archive\n",
                    "key 'sources.archive_dir'", "no-such-archive"),
    "weather_dir": ("sources:\n  weather: archive\n  weather_dir: {tmp}/no-such-weather\n",
                    "key 'sources.weather_dir'", "no-such-weather"),
    "unknown_node": ("market:\n  nodes: [HB_NORTH, HB_NOPE]\n", "key 'market.nodes'", "'HB_NOPE'"),
}


@pytest.mark.parametrize("probe", sorted(CONFIG_PROBES))
def test_a_bad_configuration_value_is_refused_at_load_naming_key_value_and_file(write_config, tmp_path: Path,
                                                                                probe: str) -> None:
    text, key, value = CONFIG_PROBES[probe]
    with pytest.raises(ConfigError) as error:
        write_config(text.format(tmp=tmp_path))
    message = str(error.value)
    assert "\n" not in message
    assert key in message and value in message and str(tmp_path / "override.yaml") in message


def test_a_threshold_at_the_price_bound_is_accepted_and_above_it_refused_with_the_bound(write_config) -> None:
    assert write_config("market:\n  thresholds: [100, 30000]\n").market.thresholds == (100.0, 30000.0)
    with pytest.raises(ConfigError, match=r"above integrity.bounds.price.max \(30000 \$/MWh\)"):
        write_config("market:\n  thresholds: [100, 30001]\n")
    assert write_config("market:\n  thresholds: [100, 40000]\nintegrity:\n  bounds:\n    price: {min: -2000, "
                        "max: 50000}\n").market.thresholds == (100.0, 40000.0)


def test_a_nine_level_alias_bomb_is_refused_at_once(write_config) -> None:
    started = time.monotonic()
    with pytest.raises(ConfigError, match=r"override.yaml: line 1: YAML anchors and aliases \(&a0 / \*a0\)"):
        write_config(alias_bomb())
    assert time.monotonic() - started < 2


def test_a_merge_key_alias_is_refused_too(write_config) -> None:
    with pytest.raises(ConfigError, match="anchors and aliases"):
        write_config("base: &b {enabled: false}\nscheduler:\n  backtesting:\n    <<: *b\n")


def test_an_unknown_simulated_node_gets_suggestions_and_universe_nodes_pass(write_config) -> None:
    with pytest.raises(ConfigError) as error:
        write_config("market:\n  nodes: [HB_NORTH, HB_NORHT]\n")
    assert "'HB_NORHT' is not a settlement point of the simulator's" in str(error.value)
    assert "did you mean HB_NORTH" in str(error.value)
    from pipeline.sources.synthetic import universe_names

    node = universe_names(20240101)[0]
    assert write_config(f"market:\n  nodes: [HB_NORTH, {node}]\n").market.nodes == ("HB_NORTH", node)


@pytest.mark.realdata
def test_an_unknown_node_is_refused_against_the_archive_files(write_config) -> None:
    archive = SHARED_DATA / "ercot"
    if not archive.is_dir():
        pytest.skip(f"real ERCOT data not found at {archive}")
    with pytest.raises(ConfigError) as error:
        write_config(f"market:\n  nodes: [HB_NORTH, HB_NOPE]\nsources:\n  market: ercot_archive\n"
                     f"  archive_dir: {archive}\n")
    message = str(error.value)
    assert "'HB_NOPE' is not a settlement point of the real-time files of 2023" in message
    assert "did you mean HB_NORTH" in message
    config = write_config(f"market:\n  nodes: [HB_NORTH, HB_PAN]\nsources:\n  market: ercot_archive\n"
                          f"  archive_dir: {archive}\n")
    assert config.market.nodes == ("HB_NORTH", "HB_PAN")


def test_an_archive_of_ercot_layout_files_lists_the_points_they_hold(write_config, tmp_path: Path) -> None:
    folder = tmp_path / "archive" / "rtm_spp_hub_lz"
    folder.mkdir(parents=True)
    rows = [f"02/01/2021,1,{k},N,{name},{kind},25.0" for k in range(1, 5)
            for name, kind in (("HB_NORTH", "HU"), ("LZ_WEST", "LZ"), ("LZ_WEST", "LZEW"))]
    (folder / "RTM-2021-02.csv").write_text("Delivery Date,Delivery Hour,Delivery Interval,Repeated Hour Flag,"
                                            "Settlement Point Name,Settlement Point Type,Settlement Point Price\n"
                                            + "\n".join(rows) + "\n")
    archive = f"sources:\n  market: ercot_archive\n  archive_dir: {tmp_path / 'archive'}\n"
    assert write_config("market:\n  nodes: [HB_NORTH, LZ_WEST]\n" + archive).market.nodes == ("HB_NORTH", "LZ_WEST")
    with pytest.raises(ConfigError, match="'HB_WEST' is not a settlement point of the real-time files of 2021"):
        write_config("market:\n  nodes: [HB_NORTH, HB_WEST]\n" + archive)


def test_live_sources_check_hub_and_zone_names_and_let_resource_nodes_pass(write_config) -> None:
    assert write_config("market:\n  nodes: [HB_NORTH, SOME_PLANT_UNIT1]\nsources:\n  market: ercot_mis\n")
    with pytest.raises(ConfigError, match=r"'LZ_HUSTON' is not a settlement point of ERCOT's hubs and load zones.*"
                                          r"did you mean LZ_HOUSTON"):
        write_config("market:\n  nodes: [LZ_HUSTON]\nsources:\n  market: ercot_api\n")


# --- the configuration through every command -------------------------------------------------------


@pytest.mark.parametrize("probe", sorted(CONFIG_PROBES))
def test_show_config_refuses_each_probe_in_one_line_with_exit_2(tmp_path: Path, probe: str) -> None:
    text, key, value = CONFIG_PROBES[probe]
    config = tmp_path / "override.yaml"
    config.write_text(text.format(tmp=tmp_path))
    result = _python_m("pipeline.show_config", config=config, data_root=tmp_path / "data")
    assert result.returncode == 2, result.stderr[-2000:]
    line = one_line(result.stderr)
    assert key in line and value in line and str(config) in line


def test_show_config_refuses_the_alias_bomb_within_seconds(tmp_path: Path) -> None:
    config = tmp_path / "override.yaml"
    config.write_text(alias_bomb())
    started = time.monotonic()
    result = _python_m("pipeline.show_config", config=config, data_root=tmp_path / "data", timeout=60)
    assert result.returncode == 2
    assert "anchors and aliases" in one_line(result.stderr)
    assert time.monotonic() - started < 30  # the interpreter and the package's imports; the refusal is instant


@pytest.mark.parametrize("command", [
    ("luigi", "DailyInference", "--date", "2024-03-09"),
    ("pipeline.scheduler", "--once", "--dry-run", "--now", "2024-03-10T06:01"),
    ("pipeline.scheduler", "--once", "--now", "2024-03-10T06:01"),
    ("pipeline.jobs", "run", "inference", "--dry-run", "--now", "2024-03-10T06:01"),
    ("pipeline.deadline", "--dry-run", "--now", "2024-03-10T09:01"),
    ("pipeline.status", "--now", "2024-03-10T09:01"),
])
def test_every_command_refuses_a_bad_cron_expression_in_one_line_with_exit_2(tmp_path: Path, command) -> None:
    config = tmp_path / "override.yaml"
    config.write_text(CONFIG_PROBES["cron"][0])
    if command[0] == "luigi":
        result = run_luigi(list(command[1:]), config, tmp_path / "data")
    else:
        result = _python_m(command[0], *command[1:], config=config, data_root=tmp_path / "data")
    assert result.returncode == 2, result.stderr[-2000:]
    line = one_line(result.stderr)
    assert "scheduler.inference.cron_expression" in line and "'99 99 * * *'" in line
    assert "Traceback" not in result.stderr


# --- the command line ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("args", "message"), [
    (["Backtest", "--start", "2024-02-01", "--end", "2024-01-01"],
     "--end 2024-01-01 is before --start 2024-02-01"),
    (["FetchRange", "--dataset", "rt_prices", "--start", "2024-02-01", "--end", "2024-01-31"],
     "--end 2024-01-31 is before --start 2024-02-01"),
    (["FeatureRange", "--FeatureRange-start", "2024-02-01", "--FeatureRange-end", "2024-01-01"],
     "--FeatureRange-end 2024-01-01 is before --FeatureRange-start 2024-02-01"),
    (["RangeDaily", "--of", "DailyInference", "--start", "2024-02-01", "--stop", "2024-02-01"],
     "--stop 2024-02-01 is not after --start 2024-02-01"),
    (["FetchRange", "--dataset", "prices", "--start", "2024-01-01", "--end", "2024-01-02"],
     "--dataset 'prices' is not a dataset; choose one of rt_prices, dam_prices, ancillary_prices, load, "
     "load_forecast, renewables, renewables_forecast, weather, weather_forecast"),
    (["FeatureRange", "--shard", "3", "--start", "2024-01-01", "--end", "2024-01-02"],
     "--shard 3: the configuration is not sharded (market.shard_size is null), so its only shard is 0"),
    (["FeatureRange", "--shard", "-1", "--start", "2024-01-01", "--end", "2024-01-02"],
     "--shard '-1' is not a shard number"),
    (["RangeDaily", "--of", "DailyInference", "--start", "2026-12-05",
      "--now", str(int(dt.datetime(2026, 12, 10, 12, tzinfo=dt.timezone.utc).timestamp()))],
     "makes the range reach 2026-12-10, more than 7 days after today (2026-11-30 in CPT)"),
    (["RangeDaily", "--of", "DailyInference", "--start", "2026-12-05", "--days-forward", "10"],
     "--days-forward 10 reaches more than 7 days after today"),
    (["RangeDaily", "--of", "DailyInference", "--start", "2026-12-05", "--now", "tomorrow"],
     "--now 'tomorrow' is not a time in seconds since the epoch"),
])
def test_bad_command_line_values_are_refused_naming_them(args: list[str], message: str) -> None:
    with pytest.raises(preflight.InvalidInput) as info:
        preflight.check([*args, "--local-scheduler"], TODAY)
    assert message in str(info.value)


@pytest.mark.parametrize("args", [
    ["Backtest", "--start", "2024-01-01", "--end", "2024-01-01"],
    ["FetchRange", "--dataset", "weather_forecast", "--start", "2024-01-01", "--end", "2024-01-02"],
    ["FeatureRange", "--shard", "0", "--start", "2024-01-01", "--end", "2024-01-02"],
    # The scheduled jobs' own command: a week of catch-up up to tomorrow, as of now.
    ["RangeDaily", "--of", "DailyInference", "--start", "2026-11-23", "--stop", "2026-12-01",
     "--now", str(int(dt.datetime(2026, 11, 30, 12, tzinfo=dt.timezone.utc).timestamp()))],
    # --now far ahead, but --stop ends the range within the week.
    ["RangeDaily", "--of", "DailyInference", "--start", "2026-12-01", "--stop", "2026-12-08",
     "--now", str(int(dt.datetime(2026, 12, 20, tzinfo=dt.timezone.utc).timestamp()))],
])
def test_good_command_line_values_pass(args: list[str]) -> None:
    preflight.check([*args, "--local-scheduler"], TODAY)


def test_a_shard_beyond_the_configured_shards_is_refused(write_config) -> None:
    from pipeline.sources.synthetic import universe_names

    nodes = ["HB_NORTH", "HB_WEST", *universe_names(20240101)[:3]]
    write_config(small_config(nodes, market="  shard_size: 2\n"))
    preflight.check(["FeatureRange", "--shard", "2", "--start", "2024-01-01", "--end", "2024-01-02",
                     "--local-scheduler"], TODAY)
    with pytest.raises(preflight.InvalidInput, match=r"--shard 3 does not exist: 5 nodes in shards of 2 make 3 "
                                                     r"shard\(s\), 0..2"):
        preflight.check(["FeatureRange", "--shard", "3", "--start", "2024-01-01", "--end", "2024-01-02",
                         "--local-scheduler"], TODAY)


@pytest.mark.parametrize(("args", "named"), [
    (["Backtest", "--start", "2024-02-01", "--end", "2024-01-01"], "--end 2024-01-01 is before --start"),
    (["FetchRange", "--dataset", "prices", "--start", "2024-01-01", "--end", "2024-01-02"], "--dataset 'prices'"),
    (["FeatureRange", "--shard", "3", "--start", "2024-01-01", "--end", "2024-01-02"], "--shard 3"),
    (["RangeDaily", "--of", "DailyInference", "--start", "{plus5}", "--now", "{now10}"], "more than 7 days after"),
])
def test_the_luigi_command_refuses_bad_values_in_one_line_with_exit_2(tmp_path: Path, args: list[str],
                                                                      named: str) -> None:
    now = dt.datetime.now(tz=dt.timezone.utc)
    values = {"plus5": (now + dt.timedelta(days=5)).date().isoformat(),
              "now10": str(int((now + dt.timedelta(days=10)).timestamp()))}
    result = run_luigi([arg.format(**values) for arg in args], None, tmp_path / "data")
    assert result.returncode == preflight.INVALID_INPUT, result.stderr[-2000:]
    line = one_line(result.stderr)
    assert line.startswith("rtlmp: ") and named in line
    assert not (tmp_path / "data" / "forecasts").exists() and not (tmp_path / "data" / "raw").exists()


def test_load_config_in_process_still_accepts_the_defaults() -> None:
    assert load_config().market.nodes == ("HB_NORTH", "HB_HOUSTON", "HB_SOUTH", "HB_WEST")
