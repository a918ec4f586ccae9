"""Scheduled jobs: the registry of job verbs, the tables of their schedule and runs, and
running one job for one day.

A job verb is a function `fn(rt, today, args) -> counts` (e.g. {"changed": 3}), registered
by name with its declaration (app/spec/jobs.py says what YAML may pass it):

    register_job("run_transition", run_transition_job, RUN_TRANSITION)

It works in sessions of its own (a record that fails should not undo the others) and raises
`JobFailed(message, counts)` when part of its work failed. `run_job` logs every run in
`comptoir_job_run` (job, day, trigger, start, end, ok/error + message, counts); the
scheduler (app/engine/scheduler.py) keeps each job's last and next run in
`comptoir_job_state`, and the process allowed to run them in `comptoir_scheduler_lease`.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import uuid
from collections.abc import Callable, Mapping
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Column, Date, DateTime, Index, Integer, MetaData, String, Table, Text, func, insert, select, update

from app.engine.permissions import Principal
from app.spec.expressions import fixed_clock
from app.spec.jobs import JobSpec, JobVerb, declare_job

if TYPE_CHECKING:
    from app.engine.runtime import Runtime

log = logging.getLogger("comptoir.jobs")

JOB_STATE_TABLE = "comptoir_job_state"
JOB_RUN_TABLE = "comptoir_job_run"
LEASE_TABLE = "comptoir_scheduler_lease"

# how a run was started
SCHEDULE, CATCH_UP, MANUAL = "schedule", "catch_up", "manual"
RUNNING, OK, ERROR = "running", "ok", "error"

# who job verbs act as: every right, "scheduler" in the records' logs
JOB_PRINCIPAL = Principal(user_id=None, login="scheduler", groups=(), grants=frozenset({("*", "*")}))

JobFn = Callable[["Runtime", dt.date, Mapping[str, Any]], Mapping[str, int]]

_REGISTRY: dict[str, JobFn] = {}


def _m(fr: str, en: str) -> str:
    return f"{fr} / {en}"


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def process_id() -> str:
    """Who runs: host, process id and a random part (a pid is reused across restarts)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


# --- registry ------------------------------------------------------------------------------


def register_job(name: str, fn: JobFn, declaration: JobVerb | None = None) -> JobFn:
    """Register a job verb. Without a declaration its YAML arguments are not checked."""
    current = _REGISTRY.get(name)
    if current is not None and current is not fn:
        raise ValueError(f"job verb '{name}' is implemented twice ({current.__module__}, {fn.__module__})")
    declare_job(declaration or JobVerb(name, fn.__doc__ or name, None))
    _REGISTRY[name] = fn
    return fn


def job_implementation(name: str) -> JobFn:
    from app.engine.verbs import load_plugins

    load_plugins()
    fn = _REGISTRY.get(name)
    if fn is None:
        raise KeyError(f"job verb '{name}' has no implementation (app/verbs/, register_job)")
    return fn


class JobFailed(Exception):
    """Part of a job's work failed: the run is logged as an error, with what it did."""

    def __init__(self, message: str, counts: Mapping[str, int] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.counts = dict(counts or {})


# --- tables --------------------------------------------------------------------------------


def add_job_tables(metadata: MetaData) -> dict[str, Table]:
    """The scheduler's tables, added to the models' metadata (so migrations create them)."""
    if JOB_RUN_TABLE in metadata.tables:
        return {n: metadata.tables[n] for n in (JOB_STATE_TABLE, JOB_RUN_TABLE, LEASE_TABLE)}
    state = Table(
        JOB_STATE_TABLE,
        metadata,
        Column("name", String(100), primary_key=True),
        Column("cron", String(200), nullable=False),  # the schedule next_run_at was computed from
        Column("next_run_at", DateTime, nullable=True),  # UTC
        Column("last_run_at", DateTime, nullable=True),  # UTC: the slot of the last scheduled run
        Column("last_day", Date, nullable=True),
        Column("serial", Integer, nullable=False, default=0),  # +1 per claimed slot (compare-and-set)
        Column("updated_at", DateTime, nullable=False, default=utcnow),
    )
    runs = Table(
        JOB_RUN_TABLE,
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("job", String(100), nullable=False),
        Column("day", Date, nullable=False),
        Column("trigger", String(20), nullable=False),  # schedule, catch_up, manual
        Column("owner", String(200), nullable=True),  # the process that ran it
        Column("started_at", DateTime, nullable=False),  # UTC
        Column("ended_at", DateTime, nullable=True),
        Column("result", String(20), nullable=False),  # running, ok, error
        Column("message", Text, nullable=True),
        Column("counts", JSON, nullable=True),
        Index(f"ix_{JOB_RUN_TABLE}_job", "job", "id"),
    )
    lease = Table(
        LEASE_TABLE,
        metadata,
        Column("name", String(100), primary_key=True),
        Column("owner", String(200), nullable=False),
        Column("expires_at", DateTime, nullable=False),  # UTC
    )
    return {JOB_STATE_TABLE: state, JOB_RUN_TABLE: runs, LEASE_TABLE: lease}


def job_table(rt: Runtime, name: str) -> Table:
    return rt.models.metadata.tables[name]


# --- running -------------------------------------------------------------------------------


@dataclass
class RunResult:
    run_id: int
    job: str
    day: dt.date
    trigger: str
    result: str
    message: str = ""
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.result == OK


def _clock_for(day: dt.date) -> Any:
    """today() answers the job's day inside the run (a replay, `--today`)."""
    if day == dt.date.today():
        return nullcontext()
    return fixed_clock(dt.datetime.combine(day, dt.datetime.now().time()))


def run_job(
    rt: Runtime, job: JobSpec, day: dt.date, *, trigger: str = MANUAL, owner: str | None = None, note: str = ""
) -> RunResult:
    """Run `job` for `day` now and log it (a 'running' row first, so a crash stays visible)."""
    runs = job_table(rt, JOB_RUN_TABLE)
    with rt.engine.begin() as conn:
        run_id = int(
            conn.execute(
                insert(runs).values(
                    job=job.name, day=day, trigger=trigger, owner=owner or process_id(),
                    started_at=utcnow(), result=RUNNING, message=note or None,
                )
            ).inserted_primary_key[0]
        )
    counts: dict[str, int] = {}
    message = ""
    try:
        fn = job_implementation(job.verb)
        with _clock_for(day):
            counts = {str(k): int(v) for k, v in (fn(rt, day, job.args) or {}).items()}
        result = OK
    except JobFailed as exc:
        result, message, counts = ERROR, exc.message, exc.counts
    except Exception as exc:  # a job must never take the scheduler down: logged, shown
        log.exception("job %s failed", job.name)
        result, message = ERROR, f"{type(exc).__name__}: {exc}"
    text = "\n".join(part for part in (note, message) if part)
    with rt.engine.begin() as conn:
        conn.execute(
            update(runs).where(runs.c.id == run_id).values(ended_at=utcnow(), result=result, message=text or None, counts=counts)
        )
    log.info("job %s (%s, %s): %s %s", job.name, day, trigger, result, counts)
    return RunResult(run_id, job.name, day, trigger, result, text, counts)


def recent_runs(rt: Runtime, *, job: str | None = None, limit: int = 200) -> list[Any]:
    """The latest runs, newest first."""
    runs = job_table(rt, JOB_RUN_TABLE)
    query = select(runs).order_by(runs.c.id.desc()).limit(limit)
    if job is not None:
        query = query.where(runs.c.job == job)
    with rt.engine.connect() as conn:
        return list(conn.execute(query).all())


def last_runs(rt: Runtime) -> dict[str, Any]:
    """Each job's latest run (any trigger)."""
    runs = job_table(rt, JOB_RUN_TABLE)
    with rt.engine.connect() as conn:
        latest = select(runs.c.job, func.max(runs.c.id).label("id")).group_by(runs.c.job)
        ids = {row.job: row.id for row in conn.execute(latest)}
        if not ids:
            return {}
        rows = conn.execute(select(runs).where(runs.c.id.in_(list(ids.values())))).all()
    return {row.job: row for row in rows}
