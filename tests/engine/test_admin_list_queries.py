"""The SQL behind a generated list page: counts without ORDER BY, index-friendly sorting."""

from __future__ import annotations

from typing import Any, Iterator

import pytest
from sqlalchemy import event

from app.engine.permissions import SYSTEM
from app.engine.store import Store
from tests.engine.test_admin import logged_in


@pytest.fixture
def statements(runtime: Any) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(" ".join(statement.split()).lower())

    event.listen(runtime.engine, "before_cursor_execute", record)
    yield seen
    event.remove(runtime.engine, "before_cursor_execute", record)


def test_list_count_has_no_order_by_and_sort_follows_direction(runtime: Any, statements: list[str]) -> None:
    with runtime.session() as s:
        for name in ("Alpha", "Bravo", "Charlie"):
            Store(runtime, s, SYSTEM).create("account", {"name": name, "type": "client"})
        s.commit()
    client = logged_in(runtime)
    statements.clear()
    page = client.get("/admin/account/list?type=client&sortBy=name&sort=desc")
    assert page.status_code == 200
    assert page.text.index("Charlie") < page.text.index("Bravo") < page.text.index("Alpha")
    counts = [q for q in statements if "count(" in q and "from account" in q.replace('"', "")]
    assert counts, statements
    assert all("order by" not in q for q in counts)
    orders = [
        q.split("order by", 1)[1].split(" limit")[0].replace('"', "").replace("account.", "").strip()
        for q in statements
        if q.startswith("select") and " limit" in q and "order by" in q and "from account" in q.replace('"', "")
    ]
    assert "name desc, id desc" in orders, statements


def test_distinct_filter_values_by_loose_index_scan(runtime: Any) -> None:
    from sqlalchemy import select

    from app.engine.admin.filters import distinct_values

    cities = ["Lyon", "Brest", "", None, "Lyon", "Annecy", "Brest", "Zurich"]
    with runtime.session() as s:
        for i, city in enumerate(cities):
            Store(runtime, s, SYSTEM).create("account", {"name": f"A{i}", "city": city})
        s.commit()
        column = runtime.models.tables["account"].c.city
        expected = sorted({c for c in cities if c})
        assert distinct_values(s, column, 10) == expected == list(
            s.scalars(select(column).where(column.is_not(None), column != "").distinct().order_by(column))
        )
        assert distinct_values(s, column, 2) == ["Annecy", "Brest"]
