"""Bad input through the ``luigi`` command: one line naming the key, value or path, exit code 2, nothing run."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from pipeline import preflight
from tests.test_e2e import run_luigi

TODAY = dt.date(2026, 11, 30)


@pytest.mark.parametrize(("args", "message"), [
    (["--date", "2024-02-30"], "--date 2024-02-30: day is out of range for month"),
    (["--date", "2024-3-9"], "--date '2024-3-9' is not a date (YYYY-MM-DD)"),
    (["--date=20240309"], "--date '20240309' is not a date"),
    (["--DailyInference-date", "2026-12-08"], "--DailyInference-date 2026-12-08 is more than 7 days after today"),
    (["--of", "DailyInference", "--start", "2026-11-01", "--stop", "2026-12-09"], "--stop 2026-12-09 is more than"),
])
def test_bad_dates_are_named(args: list[str], message: str) -> None:
    with pytest.raises(preflight.InvalidInput) as info:
        preflight.check_dates(["DailyInference", *args], TODAY)
    assert message in str(info.value)


def test_dates_up_to_a_week_ahead_and_in_the_past_pass() -> None:
    preflight.check_dates(["Backtest", "--start", "2021-02-01", "--end", "2026-12-07"], TODAY)
    preflight.check_dates(["RangeDaily", "--of", "DailyInference", "--start", "2026-11-01", "--stop", "2026-12-08",
                           "--now", "1764500000"], TODAY)


def test_only_the_luigi_command_is_checked() -> None:
    assert preflight.is_luigi_command(["/repo/.venv/bin/luigi", "--module", "pipeline"])
    assert preflight.is_luigi_command(["/usr/lib/python3/site-packages/luigi/__main__.py"])
    assert not preflight.is_luigi_command(["/repo/.venv/bin/pytest"])
    assert not preflight.is_luigi_command([])


def one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line, got {len(lines)}:\n" + "\n".join(lines[:20])
    return lines[0]


@pytest.mark.e2e
@pytest.mark.parametrize(("config", "day", "named"), [
    ("market:\n  colour: red\n", "2024-03-09", "unknown key 'market.colour'"),
    ("model:\n  history_days: 5\n", "2024-03-09", "key 'model.history_days'"),
    ("", "2024-02-30", "--date 2024-02-30: day is out of range for month"),
    ("", "2099-01-01", "--date 2099-01-01 is more than 7 days after today"),
])
def test_bad_input_is_one_line_and_exit_code_2(tmp_path: Path, config: str, day: str, named: str) -> None:
    path = tmp_path / "override.yaml"
    path.write_text(config)
    result = run_luigi(["DailyInference", "--date", day], path, tmp_path / "data")
    assert result.returncode == preflight.INVALID_INPUT
    line = one_line(result.stderr)
    assert line.startswith("rtlmp: ") and named in line
    if config:
        assert "override.yaml" in line
    assert not (tmp_path / "data" / "forecasts").exists()


@pytest.mark.e2e
@pytest.mark.parametrize("root", ["a-file", "a-file/below", "/proc/rtlmp-no-such-root"])
def test_a_data_root_that_cannot_be_written_is_one_line(tmp_path: Path, root: str) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    data_root = Path(root) if root.startswith("/") else tmp_path / root
    result = run_luigi(["DailyInference", "--date", "2024-03-09"], None, data_root)
    assert result.returncode == preflight.INVALID_INPUT
    line = one_line(result.stderr)
    assert str(data_root.parent if root == "a-file/below" else data_root) in line or str(data_root) in line
