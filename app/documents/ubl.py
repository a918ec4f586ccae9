"""UBL 2.1 (EN 16931) export of a validated document: GET /api/v1/{entity}/{id}/ubl.

Built from the same PDF context as the Factur-X CII (pdf_context, app.domain.totals), so both
carry the same amounts to the cent. A type code 381 gives a UBL CreditNote, anything else an
Invoice. The factur-x library does not ship the UBL XSD; tests check the structure.
"""

from __future__ import annotations

from typing import Any, Mapping

from lxml import etree

from app.documents.facturx import (
    EN16931,
    PAYMENT_MEANS,
    PMT,
    DEFAULT_DISCOUNT,
    DEFAULT_PENALTY,
    UNIT_CODES,
    amount_text,
    country_code,
    decimal_text,
    type_code_of,
    xml_breakdown,
)
from app.engine.store import Store, StoreError

CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
ROOTS = {
    "Invoice": "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2",
    "CreditNote": "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2",
}


def _m(fr: str, en: str) -> str:
    return f"{fr} / {en}"


class _Ubl:
    def __init__(self, root_name: str, currency: str) -> None:
        self.currency = currency
        self.root = etree.Element(f"{{{ROOTS[root_name]}}}{root_name}", nsmap={None: ROOTS[root_name], "cac": CAC, "cbc": CBC})

    def cbc(self, parent: etree._Element, name: str, text: Any, **attrs: str) -> etree._Element:
        element = etree.SubElement(parent, f"{{{CBC}}}{name}", attrs)
        element.text = str(text)
        return element

    def money(self, parent: etree._Element, name: str, value: Any) -> etree._Element:
        return self.cbc(parent, name, amount_text(value), currencyID=self.currency)

    def cac(self, parent: etree._Element, name: str) -> etree._Element:
        return etree.SubElement(parent, f"{{{CAC}}}{name}")

    def tax_category(self, parent: etree._Element, name: str, rate: Any, npr: bool) -> None:
        category = self.cac(parent, name)
        code = "E" if npr or not rate else "S"
        self.cbc(category, "ID", code)
        self.cbc(category, "Percent", "0" if npr else decimal_text(rate))
        if code == "E" and name == "TaxCategory":
            self.cbc(category, "TaxExemptionReason", "TVA non perçue récupérable (NPR)" if npr else "Exonération de TVA")
        self.cbc(self.cac(category, "TaxScheme"), "ID", "VAT")


def _party(u: _Ubl, parent: etree._Element, name: str, party: Mapping[str, Any], address: Mapping[str, Any], vat: Any) -> None:
    holder = u.cac(parent, name)
    node = u.cac(holder, "Party")
    if party.get("email"):
        u.cbc(node, "EndpointID", party["email"], schemeID="EM")
    if party.get("siret"):
        u.cbc(u.cac(node, "PartyIdentification"), "ID", party["siret"], schemeID="0009")
    registered = party.get("legal_name") or party.get("name") or ""
    u.cbc(u.cac(node, "PartyName"), "Name", party.get("trade_name") or registered)
    postal = u.cac(node, "PostalAddress")
    lines = [part.strip() for part in str(address.get("address") or "").splitlines() if part.strip()]
    if lines:
        u.cbc(postal, "StreetName", lines[0])
    if address.get("city"):
        u.cbc(postal, "CityName", address["city"])
    if address.get("postcode"):
        u.cbc(postal, "PostalZone", address["postcode"])
    u.cbc(u.cac(postal, "Country"), "IdentificationCode", country_code(address.get("country")))
    if vat:
        scheme = u.cac(node, "PartyTaxScheme")
        u.cbc(scheme, "CompanyID", vat)
        u.cbc(u.cac(scheme, "TaxScheme"), "ID", "VAT")
    legal = u.cac(node, "PartyLegalEntity")
    u.cbc(legal, "RegistrationName", registered)
    if party.get("siren"):
        u.cbc(legal, "CompanyID", party["siren"], schemeID="0002")


def build_ubl(context: Mapping[str, Any], type_code: str, preceding: str | None = None) -> bytes:
    doc: Mapping[str, Any] = context["doc"]
    totals = context["totals"]
    company: Mapping[str, Any] = doc.get("company") or {}
    client: Mapping[str, Any] = doc.get("account") or {}
    credit = type_code == "381"
    root_name = "CreditNote" if credit else "Invoice"
    u = _Ubl(root_name, str(doc.get("currency") or "eur").upper())
    r = u.root
    u.cbc(r, "CustomizationID", EN16931)
    u.cbc(r, "ProfileID", context["nature"]["code"])
    u.cbc(r, "ID", doc.get("number") or f"BROUILLON-{doc['id']}")
    u.cbc(r, "IssueDate", doc["date"].isoformat())
    if doc.get("due_date") and not credit:
        u.cbc(r, "DueDate", doc["due_date"].isoformat())
    u.cbc(r, "CreditNoteTypeCode" if credit else "InvoiceTypeCode", type_code)
    notes = [
        f"#PMT#{PMT}",
        f"#PMD#Pénalités de retard : {company.get('late_penalty_rate') or DEFAULT_PENALTY}",
        f"#AAB#Escompte : {company.get('early_payment_discount') or DEFAULT_DISCOUNT}",
    ]
    for note in notes:
        u.cbc(r, "Note", note)
    u.cbc(r, "DocumentCurrencyCode", u.currency)
    order = doc.get("order")
    if isinstance(order, Mapping) and order.get("number"):
        u.cbc(u.cac(r, "OrderReference"), "ID", order["number"])
    original = doc.get(preceding) if preceding else None
    if isinstance(original, Mapping) and original.get("number"):
        ref = u.cac(u.cac(r, "BillingReference"), "InvoiceDocumentReference")
        u.cbc(ref, "ID", original["number"])
        if original.get("date"):
            u.cbc(ref, "IssueDate", original["date"].isoformat())
    _party(u, r, "AccountingSupplierParty", company, company, doc.get("our_vat_number") or company.get("vat_number"))
    buyer_address = {
        "address": doc.get("billing_address") or client.get("address"),
        "postcode": doc.get("billing_postcode") or client.get("postcode"),
        "city": doc.get("billing_city") or client.get("city"),
        "country": doc.get("billing_country") or client.get("country"),
    }
    buyer = {**client, "name": doc.get("billing_name") or client.get("name")}
    _party(u, r, "AccountingCustomerParty", buyer, buyer_address, doc.get("their_vat_number") or client.get("vat_number"))
    if doc.get("delivery_date"):
        u.cbc(u.cac(r, "Delivery"), "ActualDeliveryDate", doc["delivery_date"].isoformat())
    bank = context.get("bank") or {}
    means = u.cac(r, "PaymentMeans")
    code = PAYMENT_MEANS.get(str(doc.get("payment_mode") or ("transfer" if bank.get("iban") else "")), "30")
    u.cbc(means, "PaymentMeansCode", "30" if code == "58" and not bank.get("iban") else code)
    if credit and doc.get("due_date"):
        u.cbc(means, "PaymentDueDate", doc["due_date"].isoformat())
    if doc.get("number"):
        u.cbc(means, "PaymentID", doc["number"])
    if bank.get("iban"):
        u.cbc(u.cac(means, "PayeeFinancialAccount"), "ID", str(bank["iban"]).replace(" ", ""))
    if doc.get("due_date"):
        u.cbc(u.cac(r, "PaymentTerms"), "Note", f"Échéance le {doc['due_date']:%d/%m/%Y}")
    for level, charge in [(c, True) for c in totals.charges] + [(a, False) for a in totals.allowances]:
        node = u.cac(r, "AllowanceCharge")
        u.cbc(node, "ChargeIndicator", "true" if charge else "false")
        u.cbc(node, "AllowanceChargeReason", level.reason or ("Frais" if charge else "Remise"))
        u.money(node, "Amount", level.amount)
        u.tax_category(node, "TaxCategory", level.vat_rate, level.npr)
    tax_total = u.cac(r, "TaxTotal")
    u.money(tax_total, "TaxAmount", totals.total_vat)
    for row in xml_breakdown(totals):
        sub = u.cac(tax_total, "TaxSubtotal")
        u.money(sub, "TaxableAmount", row.base)
        u.money(sub, "TaxAmount", row.vat)
        u.tax_category(sub, "TaxCategory", row.rate, row.npr)
    money = u.cac(r, "LegalMonetaryTotal")
    u.money(money, "LineExtensionAmount", totals.total_net)
    u.money(money, "TaxExclusiveAmount", totals.tax_basis_total)
    u.money(money, "TaxInclusiveAmount", totals.total_gross)
    u.money(money, "AllowanceTotalAmount", totals.allowances_total)
    u.money(money, "ChargeTotalAmount", totals.charges_total)
    u.money(money, "PrepaidAmount", totals.prepaid)
    u.money(money, "PayableAmount", totals.amount_due)
    rows = doc.get("lines") or []
    items = [(row, line) for row, line in zip(rows, totals.lines) if line.kind != "comment"]
    for index, (row, line) in enumerate(items, start=1):
        node = u.cac(r, "CreditNoteLine" if credit else "InvoiceLine")
        u.cbc(node, "ID", index)
        unit = UNIT_CODES.get(str(row.get("unit") or ""), "C62")
        u.cbc(node, "CreditedQuantity" if credit else "InvoicedQuantity", decimal_text(line.quantity), unitCode=unit)
        u.money(node, "LineExtensionAmount", line.net)
        item = u.cac(node, "Item")
        product = row.get("product") or {}
        u.cbc(item, "Name", (str(row.get("description") or product.get("name") or "—").splitlines() or ["—"])[0])
        if product.get("code"):
            u.cbc(u.cac(item, "SellersItemIdentification"), "ID", product["code"])
        u.tax_category(item, "ClassifiedTaxCategory", line.vat_rate, line.npr)
        price = (line.net / line.quantity) if line.quantity else 0
        u.cbc(u.cac(node, "Price"), "PriceAmount", decimal_text(round(price, 6)), currencyID=u.currency)
    return bytes(etree.tostring(r, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def document_ubl(store: Store, entity_name: str, record_id: Any) -> tuple[bytes, str]:
    """The UBL XML of a validated document and its file name."""
    from app.documents.pdf import _safe, pick_template
    from app.documents.pdf_context import PdfSubject, build_context, is_locked
    from app.engine.verbs import record_values

    entity = store.entity(entity_name)
    obj = store.get(entity_name, record_id)
    values = record_values(store, entity, obj)
    template = pick_template(entity, values, None)
    spec = entity.pdf.facturx
    code = type_code_of(spec, values) if spec is not None else None
    if code is None:
        raise StoreError(404, "no_einvoice", _m(f"« {entity.name} » n'est pas une facture électronique", f"'{entity.name}' is not an e-invoice"))
    if not is_locked(store, entity, obj) or template.option("proforma"):
        raise StoreError(409, "not_validated", _m("seul un document validé s'exporte en UBL", "only a validated document is exported as UBL"))
    context = build_context(PdfSubject(store, entity, obj, template))
    number = values.get("number") or obj.id
    return build_ubl(context, code, spec.preceding), _safe(f"{entity.name}-{number}") + ".xml"
