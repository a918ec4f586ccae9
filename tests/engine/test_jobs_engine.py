"""Scheduled jobs in one process: the schedule kept in the database (new job, restart, cron
change), missed runs caught up once, one run per slot, the lease, the run log, and the
shipped quote expiry replayed day by day (on SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path
from typing import Any, Callable, Mapping

import pytest
from sqlalchemy import select, update

from app.engine.jobs import JOB_RUN_TABLE, JOB_STATE_TABLE, JobFailed, job_table, register_job, run_job
from app.engine.scheduler import (
    acquire_lease,
    lease_holder,
    next_fire,
    read_states,
    release_lease,
    run_due,
    sync_states,
)
from tests.engine.jobs_data import make_quotes

PARIS = "Europe/Paris"


@pytest.fixture(autouse=True)
def paris(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMPTOIR_TIMEZONE", PARIS)


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args)  # naive UTC, as stored


def runs_of(rt: Any, job: str | None = None) -> list[Any]:
    table = job_table(rt, JOB_RUN_TABLE)
    query = select(table).order_by(table.c.id)
    if job is not None:
        query = query.where(table.c.job == job)
    with rt.engine.connect() as conn:
        return list(conn.execute(query).all())


def set_next_run(rt: Any, job: str, when: dt.datetime) -> None:
    table = job_table(rt, JOB_STATE_TABLE)
    with rt.engine.begin() as conn:
        conn.execute(update(table).where(table.c.name == job).values(next_run_at=when))


# --- the schedule ----------------------------------------------------------------------------


def test_a_new_job_starts_at_its_next_slot_and_a_restart_keeps_it(runtime: Any, make_runtime: Callable[..., Any]) -> None:
    # 2 Dec 2026 04:30 UTC = 05:30 in Paris: quote expiry (06:00) comes today at 05:00 UTC
    states = sync_states(runtime, utc(2026, 12, 2, 4, 30))
    assert states["quote_expiry"].next_run_at == utc(2026, 12, 2, 5, 0)
    assert states["quote_expiry"].cron == "0 6 * * *"
    # next step reminders: 07:00 on weekdays; Friday 4 Dec, then Monday 7 Dec
    assert states["next_step_reminders"].next_run_at == utc(2026, 12, 2, 6, 0)
    assert next_fire(runtime.spec.jobs["next_step_reminders"], utc(2026, 12, 4, 6, 0)) == utc(2026, 12, 7, 6, 0)
    assert run_due(runtime, now=utc(2026, 12, 2, 4, 59)) == []  # nothing is due yet
    # the server stops before 05:00 and restarts at 09:00 (a new runtime on the same
    # database): re-registering the jobs keeps the due run, it is not pushed to tomorrow
    again = make_runtime()
    later = sync_states(again, utc(2026, 12, 2, 9, 0))
    assert later["quote_expiry"].next_run_at == utc(2026, 12, 2, 5, 0)
    assert runs_of(again) == []


def test_missed_runs_are_caught_up_once_then_the_schedule_goes_on(runtime: Any) -> None:
    sync_states(runtime, utc(2026, 11, 28, 12, 0))
    assert read_states(runtime)["quote_expiry"].next_run_at == utc(2026, 11, 29, 5, 0)
    # the server was down from 28 Nov to 2 Dec 09:00 UTC: 29, 30 Nov, 1 and 2 Dec were missed
    done = [r for r in run_due(runtime, now=utc(2026, 12, 2, 9, 0)) if r.job == "quote_expiry"]
    assert len(done) == 1
    [run] = done
    assert (run.trigger, run.day, run.result) == ("catch_up", dt.date(2026, 12, 2), "ok")
    assert "4 missed run(s) since 2026-11-29 06:00" in run.message
    state = read_states(runtime)["quote_expiry"]
    assert (state.next_run_at, state.last_run_at, state.last_day) == (utc(2026, 12, 3, 5, 0), utc(2026, 12, 2, 5, 0), dt.date(2026, 12, 2))
    assert [r for r in run_due(runtime, now=utc(2026, 12, 2, 9, 1)) if r.job == "quote_expiry"] == []  # not twice
    [on_time] = [r for r in run_due(runtime, now=utc(2026, 12, 3, 5, 0, 20)) if r.job == "quote_expiry"]
    assert (on_time.trigger, on_time.day) == ("schedule", dt.date(2026, 12, 3))
    logged = runs_of(runtime, "quote_expiry")
    assert [(r.trigger, r.day, r.result) for r in logged] == [
        ("catch_up", dt.date(2026, 12, 2), "ok"),
        ("schedule", dt.date(2026, 12, 3), "ok"),
    ]
    assert all(r.started_at is not None and r.ended_at >= r.started_at for r in logged)
    assert logged[0].counts == {"checked": 0, "changed": 0, "errors": 0}


def test_a_slot_runs_once_even_when_two_schedulers_race(runtime: Any) -> None:
    sync_states(runtime, utc(2026, 12, 1, 12, 0))
    now = utc(2026, 12, 2, 5, 0, 10)
    results: list[Any] = []
    barrier = threading.Barrier(3)

    def race() -> None:
        barrier.wait()
        results.extend(run_due(runtime, now=now))

    threads = [threading.Thread(target=race) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [r.job for r in results] == ["quote_expiry"]
    assert len(runs_of(runtime, "quote_expiry")) == 1


def test_a_changed_cron_reschedules_but_a_due_run_is_caught_up_first(config_copy: Path, make_runtime: Callable[..., Any]) -> None:
    rt = make_runtime(config_copy)
    sync_states(rt, utc(2026, 12, 1, 12, 0))
    path = config_copy / "workflows.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace('cron: "0 6 * * *"', 'cron: "30 18 * * *"'), encoding="utf-8")
    changed = make_runtime(config_copy)
    state = sync_states(changed, utc(2026, 12, 1, 13, 0))["quote_expiry"]
    assert (state.cron, state.next_run_at) == ("30 18 * * *", utc(2026, 12, 1, 17, 30))
    # already due when the cron changes: the due run stays, and is caught up
    set_next_run(changed, "quote_expiry", utc(2026, 12, 1, 5, 0))
    path.write_text(path.read_text(encoding="utf-8").replace('cron: "30 18 * * *"', 'cron: "0 5 * * *"'), encoding="utf-8")
    third = make_runtime(config_copy)
    [run] = [r for r in run_due(third, now=utc(2026, 12, 1, 14, 0)) if r.job == "quote_expiry"]
    assert run.trigger == "catch_up" and run.day == dt.date(2026, 12, 1)
    assert read_states(third)["quote_expiry"].next_run_at == utc(2026, 12, 2, 4, 0)


# --- the lease -------------------------------------------------------------------------------


def test_one_lease_holder_at_a_time(runtime: Any) -> None:
    ttl = dt.timedelta(seconds=30)
    t0 = utc(2026, 12, 2, 8, 0)
    assert acquire_lease(runtime, "web-1", ttl, now=t0)
    assert not acquire_lease(runtime, "web-2", ttl, now=t0 + dt.timedelta(seconds=5))
    assert acquire_lease(runtime, "web-1", ttl, now=t0 + dt.timedelta(seconds=20))  # renewed until 08:00:50
    assert not acquire_lease(runtime, "web-2", ttl, now=t0 + dt.timedelta(seconds=45))
    assert acquire_lease(runtime, "web-2", ttl, now=t0 + dt.timedelta(seconds=51))  # expired: taken over
    assert not acquire_lease(runtime, "web-1", ttl, now=t0 + dt.timedelta(seconds=52))
    holder = lease_holder(runtime)
    assert holder is not None and holder[0] == "web-2"
    release_lease(runtime, "web-2")
    assert acquire_lease(runtime, "web-3", ttl)  # a released lease is free at once


# --- the run log -----------------------------------------------------------------------------


def _boom(rt: Any, today: dt.date, args: Mapping[str, Any]) -> dict[str, int]:
    raise RuntimeError(f"nothing to do on {today}")


def _partly(rt: Any, today: dt.date, args: Mapping[str, Any]) -> dict[str, int]:
    raise JobFailed("2 records refused", {"changed": 3, "errors": 2})


register_job("test_boom", _boom)
register_job("test_partly", _partly)


def test_every_run_is_logged_with_its_result(config_copy: Path, make_runtime: Callable[..., Any]) -> None:
    path = config_copy / "workflows.yaml"
    path.write_text(
        path.read_text(encoding="utf-8")
        + '  boom:\n    cron: "0 1 * * *"\n    verb: test_boom\n'
        + '  partly:\n    cron: "0 1 * * *"\n    verb: test_partly\n    args: {any: thing}\n',
        encoding="utf-8",
    )
    rt = make_runtime(config_copy)
    failed = run_job(rt, rt.spec.jobs["boom"], dt.date(2026, 12, 1))
    partial = run_job(rt, rt.spec.jobs["partly"], dt.date(2026, 12, 1))
    fine = run_job(rt, rt.spec.jobs["quote_expiry"], dt.date(2026, 12, 1))
    assert (failed.result, failed.message) == ("error", "RuntimeError: nothing to do on 2026-12-01")
    assert (partial.result, partial.counts, partial.message) == ("error", {"changed": 3, "errors": 2}, "2 records refused")
    assert fine.ok
    logged = [(r.job, r.trigger, r.result, r.counts, r.message) for r in runs_of(rt)]
    assert logged == [
        ("boom", "manual", "error", {}, "RuntimeError: nothing to do on 2026-12-01"),
        ("partly", "manual", "error", {"changed": 3, "errors": 2}, "2 records refused"),
        ("quote_expiry", "manual", "ok", {"checked": 0, "changed": 0, "errors": 0}, None),
    ]


# --- quote expiry, day by day ------------------------------------------------------------------


def test_quote_expiry_day_by_day(runtime: Any) -> None:
    ids = make_quotes(runtime)
    job = runtime.spec.jobs["quote_expiry"]
    table = runtime.models.tables["quote"]

    def statuses() -> dict[str, str]:
        with runtime.engine.connect() as conn:
            found = dict(conn.execute(select(table.c.id, table.c.status)).all())
        return {key: found[i] for key, i in ids.items()}

    changed_per_day: dict[dt.date, list[str]] = {}
    for day in (dt.date(2026, 11, d) for d in range(9, 23)):
        before = statuses()
        result = run_job(runtime, job, day)
        assert result.ok, result.message
        after = statuses()
        moved = sorted(k for k in ids if before[k] != after[k])
        assert result.counts["changed"] == len(moved)
        if moved:
            changed_per_day[day] = moved
    assert changed_per_day == {
        dt.date(2026, 11, 11): ["sent_10"],
        dt.date(2026, 11, 13): ["sent_12"],
        dt.date(2026, 11, 21): ["sent_20"],
    }
    final = statuses()
    assert final == {
        "sent_10": "no_answer", "sent_12": "no_answer", "sent_20": "no_answer",
        "accepted_10": "accepted", "draft_05": "draft", "postponed_10": "postponed",
    }
    # the record's log says who moved it
    log = runtime.models.log
    with runtime.engine.connect() as conn:
        rows = conn.execute(select(log.c.login, log.c.transition).where(log.c.record_id == ids["sent_10"], log.c.entity == "quote").order_by(log.c.id)).all()
    assert rows[-1] == ("scheduler", "mark_no_answer")


def test_a_scheduled_run_left_running_by_a_dead_process_is_marked_interrupted(runtime: Any) -> None:
    from sqlalchemy import insert

    from app.engine.scheduler import JobScheduler

    table = job_table(runtime, JOB_RUN_TABLE)
    with runtime.engine.begin() as conn:
        for trigger in ("schedule", "manual"):
            conn.execute(insert(table).values(job="quote_expiry", day=dt.date(2026, 12, 1), trigger=trigger, owner="vm:1:dead",
                                              started_at=utc(2026, 12, 1, 5, 0), result="running"))
    scheduler = JobScheduler(runtime, tick=1.0, owner="vm:2:alive")
    assert scheduler.heartbeat() and scheduler.leader
    rows = [(r.trigger, r.result, r.message) for r in runs_of(runtime)]
    assert rows == [
        ("schedule", "error", "interrompue (processus arrêté) / interrupted (process stopped)"),
        ("manual", "running", None),  # a manual run may still be under way in another command
    ]
    scheduler.stop()
    holder = lease_holder(runtime)
    assert holder is not None and holder[1] < dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)  # released
