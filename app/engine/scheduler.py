"""The scheduler: runs the jobs of workflows.yaml on their cron schedule, in one process only.

Every web process (every uvicorn worker) starts an APScheduler 3.x BackgroundScheduler with two
interval jobs of its own: `heartbeat` takes or renews a lease in the database (one row,
`comptoir_scheduler_lease`: owner + expiry, on SQLite and PostgreSQL alike), and `tick` — in
the lease holder only — runs the jobs that are due. The schedule lives in the database
(`comptoir_job_state`: each job's next and last run, computed with APScheduler's CronTrigger),
so a restart neither resets a job's next run nor forgets one:

- a job's slot is claimed by a compare-and-set update of its `next_run_at` before it runs, so
  even two lease holders (a paused process outliving its lease) never run one slot twice;
- missed runs (server down at the cron time) are caught up once at start — one run for the
  latest missed day, logged with trigger `catch_up` and how many runs it replaces — never once
  per missed slot, never silently skipped;
- a new job starts at its next slot (it is not run for the past); a changed cron expression
  reschedules from now, unless a run was already due (it is caught up first).

Settings (environment): COMPTOIR_SCHEDULER=off (no scheduler in this process),
COMPTOIR_SCHEDULER_TICK (seconds between checks, default 30; the lease lasts 3 ticks),
COMPTOIR_TIMEZONE (the cron expressions' time zone, default the server's).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from app.engine.jobs import (
    CATCH_UP,
    ERROR,
    JOB_RUN_TABLE,
    JOB_STATE_TABLE,
    LEASE_TABLE,
    RUNNING,
    SCHEDULE,
    RunResult,
    job_table,
    process_id,
    run_job,
    utcnow,
)
from app.spec.jobs import JobSpec

if TYPE_CHECKING:
    from app.engine.runtime import Runtime

log = logging.getLogger("comptoir.scheduler")

LEASE_NAME = "scheduler"
DEFAULT_TICK = 30.0
ON_TIME = dt.timedelta(minutes=5)  # a run later than this after its slot is a catch-up
MAX_COUNTED = 100  # missed slots counted at most (the message says "100+")


def _m(fr: str, en: str) -> str:
    return f"{fr} / {en}"


def job_timezone() -> dt.tzinfo:
    name = os.environ.get("COMPTOIR_TIMEZONE")
    if name:
        return ZoneInfo(name)
    from tzlocal import get_localzone

    return get_localzone()


def trigger_of(job: JobSpec, tz: dt.tzinfo | None = None) -> CronTrigger:
    return CronTrigger.from_crontab(job.cron, timezone=tz or job_timezone())


def _aware(utc_naive: dt.datetime) -> dt.datetime:
    return utc_naive.replace(tzinfo=dt.timezone.utc)


def _naive(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.timezone.utc).replace(tzinfo=None)


def next_fire(job: JobSpec, after: dt.datetime, tz: dt.tzinfo | None = None) -> dt.datetime | None:
    """The first slot strictly after `after` (UTC, naive), as UTC naive."""
    trigger = trigger_of(job, tz)
    found = trigger.get_next_fire_time(None, _aware(after + dt.timedelta(microseconds=1)))
    return _naive(found) if found is not None else None


def latest_slot(job: JobSpec, first: dt.datetime, now: dt.datetime, tz: dt.tzinfo | None = None) -> dt.datetime:
    """The latest slot from `first` up to `now` (`first` itself is one): searched back from now
    in growing windows, so that a per-minute job down for months costs a few steps."""
    for window in (dt.timedelta(hours=1), dt.timedelta(days=1), dt.timedelta(days=32), dt.timedelta(days=367)):
        start = max(first, now - window)
        slot = first if start == first else next_fire(job, start - dt.timedelta(microseconds=1), tz)
        if slot is None or slot > now:
            continue
        while True:
            following = next_fire(job, slot, tz)
            if following is None or following > now:
                return slot
            slot = following
    return first  # nothing within a year of now: a yearly job, `first` stands


def missed_slots(job: JobSpec, first: dt.datetime, now: dt.datetime, tz: dt.tzinfo | None = None) -> tuple[int, dt.datetime]:
    """How many slots from `first` up to `now` (counted up to MAX_COUNTED) and the latest."""
    count, slot = 0, first
    while slot is not None and slot <= now and count < MAX_COUNTED:
        count += 1
        slot = next_fire(job, slot, tz)
    return count, latest_slot(job, first, now, tz)


# --- the schedule in the database -----------------------------------------------------------


@dataclass(frozen=True)
class JobState:
    name: str
    cron: str
    next_run_at: dt.datetime | None
    last_run_at: dt.datetime | None
    last_day: dt.date | None
    serial: int = 0


def read_states(rt: Runtime) -> dict[str, JobState]:
    table = job_table(rt, JOB_STATE_TABLE)
    with rt.engine.connect() as conn:
        rows = conn.execute(select(table)).all()
    return {r.name: JobState(r.name, r.cron, r.next_run_at, r.last_run_at, r.last_day, r.serial) for r in rows}


def sync_states(rt: Runtime, now: dt.datetime | None = None) -> dict[str, JobState]:
    """Give every enabled job a row: a new job starts at its next slot; an existing one keeps
    its next run (re-registering at start resets nothing) unless its cron changed."""
    now = now or utcnow()
    tz = job_timezone()
    table = job_table(rt, JOB_STATE_TABLE)
    states = read_states(rt)
    for job in rt.spec.jobs.values():
        if not job.enabled:
            continue
        state = states.get(job.name)
        if state is None:
            values = {"name": job.name, "cron": job.cron, "next_run_at": next_fire(job, now, tz), "serial": 0, "updated_at": now}
            try:
                with rt.engine.begin() as conn:
                    conn.execute(insert(table).values(**values))
            except IntegrityError:  # another process inserted it meanwhile: theirs stands
                pass
        elif state.cron != job.cron:
            due = state.next_run_at is not None and state.next_run_at <= now
            values = {"cron": job.cron, "updated_at": now}
            if not due:  # a run already due is caught up first, then follows the new cron
                values["next_run_at"] = next_fire(job, now, tz)
            with rt.engine.begin() as conn:
                conn.execute(update(table).where(table.c.name == job.name).values(**values))
    return read_states(rt)


def _claim(rt: Runtime, job: JobSpec, state: JobState, slot: dt.datetime, following: dt.datetime | None, day: dt.date) -> bool:
    """Move the job's next run from the slot seen to the following one (compare-and-set on
    the row's serial); False when another process did it first (it runs the job, not us)."""
    table = job_table(rt, JOB_STATE_TABLE)
    with rt.engine.begin() as conn:
        done = conn.execute(
            update(table)
            .where(table.c.name == job.name, table.c.serial == state.serial)
            .values(next_run_at=following, last_run_at=slot, last_day=day, cron=job.cron, serial=state.serial + 1, updated_at=utcnow())
        )
        return done.rowcount == 1


def run_due(rt: Runtime, *, now: dt.datetime | None = None, owner: str | None = None) -> list[RunResult]:
    """Run once each enabled job whose next run has come (UTC `now`); see the module doc."""
    now = now or utcnow()
    tz = job_timezone()
    states = sync_states(rt, now)
    results: list[RunResult] = []
    for job in rt.spec.jobs.values():
        state = states.get(job.name)
        if not job.enabled or state is None or state.next_run_at is None or state.next_run_at > now:
            continue
        count, latest = missed_slots(job, state.next_run_at, now, tz)
        day = _aware(latest).astimezone(tz).date()
        late = now - latest > ON_TIME
        trigger = CATCH_UP if count > 1 or late else SCHEDULE
        note = ""
        if trigger == CATCH_UP:
            first = _aware(state.next_run_at).astimezone(tz).strftime("%Y-%m-%d %H:%M")
            more = "+" if count >= MAX_COUNTED else ""
            note = _m(
                f"rattrapage : {count}{more} exécution(s) manquée(s) depuis {first}, exécutée(s) une fois pour le {day}",
                f"catch-up: {count}{more} missed run(s) since {first}, run once for {day}",
            )
        if not _claim(rt, job, state, latest, next_fire(job, now, tz), day):
            continue
        results.append(run_job(rt, job, day, trigger=trigger, owner=owner, note=note))
    return results


# --- the lease ------------------------------------------------------------------------------


def acquire_lease(rt: Runtime, owner: str, ttl: dt.timedelta, *, now: dt.datetime | None = None) -> bool:
    """Take or renew the scheduler lease; True when `owner` holds it until now + ttl."""
    now = now or utcnow()
    table = job_table(rt, LEASE_TABLE)
    expires = now + ttl
    with rt.engine.connect() as conn:  # a read first: the other processes write nothing
        current = conn.execute(select(table.c.owner, table.c.expires_at).where(table.c.name == LEASE_NAME)).first()
    if current is not None and current.owner != owner and current.expires_at >= now:
        return False
    with rt.engine.begin() as conn:
        taken = conn.execute(
            update(table)
            .where(table.c.name == LEASE_NAME, (table.c.owner == owner) | (table.c.expires_at < now))
            .values(owner=owner, expires_at=expires)
        ).rowcount
    if taken == 1:
        return True
    try:
        with rt.engine.begin() as conn:
            conn.execute(insert(table).values(name=LEASE_NAME, owner=owner, expires_at=expires))
        return True
    except IntegrityError:  # the row exists and someone else holds it
        return False


def release_lease(rt: Runtime, owner: str) -> None:
    table = job_table(rt, LEASE_TABLE)
    with rt.engine.begin() as conn:
        conn.execute(
            update(table).where(table.c.name == LEASE_NAME, table.c.owner == owner).values(expires_at=utcnow() - dt.timedelta(seconds=1))
        )


def lease_holder(rt: Runtime) -> tuple[str, dt.datetime] | None:
    table = job_table(rt, LEASE_TABLE)
    with rt.engine.connect() as conn:
        row = conn.execute(select(table).where(table.c.name == LEASE_NAME)).first()
    return (row.owner, row.expires_at) if row is not None else None


def mark_interrupted(rt: Runtime, owner: str) -> int:
    """Scheduled runs left 'running' by a process that stopped: logged as interrupted."""
    runs = job_table(rt, JOB_RUN_TABLE)
    with rt.engine.begin() as conn:
        return int(
            conn.execute(
                update(runs)
                .where(runs.c.result == RUNNING, runs.c.owner != owner, runs.c.trigger.in_([SCHEDULE, CATCH_UP]))
                .values(result=ERROR, ended_at=utcnow(), message=_m("interrompue (processus arrêté)", "interrupted (process stopped)"))
            ).rowcount
        )


# --- the process's scheduler ------------------------------------------------------------------


def tick_seconds() -> float:
    try:
        return max(float(os.environ.get("COMPTOIR_SCHEDULER_TICK", DEFAULT_TICK)), 0.05)
    except ValueError:
        return DEFAULT_TICK


def scheduler_enabled() -> bool:
    return os.environ.get("COMPTOIR_SCHEDULER", "on").strip().lower() not in ("off", "0", "false", "no")


class JobScheduler:
    """One per process; only the lease holder runs jobs."""

    def __init__(self, rt: Runtime, *, tick: float | None = None, owner: str | None = None) -> None:
        self.rt = rt
        self.tick_interval = tick or tick_seconds()
        self.ttl = dt.timedelta(seconds=self.tick_interval * 3)
        self.owner = owner or process_id()
        self.leader = False
        self._lock = threading.Lock()
        self._scheduler: BackgroundScheduler | None = None

    def heartbeat(self) -> bool:
        try:
            leader = acquire_lease(self.rt, self.owner, self.ttl)
        except Exception:  # database unreachable for a moment: not the leader meanwhile
            log.exception("scheduler lease")
            leader = False
        if leader and not self.leader:
            log.info("scheduler: this process (%s) runs the jobs", self.owner)
            mark_interrupted(self.rt, self.owner)
        self.leader = leader
        return leader

    def tick(self) -> list[RunResult]:
        with self._lock:
            if not self.heartbeat():
                return []
            try:
                return run_due(self.rt, owner=self.owner)
            except Exception:
                log.exception("scheduler tick")
                return []

    def start(self) -> None:
        scheduler = BackgroundScheduler(timezone=dt.timezone.utc, job_defaults={"coalesce": True, "max_instances": 1})
        first = dt.datetime.now(dt.timezone.utc)
        scheduler.add_job(self.tick, "interval", seconds=self.tick_interval, next_run_time=first, id="comptoir-tick", misfire_grace_time=None)
        # the lease is renewed even while a long job holds the tick
        scheduler.add_job(self.heartbeat, "interval", seconds=self.tick_interval, id="comptoir-lease", misfire_grace_time=None)
        # "skipped: maximum number of running instances" while a long job holds the tick is normal
        logging.getLogger("apscheduler.scheduler").setLevel(logging.ERROR)
        scheduler.start()
        self._scheduler = scheduler
        log.info("scheduler started (%s, every %s s, %d job(s))", self.owner, self.tick_interval, len(self.rt.spec.jobs))

    def stop(self) -> None:
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=True)
            self._scheduler = None
        if self.leader:
            try:
                release_lease(self.rt, self.owner)  # another process may take over at once
            except Exception:
                log.exception("scheduler lease release")
            self.leader = False


def lifespan(rt: Runtime) -> Callable[[Any], Any]:
    """The Starlette lifespan starting this process's scheduler (unless COMPTOIR_SCHEDULER=off)."""

    @asynccontextmanager
    async def run(app: Any) -> AsyncIterator[None]:
        scheduler = JobScheduler(rt) if scheduler_enabled() and rt.spec.jobs else None
        if scheduler is not None:
            scheduler.start()
            app.state.scheduler = scheduler
        try:
            yield
        finally:
            if scheduler is not None:
                scheduler.stop()

    return run
