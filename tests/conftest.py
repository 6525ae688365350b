"""Shared fixtures: an isolated environment per test, a temporary data root, luigi's cache cleared."""

from __future__ import annotations

from pathlib import Path

import luigi
import pytest

from pipeline import config as config_module

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test sees the developer's RTLMP_* settings, credentials or luigi's cached task instances."""
    for name in ("RTLMP_CONFIG", "RTLMP_DATA_ROOT", "ERCOT_API_USERNAME", "ERCOT_API_PASSWORD",
                 "ERCOT_API_SUBSCRIPTION_KEY", "RTLMP_WEBHOOK_URL", "RTLMP_SMTP_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RTLMP_DATA_ROOT", str(tmp_path / "data"))
    monkeypatch.setenv("LUIGI_CONFIG_PATH", str(REPO / "luigi.cfg"))
    config_module._load_cached.cache_clear()
    luigi.task_register.Register.clear_instance_cache()
    yield
    luigi.task_register.Register.clear_instance_cache()
    config_module._load_cached.cache_clear()


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
        config_module._load_cached.cache_clear()
        return config_module.load_config()

    return _write


@pytest.fixture
def shared_data() -> Path:
    """The real ERCOT files in ../shared/data; tests needing them skip with a clear reason when absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real ERCOT data not found at {SHARED_DATA} (see the README's test section)")
    return SHARED_DATA
