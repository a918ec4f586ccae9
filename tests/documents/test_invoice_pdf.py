"""The invoice PDF through GET /api/v1/invoice/{id}/pdf: French mandatory mentions, amounts,
SPECIMEN on drafts, the embedded Factur-X XML (XSD-valid, same amounts), stored once."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from app.documents.facturx import NSMAP, xsd_problems
from app.documents.facturx_check import check_pdf
from app.spec.expressions import fixed_clock
from tests.documents.pdfdata import CLIENT_SIREN, IBAN, SIREN, make_document, parties, pdf_of, pages_of, text_of, validate
from tests.engine.apiclient import api_client


@pytest.fixture(autouse=True)
def files_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "files"
    monkeypatch.setenv("COMPTOIR_FILES_DIR", str(folder))
    return folder


def _xml_of(pdf: bytes) -> etree._Element:
    from facturx import get_xml_from_pdf

    name, xml = get_xml_from_pdf(pdf, check_xsd=False)
    assert name == "factur-x.xml" and xml, "no Factur-X XML in the PDF"
    assert xsd_problems(xml) == []
    return etree.fromstring(xml)


def _x(root: etree._Element, path: str) -> list[str]:
    return [e if isinstance(e, str) else (e.text or "") for e in root.xpath(path, namespaces=NSMAP)]


SUM = "//ram:SpecifiedTradeSettlementHeaderMonetarySummation/ram:"


def test_validated_invoice_has_the_mandatory_mentions_and_the_same_amounts_in_text_and_xml(runtime: Any, files_dir: Path) -> None:
    client = api_client(runtime)
    ids = parties(client)
    client_iban = "FR1420041010050500013M02606"  # the client's own account, for direct debits: never printed
    assert client.patch(f"/api/v1/account/{ids['account']}", json={"iban": client_iban}).status_code == 200
    invoice = make_document(
        client, "invoice", ids, payment_terms=ids["terms"], delivery_date="2026-11-20",
        delivery_same_as_billing=False, delivery_name="Dupont SARL — dépôt", delivery_address="8 chemin du Port",
        delivery_postcode="69007", delivery_city="Lyon",
    )
    assert (invoice["total_net"], invoice["total_vat"], invoice["total_gross"]) == ("2.48", "0.25", "2.73")

    draft = pdf_of(client, "invoice", invoice["id"])
    assert "SPECIMEN" in text_of(draft)
    assert check_pdf(draft)[0] is None  # a draft is no e-invoice

    number = validate(client, "invoice", invoice["id"])["number"]
    got = client.get(f"/api/v1/invoice/{invoice['id']}/pdf")
    assert got.status_code == 200 and got.headers["x-comptoir-stored"] == "no"
    assert number in got.headers["content-disposition"]
    text = text_of(got.content)
    assert "SPECIMEN" not in text
    flat = re.sub(r"\s+", " ", text)
    for mention in (
        f"Facture n° {number}", "23/11/2026",  # number and date
        "Berthier Services SAS", f"SIREN {SIREN}", "FR44732829320", "SAS au capital de 10 000,00 €", "RCS Lyon",  # seller
        "Dupont SARL", f"SIREN {CLIENT_SIREN}", "FR83404833048", "À l'attention de Jeanne Dupont",  # buyer
        "Adresse de livraison", "8 chemin du Port",  # delivery address, different from billing
        "Nature de l'opération : Prestation de services",
        "Date de livraison ou d'exécution : 20/11/2026",
        "Date d'échéance : 23/12/2026",  # from the payment terms (balance at 30 days)
        "trois fois le taux d’intérêt légal",  # late-payment penalties
        "Indemnité forfaitaire pour frais de recouvrement en cas de retard de paiement : 40 €",
        "Pas d’escompte pour paiement anticipé",
        "10 %",  # per-line VAT rate
        "TVA 10 % 2,48 € 0,25 €",  # VAT per rate: base and amount
        "Total HT 2,48 €", "Total TVA 0,25 €", "Total TTC 2,73 €", "Net à payer 2,73 €",
        "23/11/2026 (acompte) 30 % 0,82 €", "23/12/2026 70 % 1,91 €",  # payment schedule
        f"IBAN : {IBAN}",
        "Page 1 / 1",
    ):
        assert mention in flat, mention

    assert client_iban not in flat
    root = _xml_of(got.content)
    assert _x(root, "//rsm:ExchangedDocument/ram:ID") == [number]
    assert _x(root, "//rsm:ExchangedDocument/ram:TypeCode") == ["380"]
    assert _x(root, f"{SUM}LineTotalAmount") == ["2.48"]
    assert _x(root, f"{SUM}TaxTotalAmount") == ["0.25"]
    assert _x(root, f"{SUM}GrandTotalAmount") == ["2.73"]
    assert _x(root, f"{SUM}DuePayableAmount") == ["2.73"]
    assert _x(root, "//ram:SellerTradeParty/ram:SpecifiedLegalOrganization/ram:ID[@schemeID='0002']") == [SIREN]
    assert _x(root, "//ram:BuyerTradeParty/ram:SpecifiedLegalOrganization/ram:ID[@schemeID='0002']") == [CLIENT_SIREN]
    assert _x(root, "//ram:SellerTradeParty/ram:SpecifiedTaxRegistration/ram:ID[@schemeID='VA']") == ["FR44732829320"]
    assert _x(root, "//ram:BuyerTradeParty/ram:URIUniversalCommunication/ram:URIID[@schemeID='EM']") == ["compta@dupont.example"]
    assert sorted(_x(root, "//ram:IncludedNote/ram:SubjectCode")) == ["AAB", "PMD", "PMT"]
    assert _x(root, "//ram:BusinessProcessSpecifiedDocumentContextParameter/ram:ID") == ["S1"]
    assert _x(root, "//ram:GuidelineSpecifiedDocumentContextParameter/ram:ID") == ["urn:cen.eu:en16931:2017"]
    assert _x(root, "//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax/ram:RateApplicablePercent") == ["10"]
    assert _x(root, "//ram:ShipToTradeParty/ram:PostalTradeAddress/ram:LineOne") == ["8 chemin du Port"]
    assert _x(root, "//ram:PayeePartyCreditorFinancialAccount/ram:IBANID") == [IBAN]
    assert _x(root, "//ram:SpecifiedTradePaymentTerms/ram:DueDateDateTime/udt:DateTimeString") == ["20261223"]
    xml, problems = check_pdf(got.content)
    assert xml is not None and problems == []

    # stored once: served as stored afterwards, byte for byte
    stored = list((files_dir / "pdf").rglob("*.pdf"))
    assert len(stored) == 1 and stored[0].read_bytes() == got.content
    again = client.get(f"/api/v1/invoice/{invoice['id']}/pdf")
    assert again.headers["x-comptoir-stored"] == "yes" and again.content == got.content
    # and it is in the invoice's document area, once, as a generated file
    files = client.get(f"/api/v1/invoice/{invoice['id']}/files").json()["items"]
    assert [(f["folder"], f["source"], f["mime_type"]) for f in files] == [("PDF", "generated", "application/pdf")]
    assert client.get(files[0]["url"]).content == got.content


def test_credit_note_cites_its_invoice_and_is_type_381(runtime: Any) -> None:
    client = api_client(runtime)
    ids = parties(client)
    invoice = make_document(client, "invoice", ids)
    number = validate(client, "invoice", invoice["id"])["number"]
    with fixed_clock(dt.date(2026, 11, 25)):
        created = client.post(f"/api/v1/invoice/{invoice['id']}/actions/create_credit_note")
    assert created.status_code == 200, created.text
    credit_id = created.json()["created"][0]["id"]
    credit_number = validate(client, "invoice", credit_id)["number"]
    pdf = pdf_of(client, "invoice", credit_id)
    flat = re.sub(r"\s+", " ", text_of(pdf))
    assert f"Avoir n° {credit_number}" in flat
    assert f"Avoir sur la facture n° {number} du 23/11/2026" in flat
    assert "Montant de l'avoir 2,73 €" in flat
    root = _xml_of(pdf)
    assert _x(root, "//rsm:ExchangedDocument/ram:TypeCode") == ["381"]
    assert _x(root, "//ram:InvoiceReferencedDocument/ram:IssuerAssignedID") == [number]
    assert _x(root, "//ram:InvoiceReferencedDocument/ram:FormattedIssueDateTime/qdt:DateTimeString") == ["20261123"]
    assert _x(root, f"{SUM}GrandTotalAmount") == ["2.73"]
    assert check_pdf(pdf)[1] == []


def test_deposit_invoice_is_type_386_with_its_share(runtime: Any) -> None:
    client = api_client(runtime)
    ids = parties(client)
    lines = [{"description": "Pose de cuisine", "quantity": "1", "unit_price": "1000", "vat_rate": "20"}]
    deposit = make_document(client, "invoice", ids, lines=lines, kind="deposit", deposit_percent="30")
    assert deposit["total_gross"] == "360.00"
    validate(client, "invoice", deposit["id"])
    pdf = pdf_of(client, "invoice", deposit["id"])
    flat = re.sub(r"\s+", " ", text_of(pdf))
    assert "Facture d'acompte n° AC" in flat and "Acompte de 30 %" in flat
    assert "Total HT 300,00 €" in flat and "Total TVA 60,00 €" in flat and "Total TTC 360,00 €" in flat
    root = _xml_of(pdf)
    assert _x(root, "//rsm:ExchangedDocument/ram:TypeCode") == ["386"]
    assert (_x(root, f"{SUM}TaxBasisTotalAmount"), _x(root, f"{SUM}GrandTotalAmount")) == (["300.00"], ["360.00"])
    assert check_pdf(pdf)[1] == []


def test_eighty_lines_span_pages_with_headers_repeated_and_totals_at_the_end(runtime: Any) -> None:
    client = api_client(runtime)
    ids = parties(client)
    lines = [
        {"description": f"Article n° {i:02d}", "quantity": str(i % 7 + 1), "unit_price": f"{i}.15", "vat_rate": "20" if i % 3 else "5.5",
         "discount_percent": "10" if i % 10 == 0 else "0"}
        for i in range(1, 81)
    ]
    invoice = make_document(client, "invoice", ids, lines=lines)
    validate(client, "invoice", invoice["id"])
    pdf = pdf_of(client, "invoice", invoice["id"])
    pages = pages_of(pdf)
    assert len(pages) >= 3
    for number, page in enumerate(pages, start=1):
        assert "Désignation" in page and "P.U. HT" in page, f"no table header on page {number}"
        assert f"Page {number} / {len(pages)}" in page
    assert all("Total TTC" not in page for page in pages[:-1])
    assert "Total TTC" in pages[-1] and "Article n° 80" in text_of(pdf)
    flat = re.sub(r"\s+", " ", text_of(pdf))
    gross = invoice["total_gross"]
    whole, cents = gross.split(".")
    shown = f"{int(whole):,}".replace(",", " ") + "," + cents
    assert f"Total TTC {shown} €" in flat
    assert "Remise" in pages[0]  # the discount column appears because some lines have one
    root = _xml_of(pdf)
    assert _x(root, f"{SUM}GrandTotalAmount") == [gross]
    assert len(root.xpath("//ram:IncludedSupplyChainTradeLineItem", namespaces=NSMAP)) == 80
    assert sorted(_x(root, "//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax/ram:RateApplicablePercent")) == ["20", "5.5"]
    assert check_pdf(pdf)[1] == []


def test_page_break_lines_are_honoured(runtime: Any) -> None:
    client = api_client(runtime)
    ids = parties(client)
    lines = [
        {"description": "Chapitre un", "quantity": "1", "unit_price": "10", "vat_rate": "20", "page_break": True},
        {"description": "Chapitre deux", "quantity": "1", "unit_price": "10", "vat_rate": "20"},
    ]
    invoice = make_document(client, "invoice", ids, lines=lines)
    pages = pages_of(pdf_of(client, "invoice", invoice["id"]))
    assert len(pages) == 2
    assert "Chapitre un" in pages[0] and "Chapitre deux" not in pages[0] and "Chapitre deux" in pages[1]


def test_unit_prices_print_as_entered_with_two_decimals_at_least(runtime: Any) -> None:
    """A price of four decimals is printed whole (rounded to 0,01 it would not give the line's
    total); the others with their cents."""
    client = api_client(runtime)
    lines = [
        {"description": "Vis inox", "quantity": "1000", "unit_price": "0.0125", "vat_rate": "20"},
        {"description": "Robinet", "quantity": "2", "unit_price": "45.5", "vat_rate": "20"},
        {"description": "Chaudière", "quantity": "1", "unit_price": "2400", "vat_rate": "20"},
    ]
    invoice = make_document(client, "invoice", parties(client), lines=lines)
    text = text_of(pdf_of(client, "invoice", invoice["id"]))
    assert re.search(r"Vis inox 1 000 0,0125 .*12,50", text), text
    assert re.search(r"Robinet.*\b45,50\b.*91,00", text), text
    assert re.search(r"Chaudière.*\b2 400,00\b.*2 400,00", text), text


def test_final_invoice_deducts_its_deposit_in_text_and_xml(runtime: Any) -> None:
    client = api_client(runtime)
    ids = parties(client)
    lines = [{"description": "Pose de cuisine", "quantity": "1", "unit_price": "1000", "vat_rate": "20"}]
    order = make_document(client, "order", ids, lines=lines, deposit_percent="30")
    with fixed_clock(dt.date(2026, 11, 23)):
        assert client.post(f"/api/v1/order/{order['id']}/actions/validate").status_code == 200
        made = client.post(f"/api/v1/order/{order['id']}/actions/create_deposit")
        assert made.status_code == 200, made.text
        deposit_number = validate(client, "invoice", made.json()["created"][0]["id"])["number"]
        converted = client.post(f"/api/v1/order/{order['id']}/actions/convert_to_invoice")
        assert converted.status_code == 200, converted.text
    final_id = converted.json()["created"][0]["id"]
    final = validate(client, "invoice", final_id)
    assert (final["total_gross"], final["deposits_deducted"], final["amount_due"]) == ("1200.00", "360.00", "840.00")
    flat = re.sub(r"\s+", " ", text_of(pdf_of(client, "invoice", final_id)))
    assert f"Acompte {deposit_number} -360,00 €" in flat and flat.count(deposit_number) >= 1
    assert "Total TTC 1 200,00 €" in flat and "Net à payer 840,00 €" in flat
    root = _xml_of(pdf_of(client, "invoice", final_id))
    assert (_x(root, f"{SUM}GrandTotalAmount"), _x(root, f"{SUM}TotalPrepaidAmount"), _x(root, f"{SUM}DuePayableAmount")) == (
        ["1200.00"], ["360.00"], ["840.00"]
    )
    assert check_pdf(pdf_of(client, "invoice", final_id))[1] == []


def test_charges_discount_zero_rate_and_npr_keep_the_xml_totals_consistent(runtime: Any) -> None:
    client = api_client(runtime)
    ids = parties(client)
    lines = [
        {"description": "Matériel", "quantity": "3", "unit_price": "19.99", "vat_rate": "20"},
        {"description": "Formation exonérée", "quantity": "1", "unit_price": "200", "vat_rate": "0"},
        {"description": "Livraison DOM", "quantity": "2", "unit_price": "50", "vat_rate": "8.5", "npr": True},
    ]
    invoice = make_document(client, "invoice", ids, lines=lines, shipping_cost="15", shipping_vat_rate="20", discount_mode="percent", discount_value="10")
    validate(client, "invoice", invoice["id"])
    pdf = pdf_of(client, "invoice", invoice["id"])
    flat = re.sub(r"\s+", " ", text_of(pdf))
    assert "NPR (non perçue récupérable)" in flat and "Remise globale HT" in flat and "Frais HT 15,00 €" in flat
    assert f"Total TTC {invoice['total_gross'].replace('.', ',')} €" in flat
    root = _xml_of(pdf)
    assert _x(root, f"{SUM}GrandTotalAmount") == [invoice["total_gross"]]
    assert _x(root, f"{SUM}TaxTotalAmount") == [invoice["total_vat"]]
    assert _x(root, f"{SUM}LineTotalAmount") == [invoice["total_net"]]
    categories = _x(root, "//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax/ram:CategoryCode")
    assert sorted(categories) == ["E", "S"]  # 0 % and NPR share one exempt row
    assert len(_x(root, "//ram:SpecifiedTradeAllowanceCharge/ram:ActualAmount")) >= 3  # shipping + discount per rate
    assert check_pdf(pdf)[1] == []
