"""Every printable template, chosen by kind or by name (?template=NAME), the `pdf:` YAML
section's checks, a configurator's new template, and a stored PDF that a template change
leaves alone."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Callable

import pytest

from app.spec.loader import load_spec
from tests.documents.pdfdata import make_document, parties, pdf_of, text_of, validate
from tests.engine.apiclient import api_client, error_of


@pytest.fixture(autouse=True)
def files_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "files"
    monkeypatch.setenv("COMPTOIR_FILES_DIR", str(folder))
    return folder


def flat(pdf: bytes) -> str:
    return re.sub(r"\s+", " ", text_of(pdf))


def _act(client: Any, entity: str, record_id: int, action: str) -> dict[str, Any]:
    done = client.post(f"/api/v1/{entity}/{record_id}/actions/{action}")
    assert done.status_code == 200, done.text
    return dict(done.json())


def test_each_kind_prints_with_its_template(runtime: Any) -> None:
    client = api_client(runtime)
    ids = parties(client)
    quote = make_document(client, "quote", ids, validity_date="2026-12-23", payment_terms=ids["terms"])
    text = flat(pdf_of(client, "quote", quote["id"]))
    assert "Devis (brouillon)" in text and "VALABLE JUSQU'AU 23/12/2026" in text and "Bon pour accord" in text
    assert "SPECIMEN" in text and "Total TTC 2,73 €" in text and "ÉCHÉANCIER" in text
    assert "Indemnité forfaitaire" not in text  # invoice mentions only on invoices
    training = flat(pdf_of(client, "quote", quote["id"], "training_quote"))
    assert "Devis de formation" in training and "Réf." not in training  # product_code: false

    proforma = make_document(client, "quote", ids, proforma=True)
    text = flat(pdf_of(client, "quote", proforma["id"]))  # the default for a pro-forma quote
    assert "Facture pro forma" in text and "sans valeur comptable" in text and "SPECIMEN" not in text

    bank = client.post("/api/v1/bank_account", json={"label": "Compte travaux", "company": ids["company"], "bank_name": "Caisse du Rhône", "iban": "FR7610107001011234567890129", "bic": "BREDFRPP"})
    assert bank.status_code == 201, bank.text
    order = make_document(client, "order", ids, bank_account=bank.json()["id"])
    _act(client, "order", order["id"], "validate")
    text = flat(pdf_of(client, "order", order["id"]))
    assert "Confirmation de commande n° " in text and "SPECIMEN" not in text and "Total TTC 2,73 €" in text
    assert "IBAN : FR7610107001011234567890129" in text and "FR7630006000011234567890189" not in text  # the chosen account wins

    delivery = make_document(client, "delivery", ids)
    text = flat(pdf_of(client, "delivery", delivery["id"]))
    assert "Bon de livraison" in text and "Câble" in text and "Reçu conforme" in text
    for price in ("P.U. HT", "1,24", "2,73", "Total TTC", "IBAN"):
        assert price not in text, price  # a delivery note shows no price
    priced = flat(pdf_of(client, "delivery", delivery["id"], "delivery_priced"))
    assert "P.U. HT" in priced and "Total TTC 2,73 €" in priced

    progress_lines = [{"description": "Gros œuvre", "quantity": "1", "unit_price": "10000", "vat_rate": "20", "progress_percent": "40"}]
    progress = make_document(client, "invoice", ids, lines=progress_lines, kind="progress")
    text = flat(pdf_of(client, "invoice", progress["id"]))
    assert "Facture de situation" in text and "Avanc." in text and "40 %" in text and "Total HT 4 000,00 €" in text
    compact = flat(pdf_of(client, "invoice", progress["id"], "invoice_compact"))
    assert "Réf." not in compact and "Total HT 4 000,00 € · TVA 800,00 € · Total TTC 4 800,00 €" in compact  # totals on each page


def test_bad_requests_get_clear_errors(runtime: Any) -> None:
    client = api_client(runtime)
    ids = parties(client)
    invoice = make_document(client, "invoice", ids)
    unknown = client.get(f"/api/v1/invoice/{invoice['id']}/pdf?template=invoice_compat")
    assert unknown.status_code == 404
    error = error_of(unknown)
    assert error["field"] == "template" and "did you mean 'invoice_compact'" in error["message"]
    assert client.get(f"/api/v1/invoice/{invoice['id']}/pdf?format=docx").status_code == 400
    assert error_of(client.get(f"/api/v1/invoice/{invoice['id']}/pdf?templat=x"))["field"] == "templat"
    assert error_of(client.get(f"/api/v1/account/{ids['account']}/pdf"))["code"] == "no_pdf"
    assert client.get("/api/v1/invoice/999999/pdf").status_code == 404
    assert client.get("/api/v1/invoice/abc/pdf").status_code == 404
    assert client.post(f"/api/v1/invoice/{invoice['id']}/pdf").status_code == 405
    anonymous = client.get(f"/api/v1/invoice/{invoice['id']}/pdf", headers={"Authorization": ""})
    assert anonymous.status_code == 401
    # UBL only for validated documents
    assert error_of(client.get(f"/api/v1/invoice/{invoice['id']}/ubl"))["code"] == "not_validated"


def test_a_stored_pdf_stays_as_issued_when_the_template_changes(make_runtime: Callable[..., Any], config_copy: Path) -> None:
    client = api_client(make_runtime(config_copy))
    ids = parties(client)
    invoice = make_document(client, "invoice", ids)
    validate(client, "invoice", invoice["id"])
    issued = pdf_of(client, "invoice", invoice["id"])
    template = config_copy / "templates" / "pdf" / "invoice.html"
    template.write_text(template.read_text(encoding="utf-8") + "\n{% block after %}<p>Nouveau pied de facture</p>{% endblock %}\n", encoding="utf-8")
    draft = make_document(client, "invoice", ids)
    assert "Nouveau pied de facture" in text_of(pdf_of(client, "invoice", draft["id"]))  # the change is live
    assert pdf_of(client, "invoice", invoice["id"]) == issued  # the issued invoice is not


def test_a_configurator_adds_a_template_with_a_file_and_one_yaml_line(make_runtime: Callable[..., Any], config_copy: Path) -> None:
    (config_copy / "templates" / "pdf" / "agreement.html").write_text(
        '{% extends "quote.html" %}{% block doc_type %}Convention de formation{% endblock %}'
        "{% block after %}<p>Signature de la convention par les deux parties.</p>{% endblock %}",
        encoding="utf-8",
    )
    schema = config_copy / "schema" / "quote.yaml"
    text = schema.read_text(encoding="utf-8")
    line = "    quote: {file: quote.html, label: {fr: Devis, en: Quote}}\n"
    assert line in text
    options = "options: {barcode: true, discount_column: false, unit_price_column: false}"
    schema.write_text(text.replace(line, line + f"    agreement: {{file: agreement.html, label: {{fr: Convention, en: Agreement}}, {options}}}\n"), encoding="utf-8")
    client = api_client(make_runtime(config_copy))
    ids = parties(client)
    product = client.post("/api/v1/product", json={"code": "FORM-1", "name": "Formation CRM", "kind": "service", "sale_price": "450", "barcode": "3760123450017"})
    assert product.status_code == 201, product.text
    lines = [{"product": product.json()["id"], "description": "Formation CRM (1 jour)", "quantity": "2", "unit_price": "450", "vat_rate": "20", "discount_percent": "10"}]
    quote = make_document(client, "quote", ids, lines=lines)
    text = flat(pdf_of(client, "quote", quote["id"], "agreement"))
    assert "Convention de formation" in text and "Signature de la convention" in text and "Total TTC 972,00 €" in text
    assert "3760123450017" in text and "FORM-1" in text  # barcode and product number
    assert "P.U. HT" not in text and "Remise" not in text  # columns turned off
    assert "Remise" in flat(pdf_of(client, "quote", quote["id"], "quote"))  # the plain quote keeps them


def _errors_after(config: Path, old: str, new: str) -> list[str]:
    schema = config / "schema" / "invoice.yaml"
    text = schema.read_text(encoding="utf-8")
    assert old in text
    schema.write_text(text.replace(old, new, 1), encoding="utf-8")
    spec, errors = load_spec(config)
    assert spec is None
    return [str(e) for e in errors]


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("file: invoice.html, label: {fr: Facture,", "file: invoce.html, label: {fr: Facture,",
         "template file 'invoce.html' not found in templates/pdf/ — did you mean 'invoice.html'?"),
        ("options: {discount_column: false,", "options: {discount_colum: false,", "unknown key 'discount_colum' — did you mean 'discount_column'?"),
        ("totals: each_page}", "totals: every_page}", "every_page"),
        ("when: \"kind == 'deposit'\"", "when: \"kinde == 'deposit'\"", "unknown name 'kinde' in expression \"kinde == 'deposit'\" — did you mean 'kind'?"),
        ("schedule: payment_terms", "schedule: payment_term", "'payment_term' is not a link field of 'invoice' — did you mean 'payment_terms'?"),
        ("preceding: credited_invoice", "preceding: credited_invoices", "did you mean 'credited_invoice'?"),
        ("company.bank_profiles]", "company.bank_profile]", "'bank_profile' is not a child collection of 'company' — did you mean 'bank_profiles'?"),
    ],
)
def test_the_pdf_section_is_checked_with_file_and_line(config_copy: Path, old: str, new: str, message: str) -> None:
    lines = (config_copy / "schema" / "invoice.yaml").read_text(encoding="utf-8").splitlines()
    line = next(i for i, text in enumerate(lines, start=1) if old in text)
    errors = _errors_after(config_copy, old, new)
    assert len(errors) == 1, errors
    assert errors[0].startswith(f"schema/invoice.yaml:{line}:"), errors
    assert message in errors[0], errors


def test_openapi_lists_the_document_routes(runtime: Any) -> None:
    paths = api_client(runtime).get("/api/v1/openapi.json").json()["paths"]
    pdf = paths["/invoice/{id}/pdf"]["get"]
    template = next(p for p in pdf["parameters"] if p["name"] == "template")
    assert template["schema"]["enum"] == ["invoice", "deposit", "credit_note", "progress", "invoice_compact"]
    assert "application/pdf" in pdf["responses"]["200"]["content"]
    assert "/invoice/{id}/ubl" in paths and "/quote/{id}/pdf" in paths
    assert "/quote/{id}/ubl" not in paths and "/account/{id}/pdf" not in paths  # no e-invoice, no template
