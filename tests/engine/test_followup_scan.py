"""The follow-up scan: each followed invoice's next step and date, in one SQL statement,
exact for every position in the sequence, with the due-date range and the colour bands."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import event

from app.engine.followup import follow_up_of
from app.engine.followup_scan import count_followed, forecast, scan
from tests.engine.apiclient import api_client
from tests.followup_helpers import action, invoice, log_step, parties

TODAY = dt.date(2026, 12, 10)
D = dt.date


def _scenario(runtime: Any) -> tuple[Any, dict[str, int]]:
    client = api_client(runtime)
    parts = parties(client)
    ids = {  # created in date order: numbers follow dates
        "done": invoice(client, parts, D(2026, 9, 1), D(2026, 10, 1)),
        "draft": invoice(client, parts, D(2026, 9, 1), D(2026, 10, 1), validate=False),
        "written_off": invoice(client, parts, D(2026, 9, 1), D(2026, 10, 1)),
        "second": invoice(client, parts, D(2026, 10, 1), D(2026, 11, 1)),
        "overdue": invoice(client, parts, D(2026, 11, 1), D(2026, 12, 1)),
        "due_soon": invoice(client, parts, D(2026, 11, 15), D(2026, 12, 15), send=True),
        "not_due": invoice(client, parts, D(2026, 11, 20), D(2026, 12, 20)),
    }
    log_step(client, ids["second"], "reminder_1", D(2026, 11, 3), note="appel, promet de payer")
    for step, on in (("reminder_1", D(2026, 10, 1)), ("reminder_2", D(2026, 10, 16)), ("formal_notice", D(2026, 10, 31))):
        log_step(client, ids["done"], step, on)
    action(client, "invoice", ids["written_off"], "abandon")
    return client, ids


def test_next_step_and_date_of_each_invoice(runtime: Any) -> None:
    _, ids = _scenario(runtime)
    follow_up = follow_up_of(runtime.spec, "invoice")
    assert follow_up is not None
    with runtime.session() as session:
        rows = {f.record_id: f for f in scan(runtime, session, follow_up, TODAY, display=True)}
    by_name = {name: rows.get(record_id) for name, record_id in ids.items()}
    assert by_name["draft"] is None and by_name["written_off"] is None  # not followed
    got = {
        name: (f.step.code if f.step else None, f.date, f.last_step.code if f.last_step else None, f.band, f.is_late(TODAY))
        for name, f in by_name.items() if f is not None
    }
    assert got == {
        "not_due": ("reminder_1", D(2026, 12, 20), None, "not_due", False),
        "due_soon": ("reminder_1", D(2026, 12, 15), None, "due_soon", False),  # `sent` is not part of the sequence
        "overdue": ("reminder_1", D(2026, 12, 1), None, "overdue", True),
        "second": ("reminder_2", D(2026, 11, 18), "reminder_1", "overdue", True),  # 15 days after reminder 1
        "done": (None, None, "formal_notice", "overdue", False),
    }
    row = by_name["overdue"]
    assert row is not None and str(row.amount) == "1200.00" and row.client == "Dupont SARL" and str(row.title).startswith("FA")
    # ordered by due date
    assert [f.record_id for f in rows.values()] == [ids[n] for n in ("done", "second", "overdue", "due_soon", "not_due")]


def test_scan_is_one_sql_statement_and_filters_in_sql(runtime: Any) -> None:
    _, ids = _scenario(runtime)
    follow_up = follow_up_of(runtime.spec, "invoice")
    assert follow_up is not None
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    with runtime.session() as session:
        session.connection()  # the session's own connection, opened before counting
        event.listen(runtime.engine, "before_cursor_execute", count)
        try:
            due = scan(runtime, session, follow_up, TODAY, only_due=True)
            ranged = scan(runtime, session, follow_up, TODAY, due_from=D(2026, 11, 1), due_to=D(2026, 12, 1))
        finally:
            event.remove(runtime.engine, "before_cursor_execute", count)
        assert len(statements) == 2
        assert "GROUP BY" in statements[0] and "CASE" in statements[0]
        assert [f.record_id for f in due] == [ids["second"], ids["overdue"]]
        assert [f.record_id for f in ranged] == [ids["second"], ids["overdue"]]
        assert count_followed(runtime, session, follow_up) == 5
        single = forecast(runtime, session, follow_up, ids["second"], TODAY)
        assert single is not None and single.step is not None and single.step.code == "reminder_2"
        assert forecast(runtime, session, follow_up, ids["draft"], TODAY) is None
