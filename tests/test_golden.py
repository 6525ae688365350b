"""Golden results: a simulator forecast and a short real-archive backtest, pinned (numbers to 1e-9 relative).

They guard refactorings that must not change behaviour. The expected rows are in
``tests/golden/*.json``; see :mod:`tests.golden.cases` for how they are regenerated after an
intended change.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.golden.cases import CASES, SHARED_DATA, Case, differing_keys, first_difference, load_expected, records, run

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("case", [pytest.param(c, id=c.name, marks=[pytest.mark.realdata] if c.needs_archive else [])
                                  for c in CASES])
def test_results_are_identical_to_the_golden_rows(case: Case, tmp_path: Path) -> None:
    if case.needs_archive and not SHARED_DATA.is_dir():
        pytest.skip(f"real ERCOT data not found at {SHARED_DATA} (see the README's test section)")
    actual = records(run(case, tmp_path), case.columns)
    expected = load_expected(case)
    difference = first_difference(actual, expected)
    assert difference is None, difference


def test_numbers_match_to_their_last_bits_only_within_the_tolerance() -> None:
    row = {"probability": 0.030624339072153, "node": "HB_NORTH", "horizon_h": 1, "outcome": None}
    assert differing_keys({**row, "probability": 0.03062433907215292}, row) == []
    assert differing_keys({**row, "probability": 0.03062434}, row) == ["probability"]
    assert differing_keys({**row, "node": "HB_WEST", "horizon_h": 2}, row) == ["node", "horizon_h"]
    assert differing_keys({**row, "outcome": 0}, row) == ["outcome"]
    assert differing_keys({k: v for k, v in row.items() if k != "outcome"}, row) == sorted(row)
