"""Everything one configuration (or one shard of it) gives the stages: settings, sources, layout,
lineage and model records, built once and shared (no luigi, no I/O at construction)."""

from __future__ import annotations

from pipeline import ercot_time
from pipeline.catalogue import HORIZON_HOURS
from pipeline.lineage import Lineage
from pipeline.model_records import ModelRecords
from pipeline.settings import Settings
from pipeline.sources import Sources
from targets import ForecastShape, Layout


class Configured:
    """The settings of one configuration (one shard), and the layout, lineage and records that follow from them.

    The layout knows the configured forecast shape (nodes, thresholds, 72 hours from 00:00 CPT of
    D+1), so a forecast file that does not hold exactly those rows is invalid.
    """

    def __init__(self, settings: Settings, sources: Sources) -> None:
        self.settings, self.sources = settings, sources
        nodes, thresholds = settings.features.nodes, settings.thresholds
        self.layout = Layout(settings.config.data_root, settings.tags, lambda day: ForecastShape(
            nodes, thresholds, ercot_time.forecast_hours(day)[0], HORIZON_HOURS))
        self.lineage = Lineage(settings, sources)
        self.records = ModelRecords(self.layout, self.lineage)

    def shard(self, shard: int) -> Configured:
        """One shard's (unsharded: this configuration itself)."""
        if not self.settings.sharded:
            self.settings.for_shard(shard)  # refuses a shard that does not exist
            return self
        return Configured(self.settings.for_shard(shard), self.sources)

    def shards(self) -> list[Configured]:
        return [self.shard(k) for k in range(len(self.settings.shards))]
