"""What every command-line module shares, kept free of heavy imports so ``--help`` answers at once.

The commands parse their arguments first and load the configuration, pandas or luigi only after,
once the arguments ask for real work; argument types that need those modules import them when an
argument is actually converted.
"""

from __future__ import annotations

import datetime as dt


def instant(text: str) -> dt.datetime:
    """``--now``: an ISO time with an offset (``2024-03-10T09:01-05:00``, ``...Z``), or CPT wall-clock time."""
    from pipeline.clock import parse_instant

    return parse_instant(text)
