"""Pure tier: the terminal progress bar and the percentages handed to the scheduler UI."""

from __future__ import annotations

import io

import pytest

from pipeline.progress import Progress, bar_line


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_log_file_gets_one_line_per_tenth_not_per_step() -> None:
    stream = io.StringIO()
    progress = Progress("scoring", 100, stream=stream)
    for _ in range(100):
        progress.advance()
    progress.close()
    lines = stream.getvalue().splitlines()
    assert [line.split("] ")[1].strip() for line in lines] == ["1/100", *(f"{n}/100" for n in range(10, 101, 10))]


def test_a_terminal_redraws_one_line_in_place() -> None:
    stream = Terminal()
    progress = Progress("scoring", 3, stream=stream)
    for day in ("2024-07-01", "2024-07-02", "2024-07-03"):
        progress.advance(day)
    progress.close()
    text = stream.getvalue()
    assert text.count("\r") == 3 and text.endswith("3/3 2024-07-03\n")


def test_the_scheduler_sees_whole_percentages_within_the_span() -> None:
    percentages: list[int] = []
    messages: list[str] = []
    progress = Progress("scoring", 40, stream=io.StringIO(), percentage=percentages.append,
                        message=messages.append, span=(90, 96))
    for _ in range(40):
        progress.advance("day")
    assert percentages == [90, 91, 92, 93, 94, 95, 96]
    assert messages[-1] == "scoring: 40/40 day"


def test_bar_line_fills_in_proportion() -> None:
    assert bar_line("x", 0, 4) == "x [" + "." * 30 + "] 0/4"
    assert bar_line("x", 2, 4, "half") == "x [" + "#" * 15 + "." * 15 + "] 2/4 half"


def test_a_negative_total_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        Progress("x", -1)
