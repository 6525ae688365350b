"""ERCOT's Central-time conventions, converted to UTC instants in one place.

ERCOT publishes everything in Central Prevailing Time (America/Chicago, with DST) using
*hour-ending* labels: HE "01:00" is 00:00-01:00 local and HE "24:00" is 23:00-24:00 of the same
delivery date. On the fall-back day (first Sunday of November) local 01:00-02:00 happens twice; the
second copy carries ``DSTFlag`` / ``RepeatedHourFlag`` = "Y" (API: ``true``). On the spring-forward
day HE "03:00" (02:00-03:00) does not exist. Some reports instead number the fall-back day's hours
1..25 in elapsed order.

Files store UTC. CPT appears only as the *operating day* key (a ``datetime.date``). Every function
here is pure: no clock is read.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from pipeline.catalogue import HORIZON_HOURS

CPT = ZoneInfo("America/Chicago")
UTC = dt.timezone.utc
TS_UNIT = "us"  # canonical resolution of timestamps in every file

HOUR = pd.Timedelta(hours=1)


class ErcotTimeError(ValueError):
    """A delivery date / hour / flag combination that does not name a real instant."""


_TRUE_FLAGS = {"Y", "YES", "TRUE", "T", "1"}
_FALSE_FLAGS = {"N", "NO", "FALSE", "F", "0", ""}


def parse_repeated_flag(values: Iterable[object] | pd.Series) -> np.ndarray:
    """DSTFlag / RepeatedHourFlag values ("Y", " N ", True, NaN ...) as a boolean array.

    ``True`` marks the *second* copy of the repeated fall-back hour. Missing values mean "N"
    (files outside the fall-back day often leave the column empty).
    """
    out = []
    for value in values:
        if value is None or (isinstance(value, float) and np.isnan(value)):
            out.append(False)
        elif isinstance(value, (bool, np.bool_)):
            out.append(bool(value))
        else:
            text = str(value).strip().upper()
            if text in _TRUE_FLAGS:
                out.append(True)
            elif text in _FALSE_FLAGS:
                out.append(False)
            else:
                raise ErcotTimeError(f"unrecognised repeated-hour flag {value!r} (expected Y or N)")
    return np.asarray(out, dtype=bool)


def to_date(value: object) -> dt.date:
    """A delivery date given as date, Timestamp or 'YYYY-MM-DD' / 'MM/DD/YYYY' text."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    for fmt in ("%Y-%m-%d", "%m/%d/%Y"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ErcotTimeError(f"unrecognised delivery date {value!r}")


def operating_day(now: dt.datetime) -> dt.date:
    """The CPT operating day of the instant ``now`` (timezone-aware): "today" for ERCOT."""
    if now.tzinfo is None:
        raise ErcotTimeError("operating_day needs a timezone-aware instant")
    return now.astimezone(CPT).date()


def day_start(day: dt.date) -> pd.Timestamp:
    """00:00 CPT of operating day ``day``, as a UTC timestamp."""
    local = pd.Timestamp(dt.datetime(day.year, day.month, day.day), tz=CPT)
    return local.tz_convert(UTC).as_unit(TS_UNIT)


def day_bounds(day: dt.date) -> tuple[pd.Timestamp, pd.Timestamp]:
    """[start, end) of operating day ``day`` in UTC (23, 24 or 25 hours long)."""
    return day_start(day), day_start(day + dt.timedelta(days=1))


def hours_in_day(day: dt.date) -> int:
    start, end = day_bounds(day)
    return int((end - start) / HOUR)


def operating_day_hours(day: dt.date) -> pd.DatetimeIndex:
    """The UTC starts of every hour of operating day ``day``."""
    start, end = day_bounds(day)
    return pd.date_range(start, end, freq="h", inclusive="left").as_unit(TS_UNIT)


@functools.lru_cache(maxsize=100_000)
def local_time_on(day: dt.date, hhmm: str) -> pd.Timestamp:
    """Wall-clock time ``hhmm`` (CPT) on ``day`` as UTC, e.g. the issue time 06:00 on D."""
    hour, minute = parse_hhmm(hhmm)
    local = pd.Timestamp(dt.datetime(day.year, day.month, day.day, hour, minute))
    return local.tz_localize(CPT, nonexistent="raise", ambiguous="raise").tz_convert(UTC).as_unit(TS_UNIT)


def parse_hhmm(hhmm: str) -> tuple[int, int]:
    """'HH:MM' (00:00-23:59) as (hour, minute)."""
    try:
        hour_text, minute_text = str(hhmm).strip().split(":")
        hour, minute = int(hour_text), int(minute_text)
    except ValueError as exc:
        raise ErcotTimeError(f"time {hhmm!r} is not HH:MM") from exc
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise ErcotTimeError(f"time {hhmm!r} is out of range 00:00-23:59")
    return hour, minute


def forecast_hours(issue_day: dt.date, horizon_hours: int = HORIZON_HOURS) -> pd.DatetimeIndex:
    """The ``horizon_hours`` consecutive UTC hours starting at 00:00 CPT of the day after ``issue_day``.

    Counting UTC hours (not local wall-clock hours) keeps exactly 72 rows through DST weeks.
    """
    start = day_start(issue_day + dt.timedelta(days=1))
    return pd.date_range(start, periods=horizon_hours, freq="h").as_unit(TS_UNIT)


def operating_day_of(timestamps: pd.Series | pd.DatetimeIndex) -> np.ndarray:
    """The CPT operating day (``datetime.date``) of each UTC timestamp."""
    index = pd.DatetimeIndex(timestamps)
    if index.tz is None:
        raise ErcotTimeError("operating_day_of needs tz-aware UTC timestamps")
    return np.asarray(index.tz_convert(CPT).date)


def local_hour_of(timestamps: pd.Series | pd.DatetimeIndex) -> np.ndarray:
    """Hour of day (0-23) on the CPT wall clock of each UTC timestamp (interval start)."""
    return np.asarray(pd.DatetimeIndex(timestamps).tz_convert(CPT).hour, dtype=np.int64)


def hour_ending_of(starts: pd.Series | pd.DatetimeIndex) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ERCOT's delivery date, hour ending (1..24) and DSTFlag of the hours starting at ``starts`` (UTC).

    The bid-sheet view of an hour: on the fall-back day the repeated wall-clock hour 01:00-02:00 is
    HE 02 twice, the second (standard-time) copy flagged True; on the spring-forward day HE 03 does
    not exist (HE 02 is followed by HE 04).
    """
    index = pd.DatetimeIndex(starts)
    if index.tz is None:
        raise ErcotTimeError("hour_ending_of needs tz-aware UTC timestamps")
    local = index.tz_convert(CPT)
    wall = local.tz_localize(None)
    previous_wall = (index - HOUR).tz_convert(CPT).tz_localize(None)
    # Only when the clock falls back does an hour start at the same wall-clock time as the hour before it.
    repeated = np.asarray(wall == previous_wall)
    return np.asarray(local.date), np.asarray(local.hour + 1, dtype=np.int64), repeated


def days(start: dt.date, end: dt.date) -> list[dt.date]:
    """Every date in [start, end] inclusive."""
    count = (end - start).days + 1
    return [start + dt.timedelta(days=i) for i in range(max(count, 0))]


# --- holidays ------------------------------------------------------------------------------------


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> dt.date:
    first = dt.date(year, month, 1)
    return first + dt.timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def _last_weekday(year: int, month: int, weekday: int) -> dt.date:
    last = dt.date(year, month + 1, 1) - dt.timedelta(days=1) if month < 12 else dt.date(year, 12, 31)
    return last - dt.timedelta(days=(last.weekday() - weekday) % 7)


@functools.lru_cache(maxsize=256)
def holidays(year: int) -> frozenset[dt.date]:
    """The days Texas load drops like a weekend: the NERC holidays ERCOT's load forecasts observe
    (New Year's Day, Memorial Day, Independence Day, Labor Day, Thanksgiving, Christmas Day) plus
    the Friday after Thanksgiving and Christmas Eve. Fixed dates are kept as they fall, not moved
    to a weekday (a Saturday July 4 changes nothing, and the weekday rule covers it).
    """
    thanksgiving = _nth_weekday(year, 11, 3, 4)
    return frozenset({
        dt.date(year, 1, 1),
        _last_weekday(year, 5, 0),  # Memorial Day
        dt.date(year, 7, 4),
        _nth_weekday(year, 9, 0, 1),  # Labor Day
        thanksgiving,
        thanksgiving + dt.timedelta(days=1),
        dt.date(year, 12, 24),
        dt.date(year, 12, 25),
    })


def is_holiday(day: dt.date) -> bool:
    return day in holidays(day.year)


# --- converting ERCOT's local labels to UTC -------------------------------------------------------


def localize_cpt(local_naive: pd.Series | pd.DatetimeIndex, repeated: np.ndarray) -> pd.DatetimeIndex:
    """Naive CPT wall-clock starts + repeated-hour flags -> UTC.

    During the repeated fall-back hour the first copy is daylight time and the copy flagged
    repeated is standard time, hence ``ambiguous = ~repeated``. A start inside the spring-forward
    gap does not exist and is an error; so is a repeated flag outside the fall-back hour.
    """
    index = pd.DatetimeIndex(local_naive)
    repeated = np.asarray(repeated, dtype=bool)
    try:
        localized = index.tz_localize(CPT, ambiguous=~repeated, nonexistent="raise")
    except ValueError as exc:  # pandas: NonExistentTimeError / AmbiguousTimeError are ValueErrors
        bad = _first_nonexistent(index)
        where = f" (first bad local time {bad})" if bad is not None else ""
        raise ErcotTimeError(f"local times do not exist in America/Chicago{where}: {exc}") from exc
    flagged_unambiguous = repeated & ~_is_ambiguous(index)
    if flagged_unambiguous.any():
        bad = index[flagged_unambiguous][0]
        raise ErcotTimeError(f"repeated-hour flag set on {bad}, which is not in the fall-back hour")
    return localized.tz_convert(UTC).as_unit(TS_UNIT)


def _is_ambiguous(index: pd.DatetimeIndex) -> np.ndarray:
    as_dst = index.tz_localize(CPT, ambiguous=np.ones(len(index), dtype=bool), nonexistent="NaT")
    as_std = index.tz_localize(CPT, ambiguous=np.zeros(len(index), dtype=bool), nonexistent="NaT")
    return np.asarray(as_dst != as_std)


def _first_nonexistent(index: pd.DatetimeIndex) -> pd.Timestamp | None:
    probe = index.tz_localize(CPT, ambiguous="NaT", nonexistent="NaT")
    gaps = index[np.asarray(probe.isna()) & ~_is_ambiguous(index)]
    return gaps[0] if len(gaps) else None


def _dates_index(delivery_dates: Iterable[object]) -> pd.DatetimeIndex:
    parsed = [to_date(value) for value in delivery_dates]
    return pd.DatetimeIndex(pd.to_datetime(parsed))


def parse_hour_ending(values: Iterable[object]) -> np.ndarray:
    """Hour-ending labels ("01:00".."24:00", "1".."25", 7, "02:00 DST" is handled by callers) as ints."""
    out = []
    for value in values:
        text = str(value).strip()
        if text.endswith(":00"):
            text = text[:-3]
        try:
            number = int(float(text))
        except ValueError as exc:
            raise ErcotTimeError(f"unrecognised hour ending {value!r}") from exc
        if not 1 <= number <= 25:
            raise ErcotTimeError(f"hour ending {value!r} is outside 1..25")
        out.append(number)
    return np.asarray(out, dtype=np.int64)


def hour_ending_to_utc(
    delivery_dates: Iterable[object],
    hour_ending: Iterable[object],
    repeated: Iterable[object] | None = None,
) -> pd.DatetimeIndex:
    """UTC start of each hour given ERCOT's (delivery date, hour ending, repeated-hour flag).

    HE "24:00" is the last hour of the same delivery date. HE 25 (used by some reports on the
    fall-back day) switches that whole date to elapsed-hour numbering: HE n starts n-1 hours after
    local midnight.
    """
    dates = _dates_index(delivery_dates)
    he = parse_hour_ending(hour_ending)
    flags = np.zeros(len(he), dtype=bool) if repeated is None else parse_repeated_flag(repeated)
    if len(dates) != len(he) or len(he) != len(flags):
        raise ErcotTimeError("delivery dates, hour endings and flags differ in length")
    elapsed_days = set(dates[he == 25].date)
    elapsed = np.isin(dates.date, list(elapsed_days)) if elapsed_days else np.zeros(len(he), dtype=bool)
    result = np.empty(len(he), dtype="datetime64[us]")
    if (~elapsed).any():
        local = dates[~elapsed] + pd.to_timedelta(he[~elapsed] - 1, unit="h")
        result[~elapsed] = localize_cpt(local, flags[~elapsed]).tz_convert(None).to_numpy()
    if elapsed.any():
        starts = [day_start(d).tz_convert(None) for d in dates[elapsed].date]
        offsets = pd.to_timedelta(he[elapsed] - 1, unit="h")
        result[elapsed] = (pd.DatetimeIndex(starts) + offsets).to_numpy()
    return pd.DatetimeIndex(result).tz_localize(UTC).as_unit(TS_UNIT)


def interval_to_utc(
    delivery_dates: Iterable[object],
    delivery_hour: Iterable[object],
    delivery_interval: Iterable[object],
    repeated: Iterable[object] | None = None,
    minutes_per_interval: int = 15,
) -> pd.DatetimeIndex:
    """UTC start of ERCOT's 15-minute intervals: date + (hour-1) h + (interval-1) x 15 min, local."""
    dates = _dates_index(delivery_dates)
    hours = parse_hour_ending(delivery_hour)
    intervals = np.asarray([int(v) for v in delivery_interval], dtype=np.int64)
    per_hour = 60 // minutes_per_interval
    if ((intervals < 1) | (intervals > per_hour)).any():
        raise ErcotTimeError(f"delivery interval outside 1..{per_hour}")
    hour_starts = hour_ending_to_utc(dates.date, hours, repeated)
    return (hour_starts + pd.to_timedelta((intervals - 1) * minutes_per_interval, unit="min")).as_unit(TS_UNIT)


# MIS CSVs write SCED timestamps as "MM/DD/YYYY HH:MM:SS"; the ERCOT Public API writes the same local
# wall-clock time in ISO form without an offset ("YYYY-MM-DDTHH:MM:SS").
_SCED_FORMATS = ("%m/%d/%Y %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%m/%d/%Y %H:%M")


def parse_sced_local(timestamps: Iterable[object]) -> pd.DatetimeIndex:
    """SCED timestamps as naive CPT wall-clock times, to the second (not floored, not localized).

    Callers that must order several SCED runs inside one 5-minute bucket use this; everything else
    wants :func:`sced_timestamp_to_utc`.
    """
    texts = [str(v).strip() for v in timestamps]
    for fmt in _SCED_FORMATS:
        try:
            return pd.DatetimeIndex(pd.to_datetime(texts, format=fmt))
        except ValueError:
            continue
    example = texts[0] if texts else ""
    raise ErcotTimeError(f"unrecognised SCED timestamp(s), e.g. {example!r} (expected MM/DD/YYYY HH:MM:SS)")


def sced_timestamp_to_utc(timestamps: Iterable[object], repeated: Iterable[object] | None = None) -> pd.DatetimeIndex:
    """SCED timestamps ("MM/DD/YYYY HH:MM:SS", local, irregular seconds) floored to 5 minutes, as UTC."""
    timestamps = list(timestamps)
    local = parse_sced_local(timestamps).floor("5min")
    flags = np.zeros(len(local), dtype=bool) if repeated is None else parse_repeated_flag(repeated)
    return localize_cpt(local, flags)
