"""Render a day's forecast or a finished backtest for people, on the terminal.

    python -m pipeline.report forecast [--date 2024-03-09] [--top 3] [--chart forecast.png]
    python -m pipeline.report backtest --start 2024-07-01 --end 2024-07-31

The forecast table lists, per node and threshold, the hours with the highest spike probability (in
CPT, hour-ending style labels as traders read them) and the peak per operating day. The backtest
summary prints the plain-language verdict and the headline table of an existing backtest, and
where its full ``report.html`` is. ``forecast`` without ``--date`` shows today's forecast (today
in CPT), as ``DailyInference`` makes it by default.

The configuration, pandas and matplotlib load only once the arguments ask for a report, so
``--help`` answers at once.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys


def _forecast_command(args: argparse.Namespace) -> int:
    from pipeline.config import load_config
    from pipeline.configured import Configured
    from pipeline.render.forecast import forecast_chart, source_label, summary_table
    from pipeline.settings import Settings
    from pipeline.sources import Sources
    from targets import Layout
    from targets.files import BytesTarget
    from targets.store import shown

    config = load_config()
    sources = Sources.from_config(config)
    target = Configured(Settings.from_config(config, sources), sources).layout.forecast(args.date)
    problem = target.problem() if target.store.exists(target.path) else None
    if problem is not None:
        print(f"the forecast file {target.path} is invalid ({problem}), so no forecast for {args.date} is published; "
              f"rebuild it with: luigi --module pipeline DailyInference --date {args.date} --local-scheduler",
              file=sys.stderr)
        return 1
    if not target.exists():
        print(f"no forecast for {args.date} at {target.path} "
              f"(run: luigi --module pipeline DailyInference --date {args.date} --local-scheduler)", file=sys.stderr)
        return 1
    target.repair_twins()
    forecast = target.read()
    stamp = target.stamp()
    print(f"Forecast file: {shown(target.path)}")
    print(f"CSV copy:      {shown(target.csv_path)}")
    print(f"Bid sheet:     {shown(target.wide_path)} (one row per node, threshold and operating day, HE01..HE24)")
    if config.sources.market == "synthetic":
        print("Data source:   SIMULATED market (the embedded ERCOT-like simulator), not real ERCOT prices")
    degraded = (stamp.notes.get("degraded") or {}) if stamp else {}
    for dataset, why in sorted(degraded.items()):
        print(f"Degraded input: {dataset}: {why}")
    print()
    print(summary_table(forecast, args.top))
    if args.chart:
        chart = BytesTarget(str(args.chart)) if args.chart != "default" else Layout(config.data_root).forecast_chart(args.date)
        # Rewritten (atomically) every time: a chart left from an earlier forecast of the day would show
        # a status the file no longer has.
        chart.store.put(chart.path, forecast_chart(forecast, source_label(config.sources.market)))
        print(f"\nChart: {shown(chart.path)}")
    return 0


def _backtest_command(args: argparse.Namespace) -> int:
    from pipeline.config import load_config
    from pipeline.render import backtest_page
    from targets import Layout
    from targets.store import parent, shown

    layout = Layout(load_config().data_root)
    metrics_target = layout.backtest_metrics(args.start, args.end)
    if not metrics_target.exists():
        print(f"no backtest {args.start}..{args.end} at {parent(shown(metrics_target.path))} "
              f"(run: luigi --module pipeline Backtest --start {args.start} --end {args.end} --local-scheduler)",
              file=sys.stderr)
        return 1
    metrics = metrics_target.read()
    window = metrics["window"]
    print(f"Backtest of forecasts issued {window['start']} to {window['end']} ({window['days']} days, "
          f"{metrics['rows']:,} scored rows)")
    if backtest_page.is_simulated(metrics):
        print("Data source: SIMULATED market (the embedded ERCOT-like simulator), not real ERCOT prices")
    print()
    for sentence in backtest_page.summary_sentences(metrics):
        print(f"- {sentence}")
    print()
    print(backtest_page.headline_text(metrics))
    report = layout.backtest_report(args.start, args.end)
    print()
    if report.exists():
        print(f"Full report: {shown(report.path)}")
    else:
        print(f"No report.html yet at {shown(report.path)} (rerun the Backtest task to render it)")
    return 0


COMMANDS = {"forecast": _forecast_command, "backtest": _backtest_command}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline.report", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    forecast = commands.add_parser("forecast", help="show one day's forecast as a table (and a chart)")
    forecast.add_argument("--date", type=dt.date.fromisoformat,
                          help="issue day D (YYYY-MM-DD; default: today in CPT)")
    forecast.add_argument("--top", type=int, default=3, help="most likely hours listed per node and threshold")
    forecast.add_argument("--chart", nargs="?", const="default",
                          help="also write a PNG chart (default: forecasts/<D>/forecast.png beside the forecast)")
    backtest = commands.add_parser("backtest", help="summarise an existing backtest (headline table)")
    backtest.add_argument("--start", type=dt.date.fromisoformat, required=True, help="first issue day (YYYY-MM-DD)")
    backtest.add_argument("--end", type=dt.date.fromisoformat, required=True, help="last issue day (YYYY-MM-DD)")
    args = parser.parse_args(argv)
    from pipeline import clock
    from pipeline.config import ConfigError

    if args.command == "forecast" and args.date is None:
        args.date = clock.today_cpt()
    try:
        return COMMANDS[args.command](args)
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
