"""Helpers of the follow-up tests: invoices through the API at a given date and due date."""

from __future__ import annotations

import datetime as dt
from typing import Any

from app.spec.expressions import fixed_clock

LINE = {"description": "Pose", "quantity": "1", "unit_price": "1000", "vat_rate": "20"}  # 1 200,00 TTC


def parties(client: Any, email: str | None = "compta@dupont.fr", contact_email: str | None = None) -> dict[str, int]:
    company = client.post("/api/v1/company", json={"legal_name": "Berthier Services SAS"}).json()["id"]
    created = client.post("/api/v1/account", json={"name": "Dupont SARL", "type": "client", "email": email})
    assert created.status_code == 201, created.text
    account = int(created.json()["id"])
    result = {"company": company, "account": account}
    if contact_email is not None:
        contact = client.post("/api/v1/contact", json={"account": account, "last_name": "Martin", "first_name": "Claire", "email": contact_email})
        assert contact.status_code == 201, contact.text
        result["contact"] = int(contact.json()["id"])
    return result


def action(client: Any, entity: str, record_id: int, name: str) -> dict[str, Any]:
    done = client.post(f"/api/v1/{entity}/{record_id}/actions/{name}")
    assert done.status_code == 200, done.text
    return dict(done.json())


def invoice(client: Any, parts: dict[str, int], date: dt.date, due: dt.date, *, validate: bool = True, send: bool = False) -> int:
    with fixed_clock(date):
        created = client.post("/api/v1/invoice", json={**parts, "kind": "standard", "date": str(date), "due_date": str(due), "lines": [LINE]})
        assert created.status_code == 201, created.text
        invoice_id = int(created.json()["id"])
        if validate:
            action(client, "invoice", invoice_id, "validate")
        if send:
            action(client, "invoice", invoice_id, "send")
    return invoice_id


def log_step(client: Any, invoice_id: int, step: str, on: dt.date, note: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"step": step, "date": str(on)}
    if note:
        body["note"] = note
    done = client.post(f"/api/v1/invoice/{invoice_id}/follow-up", json=body)
    assert done.status_code == 201, done.text
    return dict(done.json())


def pay(client: Any, account: int, invoice_id: int, amount: str, on: dt.date) -> None:
    with fixed_clock(on):
        created = client.post("/api/v1/payment", json={"account": account, "date": str(on), "amount": amount, "invoice": invoice_id, "mode": "transfer"})
        assert created.status_code == 201, created.text
        action(client, "payment", int(created.json()["id"]), "validate")
