"""WeeklyBacktest: the Sunday job. Two backtests (this window, a week earlier) -> comparison and report.

``WeeklyBacktest(date)`` replays the last ``backtest.weekly_weeks`` weeks of forecasts whose
horizon ended before ``date`` and the same-length window one week earlier (each an ordinary
:class:`~pipeline.tasks.backtest.Backtest`, so their files serve on their own as well), writes
``backtests/weekly/<date>/comparison.json`` and a report with the comparison on top, and calls the
alert hook when the model's skill falls below ``backtest.skill_floor``.
"""

from __future__ import annotations

from typing import Any

import luigi

from pipeline import clock, drift, reporting
from pipeline.clock import TodayInCptParameter
from pipeline.drift import SkillAlert, SkillAlertHook
from pipeline.progress import Progress
from pipeline.tasks.backtest import Backtest
from pipeline.tasks.common import PipelineTask, log


class WeeklyBacktest(PipelineTask):
    """Backtests of the last ``backtest.weekly_weeks`` weeks and of the window a week earlier -> skill drift."""

    date = TodayInCptParameter(description="the day the weekly job runs (default: today in CPT)")
    priority = -10  # the seed's backtesting priority is 'low': pending daily work is scheduled first
    # When an alert is raised: the command-line layer's clock (tests replace it, as for the jobs).
    alert_clock: clock.Clock = staticmethod(clock.utc_now)

    def _windows(self) -> tuple[drift.Window, drift.Window]:
        return drift.weekly_windows(self.date, self.ctx.config.backtest.weekly_weeks)

    def requires(self) -> dict[str, Backtest]:
        current, previous = self._windows()
        return {"current": Backtest(start=current.start, end=current.end),
                "previous": Backtest(start=previous.start, end=previous.end)}

    def output(self) -> dict[str, luigi.Target]:
        layout = self.ctx.layout
        return {"comparison": layout.weekly_comparison(self.date), "report": layout.weekly_report(self.date)}

    def alert_hook(self) -> SkillAlertHook:
        """Who is told when skill falls below the floor: the configured alert channels.

        The alert goes to the log, ``ops/alerts.jsonl`` and, when configured, email and webhook
        (``alerts`` in the configuration), once per weekly date and threshold. A method rather than
        a parameter so the hook can use the configuration (``self.ctx``) and tests can replace it.
        """
        # Imported here: ``python -m pipeline.alerts`` must not find the module already imported
        # by the package (importing ``pipeline`` imports every task module).
        from pipeline import alerts

        ctx, now = self.ctx, self.alert_clock

        def send(skill: SkillAlert) -> None:
            alerts.send(alerts.Alert(
                kind="skill_below_floor", severity="warning",
                title=f"forecast skill at ${skill.threshold}/MWh below the floor", detail=skill.message(),
                at=now(), job="weekly_backtesting", key=f"skill_below_floor:{skill.date}:{skill.threshold}",
            ), ctx.config.alerts, ctx.layout.alert_log())

        return send

    def run(self) -> None:
        inputs = self.input()
        current = inputs["current"]["metrics"].read()
        comparison = drift.compare(self.date, current, inputs["previous"]["metrics"].read(),
                                   self.ctx.config.backtest.skill_floor)
        alert = drift.skill_alert(comparison)
        if alert is not None:
            # Before writing: a failure to alert fails the task, so the retry alerts again (never silently lost).
            self.alert_hook()(alert)
        self.output()["comparison"].write(comparison)
        self.output()["report"].write(self._render(current, comparison))
        log.info("weekly backtest %s: %s", self.date, reporting.drift_sentence(comparison))

    def _render(self, metrics: dict[str, Any], comparison: dict[str, Any]) -> str:
        """This window's report with the comparison section on top."""
        progress = Progress("weekly report", len(reporting.FIGURE_NAMES), percentage=self.set_progress_percentage,
                            message=self.set_status_message)
        rendered = reporting.render_backtest(self.input()["current"]["predictions"].read(), metrics, comparison,
                                             on_step=progress.advance)
        progress.close()
        return rendered.html
