"""``make demo``: today's forecast on the embedded simulator, through the ``luigi`` command, then a summary.

Today is the current date in CPT. The forecast covers the next operating day and the two after it.
A cold run simulates over a year of history and trains two models: several minutes and thousands
of log lines. The terminal gets the progress line (tasks done out of total, percent, ETA) and any
warning; every line of the run goes to ``<logging.dir>/demo.log``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TextIO

PROGRESS_PREFIX = "INFO pipeline.progress: "
LOUD = ("WARNING ", "ERROR ", "CRITICAL ")
TAIL_ON_FAILURE = 25


def shown_lines(lines: Iterable[str]) -> Iterator[str]:
    """The lines of a luigi run worth a person's attention: progress, warnings and errors."""
    for line in lines:
        if line.startswith(PROGRESS_PREFIX):
            yield line[len(PROGRESS_PREFIX):]
        elif line.startswith(LOUD):
            yield line


def run_luigi(command: list[str], log_file: TextIO, out: TextIO) -> tuple[int, list[str]]:
    """Run ``command``; every output line into ``log_file``, the shown ones to ``out``; (exit code, last lines)."""
    tail: list[str] = []
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1) as process:
        assert process.stdout is not None

        def lines() -> Iterator[str]:
            for raw in process.stdout:
                line = raw.rstrip("\n")
                log_file.write(line + "\n")
                tail.append(line)
                del tail[:-TAIL_ON_FAILURE]
                yield line

        for line in shown_lines(lines()):
            print(f"  {line}", file=out, flush=True)
    return process.returncode, tail


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline.demo", description=__doc__.split("\n\n")[0],
                                     epilog="Run by `make demo`; it honours RTLMP_DATA_ROOT (the Makefile clears "
                                            "RTLMP_CONFIG, so the defaults apply).")
    parser.add_argument("--date", type=dt.date.fromisoformat, help="issue day D (default: today in CPT)")
    args = parser.parse_args(argv)
    from pipeline import clock, report
    from pipeline.config import ConfigError, load_config

    try:
        config = load_config()
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    day = args.date or clock.today_cpt()
    luigi = Path(sys.executable).with_name("luigi")
    command = [str(luigi), "--module", "pipeline", "DailyInference", "--date", day.isoformat(), "--local-scheduler"]
    log_path = Path(config.logging.dir) / "demo.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    print("$ luigi " + " ".join(command[1:]))
    print(f"  (every line of the run: {log_path}; luigi's own task log: {Path(config.logging.dir) / 'luigi.log'})",
          flush=True)
    started = time.monotonic()
    with log_path.open("a", encoding="utf-8") as log_file:
        returncode, tail = run_luigi(command, log_file, sys.stdout)
    if returncode != 0:
        print(f"\nDailyInference failed with exit code {returncode}; the last lines of {log_path}:", file=sys.stderr)
        print("\n".join(tail), file=sys.stderr)
        return returncode
    print(f"\nDailyInference for {day} finished in {time.monotonic() - started:.1f} s\n", flush=True)
    return report.main(["forecast", "--date", day.isoformat(), "--chart"])


if __name__ == "__main__":
    sys.exit(main())
