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


def test_serving_model_is_newest_accepted_within_max_age() -> None:
    day = dt.date(2024, 3, 10)
    newest = registry.cadence_date(day, ANCHOR, 2)
    older = newest - dt.timedelta(days=2)
    decisions = {newest: {"status": "rejected", "model_id": "r"}, older: {"status": "accepted", "model_id": "a"}}
    assert served(day, decisions) == older
    decisions[newest] = {"status": "accepted", "model_id": "a"}
    assert served(day, decisions) == newest


def test_newest_rejected_serves_when_every_candidate_within_max_age_was_rejected() -> None:
    day = dt.date(2024, 3, 10)
    newest = registry.cadence_date(day, ANCHOR, 2)
    dates = [newest - dt.timedelta(days=2 * k) for k in range(4)]
    stale_accepted = newest - dt.timedelta(days=16)
    decisions = {d: {"status": "rejected", "model_id": "r"} for d in dates[1:]}
    decisions[dates[0]] = {"status": "failed", "model_id": "f"}
    decisions[stale_accepted] = {"status": "accepted", "model_id": "a"}
    # The newest trained (not failed) candidate within the age limit, not the stale accepted one.
    assert served(day, decisions) == dates[1]
    # An accepted one within the limit still wins over any rejected one.
    decisions[dates[3]] = {"status": "accepted", "model_id": "a"}
    assert served(day, decisions) == dates[3]


def test_no_model_older_than_max_age_serves() -> None:
    day = dt.date(2024, 3, 10)
    stale = registry.cadence_date(day, ANCHOR, 2) - dt.timedelta(days=20)
    assert served(day, {stale: {"status": "accepted", "model_id": "a"}}) is None


def test_gate_margin() -> None:
    assert registry.decide(0.0101, 0.0100, margin=0.0).status == "rejected"
    assert registry.decide(0.0101, 0.0100, margin=0.02).status == "accepted"
    assert registry.decide(0.02, None, margin=0.0).status == "accepted"


def test_the_walk_asks_for_older_records_only_while_newer_candidates_were_rejected() -> None:
    day = dt.date(2024, 3, 10)
    newest = CADENCE.newest(day)
    older = newest - dt.timedelta(days=2)
    assert registry.next_record_needed(day, {}, (), CADENCE) == newest
    decisions = {newest: {"status": "rejected", "model_id": "new"}}
    assert registry.next_record_needed(day, decisions, (), CADENCE) == older
    decisions[older] = {"status": "accepted", "model_id": "old"}
    assert registry.next_record_needed(day, decisions, (), CADENCE) is None
    assert registry.serving(day, decisions, CADENCE) == registry.Serving(older, "accepted", "old")
    # A candidate that cannot be gated (its training failed) is stepped over.
    assert registry.next_record_needed(day, {}, {newest}, CADENCE) == older
    # Nothing left within the age limit: the walk ends, and no model serves.
    assert registry.next_record_needed(day, {}, set(CADENCE.back_from(day)), CADENCE) is None


def test_the_retraining_fallback_names_the_model_the_serving_rule_picks(small_pipeline) -> None:
    """When every candidate within max_age was rejected, forecasts use the newest rejected one, and
    the retraining alert must name that model, not an older accepted one or none."""
    from pipeline.ops.base import Operations
    from pipeline.ops.fallbacks import retain_current_model
    from pipeline.tasks.base import current_layout, current_settings

    settings = current_settings()
    cadence, layout = settings.cadence, current_layout()
    today = cadence.newest(dt.date(2024, 7, 17))
    older = cadence.back_from(today)[1:]
    for train_date in older:
        layout.model_decision(train_date).write({"status": "rejected", "model_id": settings.model_id(train_date),
                                                 "train_date": train_date.isoformat()})
    stale = today - dt.timedelta(days=settings.config.model.max_age_days + 2)
    layout.model_decision(stale).write({"status": "accepted", "model_id": settings.model_id(stale)})

    served = retain_current_model(Operations(settings.config, runner=None), today)

    assert served == settings.model_id(older[0])
    assert registry.serving(today, layout.gate_records(cadence.back_from(today)), cadence).model_id == served
    assert layout.model_failure(today).read()["status"] == "failed"
