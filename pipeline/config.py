"""Configuration: ``config/pipeline.yaml`` loaded once into typed, validated objects.

``RTLMP_CONFIG`` names a partial YAML merged over the defaults; ``RTLMP_DATA_ROOT`` overrides
``data_root``. Unknown keys, wrong types and impossible values raise :class:`ConfigError` naming the
key and the file. Secrets never live here: the config only names the environment variables that
hold them, and they are read lazily by the code that needs them.

Run ``python -m pipeline.config`` to validate the effective configuration and print it.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from croniter import croniter
from croniter.croniter import CroniterError
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from pipeline.catalogue import MAIN_HUBS
from pipeline.config_file import ConfigFileError, deep_merge, origin_of, read_mapping
from pipeline.ercot_time import ErcotTimeError, parse_hhmm
from targets.s3 import check_url

DEFAULTS_PATH = Path(__file__).resolve().parents[1] / "config" / "pipeline.yaml"
CONFIG_ENV = "RTLMP_CONFIG"
DATA_ROOT_ENV = "RTLMP_DATA_ROOT"


class ConfigError(ValueError):
    """The configuration is invalid; the message names the key and the file."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


def _check_hhmm(value: str) -> str:
    try:
        parse_hhmm(value)
    except ErcotTimeError as exc:
        raise ValueError(str(exc)) from exc
    return value


# --- domain ------------------------------------------------------------------------------------

# The most nodes one shard's model pools: the booster takes the node as a categorical input, and
# scikit-learn's histogram boosting allows at most 255 categories.
MAX_SHARD_SIZE = 250
# A baseline must beat the model by this relative margin on the validation window to serve instead
# (chosen on the real 2021-2022 archive, confirmed on 2023: benchmarks/margin.py).
BASELINE_MARGIN_DEFAULT = 0.5


ALL_NODES = "all"


class MarketConfig(_Strict):
    # Settlement points to forecast, or "all": every one the market source lists.
    nodes: tuple[str, ...] | Literal["all"] = MAIN_HUBS
    thresholds: tuple[float, ...] = (100.0, 250.0, 1000.0)
    # Nodes per shard: features, models and forecasts are made per shard of this many nodes, so
    # luigi workers run shards in parallel (null: one shard of every node).
    shard_size: int | None = Field(None, ge=1, le=MAX_SHARD_SIZE)

    @field_validator("nodes")
    @classmethod
    def _nodes(cls, nodes: tuple[str, ...] | str) -> tuple[str, ...] | str:
        if nodes == ALL_NODES:
            return nodes
        if not nodes:
            raise ValueError("at least one settlement point is required")
        for node in nodes:
            if not node or node != node.strip() or not node.replace("_", "").isalnum():
                raise ValueError(f"{node!r} is not a settlement point name (letters, digits, _)")
        if len(set(nodes)) != len(nodes):
            raise ValueError("settlement points are listed more than once")
        return nodes

    @field_validator("thresholds")
    @classmethod
    def _thresholds(cls, thresholds: tuple[float, ...]) -> tuple[float, ...]:
        if not thresholds:
            raise ValueError("at least one threshold is required")
        if not all(math.isfinite(t) for t in thresholds):
            raise ValueError("thresholds must be finite $/MWh values")
        if any(t <= 0 for t in thresholds):
            raise ValueError("thresholds must be positive $/MWh values")
        if len(set(thresholds)) != len(thresholds):
            raise ValueError("thresholds are listed more than once")
        return tuple(sorted(float(t) for t in thresholds))


class SyntheticConfig(_Strict):
    seed: int = 20240101


class HttpConfig(_Strict):
    connect_timeout_seconds: float = Field(10.0, gt=0)
    read_timeout_seconds: float = Field(60.0, gt=0)
    max_retries: int = Field(4, ge=0, le=20)
    backoff_seconds: float = Field(2.0, ge=0)


class ErcotMisConfig(HttpConfig):
    base_url: str = "https://www.ercot.com"


class ErcotApiConfig(HttpConfig):
    base_url: str = "https://api.ercot.com/api/public-reports"
    token_url: str = (
        "https://ercotb2c.b2clogin.com/ercotb2c.onmicrosoft.com/B2C_1_PUBAPI-ROPC-FLOW/oauth2/v2.0/token"
    )
    username_env: str = "ERCOT_API_USERNAME"
    password_env: str = "ERCOT_API_PASSWORD"
    subscription_key_env: str = "ERCOT_API_SUBSCRIPTION_KEY"
    requests_per_minute: int = Field(30, gt=0)
    read_timeout_seconds: float = Field(120.0, gt=0)
    max_retries: int = Field(5, ge=0, le=20)
    page_size: int = Field(100000, gt=0)


class GeoPoint(_Strict):
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)


_DEFAULT_POINTS = {
    "COAST": GeoPoint(latitude=29.76, longitude=-95.37),
    "EAST": GeoPoint(latitude=32.35, longitude=-95.30),
    "FAR_WEST": GeoPoint(latitude=31.99, longitude=-102.08),
    "NORTH": GeoPoint(latitude=33.91, longitude=-98.49),
    "NORTH_C": GeoPoint(latitude=32.78, longitude=-96.80),
    "SOUTHERN": GeoPoint(latitude=27.80, longitude=-97.40),
    "SOUTH_C": GeoPoint(latitude=30.27, longitude=-97.74),
    "WEST": GeoPoint(latitude=32.45, longitude=-99.73),
}


class OpenMeteoConfig(HttpConfig):
    forecast_url: str = "https://api.open-meteo.com/v1/forecast"
    archive_url: str = "https://archive-api.open-meteo.com/v1/archive"
    # Archived forecasts, as-of correct: each hour's value as forecast N days before it (previous_dayN).
    previous_runs_url: str = "https://previous-runs-api.open-meteo.com/v1/forecast"
    points: dict[str, GeoPoint] = Field(default_factory=lambda: dict(_DEFAULT_POINTS))

    @field_validator("points")
    @classmethod
    def _points(cls, points: dict[str, GeoPoint]) -> dict[str, GeoPoint]:
        if not points:
            raise ValueError("at least one weather point is required")
        return points


class SourcesConfig(_Strict):
    market: Literal["synthetic", "ercot_archive", "ercot_mis", "ercot_api"] = "synthetic"
    weather: Literal["synthetic", "archive", "open_meteo", "none"] = "synthetic"
    archive_dir: Path | None = None
    weather_dir: Path | None = None
    synthetic: SyntheticConfig = SyntheticConfig()
    ercot_mis: ErcotMisConfig = ErcotMisConfig()
    ercot_api: ErcotApiConfig = ErcotApiConfig()
    open_meteo: OpenMeteoConfig = OpenMeteoConfig()

    @model_validator(mode="after")
    def _archive_needs_dir(self) -> SourcesConfig:
        if self.market == "ercot_archive" and self.archive_dir is None:
            raise ValueError("sources.archive_dir is required when sources.market is ercot_archive")
        if self.weather == "archive" and self.weather_dir is None:
            raise ValueError("sources.weather_dir is required when sources.weather is archive")
        return self


class FeaturesConfig(_Strict):
    issue_time: str = "06:00"
    lookback_days: int = Field(28, ge=7, le=366)

    @field_validator("issue_time")
    @classmethod
    def _issue_time(cls, value: str) -> str:
        return _check_hhmm(value)


class GateConfig(_Strict):
    metric: Literal["brier", "log_loss"] = "brier"
    margin: float = Field(0.0, ge=0.0, le=1.0)
    # A baseline serves a threshold instead of the model only when it beat the model on the
    # validation window by more than this relative margin (null: the model always serves).
    baseline_margin: float | None = Field(BASELINE_MARGIN_DEFAULT, ge=0.0, lt=1.0)


class ModelConfig(_Strict):
    retrain_every_days: int = Field(2, ge=1, le=365)
    cadence_anchor: dt.date = dt.date(2000, 1, 1)
    history_days: int = Field(365, ge=14, le=3660)
    validation_days: int = Field(28, ge=3, le=365)
    max_age_days: int = Field(14, ge=1, le=3660)
    seed: int = 7
    gate: GateConfig = GateConfig()
    max_iter: int = Field(200, ge=1, le=5000)
    learning_rate: float = Field(0.05, gt=0, le=1)
    max_leaf_nodes: int = Field(4, ge=2, le=1024)
    min_samples_leaf: int = Field(500, ge=1)
    l2_regularization: float = Field(1.0, ge=0)
    excluded_features: tuple[str, ...] = ("month", "doy_sin", "doy_cos")
    logistic_weight: float = Field(0.3, ge=0, le=1)
    threads: int | None = Field(None, ge=1, le=256)

    @model_validator(mode="after")
    def _windows(self) -> ModelConfig:
        if self.validation_days >= self.history_days:
            raise ValueError("model.validation_days must be smaller than model.history_days")
        if self.max_age_days < self.retrain_every_days:
            raise ValueError("model.max_age_days must be at least model.retrain_every_days")
        return self


class BacktestConfig(_Strict):
    weekly_weeks: int = Field(4, ge=1, le=520)
    skill_floor: float = Field(0.0, ge=-10.0, le=1.0)


class Bound(_Strict):
    min: float
    max: float

    @model_validator(mode="after")
    def _ordered(self) -> Bound:
        if not (math.isfinite(self.min) and math.isfinite(self.max)) or self.min >= self.max:
            raise ValueError(f"a bound needs finite min < max, got [{self.min}, {self.max}]")
        return self


class BoundsConfig(_Strict):
    """Plausible ranges of the canonical values (sources: ERCOT's offer floor, system-wide offer caps
    and price adders; see the README's "Integrity" section). Anything outside, and any non-finite
    value, is corrupt: it is set aside at fetch, never used."""

    # Real-time and day-ahead settlement point prices and LMPs, $/MWh. Offer floor -$250 (congestion
    # takes nodal prices lower), offer cap $9,000 through 2021 and $5,000 since, plus adders (real-time
    # hub prices reached $10,530 in February 2021).
    price: Bound = Bound(min=-2000.0, max=30000.0)
    # Day-ahead ancillary service clearing prices, $/MW per hour (never negative).
    ancillary_price: Bound = Bound(min=0.0, max=50000.0)
    load_mw: Bound = Bound(min=0.0, max=200000.0)
    generation_mw: Bound = Bound(min=-1000.0, max=100000.0)
    temperature_c: Bound = Bound(min=-50.0, max=60.0)
    wind_speed_ms: Bound = Bound(min=0.0, max=100.0)


class IntegrityConfig(_Strict):
    """What counts as a usable input (see :mod:`pipeline.integrity`)."""

    bounds: BoundsConfig = BoundsConfig()
    # A node's forecast is ``degraded_inputs`` when more than this share of the model inputs that
    # had data in training is missing on the issue day (e.g. a day past the end of an archive).
    max_missing_share: float = Field(0.2, ge=0.0, le=1.0)


# --- operations (the seed document's sections and key names) ------------------------------------

# A cron expression must fire at least once after this instant (croniter searches years ahead).
CRON_PROBE_START = dt.datetime(2000, 1, 1)

Priority = Literal["critical", "high", "medium", "low"]


class ScheduledTask(_Strict):
    enabled: bool = True
    cron_expression: str
    timeout_minutes: int = Field(gt=0)
    retry_count: int = Field(ge=0, le=20)
    priority: Priority

    @field_validator("cron_expression")
    @classmethod
    def _cron(cls, expression: str) -> str:
        """Five fields that croniter reads and that fire at least once: refused here, not by the scheduler."""
        if len(expression.split()) != 5:
            raise ValueError(f"{expression!r} is not a five-field cron expression")
        try:
            # From a fixed instant (no wall clock): an impossible day ("0 0 31 2 *") never fires.
            croniter(expression, CRON_PROBE_START).get_next(dt.datetime)
        except (CroniterError, ValueError) as exc:
            raise ValueError(f"{expression!r} is not a valid cron expression ({exc})") from None
        return expression


class SchedulerConfig(_Strict):
    data_fetching: ScheduledTask = ScheduledTask(
        cron_expression="0 0 * * *", timeout_minutes=60, retry_count=3, priority="high"
    )
    inference: ScheduledTask = ScheduledTask(
        cron_expression="0 6 * * *", timeout_minutes=120, retry_count=2, priority="critical"
    )
    model_retraining: ScheduledTask = ScheduledTask(
        cron_expression="0 1 */2 * *", timeout_minutes=240, retry_count=1, priority="medium"
    )
    backtesting: ScheduledTask = ScheduledTask(
        cron_expression="0 2 * * 0", timeout_minutes=360, retry_count=1, priority="low"
    )


class Recovery(_Strict):
    retry_delay_seconds: int = Field(ge=0)
    max_retries: int = Field(ge=0, le=20)


class FetchRecovery(Recovery):
    fallback: Literal["use_cached_data", "none"] = "use_cached_data"


class InferenceRecovery(Recovery):
    fallback: Literal["use_previous_forecast", "none"] = "use_previous_forecast"


class RetrainRecovery(Recovery):
    fallback: Literal["retain_current_model", "none"] = "retain_current_model"


class ErrorRecoveryConfig(_Strict):
    data_fetching: FetchRecovery = FetchRecovery(retry_delay_seconds=300, max_retries=3)
    inference: InferenceRecovery = InferenceRecovery(retry_delay_seconds=600, max_retries=2)
    model_retraining: RetrainRecovery = RetrainRecovery(retry_delay_seconds=1800, max_retries=1)
    # Not in the seed: the weekly backtest's retries (it has no fallback).
    backtesting: Recovery = Recovery(retry_delay_seconds=1800, max_retries=1)


class DamClosure(_Strict):
    time: str = "10:00"
    buffer_minutes: int = Field(60, ge=0, le=600)
    alert_on_risk: bool = True
    fallback_on_miss: bool = True

    @field_validator("time")
    @classmethod
    def _time(cls, value: str) -> str:
        return _check_hhmm(value)


class DeadlinesConfig(_Strict):
    dam_closure: DamClosure = DamClosure()


class EmailAlerts(_Strict):
    enabled: bool = False
    smtp_host: str = "localhost"
    smtp_port: int = Field(25, gt=0, lt=65536)
    use_tls: bool = False
    timeout_seconds: float = Field(10.0, gt=0)
    sender: str = "rtlmp-forecaster@localhost"
    recipients: tuple[str, ...] = ()
    username_env: str = "RTLMP_SMTP_USERNAME"
    password_env: str = "RTLMP_SMTP_PASSWORD"

    @model_validator(mode="after")
    def _recipients(self) -> EmailAlerts:
        if self.enabled and not self.recipients:
            raise ValueError("alerts.email.recipients must list an address when email alerts are enabled")
        return self


class WebhookAlerts(_Strict):
    enabled: bool = False
    url_env: str = "RTLMP_WEBHOOK_URL"
    timeout_seconds: float = Field(10.0, gt=0)


class AlertsConfig(_Strict):
    email: EmailAlerts = EmailAlerts()
    webhook: WebhookAlerts = WebhookAlerts()


class LoggingConfig(_Strict):
    dir: Path = Path("logs")
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    max_bytes: int = Field(5_000_000, gt=0)
    backup_count: int = Field(5, ge=0)


class OperationsConfig(_Strict):
    """How the scheduled jobs run (``pipeline.jobs``, ``pipeline.scheduler``, the cron scripts)."""

    # Past days a daily job fills in when they are missing (RangeDaily --start = today - catch_up_days).
    catch_up_days: int = Field(7, ge=0, le=366)
    # local: every job runs with --local-scheduler; central: through luigid ([core] scheduler_host/port
    # in luigi.cfg); auto: central when luigid answers there, else local.
    luigi_scheduler: Literal["auto", "local", "central"] = "auto"
    # The built-in scheduler wakes up at least this often (and at every cron fire time).
    poll_seconds: int = Field(30, ge=1, le=3600)
    # On SIGTERM/SIGINT, running jobs get this long to finish their current tasks before they are stopped.
    stop_grace_seconds: int = Field(60, ge=0, le=3600)
    # Rewrite status/index.html under the data root after every job and deadline check.
    status_page: bool = True


class Config(_Strict):
    # A local folder, or an S3-compatible object store prefix s3://BUCKET/PREFIX (endpoint and keys
    # from AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY).
    data_root: str = "data"
    market: MarketConfig = MarketConfig()
    sources: SourcesConfig = SourcesConfig()
    features: FeaturesConfig = FeaturesConfig()
    model: ModelConfig = ModelConfig()
    backtest: BacktestConfig = BacktestConfig()
    integrity: IntegrityConfig = IntegrityConfig()
    scheduler: SchedulerConfig = SchedulerConfig()
    error_recovery: ErrorRecoveryConfig = ErrorRecoveryConfig()
    deadlines: DeadlinesConfig = DeadlinesConfig()
    alerts: AlertsConfig = AlertsConfig()
    logging: LoggingConfig = LoggingConfig()
    operations: OperationsConfig = OperationsConfig()

    @field_validator("data_root", mode="before")
    @classmethod
    def _root(cls, value: object) -> str:
        text = str(value)
        if not text.strip():
            raise ValueError("data_root is empty")
        return check_url(text) if text.startswith("s3://") else text

    def fingerprint(self, *sections: str) -> str:
        """A short stable hash of the named sections, for naming artifacts that depend on them."""
        payload = {name: _section_dump(self, name) for name in sections}
        text = json.dumps(payload, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:10]


# Keys that change how fast a result is computed, never the result: left out of fingerprints.
# (The shard size is named in the folders of sharded outputs instead: unsharded ones keep their names.)
EXECUTION_ONLY = {"model": frozenset({"threads"}), "market": frozenset({"shard_size"})}


def _section_dump(config: Config, dotted: str) -> Any:
    value: Any = config
    for part in dotted.split("."):
        value = getattr(value, part)
    if not isinstance(value, BaseModel):
        return value
    return value.model_dump(mode="json", exclude=set(EXECUTION_ONLY.get(dotted, ())))


# --- loading -------------------------------------------------------------------------------------


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        return read_mapping(path)
    except ConfigFileError as exc:
        raise ConfigError(str(exc)) from exc


def _describe(error: ValidationError, files: list[Path]) -> str:
    where = " merged over ".join(str(p) for p in reversed(files))
    lines = []
    for item in error.errors():
        key = ".".join(str(part) for part in item["loc"]) or "(top level)"
        if item["type"] == "extra_forbidden":
            lines.append(f"unknown key '{key}'")
        else:
            lines.append(f"key '{key}': {item['msg']} (got {item.get('input')!r})")
    return f"invalid configuration in {where}: " + "; ".join(lines)


# (dotted key, value, what is wrong with it)
Problem = tuple[str, object, str]


def _beyond_the_schema(config: Config) -> list[Problem]:
    """What one section cannot check alone: values against other sections, folders, the source's points."""
    problems: list[Problem] = []
    highest = config.integrity.bounds.price.max
    above = [t for t in config.market.thresholds if t > highest]
    if above:
        problems.append(("market.thresholds", list(config.market.thresholds),
                         f"{above[0]:g} is above integrity.bounds.price.max ({highest:g} $/MWh): no price that "
                         "high is ever used, so it could never be exceeded"))
    for key in ("archive_dir", "weather_dir"):
        folder = getattr(config.sources, key)
        if folder is not None and not Path(folder).is_dir():
            problems.append((f"sources.{key}", str(folder), "no such folder"))
    if config.market.nodes != ALL_NODES and not problems:
        # Imported here: pipeline.sources, the package of that module, imports this one.
        from pipeline.sources.listed_points import unknown_nodes

        unknown = unknown_nodes(config.market.nodes, config.sources.market, config.sources.synthetic.seed,
                                config.sources.archive_dir)
        problems += [("market.nodes", list(config.market.nodes), text) for text in unknown]
    return problems


def build_config(
    defaults_path: Path = DEFAULTS_PATH,
    override_path: Path | None = None,
    data_root: str | None = None,
) -> Config:
    """Read, merge and validate the configuration; the pure core of :func:`load_config`."""
    layers = [(defaults_path, _read_yaml(defaults_path))]
    if override_path is not None:
        layers.append((override_path, _read_yaml(override_path)))
    merged: dict[str, Any] = {}
    for _, data in layers:
        merged = deep_merge(merged, data)
    if data_root:
        merged["data_root"] = data_root
    try:
        config = Config.model_validate(merged)
    except ValidationError as exc:
        first = exc.errors()[0]["loc"] if exc.errors() else ()
        origin = origin_of(tuple(str(p) for p in first), layers)
        files = [origin] if origin else [p for p, _ in layers]
        raise ConfigError(_describe(exc, files)) from None
    problems = _beyond_the_schema(config)
    if problems:
        key, value, text = problems[0]
        origin = origin_of(tuple(key.split(".")), layers)
        raise ConfigError(f"invalid configuration in {origin}: key '{key}': {text} (got {value!r})")
    return config


def _file_version(path: Path | None) -> tuple[str, int, int] | None:
    """What changes whenever the file does (its size and modification time); None when absent."""
    if path is None:
        return None
    try:
        info = path.stat()
    except OSError:
        return (str(path), -1, -1)  # read (and reported) by build_config
    return (str(path), info.st_size, info.st_mtime_ns)


@functools.lru_cache(maxsize=8)
def _load_cached(override: str | None, data_root: str | None, versions: tuple[object, ...] = ()) -> Config:
    return build_config(DEFAULTS_PATH, Path(override) if override else None, data_root)


def config_key(environ: Mapping[str, str] | None = None) -> tuple[str | None, str | None]:
    """The environment values that determine the configuration: (RTLMP_CONFIG, RTLMP_DATA_ROOT)."""
    env = os.environ if environ is None else environ
    return env.get(CONFIG_ENV) or None, env.get(DATA_ROOT_ENV) or None


def load_config(environ: Mapping[str, str] | None = None) -> Config:
    """The effective configuration for the given environment (``os.environ`` by default).

    Parsed again whenever RTLMP_CONFIG, RTLMP_DATA_ROOT or the content of either file changes (the
    files' size and modification time are checked at every call), so a long-running process never
    keeps settings that are no longer in force.
    """
    override, data_root = config_key(environ)
    versions = (_file_version(DEFAULTS_PATH), _file_version(Path(override) if override else None))
    return _load_cached(override, data_root, versions)


def config_identity(config: Config) -> str:
    """A short fingerprint of the whole effective configuration: part of every task's identity."""
    text = json.dumps(config.model_dump(mode="json"), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def flat_settings(config: Config, *sections: str) -> dict[str, Any]:
    """``{"market.thresholds": [...], ...}``: the leaf values of ``sections``, for naming changed keys."""
    flat: dict[str, Any] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(f"{prefix}.{key}", inner)
        else:
            flat[prefix] = value

    for name in sections:
        walk(name, _section_dump(config, name))
    return flat
