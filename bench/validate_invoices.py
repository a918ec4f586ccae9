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
and bumps the counter row under a lock, as the application's numbering does.
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


def run_application(rt: Any, count: int, batch: int) -> tuple[float, list[int]]:
    with rt.session() as session:
        store = Store(rt, session, SYSTEM)
        company = store.create("company", {"legal_name": "Berthier Services SAS"}).id
        account = store.create("account", {"name": "Dupont SARL", "type": "client", "city": "Lyon"}).id
        session.commit()
    ids: list[int] = []
    data = {"company": company, "account": account, "date": DAY, "lines": LINES}
    start = time.perf_counter()
    with fixed_clock(DAY):
        for first in range(0, count, batch):
            size = min(batch, count - first)
            with rt.session() as session:
                store = Store(rt, session, SYSTEM)
                if batch == 1:
                    invoice = store.create("invoice", data)
                    run_transition(store, "invoice", invoice.id, "validate")
                    made = [invoice.id]
                else:
                    made = [obj.id for obj in create_many(store, "invoice", [data] * size)]
                    run_transition_many(store, "invoice", made, "validate")
                session.commit()
            ids.extend(made)
    return time.perf_counter() - start, ids


def written_rows(rt: Any, ids: list[int]) -> dict[str, Any]:
    """What the application wrote for each invoice, to insert again in the baseline."""
    models = rt.models
    invoice, line = models.tables["invoice"], models.tables["invoice_line"]
    with rt.engine.connect() as conn:
        invoices = {r["id"]: dict(r) for r in conn.execute(select(invoice)).mappings()}
        lines: dict[int, list[dict[str, Any]]] = {}
        for r in conn.execute(select(line).order_by(line.c.id)).mappings():
            lines.setdefault(r["invoice_id"], []).append(dict(r))
        logs = {r["record_id"]: dict(r) for r in conn.execute(select(models.log).where(models.log.c.entity == "invoice")).mappings()}
        audits = {r["record_id"]: dict(r) for r in conn.execute(select(models.audit).where(models.audit.c.entity == "invoice")).mappings()}
        base = [dict(r) for r in conn.execute(select(models.tables["company"])).mappings()], [dict(r) for r in conn.execute(select(models.tables["account"])).mappings()]
    return {"invoices": invoices, "lines": lines, "logs": logs, "audits": audits, "base": base, "ids": ids}


def run_baseline(rt: Any, rows: dict[str, Any], batch: int) -> float:
    models = rt.models
    invoice, line, counters = models.tables["invoice"], models.tables["invoice_line"], models.counters
    companies, accounts = rows["base"]
    key = "bench:invoice"
    with rt.engine.begin() as conn:
        conn.execute(insert(models.tables["company"]), companies)
        conn.execute(insert(models.tables["account"]), accounts)
        conn.execute(insert(counters).values(key=key, value=0))
    ids = rows["ids"]
    start = time.perf_counter()
    for first in range(0, len(ids), batch):
        chunk = ids[first : first + batch]
        with rt.engine.begin() as conn:
            value = conn.execute(select(counters.c.value).where(counters.c.key == key).with_for_update()).scalar_one()
            conn.execute(counters.update().where(counters.c.key == key).values(value=value + len(chunk)))
            conn.execute(insert(invoice), [rows["invoices"][i] for i in chunk])
            conn.execute(insert(line), [r for i in chunk for r in rows["lines"][i]])
            conn.execute(insert(models.log), [rows["logs"][i] for i in chunk])
            conn.execute(insert(models.audit), [rows["audits"][i] for i in chunk])
    return time.perf_counter() - start


def bench(kind: str, count: int, pg_url: str | None, batch: int) -> None:
    spec = load_spec_or_raise(ROOT)
    with database(kind, pg_url) as app_url, database(kind, pg_url) as base_url:
        rt = load_runtime(ROOT, app_url, spec=spec)
        settle_memory()  # as `comptoir serve` does once started
        elapsed, ids = run_application(rt, count, batch)
        rows = written_rows(rt, ids)
        sample = rows["invoices"][ids[-1]]
        assert sample["total_gross"] == Decimal("392.16") and sample["number"].startswith("FA"), sample  # the work was done
        rt.engine.dispose()
        baseline_rt = load_runtime(ROOT, base_url, spec=spec)
        settle_memory()
        baseline = run_baseline(baseline_rt, rows, batch)
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
