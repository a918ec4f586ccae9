"""`comptoir facturx check FILE.pdf` as a subprocess on a real invoice PDF, a tampered one,
a PDF without XML and a file that is no PDF; and the UBL export of the same invoice."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from facturx import get_xml_from_pdf
from lxml import etree

from app.documents.facturx import embed
from app.documents.pdf import PdfJob, render_job
from app.documents.ubl import CAC, CBC
from tests.documents.pdfdata import make_document, parties, pdf_of, validate
from tests.engine.apiclient import api_client


@pytest.fixture(autouse=True)
def files_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "files"
    monkeypatch.setenv("COMPTOIR_FILES_DIR", str(folder))
    return folder


def _check(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", "facturx", "check", str(path)], capture_output=True, text=True, timeout=120
    )


def _invoice_pdf(runtime: Any) -> tuple[Any, int, bytes]:
    client = api_client(runtime)
    ids = parties(client)
    invoice = make_document(client, "invoice", ids, payment_terms=ids["terms"])
    validate(client, "invoice", invoice["id"])
    return client, invoice["id"], pdf_of(client, "invoice", invoice["id"])


def test_check_passes_a_real_invoice_and_lists_each_problem_of_a_tampered_one(runtime: Any, tmp_path: Path) -> None:
    _, _, pdf = _invoice_pdf(runtime)
    good = tmp_path / "facture.pdf"
    good.write_bytes(pdf)
    done = _check(good)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "valide" in done.stdout

    _, xml = get_xml_from_pdf(pdf, check_xsd=False)
    tampered_xml = xml.replace(b"<ram:GrandTotalAmount>2.73<", b"<ram:GrandTotalAmount>2.83<").replace(
        b"<ram:SubjectCode>PMT<", b"<ram:SubjectCode>ZZZ<"
    )
    assert tampered_xml != xml
    plain = render_job(PdfJob("<p>Facture</p>"))
    tampered = tmp_path / "modifiee.pdf"
    tampered.write_bytes(embed(plain, tampered_xml))
    done = _check(tampered)
    assert done.returncode == 1
    out = done.stdout
    assert "BR-CO-15" in out and "2.83" in out  # grand total ≠ basis + VAT
    assert "BR-CO-16" in out  # amount due ≠ grand total − prepaid
    assert "BR-FR-05: note PMT" in out

    no_xml = tmp_path / "sans-xml.pdf"
    no_xml.write_bytes(plain)
    done = _check(no_xml)
    assert done.returncode == 1 and "FX-01" in done.stdout
    broken = tmp_path / "texte.pdf"
    broken.write_text("pas un PDF")
    assert _check(broken).returncode == 1
    assert _check(tmp_path / "absent.pdf").returncode == 2


def test_xsd_errors_are_reported(runtime: Any, tmp_path: Path) -> None:
    _, _, pdf = _invoice_pdf(runtime)
    _, xml = get_xml_from_pdf(pdf, check_xsd=False)
    broken_xml = xml.replace(b"<ram:TypeCode>380</ram:TypeCode>", b"<ram:Unexpected>380</ram:Unexpected>")
    target = tmp_path / "xsd.pdf"
    target.write_bytes(embed(render_job(PdfJob("<p>x</p>")), broken_xml))
    done = _check(target)
    assert done.returncode == 1 and "XSD: line" in done.stdout and "Unexpected" in done.stdout


def test_ubl_export_carries_the_same_amounts(runtime: Any) -> None:
    client, invoice_id, _ = _invoice_pdf(runtime)
    got = client.get(f"/api/v1/invoice/{invoice_id}/ubl")
    assert got.status_code == 200, got.text
    assert got.headers["content-type"].startswith("application/xml")
    same = client.get(f"/api/v1/invoice/{invoice_id}/pdf?format=ubl")
    assert same.content == got.content
    root = etree.fromstring(got.content)
    ns = {"cbc": CBC, "cac": CAC, "u": "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"}

    def one(path: str) -> str:
        found = root.xpath(path, namespaces=ns)
        assert len(found) == 1, path
        return str(found[0].text if hasattr(found[0], "text") else found[0])

    assert etree.QName(root).localname == "Invoice"
    assert one("/u:Invoice/cbc:CustomizationID") == "urn:cen.eu:en16931:2017"
    assert one("/u:Invoice/cbc:InvoiceTypeCode") == "380"
    assert one("/u:Invoice/cbc:ID").startswith("FA")
    assert one("/u:Invoice/cbc:IssueDate") == "2026-11-23"
    assert one("/u:Invoice/cbc:DocumentCurrencyCode") == "EUR"
    assert one("//cac:AccountingSupplierParty//cac:PartyLegalEntity/cbc:CompanyID[@schemeID='0002']") == "732829320"
    assert one("//cac:AccountingCustomerParty//cac:PartyTaxScheme/cbc:CompanyID") == "FR83404833048"
    assert one("/u:Invoice/cac:TaxTotal/cbc:TaxAmount") == "0.25"
    assert one("/u:Invoice/cac:TaxTotal/cac:TaxSubtotal/cbc:TaxableAmount") == "2.48"
    assert one("/u:Invoice/cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory/cbc:Percent") == "10"
    assert one("/u:Invoice/cac:LegalMonetaryTotal/cbc:LineExtensionAmount") == "2.48"
    assert one("/u:Invoice/cac:LegalMonetaryTotal/cbc:TaxInclusiveAmount") == "2.73"
    assert one("/u:Invoice/cac:LegalMonetaryTotal/cbc:PayableAmount") == "2.73"
    assert one("/u:Invoice/cac:LegalMonetaryTotal/cbc:PayableAmount/@currencyID") == "EUR"
    assert len(root.xpath("/u:Invoice/cac:InvoiceLine", namespaces=ns)) == 2
    assert [n.text for n in root.xpath("/u:Invoice/cbc:Note", namespaces=ns)][0].startswith("#PMT#")
    # UBL 2.1 order: the header elements come before the parties, the totals before the lines
    names = [etree.QName(child).localname for child in root]
    assert names.index("InvoiceTypeCode") < names.index("AccountingSupplierParty") < names.index("TaxTotal")
    assert names.index("LegalMonetaryTotal") < names.index("InvoiceLine")
