"""The command line: one index of commands, harmless and quick --help, lazy imports, sensible defaults.

Issue 20's probes: ``python -m pipeline`` failed; ``python -m pipeline.demo --help`` ran the demo and
``show_config --help`` printed the configuration; ``jobs list`` took 4.5 s because importing the
package imported every task, luigi, pandas and scikit-learn; ``report forecast`` required ``--date``;
``alerts test`` said "log: ok" without naming the channels that are off; every ``RangeDaily``
printed luigi's ``param_name`` warning.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

COMMAND_MODULES = sorted(p.stem for p in (REPO / "pipeline").glob("*.py")
                         if '__name__ == "__main__"' in p.read_text() and p.stem != "__main__")
# Modules whose --help must not load the heavy libraries (the scheduler is not yet lazy).
LAZY_MODULES = ("demo", "report", "jobs", "alerts", "show_config", "status", "deadline")
HEAVY = ("luigi", "pandas", "sklearn", "matplotlib", "pydantic")


def _python(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], cwd=cwd, env={**os.environ, **(env or {})}, capture_output=True,
                          text=True, timeout=120)


def _loaded_after(code: str, cwd: Path) -> set[str]:
    """Which heavy libraries a snippet leaves imported (it runs with the repository on sys.path)."""
    probe = (f"import sys\nsys.path.insert(0, {str(REPO)!r})\n{code}\n"
             f"print('loaded:', *(m for m in {HEAVY!r} if m in sys.modules))")
    result = _python(["-c", probe], cwd)
    assert result.returncode == 0, result.stderr
    return set(result.stdout.splitlines()[-1].split()[1:])


def test_python_m_pipeline_lists_every_command_one_line_each(tmp_path: Path) -> None:
    result = _python(["-m", "pipeline"], REPO)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()[1:]
    for module in COMMAND_MODULES:
        assert sum(f"python -m pipeline.{module}" in line for line in lines) == 1, module
    for task in ("DailyInference", "Backtest", "WeeklyBacktest", "RangeDaily", "FetchRange", "FeatureRange"):
        assert any(f"luigi --module pipeline {task}" in line for line in lines), task
    assert all(re.match(r"^  \S.*\S  +\S", line) for line in lines)  # command, then what it does


@pytest.mark.parametrize("module", COMMAND_MODULES)
def test_every_help_prints_usage_and_exits_0_without_side_effects(module: str, tmp_path: Path) -> None:
    data_root = tmp_path / "data"
    result = _python(["-m", f"pipeline.{module}", "--help"], tmp_path,
                     {"RTLMP_DATA_ROOT": str(data_root), "PYTHONPATH": str(REPO)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: python -m pipeline.{module}")
    assert list(tmp_path.iterdir()) == [], "no data root, logs or chart written"


@pytest.mark.parametrize("module", LAZY_MODULES)
def test_help_loads_no_heavy_library(module: str, tmp_path: Path) -> None:
    code = (f"import runpy\nsys.argv = ['pipeline.{module}', '--help']\n"
            f"try:\n    runpy.run_module('pipeline.{module}', run_name='__main__')\nexcept SystemExit:\n    pass")
    assert _loaded_after(code, tmp_path) == set()


def test_jobs_list_loads_no_heavy_library_and_lists_the_four_jobs(tmp_path: Path) -> None:
    code = ("import runpy\nsys.argv = ['pipeline.jobs', 'list']\n"
            "try:\n    runpy.run_module('pipeline.jobs', run_name='__main__')\nexcept SystemExit:\n    pass")
    assert _loaded_after(code, tmp_path) == set()
    result = _python(["-m", "pipeline.jobs", "list"], REPO)
    assert [line.split()[0] for line in result.stdout.splitlines()] == [
        "data_fetching", "inference", "model_retraining", "backtesting"]


def test_importing_the_package_loads_no_task_until_one_is_used(tmp_path: Path) -> None:
    assert _loaded_after("import pipeline", tmp_path) == set()
    assert "luigi" in _loaded_after("import pipeline\npipeline.DailyInference", tmp_path)


def test_luigi_finds_every_exported_task_by_name(tmp_path: Path) -> None:
    """What ``luigi --module pipeline <Task>`` needs: importing the package under luigi registers all tasks."""
    code = ("import luigi\nimport pipeline\nfrom luigi.task_register import Register\n"
            "missing = [n for n in pipeline.__all__ if n not in Register.task_names()]\nprint('missing', missing)")
    result = _python(["-c", code], tmp_path, {"PYTHONPATH": str(REPO)})
    assert result.returncode == 0, result.stderr
    assert "missing []" in result.stdout


def test_luigi_help_of_a_task_answers(tmp_path: Path) -> None:
    luigi = Path(sys.executable).with_name("luigi")
    result = subprocess.run([str(luigi), "--module", "pipeline", "Backtest", "--help"], cwd=REPO, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "--Backtest-start" in result.stdout or "--start" in result.stdout


def test_report_forecast_defaults_to_today_in_cpt(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from pipeline import clock, report

    monkeypatch.setattr(clock, "today_cpt", lambda *_: dt.date(2024, 7, 16))
    assert report.main(["forecast"]) == 1  # no forecast in the empty data root: the message names the day
    assert "no forecast for 2024-07-16" in capsys.readouterr().err


def test_alerts_test_names_the_disabled_channels(tmp_path: Path) -> None:
    result = _python(["-m", "pipeline.alerts", "test"], tmp_path, {"PYTHONPATH": str(REPO)})
    assert result.returncode == 0, result.stderr
    lines = dict(line.split(": ", 1) for line in result.stdout.splitlines())
    assert lines["log"] == "ok"
    assert lines["email"].startswith("disabled (set alerts.email.enabled: true")
    assert lines["webhook"].startswith("disabled (set alerts.webhook.enabled: true")
    assert "RTLMP_WEBHOOK_URL" in lines["webhook"]


def test_an_enabled_channel_is_not_called_disabled() -> None:
    from pipeline.alerts import disabled_channels
    from pipeline.config import AlertsConfig

    config = AlertsConfig.model_validate({"webhook": {"enabled": True}})
    assert set(disabled_channels(config)) == {"email"}


def test_range_daily_no_longer_warns_about_its_param_name(tmp_path: Path) -> None:
    code = ("import datetime, luigi\n{}from luigi.tools.range import RangeDaily\n"
            "class Daily(luigi.Task):\n    date = luigi.DateParameter()\n"
            "RangeDaily(of=Daily, start=datetime.date(2024, 7, 1))\n")
    env = {"PYTHONPATH": str(REPO), "PYTHONWARNINGS": "default"}
    control = _python(["-c", code.format("")], tmp_path, env)  # luigi alone warns, so this test can fail
    assert 'Parameter "param_name" with value "None"' in control.stderr
    result = _python(["-c", code.format("import pipeline\n")], tmp_path, env)
    assert result.returncode == 0, result.stderr
    assert "param_name" not in result.stderr


def test_luigi_help_answers_even_with_an_invalid_configuration(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("market:\n  colour: red\n")
    luigi = Path(sys.executable).with_name("luigi")
    env = {**os.environ, "RTLMP_CONFIG": str(bad)}
    result = subprocess.run([str(luigi), "--module", "pipeline", "DailyInference", "--help"], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    run = subprocess.run([str(luigi), "--module", "pipeline", "DailyInference", "--local-scheduler"], cwd=REPO, env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 2 and "unknown key 'market.colour'" in run.stderr
