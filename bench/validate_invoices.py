"""Creating and validating invoices through the application against plain SQLAlchemy Core
inserts of the same rows, in the same run.

    python bench/validate_invoices.py                       # 10,000 invoices on SQLite
    python bench/validate_invoices.py --count 2000 --pg postgresql+psycopg://postgres@127.0.0.1:5432/test

Application: for each batch of invoices (--batch, 1,000 by default), one transaction that
creates them with 5 lines each through the Store (`create_many`: parsing, defaults, fill_from,
EN 16931 totals) and runs their `validate` transition (`run_transition_many`: row locks,
condition and effects of each, gapless numbers from a locked counter, due dates, record log,
hash-chained audit entries) — what `POST /api/v1/invoice/batch` and
`POST /api/v1/invoice/actions/validate` do. `--batch 1` is one transaction per invoice
(create, then validate), as the admin's forms do.
Baseline: a fresh database of the same schema where, for each batch, one transaction inserts
the very rows the application wrote (invoices, lines, log entries, audit entries) with Core
and bumps the counter row under a lock, as the application's numbering does. Each batch of
the baseline runs right after the application's (the rows read back between them are not
timed), so that both are measured at the same moments of the machine's load.
It prints invoices/s of both and the ratio application / baseline (targets: ≥ 2,000
invoices/s on SQLite, ratio ≤ 3).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterator

from sqlalchemy import create_engine, insert, select, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.engine.batch import create_many, run_transition_many  # noqa: E402
from app.engine.permissions import SYSTEM  # noqa: E402
from app.engine.runtime import settle_memory  # noqa: E402
from app.engine.store import Store  # noqa: E402
from app.engine.workflow import run_transition  # noqa: E402
from app.spec.expressions import fixed_clock  # noqa: E402
from app.spec.loader import load_spec_or_raise  # noqa: E402
from app.web.app import load_runtime  # noqa: E402

LINES = [
    {"description": "Entretien chaudière gaz", "quantity": "1", "unit_price": "149.90", "vat_rate": "10"},
    {"description": "Pièces détachées", "quantity": "3", "unit_price": "12.45", "vat_rate": "20"},
    {"description": "Déplacement", "quantity": "1", "unit_price": "35", "vat_rate": "20", "discount_percent": "10"},
    {"description": "Ramonage", "quantity": "2", "unit_price": "0.99", "vat_rate": "5.5"},
    {"description": "Contrat annuel (mensuel × 12)", "quantity": "1", "unit_factor": "12", "unit_price": "9.90", "vat_rate": "20"},
]
DAY = dt.date(2026, 12, 1)


@contextmanager
def database(kind: str, pg_url: str | None) -> Iterator[str]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite:///{Path(tmp) / 'bench.db'}"
        return
    assert pg_url
    name = f"comptoir_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(pg_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def setup_application(rt: Any) -> dict[str, Any]:
    """The company and client the invoices are for: what each invoice is created with."""
    with rt.session() as session:
        store = Store(rt, session, SYSTEM)
        company = store.create("company", {"legal_name": "Berthier Services SAS"}).id
        account = store.create("account", {"name": "Dupont SARL", "type": "client", "city": "Lyon"}).id
        session.commit()
    return {"company": company, "account": account, "date": DAY, "lines": LINES}


def application_batch(rt: Any, data: dict[str, Any], size: int) -> list[int]:
    """One transaction: `size` invoices created then validated (one by one when size is 1)."""
    with fixed_clock(DAY), rt.session() as session:
        store = Store(rt, session, SYSTEM)
        if size == 1:
            invoice = store.create("invoice", data)
            run_transition(store, "invoice", invoice.id, "validate")
            made = [invoice.id]
        else:
            made = [obj.id for obj in create_many(store, "invoice", [data] * size)]
            run_transition_many(store, "invoice", made, "validate")
        session.commit()
    return made


def written_rows(rt: Any, ids: list[int]) -> dict[str, list[dict[str, Any]]]:
    """What the application wrote for these invoices, to insert again in the baseline."""
    models = rt.models
    invoice, line = models.tables["invoice"], models.tables["invoice_line"]
    with rt.engine.connect() as conn:
        return {
            "invoices": [dict(r) for r in conn.execute(select(invoice).where(invoice.c.id.in_(ids)).order_by(invoice.c.id)).mappings()],
            "lines": [dict(r) for r in conn.execute(select(line).where(line.c.invoice_id.in_(ids)).order_by(line.c.id)).mappings()],
            "logs": [
                dict(r)
                for r in conn.execute(
                    select(models.log).where(models.log.c.entity == "invoice", models.log.c.record_id.in_(ids)).order_by(models.log.c.id)
                ).mappings()
            ],
            "audits": [
                dict(r)
                for r in conn.execute(
                    select(models.audit).where(models.audit.c.entity == "invoice", models.audit.c.record_id.in_(ids)).order_by(models.audit.c.id)
                ).mappings()
            ],
        }


COUNTER = "bench:invoice"


def setup_baseline(rt: Any, app_rt: Any) -> None:
    """The same company and client as the application's, and a counter row."""
    models = rt.models
    with app_rt.engine.connect() as source, rt.engine.begin() as conn:
        for name in ("company", "account"):
            conn.execute(insert(models.tables[name]), [dict(r) for r in source.execute(select(app_rt.models.tables[name])).mappings()])
        conn.execute(insert(models.counters).values(key=COUNTER, value=0))


def baseline_batch(rt: Any, rows: dict[str, list[dict[str, Any]]]) -> None:
    """One transaction: the counter bumped under a lock, then the rows inserted by Core."""
    models = rt.models
    counters = models.counters
    with rt.engine.begin() as conn:
        value = conn.execute(select(counters.c.value).where(counters.c.key == COUNTER).with_for_update()).scalar_one()
        conn.execute(counters.update().where(counters.c.key == COUNTER).values(value=value + len(rows["invoices"])))
        conn.execute(insert(models.tables["invoice"]), rows["invoices"])
        conn.execute(insert(models.tables["invoice_line"]), rows["lines"])
        conn.execute(insert(models.log), rows["logs"])
        conn.execute(insert(models.audit), rows["audits"])


def bench(kind: str, count: int, pg_url: str | None, batch: int) -> None:
    spec = load_spec_or_raise(ROOT)
    with database(kind, pg_url) as app_url, database(kind, pg_url) as base_url:
        rt = load_runtime(ROOT, app_url, spec=spec)
        baseline_rt = load_runtime(ROOT, base_url, spec=spec)
        settle_memory()  # as `comptoir serve` does once started
        data = setup_application(rt)
        setup_baseline(baseline_rt, rt)
        # Each batch of the application, then the same rows by the baseline: both are measured
        # at the same moments, so that the machine's own ups and downs weigh on both alike.
        elapsed = baseline = 0.0
        last: list[int] = []
        for first in range(0, count, batch):
            size = min(batch, count - first)
            start = time.perf_counter()
            last = application_batch(rt, data, size)
            elapsed += time.perf_counter() - start
            rows = written_rows(rt, last)
            start = time.perf_counter()
            baseline_batch(baseline_rt, rows)
            baseline += time.perf_counter() - start
        sample = written_rows(rt, last[-1:])["invoices"][0]
        assert sample["total_gross"] == Decimal("392.16") and sample["number"].startswith("FA"), sample  # the work was done
        rt.engine.dispose()
        baseline_rt.engine.dispose()
    print(
        f"{kind:10} {count} invoices × 5 lines, {batch} per transaction: application {count / elapsed:8.0f} invoices/s ({elapsed:6.1f} s), "
        f"Core baseline {count / baseline:8.0f} invoices/s ({baseline:6.1f} s), ratio {elapsed / baseline:5.2f} "
        "(targets: ≥ 2000/s on SQLite, ratio ≤ 3)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=1_000, help="invoices per transaction (1: one at a time)")
    parser.add_argument("--pg", metavar="URL", help="also on this PostgreSQL server (a database of its own is created)")
    args = parser.parse_args()
    bench("sqlite", args.count, None, args.batch)
    if args.pg:
        bench("postgresql", args.count, args.pg, args.batch)


if __name__ == "__main__":
    main()
