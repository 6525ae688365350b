"""A scriptable HTTP server on 127.0.0.1 serving the documented ERCOT and Open-Meteo shapes.

Tests never touch the network: the HTTP clients talk to :class:`LocalServer` instead. Routes are
scripted per test (``server.add("GET", "/path", Reply(...), Reply(...))`` answers in order, the
last reply repeating) and every request is recorded so tests can assert on what was sent.

The builders below produce the exact shapes of ``ERCOT_REFERENCE.md``: the MIS document listing
(each publication listed twice, CSV and XML siblings; ``_retry`` re-posts; ``xhr`` names in the
repeated fall-back hour), zips with one CSV, the Public API's token endpoint, ``_meta/fields/data``
report pages, archive listings and bulk-download zips of zips, and Open-Meteo hourly JSON -- plus
the failure modes (401, 429, 500, slow replies, truncated zips, malformed JSON).
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import itertools
import json
import threading
import time
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pandas as pd

from pipeline import ercot_time
from pipeline.catalogue import WEATHER_ZONES

# --- the server --------------------------------------------------------------------------------------


@dataclass
class Reply:
    """One scripted answer. ``body`` may be bytes, text, or a JSON-able object; ``delay`` stalls it."""

    status: int = 200
    body: Any = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    content_type: str | None = None

    def encoded(self) -> tuple[bytes, str]:
        if isinstance(self.body, bytes):
            return self.body, self.content_type or "application/octet-stream"
        if isinstance(self.body, str):
            return self.body.encode(), self.content_type or "text/plain"
        return json.dumps(self.body).encode(), self.content_type or "application/json"


def json_reply(payload: Any, status: int = 200) -> Reply:
    return Reply(status=status, body=payload)


def zip_reply(content: bytes) -> Reply:
    return Reply(body=content, content_type="application/zip")


@dataclass
class Recorded:
    """A request as the server saw it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else None

    def form(self) -> dict[str, str]:
        return {key: values[-1] for key, values in parse_qs(self.body.decode()).items()}

    def json(self) -> Any:
        return json.loads(self.body)


Handler = Callable[[Recorded], Reply]


class _RequestHandler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"  # keep-alive, as real servers do: hundreds of small downloads stay fast
    disable_nagle_algorithm = True  # headers and body go out in separate writes; no delayed-ACK stalls

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self._answer()

    def do_POST(self) -> None:  # noqa: N802
        self._answer()

    def _answer(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        request = Recorded(
            method=self.command,
            path=parts.path,
            query=parse_qs(parts.query, keep_blank_values=True),
            headers={key: value for key, value in self.headers.items()},
            body=self.rfile.read(length) if length else b"",
        )
        reply = self.server.owner.dispatch(request)
        if reply.delay:
            time.sleep(reply.delay)
        body, content_type = reply.encoded()
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for key, value in reply.headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (read-timeout tests); nothing left to answer

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        return


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    owner: LocalServer


class LocalServer:
    """A ThreadingHTTPServer on 127.0.0.1 (free port) answering scripted routes."""

    def __init__(self) -> None:
        self._routes: dict[tuple[str, str], list[Reply | Handler]] = {}
        self._lock = threading.Lock()
        self.requests: list[Recorded] = []
        self._httpd = _Server(("127.0.0.1", 0), _RequestHandler)
        self._httpd.owner = self
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def add(self, method: str, path: str, *replies: Reply | Handler) -> None:
        """Answer ``method path`` with ``replies`` in order; the last one repeats."""
        if not replies:
            raise ValueError("a route needs at least one reply")
        with self._lock:
            self._routes[(method.upper(), path)] = list(replies)

    def dispatch(self, request: Recorded) -> Reply:
        with self._lock:
            self.requests.append(request)
            queue = self._routes.get((request.method, request.path))
            if queue is None:
                return json_reply({"error": f"no route for {request.method} {request.path}"}, status=404)
            answer = queue.pop(0) if len(queue) > 1 else queue[0]
        return answer(request) if callable(answer) else answer

    def requests_to(self, path: str) -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests if r.path == path]

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


# --- zips --------------------------------------------------------------------------------------------


def zip_of(members: dict[str, bytes | str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


@functools.lru_cache(maxsize=4096)
def _zip_once(name: str, text: str) -> bytes:
    return zip_of({name: text})


def truncated(content: bytes) -> bytes:
    """The first half of a payload: what a dropped download leaves behind."""
    return content[: len(content) // 2]


# --- ERCOT time helpers for building files -------------------------------------------------------------


@dataclass(frozen=True)
class LocalHour:
    """One hour of an operating day as ERCOT labels it."""

    start_utc: pd.Timestamp
    local_start: pd.Timestamp  # naive CPT wall clock
    hour_ending: int  # 1..24 (the repeated hour keeps its label, flagged)
    repeated: bool  # second copy of the fall-back hour (DSTFlag = Y)


def local_hours(day: dt.date) -> list[LocalHour]:
    """Every hour of operating day ``day`` (23, 24 or 25) with ERCOT's labels."""
    seen: set[pd.Timestamp] = set()
    hours = []
    for start in ercot_time.operating_day_hours(day):
        local = start.tz_convert(ercot_time.CPT).tz_localize(None)
        repeated = local in seen
        seen.add(local)
        hours.append(LocalHour(start, local, local.hour + 1, repeated))
    return hours


def flag(repeated: bool) -> str:
    return "Y" if repeated else "N"


def mdy(day: dt.date) -> str:
    return day.strftime("%m/%d/%Y")


def local_iso(instant: pd.Timestamp) -> str:
    """An instant as ERCOT's PublishDate: ISO local time with its UTC offset."""
    return instant.tz_convert(ercot_time.CPT).isoformat()


# --- ERCOT CSV files (documented headers) --------------------------------------------------------------


def sced_lmp_csv(local_run: pd.Timestamp, repeated: bool, prices: dict[str, float]) -> str:
    """NP6-788-CD: one SCED run (irregular seconds), one row per settlement point."""
    stamp = local_run.strftime("%m/%d/%Y %H:%M:%S")
    lines = ["SCEDTimestamp,RepeatedHourFlag,SettlementPoint,LMP"]
    lines += [f"{stamp},{flag(repeated)},{node},{price}" for node, price in prices.items()]
    return "\n".join(lines) + "\n"


def rt_spp_csv(day: dt.date, hour: LocalHour, interval: int, prices: dict[str, float]) -> str:
    """NP6-905-CD: one 15-minute interval, hubs typed HU."""
    lines = ["DeliveryDate,DeliveryHour,DeliveryInterval,SettlementPointName,SettlementPointType,"
             "SettlementPointPrice,DSTFlag"]
    lines += [f"{mdy(day)},{hour.hour_ending},{interval},{node},HU,{price},{flag(hour.repeated)}"
              for node, price in prices.items()]
    return "\n".join(lines) + "\n"


def dam_spp_csv(day: dt.date, prices: Callable[[str, LocalHour], float], nodes: Sequence[str]) -> str:
    """NP4-190-CD: a whole delivery day; prices carry ERCOT's leading space."""
    lines = ["DeliveryDate,HourEnding,SettlementPoint,SettlementPointPrice,DSTFlag"]
    for hour in local_hours(day):
        for node in nodes:
            lines.append(f"{mdy(day)},{hour.hour_ending:02d}:00,{node}, {prices(node, hour):.2f},{flag(hour.repeated)}")
    return "\n".join(lines) + "\n"


# The CamelCase zone spellings NP3-565-CD and NP4-722-CD write (the wire format under test).
FORECAST_ZONES = ("Coast", "East", "FarWest", "North", "NorthCentral", "SouthCentral", "Southern", "West")


def actual_load_csv(day: dt.date, base: float = 40000.0) -> str:
    """NP6-345-CD: actual load by weather zone for one operating day."""
    lines = ["OperDay,HourEnding," + ",".join(WEATHER_ZONES) + ",TOTAL,DSTFlag"]
    for i, hour in enumerate(local_hours(day)):
        zones = [base / 8 + 10 * i + z for z in range(len(WEATHER_ZONES))]
        lines.append(f"{mdy(day)},{hour.hour_ending:02d}:00," + ",".join(f"{v:.2f}" for v in zones)
                     + f",{sum(zones):.2f},{flag(hour.repeated)}")
    return "\n".join(lines) + "\n"


def load_forecast_csv(first_day: dt.date, days: int = 8, base: float = 45000.0) -> str:
    """NP3-565-CD: hourly forecasts by model; InUseFlag=Y marks the model ERCOT uses."""
    lines = ["DeliveryDate,HourEnding," + ",".join(FORECAST_ZONES) + ",SystemTotal,Model,InUseFlag,DSTFlag"]
    for offset in range(days):
        day = first_day + dt.timedelta(days=offset)
        for hour in local_hours(day):
            for model, in_use, bump in (("E", "Y", 0.0), ("A3", "N", 500.0)):
                zones = [base / 8 + bump / 8 + hour.hour_ending + z for z in range(len(FORECAST_ZONES))]
                lines.append(f"{mdy(day)},{hour.hour_ending:02d}:00," + ",".join(f"{v:.2f}" for v in zones)
                             + f",{sum(zones):.2f},{model},{in_use},{flag(hour.repeated)}")
    return "\n".join(lines) + "\n"


def renewable_csv(kind: str, posted_hour_utc: pd.Timestamp, base: float = 1000.0) -> str:
    """NP4-732-CD (wind) / NP4-737-CD (solar): 48 h of actuals before the post, 168 h of forecasts after."""
    if kind == "wind":
        header = ("DELIVERY_DATE,HOUR_ENDING,SYSTEM_WIDE_GEN,COP_HSL_SYSTEM_WIDE,STWPF_SYSTEM_WIDE,"
                  "WGRPP_SYSTEM_WIDE,DSTFlag")
    else:
        header = ("DELIVERY_DATE,HOUR_ENDING,SYSTEM_WIDE_GEN,COP_HSL_SYSTEM_WIDE,STPPF_SYSTEM_WIDE,"
                  "PVGRPP_SYSTEM_WIDE,SYSTEM_WIDE_HSL,DSTFlag")
    lines = [header]
    first = posted_hour_utc.floor("h") - pd.Timedelta(hours=48)
    first_day = ercot_time.operating_day_of(pd.DatetimeIndex([first]))[0]
    labels = {hour.start_utc: (day, hour) for day in iter_days(first_day, 11) for hour in local_hours(day)}
    for i in range(48 + 168):
        start = first + pd.Timedelta(hours=i)
        day, hour = labels[start]
        actual = f"{base + i:.1f}" if start + pd.Timedelta(hours=1) <= posted_hour_utc else ""
        values = [actual, f"{base + 5 + i:.1f}", f"{base + 2 + i:.1f}", f"{base + 1 + i:.1f}"]
        if kind == "solar":
            values.append(f"{base + 9 + i:.1f}")
        lines.append(f"{mdy(day)},{hour.hour_ending:02d}:00," + ",".join(values) + f",{flag(hour.repeated)}")
    return "\n".join(lines) + "\n"


def temperature_forecast_csv(first_day: dt.date, days: int = 7) -> str:
    """NP4-722-CD: hourly temperature forecast (deg F) by weather zone."""
    lines = ["DeliveryDate,HourEnding," + ",".join(FORECAST_ZONES) + ",DSTFlag"]
    for offset in range(days):
        day = first_day + dt.timedelta(days=offset)
        for hour in local_hours(day):
            lines.append(f"{mdy(day)},{hour.hour_ending:02d}:00,"
                         + ",".join(f"{60 + hour.hour_ending + z:.1f}" for z in range(len(FORECAST_ZONES)))
                         + f",{flag(hour.repeated)}")
    return "\n".join(lines) + "\n"


# --- ERCOT MIS ------------------------------------------------------------------------------------------

MIS_LIST_PATH = "/misapp/servlets/IceDocListJsonWS"
MIS_DOWNLOAD_PATH = "/misdownload/servlets/mirDownload"


@dataclass
class MisDocument:
    report_type_id: int
    doc_id: str
    friendly_name: str  # without the _csv / _xml suffix
    publish_date: str  # ISO local time with offset, as MIS writes it
    csv_name: str
    csv_text: str
    payload: bytes | None = None  # overrides the zip (e.g. truncated)


class FakeMis:
    """ERCOT's MIS: a document listing per report type and zip downloads by DocID."""

    def __init__(self, server: LocalServer) -> None:
        self.server = server
        self.documents: dict[int, list[MisDocument]] = {}
        self._ids = itertools.count(900_000_001)
        server.add("GET", MIS_LIST_PATH, self._listing)
        server.add("GET", MIS_DOWNLOAD_PATH, self._download)

    def publish(self, report_type_id: int, friendly_name: str, published: pd.Timestamp | str, csv_text: str,
                *, payload: bytes | None = None) -> MisDocument:
        """List one publication (its CSV and XML siblings) and serve its zip."""
        publish_date = published if isinstance(published, str) else local_iso(published)
        document = MisDocument(report_type_id, str(next(self._ids)), friendly_name, publish_date,
                               f"{friendly_name}.csv", csv_text, payload)
        self.documents.setdefault(report_type_id, []).append(document)
        return document

    def listing_json(self, report_type_id: int) -> dict[str, Any]:
        entries = []
        for doc in self.documents.get(report_type_id, []):
            for suffix, doc_id in (("csv", doc.doc_id), ("xml", str(int(doc.doc_id) + 50_000_000))):
                entries.append({"Document": {
                    "ExpiredDate": "2099-01-01T00:00:00-06:00",
                    "ILMStatus": "EXT",
                    "SecurityStatus": "P",
                    "ContentSize": str(len(doc.csv_text)),
                    "Extension": "zip",
                    "ReportTypeID": report_type_id,
                    "FriendlyName": f"{doc.friendly_name}_{suffix}",
                    "ConstructedName": f"cdr.{report_type_id:08d}.0000000000000000.{doc.friendly_name}.{suffix}.zip",
                    "DocID": doc_id,
                    "PublishDate": doc.publish_date,
                }})
        # MIS lists the newest first.
        entries.sort(key=lambda e: pd.Timestamp(e["Document"]["PublishDate"]), reverse=True)
        return {"ListDocsByRptTypeRes": {"DocumentList": entries}}

    def _listing(self, request: Recorded) -> Reply:
        return json_reply(self.listing_json(int(request.param("reportTypeId") or 0)))

    def _download(self, request: Recorded) -> Reply:
        doc_id = request.param("doclookupId")
        for doc in itertools.chain.from_iterable(self.documents.values()):
            if doc.doc_id == doc_id:
                return zip_reply(doc.payload if doc.payload is not None else _zip_once(doc.csv_name, doc.csv_text))
        return Reply(status=404, body="document not found")

    def downloads(self) -> list[str]:
        return [r.param("doclookupId") or "" for r in self.server.requests_to(MIS_DOWNLOAD_PATH)]


def sced_runs(day: dt.date, *, second: int = 13) -> list[tuple[pd.Timestamp, pd.Timestamp, bool]]:
    """Every 5-minute SCED run of ``day`` as (UTC instant, naive local wall clock, repeated flag)."""
    runs = []
    for hour in local_hours(day):
        for minute in range(0, 60, 5):
            offset = pd.Timedelta(minutes=minute, seconds=second)
            runs.append((hour.start_utc + offset, hour.local_start + offset, hour.repeated))
    return runs


def publish_sced_day(mis: FakeMis, day: dt.date, prices: Callable[[str, pd.Timestamp], float],
                     nodes: Sequence[str] = ("HB_NORTH", "HB_HOUSTON"), *, wrong_xhr_offset: bool = True) -> int:
    """Post one NP6-788-CD file per SCED run of ``day`` (~1 minute after the run), as MIS does.

    Files of the repeated fall-back hour get ``xhr`` names and -- as on the real site -- a
    PublishDate whose offset still says daylight time when ``wrong_xhr_offset``.
    """
    count = 0
    for run_utc, local, repeated in sced_runs(day):
        published = run_utc + pd.Timedelta(seconds=50)
        name = f"LMPSROSNODENP6788_{local:%Y%m%d}_{local:%H%M%S}" + ("xhr" if repeated else "")
        publish_date: pd.Timestamp | str = published
        local_published = published.tz_convert(ercot_time.CPT)
        if repeated and wrong_xhr_offset and local_published.utcoffset() == pd.Timedelta(hours=-6):
            publish_date = local_published.tz_localize(None).isoformat() + "-05:00"
        csv = sced_lmp_csv(local, repeated, {node: prices(node, run_utc) for node in nodes})
        mis.publish(12300, name, publish_date, csv)
        count += 1
    return count


# --- ERCOT Public API ------------------------------------------------------------------------------------

API_BASE_PATH = "/api/public-reports"
TOKEN_PATH = "/ercotb2c.onmicrosoft.com/B2C_1_PUBAPI-ROPC-FLOW/oauth2/v2.0/token"


def token_reply(token: str = "test-id-token-0001") -> Reply:
    return json_reply({
        "access_token": "unused-access-token",
        "token_type": "Bearer",
        "expires_in": "3600",
        "refresh_token": "unused-refresh-token",
        "id_token": token,
    })


def report_page(fields: Sequence[str], rows: Sequence[Sequence[Any]], page: int, size: int,
                report_id: str = "NP6-905-CD") -> dict[str, Any]:
    """One page of a Public API report: ``_meta``, ``report``, ``fields`` and positional ``data`` rows."""
    total_pages = max(1, -(-len(rows) // size)) if rows else 0
    chunk = list(rows[(page - 1) * size: page * size])
    return {
        "_meta": {"totalRecords": len(rows), "pageSize": size, "totalPages": total_pages, "currentPage": page},
        "report": {"reportEMILId": report_id, "reportName": "test report"},
        "fields": [{"name": name, "label": name, "dataType": "STRING", "hasRange": False, "cardinality": 0}
                   for name in fields],
        "data": chunk,
    }


def paged_report(fields: Sequence[str], rows: Sequence[Sequence[Any]], report_id: str = "NP6-905-CD") -> Handler:
    """A report endpoint serving ``rows`` page by page as the request's ``page``/``size`` ask.

    Like the real endpoints, a query parameter named after a field (e.g. ``settlementPoint``)
    keeps only the rows holding that value.
    """

    def handler(request: Recorded) -> Reply:
        page = int(request.param("page") or 1)
        size = int(request.param("size") or 100000)
        selected = [row for row in rows
                    if all(request.param(name) in (None, str(row[i])) for i, name in enumerate(fields[:len(row)]))]
        return json_reply(report_page(fields, selected, page, size, report_id))

    return handler


@dataclass
class ArchiveDocument:
    doc_id: int
    friendly_name: str
    post_datetime: str  # local wall clock without offset, as the archive lists it
    csv_name: str
    csv_text: str
    payload: bytes | None = None  # overrides this document's inner zip


class FakeArchive:
    """``GET /archive/{emil}`` (post-time filtered, paged) and ``POST /archive/{emil}/download``."""

    def __init__(self, server: LocalServer, emil: str) -> None:
        self.server = server
        self.emil = emil
        self.documents: list[ArchiveDocument] = []
        self._ids = itertools.count(700_000_001)
        self.bulk_payload: bytes | None = None  # overrides the whole bulk zip
        server.add("GET", f"{API_BASE_PATH}/archive/{emil}", self._listing)
        server.add("POST", f"{API_BASE_PATH}/archive/{emil}/download", self._download)

    def publish(self, friendly_name: str, posted: pd.Timestamp, csv_text: str, *,
                payload: bytes | None = None) -> ArchiveDocument:
        """List one document posted at ``posted`` (the archive shows local wall-clock time, no offset)."""
        local = posted.tz_convert(ercot_time.CPT).tz_localize(None)
        document = ArchiveDocument(next(self._ids), friendly_name, local.isoformat(timespec="seconds"),
                                   f"{friendly_name}.csv", csv_text, payload)
        self.documents.append(document)
        return document

    def _listing(self, request: Recorded) -> Reply:
        start = pd.Timestamp(request.param("postDatetimeFrom") or "1900-01-01T00:00:00")
        end = pd.Timestamp(request.param("postDatetimeTo") or "2100-01-01T00:00:00")
        page = int(request.param("page") or 1)
        size = int(request.param("size") or 1000)
        selected = [d for d in self.documents if start <= pd.Timestamp(d.post_datetime) <= end]
        chunk = selected[(page - 1) * size: page * size]
        total_pages = -(-len(selected) // size)
        base = f"{self.server.url}{API_BASE_PATH}/archive/{self.emil}"
        return json_reply({
            "_meta": {"totalRecords": len(selected), "pageSize": size, "totalPages": total_pages, "currentPage": page},
            "product": {"emilId": self.emil.upper(), "name": "test product"},
            "archives": [{
                "docId": d.doc_id,
                "friendlyName": d.friendly_name,
                "postDatetime": d.post_datetime,
                "_links": {"endpoint": {"href": f"{base}?download={d.doc_id}"}},
            } for d in chunk],
        })

    def _download(self, request: Recorded) -> Reply:
        if self.bulk_payload is not None:
            return zip_reply(self.bulk_payload)
        wanted = {int(doc_id) for doc_id in request.json()["docIds"]}
        inner = {}
        for doc in self.documents:
            if doc.doc_id in wanted:
                content = doc.payload if doc.payload is not None else zip_of({doc.csv_name: doc.csv_text})
                inner[f"{doc.doc_id}.{doc.friendly_name}.zip"] = content
        return zip_reply(zip_of(inner))

    def bulk_requests(self) -> list[Recorded]:
        return self.server.requests_to(f"{API_BASE_PATH}/archive/{self.emil}/download")


# --- Open-Meteo -------------------------------------------------------------------------------------------


def open_meteo_location(latitude: float, longitude: float, start: pd.Timestamp, hours: int,
                        temperature: Callable[[int], float | None] = lambda i: 20.0 + i % 24,
                        wind: Callable[[int], float | None] = lambda i: 3.0 + (i % 5)) -> dict[str, Any]:
    """One location's response: ``hourly.time`` in UTC (``timezone=UTC``) plus the requested variables."""
    times = [(start + pd.Timedelta(hours=i)).strftime("%Y-%m-%dT%H:%M") for i in range(hours)]
    return {
        "latitude": round(latitude, 4),
        "longitude": round(longitude, 4),
        "generationtime_ms": 0.2,
        "utc_offset_seconds": 0,
        "timezone": "UTC",
        "timezone_abbreviation": "UTC",
        "elevation": 50.0,
        "hourly_units": {"time": "iso8601", "temperature_2m": "°C", "wind_speed_10m": "m/s"},
        "hourly": {
            "time": times,
            "temperature_2m": [temperature(i) for i in range(hours)],
            "wind_speed_10m": [wind(i) for i in range(hours)],
        },
    }


def open_meteo_handler(temperature: Callable[[int], float | None] = lambda i: 20.0 + i % 24,
                       wind: Callable[[int], float | None] = lambda i: 3.0 + (i % 5),
                       forecast_start: pd.Timestamp = pd.Timestamp("2024-07-01", tz="UTC")) -> Handler:
    """Answers forecast / archive requests for any comma-separated list of points, like Open-Meteo.

    Archive-style requests (``start_date``/``end_date``) get those whole UTC days; forecast requests
    get ``forecast_days`` days from ``forecast_start`` (the UTC date "today" on the server).
    """

    def handler(request: Recorded) -> Reply:
        latitudes = [float(v) for v in (request.param("latitude") or "").split(",") if v]
        longitudes = [float(v) for v in (request.param("longitude") or "").split(",") if v]
        if not latitudes or len(latitudes) != len(longitudes):
            return json_reply({"error": True, "reason": "Parameter 'latitude' and 'longitude' must have the same "
                                                        "number of elements"}, status=400)
        if request.param("start_date"):
            start = pd.Timestamp(request.param("start_date"), tz="UTC")
            end = pd.Timestamp(request.param("end_date"), tz="UTC") + pd.Timedelta(days=1)
        else:
            start = forecast_start
            end = start + pd.Timedelta(days=int(request.param("forecast_days") or 7))
        hours = int((end - start) / pd.Timedelta(hours=1))
        locations = [open_meteo_location(lat, lon, start, hours, temperature, wind)
                     for lat, lon in zip(latitudes, longitudes)]
        return json_reply(locations if len(locations) > 1 else locations[0])

    return handler


def iter_days(start: dt.date, count: int) -> Iterable[dt.date]:
    return (start + dt.timedelta(days=i) for i in range(count))
