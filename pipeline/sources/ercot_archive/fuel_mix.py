"""ERCOT's fuel-mix report (``IntGenbyFuelYYYY.xlsx``): 15-minute generation by fuel -> hourly wind and solar.

Each workbook has a sheet per month, a row per (day, fuel) and a column per 15-minute interval
(energy in MWh), with the days that are not 24 hours long laid out differently by vintage (see
:class:`_FuelSheetLayout` and :func:`_elapsed_values`). The archive serves the catalogue's ``FUELS``
as hourly average MW (``renewables``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline import ercot_time
from pipeline.catalogue import FUEL_MIX, FUELS
from pipeline.sources.ercot_files import ReportFormatError, conform_frame, header_key, schedule_published_at
from targets.schemas import RENEWABLES

_MONTH_SHEET = re.compile(r"(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\s*(\d{2}|\d{4})?", re.I)
# On a fall-back day the repeated hour's four columns follow the first eight standard columns
# (interval-ending labels 0:15 .. 2:00, i.e. 00:00-02:00 CDT).
_FALL_BACK_INSERT_AFTER = 8


def fuel_mix_month_sheets(names: Iterable[str]) -> list[str]:
    """The monthly sheets of a fuel-mix workbook ('Jan'..'Dec', or 'Jan16'..'Dec16' in 2016)."""
    return [name for name in names if _MONTH_SHEET.fullmatch(name.strip())]


def _label_minutes(label: object) -> int | None:
    """Interval-ending label -> minutes after midnight (15..1440); None if it is not a time label.

    Workbooks write the labels as text ("0:15"), as Excel times, as 1900-01-01 datetimes or as a
    zero timedelta for the final "0:00" (= 24:00).
    """
    if isinstance(label, dt.timedelta):
        minutes = int(label.total_seconds() // 60)
    elif isinstance(label, dt.datetime):
        minutes = label.hour * 60 + label.minute
    elif isinstance(label, dt.time):
        minutes = label.hour * 60 + label.minute
    else:
        match = re.fullmatch(r"(\d{1,2}):(\d{2})(?::00)?", str(label).strip())
        if match is None:
            return None
        minutes = int(match[1]) * 60 + int(match[2])
    return 1440 if minutes == 0 else minutes


@dataclass(frozen=True)
class _FuelSheetLayout:
    """Where the values of one monthly sheet are and how its fall-back day is laid out."""

    standard: list[object]
    repeated: list[object]
    # True: the extra columns hold the repeated hour ("01:15 (DST)".."02:00 (DST)", 2017 on) and go
    # after the first 02:00; False: the day is in elapsed order and "DST1".."DST4" are its last
    # four intervals (2016). Checked against the hourly load files: either other reading puts
    # the fall-back day's generation an hour off the load.
    repeated_hour_columns: bool


def _fuel_sheet_layout(sheet: pd.DataFrame, origin: str) -> _FuelSheetLayout:
    columns = list(sheet.columns)
    keys = [header_key(c) for c in columns]
    if "total" not in keys:
        raise ReportFormatError(FUEL_MIX, origin, f"required column 'Total' is missing; columns are {columns[:6]}...")
    after_total = columns[keys.index("total") + 1:]
    repeated = [c for c in after_total if "dst" in header_key(c)]
    standard = [c for c in after_total if c not in repeated]
    minutes = [_label_minutes(c) for c in standard]
    if minutes != list(range(15, 1441, 15)):
        raise ReportFormatError(FUEL_MIX, origin, "interval columns are not the 96 labels 0:15 .. 0:00 in order")
    labelled = [_label_minutes(re.sub(r"(?i)\(?dst\)?", "", str(c))) for c in repeated]
    if repeated and all(m is not None for m in labelled):
        return _FuelSheetLayout(standard, repeated, repeated_hour_columns=True)
    if all(re.fullmatch(r"dst\d", header_key(c)) for c in repeated):
        return _FuelSheetLayout(standard, sorted(repeated, key=header_key), repeated_hour_columns=False)
    raise ReportFormatError(FUEL_MIX, origin, f"unrecognised DST columns {repeated}")


def _fuel_rows(sheet: pd.DataFrame, origin: str) -> pd.DataFrame:
    """(date, fuel, total) per row, from 'Date' + 'Fuel' columns or 2016's 'Date-Fuel' ("03/01/16_Wind")."""
    keys = {header_key(c): c for c in sheet.columns}
    total = sheet[keys["total"]]
    if "date" in keys and "fuel" in keys:
        dates, fuels = sheet[keys["date"]], sheet[keys["fuel"]].astype(str)
    elif "datefuel" in keys:
        parts = sheet[keys["datefuel"]].astype(str).str.rsplit("_", n=1)
        dates, fuels = parts.str[0], parts.str[1].fillna("")
    else:
        raise ReportFormatError(FUEL_MIX, origin, "required columns 'Date' and 'Fuel' (or 'Date-Fuel') are missing")
    return pd.DataFrame({"date": [_fuel_date(v, origin) for v in dates], "fuel": fuels.str.strip().str.lower(),
                         "total": total.to_numpy()})


def _fuel_date(value: object, origin: str) -> dt.date:
    if isinstance(value, (pd.Timestamp, dt.datetime)):
        return value.date()
    for fmt in ("%m/%d/%Y", "%m/%d/%y", "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(str(value).strip(), fmt).date()
        except ValueError:
            continue
    raise ReportFormatError(FUEL_MIX, origin, f"unrecognised date {value!r}")


def _elapsed_values(
    standard: np.ndarray, repeated: np.ndarray, layout: _FuelSheetLayout, day: dt.date, where: str
) -> np.ndarray:
    """One day's 15-minute values in elapsed order (92, 96 or 100 of them).

    Spring-forward days leave the four cells of the skipped hour blank -- labels 02:15..03:00 from
    2017, 02:00..02:45 in 2016 (02:00 CST and 03:00 CDT end the same interval) -- so the day is
    the non-blank cells in order. Fall-back days add four cells (see ``_FuelSheetLayout``).
    """
    hours = ercot_time.hours_in_day(day)
    blank_standard = np.flatnonzero(np.isnan(standard))
    if hours != 25 and repeated.size and not np.isnan(repeated).all():
        raise ReportFormatError(FUEL_MIX, where, f"DST columns hold values on {day}, which is not a fall-back day")
    if hours == 24 and blank_standard.size == 0:
        return standard
    if hours == 23 and blank_standard.size == 4 and np.all(np.diff(blank_standard) == 1) \
            and 7 <= blank_standard[0] <= 8:
        return standard[~np.isnan(standard)]
    if hours == 25 and blank_standard.size == 0 and repeated.size == 4 and not np.isnan(repeated).any():
        if layout.repeated_hour_columns:
            cut = _FALL_BACK_INSERT_AFTER
            return np.concatenate([standard[:cut], repeated, standard[cut:]])
        return np.concatenate([standard, repeated])
    raise ReportFormatError(
        FUEL_MIX, where, f"{day} has {hours} hours but {96 - blank_standard.size} standard and "
        f"{int((~np.isnan(repeated)).sum()) if repeated.size else 0} DST interval values"
    )


def fuel_mix_sheet_intervals(
    sheet: pd.DataFrame, origin: str, fuels: Collection[str] = FUELS
) -> pd.DataFrame:
    """One monthly fuel-mix sheet -> 15-minute energy of ``fuels`` (interval_start UTC, fuel, mwh).

    Fuel names are matched and returned in lower case ("wind", "solar", "gas-cc", ...).
    """
    layout = _fuel_sheet_layout(sheet, origin)
    rows = _fuel_rows(sheet, origin)
    keep = rows["fuel"].isin({fuel.lower() for fuel in fuels}).to_numpy()
    if not keep.any():
        raise ReportFormatError(FUEL_MIX, origin, f"no rows for fuels {sorted(fuels)}")
    standard = sheet.loc[keep, layout.standard].to_numpy(dtype="float64", na_value=np.nan)
    repeated = sheet.loc[keep, layout.repeated].to_numpy(dtype="float64", na_value=np.nan)
    starts, names, energy = [], [], []
    for i, (day, fuel, total) in enumerate(rows.loc[keep].itertuples(index=False)):
        where = f"{origin} {day} {fuel}"
        values = _elapsed_values(standard[i], repeated[i], layout, day, where)
        if not np.isclose(values.sum(), float(total), rtol=1e-6, atol=0.01):
            raise ReportFormatError(FUEL_MIX, where, f"intervals sum to {values.sum():.3f} MWh but Total is {total}")
        # The values are in elapsed order, so each interval starts 15 minutes after the previous
        # one in absolute (UTC) time, from 00:00 CPT of the day.
        starts.append(ercot_time.day_start(day).to_datetime64() + np.arange(len(values)) * np.timedelta64(15, "m"))
        names.append(np.full(len(values), fuel, dtype=object))
        energy.append(values)
    return pd.DataFrame({
        "interval_start": pd.DatetimeIndex(np.concatenate(starts)).tz_localize("UTC").as_unit(ercot_time.TS_UNIT),
        "fuel": np.concatenate(names),
        "mwh": np.concatenate(energy),
    })


def quarter_hours_to_hourly_mw(intervals: pd.DataFrame, origin: str) -> pd.DataFrame:
    """15-minute MWh -> hourly average MW (the hour's four MWh values summed), as ``renewables``.

    CPT offsets are whole hours, so the UTC hour holds the same four intervals as the local hour.
    """
    hour = intervals["interval_start"].dt.floor("h")
    grouped = intervals.groupby([hour, intervals["fuel"]])["mwh"].agg(["sum", "size"])
    short = grouped[grouped["size"] != 4]
    if len(short):
        (start, fuel), size = short.index[0], int(short["size"].iloc[0])
        raise ReportFormatError(FUEL_MIX, origin, f"{fuel} hour {start} has {size} of 4 intervals")
    out = pd.DataFrame({
        "interval_start": grouped.index.get_level_values(0),
        "fuel": grouped.index.get_level_values(1).astype(str),
        "generation_mw": grouped["sum"].to_numpy(),
    })
    out["published_at"] = schedule_published_at("renewables", out["interval_start"], 60)
    return conform_frame(RENEWABLES, out, FUEL_MIX, origin)


def read_fuel_mix(path: Path) -> pd.DataFrame:
    """An ``IntGenbyFuelYYYY.xlsx`` workbook -> hourly wind and solar ``renewables``."""
    with pd.ExcelFile(path) as workbook:
        names = fuel_mix_month_sheets(workbook.sheet_names)
        if not names:
            raise ReportFormatError(FUEL_MIX, path.name, f"no monthly sheets in {workbook.sheet_names}")
        sheets = pd.read_excel(workbook, sheet_name=names)
    intervals = pd.concat(
        [fuel_mix_sheet_intervals(sheet, f"{path.name}[{name}]") for name, sheet in sheets.items()], ignore_index=True
    )
    return quarter_hours_to_hourly_mw(intervals, path.name)
