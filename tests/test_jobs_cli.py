"""`comptoir jobs list` / `comptoir jobs run`, and the scheduler of several `comptoir serve`
processes on one database: only the lease holder runs the jobs, another takes over when it
stops. Everything as users run it: subprocesses with their environment."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any, Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from app.web.app import load_runtime
from tests.engine.jobs_data import make_quotes
from tests.test_cli import Cli, Server, free_port, no_traceback, wait_for



@pytest.fixture
def jobs_cli(tmp_path: Path, config_copy: Path, database_url: str) -> Cli:
    cli = Cli(tmp_path, config_copy)
    cli.database_url = database_url
    cli.env.update(COMPTOIR_DATABASE_URL=database_url, COMPTOIR_TIMEZONE="Europe/Paris", COMPTOIR_OUTBOX_DIR=str(tmp_path / "outbox"))
    return cli


@pytest.fixture
def db(jobs_cli: Cli) -> Iterator[Engine]:
    engine = create_engine(jobs_cli.database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def servers() -> Iterator[list[Server]]:
    started: list[Server] = []
    yield started
    for server in started:
        server.stop()


def test_jobs_list_and_run_for_a_day(jobs_cli: Cli, db: Engine) -> None:
    listed = jobs_cli.run("jobs", "list")
    assert listed.returncode == 0, listed.stderr
    lines = {line.split()[0]: line for line in listed.stdout.splitlines()[1:]}
    assert set(lines) == {"quote_expiry", "next_step_reminders", "dunning"}
    assert "0 6 * * *" in lines["quote_expiry"] and "run_transition" in lines["quote_expiry"]
    assert "0 7 * * mon-fri" in lines["next_step_reminders"] and "—" in lines["quote_expiry"]


    rt = load_runtime(Path(jobs_cli.env["COMPTOIR_CONFIG_DIR"]), jobs_cli.database_url)
    try:
        ids = make_quotes(rt)  # six quotes of 1 Nov 2026, three of them sent
    finally:
        rt.engine.dispose()
    day = dt.date(2026, 11, 13)
    expected = sorted([ids["sent_10"], ids["sent_12"]])
    checked = 4  # the sent and postponed ones
    ran = jobs_cli.run("jobs", "run", "quote_expiry", "--today", day.isoformat())
    no_traceback(ran)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == f"quote_expiry (2026-11-13) : ok — checked={checked} changed={len(expected)} errors=0"
    with db.connect() as conn:
        now_no_answer = sorted(conn.execute(text("SELECT id FROM quote WHERE status = 'no_answer'")).scalars())
        [run] = conn.execute(text("SELECT job, day, trigger, result FROM comptoir_job_run")).all()
    assert now_no_answer == expected
    assert (run.job, str(run.day), run.trigger, run.result) == ("quote_expiry", "2026-11-13", "manual", "ok")

    again = jobs_cli.run("jobs", "run", "quote_expiry", "--today", day.isoformat())
    assert again.returncode == 0 and "changed=0" in again.stdout  # nothing left to expire
    listed = jobs_cli.run("jobs", "list")
    assert "ok (2026-11-13)" in next(l for l in listed.stdout.splitlines() if l.startswith("quote_expiry"))


def test_unknown_job_exits_2_naming_the_jobs(jobs_cli: Cli) -> None:
    result = jobs_cli.run("jobs", "run", "quote_expiri")
    no_traceback(result)
    assert result.returncode == 2
    assert "quote_expiri" in result.stderr and "quote_expiry, next_step_reminders" in result.stderr
    assert "did you mean 'quote_expiry'?" in result.stderr
    bad_day = jobs_cli.run("jobs", "run", "quote_expiry", "--today", "2026-13-01")
    assert bad_day.returncode == 2 and "YYYY-MM-DD" in bad_day.stderr


def _runs(db: Engine) -> list[Any]:
    with db.connect() as conn:
        return list(conn.execute(text("SELECT id, job, trigger, owner, result FROM comptoir_job_run ORDER BY id")).all())


def _make_due(db: Engine, *jobs: str) -> None:
    """Put the jobs' next run in the past, as after a stop of the servers."""
    with db.begin() as conn:
        for job in jobs:
            conn.execute(text("UPDATE comptoir_job_state SET next_run_at = :t WHERE name = :n"), {"t": dt.datetime(2026, 1, 5, 5, 0), "n": job})


def _wait_runs(db: Engine, count: int, servers: list[Server], timeout: float = 90.0) -> list[Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = [r for r in _runs(db) if r.result != "running"]
        if len(done) >= count:
            return done
        time.sleep(0.3)
    pytest.fail(f"{count} runs expected, got {_runs(db)}\n" + "\n".join(s.output() for s in servers))


def test_several_servers_one_scheduler(jobs_cli: Cli, db: Engine, servers: list[Server]) -> None:
    assert jobs_cli.run("jobs", "list").returncode == 0  # the database is migrated
    env = {**jobs_cli.env, "COMPTOIR_SCHEDULER_TICK": "0.5"}
    ports = [free_port() for _ in range(2)]  # two web servers, each with its scheduler
    for port in ports:
        servers.append(jobs_cli.start("serve", "--port", str(port), env=env))
    for port, server in zip(ports, servers):
        wait_for(f"http://127.0.0.1:{port}/admin/login", server)
    # every server synchronised the schedule: rows exist, nothing is due yet
    deadline = time.monotonic() + 90
    while True:
        with db.connect() as conn:
            if conn.execute(text("SELECT count(*) FROM comptoir_job_state")).scalar() == 3:  # the shipped jobs
                break
        if time.monotonic() > deadline:
            pytest.fail("no scheduler registered the jobs:\n" + "\n".join(s.output() for s in servers))
        time.sleep(0.2)
    assert _runs(db) == []
    _make_due(db, "quote_expiry", "next_step_reminders")
    first = _wait_runs(db, 2, servers)
    time.sleep(2.0)  # several more ticks of every server: nobody runs them again
    runs = _runs(db)
    assert sorted(r.job for r in runs) == ["next_step_reminders", "quote_expiry"], runs
    assert {r.trigger for r in runs} == {"catch_up"} and {r.result for r in runs} == {"ok"}
    owners = {r.owner for r in first}
    assert len(owners) == 1, owners
    [leader] = owners
    with db.connect() as conn:
        assert conn.execute(text("SELECT owner FROM comptoir_scheduler_lease")).scalar() == leader
    pid = int(leader.split(":")[1])
    [stopped] = [s for s in servers if s.process.pid == pid]
    stopped.stop()  # a graceful stop releases the lease
    _make_due(db, "quote_expiry")
    later = _wait_runs(db, 3, servers)
    assert len(later) == 3 and later[-1].job == "quote_expiry"
    assert later[-1].owner != leader
    assert int(later[-1].owner.split(":")[1]) in {s.process.pid for s in servers if s is not stopped}
    time.sleep(1.5)
    assert len(_runs(db)) == 3

    # every server stops; a new one starts: the schedule is kept (a next run far from the
    # cron's next slot would be reset by a re-registration that recomputes it), nothing runs
    with db.begin() as conn:
        conn.execute(text("UPDATE comptoir_job_state SET next_run_at = :t WHERE name = 'quote_expiry'"), {"t": dt.datetime(2030, 1, 1, 5, 0)})
    before = _states(db)
    for server in servers:
        server.stop()
    port = free_port()
    restarted = jobs_cli.start("serve", "--port", str(port), env=env)
    servers.append(restarted)
    wait_for(f"http://127.0.0.1:{port}/admin/login", restarted)
    deadline = time.monotonic() + 60
    while not _lease_owner(db).startswith(f"{leader.split(':')[0]}:{restarted.process.pid}:"):
        if time.monotonic() > deadline:
            pytest.fail("the restarted server did not take the lease:\n" + restarted.output())
        time.sleep(0.2)
    time.sleep(1.5)  # a few ticks of the new scheduler
    assert _states(db) == before
    assert len(_runs(db)) == 3
    for server in servers:
        assert "Traceback" not in server.output(), server.output()


def _states(db: Engine) -> list[Any]:
    with db.connect() as conn:
        return list(conn.execute(text("SELECT name, cron, next_run_at, last_run_at, last_day, serial FROM comptoir_job_state ORDER BY name")).all())


def _lease_owner(db: Engine) -> str:
    with db.connect() as conn:
        return str(conn.execute(text("SELECT owner FROM comptoir_scheduler_lease")).scalar() or "")
