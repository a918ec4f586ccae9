"""`insert_rows` (app/engine/bulk.py) hands the driver what Core's multi-row insert hands it:
the same statement and the same parameters, for every table and column type of the shipped
configuration, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Iterator

import pytest
from sqlalchemy import JSON, Boolean, Date, DateTime, Integer, Numeric, String, Table, Text, event, insert
from sqlalchemy.exc import IntegrityError

from app.engine.bulk import insert_rows
from app.engine.coltypes import ExactDecimal


class _Sent(Exception):
    """Raised where the driver would be called: what it would get is captured, nothing is run."""


def _value(column: Any) -> Any:
    kind = column.type
    if isinstance(kind, ExactDecimal):
        return Decimal("1234.56785")  # more decimals than any scale: each type rounds its own way
    if isinstance(kind, Boolean):
        return True
    if isinstance(kind, DateTime):
        return dt.datetime(2026, 2, 28, 13, 45, 7, 123456)
    if isinstance(kind, Date):
        return dt.date(2026, 2, 28)
    if isinstance(kind, Integer):
        return 42
    if isinstance(kind, Numeric):
        return Decimal("12.5")
    if isinstance(kind, JSON):
        return {"fr": "Échéance « dépassée »", "n": [1, 2.5, None]}
    if isinstance(kind, (String, Text)):
        return "Éloïse d'Arc – 20 %"[: kind.length or None]
    pytest.fail(f"{column.table.name}.{column.key}: no sample value for {kind!r}")


def _plain(parameters: Any) -> Any:
    """Parameters comparable by value (psycopg's JSON wrappers compare by identity)."""

    def plain(value: Any) -> Any:
        return ("json", value.obj) if type(value).__name__ in ("Json", "Jsonb") else value

    if isinstance(parameters, dict):
        return {k: plain(v) for k, v in parameters.items()}
    return tuple(plain(v) for v in parameters)


@pytest.fixture
def sent(runtime: Any) -> Iterator[list[tuple[str, Any]]]:
    captured: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        rows = parameters if executemany else [parameters]
        captured.append((statement, [_plain(p) for p in rows]))
        raise _Sent

    event.listen(runtime.engine, "before_cursor_execute", capture)
    yield captured
    event.remove(runtime.engine, "before_cursor_execute", capture)


def _both(runtime: Any, sent: list[tuple[str, Any]], table: Table, columns: list[str], rows: list[dict[str, Any]]) -> tuple[Any, Any]:
    with runtime.session() as session:
        with pytest.raises(_Sent):
            session.connection().execute(insert(table), [{k: row[k] for k in columns} for row in rows])
        with pytest.raises(_Sent):
            insert_rows(session, table, columns, rows)
    core, ours = sent[-2:]
    return core, ours


def test_every_table_and_column_type_is_sent_as_core_sends_it(runtime: Any, sent: list[tuple[str, Any]]) -> None:
    tables = list(runtime.models.tables.values()) + [runtime.models.log, runtime.models.audit]
    assert len(tables) > 30
    for table in tables:
        columns = [c.key for c in table.columns]
        full = {c.key: _value(c) for c in table.columns}
        empty = {c.key: (None if c.nullable else full[c.key]) for c in table.columns}
        rows = [full, empty, {**full, "id": 43}]
        core, ours = _both(runtime, sent, table, columns, rows)
        assert ours == core, table.name


def test_columns_left_out_get_their_default_as_from_core(runtime: Any) -> None:
    """The log's `at` (a function, called for each row) and a record's `version` (a value)."""
    from app.engine.models import utcnow

    log = runtime.models.log
    row = {"entity": "invoice", "record_id": 1, "login": "marie", "transition": "validate", "from_state": "draft", "to_state": "validated", "message": {"fr": "é", "en": "e"}}
    before = utcnow()
    with runtime.session() as session:
        connection = session.connection()
        connection.execute(insert(log), [row, {**row, "record_id": 2}])
        insert_rows(session, log, list(row), [{**row, "record_id": 3}, {**row, "record_id": 4}])
        stored = connection.execute(log.select().order_by(log.c.record_id)).mappings().all()
        assert [r["record_id"] for r in stored] == [1, 2, 3, 4]
        assert all(before <= r["at"] <= utcnow() for r in stored)
        alike = [{k: v for k, v in r.items() if k not in ("id", "at", "record_id")} for r in stored]
        assert alike == [alike[0]] * 4

        table = runtime.models.tables["account"]
        stamp = dt.datetime(2026, 1, 2)
        insert_rows(session, table, ["id", "name", "type", "created_at", "updated_at"], [{"id": 7, "name": "Dupont SARL", "type": "client", "created_at": stamp, "updated_at": stamp}])
        assert connection.execute(table.select().where(table.c.id == 7)).mappings().one()["version"] == 1
        session.rollback()


def test_rows_are_inserted_and_refusals_raise_as_from_core(runtime: Any) -> None:
    table = runtime.models.tables["account"]
    stamp = dt.datetime(2026, 12, 1, 9, 30)
    rows = [{"id": i, "name": f"Client {i}", "type": "client", "credit_limit": Decimal("1500.50"), "created_at": stamp, "updated_at": stamp} for i in (5, 6)]
    with runtime.session() as session:
        insert_rows(session, table, list(rows[0]), rows)
        stored = session.connection().execute(table.select().where(table.c.id.in_([5, 6])).order_by(table.c.id)).mappings().all()
        assert [(r["name"], r["credit_limit"], r["created_at"], r["version"]) for r in stored] == [
            ("Client 5", Decimal("1500.50"), stamp, 1),
            ("Client 6", Decimal("1500.50"), stamp, 1),
        ]
        with pytest.raises(IntegrityError):
            insert_rows(session, table, list(rows[0]), rows[:1])  # the same id again
        session.rollback()
