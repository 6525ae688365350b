"""The scheduled jobs by name: each one's cron script and luigi task (no other import, so cheap to load).

``python -m pipeline.jobs list`` and ``--help`` need only these four lines of facts; the machinery that
runs a job (:mod:`pipeline.ops.jobs`) loads the configuration, pandas and scikit-learn, seconds of
imports a person waiting for a list should not pay.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class JobSpec:
    """One scheduled job: its key in ``scheduler``/``error_recovery``, its cron script and its luigi task."""

    name: str
    script: str
    task: str
    ranged: bool  # driven by RangeDaily (missed days caught up) or one task for today

    def luigi_args(self) -> list[str]:
        """The luigi arguments the cron scripts pass (the run adds the dates and retry settings)."""
        if self.ranged:
            return ["--module", "pipeline", "RangeDaily", "--of", self.task]
        return ["--module", "pipeline", self.task]


JOBS: dict[str, JobSpec] = {
    spec.name: spec
    for spec in (
        JobSpec("data_fetching", "daily_data_fetch", "FetchDaily", ranged=True),
        JobSpec("inference", "daily_inference", "DailyInference", ranged=True),
        JobSpec("model_retraining", "model_retraining", "RetrainModel", ranged=True),
        JobSpec("backtesting", "weekly_backtesting", "WeeklyBacktest", ranged=False),
    )
}
