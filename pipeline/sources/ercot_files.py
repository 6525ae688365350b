"""ERCOT report tables -> canonical frames: pure parsers shared by the archive and the HTTP clients.

Each function takes one table as ERCOT published it (an MIS CSV, a sheet of an annual workbook, or
the rows of a Public API response put into a frame) and returns the canonical frame declared in
``targets.schemas``, already passed through ``Schema.conform``. ERCOT spells the same column many
ways ("DeliveryDate", "Delivery Date", "DELIVERY_DATE", "deliveryDate"; "DSTFlag",
"Repeated Hour Flag", "RepeatHourFlag " ...), so headers are matched case-, space-, hyphen- and
underscore-insensitively. A required column that is missing, a value that is not a number, or a
label that is not a real ERCOT time raises :class:`ReportFormatError` (a ``SourceError``) naming
the column, the report and the origin (file name or URL) -- never a silently dropped row.

All ERCOT-local labels are converted to UTC by ``pipeline.ercot_time``. Values that carry no
publication time get ``published_at`` from ``pipeline.publication``. The reports a parser blames
(each parser defaults to its own product, callers pass the archive's variants) and the weather-zone
spellings come from :mod:`pipeline.catalogue`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipeline import ercot_time, publication
from pipeline.catalogue import (
    ENERGY_WEIGHTED_TYPES,
    NP3_565_CD,
    NP4_190_CD,
    NP4_722_CD,
    NP4_732_CD,
    NP4_737_CD,
    NP6_345_CD,
    NP6_788_CD,
    NP6_905_CD,
    SYSTEM_ZONE,
    WEATHER_ZONES,
    ZONE_SPELLINGS,
    Report,
)
from pipeline.sources.base import SourceError
from targets.schema import Schema, SchemaError
from targets.schemas import (
    DAM_PRICES,
    LOAD,
    LOAD_FORECAST,
    RENEWABLES,
    RENEWABLES_FORECAST,
    RT_PRICES,
    WEATHER_FORECAST,
)

# --- errors --------------------------------------------------------------------------------------


class ReportFormatError(SourceError):
    """A report table that cannot be read as documented (missing column, bad value, impossible time)."""

    def __init__(self, report: Report, origin: str, problem: str) -> None:
        super().__init__(f"{report.report_id} from {origin}: {problem}")
        self.report = report
        self.origin = origin
        self.problem = problem


# --- header matching -----------------------------------------------------------------------------


def header_key(name: object) -> str:
    """A header reduced to lower-case letters and digits: 'Delivery Date ' -> 'deliverydate'."""
    return re.sub(r"[\s_\-]+", "", str(name)).lower()


@dataclass(frozen=True)
class Field:
    """A report column under its usual ERCOT name plus the other spellings seen in the wild."""

    name: str
    aliases: tuple[str, ...] = ()
    required: bool = True

    @property
    def keys(self) -> frozenset[str]:
        return frozenset(header_key(spelling) for spelling in (self.name, *self.aliases))


DELIVERY_DATE = Field("DeliveryDate", ("Delivery Date", "DELIVERY_DATE", "deliveryDate"))
OPER_DAY = Field("OperDay", ("OperatingDay", "Oper Day", "DeliveryDate", "Delivery Date"))
HOUR_ENDING = Field("HourEnding", ("Hour Ending", "HOUR_ENDING", "hourEnding"))
DELIVERY_HOUR = Field("DeliveryHour", ("Delivery Hour",))
DELIVERY_INTERVAL = Field("DeliveryInterval", ("Delivery Interval",))
# The second copy of the fall-back hour is flagged under any of these names (optional: files outside
# the fall-back day often omit or blank it).
REPEATED_FLAG = Field("DSTFlag", ("RepeatedHourFlag", "Repeated Hour Flag", "RepeatHourFlag"), required=False)
SETTLEMENT_POINT = Field("SettlementPointName", ("SettlementPoint", "Settlement Point", "Settlement Point Name"))
SETTLEMENT_POINT_TYPE = Field("SettlementPointType", ("Settlement Point Type",), required=False)
SETTLEMENT_POINT_PRICE = Field("SettlementPointPrice", ("Settlement Point Price",))
SCED_TIMESTAMP = Field("SCEDTimestamp", ("SCED Time Stamp",))
LMP = Field("LMP")
IN_USE_FLAG = Field("InUseFlag", ("In Use Flag",))
# NP4-732-CD / NP4-737-CD renamed the actual column on 2024-09-26 (ACTUAL_SYSTEM_WIDE -> SYSTEM_WIDE_GEN);
# the Public API calls it genSystemWide.
SYSTEM_WIDE_ACTUAL = Field("SYSTEM_WIDE_GEN", ("ACTUAL_SYSTEM_WIDE", "genSystemWide", "SYSTEM_WIDE"))
WIND_FORECAST = Field("STWPF_SYSTEM_WIDE", ("STWPFSystemWide",))
SOLAR_FORECAST = Field("STPPF_SYSTEM_WIDE", ("STPPFSystemWide",))

# Every spelling of ``ZONE_SPELLINGS`` as a header key, so zone columns match like any other header.
_ZONE_BY_KEY = {header_key(spelling): zone for spelling, zone in ZONE_SPELLINGS.items()}


def resolve_columns(frame: pd.DataFrame, fields: Iterable[Field], report: Report, origin: str) -> dict[str, str]:
    """The frame's column for each field (keyed by ``Field.name``); absent optional fields are left out."""
    by_key: dict[str, list[str]] = {}
    for column in frame.columns:
        by_key.setdefault(header_key(column), []).append(column)
    found: dict[str, str] = {}
    for field in fields:
        matches = [column for key in field.keys for column in by_key.get(key, [])]
        if len(matches) > 1:
            raise ReportFormatError(report, origin, f"column {field.name!r} is ambiguous: {sorted(map(str, matches))}")
        if matches:
            found[field.name] = matches[0]
        elif field.required:
            spellings = ", ".join(repr(s) for s in (field.name, *field.aliases))
            raise ReportFormatError(
                report, origin, f"required column {field.name!r} is missing (accepted: {spellings}); "
                f"columns are {[str(c) for c in frame.columns]}"
            )
    return found


def resolve_zones(frame: pd.DataFrame, required: Collection[str], report: Report, origin: str) -> dict[str, str]:
    """The frame's column for each canonical zone in ``required`` (spellings from ``ZONE_SPELLINGS``)."""
    found: dict[str, str] = {}
    for column in frame.columns:
        zone = _ZONE_BY_KEY.get(header_key(column))
        if zone is None or zone not in required:
            continue
        if zone in found:
            raise ReportFormatError(report, origin, f"zone {zone} appears twice: {found[zone]!r} and {column!r}")
        found[zone] = column
    missing = [zone for zone in required if zone not in found]
    if missing:
        spellings = {zone: [s for s, z in ZONE_SPELLINGS.items() if z == zone] for zone in missing}
        raise ReportFormatError(
            report, origin,
            f"required zone column(s) missing: {spellings}; columns are {[str(c) for c in frame.columns]}",
        )
    return {zone: found[zone] for zone in required}


# --- values ------------------------------------------------------------------------------------


def parse_numbers(
    values: pd.Series, column: str, report: Report, origin: str, allow_missing: bool = False
) -> np.ndarray:
    """A column of numbers as float64; text may carry spaces and thousands separators (" 1,769.93").

    Blank cells are NaN only where ``allow_missing`` (e.g. a forecast-only hour has no actual);
    anything else that is not a number is an error naming the value and its row.
    """
    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
        numbers = values.to_numpy(dtype="float64", na_value=np.nan)
    else:
        blank = values.isna().to_numpy() | values.astype(str).str.strip().isin(["", "nan", "NaN"]).to_numpy()
        text = values.astype(str).str.strip().str.replace(",", "", regex=False)
        numbers = pd.to_numeric(text.where(~blank), errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        bad = np.isnan(numbers) & ~blank
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            problem = f"column {column!r} row {row}: {values.iloc[row]!r} is not a number"
            raise ReportFormatError(report, origin, problem)
    missing = np.isnan(numbers)
    if missing.any() and not allow_missing:
        row = int(np.flatnonzero(missing)[0])
        problem = f"column {column!r} has {int(missing.sum())} blank value(s), first at row {row}"
        raise ReportFormatError(report, origin, problem)
    return numbers


def parse_text(values: pd.Series, column: str, report: Report, origin: str) -> pd.Series:
    """A text column stripped of ERCOT's padding; blanks are an error."""
    text = values.astype(str).str.strip()
    missing = values.isna().to_numpy() | (text == "").to_numpy()
    if missing.any():
        row = int(np.flatnonzero(missing)[0])
        raise ReportFormatError(report, origin, f"column {column!r} is blank at row {row}")
    return text.reset_index(drop=True)


def parse_yes(values: pd.Series, column: str, report: Report, origin: str) -> np.ndarray:
    """A Y/N (or true/false) column as booleans."""
    out = []
    for row, value in enumerate(values):
        if isinstance(value, (bool, np.bool_)):
            out.append(bool(value))
            continue
        text = str(value).strip().upper()
        if text in {"Y", "YES", "TRUE", "T", "1"}:
            out.append(True)
        elif text in {"N", "NO", "FALSE", "F", "0"}:
            out.append(False)
        else:
            raise ReportFormatError(report, origin, f"column {column!r} row {row}: {value!r} is not Y or N")
    return np.asarray(out, dtype=bool)


# --- time ----------------------------------------------------------------------------------------


def _unique_then_broadcast(convert: Callable[..., pd.DatetimeIndex], columns: list[pd.Series]) -> pd.DatetimeIndex:
    """``convert(*columns)`` evaluated once per distinct label combination.

    A year of 15-minute prices repeats each (date, hour, interval, flag) label for every settlement
    point; converting the ~35k distinct labels instead of ~500k rows keeps archive reads fast.
    """
    columns = [column.reset_index(drop=True) for column in columns]
    text = [column.astype(object).where(column.notna(), "").astype(str) for column in columns]
    key = text[0].str.cat(text[1:], sep="|") if len(text) > 1 else text[0]
    codes, _ = pd.factorize(key)
    _, first = np.unique(codes, return_index=True)
    converted = convert(*[column.iloc[first].reset_index(drop=True) for column in columns])
    return pd.DatetimeIndex(converted[codes])


def labels_to_utc(
    convert: Callable[..., pd.DatetimeIndex], columns: list[pd.Series], report: Report, origin: str
) -> pd.Series:
    """ERCOT labels -> UTC through ``pipeline.ercot_time``; a label that names no instant is a report error.

    ``ErcotTimeError`` (a ValueError) covers dates, hours and flags; a non-numeric interval number
    surfaces as a plain ValueError / TypeError from ``int()``.
    """
    try:
        starts = _unique_then_broadcast(convert, columns)
    except (ValueError, TypeError) as exc:
        raise ReportFormatError(report, origin, f"bad time label: {exc}") from exc
    return pd.Series(starts, name="interval_start")


def flag_column(frame: pd.DataFrame, columns: Mapping[str, str]) -> pd.Series:
    """The repeated-hour flag column, or all "N" when the report leaves it out."""
    name = columns.get(REPEATED_FLAG.name)
    if name is None:
        return pd.Series(["N"] * len(frame), index=frame.index)
    return frame[name]


def schedule_published_at(
    dataset: str, interval_start: pd.Series, interval_minutes: int, source: str | None = None
) -> pd.Series:
    """``published_at`` from ERCOT's publication schedule, for values whose source does not say.

    The key day of an actual value is the CPT operating day of its interval, so a rule fixed to a
    local time (e.g. load: 06:00 the next day) is evaluated once per distinct day.
    """
    rule = publication.rule_for(dataset, source)
    starts = pd.Series(interval_start).reset_index(drop=True)
    if starts.empty:
        return pd.Series([], dtype="datetime64[us, UTC]")
    if rule.local_time is None:
        key_day = ercot_time.operating_day_of(starts.iloc[:1])[0]
        return rule.stamp(starts, interval_minutes, key_day).reset_index(drop=True)
    key_days = pd.Series(ercot_time.operating_day_of(starts))
    stamps = {day: rule.available_at(day) for day in key_days.unique()}
    return pd.Series(pd.DatetimeIndex([stamps[day] for day in key_days]).as_unit(ercot_time.TS_UNIT))


def _given_published_at(published_at: pd.Timestamp, rows: int, report: Report, origin: str) -> pd.Series:
    """One known publication time (e.g. the MIS PublishDate) for every row."""
    stamp = pd.Timestamp(published_at)
    if stamp.tzinfo is None:
        raise ReportFormatError(report, origin, f"published_at {published_at!r} must be timezone-aware")
    stamp = stamp.tz_convert("UTC").as_unit(ercot_time.TS_UNIT)
    return pd.Series([stamp] * rows, dtype="datetime64[us, UTC]")


def published(
    dataset: str, starts: pd.Series, minutes: int, published_at: pd.Timestamp | None, report: Report, origin: str
) -> pd.Series:
    if published_at is None:
        return schedule_published_at(dataset, starts, minutes)
    return _given_published_at(published_at, len(starts), report, origin)


def conform_frame(schema: Schema, frame: pd.DataFrame, report: Report, origin: str) -> pd.DataFrame:
    """``frame`` in key order through ``schema.conform``, its errors blamed on the report and file.

    Duplicate keys, nulls or an empty frame become a :class:`ReportFormatError` naming the origin.
    """
    ordered = frame.sort_values([c for c in schema.key if c != "published_at"][::-1], kind="stable")
    try:
        return schema.conform(ordered.reset_index(drop=True), where=origin)
    except SchemaError as exc:
        raise ReportFormatError(report, origin, str(exc)) from exc


def _empty(schema: Schema) -> pd.DataFrame:
    """A typed empty canonical frame, for a part of a report that legitimately has no rows."""
    kinds = {"utc": "datetime64[us, UTC]", "str": "str", "float": "float64", "int": "int64", "bool": "bool"}
    return pd.DataFrame({column: pd.Series([], dtype=kinds[kind]) for column, kind in schema.columns.items()})


# --- settlement point prices -------------------------------------------------------------------


def _drop_energy_weighted(frame: pd.DataFrame, columns: Mapping[str, str], report: Report, origin: str) -> pd.DataFrame:
    """Keep one row per load zone: the plain ``LZ`` price, not the energy-weighted ``LZEW`` copy.

    NP6-905-CD and NP6-785-ER publish every load zone twice per interval (types LZ and LZEW). The
    canonical key is (node, interval_start), so one copy must go; ``LZ`` is the load-zone
    settlement point price under the zone's own name, which is what a configured node such as
    ``LZ_HOUSTON`` means (and what DAM publishes for the zone).
    """
    type_column = columns.get(SETTLEMENT_POINT_TYPE.name)
    if type_column is None:
        return frame
    types = parse_text(frame[type_column], type_column, report, origin).str.upper()
    return frame.loc[~types.isin(ENERGY_WEIGHTED_TYPES).to_numpy()]


def _select_nodes(
    frame: pd.DataFrame, points: pd.Series, nodes: Collection[str] | None, report: Report, origin: str
) -> pd.DataFrame:
    """Rows of the requested settlement points; a requested point the table lacks is an error."""
    if nodes is None:
        return frame.assign(node=points.to_numpy())
    wanted = set(nodes)
    missing = sorted(wanted - set(points))
    if missing:
        raise ReportFormatError(report, origin, f"settlement point(s) {missing} not in the table")
    keep = points.isin(wanted).to_numpy()
    return frame.loc[keep].assign(node=points[keep].to_numpy())


def _price_rows(frame: pd.DataFrame, columns: Mapping[str, str], nodes, report: Report, origin: str) -> pd.DataFrame:
    frame = _drop_energy_weighted(frame, columns, report, origin).reset_index(drop=True)
    point_column = columns[SETTLEMENT_POINT.name]
    points = parse_text(frame[point_column], point_column, report, origin)
    return _select_nodes(frame, points, nodes, report, origin).reset_index(drop=True)


def rt_spp_to_canonical(
    frame: pd.DataFrame,
    origin: str,
    nodes: Collection[str] | None = None,
    published_at: pd.Timestamp | None = None,
    report: Report = NP6_905_CD,
) -> pd.DataFrame:
    """15-minute real-time settlement point prices (NP6-905-CD, NP6-785-ER sheets) -> ``rt_prices``.

    Interval start = delivery date + (hour - 1) h + (interval - 1) x 15 min, local, second copy of
    the fall-back hour by the repeated-hour flag. LZ vs LZEW: where a settlement point type column
    exists, the energy-weighted ``LZEW`` rows are dropped and the plain ``LZ`` price is kept under
    the zone's name. ``published_at`` None: 5 minutes after each interval ends (publication table).
    """
    fields = (DELIVERY_DATE, DELIVERY_HOUR, DELIVERY_INTERVAL, REPEATED_FLAG, SETTLEMENT_POINT,
              SETTLEMENT_POINT_TYPE, SETTLEMENT_POINT_PRICE)
    columns = resolve_columns(frame, fields, report, origin)
    rows = _price_rows(frame, columns, nodes, report, origin)
    label_columns = [rows[columns[f.name]] for f in (DELIVERY_DATE, DELIVERY_HOUR, DELIVERY_INTERVAL)]
    starts = labels_to_utc(ercot_time.interval_to_utc, [*label_columns, flag_column(rows, columns)], report, origin)
    price_column = columns[SETTLEMENT_POINT_PRICE.name]
    out = pd.DataFrame({
        "interval_start": starts,
        "node": rows["node"].to_numpy(),
        "price": parse_numbers(rows[price_column], price_column, report, origin),
        "interval_minutes": 15,
        "published_at": published("rt_prices", starts, 15, published_at, report, origin),
    })
    return conform_frame(RT_PRICES, out, report, origin)


def sced_lmp_to_canonical(
    frame: pd.DataFrame,
    origin: str,
    nodes: Collection[str] | None = None,
    published_at: pd.Timestamp | None = None,
    report: Report = NP6_788_CD,
) -> pd.DataFrame:
    """SCED LMPs (NP6-788-CD) -> 5-minute ``rt_prices``.

    SCED runs at irregular seconds ("MM/DD/YYYY HH:MM:SS"); each run is floored to its 5-minute
    bucket, and when several runs land in one bucket (re-runs after a failed SCED) the latest run
    is kept, as it is the price ERCOT settled that interval at.
    """
    fields = (SCED_TIMESTAMP, REPEATED_FLAG, SETTLEMENT_POINT, LMP)
    columns = resolve_columns(frame, fields, report, origin)
    rows = _price_rows(frame, columns, nodes, report, origin)
    stamps, flags = rows[columns[SCED_TIMESTAMP.name]], flag_column(rows, columns)
    starts = labels_to_utc(ercot_time.sced_timestamp_to_utc, [stamps, flags], report, origin)
    try:
        run_order = ercot_time.parse_sced_local(stamps)
    except ercot_time.ErcotTimeError as exc:
        raise ReportFormatError(report, origin, str(exc)) from exc
    out = pd.DataFrame({
        "interval_start": starts,
        "node": rows["node"].to_numpy(),
        "price": parse_numbers(rows[columns[LMP.name]], columns[LMP.name], report, origin),
        "interval_minutes": 5,
        "_run": run_order.to_numpy(),
    })
    out = out.sort_values(["node", "interval_start", "_run"], kind="stable")
    out = out.drop_duplicates(["node", "interval_start"], keep="last").drop(columns="_run").reset_index(drop=True)
    out["published_at"] = published("rt_prices", out["interval_start"], 5, published_at, report, origin)
    return conform_frame(RT_PRICES, out, report, origin)


def dam_spp_to_canonical(
    frame: pd.DataFrame,
    origin: str,
    nodes: Collection[str] | None = None,
    published_at: pd.Timestamp | None = None,
    report: Report = NP4_190_CD,
) -> pd.DataFrame:
    """Hourly DAM settlement point prices (NP4-190-CD, NP4-180-ER sheets) -> ``dam_prices``.

    HourEnding "01:00".."24:00" (HE 24 is the last hour of the same date; HE 25 on fall-back days
    in some reports). ``published_at`` None: 13:30 CPT the day before delivery (DAM clearing).
    """
    fields = (DELIVERY_DATE, HOUR_ENDING, REPEATED_FLAG, SETTLEMENT_POINT, SETTLEMENT_POINT_TYPE,
              SETTLEMENT_POINT_PRICE)
    columns = resolve_columns(frame, fields, report, origin)
    rows = _price_rows(frame, columns, nodes, report, origin)
    labels = [rows[columns[DELIVERY_DATE.name]], rows[columns[HOUR_ENDING.name]], flag_column(rows, columns)]
    starts = labels_to_utc(ercot_time.hour_ending_to_utc, labels, report, origin)
    price_column = columns[SETTLEMENT_POINT_PRICE.name]
    out = pd.DataFrame({
        "interval_start": starts,
        "node": rows["node"].to_numpy(),
        "price": parse_numbers(rows[price_column], price_column, report, origin),
        "published_at": published("dam_prices", starts, 60, published_at, report, origin),
    })
    return conform_frame(DAM_PRICES, out, report, origin)


# --- hourly zone tables (load, load forecast, temperature forecast) ------------------------------


def _hourly_zone_table(
    frame: pd.DataFrame, date_field: Field, zones: Collection[str], value_name: str, report: Report, origin: str
) -> pd.DataFrame:
    """A wide hourly table (one column per weather zone) as long rows: interval_start, zone, value."""
    columns = resolve_columns(frame, (date_field, HOUR_ENDING, REPEATED_FLAG), report, origin)
    zone_columns = resolve_zones(frame, zones, report, origin)
    frame = frame.reset_index(drop=True)
    labels = [frame[columns[date_field.name]], frame[columns[HOUR_ENDING.name]], flag_column(frame, columns)]
    starts = labels_to_utc(ercot_time.hour_ending_to_utc, labels, report, origin)
    parts = [
        pd.DataFrame({
            "interval_start": starts,
            "zone": zone,
            value_name: parse_numbers(frame[column], str(column), report, origin),
        })
        for zone, column in zone_columns.items()
    ]
    return pd.concat(parts, ignore_index=True)


def actual_load_to_canonical(
    frame: pd.DataFrame, origin: str, published_at: pd.Timestamp | None = None, report: Report = NP6_345_CD
) -> pd.DataFrame:
    """Actual load by weather zone (NP6-345-CD ``OperDay,HourEnding,COAST,...,TOTAL,DSTFlag``) -> ``load``.

    Eight weather zones plus the system total as zone "ERCOT"; zone spellings of other vintages
    (FWEST, NCENT, SOUTH, SCENT, ...) are mapped by ``ZONE_SPELLINGS``. ``published_at`` None:
    06:00 CPT the day after the operating day.
    """
    zones = (*WEATHER_ZONES, SYSTEM_ZONE)
    out = _hourly_zone_table(frame, OPER_DAY, zones, "load_mw", report, origin)
    out["published_at"] = published("load", out["interval_start"], 60, published_at, report, origin)
    return conform_frame(LOAD, out, report, origin)


def load_forecast_to_canonical(
    frame: pd.DataFrame, origin: str, published_at: pd.Timestamp, report: Report = NP3_565_CD
) -> pd.DataFrame:
    """One NP3-565-CD posting (several forecast models per hour) -> ``load_forecast``.

    Only the rows with InUseFlag = Y are kept: that is the model ERCOT itself used, one per hour.
    ``published_at`` is the posting time (the forecast's vintage).
    """
    columns = resolve_columns(frame, (IN_USE_FLAG,), report, origin)
    in_use = parse_yes(frame[columns[IN_USE_FLAG.name]], columns[IN_USE_FLAG.name], report, origin)
    if not in_use.any():
        raise ReportFormatError(report, origin, "no row has InUseFlag = Y (no forecast model in use)")
    zones = (*WEATHER_ZONES, SYSTEM_ZONE)
    out = _hourly_zone_table(frame.loc[in_use], DELIVERY_DATE, zones, "load_mw", report, origin)
    out["published_at"] = _given_published_at(published_at, len(out), report, origin)
    return conform_frame(LOAD_FORECAST, out, report, origin)


def temperature_forecast_to_canonical(
    frame: pd.DataFrame, origin: str, published_at: pd.Timestamp, report: Report = NP4_722_CD
) -> pd.DataFrame:
    """NP4-722-CD temperature forecast by weather zone (deg F) -> ``weather_forecast`` (deg C).

    ``location`` is the canonical weather-zone name; the report has no wind, so ``wind_speed_ms``
    is NaN (a declared-nullable column, not a filled value).
    """
    out = _hourly_zone_table(frame, DELIVERY_DATE, WEATHER_ZONES, "temperature_f", report, origin)
    out = pd.DataFrame({
        "interval_start": out["interval_start"],
        "location": out["zone"],
        "temperature_c": (out["temperature_f"] - 32.0) * 5.0 / 9.0,
        "wind_speed_ms": np.nan,
        "published_at": _given_published_at(published_at, len(out), report, origin),
    })
    return conform_frame(WEATHER_FORECAST, out, report, origin)


# --- wind and solar (actual + forecast in one posting) -------------------------------------------


def _renewables_posting(
    frame: pd.DataFrame, origin: str, published_at: pd.Timestamp, fuel: str, forecast_field: Field, report: Report
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split one hourly posting into actual rows and forecast rows.

    A posting holds ~48 past hours with actuals and ~168 future hours with forecasts only. Actual
    rows are the hours whose actual is present; forecast rows are the hours without an actual
    (the ones still to come at the posting), valued by the short-term forecast.

    ``published_at`` of an actual is the earlier of the posting time (it is certainly public then)
    and the schedule (2 h after the hour ends): an hour appears in ~48 postings and was public
    from the first, which the schedule approximates without making live and archive data differ.
    """
    columns = resolve_columns(frame, (DELIVERY_DATE, HOUR_ENDING, REPEATED_FLAG, SYSTEM_WIDE_ACTUAL, forecast_field),
                              report, origin)
    frame = frame.reset_index(drop=True)
    labels = [frame[columns[DELIVERY_DATE.name]], frame[columns[HOUR_ENDING.name]], flag_column(frame, columns)]
    starts = labels_to_utc(ercot_time.hour_ending_to_utc, labels, report, origin)
    actual_column, forecast_column = columns[SYSTEM_WIDE_ACTUAL.name], columns[forecast_field.name]
    actual = parse_numbers(frame[actual_column], actual_column, report, origin, allow_missing=True)
    forecast = parse_numbers(frame[forecast_column], forecast_column, report, origin, allow_missing=True)
    posted = _given_published_at(published_at, len(frame), report, origin)
    has_actual = ~np.isnan(actual)
    has_forecast = ~has_actual & ~np.isnan(forecast)
    actual_starts = starts[has_actual].reset_index(drop=True)
    scheduled = schedule_published_at("renewables", actual_starts, 60)
    actual_rows = pd.DataFrame({
        "interval_start": actual_starts,
        "fuel": fuel,
        "generation_mw": actual[has_actual],
        "published_at": posted[has_actual].reset_index(drop=True).where(
            posted[has_actual].reset_index(drop=True) <= scheduled, scheduled),
    })
    forecast_rows = pd.DataFrame({
        "interval_start": starts[has_forecast].reset_index(drop=True),
        "fuel": fuel,
        "generation_mw": forecast[has_forecast],
        "published_at": posted[has_forecast].reset_index(drop=True),
    })
    return (_conform_or_empty(RENEWABLES, actual_rows, report, origin),
            _conform_or_empty(RENEWABLES_FORECAST, forecast_rows, report, origin))


def _conform_or_empty(schema: Schema, frame: pd.DataFrame, report: Report, origin: str) -> pd.DataFrame:
    """Conform, except that a legitimately empty part becomes a typed empty frame."""
    return _empty(schema) if frame.empty else conform_frame(schema, frame, report, origin)


def wind_to_canonical(
    frame: pd.DataFrame, origin: str, published_at: pd.Timestamp, report: Report = NP4_732_CD
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One NP4-732-CD posting -> (``renewables`` actual rows, ``renewables_forecast`` STWPF rows), fuel "wind".

    Accepts the column names before (ACTUAL_SYSTEM_WIDE) and after (SYSTEM_WIDE_GEN) 2024-09-26
    and the Public API's (genSystemWide, STWPFSystemWide). Either part may be empty (typed).
    """
    return _renewables_posting(frame, origin, published_at, "wind", WIND_FORECAST, report)


def solar_to_canonical(
    frame: pd.DataFrame, origin: str, published_at: pd.Timestamp, report: Report = NP4_737_CD
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One NP4-737-CD posting -> (``renewables`` actual rows, ``renewables_forecast`` STPPF rows), fuel "solar"."""
    return _renewables_posting(frame, origin, published_at, "solar", SOLAR_FORECAST, report)
