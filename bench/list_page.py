"""Generated admin list page against a hand-written sqladmin ModelView on the same table.

    python bench/list_page.py                        # 100k accounts on SQLite
    python bench/list_page.py --pg postgresql+psycopg://postgres@127.0.0.1:5432/test --pg-rows 1000000

For each case (first page, a filtered page, page 1000, sorted) it prints the median time of
our generated page and of the baseline measured in the same run, and their ratio (target ≤ 1.2).
The baseline is a plain sqladmin ModelView with the same columns, filter and sort, no login.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any, Callable

from sqlalchemy import Column, DateTime, Integer, String, create_engine, insert, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase
from starlette.applications import Starlette
from starlette.testclient import TestClient

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.web.app import create_app, load_runtime  # noqa: E402

ENTITY = "account"
CITIES = ["Lyon", "Paris", "Marseille", "Nantes", "Lille", "Brest", "Dijon", "Tours", "Metz", "Pau"]
TYPES = ["prospect", "client", "other"]
CASES = {
    "first page": "",
    "filtered": "?type=client",
    "page 1000": "?page=1000",
    "sorted": "?sortBy=name&sort=desc",
}


def fill(rt: Any, rows: int) -> None:
    table = rt.models.tables[ENTITY]
    now = dt.datetime(2026, 1, 1)
    batch: list[dict[str, Any]] = []
    with rt.engine.begin() as conn:
        for i in range(rows):
            batch.append(
                {
                    "code": f"CU{i:08d}",
                    "name": f"Société {uuid.UUID(int=i * 7919 + 17).hex[:10]}",
                    "type": TYPES[i % 3],
                    "city": CITIES[i % len(CITIES)],
                    "created_at": now,
                    "updated_at": now,
                    "version": 1,
                }
            )
            if len(batch) == 10_000:
                conn.execute(insert(table), batch)
                batch = []
        if batch:
            conn.execute(insert(table), batch)
        if rt.engine.dialect.name == "postgresql":
            conn.execute(text(f'ANALYZE "{ENTITY}"'))


class Base(DeclarativeBase):
    pass


class Account(Base):
    __tablename__ = ENTITY
    id = Column(Integer, primary_key=True)
    code = Column(String(20))
    name = Column(String(255))
    type = Column(String(50))
    city = Column(String(255))
    assigned_user_id = Column(Integer)
    created_at = Column(DateTime)


def baseline_app(url: str) -> Starlette:
    from sqladmin import Admin, ModelView
    from sqladmin.filters import AllUniqueStringValuesFilter

    app = Starlette()
    engine = create_engine(url)
    admin = Admin(app, engine)

    class AccountAdmin(ModelView, model=Account):
        identity = ENTITY
        column_list = [Account.code, Account.name, Account.type, Account.city, Account.assigned_user_id]
        column_searchable_list = [Account.name, Account.code]
        column_sortable_list = [Account.code, Account.name, Account.type, Account.city]
        column_default_sort = [(Account.name, False)]
        column_filters = [AllUniqueStringValuesFilter(Account.type)]
        page_size = 25

    admin.add_view(AccountAdmin)
    return app


def logged_in_client(rt: Any) -> TestClient:
    from app.engine.permissions import SYSTEM
    from app.engine.store import Store

    with rt.session() as s:
        Store(rt, s, SYSTEM).create("user", {"login": "bench", "groups": ["admin"], "password": "bench-password"})
        s.commit()
    client = TestClient(create_app(runtime=rt, key="bench"))
    page = client.get("/admin/login").text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', page
    )
    data = {"username": "bench", "password": "bench-password"}
    if token:
        data["csrf_token"] = token.group(1)
    client.post("/admin/login", data=data)
    check = client.get(f"/admin/{ENTITY}/list")
    if check.status_code != 200 or "login" in str(check.url):
        raise SystemExit(f"could not log in to the generated admin: {check.status_code} {check.url}")
    return client


def median_ms(get: Callable[[], Any], repeat: int) -> float:
    get()  # warm-up
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        response = get()
        times.append((time.perf_counter() - start) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"{response.url} answered {response.status_code}")
    return statistics.median(times)


def run(url: str, rows: int, repeat: int, label: str) -> list[tuple[str, float, float]]:
    rt = load_runtime(ROOT, url)
    print(f"{label}: filling {rows:,} accounts…", flush=True)
    fill(rt, rows)
    ours = logged_in_client(rt)
    theirs = TestClient(baseline_app(url))
    results = []
    for case, query in CASES.items():
        path = f"/admin/{ENTITY}/list{query}"
        mine = median_ms(lambda: ours.get(path), repeat)
        base = median_ms(lambda: theirs.get(path), repeat)
        results.append((case, mine, base))
        print(f"  {case:<12} generated {mine:8.1f} ms   sqladmin {base:8.1f} ms   ratio {mine / base:5.2f}", flush=True)
    rt.engine.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--pg", default=os.environ.get("COMPTOIR_BENCH_PG_URL"), help="PostgreSQL server URL")
    parser.add_argument("--pg-rows", type=int, default=1_000_000)
    args = parser.parse_args()
    os.environ.setdefault("COMPTOIR_SECRET_KEY", "bench")
    with tempfile.TemporaryDirectory() as tmp:
        run(f"sqlite:///{tmp}/bench.db", args.rows, args.repeat, "SQLite")
    if args.pg:
        name = f"comptoir_bench_{uuid.uuid4().hex[:8]}"
        server = create_engine(args.pg, isolation_level="AUTOCOMMIT")
        with server.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            url = make_url(args.pg).set(database=name).render_as_string(hide_password=False)
            run(url, args.pg_rows, args.repeat, "PostgreSQL")
        finally:
            with server.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
