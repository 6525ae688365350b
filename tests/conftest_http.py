"""Fixtures for the HTTP clients' tests: a local server, a fake clock, instant sleeps.

Imported by the test modules that need them (``from tests.conftest_http import *``); the shared
``tests/conftest.py`` stays free of HTTP concerns.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest

from pipeline.config import ErcotApiConfig, ErcotMisConfig, OpenMeteoConfig
from tests.http_server import LocalServer

__all__ = ["FakeClock", "api_config", "clock", "http_server", "mis_config", "open_meteo_config", "rng"]

# Tiny timeouts and no real backoff keep every failure-mode test well under a second.
FAST = {"connect_timeout_seconds": 1.0, "read_timeout_seconds": 0.2, "max_retries": 2, "backoff_seconds": 0.5}


class FakeClock:
    """A monotonic clock that only moves when told to -- or when something "sleeps" on it."""

    def __init__(self, start: float = 1_000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def http_server() -> Iterator[LocalServer]:
    server = LocalServer()
    yield server
    server.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def rng() -> random.Random:
    return random.Random(1234)


@pytest.fixture
def mis_config(http_server: LocalServer) -> ErcotMisConfig:
    return ErcotMisConfig(base_url=http_server.url, **FAST)


@pytest.fixture
def api_config(http_server: LocalServer) -> ErcotApiConfig:
    return ErcotApiConfig(
        base_url=f"{http_server.url}/api/public-reports",
        token_url=f"{http_server.url}/ercotb2c.onmicrosoft.com/B2C_1_PUBAPI-ROPC-FLOW/oauth2/v2.0/token",
        page_size=10,
        **FAST,
    )


@pytest.fixture
def open_meteo_config(http_server: LocalServer) -> OpenMeteoConfig:
    return OpenMeteoConfig(
        forecast_url=f"{http_server.url}/v1/forecast",
        archive_url=f"{http_server.url}/v1/archive",
        historical_forecast_url=f"{http_server.url}/historical/v1/forecast",
        **FAST,
    )
