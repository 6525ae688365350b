"""Configuration: defaults, partial overrides, and errors that name the key and the file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from pipeline.config import DEFAULTS_PATH, Config, ConfigError, build_config, load_config


def test_defaults_file_matches_the_typed_defaults() -> None:
    """config/pipeline.yaml and the model's defaults describe the same configuration."""
    from_file = build_config(DEFAULTS_PATH)
    assert from_file.model_dump() == Config().model_dump()


def test_domain_defaults() -> None:
    config = build_config(DEFAULTS_PATH)
    assert config.market.nodes == ("HB_NORTH", "HB_HOUSTON", "HB_SOUTH", "HB_WEST")
    assert config.market.thresholds == (100.0, 250.0, 1000.0)
    assert (config.sources.market, config.sources.weather) == ("synthetic", "synthetic")
    assert config.model.retrain_every_days == 2


def test_seed_sections_carry_the_seed_key_names() -> None:
    raw = yaml.safe_load(DEFAULTS_PATH.read_text())
    assert set(raw["scheduler"]) == {"data_fetching", "inference", "model_retraining", "backtesting"}
    for task in raw["scheduler"].values():
        assert set(task) == {"enabled", "cron_expression", "timeout_minutes", "retry_count", "priority"}
    assert raw["error_recovery"]["inference"]["fallback"] == "use_previous_forecast"
    assert set(raw["deadlines"]["dam_closure"]) == {"time", "buffer_minutes", "alert_on_risk", "fallback_on_miss"}


def test_partial_override_merges_over_defaults(write_config) -> None:
    config = write_config("market:\n  nodes: [HB_WEST]\nmodel:\n  history_days: 60\n")
    assert config.market.nodes == ("HB_WEST",)
    assert config.market.thresholds == (100.0, 250.0, 1000.0)
    assert config.model.history_days == 60
    assert config.model.retrain_every_days == 2


def test_data_root_env_overrides(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("RTLMP_DATA_ROOT", str(tmp_path / "elsewhere"))
    assert load_config().data_root == str(tmp_path / "elsewhere")


def test_thresholds_are_sorted(write_config) -> None:
    assert write_config("market:\n  thresholds: [1000, 100]\n").market.thresholds == (100.0, 1000.0)


@pytest.mark.parametrize(
    ("yaml_text", "key"),
    [
        ("market:\n  colour: red\n", "market.colour"),
        ("surprise: 1\n", "surprise"),
        ("market:\n  thresholds: [-5]\n", "market.thresholds"),
        ("sources:\n  market: nyiso\n", "sources.market"),
        ("sources:\n  weather: dark_sky\n", "sources.weather"),
        ("model:\n  retrain_every_days: zero\n", "model.retrain_every_days"),
        ("scheduler:\n  inference:\n    priority: urgent\n", "scheduler.inference.priority"),
        ("deadlines:\n  dam_closure:\n    time: '25:00'\n", "deadlines.dam_closure.time"),
        ("features:\n  issue_time: '6am'\n", "features.issue_time"),
    ],
)
def test_bad_values_name_the_key_and_file(write_config, tmp_path: Path, yaml_text: str, key: str) -> None:
    with pytest.raises(ConfigError) as error:
        write_config(yaml_text)
    message = str(error.value)
    assert key in message
    assert str(tmp_path / "override.yaml") in message


def test_archive_source_needs_a_folder(write_config) -> None:
    with pytest.raises(ConfigError, match="archive_dir"):
        write_config("sources:\n  market: ercot_archive\n")


def test_archived_weather_needs_a_folder(write_config) -> None:
    with pytest.raises(ConfigError, match="weather_dir is required when sources.weather is archive"):
        write_config("sources:\n  weather: archive\n")


def test_malformed_yaml_names_the_file(write_config, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="override.yaml: not valid YAML"):
        write_config("market: [unclosed\n")


def test_missing_override_file_names_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("RTLMP_CONFIG", str(tmp_path / "absent.yaml"))
    with pytest.raises(ConfigError, match="absent.yaml: cannot read"):
        load_config()


def test_config_check_command_exits_nonzero_naming_the_key(tmp_path: Path) -> None:
    override = tmp_path / "bad.yaml"
    override.write_text("sources:\n  market: ercot_live\n")
    result = subprocess.run(
        [sys.executable, "-m", "pipeline.show_config"],
        env={"RTLMP_CONFIG": str(override), "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, check=False,
    )
    assert result.returncode == 2
    assert "sources.market" in result.stderr and "bad.yaml" in result.stderr


def test_fingerprint_ignores_execution_only_keys() -> None:
    base = build_config(DEFAULTS_PATH)
    threaded = base.model_copy(update={"model": base.model.model_copy(update={"threads": 2})})
    other = base.model_copy(update={"model": base.model.model_copy(update={"logistic_weight": 0.7})})
    assert base.fingerprint("model") == threaded.fingerprint("model")
    assert base.fingerprint("model") != other.fingerprint("model")


def test_fingerprint_changes_with_the_section() -> None:
    base = build_config(DEFAULTS_PATH)
    other = base.model_copy(update={"market": base.market.model_copy(update={"nodes": ("HB_WEST",)})})
    assert base.fingerprint("market") != other.fingerprint("market")
    assert base.fingerprint("model") == other.fingerprint("model")


@pytest.mark.parametrize("root", ["s3://rtlmp/prod", "s3://rtlmp", "s3://my.bucket-1/a/b"])
def test_an_s3_data_root_is_kept_as_written(monkeypatch: pytest.MonkeyPatch, root: str) -> None:
    monkeypatch.setenv("RTLMP_DATA_ROOT", root)
    assert load_config().data_root == root


@pytest.mark.parametrize("root, problem", [("s3://Bad_Bucket/x", "not a valid bucket name"),
                                           ("s3://ab/x", "not a valid bucket name"),
                                           ("s3://rtlmp/prod/", "trailing '/'")])
def test_a_malformed_s3_data_root_is_an_error_naming_it(monkeypatch: pytest.MonkeyPatch, root: str, problem: str) -> None:
    monkeypatch.setenv("RTLMP_DATA_ROOT", root)
    with pytest.raises(ConfigError, match="data_root") as error:
        load_config()
    assert problem in str(error.value)
