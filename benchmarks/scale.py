"""Scale-out: DailyInference for every simulated settlement point, on luigid and an S3 store, with N workers.

    python benchmarks/scale.py [--workers 4] [--date 2024-07-16] [--shard-size 100]
                               [--history-days 365] [--validation-days 28] [--nodes all|N]

Its defaults are the production settings a new user gets following the README's "Running at
scale": every settlement point, shards of 100, 365 days of history, 28 validation days, one thread
per worker, 4 workers. (The scale-out in the README was first measured with 60 days of history and
14 validation days: ``--history-days 60 --validation-days 14 --workers 1 2 4``.)

It starts a private SeaweedFS (``infrastructure/scripts/objectstore.sh``, the ``scale`` extra) and
luigid (``luigid.sh``, the ``luigid`` extra) on free ports of 127.0.0.1, then, for each worker
count, on a fresh ``s3://`` prefix:

* **cold day**: ``DailyInference --date D`` on an empty data root: the simulated history of every
  node, features, the first trainings (candidate and incumbent of every shard), gates, forecasts;
* **day 2, day 3**: ``DailyInference`` for D+1 and D+2 on the same root, the daily increments (one
  of the two is a cadence date, where each shard trains a new candidate: the table says which).

Each run is the ``luigi`` command against luigid with ``--workers N``. It prints wall time, the peak
resident set of the largest process (luigi runs each task in a forked worker process, so this is
the peak per worker), the objects and bytes the run added to the store, the speedup over one
worker, and, from luigid's task list, where the time went: per task family, the tasks run, their
summed and longest run time. ``--nodes N`` takes the first N settlement points of the universe instead of all of them,
for a quick run. Nothing is left running; the store and luigid live in a temporary folder.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SCRIPTS = REPO / "infrastructure" / "scripts"
LUIGI = str(Path(sys.executable).with_name("luigi"))
BUCKET = "rtlmp-scale"


@dataclass
class Run:
    label: str
    workers: int
    seconds: float
    peak_rss_mb: float
    objects: int
    megabytes: float
    models: int  # model artifacts the run trained


def free_port(span: int = 1) -> int:
    """A port whose neighbours (and +10000, SeaweedFS's gRPC ports) are free, when ``span`` > 1."""
    for _ in range(200):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        ports = [port + i for i in range(span)] + ([port + 10000 + i for i in range(span)] if span > 1 else [])
        if port + 10000 + span < 65535 and all(_free(p) for p in ports):
            return port
    raise RuntimeError("no free port block found")


def _free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def script(name: str, *args: str, env: dict[str, str]) -> None:
    result = subprocess.run([str(SCRIPTS / name), *args], env=env, capture_output=True, text=True, timeout=180)
    if result.returncode != 0:
        sys.exit(f"{name} {' '.join(args)} failed ({result.returncode}):\n{result.stdout}{result.stderr}")


def store_usage(env: dict[str, str], prefix: str) -> tuple[int, int, int]:
    import boto3
    from botocore.config import Config

    client = boto3.client("s3", endpoint_url=env["AWS_ENDPOINT_URL"], region_name="us-east-1",
                          aws_access_key_id=env["AWS_ACCESS_KEY_ID"], aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
                          config=Config(s3={"addressing_style": "path"}, proxies={}))
    count = size = models = 0
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix):
        for item in page.get("Contents", []):
            count += 1
            size += int(item["Size"])
            models += item["Key"].endswith("/metadata.json")
    return count, size, models


def daily_inference(day: dt.date, workers: int, env: dict[str, str], port: int, label: str, prefix: str) -> Run:
    before = store_usage(env, prefix)
    command = [LUIGI, "--module", "pipeline", "DailyInference", "--date", day.isoformat(), "--workers", str(workers),
               "--scheduler-host", "127.0.0.1", "--scheduler-port", str(port)]
    started, epoch = time.perf_counter(), time.time()
    with tempfile.TemporaryFile("w+") as log:
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=log)
        # The kernel's accounting of this command alone: its largest process (luigi waits for its
        # forked worker processes, so they are included).
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - started
        if process.returncode != 0:
            log.seek(0)
            sys.exit(f"DailyInference {day} with {workers} workers failed ({process.returncode}):\n{log.read()[-4000:]}")
    after = store_usage(env, prefix)
    print_task_times(port, epoch, f"{label} ({day}), {workers} worker(s)")
    return Run(label, workers, seconds, usage.ru_maxrss / 1024, after[0] - before[0], (after[1] - before[1]) / 1e6,
               after[2] - before[2])


def print_task_times(port: int, since: float, title: str) -> None:
    """Per task family, the tasks luigid saw run since ``since`` (epoch seconds): count, summed and
    longest run time (picked up by a worker to done)."""
    import requests

    answer = requests.get(f"http://127.0.0.1:{port}/api/task_list", params={"data": json.dumps({"status": "DONE"})},
                          timeout=60).json()["response"]
    if "num_tasks" in answer:  # more than luigid's max_shown_tasks: it lists none
        print(f"  task time, {title}: luigid lists no tasks past max_shown_tasks ({answer['num_tasks']} done)")
        return
    families: dict[str, list[float]] = {}
    for task in answer.values():
        if task.get("time_running") and task["time_running"] >= since:
            families.setdefault(task["name"], []).append(task["last_updated"] - task["time_running"])
    print(f"  task time, {title}:")
    for name, seconds in sorted(families.items(), key=lambda item: -sum(item[1])):
        print(f"    {name:<26}{len(seconds):>6} run {sum(seconds) / 60:>8.1f} min summed {max(seconds):>8.0f} s longest")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[4])
    parser.add_argument("--date", type=dt.date.fromisoformat, default=dt.date(2024, 7, 16))
    parser.add_argument("--shard-size", type=int, default=100)
    parser.add_argument("--history-days", type=int, default=365)
    parser.add_argument("--validation-days", type=int, default=28)
    parser.add_argument("--nodes", default="all", help="'all', or the first N settlement points of the universe")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="rtlmp-scale-") as tmp:
        work = Path(tmp)
        env = _environment(work, args)
        store_port, luigid_port = free_port(span=5), free_port()
        env.update({"AWS_ENDPOINT_URL": f"http://127.0.0.1:{store_port}"})
        store_args = ["--port", str(store_port), "--dir", str(work / "store")]
        luigid_args = ["--port", str(luigid_port), "--state-dir", str(work / "luigid"), "--log-dir", str(work / "logs")]
        script("objectstore.sh", "start", *store_args, env=env)
        try:
            script("objectstore.sh", "mb", BUCKET, *store_args, env=env)
            script("luigid.sh", "start", *luigid_args, env=env)
            try:
                runs = _measure(args, env, luigid_port)
            finally:
                script("luigid.sh", "stop", *luigid_args, env=env)
        finally:
            script("objectstore.sh", "stop", *store_args, env=env)
    _report(args, runs)


def _environment(work: Path, args: argparse.Namespace) -> dict[str, str]:
    nodes = "all"
    if args.nodes != "all":
        sys.path.insert(0, str(REPO))
        from pipeline.config import load_config
        from pipeline.sources import Sources, resolve_nodes

        os.environ["RTLMP_CONFIG"] = str(_write_config(work, "all", args))
        config = load_config()
        nodes = "[" + ", ".join(resolve_nodes(config, Sources.from_config(config).market)[: int(args.nodes)]) + "]"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RTLMP_", "AWS_", "OBJECTSTORE_"))}
    env.update({"RTLMP_CONFIG": str(_write_config(work, nodes, args)), "LUIGI_CONFIG_PATH": str(REPO / "luigi.cfg"),
                "AWS_ACCESS_KEY_ID": "AK" + secrets.token_hex(8).upper(), "AWS_SECRET_ACCESS_KEY": secrets.token_urlsafe(30),
                "AWS_DEFAULT_REGION": "us-east-1", "RTLMP_ARTIFACT_KEY": secrets.token_hex(32)})
    if sys.prefix != sys.base_prefix:
        env["RTLMP_VENV"] = sys.prefix
    return env


def _write_config(work: Path, nodes: str, args: argparse.Namespace) -> Path:
    path = work / f"scale-{nodes[:3]}.yaml"
    path.write_text(f"market:\n  nodes: {nodes}\n  shard_size: {args.shard_size}\n"
                    f"model:\n  history_days: {args.history_days}\n  validation_days: {args.validation_days}\n"
                    "  threads: 1\n")
    return path


def _measure(args: argparse.Namespace, env: dict[str, str], port: int) -> list[Run]:
    runs = []
    for workers in args.workers:
        prefix = f"w{workers}"
        run_env = dict(env, RTLMP_DATA_ROOT=f"s3://{BUCKET}/{prefix}")
        for offset, label in ((0, "cold day"), (1, "day 2"), (2, "day 3")):
            day = args.date + dt.timedelta(days=offset)
            runs.append(daily_inference(day, workers, run_env, port, label, prefix + "/"))
            print(f"{workers} worker(s), {label} ({day}): {runs[-1].seconds / 60:.1f} min", flush=True)
    return runs


def _report(args: argparse.Namespace, runs: list[Run]) -> None:
    print(f"\nDailyInference on luigid + SeaweedFS, nodes {args.nodes}, shard_size {args.shard_size}, "
          f"history_days {args.history_days}, validation_days {args.validation_days}, {os.cpu_count()} cores")
    print(f"{'run':<12}{'workers':>8}{'wall min':>10}{'speedup':>9}{'peak RSS MB':>13}{'objects':>9}{'MB written':>12}"
          f"{'models trained':>16}")
    single = {r.label: r.seconds for r in runs if r.workers == 1}
    for r in runs:
        speedup = f"{single[r.label] / r.seconds:.2f}" if r.label in single else "-"
        print(f"{r.label:<12}{r.workers:>8}{r.seconds / 60:>10.1f}{speedup:>9}{r.peak_rss_mb:>13.0f}{r.objects:>9}"
              f"{r.megabytes:>12.1f}{r.models:>16}")


if __name__ == "__main__":
    main()
