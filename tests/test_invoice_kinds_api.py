"""The shipped invoice workflow through the HTTP API: one `validate` numbering each kind in its
own series (effects guarded by `when:`), a monthly pattern that restarts yearly only, and a
deposit invoice billing its percentage of the order."""

from __future__ import annotations

import datetime as dt
from typing import Any

from app.spec.expressions import fixed_clock
from tests.engine.apiclient import api_client, document_parties, run_action

LINE = {"description": "Pose", "quantity": "1", "unit_price": "1000", "vat_rate": "20"}


_parties, _act = document_parties, run_action


def _invoice(client: Any, parties: dict[str, int], **data: Any) -> int:
    created = client.post("/api/v1/invoice", json={**parties, "kind": "standard", "lines": [LINE], **data})
    assert created.status_code == 201, created.text
    return int(created.json()["id"])


def test_deposit_invoice_bills_its_percentage_and_numbers_in_its_series(runtime: Any) -> None:
    client = api_client(runtime)
    parties = _parties(client)
    with fixed_clock(dt.date(2026, 11, 23)):
        order = client.post("/api/v1/order", json={**parties, "deposit_percent": "30", "lines": [LINE]})
        assert order.status_code == 201, order.text
        o = order.json()
        assert (o["total_net"], o["total_vat"], o["total_gross"]) == ("1000.00", "200.00", "1200.00")
        _act(client, "order", o["id"], "validate")
        deposit_id = _act(client, "order", o["id"], "create_deposit")["created"][0]["id"]
        deposit = client.get(f"/api/v1/invoice/{deposit_id}").json()
        assert deposit["kind"] == "deposit" and deposit["deposit_percent"] is not None
        assert (deposit["total_net"], deposit["total_vat"], deposit["total_gross"]) == ("300.00", "60.00", "360.00")
        assert deposit["lines"][0]["total_net"] == "300.00"
        validated = _act(client, "invoice", deposit_id, "validate")["record"]
    assert validated["number"] == "AC2611-0001" and validated["due_date"] == "2026-11-23"
    assert validated["total_gross"] == "360.00"


def test_one_validate_numbers_each_kind_in_its_own_series(runtime: Any) -> None:
    client = api_client(runtime)
    parties = _parties(client)
    with fixed_clock(dt.date(2026, 11, 23)):
        invoice_id = _invoice(client, parties, date="2026-11-23")
        invoice = _act(client, "invoice", invoice_id, "validate")["record"]
        assert (invoice["number"], invoice["due_date"]) == ("FA2611-0001", "2026-12-23")
        credit_id = _act(client, "invoice", invoice_id, "create_credit_note")["created"][0]["id"]
        credit = _act(client, "invoice", credit_id, "validate")["record"]
        # only the credit note's assign_number ran: AV, not FA (whose `when` is false)
        assert (credit["kind"], credit["number"], credit["due_date"]) == ("credit_note", "AV2611-0001", "2026-11-23")
        second = _act(client, "invoice", _invoice(client, parties, date="2026-11-23"), "validate")["record"]
    assert second["number"] == "FA2611-0002"  # the credit note did not move the FA counter


def test_monthly_pattern_counts_on_through_the_year_and_restarts_in_january(runtime: Any) -> None:
    client = api_client(runtime)
    parties = _parties(client)
    numbers = []
    with fixed_clock(dt.date(2027, 1, 10)):
        for day in ("2026-11-20", "2026-12-01", "2027-01-05"):
            numbers.append(_act(client, "invoice", _invoice(client, parties, date=day), "validate")["record"]["number"])
    assert numbers == ["FA2611-0001", "FA2612-0002", "FA2701-0001"]
