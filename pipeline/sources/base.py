"""What every data source provides: canonical frames for one key day of one dataset.

A source turns some provider's files or responses into the canonical frames declared in
``targets.schemas`` (UTC ``interval_start``, ``published_at``). A day the source cannot deliver is
a :class:`DataUnavailable` error naming the dataset, the day and why -- never an empty or
zero-filled frame.
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import Iterable

import pandas as pd


class SourceError(RuntimeError):
    """A source failed (bad payload, HTTP failure after retries, unparseable file)."""


class DataUnavailable(SourceError):
    """A dataset is not available for a key day (not published yet, not in the archive, ...)."""

    def __init__(self, dataset: str, day: dt.date, reason: str) -> None:
        super().__init__(f"{dataset} for {day.isoformat()} is unavailable: {reason}")
        self.dataset = dataset
        self.day = day
        self.reason = reason


class Source(ABC):
    """A provider of canonical datasets."""

    #: Name used in paths (``raw/<name>/...``) and in publication-rule overrides.
    name: str
    #: Whether the data is simulated (then labelled so wherever it appears).
    simulated: bool = False

    #: Distinguishes configurations of one source that yield different data (seed, node set).
    storage_suffix: str = ""
    #: Changes whenever this source starts producing different data for the same key (e.g. a new
    #: version of the simulator), so every raw file read from it before is read again.
    data_version: str = "1"
    #: Whether :meth:`fingerprint` tells when the data changed and a day can be read again at any
    #: time (files on disk, the simulator). Network services keep documents only for a while, so a
    #: raw file of theirs written by an older version (without a stamp) is kept, not fetched again.
    verifiable: bool = False

    @property
    def storage_key(self) -> str:
        """Folder name of this source's raw files: different data must never share a folder."""
        return f"{self.name}-{self.storage_suffix}" if self.storage_suffix else self.name

    @property
    @abstractmethod
    def datasets(self) -> tuple[str, ...]:
        """The canonical datasets this source can provide at all."""

    def covers(self, dataset: str, day: dt.date) -> bool:
        """Whether ``dataset`` can exist for key day ``day`` (e.g. the archive holds that year).

        A day not covered is a known, reported gap (the feature step works without it); a covered
        day that then fails to fetch is an error.
        """
        return dataset in self.datasets

    def fingerprint(self, dataset: str, day: dt.date) -> str:
        """What identifies the data this source gives for (``dataset``, ``day``) now.

        A raw file records it; when it changes (a re-downloaded archive file, a new simulator), the
        raw file is read again and everything made from it is remade. Sources that cannot tell without
        fetching (network services) keep the default, a constant: once fetched, a file is kept.
        """
        return f"{self.name}:v{self.data_version}"

    def describe(self, dataset: str, day: dt.date) -> str:
        """Where (``dataset``, ``day``) comes from, for people: the source, or the files it is read from."""
        return self.name

    @abstractmethod
    def fetch(self, dataset: str, day: dt.date) -> pd.DataFrame:
        """The canonical frame of ``dataset`` for key day ``day``, or :class:`DataUnavailable`."""

    def settlement_points(self, day: dt.date) -> pd.DataFrame:
        """Every settlement point this source has real-time prices for on ``day``.

        A frame of :data:`targets.schemas.SETTLEMENT_POINTS` (``name``, ``type``, ``load_zone``,
        ``hub``; the last two None where the source does not say). ``market.nodes: all`` means
        every name listed here.
        """
        raise DataUnavailable("settlement_points", day, f"the {self.name} source does not list its settlement points")

    def fetch_many(self, dataset: str, days: Iterable[dt.date]) -> dict[dt.date, pd.DataFrame]:
        """Several key days at once; sources override this where a bulk read is cheaper."""
        return {day: self.fetch(dataset, day) for day in days}
