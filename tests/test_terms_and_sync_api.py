"""Payment terms on documents (the 100 % rule, due dates from the terms) and "Synchroniser"
(draft lines refreshed from the catalogue), through the HTTP API of the shipped configuration."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from app.spec.expressions import fixed_clock
from app.spec.loader import load_spec
from tests.engine.apiclient import api_client, error_of


def _terms(client: Any, name: str, rows: list[tuple[str, str, int, str | None]]) -> Any:
    return client.post(
        "/api/v1/payment_terms",
        json={
            "name": name,
            "rows": [
                {"position": i, "percent": p, "kind": kind, "days": days, "end_of_month_mode": eom}
                for i, (p, kind, days, eom) in enumerate(rows, start=1)
            ],
        },
    )


def test_payment_terms_must_total_100_percent(runtime: Any) -> None:
    client = api_client(runtime)
    short = _terms(client, "30 + 60", [("30", "deposit", 0, None), ("60", "balance", 30, None)])
    assert short.status_code == 422
    error = error_of(short)
    assert error["field"] == "rows" and "totalisent 90 % au lieu de 100 %" in error["message"]
    assert client.get("/api/v1/payment_terms").json()["total"] == 0  # nothing saved
    ok = _terms(client, "30 + 70", [("30", "deposit", 0, None), ("70", "balance", 90, "days_then_eom")])
    assert ok.status_code == 201, ok.text
    # editing the rows later is checked the same way
    rows = ok.json()["rows"]
    broken = client.patch(
        f"/api/v1/payment_terms/{ok.json()['id']}",
        json={"rows": [{"id": rows[0]["id"], "percent": "40"}, {"id": rows[1]["id"]}]},
    )
    assert broken.status_code == 422 and "110 %" in error_of(broken)["message"]
    kept = client.get(f"/api/v1/payment_terms/{ok.json()['id']}").json()["rows"]
    assert [Decimal(r["percent"]) for r in kept] == [30, 70]


@pytest.mark.parametrize(
    ("rows", "invoice_date", "due"),
    [
        # 30 % at signature, 70 % at 90 days end of month: the balance gives the due date
        ([("30", "deposit", 0, None), ("70", "balance", 90, "days_then_eom")], "2026-01-10", "2026-04-30"),
        # "45 jours fin de mois", both readings
        ([("100", "balance", 45, "days_then_eom")], "2026-01-10", "2026-02-28"),
        ([("100", "balance", 45, "eom_then_days")], "2026-01-10", "2026-03-17"),
        ([("100", "balance", 30, None)], "2026-12-15", "2027-01-14"),
    ],
)
def test_invoice_due_date_follows_the_clients_terms(
    runtime: Any, rows: list[tuple[str, str, int, str | None]], invoice_date: str, due: str
) -> None:
    client = api_client(runtime)
    terms = _terms(client, "conditions", rows).json()["id"]
    company = client.post("/api/v1/company", json={"legal_name": "Berthier Services SAS"}).json()["id"]
    account = client.post("/api/v1/account", json={"name": "Dupont SARL", "type": "client", "payment_terms": terms}).json()["id"]
    created = client.post(
        "/api/v1/invoice",
        json={
            "company": company, "account": account, "date": invoice_date,
            "lines": [{"description": "Entretien chaudière", "quantity": "1", "unit_price": "150", "vat_rate": "10"}],
        },
    )
    assert created.status_code == 201, created.text
    invoice = created.json()
    assert invoice["payment_terms"] == terms  # copied from the client
    with fixed_clock(dt.date.fromisoformat(invoice_date)):
        validated = client.post(f"/api/v1/invoice/{invoice['id']}/actions/validate")
    assert validated.status_code == 200, validated.text
    assert validated.json()["record"]["due_date"] == due


def test_a_due_date_typed_by_the_user_is_kept(runtime: Any) -> None:
    client = api_client(runtime)
    terms = _terms(client, "60 jours", [("100", "balance", 60, None)]).json()["id"]
    company = client.post("/api/v1/company", json={"legal_name": "Berthier Services SAS"}).json()["id"]
    account = client.post("/api/v1/account", json={"name": "Dupont SARL", "type": "client"}).json()["id"]
    invoice = client.post(
        "/api/v1/invoice",
        json={
            "company": company, "account": account, "date": "2026-11-02", "payment_terms": terms, "due_date": "2026-11-20",
            "lines": [{"description": "Dépannage", "quantity": "1", "unit_price": "80", "vat_rate": "20"}],
        },
    ).json()
    with fixed_clock(dt.date(2026, 11, 2)):
        done = client.post(f"/api/v1/invoice/{invoice['id']}/actions/validate")
    assert done.status_code == 200 and done.json()["record"]["due_date"] == "2026-11-20"


def test_synchronise_refreshes_draft_lines_from_the_catalogue(runtime: Any) -> None:
    client = api_client(runtime)
    company = client.post("/api/v1/company", json={"legal_name": "Berthier Services SAS"}).json()["id"]
    account = client.post("/api/v1/account", json={"name": "Dupont SARL", "type": "client"}).json()["id"]
    product = client.post(
        "/api/v1/product",
        json={"code": "ENT-01", "name": "Entretien annuel", "sale_price": "100.00", "cost_price": "60.00", "vat_rate": "10"},
    )
    assert product.status_code == 201, product.text
    pid = product.json()["id"]
    quote = client.post(
        "/api/v1/quote",
        json={
            "company": company, "account": account,
            "lines": [
                {"product": pid, "description": "Entretien annuel", "quantity": "2", "unit_price": "100", "vat_rate": "10"},
                {"kind": "free", "description": "Déplacement", "quantity": "1", "unit_price": "35", "vat_rate": "20"},
            ],
        },
    ).json()
    assert quote["total_net"] == "235.00"
    changed = client.patch(f"/api/v1/product/{pid}", json={"sale_price": "112.50", "vat_rate": "5.5", "cost_price": "70.00"})
    assert changed.status_code == 200, changed.text
    synced = client.post(f"/api/v1/quote/{quote['id']}/actions/synchronise")
    assert synced.status_code == 200, synced.text
    again = client.get(f"/api/v1/quote/{quote['id']}").json()
    item, free = again["lines"]
    assert [Decimal(item[k]) for k in ("unit_price", "vat_rate", "cost_price")] == [Decimal("112.5"), Decimal("5.5"), 70]
    assert [Decimal(free[k]) for k in ("unit_price", "vat_rate")] == [35, 20]  # a free line is left alone
    # 2 × 112.50 = 225.00 at 5.5 % (12.38) + 35.00 at 20 % (7.00)
    assert (again["total_net"], again["total_vat"], again["total_gross"]) == ("260.00", "19.38", "279.38")
    assert again["status"] == "draft"
    # once validated, the lines no longer follow the catalogue
    assert client.post(f"/api/v1/quote/{quote['id']}/actions/validate").status_code == 200
    refused = client.post(f"/api/v1/quote/{quote['id']}/actions/synchronise")
    assert refused.status_code == 409 and "back_to_draft" in refused.json()["error"]["allowed"]


def test_loader_names_a_wrong_field_of_the_lines(config_copy: Path) -> None:
    workflows = config_copy / "workflows.yaml"
    text = workflows.read_text(encoding="utf-8")
    assert text.count("fields: {unit_price: sale_price,") == 3
    text = text.replace("link: product\n", "link: produit\n", 1)
    text = text.replace("fields: {unit_price: sale_price,", "fields: {unit_prise: sale_price,", 1)
    text = text.replace("fields: {unit_prise: sale_price, vat_rate: vat_rate, cost_price: cost_price}",
                        "fields: {unit_prise: sale_price, vat_rate: vat_rate, cost_price: cost_price}", 1)
    workflows.write_text(text, encoding="utf-8")
    lines = text.split("\n")
    link_line = next(i for i, line in enumerate(lines, start=1) if "link: produit" in line)
    field_line = next(i for i, line in enumerate(lines, start=1) if "unit_prise" in line)
    spec, errors = load_spec(config_copy)
    assert spec is None
    found = {(e.location.file, e.location.line, e.message) for e in errors}
    messages = "\n".join(str(e) for e in errors)
    assert any(line == link_line and "unknown field 'produit' of 'quote_line'" in m and "did you mean 'product'" in m
               for _, line, m in found), messages
    assert any(line == field_line and "unknown field 'unit_prise' of 'quote_line'" in m for _, line, m in found), messages
    assert all(file == "workflows.yaml" for file, _, _ in found), messages
