"""Progress of long loops, shown on the terminal (stderr) and handed to a scheduler UI.

A backtest of a year assembles and scores hundreds of forecast days; the person who started it
wants to see that it moves, and so does the luigid UI. :class:`Progress` counts steps and reports
each visible change to a terminal bar and to optional callbacks (a luigi task passes its
``set_progress_percentage`` / ``set_status_message``). It knows nothing about luigi, so it is
tested without a scheduler.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TextIO

BAR_WIDTH = 30


def bar_line(label: str, done: int, total: int, note: str = "") -> str:
    """``'scoring [#######.......]  7/30 2024-07-16'``: one line of the terminal bar."""
    filled = BAR_WIDTH * done // total if total else BAR_WIDTH
    bar = "#" * filled + "." * (BAR_WIDTH - filled)
    width = len(str(total))
    return f"{label} [{bar}] {done:>{width}}/{total} {note}".rstrip()


class Progress:
    """Counts ``total`` steps; reports each whole-percent change to the terminal and the callbacks.

    ``span`` maps this loop onto part of a task's overall percentage (e.g. scoring is 90-95 % of a
    backtest). On a terminal the bar redraws in place; elsewhere (cron logs) it prints the first
    step and one line per further tenth, so log files stay short.
    """

    def __init__(self, label: str, total: int, *, stream: TextIO | None = None,
                 percentage: Callable[[int], object] | None = None,
                 message: Callable[[str], object] | None = None,
                 span: tuple[int, int] = (0, 100)) -> None:
        if total < 0:
            raise ValueError(f"progress total must not be negative, got {total}")
        self.label, self.total, self.span = label, total, span
        self.stream = stream if stream is not None else sys.stderr
        self.percentage, self.message = percentage, message
        self.done = 0
        self._last_percent = -1
        self._last_tenth = -1
        self._interactive = bool(getattr(self.stream, "isatty", lambda: False)())

    def advance(self, note: str = "") -> None:
        """One step done (``note``: what it was, e.g. the day just scored)."""
        self.done = min(self.done + 1, self.total)
        self._report(note)

    def close(self) -> None:
        """End the terminal line (call once, after the last step)."""
        if self._interactive:
            self.stream.write("\n")
            self.stream.flush()

    def _report(self, note: str) -> None:
        fraction = self.done / self.total if self.total else 1.0
        overall = round(self.span[0] + fraction * (self.span[1] - self.span[0]))
        changed = overall != self._last_percent
        if changed and self.percentage is not None:
            self.percentage(overall)
        if (changed or self.done == self.total) and self.message is not None:
            self.message(f"{self.label}: {self.done}/{self.total} {note}".rstrip())
        self._last_percent = overall
        self._draw(note, fraction)

    def _draw(self, note: str, fraction: float) -> None:
        line = bar_line(self.label, self.done, self.total, note)
        if self._interactive:
            self.stream.write("\r" + line)
            self.stream.flush()
            return
        tenth = int(fraction * 10)
        if tenth != self._last_tenth:
            self._last_tenth = tenth
            self.stream.write(line + "\n")
            self.stream.flush()
