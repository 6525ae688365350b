"""Which ERCOT documents hold a key day, and how their tables become one canonical frame.

ERCOT posts every report as a stream of documents (one file per SCED run, per forecast posting, per
day ...). MIS (:mod:`pipeline.sources.ercot_mis`) lists the recent ones and the Public API's archive
(:mod:`pipeline.sources.ercot_api`) the same documents going back years; both are a
:class:`DocumentStore`, and this module holds what they share: the document model, the rules that
pick a key day's documents (:func:`plan_for`), and the assembly of the day's frame (:func:`gather`).

Key days and ``published_at``
-----------------------------
* Actual datasets (``rt_prices``, ``dam_prices``, ``ancillary_prices``, ``load``, ``renewables``)
  are keyed by CPT operating day *d*: the frame holds every interval of *d* (23, 24 or 25 hours), taken from the
  documents whose data covers *d* -- found by their posting time (a window around *d*, below) and
  then filtered by content, since file names do not reliably say which day they hold.
* Forecast datasets (``load_forecast``, ``renewables_forecast``, ``weather_forecast``) are keyed by
  vintage: the latest document posted on *d* at or before the vintage cut-off (default 06:00 CPT,
  the issue time), with every hour it forecasts.
* ``published_at`` is the document's posting time converted to UTC: the moment the value became
  public. A day with no such document listed -- not posted yet, or already expired from the store
  -- is :class:`DataUnavailable`; a day with documents but missing hours is too, and so is an
  ``ancillary_prices`` day lacking a service that existed then (ECRS from 2023-06-10 on).

Posting windows searched for key day d (CPT), from ERCOT's posting habits (see :func:`plan_for`):
``rt_prices`` files posted from 00:00 on d to 00:20 on d+1 (each interval minutes after it ends);
``dam_prices`` and ``ancillary_prices`` (NP4-188-CD, the DAM's clearing prices for capacity) from
00:00 on d-1 to 24:00 on d (DAM for d clears ~13:30 on d-1); ``load`` from
00:00 on d to 24:00 on d+1 (posted once, early on d+1); ``renewables`` the first wind / solar file
posted 00:00-04:00 on d+1 whose rolling 48 h of actuals cover all of d (its actuals keep the
parser's stamp: the earlier of the posting time and the schedule).

Which real-time price: SCED 5-minute LMPs (NP6-788-CD) by default, because labels are "price above
the threshold in at least one 5-minute interval" and the 15-minute settlement point price
(NP6-905-CD) averages three SCED intervals, hiding short spikes. ``rt_report="rt_spp"`` switches to
the 15-minute SPP (96 files a day instead of ~288, and the price that settles).

ERCOT quirks handled here
-------------------------
* ``_retry`` in a name marks a re-post of the same publication: the latest re-post wins, and rows
  are de-duplicated by key keeping the latest publication, so duplicates never double rows.
* In the repeated fall-back hour the second set of file names contains ``xhr`` and PublishDate's
  offset may still claim daylight time: an ``xhr`` document's ambiguous wall-clock publish time is
  read as the second (standard-time) occurrence (see :func:`publish_time`).

Interval reports arrive as hundreds of one-interval files a day; they are parsed as one table (see
:func:`interval_files_to_canonical`) because parsing each file alone costs far more than fetching it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np
import pandas as pd

from pipeline import ercot_time
from pipeline.catalogue import (
    NP3_565_CD,
    NP4_188_CD,
    NP4_190_CD,
    NP4_722_CD,
    NP4_732_CD,
    NP4_737_CD,
    NP6_345_CD,
    NP6_788_CD,
    NP6_905_CD,
    Report,
)
from pipeline.sources import ercot_files
from pipeline.sources.base import DataUnavailable, SourceError
from pipeline.sources.ercot_ancillary import ancillary_to_canonical, services_on
from targets.schemas import DATASETS, MARKET_DATASETS

RtReport = Literal["sced_lmp", "rt_spp"]
#: What ERCOT's reports provide: every market dataset plus its temperature forecast (NP4-722-CD).
ERCOT_DATASETS = (*MARKET_DATASETS, "weather_forecast")


# --- documents ---------------------------------------------------------------------------------------

# A name carrying its own timestamp (``NAME_YYYYMMDD_HHMM[SS]``) identifies one publication; names
# without one (e.g. the daily DAM file) cannot tell an original from a re-post of another day.
_TIMESTAMPED = re.compile(r"_\d{8}_\d{4,6}")


@dataclass(frozen=True)
class Document:
    """One posted file: its id, FriendlyName and the UTC instant it was posted."""

    doc_id: str
    name: str
    published_at: pd.Timestamp

    @property
    def is_retry(self) -> bool:
        return "_retry" in self.name.lower()

    @property
    def publication(self) -> str | None:
        """The name an original and its ``_retry`` re-posts share, when the name identifies one."""
        base = re.sub(r"_(csv|xml)$", "", self.name.lower()).replace("_retry", "")
        return base if _TIMESTAMPED.search(base) else None


def publish_time(text: str, name: str) -> pd.Timestamp:
    """The UTC instant of a MIS PublishDate (ISO with offset) or archive postDatetime (local, no offset).

    ERCOT quirks of the repeated fall-back hour (01:00-02:00 CPT happens twice):

    * MIS: the second copy's documents are named ``xhr`` and their PublishDate offset may still say
      daylight time, so an ``xhr`` document's ambiguous wall-clock time is read as the second
      (standard-time) occurrence. Other offsets are trusted.
    * Archive: postDatetime has no offset at all, and a file of the first copy's last intervals is
      posted during the second copy without an ``xhr`` name. Every ambiguous time is therefore read
      as the later occurrence: at worst a file is stamped an hour late, never before its data
      existed (an early stamp would leak data into forecasts issued before it was public).
    """
    try:
        stamp = pd.Timestamp(str(text).strip())
    except ValueError as exc:
        raise SourceError(f"document {name!r}: unreadable publish time {text!r}") from exc
    wall = stamp.tz_localize(None) if stamp.tzinfo is not None else stamp
    if stamp.tzinfo is not None and not ("xhr" in name.lower() and _ambiguous(wall)):
        return stamp.tz_convert("UTC").as_unit(ercot_time.TS_UNIT)
    # A posting time inside the spring-forward gap cannot happen; shifting it is harmless.
    local = wall.tz_localize(ercot_time.CPT, ambiguous=False, nonexistent="shift_forward")
    return local.tz_convert("UTC").as_unit(ercot_time.TS_UNIT)


def _ambiguous(wall: pd.Timestamp) -> bool:
    as_daylight = wall.tz_localize(ercot_time.CPT, ambiguous=True, nonexistent="NaT")
    as_standard = wall.tz_localize(ercot_time.CPT, ambiguous=False, nonexistent="NaT")
    return bool(as_daylight is not pd.NaT and as_daylight != as_standard)


def latest_reposts(documents: Iterable[Document]) -> list[Document]:
    """One document per publication, oldest first: a listed-twice DocID counts once, a re-post wins."""
    unique = {doc.doc_id: doc for doc in documents}
    chosen: dict[str, Document] = {}
    for doc in unique.values():
        key = doc.publication or f"doc:{doc.doc_id}"
        current = chosen.get(key)
        if current is None or (doc.published_at, doc.is_retry) > (current.published_at, current.is_retry):
            chosen[key] = doc
    return sorted(chosen.values(), key=lambda d: (d.published_at, d.doc_id))


# --- how each dataset is gathered ----------------------------------------------------------------------

Kind = Literal["delivery", "rolling", "vintage"]
Window = Callable[[dt.date], tuple[pd.Timestamp, pd.Timestamp]]


@dataclass(frozen=True)
class RawTable:
    """A downloaded CSV and where it came from (for messages and ``origin``)."""

    document: Document
    origin: str
    frame: pd.DataFrame


def _posted_between(start_days: int, end_days: int, grace: pd.Timedelta = pd.Timedelta(0)) -> Window:
    """Posting window [00:00 CPT of d+start_days, 00:00 CPT of d+end_days + grace)."""

    def window(day: dt.date) -> tuple[pd.Timestamp, pd.Timestamp]:
        start = ercot_time.day_start(day + dt.timedelta(days=start_days))
        return start, ercot_time.day_start(day + dt.timedelta(days=end_days)) + grace

    return window


@dataclass(frozen=True)
class Plan:
    """Which reports hold a dataset, which documents hold key day d, and how they combine.

    * ``delivery``: every document posted in ``window(d)``; rows filtered to operating day d.
    * ``rolling``: files holding the last 48 h of actuals, posted hourly (wind, solar): the first
      file posted in ``window(d)`` whose actuals cover every hour of d.
    * ``vintage``: the latest document posted on d at or before the cut-off; all its rows.
    """

    dataset: str
    reports: tuple[Report, ...]
    kind: Kind
    window: Window | None = None


def plan_for(dataset: str, rt_report: RtReport = "sced_lmp") -> Plan:
    """The gathering plan of ``dataset`` (ERCOT's posting habits per report, commented)."""
    if dataset == "rt_prices":
        # Each SCED run / 15-minute interval is posted minutes after it; the last one of d lands
        # just after midnight.
        report = NP6_788_CD if rt_report == "sced_lmp" else NP6_905_CD
        return Plan(dataset, (report,), "delivery", _posted_between(0, 1, pd.Timedelta(minutes=20)))
    if dataset == "dam_prices":
        # DAM for d clears and posts ~13:30 on d-1; re-posts may follow on d.
        return Plan(dataset, (NP4_190_CD,), "delivery", _posted_between(-1, 1))
    if dataset == "ancillary_prices":
        # The DAM's clearing prices for capacity post with its energy prices, one file per day.
        return Plan(dataset, (NP4_188_CD,), "delivery", _posted_between(-1, 1))
    if dataset == "load":
        # Actual load for d is posted once, early on d+1.
        return Plan(dataset, (NP6_345_CD,), "delivery", _posted_between(0, 2))
    if dataset == "renewables":
        # Hourly files carry the last 48 h of actuals; the first ones after midnight complete d.
        return Plan(dataset, (NP4_732_CD, NP4_737_CD), "rolling", _posted_between(1, 1, pd.Timedelta(hours=4)))
    if dataset == "load_forecast":
        return Plan(dataset, (NP3_565_CD,), "vintage")
    if dataset == "renewables_forecast":
        return Plan(dataset, (NP4_732_CD, NP4_737_CD), "vintage")
    if dataset == "weather_forecast":
        return Plan(dataset, (NP4_722_CD,), "vintage")
    raise ValueError(f"no ERCOT report provides dataset {dataset!r}")


def vintage_window(day: dt.date, cutoff: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """[00:00 CPT of d, cut-off on d] as a half-open UTC interval (the cut-off itself included)."""
    return ercot_time.day_start(day), ercot_time.local_time_on(day, cutoff) + pd.Timedelta(microseconds=1)


def window_of(plan: Plan, day: dt.date, cutoff: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """When the documents ``plan`` needs for key day ``day`` are posted (UTC, half-open)."""
    if plan.window is None:  # forecast vintages: posted on d up to the cut-off
        return vintage_window(day, cutoff)
    return plan.window(day)


def pick(plan: Plan, documents: Sequence[Document]) -> list[Document]:
    """The documents of one report that ``plan`` needs from those posted in the key day's window."""
    chosen = latest_reposts(documents)
    return chosen[-1:] if plan.kind == "vintage" else chosen


# --- turning tables into canonical frames --------------------------------------------------------------


def to_canonical(plan: Plan, report: Report, frame: pd.DataFrame, origin: str, nodes: Sequence[str] | None,
                 published_at: pd.Timestamp | None) -> pd.DataFrame:
    """One downloaded table as the canonical frame of ``plan.dataset`` (via the shared parsers).

    ``published_at`` None lets the parser stamp it from the publication table (API report rows
    carry no posting time). Parser errors (renamed or missing columns, impossible hours) become
    :class:`SourceError` naming the document.
    """
    node_list = list(nodes) if nodes else None
    try:
        if report is NP6_788_CD:
            return ercot_files.sced_lmp_to_canonical(frame, origin, nodes=node_list, published_at=published_at)
        if report is NP6_905_CD:
            return ercot_files.rt_spp_to_canonical(frame, origin, nodes=node_list, published_at=published_at)
        if report is NP4_190_CD:
            return ercot_files.dam_spp_to_canonical(frame, origin, nodes=node_list, published_at=published_at)
        if report is NP4_188_CD:
            return ancillary_to_canonical(frame, origin, published_at)
        if report is NP6_345_CD:
            return ercot_files.actual_load_to_canonical(frame, origin, published_at=published_at)
        if report is NP3_565_CD:
            return ercot_files.load_forecast_to_canonical(frame, origin, published_at)
        if report is NP4_722_CD:
            return ercot_files.temperature_forecast_to_canonical(frame, origin, published_at)
        if report in (NP4_732_CD, NP4_737_CD):
            parse = ercot_files.wind_to_canonical if report is NP4_732_CD else ercot_files.solar_to_canonical
            actual, forecast = parse(frame, origin, published_at)
            return actual if plan.dataset == "renewables" else forecast
    except SourceError:
        raise  # the parsers' ReportFormatError already names the column, report and document
    except ValueError as exc:  # a pandas conversion the parsers did not anticipate
        raise SourceError(f"{origin}: cannot read {report.report_id} as {plan.dataset}: {exc}") from exc
    raise ValueError(f"no parser for {report.report_id}")


def _key_columns(dataset: str) -> list[str]:
    return list(DATASETS[dataset].key)


def _group_column(dataset: str) -> str:
    return next(c for c in DATASETS[dataset].key if c != "interval_start" and c != "published_at")


def on_day(frame: pd.DataFrame, day: dt.date) -> pd.DataFrame:
    start, end = ercot_time.day_bounds(day)
    return frame[(frame["interval_start"] >= start) & (frame["interval_start"] < end)]


def keep_latest(frame: pd.DataFrame, dataset: str) -> pd.DataFrame:
    """One row per key, from the latest publication (re-posts supersede; duplicates collapse)."""
    ordered = frame.sort_values("published_at", kind="stable")
    latest = ordered.drop_duplicates(_key_columns(dataset), keep="last")
    return latest.sort_values(_key_columns(dataset)).reset_index(drop=True)


def missing_hours(frame: pd.DataFrame, dataset: str, day: dt.date) -> dict[str, int]:
    """For each node/zone/fuel in ``frame``, how many hours of operating day ``day`` it lacks."""
    expected = ercot_time.operating_day_hours(day)
    group = _group_column(dataset)
    hours = frame["interval_start"].dt.floor("h")
    gaps = {}
    for name, covered in hours.groupby(frame[group]):
        lacking = int((~expected.isin(pd.DatetimeIndex(covered.unique()))).sum())
        if lacking:
            gaps[str(name)] = lacking
    return gaps


def require_complete(frame: pd.DataFrame, dataset: str, day: dt.date, nodes: Sequence[str] | None,
                     source: str) -> None:
    """Fail loudly rather than write part of a day: every hour for every node/zone present."""
    if frame.empty:
        raise DataUnavailable(dataset, day, f"{source}: the documents hold no rows for this operating day")
    if nodes and dataset in ("rt_prices", "dam_prices"):
        absent = sorted(set(nodes) - set(frame["node"]))
        if absent:
            raise SourceError(f"{source}: {dataset} for {day} has no settlement point(s) {absent}; "
                              "check market.nodes against ERCOT's settlement point names")
    gaps = missing_hours(frame, dataset, day)
    if dataset == "ancillary_prices":  # a service that existed on the day but has no row lacks every hour
        gaps.update({service: ercot_time.hours_in_day(day) for service in services_on(day)
                     if service not in set(frame["service"])})
    if gaps:
        total = ercot_time.hours_in_day(day)
        detail = ", ".join(f"{name} lacks {count}/{total} h" for name, count in sorted(gaps.items())[:5])
        raise DataUnavailable(dataset, day, f"{source}: incomplete day ({detail})")


def build_day(plan: Plan, day: dt.date, tables: Mapping[Report, Sequence[RawTable]],
              nodes: Sequence[str] | None, source: str) -> pd.DataFrame:
    """The canonical frame of ``plan.dataset`` for key day ``day`` from its documents' tables."""
    if plan.kind == "vintage":
        frames = [to_canonical(plan, report, table.frame, table.origin, nodes, table.document.published_at)
                  for report, group in tables.items() for table in group]
        return keep_latest(pd.concat(frames, ignore_index=True), plan.dataset)
    if plan.kind == "rolling":
        frames = [_first_covering(plan, report, day, group, source) for report, group in tables.items()]
        return keep_latest(pd.concat(frames, ignore_index=True), plan.dataset)
    frames = [on_day(_delivery_frame(plan, report, group, nodes), day) for report, group in tables.items()]
    combined = keep_latest(pd.concat(frames, ignore_index=True), plan.dataset)
    require_complete(combined, plan.dataset, day, nodes, source)
    return combined


def _delivery_frame(plan: Plan, report: Report, tables: Sequence[RawTable],
                    nodes: Sequence[str] | None) -> pd.DataFrame:
    """All documents of one report for a delivery day, each row stamped with its document's posting."""
    if report in _INTERVAL_FIELDS and len(tables) > 1:
        return interval_files_to_canonical(plan, report, tables, nodes)
    frames = [to_canonical(plan, report, t.frame, t.origin, nodes, t.document.published_at) for t in tables]
    return pd.concat(frames, ignore_index=True)


# Interval reports post one small file per interval (~288 SCED runs a day). Parsing each alone costs
# far more than its download, so they are parsed together: every interval is first attributed to
# the latest document carrying it (a re-post wins), then one parse of the concatenation, then each
# row gets its own document's posting time back.
_Fields = tuple[ercot_files.Field, ...]
# interval report -> (the fields labelling an interval, the fields carrying values)
_INTERVAL_FIELDS: dict[Report, tuple[_Fields, _Fields]] = {
    NP6_788_CD: (
        (ercot_files.SCED_TIMESTAMP, ercot_files.REPEATED_FLAG),
        (ercot_files.SETTLEMENT_POINT, ercot_files.LMP),
    ),
    NP6_905_CD: (
        (ercot_files.DELIVERY_DATE, ercot_files.DELIVERY_HOUR, ercot_files.DELIVERY_INTERVAL,
         ercot_files.REPEATED_FLAG),
        (ercot_files.SETTLEMENT_POINT, ercot_files.SETTLEMENT_POINT_TYPE, ercot_files.SETTLEMENT_POINT_PRICE),
    ),
}


def interval_files_to_canonical(plan: Plan, report: Report, tables: Sequence[RawTable],
                                nodes: Sequence[str] | None) -> pd.DataFrame:
    """Many one-interval files of ``report`` as one canonical frame, ``published_at`` per file."""
    ordered = sorted(tables, key=lambda t: (t.document.published_at, t.document.doc_id))
    frames = [_standard_columns(report, table) for table in ordered]
    combined = pd.concat(frames, ignore_index=True)
    rank = np.repeat(np.arange(len(frames)), [len(f) for f in frames])
    names = [t.document.name for t in ordered]
    origin = f"{report.report_id}: {len(ordered)} files {min(names)} .. {max(names)}"
    starts = _row_interval_starts(report, combined, origin)
    # The latest posting carrying an interval owns it: a re-post replaces the original's rows.
    owner = pd.Series(rank).groupby(starts.to_numpy()).max()
    kept = combined[rank == starts.map(owner).to_numpy()]
    canonical = to_canonical(plan, report, kept.reset_index(drop=True), origin, nodes, None)
    posted = canonical["interval_start"].map({start: ordered[i].document.published_at for start, i in owner.items()})
    return canonical.assign(published_at=posted.astype(canonical["published_at"].dtype))


def _standard_columns(report: Report, table: RawTable) -> pd.DataFrame:
    """The table's report columns under their standard names (so files concatenate cleanly)."""
    labels, values = _INTERVAL_FIELDS[report]
    columns = ercot_files.resolve_columns(table.frame, (*labels, *values), report, table.origin)
    frame = table.frame[list(columns.values())].set_axis(list(columns), axis=1)
    flag = ercot_files.REPEATED_FLAG.name
    return frame if flag in frame else frame.assign(**{flag: "N"})


def _row_interval_starts(report: Report, frame: pd.DataFrame, origin: str) -> pd.Series:
    """The UTC interval start of every row (converted once per distinct label, by ercot_time)."""
    labels, _ = _INTERVAL_FIELDS[report]
    names = [field.name for field in labels]
    keys = frame[names[0]].astype(str)
    for name in names[1:]:
        keys = keys + "|" + frame[name].astype(str)
    codes, _ = pd.factorize(keys)
    first = pd.Series(range(len(codes))).groupby(codes).first().to_numpy()
    distinct = frame[names].iloc[first]
    try:
        if report is NP6_788_CD:
            converted = ercot_time.sced_timestamp_to_utc(distinct[names[0]], distinct[names[1]])
        else:
            converted = ercot_time.interval_to_utc(*(distinct[name] for name in names))
    except (ercot_time.ErcotTimeError, ValueError) as exc:
        raise SourceError(f"{origin}: {exc}") from exc
    return pd.Series(converted[codes], name="interval_start")


def _first_covering(plan: Plan, report: Report, day: dt.date, tables: Sequence[RawTable],
                    source: str) -> pd.DataFrame:
    """The earliest rolling file whose actuals cover every hour of ``day`` (ERCOT posts them hourly)."""
    for table in sorted(tables, key=lambda t: t.document.published_at):
        rows = on_day(to_canonical(plan, report, table.frame, table.origin, None, table.document.published_at), day)
        if not rows.empty and not missing_hours(rows, plan.dataset, day):
            return rows
    names = [t.document.name for t in tables]
    raise DataUnavailable(plan.dataset, day, f"{source}: no {report.report_id} file posted after the day covers "
                                             f"all its hours (looked at {names})")


# --- the document store protocol and the gathering loop ----------------------------------------------


class DocumentStore(Protocol):
    """Where documents are listed and downloaded: MIS (ercot_mis) or the Public API archive (ercot_api)."""

    label: str

    def prime(self, report: Report, start: pd.Timestamp, end: pd.Timestamp) -> None:
        """List ``report``'s documents posted in [start, end) at once, before per-day look-ups."""

    def documents(self, report: Report, start: pd.Timestamp, end: pd.Timestamp) -> list[Document]:
        """Documents of ``report`` posted in [start, end)."""

    def explain_absence(self, report: Report, start: pd.Timestamp, end: pd.Timestamp) -> str:
        """Why nothing was posted in [start, end): not yet, no longer listed, or a gap."""

    def tables(self, report: Report, documents: Sequence[Document]) -> dict[str, RawTable]:
        """The CSV tables of ``documents``, by DocID."""


def gather(store: DocumentStore, plan: Plan, days: Sequence[dt.date], *, cutoff: str,
           nodes: Sequence[str] | None) -> dict[dt.date, pd.DataFrame]:
    """Canonical frames of ``plan.dataset`` for ``days``: list, pick, download (in bulk), build."""
    windows = {day: window_of(plan, day, cutoff) for day in days}
    for report in plan.reports:
        store.prime(report, min(w[0] for w in windows.values()), max(w[1] for w in windows.values()))
    chosen: dict[dt.date, dict[Report, list[Document]]] = {}
    for day in days:
        start, end = windows[day]
        chosen[day] = {}
        for report in plan.reports:
            documents = pick(plan, store.documents(report, start, end))
            if not documents:
                raise DataUnavailable(plan.dataset, day, store.explain_absence(report, start, end))
            chosen[day][report] = documents
    downloaded: dict[Report, dict[str, RawTable]] = {}
    for report in plan.reports:
        wanted = latest_reposts(doc for per_day in chosen.values() for doc in per_day[report])
        downloaded[report] = store.tables(report, wanted)
    return {
        day: build_day(plan, day, {report: [downloaded[report][d.doc_id] for d in docs]
                                   for report, docs in per_day.items()}, nodes, store.label)
        for day, per_day in chosen.items()
    }


def describe_listing_gap(documents: Sequence[Document], report: Report, start: pd.Timestamp, end: pd.Timestamp,
                         retention_note: str) -> str:
    """A reason for :class:`DataUnavailable` from what the listing does hold."""
    window = f"{start:%Y-%m-%d %H:%M}Z..{end:%Y-%m-%d %H:%M}Z"
    if not documents:
        return f"{report.report_id}: the listing holds no documents at all"
    oldest = min(d.published_at for d in documents)
    newest = max(d.published_at for d in documents)
    if start > newest:
        return (f"{report.report_id}: not published yet (nothing posted in {window}; "
                f"newest listed file {newest:%Y-%m-%d %H:%M}Z)")
    if end <= oldest:
        return (f"{report.report_id}: no longer listed ({retention_note}; oldest listed file "
                f"{oldest:%Y-%m-%d %H:%M}Z, wanted files posted in {window})")
    return f"{report.report_id}: no file was posted in {window}"
