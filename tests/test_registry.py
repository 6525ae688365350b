"""Which model serves a day: cadence dates across month ends, and the newest accepted within the age limit."""

from __future__ import annotations

import datetime as dt

from pipeline import registry

ANCHOR = dt.date(2000, 1, 1)


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
    decisions = {newest: {"status": "rejected"}, older: {"status": "accepted"}}
    assert registry.serving_train_date(day, decisions, ANCHOR, 2, 14) == older
    decisions[newest] = {"status": "accepted"}
    assert registry.serving_train_date(day, decisions, ANCHOR, 2, 14) == newest


def test_newest_rejected_serves_when_every_candidate_within_max_age_was_rejected() -> None:
    day = dt.date(2024, 3, 10)
    newest = registry.cadence_date(day, ANCHOR, 2)
    dates = [newest - dt.timedelta(days=2 * k) for k in range(4)]
    stale_accepted = newest - dt.timedelta(days=16)
    decisions = {d: {"status": "rejected"} for d in dates[1:]}
    decisions[dates[0]] = {"status": "failed"}
    decisions[stale_accepted] = {"status": "accepted"}
    # The newest trained (not failed) candidate within the age limit, not the stale accepted one.
    assert registry.serving_train_date(day, decisions, ANCHOR, 2, 14) == dates[1]
    # An accepted one within the limit still wins over any rejected one.
    decisions[dates[3]] = {"status": "accepted"}
    assert registry.serving_train_date(day, decisions, ANCHOR, 2, 14) == dates[3]


def test_no_model_older_than_max_age_serves() -> None:
    day = dt.date(2024, 3, 10)
    stale = registry.cadence_date(day, ANCHOR, 2) - dt.timedelta(days=20)
    assert registry.serving_train_date(day, {stale: {"status": "accepted"}}, ANCHOR, 2, 14) is None


def test_gate_margin() -> None:
    assert registry.decide(0.0101, 0.0100, margin=0.0).status == "rejected"
    assert registry.decide(0.0101, 0.0100, margin=0.02).status == "accepted"
    assert registry.decide(0.02, None, margin=0.0).status == "accepted"
