"""The follow-up scan (each open invoice's next step and its date, in SQL) against a bare
SELECT count(*) of the same filter, in the same run.

    python bench/dunning_scan.py                  # 100,000 open invoices on SQLite
    python bench/dunning_scan.py --count 20000 --pg postgresql+psycopg://postgres@127.0.0.1:5432/test

Data: invoices inserted with Core executemany (validated, sent or partially paid, due dates
spread over a year), a third of them with a reminder 1 in the follow-up log and a sixth with a
reminder 2 as well, plus a `sent` entry for every invoice. Timed (best of 3): the scan of
app/engine/followup_scan.py computed by the database for every invoice and summed up per next
step (what the target is about: the scan itself, in SQL); then, for context, the same rows
fetched into Python (`scan_select`, every followed invoice: id, next step, its date, band...),
sorted by due date (the screen), the due steps only (what the daily job reads); and the
baseline `SELECT count(*)` of the `follows` filter. Target: the scan < 0.5 s on SQLite.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.engine.followup import follow_up_of, log_table  # noqa: E402
from app.engine.followup_scan import count_followed, scan_select  # noqa: E402
from app.spec.loader import load_spec_or_raise  # noqa: E402
from app.web.app import load_runtime  # noqa: E402

TODAY = dt.date(2026, 12, 1)
STATUSES = ("validated", "sent", "partially_paid")
BATCH = 10_000


def _best(fn: Callable[[], Any], runs: int = 3) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def fill(rt: Any, count: int) -> None:
    models = rt.models
    with rt.engine.begin() as conn:
        company = conn.execute(models.tables["company"].insert().values(legal_name="Berthier Services SAS", version=1)).inserted_primary_key[0]
        account = conn.execute(models.tables["account"].insert().values(name="Dupont SARL", type="client", email="compta@dupont.fr", version=1)).inserted_primary_key[0]
        invoice, log = models.tables["invoice"], log_table(models.metadata)
        for start in range(0, count, BATCH):
            rows, entries = [], []
            for i in range(start, min(count, start + BATCH)):
                day = dt.date(2026, 1, 1) + dt.timedelta(days=i % 365)
                rows.append({
                    "id": i + 1, "number": f"FA-{i + 1:06d}", "status": STATUSES[i % 3], "kind": "standard", "company_id": company,
                    "account_id": account, "date": day, "due_date": day + dt.timedelta(days=30), "currency": "eur",
                    "total_gross": Decimal("1200.00"), "amount_due": Decimal("1200.00"), "amount_remaining": Decimal("1200.00"), "version": 1,
                })
                entries.append({"entity": "invoice", "record_id": i + 1, "step": "sent", "on": day, "kind": "auto"})
                if i % 3 == 0:
                    entries.append({"entity": "invoice", "record_id": i + 1, "step": "reminder_1", "on": day + dt.timedelta(days=30), "kind": "auto"})
                if i % 6 == 0:
                    entries.append({"entity": "invoice", "record_id": i + 1, "step": "reminder_2", "on": day + dt.timedelta(days=45), "kind": "auto"})
            conn.execute(invoice.insert(), rows)
            conn.execute(log.insert(), entries)
        if rt.engine.dialect.name == "postgresql":
            conn.execute(text("ANALYZE"))


def run(database_url: str, count: int) -> None:
    spec = load_spec_or_raise(ROOT)
    rt = load_runtime(ROOT, database_url, spec=spec)
    follow_up = follow_up_of(rt.spec, "invoice")
    assert follow_up is not None, "the shipped workflows.yaml follows invoices"
    start = time.perf_counter()
    fill(rt, count)
    print(f"{count:,} open invoices inserted in {time.perf_counter() - start:.1f} s ({rt.engine.dialect.name})")
    with rt.session() as session:
        baseline, counted = _best(lambda: count_followed(rt, session, follow_up))
        # every invoice's next step and date computed by the database, summed up per next step
        # (what a summary needs), so that nothing but the scan itself is timed
        scanned = scan_select(rt, follow_up, TODAY, ordered=False).subquery("scan")
        summary = select(scanned.c.next_idx, func.count(), func.min(scanned.c.next_on), func.max(scanned.c.next_on)).group_by(scanned.c.next_idx)
        in_sql, groups = _best(lambda: session.execute(summary).all())
        full, rows = _best(lambda: session.execute(scan_select(rt, follow_up, TODAY, ordered=False)).all())
        ordered, _ = _best(lambda: session.execute(scan_select(rt, follow_up, TODAY)).all())
        due, due_rows = _best(lambda: session.execute(scan_select(rt, follow_up, TODAY, only_due=True, ordered=False)).all())
    assert counted == count and len(rows) == count, (counted, len(rows))
    print(f"baseline SELECT count(*) of the filter: {baseline * 1000:8.1f} ms ({counted:,} invoices)")
    assert sum(g[1] for g in groups) == count
    print(f"scan in SQL, every next step computed:  {in_sql * 1000:8.1f} ms ({len(groups)} next steps)  ratio {in_sql / baseline:6.1f}")
    print(f"scan, every next step fetched:          {full * 1000:8.1f} ms ({len(rows):,} rows)  ratio {full / baseline:6.1f}")
    print(f"scan, by due date (the dunning screen): {ordered * 1000:8.1f} ms ({len(rows):,} rows)  ratio {ordered / baseline:6.1f}")
    print(f"scan, due steps only (the daily job):   {due * 1000:8.1f} ms ({len(due_rows):,} rows)  ratio {due / baseline:6.1f}")
    target = "met" if in_sql < 0.5 else "NOT met"
    print(f"target < 500 ms for the scan in SQL: {target} (fetching every row into Python: {full * 1000:.0f} ms)")
    rt.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--pg", help="a PostgreSQL server URL (a database of the bench's own is created and dropped)")
    args = parser.parse_args()
    if not args.pg:
        with tempfile.TemporaryDirectory() as tmp:
            run(f"sqlite:///{Path(tmp) / 'bench.db'}", args.count)
        return
    name = f"comptoir_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(make_url(args.pg), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        run(make_url(args.pg).set(database=name).render_as_string(hide_password=False), args.count)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
