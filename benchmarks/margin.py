"""Choose ``model.gate.baseline_margin`` on finished year replays: every gate decision replayed under each margin.

    python benchmarks/margin.py --data-root data/skill --years 2021 2022 2023
                                [--margins none 0 0.05 0.1 0.2 0.3] [--choose-on 2021 2022]

A data root left by ``benchmarks/skill.py`` holds, for every cadence date of a year, both models a
gate compared, their validation windows, the feature files of every issue day and the realised
prices. The margin decides two things: which forecaster each candidate serves per threshold (its
model, or a baseline that beat it on the validation window by more than the margin), and, through
the mixture scores, whether the gate accepts the candidate or retains the incumbent. This script
recomputes both for every cadence date under each margin, exactly as ``GateModel`` does (the
incumbent's cross-fitted validation report included), lets :func:`pipeline.registry.serving` pick
the serving model of every issue day, predicts that day's served forecast from the stored
artifacts, and scores it against the realised outcomes (AUC and Brier skill against climatology,
mean over the hubs as in ``skill.py``).

The row of the margin the replays ran with must match their ``predictions.parquet`` exactly (it is
checked); the others are what the same years would have served. The margin chosen is the one with
the best mean Brier skill at $100 and $250 over the ``--choose-on`` years; the others years
confirm it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import sys
import time
from pathlib import Path

# One thread per prediction: the boosters' OpenMP threads crawl when the machine is busy (and a
# replay's predictions are small).
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SCORED = (100.0, 250.0)


def margin_value(text: str) -> float | None:
    return None if text == "none" else float(text)


def configured_for(root: Path):  # noqa: ANN201 - pipeline.configured.Configured, imported after the environment is set
    os.environ["RTLMP_CONFIG"] = str(root / "skill-config.yaml")
    os.environ["RTLMP_DATA_ROOT"] = str(root)
    logging.basicConfig(level=logging.ERROR)  # the archive's known gaps are logged as warnings on every load
    sys.path.insert(0, str(REPO))
    from pipeline.tasks.base import current
    return current()


class Replay:
    """One data root: the stored decisions, models and features, read once."""

    def __init__(self, configured, metric: str) -> None:  # noqa: ANN001
        self.c, self.metric = configured, metric
        self.settings, self.layout = configured.settings, configured.layout
        self.models: dict[dt.date, object] = {}
        self.features: dict[dt.date, pd.DataFrame] = {}
        self.reports: dict[dt.date, dict] = {}

    def model(self, train_date: dt.date):  # noqa: ANN201
        if train_date not in self.models:
            self.models[train_date] = self.layout.model(train_date).load()
        return self.models[train_date]

    def day_features(self, day: dt.date) -> pd.DataFrame:
        if day not in self.features:
            self.features[day] = self.layout.features(day).read()
        return self.features[day]

    def incumbent_report(self, train_date: dt.date) -> dict:
        """The incumbent's cross-fitted report on the candidate's validation window (as ``gate_record`` makes it)."""
        from pipeline.model.dataset import labelled_set
        from pipeline.model.scoring import crossfit_probabilities, validation_report
        if train_date not in self.reports:
            window = self.settings.window(train_date)
            days = pd.date_range(window.validation_first, window.validation_last).date
            first_label, last_label = window.validation_label_days
            features = pd.concat([self.day_features(d).assign(issue_day=d) for d in days], ignore_index=True)
            prices = pd.concat([self.layout.rt_hourly(d).read()
                                for d in pd.date_range(first_label, last_label).date], ignore_index=True)
            data = labelled_set(features, prices, self.settings.thresholds)
            incumbent = self.model(self.settings.cadence.previous(train_date))
            self.reports[train_date] = validation_report(data, crossfit_probabilities(incumbent, data),
                                                         incumbent.predict_baselines(data.features))
        return self.reports[train_date]

    def stored_decision(self, train_date: dt.date) -> dict | None:
        """The gate record as the replay wrote it (read whatever code version is checked out now)."""
        target = self.c.records.decision_target(train_date)
        return target.read() if target.exists() else None

    def decisions(self, train_dates: list[dt.date], margin: float | None, gate_margin: float) -> dict[dt.date, dict]:
        from pipeline import registry
        from pipeline.model.scoring import best_forecasters, mixture_score
        out = {}
        for n, train_date in enumerate(train_dates, 1):
            if n % 50 == 0 and train_date not in self.reports:
                print(f"  incumbent reports: {n} of {len(train_dates)}", flush=True)
            stored = self.stored_decision(train_date)
            candidate = self.layout.model(train_date).metadata()["validation"]
            serving = best_forecasters(candidate, self.metric, margin)
            report = self.incumbent_report(train_date)
            incumbent_serving = best_forecasters(report, self.metric, margin)
            decision = registry.decide(mixture_score(candidate, serving, self.metric),
                                       mixture_score(report, incumbent_serving, self.metric), gate_margin)
            out[train_date] = {**stored, "status": decision.status, "serving": serving,
                               "incumbent_serving": incumbent_serving}
        return out

    def served(self, days: list[dt.date], decisions: dict[dt.date, dict]) -> pd.DataFrame:
        """Every issue day's served forecast under ``decisions`` (node, threshold, interval_start, probability)."""
        from pipeline import registry
        frames = []
        for day in days:
            serving = registry.serving(day, decisions, self.settings.cadence)
            features = self.day_features(day)
            model = self.model(serving.train_date)
            probabilities = model.predict_served(features, dict(serving.forecasters))
            for k, threshold in enumerate(model.thresholds):
                frames.append(pd.DataFrame({"forecast_date": day, "node": features["node"].to_numpy(),
                                            "threshold": float(threshold),
                                            "interval_start": features["interval_start"].to_numpy(),
                                            "probability": probabilities[:, k]}))
        return pd.concat(frames, ignore_index=True)


def scores(predictions: pd.DataFrame, reference: pd.DataFrame) -> dict[float, tuple[float, float]]:
    """Per threshold, the hub mean of AUC and of Brier skill against climatology of the served forecast."""
    from pipeline import evaluation
    keys = ["forecast_date", "node", "threshold", "interval_start"]
    rows = reference[keys + ["outcome", "p_climatology"]].merge(predictions, on=keys, how="inner", validate="1:1")
    if len(rows) != len(reference):
        raise ValueError(f"the replay matched {len(rows)} of {len(reference)} labelled rows")
    out = {}
    for threshold, block in rows.groupby("threshold"):
        per_hub = [evaluation.binary_metrics(hub["outcome"].to_numpy(), hub["probability"].to_numpy(),
                                             hub["p_climatology"].to_numpy())
                   for _, hub in block.groupby("node")]
        out[float(threshold)] = (float(np.nanmean([m["roc_auc"] for m in per_hub])),
                                 float(np.nanmean([m["brier_skill"] for m in per_hub])))
    return out


def replay_year(root: Path, year: int, margins: list[float | None]) -> dict[float | None, dict]:
    configured = configured_for(root)
    gate = configured.settings.config.model.gate
    folder = root / "backtests" / f"{year}-01-01_{year}-12-31"
    reference = pd.read_parquet(folder / "predictions.parquet")
    reference["forecast_date"] = pd.to_datetime(reference["forecast_date"]).dt.date
    days = sorted(reference["forecast_date"].unique())
    cadence = configured.settings.cadence
    train_dates = sorted({d for day in days for d in cadence.back_from(day)
                          if (day - d).days <= cadence.max_age_days})
    replay = Replay(configured, gate.metric)
    train_dates = [d for d in train_dates if replay.stored_decision(d) is not None]
    results = {}
    for margin in margins:
        started = time.perf_counter()
        predictions = replay.served(days, replay.decisions(train_dates, margin, gate.margin))
        if margin == gate.baseline_margin:  # the margin the year ran with: must give its published forecasts
            keys = ["forecast_date", "node", "threshold", "interval_start"]
            check = reference[keys + ["probability"]].merge(predictions, on=keys, suffixes=("", "_replayed"))
            worst = float(np.abs(check["probability"] - check["probability_replayed"]).max())
            if len(check) != len(reference) or worst > 1e-9:
                raise AssertionError(f"{year}: the replay at the configured margin {margin} differs from the "
                                     f"backtest's forecasts by up to {worst:g} on {len(check)} rows")
            print(f"{year}: the replay at the configured margin {margin} reproduces all {len(check)} labelled "
                  f"forecast rows (largest difference {worst:.1e})", flush=True)
        results[margin] = scores(predictions, reference)
        print(f"{year} margin {margin}: " + ", ".join(
            f"${t:g} AUC {auc:.3f} BSS {bss:.3f}" for t, (auc, bss) in results[margin].items())
            + f"  ({time.perf_counter() - started:.0f} s)", flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-root", type=Path, action="append", required=True,
                        help="a skill.py data root (repeat: one per year, in the order of --years, or one for all)")
    parser.add_argument("--years", type=int, nargs="+", required=True)
    parser.add_argument("--margins", type=margin_value, nargs="+", default=[None, 0.0, 0.05, 0.1, 0.2, 0.3])
    parser.add_argument("--choose-on", type=int, nargs="+", default=[2021, 2022])
    args = parser.parse_args()
    roots = args.data_root if len(args.data_root) == len(args.years) else args.data_root * len(args.years)
    results = {year: replay_year(root.resolve(), year, args.margins) for root, year in zip(roots, args.years)}
    print("\nmargin  " + "  ".join(f"{year} $100 AUC/BSS  $250 AUC/BSS" for year in args.years)
          + "  choice score")
    chosen, best = None, -np.inf
    for margin in args.margins:
        cells = "  ".join(" ".join(f"{results[y][margin][t][0]:.3f}/{results[y][margin][t][1]:.3f}" for t in SCORED)
                          + "   " for y in args.years)
        score = float(np.mean([results[y][margin][t][1] for y in args.choose_on if y in results for t in SCORED]))
        print(f"{str(margin):6s}  {cells}  {score:.4f}")
        if score > best:
            chosen, best = margin, score
    print(f"\nchosen on {args.choose_on} (mean Brier skill at $100 and $250): baseline_margin = {chosen}")


if __name__ == "__main__":
    main()
