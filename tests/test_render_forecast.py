"""Pure tier: the forecast summary table and chart say what they show (issue 20, "the chart says what it is")."""

from __future__ import annotations

import datetime as dt

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from pipeline import ercot_time
from pipeline.forecast import forecast_frame
from pipeline.render.forecast import (chart_figure, forecast_chart, format_probability, panel_top, source_label,
                                      source_of, summary_table)

DAY = dt.date(2024, 7, 16)
MODEL_ID = "2024-07-15.m4-a04ade69e5-f3-7a52560f27-synthetic-s20240101-synthetic"


def a_forecast(nodes: tuple[str, ...] = ("HB_NORTH", "HB_WEST"), status: str = "ok",
               model_id: str = MODEL_ID) -> pd.DataFrame:
    """Two nodes, $100 with a clear evening peak, $1000 with probabilities between 0.01 % and 0.4 %."""
    hours = ercot_time.forecast_hours(DAY)
    features = pd.concat([pd.DataFrame({"node": node, "interval_start": hours, "horizon_h": np.arange(1, 73)})
                          for node in nodes], ignore_index=True)
    local_hour = np.tile(pd.DatetimeIndex(hours).tz_convert(ercot_time.CPT).hour.to_numpy(), len(nodes))
    p100 = 0.01 + 0.3 * np.exp(-((local_hour - 18) ** 2) / 4.0)
    p1000 = 0.0001 + 0.004 * np.exp(-((local_hour - 18) ** 2) / 4.0)
    frame = forecast_frame(features, np.column_stack([p100, p1000]), (100.0, 1000.0), DAY,
                           ercot_time.local_time_on(DAY, "06:00"), model_id)
    return frame.assign(status=status)


def figure_texts(forecast: pd.DataFrame, source: str | None = None) -> list[str]:
    fig = chart_figure(forecast, source)
    try:
        return [fig._suptitle.get_text(), *(t.get_text() for t in fig.texts)]
    finally:
        plt.close(fig)


@pytest.mark.parametrize(("p", "shown"), [(0.0, "<0.1 %"), (0.0004, "<0.1 %"), (0.00099, "<0.1 %"),
                                          (0.001, "0.1 %"), (0.0634, "6.3 %"), (0.42, "42.0 %")])
def test_probabilities_below_a_tenth_of_a_percent_print_as_less_than_one_tenth(p: float, shown: str) -> None:
    assert format_probability(p) == shown


def test_hours_below_a_tenth_of_a_percent_are_never_listed_as_most_likely() -> None:
    text = summary_table(a_forecast(), top=3)
    rows = {line.split()[1]: line for line in text.splitlines() if line.startswith("HB_NORTH")}
    assert "none above 0.1 %" not in rows["$100"] and rows["$100"].count("%;") == 2
    # $1000 peaks at 0.41 %: its hours above 0.1 % are listed, never one printed as "0.0 %".
    assert "0.0 %" not in text and "0.0%" not in text
    quiet = a_forecast().assign(probability=lambda f: np.where(f["threshold"] == 1000.0, 0.0004, f["probability"]))
    quiet_rows = [line for line in summary_table(quiet).splitlines() if "$1000" in line]
    assert all(line.endswith("none above 0.1 %") and "<0.1 %" in line for line in quiet_rows)


def test_a_fallback_forecast_summary_says_so_in_words() -> None:
    text = summary_table(a_forecast(status="fallback_previous"))
    assert "Status: fallback_previous (FALLBACK: the previous forecast re-published" in text


def test_the_chart_title_names_the_nodes_and_the_issue_day_not_the_model_id() -> None:
    title = figure_texts(a_forecast())[0]
    assert "HB_NORTH, HB_WEST" in title and "issued Tue 2024-07-16" in title and "07-17 to 07-19" in title
    assert MODEL_ID not in title


def test_a_long_node_list_is_shortened_in_the_title() -> None:
    nodes = tuple(f"LZ_{n:02d}" for n in range(9))
    assert "LZ_00, LZ_01, LZ_02, LZ_03, LZ_04, LZ_05 and 3 more" in figure_texts(a_forecast(nodes))[0]


def test_the_chart_is_stamped_with_status_and_simulated_source() -> None:
    texts = figure_texts(a_forecast())
    assert "Status: ok (made normally)" in texts
    assert "Data source: SIMULATED market (the embedded ERCOT-like simulator)" in texts


def test_a_fallback_chart_looks_different_from_a_normal_one() -> None:
    texts = figure_texts(a_forecast(status="fallback_cached_inputs"), source_label("ercot_archive"))
    assert any(t.startswith("Status: fallback_cached_inputs (FALLBACK: made from cached inputs") for t in texts)
    assert "Data source: ERCOT archive files" in texts
    assert forecast_chart(a_forecast()) != forecast_chart(a_forecast(status="fallback_cached_inputs"))


def test_the_source_is_read_from_the_model_id_when_not_given() -> None:
    assert source_of(a_forecast()) == source_label("synthetic")
    assert source_of(a_forecast(model_id="2024-07-15.m4-aa-f3-bb-ercot_archive-archive")) == "ERCOT archive files"
    assert source_of(a_forecast(model_id="m1")) == "source not stated"


def test_each_panel_is_scaled_to_its_own_peak_so_the_1000_panel_is_readable() -> None:
    forecast = a_forecast()
    fig = chart_figure(forecast)
    try:
        tops = [ax.get_ylim()[1] for ax in fig.axes]
    finally:
        plt.close(fig)
    peak_1000 = forecast.loc[forecast["threshold"] == 1000.0, "probability"].max()
    assert tops[1] == pytest.approx(peak_1000 * 1.15) and tops[1] < 0.01  # no 0.05 floor flattening it
    assert tops[0] == pytest.approx(forecast.loc[forecast["threshold"] == 100.0, "probability"].max() * 1.15)


def test_an_all_zero_panel_still_has_a_visible_scale() -> None:
    assert panel_top(pd.Series([0.0, 0.0])) == 0.002
