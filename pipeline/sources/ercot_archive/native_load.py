"""ERCOT's hourly load archive (``Native_Load_YYYY.xlsx``): load by weather zone.

The yearly workbooks are not an MIS report: their hour labels come in two styles (text and Excel
datetimes, see :func:`native_load_labels`) and their zone names changed in 2017 (the catalogue's
``ZONE_SPELLINGS`` maps both). Once the labels are ERCOT's (OperDay, HourEnding, DSTFlag), the rows
go through the NP6-345-CD parser.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline import ercot_time
from pipeline.catalogue import NATIVE_LOAD
from pipeline.sources.ercot_files import Field, ReportFormatError, actual_load_to_canonical, resolve_columns

_NATIVE_HOUR_ENDING = Field("Hour Ending", ("HourEnding", "HOUR_ENDING"))
# "MM/DD/YYYY HH:00", hour 24 written "24:00", the repeated fall-back hour suffixed " DST".
_NATIVE_LABEL = re.compile(r"(?P<date>\d{1,2}/\d{1,2}/\d{4})\s+(?P<hour>\d{1,2}):00(?P<dst>\s*DST)?", re.I)


def native_load_labels(values: pd.Series, origin: str) -> pd.DataFrame:
    """``Hour Ending`` cells of a Native_Load workbook -> (OperDay, HourEnding, DSTFlag) per row.

    Two styles exist. Text (2017 on): "MM/DD/YYYY HH:00" with "24:00" and "... 02:00 DST" for the
    repeated hour -- ERCOT's hour-ending convention. Excel datetimes (2016, and a stray cell in
    2022) carry float noise (01:59:59.997), so they are rounded to the hour; hour ending 00:00 is
    HE 24 of the previous date, and a label seen twice is the fall-back hour, whose second copy is
    the repeated one. See :func:`_spring_forward_wall_clock` for the datetime style's spring day.
    """
    dates: list[str] = []
    hours: list[int] = []
    flags: list[str] = []
    from_datetime: list[bool] = []
    seen: set[tuple[str, int]] = set()
    for row, value in enumerate(values):
        if isinstance(value, (pd.Timestamp, dt.datetime)):
            date_text, hour = _datetime_label(pd.Timestamp(value), row, origin)
            repeated = (date_text, hour) in seen
        else:
            match = _NATIVE_LABEL.fullmatch(str(value).strip())
            if match is None:
                problem = f"row {row}: hour ending {value!r} is not MM/DD/YYYY HH:00"
                raise ReportFormatError(NATIVE_LOAD, origin, problem)
            date_text, hour, repeated = match["date"], int(match["hour"]), match["dst"] is not None
        seen.add((date_text, hour))
        dates.append(date_text)
        hours.append(hour)
        flags.append("Y" if repeated else "N")
        from_datetime.append(isinstance(value, (pd.Timestamp, dt.datetime)))
    labels = pd.DataFrame({"OperDay": dates, "HourEnding": hours, "DSTFlag": flags})
    return _spring_forward_wall_clock(labels, np.asarray(from_datetime, dtype=bool))


def _spring_forward_wall_clock(labels: pd.DataFrame, from_datetime: np.ndarray) -> pd.DataFrame:
    """Datetime-style spring-forward days: wall-clock 03:00 ends ERCOT's HE 2.

    On 2016-03-13 the datetime-style workbook labels the hours 01:00, 03:00, 04:00, ...: the hour
    that began at 01:00 CST ended at 03:00 CDT on the wall clock, because 02:00 never happened.
    ERCOT's convention calls that hour HE 2 and skips HE 3 (the text-style files write 01:00,
    02:00, 04:00). Checked against the 15-minute fuel-mix generation of that day, which matches
    the load hour by hour in this reading.
    """
    out = labels.copy()
    for date_text, day_rows in out[from_datetime].groupby("OperDay"):
        day = dt.datetime.strptime(date_text, "%m/%d/%Y").date()
        hours = set(day_rows["HourEnding"])
        if ercot_time.hours_in_day(day) == 23 and 3 in hours and 2 not in hours:
            out.loc[day_rows.index[day_rows["HourEnding"] == 3], "HourEnding"] = 2
    return out


def _datetime_label(value: pd.Timestamp, row: int, origin: str) -> tuple[str, int]:
    """An Excel hour-ending datetime (with float noise) as (MM/DD/YYYY, hour ending 1..24)."""
    rounded = value.round("h")
    if abs(value - rounded) > pd.Timedelta(minutes=1):
        raise ReportFormatError(NATIVE_LOAD, origin, f"row {row}: hour ending {value} is not on the hour")
    if rounded.hour == 0:
        return f"{rounded - pd.Timedelta(days=1):%m/%d/%Y}", 24
    return f"{rounded:%m/%d/%Y}", rounded.hour


def read_native_load(path: Path) -> tuple[pd.DataFrame, list[str]]:
    """A ``Native_Load_YYYY.xlsx`` workbook -> (``load`` frame, notes on rows left out).

    A row whose every zone is blank (Native_Load_2016 has one: hour ending 2016-11-07 00:00, i.e.
    HE 24 of the fall-back day) is left out and noted; the missing hour then shows as a gap. A row
    with only some zones blank is an error.
    """
    origin = path.name
    sheet = pd.read_excel(path, sheet_name=0)
    column = resolve_columns(sheet, (_NATIVE_HOUR_ENDING,), NATIVE_LOAD, origin)[_NATIVE_HOUR_ENDING.name]
    values = sheet.drop(columns=[column])
    blank = values.isna().all(axis=1).to_numpy()
    notes = [f"{origin}: row {int(i)} (hour ending {sheet[column].iloc[i]}) has every zone blank; left out"
             for i in np.flatnonzero(blank)]
    kept = sheet.loc[~blank].reset_index(drop=True)
    labels = native_load_labels(kept[column], origin)
    table = pd.concat([labels, kept.drop(columns=[column])], axis=1)
    return actual_load_to_canonical(table, origin, report=NATIVE_LOAD), notes
