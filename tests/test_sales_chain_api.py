"""The shipped sales chain through the HTTP API: quote → order → invoice, exact totals,
rules on documents, gapless numbers, locked invoices and the audit log."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import text

from app.engine.audit import verify
from app.spec.expressions import fixed_clock
from tests.engine.apiclient import api_client, error_of


def _setup(client: Any) -> dict[str, int]:
    company = client.post("/api/v1/company", json={"legal_name": "Berthier Services SAS"}).json()["id"]
    dupont = client.post(
        "/api/v1/account", json={"name": "Dupont SARL", "type": "client", "address": "3 rue des Lilas", "postcode": "69003", "city": "Lyon"}
    ).json()["id"]
    martin = client.post("/api/v1/account", json={"name": "Martin SA", "type": "client"}).json()["id"]
    paul = client.post("/api/v1/contact", json={"account": martin, "last_name": "Martin", "first_name": "Paul"}).json()["id"]
    jeanne = client.post("/api/v1/contact", json={"account": dupont, "last_name": "Dupont", "first_name": "Jeanne"}).json()["id"]
    return {"company": company, "dupont": dupont, "martin": martin, "paul": paul, "jeanne": jeanne}


def test_quote_to_invoice_with_exact_totals_rules_and_lock(runtime: Any) -> None:
    client = api_client(runtime)
    ids = _setup(client)
    lines = [{"description": "Câble", "quantity": "1", "unit_price": "1.24", "vat_rate": "10"}] * 2
    # the contact must belong to the client
    refused = client.post(
        "/api/v1/quote", json={"company": ids["company"], "account": ids["dupont"], "contact": ids["paul"], "lines": lines}
    )
    assert refused.status_code == 422 and error_of(refused)["field"] == "contact"
    with fixed_clock(dt.date(2026, 11, 23)):
        quote = client.post(
            "/api/v1/quote", json={"company": ids["company"], "account": ids["dupont"], "contact": ids["jeanne"], "lines": lines}
        )
    assert quote.status_code == 201, quote.text
    q = quote.json()
    assert (q["total_net"], q["total_vat"], q["total_gross"]) == ("2.48", "0.25", "2.73")
    assert q["billing_address"] == "3 rue des Lilas" and q["billing_city"] == "Lyon"  # filled from the client
    assert q["status"] == "draft" and not q["number"]
    # the client and the currency are frozen once created
    moved = client.patch(f"/api/v1/quote/{q['id']}", json={"account": ids["martin"]})
    assert moved.status_code == 422 and error_of(moved)["field"] == "account"
    # the status only moves through actions
    assert client.patch(f"/api/v1/quote/{q['id']}", json={"status": "accepted"}).status_code in (409, 422)
    wrong = client.post(f"/api/v1/quote/{q['id']}/actions/accept")
    assert wrong.status_code == 409 and "validate" in wrong.json()["error"]["allowed"]
    for action in ("validate", "send", "accept"):
        done = client.post(f"/api/v1/quote/{q['id']}/actions/{action}")
        assert done.status_code == 200, done.text
    converted = client.post(f"/api/v1/quote/{q['id']}/actions/convert_to_invoice")
    assert converted.status_code == 200, converted.text
    invoice_id = converted.json()["created"][0]["id"]
    invoice = client.get(f"/api/v1/invoice/{invoice_id}").json()
    assert invoice["total_gross"] == "2.73" and len(invoice["lines"]) == 2
    assert any(link["entity"] == "quote" for link in invoice["links"])
    validated = client.post(f"/api/v1/invoice/{invoice_id}/actions/validate")
    assert validated.status_code == 200, validated.text
    number = validated.json()["record"]["number"]
    assert number.startswith("FA")
    # a validated invoice cannot change, nor be deleted
    assert client.patch(f"/api/v1/invoice/{invoice_id}", json={"title": "autre"}).status_code == 409
    assert client.delete(f"/api/v1/invoice/{invoice_id}").status_code == 409
    assert verify(runtime).ok
    # a change behind the app's back is found by the audit
    with runtime.engine.begin() as conn:
        conn.execute(text("UPDATE invoice SET total_gross = total_gross + 1 WHERE id = :id"), {"id": invoice_id})
    report = verify(runtime)
    assert not report.ok and "total_gross" in str(report)
