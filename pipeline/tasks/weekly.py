"""WeeklyBacktest: the Sunday job. Two backtests (this window, a week earlier) -> comparison and report.

``WeeklyBacktest(date)`` replays the last ``backtest.weekly_weeks`` weeks of forecasts whose
horizon ended before ``date`` and the same-length window one week earlier (each an ordinary
:class:`~pipeline.tasks.backtest.Backtest`, so their files serve on their own as well), writes
``backtests/weekly/<date>/comparison.json`` and a report with the comparison on top, and calls the
alert hook when the model's skill falls below ``backtest.skill_floor``.
"""

from __future__ import annotations

import luigi

from pipeline import clock, drift
from pipeline.drift import SkillAlert, SkillAlertHook
from pipeline.ops import alerts
from pipeline.progress import Progress
from pipeline.render import backtest_page
from pipeline.render.figures import FIGURE_NAMES
from pipeline.tasks.backtest import Backtest
from pipeline.tasks.base import PipelineTask, TodayInCptParameter, log
from targets import Stamp
from targets.stamp import combined, digest


class WeeklyBacktest(PipelineTask):
    """Backtests of the last ``backtest.weekly_weeks`` weeks and of the window a week earlier -> skill drift."""

    date = TodayInCptParameter(description="the day the weekly job runs (default: today in CPT)")
    priority = -10  # the seed's backtesting priority is 'low': pending daily work is scheduled first
    # When an alert is raised: the command-line layer's clock (tests replace it, as for the jobs).
    alert_clock: clock.Clock = staticmethod(clock.utc_now)

    def requires(self) -> dict[str, Backtest]:
        current, previous = drift.weekly_windows(self.date, self.settings.config.backtest.weekly_weeks)
        return {"current": self.requires_of(Backtest, start=current.start, end=current.end),
                "previous": self.requires_of(Backtest, start=previous.start, end=previous.end)}

    def output(self) -> dict[str, luigi.Target]:
        return {"comparison": self.layout.weekly_comparison(self.date), "report": self.layout.weekly_report(self.date)}

    def stamp(self) -> Stamp:
        """The two backtests compared, and the weekly settings (window, skill floor)."""
        backtests = self.requires()
        return Stamp(digest("weekly", backtests["current"].stamp().settings,
                            self.settings.config.backtest.model_dump(mode="json")),
                     combined(backtests[k].stamp().made_from for k in ("current", "previous")))

    def complete(self) -> bool:
        outputs = self.output()
        return outputs["comparison"].current(self.stamp()) and outputs["report"].exists()

    def alert_hook(self) -> SkillAlertHook:
        """Who is told when skill falls below the floor: the configured alert channels.

        The alert goes to the log, ``ops/alerts.jsonl`` and, when configured, email and webhook
        (``alerts`` in the configuration), once per weekly date and threshold. A method rather than
        a parameter so the hook can use the configuration and tests can replace it.
        """
        config, history, now = self.settings.config, self.layout.alert_log(), self.alert_clock

        def send(skill: SkillAlert) -> None:
            alerts.send(alerts.Alert(
                kind="skill_below_floor", severity="warning",
                title=f"forecast skill at ${skill.threshold}/MWh below the floor", detail=skill.message(),
                at=now(), job="weekly_backtesting", key=f"skill_below_floor:{skill.date}:{skill.threshold}",
            ), config.alerts, history)

        return send

    def run(self) -> None:
        inputs = self.input()
        current = inputs["current"]["metrics"].read()
        comparison = drift.compare(self.date, current, inputs["previous"]["metrics"].read(),
                                   self.settings.config.backtest.skill_floor)
        alert = drift.skill_alert(comparison)
        if alert is not None:
            # Before writing: a failure to alert fails the task, so the retry alerts again (never silently lost).
            self.alert_hook()(alert)
        progress = Progress("weekly report", len(FIGURE_NAMES), percentage=self.set_progress_percentage,
                            message=self.set_status_message)
        rendered = backtest_page.render(inputs["current"]["predictions"].read(), current, comparison,
                                        on_step=progress.advance)
        progress.close()
        outputs = self.output()
        if outputs["report"].store.exists(outputs["report"].path):  # of other backtests or settings
            outputs["report"].set_aside("superseded", "made from other backtests or settings than those in force")
        outputs["comparison"].write(comparison, self.stamp())
        outputs["report"].write(rendered.html)
        self._log_summary(current, comparison)

    def _log_summary(self, metrics: dict, comparison: dict) -> None:
        """The report's plain summary on the terminal and in the log: the verdict without opening the page."""
        log.info("weekly backtest %s of forecasts issued %s to %s:", self.date, comparison["current"]["start"],
                 comparison["current"]["end"])
        for sentence in backtest_page.summary_sentences(metrics, comparison):
            log.info("  - %s", sentence)
        log.info("weekly report: %s", self.output()["report"].path)
