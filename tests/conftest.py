"""Shared fixtures: an isolated environment per test, a temporary data root, luigi's cache cleared."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import luigi
import pytest

from pipeline import config as config_module
from pipeline.tasks import base as tasks_base

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
TEST_ARTIFACT_KEY = "5e" * 32


@pytest.fixture(scope="session", autouse=True)
def _session_signing_key(tmp_path_factory: pytest.TempPathFactory):
    """The tests' model-signing key, set before any fixture of any scope builds a model."""
    patch = pytest.MonkeyPatch()
    patch.setenv("RTLMP_ARTIFACT_KEY", TEST_ARTIFACT_KEY)
    patch.setenv("RTLMP_ARTIFACT_KEY_FILE", str(tmp_path_factory.mktemp("keys") / "artifact.key"))
    yield
    patch.undo()


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test sees the developer's RTLMP_* settings, credentials or luigi's cached task instances."""
    for name in ("RTLMP_CONFIG", "RTLMP_DATA_ROOT", "ERCOT_API_USERNAME", "ERCOT_API_PASSWORD",
                 "ERCOT_API_SUBSCRIPTION_KEY", "RTLMP_WEBHOOK_URL", "RTLMP_SMTP_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RTLMP_DATA_ROOT", str(tmp_path / "data"))
    # The model-signing key of the tests (never the developer's ~/.config one): one key for the whole
    # session, so pipeline roots built once and copied stay loadable; subprocesses inherit it.
    monkeypatch.setenv("RTLMP_ARTIFACT_KEY", TEST_ARTIFACT_KEY)
    monkeypatch.setenv("RTLMP_ARTIFACT_KEY_FILE", str(tmp_path / "keys" / "artifact.key"))
    monkeypatch.setenv("LUIGI_CONFIG_PATH", str(REPO / "luigi.cfg"))
    reset_caches()
    yield
    reset_caches()


def reset_caches() -> None:
    """Forget the loaded configuration, the tasks' settings and sources, and luigi's task instances."""
    config_module._load_cached.cache_clear()
    tasks_base.forget_configuration()
    luigi.task_register.Register.clear_instance_cache()


@pytest.fixture
def data_root(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def write_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Write a partial YAML override, point RTLMP_CONFIG at it and return the loaded config."""

    def _write(text: str):
        path = tmp_path / "override.yaml"
        path.write_text(text)
        monkeypatch.setenv("RTLMP_CONFIG", str(path))
        reset_caches()
        return config_module.load_config()

    return _write


@pytest.fixture
def shared_data() -> Path:
    """The real ERCOT files in ../shared/data; tests needing them skip with a clear reason when absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real ERCOT data not found at {SHARED_DATA} (see the README's test section)")
    return SHARED_DATA


def small_config(nodes: Sequence[str] = ("HB_NORTH", "HB_WEST"), market: str = "", model: str = "") -> str:
    """The fast test configuration of the full pipeline, with extra ``market`` and ``model`` YAML lines."""
    return (f"market:\n  nodes: [{', '.join(nodes)}]\n  thresholds: [100, 1000]\n{market}"
            "features:\n  lookback_days: 14\n"
            f"model:\n  history_days: 30\n  validation_days: 8\n  max_age_days: 6\n  max_iter: 30\n{model}")


SMALL_CONFIG = small_config()


@pytest.fixture
def small_pipeline(write_config):
    """A fast configuration of the full pipeline on the simulator (2 nodes, 2 thresholds, 30-day windows)."""
    return write_config(SMALL_CONFIG)


@pytest.fixture
def use_root(monkeypatch: pytest.MonkeyPatch):
    """Point the pipeline at another data root (RTLMP_DATA_ROOT) and reset the caches."""

    def _use(path: Path) -> None:
        monkeypatch.setenv("RTLMP_DATA_ROOT", str(path))
        reset_caches()

    return _use
