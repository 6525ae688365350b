"""Pure model tier: monotone probabilities, calibration, baselines, determinism, the gate rule."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest

from pipeline import model, registry
from pipeline.config import ModelConfig
from pipeline.model import ModelSettings, SpikeModel, TrainingSet, fit, monotone
from pipeline.model.spike import fit_coefficient, log_price

THRESHOLDS = (100.0, 250.0, 1000.0)


def settings_with(**changes) -> ModelSettings:
    """The configuration's model settings with ``changes`` (the synthetic rows have no season to exclude)."""
    return ModelSettings.from_config(ModelConfig(**{"excluded_features": (), **changes}))


FAST = settings_with(max_iter=40, min_samples_leaf=20, seed=3)


def synthetic_set(n_days: int, first: dt.date, seed: int, shuffle_labels: bool = False) -> TrainingSet:
    """Rows whose spike odds rise with 'tightness' and in the evening, like the real drivers."""
    rng = np.random.default_rng(seed)
    rows = n_days * 24 * 2
    issue = np.repeat([first + dt.timedelta(days=i) for i in range(n_days)], 48)
    hour = np.tile(np.arange(24), n_days * 2).astype(float)
    tight = rng.normal(size=rows)
    score = 1.6 * tight + 1.2 * ((hour >= 16) & (hour <= 20)) - 4.2
    price = 30 * np.exp(0.5 * rng.normal(size=rows) + np.maximum(score + 3.0, 0) * 1.4)
    features = pd.DataFrame({
        "issue_day": issue,
        "node": np.tile(np.repeat(["HB_NORTH", "HB_WEST"], 24), n_days),
        "interval_start": pd.date_range("2024-01-01", periods=rows, freq="h", tz="UTC"),
        "horizon_h": np.tile(np.arange(1, 25), n_days * 2),
        "hour_of_day": hour, "month": 7.0, "horizon_day": 1.0,
        # The DAM price rises with tightness, as the market prices expected scarcity.
        "dam_hod": 30 * np.exp(0.6 * tight), "dam_hod_max7": 40 * np.exp(0.2 * tight),
        "price_max_hod_d1": np.roll(price, 24), "price_max_hod_lastweek": np.roll(price, 168),
        "empty_group": np.nan,
    })
    for t in ("100", "250", "1000"):
        for name in ("spike_rate_{t}_hod_7d", "spike_rate_{t}_hod_28d", "sys_spike_rate_{t}_hod_7d",
                     "days_since_spike_{t}"):
            features[name.format(t=t)] = rng.random(rows)
    features["price_mean_hod_7d"] = 30.0
    outcomes = np.column_stack([(price > t).astype(float) for t in THRESHOLDS])
    if shuffle_labels:
        outcomes = outcomes[rng.permutation(rows)]
    return TrainingSet(features, outcomes, THRESHOLDS)


FEATURES = ("dam_hod", "dam_hod_max7", "hour_of_day", "price_max_hod_d1", "price_mean_hod_7d", "horizon_day",
            "empty_group")


@pytest.fixture(scope="module")
def trained() -> tuple[SpikeModel, dict, TrainingSet]:
    fit_set = synthetic_set(200, dt.date(2023, 1, 1), seed=1)
    validation = synthetic_set(40, dt.date(2023, 7, 20), seed=2)
    fitted, report = fit(fit_set, validation, ("HB_NORTH", "HB_WEST"), FEATURES, FAST)
    return fitted, report, validation


def test_probabilities_are_monotone_across_thresholds_and_in_range(trained) -> None:
    fitted, _, validation = trained
    p = fitted.predict(validation.features)
    assert p.shape == (len(validation.features), 3)
    assert ((p >= 0) & (p <= 1)).all()
    assert (np.diff(p, axis=1) <= 0).all()


def test_model_learns_the_driver_and_beats_climatology(trained) -> None:
    _, report, _ = trained
    at_100 = report["100"]
    assert at_100["model"]["roc_auc"] > 0.85
    assert at_100["model"]["roc_auc"] > at_100["climatology"]["roc_auc"] + 0.1
    assert at_100["model"]["brier"] < at_100["climatology"]["brier"]
    assert set(at_100) == {"model", *model.BASELINES}


def test_empty_feature_groups_are_left_out(trained) -> None:
    fitted, _, _ = trained
    assert "empty_group" not in fitted.columns_
    importance = fitted.feature_importance()["100"]
    # The driver ranks first: split gains map back to our column names even though sklearn
    # moves the categorical node column to the front internally.
    assert max(importance, key=importance.get) == "dam_hod"
    assert importance.get("price_max_hod_d1", 0.0) < 0.05


def test_the_model_can_only_rise_with_the_dam_price(trained) -> None:
    """Monotone in the scarcity drivers: a higher DAM price never lowers the spike probability."""
    fitted, _, validation = trained
    low = fitted.predict(validation.features)
    high = fitted.predict(validation.features.assign(dam_hod=validation.features["dam_hod"] * 1.5))
    assert (high >= low - 1e-12).all() and (high > low + 1e-6).any()


def test_a_dam_price_beyond_the_fit_window_keeps_raising_the_probability(trained) -> None:
    """Trees are flat across the fit window's highest DAM prices and beyond; the tail keeps raising it."""
    fitted, _, validation = trained
    knot = float(np.exp(fitted.dam_knot_))
    dam = log_price(synthetic_set(200, dt.date(2023, 1, 1), seed=1).features["dam_hod"])  # the fit set's
    # The knot is where the trees stop telling rows apart: min_samples_leaf rows of the fit window lie at or above it.
    assert (dam >= fitted.dam_knot_).sum() >= fitted.settings.min_samples_leaf > (dam > fitted.dam_knot_).sum()
    rows = validation.features.iloc[:50]
    at_knot, far_above = (fitted.predict(rows.assign(dam_hod=knot * factor)) for factor in (1.0, 20.0))
    assert fitted.tail_[0] > 0 and (far_above[:, 0] > at_knot[:, 0]).all()


def test_the_dam_tail_is_the_slope_the_blend_left_unexplained_above_the_knot() -> None:
    """Offset fit: with the blend already right, no slope is added; where it is too low, a positive one."""
    rng = np.random.default_rng(0)
    excess = rng.uniform(0, 3, 4000)
    truth = -1.0 + 1.5 * excess
    y = (rng.random(4000) < model.sigmoid(truth)).astype(float)
    assert fit_coefficient(truth, excess, y, prior=1.0) == pytest.approx(0.0, abs=0.1)
    assert fit_coefficient(np.full(4000, -1.0), excess, y, prior=1.0) == pytest.approx(1.5, abs=0.15)
    # Weights count as repeated rows.
    doubled = fit_coefficient(np.full(8000, -1.0), np.tile(excess, 2), np.tile(y, 2), prior=1.0)
    assert fit_coefficient(np.full(4000, -1.0), excess, y, prior=1.0, weights=np.full(4000, 2.0)) == pytest.approx(doubled)


def test_excluded_features_are_not_offered_to_the_booster() -> None:
    fit_set = synthetic_set(60, dt.date(2023, 1, 1), seed=1)
    validation = synthetic_set(14, dt.date(2023, 3, 5), seed=2)
    settings = settings_with(max_iter=20, min_samples_leaf=20, excluded_features=("hour_of_day",))
    fitted, _ = fit(fit_set, validation, ("HB_NORTH", "HB_WEST"), FEATURES, settings)
    assert "hour_of_day" not in fitted.columns_
    with pytest.raises(ValueError, match=r"excluded_features.*'no_such'"):
        fit(fit_set, validation, ("HB_NORTH", "HB_WEST"), FEATURES,
            settings_with(max_iter=5, excluded_features=("no_such",)))


def test_the_logistic_blend_is_a_weighted_sum_of_logits_and_zero_weight_is_trees_only() -> None:
    fit_set = synthetic_set(60, dt.date(2023, 1, 1), seed=1)
    validation = synthetic_set(14, dt.date(2023, 3, 5), seed=2)
    nodes = ("HB_NORTH", "HB_WEST")
    blended, _ = fit(fit_set, validation, nodes, FEATURES, settings_with(max_iter=20, min_samples_leaf=20))
    trees, _ = fit(fit_set, validation, nodes, FEATURES,
                   settings_with(max_iter=20, min_samples_leaf=20, logistic_weight=0.0))
    rows = validation.features.assign(dam_hod=np.minimum(validation.features["dam_hod"], 1.0))  # no tail term
    z_blend, z_trees = blended.raw_logits(rows)[:, 0], trees.raw_logits(rows)[:, 0]
    z_linear = blended.linear_[0].decision_function(blended._linear_design(rows))
    weight = blended.settings.logistic_weight
    np.testing.assert_allclose(z_blend, (1 - weight) * z_trees + weight * z_linear, rtol=1e-9)


def test_training_is_deterministic_given_the_seed() -> None:
    fit_set = synthetic_set(60, dt.date(2023, 1, 1), seed=1)
    validation = synthetic_set(20, dt.date(2023, 3, 10), seed=2)
    a, _ = fit(fit_set, validation, ("HB_NORTH", "HB_WEST"), FEATURES, FAST)
    b, _ = fit(fit_set, validation, ("HB_NORTH", "HB_WEST"), FEATURES, FAST)
    np.testing.assert_array_equal(a.predict(validation.features), b.predict(validation.features))


def test_shuffled_labels_are_rejected_by_the_gate(trained) -> None:
    good, _, validation = trained
    shuffled = synthetic_set(200, dt.date(2023, 1, 1), seed=1, shuffle_labels=True)
    bad, _ = fit(shuffled, synthetic_set(40, dt.date(2023, 7, 20), seed=2), ("HB_NORTH", "HB_WEST"), FEATURES, FAST)
    bad_score = model.gate_score(model.validation_report(validation, model.crossfit_probabilities(bad, validation),
                                                         bad.predict_baselines(validation.features)), "brier")
    good_score = model.gate_score(model.validation_report(validation, model.crossfit_probabilities(good, validation),
                                                          good.predict_baselines(validation.features)), "brier")
    assert registry.decide(bad_score, good_score, margin=0.0).status == "rejected"
    assert registry.decide(good_score, bad_score, margin=0.0).status == "accepted"


def test_rare_threshold_without_enough_positives_uses_the_ratio_fallback() -> None:
    fit_set = synthetic_set(40, dt.date(2023, 1, 1), seed=5)
    fit_set.outcomes[:, 2] = 0.0
    fit_set.outcomes[:3, 2] = 1.0
    fit_set.outcomes[:3, :2] = 1.0
    fitted, _ = fit(fit_set, synthetic_set(10, dt.date(2023, 3, 1), seed=6), ("HB_NORTH", "HB_WEST"), FEATURES, FAST)
    assert fitted.boosters_[2] is None and fitted.fallback_ratio_[2] is not None
    p = fitted.predict(fit_set.features)
    assert (p[:, 2] <= p[:, 1]).all()


def test_the_intercept_shift_keeps_identity_without_evidence_and_corrects_a_bias() -> None:
    from pipeline.model.spike import fit_intercept

    assert fit_intercept(np.full(10, -1.0), np.zeros(10), prior=1e6) == pytest.approx(0.0, abs=1e-3)
    raw = np.linspace(0.01, 0.5, 4000)
    y = (np.random.default_rng(0).random(4000) < raw / 2).astype(float)  # raw is twice too high
    shift = fit_intercept(model.logit(raw), y, prior=1.0)
    calibrated = model.sigmoid(model.logit(raw) + shift)
    assert shift < 0 and abs(calibrated.mean() - y.mean()) < abs(raw.mean() - y.mean())


def test_monotone_rearrangement() -> None:
    assert monotone(np.array([[0.2, 0.3, 0.1]])).tolist() == [[0.2, 0.2, 0.1]]


def test_unknown_node_is_refused(trained) -> None:
    fitted, _, validation = trained
    with pytest.raises(ValueError, match="HB_PAN"):
        fitted.predict(validation.features.assign(node="HB_PAN"))


def test_left_out_climatology_drops_each_target_hours_own_outcome() -> None:
    data = synthetic_set(30, dt.date(2023, 1, 1), seed=4)
    clim = model.Climatology(THRESHOLDS).fit(data)
    left_out = clim.predict_left_out(data)
    in_sample = clim.predict(data.features)
    assert left_out.shape == in_sample.shape
    # A spike hour's own outcome no longer raises its rate; a calm hour's no longer lowers it.
    y = data.outcomes[:, 0]
    assert (left_out[y == 1, 0] < in_sample[y == 1, 0]).all()
    assert (left_out[y == 0, 0] > in_sample[y == 0, 0]).all()
    # Exactly: (cell sum - own + strength * hour prior) / (cell count - 1 + strength), here one cell per node-hour.
    row = int(np.flatnonzero(y == 1)[0])
    node, hour = data.features.loc[row, "node"], int(data.features.loc[row, "hour_of_day"])
    cell = ((data.features["node"] == node) & (data.features["hour_of_day"] == hour)).to_numpy()
    unique = ~data.features.loc[cell].duplicated(["node", "interval_start"]).to_numpy()
    cell_y = data.outcomes[cell][unique, 0]
    prior = clim.by_hour_[(node, hour)][0]
    expected = (cell_y.sum() - 1 + clim.strength * prior) / (len(cell_y) - 1 + clim.strength)
    assert left_out[row, 0] == pytest.approx(expected)


def test_a_baseline_serves_a_threshold_only_when_it_beat_the_model_by_the_margin() -> None:
    def entry(model_brier: float, **baselines: float) -> dict:
        return {"model": {"brier": model_brier}, **{name: {"brier": b} for name, b in baselines.items()}}

    report = {"100": entry(0.100, climatology=0.095, dam_asof=0.092),   # 8 % better: not enough
              "250": entry(0.100, climatology=0.085, dam_asof=0.080),   # both clear: the lowest serves
              "1000": entry(0.100, climatology=0.120)}                  # worse: the model
    assert model.best_forecasters(report, "brier", 0.10) == {"100": "model", "250": "dam_asof", "1000": "model"}
    # No margin: the lowest score serves, ties to the model; None: the model always serves.
    assert model.best_forecasters(report, "brier", 0.0) == {"100": "dam_asof", "250": "dam_asof", "1000": "model"}
    tie = {"100": entry(0.1, climatology=0.1)}
    assert model.best_forecasters(tie, "brier", 0.0) == {"100": "model"}
    assert set(model.best_forecasters(report, "brier", None).values()) == {"model"}


def test_each_threshold_serves_the_best_of_the_model_and_its_baselines(trained) -> None:
    fitted, report, validation = trained
    choice = model.best_forecasters(report, "brier", 0.0)
    for label, name in choice.items():
        scores = {forecaster: entry["brier"] for forecaster, entry in report[label].items()}
        assert scores[name] == min(scores.values())
    forced = {"100": "model", "250": "dam_asof", "1000": "climatology"}
    served = fitted.predict_served(validation.features, forced)
    baselines = fitted.predict_baselines(validation.features)
    expected = np.column_stack([fitted.predict(validation.features)[:, 0], baselines["dam_asof"][:, 1],
                                baselines["climatology"][:, 2]])
    np.testing.assert_allclose(served, monotone(expected))
    assert (np.diff(served, axis=1) <= 1e-12).all()
    # The served mix never scores worse than the best baseline of each threshold on the window it was chosen on.
    mix = model.mixture_score(report, choice, "brier")
    best_baselines = np.mean([min(e[n]["brier"] for n in e if n != "model") for e in report.values()])
    assert mix <= best_baselines


def test_the_metadata_records_the_knot_in_dollars_and_each_thresholds_tail(trained) -> None:
    from pipeline.model.candidate import Provenance, metadata
    from pipeline.model.windows import TrainingWindow

    fitted, report, validation = trained
    fit_set = synthetic_set(200, dt.date(2023, 1, 1), seed=1)
    window = TrainingWindow(dt.date(2023, 9, 1), dt.date(2023, 1, 1), dt.date(2023, 7, 19), dt.date(2023, 7, 20),
                            dt.date(2023, 8, 28))
    provenance = Provenance("2023-09-01.test", "f3-test", "simulator", None, True, {"seed": 3})
    meta = json.loads(json.dumps(metadata(provenance, window, fit_set, validation, fitted, report)))
    assert meta["dam_knot"] == round(float(np.exp(fitted.dam_knot_)), 2) and meta["dam_knot"] > 0
    assert meta["dam_tail"] == list(fitted.tail_) and len(meta["dam_tail"]) == len(fitted.thresholds)


def test_median_imputer_gives_scikit_learns_medians_and_fills():
    """The model's imputer fills as scikit-learn's median imputer does (an all-missing column with 0),
    and a pipeline with it fits the same regression."""
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from pipeline.model.linear import MedianImputer, logistic_pipeline

    rng = np.random.default_rng(5)
    x = rng.lognormal(size=(2_001, 5))
    x[rng.random(x.shape) < 0.1] = np.nan
    x[:, 2] = np.nan  # known nowhere
    x[:, 3] = np.round(x[:, 3], 1)  # ties
    x[:1_000, 4] = np.nan  # an even count known
    ours, theirs = MedianImputer().fit(x), SimpleImputer(strategy="median", keep_empty_features=True).fit(x)
    assert np.array_equal(ours.statistics_, theirs.statistics_)
    assert ours.statistics_[2] == 0.0
    later = rng.lognormal(size=(50, 5))
    later[::7, 1] = np.nan
    before = later.copy()
    assert np.array_equal(ours.transform(later), theirs.transform(later))
    assert np.array_equal(later, before, equal_nan=True)  # the input is not filled in place

    y = (np.nan_to_num(x[:, 0]) + rng.normal(size=len(x)) > 1.5).astype(int)
    reference = logistic_pipeline(1.0).fit(x, y).predict_proba(later)[:, 1]
    sklearn_only = make_pipeline(SimpleImputer(strategy="median", keep_empty_features=True), StandardScaler(),
                                 LogisticRegression(C=1.0, max_iter=500)).fit(x, y)
    assert np.allclose(reference, sklearn_only.predict_proba(later)[:, 1], rtol=1e-12, atol=0)


def test_median_imputer_refuses_infinity_and_other_widths():
    from pipeline.model.linear import MedianImputer

    x = np.array([[1.0, 2.0], [np.nan, 4.0], [3.0, np.nan]])
    imputer = MedianImputer().fit(x)
    assert imputer.transform(x).tolist() == [[1.0, 2.0], [2.0, 4.0], [3.0, 3.0]]
    with pytest.raises(ValueError, match=r"infinite values \(columns \[1\]\)"):
        MedianImputer().fit(np.array([[1.0, np.inf], [2.0, 3.0]]))
    with pytest.raises(ValueError, match="fitted on 2 columns, not 3"):
        imputer.transform(np.ones((2, 3)))
