"""ERCOT's no-key MIS site: document listings and zip downloads turned into canonical frames.

MIS (``www.ercot.com/misapp``) lists every posted file of a report type as JSON and serves each as a
zip holding one CSV. It needs no key but keeps files only 5-31 days, so it serves current days;
history comes from the ERCOT Public API's archive (:mod:`pipeline.sources.ercot_api`), which holds
the very same documents. Which documents hold a key day, what ``published_at`` is (the document's
PublishDate) and how a day's frame is assembled are shared by both clients and live in
:mod:`pipeline.sources.ercot_documents`; this module is the MIS client only: one listing request per
report (by the MIS ``reportTypeId`` the catalogue gives it) and one download per document.

ERCOT quirks handled here
-------------------------
* Every publication is listed twice, CSV and XML: only FriendlyNames ending ``_csv`` are kept.
* A listing of one document is not wrapped in a list.
* PublishDate carries an offset that may still claim daylight time in the repeated fall-back hour
  (see :func:`~pipeline.sources.ercot_documents.publish_time`).
* NP4-160-SG (the settlement point list) posts one zip of several CSVs per network model, named
  without a ``_csv`` / ``_xml`` suffix: its listing keeps every entry but XML ones.

Settlement points (:meth:`ErcotMis.settlement_points`) come from the newest NP6-905-CD file of the
day (names and types) and the NP4-160-SG network model in force then (load zones and hubs), as
:mod:`pipeline.sources.ercot_points` describes.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import time
from collections.abc import Callable, Iterable, Mapping, Sequence

import pandas as pd
import requests

from pipeline import ercot_time
from pipeline.catalogue import NP4_160_SG, NP6_905_CD, Report
from pipeline.config import ErcotMisConfig
from pipeline.sources.base import DataUnavailable, Source, SourceError
from pipeline.sources.ercot_documents import (
    ERCOT_DATASETS,
    Document,
    RawTable,
    RtReport,
    describe_listing_gap,
    gather,
    plan_for,
    publish_time,
    window_of,
)
from pipeline.sources.ercot_points import (
    PointMapping,
    mapping_document,
    newest,
    price_report_points,
    read_mapping,
    settlement_point_frame,
)
from pipeline.sources.http import HttpClient, single_csv

log = logging.getLogger(__name__)

LIST_PATH = "/misapp/servlets/IceDocListJsonWS"
DOWNLOAD_PATH = "/misdownload/servlets/mirDownload"
# Reports posted as one zip per publication, without CSV / XML twins.
_UNTWINNED = frozenset({NP4_160_SG.report_id})


def parse_listing(payload: Mapping, *, where: str, twins: bool = True) -> list[Document]:
    """The CSV documents of a MIS listing (``ListDocsByRptTypeRes.DocumentList``); XML twins dropped.

    ``twins=False`` is for reports posted once per publication (a zip of CSVs named without a
    ``_csv`` suffix, e.g. NP4-160-SG): every entry is kept except those named ``_xml``.
    """
    entries = payload["ListDocsByRptTypeRes"].get("DocumentList") or []
    if isinstance(entries, dict):  # a single document is not wrapped in a list
        entries = [entries]
    documents = []
    for entry in entries:
        fields = entry.get("Document") if isinstance(entry, dict) else None
        if not isinstance(fields, dict) or not {"DocID", "FriendlyName", "PublishDate"} <= fields.keys():
            raise SourceError(f"{where}: listing entry lacks Document.DocID/FriendlyName/PublishDate: {entry!r:.200}")
        name = str(fields["FriendlyName"]).strip()
        if name.lower().endswith("_csv") if twins else not name.lower().endswith("_xml"):
            documents.append(Document(str(fields["DocID"]), name, publish_time(fields["PublishDate"], name)))
    return documents


# --- MIS -------------------------------------------------------------------------------------------------


class _MisStore:
    """MIS listings (one request per report, reused for every day) and per-document downloads."""

    label = "ERCOT MIS"

    def __init__(self, http: HttpClient, base_url: str) -> None:
        self._http = http
        self._base_url = base_url.rstrip("/")
        self._listings: dict[int | None, list[Document]] = {}

    def listing(self, report: Report) -> list[Document]:
        if report.report_type_id not in self._listings:
            url = f"{self._base_url}{LIST_PATH}"
            payload = self._http.get_json(url, params={"reportTypeId": report.report_type_id},
                                          required=("ListDocsByRptTypeRes",), what=f"{report.report_id} listing")
            where = f"{report.report_id} listing {url}?reportTypeId={report.report_type_id}"
            self._listings[report.report_type_id] = parse_listing(payload, where=where,
                                                                  twins=report.report_id not in _UNTWINNED)
        return self._listings[report.report_type_id]

    def prime(self, report: Report, start: pd.Timestamp, end: pd.Timestamp) -> None:
        self.listing(report)  # MIS lists everything it holds in one response

    def documents(self, report: Report, start: pd.Timestamp, end: pd.Timestamp) -> list[Document]:
        return [d for d in self.listing(report) if start <= d.published_at < end]

    def explain_absence(self, report: Report, start: pd.Timestamp, end: pd.Timestamp) -> str:
        note = "MIS keeps these files only 5-31 days; use the ERCOT Public API archive for history"
        return describe_listing_gap(self.listing(report), report, start, end, note)

    def tables(self, report: Report, documents: Sequence[Document]) -> dict[str, RawTable]:
        return {doc.doc_id: self._download(report, doc) for doc in documents}

    def _download(self, report: Report, doc: Document) -> RawTable:
        content, where = self.download_zip(report, doc)
        _, frame = single_csv(content, where=where)
        return RawTable(doc, where, frame)

    def download_zip(self, report: Report, doc: Document) -> tuple[bytes, str]:
        """One document's zip as posted, and where it came from (for messages)."""
        url = f"{self._base_url}{DOWNLOAD_PATH}"
        content = self._http.get_bytes(url, params={"doclookupId": doc.doc_id}, what=f"{report.report_id} {doc.name}")
        return content, f"{report.report_id} {doc.name} (GET {url}?doclookupId={doc.doc_id})"


class ErcotMis(Source):
    """ERCOT market data from MIS (no key; the last few days only).

    ``nodes`` restricts price datasets to those settlement points (None: every one in the files).
    ``vintage_cutoff`` (CPT "HH:MM") is the latest posting time of a forecast vintage.
    ``rt_report`` picks SCED 5-minute LMPs (default) or 15-minute SPPs for ``rt_prices``.
    """

    name = "ercot_mis"

    def __init__(
        self,
        config: ErcotMisConfig,
        *,
        nodes: Sequence[str] | None = None,
        vintage_cutoff: str = "06:00",
        rt_report: RtReport = "sced_lmp",
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        ercot_time.parse_hhmm(vintage_cutoff)  # validate early
        if rt_report not in ("sced_lmp", "rt_spp"):
            raise ValueError(f"rt_report must be 'sced_lmp' or 'rt_spp', not {rt_report!r}")
        self.base_url = config.base_url
        self.nodes = tuple(nodes) if nodes else None
        self.vintage_cutoff = vintage_cutoff
        self.rt_report = rt_report
        self._http = HttpClient(config, name=self.name, session=session, sleep=sleep, rng=rng)

    @property
    def datasets(self) -> tuple[str, ...]:
        return ERCOT_DATASETS

    def fetch(self, dataset: str, day: dt.date) -> pd.DataFrame:
        return self.fetch_many(dataset, [day])[day]

    def fetch_many(self, dataset: str, days: Iterable[dt.date]) -> dict[dt.date, pd.DataFrame]:
        """Several key days from one listing request per report (MIS lists everything it holds)."""
        self._check_dataset(dataset)
        store = _MisStore(self._http, self.base_url)
        return gather(store, plan_for(dataset, self.rt_report), list(days), cutoff=self.vintage_cutoff,
                      nodes=self.nodes)

    def settlement_points(self, day: dt.date) -> pd.DataFrame:
        """Every settlement point priced on ``day``: the day's newest NP6-905-CD file, zones from NP4-160-SG."""
        store = _MisStore(self._http, self.base_url)
        start, end = window_of(plan_for("rt_prices", "rt_spp"), day, self.vintage_cutoff)
        document = newest(store.documents(NP6_905_CD, start, end))
        if document is None:
            raise DataUnavailable("settlement_points", day, store.explain_absence(NP6_905_CD, start, end))
        table = store.tables(NP6_905_CD, [document])[document.doc_id]
        points = price_report_points(table.frame, table.origin)
        return settlement_point_frame(points, self._mapping(store, day, end), table.origin)

    def _mapping(self, store: _MisStore, day: dt.date, end: pd.Timestamp) -> PointMapping | None:
        """Load zones and hubs from the NP4-160-SG model in force on ``day``; None (logged) when MIS has none."""
        try:
            document = mapping_document(store.listing(NP4_160_SG), end)
            if document is None:
                log.warning("%s: MIS lists no %s file; settlement points of %s have no load zone or hub",
                            self.name, NP4_160_SG.report_id, day)
                return None
            return read_mapping(*store.download_zip(NP4_160_SG, document))
        except SourceError as exc:
            log.warning("%s: settlement points of %s have no load zone or hub: %s", self.name, day, exc)
            return None

    def list_documents(self, report: Report) -> list[Document]:
        """Every CSV document MIS currently lists for ``report`` (XML twins dropped), oldest first."""
        return sorted(_MisStore(self._http, self.base_url).listing(report), key=lambda d: d.published_at)

    def _check_dataset(self, dataset: str) -> None:
        if dataset not in self.datasets:
            raise ValueError(f"{self.name} does not provide {dataset!r}; it provides {', '.join(self.datasets)}")


__all__ = ["DOWNLOAD_PATH", "ErcotMis", "LIST_PATH", "parse_listing"]
