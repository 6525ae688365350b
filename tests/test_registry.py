"""Which model serves a day: cadence dates across month ends, and the newest accepted within the age limit."""

from __future__ import annotations

import datetime as dt

from pipeline import registry

ANCHOR = dt.date(2000, 1, 1)
CADENCE = registry.Cadence(ANCHOR, 2, 14)


def served(day: dt.date, decisions: dict) -> dt.date | None:
    choice = registry.serving(day, decisions, CADENCE)
    return None if choice is None else choice.train_date


def test_cadence_is_regular_across_month_ends() -> None:
    dates = [d for d in (dt.date(2024, 1, 25) + dt.timedelta(days=i) for i in range(40))
             if registry.is_cadence_date(d, ANCHOR, 2)]
    gaps = {(b - a).days for a, b in zip(dates, dates[1:])}
    assert gaps == {2}  # cron's */2 would run on Jan 31 and Feb 1 back to back


def test_cadence_date_is_the_newest_on_or_before() -> None:
    day = dt.date(2024, 3, 9)
    newest = registry.cadence_date(day, ANCHOR, 2)
    assert newest <= day and (day - newest).days < 2
    assert registry.is_cadence_date(newest, ANCHOR, 2)


def rejected(model_id: str, incumbent: str) -> dict:
    return {"status": "rejected", "model_id": model_id, "incumbent_model_id": incumbent,
            "incumbent_serving": {"100": "dam_asof"}}


def test_the_newest_gate_decides_accepted_serves_and_rejected_retains_its_incumbent() -> None:
    day = dt.date(2024, 3, 10)
    newest = registry.cadence_date(day, ANCHOR, 2)
    older = newest - dt.timedelta(days=2)
    decisions = {newest: rejected("new", "old"), older: {"status": "accepted", "model_id": "old"}}
    serving = registry.serving(day, decisions, CADENCE)
    assert (serving.train_date, serving.status, serving.model_id) == (older, "retained", "old")
    assert serving.forecaster("100") == "dam_asof", "the incumbent serves what its gate chose on the newest window"
    decisions[newest] = {"status": "accepted", "model_id": "new"}
    assert served(day, decisions) == newest
    # Only the newest record counts: an older rejection does not matter once a newer one accepted.
    decisions[older] = rejected("old", "older")
    assert served(day, decisions) == newest


def test_an_unusable_model_gives_way_to_the_other_model_of_its_record_then_to_older_records() -> None:
    day = dt.date(2024, 3, 10)
    dates = CADENCE.back_from(day)
    decisions = {dates[0]: {"status": "accepted", "model_id": "a", "incumbent_model_id": "b"},
                 dates[1]: rejected("b", "c")}
    assert served(day, decisions) == dates[0]
    # The accepted candidate's artifact is invalid: the incumbent it was compared with serves.
    assert registry.serving(day, decisions, CADENCE, unusable={dates[0]}).train_date == dates[1]
    # Both models of the newest record unusable: the next older record decides (its incumbent, dates[2]).
    assert registry.serving(day, decisions, CADENCE, unusable={dates[0], dates[1]}).train_date == dates[2]


def test_a_rejected_candidate_serves_only_when_its_incumbent_cannot() -> None:
    day = dt.date(2024, 3, 10)
    oldest = CADENCE.back_from(day)[-1]  # at the age limit: its incumbent is older than max_age
    choice = registry.serving(day, {oldest: rejected("x", "y")}, CADENCE)
    assert (choice.train_date, choice.status, choice.model_id) == (oldest, "rejected", "x")
    newest = CADENCE.newest(day)
    choice = registry.serving(day, {newest: rejected("x", "y")}, CADENCE, unusable={newest - dt.timedelta(days=2)})
    assert (choice.train_date, choice.status) == (newest, "rejected")


def test_no_model_older_than_max_age_serves() -> None:
    day = dt.date(2024, 3, 10)
    stale = registry.cadence_date(day, ANCHOR, 2) - dt.timedelta(days=20)
    assert served(day, {stale: {"status": "accepted", "model_id": "a"}}) is None


def test_gate_margin() -> None:
    assert registry.decide(0.0101, 0.0100, margin=0.0).status == "rejected"
    assert registry.decide(0.0101, 0.0100, margin=0.02).status == "accepted"
    assert registry.decide(0.02, None, margin=0.0).status == "accepted"


def test_a_threshold_served_by_a_baseline_is_named_in_its_model_id() -> None:
    day = dt.date(2024, 3, 10)
    newest = CADENCE.newest(day)
    decisions = {newest: {"status": "accepted", "model_id": "m", "serving": {"100": "model", "1000": "dam_asof"}}}
    serving = registry.serving(day, decisions, CADENCE)
    assert serving.forecaster("100") == "model" and serving.row_model_id("100") == "m"
    assert serving.forecaster("1000") == "dam_asof" and serving.row_model_id("1000") == "m/dam_asof"
    assert serving.forecaster("250") == "model"  # older records without a choice: the model


def test_the_retraining_fallback_names_the_model_the_serving_rule_picks(small_pipeline) -> None:
    """A failed retraining: the alert must name the model forecasts keep using, by the same rule."""
    from pipeline.ops.base import Operations
    from pipeline.ops.fallbacks import retain_current_model
    from pipeline.tasks.base import current

    configured = current()
    settings, records = configured.settings, configured.records
    cadence = settings.cadence
    today = cadence.newest(dt.date(2024, 7, 17))
    previous, before = cadence.back_from(today)[1:3]
    # The previous candidate was rejected: the one before it is what serves.
    records.write_decision(previous, {**rejected(settings.model_id(previous), settings.model_id(before)),
                                      "train_date": previous.isoformat()})

    served_id = retain_current_model(Operations(settings.config, runner=None), today)

    assert served_id == settings.model_id(before)
    assert records.current_serving(today).model_id == served_id
    assert records.failure(today)["status"] == "failed"
