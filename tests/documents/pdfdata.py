"""Sample records for the PDF tests, made through the REST API like any client would."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from pypdf import PdfReader

from app.spec.expressions import fixed_clock

SIREN = "732829320"
CLIENT_SIREN = "404833048"
IBAN = "FR7630006000011234567890189"


def parties(client: Any) -> dict[str, int]:
    company = client.post(
        "/api/v1/company",
        json={
            "legal_name": "Berthier Services SAS", "legal_form": "sas", "capital": "10000", "siren": SIREN,
            "siret": "73282932000017", "rcs_city": "Lyon", "vat_number": "FR44732829320",
            "address": "12 quai Saint-Vincent", "postcode": "69001", "city": "Lyon", "email": "factures@berthier.example",
            "bank_profiles": [{"label": "Principal", "bank_name": "Banque Lyonnaise", "iban": IBAN, "bic": "AGRIFRPP", "is_default": True}],
        },
    )
    assert company.status_code == 201, company.text
    account = client.post(
        "/api/v1/account",
        json={
            "name": "Dupont SARL", "type": "client", "siren": CLIENT_SIREN, "vat_number": "FR83404833048",
            "address": "3 rue des Lilas", "postcode": "69003", "city": "Lyon", "email": "compta@dupont.example",
        },
    )
    assert account.status_code == 201, account.text
    contact = client.post("/api/v1/contact", json={"account": account.json()["id"], "first_name": "Jeanne", "last_name": "Dupont"})
    assert contact.status_code == 201, contact.text
    terms = client.post(
        "/api/v1/payment_terms",
        json={"name": "30 % à la commande, solde à 30 jours", "rows": [
            {"percent": "30", "kind": "deposit", "base": "document_date", "days": 0},
            {"percent": "70", "kind": "balance", "base": "document_date", "days": 30},
        ]},
    )
    assert terms.status_code == 201, terms.text
    return {"company": company.json()["id"], "account": account.json()["id"], "contact": contact.json()["id"], "terms": terms.json()["id"]}


WORKED_LINES = [{"description": "Câble", "quantity": "1", "unit_price": "1.24", "vat_rate": "10"}] * 2


def make_document(client: Any, entity: str, ids: dict[str, int], *, lines: list[dict[str, Any]] | None = None,
                  day: dt.date = dt.date(2026, 11, 23), **extra: Any) -> dict[str, Any]:
    body = {"company": ids["company"], "account": ids["account"], "contact": ids["contact"], "lines": lines or WORKED_LINES, **extra}
    with fixed_clock(day):
        made = client.post(f"/api/v1/{entity}", json=body)
    assert made.status_code == 201, made.text
    return dict(made.json())


def validate(client: Any, entity: str, record_id: int) -> dict[str, Any]:
    with fixed_clock(dt.date(2026, 11, 23)):
        done = client.post(f"/api/v1/{entity}/{record_id}/actions/validate")
    assert done.status_code == 200, done.text
    return dict(done.json()["record"])


def pdf_of(client: Any, entity: str, record_id: int, template: str | None = None) -> bytes:
    url = f"/api/v1/{entity}/{record_id}/pdf" + (f"?template={template}" if template else "")
    got = client.get(url)
    assert got.status_code == 200, got.text
    assert got.headers["content-type"] == "application/pdf"
    assert got.content.startswith(b"%PDF-")
    return got.content


def text_of(pdf: bytes) -> str:
    """The text of every page, with the narrow no-break spaces of amounts made plain."""
    reader = PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() for page in reader.pages).replace("\u202f", " ").replace("\xa0", " ")


def pages_of(pdf: bytes) -> list[str]:
    return [page.extract_text().replace("\u202f", " ") for page in PdfReader(io.BytesIO(pdf)).pages]
