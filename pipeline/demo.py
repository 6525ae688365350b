"""``make demo``: today's forecast on the embedded simulator, through the ``luigi`` command, then a summary.

Today is the current date in CPT. The forecast covers the next operating day and the two after it.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from pipeline import clock, report


def main() -> int:
    today = clock.today_cpt()
    luigi = Path(sys.executable).with_name("luigi")
    command = [str(luigi), "--module", "pipeline", "DailyInference", "--date", today.isoformat(), "--local-scheduler"]
    print("$ luigi " + " ".join(command[1:]), flush=True)
    started = time.monotonic()
    result = subprocess.run(command, check=False)
    if result.returncode != 0:
        print(f"\nDailyInference failed with exit code {result.returncode} (see the log above)", file=sys.stderr)
        return result.returncode
    print(f"\nDailyInference for {today} finished in {time.monotonic() - started:.1f} s\n", flush=True)
    return report.main(["forecast", "--date", today.isoformat(), "--chart"])


if __name__ == "__main__":
    sys.exit(main())
