"""Golden results: a simulator forecast and a short real-archive backtest, pinned bit for bit.

They guard refactorings that must not change behaviour. The expected rows are in
``tests/golden/*.json``; see :mod:`tests.golden.cases` for how they are regenerated after an
intended change.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.golden.cases import CASES, SHARED_DATA, Case, load_expected, records, run

pytestmark = pytest.mark.e2e


def _first_difference(actual: list[dict], expected: list[dict]) -> str:
    if len(actual) != len(expected):
        return f"{len(actual)} rows instead of {len(expected)}"
    for number, (got, want) in enumerate(zip(actual, expected)):
        if got != want:
            keys = [k for k in want if got.get(k) != want[k]]
            return f"row {number}: " + ", ".join(f"{k} = {got.get(k)!r}, expected {want[k]!r}" for k in keys)
    return "identical"


@pytest.mark.parametrize("case", [pytest.param(c, id=c.name, marks=[pytest.mark.realdata] if c.needs_archive else [])
                                  for c in CASES])
def test_results_are_identical_to_the_golden_rows(case: Case, tmp_path: Path) -> None:
    if case.needs_archive and not SHARED_DATA.is_dir():
        pytest.skip(f"real ERCOT data not found at {SHARED_DATA} (see the README's test section)")
    actual = records(run(case, tmp_path), case.columns)
    expected = load_expected(case)
    assert actual == expected, _first_difference(actual, expected)
