"""ERCOT real-time price spike forecaster: a Luigi pipeline (``luigi --module pipeline <Task>``).

Importing the package registers every task with Luigi and exposes ``RangeDaily`` for catch-up runs.
Under the ``luigi`` command it first checks the configuration, the dates and the data root
(:mod:`pipeline.preflight`), so bad input is one clear line before anything is scheduled.
"""

from luigi.tools.range import RangeDaily

from pipeline import preflight

from pipeline.tasks.backtest import Backtest
from pipeline.tasks.features import BuildFeatures, FeatureRange
from pipeline.tasks.fetch import (
    FetchAncillaryPrices,
    FetchDamPrices,
    FetchLoad,
    FetchLoadForecast,
    FetchRange,
    FetchRenewables,
    FetchRenewablesForecast,
    FetchRtPrices,
    FetchWeather,
    FetchWeatherForecast,
    HourlyPrices,
    HourlyPricesRange,
)
from pipeline.tasks.inference import DailyInference
from pipeline.tasks.operations import FetchDaily, PublishPreviousForecast, RetrainModel
from pipeline.tasks.train import GateModel, TrainModel
from pipeline.tasks.weekly import WeeklyBacktest

__all__ = [
    "Backtest",
    "BuildFeatures",
    "DailyInference",
    "FeatureRange",
    "FetchAncillaryPrices",
    "FetchDaily",
    "FetchDamPrices",
    "FetchLoad",
    "FetchLoadForecast",
    "FetchRange",
    "FetchRenewables",
    "FetchRenewablesForecast",
    "FetchRtPrices",
    "FetchWeather",
    "FetchWeatherForecast",
    "GateModel",
    "HourlyPrices",
    "HourlyPricesRange",
    "PublishPreviousForecast",
    "RangeDaily",
    "RetrainModel",
    "TrainModel",
    "WeeklyBacktest",
]

preflight.check_luigi_command()
