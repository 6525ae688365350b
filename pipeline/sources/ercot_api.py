"""The ERCOT Public API (api.ercot.com): token + subscription key, report endpoints and the archive.

Authentication (both on every call): ``Authorization: Bearer <id_token>`` and
``Ocp-Apim-Subscription-Key: <key>``. The id_token comes from a POST of the documented form fields
to ERCOT's Azure B2C token URL; it is valid one hour and cannot be refreshed, so it is cached and
requested again five minutes before it expires -- and once more when a report call answers 401
(a token revoked early). Credentials are read lazily from the environment variables *named* in
``sources.ercot_api`` (``username_env``, ``password_env``, ``subscription_key_env``); a missing one
is an error naming the variables, never their values. Credentials and tokens are registered with
the HTTP layer's redactor and never appear in messages or log records.

Two routes to the data:

* **Report endpoints** (``/np6-788-cd/lmp_node_zone_hub`` ...) filter by delivery date
  (``<field>From``/``<field>To``, inclusive, local time without offset) and page through
  ``_meta.totalPages``; rows are positional arrays named by ``fields[i].name``. They hold only
  recent data (roughly the last 90 days, varying by report) and carry no posting time, so
  ``published_at`` is stamped from the publication table (:mod:`pipeline.publication`). Used by
  :meth:`ErcotApi.fetch` for the actual datasets ``rt_prices``, ``dam_prices``, ``ancillary_prices``
  (NP4-188-CD ``/np4-188-cd/dam_clear_price_for_cap``: ``deliveryDate, hourEnding, ancillaryType,
  MCPC, DSTFlag``, the flag a boolean) and ``load``; when a report endpoint has no rows for the day,
  the archive is used instead.
* **Archive** (``/archive/{emil}``, filtered by posting time, paged) lists the same documents MIS
  posts, going back about seven years, and ``POST /archive/{emil}/download`` returns up to 1,000 of
  them at once as a zip of per-document zips, each holding the CSV. Documents are picked for a key
  day exactly as on MIS (:mod:`pipeline.sources.ercot_documents`: actual datasets by the day their
  data covers, forecast vintages as the latest post on d at or before the cut-off) and ``published_at``
  is the posting time. Used for forecast vintages, for ``renewables`` and for every dataset in
  :meth:`ErcotApi.fetch_many` (backfill: one listing and one bulk download per 1,000 documents).

Settlement points (:meth:`ErcotApi.settlement_points`): names and types from the day's newest
NP6-905-CD document in the archive, load zones and hubs from the newest NP4-160-SG zip the archive
lists up to the day (:mod:`pipeline.sources.ercot_points`). NP4-160-SG has no report endpoint, and
whether the archive carries it is not documented: without it the zones and hubs are None (logged).

Rate limit: ~30 requests per minute per subscription, 429 beyond it. Every request -- the token
POST included -- takes a token from one :class:`~pipeline.sources.http.RateLimiter`; across luigi
workers the budget is shared through ``[resources] ercot_api`` (see :mod:`pipeline.sources.http`).
Access from outside the USA is refused (403).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import random
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
import requests

from pipeline import ercot_time
from pipeline.config import ErcotApiConfig
from pipeline.catalogue import NP4_160_SG, NP4_188_CD, NP4_190_CD, NP6_345_CD, NP6_788_CD, NP6_905_CD, Report
from pipeline.sources.base import DataUnavailable, Source, SourceError
from pipeline.sources.ercot_documents import (
    ERCOT_DATASETS,
    Document,
    Plan,
    RawTable,
    RtReport,
    describe_listing_gap,
    gather,
    keep_latest,
    on_day,
    plan_for,
    publish_time,
    require_complete,
    to_canonical,
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
from pipeline.sources.http import (
    HttpClient,
    HttpError,
    RateLimiter,
    Unauthorized,
    open_zip,
    parse_json,
    read_member,
    single_csv,
)

log = logging.getLogger(__name__)

CLIENT_ID = "fec253ea-0d06-4272-a5e6-b478baeecd70"  # ERCOT's public B2C application id (documented)
TOKEN_SCOPE = f"openid {CLIENT_ID} offline_access"
#: id_tokens live one hour; ask for a new one this long before, so no call races the expiry.
TOKEN_LIFETIME_SECONDS = 3600.0
TOKEN_SAFETY_MARGIN_SECONDS = 300.0
#: ERCOT accepts at most this many docIds per bulk archive download.
MAX_DOCS_PER_DOWNLOAD = 1000
ARCHIVE_PAGE_SIZE = 1000
#: How far back the archive is searched for the settlement point list in force on a day (it is
#: posted with each network model, about weekly).
MAPPING_LOOKBACK = pd.Timedelta(days=62)

Clock = Callable[[], float]


@dataclass(frozen=True)
class ReportQuery:
    """How a report endpoint is asked for one operating day."""

    report: Report
    by_node: bool  # the endpoint filters by ``settlementPoint``
    filters: Callable[[dt.date], dict[str, str]]


def _date_filters(field: str) -> Callable[[dt.date], dict[str, str]]:
    return lambda day: {f"{field}From": day.isoformat(), f"{field}To": day.isoformat()}


def _sced_filters(day: dt.date) -> dict[str, str]:
    # SCED timestamps are local wall-clock times without offset; the whole day (both copies of the
    # repeated fall-back hour included) lies between these two.
    return {"SCEDTimestampFrom": f"{day.isoformat()}T00:00:00", "SCEDTimestampTo": f"{day.isoformat()}T23:59:59"}


REPORT_QUERIES: dict[str, ReportQuery] = {
    NP6_788_CD.report_id: ReportQuery(NP6_788_CD, True, _sced_filters),
    NP6_905_CD.report_id: ReportQuery(NP6_905_CD, True, _date_filters("deliveryDate")),
    NP4_190_CD.report_id: ReportQuery(NP4_190_CD, True, _date_filters("deliveryDate")),
    NP4_188_CD.report_id: ReportQuery(NP4_188_CD, False, _date_filters("deliveryDate")),
    NP6_345_CD.report_id: ReportQuery(NP6_345_CD, False, _date_filters("operatingDay")),
}


def _local_naive(instant: pd.Timestamp) -> str:
    """A UTC instant as the archive's postDatetime filter wants it: CPT wall clock, no offset."""
    return instant.tz_convert(ercot_time.CPT).strftime("%Y-%m-%dT%H:%M:%S")


class ErcotApi(Source):
    """ERCOT market data from the Public API (token + subscription key; ~7 years of history).

    ``nodes``, ``vintage_cutoff`` and ``rt_report`` mean what they mean for
    :class:`~pipeline.sources.ercot_mis.ErcotMis`. ``clock`` (monotonic seconds) times the token's
    expiry and the rate limiter; ``sleep``/``rng`` pace retries; ``environ`` replaces os.environ
    for reading credentials -- all injectable so tests never wait or read real secrets.
    """

    name = "ercot_api"

    def __init__(
        self,
        config: ErcotApiConfig,
        *,
        nodes: Sequence[str] | None = None,
        vintage_cutoff: str = "06:00",
        rt_report: RtReport = "sced_lmp",
        session: requests.Session | None = None,
        clock: Clock = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        rate_limiter: RateLimiter | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        ercot_time.parse_hhmm(vintage_cutoff)
        if rt_report not in ("sced_lmp", "rt_spp"):
            raise ValueError(f"rt_report must be 'sced_lmp' or 'rt_spp', not {rt_report!r}")
        self.config = config
        self.base_url = config.base_url.rstrip("/")
        self.nodes = tuple(nodes) if nodes else None
        self.vintage_cutoff = vintage_cutoff
        self.rt_report = rt_report
        self._clock = clock
        self._environ = environ
        self._env_names = (config.username_env, config.password_env, config.subscription_key_env)
        limiter = rate_limiter or RateLimiter(config.requests_per_minute, clock=clock, sleep=sleep)
        self._http = HttpClient(
            config, name=self.name, session=session, rate_limiter=limiter, sleep=sleep, rng=rng,
            status_hints={
                401: f"check the subscription key / credentials env vars {', '.join(self._env_names)}",
                403: "ERCOT's API refuses requests from outside the USA and keys without an active subscription",
            },
        )
        self._token_lock = threading.Lock()
        self._token: str | None = None
        self._token_expires = float("-inf")

    @property
    def datasets(self) -> tuple[str, ...]:
        return ERCOT_DATASETS

    # --- Source interface ------------------------------------------------------------------------

    def fetch(self, dataset: str, day: dt.date) -> pd.DataFrame:
        """Key day ``day``: report endpoints for recent actual days, else the archive."""
        plan = self._plan(dataset)
        query = REPORT_QUERIES.get(plan.reports[0].report_id) if plan.kind == "delivery" else None
        if query is not None:
            frame = self._from_report_endpoint(plan, query, day)
            if frame is not None:
                return frame
            log.info("%s: %s has no rows for %s on its report endpoint; reading the archive",
                     self.name, query.report.report_id, day)
        return self.fetch_many(dataset, [day])[day]

    def fetch_many(self, dataset: str, days: Iterable[dt.date]) -> dict[dt.date, pd.DataFrame]:
        """Several key days through the archive: one paged listing, bulk downloads of <= 1,000 files."""
        plan = self._plan(dataset)
        return gather(_ArchiveStore(self), plan, list(days), cutoff=self.vintage_cutoff, nodes=self.nodes)

    def settlement_points(self, day: dt.date) -> pd.DataFrame:
        """Every settlement point priced on ``day``: the newest NP6-905-CD document of the day in the
        archive (names, types), load zones and hubs from the NP4-160-SG model in force then."""
        start, end = window_of(plan_for("rt_prices", "rt_spp"), day, self.vintage_cutoff)
        store = _ArchiveStore(self)
        document = newest(store.documents(NP6_905_CD, start, end))
        if document is None:
            raise DataUnavailable("settlement_points", day, store.explain_absence(NP6_905_CD, start, end))
        table = self.download_documents(NP6_905_CD, [document])[document.doc_id]
        points = price_report_points(table.frame, table.origin)
        return settlement_point_frame(points, self._mapping(day, end), table.origin)

    def _mapping(self, day: dt.date, end: pd.Timestamp) -> PointMapping | None:
        """Load zones and hubs from the archive's NP4-160-SG zip in force on ``day``; None (logged) without one."""
        try:
            document = mapping_document(self.archive_documents(NP4_160_SG, end - MAPPING_LOOKBACK, end), end)
            if document is None:
                log.warning("%s: the archive lists no %s file in the %d days before %s; its settlement points "
                            "have no load zone or hub", self.name, NP4_160_SG.report_id, MAPPING_LOOKBACK.days, day)
                return None
            where = f"{NP4_160_SG.report_id} bulk download (POST {self.base_url}/archive/{NP4_160_SG.emil}/download)"
            return read_mapping(self.download_zips(NP4_160_SG, [document])[document.doc_id],
                                f"{where}, {document.name} (docId {document.doc_id})")
        except Unauthorized:
            raise  # credentials are wrong for every call, not just this one
        except SourceError as exc:
            log.warning("%s: settlement points of %s have no load zone or hub: %s", self.name, day, exc)
            return None

    # --- report endpoints ------------------------------------------------------------------------

    def report(self, endpoint: str, filters: Mapping[str, str], *, what: str = "") -> pd.DataFrame:
        """Every row of ``endpoint`` matching ``filters``, all pages, columns named by ``fields``."""
        url = f"{self.base_url}{endpoint}"
        rows: list[list[Any]] = []
        columns: list[str] | None = None
        page, total_pages = 1, 1
        while page <= total_pages:
            params = {**filters, "page": page, "size": self.config.page_size}
            response = self._send("GET", url, params=params, what=what or endpoint)
            payload = parse_json(response, required=("_meta.totalPages", "fields", "data"), what=what or endpoint,
                                 redact=self._http.redact)
            page_columns = _field_names(payload, url)
            if columns is not None and page_columns != columns:
                raise SourceError(f"{what or endpoint}: GET {response.url}: fields changed between pages")
            columns = page_columns
            rows.extend(_checked_rows(payload["data"], len(columns), response.url))
            total_pages = int(payload["_meta"]["totalPages"] or 0)
            page += 1
        return pd.DataFrame(rows, columns=columns or [])

    def _from_report_endpoint(self, plan: Plan, query: ReportQuery, day: dt.date) -> pd.DataFrame | None:
        """The key day from a report endpoint, or None when it holds no rows (too old for it)."""
        report = query.report
        node_filters = [{"settlementPoint": node} for node in self.nodes] if (query.by_node and self.nodes) else [{}]
        frames = [self.report(report.api_endpoint or "", {**query.filters(day), **extra}, what=report.report_id)
                  for extra in node_filters]
        raw = pd.concat(frames, ignore_index=True)
        if raw.empty:
            return None
        origin = f"{report.report_id} report endpoint {self.base_url}{report.api_endpoint} for {day}"
        # Report rows carry no posting time: the parser stamps published_at from the publication table.
        canonical = on_day(to_canonical(plan, report, raw, origin, self.nodes, None), day)
        frame = keep_latest(canonical, plan.dataset)
        require_complete(frame, plan.dataset, day, self.nodes, "ERCOT Public API")
        return frame

    # --- archive ---------------------------------------------------------------------------------

    def archive_documents(self, report: Report, start: pd.Timestamp, end: pd.Timestamp) -> list[Document]:
        """Documents of ``report`` posted in [start, end) (UTC), from the paged archive listing."""
        url = f"{self.base_url}/archive/{report.emil}"
        # The filter is local wall-clock time; an hour of slack each side covers DST offsets and
        # the exact window is applied to the parsed UTC posting times below.
        filters = {"postDatetimeFrom": _local_naive(start - pd.Timedelta(hours=1)),
                   "postDatetimeTo": _local_naive(end + pd.Timedelta(hours=1))}
        documents: list[Document] = []
        page, total_pages = 1, 1
        while page <= total_pages:
            params = {**filters, "page": page, "size": min(self.config.page_size, ARCHIVE_PAGE_SIZE)}
            response = self._send("GET", url, params=params, what=f"{report.report_id} archive listing")
            payload = parse_json(response, required=("_meta.totalPages", "archives"),
                                 what=f"{report.report_id} archive listing", redact=self._http.redact)
            documents.extend(_archive_entries(payload["archives"], response.url))
            total_pages = int(payload["_meta"]["totalPages"] or 0)
            page += 1
        return [d for d in documents if start <= d.published_at < end]

    def download_documents(self, report: Report, documents: Sequence[Document]) -> dict[str, RawTable]:
        """The CSV tables of ``documents`` by DocID, fetched in bulk (<= 1,000 per request)."""
        where = f"{report.report_id} bulk download (POST {self.base_url}/archive/{report.emil}/download)"
        by_id = {d.doc_id: d for d in documents}
        tables: dict[str, RawTable] = {}
        for doc_id, content in self.download_zips(report, documents).items():
            document = by_id[doc_id]
            origin = f"{where}, {document.name} (docId {doc_id})"
            tables[doc_id] = RawTable(document, origin, single_csv(content, where=origin)[1])
        return tables

    def download_zips(self, report: Report, documents: Sequence[Document]) -> dict[str, bytes]:
        """Each document's own zip by DocID, fetched in bulk (<= 1,000 per request)."""
        url = f"{self.base_url}/archive/{report.emil}/download"
        zips: dict[str, bytes] = {}
        for first in range(0, len(documents), MAX_DOCS_PER_DOWNLOAD):
            batch = documents[first: first + MAX_DOCS_PER_DOWNLOAD]
            ids = [int(d.doc_id) if d.doc_id.isdigit() else d.doc_id for d in batch]
            response = self._send("POST", url, json_body={"docIds": ids}, what=f"{report.report_id} bulk download")
            zips.update(_unpack_bulk(response.content, batch, f"{report.report_id} bulk download (POST {url})"))
        return zips

    # --- authentication --------------------------------------------------------------------------

    def token(self) -> str:
        """A valid id_token, from the cache or a new token request (thread-safe)."""
        with self._token_lock:
            if self._token is not None and self._clock() < self._token_expires:
                return self._token
            username, password, _ = self._credentials()
            requested_at = self._clock()
            form = {
                "grant_type": "password",
                "username": username,
                "password": password,
                "response_type": "id_token",
                "scope": TOKEN_SCOPE,
                "client_id": CLIENT_ID,
            }
            try:
                response = self._http.request("POST", self.config.token_url, data=form, what="ERCOT API token")
            except HttpError as exc:
                if exc.status in (400, 401, 403):
                    raise SourceError(f"{exc}; the token request was refused: check the credentials env vars "
                                      f"{self._env_names[0]} and {self._env_names[1]}") from None
                raise
            payload = parse_json(response, required=("id_token",), what="ERCOT API token", redact=self._http.redact)
            token = payload["id_token"]
            if not isinstance(token, str) or not token:
                raise SourceError(f"ERCOT API token: POST {self.config.token_url} returned an empty id_token")
            self._http.redact.add(token)
            self._token = token
            self._token_expires = requested_at + TOKEN_LIFETIME_SECONDS - TOKEN_SAFETY_MARGIN_SECONDS
            log.info("%s: obtained an API token (valid about one hour)", self.name)
            return token

    def _invalidate_token(self, rejected: str) -> None:
        with self._token_lock:
            if self._token == rejected:
                self._token = None

    def _credentials(self) -> tuple[str, str, str]:
        """(username, password, subscription key) from the environment; missing ones named."""
        environ = os.environ if self._environ is None else self._environ
        values = tuple((environ.get(name) or "").strip() for name in self._env_names)
        missing = [name for name, value in zip(self._env_names, values) if not value]
        if missing:
            raise SourceError(
                f"ERCOT Public API credentials missing: set the environment variable(s) {', '.join(missing)} "
                "(account and subscription key from apiexplorer.ercot.com)"
            )
        for value in values:
            self._http.redact.add(value)
        return values  # type: ignore[return-value]

    def _send(self, method: str, url: str, *, params: Mapping[str, Any] | None = None,
              json_body: Any = None, what: str = "") -> requests.Response:
        """One authorised request; a 401 gets one fresh token and one more try."""
        _, _, key = self._credentials()
        token = self.token()
        try:
            return self._http.request(method, url, params=params, json_body=json_body, what=what,
                                      headers=self._headers(token, key))
        except Unauthorized:
            log.warning("%s: %s was refused (401); requesting a new token and trying once more", self.name, what)
            self._invalidate_token(token)
            token = self.token()
            return self._http.request(method, url, params=params, json_body=json_body, what=what,
                                      headers=self._headers(token, key))

    @staticmethod
    def _headers(token: str, key: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}", "Ocp-Apim-Subscription-Key": key}

    def _plan(self, dataset: str) -> Plan:
        if dataset not in self.datasets:
            raise ValueError(f"{self.name} does not provide {dataset!r}; it provides {', '.join(self.datasets)}")
        return plan_for(dataset, self.rt_report)


class _ArchiveStore:
    """The archive as a document store: one listing per report and range, bulk downloads."""

    label = "ERCOT Public API archive"

    def __init__(self, api: ErcotApi) -> None:
        self._api = api
        self._listed: dict[str, tuple[pd.Timestamp, pd.Timestamp, list[Document]]] = {}

    def prime(self, report: Report, start: pd.Timestamp, end: pd.Timestamp) -> None:
        self._listed[report.report_id] = (start, end, self._api.archive_documents(report, start, end))

    def documents(self, report: Report, start: pd.Timestamp, end: pd.Timestamp) -> list[Document]:
        listed = self._listed.get(report.report_id)
        if listed is None or start < listed[0] or end > listed[1]:
            self.prime(report, start, end)
            listed = self._listed[report.report_id]
        return [d for d in listed[2] if start <= d.published_at < end]

    def explain_absence(self, report: Report, start: pd.Timestamp, end: pd.Timestamp) -> str:
        listed = self._listed.get(report.report_id)
        documents = listed[2] if listed else []
        note = "the archive holds about seven years"
        return describe_listing_gap(documents, report, start, end, note) if documents else (
            f"{report.report_id}: the archive lists no document posted between {start:%Y-%m-%d %H:%M}Z and "
            f"{end:%Y-%m-%d %H:%M}Z (not published yet, or before the archive starts)")

    def tables(self, report: Report, documents: Sequence[Document]) -> dict[str, RawTable]:
        return self._api.download_documents(report, documents)


# --- payload helpers -------------------------------------------------------------------------------------


def _field_names(payload: Mapping[str, Any], url: str) -> list[str]:
    fields = payload["fields"]
    if not isinstance(fields, list) or not all(isinstance(f, dict) and "name" in f for f in fields):
        raise SourceError(f"GET {url}: 'fields' is not a list of {{name, ...}} objects")
    return [str(f["name"]) for f in fields]


def _checked_rows(data: Any, width: int, url: str) -> list[list[Any]]:
    """The positional rows of a page, each exactly as wide as ``fields``."""
    if not isinstance(data, list):
        raise SourceError(f"GET {url}: 'data' is not a list of rows")
    for index, row in enumerate(data):
        if not isinstance(row, list) or len(row) != width:
            raise SourceError(f"GET {url}: data row {index} has {len(row) if isinstance(row, list) else 'no'} "
                              f"values for {width} fields")
    return data


def _archive_entries(entries: Any, url: str) -> list[Document]:
    if not isinstance(entries, list):
        raise SourceError(f"GET {url}: 'archives' is not a list")
    documents = []
    for entry in entries:
        if not isinstance(entry, dict) or not {"docId", "friendlyName", "postDatetime"} <= entry.keys():
            raise SourceError(f"GET {url}: archive entry lacks docId/friendlyName/postDatetime: {entry!r:.200}")
        name = str(entry["friendlyName"]).strip()
        if name.lower().endswith("_xml"):
            continue  # the archive, like MIS, may also hold XML renderings
        documents.append(Document(str(entry["docId"]), name, publish_time(entry["postDatetime"], name)))
    return documents


def _unpack_bulk(content: bytes, batch: Sequence[Document], where: str) -> dict[str, bytes]:
    """A bulk download: a zip of per-document zips named ``<docId>.<...>.zip``; each inner zip by DocID."""
    outer = open_zip(content, where=where)
    wanted = {d.doc_id for d in batch}
    zips: dict[str, bytes] = {}
    for member in outer.namelist():
        doc_id = member.split("/")[-1].split(".")[0]
        if doc_id not in wanted:
            continue  # not asked for (ERCOT may add a manifest); never mistaken for a requested file
        zips[doc_id] = read_member(outer, member, where=where)
    absent = sorted(wanted - set(zips))
    if absent:
        raise SourceError(f"{where}: the bulk zip lacks {len(absent)} requested document(s), e.g. {absent[:5]}")
    return zips
