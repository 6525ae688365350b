"""Installing the cron schedule merges into the user's crontab instead of replacing it.

Probe fixed: the README's line piped the example into ``crontab -``, which silently replaced the
user's whole crontab. The tests run the installer against a stand-in ``crontab`` command.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO

INSTALL = REPO / "infrastructure" / "scripts" / "install_crontab.sh"
BEGIN, END = "# >>> rtlmp-spike-forecaster >>>", "# <<< rtlmp-spike-forecaster <<<"
USER_LINES = "MAILTO=me@example.invalid\n0 3 * * * /home/me/backup.sh\n"


@pytest.fixture
def crontab(tmp_path: Path):
    """A stand-in crontab command keeping the table in a file; returns (command, table file)."""
    table = tmp_path / "table"
    command = tmp_path / "crontab"
    command.write_text("#!/usr/bin/env bash\n"
                       f'if [[ "$1" == "-l" ]]; then [[ -f {table} ]] || {{ echo "no crontab for $USER" >&2; exit 1; }}; '
                       f"cat {table}; else cat > {table}; fi\n")
    command.chmod(0o755)
    return command, table


def _install(crontab: Path, *args: str, home: str = "/srv/rtlmp") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CRONTAB": str(crontab), "RTLMP_HOME": home}
    return subprocess.run(["bash", str(INSTALL), *args], env=env, capture_output=True, text=True, timeout=30)


def test_the_users_own_lines_are_kept(crontab) -> None:
    command, table = crontab
    table.write_text(USER_LINES)
    result = _install(command)
    assert result.returncode == 0, result.stderr
    text = table.read_text()
    assert text.startswith(USER_LINES)
    assert text.count(BEGIN) == 1 and text.rstrip().endswith(END)
    assert "RTLMP=/srv/rtlmp/infrastructure/scripts" in text and "/opt/rtlmp-spike-forecaster" not in text
    assert "\n0 6 * * *   $RTLMP/daily_inference.sh" in text


def test_installing_again_replaces_the_block_instead_of_adding_one(crontab) -> None:
    command, table = crontab
    table.write_text(USER_LINES)
    _install(command, home="/old/place")
    assert _install(command).returncode == 0
    text = table.read_text()
    assert text.count(BEGIN) == 1 and "/old/place" not in text and text.startswith(USER_LINES)


def test_a_user_without_a_crontab_gets_just_the_block(crontab) -> None:
    command, table = crontab
    assert _install(command).returncode == 0
    assert table.read_text().startswith(BEGIN)


def test_print_shows_the_merge_and_installs_nothing(crontab) -> None:
    command, table = crontab
    table.write_text(USER_LINES)
    result = _install(command, "--print")
    assert result.returncode == 0 and result.stdout.startswith(USER_LINES) and BEGIN in result.stdout
    assert table.read_text() == USER_LINES


def test_remove_takes_out_the_block_only(crontab) -> None:
    command, table = crontab
    table.write_text(USER_LINES)
    _install(command)
    assert _install(command, "--remove").returncode == 0
    assert table.read_text() == USER_LINES


def test_the_readme_no_longer_pipes_into_crontab() -> None:
    readme = (REPO / "README.md").read_text()
    assert "| crontab -" not in readme and "infrastructure/scripts/install_crontab.sh" in readme
